//! Forgetting old entries of the change log (live updates) and the search
//! log, which every write adds to: entries older than
//! `NEWSDESK_LOG_RETENTION_HOURS` go, the newest of each log always stays.
//! A node that was stopped for longer rebuilds its search index when it
//! starts; an event-stream client resuming from before what is kept gets a
//! `reset` event. Every node runs the job; forgetting twice is harmless.

use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::Connection;

use crate::db::{change_log, search_log, AnyConnection, Database};
use crate::error::AppError;

/// How often the logs are pruned.
const EVERY: Duration = Duration::from_secs(600);

/// Forgets what both logs logged before `before`, in one transaction;
/// returns how many entries of each went (change log, search log).
pub fn forget_before(
    conn: &mut AnyConnection,
    before: NaiveDateTime,
) -> Result<(usize, usize), AppError> {
    conn.transaction(|conn| {
        Ok((
            change_log::forget_before(conn, before)?,
            search_log::forget_before(conn, before)?,
        ))
    })
}

/// Prunes the logs every ten minutes, keeping `retention`; a retention of
/// zero keeps everything.
pub fn spawn(database: Database, retention: Duration) {
    let Ok(retention) = chrono::TimeDelta::from_std(retention) else {
        return;
    };
    if retention.is_zero() {
        return;
    }
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(EVERY).await;
            let before = crate::db::now() - retention;
            match database
                .write(move |conn| forget_before(conn, before))
                .await
            {
                Ok((changes, searches)) if changes + searches > 0 => {
                    tracing::info!(changes, searches, "forgot old log entries")
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "cannot forget old log entries"),
            }
        }
    });
}
