//! The learner's hot path, measured in one run: `/healthz` (the server's own
//! floor), the lesson page for an enrolled learner (each request a different
//! learner, so each one records its own `lesson_opened`), the course API,
//! progress events one a request and in batches of 50. A server on this
//! machine with the shipped courses; keep-alive clients on loopback.
//!
//! cargo bench --bench http                       # SQLite
//! FUZHI_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1/postgres cargo bench --bench http
//!
//! Options (env): FUZHI_BENCH_CONNS (32), FUZHI_BENCH_SECS (5 a figure),
//! FUZHI_BENCH_LEARNERS (256).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

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

const COURSE: &str = "smartphone-basics";

fn main() {
    // The server has its own runtime and threads (actix, one worker a core);
    // the clients run on another.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
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
            let name = format!("fuzhi_bench_http_{}", std::process::id());
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
    });
}

/// One request of a figure: the method, path, token and body to send.
type MakeRequest = Arc<
    dyn Fn(usize) -> (reqwest::Method, String, String, Option<serde_json::Value>) + Send + Sync,
>;

struct Figure {
    name: &'static str,
    rps: f64,
    items_per_request: usize,
    p50: f64,
    p99: f64,
}

async fn measure(
    name: &'static str,
    base: &str,
    conns: usize,
    secs: u64,
    items_per_request: usize,
    make: MakeRequest,
) -> Figure {
    let stop = Arc::new(AtomicBool::new(false));
    let counter = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut handles = Vec::new();
    for _ in 0..conns {
        let (stop, counter, make, base) = (
            stop.clone(),
            counter.clone(),
            make.clone(),
            base.to_string(),
        );
        handles.push(tokio::spawn(async move {
            let http = reqwest::Client::builder()
                .pool_max_idle_per_host(1)
                .build()
                .unwrap();
            let mut lat = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let (method, path, token, body) = make(n);
                let mut rq = http.request(method, format!("{base}{path}"));
                if !token.is_empty() {
                    rq = rq.bearer_auth(token);
                }
                if let Some(b) = body {
                    rq = rq.json(&b);
                }
                let t0 = Instant::now();
                let r = rq.send().await.expect("request");
                let status = r.status();
                let _ = r.bytes().await.expect("body");
                assert!(status.is_success(), "{name}: {status}");
                lat.push(t0.elapsed().as_secs_f64() * 1000.0);
            }
            lat
        }));
    }
    tokio::time::sleep(Duration::from_secs(secs)).await;
    stop.store(true, Ordering::Relaxed);
    let mut lat = Vec::new();
    for h in handles {
        lat.extend(h.await.unwrap());
    }
    let elapsed = started.elapsed().as_secs_f64();
    lat.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let pct = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)];
    Figure {
        name,
        rps: lat.len() as f64 / elapsed,
        items_per_request,
        p50: pct(0.50),
        p99: pct(0.99),
    }
}

async fn run(engine: &str, url: &str, dir: &std::path::Path) {
    let conns = env("FUZHI_BENCH_CONNS", 32);
    let secs = env("FUZHI_BENCH_SECS", 5) as u64;
    let learners = env("FUZHI_BENCH_LEARNERS", 256);
    let settings = Settings {
        database_url: Some(url.to_string()),
        data_dir: dir.join(engine),
        addr: "127.0.0.1:0".into(),
        courses_dir: None,
        report_refresh_secs: 0,
        mail: MailSettings {
            worker: false,
            ..Default::default()
        },
        ..Settings::default()
    };
    // The server on threads of its own, as a separate process would be.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let app = Application::build(settings, StartOptions::default())
                .await
                .unwrap();
            tx.send((app.addr().to_string(), app.state())).unwrap();
            app.run().await.unwrap();
        })
    });
    let (addr, state) = rx.recv().unwrap();
    let base = format!("http://{addr}");
    fuzhi::areas::import_csv(&state.db, fuzhi::demo::AREAS.as_bytes())
        .await
        .unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("courses");
    fuzhi::catalog::store::import_dir(&state.db, &root)
        .await
        .unwrap();
    state.content.clear();
    let lessons: Vec<String> = state
        .content
        .published(&state.db, COURSE)
        .await
        .unwrap()
        .unwrap()
        .lessons
        .iter()
        .map(|l| l.slug.clone())
        .collect();
    let tokens = common::enrolled_learners(&state, &base, COURSE, "1370000", learners).await;
    let tokens = Arc::new(tokens);
    let lessons = Arc::new(lessons);
    let get = reqwest::Method::GET;
    let post = reqwest::Method::POST;

    let mut figures = Vec::new();
    figures.push(
        measure("/healthz", &base, conns, secs, 1, {
            let get = get.clone();
            Arc::new(move |_| (get.clone(), "/healthz".into(), String::new(), None))
        })
        .await,
    );
    figures.push(
        measure("lesson page, enrolled learner", &base, conns, secs, 1, {
            let (get, tokens, lessons) = (get.clone(), tokens.clone(), lessons.clone());
            Arc::new(move |n| {
                let l = &lessons[n % lessons.len()];
                (
                    get.clone(),
                    format!("/courses/{COURSE}/lessons/{l}"),
                    tokens[n % tokens.len()].clone(),
                    None,
                )
            })
        })
        .await,
    );
    figures.push(
        measure("GET /api/v1/courses/{slug}", &base, conns, secs, 1, {
            let (get, tokens) = (get.clone(), tokens.clone());
            Arc::new(move |n| {
                (
                    get.clone(),
                    format!("/api/v1/courses/{COURSE}"),
                    tokens[n % tokens.len()].clone(),
                    None,
                )
            })
        })
        .await,
    );
    for batch in [1usize, 50] {
        let name = if batch == 1 {
            "POST /api/v1/events, 1 a request"
        } else {
            "POST /api/v1/events, 50 a request"
        };
        figures.push(
            measure(name, &base, conns, secs, batch, {
                let (post, tokens, lessons) = (post.clone(), tokens.clone(), lessons.clone());
                Arc::new(move |n| {
                    let events: Vec<_> = (0..batch)
                        .map(|i| {
                            let l = &lessons[(n + i) % lessons.len()];
                            json!({"id": uuid::Uuid::new_v4().to_string(), "kind": "lesson_opened",
                                "course": COURSE, "lesson": l, "payload": {"seconds": 30}})
                        })
                        .collect();
                    (
                        post.clone(),
                        "/api/v1/events".into(),
                        tokens[n % tokens.len()].clone(),
                        Some(json!(events)),
                    )
                })
            })
            .await,
        );
    }
    let floor = figures[0].rps;
    println!("http {engine}: {conns} connections, {secs} s a figure, {learners} learners");
    println!(
        "  {:<36} {:>10} {:>12} {:>8} {:>9} {:>9}",
        "", "req/s", "items/s", "of /healthz", "p50 ms", "p99 ms"
    );
    for f in &figures {
        println!(
            "  {:<36} {:>10.0} {:>12.0} {:>10.1}% {:>9.1} {:>9.1}",
            f.name,
            f.rps,
            f.rps * f.items_per_request as f64,
            100.0 * f.rps / floor,
            f.p50,
            f.p99
        );
    }
    let rss = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .map(|l| l.to_string())
        })
        .unwrap_or_default();
    println!("  after the run (server and clients in one process): {rss}");
}
