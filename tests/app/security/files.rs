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
    let refused =
        fuzhi::catalog::store::import_dir(app.conn(), &pkg, fuzhi::catalog::store::Origin::Import)
            .await;
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

// ---- 3. import bombs by count -----------------------------------------------------

/// A workbook made by rust_xlsxwriter (the template's header and example)
/// whose part `part` is replaced by what `write` writes.
fn workbook_with(part: &str, write: impl Fn(&mut dyn std::io::Write)) -> Vec<u8> {
    use std::io::{Read, Write};
    let template = fuzhi::households::import::template_csv();
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (r, line) in template.trim_start_matches('\u{feff}').lines().enumerate() {
        for (c, v) in line.split(',').enumerate() {
            sheet.write_string(r as u32, c as u16, v).unwrap();
        }
    }
    let plain = book.save_to_buffer().unwrap();
    let mut src = zip::ZipArchive::new(std::io::Cursor::new(plain)).unwrap();
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let mut replaced = false;
    for i in 0..src.len() {
        let mut p = src.by_index(i).unwrap();
        let name = p.name().to_string();
        let mut data = Vec::new();
        p.read_to_end(&mut data).unwrap();
        out.start_file(name.as_str(), opts).unwrap();
        if name == part {
            replaced = true;
            write(&mut out);
        } else {
            out.write_all(&data).unwrap();
        }
    }
    assert!(replaced, "{part} is in the workbook");
    out.finish().unwrap().into_inner()
}

/// The start of a sheet whose first row is the template's header.
fn sheet_head(w: &mut dyn std::io::Write) {
    w.write_all(b"<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData><row r=\"1\">")
        .unwrap();
    let template = fuzhi::households::import::template_csv();
    let header = template
        .trim_start_matches('\u{feff}')
        .lines()
        .next()
        .unwrap();
    for h in header.split(',') {
        write!(w, "<c t=\"inlineStr\"><is><t>{h}</t></is></c>").unwrap();
    }
    w.write_all(b"</row>").unwrap();
}

fn short(s: &str) -> String {
    s.chars().take(600).collect()
}

