//! fuzhi on a 3-node MariaDB Galera cluster (`benches/galera/cluster`),
//! side by side in one run: one `fuzhi serve` process on node 1, then three
//! processes, one per node, all on the same database. Each figure is progress
//! events posted one a request (each answered once its commit is certified by
//! the cluster) and the lesson page of an enrolled learner (which records its
//! own `lesson_opened`), from `wrk` (Debian package `wrk`): with three
//! processes, one `wrk` per process at the same time, the connections split
//! between them, and the figures added.
//!
//! benches/galera/cluster start && cargo bench --bench galera
//!
//! A first events load, not counted, creates the learners' progress rows
//! (later events update them). The cluster is started by the bench when it
//! does not answer. Options (env):
//! FUZHI_BENCH_CONNS (48 in all), FUZHI_BENCH_SECS (10 a figure),
//! FUZHI_BENCH_LEARNERS (192).

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

#[path = "../tests/app/helpers/binary.rs"]
mod binary;
mod common;

use binary::{Serve, Served};

use sea_orm::{ConnectionTrait, Database};
use secrecy::SecretString;

const COURSE: &str = "smartphone-basics";
const SECRET: &str = "bench-jwt-secret-0123456789abcdef0123456789abcdef";

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn cluster(args: &[&str]) -> String {
    let out = Command::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/benches/galera/cluster"
    ))
    .args(args)
    .output()
    .expect("benches/galera/cluster");
    assert!(
        out.status.success(),
        "benches/galera/cluster {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// `fuzhi serve` (with `--demo`: seeding the demo) on one node, once its
/// `/healthz` answers; its log in `server.log` of its data folder.
async fn start(url: &str, data: &std::path::Path, demo: bool) -> Served {
    std::fs::create_dir_all(data).unwrap();
    let mut serve = Serve::new(url, data)
        .env("FUZHI_JWT_SECRET", SECRET)
        .log_to(&data.join("server.log"))
        .limit(Duration::from_secs(180));
    if demo {
        serve = serve.arg("--demo");
    }
    serve.start().await
}

fn lua(s: &str) -> String {
    format!("{s:?}")
}

/// The `wrk` script of a figure: GET `paths` in turn, or one fresh event a POST.
fn script(tokens: &[String], lessons: &[String], events: bool) -> String {
    let list = |v: &[String]| v.iter().map(|s| lua(s)).collect::<Vec<_>>().join(",");
    let paths: Vec<String> = lessons
        .iter()
        .map(|l| format!("/courses/{COURSE}/lessons/{l}"))
        .collect();
    format!(
        r#"
local tokens = {{{tokens}}}
local paths = {{{paths}}}
local lessons = {{{lessons}}}
local events = {events}
local n = 0
local threads = {{}}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
function init(args)
  n = (id or 0) * 7919
  math.randomseed(os.time() * 1000 + (id or 0) + tonumber(args[1] or "0") * 101)
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
  headers["Authorization"] = "Bearer " .. tokens[(n % #tokens) + 1]
  if not events then
    return wrk.format("GET", paths[(n % #paths) + 1], headers)
  end
  headers["Content-Type"] = "application/json"
  local body = string.format(
    '[{{"id":"%s","kind":"lesson_opened","course":"{course}","lesson":"%s","payload":{{"seconds":30}}}}]',
    uuid(), lessons[(n % #lessons) + 1])
  return wrk.format("POST", "/api/v1/events", headers, body)
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("FIGURE %d %d %d %d %.4f %.4f\n",
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
"#,
        tokens = list(tokens),
        paths = list(&paths),
        lessons = list(lessons),
        course = COURSE,
    )
}

struct Figure {
    rps: f64,
    p50: f64,
    p99: f64,
}

/// Runs one `wrk` per server at the same time, the connections split between
/// them; the requests/s added, the worst p50 and p99. Fails on any non-2xx.
fn load(bases: &[String], conns: usize, secs: u64, script: &std::path::Path) -> Figure {
    let per = (conns / bases.len()).max(1);
    let children: Vec<_> = bases
        .iter()
        .enumerate()
        .map(|(i, base)| {
            Command::new("wrk")
                .args([
                    "-t1",
                    &format!("-c{per}"),
                    &format!("-d{secs}s"),
                    "--timeout",
                    "10s",
                    "-s",
                ])
                .arg(script)
                .arg(base)
                .arg(i.to_string())
                .stdout(Stdio::piped())
                .spawn()
                .expect("wrk (apt-get install wrk)")
        })
        .collect();
    let mut f = Figure {
        rps: 0.0,
        p50: 0.0,
        p99: 0.0,
    };
    for c in children {
        let out = c.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let line = text
            .lines()
            .find_map(|l| l.strip_prefix("FIGURE "))
            .unwrap_or_else(|| panic!("wrk printed no figure:\n{text}"));
        let v: Vec<f64> = line
            .split_whitespace()
            .map(|x| x.parse().unwrap())
            .collect();
        assert_eq!(v[2], 0.0, "answers other than 2xx:\n{text}");
        assert_eq!(v[3], 0.0, "failed requests:\n{text}");
        f.rps += v[0] / (v[1] / 1e6);
        f.p50 = f.p50.max(v[4]);
        f.p99 = f.p99.max(v[5]);
    }
    f
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(run());
}

async fn run() {
    let conns = env("FUZHI_BENCH_CONNS", 48);
    let secs = env("FUZHI_BENCH_SECS", 10) as u64;
    let learners = env("FUZHI_BENCH_LEARNERS", 192);
    cluster(&["start"]);
    let nodes: Vec<String> = cluster(&["urls"]).lines().map(str::to_string).collect();
    let name = format!("fuzhi_bench_galera_{}", std::process::id());
    let admin = Database::connect(&nodes[0]).await.expect("node 1");
    admin
        .execute_unprepared(&format!(
            "CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci"
        ))
        .await
        .unwrap();
    let urls: Vec<String> = nodes
        .iter()
        .map(|n| {
            let mut u = url::Url::parse(n).unwrap();
            u.set_path(&format!("/{name}"));
            u.to_string()
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();

    // Process 1 on node 1 migrates and seeds the demo; 2 and 3 join it.
    let first = start(&urls[0], &dir.path().join("server1"), true).await;
    let db = Database::connect(&urls[0]).await.unwrap();
    let secret = SecretString::from(SECRET.to_string());
    let tokens =
        common::enrolled_learners(&db, &secret, &first.addr, COURSE, "1371000", learners).await;
    let lessons: Vec<String> = reqwest::Client::new()
        .get(format!("{}/api/v1/courses/{COURSE}", first.addr))
        .bearer_auth(&tokens[0])
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap()["lessons"]
        .as_array()
        .expect("the course's lessons")
        .iter()
        .map(|l| l["slug"].as_str().unwrap().to_string())
        .collect();
    let events_lua = dir.path().join("events.lua");
    let page_lua = dir.path().join("page.lua");
    std::fs::File::create(&events_lua)
        .unwrap()
        .write_all(script(&tokens, &lessons, true).as_bytes())
        .unwrap();
    std::fs::File::create(&page_lua)
        .unwrap()
        .write_all(script(&tokens, &lessons, false).as_bytes())
        .unwrap();

    let one = vec![first.addr.clone()];
    // A first load, not counted: each learner's first event of a lesson
    // creates her progress row, later ones update it.
    load(&one, conns, secs, &events_lua);
    let events1 = load(&one, conns, secs, &events_lua);
    let page1 = load(&one, conns, secs, &page_lua);

    let mut servers = vec![first];
    for (n, url) in urls.iter().enumerate().skip(1) {
        servers.push(start(url, &dir.path().join(format!("server{}", n + 1)), false).await);
    }
    let three: Vec<String> = servers.iter().map(|s| s.addr.clone()).collect();
    let events3 = load(&three, conns, secs, &events_lua);
    let page3 = load(&three, conns, secs, &page_lua);
    for s in servers {
        s.stop();
    }
    let events: i64 = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) FROM learning_event",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index(0)
        .unwrap();
    db.close().await.ok();
    admin
        .execute_unprepared(&format!("DROP DATABASE {name}"))
        .await
        .unwrap();

    println!(
        "galera: 3 MariaDB Galera nodes on loopback, {conns} connections in all, {secs} s a figure, {learners} learners, load from wrk ({} build)",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
    println!(
        "  {:<44} {:>10} {:>9} {:>9}",
        "", "req/s", "p50 ms", "p99 ms"
    );
    for (label, f) in [
        ("POST /api/v1/events (1 a request), 1 process", &events1),
        ("POST /api/v1/events (1 a request), 3 processes", &events3),
        ("lesson page, enrolled learner, 1 process", &page1),
        ("lesson page, enrolled learner, 3 processes", &page3),
    ] {
        println!(
            "  {:<44} {:>10.0} {:>9.2} {:>9.2}",
            label, f.rps, f.p50, f.p99
        );
    }
    println!("  events stored in all: {events}");
}
