//! Pooled connections: where the data lives (`DATABASE_URL`), how each
//! connection is opened and checked, and a short memory of a database
//! that could not be reached.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use diesel::connection::{Instrumentation, InstrumentationEvent};

use super::pool_stats::PoolStats;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{self, ManageConnection};
use diesel::{Connection, PgConnection, RunQueryDsl, SqliteConnection};

use super::AnyConnection;
use crate::error::AppError;

/// Where the data lives, parsed from `DATABASE_URL`.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A SQLite file path, or a shared-cache in-memory URI (`file:…?mode=memory`).
    Sqlite(String),
    /// A `postgres://` or `postgresql://` URL.
    Postgres(String),
}

impl std::fmt::Debug for DatabaseUrl {
    // The PostgreSQL URL may carry a password: never print it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DatabaseUrl::Sqlite(path) => write!(f, "sqlite:{path}"),
            DatabaseUrl::Postgres(url) => write!(f, "postgres:{}", redact_password(url)),
        }
    }
}

fn redact_password(url: &str) -> String {
    // postgres://user:secret@host/db → postgres://user:***@host/db
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme_end + 3],
                    &userinfo[..colon],
                    &url[at..]
                ),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

impl DatabaseUrl {
    /// Parses `sqlite://PATH`, `sqlite:PATH`, `sqlite::memory:`, a bare path, or
    /// `postgres://…` / `postgresql://…`.
    pub fn parse(value: &str) -> Result<Self, String> {
        let value = value.trim();
        if value.is_empty() {
            return Err("is empty".into());
        }
        if value.starts_with("postgres://") || value.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(value.to_string()));
        }
        let path = if let Some(rest) = value.strip_prefix("sqlite://") {
            rest
        } else if let Some(rest) = value.strip_prefix("sqlite:") {
            rest
        } else if value.contains("://") {
            return Err(format!(
                "unsupported scheme in {value:?}: use sqlite://PATH or postgres://…"
            ));
        } else {
            value
        };
        if path.is_empty() {
            return Err("has no SQLite file path".into());
        }
        if path == ":memory:" {
            // A plain :memory: gives every pooled connection its own empty database.
            let name = uuid::Uuid::new_v4().simple();
            return Ok(DatabaseUrl::Sqlite(format!(
                "file:newsdesk-{name}?mode=memory&cache=shared"
            )));
        }
        Ok(DatabaseUrl::Sqlite(path.to_string()))
    }

    /// `"sqlite"` or `"postgres"`, for logs and metrics.
    pub fn engine(&self) -> &'static str {
        match self {
            DatabaseUrl::Sqlite(_) => "sqlite",
            DatabaseUrl::Postgres(_) => "postgres",
        }
    }

    /// Opens one connection, configured for our use.
    pub fn connect(&self) -> Result<AnyConnection, diesel::ConnectionError> {
        self.connect_with(None, false, SqliteSynchronous::Full)
    }

    /// Like [`DatabaseUrl::connect`], with a statement time limit on
    /// PostgreSQL, and checking (unless `allow_unsafe`) that the database
    /// keeps acknowledged commits: SQLite in WAL mode with the configured
    /// `synchronous` level, PostgreSQL with `fsync` and `synchronous_commit`
    /// on. A database that silently runs otherwise would void what the
    /// durability tests measure.
    fn connect_with(
        &self,
        statement_timeout: Option<Duration>,
        allow_unsafe: bool,
        synchronous: SqliteSynchronous,
    ) -> Result<AnyConnection, diesel::ConnectionError> {
        match self {
            DatabaseUrl::Sqlite(path) => {
                super::sqlite_plans::keep_plans_stable()
                    .map_err(diesel::ConnectionError::BadConnection)?;
                let mut conn = SqliteConnection::establish(path)?;
                // Pragmas are per connection.
                conn.batch_execute(
                    "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; \
                     PRAGMA journal_mode = WAL; PRAGMA cache_size = -8000;",
                )
                .and_then(|()| conn.batch_execute(synchronous.statement()))
                .map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))?;
                // An in-memory database has nothing to keep.
                if !allow_unsafe && !path.contains("mode=memory") {
                    let found = diesel::sql_query(
                        "SELECT journal_mode AS first, CAST(synchronous AS TEXT) AS second \
                         FROM pragma_journal_mode, pragma_synchronous",
                    )
                    .get_result::<Settings>(&mut conn)
                    .map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))?;
                    if found.first != "wal" || found.second != synchronous.level() {
                        return Err(unsafe_durability(&format!(
                            "SQLite runs with journal_mode={} and synchronous={} (want wal and {}, {})",
                            found.first,
                            found.second,
                            synchronous.level(),
                            synchronous.name()
                        )));
                    }
                }
                Ok(AnyConnection::Sqlite(conn))
            }
            DatabaseUrl::Postgres(url) => {
                let mut conn = PgConnection::establish(url)?;
                conn.batch_execute(&pg_session_settings(statement_timeout))
                    .map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))?;
                if !allow_unsafe {
                    let found = diesel::sql_query(
                        "SELECT current_setting('fsync') AS first, \
                         current_setting('synchronous_commit') AS second",
                    )
                    .get_result::<Settings>(&mut conn)
                    .map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))?;
                    if found.first != "on" || found.second == "off" {
                        return Err(unsafe_durability(&format!(
                            "PostgreSQL runs with fsync={} and synchronous_commit={} (acknowledged commits could be lost)",
                            found.first, found.second
                        )));
                    }
                }
                Ok(AnyConnection::Postgresql(conn))
            }
        }
    }
}

