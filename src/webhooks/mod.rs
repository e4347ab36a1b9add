//! Outgoing webhooks: target checks against SSRF, signing, and the worker
//! that delivers the outbox at least once, with retries and backoff.

mod delivery;
mod target;

pub use delivery::{sign, spawn_worker, DeliveryCounts};
pub use target::check_url;
