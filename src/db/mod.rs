//! Storage: one Diesel layer over SQLite (the embedded default) and PostgreSQL.
//!
//! Policy:
//! - The engine is chosen at run time from the URL scheme (see [`DatabaseUrl`]);
//!   Diesel's own `MultiConnection::establish` guesses and hides the real error,
//!   so we never call it.
//! - Queries use the DSL shared by both engines. Where the dialects really differ
//!   (upserts, full-text search) code matches on [`AnyConnection`] and runs on the
//!   inner connection.
//! - Every write is one transaction. Times are stored as UTC `TIMESTAMP`,
//!   truncated to microseconds so both engines round-trip the same value.
//! - A write that changes what readers see runs through
//!   [`Database::transact`]: one transaction with its audit events, which
//!   announces the cache keys it changed through hooks (see [`changes`]).
//!   Storage depends on neither the cache nor the search index.
//! - Diesel is synchronous: async code reaches the database through
//!   [`Database::run`], which borrows a pooled connection on a blocking thread.
//! - Pool checkout waits at most `NEWSDESK_DB_ACQUIRE_TIMEOUT_MS` (default 2 s)
//!   so a dead database gives a quick `SERVICE_UNAVAILABLE`, never a hung request.

pub mod article_writes;
pub mod articles;
mod async_pool;
pub mod async_reads;
pub mod audit;
pub mod change_log;
pub mod changes;
mod checked_text;
mod connection;
pub mod contributors;
mod database;
pub mod holds;
pub mod idempotency;
pub mod media;
pub mod media_holds;
pub mod migrations;
mod native;
pub mod notices;
pub mod notify;
pub mod partners;
pub mod placements;
pub mod pool;
mod pool_stats;
pub mod recommendations;
pub mod replicas;
pub mod schema;
pub mod search_log;
pub mod sections;
pub mod site;
pub mod sitemaps;
pub mod sources;
mod sqlite_plans;
pub mod takedowns;
mod turns;
mod tx;
pub mod users;
pub mod webhooks;

pub use async_pool::AsyncLease;
pub use changes::Changes;
pub use connection::{AnyConnection, MultiBackend};
pub use database::Database;
pub use pool::DatabaseUrl;
pub use tx::Tx;

use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};

/// The current time as stored in the database: UTC, microsecond precision.
pub fn now() -> NaiveDateTime {
    to_db_time(Utc::now())
}

/// A UTC instant as stored in the database.
pub fn to_db_time(t: DateTime<Utc>) -> NaiveDateTime {
    t.naive_utc().trunc_subsecs(6)
}

/// A stored time read back as a UTC instant.
pub fn from_db_time(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}
