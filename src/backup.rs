//! `fuzhi backup DIR` and `fuzhi restore DIR`.
//!
//! SQLite: the backup is an online copy made with `VACUUM INTO`, which reads
//! one consistent snapshot in a single read transaction while the server keeps
//! serving and writing (WAL), so every write committed before it began is in
//! the copy. The secret keys generated into the data folder go with it (the ID
//! numbers' HMAC key above all: without it no ID number can be matched again).
//! Restore puts the copy in place of the database, with the server stopped:
//! every `serve` on an SQLite file holds a shared lock on `<file>.serve-lock`
//! (`ServeLock`) and restore needs it exclusively, so it refuses while one
//! runs. It refuses a copy that is not a whole fuzhi database (empty,
//! damaged, without its tables) and one without its key files unless told
//! (`--new-keys`), and says what it replaced. The file store (`files/`:
//! lesson videos, named by their content and never changed) is copied with
//! it both ways, file by file, skipping files already there.
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
    /// Files of the file store copied.
    pub files: usize,
}

/// The file store inside a data folder or a backup.
const FILES_DIR: &str = "files";

/// Copies the file store's files from `from` to `to` (`ab/abcdef…`), those
/// not there yet; how many were copied. A file is written under a
/// temporary name and renamed, so a half-copied file never has its name.
fn copy_store(from: &Path, to: &Path) -> std::io::Result<usize> {
    let (from, to) = (from.join(FILES_DIR), to.join(FILES_DIR));
    let Ok(shards) = std::fs::read_dir(&from) else {
        return Ok(0);
    };
    let mut copied = 0;
    for shard in shards.flatten().filter(|e| e.path().is_dir()) {
        for file in std::fs::read_dir(shard.path())?.flatten() {
            let name = file.file_name();
            if name.to_string_lossy().starts_with('.') || !file.path().is_file() {
                continue;
            }
            let dst = to.join(shard.file_name()).join(&name);
            if dst.exists() {
                continue;
            }
            std::fs::create_dir_all(dst.parent().unwrap_or(&to))?;
            let partial = with_suffix(&dst, ".partial");
            std::fs::copy(file.path(), &partial)?;
            std::fs::rename(&partial, &dst)?;
            copied += 1;
        }
    }
    Ok(copied)
}

/// A lock on an SQLite database file's `<file>.serve-lock`: shared by every
/// `serve` process on that file, exclusive for `restore`.
#[derive(Debug)]
pub struct ServeLock(#[allow(dead_code)] std::fs::File);

impl ServeLock {
    /// The lock file of the database file itself: links and relative
    /// paths resolved, so that two names of one file share one lock.
    fn path(db_file: &Path) -> PathBuf {
        let real = std::fs::canonicalize(db_file).unwrap_or_else(|_| {
            // Not there yet: its folder resolved, its name kept.
            let name = db_file.file_name().map(PathBuf::from).unwrap_or_default();
            db_file
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .and_then(|p| std::fs::canonicalize(p).ok())
                .map_or_else(|| db_file.to_path_buf(), |p| p.join(&name))
        });
        with_suffix(&real, ".serve-lock")
    }

    fn open(db_file: &Path) -> anyhow::Result<std::fs::File> {
        if let Some(parent) = db_file.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        let path = Self::path(db_file);
        std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("cannot open {}", path.display()))
    }

    /// The shared lock of a serving process; `None` for other engines and
    /// in-memory databases. Fails while a restore holds the file.
    pub fn take(url: &str) -> anyhow::Result<Option<ServeLock>> {
        if !url.to_ascii_lowercase().starts_with("sqlite:") {
            return Ok(None);
        }
        let Ok(file) = sqlite_file(url, "restore") else {
            return Ok(None);
        };
        let f = Self::open(&file)?;
        match f.try_lock_shared() {
            Ok(()) => Ok(Some(ServeLock(f))),
            Err(std::fs::TryLockError::WouldBlock) => bail!(
                "a restore is replacing {} now; start the server when it has finished",
                file.display()
            ),
            Err(std::fs::TryLockError::Error(e)) => Err(e.into()),
        }
    }

    /// The exclusive lock of a restore: an error naming the running server
    /// when one holds the database.
    fn exclusive(db_file: &Path) -> anyhow::Result<ServeLock> {
        let f = Self::open(db_file)?;
        match f.try_lock() {
            Ok(()) => Ok(ServeLock(f)),
            Err(std::fs::TryLockError::WouldBlock) => bail!(
                "a server is running on {}: stop every `fuzhi serve` on this database first, then restore",
                db_file.display()
            ),
            Err(std::fs::TryLockError::Error(e)) => Err(e.into()),
        }
    }
}

/// What a restore put in place.
#[derive(Debug)]
pub struct Restored {
    pub database: PathBuf,
    /// What the database that was there held: (size in bytes, learning events).
    pub replaced: Option<(u64, i64)>,
    /// Key files the backup lacked (see `restore`).
    pub missing_keys: Vec<String>,
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
    let files = copy_store(&settings.data_dir, dir).context("copying the file store")?;
    let bytes = std::fs::metadata(&file)?.len();
    Ok(Backup {
        file,
        bytes,
        keys,
        files,
    })
}

