//! Connecting: the URL scheme picks SQLite, PostgreSQL or MySQL/MariaDB.
//! SQLite gets WAL, foreign keys, a busy timeout and `synchronous=FULL` on every
//! connection, so an accepted write survives a crash or power loss.

use std::path::Path;
use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection};

use super::{DbSetupError, short};

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

#[cfg(test)]
mod tests {
    use super::server_port;

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
