//! A node's search index follows the database: rebuilt in the background
//! when it is missing, then applying the search log every round; the node
//! that writes brings its own index up to date before the write returns.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::engine::SearchIndex;
use crate::db::Database;

/// Opens the index in `folder` (in memory when `None`). A folder that
/// cannot be used — another process holds it, it cannot be written — leaves
/// this node an index in memory, rebuilt from the database: search works,
/// and the log says why.
pub fn open_index(folder: Option<&Path>) -> Arc<SearchIndex> {
    match SearchIndex::open(folder) {
        Ok(index) => Arc::new(index),
        Err(error) => {
            tracing::warn!(%error, "search index: using one in memory instead");
            match SearchIndex::open(None) {
                Ok(index) => Arc::new(index),
                // An index in memory needs nothing but memory.
                Err(error) => panic!("search index in memory: {error}"),
            }
        }
    }
}

/// Brings `index` up to date on the node that writes, before the write
/// returns. Register it before anything else hears of `db`'s commits (the
/// cache's clock): a response computed after a write's purge then already
/// finds the change.
pub fn refresh_on_commit(index: Arc<SearchIndex>, db: &Database) {
    db.after_commit(move |conn, changes| {
        // While the index rebuilds, the log brings it up to date after.
        if changes.articles().is_empty() || !index.is_complete() {
            return;
        }
        if let Err(error) = index.refresh(conn, changes.articles()) {
            tracing::warn!(%error, "search index: a change waits for the next round");
        }
    });
}

/// Keeps `index` in step with `db` in the background: rebuilds it while it
/// is not complete, then applies the search log every `poll`, calling
/// `applied` with the articles each round changed (the cache forgets the
/// responses that showed them).
pub fn follow(
    index: Arc<SearchIndex>,
    db: &Database,
    poll: Duration,
    applied: impl Fn(&[i32]) + Send + Sync + 'static,
) {
    let db = db.clone();
    tokio::spawn(async move {
        loop {
            if index.is_complete() {
                let following = index.clone();
                match db.run(move |conn| following.catch_up(conn)).await {
                    Ok(ids) if !ids.is_empty() => applied(&ids),
                    Ok(_) => {}
                    Err(error) => {
                        tracing::warn!(%error, "search index: the log could not be applied; retrying")
                    }
                }
                tokio::time::sleep(poll).await;
                continue;
            }
            let rebuilding = index.clone();
            let started = std::time::Instant::now();
            let rebuilt = db
                .run(move |conn| {
                    rebuilding.rebuild(conn, |done, total| {
                        tracing::debug!(done, total, "search index: rebuilding");
                    })
                })
                .await;
            match rebuilt {
                Ok(articles) => tracing::info!(
                    articles,
                    seconds = started.elapsed().as_secs_f64(),
                    "search index: rebuilt"
                ),
                Err(error) => {
                    tracing::warn!(%error, "search index: rebuild failed; searching the database meanwhile");
                    tokio::time::sleep(REBUILD_RETRY).await;
                }
            }
        }
    });
}

/// Takes up the index's folder if it was built from `db`; else, when the
/// site is small enough to rebuild in a moment, rebuilds it now, so that
/// the server answers from the index from its first request. A larger
/// site is rebuilt by [`follow`] in the background while the database
/// answers searches.
pub async fn prepare(index: &Arc<SearchIndex>, db: &Database) {
    let resuming = index.clone();
    match db.run(move |conn| resuming.resume(conn)).await {
        Ok(true) => {
            tracing::info!(
                applied = index.applied(),
                "search index: catching up from the log"
            );
            return;
        }
        Ok(false) => {}
        Err(error) => {
            tracing::warn!(%error, "search index: cannot tell its database; rebuilding");
            return;
        }
    }
    let rebuilding = index.clone();
    let rebuilt = db
        .run(move |conn| {
            if crate::db::search_log::count_documents(conn)? > REBUILD_AT_START {
                return Ok(None);
            }
            rebuilding.rebuild(conn, |_, _| {}).map(Some)
        })
        .await;
    match rebuilt {
        Ok(Some(articles)) => tracing::info!(articles, "search index: built"),
        Ok(None) => {
            tracing::info!("search index: none for this database; rebuilding in the background")
        }
        Err(error) => {
            tracing::warn!(%error, "search index: not built; rebuilding in the background")
        }
    }
}

/// The most articles an index is rebuilt for before the server starts
/// (well under a second); past it the rebuild runs in the background.
const REBUILD_AT_START: i64 = 20_000;

/// How long a failed rebuild waits before the next try.
const REBUILD_RETRY: Duration = Duration::from_secs(5);
