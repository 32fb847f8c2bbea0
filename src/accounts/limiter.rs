//! Sign-in throttling. Failures are counted per key in a window; a key that
//! reaches its limit is locked, for the window the first time and twice as long
//! at each lockout after that (up to a day), until a quiet day forgets it.
//!
//! `signin` keys failures by (login, client address) and by client address,
//! never by login alone: a stranger who types wrong passwords for someone's
//! login locks out only himself, and the owner signing in from an address that
//! has not been failing is never refused.
//!
//! The counts live in the database (`signin_throttle`, one row a key), so that
//! every `serve` process sharing it sees the same lockouts: a lockout reached
//! through one process holds on all the others at once. A sign-in reads its
//! keys with one indexed statement (`throttle_key IN (…)`); a success deletes
//! its (login, address) row. A failure updates its keys in one write
//! transaction: the missing rows are inserted first (a no-op for rows that
//! exist), then read `FOR UPDATE` (on SQLite the transaction holds the write
//! lock from its start), the next state is computed here and written back, so
//! two processes counting failures of one key at the same moment both count.
//! Keys are always taken in the same order, so two such transactions wait for
//! each other rather than deadlock; a transaction that fails anyway is tried
//! again, twice. Rows quiet for a day are deleted by `prune`, which `serve`
//! runs every hour. Times are Unix seconds of this process's clock, which
//! tests move forward instead of sleeping.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, Ordering};

use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, Value};

use crate::db::{marks, stmt};

#[derive(Default)]
pub struct Clock {
    offset_secs: AtomicI64,
}

impl Clock {
    pub fn now(&self) -> i64 {
        chrono::Utc::now().timestamp() + self.offset_secs.load(Ordering::Relaxed)
    }
    /// Moves this clock forward (tests).
    pub fn advance(&self, secs: i64) {
        self.offset_secs.fetch_add(secs, Ordering::Relaxed);
    }
}

/// The longest lockout, and how long a key must stay quiet to be forgotten.
pub const MAX_LOCK_SECS: i64 = 24 * 3600;

/// How often `serve` deletes the rows of keys quiet for a day.
pub const PRUNE_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// The state of one key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Entry {
    pub window_start: i64,
    pub failures: u32,
    /// Lockouts so far: the next one lasts `window << lockouts`.
    pub lockouts: u32,
    pub locked_until: i64,
    pub last_failure: i64,
}

impl Entry {
    /// Counts a failure at `now` in a window of `window` seconds. When it
    /// reaches `max` the key is locked: `Some(lock_secs)` for the failure that
    /// locked it (once per lockout), else `None`.
    pub fn fail(&mut self, now: i64, window: i64, max: u32) -> Option<u64> {
        if self.last_failure + MAX_LOCK_SECS <= now {
            *self = Entry::default();
        }
        self.last_failure = now;
        if self.locked_until > now {
            return None;
        }
        if self.window_start + window <= now {
            self.window_start = now;
            self.failures = 0;
        }
        self.failures = self.failures.saturating_add(1);
        if self.failures < max.max(1) {
            return None;
        }
        let secs = (window << self.lockouts.min(16)).min(MAX_LOCK_SECS);
        self.lockouts += 1;
        self.locked_until = now + secs;
        self.failures = 0;
        self.window_start = now;
        Some(secs as u64)
    }
}

/// The first wait after an account's free failures; each next failure
/// doubles it.
pub const ACCOUNT_BASE_DELAY: i64 = 30;
/// The longest wait between two verifications of one account's password by
/// clients that have not signed in to it before: one guess every 15 minutes.
pub const ACCOUNT_MAX_DELAY: i64 = 15 * 60;

/// The wait an account earns with `failures` failures in a row, the first
/// `free` of them without one.
pub fn account_delay(failures: u32, free: u32) -> i64 {
    if failures < free {
        return 0;
    }
    (ACCOUNT_BASE_DELAY << (failures - free).min(16)).min(ACCOUNT_MAX_DELAY)
}

/// What `Limiter::reserve` decided for one sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reserve {
    /// Verify the password: the attempt is already counted as a failure.
    /// `failures_before`: failures in a row before this one (for the notice
    /// to the account's owner); `delayed`: this attempt started the waits.
    Admitted { failures_before: u32, delayed: bool },
    /// Not verified; try again after this many seconds.
    Wait(u64),
}

