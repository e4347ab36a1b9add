//! The server's metrics: a `prometheus` registry per server (tests run
//! several servers in one process, so there is no global recorder). HTTP
//! records requests into it (`http::metrics`), GraphQL its operations and
//! logins; gauges of the node's state are set when scraped.

use prometheus::proto::MetricType;
use prometheus::{Encoder, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder};

use super::requests::RequestShards;
use super::sampled::Sampled;

/// The metrics of one server, in a registry of its own.
pub struct Metrics {
    pub(crate) registry: Registry,
    /// The request series, one copy per worker.
    pub(crate) requests: RequestShards,
    pub(crate) graphql_operations: IntCounterVec,
    pub(crate) graphql_errors: IntCounterVec,
    logins: IntCounterVec,
    token_refusals: IntCounterVec,
    /// Read from the node's state when scraped.
    pub(crate) gauges: StateGauges,
}

/// What the node holds, read at each scrape.
pub(crate) struct StateGauges {
    pub(crate) pool: IntGaugeVec,
    pub(crate) pool_max: IntGauge,
    pub(crate) cache_entries: IntGauge,
    pub(crate) cache_bytes: IntGauge,
    pub(crate) learnt_entries: IntGauge,
    pub(crate) learnt_bytes: IntGauge,
    pub(crate) outbox_pending: IntGauge,
    pub(crate) outbox_oldest: prometheus::Gauge,
    pub(crate) search_lag: IntGauge,
    pub(crate) scheduler_lag: prometheus::Gauge,
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
        let scheduler_lag = prometheus::Gauge::new(
            "newsdesk_scheduler_lag_seconds",
            "How long the longest-overdue scheduled article (not held) has been due; 0 when none is.",
        )?;
        registry.register(Box::new(scheduler_lag.clone()))?;
        Ok(StateGauges {
            search_lag: gauge(
                "newsdesk_search_index_lag_entries",
                "Search log entries this node's index has yet to apply.",
            )?,
            scheduler_lag,
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

impl Metrics {
    /// The metrics of a server on `engine` (`sqlite` or `postgres`).
    pub fn new(engine: &str) -> Result<Metrics, prometheus::Error> {
        let registry = Registry::new();
        let requests = RequestShards::new()?;
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
        let logins = IntCounterVec::new(
            Opts::new(
                "newsdesk_logins_total",
                "Login attempts, by outcome: ok, or the error code (BAD_USER_INPUT for a wrong name or password, TOO_MANY_REQUESTS when throttled or busy).",
            ),
            &["outcome"],
        )?;
        let token_refusals = IntCounterVec::new(
            Opts::new(
                "newsdesk_token_refusals_total",
                "Bearer tokens refused, by reason (never the account).",
            ),
            &["reason"],
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
        registry.register(Box::new(graphql_operations.clone()))?;
        registry.register(Box::new(graphql_errors.clone()))?;
        registry.register(Box::new(logins.clone()))?;
        registry.register(Box::new(token_refusals.clone()))?;
        registry.register(Box::new(build))?;
        Ok(Metrics {
            requests,
            graphql_operations,
            graphql_errors,
            logins,
            token_refusals,
            gauges: StateGauges::new(&registry)?,
            registry,
        })
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

    /// A login attempt's outcome: `ok` or its error code.
    pub fn login(&self, outcome: &str) {
        self.logins.with_label_values(&[outcome]).inc();
    }

    /// A bearer token refused, for `reason` (a fixed text of the token
    /// checks, never the account or the token).
    pub fn token_refused(&self, reason: &str) {
        self.token_refusals.with_label_values(&[reason]).inc();
    }

    /// A GraphQL request refused before it ran (limits, rate limits,
    /// persisted-query rules), by its code.
    pub fn graphql_refused(&self, code: &str) {
        self.graphql_errors.with_label_values(&[code]).inc();
    }

    /// Adds a counter read at each scrape from where it is kept.
    pub fn sample_counter(
        &self,
        name: &str,
        help: &str,
        labels: &[(&str, &str)],
        read: impl Fn() -> f64 + Send + Sync + 'static,
    ) -> Result<(), prometheus::Error> {
        self.sample(MetricType::COUNTER, name, help, labels, Box::new(read))
    }

    /// Adds a gauge read at each scrape from where it is kept.
    pub fn sample_gauge(
        &self,
        name: &str,
        help: &str,
        labels: &[(&str, &str)],
        read: impl Fn() -> f64 + Send + Sync + 'static,
    ) -> Result<(), prometheus::Error> {
        self.sample(MetricType::GAUGE, name, help, labels, Box::new(read))
    }

    fn sample(
        &self,
        kind: MetricType,
        name: &str,
        help: &str,
        labels: &[(&str, &str)],
        read: super::sampled::Read,
    ) -> Result<(), prometheus::Error> {
        let series = Sampled::new(name, help, labels, kind, read)?;
        self.registry.register(Box::new(series))
    }

    /// A copy of the request series for one more server worker.
    pub fn request_series(
        &self,
    ) -> Result<std::sync::Arc<super::requests::RequestSeries>, prometheus::Error> {
        self.requests.shard()
    }

    /// Adds metrics kept elsewhere (a histogram of the pool).
    pub fn register(
        &self,
        collector: Box<dyn prometheus::core::Collector>,
    ) -> Result<(), prometheus::Error> {
        self.registry.register(collector)
    }

    /// The registry in OpenMetrics text.
    pub fn openmetrics(&self) -> String {
        super::openmetrics::encode(&self.registry.gather())
    }

    /// The registry in Prometheus text.
    pub fn text(&self) -> String {
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
