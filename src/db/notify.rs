//! How API nodes sharing one PostgreSQL tell each other what changed: every
//! transaction that changes cache keys names them with one `NOTIFY` inside
//! it, which PostgreSQL delivers when, and only when, it commits. Each
//! node listens on a connection of its own and forgets what its cache holds
//! for those keys. SQLite has one process by design and sends nothing.

use diesel::sql_types::Text;
use diesel::RunQueryDsl;

use super::AnyConnection;
use crate::domain::cache_key::{surrogate_keys, CacheKey};
use crate::error::AppError;

/// The notification channel.
pub const CHANNEL: &str = "newsdesk_cache";

/// PostgreSQL refuses payloads from 8,000 bytes on.
const MAX_PAYLOAD: usize = 7_000;

/// Everything changed (too many keys for one notification).
const EVERYTHING: &str = "*";

/// Names `keys` to every node; call it inside the transaction that changed them.
pub(super) fn publish(conn: &mut AnyConnection, keys: &[CacheKey]) -> Result<(), AppError> {
    let AnyConnection::Postgresql(pg) = conn else {
        return Ok(());
    };
    let mut payload = surrogate_keys(keys);
    if payload.len() > MAX_PAYLOAD {
        payload = EVERYTHING.into();
    }
    diesel::sql_query("SELECT pg_notify($1, $2)")
        .bind::<Text, _>(CHANNEL)
        .bind::<Text, _>(payload)
        .execute(pg)?;
    Ok(())
}

/// The keys a notification names; `None` when it may stand for anything:
/// too many keys to list, or a key this node does not know (a newer node
/// sent it).
pub fn keys_of(payload: &str) -> Option<Vec<CacheKey>> {
    payload
        .split(' ')
        .filter(|word| !word.is_empty())
        .map(|word| word.parse().ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payload_names_keys_or_stands_for_anything() {
        assert_eq!(
            keys_of("article-7 section-2"),
            Some(vec![CacheKey::Article(7), CacheKey::Section(2)])
        );
        assert_eq!(keys_of(EVERYTHING), None);
        assert_eq!(keys_of("article-7 gadget-1"), None);
        assert_eq!(keys_of(""), Some(vec![]));
    }
}