/// What every PostgreSQL connection sets first: UTC, the statement time
/// limit (`None`: no limit), and generic plans.
///
/// Diesel keeps each statement of fixed shape prepared, but in PostgreSQL's
/// default `auto` mode a prepared statement whose LIMIT is a parameter
/// keeps a custom plan, planned anew at every execution: the generic plan's
/// estimate, not knowing the limit, looks costlier. A section page spent
/// 0.25–0.6 ms in planning per request, more than running it. Every
/// statement here reads by key or in index order, where the generic plan is
/// the custom plan (docs/performance.md).
pub(super) fn pg_session_settings(statement_timeout: Option<Duration>) -> String {
    let limit = statement_timeout.map_or(0, |t| t.as_millis());
    format!(
        "SET TIME ZONE 'UTC'; SET statement_timeout = {limit}; \
         SET plan_cache_mode = force_generic_plan"
    )
}

/// How SQLite syncs its write-ahead log, from `NEWSDESK_SQLITE_SYNCHRONOUS`.
/// In WAL mode neither level loses a commit when the process dies (the
/// durability harness kills it with SIGKILL under both); they differ when
/// the machine loses power.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SqliteSynchronous {
    /// Every commit reaches the disk before it is acknowledged.
    #[default]
    Full,
    /// The log reaches the disk at checkpoints: faster writes, and a power
    /// loss may take the last commits (never the database's integrity).
    Normal,
}

impl SqliteSynchronous {
    fn name(self) -> &'static str {
        match self {
            SqliteSynchronous::Full => "FULL",
            SqliteSynchronous::Normal => "NORMAL",
        }
    }

    fn statement(self) -> &'static str {
        match self {
            SqliteSynchronous::Full => "PRAGMA synchronous = FULL",
            SqliteSynchronous::Normal => "PRAGMA synchronous = NORMAL",
        }
    }

    /// The number `PRAGMA synchronous` reads back.
    fn level(self) -> &'static str {
        match self {
            SqliteSynchronous::Full => "2",
            SqliteSynchronous::Normal => "1",
        }
    }
}

impl std::str::FromStr for SqliteSynchronous {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, String> {
        match value.to_ascii_lowercase().as_str() {
            "full" => Ok(SqliteSynchronous::Full),
            "normal" => Ok(SqliteSynchronous::Normal),
            _ => Err("expected full or normal".into()),
        }
    }
}

/// Two settings read back from the database.
#[derive(diesel::QueryableByName)]
struct Settings {
    #[diesel(sql_type = diesel::sql_types::Text)]
    first: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    second: String,
}

fn unsafe_durability(found: &str) -> diesel::ConnectionError {
    diesel::ConnectionError::BadConnection(format!(
        "{found}; set NEWSDESK_ALLOW_UNSAFE_DURABILITY=1 to use it anyway"
    ))
}

/// Counts the SQL statements sent, for `/metrics` and the tests that prove
/// a page of articles costs the same number of statements at any size.
#[derive(Debug, Default)]
pub struct StatementCounter(AtomicU64);

impl StatementCounter {
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// What one connection has been through: it counts the statements sent,
/// and remembers a statement that found the connection gone, so that the
/// pool drops it instead of handing it out again.
pub(super) struct Watch {
    statements: Arc<StatementCounter>,
    stats: Arc<PoolStats>,
    /// When the statement running started.
    started: Option<std::time::Instant>,
    lost: bool,
    /// The span of the statement running, when traces are exported.
    statement: tracing::Span,
}

impl Watch {
    pub(super) fn new(statements: &Arc<StatementCounter>, stats: &Arc<PoolStats>) -> Self {
        Watch {
            statements: statements.clone(),
            stats: stats.clone(),
            started: None,
            lost: false,
            statement: tracing::Span::none(),
        }
    }

