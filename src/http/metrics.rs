//! `GET /metrics`: Prometheus text. Request metrics live in a registry of
//! the server's own ([`HttpMetrics`], the `prometheus` crate), recorded by
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
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

use super::AppState;

/// Latency buckets, in seconds: 1 ms to 10 s.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Body size buckets, in bytes: 100 B to 16 MiB.
const SIZE_BUCKETS: &[f64] = &[
    100.0,
    1_000.0,
    10_000.0,
    100_000.0,
    1_000_000.0,
    4_000_000.0,
    16_000_000.0,
];

/// The request metrics of one server.
pub struct HttpMetrics {
    registry: Registry,
    requests: IntCounterVec,
    duration: HistogramVec,
    in_flight: IntGauge,
    request_bytes: HistogramVec,
    response_bytes: HistogramVec,
    graphql_operations: IntCounterVec,
    graphql_errors: IntCounterVec,
    /// Read from the node's state when scraped.
    gauges: StateGauges,
}

/// What the node holds, read at each scrape.
struct StateGauges {
    pool: IntGaugeVec,
    pool_max: IntGauge,
    cache_entries: IntGauge,
    cache_bytes: IntGauge,
    learnt_entries: IntGauge,
    learnt_bytes: IntGauge,
    outbox_pending: IntGauge,
    outbox_oldest: prometheus::Gauge,
}

impl StateGauges {
    fn new(registry: &Registry) -> Result<StateGauges, prometheus::Error> {
        let gauge = |name: &str, help: &str| -> Result<IntGauge, prometheus::Error> {
            let g = IntGauge::new(name, help)?;
            registry.register(Box::new(g.clone()))?;
            Ok(g)
        };
        let pool = IntGaugeVec::new(
            Opts::new(
                "newsdesk_db_pool_connections",
                "Connections of the primary's pool, by state (idle, in_use).",
            ),
            &["state"],
        )?;
        registry.register(Box::new(pool.clone()))?;
        let outbox_oldest = prometheus::Gauge::new(
            "newsdesk_webhook_outbox_oldest_pending_seconds",
            "Age of the oldest event still to deliver; 0 when none waits.",
        )?;
        registry.register(Box::new(outbox_oldest.clone()))?;
        Ok(StateGauges {
            pool,
            pool_max: gauge(
                "newsdesk_db_pool_max_connections",
                "The most connections the primary's pool opens.",
            )?,
            cache_entries: gauge(
                "newsdesk_response_cache_entries",
                "Responses held by the response cache.",
            )?,
            cache_bytes: gauge(
                "newsdesk_response_cache_bytes",
                "Bytes the response cache's entries weigh.",
            )?,
            learnt_entries: gauge(
                "newsdesk_persisted_queries_learnt",
                "Persisted queries learnt from clients (automatic persisted queries).",
            )?,
            learnt_bytes: gauge(
                "newsdesk_persisted_queries_learnt_bytes",
                "Bytes the learnt persisted queries weigh.",
            )?,
            outbox_pending: gauge(
                "newsdesk_webhook_outbox_pending",
                "Webhook and purge events still to deliver (attempts left).",
            )?,
            outbox_oldest,
        })
    }
}

