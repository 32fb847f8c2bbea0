//! Transactions as the rest of the code begins them (one that will write, one
//! that reads from a snapshot), the engine in use, and a write that tells
//! whether the database can commit again; statements written with `?`
//! placeholders for every engine (`stmt`, `marks`).

use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, Statement, Value};

pub fn is_sqlite(db: &impl ConnectionTrait) -> bool {
    db.get_database_backend() == DatabaseBackend::Sqlite
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

/// A statement from SQL written with `?` placeholders, numbered for PostgreSQL.
pub fn stmt(backend: DatabaseBackend, sql: &str, values: Vec<Value>) -> Statement {
    let sql = if backend == DatabaseBackend::Postgres {
        let mut out = String::with_capacity(sql.len() + 16);
        let mut n = 0;
        for ch in sql.chars() {
            if ch == '?' {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
            } else {
                out.push(ch);
            }
        }
        out
    } else {
        sql.to_string()
    };
    Statement::from_sql_and_values(backend, sql, values)
}

/// `?, ?, ?` for `n` values.
pub fn marks(n: usize) -> String {
    vec!["?"; n].join(", ")
}
