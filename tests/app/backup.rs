//! Backups of a running server: a backup taken while learners post events
//! keeps every acknowledged event and restores into a working database.

use sea_orm::EntityTrait;
use serde_json::{Value, json};

use crate::helpers::{Engine, TestApp, VILLAGE_A};

/// Runs the real `fuzhi` command on a SQLite database and data folder.
fn fuzhi_command(args: &[&str], db_url: &str, data_dir: &std::path::Path) -> std::process::Output {
    crate::helpers::binary::command(args)
        .current_dir(data_dir.parent().unwrap())
        .env("DATABASE_URL", db_url)
        .env("FUZHI_DATA_DIR", data_dir)
        .env("FUZHI_LOG", "error")
        .output()
        .expect("run fuzhi")
}

/// A backup taken while learners post events holds every event acknowledged
/// before it began, and restores into a working database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_while_writing_keeps_every_acknowledged_event() {
    use std::collections::BTreeSet;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};

    let Some(app) = TestApp::spawn(Engine::Sqlite).await else {
        return;
    };
    app.seed_areas().await;
    app.import_course(crate::helpers::COURSE).await;
    let course = crate::helpers::COURSE;
    let lesson = app.first_lesson(course).await;
    let data_dir = app.db.dir.path().join("data");
    std::fs::create_dir_all(&data_dir).unwrap();
    std::fs::write(data_dir.join("id-hmac.key"), "k".repeat(64)).unwrap();

    let acked: Arc<Mutex<BTreeSet<String>>> = Default::default();
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for i in 0..4 {
        let id = app
            .user(&format!("1391000100{i}"), "learner", Some(VILLAGE_A))
            .await;
        let token = app.token(id).await;
        let (s, _) = app.enroll(&token, course).await;
        assert!(s < 300);
        let (acked, stop, url) = (acked.clone(), stop.clone(), app.url("/api/v1/events"));
        let lesson = lesson.clone();
        writers.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            while !stop.load(Ordering::Relaxed) {
                let id = uuid::Uuid::new_v4().to_string();
                let body = json!([{"id": id, "kind": "lesson_opened", "course": course, "lesson": lesson}]);
                let r: Value = client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                assert_eq!(r["accepted"], 1, "{r}");
                acked.lock().unwrap().insert(id);
            }
        }));
    }
    // Let the writers get going, then back up while they write.
    while acked.lock().unwrap().len() < 200 {
        tokio::task::yield_now().await;
    }
    let before: BTreeSet<String> = acked.lock().unwrap().clone();
    let backup_dir = app.db.dir.path().join("backup");
    // A video in the data folder's file store goes with the backup.
    let video = b"a lesson video, by its content".to_vec();
    let name = fuzhi::catalog::files::name_of(&video);
    let stored_at = |data: &std::path::Path| data.join("files").join(&name[..2]).join(&name);
    std::fs::create_dir_all(stored_at(&data_dir).parent().unwrap()).unwrap();
    std::fs::write(stored_at(&data_dir), &video).unwrap();
    let (url, dir, data) = (app.db.url.clone(), backup_dir.clone(), data_dir.clone());
    let out = tokio::task::spawn_blocking(move || {
        fuzhi_command(&["backup", dir.to_str().unwrap()], &url, &data)
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let during = acked.lock().unwrap().len() - before.len();
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.await.unwrap();
    }
    assert!(backup_dir.join("fuzhi.db").is_file());
    assert!(
        backup_dir.join("id-hmac.key").is_file(),
        "the keys go with it"
    );

    // Restore into a new place, as on a new machine.
    let elsewhere = tempfile::tempdir().unwrap();
    let new_data = elsewhere.path().join("data");
    let new_url = format!(
        "sqlite://{}?mode=rwc",
        elsewhere.path().join("restored.db").display()
    );
    let out = fuzhi_command(
        &["restore", backup_dir.to_str().unwrap()],
        &new_url,
        &new_data,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read(new_data.join("id-hmac.key")).unwrap(),
        std::fs::read(data_dir.join("id-hmac.key")).unwrap()
    );
    assert_eq!(
        std::fs::read(stored_at(&new_data)).unwrap(),
        video,
        "the file store is restored"
    );
    // Restoring over a database needs --replace.
    let out = fuzhi_command(
        &["restore", backup_dir.to_str().unwrap()],
        &new_url,
        &new_data,
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--replace"));

    let restored = fuzhi::db::connect(&new_url, 1).await.unwrap();
    let stored: BTreeSet<String> = fuzhi::entities::learning_event::Entity::find()
        .all(&restored)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.id.to_string())
        .collect();
    let lost: Vec<&String> = before.iter().filter(|id| !stored.contains(*id)).collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged events lost: {lost:?}",
        lost.len()
    );
    eprintln!(
        "{} events acknowledged before the backup, {during} while it ran, {} in the copy",
        before.len(),
        stored.len()
    );
    // The restored database serves.
    let mut settings = app.db.settings();
    settings.database_url = Some(new_url);
    settings.data_dir = new_data;
    let again = fuzhi::Application::build(settings, fuzhi::StartOptions::default())
        .await
        .expect("the restored database starts");
    drop(again);
    app.finish().await;
}
