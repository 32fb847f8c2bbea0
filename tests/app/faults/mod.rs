//! The `faults` group: the real binary serves clients that post learning
//! events with fresh ids while a fault is injected (a full disk, a database
//! restart or outage, connections killed during `COMMIT`, a course import
//! while two processes serve, a restart after an import, sign-ups under full
//! event load, an unsafe restore, slow bodies). Each test names its fault,
//! prints what the clients were told, and counts acknowledged ids missing
//! from the database (must be 0). Run alone with `.ci/test faults::`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fuzhi::entities::learning_event;
use sea_orm::EntityTrait;
use serde_json::json;

use crate::helpers::{COURSE, TestApp, VILLAGE_A};

mod courses;
mod disk_full;
mod killed;
mod outage;
mod restore;
mod signups;
mod slow;

/// id -> learner of every acknowledged event.
pub type Acked = BTreeMap<String, i64>;

/// Enrolls `n` learners of village A in the test course; their ids and
/// tokens, and the course's lessons.
pub async fn learners(app: &TestApp, n: usize) -> (Vec<(i64, String)>, Vec<String>) {
    app.seed_areas().await;
    app.import_course(COURSE).await;
    enroll(app, n).await
}

/// Enrolls `n` learners of village A in the test course, already published.
pub async fn enroll(app: &TestApp, n: usize) -> (Vec<(i64, String)>, Vec<String>) {
    let lessons: Vec<String> = app
        .state
        .content
        .published(app.conn(), COURSE)
        .await
        .unwrap()
        .unwrap()
        .lessons
        .iter()
        .map(|l| l.slug.clone())
        .collect();
    let mut out = Vec::new();
    for i in 0..n {
        let id = app
            .user(&format!("139100000{i:02}"), "learner", Some(VILLAGE_A))
            .await;
        let t = app.token(id).await;
        let (s, _) = app.enroll(&t, COURSE).await;
        assert!(s < 300, "enroll: {s}");
        out.push((id, t));
    }
    (out, lessons)
}

/// Clients posting one event with a fresh id at a time, each remembering
/// what the server acknowledged (200 with the event accepted or a
/// duplicate) and counting every other answer by status (0: no answer).
pub struct Load {
    pub acked: Arc<Mutex<Acked>>,
    pub statuses: Arc<Mutex<BTreeMap<u16, usize>>>,
    /// The error codes of refused requests (`storage_full`, `busy` …).
    pub codes: Arc<Mutex<BTreeMap<String, usize>>>,
    stop: Arc<AtomicBool>,
    clients: Vec<tokio::task::JoinHandle<()>>,
}

impl Load {
    pub fn start(addr: &str, learners: &[(i64, String)], lessons: &[String]) -> Load {
        Load::start_from(addr, learners, lessons, None)
    }

    /// As `start`, the clients' connections from `local` (another loopback
    /// address stands for another client).
    pub fn start_from(
        addr: &str,
        learners: &[(i64, String)],
        lessons: &[String],
        local: Option<std::net::IpAddr>,
    ) -> Load {
        let load = Load {
            acked: Default::default(),
            statuses: Default::default(),
            codes: Default::default(),
            stop: Default::default(),
            clients: Vec::new(),
        };
        let mut clients = Vec::new();
        for (n, (user, token)) in learners.iter().cloned().enumerate() {
            let (acked, statuses, codes, stop) = (
                load.acked.clone(),
                load.statuses.clone(),
                load.codes.clone(),
                load.stop.clone(),
            );
            let addr = addr.to_string();
            let lessons = lessons.to_vec();
            clients.push(tokio::spawn(async move {
                let client = reqwest::Client::builder()
                    .timeout(Duration::from_secs(30))
                    .local_address(local)
                    .build()
                    .unwrap();
                for i in 0.. {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    let lesson = &lessons[(n + i) % lessons.len()];
                    // A lesson step a phone reports (a finish needs the
                    // lesson page's proof, which these clients do not load).
                    let kind = "lesson_opened";
                    let id = uuid::Uuid::new_v4().to_string();
                    let body =
                        json!([{"id": id, "kind": kind, "course": COURSE, "lesson": lesson}]);
                    let r = client
                        .post(format!("{addr}/api/v1/events"))
                        .bearer_auth(&token)
                        .json(&body)
                        .send()
                        .await;
                    let status = r.as_ref().map_or(0, |r| r.status().as_u16());
                    if status == 200 {
                        let report: serde_json::Value = r.unwrap().json().await.unwrap();
                        if report["accepted"] == 1 || report["duplicates"] == 1 {
                            acked.lock().unwrap().insert(id, user);
                            continue;
                        }
                    } else if let Ok(r) = r {
                        let body: serde_json::Value = r.json().await.unwrap_or_default();
                        let code = body["error"]["code"].as_str().unwrap_or("-").to_string();
                        *codes.lock().unwrap().entry(code).or_default() += 1;
                    }
                    *statuses.lock().unwrap().entry(status).or_default() += 1;
                    // A client that was refused does not hammer the server.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }));
        }
        Load { clients, ..load }
    }

    pub fn acked(&self) -> usize {
        self.acked.lock().unwrap().len()
    }

    /// Answers with this status so far.
    pub fn count(&self, status: u16) -> usize {
        self.statuses
            .lock()
            .unwrap()
            .get(&status)
            .copied()
            .unwrap_or(0)
    }

    /// Polls until `cond` holds, at most `secs` seconds; whether it did.
    pub async fn until(&self, secs: u64, cond: impl Fn(&Load) -> bool) -> bool {
        let deadline = std::time::Instant::now() + Duration::from_secs(secs);
        while std::time::Instant::now() < deadline {
            if cond(self) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        cond(self)
    }

    /// Stops the clients; what they were told.
    pub async fn stop(self) -> (Acked, BTreeMap<u16, usize>, BTreeMap<String, usize>) {
        self.stop.store(true, Ordering::Relaxed);
        for c in self.clients {
            c.await.unwrap();
        }
        let acked = self.acked.lock().unwrap().clone();
        let statuses = self.statuses.lock().unwrap().clone();
        let codes = self.codes.lock().unwrap().clone();
        (acked, statuses, codes)
    }
}

/// Asserts that every acknowledged id is stored, once; prints the counts.
pub async fn assert_none_lost(fault: &str, db: &sea_orm::DatabaseConnection, acked: &Acked) {
    let events = learning_event::Entity::find().all(db).await.unwrap();
    let ids: Vec<String> = events.iter().map(|e| e.id.to_string()).collect();
    let stored: BTreeSet<&String> = ids.iter().collect();
    let twice = ids.len() - stored.len();
    let lost: Vec<&String> = acked.keys().filter(|id| !stored.contains(id)).collect();
    eprintln!(
        "fault: {fault}: {} events acknowledged, {} lost, {twice} stored twice",
        acked.len(),
        lost.len()
    );
    assert!(
        lost.is_empty(),
        "{fault}: acknowledged events lost: {lost:?}"
    );
    assert_eq!(twice, 0, "{fault}: events stored twice");
}
