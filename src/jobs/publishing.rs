//! Scheduled articles go live: visibility already follows `published_at`,
//! and this job makes the change an event like any other publication: a
//! revision, an audit entry by the `scheduler`, the `article.published`
//! webhook and the cache purge that other nodes hear.

use std::time::Duration;

use crate::db::article_writes;
use crate::db::audit::Actor;
use crate::db::{self, Database};
use crate::error::AppError;

/// At most this many articles per round.
const BATCH: i64 = 50;

fn scheduler() -> Actor {
    Actor {
        user_id: None,
        role: "scheduler".into(),
        request_id: None,
        idempotency: None,
    }
}

/// Publishes due articles every `poll`, until the runtime stops.
pub fn spawn(database: Database, poll: Duration) {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(poll).await;
            if let Err(error) = publish_due(&database).await {
                tracing::warn!(%error, "scheduled publication failed; retrying next round");
            }
        }
    });
}

/// One round; returns how many articles this node published.
pub async fn publish_due(database: &Database) -> Result<usize, AppError> {
    let now = db::now();
    let due = database
        .run(move |conn| article_writes::scheduled_due(conn, now, BATCH))
        .await?;
    let mut published = 0;
    for (id, revision) in due {
        let outcome = database
            .transact(scheduler(), move |tx| {
                article_writes::publish_scheduled(tx, id, revision, now)
            })
            .await;
        match outcome {
            Ok(_) => {
                tracing::info!(article.id = id, "scheduled article published");
                published += 1;
            }
            // Another node published it first, or it is no longer due.
            Err(AppError::Conflict(_)) => {}
            Err(other) => return Err(other),
        }
    }
    Ok(published)
}
