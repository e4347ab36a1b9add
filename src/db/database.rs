//! The database every request shares: runs work on a pooled connection
//! (on a blocking thread), lets SQLite writers take turns, sends anonymous
//! reads to replicas that are current, and runs writes as transactions that
//! announce what they changed (see [`super::changes`]).

use std::sync::atomic::Ordering;
use std::sync::Arc;

use diesel::connection::SimpleConnection;
use diesel::r2d2;

use super::async_pool::{AsyncLease, AsyncPool};
use super::audit::Actor;
use super::changes::{Changes, Hooks};
use super::pool::{build_pool, ConnectionManager, FailFast, PoolOptions, Queue, StatementCounter};
use super::pool_stats::PoolStats;
use super::replicas::Replicas;
use super::turns::WriterTurns;
use super::{tx, AnyConnection, DatabaseUrl, Tx};
use crate::error::AppError;

/// The connection pool, shared by every request.
#[derive(Clone)]
pub struct Database {
    pool: r2d2::Pool<ConnectionManager>,
    url: Arc<DatabaseUrl>,
    statements: Arc<StatementCounter>,
    /// Writers of this process take turns on SQLite (see `db::turns`).
    sqlite_writer: Arc<WriterTurns>,
    /// Who hears of the changes [`Database::transact`] commits.
    hooks: Arc<Hooks>,
    /// Set when a connection could not be had: until then callers fail at
    /// once instead of each waiting out the acquire timeout again.
    unreachable: Arc<FailFast>,
    /// Callers waiting for a connection of `pool`, in order.
    queue: Arc<Queue>,
    /// PostgreSQL replicas for anonymous reads.
    replicas: Arc<Replicas>,
    /// The replica [`Database::run`] reads from; `None` for the primary.
    read_from: Option<usize>,
    /// PostgreSQL connections the async threads drive themselves.
    async_reads: Option<Arc<AsyncPool>>,
}

impl Database {
    /// Builds the pool without connecting, so the server can start (and report
    /// not ready) while the database is down.
    pub fn new(url: DatabaseUrl, options: &PoolOptions) -> Self {
        let statements = Arc::new(StatementCounter::default());
        let stats = PoolStats::new("primary");
        let pool = build_pool(&url, options, &statements, &stats);
        let unreachable = Arc::<FailFast>::default();
        let async_reads = match &url {
            DatabaseUrl::Postgres(address) => {
                let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
                Some(Arc::new(AsyncPool::new(
                    address,
                    options.statement_timeout,
                    options.acquire_timeout,
                    (options.max_size as usize).div_ceil(threads),
                    statements.clone(),
                    stats.clone(),
                    unreachable.clone(),
                )))
            }
            DatabaseUrl::Sqlite(_) => None,
        };
        Database {
            pool,
            url: Arc::new(url),
            statements,
            sqlite_writer: Arc::default(),
            hooks: Arc::default(),
            unreachable,
            queue: Arc::new(Queue::new(options, stats)),
            replicas: Arc::default(),
            read_from: None,
            async_reads,
        }
    }

    /// Adds PostgreSQL replicas that anonymous reads may use (see
    /// [`super::replicas`]).
    pub fn with_replicas(mut self, urls: &[DatabaseUrl], options: &PoolOptions) -> Self {
        self.replicas = Arc::new(Replicas::new(urls, options, &self.statements));
        self
    }

    /// The replicas, for the change listener and `/metrics`.
    pub fn replicas(&self) -> Arc<Replicas> {
        self.replicas.clone()
    }

    /// Where a public read should go: a replica that has replayed every
    /// change this node knows of, else the primary. Writes through the
    /// returned handle still go to the primary.
    pub async fn reader(&self) -> Database {
        if self.replicas.is_empty() {
            return self.clone();
        }
        let picked = match self.replicas.caught_up() {
            Some(i) => Some(i),
            None => {
                let replicas = self.replicas.clone();
                tokio::task::spawn_blocking(move || replicas.ask())
                    .await
                    .ok()
                    .flatten()
            }
        };
        match picked {
            Some(i) => {
                self.replicas.served.fetch_add(1, Ordering::Relaxed);
                Database {
                    read_from: Some(i),
                    ..self.clone()
                }
            }
            None => {
                self.replicas.fell_back.fetch_add(1, Ordering::Relaxed);
                self.clone()
            }
        }
    }

    /// Where a read that begins now should go, for a handle chosen earlier
    /// by [`Database::reader`]: a replica chosen anew (one current when
    /// the handle was chosen may have fallen behind a later write), or the
    /// primary when the handle reads from it.
    pub async fn reader_now(&self) -> Database {
        match self.read_from {
            Some(_) => {
                let primary = Database {
                    read_from: None,
                    ..self.clone()
                };
                primary.reader().await
            }
            None => self.clone(),
        }
    }

