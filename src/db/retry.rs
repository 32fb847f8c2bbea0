//! A write transaction tried again, with a jittered pause, when it failed
//! with a conflict that a retry may cure.

use std::time::Duration;

use super::{Fault, fault};

/// Attempts `retrying` makes at most.
pub const ATTEMPTS: u32 = 3;

/// The pause after `attempt` failed attempts (1, 2, …): 40 ms, 80 ms,
/// 160 ms … with up to as much again of random jitter, so that two writers
/// that collided do not collide again in step.
pub fn backoff(attempt: u32) -> Duration {
    use rand::Rng;
    let base = 20u64 << attempt.min(6);
    Duration::from_millis(base + rand::rng().random_range(0..=base))
}

/// Runs a write transaction (`op` begins, writes and commits it) and runs it
/// again from the start, at most `ATTEMPTS` times with a jittered pause, when
/// it fails with a conflict that a retry may cure (`is_retryable`): a Galera
/// certification failure, a deadlock, a serialization failure. Each retry is
/// logged. Another failure, or the last one, is returned as it is.
pub async fn retrying<T, E, F, Fut>(what: &str, mut op: F) -> Result<T, E>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, E>>,
    E: Retryable + std::fmt::Display,
{
    let mut attempt = 0;
    loop {
        match op().await {
            Err(e) if e.retryable() && attempt + 1 < ATTEMPTS => {
                attempt += 1;
                let pause = backoff(attempt);
                tracing::warn!(
                    what,
                    attempt,
                    pause_ms = pause.as_millis() as u64,
                    error = %e,
                    "write conflict; trying the transaction again"
                );
                tokio::time::sleep(pause).await;
            }
            r => return r,
        }
    }
}

/// An error that may say a write transaction is worth trying again.
pub trait Retryable {
    fn retryable(&self) -> bool;
}

/// A conflict, or SQLite's writer still taken after the busy timeout.
impl Retryable for sea_orm::DbErr {
    fn retryable(&self) -> bool {
        matches!(fault(self), Fault::Conflict | Fault::Busy)
    }
}
