//! Building the server: pool → migrations → schema → HttpServer on a listener.

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::{web, App, HttpServer};

use crate::cache::TagClock;
use crate::config::Config;
use crate::db::pool::{PoolOptions, SqliteSynchronous};
use crate::db::{migrations, Database, DatabaseUrl};
use crate::domain::CacheKey;
use crate::error::AppError;
use crate::graphql;
use crate::http;
use crate::text::script::ScriptConverter;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("NEWSDESK_BIND: cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("DATABASE_URL: cannot migrate the database: {0}")]
    Migrate(String),
    #[error("cannot load the script converter: {0}")]
    Script(String),
    #[error("NEWSDESK_PURGE_URL: {0}")]
    Purge(String),
    #[error("NEWSDESK_PERSISTED_QUERIES: {0}")]
    Persisted(String),
    #[error("NEWSDESK_REDIS_URL: cannot reach Redis: {0}")]
    Redis(String),
    #[error("NEWSDESK_MEDIA_URL: {0}")]
    Media(String),
    #[error("cannot set up the metrics: {0}")]
    Metrics(String),
}

/// The database a program (the server, a command, a test) writes through:
/// live updates and the search index follow every article its transactions
/// change. The change log first: it tells what a change did by the search
/// terms as they were before it.
pub fn open_database(url: DatabaseUrl, options: &PoolOptions) -> Database {
    let db = Database::new(url, options);
    db.before_commit(crate::live::log_changes);
    db.before_commit(crate::search::index_changed);
    db
}

/// How often the search index reads the search log for other nodes'
/// changes (and catches up after a restart).
const SEARCH_LOG_POLL: std::time::Duration = std::time::Duration::from_millis(200);

/// How often the live-update hub reads the change log when nothing woke it
/// (another process writing the SQLite file).
const LIVE_POLL: std::time::Duration = std::time::Duration::from_millis(200);

/// A built server, listening but not yet running.
pub struct Application {
    port: u16,
    host: String,
    server: Server,
    live: std::sync::Arc<crate::live::Slots>,
    /// `/metrics` on an address of its own, and that address.
    metrics: Option<(Server, std::net::SocketAddr)>,
}

/// `/metrics` alone, on `addr` (`NEWSDESK_METRICS_BIND`): one worker, no
/// other route, so that the API's address need not expose it.
fn metrics_server(
    addr: std::net::SocketAddr,
    state: http::AppState,
) -> Result<(Server, std::net::SocketAddr), StartupError> {
    let bind_error = |source| StartupError::Bind {
        addr: format!("{addr} (NEWSDESK_METRICS_BIND)"),
        source,
    };
    let listener = TcpListener::bind(addr).map_err(bind_error)?;
    let local = listener.local_addr().map_err(bind_error)?;
    let server = HttpServer::new(move || {
        App::new()
            .app_data(web::Data::new(state.clone()))
            .route("/metrics", web::get().to(http::metrics::metrics))
            .default_service(web::to(http::not_found))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .map_err(bind_error)?
    .run();
    Ok((server, local))
}

/// Waits for a signal to stop: SIGTERM asks for a graceful stop (requests
/// in flight finish), SIGINT (Ctrl-C) and SIGQUIT for a fast one, as
/// actix-web's own handling does. Returns whether the stop is graceful.
async fn stop_signal() -> bool {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int), Ok(mut quit)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
        signal(SignalKind::quit()),
    ) else {
        // Without handlers each signal stops the process the default way.
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => true,
        _ = int.recv() => false,
        _ = quit.recv() => false,
    }
}

impl Application {
    /// Binds `config.bind` (port 0 picks a free port) and builds the server.
    pub async fn build(config: Config) -> Result<Application, StartupError> {
        Self::build_with_routes(config, |_| {}).await
    }