    /// Runs `hook` inside every transaction of [`Database::transact`], after
    /// its work, with what it changed; an error rolls the transaction back.
    pub fn before_commit(
        &self,
        hook: impl Fn(&mut AnyConnection, &Changes) -> Result<(), AppError> + Send + Sync + 'static,
    ) {
        self.hooks.add_before(Arc::new(hook));
    }

    /// Calls `hook` with what each transaction of [`Database::transact`]
    /// changed, once it has committed and before the write returns, in the
    /// order the hooks were added.
    pub fn after_commit(
        &self,
        hook: impl Fn(&mut AnyConnection, &Changes) + Send + Sync + 'static,
    ) {
        self.hooks.add_after(Arc::new(hook));
    }

    /// The series of the primary's and the replicas' pools, for a
    /// server's registry.
    pub fn pool_collectors(&self) -> Vec<Box<dyn prometheus::core::Collector>> {
        let mut all = self.queue.stats.collectors();
        for replica in self.replicas.pools() {
            all.extend(replica.queue.stats.collectors());
        }
        all
    }

    /// SQLite writers of this process waiting for their turn.
    pub fn sqlite_writers_waiting(&self) -> usize {
        self.sqlite_writer.waiting()
    }

    /// SQL statements sent since the pool was made.
    pub fn statements(&self) -> u64 {
        self.statements.get()
    }

    /// Which engine this database runs on.
    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// The primary's pool: (connections open, of which idle, at most).
    pub fn pool_state(&self) -> (u32, u32, u32) {
        let state = self.pool.state();
        (
            state.connections,
            state.idle_connections,
            self.pool.max_size(),
        )
    }

    /// A connection for synchronous code (CLI commands, background jobs).
    pub fn get(&self) -> Result<r2d2::PooledConnection<ConnectionManager>, AppError> {
        self.pool
            .get()
            .map_err(|e| AppError::Unavailable(e.to_string()))
    }

    /// A PostgreSQL connection this thread drives itself, for a read of
    /// fixed shape that every cold page makes (see [`super::async_pool`]);
    /// `None` on SQLite and when reads go to a replica: use
    /// [`Database::run`] then.
    pub async fn lease_async(&self) -> Option<Result<AsyncLease, AppError>> {
        if self.read_from.is_some() {
            return None;
        }
        let reads = self.async_reads.as_ref()?;
        Some(reads.lease(self.span("db.read")).await)
    }