impl Entry {
    /// One reservation of an account key at `now` (see `Limiter::reserve`).
    pub fn reserve(&mut self, now: i64, free: u32, hot: Option<u64>) -> Reserve {
        if self.last_failure + MAX_LOCK_SECS <= now {
            *self = Entry::default();
        }
        let waiting = (self.locked_until - now).max(0) as u64;
        if let Some(hot) = hot
            && self.failures > 0
        {
            return Reserve::Wait(hot.max(waiting).max(1));
        }
        if waiting > 0 {
            return Reserve::Wait(waiting);
        }
        let free = if hot.is_some() { 0 } else { free };
        let before = self.failures;
        self.failures = self.failures.saturating_add(1);
        self.last_failure = now;
        let delay = account_delay(self.failures, free);
        self.locked_until = now + delay;
        Reserve::Admitted {
            failures_before: before,
            delayed: delay > 0 && account_delay(before, free) == 0,
        }
    }
}

/// The keys of one sign-in as they were when it started.
pub struct Snapshot {
    now: i64,
    window: i64,
    entries: BTreeMap<String, Entry>,
}

impl Snapshot {
    /// `Some(retry_after)` while `key` is locked.
    pub fn locked(&self, key: &str) -> Option<u64> {
        let e = self.entries.get(key)?;
        (e.locked_until > self.now).then(|| (e.locked_until - self.now) as u64)
    }

    /// Failures in a row of an account key, forgotten after a quiet day.
    pub fn recent_failures(&self, key: &str) -> u32 {
        self.entries
            .get(key)
            .filter(|e| e.last_failure + MAX_LOCK_SECS > self.now)
            .map_or(0, |e| e.failures)
    }

    /// Failures of `key` in the current window.
    pub fn failures(&self, key: &str) -> u32 {
        self.entries
            .get(key)
            .filter(|e| e.window_start + self.window > self.now)
            .map_or(0, |e| e.failures)
    }
}

pub struct Limiter {
    window: i64,
    pub clock: Clock,
}

const COLUMNS: &str = "throttle_key, window_start, failures, lockouts, locked_until, last_failure";

fn entry_of(r: &sea_orm::QueryResult) -> Result<(String, Entry), DbErr> {
    let small = |i: usize| -> Result<u32, DbErr> {
        let v: i64 = match r.try_get_by_index::<i64>(i) {
            Ok(v) => v,
            Err(_) => r.try_get_by_index::<i32>(i)?.into(),
        };
        Ok(v.clamp(0, u32::MAX.into()) as u32)
    };
    Ok((
        r.try_get_by_index::<String>(0)?,
        Entry {
            window_start: r.try_get_by_index(1)?,
            failures: small(2)?,
            lockouts: small(3)?,
            locked_until: r.try_get_by_index(4)?,
            last_failure: r.try_get_by_index(5)?,
        },
    ))
}

impl Limiter {
    pub fn new(window_secs: u64) -> Limiter {
        Limiter {
            window: (window_secs.max(1) as i64).min(MAX_LOCK_SECS),
            clock: Clock::default(),
        }
    }

    /// The state of these keys now: one indexed statement.
    pub async fn read(&self, db: &impl ConnectionTrait, keys: &[&str]) -> Result<Snapshot, DbErr> {
        let now = self.clock.now();
        let backend = db.get_database_backend();
        let rows = db
            .query_all_raw(stmt(
                backend,
                &format!(
                    "SELECT {COLUMNS} FROM signin_throttle WHERE throttle_key IN ({})",
                    marks(keys.len())
                ),
                keys.iter().map(|k| Value::from(*k)).collect(),
            ))
            .await?;
        let entries = rows.iter().map(entry_of).collect::<Result<_, _>>()?;
        Ok(Snapshot {
            now,
            window: self.window,
            entries,
        })
    }

    /// Counts a failure of each `(key, max)`, atomically across processes.
    /// For each, `Some(lock_secs)` when this failure locked the key.
    pub async fn fail(
        &self,
        db: &DatabaseConnection,
        keys: &[(&str, u32)],
    ) -> Result<Vec<Option<u64>>, DbErr> {
        thrice("sign-in throttle update", || self.fail_once(db, keys)).await
    }

