//! Connecting: the URL scheme picks SQLite, PostgreSQL or MySQL/MariaDB.
//! SQLite gets WAL, foreign keys, a busy timeout and `synchronous=FULL` on every
//! connection, so an accepted write survives a crash or power loss.

use std::path::Path;
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection};

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

/// Hides the password of a URL for messages.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

pub async fn connect(url: &str, max_connections: u32) -> Result<DatabaseConnection, DbSetupError> {
    let scheme = url
        .split(':')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    match scheme.as_str() {
        "sqlite" => prepare_sqlite_path(url)?,
        "postgres" | "postgresql" | "mysql" | "mariadb" => {}
        _ => return Err(DbSetupError::Scheme(scheme)),
    }
    let url = if scheme == "mariadb" {
        url.replacen("mariadb", "mysql", 1)
    } else {
        url.to_string()
    };
    let db = open(&url, max_connections).await?;
    if utf8mb4_by_default(&db).await? {
        // A session keeps the database's character set of when it started:
        // start every session again.
        db.close().await.ok();
        return open(&url, max_connections).await;
    }
    Ok(db)
}

async fn open(url: &str, max_connections: u32) -> Result<DatabaseConnection, DbSetupError> {
    let url = url.to_string();
    let mut opts = ConnectOptions::new(url.clone());
    opts.max_connections(max_connections.max(1))
        .min_connections(1)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|o: SqliteConnectOptions| {
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(BUSY_TIMEOUT)
                .create_if_missing(true)
        })
        .map_sqlx_sqlite_pool_opts(|p| {
            p.after_release(|conn, _| Box::pin(async move { Ok(sqlite_settled(conn).await) }))
        });
    if let Some(port) = server_port(&url) {
        opts.map_sqlx_postgres_pool_opts(move |p| {
            p.after_connect(move |_, _| {
                Box::pin(async move {
                    nodelay_to(port);
                    Ok(())
                })
            })
        })
        .map_sqlx_mysql_pool_opts(move |p| {
            p.after_connect(move |_, _| {
                Box::pin(async move {
                    nodelay_to(port);
                    Ok(())
                })
            })
        });
    }
    let db = Database::connect(opts)
        .await
        .map_err(|e| DbSetupError::Connect {
            url: redact_url(&url),
            reason: short(&e.to_string()),
        })?;
    // Fail now, not at the first request, if the server is unreachable.
    db.execute_unprepared("SELECT 1")
        .await
        .map_err(|e| DbSetupError::Connect {
            url: redact_url(&url),
            reason: short(&e.to_string()),
        })?;
    Ok(db)
}

/// How long a request waits for a pooled connection before it is answered
/// 503: short, so that in an outage every request (and `/healthz`) fails
/// fast instead of queueing behind the ones already waiting.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(2);

/// How long an SQLite write waits for the single writer's lock before it
/// fails as busy (answered 503 with Retry-After, never 500).
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Whether an SQLite connection given back to the pool is outside any
/// transaction, both as SQLite sees it and as the driver counts it. After
/// `SQLITE_FULL`, `SQLITE_IOERR` or `SQLITE_NOMEM` SQLite may roll a
/// transaction back by itself, a `ROLLBACK TO SAVEPOINT` or a `COMMIT` then
/// fails, and the two counts part: the driver would open a savepoint (that
/// is, a new transaction) where it means to begin one, and "commit" by
/// releasing it, or keep the write lock for good. Such a connection is
/// closed, never reused. Taking the handle waits for the rollback a dropped
/// transaction queued, so the check sees its outcome.
async fn sqlite_settled(conn: &mut sea_orm::sqlx::SqliteConnection) -> bool {
    use sea_orm::sqlx::Connection;
    let autocommit = match conn.lock_handle().await {
        // SAFETY: the handle is locked out of the connection's worker
        // thread for the duration of the call, as `lock_handle` requires;
        // `sqlite3_get_autocommit` only reads the connection's state.
        Ok(mut h) => unsafe {
            libsqlite3_sys::sqlite3_get_autocommit(h.as_raw_handle().as_ptr()) != 0
        },
        Err(_) => false,
    };
    let settled = autocommit && !conn.is_in_transaction();
    if !settled {
        tracing::warn!(
            "an SQLite connection came back inside a transaction after an error; it is closed"
        );
    }
    settled
}

pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbSetupError> {
    Migrator::up(db, None)
        .await
        .map_err(|e| DbSetupError::Migrate(short(&e.to_string())))
}

/// On MariaDB/MySQL, tables take the database's character set when they are
/// created; a server whose default is latin1 would refuse every Chinese name.
/// So the database is made utf8mb4 before the first table exists (a no-op
/// when it already is). Whether it changed.
async fn utf8mb4_by_default(db: &DatabaseConnection) -> Result<bool, DbSetupError> {
    if db.get_database_backend() != DatabaseBackend::MySql {
        return Ok(false);
    }
    let fail = |e: sea_orm::DbErr| DbSetupError::Migrate(short(&e.to_string()));
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            DatabaseBackend::MySql,
            "SELECT @@character_set_database",
        ))
        .await
        .map_err(fail)?;
    let current: String = row
        .and_then(|r| r.try_get_by_index(0).ok())
        .unwrap_or_default();
    if current != "utf8mb4" {
        db.execute_unprepared(
            "ALTER DATABASE CHARACTER SET = utf8mb4 COLLATE = utf8mb4_general_ci",
        )
        .await
        .map_err(fail)?;
        return Ok(true);
    }
    Ok(false)
}

/// The TCP port of a PostgreSQL or MySQL/MariaDB URL (none for SQLite or a
/// Unix socket given by `?host=/path` or `?socket=`).
fn server_port(url: &str) -> Option<u16> {
    let u = url::Url::parse(url).ok()?;
    if u.query_pairs()
        .any(|(k, v)| (k == "host" && v.starts_with('/')) || k == "socket")
    {
        return None;
    }
    match u.scheme() {
        "postgres" | "postgresql" => Some(u.port().unwrap_or(5432)),
        "mysql" | "mariadb" => Some(u.port().unwrap_or(3306)),
        _ => None,
    }
}

/// Sets `TCP_NODELAY` on this process's TCP sockets to `port`.
///
/// sqlx 0.9.0 no longer sets it on the sockets it opens (sqlx issue #4335,
/// fixed upstream by #4336, in no release yet). Without it a statement whose
/// message ends in a second TCP segment waits for the server's delayed ACK,
/// 40 ms on Linux: a batch of the event writer (a few large multi-row
/// statements) took 0.4 s on PostgreSQL over TCP and 50 ms over a Unix
/// socket. Each new pool connection calls this once it is open; sockets
/// already set are set again, which changes nothing. Remove it when sqlx
/// sets the option itself.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn nodelay_to(port: u16) {
    let Ok(dir) = std::fs::read_dir("/proc/self/fd") else {
        return;
    };
    for entry in dir.flatten() {
        let Some(fd) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok())
        else {
            continue;
        };
        let is_socket = std::fs::read_link(entry.path())
            .is_ok_and(|t| t.to_string_lossy().starts_with("socket:"));
        if !is_socket {
            continue;
        }
        // SAFETY: getpeername writes at most `len` bytes into `addr`, a
        // zeroed sockaddr_storage large enough for any address family; the
        // casts read the port of the family it reported. setsockopt reads
        // one c_int. On an fd closed or reused meanwhile both fail or set a
        // harmless option.
        unsafe {
            let mut addr: libc::sockaddr_storage = std::mem::zeroed();
            let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            if libc::getpeername(fd, (&raw mut addr).cast(), &mut len) != 0 {
                continue;
            }
            let peer = match i32::from(addr.ss_family) {
                libc::AF_INET => {
                    u16::from_be((*(&raw const addr).cast::<libc::sockaddr_in>()).sin_port)
                }
                libc::AF_INET6 => {
                    u16::from_be((*(&raw const addr).cast::<libc::sockaddr_in6>()).sin6_port)
                }
                _ => continue,
            };
            if peer != port {
                continue;
            }
            let one: libc::c_int = 1;
            libc::setsockopt(
                fd,
                libc::IPPROTO_TCP,
                libc::TCP_NODELAY,
                (&raw const one).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            );
        }
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn nodelay_to(_port: u16) {}