impl HttpMetrics {
    /// The metrics of a server on `engine` (`sqlite` or `postgres`).
    pub fn new(engine: &str) -> Result<HttpMetrics, prometheus::Error> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "newsdesk_http_requests_total",
                "HTTP requests answered, by route template, method and status.",
            ),
            &["route", "method", "status"],
        )?;
        let duration = HistogramVec::new(
            HistogramOpts::new(
                "newsdesk_http_request_duration_seconds",
                "Time from a request's arrival to its answer's head, by route template and method.",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["route", "method"],
        )?;
        let in_flight = IntGauge::new(
            "newsdesk_http_requests_in_flight",
            "Requests being answered now.",
        )?;
        let request_bytes = HistogramVec::new(
            HistogramOpts::new(
                "newsdesk_http_request_body_bytes",
                "Request bodies, by route template (as announced by Content-Length).",
            )
            .buckets(SIZE_BUCKETS.to_vec()),
            &["route"],
        )?;
        let response_bytes = HistogramVec::new(
            HistogramOpts::new(
                "newsdesk_http_response_body_bytes",
                "Response bodies of known size as sent (compressed when compressed), by route template.",
            )
            .buckets(SIZE_BUCKETS.to_vec()),
            &["route"],
        )?;
        let graphql_operations = IntCounterVec::new(
            Opts::new(
                "newsdesk_graphql_operations_total",
                "GraphQL operations, by registered persisted-query id (else anonymous), type and outcome (ok, partial, error, cached).",
            ),
            &["operation", "type", "outcome"],
        )?;
        let graphql_errors = IntCounterVec::new(
            Opts::new(
                "newsdesk_graphql_errors_total",
                "GraphQL errors and refused requests, by extensions.code.",
            ),
            &["code"],
        )?;
        let build = IntGaugeVec::new(
            Opts::new(
                "newsdesk_build_info",
                "1, labelled with the running build and the database engine.",
            ),
            &["version", "git_sha", "engine"],
        )?;
        build
            .with_label_values(&[
                env!("CARGO_PKG_VERSION"),
                option_env!("NEWSDESK_GIT_SHA").unwrap_or("unknown"),
                engine,
            ])
            .set(1);
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(duration.clone()))?;
        registry.register(Box::new(in_flight.clone()))?;
        registry.register(Box::new(request_bytes.clone()))?;
        registry.register(Box::new(response_bytes.clone()))?;
        registry.register(Box::new(graphql_operations.clone()))?;
        registry.register(Box::new(graphql_errors.clone()))?;
        registry.register(Box::new(build))?;
        Ok(HttpMetrics {
            requests,
            duration,
            in_flight,
            request_bytes,
            response_bytes,
            graphql_operations,
            graphql_errors,
            gauges: StateGauges::new(&registry)?,
            registry,
        })
    }

    /// Reads the node's state into the gauges: the pool, the caches, and
    /// the outbox (one query; a database that does not answer leaves the
    /// outbox gauges as they were).
    async fn read_state(&self, state: &AppState) {
        let g = &self.gauges;
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
        if let Ok((pending, oldest)) = state.db.run(crate::db::webhooks::pending).await {
            g.outbox_pending.set(pending);
            let age = oldest.map_or(0.0, |t| {
                (crate::db::now() - t).num_milliseconds().max(0) as f64 / 1000.0
            });
            g.outbox_oldest.set(age);
        }
    }

    /// One GraphQL operation answered: `operation` a registered persisted
    /// id or `anonymous`, `kind` its type, `outcome` how it went, `codes`
    /// its errors' codes.
    pub fn graphql<'c>(
        &self,
        operation: &str,
        kind: &str,
        outcome: &str,
        codes: impl Iterator<Item = &'c str>,
    ) {
        self.graphql_operations
            .with_label_values(&[operation, kind, outcome])
            .inc();
        for code in codes {
            self.graphql_errors.with_label_values(&[code]).inc();
        }
    }

    /// A GraphQL request refused before it ran (limits, rate limits,
    /// persisted-query rules), by its code.
    pub fn graphql_refused(&self, code: &str) {
        self.graphql_errors.with_label_values(&[code]).inc();
    }

    fn text(&self) -> String {
        let mut out = Vec::new();
        // Encoding into memory fails only on a metric the registry refused.
        if TextEncoder::new()
            .encode(&self.registry.gather(), &mut out)
            .is_err()
        {
            return String::new();
        }
        String::from_utf8(out).unwrap_or_default()
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
    let metrics = &state.http_metrics;
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
    state.http_metrics.read_state(&state).await;
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
        + &state.http_metrics.text();
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
