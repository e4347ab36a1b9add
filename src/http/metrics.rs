//! `GET /metrics`: the server's registry ([`crate::telemetry::metrics`])
//! in the Prometheus text or OpenMetrics format. Requests are recorded by
//! [`record_requests`] around every request; what other parts count (the
//! pool, the caches, the peers' listener, replicas, the search index,
//! deliveries) is read from them when scraped.
//!
//! Labels take bounded values only: a route is its template
//! (`/v1/articles/{id}`, or `unmatched`), a method one of the usual seven
//! (else `OTHER`), a status its number.

use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Instant;

use actix_web::body::{BodySize, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{web, HttpRequest, HttpResponse};

use super::AppState;
use crate::cache::CacheStats;
use crate::telemetry::openmetrics;
use crate::telemetry::requests::{Answered, RequestSeries};
use crate::webhooks::DeliveryCounts;

/// What the scrape reads from the database, on a connection of its own.
#[derive(Default)]
struct Backlog {
    outbox: Option<(i64, Option<chrono::NaiveDateTime>)>,
    search_log: Option<i64>,
    overdue_since: Option<Option<chrono::NaiveDateTime>>,
}

/// Seconds from `then` to now (0 for none or a future time).
fn age(then: Option<chrono::NaiveDateTime>) -> f64 {
    then.map_or(0.0, |t| {
        (crate::db::now() - t).num_milliseconds().max(0) as f64 / 1000.0
    })
}

/// Reads the node's state into the gauges: the pool, the caches, and the
/// backlogs (the outbox, the search log, the scheduler's due articles),
/// read with three statements on a connection of its own; a database that
/// does not answer leaves those gauges as they were.
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
    // Outside the pool: the statement counter counts what requests and
    // jobs send, not the scrape's own reading.
    let url = state.config.database_url.clone();
    let backlog = tokio::task::spawn_blocking(move || {
        let Ok(mut conn) = url.connect() else {
            return Backlog::default();
        };
        Backlog {
            outbox: crate::db::webhooks::pending(&mut conn).ok(),
            search_log: crate::db::search_log::latest(&mut conn).ok(),
            overdue_since: crate::db::article_writes::oldest_overdue(&mut conn, crate::db::now())
                .ok(),
        }
    })
    .await
    .unwrap_or_default();
    if let Some((pending, oldest)) = backlog.outbox {
        g.outbox_pending.set(pending);
        g.outbox_oldest.set(age(oldest));
    }
    if let Some(latest) = backlog.search_log {
        g.search_lag.set((latest - state.search.applied()).max(0));
    }
    if let Some(since) = backlog.overdue_since {
        g.scheduler_lag.set(age(since));
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

/// Counts and times every request, by the route template it matched,
/// into the series of the worker answering it.
pub async fn record_requests(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let Some(series) = req.app_data::<web::Data<RequestSeries>>().cloned() else {
        return next.call(req).await;
    };
    let method = method_label(req.method());
    let announced = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<f64>().ok());
    series.in_flight.inc();
    let started = Instant::now();
    let answered = next.call(req).await;
    series.in_flight.dec();
    let response = answered?;
    let route = response
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_string());
    let response_bytes = match response.response().body().size() {
        BodySize::Sized(bytes) => Some(bytes as f64),
        _ => None,
    };
    series.record(Answered {
        route: &route,
        method,
        status: response.status(),
        seconds: started.elapsed().as_secs_f64(),
        request_bytes: announced,
        response_bytes,
    });
    Ok(response)
}

/// `GET /metrics`: the server's registry, in OpenMetrics when the scraper
/// prefers it (Prometheus does), else in the Prometheus text format.
pub async fn metrics(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    read_state(&state).await;
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let (content_type, body) = if openmetrics::preferred(accept) {
        (openmetrics::CONTENT_TYPE, state.metrics.openmetrics())
    } else {
        (
            "text/plain; version=0.0.4; charset=utf-8",
            state.metrics.text(),
        )
    };
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::VARY, "Accept"))
        .body(body)
}