/// How far a PostgreSQL streaming replica is behind its primary, in seconds:
/// 0 when it has replayed all it received, else the age of the last
/// transaction it replayed (what a page read from it may miss). `None` for
/// other engines, a server that is not a replica, or an error.
pub async fn replica_lag_secs(replica: &DatabaseConnection) -> Option<f64> {
    if replica.get_database_backend() != DatabaseBackend::Postgres {
        return None;
    }
    let row = replica
        .query_one_raw(sea_orm::Statement::from_string(
            DatabaseBackend::Postgres,
            "SELECT CASE WHEN NOT pg_is_in_recovery() THEN NULL \
             WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 \
             ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0) \
             END::float8",
        ))
        .await
        .map_err(|e| tracing::warn!(error = %e, "cannot read the replica's lag"))
        .ok()??;
    row.try_get_by_index::<Option<f64>>(0)
        .ok()
        .flatten()
        .map(|s| s.max(0.0))
}

/// Runs the migrations in one process at a time: processes started together
/// on one database wait for the first to finish (on PostgreSQL and
/// MariaDB/MySQL, through the lock of `crate::leader`; SQLite's own write
/// lock already serialises them).
pub async fn migrate_once(
    db: &DatabaseConnection,
    url: &str,
    data_dir: &Path,
) -> anyhow::Result<()> {
    if is_sqlite(db) {
        migrate(db).await?;
        return Ok(());
    }
    let started = std::time::Instant::now();
    let lock = loop {
        if let Some(l) = crate::leader::Leader::try_acquire(url, data_dir, "migrate", None).await? {
            break l;
        }
        if started.elapsed() > Duration::from_secs(600) {
            anyhow::bail!("another process has been migrating the database for 10 minutes");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let r = migrate(db).await;
    lock.release().await;
    Ok(r?)
}

pub fn is_sqlite(db: &impl ConnectionTrait) -> bool {
    db.get_database_backend() == DatabaseBackend::Sqlite
}

fn short(s: &str) -> String {
    s.lines().next().unwrap_or_default().to_string()
}

/// Creates the folder of a SQLite file and checks it can be written, so that a
/// bad path gives one clear line instead of a driver error.
fn prepare_sqlite_path(url: &str) -> Result<(), DbSetupError> {
    let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" || rest.contains("mode=memory") {
        return Ok(());
    }
    let err = |reason: String| DbSetupError::SqlitePath {
        path: path.to_string(),
        reason,
    };
    let p = Path::new(path);
    if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| err(format!("cannot create folder: {e}")))?;
        let probe = dir.join(".fuzhi-write-test");
        std::fs::write(&probe, b"").map_err(|e| err(format!("folder is not writable: {e}")))?;
        let _ = std::fs::remove_file(probe);
    }
    if p.is_dir() {
        return Err(err("it is a folder".into()));
    }
    Ok(())
}

/// On SQLite, widen (or restore) the page cache of the connection that holds
/// `txn`, for bulk writes: 64 MB while a large import runs, then the default.
/// Other engines size their buffers server-side; nothing to do.
pub async fn bulk_cache(
    txn: &sea_orm::DatabaseTransaction,
    wide: bool,
) -> Result<(), sea_orm::DbErr> {
    use sea_orm::ConnectionTrait;
    if txn.get_database_backend() == sea_orm::DatabaseBackend::Sqlite {
        let size = if wide { -65536 } else { -2000 };
        txn.execute_unprepared(&format!("PRAGMA cache_size = {size}"))
            .await?;
    }
    Ok(())
}

