//! How API nodes sharing one PostgreSQL hear what the others changed.
//!
//! Every write names the cache keys it touched with `NOTIFY`, inside its
//! own transaction ([`crate::db::notify`]): PostgreSQL delivers the
//! notification when, and only when, the write commits. Every node `LISTEN`s on a connection of its own
//! and advances its [`TagClock`] for the tags it hears, which makes its
//! cached responses and snapshots for those tags unservable. The writing
//! node hears its own notification too; it has already advanced its clock
//! at commit, and a second advance costs at most a cache miss.
//!
//! A node that loses the listening connection may have missed changes, so it
//! forgets everything it cached, and again once it listens anew. SQLite has
//! one process by design and publishes nothing.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};

use super::TagClock;
use crate::db::notify::{keys_of, CHANNEL};
use crate::db::replicas::Replicas;

/// What the listener has done, for `/metrics`.
#[derive(Debug, Default)]
pub struct PeerStatus {
    pub listening: AtomicBool,
    /// Notifications applied.
    pub received: AtomicU64,
    /// Times the listening connection was lost.
    pub lost: AtomicU64,
}

/// Listens for other nodes' changes on its own thread, for as long as
/// `clock` is alive.
/// With replicas, the primary's position after what was heard is recorded
/// before the clock advances (see [`crate::db::replicas`]).
pub fn spawn_listener(
    url: String,
    clock: &Arc<TagClock>,
    status: Arc<PeerStatus>,
    replicas: Arc<Replicas>,
) {
    let clock = Arc::downgrade(clock);
    let spawned = std::thread::Builder::new()
        .name("newsdesk-peers".into())
        .spawn(move || listen(&url, &clock, &status, &replicas));
    if let Err(error) = spawned {
        tracing::error!(%error, "cannot start the cache listener");
    }
}

fn listen(url: &str, clock: &Weak<TagClock>, status: &PeerStatus, replicas: &Replicas) {
    let mut backoff = Duration::from_millis(100);
    while clock.strong_count() > 0 {
        let listening = PgConnection::establish(url).ok().and_then(|mut conn| {
            conn.batch_execute(&format!("LISTEN {CHANNEL}"))
                .is_ok()
                .then_some(conn)
        });
        match listening {
            Some(mut conn) => {
                backoff = Duration::from_millis(100);
                status.listening.store(true, Ordering::SeqCst);
                // Changes made while nobody listened are unknown: whatever
                // they were, they are before the primary's position now.
                if !replicas.is_empty() {
                    if let Some(lsn) = crate::db::replicas::current(&mut conn) {
                        replicas.raise_known(lsn);
                    }
                }
                forget_everything(clock);
                tracing::info!("listening for other nodes' changes");
                let reason = receive(&mut conn, clock, status, replicas);
                status.listening.store(false, Ordering::SeqCst);
                status.lost.fetch_add(1, Ordering::Relaxed);
                forget_everything(clock);
                if clock.strong_count() > 0 {
                    tracing::warn!(%reason, "lost the connection that hears other nodes' changes");
                }
            }
            None => {
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(Duration::from_secs(2));
            }
        }
    }
}

fn forget_everything(clock: &Weak<TagClock>) {
    if let Some(clock) = clock.upgrade() {
        clock.advance_all();
    }
}

/// Applies notifications until the connection fails; returns why it stopped.
fn receive(
    conn: &mut PgConnection,
    clock: &Weak<TagClock>,
    status: &PeerStatus,
    replicas: &Replicas,
) -> String {
    // Polled: diesel exposes no socket to wait on. Reading what has arrived
    // is one non-blocking read, so a short interval costs next to nothing.
    const POLL: Duration = Duration::from_millis(5);
    // A silently dropped connection shows only when something is sent.
    const PROBE: Duration = Duration::from_secs(5);
    let mut probed = Instant::now();
    loop {
        let Some(clock) = clock.upgrade() else {
            return "the server stopped".into();
        };
        let mut heard = Vec::new();
        for notification in conn.notifications_iter() {
            match notification {
                Ok(n) => heard.push(n.payload),
                Err(e) => return e.to_string(),
            }
        }
        if !heard.is_empty() && !replicas.is_empty() {
            // Read after the commits: at or past each of them.
            match crate::db::replicas::current(conn) {
                Some(lsn) => replicas.raise_known(lsn),
                None => return "cannot read the primary's WAL position".into(),
            }
        }
        for payload in &heard {
            apply(&clock, payload);
            status.received.fetch_add(1, Ordering::Relaxed);
        }
        drop(clock);
        if probed.elapsed() > PROBE {
            if let Err(e) = conn.batch_execute("SELECT 1") {
                return e.to_string();
            }
            probed = Instant::now();
        }
        if heard.is_empty() {
            std::thread::sleep(POLL);
        }
    }
}

/// Advances the clock for a notification.
fn apply(clock: &TagClock, payload: &str) {
    match keys_of(payload) {
        Some(tags) => clock.advance(&tags),
        None => clock.advance_all(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::CacheKey;

    #[test]
    fn heard_tags_make_older_responses_stale() {
        let clock = TagClock::default();
        let started = clock.now();

        apply(&clock, "article-7 section-2");
        assert!(!clock.unchanged_since(&[CacheKey::Article(7)], started));
        assert!(clock.unchanged_since(&[CacheKey::Section(3)], started));

        let later = clock.now();
        apply(&clock, "*");
        assert!(!clock.unchanged_since(&[CacheKey::Section(3)], later));

        let latest = clock.now();
        apply(&clock, "article-7 gadget-1");
        assert!(
            !clock.unchanged_since(&[CacheKey::Section(3)], latest),
            "an unknown key forgets everything"
        );
    }
}
