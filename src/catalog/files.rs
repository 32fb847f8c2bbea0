//! The file store: large course media (videos) kept as files under the data
//! folder, each named by the SHA-256 of its bytes
//! (`DATA/files/ab/abcdef…`), so the same video is kept once however many
//! course versions show it, a file is never changed once written, and no
//! database row holds a video (the row names the file; see
//! [`crate::entities::course_media`]).
//!
//! One store serves a process: `serve` points it at its data folder at
//! start. Several `serve` processes on one database must share one store:
//! put their data folders' `files/` on a shared folder (NFS or similar),
//! or give them all the same `FUZHI_DATA_DIR`. A file is written to a
//! temporary name in the same folder, flushed to disk, then renamed, so a
//! reader never sees half a file.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use sha2::{Digest, Sha256};

/// Whether a course's media file is kept in the store (videos are).
pub fn kept_as_file(path: &str) -> bool {
    path.ends_with(".mp4")
}

static ROOT: OnceLock<PathBuf> = OnceLock::new();

/// Points the store at `root` (`DATA/files`). The first call wins: a
/// process has one store.
pub fn set_root(root: &Path) {
    let _ = ROOT.set(root.to_path_buf());
}

fn root() -> std::io::Result<&'static Path> {
    ROOT.get().map(PathBuf::as_path).ok_or_else(|| {
        std::io::Error::other("the file store has no folder (set_root was not called)")
    })
}

/// The SHA-256 of `bytes`, in hex: a file's name in the store.
pub fn name_of(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn path_of(name: &str) -> std::io::Result<PathBuf> {
    if name.len() != 64 || !name.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(std::io::Error::other(format!(
            "not a file store name: {name}"
        )));
    }
    Ok(root()?.join(&name[..2]).join(name))
}

/// Keeps `bytes` and gives their name (a file already kept is not written again).
pub fn put(bytes: &[u8]) -> std::io::Result<String> {
    let name = name_of(bytes);
    let path = path_of(&name)?;
    if path.exists() {
        return Ok(name);
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".{name}.{}", uuid::Uuid::new_v4().simple()));
    let mut f = std::fs::File::create(&tmp)?;
    let written = f.write_all(bytes).and_then(|()| f.sync_all());
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    std::fs::rename(&tmp, &path)?;
    Ok(name)
}

/// The whole file named `name`.
pub fn get(name: &str) -> std::io::Result<Vec<u8>> {
    std::fs::read(path_of(name)?)
}

/// The path of the file named `name` (to stream it).
pub fn open_path(name: &str) -> std::io::Result<PathBuf> {
    path_of(name)
}

/// Where the store keeps its files (for backups and the shared-folder setup).
pub fn folder() -> Option<&'static Path> {
    ROOT.get().map(PathBuf::as_path)
}
