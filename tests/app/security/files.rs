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
    assert!(
        !leaked && problems.iter().any(|p| p.contains("symbolic link")),
        "{problems:?}"
    );

    // The whole media folder, a lesson file, course.toml and the course
    // folder itself as links.
    for target in [
        "basics/media",
        "basics/course.toml",
        "basics/lessons/01-first.en.md",
    ] {
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
    assert!(
        problems.iter().any(|p| p.contains("symbolic link")),
        "{problems:?}"
    );

    // A hard link to the key.
    let (_t, pkg, key) = package();
    let svg = pkg.join("basics/media/01-dot.svg");
    fs::remove_file(&svg).unwrap();
    fs::hard_link(&key, &svg).unwrap();
    let (problems, leaked) = load(&pkg);
    assert!(
        !leaked && problems.iter().any(|p| p.contains("hard link")),
        "{problems:?}"
    );

    // A named pipe is never opened (opening it would wait forever).
    let (_t, pkg, _key) = package();
    let fifo = pkg.join("basics/media/02-pipe.png");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
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

// ---- 4. uploads: authorize before reading, linear multipart parsing ------------

/// Sends the headers of a `len`-byte upload and `sent` bytes of its body, then
/// waits (at most `wait` seconds) for the answer's status line while the rest of the
/// body is still owed. `None`: no answer came before the body was complete.
async fn answer_before_body(
    app: &TestApp,
    path: &str,
    token: &str,
    (len, sent): (usize, usize),
    wait: u64,
) -> Option<u16> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = app.addr.trim_start_matches("http://").to_string();
    let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: {len}\r\n\r\n"
    );
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(&vec![b'a'; sent]).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let read = tokio::time::timeout(std::time::Duration::from_secs(wait), s.read(&mut buf)).await;
    let n = read.ok()?.ok()?;
    let text = String::from_utf8_lossy(&buf[..n]).to_string();
    text.split(' ').nth(1).and_then(|c| c.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_learners_upload_is_refused_before_its_body_is_read() {
    let Some(app) = TestApp::spawn(Engine::Sqlite).await else {
        return;
    };
    let p = app.people().await;
    let learner = app.token(p.learner).await;
    // 16 MB announced, 64 KB sent: the refusal comes while the client is
    // still sending.
    for path in ["/api/v1/households/import", "/api/v1/users/import"] {
        let status = answer_before_body(&app, path, &learner, (16 << 20, 64 << 10), 10).await;
        assert_eq!(status, Some(403), "{path}");
    }
    // An official may import households: her body is read (no early answer).
    let official = app.token(p.official).await;
    let status = answer_before_body(
        &app,
        "/api/v1/households/import",
        &official,
        (1 << 20, 1024),
        2,
    )
    .await;
    assert_eq!(status, None);
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multipart_boundaries_over_70_characters_are_refused() {
    let Some(app) = TestApp::spawn(Engine::Sqlite).await else {
        return;
    };
    let p = app.people().await;
    let official = app.token(p.official).await;
    let send = |boundary: String, body: Vec<u8>| {
        app.client
            .post(app.url("/api/v1/households/import"))
            .bearer_auth(&official)
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
            .send()
    };
    let long = "x".repeat(30 << 10);
    let body = format!(
        "--{long}\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\na,b\r\n--{long}--\r\n"
    );
    let res = send(long.clone(), body.into_bytes()).await.unwrap();
    assert_eq!(res.status().as_u16(), 400);
    let text = res.text().await.unwrap();
    assert!(text.contains("boundary") && text.contains("70"), "{text}");
    // 71 characters, and characters RFC 2046 does not allow.
    for b in ["y".repeat(71), "a<b>".into(), "\"\"".into()] {
        let res = send(b.clone(), b"--x--".to_vec()).await.unwrap();
        assert_eq!(res.status().as_u16(), 400, "{b}");
    }
    // A body full of near-boundaries with the longest boundary allowed is
    // parsed in time linear in its size: a 16 MB body answers quickly (the
    // quadratic search took 17 s for this).
    let b70 = "z".repeat(70);
    let mut body = Vec::with_capacity(16 << 20);
    body.extend_from_slice(
        format!("--{b70}\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n").as_bytes(),
    );
    let near = format!("--{}", &b70[..69]);
    while body.len() < (16 << 20) - 200 {
        body.extend_from_slice(near.as_bytes());
    }
    body.extend_from_slice(format!("\r\n--{b70}--\r\n").as_bytes());
    let started = std::time::Instant::now();
    let res = send(b70, body).await.unwrap();
    assert_eq!(res.status().as_u16(), 422);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    app.finish().await;
}