async fn import_raw(app: &TestApp, path: &str, token: &str, bytes: Vec<u8>) -> (u16, String) {
    let res = app
        .post_body(token, path, "application/octet-stream", bytes)
        .await;
    (res.status().as_u16(), res.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_bombs_by_count_are_refused_naming_the_bound() {
    let Some(app) = TestApp::spawn(Engine::Sqlite).await else {
        return;
    };
    let p = app.people().await;
    let official = app.token(p.official).await;
    let hh = "/api/v1/households/import";
    let rows = fuzhi::households::import::MAX_ROWS;

    // A small workbook of rows: a few hundred KB packed.
    let many_rows = workbook_with("xl/worksheets/sheet1.xml", |w| {
        sheet_head(w);
        for r in 2..=rows + 2 {
            write!(
                w,
                "<row r=\"{r}\"><c r=\"A{r}\" t=\"inlineStr\"><is><t>x</t></is></c></row>"
            )
            .unwrap();
        }
        w.write_all(b"</sheetData></worksheet>").unwrap();
    });
    assert!(many_rows.len() < 4 << 20, "{} bytes", many_rows.len());
    let (status, body) = import_raw(&app, hh, &official, many_rows).await;
    assert_eq!(status, 422, "{}", short(&body));
    assert!(body.contains(&format!("{rows} rows")), "{}", short(&body));

    // Millions of shared strings.
    let strings = fuzhi::households::import::MAX_SHARED_STRINGS;
    let many_strings = workbook_with("xl/sharedStrings.xml", |w| {
        w.write_all(b"<sst xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\">")
            .unwrap();
        for _ in 0..=strings {
            w.write_all(b"<si><t>a</t></si>").unwrap();
        }
        w.write_all(b"</sst>").unwrap();
    });
    let (status, body) = import_raw(&app, hh, &official, many_strings).await;
    assert_eq!(status, 422, "{}", short(&body));
    assert!(
        body.contains(&format!("{strings} shared strings")),
        "{}",
        short(&body)
    );

    // A sheet that reuses one long shared string in every cell (a 65 KB
    // file that took 2.2 GB): refused by its count of cells.
    let cells = fuzhi::households::import::MAX_CELLS;
    let wide = workbook_with("xl/worksheets/sheet1.xml", |w| {
        sheet_head(w);
        let per_row = 999;
        for r in 2..=(cells / per_row + 2) {
            write!(w, "<row r=\"{r}\">").unwrap();
            for _ in 0..per_row {
                w.write_all(b"<c t=\"s\"><v>0</v></c>").unwrap();
            }
            w.write_all(b"</row>").unwrap();
        }
        w.write_all(b"</sheetData></worksheet>").unwrap();
    });
    let (status, body) = import_raw(&app, hh, &official, wide).await;
    assert_eq!(status, 422, "{}", short(&body));
    assert!(body.contains(&format!("{cells} cells")), "{}", short(&body));

    // A CSV of short rows (blank ones are counted too: 1.4 MB).
    let mut csv = fuzhi::households::import::template_csv().into_bytes();
    for _ in 0..=rows {
        csv.extend_from_slice(b",,,\n");
    }
    let (status, body) = import_raw(&app, hh, &official, csv).await;
    assert_eq!(status, 422, "{}", short(&body));
    assert!(body.contains(&format!("{rows} rows")), "{}", short(&body));

    // Bad rows under the bound: the errors stop at a thousand, and say so.
    let mut csv = fuzhi::households::import::template_csv().into_bytes();
    for _ in 0..5000 {
        csv.extend_from_slice(b"1,2,3\n");
    }
    let (status, body) = import_raw(&app, hh, &official, csv).await;
    assert_eq!(status, 422);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let errors = v["error"]["errors"].as_array().expect("errors");
    assert!(errors.len() <= 1001, "{}", errors.len());
    assert!(body.contains("more than 1000 problems"), "{}", short(&body));

    // Workbooks calamine would read whole (XLS, ODS) are not read at all.
    let mut xls = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1".to_vec();
    xls.extend(vec![0u8; 4096]);
    let (status, body) = import_raw(&app, hh, &official, xls).await;
    assert_eq!(status, 422, "{}", short(&body));
    assert!(body.contains("only XLSX and CSV"), "{}", short(&body));

    // Learners: at most 2,000 a file.
    let trainer = app.token(p.trainer).await;
    let mut csv = b"name,phone,pin\n".to_vec();
    for i in 0..2001 {
        csv.extend_from_slice(format!("n{i},1370000{i:04},135790\n").as_bytes());
    }
    let (status, body) = import_raw(&app, "/api/v1/users/import", &trainer, csv).await;
    assert_eq!(status, 422, "{}", short(&body));
    assert!(body.contains("2000 rows"), "{}", short(&body));
    assert_eq!(app.count("household").await, 0);
    app.finish().await;
}

// ---- 5. event payloads: a schema per kind and a daily budget ---------------------

fn event(kind: &str, lesson: &str, payload: serde_json::Value) -> serde_json::Value {
    serde_json::json!({"id": uuid::Uuid::new_v4().to_string(), "kind": kind,
        "course": crate::helpers::COURSE, "lesson": lesson, "payload": payload})
}

// The budget is counted in SQL written per engine: run on all three.
crate::engine_test!(event_payloads_have_a_schema_and_a_daily_budget);

async fn event_payloads_have_a_schema_and_a_daily_budget(app: TestApp) {
    use serde_json::json;
    let p = app.people().await;
    app.import_course(crate::helpers::COURSE).await;
    let lesson = app.first_lesson(crate::helpers::COURSE).await;
    let mut tokens = Vec::new();
    for id in [p.learner, p.learner_in] {
        let t = app.token(id).await;
        assert_eq!(app.enroll(&t, crate::helpers::COURSE).await.0, 200);
        tokens.push(t);
    }
    let before = app.count("learning_event").await;

    // Payloads that do not fit their kind are rejected with the reason, and
    // nothing of them is stored.
    let big = "x".repeat(1 << 20);
    let bad = [
        event(
            "lesson_opened",
            &lesson,
            json!({"seconds": 30, "junk": big}),
        ),
        event("lesson_opened", &lesson, json!({"note": "x"})),
        event("lesson_opened", &lesson, json!({"seconds": "many"})),
        event(
            "lesson_finished",
            &lesson,
            json!({"seconds": 3, "score": 100}),
        ),
        event("answer_given", &lesson, json!({"answers": [big]})),
        event("answer_given", &lesson, json!("a string")),
        event(
            "quiz_submitted",
            &lesson,
            json!({"quiz": "pre", "answers": {"q1": ["a"]}, "x": 1}),
        ),
        event("lesson_opened", &"l".repeat(5000), json!({})),
    ];
    let (status, r) = app
        .post_json("/api/v1/events", &tokens[0], json!(bad))
        .await;
    assert_eq!(status, 200, "{r}");
    let rejected = r["rejected"].as_array().unwrap();
    assert_eq!(rejected.len(), bad.len(), "{r}");
    assert!(
        rejected
            .iter()
            .all(|x| x["reason"].as_str().unwrap().len() < 300),
        "{r}"
    );
    assert!(r.to_string().contains("4096-byte limit"), "{r}");
    assert_eq!(app.count("learning_event").await, before);
    // A payload that fits is stored.
    let ok = [event("lesson_opened", &lesson, json!({"seconds": 30}))];
    let (status, r) = app.post_json("/api/v1/events", &tokens[0], json!(ok)).await;
    assert_eq!((status, r["accepted"].as_u64()), (200, Some(1)), "{r}");

    // Events a day: batches pass until the budget is spent, then 429 names it.
    let mut refused = None;
    for _ in 0..6 {
        let batch: Vec<_> = (0..500)
            .map(|_| event("lesson_opened", &lesson, json!({"seconds": 5})))
            .collect();
        let (status, r) = app
            .post_json("/api/v1/events", &tokens[0], json!(batch))
            .await;
        if status != 200 {
            refused = Some((status, r));
            break;
        }
    }
    let (status, r) = refused.expect("a learner's budget is spent after 2,000 events");
    assert_eq!(status, 429, "{r}");
    let message = r["error"]["message"].as_str().unwrap();
    assert!(message.contains("2000 events a day"), "{r}");
    assert!(r["error"]["retry_after"].as_u64().is_some(), "{r}");
    assert!(app.count("learning_event").await <= before + 2001);

    // Bytes a day: near-limit payloads spend the byte budget first.
    let answers: Vec<String> = (0..19).map(|i| format!("{i:0>190}")).collect();
    let mut refused = None;
    for _ in 0..5 {
        let batch: Vec<_> = (0..100)
            .map(|_| event("answer_given", &lesson, json!({"answers": answers})))
            .collect();
        let (status, r) = app
            .post_json("/api/v1/events", &tokens[1], json!(batch))
            .await;
        if status != 200 {
            refused = Some((status, r));
            break;
        }
    }
    let (status, r) = refused.expect("a learner's byte budget is spent");
    assert_eq!(status, 429, "{r}");
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("KB of event data a day"),
        "{r}"
    );
}

// ---- 11. SVG: an allowlist at import, and the media answer's own CSP ----------------

#[test]
fn hostile_svgs_are_refused_at_import() {
    let variants = [
        // Namespace prefix, CR before the handler, foreignObject, an
        // entity-encoded javascript: link, a DOCTYPE entity, a remote image.
        r#"<svg xmlns="http://www.w3.org/2000/svg"><s:script xmlns:s="http://www.w3.org/2000/svg">alert(1)</s:script></svg>"#,
        "<svg xmlns=\"http://www.w3.org/2000/svg\"><rect\ronclick=\"alert(1)\"/></svg>",
        r#"<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><p>x</p></foreignObject></svg>"#,
        r#"<svg xmlns="http://www.w3.org/2000/svg"><a href="&#x6A;avascript:alert(1)"><rect/></a></svg>"#,
        r#"<!DOCTYPE svg [<!ENTITY j "javascript:alert(1)">]><svg xmlns="http://www.w3.org/2000/svg"><a href="&j;"><rect/></a></svg>"#,
        r#"<svg xmlns="http://www.w3.org/2000/svg"><image href="https://evil.example/x.png"/></svg>"#,
        r#"<svg xmlns="http://www.w3.org/2000/svg"><style>@import url("https://evil.example/a.css");</style></svg>"#,
        r#"<svg xmlns="http://www.w3.org/2000/svg"><set attributeName="onmouseover" to="alert(1)"/></svg>"#,
    ];
    for v in variants {
        let (_t, pkg, _key) = package();
        fs::write(pkg.join("basics/media/01-dot.svg"), v).unwrap();
        let (problems, _) = load(&pkg);
        assert!(
            problems
                .iter()
                .any(|p| p.contains("01-dot.svg") && p.contains("SVG must only draw")),
            "passed: {v}\n{problems:?}"
        );
    }
}

/// The path of the first SVG of the shipped course.
fn first_svg() -> String {
    let (_, courses) = crate::helpers::shipped();
    let c = courses
        .iter()
        .find(|c| c.course.slug == crate::helpers::COURSE)
        .unwrap();
    c.course
        .media
        .iter()
        .find(|m| m.path.ends_with(".svg"))
        .expect("an SVG in the course")
        .path
        .trim_start_matches("media/")
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_svg_keeps_its_sandbox_and_media_is_not_sniffed() {
    let Some(app) = TestApp::spawn(Engine::Sqlite).await else {
        return;
    };
    app.import_course(crate::helpers::COURSE).await;
    let url = format!("/c/{}/1/media/{}", crate::helpers::COURSE, first_svg());
    let res = app.get(&url).await;
    assert_eq!(res.status().as_u16(), 200, "{url}");
    let h = res.headers();
    let csp = h.get("content-security-policy").unwrap().to_str().unwrap();
    assert!(
        csp.contains("sandbox") && csp.starts_with("default-src 'none'"),
        "{csp}"
    );
    assert_eq!(h.get("x-content-type-options").unwrap(), "nosniff");
    assert_eq!(h.get("content-disposition").unwrap(), "inline");
    // A revalidation (304) keeps the same policy: a cache that merges its
    // headers must not lose the sandbox.
    let etag = h.get("etag").unwrap().clone();
    let again = app
        .client
        .get(app.url(&url))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status().as_u16(), 304);
    let csp = again.headers()["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("sandbox") && csp.starts_with("default-src 'none'"),
        "304: {csp}"
    );
    assert_eq!(again.headers()["x-content-type-options"], "nosniff");
    // Pages keep the site-wide policy.
    let csp = app.get("/login").await.headers()["content-security-policy"].clone();
    assert!(!csp.to_str().unwrap().contains("sandbox"));
    app.finish().await;
}

// ---- 16. draft media, narration judged by its frames -------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn draft_media_is_for_its_editors_only() {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
    let Some(app) = TestApp::spawn(Engine::Sqlite).await else {
        return;
    };
    let p = app.people().await;
    app.import_course(crate::helpers::COURSE).await;
    let url = app.url(&format!(
        "/c/{}/1/media/{}",
        crate::helpers::COURSE,
        first_svg()
    ));
    let published = app.client.get(&url).send().await.unwrap();
    assert_eq!(published.status().as_u16(), 200);
    assert!(
        published.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("public")
    );
    // The same version as a draft.
    fuzhi::entities::course::Entity::update_many()
        .col_expr(
            fuzhi::entities::course::Column::Status,
            Expr::value(fuzhi::entities::course::CourseStatus::Draft),
        )
        .filter(fuzhi::entities::course::Column::Slug.eq(crate::helpers::COURSE))
        .exec(app.conn())
        .await
        .unwrap();
    let anonymous = reqwest::Client::new().get(&url).send().await.unwrap();
    assert_eq!(anonymous.status().as_u16(), 404);
    for who in [p.learner, p.official, p.trainer] {
        let t = app.token(who).await;
        let res = app.client.get(&url).bearer_auth(&t).send().await.unwrap();
        assert_eq!(res.status().as_u16(), 404, "user {who}");
    }
    // An admin may edit the shipped course: she sees it, never cached publicly.
    let t = app.token(p.admin).await;
    let res = app.client.get(&url).bearer_auth(&t).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let cache = res.headers()["cache-control"].to_str().unwrap().to_string();
    assert!(
        cache.contains("no-store") && !cache.contains("public"),
        "{cache}"
    );
    app.finish().await;
}