    async fn fail_once(
        &self,
        db: &DatabaseConnection,
        keys: &[(&str, u32)],
    ) -> Result<Vec<Option<u64>>, DbErr> {
        let now = self.clock.now();
        let backend = db.get_database_backend();
        // One order for every transaction: waits, not deadlocks.
        let mut sorted: Vec<&str> = keys.iter().map(|(k, _)| *k).collect();
        sorted.sort_unstable();
        sorted.dedup();
        let values: Vec<Value> = sorted.iter().map(|k| Value::from(*k)).collect();
        let rows = vec!["(?)"; sorted.len()].join(", ");
        let insert = match backend {
            DatabaseBackend::MySql => format!(
                "INSERT INTO signin_throttle (throttle_key) VALUES {rows} \
                 ON DUPLICATE KEY UPDATE throttle_key = throttle_key"
            ),
            _ => format!(
                "INSERT INTO signin_throttle (throttle_key) VALUES {rows} \
                 ON CONFLICT (throttle_key) DO NOTHING"
            ),
        };
        let lock = if backend == DatabaseBackend::Sqlite {
            ""
        } else {
            " FOR UPDATE"
        };
        let txn = crate::db::begin_write(db).await?;
        txn.execute_raw(stmt(backend, &insert, values.clone()))
            .await?;
        let found = txn
            .query_all_raw(stmt(
                backend,
                &format!(
                    "SELECT {COLUMNS} FROM signin_throttle WHERE throttle_key IN ({}) \
                     ORDER BY throttle_key{lock}",
                    marks(sorted.len())
                ),
                values,
            ))
            .await?;
        let mut entries: BTreeMap<String, Entry> =
            found.iter().map(entry_of).collect::<Result<_, _>>()?;
        let mut out = Vec::with_capacity(keys.len());
        for (key, max) in keys {
            let e = entries.entry(key.to_string()).or_default();
            out.push(e.fail(now, self.window, *max));
        }
        for key in &sorted {
            let e = entries.get(*key).copied().unwrap_or_default();
            txn.execute_raw(stmt(
                backend,
                "UPDATE signin_throttle SET window_start = ?, failures = ?, lockouts = ?, \
                 locked_until = ?, last_failure = ? WHERE throttle_key = ?",
                vec![
                    e.window_start.into(),
                    i64::from(e.failures).into(),
                    i64::from(e.lockouts).into(),
                    e.locked_until.into(),
                    e.last_failure.into(),
                    (*key).into(),
                ],
            ))
            .await?;
        }
        txn.commit().await?;
        Ok(out)
    }

    /// Reserves one verification of an account's password before it is
    /// checked (see `Reserve`), atomically across processes: the row is
    /// read `FOR UPDATE` in a write transaction, the failure is counted as
    /// if the password were wrong, and the delay it earns is written before
    /// any password is verified. A success then forgets the key (`clear`).
    /// `free` failures in a row pass without delay; after them each failure
    /// doubles the wait, from `ACCOUNT_BASE_DELAY` up to `ACCOUNT_MAX_DELAY`.
    /// `hot`: the client address is itself locked (`Some(its retry)`); it may
    /// still try an account that has no recent failures, once, with no free
    /// tries, so a village behind one address keeps signing in while an
    /// attacker there gets one guess an account a day.
    pub async fn reserve(
        &self,
        db: &DatabaseConnection,
        key: &str,
        free: u32,
        hot: Option<u64>,
    ) -> Result<Reserve, DbErr> {
        thrice("sign-in reservation", || {
            self.reserve_once(db, key, free, hot)
        })
        .await
    }

    async fn reserve_once(
        &self,
        db: &DatabaseConnection,
        key: &str,
        free: u32,
        hot: Option<u64>,
    ) -> Result<Reserve, DbErr> {
        let now = self.clock.now();
        let backend = db.get_database_backend();
        let insert = match backend {
            DatabaseBackend::MySql => {
                "INSERT INTO signin_throttle (throttle_key) VALUES (?) \
                 ON DUPLICATE KEY UPDATE throttle_key = throttle_key"
            }
            _ => {
                "INSERT INTO signin_throttle (throttle_key) VALUES (?) \
                 ON CONFLICT (throttle_key) DO NOTHING"
            }
        };
        let lock = if backend == DatabaseBackend::Sqlite {
            ""
        } else {
            " FOR UPDATE"
        };
        let txn = crate::db::begin_write(db).await?;
        txn.execute_raw(stmt(backend, insert, vec![key.into()]))
            .await?;
        let found = txn
            .query_one_raw(stmt(
                backend,
                &format!("SELECT {COLUMNS} FROM signin_throttle WHERE throttle_key = ?{lock}"),
                vec![key.into()],
            ))
            .await?;
        let mut e = match found {
            Some(r) => entry_of(&r)?.1,
            None => Entry::default(),
        };
        let decision = e.reserve(now, free, hot);
        if matches!(decision, Reserve::Admitted { .. }) {
            txn.execute_raw(stmt(
                backend,
                "UPDATE signin_throttle SET failures = ?, locked_until = ?, last_failure = ? \
                 WHERE throttle_key = ?",
                vec![
                    i64::from(e.failures).into(),
                    e.locked_until.into(),
                    e.last_failure.into(),
                    key.into(),
                ],
            ))
            .await?;
        }
        txn.commit().await?;
        Ok(decision)
    }

