//! How many live connections (WebSockets and event streams) a node holds:
//! at most so many per client address and so many in all. A connection
//! holds its [`Slot`] for as long as it is open. When the node stops, every
//! slot hears [`Slot::closing`] and no new one is given.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

use crate::error::AppError;

/// The live connections of a node.
#[derive(Debug)]
pub struct Slots {
    /// At most this many per client address; 0 for no limit.
    per_address: usize,
    /// At most this many in all; 0 for no limit.
    total: usize,
    used: Mutex<Used>,
    /// Set once the node stops: open connections close, none opens.
    closing: tokio::sync::watch::Sender<bool>,
}

#[derive(Debug, Default)]
struct Used {
    by_address: HashMap<IpAddr, usize>,
    total: usize,
}

/// An open live connection's place; given back when dropped.
#[derive(Debug)]
pub struct Slot {
    slots: Arc<Slots>,
    address: Option<IpAddr>,
}

impl Slots {
    pub fn new(per_address: usize, total: usize) -> Self {
        Slots {
            per_address,
            total,
            used: Mutex::default(),
            closing: tokio::sync::watch::Sender::new(false),
        }
    }

    /// Tells every open connection to close (a WebSocket with 1001, "going
    /// away"; an event stream ends), and refuses new ones: the node stops.
    pub fn close_all(&self) {
        self.closing.send_replace(true);
    }

    /// A place for a connection from `address` (`None` when unknown:
    /// counted in the total only); `TOO_MANY_REQUESTS` (429) when that
    /// address holds its share, `SERVICE_UNAVAILABLE` (503) when the node
    /// holds all it may.
    pub fn take(self: &Arc<Self>, address: Option<IpAddr>) -> Result<Slot, AppError> {
        if *self.closing.borrow() {
            return Err(AppError::Unavailable(
                "this node is stopping; try another node".into(),
            ));
        }
        let mut used = self.used.lock().unwrap_or_else(PoisonError::into_inner);
        if self.total > 0 && used.total >= self.total {
            return Err(AppError::Unavailable(format!(
                "this node holds its {} live connections; try another node or later",
                self.total
            )));
        }
        if let Some(address) = address {
            let held = used.by_address.entry(address).or_default();
            if self.per_address > 0 && *held >= self.per_address {
                return Err(AppError::RateLimited(format!(
                    "at most {} live connections per client address",
                    self.per_address
                )));
            }
            *held += 1;
        }
        used.total += 1;
        Ok(Slot {
            slots: self.clone(),
            address,
        })
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.used
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .total
    }
}

impl Slot {
    /// Resolves when the node stops ([`Slots::close_all`]).
    pub fn closing(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut closing = self.slots.closing.subscribe();
        async move {
            // An error means the node's slots are gone: it is stopping too.
            let _ = closing.wait_for(|closing| *closing).await;
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut used = self
            .slots
            .used
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        used.total = used.total.saturating_sub(1);
        if let Some(address) = self.address {
            if let Some(held) = used.by_address.get_mut(&address) {
                *held = held.saturating_sub(1);
                if *held == 0 {
                    used.by_address.remove(&address);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_limited_per_address_and_in_all_and_given_back() {
        let slots = Arc::new(Slots::new(2, 3));
        let a: IpAddr = [127, 0, 0, 1].into();
        let b: IpAddr = [127, 0, 0, 2].into();
        let first = slots.take(Some(a)).expect("first");
        let _second = slots.take(Some(a)).expect("second");
        assert!(matches!(slots.take(Some(a)), Err(AppError::RateLimited(_))));
        let _third = slots.take(Some(b)).expect("another address");
        assert!(matches!(slots.take(Some(b)), Err(AppError::Unavailable(_))));
        drop(first);
        assert_eq!(slots.open(), 2);
        assert!(slots.take(Some(a)).is_ok(), "a place given back is free");
    }

    #[tokio::test]
    async fn a_stopping_node_closes_its_connections_and_opens_none() {
        let slots = Arc::new(Slots::new(0, 0));
        let open = slots.take(None).expect("a place");
        let heard = tokio::spawn(async move { open.closing().await });
        slots.close_all();
        tokio::time::timeout(std::time::Duration::from_secs(5), heard)
            .await
            .expect("the open connection hears it")
            .expect("joins");
        assert!(matches!(slots.take(None), Err(AppError::Unavailable(_))));
    }
}
