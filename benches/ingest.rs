//! Event-ingest benchmark: 32 concurrent clients post batches of 50 learning
//! events over HTTP to a server on this machine; every accepted event is
//! committed (SQLite `synchronous=FULL`) before the answer.
//!
//! cargo bench --bench ingest                      # SQLite
//! FUZHI_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1/postgres cargo bench --bench ingest
//!
//! Options (env): FUZHI_BENCH_CLIENTS (32), FUZHI_BENCH_BATCH (50), FUZHI_BENCH_BATCHES (40 per client).

use std::time::Instant;

mod common;

use fuzhi::config::{MailSettings, Settings};
use fuzhi::{Application, StartOptions};
use sea_orm::{ConnectionTrait, Database};
use serde_json::json;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let mut engines = vec![(
        "sqlite",
        format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("bench.db").display()
        ),
    )];
    if let Ok(pg) = std::env::var("FUZHI_BENCH_POSTGRES_URL") {
        let admin = Database::connect(&pg).await.expect("postgres");
        let name = format!("fuzhi_bench_{}", std::process::id());
        admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name}"))
            .await
            .unwrap();
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        let mut u = url::Url::parse(&pg).unwrap();
        u.set_path(&format!("/{name}"));
        engines.push(("postgres", u.to_string()));
    }
    for (engine, url) in engines {
        run(engine, &url, dir.path()).await;
    }
}

async fn run(engine: &str, url: &str, dir: &std::path::Path) {
    let clients = env("FUZHI_BENCH_CLIENTS", 32);
    let batch = env("FUZHI_BENCH_BATCH", 50);
    let batches = env("FUZHI_BENCH_BATCHES", 40);
    let settings = Settings {
        database_url: Some(url.to_string()),
        data_dir: dir.join(engine),
        addr: "127.0.0.1:0".into(),
        courses_dir: None,
        db_max_connections: 16,
        mail: MailSettings {
            worker: false,
            ..Default::default()
        },
        ..Settings::default()
    };
    let app = Application::build(settings, StartOptions::default())
        .await
        .unwrap();
    let base = format!("http://{}", app.addr());
    let state = app.state();
    tokio::spawn(app.run());
    fuzhi::areas::import_csv(&state.db, fuzhi::demo::AREAS.as_bytes())
        .await
        .unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("courses");
    fuzhi::catalog::store::import_dir(&state.db, &root, fuzhi::catalog::store::Origin::Import)
        .await
        .unwrap();
    let info = state
        .content
        .published(&state.db, "smartphone-basics")
        .await
        .unwrap()
        .unwrap();
    let lessons: Vec<String> = info.lessons.iter().map(|l| l.slug.clone()).collect();
    let http = reqwest::Client::new();
    let tokens = common::enrolled_learners(
        &state.db,
        &state.secrets.jwt,
        &base,
        "smartphone-basics",
        "1380000",
        clients,
    )
    .await;
    let started = Instant::now();
    let mut handles = Vec::new();
    for t in tokens {
        // A finish carries the lesson page's proof that it was served to her.
        let user = fuzhi::accounts::tokens::verify(
            &state.secrets.jwt,
            &t,
            fuzhi::accounts::tokens::Purpose::Session,
        )
        .expect("a session token")
        .sub;
        let key = {
            use secrecy::ExposeSecret;
            state.secrets.id_hmac.expose_secret().as_bytes().to_vec()
        };
        let (http, base, lessons) = (http.clone(), base.clone(), lessons.clone());
        handles.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut accepted = 0u64;
            for b in 0..batches {
                let events: Vec<_> = (0..batch)
                    .map(|i| {
                        let l = &lessons[(b * batch + i) % lessons.len()];
                        let kind = if i % 5 == 4 { "lesson_finished" } else { "lesson_opened" };
                        let served = fuzhi::learning::events::served_proof(&key, user, "smartphone-basics", l);
                        json!({"id": uuid::Uuid::new_v4().to_string(), "kind": kind, "course": "smartphone-basics", "lesson": l, "served": served, "payload": {"seconds": 30}})
                    })
                    .collect();
                let t0 = Instant::now();
                let r: serde_json::Value = http.post(format!("{base}/api/v1/events")).bearer_auth(&t).json(&events).send().await.unwrap().json().await.unwrap();
                lat.push(t0.elapsed().as_secs_f64() * 1000.0);
                accepted += r["accepted"].as_u64().expect("accepted");
            }
            (accepted, lat)
        }));
    }
    let mut total = 0;
    let mut lat = Vec::new();
    for h in handles {
        let (a, l) = h.await.unwrap();
        total += a;
        lat.extend(l);
    }
    let secs = started.elapsed().as_secs_f64();
    lat.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let pct = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)];
    assert_eq!(
        total as usize,
        clients * batch * batches,
        "every event accepted"
    );
    println!(
        "ingest {engine}: {total} events in {secs:.2} s = {:.0} events/s ({clients} clients x batches of {batch}); batch latency p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms",
        total as f64 / secs,
        pct(0.50),
        pct(0.95),
        pct(0.99)
    );
}