    /// Forgets `key` (a successful sign-in).
    pub async fn clear(&self, db: &impl ConnectionTrait, key: &str) -> Result<(), DbErr> {
        db.execute_raw(stmt(
            db.get_database_backend(),
            "DELETE FROM signin_throttle WHERE throttle_key = ?",
            vec![key.into()],
        ))
        .await?;
        Ok(())
    }

    /// Deletes the rows of keys quiet for a day and not locked; how many.
    pub async fn prune(&self, db: &impl ConnectionTrait) -> Result<u64, DbErr> {
        let now = self.clock.now();
        let r = db
            .execute_raw(stmt(
                db.get_database_backend(),
                "DELETE FROM signin_throttle WHERE last_failure < ? AND locked_until < ?",
                vec![(now - MAX_LOCK_SECS).into(), now.into()],
            ))
            .await?;
        Ok(r.rows_affected())
    }
}

/// Runs a throttle transaction up to three times, at once, whatever failed:
/// two requests for one key may both find no row and both insert it, and
/// the one that loses finds it the next time.
async fn thrice<T, Fut>(what: &str, mut op: impl FnMut() -> Fut) -> Result<T, DbErr>
where
    Fut: std::future::Future<Output = Result<T, DbErr>>,
{
    let mut tries = 0;
    loop {
        tries += 1;
        match op().await {
            Err(e) if tries < 3 => tracing::debug!(error = %e, what, "tried again"),
            r => return r,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservations_are_counted_before_the_check_and_slow_down() {
        let mut e = Entry::default();
        let now = 1_000_000;
        for i in 0..4 {
            assert_eq!(
                e.reserve(now, 5, None),
                Reserve::Admitted {
                    failures_before: i,
                    delayed: false
                }
            );
        }
        assert_eq!(
            e.reserve(now, 5, None),
            Reserve::Admitted {
                failures_before: 4,
                delayed: true
            }
        );
        // The burst behind it waits, whatever it carries.
        assert_eq!(e.reserve(now, 5, None), Reserve::Wait(30));
        assert_eq!(
            e.reserve(now + 31, 5, None),
            Reserve::Admitted {
                failures_before: 5,
                delayed: false
            }
        );
        assert_eq!(e.reserve(now + 31, 5, None), Reserve::Wait(60));
        // Bounded.
        assert_eq!(account_delay(40, 5), ACCOUNT_MAX_DELAY);
        // A locked address tries a clean account once, never one with failures.
        let mut clean = Entry::default();
        assert!(matches!(
            clean.reserve(now, 5, Some(600)),
            Reserve::Admitted { .. }
        ));
        assert_eq!(clean.reserve(now + 100, 5, Some(500)), Reserve::Wait(500));
        // A quiet day forgets.
        assert!(matches!(
            e.reserve(now + MAX_LOCK_SECS + 40, 5, None),
            Reserve::Admitted {
                failures_before: 0,
                ..
            }
        ));
    }

    #[test]
    fn lockouts_grow_and_end() {
        let mut e = Entry::default();
        let mut now = 1_000_000;
        for _ in 0..2 {
            assert_eq!(e.fail(now, 60, 3), None);
        }
        assert_eq!(e.fail(now, 60, 3), Some(60));
        assert!(e.locked_until > now);
        // Failures while locked neither count nor lock again.
        assert_eq!(e.fail(now, 60, 3), None);
        now += 61;
        assert!(e.locked_until <= now);
        for _ in 0..2 {
            assert_eq!(e.fail(now, 60, 3), None);
        }
        assert_eq!(
            e.fail(now, 60, 3),
            Some(120),
            "the second lockout is twice as long"
        );
        now += MAX_LOCK_SECS + 1;
        assert_eq!(e.fail(now, 60, 3), None, "a quiet day forgets the key");
        assert_eq!(e.failures, 1);
        assert_eq!(e.lockouts, 0);
    }
}
