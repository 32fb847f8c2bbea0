//! Fault: staff create accounts while learners post events as fast as they
//! can (SQLite's single writer under load). Each creation succeeds or is
//! answered 503 with Retry-After, never 500; hashing happens outside the
//! write transaction, so almost all succeed.

use super::{Load, assert_none_lost, learners};
use crate::helpers::{Engine, TestApp, VILLAGE_A};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn accounts_are_created_under_full_event_load() {
    let Some(app) = TestApp::spawn(Engine::Sqlite).await else {
        return;
    };
    let (people, lessons) = learners(&app, 16).await;
    let admin = app.user("admin9", "admin", None).await;
    let token = app.token(admin).await;
    let dir = tempfile::tempdir().unwrap();
    let server = app.binary(dir.path()).await;
    let load = Load::start(&server.addr, &people, &lessons);
    assert!(load.until(60, |l| l.acked() >= 200).await);

    let http = reqwest::Client::new();
    let mut creations = Vec::new();
    for i in 0..100 {
        let (http, token, addr) = (http.clone(), token.clone(), server.addr.clone());
        creations.push(tokio::spawn(async move {
            let r = http
                .post(format!("{addr}/api/v1/users"))
                .bearer_auth(&token)
                .json(&serde_json::json!({
                    "login": format!("1378800{i:04}"),
                    "display_name": format!("学员{i}"),
                    "password": "284613",
                    "pin": true,
                    "role": "learner",
                    "area_code": VILLAGE_A,
                }))
                .send()
                .await
                .unwrap();
            let s = r.status().as_u16();
            let retry = r.headers().contains_key("retry-after");
            (s, retry)
        }));
    }
    let mut by_status = std::collections::BTreeMap::<u16, usize>::new();
    for c in creations {
        let (s, retry) = c.await.unwrap();
        if s == 503 {
            assert!(retry, "a 503 says when to try again");
        }
        *by_status.entry(s).or_default() += 1;
    }
    let (acked, statuses, _) = load.stop().await;
    eprintln!(
        "fault: sign-ups under event load: creations {by_status:?}; events refused {statuses:?}"
    );
    assert!(
        by_status.keys().all(|s| *s == 201 || *s == 503),
        "every creation succeeds or is 503: {by_status:?}"
    );
    assert!(
        by_status.get(&201).copied().unwrap_or(0) >= 90,
        "most creations succeed: {by_status:?}"
    );
    assert_eq!(
        statuses.get(&500),
        None,
        "no event answered 500: {statuses:?}"
    );
    assert_none_lost("sign-ups under event load", app.conn(), &acked).await;
}
