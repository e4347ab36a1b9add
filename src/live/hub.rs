//! A node's live-update hub: reads the change log after the last entry it
//! sent and broadcasts each change, with the article as it now is, to the
//! node's subscribers.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::broadcast;

use crate::cache::TagClock;
use crate::db::articles::{self, ArticleRow, Tombstone};
use crate::db::change_log::{self, Change, ChangeKind};
use crate::db::{AnyConnection, Database};
use crate::error::AppError;

/// Changes a slow subscriber may fall behind by before it misses some (it
/// is then told, and an SSE client resumes from the log).
const BACKLOG: usize = 4_096;

/// How far back the log is read again each round: a PostgreSQL
/// transaction may commit after one that took a later entry number.
const LOOKBACK: chrono::TimeDelta = chrono::TimeDelta::seconds(30);

/// Entries read per round.
const BATCH: i64 = 1_000;

/// One committed change, as subscribers get it.
#[derive(Debug, Clone)]
pub struct Event {
    /// Its entry in the change log: the SSE event id.
    pub seq: i64,
    pub kind: ChangeKind,
    pub article_id: Option<i32>,
    /// The article as it was when the hub read it (absent once deleted).
    pub article: Option<Arc<ArticleRow>>,
    /// For an article withdrawn by a legal hold: what partners need to
    /// delete their copy.
    pub tombstone: Option<Tombstone>,
    /// The recommendation list that changed.
    pub list: Option<String>,
}

/// The node's broadcast of changes.
pub struct Hub {
    sender: broadcast::Sender<Arc<Event>>,
    /// Every entry up to this one was read (those the lookback still reads
    /// again are in `recent`).
    sent: AtomicI64,
    recent: Mutex<Vec<i64>>,
}

impl Default for Hub {
    fn default() -> Self {
        Hub {
            sender: broadcast::channel(BACKLOG).0,
            sent: AtomicI64::new(-1),
            recent: Mutex::default(),
        }
    }
}

impl Hub {
    /// Changes from now on (subscribed at the call), skipping what a slow
    /// subscriber missed: it is behind by more than the hub keeps.
    pub fn events(&self) -> impl futures_util::Stream<Item = Arc<Event>> + Send + use<> {
        let receiver = self.sender.subscribe();
        futures_util::stream::unfold(receiver, |mut receiver| async move {
            loop {
                match receiver.recv().await {
                    Ok(event) => return Some((event, receiver)),
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "live updates: a subscriber fell behind");
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        })
    }

    /// How many receive the broadcast now.
    pub fn subscribers(&self) -> usize {
        self.sender.receiver_count()
    }

    /// The last entry sent (`-1` before the hub has read the log).
    pub fn sent(&self) -> i64 {
        self.sent.load(Ordering::Acquire)
    }

    /// Reads what the log holds beyond what was sent and sends it. The
    /// first round only notes where the log ends: subscribers hear what
    /// happens after they subscribe (an SSE client asks for the past by
    /// `Last-Event-ID`, see [`events_after`]).
    fn round(&self, conn: &mut AnyConnection) -> Result<(), AppError> {
        let sent = self.sent();
        if sent < 0 {
            self.sent
                .store(change_log::latest(conn)?, Ordering::Release);
            return Ok(());
        }
        let mut recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
        let since = crate::db::now() - LOOKBACK;
        let late = change_log::recent_up_to(conn, sent, since)?;
        recent.retain(|seq| late.iter().any(|c| c.seq == *seq));
        let mut fresh: Vec<Change> = late
            .into_iter()
            .filter(|c| !recent.contains(&c.seq))
            .collect();
        fresh.extend(change_log::after(conn, sent, BATCH)?);
        if fresh.is_empty() {
            return Ok(());
        }
        let newest = fresh.iter().map(|c| c.seq).fold(sent, i64::max);
        recent.extend(fresh.iter().map(|c| c.seq));
        self.sent.store(newest, Ordering::Release);
        for event in events_of(conn, fresh)? {
            // No subscriber is no error.
            let _ = self.sender.send(Arc::new(event));
        }
        Ok(())
    }
}

/// The events of the log after `seq` (a client resuming), at most `limit`;
/// `None` when the log no longer holds what followed `seq`.
pub fn events_after(
    conn: &mut AnyConnection,
    seq: i64,
    limit: i64,
) -> Result<Option<Vec<Event>>, AppError> {
    if change_log::oldest(conn)?.is_some_and(|oldest| oldest > seq + 1) {
        return Ok(None);
    }
    let changes = change_log::after(conn, seq, limit)?;
    events_of(conn, changes).map(Some)
}

/// The changes with their articles as they now are, in log order.
fn events_of(conn: &mut AnyConnection, changes: Vec<Change>) -> Result<Vec<Event>, AppError> {
    let mut ids: Vec<i32> = changes.iter().filter_map(|c| c.article_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let rows: Vec<Arc<ArticleRow>> = articles::by_ids(conn, &ids)?
        .into_iter()
        .map(Arc::new)
        .collect();
    let mut events = Vec::with_capacity(changes.len());
    for change in changes {
        let article = change
            .article_id
            .and_then(|id| rows.iter().find(|r| r.id == id).cloned());
        let tombstone = match (&article, change.kind) {
            (Some(row), ChangeKind::Removed) => articles::tombstone(conn, row)?,
            _ => None,
        };
        events.push(Event {
            seq: change.seq,
            kind: change.kind,
            article_id: change.article_id,
            article,
            tombstone,
            list: change.list_slug,
        });
    }
    Ok(events)
}

/// Keeps `hub` sending `db`'s changes: a round at each change `clock`
/// hears of (this node's commits, other nodes' notifications) and every
/// `poll` regardless (SQLite written by another process).
pub fn follow(hub: Arc<Hub>, db: &Database, clock: Arc<TagClock>, poll: Duration) {
    let db = db.clone();
    tokio::spawn(async move {
        loop {
            let reading = hub.clone();
            if let Err(error) = db.run(move |conn| reading.round(conn)).await {
                tracing::warn!(%error, "live updates: the change log could not be read; retrying");
            }
            tokio::select! {
                _ = clock.changed() => {}
                _ = tokio::time::sleep(poll) => {}
            }
        }
    });
}
