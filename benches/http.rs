//! The learner's hot path, measured in one run against the release binary
//! started as people start it (`fuzhi serve --demo`), in a process of its own:
//!
//! - start to first `/healthz` 200, on a new data folder and again on the
//!   existing one, and the server's resident memory idle and after the load;
//! - `/healthz` (the server's own floor), the lesson page for an enrolled
//!   learner (each request a different learner, so each one records its own
//!   `lesson_opened`), the course API, progress events one a request and in
//!   batches of 50, each as requests/s, items/s, share of `/healthz`, p50 and
//!   p99.
//!
//! The load comes from `wrk` (Debian package `wrk`) with a generated Lua
//! script that rotates learners, lessons and fresh event ids; without `wrk`
//! an in-process keep-alive client does the same, slower, and says so.
//!
//! cargo bench --bench http                       # SQLite
//! FUZHI_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1/postgres cargo bench --bench http
//!
//! Options (env): FUZHI_BENCH_CONNS (32), FUZHI_BENCH_SECS (5 a figure),
//! FUZHI_BENCH_LEARNERS (256), FUZHI_BENCH_CLIENT (`wrk` or `builtin`).

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

#[path = "../tests/app/helpers/binary.rs"]
mod binary;
mod common;

use binary::{Serve, Served};

use sea_orm::{ConnectionTrait, Database};
use secrecy::SecretString;
use serde_json::json;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

const COURSE: &str = "smartphone-basics";
const SECRET: &str = "bench-jwt-secret-0123456789abcdef0123456789abcdef";

