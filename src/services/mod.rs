//! What a request asks to change, one call each, between the API and
//! storage. Each runs its work as one transaction through
//! [`Database::transact`](crate::db::Database::transact), which writes the
//! audit event and announces what changed; a resolver checks the caller's
//! right, parses its input, calls one function here and maps the result.

pub mod curation;
