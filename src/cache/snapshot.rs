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
    fn get(&self, clock: &TagClock, ttl: Duration) -> Option<Arc<T>> {
        let slot = self.slot.read().unwrap_or_else(|p| p.into_inner());
        let kept = slot.as_ref()?;
        (kept.at.elapsed() < ttl && clock.unchanged_since(&self.tags, kept.computed_from))
            .then(|| kept.value.clone())
    }

    /// The kept value while current, else what `load` reads, kept for
    /// the next reader. The clock is read before `load` runs: a write that
    /// lands during the read leaves the kept value stale, never current.
    pub fn get_or_load<E>(
        &self,
        clock: &TagClock,
        ttl: Duration,
        load: impl FnOnce() -> Result<T, E>,
    ) -> Result<Arc<T>, E> {
        if let Some(value) = self.get(clock, ttl) {
            return Ok(value);
        }
        let started = clock.now();
        let value = Arc::new(load()?);
        self.put(value.clone(), started);
        Ok(value)
    }

    /// [`Snapshot::get_or_load`] for a read that awaits (a hop to the
    /// database's threads, after choosing where to read).
    pub async fn get_or_read<E, F>(
        &self,
        clock: &TagClock,
        ttl: Duration,
        read: impl FnOnce() -> F,
    ) -> Result<Arc<T>, E>
    where
        F: std::future::Future<Output = Result<T, E>>,
    {
        if let Some(value) = self.get(clock, ttl) {
            return Ok(value);
        }
        let started = clock.now();
        let value = Arc::new(read().await?);
        self.put(value.clone(), started);
        Ok(value)
    }

    /// Keeps a value read from clock time `computed_from`.
    fn put(&self, value: Arc<T>, computed_from: u64) {
        let mut slot = self.slot.write().unwrap_or_else(|p| p.into_inner());
        *slot = Some(Kept {
            value,
            computed_from,
            at: Instant::now(),
        });
    }
}