fn main() {
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

/// The server under test, `fuzhi serve --demo`, once its `/healthz` answers
/// 200 (`startup()` is how long that took); its log in `server.log`.
async fn start(url: &str, data: &std::path::Path) -> Served {
    Serve::new(url, data)
        .arg("--demo")
        .env("FUZHI_JWT_SECRET", SECRET)
        .log_to(&data.join("server.log"))
        .start()
        .await
}

/// Resident memory of the server, from `/proc`.
fn rss_mib(server: &Served) -> f64 {
    let status =
        std::fs::read_to_string(format!("/proc/{}/status", server.pid())).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// What one figure sends: GET paths (rotated) or event batches of `batch`.
#[derive(Clone)]
enum Load {
    Get { paths: Vec<String>, auth: bool },
    Events { batch: usize, lessons: Vec<String> },
}

struct Figure {
    name: &'static str,
    rps: f64,
    items_per_request: usize,
    p50: f64,
    p99: f64,
}

async fn run(engine: &str, url: &str, dir: &std::path::Path) {
    let conns = env("FUZHI_BENCH_CONNS", 32);
    let secs = env("FUZHI_BENCH_SECS", 5) as u64;
    let learners = env("FUZHI_BENCH_LEARNERS", 256);
    let use_wrk = match std::env::var("FUZHI_BENCH_CLIENT").as_deref() {
        Ok("builtin") => false,
        _ => Command::new("wrk")
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok(),
    };
    let data = dir.join(engine);
    std::fs::create_dir_all(&data).unwrap();

    // A new data folder: migrations, the shipped courses, the demo data.
    let server = start(url, &data).await;
    let cold = server.startup();
    server.stop();
    // The same folder again: what a restart costs.
    let server = start(url, &data).await;
    let warm = server.startup();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle = rss_mib(&server);
    let base = server.addr.clone();

    let db = Database::connect(url).await.unwrap();
    let secret = SecretString::from(SECRET.to_string());
    let tokens = common::enrolled_learners(&db, &secret, &base, COURSE, "1370000", learners).await;
    let course: serde_json::Value = reqwest::Client::new()
        .get(format!("{base}/api/v1/courses/{COURSE}"))
        .bearer_auth(&tokens[0])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let lessons: Vec<String> = course["lessons"]
        .as_array()
        .expect("the course's lessons")
        .iter()
        .map(|l| l["slug"].as_str().unwrap().to_string())
        .collect();

    let mut figures = Vec::new();
    let plan: Vec<(&'static str, usize, Load)> = vec![
        (
            "/healthz",
            1,
            Load::Get {
                paths: vec!["/healthz".into()],
                auth: false,
            },
        ),
        (
            "lesson page, enrolled learner",
            1,
            Load::Get {
                paths: lessons
                    .iter()
                    .map(|l| format!("/courses/{COURSE}/lessons/{l}"))
                    .collect(),
                auth: true,
            },
        ),
        (
            "GET /api/v1/courses/{slug}",
            1,
            Load::Get {
                paths: vec![format!("/api/v1/courses/{COURSE}")],
                auth: true,
            },
        ),
        (
            "POST /api/v1/events, 1 a request",
            1,
            Load::Events {
                batch: 1,
                lessons: lessons.clone(),
            },
        ),
        (
            "POST /api/v1/events, 50 a request",
            50,
            Load::Events {
                batch: 50,
                lessons: lessons.clone(),
            },
        ),
    ];
    for (name, items, load) in plan {
        let (rps, p50, p99) = if use_wrk {
            wrk(&base, conns, secs, &tokens, &load, dir)
        } else {
            builtin(&base, conns, secs, &tokens, &load).await
        };
        figures.push(Figure {
            name,
            rps,
            items_per_request: items,
            p50,
            p99,
        });
    }
    let loaded = rss_mib(&server);
    // What the server keeps once the load is over (it trims freed memory
    // every 5 s).
    tokio::time::sleep(Duration::from_secs(6)).await;
    let settled = rss_mib(&server);
    server.stop();

    let floor = figures[0].rps;
    println!(
        "http {engine}: {conns} connections, {secs} s a figure, {learners} learners, load from {}",
        if use_wrk {
            "wrk (a process of its own)"
        } else {
            "the built-in client (same machine, same cores)"
        }
    );
    println!(
        "  {:<36} {:>10} {:>12} {:>11} {:>9} {:>9}",
        "", "req/s", "items/s", "of /healthz", "p50 ms", "p99 ms"
    );
    for f in &figures {
        println!(
            "  {:<36} {:>10.0} {:>12.0} {:>10.1}% {:>9.2} {:>9.2}",
            f.name,
            f.rps,
            f.rps * f.items_per_request as f64,
            100.0 * f.rps / floor,
            f.p50,
            f.p99
        );
    }
    println!(
        "  start to first 200: {:.0} ms on a new data folder (migrations, courses, demo data), {:.0} ms on existing data",
        cold.as_secs_f64() * 1000.0,
        warm.as_secs_f64() * 1000.0
    );
    println!(
        "  server RSS: {idle:.1} MiB idle after start, {loaded:.1} MiB at the end of the load, {settled:.1} MiB 6 s later"
    );
}

/// A Lua string literal.
fn lua(s: &str) -> String {
    format!("{s:?}")
}

/// One figure by `wrk`: requests/s, p50 and p99 in ms. Fails on any non-2xx.
fn wrk(
    base: &str,
    conns: usize,
    secs: u64,
    tokens: &[String],
    load: &Load,
    dir: &std::path::Path,
) -> (f64, f64, f64) {
    let list = |v: &[String]| v.iter().map(|s| lua(s)).collect::<Vec<_>>().join(",");
    let (paths, auth, batch, lessons) = match load {
        Load::Get { paths, auth } => (list(paths), *auth, 0, String::new()),
        Load::Events { batch, lessons } => (String::new(), true, *batch, list(lessons)),
    };
    let script = format!(
        r#"
local tokens = {{{tokens}}}
local paths = {{{paths}}}
local lessons = {{{lessons}}}
local auth = {auth}
local batch = {batch}
local course = {course}
local n = 0
local threads = {{}}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
function init(args)
  n = (id or 0) * 7919
  math.randomseed(os.time() * 1000 + (id or 0))
end
local r = math.random
local function uuid()
  return string.format("%04x%04x-%04x-4%03x-%x%03x-%04x%04x%04x",
    r(0, 65535), r(0, 65535), r(0, 65535), r(0, 4095), r(8, 11), r(0, 4095),
    r(0, 65535), r(0, 65535), r(0, 65535))
end
function request()
  n = n + 1
  local headers = {{ ["Accept-Encoding"] = "gzip, br" }}
  if auth then
    headers["Authorization"] = "Bearer " .. tokens[(n % #tokens) + 1]
  end
  if batch == 0 then
    return wrk.format("GET", paths[(n % #paths) + 1], headers)
  end
  headers["Content-Type"] = "application/json"
  local items = {{}}
  for i = 1, batch do
    items[i] = string.format(
      '{{"id":"%s","kind":"lesson_opened","course":"%s","lesson":"%s","payload":{{"seconds":30}}}}',
      uuid(), course, lessons[((n + i) % #lessons) + 1])
  end
  return wrk.format("POST", "/api/v1/events", headers, "[" .. table.concat(items, ",") .. "]")
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("FIGURE %d %d %d %d %.4f %.4f\n",
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
"#,
        tokens = list(tokens),
        course = lua(COURSE),
    );
    let path = dir.join("load.lua");
    std::fs::File::create(&path)
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let out = Command::new("wrk")
        .args([
            "-t2",
            &format!("-c{conns}"),
            &format!("-d{secs}s"),
            "--timeout",
            "10s",
            "-s",
        ])
        .arg(&path)
        .arg(base)
        .output()
        .expect("wrk");
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("FIGURE "))
        .unwrap_or_else(|| panic!("wrk printed no figure:\n{text}"));
    let v: Vec<f64> = line
        .split_whitespace()
        .map(|x| x.parse().unwrap())
        .collect();
    let (requests, micros, bad_status, failed) = (v[0], v[1], v[2], v[3]);
    assert_eq!(bad_status, 0.0, "answers other than 2xx:\n{text}");
    assert_eq!(failed, 0.0, "failed requests:\n{text}");
    (requests / (micros / 1e6), v[4], v[5])
}

/// One figure by keep-alive clients in this process (when `wrk` is missing).
async fn builtin(
    base: &str,
    conns: usize,
    secs: u64,
    tokens: &[String],
    load: &Load,
) -> (f64, f64, f64) {
    let stop = Arc::new(AtomicBool::new(false));
    let counter = Arc::new(AtomicUsize::new(0));
    let tokens = Arc::new(tokens.to_vec());
    let started = Instant::now();
    let mut handles = Vec::new();
    for _ in 0..conns {
        let (stop, counter, tokens, load, base) = (
            stop.clone(),
            counter.clone(),
            tokens.clone(),
            load.clone(),
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
                let rq = match &load {
                    Load::Get { paths, auth } => {
                        let rq = http.get(format!("{base}{}", paths[n % paths.len()]));
                        if *auth {
                            rq.bearer_auth(&tokens[n % tokens.len()])
                        } else {
                            rq
                        }
                    }
                    Load::Events { batch, lessons } => {
                        let events: Vec<_> = (0..*batch)
                            .map(|i| {
                                json!({"id": uuid::Uuid::new_v4().to_string(), "kind": "lesson_opened",
                                    "course": COURSE, "lesson": lessons[(n + i) % lessons.len()],
                                    "payload": {"seconds": 30}})
                            })
                            .collect();
                        http.post(format!("{base}/api/v1/events"))
                            .bearer_auth(&tokens[n % tokens.len()])
                            .json(&events)
                    }
                };
                let t0 = Instant::now();
                let r = rq.send().await.expect("request");
                let status = r.status();
                let _ = r.bytes().await.expect("body");
                assert!(status.is_success(), "{status}");
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
    (lat.len() as f64 / elapsed, pct(0.50), pct(0.99))
}