    /// Whether a connection watched by `watch` found itself gone, or still
    /// has a statement unanswered (a read cut short).
    pub(super) fn lost_or_busy(watch: &mut dyn Instrumentation) -> bool {
        watch
            .downcast_ref::<Watch>()
            .is_some_and(|w| w.lost || w.started.is_some())
    }
}

impl Instrumentation for Watch {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        match event {
            InstrumentationEvent::StartQuery { query, .. } => {
                self.statements.0.fetch_add(1, Ordering::Relaxed);
                self.started = Some(std::time::Instant::now());
                self.statement = statement_span(query);
            }
            InstrumentationEvent::FinishQuery { error, .. } => {
                if let Some(started) = self.started.take() {
                    self.stats.statement_ran(started);
                }
                if let Some(error) = error {
                    self.statement.record("otel.status_code", "ERROR");
                    if crate::error::is_connection_lost(error) {
                        self.lost = true;
                    }
                }
                // Closing the span ends the statement's time.
                self.statement = tracing::Span::none();
            }
            _ => {}
        }
    }
}

/// A span for one statement, named by its verb, holding its text without
/// the values bound to it (they may be personal data).
fn statement_span<Q: std::fmt::Display + ?Sized>(query: &Q) -> tracing::Span {
    // Work outside a traced request (a poll of the outbox) is not traced.
    if !crate::telemetry::traces::recording() {
        return tracing::Span::none();
    }
    let span = tracing::debug_span!(
        "db.statement",
        otel.name = tracing::field::Empty,
        db.query.text = tracing::field::Empty,
        otel.status_code = tracing::field::Empty,
    );
    if !span.is_disabled() {
        let shown = query.to_string();
        // Diesel shows a statement as `SQL -- binds: [values]`.
        let text = shown.split(" -- binds: ").next().unwrap_or_default().trim();
        let verb = text.split_whitespace().next().unwrap_or("SQL");
        span.record("otel.name", verb.to_ascii_uppercase());
        span.record("db.query.text", text);
    }
    span
}

/// Whether a statement on `conn` found the connection gone.
fn lost(conn: &mut AnyConnection) -> bool {
    conn.instrumentation()
        .downcast_ref::<Watch>()
        .is_some_and(|watch| watch.lost)
}

/// Makes pooled connections from a [`DatabaseUrl`].
#[derive(Debug)]
pub struct ConnectionManager {
    url: DatabaseUrl,
    statements: Arc<StatementCounter>,
    stats: Arc<PoolStats>,
    statement_timeout: Option<Duration>,
    allow_unsafe_durability: bool,
    sqlite_synchronous: SqliteSynchronous,
}

impl ManageConnection for ConnectionManager {
    type Connection = AnyConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<AnyConnection, Self::Error> {
        let mut conn = self
            .url
            .connect_with(
                self.statement_timeout,
                self.allow_unsafe_durability,
                self.sqlite_synchronous,
            )
            .map_err(diesel::r2d2::Error::ConnectionError)?;
        conn.set_instrumentation(Watch::new(&self.statements, &self.stats));
        Ok(conn)
    }

    fn is_valid(&self, conn: &mut AnyConnection) -> Result<(), Self::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut AnyConnection) -> bool {
        use diesel::r2d2::R2D2Connection;
        // A connection given back while a panic unwinds, or still inside a
        // transaction, would start the next request in that transaction.
        lost(conn) || std::thread::panicking() || conn.is_broken()
    }
}

/// Pool settings.
#[derive(Debug, Clone)]
pub struct PoolOptions {
    pub max_size: u32,
    pub acquire_timeout: Duration,
    /// PostgreSQL cancels any statement that runs longer (the server's
    /// request budget); `None` for commands such as migrations.
    pub statement_timeout: Option<Duration>,
    /// Connect even to a database that may lose acknowledged commits.
    pub allow_unsafe_durability: bool,
    pub sqlite_synchronous: SqliteSynchronous,
}

/// Callers waiting for a pooled connection, served in the order they came.
///
/// r2d2 gives a returned connection to whichever waiting thread takes its
/// lock first, so under load a few requests wait many turns (the long tail
/// of a page's latency), and every waiter parks a blocking thread. Waiting
/// here instead, on the async side and first come first served, keeps both
/// down: a request reaches the pool only when a connection is free for it.
pub(super) struct Queue {
    permits: Arc<tokio::sync::Semaphore>,
    timeout: Duration,
    /// The figures of the queue's pool.
    pub(super) stats: Arc<PoolStats>,
}