#[test]
fn narration_must_be_real_mp3_frames() {
    let (_t, pkg, _key) = package();
    // An ID3 header and then a web page.
    let mut fake = b"ID3\x04\0\0\0\0\0\x05hello".to_vec();
    fake.extend_from_slice(b"<html><script>alert(1)</script></html>");
    fs::write(pkg.join("basics/media/01-talk.mp3"), &fake).unwrap();
    let (problems, _) = load(&pkg);
    assert!(
        problems
            .iter()
            .any(|p| p.contains("01-talk.mp3") && p.contains("not mp3 audio")),
        "{problems:?}"
    );
    // A real MP3 passes the same check.
    let tone = fs::read("tests/fixtures/narration/tone.mp3").unwrap();
    assert_eq!(fuzhi::courses::audio::sniff(&tone), Some("mp3"));
    assert_eq!(fuzhi::courses::audio::sniff(&fake), None);
}

/// A CSV of one line of commas is refused before the CSV reader makes a
/// field of each (it took 1.7 GB for 60 million): one pass over the bytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_line_csv_of_commas_is_refused_before_it_is_parsed() {
    let Some(app) = TestApp::spawn(Engine::Sqlite).await else {
        return;
    };
    let p = app.people().await;
    let official = app.token(p.official).await;
    let mut line = ",".repeat(20_000_000);
    line.push('\n');
    let started = std::time::Instant::now();
    let (status, body) = import_raw(
        &app,
        "/api/v1/households/import",
        &official,
        line.into_bytes(),
    )
    .await;
    assert_eq!(status, 422, "{}", short(&body));
    assert!(body.contains("more than 1000 columns"), "{}", short(&body));
    eprintln!(
        "a 20 MB line of commas refused in {} ms",
        started.elapsed().as_millis()
    );
}

