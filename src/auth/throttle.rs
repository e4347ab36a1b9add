//! Slows password guessing: each login attempt for an account name is
//! counted *before* its password is checked, so that at most a few checks
//! of one account run within a window however many arrive at once; a
//! correct password forgets the account's count. Counts live in this
//! process, or in Redis shared by every node when `NEWSDESK_REDIS_URL` is
//! set (one atomic script per attempt); a Redis that does not answer in
//! time leaves that attempt to the in-process count.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::rate_limits::{SharedCounts, MAX_KEYS, REDIS_BUDGET};

/// Attempts checked per account and window.
pub const MAX_FAILURES: u32 = 5;
/// How long attempts are remembered.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);

/// Counts an attempt unless the limit is reached; 1 when counted.
const RESERVE: &str = r"
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
if n > tonumber(ARGV[2]) then
  redis.call('DECR', KEYS[1])
  return 0
end
return 1";

/// Gives back one counted attempt, never below zero nor on a key that expired.
const RELEASE: &str = r"
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n > 0 then redis.call('DECR', KEYS[1]) end
return 1";

/// Login attempts per account name.
#[derive(Default)]
pub struct LoginThrottle {
    /// Keyed by the hash of the name, so a long name costs no more memory.
    local: Mutex<HashMap<[u8; 32], (u32, Instant)>>,
    shared: Option<SharedCounts>,
    /// Attempts refused because their account had too many (for `/metrics`).
    refused: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for LoginThrottle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginThrottle")
            .field("shared", &self.shared.is_some())
            .finish()
    }
}

fn key(username: &str) -> [u8; 32] {
    Sha256::digest(username.as_bytes()).into()
}

impl LoginThrottle {
    pub fn new(shared: Option<SharedCounts>) -> Self {
        LoginThrottle {
            local: Mutex::default(),
            shared,
            refused: Default::default(),
        }
    }

    /// Attempts refused by the throttle since the process started.
    pub fn refused(&self) -> u64 {
        self.refused.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Counts an attempt for `username` before its password is checked;
    /// false, and nothing counted, when the window already holds
    /// [`MAX_FAILURES`] attempts.
    pub async fn reserve(&self, username: &str) -> bool {
        let window = WINDOW.as_secs().to_string();
        let limit = MAX_FAILURES.to_string();
        let counted = match self
            .shared_script(RESERVE, username, &[&window, &limit])
            .await
        {
            Some(counted) => counted == 1,
            None => self.reserve_here(username),
        };
        if !counted {
            self.refused
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        counted
    }

    /// Gives back an attempt whose password was never checked (no worker
    /// was free, the account store did not answer).
    pub async fn release(&self, username: &str) {
        if self.shared_script(RELEASE, username, &[]).await.is_none() {
            if let Ok(mut map) = self.local.lock() {
                if let Some(entry) = map.get_mut(&key(username)) {
                    entry.0 = entry.0.saturating_sub(1);
                }
            }
        }
    }

    /// Forgets the attempts of an account whose password was right.
    pub async fn succeeded(&self, username: &str) {
        if let Some(shared) = &self.shared {
            let mut connection = shared.connection.clone();
            let mut command = redis::cmd("DEL");
            command.arg(self.shared_key(shared, username));
            let forget = command.query_async::<()>(&mut connection);
            if !matches!(tokio::time::timeout(REDIS_BUDGET, forget).await, Ok(Ok(()))) {
                tracing::warn!("login throttle: Redis did not forget an account's attempts");
            }
        }
        if let Ok(mut map) = self.local.lock() {
            map.remove(&key(username));
        }
    }

    fn shared_key(&self, shared: &SharedCounts, username: &str) -> String {
        let hex: String = key(username).iter().map(|b| format!("{b:02x}")).collect();
        format!("{}:login:{hex}", shared.prefix)
    }

    /// Runs `script` on the account's Redis key; `None` without Redis or
    /// when it failed or was too slow.
    async fn shared_script(&self, script: &str, username: &str, args: &[&str]) -> Option<i64> {
        let shared = self.shared.as_ref()?;
        let mut connection = shared.connection.clone();
        let mut command = redis::cmd("EVAL");
        command
            .arg(script)
            .arg(1)
            .arg(self.shared_key(shared, username));
        for arg in args {
            command.arg(*arg);
        }
        match tokio::time::timeout(REDIS_BUDGET, command.query_async::<i64>(&mut connection)).await
        {
            Ok(Ok(value)) => Some(value),
            Ok(Err(error)) => {
                tracing::warn!(%error, "login throttle: Redis failed; counting in process");
                None
            }
            Err(_) => {
                tracing::warn!("login throttle: Redis too slow; counting in process");
                None
            }
        }
    }

    fn reserve_here(&self, username: &str) -> bool {
        let Ok(mut map) = self.local.lock() else {
            return false;
        };
        // Many one-off names must not grow the map forever.
        if map.len() >= MAX_KEYS {
            map.retain(|_, (_, since)| since.elapsed() < WINDOW);
        }
        let entry = map.entry(key(username)).or_insert((0, Instant::now()));
        if entry.1.elapsed() >= WINDOW {
            *entry = (0, Instant::now());
        }
        if entry.0 >= MAX_FAILURES {
            return false;
        }
        entry.0 += 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn attempts_are_counted_before_they_are_checked() {
        let throttle = LoginThrottle::default();
        for _ in 0..MAX_FAILURES {
            assert!(throttle.reserve("ed").await);
        }
        assert!(!throttle.reserve("ed").await);
        assert!(throttle.reserve("someone-else").await);

        throttle.release("ed").await;
        assert!(
            throttle.reserve("ed").await,
            "an unchecked attempt is given back"
        );
        assert!(!throttle.reserve("ed").await);

        throttle.succeeded("someone-else").await;
        for _ in 0..MAX_FAILURES {
            assert!(throttle.reserve("someone-else").await);
        }
    }
}
