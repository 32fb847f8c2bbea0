//! Security: files. What the server reads on someone's behalf (course
//! packages, uploads, spreadsheets, event payloads, media) cannot reach the
//! server's own files, exhaust its memory, CPU or disk, or run script.

use std::fs;
use std::path::Path;

use crate::helpers::{Engine, TestApp};

// ---- 2. links and special files in a course package ------------------------------

const VALID: &str = "tests/fixtures/courses/valid";

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A copy of the valid package next to a "server key" outside it.
fn package() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let pkg = tmp.path().join("pkg");
    copy_dir(Path::new(VALID), &pkg);
    let data = tmp.path().join("data");
    fs::create_dir_all(&data).unwrap();
    let key = data.join("jwt.key");
    fs::write(&key, b"SECRET-SIGNING-KEY-0123456789").unwrap();
    (tmp, pkg, key)
}

/// The problems of a package, and whether any loaded byte is the secret.
fn load(pkg: &Path) -> (Vec<String>, bool) {
    let (_, loaded, problems) = fuzhi::courses::load_dir(pkg);
    let leaked = loaded.iter().any(|c| {
        c.course
            .media
            .iter()
            .any(|m| m.bytes.windows(6).any(|w| w == b"SECRET"))
    });
    (problems.iter().map(ToString::to_string).collect(), leaked)
}

#[cfg(unix)]
#[test]
fn package_links_and_special_files_are_refused() {
    use std::os::unix::fs::symlink;
    // The fixture loads clean: every refusal below is the link's.
    assert_eq!(load(Path::new(VALID)).0, Vec::<String>::new());

    // A symlink named like the image the lesson shows.
    let (_t, pkg, key) = package();
    let svg = pkg.join("basics/media/01-dot.svg");
    fs::remove_file(&svg).unwrap();
    symlink(&key, &svg).unwrap();
    let (problems, leaked) = load(&pkg);
    assert!(!leaked);
    assert!(
        problems
            .iter()
            .any(|p| p.contains("01-dot.svg") && p.contains("symbolic link")),
        "{problems:?}"
    );

    // A relative link that climbs out with `..`.
    let (_t, pkg, _key) = package();
    let svg = pkg.join("basics/media/01-dot.svg");
    fs::remove_file(&svg).unwrap();
    symlink("../../../data/jwt.key", &svg).unwrap();
    let (problems, leaked) = load(&pkg);
    assert!(!leaked && problems.iter().any(|p| p.contains("symbolic link")), "{problems:?}");

    // The whole media folder, a lesson file, course.toml and the course
    // folder itself as links.
    for target in ["basics/media", "basics/course.toml", "basics/lessons/01-first.en.md"] {
        let (_t, pkg, _key) = package();
        let path = pkg.join(target);
        let moved = pkg.parent().unwrap().join("moved");
        fs::rename(&path, &moved).unwrap();
        symlink(&moved, &path).unwrap();
        let (problems, _) = load(&pkg);
        assert!(
            problems.iter().any(|p| p.contains("symbolic link")),
            "{target}: {problems:?}"
        );
    }
    let (_t, pkg, _key) = package();
    let outside = pkg.parent().unwrap().join("elsewhere");
    fs::rename(pkg.join("basics"), &outside).unwrap();
    symlink(&outside, pkg.join("basics")).unwrap();
    let (problems, _) = load(&pkg);
    assert!(problems.iter().any(|p| p.contains("symbolic link")), "{problems:?}");

    // A hard link to the key.
    let (_t, pkg, key) = package();
    let svg = pkg.join("basics/media/01-dot.svg");
    fs::remove_file(&svg).unwrap();
    fs::hard_link(&key, &svg).unwrap();
    let (problems, leaked) = load(&pkg);
    assert!(!leaked && problems.iter().any(|p| p.contains("hard link")), "{problems:?}");

    // A named pipe is never opened (opening it would wait forever).
    let (_t, pkg, _key) = package();
    let fifo = pkg.join("basics/media/02-pipe.png");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let (problems, _) = load(&pkg);
    assert!(
        problems
            .iter()
            .any(|p| p.contains("02-pipe.png") && p.contains("not a plain file")),
        "{problems:?}"
    );

    // A lesson naming a path that climbs out of media/ finds nothing.
    let (_t, pkg, _key) = package();
    let lesson = pkg.join("basics/lessons/01-first.zh-CN.md");
    let text = fs::read_to_string(&lesson).unwrap();
    fs::write(
        &lesson,
        text.replace("media/01-dot.svg", "media/../../../data/jwt.key"),
    )
    .unwrap();
    let (problems, leaked) = load(&pkg);
    assert!(!leaked && !problems.is_empty(), "{problems:?}");
}

/// Through the import the server runs: nothing of a package with a link is
/// stored, so nothing can be served.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_package_with_a_link_imports_nothing() {
    let Some(app) = TestApp::spawn(Engine::Sqlite).await else {
        return;
    };
    let (_t, pkg, key) = package();
    let svg = pkg.join("basics/media/01-dot.svg");
    fs::remove_file(&svg).unwrap();
    std::os::unix::fs::symlink(&key, &svg).unwrap();
    let before = app.count("course_media").await;
    let refused = fuzhi::catalog::store::import_dir(app.conn(), &pkg).await;
    assert!(refused.is_err(), "imported: {refused:?}");
    assert_eq!(app.count("course_media").await, before);
    app.finish().await;
}
