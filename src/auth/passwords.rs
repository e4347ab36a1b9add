//! Password storage: argon2id with a random salt, in PHC string form.
//!
//! One hash or check takes 19 MiB for its duration. The server runs them
//! through [`PasswordWorkers`]: a few threads of their own (one per core by
//! default), so at most that many run at once, and the memory each thread's
//! allocator keeps for the next one is bounded by the thread count rather
//! than by the number of logins ever in flight. A login that finds no
//! worker free within the configured wait is answered `TOO_MANY_REQUESTS`.
//!
//! Bounding the workers is not enough on glibc: argon2 allocates its 19 MiB
//! of 64-byte-aligned blocks anew for every check, and once glibc has raised
//! its mmap threshold past that size the aligned requests land in the
//! thread's heap, where the freed ones are never quite large enough to be
//! reused: RSS grew by 19 MiB per login, sequentially too (10 logins on one
//! worker: 42 → 234 MB). [`crate::memory::return_large_blocks_promptly`] fixes the
//! threshold at start, so such blocks are mapped and unmapped per check.

use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use tokio::sync::{oneshot, Semaphore};

use crate::error::AppError;

type Job = Box<dyn FnOnce() + Send>;

/// The threads password hashes and checks run on.
pub struct PasswordWorkers {
    permits: Arc<Semaphore>,
    wait: Duration,
    jobs: Mutex<mpsc::Sender<Job>>,
}

impl std::fmt::Debug for PasswordWorkers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordWorkers")
            .field("free", &self.permits.available_permits())
            .field("wait", &self.wait)
            .finish()
    }
}

impl PasswordWorkers {
    /// Starts `workers` threads; a caller waits at most `wait` for one.
    pub fn start(workers: usize, wait: Duration) -> Self {
        let (sender, receiver) = mpsc::channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        let mut started = 0;
        for n in 0..workers.max(1) {
            let receiver = receiver.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("password-{n}"))
                .spawn(move || loop {
                    let job = match receiver.lock() {
                        Ok(jobs) => jobs.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                });
            match spawned {
                Ok(_) => started += 1,
                Err(error) => tracing::error!(%error, "password worker not started"),
            }
        }
        PasswordWorkers {
            permits: Arc::new(Semaphore::new(started)),
            wait,
            jobs: Mutex::new(sender),
        }
    }

    /// Whether `password` matches `stored`; with no stored hash (no such
    /// account, no password set) a dummy hash is checked so that the answer
    /// takes as long.
    pub async fn verify(&self, password: String, stored: Option<String>) -> Result<bool, AppError> {
        self.run(move || match stored {
            Some(stored) => verify(&password, &stored),
            None => {
                verify(&password, &DUMMY_HASH);
                false
            }
        })
        .await
    }

    /// A hash of `password` for storage.
    pub async fn hash(&self, password: String) -> Result<String, AppError> {
        self.run(move || hash(&password)).await?
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AppError> {
        let permit = tokio::time::timeout(self.wait, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| AppError::Busy("too many logins at once; retry in a second".into()))?
            .map_err(|_| AppError::Internal("password workers closed".into()))?;
        let (answer, answered) = oneshot::channel();
        // The permit goes with the work: a caller that gives up does not
        // free a worker that is still hashing. It is given back before the
        // answer, so the caller's next check finds the worker free.
        let job: Job = Box::new(move || {
            let done = work();
            drop(permit);
            let _ = answer.send(done);
        });
        self.jobs
            .lock()
            .map_err(|_| AppError::Internal("password workers poisoned".into()))?
            .send(job)
            .map_err(|_| AppError::Internal("no password worker running".into()))?;
        answered
            .await
            .map_err(|_| AppError::Internal("a password worker stopped".into()))
    }
}

/// A real argon2id hash, checked against when there is no stored one.
static DUMMY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| hash("no such account").unwrap_or_default());

/// Hashes a password for storage.
pub fn hash(password: &str) -> Result<String, AppError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(format!("password hashing failed: {e}")))
}

/// Whether `password` matches the stored hash. A malformed hash never matches.
pub fn verify(password: &str, stored: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), stored)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_accepts_only_its_password() {
        let stored = hash("correct horse battery staple").expect("hash");
        assert!(stored.starts_with("$argon2id$"));
        assert!(verify("correct horse battery staple", &stored));
        assert!(!verify("Correct horse battery staple", &stored));
        assert!(!verify("anything", "not a hash"));
    }

    #[tokio::test]
    async fn workers_check_passwords_and_turn_away_callers_past_the_wait() {
        let workers = PasswordWorkers::start(1, Duration::ZERO);
        let stored = workers.hash("s3cret password".into()).await.expect("hash");
        assert!(workers
            .verify("s3cret password".into(), Some(stored.clone()))
            .await
            .expect("check"));
        assert!(!workers.verify("s3cret".into(), None).await.expect("check"));

        let checks: Vec<_> = (0..4)
            .map(|_| workers.verify("guess".into(), Some(stored.clone())))
            .collect();
        let answers = futures_util::future::join_all(checks).await;
        let busy = answers
            .iter()
            .filter(|a| matches!(a, Err(AppError::Busy(_))))
            .count();
        assert_eq!(busy, 3, "one worker, no wait: {answers:?}");
    }
}