/// A place in the [`Queue`]: held while its connection is in use.
pub(super) struct Turn {
    _permit: tokio::sync::OwnedSemaphorePermit,
    /// What is left of the acquire timeout for the pool itself.
    pub(super) remaining: Duration,
    /// When the caller began to wait.
    pub(super) asked: std::time::Instant,
}

impl Queue {
    /// A queue for a pool of `options.max_size` connections.
    pub(super) fn new(options: &PoolOptions, stats: Arc<PoolStats>) -> Self {
        Queue {
            permits: Arc::new(tokio::sync::Semaphore::new(options.max_size.max(1) as usize)),
            timeout: options.acquire_timeout,
            stats,
        }
    }

    /// A turn at once, when a connection is free and nobody waits for one.
    pub(super) fn now(&self) -> Option<Turn> {
        let permit = self.permits.clone().try_acquire_owned().ok()?;
        Some(Turn {
            _permit: permit,
            remaining: self.timeout,
            asked: std::time::Instant::now(),
        })
    }

    /// Waits for a connection to be free, at most the acquire timeout.
    pub(super) async fn wait(&self) -> Result<Turn, AppError> {
        let started = std::time::Instant::now();
        let _waiting = self.stats.waiting();
        match tokio::time::timeout(self.timeout, self.permits.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(Turn {
                _permit: permit,
                remaining: self.timeout.saturating_sub(started.elapsed()),
                asked: started,
            }),
            Ok(Err(_closed)) => Err(AppError::Unavailable("the database pool is closed".into())),
            Err(_elapsed) => Err(AppError::Unavailable(format!(
                "no database connection came free within {} ms",
                self.timeout.as_millis()
            ))),
        }
    }
}

/// A short memory of a database being unreachable.
#[derive(Debug, Default)]
pub(super) struct FailFast {
    /// Milliseconds since [`EPOCH`] until which to fail fast; 0 when reachable.
    until_ms: AtomicU64,
}

static EPOCH: std::sync::LazyLock<std::time::Instant> =
    std::sync::LazyLock::new(std::time::Instant::now);

/// How long a failed checkout makes later ones fail at once.
const FAIL_FAST_FOR: Duration = Duration::from_secs(1);

/// A pool on `url`; it connects lazily, so it can be made while the database is down.
pub(super) fn build_pool(
    url: &DatabaseUrl,
    options: &PoolOptions,
    statements: &Arc<StatementCounter>,
    stats: &Arc<PoolStats>,
) -> r2d2::Pool<ConnectionManager> {
    // A shared-cache in-memory database lives only while a connection is open.
    let in_memory = matches!(url, DatabaseUrl::Sqlite(p) if p.contains("mode=memory"));
    r2d2::Pool::builder()
        .max_size(options.max_size.max(1))
        .min_idle(Some(if in_memory { 1 } else { 0 }))
        .connection_timeout(options.acquire_timeout)
        .test_on_check_out(false)
        .build_unchecked(ConnectionManager {
            url: url.clone(),
            statements: statements.clone(),
            stats: stats.clone(),
            statement_timeout: options.statement_timeout,
            allow_unsafe_durability: options.allow_unsafe_durability,
            sqlite_synchronous: options.sqlite_synchronous,
        })
}

impl FailFast {
    fn now_ms() -> u64 {
        EPOCH.elapsed().as_millis() as u64
    }

    pub(super) fn check(&self) -> Result<(), AppError> {
        let until = self.until_ms.load(Ordering::Relaxed);
        if until != 0 && Self::now_ms() < until {
            return Err(AppError::Unavailable(
                "the database was unreachable moments ago".into(),
            ));
        }
        Ok(())
    }

    /// Remembers that the database could not be reached.
    pub(super) fn failed(&self) {
        let until = Self::now_ms() + FAIL_FAST_FOR.as_millis() as u64;
        self.until_ms.store(until, Ordering::Relaxed);
    }

    /// Forgets a failure: the database answered.
    pub(super) fn reached(&self) {
        if self.until_ms.load(Ordering::Relaxed) != 0 {
            self.until_ms.store(0, Ordering::Relaxed);
        }
    }

    /// Checks a connection out of `pool`, remembering a failure.
    pub(super) fn get(
        &self,
        pool: &r2d2::Pool<ConnectionManager>,
    ) -> Result<r2d2::PooledConnection<ConnectionManager>, AppError> {
        self.get_within(pool, pool.connection_timeout())
    }

