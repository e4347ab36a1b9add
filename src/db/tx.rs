//! A write in progress: one transaction, what it changes, and its audit
//! trail. Writes run through [`Database::transact`](super::Database::transact),
//! which commits the work, its audit events and its announcements together
//! (see [`super::changes`]).

use diesel::Connection;

use super::audit::{self, Actor, Event};
use super::changes::{Changes, Hooks};
use super::{notify, placements, webhooks, AnyConnection};
use crate::domain::CacheKey;
use crate::error::AppError;

/// The connection inside its transaction, the changes it has named so far
/// and the audit events to write with them.
pub struct Tx<'c> {
    conn: &'c mut AnyConnection,
    actor: &'c Actor,
    changes: Changes,
    audit: Vec<Event<'static>>,
}

impl<'c> Tx<'c> {
    /// The connection, inside the transaction.
    pub fn conn(&mut self) -> &mut AnyConnection {
        self.conn
    }

    /// Who makes the change.
    pub fn actor(&self) -> &'c Actor {
        self.actor
    }

    /// Records an audit event of this change; it is written with it.
    pub fn audit(&mut self, event: Event<'static>) {
        self.audit.push(event);
    }

    /// Names cache keys the change touches: once it commits, their cached
    /// responses are forgotten here, on the other nodes and at the CDN.
    pub fn touch(&mut self, keys: impl IntoIterator<Item = CacheKey>) {
        self.changes.touch(keys);
    }

    /// Names an article whose text or public visibility the change may alter
    /// (the search index follows it in the same transaction).
    pub fn article_changed(&mut self, id: i32) {
        self.changes.article(id);
    }
}

/// Runs `work` as one transaction on `conn`, with its audit events, the
/// hooks that commit with it, the CDN purge and the notification to the
/// other nodes; returns what it changed once committed.
pub(super) fn run<T>(
    conn: &mut AnyConnection,
    actor: &Actor,
    hooks: &Hooks,
    work: impl FnOnce(&mut Tx<'_>) -> Result<T, AppError>,
) -> Result<(T, Changes), AppError> {
    conn.transaction(|conn| {
        let mut tx = Tx {
            conn,
            actor,
            changes: Changes::default(),
            audit: Vec::new(),
        };
        let value = work(&mut tx)?;
        let Tx {
            conn,
            changes,
            audit,
            ..
        } = tx;
        for event in audit {
            audit::record(conn, actor, event)?;
        }
        // Where the changed articles show follows their rows, in the same
        // transaction (see `placements`).
        for id in changes.articles() {
            placements::refresh(conn, *id)?;
        }
        hooks.before_commit(conn, &changes)?;
        if !changes.keys().is_empty() {
            webhooks::purge(conn, changes.keys())?;
            notify::publish(conn, changes.keys())?;
        }
        Ok((value, changes))
    })
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use super::*;
    use crate::db::audit::AuditQuery;
    use crate::db::pool::PoolOptions;
    use crate::db::{migrations, Database, DatabaseUrl};

    fn system() -> Actor {
        Actor {
            user_id: None,
            role: "system".into(),
            request_id: None,
            idempotency: None,
        }
    }

    fn site_update() -> Event<'static> {
        Event::action("site.update", "site", Some(1), serde_json::json!({}))
    }

    async fn audited(db: &Database) -> i64 {
        let q = AuditQuery {
            action: Some("site.update".into()),
            ..AuditQuery::default()
        };
        db.run(move |conn| audit::count(conn, &q))
            .await
            .expect("count")
    }

    #[tokio::test]
    async fn listeners_hear_a_transaction_only_once_it_has_committed() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let url = DatabaseUrl::Sqlite(dir.path().join("n.db").display().to_string());
        let db = Database::new(
            url,
            &PoolOptions {
                max_size: 2,
                acquire_timeout: Duration::from_secs(5),
                statement_timeout: None,
                allow_unsafe_durability: false,
                sqlite_synchronous: Default::default(),
            },
        );
        db.write(migrations::run_pending).await.expect("migrations");
        let heard: Arc<Mutex<Vec<Changes>>> = Arc::default();
        let indexed: Arc<Mutex<Vec<i32>>> = Arc::default();
        let (h, i) = (heard.clone(), indexed.clone());
        db.after_commit(move |_, changes| h.lock().expect("heard").push(changes.clone()));
        db.before_commit(move |_, changes| {
            i.lock().expect("indexed").extend(changes.articles());
            Ok(())
        });

        let refused = db
            .transact(system(), |tx| {
                tx.touch([CacheKey::Site]);
                tx.audit(site_update());
                Err::<(), _>(AppError::Conflict("refused".into()))
            })
            .await;
        assert!(refused.is_err());
        assert!(heard.lock().expect("heard").is_empty(), "nothing committed");
        assert_eq!(audited(&db).await, 0);

        db.transact(system(), |tx| {
            tx.touch([CacheKey::Site, CacheKey::Article(7), CacheKey::Site]);
            tx.article_changed(7);
            tx.audit(site_update());
            Ok(())
        })
        .await
        .expect("committed");
        let heard_now = heard.lock().expect("heard").clone();
        assert_eq!(heard_now.len(), 1);
        assert_eq!(heard_now[0].keys(), [CacheKey::Site, CacheKey::Article(7)]);
        assert_eq!(*indexed.lock().expect("indexed"), [7]);
        assert_eq!(audited(&db).await, 1);

        db.before_commit(|_, _| Err(AppError::Internal("the index failed".into())));
        let failed = db
            .transact(system(), |tx| {
                tx.touch([CacheKey::Site]);
                tx.audit(site_update());
                Ok(())
            })
            .await;
        assert!(failed.is_err());
        assert_eq!(heard.lock().expect("heard").len(), 1, "rolled back");
        assert_eq!(audited(&db).await, 1);
    }
}
