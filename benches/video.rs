//! The shipped lesson video on a 2G-like line, in Chromium: a demo learner
//! opens the product-photos lesson with the demonstration video and taps
//! play, through a line of 256 kbit/s each way, shared by all its
//! connections, with 300 ms of round-trip latency: a proxy in front of the
//! server that delays every byte (Chromium's own network emulation does
//! not hold back what the service worker fetches, so it is not used). The
//! line is checked first by fetching the poster through it.
//!
//! Reported, for the video and for its sound alone (low-data mode):
//! - the lesson page's load time on that line;
//! - time from the tap to the first frame playing (`playing`), and to the
//!   sound playing;
//! - stalls while it plays to the end (`waiting` events after it started),
//!   and their total time;
//! - the media bytes Chromium read to play it (`webkitVideoDecodedByteCount`
//!   and `webkitAudioDecodedByteCount`).
//!
//! cargo bench --bench video
//!
//! Needs Debian's chromium and chromium-driver (`.ci/test` installs them).
//! Options (env): FUZHI_BENCH_KBPS (256), FUZHI_BENCH_LATENCY_MS (300).

use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A bare W3C WebDriver session over HTTP (ChromeDriver's own commands too).
struct Driver {
    http: reqwest::Client,
    base: String,
}

impl Driver {
    async fn cmd(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let r = self
            .http
            .request(method, format!("{}{path}", self.base))
            .json(&body)
            .send()
            .await
            .expect("chromedriver answers");
        let v: Value = r.json().await.unwrap();
        if v["value"]["error"].is_string() {
            panic!("webdriver {path}: {}", v["value"]);
        }
        v["value"].clone()
    }
    async fn post(&self, path: &str, body: Value) -> Value {
        self.cmd(reqwest::Method::POST, path, body).await
    }
    async fn run(&self, script: &str) -> Value {
        self.post("/execute/sync", json!({"script": script, "args": []}))
            .await
    }
    async fn goto(&self, url: &str) {
        self.post("/url", json!({"url": url})).await;
    }
}

/// Plays the first `<video>` (or, when `audio`, `<audio>`) of the page and
/// reports what the learner waited for.
const PLAY: &str = r#"
const el = document.querySelector(arguments[0]);
if (!el) return {error: 'no ' + arguments[0]};
return await new Promise((done) => {
  const t0 = performance.now();
  let started = null, stalls = 0, stalled = 0, since = null;
  el.addEventListener('playing', () => {
    if (started === null) started = performance.now() - t0;
    if (since !== null) { stalled += performance.now() - since; since = null; }
  });
  el.addEventListener('waiting', () => { if (started !== null) { stalls++; since = performance.now(); } });
  el.addEventListener('ended', () => done({
    first_ms: started, stalls, stalled_ms: stalled, total_ms: performance.now() - t0,
    duration: el.duration,
    video_bytes: el.webkitVideoDecodedByteCount || 0,
    audio_bytes: el.webkitAudioDecodedByteCount || 0,
  }));
  el.addEventListener('error', () => done({error: String(el.error && el.error.code)}));
  el.muted = true;
  el.play().catch((e) => done({error: String(e)}));
});
"#;

/// One direction of the line: every byte waits its turn at `kbps`, shared
/// by all connections (one phone, one line), then `latency` more.
struct Direction {
    free_at: std::sync::Mutex<tokio::time::Instant>,
    bytes_per_s: f64,
    latency: Duration,
}

impl Direction {
    fn deliver_at(&self, n: usize) -> tokio::time::Instant {
        let mut free = self.free_at.lock().unwrap();
        let start = (*free).max(tokio::time::Instant::now());
        *free = start + Duration::from_secs_f64(n as f64 / self.bytes_per_s);
        *free + self.latency
    }
}

/// Copies `from` to `to` through the line: read as it comes, written when due.
async fn carry(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    line: std::sync::Arc<Direction>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(tokio::time::Instant, Vec<u8>)>();
    let writer = tokio::spawn(async move {
        while let Some((at, bytes)) = rx.recv().await {
            tokio::time::sleep_until(at).await;
            if to.write_all(&bytes).await.is_err() {
                break;
            }
        }
        let _ = to.shutdown().await;
    });
    let mut buf = vec![0u8; 1460];
    while let Ok(n) = from.read(&mut buf).await {
        if n == 0 || tx.send((line.deliver_at(n), buf[..n].to_vec())).is_err() {
            break;
        }
    }
    drop(tx);
    let _ = writer.await;
}

/// A proxy in front of `server` that behaves like a 2G line: `kbps` each
/// way, shared by every connection, and `latency_ms` each way. Its address.
async fn slow_line(
    server: std::net::SocketAddr,
    kbps: u64,
    latency_ms: u64,
) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let make = || {
        std::sync::Arc::new(Direction {
            free_at: std::sync::Mutex::new(tokio::time::Instant::now()),
            bytes_per_s: kbps as f64 * 1000.0 / 8.0,
            latency: Duration::from_millis(latency_ms / 2),
        })
    };
    let (down, up) = (make(), make());
    tokio::spawn(async move {
        while let Ok((phone, _)) = listener.accept().await {
            let Ok(upstream) = tokio::net::TcpStream::connect(server).await else {
                continue;
            };
            let (pr, pw) = phone.into_split();
            let (sr, sw) = upstream.into_split();
            tokio::spawn(carry(pr, sw, up.clone()));
            tokio::spawn(carry(sr, pw, down.clone()));
        }
    });
    addr
}