/// Begins a transaction that will write. On SQLite it takes the write lock at
/// once (`BEGIN IMMEDIATE`), so a writer waits its turn under the busy timeout
/// instead of failing when another writer committed after its first read.
pub async fn begin_write<C>(db: &C) -> Result<sea_orm::DatabaseTransaction, sea_orm::DbErr>
where
    C: sea_orm::TransactionTrait<Transaction = sea_orm::DatabaseTransaction> + ConnectionTrait,
{
    use sea_orm::{SqliteTransactionMode, TransactionOptions};
    if is_sqlite(db) {
        db.begin_with_options(TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..Default::default()
        })
        .await
    } else {
        db.begin().await
    }
}

/// Begins a transaction that only reads, from one snapshot: every statement
/// in it sees the database as it was at its first read, so a page built
/// from several queries never sees half of a change committed meanwhile
/// (PostgreSQL and MariaDB: `REPEATABLE READ`, read only; SQLite: a read
/// transaction is a snapshot).
pub async fn begin_snapshot(
    db: &DatabaseConnection,
) -> Result<sea_orm::DatabaseTransaction, sea_orm::DbErr> {
    use sea_orm::{AccessMode, IsolationLevel, TransactionTrait};
    if is_sqlite(db) {
        db.begin().await
    } else {
        db.begin_with_config(
            Some(IsolationLevel::RepeatableRead),
            Some(AccessMode::ReadOnly),
        )
        .await
    }
}

/// One small write transaction, to tell whether the database can commit
/// again (after a full disk): on SQLite it rewrites the file header's
/// `user_version` with its own value, which appends a page to the log; the
/// other engines write to their own files, which a `SELECT` does not test,
/// but report a full disk on the writes themselves.
pub async fn probe_write(db: &DatabaseConnection) -> Result<(), sea_orm::DbErr> {
    if !is_sqlite(db) {
        db.execute_unprepared("SELECT 1").await?;
        return Ok(());
    }
    let txn = begin_write(db).await?;
    let v: i64 = txn
        .query_one_raw(sea_orm::Statement::from_string(
            DatabaseBackend::Sqlite,
            "PRAGMA user_version",
        ))
        .await?
        .and_then(|r| r.try_get_by_index(0).ok())
        .unwrap_or(0);
    txn.execute_unprepared(&format!("PRAGMA user_version = {v}"))
        .await?;
    txn.commit().await
}

/// The driver's own error of a failed statement or commit, if the server sent one.
fn server_error(
    e: &sea_orm::DbErr,
) -> Option<&(dyn sea_orm::sqlx::error::DatabaseError + 'static)> {
    use sea_orm::{DbErr, RuntimeErr};
    match e {
        DbErr::Exec(RuntimeErr::SqlxError(s))
        | DbErr::Query(RuntimeErr::SqlxError(s))
        | DbErr::Conn(RuntimeErr::SqlxError(s)) => match s.as_ref() {
            sea_orm::sqlx::Error::Database(d) => Some(d.as_ref()),
            _ => None,
        },
        _ => None,
    }
}

/// Whether a server error (its SQLSTATE, and MySQL's error number) is a
/// conflict between transactions that the same transaction, tried again from
/// its start, may not meet: MySQL/MariaDB 1213 (a deadlock, and what a
/// Galera cluster answers when another node's transaction won certification,
/// at commit or at any statement; SQLSTATE 40001) and 1205 (a lock wait
/// timeout); PostgreSQL 40001 (serialization failure) and 40P01 (deadlock).
pub fn conflict_code(sqlstate: Option<&str>, mysql_number: Option<u16>) -> bool {
    matches!(mysql_number, Some(1213 | 1205)) || matches!(sqlstate, Some("40001" | "40P01"))
}

