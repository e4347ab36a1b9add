//! The in-process response cache, and how writes make it forget.
//!
//! Public responses (anonymous GraphQL queries, REST, feeds) are kept as the
//! bytes sent, keyed by everything that can change them (route, query and
//! variables, `Accept-Language`, `Accept-Encoding`). Each entry carries the
//! tags it depends on — the `Surrogate-Key` values: `article-ID`,
//! `section-ID`, `sections`, `articles`, `list-NAME`, `site`.
//!
//! Writes name the tags they touch ([`CacheKey`](crate::domain::CacheKey)s,
//! through their [`Tx`](crate::db::Tx), the same names that go to the CDN
//! purge). Once the write has committed, and before it returns,
//! [`Database`](crate::db::Database) tells its subscribers, and the clock
//! ([`TagClock::following`]) advances: every tag touched gets the new
//! time. An entry is served only while none of its
//! tags is newer than the moment its response started being computed, so a
//! response computed concurrently with a withdrawal can never outlive it,
//! and the request that commits the withdrawal has already made every
//! cached copy unservable when it answers.
//!
//! Other nodes on the same PostgreSQL hear every write's tags through
//! `NOTIFY` ([`peers`]) and advance their clocks the same way.
//!
//! Entries also expire after `NEWSDESK_CACHE_MAX_AGE` seconds: that bounds
//! what no write announces (a change made directly in the database).

mod clock;
pub mod peers;
mod snapshot;
mod store;

pub use clock::TagClock;
pub use snapshot::Snapshot;
pub use store::{CacheStats, CachedResponse, ResponseCache};
