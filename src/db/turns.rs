//! Whose turn it is to write to SQLite. SQLite has one writer at a time,
//! and a transaction that reads before it writes fails with "database is
//! locked" (not waiting) when another writer commits in between, so the
//! writers of this process take turns here instead.
//!
//! A few writes go ahead of the queue: the reply an `Idempotency-Key`
//! request keeps right after its change has committed. Until it is kept, a
//! crash leaves the change applied and its reply lost, and waiting behind
//! every queued writer would widen that window for no gain. Such writes
//! come at most once per other write, so the queue never starves.

use std::sync::{Condvar, Mutex, PoisonError};

#[derive(Debug, Default)]
pub struct WriterTurns {
    state: Mutex<State>,
    freed: Condvar,
    /// Writers inside [`WriterTurns::take`] (for `/metrics`).
    waiting: std::sync::atomic::AtomicUsize,
}

#[derive(Debug, Default)]
struct State {
    writing: bool,
    urgent_waiting: usize,
}

/// The turn to write; the next writer's turn comes when this is dropped
/// (also when a panic unwinds through its holder).
#[must_use]
pub struct Turn<'a> {
    turns: &'a WriterTurns,
}

impl WriterTurns {
    /// Waits for the turn to write; an `urgent` writer goes before every
    /// writer that is not.
    pub fn take(&self, urgent: bool) -> Turn<'_> {
        use std::sync::atomic::Ordering::Relaxed;
        self.waiting.fetch_add(1, Relaxed);
        let turn = self.wait_for_turn(urgent);
        self.waiting.fetch_sub(1, Relaxed);
        turn
    }

    /// Writers waiting for their turn now.
    pub fn waiting(&self) -> usize {
        self.waiting.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn wait_for_turn(&self, urgent: bool) -> Turn<'_> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if urgent {
            state.urgent_waiting += 1;
        }
        while state.writing || (!urgent && state.urgent_waiting > 0) {
            state = self
                .freed
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        if urgent {
            state.urgent_waiting -= 1;
        }
        state.writing = true;
        Turn { turns: self }
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        let mut state = self
            .turns
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        state.writing = false;
        drop(state);
        self.turns.freed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{mpsc, Arc};
    use std::time::Duration;

    #[test]
    fn an_urgent_writer_goes_before_writers_that_waited_longer() {
        let turns = Arc::new(WriterTurns::default());
        let (order, written) = mpsc::channel();
        let held = turns.take(false);
        let mut waiting = Vec::new();
        for (name, urgent) in [
            ("first in line", false),
            ("second in line", false),
            ("urgent", true),
        ] {
            let turns = turns.clone();
            let order = order.clone();
            waiting.push(std::thread::spawn(move || {
                let _turn = turns.take(urgent);
                order.send(name).expect("send");
            }));
            // Each is queued before the next arrives.
            std::thread::sleep(Duration::from_millis(50));
        }
        drop(held);
        for thread in waiting {
            thread.join().expect("writer");
        }
        let order: Vec<&str> = written.try_iter().collect();
        assert_eq!(order[0], "urgent", "{order:?}");
        assert_eq!(order.len(), 3);
    }

    #[test]
    fn a_panicking_writer_gives_up_its_turn() {
        let turns = Arc::new(WriterTurns::default());
        let panicking = turns.clone();
        let outcome = std::thread::spawn(move || {
            let _turn = panicking.take(false);
            panic!("a bug while writing");
        })
        .join();
        assert!(outcome.is_err());
        let (done, finished) = mpsc::channel();
        let next = turns.clone();
        std::thread::spawn(move || {
            let _turn = next.take(false);
            done.send(()).expect("send");
        });
        assert!(finished.recv_timeout(Duration::from_secs(2)).is_ok());
    }
}