/// Whether a server error says the database node cannot take queries now: a
/// Galera node that left the cluster's primary component answers 1047
/// (`WSREP has not yet prepared node for application use`, SQLSTATE 08S01).
pub fn unavailable_code(sqlstate: Option<&str>, mysql_number: Option<u16>) -> bool {
    matches!(mysql_number, Some(1047)) || matches!(sqlstate, Some("08S01" | "57P03"))
}

fn codes(d: &(dyn sea_orm::sqlx::error::DatabaseError + 'static)) -> (Option<String>, Option<u16>) {
    let number = d
        .try_downcast_ref::<sea_orm::sqlx::mysql::MySqlDatabaseError>()
        .map(|m| m.number());
    (d.code().map(|c| c.into_owned()), number)
}

/// What a failed statement or commit says about the database, by the codes
/// the server sent (SQLite's extended result code, PostgreSQL's SQLSTATE,
/// MySQL/MariaDB's error number), never by the words of its message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Two transactions collided (see `conflict_code`): the same
    /// transaction tried again from its start may succeed.
    Conflict,
    /// SQLite's single writer is taken (`SQLITE_BUSY`, `SQLITE_LOCKED`):
    /// worth trying again in a moment.
    Busy,
    /// A unique key another writer stored first.
    Duplicate,
    /// The database cannot be reached or cannot take queries now: a lost
    /// connection, a server shutting down (PostgreSQL 57P01/57P02/57P03,
    /// MySQL 1053, 2006, 2013, 1927), a Galera node outside the primary
    /// component, a pool with no connection to give.
    Unavailable,
    /// The database cannot write to its disk: it is full (`SQLITE_FULL`,
    /// PostgreSQL 53100, MySQL 1021/1114) or the write failed
    /// (`SQLITE_IOERR`, `SQLITE_NOMEM`, PostgreSQL 53200 and 58030). On
    /// SQLite the transaction may have been rolled back as a whole.
    Storage,
    /// Anything else: a bug or bad data, not a state of the server.
    Other,
}

/// SQLite's primary result codes that concern us (the low byte of an
/// extended code).
const SQLITE_NOMEM: i64 = 7;
const SQLITE_BUSY: i64 = 5;
const SQLITE_LOCKED: i64 = 6;
const SQLITE_IOERR: i64 = 10;
const SQLITE_CORRUPT: i64 = 11;
const SQLITE_FULL: i64 = 13;
const SQLITE_CANTOPEN: i64 = 14;
const SQLITE_CONSTRAINT: i64 = 19;
const SQLITE_READONLY: i64 = 8;

/// The fault a server's codes name (see `Fault`). `sqlite` says the code is
/// an SQLite result code rather than a SQLSTATE.
pub fn fault_of_code(code: Option<&str>, mysql_number: Option<u16>, sqlite: bool) -> Fault {
    if sqlite {
        let primary = code.and_then(|c| c.parse::<i64>().ok()).map(|c| c & 0xff);
        return match primary {
            Some(SQLITE_BUSY | SQLITE_LOCKED) => Fault::Busy,
            Some(SQLITE_CONSTRAINT) => Fault::Duplicate,
            Some(
                SQLITE_FULL | SQLITE_IOERR | SQLITE_NOMEM | SQLITE_CORRUPT | SQLITE_CANTOPEN
                | SQLITE_READONLY,
            ) => Fault::Storage,
            _ => Fault::Other,
        };
    }
    if conflict_code(code, mysql_number) {
        return Fault::Conflict;
    }
    if unavailable_code(code, mysql_number)
        || matches!(mysql_number, Some(1053 | 2006 | 2013 | 1927 | 1152 | 1184))
        || matches!(code, Some(c) if c.starts_with("08") || c == "57P01" || c == "57P02")
    {
        return Fault::Unavailable;
    }
    if matches!(mysql_number, Some(1021 | 1114 | 3 | 1030))
        || matches!(code, Some("53100" | "53200" | "58030"))
    {
        return Fault::Storage;
    }
    if matches!(mysql_number, Some(1062)) || matches!(code, Some("23505")) {
        return Fault::Duplicate;
    }
    Fault::Other
}