    /// Like [`Database::run`], for a short read of fixed shape (an article
    /// by slug, a section's first page): on SQLite, when a connection is
    /// free at once, `f` runs on this thread. Such a read is a few
    /// microseconds of work in this process, less than the hop to a
    /// blocking thread and back; readers of a WAL database never wait for
    /// its writer. Anything that may wait (no connection free, a replica,
    /// PostgreSQL's network) takes [`Database::run`].
    pub async fn run_short<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        match self.run_here(f) {
            Ok(done) => done,
            Err(f) => self.run(f).await,
        }
    }

    /// `f` run on this thread, or `f` back when it should not be.
    fn run_here<T, F>(&self, f: F) -> Result<Result<T, AppError>, F>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, AppError>,
    {
        if !matches!(*self.url, DatabaseUrl::Sqlite(_)) || self.read_from.is_some() {
            return Err(f);
        }
        let Some(turn) = self.queue.now() else {
            return Err(f);
        };
        let Some(mut conn) = self.pool.try_get() else {
            return Err(f);
        };
        self.queue.stats.acquired(turn.asked);
        let _in_span = self.span("db.read").entered();
        let done = f(&mut conn);
        // The connection goes back to the pool before the turn ends.
        drop(conn);
        drop(turn);
        Ok(done)
    }

    /// Runs `f` with a pooled connection on a blocking thread.
    pub async fn run<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let replica = self.read_from.and_then(|i| self.replicas.get(i));
        if replica.is_none() {
            self.unreachable.check()?;
        }
        let turn = match replica {
            Some(r) => r.queue.wait().await?,
            None => self.queue.wait().await?,
        };
        let (pool, unreachable, replicas, read_from) = (
            self.pool.clone(),
            self.unreachable.clone(),
            self.replicas.clone(),
            self.read_from,
        );
        let primary_stats = self.queue.stats.clone();
        let span = self.span("db.read");
        tokio::task::spawn_blocking(move || {
            let _in_span = span.enter();
            // A replica that cannot be reached leaves the read to the primary.
            let from_replica = read_from.and_then(|i| replicas.get(i)).and_then(|r| {
                let conn = r.unreachable.get_within(&r.pool, turn.remaining).ok()?;
                Some((conn, &r.queue.stats))
            });
            let mut conn = match from_replica {
                Some((conn, stats)) => {
                    stats.acquired(turn.asked);
                    conn
                }
                None => {
                    let conn = unreachable.get_within(&pool, turn.remaining)?;
                    primary_stats.acquired(turn.asked);
                    conn
                }
            };
            let done = f(&mut conn);
            // The connection goes back to the pool before the turn ends.
            drop(conn);
            drop(turn);
            done
        })
        .await
        .map_err(|e| AppError::Internal(format!("database task failed: {e}")))?
    }

    /// Like [`Database::run`], for work that writes: on SQLite, writers of
    /// this process take turns.
    pub async fn write<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        self.write_in_turn(false, f).await
    }

    /// Like [`Database::write`], ahead of the writers still waiting for
    /// their turn on SQLite: for a small write that must follow another
    /// one closely (the reply of an `Idempotency-Key` request).
    pub async fn write_next<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        self.write_in_turn(true, f).await
    }

    async fn write_in_turn<T, F>(&self, urgent: bool, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        self.unreachable.check()?;
        // SQLite writers take turns instead: one waiting for its turn must
        // not hold a place that a reader could use.
        let (lock, turn) = match *self.url {
            DatabaseUrl::Sqlite(_) => (Some(self.sqlite_writer.clone()), None),
            DatabaseUrl::Postgres(_) => (None, Some(self.queue.wait().await?)),
        };
        let unreachable = self.unreachable.clone();
        let (stats, asked) = (self.queue.stats.clone(), std::time::Instant::now());
        let span = self.span("db.write");
        tokio::task::spawn_blocking(move || {
            let _in_span = span.enter();
            let _writer_turn = lock.as_ref().map(|turns| turns.take(urgent));
            let mut conn = match &turn {
                Some(turn) => unreachable.get_within(&pool, turn.remaining)?,
                None => unreachable.get(&pool)?,
            };
            stats.acquired(turn.as_ref().map_or(asked, |t| t.asked));
            let done = f(&mut conn);
            drop(conn);
            drop(turn);
            done
        })
        .await
        .map_err(|e| AppError::Internal(format!("database task failed: {e}")))?
    }

    /// Runs `work` as one transaction by `actor`, in turn like
    /// [`Database::write`]: its audit events are written with it, and what it
    /// names through the [`Tx`] is announced (see [`super::changes`]).
    pub async fn transact<T, F>(&self, actor: Actor, work: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut Tx<'_>) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let this = self.clone();
        self.write(move |conn| this.transact_on(conn, &actor, work))
            .await
    }

    /// Like [`Database::transact`], blocking, on a connection the caller
    /// holds (commands and tests; it does not wait for a SQLite turn).
    pub fn transact_on<T>(
        &self,
        conn: &mut AnyConnection,
        actor: &Actor,
        work: impl FnOnce(&mut Tx<'_>) -> Result<T, AppError>,
    ) -> Result<T, AppError> {
        let (value, changes) = tx::run(conn, actor, &self.hooks, work)?;
        if !changes.keys().is_empty() {
            self.record_position(conn);
        }
        if !changes.is_empty() {
            self.hooks.after_commit(conn, &changes);
        }
        Ok(value)
    }

    /// With replicas, records the primary's position after a committed
    /// change before anyone hears of it, so that no read made after comes
    /// from a replica that has not replayed it.
    fn record_position(&self, conn: &mut AnyConnection) {
        if self.replicas.is_empty() {
            return;
        }
        if let AnyConnection::Postgresql(pg) = conn {
            match super::replicas::current(pg) {
                Some(lsn) => self.replicas.raise_known(lsn),
                // The listener records it too, when it hears the change.
                None => tracing::warn!("cannot read the primary's WAL position after a change"),
            }
        }
    }

    /// The span of one call to the database, a child of the caller's (off
    /// unless traces are exported): the statements it sends are its
    /// children.
    fn span(&self, name: &'static str) -> tracing::Span {
        let system = match *self.url {
            DatabaseUrl::Sqlite(_) => "sqlite",
            DatabaseUrl::Postgres(_) => "postgresql",
        };
        // Work outside a traced request (a poll of the outbox) is not traced.
        if !crate::telemetry::traces::recording() {
            return tracing::Span::none();
        }
        tracing::debug_span!("db", otel.name = name, db.system.name = system)
    }

    /// True when a connection can be had and answers a trivial query.
    pub async fn ping(&self) -> bool {
        self.run(|conn| {
            conn.batch_execute("SELECT 1").map_err(AppError::from)?;
            Ok(())
        })
        .await
        .is_ok()
    }
}
