//! A write in progress: one transaction, what it changes, and its audit
//! trail. Writes run through [`Database::transact`](super::Database::transact),
//! which commits the work, its audit events and its announcements together
//! (see [`super::changes`]).

use diesel::Connection;

use super::audit::{self, Actor, Event};
use super::changes::{Changes, Hooks};
use super::{notify, webhooks, AnyConnection};
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
        hooks.before_commit(conn, &changes)?;
        if !changes.keys().is_empty() {
            webhooks::purge(conn, changes.keys())?;
            notify::publish(conn, changes.keys())?;
        }
        Ok((value, changes))
    })
}
