//! `GET /metrics`: Prometheus text. Request metrics live in the server's
//! registry ([`crate::telemetry::metrics`]), recorded by
//! [`record_requests`] around every request; the node's state (database,
//! peers, replicas, search index) is read when scraped.
//!
//! Labels take bounded values only: a route is its template
//! (`/v1/articles/{id}`, or `unmatched`), a method one of the usual seven
//! (else `OTHER`), a status its number.

use std::time::Instant;

use actix_web::body::{BodySize, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, HttpResponse};

use super::AppState;

/// Reads the node's state into the gauges: the pool, the caches, and
/// the outbox (two statements on a connection of their own; a database
/// that does not answer leaves the outbox gauges as they were).
async fn read_state(state: &AppState) {
    let g = &state.metrics.gauges;
    let (open, idle, max) = state.db.pool_state();
    g.pool.with_label_values(&["idle"]).set(i64::from(idle));
    g.pool
        .with_label_values(&["in_use"])
        .set(i64::from(open.saturating_sub(idle)));
    g.pool_max.set(i64::from(max));
    let (entries, bytes) = state.cache.size();
    g.cache_entries
        .set(i64::try_from(entries).unwrap_or(i64::MAX));
    g.cache_bytes.set(i64::try_from(bytes).unwrap_or(i64::MAX));
    let (entries, bytes) = state.persisted.learnt_size();
    g.learnt_entries
        .set(i64::try_from(entries).unwrap_or(i64::MAX));
    g.learnt_bytes.set(i64::try_from(bytes).unwrap_or(i64::MAX));
    // On a connection of its own, outside the pool: the statement counter
    // counts what requests and jobs send, not the scrape's own reading.
    let url = state.config.database_url.clone();
    let outbox = tokio::task::spawn_blocking(move || {
        let mut conn = url.connect().ok()?;
        crate::db::webhooks::pending(&mut conn).ok()
    })
    .await
    .ok()
    .flatten();
    if let Some((pending, oldest)) = outbox {
        g.outbox_pending.set(pending);
        let age = oldest.map_or(0.0, |t| {
            (crate::db::now() - t).num_milliseconds().max(0) as f64 / 1000.0
        });
        g.outbox_oldest.set(age);
    }
}

/// A method as a label: one of the usual seven, else `OTHER`.
fn method_label(method: &actix_web::http::Method) -> &'static str {
    match method.as_str() {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "OPTIONS" => "OPTIONS",
        _ => "OTHER",
    }
}

/// Counts and times every request, by the route template it matched.
pub async fn record_requests(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return next.call(req).await;
    };
    let metrics = &state.metrics;
    let method = method_label(req.method());
    let announced = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<f64>().ok());
    metrics.in_flight.inc();
    let started = Instant::now();
    let answered = next.call(req).await;
    metrics.in_flight.dec();
    let response = answered?;
    let route = response
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_string());
    let status = response.status();
    metrics
        .requests
        .with_label_values(&[route.as_str(), method, status.as_str()])
        .inc();
    metrics
        .duration
        .with_label_values(&[route.as_str(), method])
        .observe(started.elapsed().as_secs_f64());
    if let Some(bytes) = announced {
        metrics
            .request_bytes
            .with_label_values(&[route.as_str()])
            .observe(bytes);
    }
    if let BodySize::Sized(bytes) = response.response().body().size() {
        metrics
            .response_bytes
            .with_label_values(&[route.as_str()])
            .observe(bytes as f64);
    }
    Ok(response)
}

/// Prometheus text exposition of the counters operators watch.
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    use std::sync::atomic::Ordering::Relaxed;
    read_state(&state).await;
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
    ) + &search_metrics(&state)
        + &state.metrics.text();
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
