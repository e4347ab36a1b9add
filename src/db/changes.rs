//! What a transaction changed, and who hears of it.
//!
//! A write names, through its [`Tx`](super::Tx), the cache keys it changes
//! and the articles whose text or visibility it changes. Inside the same
//! transaction the storage layer then runs the hooks that must commit with
//! the change (registered with [`Database::before_commit`]: the search index
//! today), queues the CDN purge and tells the other nodes
//! ([`super::notify`]). Once the transaction has committed it records the
//! primary's WAL position for the replicas and calls the hooks registered
//! with [`Database::after_commit`] (the response cache's clock), all before
//! the write returns: the request that commits a withdrawal answers only
//! after every cached copy has become unservable.
//!
//! The hooks are how storage announces changes without knowing who
//! listens: it depends on neither the cache nor the search index.
//!
//! [`Database::before_commit`]: super::Database::before_commit
//! [`Database::after_commit`]: super::Database::after_commit

use std::sync::{Arc, PoisonError, RwLock};

use super::AnyConnection;
use crate::domain::CacheKey;
use crate::error::AppError;

/// What one transaction changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    keys: Vec<CacheKey>,
    articles: Vec<i32>,
}

impl Changes {
    /// The cache keys it changed, each once, in the order first named.
    pub fn keys(&self) -> &[CacheKey] {
        &self.keys
    }

    /// The articles whose text or public visibility it may have changed.
    pub fn articles(&self) -> &[i32] {
        &self.articles
    }

    /// Whether it changed nothing anyone follows.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty() && self.articles.is_empty()
    }

    pub(super) fn touch(&mut self, keys: impl IntoIterator<Item = CacheKey>) {
        for key in keys {
            if !self.keys.contains(&key) {
                self.keys.push(key);
            }
        }
    }

    pub(super) fn article(&mut self, id: i32) {
        if !self.articles.contains(&id) {
            self.articles.push(id);
        }
    }
}

/// Work that commits with every change, given what the transaction changed;
/// an error rolls the transaction back.
pub type BeforeCommit = dyn Fn(&mut AnyConnection, &Changes) -> Result<(), AppError> + Send + Sync;

/// Hears what a transaction changed once it has committed, on the
/// connection that committed it (outside any transaction).
pub type AfterCommit = dyn Fn(&mut AnyConnection, &Changes) + Send + Sync;

/// The hooks of one database, shared by its clones.
#[derive(Default)]
pub(super) struct Hooks {
    before: RwLock<Vec<Arc<BeforeCommit>>>,
    after: RwLock<Vec<Arc<AfterCommit>>>,
}

impl Hooks {
    pub(super) fn add_before(&self, hook: Arc<BeforeCommit>) {
        self.before
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .push(hook);
    }

    pub(super) fn add_after(&self, hook: Arc<AfterCommit>) {
        self.after
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .push(hook);
    }

    /// Runs the hooks that commit with `changes`; call inside the transaction.
    pub(super) fn before_commit(
        &self,
        conn: &mut AnyConnection,
        changes: &Changes,
    ) -> Result<(), AppError> {
        // Copied out, so no lock is held while a hook writes.
        let hooks = self
            .before
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        hooks.iter().try_for_each(|hook| hook(conn, changes))
    }

    /// Tells the listeners what committed.
    pub(super) fn after_commit(&self, conn: &mut AnyConnection, changes: &Changes) {
        let hooks = self
            .after
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        for hook in &hooks {
            hook(conn, changes);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_change_is_named_once_in_the_order_first_named() {
        let mut changes = Changes::default();
        assert!(changes.is_empty());
        changes.touch([
            CacheKey::Article(1),
            CacheKey::Section(2),
            CacheKey::Section(2),
        ]);
        changes.touch([CacheKey::Articles, CacheKey::Article(1)]);
        changes.article(1);
        changes.article(1);
        assert_eq!(
            changes.keys(),
            [
                CacheKey::Article(1),
                CacheKey::Section(2),
                CacheKey::Articles
            ]
        );
        assert_eq!(changes.articles(), [1]);
    }
}
