//! Request counts per key and minute (client addresses, accounts, partner
//! keys): in this process by default, or in Redis shared by every node when
//! `NEWSDESK_REDIS_URL` is set, so that N nodes do not allow N times the
//! limit.
//!
//! Redis counts fixed one-minute windows (`INCR` + `EXPIRE`, one round
//! trip). When Redis does not answer within [`REDIS_BUDGET`], the node
//! counts in process for that request: a Redis outage loosens the limit to
//! per node, it never stops the API.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use redis::aio::ConnectionManager;

/// The longest a request waits for Redis.
pub(crate) const REDIS_BUDGET: Duration = Duration::from_millis(100);

/// Where the counts of one kind of key live.
pub struct RateLimits {
    /// `client`, `account`, `partner`: part of the Redis key.
    scope: &'static str,
    local: RateWindow,
    shared: Option<SharedCounts>,
}

/// Counts in Redis, under `prefix`.
#[derive(Clone)]
pub struct SharedCounts {
    pub connection: ConnectionManager,
    pub prefix: String,
}

impl std::fmt::Debug for RateLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimits")
            .field("scope", &self.scope)
            .field("shared", &self.shared.is_some())
            .finish()
    }
}

impl RateLimits {
    pub fn new(scope: &'static str, shared: Option<SharedCounts>) -> Self {
        RateLimits {
            scope,
            local: RateWindow::default(),
            shared,
        }
    }

    /// Counts a request of `key`; `Err(seconds)` to wait when over `per_minute`.
    pub async fn hit(&self, key: &str, per_minute: u32) -> Result<(), u64> {
        if let Some(shared) = &self.shared {
            match tokio::time::timeout(REDIS_BUDGET, self.shared_hit(shared, key, per_minute)).await
            {
                Ok(Ok(verdict)) => return verdict,
                Ok(Err(error)) => {
                    tracing::warn!(%error, "rate limits: Redis failed; counting in process")
                }
                Err(_) => tracing::warn!("rate limits: Redis too slow; counting in process"),
            }
        }
        self.local.hit(key, per_minute)
    }

    async fn shared_hit(
        &self,
        shared: &SharedCounts,
        key: &str,
        per_minute: u32,
    ) -> redis::RedisResult<Result<(), u64>> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let minute = now / 60;
        let counter = format!("{}:rate:{}:{key}:{minute}", shared.prefix, self.scope);
        let mut connection = shared.connection.clone();
        let (count,): (u64,) = redis::pipe()
            .atomic()
            .incr(&counter, 1u64)
            .expire(&counter, 120)
            .ignore()
            .query_async(&mut connection)
            .await?;
        Ok(if count > u64::from(per_minute) {
            Err((60 - now % 60).max(1))
        } else {
            Ok(())
        })
    }
}

/// Connects to Redis for shared counts.
pub async fn connect(url: &str, prefix: &str) -> Result<SharedCounts, String> {
    let client = redis::Client::open(url).map_err(|e| e.to_string())?;
    let connection = tokio::time::timeout(Duration::from_secs(3), client.get_connection_manager())
        .await
        .map_err(|_| "no answer within 3 s".to_string())?
        .map_err(|e| e.to_string())?;
    Ok(SharedCounts {
        connection,
        prefix: prefix.to_string(),
    })
}

/// Keys a window keeps before it drops those whose minute has passed.
pub(super) const MAX_KEYS: usize = 100_000;

/// Fixed one-minute windows of requests per key (partner keys, client
/// addresses, accounts), in this process.
#[derive(Debug, Default)]
pub struct RateWindow {
    counts: Mutex<HashMap<String, (u32, Instant)>>,
}

impl RateWindow {
    /// Counts a request of `key`; `Err(seconds)` to wait when over `per_minute`.
    pub fn hit(&self, key: &str, per_minute: u32) -> Result<(), u64> {
        let Ok(mut map) = self.counts.lock() else {
            return Ok(());
        };
        // Many one-off keys (client addresses) must not grow the map forever.
        if map.len() >= MAX_KEYS {
            map.retain(|_, (_, since)| since.elapsed() < Duration::from_secs(60));
        }
        let entry = map.entry(key.to_string()).or_insert((0, Instant::now()));
        if entry.1.elapsed() >= Duration::from_secs(60) {
            *entry = (0, Instant::now());
        }
        if entry.0 >= per_minute {
            return Err(60u64.saturating_sub(entry.1.elapsed().as_secs()).max(1));
        }
        entry.0 += 1;
        Ok(())
    }
}
