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
//! - MariaDB/MySQL: a lease, one row of `leader_lease` per job, taken by a
//!   conditional update (`holder = me OR expires_at < NOW(6)`) and renewed by
//!   the holder while it leads. Not `GET_LOCK`: its locks are local to one
//!   server and a Galera cluster does not replicate them, so processes on
//!   different nodes would each lead. The row is replicated like any write;
//!   when two nodes grant it at once, certification aborts one of the two
//!   commits (a deadlock error), and that process simply does not lead.
//! - SQLite: an exclusive lock of a file in the data folder (`flock`), for the
//!   processes of one machine that share the file.
//!
//! PostgreSQL releases an advisory lock when the holder's connection ends,
//! and a killed process's connections end with it (its kernel closes the
//! sockets), so another process takes over at its next try: within one retry
//! interval of the kill. A leader that stops answering without closing its
//! sockets (a host lost from the network) holds the lock until the server's
//! TCP keepalive gives the connection up. A MariaDB lease ends `LEASE_TICKS`
//! intervals after its last renewal, killed holder or lost host alike: the
//! next try after that takes it ([`handover_bound`]). Lease times are the
//! database nodes' clocks (keep them in step with NTP, as Galera wants
//! anyway). Each process checks (and renews), before each run and every
//! interval while a run lasts, that it still leads; if not, it logs "lost
//! leadership" and only tries again.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sea_orm::sqlx::{self, Connection};

/// How long connecting or checking the lock may take.
const TIMEOUT: Duration = Duration::from_secs(10);

enum Held {
    Postgres(sqlx::PgConnection),
    /// A `GET_LOCK` held by this connection, and its name.
    MySqlLock(sqlx::MySqlConnection, String),
    /// The connection and this process's holder id of a lease.
    MySql(sqlx::MySqlConnection, String),
    File(std::fs::File, PathBuf),
}

