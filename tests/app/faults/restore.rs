//! Faults of a restore: an empty backup, a backup that is not a fuzhi
//! database, a backup without its ID-number key, and a restore while a
//! server runs on the database. Each is refused with a reason, and the
//! database in place is left as it was.

use super::{Load, assert_none_lost, learners};
use crate::helpers::{Engine, TestApp};

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsafe_restores_are_refused() {
    let Some(app) = TestApp::spawn(Engine::Sqlite).await else {
        return;
    };
    let (people, lessons) = learners(&app, 4).await;
    let work = tempfile::tempdir().unwrap();
    // Without keys in the settings: the data folder's files are the keys.
    let run = |args: &[&str]| {
        app.db
            .command(&app.db.url, work.path(), args)
            .env_remove("FUZHI_JWT_SECRET")
            .env_remove("FUZHI_ID_HMAC_KEY")
            .output()
            .unwrap()
    };
    let data = work.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("id-hmac.key"), "h".repeat(64)).unwrap();
    std::fs::write(data.join("jwt.key"), "j".repeat(64)).unwrap();

    // A 0-byte backup.
    let empty = tempfile::tempdir().unwrap();
    std::fs::write(empty.path().join("fuzhi.db"), b"").unwrap();
    std::fs::copy(data.join("id-hmac.key"), empty.path().join("id-hmac.key")).unwrap();
    let o = run(&["restore", "--replace", empty.path().to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("empty"), "{}", stderr(&o));

    // A valid SQLite file that is not a fuzhi database.
    let other = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        other.path().join("fuzhi.db").display()
    );
    let db = sea_orm::Database::connect(&url).await.unwrap();
    sea_orm::ConnectionTrait::execute_unprepared(&db, "CREATE TABLE notes (id INTEGER)")
        .await
        .unwrap();
    db.close().await.unwrap();
    std::fs::copy(data.join("id-hmac.key"), other.path().join("id-hmac.key")).unwrap();
    let o = run(&["restore", "--replace", other.path().to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("not a fuzhi database"),
        "{}",
        stderr(&o)
    );

    // A SQLite file with fuzhi's table names but not its columns.
    let forged = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        forged.path().join("fuzhi.db").display()
    );
    let db = sea_orm::Database::connect(&url).await.unwrap();
    for t in [
        "seaql_migrations",
        "app_user",
        "area",
        "course",
        "learning_event",
    ] {
        sea_orm::ConnectionTrait::execute_unprepared(&db, &format!("CREATE TABLE {t} (x INTEGER)"))
            .await
            .unwrap();
    }
    db.close().await.unwrap();
    std::fs::copy(data.join("id-hmac.key"), forged.path().join("id-hmac.key")).unwrap();
    let o = run(&["restore", "--replace", forged.path().to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("not a fuzhi database"),
        "{}",
        stderr(&o)
    );

    // A real backup, taken while a server runs and learners post.
    let dir = tempfile::tempdir().unwrap();
    let mut server = app.binary(dir.path()).await;
    let load = Load::start(&server.addr, &people, &lessons);
    assert!(load.until(60, |l| l.acked() >= 100).await);
    let backup = tempfile::tempdir().unwrap();
    let target = backup.path().join("b");
    let o = run(&["backup", target.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));

    // Restoring it while the server runs is refused, and the server goes on.
    let o = run(&["restore", "--replace", target.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("a server is running"), "{}", stderr(&o));
    // Nor through another name of the same file (a link).
    let alias = work.path().join("alias.db");
    let real = app
        .db
        .url
        .trim_start_matches("sqlite://")
        .split('?')
        .next()
        .unwrap()
        .to_string();
    std::os::unix::fs::symlink(&real, &alias).unwrap();
    let alias_url = format!("sqlite://{}?mode=rwc", alias.display());
    let o = app
        .db
        .command(
            &alias_url,
            work.path(),
            &["restore", "--replace", target.to_str().unwrap()],
        )
        .env_remove("FUZHI_JWT_SECRET")
        .env_remove("FUZHI_ID_HMAC_KEY")
        .output()
        .unwrap();
    assert!(
        !o.status.success(),
        "restored through a link under a running server"
    );
    assert!(stderr(&o).contains("a server is running"), "{}", stderr(&o));
    let before = load.acked();
    assert!(
        load.until(30, |l| l.acked() > before + 50).await,
        "the server stopped serving"
    );
    let (acked, statuses, _) = load.stop().await;
    assert_eq!(statuses.get(&500), None, "{statuses:?}");
    server.kill();
    assert_none_lost("restore against a running server", app.conn(), &acked).await;

    // A key file that is a link (to any file) is never read.
    let linked = tempfile::tempdir().unwrap();
    std::fs::copy(target.join("fuzhi.db"), linked.path().join("fuzhi.db")).unwrap();
    std::os::unix::fs::symlink("/etc/hostname", linked.path().join("id-hmac.key")).unwrap();

    // Elsewhere (no server on it): a restore, then without the backup's
    // ID-number key, refused unless --new-keys.
    let new_url = format!(
        "sqlite://{}?mode=rwc",
        work.path().join("restored.db").display()
    );
    let run = |args: &[&str]| {
        app.db
            .command(&new_url, work.path(), args)
            .env_remove("FUZHI_JWT_SECRET")
            .env_remove("FUZHI_ID_HMAC_KEY")
            .output()
            .unwrap()
    };
    let o = run(&["restore", "--replace", linked.path().to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("not a plain file"), "{}", stderr(&o));
    let o = run(&["restore", target.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let keyless = tempfile::tempdir().unwrap();
    std::fs::copy(target.join("fuzhi.db"), keyless.path().join("fuzhi.db")).unwrap();
    let o = run(&["restore", "--replace", keyless.path().to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("id-hmac.key"), "{}", stderr(&o));
    let o = run(&[
        "restore",
        "--replace",
        "--new-keys",
        keyless.path().to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("the backup had no id-hmac.key"), "{out}");
    assert!(out.contains("it replaced a database of"), "{out}");
    eprintln!("fault: unsafe restores: empty, foreign, keyless and under a running server refused");
}
