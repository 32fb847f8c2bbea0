//! Fault: the disk under an SQLite database fills up while learners post
//! events, then space is freed. A small tmpfs holds the database (the tests
//! run as root in CI); a file of zeros fills it.

use std::io::Write;
use std::time::Instant;

use super::{Load, assert_none_lost, learners};
use crate::helpers::{Engine, TestApp};

/// A tmpfs mounted on a fresh folder, unmounted when dropped.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(mib: u32) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().unwrap();
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mib}m"), "tmpfs"])
            .arg(dir.path())
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(Tmpfs { dir })
    }

    fn path(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// Writes zeros to `name` until the file system is full; its size.
    fn fill(&self, name: &str) -> u64 {
        let mut f = std::fs::File::create(self.path().join(name)).unwrap();
        let chunk = vec![0u8; 64 * 1024];
        let mut n = 0u64;
        loop {
            match f.write(&chunk) {
                Ok(0) | Err(_) => break,
                Ok(k) => n += k as u64,
            }
        }
        let _ = f.sync_all();
        n
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn disk_full_on_sqlite_loses_nothing_and_recovers_by_itself() {
    let Some(fs) = Tmpfs::mount(48) else {
        // CI runs as root; a developer's unprivileged run says so.
        eprintln!("SKIPPED faults::disk_full: mounting a tmpfs needs root");
        return;
    };
    let db_file = fs.path().join("fuzhi.db");
    let url = format!("sqlite://{}?mode=rwc", db_file.display());
    let app = TestApp::spawn_with(Engine::Sqlite, |s| s.database_url = Some(url.clone()))
        .await
        .unwrap();
    let (people, lessons) = learners(&app, 8).await;
    let dir = tempfile::tempdir().unwrap();
    let mut server = app.db.serve(&url, dir.path()).start().await;
    let http = reqwest::Client::new();
    let health = |addr: String| {
        let http = http.clone();
        async move {
            let r = http.get(format!("{addr}/healthz")).send().await.unwrap();
            let s = r.status().as_u16();
            (s, r.text().await.unwrap_or_default())
        }
    };

    let load = Load::start(&server.addr, &people, &lessons);
    assert!(
        load.until(60, |l| l.acked() >= 300).await,
        "no progress before the fault"
    );

    // Fill the disk; the clients go on posting.
    let filled = fs.fill("filler");
    eprintln!("filled the tmpfs with {} KiB", filled / 1024);
    let refused = |l: &Load| l.count(507) + l.count(503);
    assert!(
        load.until(60, |l| refused(l) >= 20).await,
        "the server never refused an event while the disk was full: {:?}",
        load.statuses.lock().unwrap()
    );
    let (s, body) = health(server.addr.clone()).await;
    eprintln!(
        "while full: {:?} {:?}",
        load.statuses.lock().unwrap(),
        load.codes.lock().unwrap()
    );
    assert_eq!(s, 503, "/healthz while the disk is full: {body}");
    assert!(body.contains("cannot_write"), "{body}");

    // Free the space: events are accepted again within 5 s, no restart.
    let before = load.acked();
    std::fs::remove_file(fs.path().join("filler")).unwrap();
    let freed = Instant::now();
    assert!(
        load.until(5, |l| l.acked() > before).await,
        "no event accepted within 5 s of freeing the space: {:?}",
        load.statuses.lock().unwrap()
    );
    eprintln!(
        "accepting again {} ms after the space was freed",
        freed.elapsed().as_millis()
    );
    assert!(load.until(30, |l| l.acked() >= before + 200).await);
    let (s, body) = health(server.addr.clone()).await;
    assert_eq!(s, 200, "/healthz after the space was freed: {body}");

    let (acked, statuses, codes) = load.stop().await;
    eprintln!("fault: disk full: answers other than 200: {statuses:?}, codes {codes:?}");
    assert_eq!(statuses.get(&500), None, "a full disk is never a bare 500");
    assert!(statuses.get(&507).copied().unwrap_or(0) > 0, "{statuses:?}");
    assert!(codes.contains_key("storage_full"), "{codes:?}");

    // Kill it and start again: what was acknowledged is there.
    server.kill();
    let server = app.db.serve(&url, dir.path()).start().await;
    assert_none_lost("disk full (SQLite)", app.conn(), &acked).await;
    drop(server);
}
