//! Live updates: what happens to public view, pushed to subscribers as it
//! commits (GraphQL subscriptions over WebSocket and SSE, and `/v1/stream`).
//!
//! Every transaction that changes an article or a recommendation list logs
//! what the change did in `change_log`, in the same transaction
//! ([`log_changes`]). Each node's [`Hub`] reads the log after the last
//! entry it sent, woken by this node's commits and by other nodes' changes
//! heard through PostgreSQL (and every 200 ms regardless), loads each
//! changed article once, and broadcasts it to the node's subscribers, who
//! filter and serialise it through the read model. So nothing is announced
//! that did not commit, a subscriber on any node hears every node's
//! changes, and an SSE client that reconnects resumes from the log.

mod hub;
mod record;
mod slots;

pub use hub::{events_after, follow, Event, Hub};
pub use record::log_changes;
pub use slots::{Slot, Slots};
