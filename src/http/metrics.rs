use actix_web::{web, HttpResponse};

use super::AppState;

/// Prometheus text exposition of the counters operators watch.
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    use std::sync::atomic::Ordering::Relaxed;
    let peers = &state.peers;
    let replicas = state.db.replicas();
    let body = format!(
        "# HELP newsdesk_sql_statements_total SQL statements sent to the database.\n\
         # TYPE newsdesk_sql_statements_total counter\n\
         newsdesk_sql_statements_total {}\n\
         # HELP newsdesk_invalidations_received_total Change notifications heard from the nodes sharing the database (this one included).\n\
         # TYPE newsdesk_invalidations_received_total counter\n\
         newsdesk_invalidations_received_total {}\n\
         # HELP newsdesk_peer_listener_up 1 while this node hears other nodes' changes (PostgreSQL).\n\
         # TYPE newsdesk_peer_listener_up gauge\n\
         newsdesk_peer_listener_up {}\n\
         # HELP newsdesk_peer_listener_lost_total Times the change listener lost its connection.\n\
         # TYPE newsdesk_peer_listener_lost_total counter\n\
         newsdesk_peer_listener_lost_total {}\n\
         # HELP newsdesk_replica_reads_total Public reads (a REST request may make several) sent to a replica.\n\
         # TYPE newsdesk_replica_reads_total counter\n\
         newsdesk_replica_reads_total {}\n\
         # HELP newsdesk_replica_fallbacks_total Public reads sent to the primary because no replica had replayed the latest known change.\n\
         # TYPE newsdesk_replica_fallbacks_total counter\n\
         newsdesk_replica_fallbacks_total {}\n",
        state.db.statements(),
        peers.received.load(Relaxed),
        u8::from(peers.listening.load(Relaxed)),
        peers.lost.load(Relaxed),
        replicas.served.load(Relaxed),
        replicas.fell_back.load(Relaxed),
    ) + &search_metrics(&state);
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .insert_header(("Cache-Control", "no-store"))
        .body(body)
}

/// The search index: whether it answers searches yet (0 while it is
/// rebuilt and the database answers), what it holds, how far it has
/// applied the search log.
fn search_metrics(state: &AppState) -> String {
    let index = &state.search;
    format!(
        "# HELP newsdesk_search_index_complete 1 once the search index holds every searchable article.\n\
         # TYPE newsdesk_search_index_complete gauge\n\
         newsdesk_search_index_complete {}\n\
         # HELP newsdesk_search_index_documents Articles in the search index.\n\
         # TYPE newsdesk_search_index_documents gauge\n\
         newsdesk_search_index_documents {}\n\
         # HELP newsdesk_search_log_applied The last search log entry the index has applied.\n\
         # TYPE newsdesk_search_log_applied gauge\n\
         newsdesk_search_log_applied {}\n",
        u8::from(index.is_complete()),
        index.documents(),
        index.applied(),
    )
}
