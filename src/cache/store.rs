use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use moka::notification::RemovalCause;

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
    stats: Arc<CacheStats>,
}

/// What the cache has done, for `/metrics`.
#[derive(Debug, Default)]
pub struct CacheStats {
    /// Lookups answered from the cache.
    pub hits: AtomicU64,
    /// Lookups that found nothing.
    pub misses: AtomicU64,
    /// Lookups that found an entry a write had made stale (then dropped).
    pub stale: AtomicU64,
    /// Entries pushed out to stay within the byte budget.
    pub evicted_for_size: AtomicU64,
    /// Entries dropped at the end of their time to live.
    pub expired: AtomicU64,
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
        let stats = Arc::new(CacheStats::default());
        let evictions = stats.clone();
        let entries = (max_bytes > 0 && !ttl.is_zero()).then(|| {
            moka::sync::Cache::builder()
                .eviction_listener(move |_, _, cause| {
                    let counter = match cause {
                        RemovalCause::Size => &evictions.evicted_for_size,
                        RemovalCause::Expired => &evictions.expired,
                        RemovalCause::Explicit | RemovalCause::Replaced => return,
                    };
                    counter.fetch_add(1, Ordering::Relaxed);
                })
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
        ResponseCache {
            entries,
            clock,
            stats,
        }
    }

    /// What the cache has done since it was made.
    pub fn stats(&self) -> Arc<CacheStats> {
        self.stats.clone()
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

    /// The clock itself, for a reader that outlives this handle.
    pub fn clock_handle(&self) -> Arc<TagClock> {
        self.clock.clone()
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
        let Some(entry) = entries.get(&key) else {
            self.stats.misses.fetch_add(1, Ordering::Relaxed);
            return None;
        };
        if self.clock.unchanged_since(&entry.tags, entry.computed_from) {
            self.stats.hits.fetch_add(1, Ordering::Relaxed);
            Some(entry)
        } else {
            self.stats.stale.fetch_add(1, Ordering::Relaxed);
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