/// Puts the backup in `dir` in place of the database (the server stopped).
/// A database already there is kept beside it under a new name, and only with
/// `replace`; so are keys that differ.
///
/// Refused: while a server runs on the database; a backup that is empty,
/// damaged or lacks fuzhi's tables; a backup without its key files, unless
/// `new_keys` (sessions signed with the old key end, and ID numbers stored
/// as hashes with the old key can no longer be matched) or the keys come
/// from the settings (`FUZHI_JWT_SECRET`, `FUZHI_ID_HMAC_KEY`).
pub async fn restore(
    settings: &Settings,
    dir: &Path,
    replace: bool,
    new_keys: bool,
) -> anyhow::Result<Restored> {
    let url = settings.database_url();
    let target = sqlite_file(&url, "restore")?;
    let source = dir.join(DB_FILE);
    if !source.is_file() {
        bail!("{} holds no backup ({DB_FILE} is missing)", dir.display());
    }
    if std::fs::metadata(&source)?.len() == 0 {
        bail!("{} is empty: it is not a backup", source.display());
    }
    check(&source).await?;
    check_schema(&source).await?;
    // The ID numbers' key is the one a database cannot do without: its
    // stored ID hashes match nothing under another key. A missing session
    // key only signs everyone out, which the result says.
    let hmac_missing = !dir.join(KEY_FILES[1]).is_file() && settings.id_hmac_key.is_none();
    if hmac_missing && !new_keys {
        bail!(
            "{} lacks the key file {} of the data folder it was taken from: without it, the ID \
             numbers stored in this database can never be matched again. Copy it into that \
             folder from the old data folder, or pass --new-keys to restore with the key of \
             this data folder (a new one if it has none)",
            dir.display(),
            KEY_FILES[1]
        );
    }
    // The backup's keys are checked before anything is replaced.
    for name in KEY_FILES {
        if let Some(why) = not_a_key(&dir.join(name))? {
            bail!("{why}");
        }
    }
    let missing: Vec<String> = KEY_FILES
        .into_iter()
        .filter(|k| !dir.join(k).is_file())
        .map(str::to_string)
        .collect();
    let _lock = ServeLock::exclusive(&target)?;
    let stamp = chrono::Utc::now().format("%Y%m%d%H%M%S").to_string();
    let mut kept = None;
    let mut replaced = None;
    if target.exists() {
        replaced = Some(describe(&target).await);
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
    copy_store(dir, &settings.data_dir).context("copying the file store")?;
    Ok(Restored {
        database: target,
        replaced,
        missing_keys: missing,
        kept,
        keys,
    })
}

/// The size of a database file and how many learning events it holds (-1
/// when it cannot be read).
async fn describe(file: &Path) -> (u64, i64) {
    let bytes = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
    let url = format!("sqlite://{}?mode=ro", file.display());
    let mut events = -1;
    if let Ok(db) = sea_orm::Database::connect(&url).await {
        if let Ok(Some(r)) = db
            .query_one_raw(Statement::from_string(
                DatabaseBackend::Sqlite,
                "SELECT COUNT(*) FROM learning_event",
            ))
            .await
        {
            events = r.try_get_by_index(0).unwrap_or(-1);
        }
        db.close().await.ok();
    }
    (bytes, events)
}

/// The copy is a fuzhi database of this version: every table it must have
/// has the columns this version reads (a query of each entity's columns, no
/// rows; a missing table fails it too), and every migration it ran is one
/// this version knows.
async fn check_schema(file: &Path) -> anyhow::Result<()> {
    use crate::entities::*;
    use migration::MigratorTrait;
    use sea_orm::{EntityTrait, QuerySelect};
    let url = format!("sqlite://{}?mode=ro", file.display());
    let db = sea_orm::Database::connect(&url)
        .await
        .with_context(|| format!("cannot open {}", file.display()))?;
    let not_fuzhi = |what: &str, e: sea_orm::DbErr| {
        anyhow::anyhow!(
            "{} is not a fuzhi database of this version: {what}: {}",
            file.display(),
            e.to_string().lines().next().unwrap_or_default()
        )
    };
    macro_rules! columns {
        ($($m:ident),*) => {$(
            $m::Entity::find()
                .limit(0)
                .all(&db)
                .await
                .map_err(|e| not_fuzhi(stringify!($m), e))?;
        )*};
    }
    columns!(
        app_user,
        area,
        course,
        lesson,
        lesson_text,
        quiz,
        question,
        enrollment,
        learning_event,
        lesson_progress,
        quiz_attempt,
        household,
        member,
        revoked_token,
        session_change,
        certificate,
        change_event
    );
    let known: Vec<String> = migration::Migrator::migrations()
        .iter()
        .map(|m| m.name().to_string())
        .collect();
    let ran = db
        .query_all_raw(Statement::from_string(
            DatabaseBackend::Sqlite,
            "SELECT version FROM seaql_migrations",
        ))
        .await
        .map_err(|e| not_fuzhi("seaql_migrations", e))?;
    db.close().await.ok();
    for r in ran {
        let v: String = r.try_get_by_index(0).unwrap_or_default();
        if !known.contains(&v) {
            bail!(
                "{} was made by another version of fuzhi (its migration {v} is unknown to this one)",
                file.display()
            );
        }
    }
    Ok(())
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

/// Why a key file of a backup cannot be taken, if it cannot: a link or a
/// special file (a key is never read through one), or too short to be a key
/// (the server would replace it with a new one, and the ID numbers stored
/// could never be matched again). `None` for a good key or no file.
fn not_a_key(path: &Path) -> anyhow::Result<Option<String>> {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return Ok(None);
    };
    if !meta.file_type().is_file() {
        return Ok(Some(format!(
            "{} is not a plain file (a link or a special file): a key is never read through one",
            path.display()
        )));
    }
    if String::from_utf8_lossy(&std::fs::read(path)?).trim().len() < 32 {
        return Ok(Some(format!(
            "{} is not a key (a key has at least 32 characters); the server would replace it \
             with a new one, and the ID numbers stored could never be matched again",
            path.display()
        )));
    }
    Ok(None)
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
