use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;

use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::web::Bytes;

use super::TagClock;
use crate::domain::CacheKey;

/// A response as it was sent.
#[derive(Debug)]
pub struct CachedResponse {
    pub status: StatusCode,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body: Bytes,
    tags: Vec<CacheKey>,
    computed_from: u64,
}

/// Bounded by the bytes it holds; `None` inside when switched off.
#[derive(Clone)]
pub struct ResponseCache {
    entries: Option<moka::sync::Cache<u64, Arc<CachedResponse>>>,
    clock: Arc<TagClock>,
}

impl std::fmt::Debug for ResponseCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseCache")
            .field("enabled", &self.entries.is_some())
            .finish()
    }
}

/// Bytes an entry costs beside its body (headers, tags, bookkeeping).
const ENTRY_OVERHEAD: usize = 512;

impl ResponseCache {
    /// `max_bytes` 0 switches the cache off.
    pub fn new(max_bytes: u64, ttl: Duration, clock: Arc<TagClock>) -> Self {
        let entries = (max_bytes > 0 && !ttl.is_zero()).then(|| {
            moka::sync::Cache::builder()
                .max_capacity(max_bytes)
                .weigher(|_, v: &Arc<CachedResponse>| {
                    let weight = v.body.len()
                        + ENTRY_OVERHEAD
                        + v.tags.len() * std::mem::size_of::<CacheKey>();
                    u32::try_from(weight).unwrap_or(u32::MAX)
                })
                .time_to_live(ttl)
                .build()
        });
        ResponseCache { entries, clock }
    }

    /// Entries and weighed bytes held, once pending evictions have run.
    pub fn size(&self) -> (u64, u64) {
        self.entries.as_ref().map_or((0, 0), |e| {
            e.run_pending_tasks();
            (e.entry_count(), e.weighted_size())
        })
    }

    pub fn enabled(&self) -> bool {
        self.entries.is_some()
    }

    /// A key from the parts that make a response.
    pub fn key(parts: &[&[u8]]) -> u64 {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        for part in parts {
            part.hash(&mut hasher);
        }
        hasher.finish()
    }

    /// The clock entries are checked against (site snapshots use it too).
    pub fn clock(&self) -> &TagClock {
        &self.clock
    }

    /// The current time of the tag clock: take it before computing a response.
    pub fn begin(&self) -> u64 {
        self.clock.now()
    }

    /// The entry, if none of its tags changed since it was computed.
    pub fn get(&self, key: u64) -> Option<Arc<CachedResponse>> {
        let entries = self.entries.as_ref()?;
        let entry = entries.get(&key)?;
        if self.clock.unchanged_since(&entry.tags, entry.computed_from) {
            Some(entry)
        } else {
            entries.invalidate(&key);
            None
        }
    }

    /// Keeps a response computed from clock time `computed_from`.
    pub fn put(
        &self,
        key: u64,
        computed_from: u64,
        status: StatusCode,
        headers: Vec<(HeaderName, HeaderValue)>,
        body: Bytes,
        tags: Vec<CacheKey>,
    ) {
        let Some(entries) = &self.entries else {
            return;
        };
        // Already stale: a write committed while it was computed.
        if !self.clock.unchanged_since(&tags, computed_from) {
            return;
        }
        entries.insert(
            key,
            Arc::new(CachedResponse {
                status,
                headers,
                body,
                tags,
                computed_from,
            }),
        );
    }
}