/// Adds to the server's registry what other parts keep: the pools'
/// figures, statements, the peers' listener, replicas, the search index,
/// the response cache, the tag clock, live connections, SQLite writers
/// and webhook deliveries.
pub fn register(
    state: &AppState,
    deliveries: Arc<DeliveryCounts>,
) -> Result<(), prometheus::Error> {
    let m = &state.metrics;
    for collector in state.db.pool_collectors() {
        m.register(collector)?;
    }
    let db = state.db.clone();
    m.sample_counter(
        "newsdesk_sql_statements_total",
        "SQL statements sent to the database.",
        &[],
        move || db.statements() as f64,
    )?;
    let db = state.db.clone();
    m.sample_gauge(
        "newsdesk_db_sqlite_writers_waiting",
        "Writers of this process waiting for their turn to write to SQLite.",
        &[],
        move || db.sqlite_writers_waiting() as f64,
    )?;
    let peers = state.peers.clone();
    m.sample_counter(
        "newsdesk_invalidations_received_total",
        "Change notifications heard from the nodes sharing the database (this one included).",
        &[],
        move || peers.received.load(Relaxed) as f64,
    )?;
    let peers = state.peers.clone();
    m.sample_gauge(
        "newsdesk_peer_listener_up",
        "1 while this node hears other nodes' changes (PostgreSQL).",
        &[],
        move || f64::from(u8::from(peers.listening.load(Relaxed))),
    )?;
    let peers = state.peers.clone();
    m.sample_counter(
        "newsdesk_peer_listener_lost_total",
        "Times the change listener lost its connection.",
        &[],
        move || peers.lost.load(Relaxed) as f64,
    )?;
    let replicas = state.db.replicas();
    m.sample_counter(
        "newsdesk_replica_reads_total",
        "Public reads (a REST request may make several) sent to a replica.",
        &[],
        move || replicas.served.load(Relaxed) as f64,
    )?;
    let replicas = state.db.replicas();
    m.sample_counter(
        "newsdesk_replica_fallbacks_total",
        "Public reads sent to the primary because no replica had replayed the latest known change.",
        &[],
        move || replicas.fell_back.load(Relaxed) as f64,
    )?;
    register_search(state)?;
    register_cache(state)?;
    let hub = state.live.clone();
    m.sample_gauge(
        "newsdesk_live_subscriptions",
        "Live-update subscriptions receiving this node's events.",
        &[],
        move || hub.subscribers() as f64,
    )?;
    let throttle = state.throttle.clone();
    m.sample_counter(
        "newsdesk_login_throttled_total",
        "Login attempts refused because their account had too many recent failures.",
        &[],
        move || throttle.refused() as f64,
    )?;
    let live = state.live_slots.clone();
    m.sample_gauge(
        "newsdesk_live_connections",
        "Live-update connections (WebSockets and event streams) open on this node.",
        &[],
        move || live.open() as f64,
    )?;
    for class in DeliveryCounts::CLASSES {
        let counts = deliveries.clone();
        m.sample_counter(
            "newsdesk_webhook_delivery_attempts_total",
            "Webhook and purge delivery attempts, by the answer's status class (error: no answer).",
            &[("class", class)],
            move || counts.get(class) as f64,
        )?;
    }
    Ok(())
}

/// The search index: whether it answers searches yet (0 while it is
/// rebuilt and the database answers), what it holds, how far it has
/// applied the search log.
fn register_search(state: &AppState) -> Result<(), prometheus::Error> {
    let m = &state.metrics;
    let index = state.search.clone();
    m.sample_gauge(
        "newsdesk_search_index_complete",
        "1 once the search index holds every searchable article.",
        &[],
        move || f64::from(u8::from(index.is_complete())),
    )?;
    let index = state.search.clone();
    m.sample_gauge(
        "newsdesk_search_index_documents",
        "Articles in the search index.",
        &[],
        move || index.documents() as f64,
    )?;
    let index = state.search.clone();
    m.sample_gauge(
        "newsdesk_search_log_applied",
        "The last search log entry the index has applied.",
        &[],
        move || index.applied() as f64,
    )
}

/// The response cache's lookups and evictions, and the tag clock that
/// makes entries stale.
fn register_cache(state: &AppState) -> Result<(), prometheus::Error> {
    let m = &state.metrics;
    let stats = state.cache.stats();
    type Read = fn(&CacheStats) -> &AtomicU64;
    let lookups: [(&str, Read); 3] = [
        ("hit", |s| &s.hits),
        ("miss", |s| &s.misses),
        ("stale", |s| &s.stale),
    ];
    for (result, read) in lookups {
        let stats = stats.clone();
        m.sample_counter(
            "newsdesk_response_cache_lookups_total",
            "Response-cache lookups, by result (stale: an entry a write had changed, dropped).",
            &[("result", result)],
            move || read(&stats).load(Relaxed) as f64,
        )?;
    }
    let evictions: [(&str, Read); 2] = [
        ("size", |s| &s.evicted_for_size),
        ("expired", |s| &s.expired),
    ];
    for (reason, read) in evictions {
        let stats = stats.clone();
        m.sample_counter(
            "newsdesk_response_cache_evictions_total",
            "Response-cache entries dropped, by reason (size: to stay within the budget; expired: past their time to live).",
            &[("reason", reason)],
            move || read(&stats).load(Relaxed) as f64,
        )?;
    }
    let clock = state.cache.clock_handle();
    m.sample_counter(
        "newsdesk_cache_tag_clock_advances_total",
        "Times the cache's tag clock moved on (a change made cached answers stale).",
        &[],
        move || clock.now() as f64,
    )
}
