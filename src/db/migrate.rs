//! Migrating the database to the schema of this version, in one process at
//! a time.

use std::path::Path;
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::DatabaseConnection;

use super::{DbSetupError, is_sqlite, short};

pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbSetupError> {
    Migrator::up(db, None)
        .await
        .map_err(|e| DbSetupError::Migrate(short(&e.to_string())))
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
