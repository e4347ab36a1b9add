use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use crate::db::Database;
use crate::domain::CacheKey;

/// When each tag last changed, on a counter that only goes up.
#[derive(Debug, Default)]
pub struct TagClock {
    now: AtomicU64,
    changed_at: RwLock<HashMap<CacheKey, u64>>,
    /// When every tag last changed at once (a node that may have missed
    /// another node's changes forgets everything).
    all_changed_at: AtomicU64,
    /// Wakes the one follower of changes (the live-update hub) at each.
    changed: tokio::sync::Notify,
}

impl TagClock {
    /// A clock that advances for every change `db` commits, before the
    /// write returns.
    pub fn following(db: &Database) -> Arc<TagClock> {
        let clock = Arc::new(TagClock::default());
        let advanced = clock.clone();
        db.after_commit(move |_, changes| advanced.advance(changes.keys()));
        clock
    }

    /// The current time; a response computed from here on is at least this fresh.
    pub fn now(&self) -> u64 {
        self.now.load(Ordering::SeqCst)
    }

    /// Marks these tags changed (call after the write committed).
    pub fn advance(&self, tags: &[CacheKey]) {
        if tags.is_empty() {
            return;
        }
        let mut changed = self
            .changed_at
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // Under the lock, so a reader never sees the new time without the tags.
        let at = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        for tag in tags {
            changed.insert(tag.clone(), at);
        }
        self.changed.notify_one();
    }

    /// Marks every tag changed.
    pub fn advance_all(&self) {
        let _changed = self
            .changed_at
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let at = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.all_changed_at.store(at, Ordering::SeqCst);
        self.changed.notify_one();
    }

    /// Returns at the next change (this node's write or another node's
    /// heard), or at once if one came since the last call. For one waiter.
    pub async fn changed(&self) {
        self.changed.notified().await;
    }

    /// Whether a response computed from `since` that depends on `tags` is current.
    pub fn unchanged_since(&self, tags: &[CacheKey], since: u64) -> bool {
        let changed = self
            .changed_at
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if since < self.all_changed_at.load(Ordering::SeqCst) {
            return false;
        }
        tags.iter()
            .all(|t| changed.get(t).is_none_or(|at| *at <= since))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_response_started_before_a_change_of_its_tag_is_stale() {
        let clock = TagClock::default();
        let started = clock.now();
        let tags = vec![CacheKey::Article(1)];
        assert!(clock.unchanged_since(&tags, started));
        clock.advance(&[CacheKey::Article(2)]);
        assert!(
            clock.unchanged_since(&tags, started),
            "another article changed"
        );
        clock.advance(&tags);
        assert!(!clock.unchanged_since(&tags, started));
        assert!(
            clock.unchanged_since(&tags, clock.now()),
            "computed after the change"
        );
    }

    #[test]
    fn advancing_everything_makes_every_older_response_stale() {
        let clock = TagClock::default();
        let started = clock.now();
        clock.advance_all();
        assert!(!clock.unchanged_since(&[CacheKey::Site], started));
        assert!(!clock.unchanged_since(&[], started), "even an untagged one");
        assert!(clock.unchanged_since(&[CacheKey::Site], clock.now()));
    }
}
