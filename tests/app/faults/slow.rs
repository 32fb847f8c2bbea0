//! Fault: slow bodies. One address opens many connections and sends each
//! body a byte at a time (or not at all); the server cuts them off at its
//! deadlines and refuses those over the per-address bound at once, while a
//! learner at another address goes on posting events untroubled.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{Load, assert_none_lost, learners};
use crate::helpers::{Engine, TestApp};

const SLOW: usize = 120;
const BOUND: usize = 32;

/// A POST whose body comes a byte per `every` (never, for `None`); the
/// status it was answered and after how long, or 0 when the connection was
/// closed without an answer.
async fn slow_post(addr: &str, token: &str, every: Option<Duration>) -> (u16, Duration) {
    let host = addr.trim_start_matches("http://");
    let sock = tokio::net::TcpSocket::new_v4().unwrap();
    sock.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let mut s = sock.connect(host.parse().unwrap()).await.unwrap();
    let started = Instant::now();
    let head = format!(
        "POST /api/v1/events HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: 4000\r\n\r\n["
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let (mut rd, mut wr) = s.into_split();
    let writer = tokio::spawn(async move {
        if let Some(every) = every {
            loop {
                tokio::time::sleep(every).await;
                if wr.write_all(b" ").await.is_err() {
                    return;
                }
            }
        }
        // Hold the connection open, sending nothing.
        std::future::pending::<()>().await;
    });
    let mut buf = vec![0u8; 1024];
    let n = tokio::time::timeout(Duration::from_secs(30), rd.read(&mut buf))
        .await
        .expect("the server held a slow body for 30 s")
        .unwrap_or(0);
    writer.abort();
    let text = String::from_utf8_lossy(&buf[..n]);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn slow_bodies_cannot_lock_others_out() {
    let Some(app) = TestApp::spawn(Engine::Sqlite).await else {
        return;
    };
    let (people, lessons) = learners(&app, 3).await;
    let dir = tempfile::tempdir().unwrap();
    let server = app
        .db
        .serve(&app.db.url, dir.path())
        .env("FUZHI_MAX_REQUESTS_PER_CLIENT", BOUND.to_string())
        .env("FUZHI_BODY_IDLE_SECS", "2")
        .env("FUZHI_BODY_TIMEOUT_SECS", "4")
        // Two learners post thousands of events here.
        .env("FUZHI_EVENTS_PER_LEARNER_PER_DAY", "1000000")
        .start()
        .await;
    // The attacker: 127.0.0.1, half sending nothing, half a byte a second.
    let token = people[0].1.clone();
    let mut slow = Vec::new();
    for i in 0..SLOW {
        let (addr, token) = (server.addr.clone(), token.clone());
        let every = (i % 2 == 0).then_some(Duration::from_secs(1));
        slow.push(tokio::spawn(async move {
            slow_post(&addr, &token, every).await
        }));
    }
    // A learner at another address (127.0.0.2) posts all the while.
    let others: Vec<_> = people[1..].to_vec();
    let load = Load::start_from(
        &server.addr,
        &others,
        &lessons,
        Some("127.0.0.2".parse().unwrap()),
    );
    assert!(
        load.until(20, |l| l.acked() >= 200).await,
        "the other address was locked out: {:?}",
        load.statuses.lock().unwrap()
    );
    let mut by_status = std::collections::BTreeMap::<u16, usize>::new();
    let mut longest = Duration::ZERO;
    for s in slow {
        let (status, took) = s.await.unwrap();
        *by_status.entry(status).or_default() += 1;
        longest = longest.max(took);
    }
    let (acked, statuses, _) = load.stop().await;
    eprintln!(
        "fault: slow bodies: {SLOW} slow connections answered {by_status:?}, the last after {} ms; \
         the other address: {} events acknowledged, other answers {statuses:?}",
        longest.as_millis(),
        acked.len()
    );
    assert!(
        statuses.is_empty(),
        "the other address was refused: {statuses:?}"
    );
    assert!(
        by_status.get(&429).copied().unwrap_or(0) >= SLOW - BOUND,
        "past the bound, refused at once: {by_status:?}"
    );
    assert!(
        by_status.get(&408).copied().unwrap_or(0) > 0,
        "slow bodies are cut off: {by_status:?}"
    );
    assert!(longest < Duration::from_secs(10), "held for {longest:?}");
    // The slots are free again: the attacker's address is served normally.
    let r = reqwest::Client::new()
        .get(format!("{}/healthz", server.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_none_lost("slow bodies", app.conn(), &acked).await;
}
