//! `fuzhi backup DIR` and `fuzhi restore DIR`.
//!
//! SQLite: the backup is an online copy made with `VACUUM INTO`, which reads
//! one consistent snapshot in a single read transaction while the server keeps
//! serving and writing (WAL), so every write committed before it began is in
//! the copy. The secret keys generated into the data folder go with it (the ID
//! numbers' HMAC key above all: without it no ID number can be matched again).
//! Restore puts the copy in place of the database, with the server stopped.
//!
//! PostgreSQL and MariaDB are backed up with their own tools (README,
//! "Backups"); these commands name the right one and stop.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};

use crate::config::Settings;

/// The database file inside a backup folder.
pub const DB_FILE: &str = "fuzhi.db";
/// The key files of the data folder a backup carries.
const KEY_FILES: [&str; 2] = ["jwt.key", "id-hmac.key"];

/// What a backup wrote.
#[derive(Debug)]
pub struct Backup {
    pub file: PathBuf,
    pub bytes: u64,
    pub keys: Vec<String>,
}

/// What a restore put in place.
#[derive(Debug)]
pub struct Restored {
    pub database: PathBuf,
    /// Where the database that was there before went, if there was one.
    pub kept: Option<PathBuf>,
    pub keys: Vec<String>,
}

/// The file of a `sqlite:` URL; an error naming the other engines' tools.
fn sqlite_file(url: &str, verb: &str) -> anyhow::Result<PathBuf> {
    let scheme = url
        .split(':')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let safe = crate::db::redact_url(url);
    match scheme.as_str() {
        "sqlite" => {}
        "postgres" | "postgresql" => bail!(
            "PostgreSQL is backed up with its own tools: pg_dump --format=custom --file=DIR/fuzhi.dump '{safe}' \
             (and pg_restore --clean --if-exists --dbname='{safe}' DIR/fuzhi.dump to {verb}); see the README, Backups"
        ),
        "mysql" | "mariadb" => bail!(
            "MariaDB/MySQL is backed up with its own tools: mariadb-dump --single-transaction --routines DATABASE > DIR/fuzhi.sql \
             (and mariadb DATABASE < DIR/fuzhi.sql to {verb}); see the README, Backups"
        ),
        other => bail!("DATABASE_URL has an unsupported scheme {other:?}"),
    }
    let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" || rest.contains("mode=memory") {
        bail!("an in-memory database cannot be backed up or restored");
    }
    Ok(PathBuf::from(path))
}

/// Copies the database (online) and the data folder's keys into `dir`.
pub async fn backup(settings: &Settings, dir: &Path) -> anyhow::Result<Backup> {
    let url = settings.database_url();
    let source = sqlite_file(&url, "restore")?;
    if !source.is_file() {
        bail!("there is no database at {}", source.display());
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let file = dir.join(DB_FILE);
    if file.exists() {
        bail!(
            "{} already holds a backup; give an empty folder",
            dir.display()
        );
    }
    // Written under another name first: a copy cut off half-way is never
    // taken for a whole one.
    let partial = dir.join(format!("{DB_FILE}.partial"));
    let _ = std::fs::remove_file(&partial);
    let db = crate::db::connect(&url, 1).await?;
    db.execute_raw(Statement::from_sql_and_values(
        DatabaseBackend::Sqlite,
        "VACUUM INTO ?",
        [partial.to_string_lossy().into_owned().into()],
    ))
    .await
    .context("VACUUM INTO")?;
    db.close().await.ok();
    check(&partial).await?;
    std::fs::rename(&partial, &file)?;
    let keys = copy_keys(&settings.data_dir, dir, false)?;
    let bytes = std::fs::metadata(&file)?.len();
    Ok(Backup { file, bytes, keys })
}

/// Puts the backup in `dir` in place of the database (the server stopped).
/// A database already there is kept beside it under a new name, and only with
/// `replace`; so are keys that differ.
pub async fn restore(settings: &Settings, dir: &Path, replace: bool) -> anyhow::Result<Restored> {
    let url = settings.database_url();
    let target = sqlite_file(&url, "restore")?;
    let source = dir.join(DB_FILE);
    if !source.is_file() {
        bail!("{} holds no backup ({DB_FILE} is missing)", dir.display());
    }
    check(&source).await?;
    let stamp = chrono::Utc::now().format("%Y%m%d%H%M%S").to_string();
    let mut kept = None;
    if target.exists() {
        if !replace {
            bail!(
                "a database is already at {}; stop the server and pass --replace to put the backup in its place (the old one is kept beside it)",
                target.display()
            );
        }
        let aside = with_suffix(&target, &format!(".before-restore-{stamp}"));
        std::fs::rename(&target, &aside)?;
        // Its write-ahead log belongs to it, not to the restored copy.
        for ext in ["-wal", "-shm"] {
            let side = with_suffix(&target, ext);
            if side.exists() {
                std::fs::rename(&side, with_suffix(&aside, ext))?;
            }
        }
        kept = Some(aside);
    }
    if let Some(parent) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    let partial = with_suffix(&target, ".partial");
    std::fs::copy(&source, &partial)
        .with_context(|| format!("cannot write {}", partial.display()))?;
    std::fs::rename(&partial, &target)?;
    let keys = copy_keys(dir, &settings.data_dir, replace)?;
    Ok(Restored {
        database: target,
        kept,
        keys,
    })
}

fn with_suffix(p: &Path, suffix: &str) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// The copy is a whole, sound SQLite database.
async fn check(file: &Path) -> anyhow::Result<()> {
    let url = format!("sqlite://{}?mode=ro", file.display());
    let db = sea_orm::Database::connect(&url)
        .await
        .with_context(|| format!("cannot open {}", file.display()))?;
    let row = db
        .query_one_raw(Statement::from_string(
            DatabaseBackend::Sqlite,
            "PRAGMA quick_check",
        ))
        .await?;
    db.close().await.ok();
    let verdict: String = row
        .and_then(|r| r.try_get_by_index(0).ok())
        .unwrap_or_default();
    if verdict != "ok" {
        bail!("{} is damaged: {verdict}", file.display());
    }
    Ok(())
}

/// Copies the key files present in `from` to `to` (mode 0600). A different
/// key already in `to` stays, unless `replace` (then it is kept aside).
fn copy_keys(from: &Path, to: &Path, replace: bool) -> anyhow::Result<Vec<String>> {
    let mut copied = Vec::new();
    for name in KEY_FILES {
        let src = from.join(name);
        let Ok(key) = std::fs::read(&src) else {
            continue;
        };
        let dst = to.join(name);
        if let Ok(old) = std::fs::read(&dst) {
            if old == key {
                continue;
            }
            if !replace {
                bail!(
                    "{} holds another key; pass --replace to use the backup's (the old one is kept beside it)",
                    dst.display()
                );
            }
            let stamp = chrono::Utc::now().format("%Y%m%d%H%M%S");
            std::fs::rename(&dst, with_suffix(&dst, &format!(".before-restore-{stamp}")))?;
        }
        std::fs::create_dir_all(to)?;
        write_private(&dst, &key)?;
        copied.push(name.to_string());
    }
    Ok(copied)
}

fn write_private(path: &Path, content: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)?.write_all(content)
}
