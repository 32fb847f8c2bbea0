//! Faults: the database restarts, then is unreachable for 20 seconds, while
//! learners post events. A TCP relay stands between the server and its
//! database (PostgreSQL, MariaDB) and cuts every connection, then refuses
//! new ones: what the server sees when its database restarts or goes away.
//! Every answer is 200 or 503 with Retry-After, each within a few seconds
//! (the pool waits 2 s for a connection, `/healthz` 1 s), and the server
//! recovers by itself; nothing acknowledged is lost.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::{Load, assert_none_lost, learners};
use crate::helpers::{Engine, TestApp};

/// A TCP relay to a database server that can cut its connections and
/// refuse new ones.
struct Relay {
    port: u16,
    down: Arc<AtomicBool>,
    pairs: Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Relay {
    async fn start(target: std::net::SocketAddr) -> Relay {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let down = Arc::new(AtomicBool::new(false));
        let pairs: Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>> = Default::default();
        let (d, p) = (down.clone(), pairs.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    return;
                };
                if d.load(Ordering::Relaxed) {
                    drop(inbound);
                    continue;
                }
                let task = tokio::spawn(async move {
                    if let Ok(mut out) = tokio::net::TcpStream::connect(target).await {
                        let _ = out.set_nodelay(true);
                        let _ = inbound.set_nodelay(true);
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut out).await;
                    }
                });
                p.lock().unwrap().push(task);
            }
        });
        Relay { port, down, pairs }
    }

    /// Cuts every connection through the relay.
    fn cut(&self) {
        for t in self.pairs.lock().unwrap().drain(..) {
            t.abort();
        }
    }

    fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::Relaxed);
        if down {
            self.cut();
        }
    }
}

async fn restart_and_outage(engine: Engine) {
    let Some(app) = TestApp::spawn(engine).await else {
        return;
    };
    let (people, lessons) = learners(&app, 8).await;
    let mut url = url::Url::parse(&app.db.url).unwrap();
    let target = format!(
        "{}:{}",
        url.host_str().unwrap(),
        url.port().unwrap_or(if engine == Engine::Postgres {
            5432
        } else {
            3306
        })
    );
    let relay = Relay::start(target.parse().unwrap()).await;
    url.set_port(Some(relay.port)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let server = app.db.serve(url.as_str(), dir.path()).start().await;
    let load = Load::start(&server.addr, &people, &lessons);
    assert!(load.until(60, |l| l.acked() >= 200).await);

    // A restart: every connection cut at once.
    relay.cut();
    let at = load.acked();
    assert!(
        load.until(10, |l| l.acked() >= at + 100).await,
        "no recovery after a restart: {:?}",
        load.statuses.lock().unwrap()
    );

    // 20 s unreachable: each answer comes fast, and says 503.
    relay.set_down(true);
    let outage = Instant::now();
    let http = reqwest::Client::new();
    let mut slowest_health = Duration::ZERO;
    let mut slowest_event = Duration::ZERO;
    while outage.elapsed() < Duration::from_secs(20) {
        let t = Instant::now();
        let r = http.get(server.url("/healthz")).send().await.unwrap();
        slowest_health = slowest_health.max(t.elapsed());
        assert_eq!(r.status(), 503, "/healthz during the outage");
        let t = Instant::now();
        let r = http
            .post(server.url("/api/v1/events"))
            .bearer_auth(&people[0].1)
            .json(&serde_json::json!([{"id": uuid::Uuid::new_v4().to_string(),
                "kind": "lesson_opened", "course": crate::helpers::COURSE, "lesson": lessons[0]}]))
            .send()
            .await
            .unwrap();
        slowest_event = slowest_event.max(t.elapsed());
        assert_eq!(r.status(), 503, "an event during the outage");
        assert!(r.headers().contains_key("retry-after"));
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    relay.set_down(false);
    let back = Instant::now();
    let at = load.acked();
    assert!(
        load.until(20, |l| l.acked() >= at + 100).await,
        "no recovery after the outage: {:?}",
        load.statuses.lock().unwrap()
    );
    let recovered = back.elapsed();
    let (acked, statuses, codes) = load.stop().await;
    eprintln!(
        "fault: restart and 20 s outage ({}): /healthz answered within {} ms, events within {} ms; \
         accepting again {} ms after; answers other than 200 {statuses:?}, codes {codes:?}",
        engine.name(),
        slowest_health.as_millis(),
        slowest_event.as_millis(),
        recovered.as_millis()
    );
    assert!(
        slowest_health < Duration::from_millis(1500),
        "{slowest_health:?}"
    );
    assert!(slowest_event < Duration::from_secs(4), "{slowest_event:?}");
    assert!(
        statuses.keys().all(|s| *s == 503),
        "never a 500: {statuses:?}"
    );
    drop(server);
    assert_none_lost(
        &format!("restart and outage ({})", engine.name()),
        app.conn(),
        &acked,
    )
    .await;
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn restart_and_outage_postgres() {
    restart_and_outage(Engine::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn restart_and_outage_mysql() {
    restart_and_outage(Engine::MySql).await;
}
