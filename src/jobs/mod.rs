//! Background work. Every node runs every job; each piece of work is
//! claimed in the database (a conditional update, a lease), so that it
//! happens once however many nodes run.
//!
//! - scheduled publication: [`publishing`];
//! - webhook delivery: [`crate::webhooks::spawn_worker`] (leases);
//! - forgetting old idempotency keys: [`crate::http::idempotency::spawn_pruner`];
//! - forgetting old change-log and search-log entries: [`log_pruning`].

pub mod log_pruning;
pub mod publishing;