/// Held while leading; dropping it (or the process ending) lets another lead.
pub struct Leader {
    name: String,
    ttl: Duration,
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

/// A MariaDB/MySQL lease lasts this many retry intervals past its renewal.
pub const LEASE_TICKS: u32 = 3;

/// How long after a leader is killed another process runs its job, at most
/// (plus the run itself): the next try on PostgreSQL and SQLite, the lease's
/// end and the next try on MariaDB/MySQL.
pub fn handover_bound(url: &str, every: Duration) -> Duration {
    if is_mysql(url) {
        every * (LEASE_TICKS + 1)
    } else {
        every
    }
}

fn is_mysql(url: &str) -> bool {
    let u = url.to_ascii_lowercase();
    u.starts_with("mysql:") || u.starts_with("mariadb:")
}

/// Takes or renews the lease `name` for `holder`: whether this holder leads.
/// A write that lost a Galera certification race leads nowhere: `false`.
async fn take_lease(
    c: &mut sqlx::MySqlConnection,
    name: &str,
    holder: &str,
    ttl: Duration,
    take: bool,
) -> anyhow::Result<bool> {
    let sql = if take {
        "UPDATE leader_lease SET holder = ?, expires_at = NOW(6) + INTERVAL ? MICROSECOND \
         WHERE name = ? AND (holder = ? OR expires_at < NOW(6))"
    } else {
        "UPDATE leader_lease SET holder = ?, expires_at = NOW(6) + INTERVAL ? MICROSECOND \
         WHERE name = ? AND holder = ? AND expires_at >= NOW(6)"
    };
    let res = timed(
        "leader_lease",
        sqlx::query(sql)
            .bind(holder)
            .bind(ttl.as_micros() as i64)
            .bind(name)
            .bind(holder)
            .execute(&mut *c),
    )
    .await;
    match res {
        Ok(r) => Ok(r.rows_affected() == 1),
        Err(e) if e.to_string().contains("1213") || e.to_string().contains("40001") => Ok(false),
        Err(e) => Err(e),
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
    /// `lease`: on MariaDB/MySQL, take a replicated lease lasting that long
    /// past each renewal; `None`: a `GET_LOCK` on this connection, which
    /// holds on one server only (enough for migrations, which a cluster
    /// takes through one node).
    pub async fn try_acquire(
        url: &str,
        data_dir: &Path,
        name: &str,
        lease: Option<Duration>,
    ) -> anyhow::Result<Option<Leader>> {
        let ttl = lease.unwrap_or_default();
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
                    ttl,
                    held: Held::Postgres(c),
                }))
            }
            "mysql" | "mariadb" => {
                let url = url.replacen("mariadb", "mysql", 1);
                let mut c = timed("connect", sqlx::MySqlConnection::connect(&url)).await?;
                if lease.is_none() {
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
                    return Ok(Some(Leader {
                        name: name.to_string(),
                        ttl,
                        held: Held::MySqlLock(c, lock),
                    }));
                }
                timed(
                    "leader_lease",
                    sqlx::query(
                        "INSERT IGNORE INTO leader_lease (name, holder, expires_at) \
                         VALUES (?, '', NOW(6) - INTERVAL 1 SECOND)",
                    )
                    .bind(name)
                    .execute(&mut c),
                )
                .await?;
                let holder = format!("{}:{}", std::process::id(), uuid::Uuid::new_v4());
                if !take_lease(&mut c, name, &holder, ttl, true).await? {
                    let _ = c.close().await;
                    return Ok(None);
                }
                Ok(Some(Leader {
                    name: name.to_string(),
                    ttl,
                    held: Held::MySql(c, holder),
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
                        ttl,
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
    /// and the server says the lock is its own); renews a lease.
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
            Held::MySql(c, holder) => take_lease(c, &self.name, holder, self.ttl, false).await,
            Held::MySqlLock(c, lock) => timed(
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
            Held::MySqlLock(c, _) => {
                let _ = c.close().await;
            }
            Held::MySql(mut c, holder) => {
                // Ends the lease now, so that another need not wait for it.
                let _ = sqlx::query(
                    "UPDATE leader_lease SET expires_at = NOW(6) - INTERVAL 1 SECOND \
                     WHERE name = ? AND holder = ?",
                )
                .bind(&self.name)
                .bind(&holder)
                .execute(&mut c)
                .await;
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
/// When `stop` says so it ends after the run under way and gives up the lead
/// at once, so that another process need not wait for the lease to expire.
pub fn spawn_led<F, Fut>(
    url: String,
    data_dir: PathBuf,
    name: &'static str,
    every: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
    job: F,
) -> tokio::task::JoinHandle<()>
where
    F: Fn() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut lead: Option<Leader> = None;
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stop.changed() => break,
            }
            if let Some(l) = lead.as_mut()
                && !l.holds().await
            {
                tracing::warn!(job = name, "lost leadership");
                if let Some(l) = lead.take() {
                    l.release().await;
                }
            }
            if lead.is_none() {
                match Leader::try_acquire(&url, &data_dir, name, Some(every * LEASE_TICKS)).await {
                    Ok(Some(l)) => {
                        tracing::info!(job = name, pid = std::process::id(), "became leader");
                        lead = Some(l);
                    }
                    Ok(None) => {}
                    Err(e) => tracing::warn!(job = name, error = %e, "cannot try to lead"),
                }
            }
            if let Some(l) = lead.as_mut() {
                // A long run (the daily rebuild) keeps its lease alive.
                let run = job();
                tokio::pin!(run);
                loop {
                    tokio::select! {
                        _ = &mut run => break,
                        _ = tokio::time::sleep(every) => {
                            if !l.holds().await {
                                tracing::warn!(job = name, "lease not renewed during a run");
                            }
                        }
                    }
                }
            }
        }
        if let Some(l) = lead.take() {
            l.release().await;
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_file_lock_holder_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let url = "sqlite://x.db";
        let ttl = Some(Duration::from_secs(3));
        let mut a = Leader::try_acquire(url, dir.path(), "job", ttl)
            .await
            .unwrap()
            .expect("the first takes the lead");
        assert!(a.holds().await);
        assert!(
            Leader::try_acquire(url, dir.path(), "job", ttl)
                .await
                .unwrap()
                .is_none(),
            "a second holder is refused while the first leads"
        );
        assert!(
            Leader::try_acquire(url, dir.path(), "other", ttl)
                .await
                .unwrap()
                .is_some(),
            "another job has its own lock"
        );
        a.release().await;
        assert!(
            Leader::try_acquire(url, dir.path(), "job", ttl)
                .await
                .unwrap()
                .is_some(),
            "released: another may lead"
        );
    }

    /// A led job that is told to stop finishes the run under way, then gives
    /// up the lead at once: another process leads without waiting.
    #[tokio::test]
    async fn a_stopped_job_ends_its_run_and_gives_up_the_lead() {
        let dir = tempfile::tempdir().unwrap();
        let url = "sqlite://x.db";
        let (ran_tx, mut ran) = tokio::sync::mpsc::unbounded_channel::<()>();
        let gate = std::sync::Arc::new(tokio::sync::Semaphore::new(0));
        let (stop, stop_rx) = tokio::sync::watch::channel(false);
        let g = gate.clone();
        let handle = spawn_led(
            url.into(),
            dir.path().to_path_buf(),
            "job",
            Duration::from_secs(3600),
            stop_rx,
            move || {
                let (ran_tx, g) = (ran_tx.clone(), g.clone());
                async move {
                    let _ = ran_tx.send(());
                    // The run lasts until the test lets it end.
                    g.acquire().await.unwrap().forget();
                }
            },
        );
        ran.recv().await.expect("the job leads and runs");
        let ttl = Some(Duration::from_secs(3600));
        assert!(
            Leader::try_acquire(url, dir.path(), "job", ttl)
                .await
                .unwrap()
                .is_none(),
            "another process cannot lead while the job does"
        );
        stop.send(true).unwrap();
        tokio::task::yield_now().await;
        assert!(!handle.is_finished(), "the run under way is not cut short");
        gate.add_permits(1);
        tokio::time::timeout(Duration::from_secs(30), handle)
            .await
            .expect("the job stops when told")
            .unwrap();
        assert!(
            Leader::try_acquire(url, dir.path(), "job", ttl)
                .await
                .unwrap()
                .is_some(),
            "stopped: the lead is free at once"
        );
        assert!(ran.try_recv().is_err(), "no run after the stop");
    }

    #[test]
    fn keys_and_bounds() {
        assert_eq!(mysql_name("fuzhi", "rollup"), "fuzhi:fuzhi:rollup");
        assert!(mysql_name(&"x".repeat(80), "rollup").len() <= 64);
        assert_ne!(pg_key("rollup"), pg_key("other"));
        let s = Duration::from_secs(1);
        assert_eq!(handover_bound("postgres://x/y", s), s);
        assert_eq!(handover_bound("mysql://x/y", s), s * (LEASE_TICKS + 1));
    }
}