/// The fault of a database error (see `Fault`).
pub fn fault(e: &sea_orm::DbErr) -> Fault {
    use sea_orm::{DbErr, RuntimeErr};
    if let Some(d) = server_error(e) {
        let (state, number) = codes(d);
        let sqlite = d
            .try_downcast_ref::<sea_orm::sqlx::sqlite::SqliteError>()
            .is_some();
        return fault_of_code(state.as_deref(), number, sqlite);
    }
    match e {
        DbErr::ConnectionAcquire(_) => return Fault::Unavailable,
        DbErr::Conn(RuntimeErr::SqlxError(s))
        | DbErr::Exec(RuntimeErr::SqlxError(s))
        | DbErr::Query(RuntimeErr::SqlxError(s))
            if matches!(
                s.as_ref(),
                sea_orm::sqlx::Error::Io(_)
                    | sea_orm::sqlx::Error::PoolTimedOut
                    | sea_orm::sqlx::Error::PoolClosed
                    | sea_orm::sqlx::Error::Protocol(_)
                    | sea_orm::sqlx::Error::WorkerCrashed
            ) =>
        {
            return Fault::Unavailable;
        }
        _ => {}
    }
    // A driver error rewrapped as text (a commit failure carried in a
    // `DbErr::Custom`): its message still names the cause.
    if is_retryable(e) {
        return Fault::Conflict;
    }
    Fault::Other
}

/// Whether trying the whole write transaction again may succeed: a deadlock,
/// a lock wait timeout, a serialization failure or a Galera certification
/// failure (see `conflict_code`).
pub fn is_retryable(e: &sea_orm::DbErr) -> bool {
    match server_error(e) {
        Some(d) => {
            let (state, number) = codes(d);
            conflict_code(state.as_deref(), number)
        }
        None => {
            // A driver error rewrapped as text (a commit failure carried in a
            // `DbErr::Custom`): its message still names the cause.
            let s = e.to_string().to_ascii_lowercase();
            s.contains("deadlock")
                || s.contains("try restarting transaction")
                || s.contains("could not serialize")
                || s.contains("lock wait timeout")
        }
    }
}

/// Whether the database cannot be reached or cannot take queries now (a
/// connection refused or lost, a pool with no connection to give, a Galera
/// node outside the primary component): worth trying again a little later,
/// or on another server.
pub fn is_unavailable(e: &sea_orm::DbErr) -> bool {
    fault(e) == Fault::Unavailable
}

/// Whether the database could not write to its disk (see `Fault::Storage`).
pub fn is_storage(e: &sea_orm::DbErr) -> bool {
    fault(e) == Fault::Storage
}

/// Whether SQLite's single writer was taken for longer than the busy
/// timeout (see `Fault::Busy`).
pub fn is_busy(e: &sea_orm::DbErr) -> bool {
    fault(e) == Fault::Busy
}

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

impl Retryable for crate::error::AppError {
    fn retryable(&self) -> bool {
        matches!(self, crate::error::AppError::Db(e) if e.retryable())
    }
}

#[cfg(test)]
mod tests {
    use super::server_port;
    use super::{conflict_code, is_retryable, is_unavailable, unavailable_code};
    use sea_orm::sqlx::error::{DatabaseError, ErrorKind};
    use sea_orm::{DbErr, RuntimeErr};
    use std::borrow::Cow;
    use std::sync::Arc;

