//! PostgreSQL connections that the HTTP worker threads drive themselves,
//! for the reads every cold page makes (an article by slug, the first page
//! of a section).
//!
//! [`super::Database::run`] sends each statement from a blocking thread:
//! the request crosses to that thread and back, two wake-ups between
//! threads per statement, which cost a cold article page as much CPU as
//! its statement cost PostgreSQL. Here the worker writes the statement to
//! the socket and serves other requests until the answer arrives, as
//! pgbench's one thread drives all its connections.
//!
//! Each thread keeps connections of its own: a connection's driver task
//! runs on the runtime of the thread that opened it, so a statement and
//! its answer never leave that thread. The connections are opened when a
//! thread first asks and are set up like the pool's (UTC, the statement
//! time limit, generic plans); they only read, so they never hold a
//! transaction open.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use diesel::result::{DatabaseErrorKind, Error as DieselError, QueryResult};
use diesel_async::pooled_connection::PoolableConnection;
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tracing::{Instrument, Span};

use super::pool::{pg_session_settings, FailFast, StatementCounter, Watch};
use super::pool_stats::PoolStats;
use crate::error::{is_connection_lost, AppError};

/// How these connections show in `pg_stat_activity`.
const NAMED: &str = "SET application_name = 'newsdesk page reads'";

/// The async connections of one database, each thread its own.
pub(super) struct AsyncPool {
    /// Each thread's connections: only the thread itself takes from them.
    threads: Mutex<HashMap<ThreadId, Arc<ThreadConnections>>>,
    url: String,
    statement_timeout: Option<Duration>,
    acquire_timeout: Duration,
    per_thread: usize,
    statements: Arc<StatementCounter>,
    stats: Arc<PoolStats>,
    unreachable: Arc<FailFast>,
}

/// One thread's connections: those idle, and a place for each it may open.
struct ThreadConnections {
    permits: Arc<Semaphore>,
    idle: Mutex<Vec<AsyncPgConnection>>,
}

/// A connection lent to one read; it goes back to its thread's idle list
/// when dropped, unless it was found gone.
pub struct AsyncLease {
    conn: Option<AsyncPgConnection>,
    /// Set when a read found the connection gone.
    gone: bool,
    /// Set once a read ran again on a new connection.
    retried: bool,
    span: Span,
    pool: Arc<AsyncPool>,
    home: Arc<ThreadConnections>,
    _permit: OwnedSemaphorePermit,
}

impl AsyncPool {
    /// Connections to `url`, at most `per_thread` on each thread; none is
    /// opened until a thread asks.
    pub(super) fn new(
        url: &str,
        statement_timeout: Option<Duration>,
        acquire_timeout: Duration,
        per_thread: usize,
        statements: Arc<StatementCounter>,
        stats: Arc<PoolStats>,
        unreachable: Arc<FailFast>,
    ) -> Self {
        AsyncPool {
            threads: Mutex::default(),
            url: url.to_string(),
            statement_timeout,
            acquire_timeout,
            per_thread: per_thread.max(1),
            statements,
            stats,
            unreachable,
        }
    }

    /// A connection of this thread, waiting (first come first served) for
    /// one to be free at most the acquire timeout.
    ///
    /// `span` is the reads' span (`db.read`): it holds the wait, and the
    /// statements are its children.
    pub(super) async fn lease(self: &Arc<Self>, span: Span) -> Result<AsyncLease, AppError> {
        let lease = self.lease_in_span(span.clone()).instrument(span);
        lease.await
    }

    async fn lease_in_span(self: &Arc<Self>, span: Span) -> Result<AsyncLease, AppError> {
        self.unreachable.check()?;
        let home = self
            .threads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(std::thread::current().id())
            .or_insert_with(|| {
                Arc::new(ThreadConnections {
                    permits: Arc::new(Semaphore::new(self.per_thread)),
                    idle: Mutex::default(),
                })
            })
            .clone();
        let asked = Instant::now();
        let waiting = self.stats.waiting();
        let permit =
            tokio::time::timeout(self.acquire_timeout, home.permits.clone().acquire_owned())
                .await
                .map_err(|_| {
                    AppError::Unavailable("no database connection was free in time".into())
                })?
                .map_err(|e| AppError::Internal(e.to_string()))?;
        drop(waiting);
        // A connection that the server closed while it was idle (a restart,
        // an administrator's command) is seen closed here and left.
        let idle = {
            let mut idle = home.idle.lock().unwrap_or_else(|e| e.into_inner());
            std::iter::from_fn(|| idle.pop())
                .find_map(|mut conn| (!conn.is_broken()).then_some(conn))
        };
        let conn = match idle {
            Some(conn) => conn,
            None => self.connect().await?,
        };
        self.stats.acquired(asked);
        Ok(AsyncLease {
            conn: Some(conn),
            gone: false,
            retried: false,
            span,
            pool: self.clone(),
            home,
            _permit: permit,
        })
    }