#[tokio::main]
async fn main() {
    let kbps = env("FUZHI_BENCH_KBPS", 256);
    let latency = env("FUZHI_BENCH_LATENCY_MS", 300);
    let dir = tempfile::tempdir().unwrap();
    let settings = fuzhi::config::Settings {
        database_url: Some(format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("bench.db").display()
        )),
        data_dir: dir.path().join("data"),
        addr: "127.0.0.1:0".into(),
        courses_dir: Some(std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("courses")),
        ..Default::default()
    };
    let app = fuzhi::Application::build(settings, fuzhi::StartOptions { demo: true })
        .await
        .unwrap();
    let server = app.addr();
    tokio::spawn(app.run());
    let base = format!("http://{}", slow_line(server, kbps, latency).await);

    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut chromedriver = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver (apt-get install chromium-driver)");
    let http = reqwest::Client::new();
    let root = format!("http://127.0.0.1:{port}");
    let profile = tempfile::tempdir().unwrap();
    let caps = json!({"capabilities": {"alwaysMatch": {"goog:chromeOptions": {
        "binary": "/usr/bin/chromium",
        "args": ["--headless", "--no-sandbox", "--disable-gpu", "--window-size=390,844",
                 "--autoplay-policy=no-user-gesture-required",
                 format!("--user-data-dir={}", profile.path().display())]}}}});
    let session = loop {
        if let Ok(r) = http
            .post(format!("{root}/session"))
            .json(&caps)
            .send()
            .await
        {
            let v: Value = r.json().await.unwrap();
            break v["value"]["sessionId"].as_str().unwrap().to_string();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let d = Driver {
        http: http.clone(),
        base: format!("{root}/session/{session}"),
    };
    // A play lasts the video's length: no script timeout shorter than that.
    d.post("/timeouts", json!({"script": 600_000})).await;

    // Signed in on a good line, as a demo learner.
    d.goto(&format!("{base}/login?lang=zh-CN")).await;
    d.run(&format!(
        "document.querySelector('#login').value = '13800000001';
         document.querySelector('#password').value = '{}';
         document.querySelector('form[action=\"/login\"] button[type=submit], main form button[type=submit]').click();",
        fuzhi::demo::LEARNER_PIN
    ))
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;

    let lesson = format!("{base}/courses/product-photos/lessons/plan-a-video?lang=zh-CN");
    // The line, checked: the poster fetched by a script, through it.
    let line = d
        .run(
            "const t = performance.now();
             return fetch('/c/product-photos/1/media/05-shot-list-video.jpg', {cache: 'no-store'})
               .then((r) => r.arrayBuffer())
               .then((b) => [b.byteLength, performance.now() - t]);",
        )
        .await;
    if let (Some(n), Some(ms)) = (line[0].as_f64(), line[1].as_f64()) {
        println!(
            "  the line: the poster ({:.0} KB) in {:.2} s, {:.0} kbit/s with the latency",
            n / 1024.0,
            ms / 1000.0,
            n * 8.0 / ms
        );
    }
    println!("the shipped video, Chromium at {kbps} kbit/s and {latency} ms latency:");
    for (label, low_data, selector) in [
        ("video", false, "video"),
        ("sound alone (low-data mode)", true, "figure.video audio"),
    ] {
        if low_data {
            d.goto(&format!("{base}/me")).await;
            d.run("document.cookie = 'lowdata=1; path=/';").await;
        }
        let t = std::time::Instant::now();
        d.goto(&lesson).await;
        let page_ms = t.elapsed().as_millis();
        let r = d
            .post("/execute/sync", json!({"script": PLAY, "args": [selector]}))
            .await;
        if let Some(e) = r.get("error") {
            println!("  {label}: failed: {e}");
            continue;
        }
        println!(
            "  {label}: page {:.1} s; tap to playing {:.2} s; {} stalls ({:.1} s) over {:.1} s of play; media read {} KB video + {} KB sound",
            page_ms as f64 / 1000.0,
            r["first_ms"].as_f64().unwrap_or(-1.0) / 1000.0,
            r["stalls"],
            r["stalled_ms"].as_f64().unwrap_or(0.0) / 1000.0,
            r["duration"].as_f64().unwrap_or(0.0),
            r["video_bytes"].as_u64().unwrap_or(0) / 1024,
            r["audio_bytes"].as_u64().unwrap_or(0) / 1024,
        );
    }
    d.cmd(reqwest::Method::DELETE, "", json!({})).await;
    let _ = chromedriver.kill();
    let _ = chromedriver.wait();
}
