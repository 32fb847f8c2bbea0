//! The database: connecting and migrating (`connect`, `migrate`), what a
//! failed statement says about the database (`faults`), write transactions
//! tried again after a conflict (`retry`), and the transactions and checks
//! the rest of the code begins its work with (`sql`).

mod connect;
mod faults;
mod migrate;
mod retry;
mod sql;

pub use connect::{ACQUIRE_TIMEOUT, BUSY_TIMEOUT, connect, redact_url, replica_lag_secs};
pub use faults::{
    Fault, conflict_code, fault, fault_of_code, is_busy, is_retryable, is_retryable_replay,
    is_storage, is_unavailable, unavailable_code,
};
pub use migrate::{migrate, migrate_once};
pub use retry::{ATTEMPTS, Retryable, backoff, retrying};
pub use sql::{begin_snapshot, begin_write, bulk_cache, is_sqlite, marks, probe_write, stmt};

/// A start-up failure that names what is wrong in one line.
#[derive(Debug, thiserror::Error)]
pub enum DbSetupError {
    #[error("DATABASE_URL has an unsupported scheme {0:?}: use sqlite://, postgres:// or mysql://")]
    Scheme(String),
    #[error("cannot use the SQLite file {path}: {reason}")]
    SqlitePath { path: String, reason: String },
    #[error("cannot connect to the database at {url}: {reason}")]
    Connect { url: String, reason: String },
    #[error("database migration failed: {0}")]
    Migrate(String),
}

fn short(s: &str) -> String {
    s.lines().next().unwrap_or_default().to_string()
}
