//! What a connection pool reports to `/metrics`: the callers waiting for a
//! connection, how long getting one took, and how long statements ran.
//! One per pool (the primary, each replica), labelled `pool`.

use std::sync::Arc;
use std::time::Instant;

use prometheus::core::Collector;
use prometheus::{Histogram, HistogramOpts, IntGauge, Opts};

/// Buckets, in seconds: 100 µs to 10 s.
const BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

/// The figures of one pool.
#[derive(Debug)]
pub struct PoolStats {
    acquire: Histogram,
    statement: Histogram,
    waiting: IntGauge,
}

impl PoolStats {
    /// The figures of the pool called `pool` (`primary`, `replica1` …).
    pub fn new(pool: &str) -> Arc<PoolStats> {
        let histogram = |name: &str, help: &str| {
            Histogram::with_opts(
                HistogramOpts::new(name, help)
                    .const_label("pool", pool)
                    .buckets(BUCKETS.to_vec()),
            )
        };
        let waiting = IntGauge::with_opts(
            Opts::new(
                "newsdesk_db_pool_waiting",
                "Callers waiting for a connection of the pool.",
            )
            .const_label("pool", pool),
        );
        // Fixed names and a label that is a pool's name: only a typo fails,
        // which every test would show.
        Arc::new(PoolStats {
            acquire: histogram(
                "newsdesk_db_pool_acquire_seconds",
                "Time from asking for a connection of the pool to holding one.",
            )
            .expect("valid metric"),
            statement: histogram(
                "newsdesk_db_statement_duration_seconds",
                "Time each SQL statement took, by pool.",
            )
            .expect("valid metric"),
            waiting: waiting.expect("valid metric"),
        })
    }

    /// The series to register in a server's registry.
    pub fn collectors(&self) -> Vec<Box<dyn Collector>> {
        vec![
            Box::new(self.acquire.clone()),
            Box::new(self.statement.clone()),
            Box::new(self.waiting.clone()),
        ]
    }

    /// A connection was had, `since` the caller asked.
    pub(super) fn acquired(&self, since: Instant) {
        self.acquire.observe(since.elapsed().as_secs_f64());
    }

    /// A statement ran from `since` until now.
    pub(super) fn statement_ran(&self, since: Instant) {
        self.statement.observe(since.elapsed().as_secs_f64());
    }

    /// Counts a caller waiting until the guard is dropped (also when the
    /// wait is abandoned).
    pub(super) fn waiting(&self) -> Waiting {
        self.waiting.inc();
        Waiting(self.waiting.clone())
    }
}

/// A caller counted as waiting.
pub(super) struct Waiting(IntGauge);

impl Drop for Waiting {
    fn drop(&mut self) {
        self.0.dec();
    }
}
