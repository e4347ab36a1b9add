//! What a mutation does, once its resolver has checked the caller's right
//! and parsed the input: one function per change, each one transaction
//! through [`Database::transact`](crate::db::Database::transact), which
//! writes the audit event and announces what changed.

pub mod articles;
pub mod curation;
pub mod media;
pub mod sessions;
pub mod takedowns;
pub mod webhooks;
