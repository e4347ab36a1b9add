//! Slows password guessing: after a few failed logins for an account within a
//! window, further attempts are refused until the window has passed.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed attempts allowed per account and window.
pub const MAX_FAILURES: u32 = 5;
/// How long failures are remembered.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);

/// Failed-login counts per account name, in this process.
#[derive(Debug, Default)]
pub struct LoginThrottle {
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl LoginThrottle {
    /// Whether another attempt for `username` may be checked now.
    pub fn allows(&self, username: &str) -> bool {
        let Ok(mut map) = self.failures.lock() else {
            return false;
        };
        match map.get(username) {
            Some((count, since)) if since.elapsed() < WINDOW => *count < MAX_FAILURES,
            Some(_) => {
                map.remove(username);
                true
            }
            None => true,
        }
    }

    pub fn failed(&self, username: &str) {
        if let Ok(mut map) = self.failures.lock() {
            let entry = map
                .entry(username.to_string())
                .or_insert((0, Instant::now()));
            if entry.1.elapsed() >= WINDOW {
                *entry = (0, Instant::now());
            }
            entry.0 += 1;
        }
    }

    pub fn succeeded(&self, username: &str) {
        if let Ok(mut map) = self.failures.lock() {
            map.remove(username);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_failures_lock_the_account_name() {
        let throttle = LoginThrottle::default();
        for _ in 0..MAX_FAILURES {
            assert!(throttle.allows("ed"));
            throttle.failed("ed");
        }
        assert!(!throttle.allows("ed"));
        assert!(throttle.allows("someone-else"));
    }
}

/// Keys a window keeps before it drops those whose minute has passed.
const MAX_KEYS: usize = 100_000;

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
