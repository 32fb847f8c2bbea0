//! One leader among the `serve` processes sharing a database, for the jobs
//! that must run in one place at a time (the report rollup and its daily
//! rebuild).
//!
//! The lock lives on a connection of its own, never on a pooled one (a pool
//! would hand the connection to other work and could close it, silently
//! releasing the lock, or keep it open after the leader stopped leading):
//!
//! - PostgreSQL: `pg_try_advisory_lock(key)` on a dedicated `PgConnection`
//!   (advisory locks are per database, so test databases on one server do
//!   not compete);
//! - MariaDB/MySQL: `GET_LOCK(name, 0)` on a dedicated `MySqlConnection`, the
//!   name carrying the database's own (these locks are server-wide, and local
//!   to one server: Galera does not replicate them, so the processes of a
//!   cluster must reach the same node for there to be one leader);
//! - SQLite: an exclusive lock of a file in the data folder (`flock`), for the
//!   processes of one machine that share the file.
//!
//! Both servers release the lock when the holder's connection ends, and a
//! killed process's connections end with it (its kernel closes the sockets),
//! so another process takes over at its next try: within one retry interval
//! of the kill. A leader that stops answering without closing its sockets (a
//! host lost from the network) holds the lock until the server's TCP
//! keepalive gives the connection up. Each process checks, before each run,
//! that it still holds the lock on its own connection; if not, it logs "lost
//! leadership" and only tries again.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sea_orm::sqlx::{self, Connection};

/// How long connecting or checking the lock may take.
const TIMEOUT: Duration = Duration::from_secs(10);

enum Held {
    Postgres(sqlx::PgConnection),
    MySql(sqlx::MySqlConnection, String),
    File(std::fs::File, PathBuf),
}

/// Held while leading; dropping it (or the process ending) lets another lead.
pub struct Leader {
    name: String,
    held: Held,
}

/// A stable 64-bit key for `name` (FNV-1a), for `pg_try_advisory_lock`.
fn pg_key(name: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in format!("fuzhi:{name}").bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h as i64
}

/// A `GET_LOCK` name for `name` in `database` (at most 64 characters).
fn mysql_name(database: &str, name: &str) -> String {
    let n = format!("fuzhi:{database}:{name}");
    if n.len() <= 64 {
        n
    } else {
        format!("fuzhi:{:016x}", pg_key(&n) as u64)
    }
}

async fn timed<T, E: std::fmt::Display>(
    what: &str,
    f: impl std::future::Future<Output = Result<T, E>>,
) -> anyhow::Result<T> {
    match tokio::time::timeout(TIMEOUT, f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(anyhow::anyhow!("{what}: {e}")),
        Err(_) => Err(anyhow::anyhow!(
            "{what}: no answer in {} s",
            TIMEOUT.as_secs()
        )),
    }
}

