//! Nothing acknowledged is ever lost: the real binary serves 16 clients that
//! post progress events with fresh ids and remember every id the server
//! acknowledged; the server is killed with SIGKILL in the middle of the run
//! and started again on the same database; every acknowledged event is
//! stored, the lesson progress derived from the events agrees with them, and
//! posting the acknowledged events again changes nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use fuzhi::entities::learning_event::{self, EventKind};
use fuzhi::entities::lesson_progress;
use sea_orm::EntityTrait;
use serde_json::json;

use crate::engine_test;
use crate::helpers::{COURSE, TestApp};

const CLIENTS: usize = 16;
/// id -> (user, kind, lesson) of every acknowledged event.
type Acked = BTreeMap<String, (i64, String, String)>;
/// Acknowledged events after which the server is killed.
const KILL_AFTER: usize = 400;

async fn acknowledged_events_survive_a_kill(app: TestApp) {
    let (learners, lessons) = crate::faults::learners(&app, CLIENTS).await;
    let dir = tempfile::tempdir().unwrap();
    let mut server = app.binary(dir.path()).await;
    let addr = server.addr.clone();

    let acked: Arc<Mutex<Acked>> = Default::default();
    let mut clients = Vec::new();
    for (n, (user, token)) in learners.iter().cloned().enumerate() {
        let acked = acked.clone();
        let addr = addr.clone();
        let lessons = lessons.clone();
        clients.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            for i in 0.. {
                let lesson = lessons[(n + i) % lessons.len()].clone();
                let kind = if i % 3 == 2 {
                    "lesson_finished"
                } else {
                    "lesson_opened"
                };
                let id = uuid::Uuid::new_v4().to_string();
                let body = json!([{"id": id, "kind": kind, "course": COURSE, "lesson": lesson}]);
                let r = client
                    .post(format!("{addr}/api/v1/events"))
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await;
                // Refused or cut off: the server is gone; stop this client.
                let Ok(r) = r else { return };
                if r.status().as_u16() != 200 {
                    return;
                }
                let Ok(report) = r.json::<serde_json::Value>().await else {
                    return;
                };
                if report["accepted"] == 1 || report["duplicates"] == 1 {
                    acked
                        .lock()
                        .unwrap()
                        .insert(id, (user, kind.to_string(), lesson));
                }
            }
        }));
    }
    // Kill once enough is acknowledged, while every client is still posting.
    loop {
        if acked.lock().unwrap().len() >= KILL_AFTER {
            break;
        }
        tokio::task::yield_now().await;
    }
    server.kill();
    for c in clients {
        c.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= KILL_AFTER);
    eprintln!("{} events acknowledged before the kill", acked.len());

    // Start again on the same database.
    let mut server = app.binary(dir.path()).await;
    let addr = server.addr.clone();
    let db = app.conn();
    let events = learning_event::Entity::find().all(db).await.unwrap();
    let stored: BTreeSet<String> = events.iter().map(|e| e.id.to_string()).collect();
    let lost: Vec<&String> = acked.keys().filter(|id| !stored.contains(*id)).collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged events lost: {lost:?}",
        lost.len()
    );

    // Derived state agrees with the events: a progress row for every lesson
    // opened or finished, finished exactly where a finish was stored.
    let progress: BTreeMap<(i64, String), bool> = lesson_progress::Entity::find()
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|p| ((p.user_id, p.lesson_slug), p.finished_at.is_some()))
        .collect();
    let mut expected: BTreeMap<(i64, String), bool> = BTreeMap::new();
    for e in &events {
        let Some(lesson) = e.lesson_slug.clone() else {
            continue;
        };
        let finished = e.kind == EventKind::LessonFinished;
        let v = expected.entry((e.user_id, lesson)).or_insert(false);
        *v = *v || finished;
    }
    assert_eq!(
        progress, expected,
        "lesson progress disagrees with the events"
    );

    // Replaying every acknowledged event after the restart changes nothing.
    let tokens: BTreeMap<i64, String> = learners.into_iter().collect();
    let client = reqwest::Client::new();
    let mut by_user: BTreeMap<i64, Vec<serde_json::Value>> = BTreeMap::new();
    for (id, (user, kind, lesson)) in &acked {
        by_user
            .entry(*user)
            .or_default()
            .push(json!({"id": id, "kind": kind, "course": COURSE, "lesson": lesson}));
    }
    for (user, items) in by_user {
        for chunk in items.chunks(200) {
            let r: serde_json::Value = client
                .post(format!("{addr}/api/v1/events"))
                .bearer_auth(&tokens[&user])
                .json(&chunk)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert_eq!(r["accepted"], 0, "{r}");
            assert_eq!(r["duplicates"], chunk.len(), "{r}");
        }
    }
    server.kill();
}
engine_test!(acknowledged_events_survive_a_kill);
