use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use super::TagClock;
use crate::domain::CacheKey;

/// One site-wide value every request reads (settings, section tree,
/// notices), kept between requests until a write touches one of its tags or
/// `ttl` passes (a change made by another process).
#[derive(Debug)]
pub struct Snapshot<T> {
    tags: Vec<CacheKey>,
    slot: RwLock<Option<Kept<T>>>,
}

#[derive(Debug)]
struct Kept<T> {
    value: Arc<T>,
    computed_from: u64,
    at: Instant,
}

impl<T> Snapshot<T> {
    pub fn new(tags: impl IntoIterator<Item = CacheKey>) -> Self {
        Snapshot {
            tags: tags.into_iter().collect(),
            slot: RwLock::new(None),
        }
    }

    /// The kept value, if still current.
    pub fn get(&self, clock: &TagClock, ttl: Duration) -> Option<Arc<T>> {
        let slot = self.slot.read().unwrap_or_else(|p| p.into_inner());
        let kept = slot.as_ref()?;
        (kept.at.elapsed() < ttl && clock.unchanged_since(&self.tags, kept.computed_from))
            .then(|| kept.value.clone())
    }

    /// Keeps a value read from clock time `computed_from`.
    pub fn put(&self, value: Arc<T>, computed_from: u64) {
        let mut slot = self.slot.write().unwrap_or_else(|p| p.into_inner());
        *slot = Some(Kept {
            value,
            computed_from,
            at: Instant::now(),
        });
    }
}