impl Leader {
    /// Takes the lock `name` for the database at `url` if no one holds it:
    /// `Ok(None)` when another process leads.
    pub async fn try_acquire(
        url: &str,
        data_dir: &Path,
        name: &str,
    ) -> anyhow::Result<Option<Leader>> {
        let scheme = url
            .split(':')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        match scheme.as_str() {
            "postgres" | "postgresql" => {
                let mut c = timed("connect", sqlx::PgConnection::connect(url)).await?;
                let got: bool = timed(
                    "pg_try_advisory_lock",
                    sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
                        .bind(pg_key(name))
                        .fetch_one(&mut c),
                )
                .await?;
                if !got {
                    let _ = c.close().await;
                    return Ok(None);
                }
                Ok(Some(Leader {
                    name: name.to_string(),
                    held: Held::Postgres(c),
                }))
            }
            "mysql" | "mariadb" => {
                let url = url.replacen("mariadb", "mysql", 1);
                let mut c = timed("connect", sqlx::MySqlConnection::connect(&url)).await?;
                let database: Option<String> = timed(
                    "DATABASE()",
                    sqlx::query_scalar("SELECT DATABASE()").fetch_one(&mut c),
                )
                .await?;
                let lock = mysql_name(&database.unwrap_or_default(), name);
                let got: Option<i64> = timed(
                    "GET_LOCK",
                    sqlx::query_scalar("SELECT GET_LOCK(?, 0)")
                        .bind(&lock)
                        .fetch_one(&mut c),
                )
                .await?;
                if got != Some(1) {
                    let _ = c.close().await;
                    return Ok(None);
                }
                Ok(Some(Leader {
                    name: name.to_string(),
                    held: Held::MySql(c, lock),
                }))
            }
            _ => {
                std::fs::create_dir_all(data_dir)?;
                let path = data_dir.join(format!("{name}.lock"));
                let f = std::fs::OpenOptions::new()
                    .create(true)
                    .truncate(false)
                    .write(true)
                    .open(&path)
                    .map_err(|e| anyhow::anyhow!("open {}: {e}", path.display()))?;
                match f.try_lock() {
                    Ok(()) => Ok(Some(Leader {
                        name: name.to_string(),
                        held: Held::File(f, path),
                    })),
                    Err(std::fs::TryLockError::WouldBlock) => Ok(None),
                    Err(std::fs::TryLockError::Error(e)) => {
                        Err(anyhow::anyhow!("lock {}: {e}", path.display()))
                    }
                }
            }
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether this process still holds the lock (its connection is alive
    /// and the server says the lock is its own).
    pub async fn holds(&mut self) -> bool {
        let r: anyhow::Result<bool> = match &mut self.held {
            Held::Postgres(c) => {
                timed(
                    "pg_locks",
                    sqlx::query_scalar(
                        "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' \
                         AND pid = pg_backend_pid() AND granted)",
                    )
                    .fetch_one(c),
                )
                .await
            }
            Held::MySql(c, lock) => timed(
                "IS_USED_LOCK",
                sqlx::query_scalar::<_, Option<i64>>("SELECT IS_USED_LOCK(?) = CONNECTION_ID()")
                    .bind(lock.as_str())
                    .fetch_one(c),
            )
            .await
            .map(|v| v == Some(1)),
            Held::File(..) => Ok(true),
        };
        r.unwrap_or_else(|e| {
            tracing::warn!(lock = %self.name, error = %e, "cannot check the leader lock");
            false
        })
    }

    /// Gives the lead up (the lock is released with the connection or file).
    pub async fn release(self) {
        match self.held {
            Held::Postgres(c) => {
                let _ = c.close().await;
            }
            Held::MySql(c, _) => {
                let _ = c.close().await;
            }
            Held::File(f, path) => {
                let _ = f.unlock();
                drop(path);
            }
        }
    }
}

/// Runs `job` every `every` in the one process that leads `name` among those
/// sharing the database; the others try to take the lead at each interval.
pub fn spawn_led<F, Fut>(
    url: String,
    data_dir: PathBuf,
    name: &'static str,
    every: Duration,
    job: F,
) where
    F: Fn() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut lead: Option<Leader> = None;
        loop {
            tick.tick().await;
            if let Some(l) = lead.as_mut()
                && !l.holds().await
            {
                tracing::warn!(job = name, "lost leadership");
                if let Some(l) = lead.take() {
                    l.release().await;
                }
            }
            if lead.is_none() {
                match Leader::try_acquire(&url, &data_dir, name).await {
                    Ok(Some(l)) => {
                        tracing::info!(job = name, pid = std::process::id(), "became leader");
                        lead = Some(l);
                    }
                    Ok(None) => {}
                    Err(e) => tracing::warn!(job = name, error = %e, "cannot try to lead"),
                }
            }
            if lead.is_some() {
                job().await;
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_file_lock_holder_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let url = "sqlite://x.db";
        let mut a = Leader::try_acquire(url, dir.path(), "job")
            .await
            .unwrap()
            .expect("the first takes the lead");
        assert!(a.holds().await);
        assert!(
            Leader::try_acquire(url, dir.path(), "job")
                .await
                .unwrap()
                .is_none(),
            "a second holder is refused while the first leads"
        );
        assert!(
            Leader::try_acquire(url, dir.path(), "other")
                .await
                .unwrap()
                .is_some(),
            "another job has its own lock"
        );
        a.release().await;
        assert!(
            Leader::try_acquire(url, dir.path(), "job")
                .await
                .unwrap()
                .is_some(),
            "released: another may lead"
        );
    }

    #[test]
    fn lock_names_fit_mysql() {
        assert_eq!(mysql_name("fuzhi", "rollup"), "fuzhi:fuzhi:rollup");
        assert!(mysql_name(&"x".repeat(80), "rollup").len() <= 64);
        assert_ne!(pg_key("rollup"), pg_key("other"));
    }
}