    /// Like [`Application::build`], with more routes behind the same
    /// middleware (request ids, rate limits, panics, caching), for a program
    /// that embeds newsdesk and serves a few routes of its own beside it.
    pub async fn build_with_routes(
        config: Config,
        extra_routes: fn(&mut web::ServiceConfig),
    ) -> Result<Application, StartupError> {
        let serving = PoolOptions {
            statement_timeout: Some(config.execution_timeout),
            ..config.pool.clone()
        };
        let db = open_database(config.database_url.clone(), &serving)
            .with_replicas(&config.read_urls, &serving);
        // Before the cache's clock: a write's own node finds it in search
        // by the time the write's purge is heard.
        let search = crate::search::open_index(config.search_dir.as_deref());
        crate::search::refresh_on_commit(search.clone(), &db);
        // Before any write: the cache learns of every change from the start.
        let clock = TagClock::following(&db);
        if matches!(config.database_url, DatabaseUrl::Sqlite(_))
            && config.pool.sqlite_synchronous == SqliteSynchronous::Normal
        {
            tracing::warn!(
                "NEWSDESK_SQLITE_SYNCHRONOUS=normal: a power loss may take the last acknowledged writes"
            );
        }
        if config.migrate_on_start {
            // Without the request budget: a migration may rebuild a big index.
            // (SQLite has no statement budget, and an in-memory database lives
            // only as long as its pool.)
            let migrator = match config.database_url {
                DatabaseUrl::Postgres(_) => {
                    Database::new(config.database_url.clone(), &config.pool)
                }
                DatabaseUrl::Sqlite(_) => db.clone(),
            };
            migrator
                .run(migrations::run_pending)
                .await
                .map_err(|e| match e {
                    AppError::Internal(d) | AppError::Unavailable(d) => StartupError::Migrate(d),
                    other => StartupError::Migrate(other.to_string()),
                })?;
        } else {
            // Serving an older schema than the code expects fails request by
            // request; refuse instead. A database that cannot be reached now
            // is reported by /readyz, not here.
            match db.run(migrations::pending).await {
                Ok(pending) if !pending.is_empty() => {
                    return Err(StartupError::Migrate(format!(
                        "{} migration(s) pending ({}); run `newsdesk migrate` first",
                        pending.len(),
                        pending.join(", ")
                    )))
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "cannot check for pending migrations"),
            }
        }
        let listener = TcpListener::bind(config.bind).map_err(|source| StartupError::Bind {
            addr: config.bind.to_string(),
            source,
        })?;
        let local = listener.local_addr().map_err(|source| StartupError::Bind {
            addr: config.bind.to_string(),
            source,
        })?;
        let converter =
            ScriptConverter::shared().map_err(|e| StartupError::Script(e.to_string()))?;
        // Best effort: without the site's words search still matches (bigrams).
        match db.run(crate::search::dictionary::load_site_words).await {
            Ok(added) => tracing::info!(added, "search dictionary: site words loaded"),
            Err(error) => tracing::warn!(%error, "search dictionary: site words not loaded"),
        }
        if let Some(url) = config.purge_url.clone() {
            let checked = crate::webhooks::check_url(&url, config.webhook_allow_private)
                .map_err(|e| StartupError::Purge(e.public_message()))?;
            let secret = config.purge_secret.clone();
            db.write(move |conn| {
                crate::db::webhooks::ensure_purge_hook(conn, checked.as_str(), &secret)
            })
            .await
            .map_err(|e| StartupError::Purge(e.to_string()))?;
        }
        let deliveries = std::sync::Arc::new(crate::webhooks::DeliveryCounts::default());
        crate::webhooks::spawn_worker(
            db.clone(),
            config.webhook_allow_private,
            config.webhook_poll,
            config.webhook_timeout,
            deliveries.clone(),
        );
        http::idempotency::spawn_pruner(db.clone());
        crate::jobs::log_pruning::spawn(db.clone(), config.log_retention);
        crate::jobs::publishing::spawn(db.clone(), config.scheduler_poll);
        crate::search::prepare(&search, &db).await;
        let forget = clock.clone();
        // A pool of its own: the rounds do not take connections from
        // requests, nor count in the requests' statements.
        let following = Database::new(
            config.database_url.clone(),
            &PoolOptions {
                max_size: 1,
                ..serving.clone()
            },
        );
        crate::search::follow(search.clone(), &following, SEARCH_LOG_POLL, move |_| {
            // The index changed under the cached search results.
            forget.advance(&[CacheKey::Search]);
        });
        let persisted = crate::http::persisted::PersistedQueries::load(
            config.persisted_queries.as_deref(),
            config.persisted_only,
            config.apq_cache_bytes,
        )
        .map_err(StartupError::Persisted)?;
        let shared_counts = match &config.redis_url {
            Some(url) => Some(
                crate::auth::rate_limits::connect(url, &config.redis_prefix)
                    .await
                    .map_err(StartupError::Redis)?,
            ),
            None => None,
        };
        let media = crate::media::Library::new(&config.media).map_err(StartupError::Media)?;
        let state = http::AppState::new(
            db.clone(),
            clock.clone(),
            config.clone(),
            converter,
            persisted,
            shared_counts,
            search,
            std::sync::Arc::new(media),
        )
        .map_err(StartupError::Metrics)?;
        http::metrics::register(&state, deliveries)
            .map_err(|e| StartupError::Metrics(e.to_string()))?;
        // Its own connection: a round never waits for the search index's.
        let changes = Database::new(
            config.database_url.clone(),
            &PoolOptions {
                max_size: 1,
                ..serving.clone()
            },
        );
        crate::live::follow(state.live.clone(), &changes, clock.clone(), LIVE_POLL);
        if let DatabaseUrl::Postgres(url) = &config.database_url {
            crate::cache::peers::spawn_listener(
                url.clone(),
                &clock,
                state.peers.clone(),
                db.replicas(),
            );
        }
        let live_slots = state.live_slots.clone();
        let metrics_server = match config.metrics_bind.filter(|_| config.metrics) {
            Some(addr) => Some(metrics_server(addr, state.clone())?),
            None => None,
        };
        let schema = graphql::build_schema(&config);
        let introspection = graphql::build_introspection_schema(&config);
        let prevalidated = graphql::build_prevalidated_schema(&config);
        let shutdown_timeout = config.shutdown_timeout.as_secs();
        let server = HttpServer::new(move || {
            // The last `wrap` is the outermost: CORS sits outside the rate
            // limiter, the panic guard and every error they answer, so a
            // browser reads a 429, 413 or 5xx instead of "Failed to fetch";
            // `Vary` is merged into one header after everyone added theirs.
            let mut app = App::new()
                .wrap(actix_web::middleware::Compress::default())
                .wrap(actix_web::middleware::from_fn(
                    http::response_cache::cache_responses,
                ))
                .wrap(actix_web::middleware::from_fn(
                    http::conditional::conditional_get,
                ))
                .wrap(actix_web::middleware::from_fn(
                    http::rate_limit::limit_clients,
                ))
                .wrap(actix_web::middleware::from_fn(http::panics::contain_panics))
                .wrap(http::request_id::RequestId)
                .wrap(http::cors(&state.config))
                .wrap(actix_web::middleware::from_fn(http::vary::one_vary_header))
                // Outermost: it sees every answer as the client gets it.
                .wrap(actix_web::middleware::Condition::new(
                    state.config.metrics,
                    actix_web::middleware::from_fn(http::record_requests),
                ))
                .app_data(web::Data::new(state.clone()))
                .app_data(web::Data::new(schema.clone()))
                .app_data(web::Data::new(prevalidated.clone()));
            // Each worker counts its requests into a copy of its own.
            match state.metrics.request_series() {
                Ok(series) => app = app.app_data(web::Data::from(series)),
                Err(error) => tracing::warn!(%error, "request metrics are off for a worker"),
            }
            if let Some(introspection) = &introspection {
                app = app.app_data(web::Data::new(introspection.clone()));
            }
            if state.config.metrics && state.config.metrics_bind.is_none() {
                app = app.route("/metrics", web::get().to(http::metrics::metrics));
            }
            app.configure(http::routes)
                .configure(extra_routes)
                .default_service(web::to(http::not_found))
        })
        .shutdown_timeout(shutdown_timeout)
        // Signals are handled in `run_until_stopped`: live connections are
        // told to go before the server drains.
        .disable_signals()
        .listen(listener)
        .map_err(|source| StartupError::Bind {
            addr: config.bind.to_string(),
            source,
        })?
        .run();
        Ok(Application {
            port: local.port(),
            host: local.ip().to_string(),
            server,
            live: live_slots,
            metrics: metrics_server,
        })
    }

    /// The port actually bound.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Where the API answers.
    pub fn url(&self) -> String {
        format!("http://{}:{}", self.host, self.port)
    }

    /// Where `/metrics` answers when it has an address of its own.
    pub fn metrics_url(&self) -> Option<String> {
        self.metrics
            .as_ref()
            .map(|(_, addr)| format!("http://{addr}/metrics"))
    }

    /// Serves until SIGTERM, SIGINT or SIGQUIT. Each closes the live
    /// connections (WebSockets with 1001, "going away"; event streams end,
    /// and clients reconnect to another node) and stops accepting; after
    /// SIGTERM the requests in flight finish within
    /// `NEWSDESK_SHUTDOWN_TIMEOUT_SECS`.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let handle = self.server.handle();
        let live = self.live;
        let metrics = self.metrics.map(|(server, _)| {
            let handle = server.handle();
            tokio::spawn(server);
            handle
        });
        tokio::spawn(async move {
            let graceful = stop_signal().await;
            tracing::info!(graceful, "stopping: closing live connections");
            live.close_all();
            handle.stop(graceful).await;
            if let Some(metrics) = metrics {
                metrics.stop(false).await;
            }
        });
        self.server.await
    }
}
