//! What a failed statement or commit says about the database, read from the
//! codes the server sent: a conflict worth a retry, a busy writer, a full
//! disk, a database that cannot be reached.

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

/// Whether a write whose rows carry their own ids, so that a replay counts
/// the rows stored already as duplicates (the event writer's), may succeed
/// when tried again: a conflict (`is_retryable`), SQLite's writer busy, or a
/// key another writer stored first.
pub fn is_retryable_replay(e: &sea_orm::DbErr) -> bool {
    is_retryable(e) || matches!(fault(e), Fault::Busy | Fault::Duplicate)
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

#[cfg(test)]
mod tests {
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
}
