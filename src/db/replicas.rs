//! Anonymous reads from PostgreSQL replicas (`DATABASE_READ_URL`), never
//! older than what this node knows has changed.
//!
//! Every change this node commits or hears of from another node (through
//! [`super::notify`]) raises the *known position*: the primary's WAL
//! position right after that change. A replica serves a read only when it
//! has replayed at least that far; otherwise the read goes to the primary.
//! So a response computed after a purge never reflects the state before the
//! change that caused it, and a client that reads after it wrote sees its
//! write. Requests with credentials always read from the primary.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use diesel::r2d2;
use diesel::sql_types::Text;
use diesel::{PgConnection, QueryableByName, RunQueryDsl};

use super::pool::{ConnectionManager, FailFast, PoolOptions, Queue, StatementCounter};
use super::pool_stats::PoolStats;
use super::{AnyConnection, DatabaseUrl};

/// The replicas of one primary.
#[derive(Default)]
pub struct Replicas {
    list: Vec<Replica>,
    /// The newest primary WAL position this node knows a change at.
    known: AtomicU64,
    next: AtomicUsize,
    /// Reads sent to a replica / to the primary because none had caught up.
    pub served: AtomicU64,
    pub fell_back: AtomicU64,
}

pub(super) struct Replica {
    pub(super) pool: r2d2::Pool<ConnectionManager>,
    /// Where it had replayed to when last asked.
    replayed: AtomicU64,
    pub(super) unreachable: FailFast,
    pub(super) queue: Queue,
}

impl Replicas {
    pub fn new(
        urls: &[DatabaseUrl],
        options: &PoolOptions,
        statements: &Arc<StatementCounter>,
    ) -> Self {
        let list = urls
            .iter()
            .enumerate()
            .map(|(n, url)| {
                let stats = PoolStats::new(&format!("replica{}", n + 1));
                Replica {
                    pool: super::pool::build_pool(url, options, statements, &stats),
                    replayed: AtomicU64::new(0),
                    unreachable: FailFast::default(),
                    queue: Queue::new(options, stats),
                }
            })
            .collect();
        Replicas {
            list,
            ..Replicas::default()
        }
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub(super) fn get(&self, index: usize) -> Option<&Replica> {
        self.list.get(index)
    }

    pub(super) fn pools(&self) -> &[Replica] {
        &self.list
    }

    /// Records a change at this primary position.
    pub fn raise_known(&self, lsn: u64) {
        self.known.fetch_max(lsn, Ordering::SeqCst);
    }

    /// A replica known to have replayed every change this node knows of,
    /// taking turns between them.
    pub(super) fn caught_up(&self) -> Option<usize> {
        let known = self.known.load(Ordering::SeqCst);
        let n = self.list.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        (0..n).map(|k| (start + k) % n).find(|&i| {
            let replica = &self.list[i];
            replica.replayed.load(Ordering::SeqCst) >= known && replica.unreachable.check().is_ok()
        })
    }

    /// Asks the replicas how far they have replayed, until one has caught
    /// up; blocking.
    pub(super) fn ask(&self) -> Option<usize> {
        let known = self.known.load(Ordering::SeqCst);
        for (i, replica) in self.list.iter().enumerate() {
            let Ok(mut conn) = replica.unreachable.get(&replica.pool) else {
                continue;
            };
            let AnyConnection::Postgresql(pg) = &mut *conn else {
                continue;
            };
            if let Some(lsn) = replayed(pg) {
                replica.replayed.fetch_max(lsn, Ordering::SeqCst);
                if lsn >= known {
                    return Some(i);
                }
            }
        }
        None
    }
}

#[derive(QueryableByName)]
struct Position {
    #[diesel(sql_type = Text)]
    lsn: String,
}

/// The primary's current WAL position.
pub fn current(conn: &mut PgConnection) -> Option<u64> {
    diesel::sql_query("SELECT pg_current_wal_lsn()::text AS lsn")
        .get_result::<Position>(conn)
        .ok()
        .and_then(|p| parse_lsn(&p.lsn))
}

/// How far a replica has replayed (a primary named as a replica is always
/// current).
fn replayed(conn: &mut PgConnection) -> Option<u64> {
    diesel::sql_query(
        "SELECT COALESCE(pg_last_wal_replay_lsn(), pg_current_wal_lsn())::text AS lsn",
    )
    .get_result::<Position>(conn)
    .ok()
    .and_then(|p| parse_lsn(&p.lsn))
}

/// `16/B374D848` → a number that orders like the position.
pub fn parse_lsn(text: &str) -> Option<u64> {
    let (high, low) = text.trim().split_once('/')?;
    let high = u64::from_str_radix(high, 16).ok()?;
    let low = u64::from_str_radix(low, 16).ok()?;
    Some((high << 32) | low)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wal_positions_order_by_both_halves() {
        assert_eq!(parse_lsn("0/0"), Some(0));
        assert_eq!(parse_lsn("0/16B3748"), Some(0x16B3748));
        assert!(parse_lsn("1/0") > parse_lsn("0/FFFFFFFF"));
        assert_eq!(parse_lsn("nonsense"), None);
    }

    #[test]
    fn a_replica_serves_only_when_it_has_replayed_what_is_known() {
        let replicas = Replicas {
            list: Vec::new(),
            ..Replicas::default()
        };
        assert_eq!(replicas.caught_up(), None, "no replicas, no replica");
        replicas.raise_known(10);
        replicas.raise_known(5);
        assert_eq!(replicas.known.load(Ordering::SeqCst), 10, "never goes back");
    }
}
