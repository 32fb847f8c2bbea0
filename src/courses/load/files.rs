//! Reading a package's files: plain files and folders only (never a link, a
//! device or a pipe), text as UTF-8 within a size limit, TOML parsed strictly
//! with every error at its line.

use std::fs;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

use crate::courses::problem::{Problem, Sink, line_of};

pub(super) fn sink<'a>(
    file: &'a str,
    text: &'a str,
    offset: usize,
    problems: &'a mut Vec<Problem>,
) -> Sink<'a> {
    Sink {
        file,
        text,
        line_offset: offset,
        problems,
    }
}

/// Parses strict TOML; a syntax or shape error becomes one problem at its line.
pub(super) fn parse<T: DeserializeOwned>(
    file: &str,
    text: &str,
    line_offset: usize,
    problems: &mut Vec<Problem>,
) -> Option<T> {
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    match toml::from_str::<T>(body) {
        Ok(v) => Some(v),
        Err(e) => {
            let line = e.span().map(|s| line_of(body, s.start) + line_offset);
            let message = e.message().trim().replace('\n', " ");
            problems.push(Problem::new(file, line, message));
            None
        }
    }
}

/// Reads a UTF-8 text file; anything else is a problem.
pub(super) fn read_text(path: &Path, file: &str, problems: &mut Vec<Problem>) -> Option<String> {
    let bytes = match read_plain(path, TEXT_LIMIT) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            problems.push(Problem::new(file, None, "missing"));
            return None;
        }
        Err(e) => {
            problems.push(Problem::new(file, None, format!("cannot read: {e}")));
            return None;
        }
    };
    match String::from_utf8(bytes) {
        Ok(text) => Some(text),
        Err(e) => {
            let good = e.utf8_error().valid_up_to();
            let line = e
                .as_bytes()
                .get(..good)
                .map_or(1, |b| b.iter().filter(|&&c| c == b'\n').count() + 1);
            problems.push(Problem::new(
                file,
                Some(line),
                "not UTF-8 text (save the file as UTF-8)",
            ));
            None
        }
    }
}

/// The most bytes a text file of a package (TOML, Markdown) may have.
const TEXT_LIMIT: u64 = 4 << 20;

/// Whether `path` is a folder itself, not a link to one.
pub(super) fn is_real_dir(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.is_dir())
}

/// Why an entry of a package is not a plain file or folder, if it is not.
fn not_plain(meta: &fs::Metadata) -> Option<&'static str> {
    let kind = meta.file_type();
    if kind.is_symlink() {
        return Some(
            "a symbolic link: a package holds only plain files and folders (copy the file in instead)",
        );
    }
    if kind.is_dir() {
        return None;
    }
    if !kind.is_file() {
        return Some("not a plain file (a device, pipe or socket): it is never read");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if meta.nlink() > 1 {
            return Some(
                "a hard link to a file elsewhere: a package holds only its own files (copy the file in instead)",
            );
        }
    }
    None
}

/// The bytes of the plain file at `path`, at most `limit`: opened without
/// following a symbolic link (and without waiting on a pipe), and refused
/// unless what was opened is a regular file with no other name.
pub(super) fn read_plain(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let refuse = |why: &str| std::io::Error::other(why.to_string());
    let before = fs::symlink_metadata(path)?;
    if let Some(why) = not_plain(&before) {
        return Err(refuse(why));
    }
    if before.is_dir() {
        return Err(refuse("a folder, where a file was expected"));
    }
    let mut options = fs::OpenOptions::new();
    options.read(true);
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    let file = options.open(path)?;
    let opened = file.metadata()?;
    if let Some(why) = not_plain(&opened) {
        return Err(refuse(why));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if (opened.dev(), opened.ino()) != (before.dev(), before.ino()) {
            return Err(refuse("the file changed while it was read"));
        }
    }
    let mut bytes = Vec::new();
    file.take(limit).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// The folder's entries, sorted, without hidden files. A folder that is a
/// link has no entries; an entry that is not a plain file or folder is a
/// problem and left out.
pub(super) fn entries(dir: &Path, problems: &mut Vec<Problem>) -> Vec<PathBuf> {
    if let Ok(meta) = fs::symlink_metadata(dir)
        && let Some(why) = not_plain(&meta)
    {
        problems.push(Problem::new(&show(dir), None, why));
        return Vec::new();
    }
    list(dir, problems)
}

/// [`entries`] of the package's own folder, which may be reached through a
/// link (it is the one path given by whoever imports).
pub(super) fn list(dir: &Path, problems: &mut Vec<Problem>) -> Vec<PathBuf> {
    match fs::read_dir(dir) {
        Ok(read) => {
            let mut out: Vec<PathBuf> = Vec::new();
            for path in read.filter_map(Result::ok).map(|e| e.path()) {
                if file_name(&path).starts_with('.') {
                    continue;
                }
                match fs::symlink_metadata(&path) {
                    Ok(meta) => match not_plain(&meta) {
                        Some(why) => problems.push(Problem::new(&show(&path), None, why)),
                        None => out.push(path),
                    },
                    Err(e) => problems.push(Problem::new(
                        &show(&path),
                        None,
                        format!("cannot read: {e}"),
                    )),
                }
            }
            out.sort();
            out
        }
        Err(e) => {
            let message = if e.kind() == std::io::ErrorKind::NotFound {
                "missing folder".to_string()
            } else {
                format!("cannot read folder: {e}")
            };
            problems.push(Problem::new(&show(dir), None, message));
            Vec::new()
        }
    }
}

pub(super) fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// A path as shown in problems: as given, with `/` separators.
pub(super) fn show(path: &Path) -> String {
    path.display().to_string().replace('\\', "/")
}