    /// Like [`FailFast::get`], waiting at most `timeout` (what a [`Turn`]
    /// left of the acquire timeout).
    pub(super) fn get_within(
        &self,
        pool: &r2d2::Pool<ConnectionManager>,
        timeout: Duration,
    ) -> Result<r2d2::PooledConnection<ConnectionManager>, AppError> {
        self.check()?;
        // A zero timeout would fail even with a connection free.
        match pool.get_timeout(timeout.max(Duration::from_millis(1))) {
            Ok(conn) => {
                self.reached();
                Ok(conn)
            }
            Err(e) => {
                self.failed();
                Err(AppError::Unavailable(e.to_string()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_pick_the_engine_from_their_scheme() {
        assert_eq!(
            DatabaseUrl::parse("sqlite://newsdesk.db"),
            Ok(DatabaseUrl::Sqlite("newsdesk.db".into()))
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:///var/lib/n.db"),
            Ok(DatabaseUrl::Sqlite("/var/lib/n.db".into()))
        );
        assert_eq!(
            DatabaseUrl::parse("data/n.db"),
            Ok(DatabaseUrl::Sqlite("data/n.db".into()))
        );
        assert!(matches!(
            DatabaseUrl::parse("postgres://u@127.0.0.1/db"),
            Ok(DatabaseUrl::Postgres(_))
        ));
        assert!(matches!(
            DatabaseUrl::parse("sqlite::memory:"),
            Ok(DatabaseUrl::Sqlite(p)) if p.contains("mode=memory")
        ));
        assert!(DatabaseUrl::parse("mysql://x").is_err());
        assert!(DatabaseUrl::parse("").is_err());
    }

    #[test]
    fn sqlite_runs_at_the_configured_synchronous_level_t_dur_2() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let url = DatabaseUrl::Sqlite(dir.path().join("n.db").display().to_string());
        for (level, expected) in [
            (SqliteSynchronous::Full, "2"),
            (SqliteSynchronous::Normal, "1"),
        ] {
            let Ok(AnyConnection::Sqlite(mut conn)) = url.connect_with(None, false, level) else {
                panic!("no SQLite connection at {level:?}");
            };
            let found = diesel::sql_query(
                "SELECT journal_mode AS first, CAST(synchronous AS TEXT) AS second \
                 FROM pragma_journal_mode, pragma_synchronous",
            )
            .get_result::<Settings>(&mut conn)
            .expect("settings");
            assert_eq!(
                (found.first.as_str(), found.second.as_str()),
                ("wal", expected)
            );
        }
        assert_eq!("NORMAL".parse(), Ok(SqliteSynchronous::Normal));
        assert!("off".parse::<SqliteSynchronous>().is_err());
    }

    #[test]
    fn a_connection_found_gone_is_not_handed_out_again() {
        use diesel::sql_types::Integer;
        if std::env::var("NEWSDESK_SKIP_PG").is_ok_and(|v| v == "1") {
            eprintln!("NEWSDESK_SKIP_PG=1: PostgreSQL test SKIPPED");
            return;
        }
        #[derive(diesel::QueryableByName)]
        struct Backend {
            #[diesel(sql_type = Integer)]
            pid: i32,
        }
        let url = std::env::var("DATABASE_URL_PG").unwrap_or_else(|_| {
            "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable".into()
        });
        let manager = ConnectionManager {
            url: DatabaseUrl::Postgres(url.clone()),
            statements: Arc::default(),
            stats: PoolStats::new("primary"),
            statement_timeout: None,
            allow_unsafe_durability: false,
            sqlite_synchronous: SqliteSynchronous::Full,
        };
        let mut conn = manager.connect().expect("PostgreSQL");
        let backend = diesel::sql_query("SELECT pg_backend_pid() AS pid")
            .get_result::<Backend>(&mut conn)
            .expect("pid");
        assert!(!manager.has_broken(&mut conn));

        let mut admin = PgConnection::establish(&url).expect("PostgreSQL");
        diesel::sql_query("SELECT pg_terminate_backend($1)")
            .bind::<Integer, _>(backend.pid)
            .execute(&mut admin)
            .expect("terminate");
        assert!(conn.batch_execute("SELECT 1").is_err());

        assert!(lost(&mut conn), "the watch saw the connection go");
        assert!(manager.has_broken(&mut conn));
    }

    #[test]
    fn passwords_never_reach_debug_output() {
        let url = DatabaseUrl::parse("postgres://app:s3cret@db/newsdesk")
            .unwrap_or_else(|e| panic!("{e}"));
        let shown = format!("{url:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("app:***@db"), "{shown}");
    }
}