    /// A server error as the PostgreSQL driver reports it: a SQLSTATE and a
    /// message (the MySQL driver's own type cannot be built outside it; its
    /// errors are provoked on a real server in tests/app/galera.rs).
    #[derive(Debug)]
    struct ServerError(&'static str, &'static str);
    impl std::fmt::Display for ServerError {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "{}", self.1)
        }
    }
    impl std::error::Error for ServerError {}
    impl DatabaseError for ServerError {
        fn message(&self) -> &str {
            self.1
        }
        fn code(&self) -> Option<Cow<'_, str>> {
            Some(Cow::Borrowed(self.0))
        }
        fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
            self
        }
        fn kind(&self) -> ErrorKind {
            ErrorKind::Other
        }
    }
    fn server(state: &'static str, message: &'static str) -> sea_orm::sqlx::Error {
        sea_orm::sqlx::Error::Database(Box::new(ServerError(state, message)))
    }
    fn exec(e: sea_orm::sqlx::Error) -> DbErr {
        DbErr::Exec(RuntimeErr::SqlxError(Arc::new(e)))
    }

    #[test]
    fn conflicts_are_known_by_sqlstate_and_mysql_number() {
        // MySQL/MariaDB: a deadlock or a Galera certification failure is
        // 1213 with SQLSTATE 40001; a lock wait timeout is 1205 (HY000).
        assert!(conflict_code(Some("40001"), Some(1213)));
        assert!(conflict_code(Some("HY000"), Some(1205)));
        // PostgreSQL: serialization failure and deadlock.
        assert!(conflict_code(Some("40001"), None));
        assert!(conflict_code(Some("40P01"), None));
        // A duplicate key is not a conflict a blind retry cures.
        assert!(!conflict_code(Some("23000"), Some(1062)));
        assert!(!conflict_code(Some("23505"), None));
        assert!(!conflict_code(None, None));
        // A Galera node outside the primary component.
        assert!(unavailable_code(Some("08S01"), Some(1047)));
        assert!(!unavailable_code(Some("40001"), Some(1213)));
    }

    #[test]
    fn driver_errors_of_a_statement_or_a_commit_are_classified() {
        let pg_serial = server(
            "40001",
            "could not serialize access due to concurrent update",
        );
        assert!(is_retryable(&exec(pg_serial)));
        let pg_deadlock = server("40P01", "deadlock detected");
        assert!(is_retryable(&DbErr::Query(RuntimeErr::SqlxError(
            Arc::new(pg_deadlock)
        ))));
        let unique = server(
            "23505",
            "duplicate key value violates unique constraint \"learning_event_pkey\"",
        );
        assert!(!is_retryable(&exec(unique)));
        // A commit failure carried as text keeps its cause.
        assert!(is_retryable(&DbErr::Custom(
            "commit failed: Execution Error: error returned from database: 1213 (40001): Deadlock found when trying to get lock; try restarting transaction".into()
        )));
        assert!(!is_retryable(&DbErr::RecordNotFound("user 7".into())));
        // A lost connection is not a conflict but the database is unavailable.
        let io =
            sea_orm::sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        assert!(!is_retryable(&exec(io)));
        let io =
            sea_orm::sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        assert!(is_unavailable(&exec(io)));
        assert!(is_unavailable(&DbErr::Conn(RuntimeErr::SqlxError(
            Arc::new(sea_orm::sqlx::Error::PoolTimedOut)
        ))));
    }

    #[test]
    fn the_server_port_comes_from_the_url_or_the_engine_default() {
        assert_eq!(server_port("postgres://u@127.0.0.1:5433/db"), Some(5433));
        assert_eq!(server_port("postgres://u@db.example/fuzhi"), Some(5432));
        assert_eq!(server_port("mysql://root@127.0.0.1/fuzhi"), Some(3306));
        assert_eq!(
            server_port("postgres://u@localhost/db?host=/var/run/postgresql"),
            None
        );
        assert_eq!(server_port("sqlite://./data/fuzhi.db?mode=rwc"), None);
    }
}