/// Batches sent together by one learner cannot all pass one reading of
/// her budget, and her page views cannot go past it either.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_daily_budget_holds_against_parallel_batches_and_page_views() {
    use serde_json::json;
    let Some(app) =
        TestApp::spawn_with(Engine::Sqlite, |s| s.events_per_learner_per_day = 100).await
    else {
        return;
    };
    let p = app.people().await;
    app.import_course(crate::helpers::COURSE).await;
    let lesson = app.first_lesson(crate::helpers::COURSE).await;
    let t = app.token(p.learner).await;
    assert_eq!(app.enroll(&t, crate::helpers::COURSE).await.0, 200);
    let before = app.count("learning_event").await;
    // 12 batches of 20 at once: at most 100 may be stored.
    let mut sends = Vec::new();
    for _ in 0..12 {
        let batch: Vec<_> = (0..20)
            .map(|_| event("lesson_opened", &lesson, json!({"seconds": 1})))
            .collect();
        let (client, url, t) = (app.client.clone(), app.url("/api/v1/events"), t.clone());
        sends.push(tokio::spawn(async move {
            client
                .post(url)
                .bearer_auth(t)
                .json(&batch)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut refused = 0;
    for s in sends {
        if s.await.unwrap() == 429 {
            refused += 1;
        }
    }
    let stored = app.count("learning_event").await - before;
    assert!(
        stored <= 100,
        "{stored} events stored against a budget of 100"
    );
    assert_eq!(refused, 7, "5 batches fit, 7 are refused");

    // Page views of another learner: recorded up to the budget, then the
    // page says why.
    let before = app.count("learning_event").await;
    assert!(
        app.login_form("13900000002", crate::helpers::PASSWORD)
            .await
            .status()
            .is_redirection()
    );
    let t2 = app.token(p.learner_in).await;
    assert_eq!(app.enroll(&t2, crate::helpers::COURSE).await.0, 200);
    let page = app.url(&format!(
        "/courses/{}/lessons/{lesson}",
        crate::helpers::COURSE
    ));
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    for _ in 0..130 {
        let s = app
            .client
            .get(&page)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        *statuses.entry(s).or_default() += 1;
    }
    let recorded = app.count("learning_event").await - before;
    assert!(
        recorded <= 100,
        "{recorded} page records against a budget of 100 ({statuses:?})"
    );
}