    async fn connect(&self) -> Result<AsyncPgConnection, AppError> {
        let opened = async {
            let mut conn = AsyncPgConnection::establish(&self.url)
                .await
                .map_err(|e| e.to_string())?;
            conn.batch_execute(&pg_session_settings(self.statement_timeout))
                .await
                .map_err(|e| e.to_string())?;
            conn.batch_execute(NAMED).await.map_err(|e| e.to_string())?;
            Ok::<_, String>(conn)
        };
        match tokio::time::timeout(self.acquire_timeout, opened).await {
            Ok(Ok(mut conn)) => {
                self.unreachable.reached();
                conn.set_instrumentation(Watch::new(&self.statements, &self.stats));
                Ok(conn)
            }
            Ok(Err(e)) => {
                self.unreachable.failed();
                Err(AppError::Unavailable(e))
            }
            Err(_) => {
                self.unreachable.failed();
                Err(AppError::Unavailable(
                    "the database did not answer in time".into(),
                ))
            }
        }
    }
}

impl AsyncLease {
    /// The span the reads on this lease run in.
    pub(super) fn span(&self) -> Span {
        self.span.clone()
    }

    /// The connection, for one read; pass what it came to to
    /// [`AsyncLease::settle`].
    pub(super) fn connection(&mut self) -> &mut AsyncPgConnection {
        // Set in `lease`, taken only by `drop`.
        self.conn.as_mut().expect("a lease holds its connection")
    }

    /// What a read came to, as the request's answer; `None` when the read
    /// should run again on the new connection this lease now holds.
    ///
    /// A read that finds its connection gone (the server restarted, or an
    /// administrator ended it) runs once more on a new connection: the
    /// connections idle in the pool went with the server, and a read can
    /// be repeated. When that fails too the answer is `Unavailable` (503).
    pub(super) async fn settle<T>(&mut self, read: QueryResult<T>) -> Option<Result<T, AppError>> {
        let answer = self.answer(read).await;
        if answer.is_ok() || !self.gone || self.retried {
            return Some(answer);
        }
        self.retried = true;
        match self.pool.connect().await {
            Ok(fresh) => {
                // The permit stays with the lease; the gone connection is
                // dropped here.
                self.conn = Some(fresh);
                self.gone = false;
                None
            }
            Err(e) => Some(Err(e)),
        }
    }

    /// A read that found the connection gone is `Unavailable`, and the
    /// connection is not lent again.
    async fn answer<T>(&mut self, read: QueryResult<T>) -> Result<T, AppError> {
        match read {
            Ok(found) => Ok(found),
            Err(e) if is_connection_lost(&e) => {
                self.gone = true;
                Err(e.into())
            }
            Err(e @ DieselError::DatabaseError(DatabaseErrorKind::Unknown, _)) => {
                // A server that ends a connection says why first (an
                // administrator's command, a shutdown): that error comes
                // before the connection is seen closed. One round trip
                // tells it from an error of the statement.
                if self.connection().batch_execute("SELECT 1").await.is_err() {
                    self.gone = true;
                    return Err(AppError::Unavailable(e.to_string()));
                }
                Err(e.into())
            }
            Err(e) => Err(e.into()),
        }
    }
}

impl Drop for AsyncLease {
    fn drop(&mut self) {
        let Some(mut conn) = self.conn.take() else {
            return;
        };
        // A read cut short (its request gone) may leave a statement
        // unanswered: the connection then is not handed out again.
        let reusable = !self.gone
            && !std::thread::panicking()
            && !Watch::lost_or_busy(conn.instrumentation())
            && !conn.is_broken();
        if reusable {
            self.home
                .idle
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(conn);
        }
    }
}
