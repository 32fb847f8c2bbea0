//! Security: learning. Finding 10 (post-test keys, retakes, finishing lessons
//! unread), 9 (a shared phone's outbox and saved pages), 18 (complementary
//! suppression of small counts).

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::json;

use crate::engine_test;
use crate::helpers::{COURSE, Engine, PASSWORD, TestApp, between};
use crate::support::Browser;

async fn course(app: &TestApp) -> std::sync::Arc<fuzhi::learning::content::CourseInfo> {
    app.state
        .content
        .published(app.conn(), COURSE)
        .await
        .unwrap()
        .unwrap()
}

fn finished(lesson: &str, served: Option<&str>) -> serde_json::Value {
    json!({"id": uuid::Uuid::new_v4().to_string(), "kind": "lesson_finished",
        "course": COURSE, "lesson": lesson, "served": served})
}

/// Moves the learner's post-test attempts back by `minutes`, as if that
/// long had passed since.
async fn age_attempts(app: &TestApp, minutes: i64) {
    use fuzhi::entities::quiz_attempt::{Column, Entity};
    for a in Entity::find()
        .filter(Column::Kind.eq(fuzhi::courses::QuizKind::Post))
        .all(app.conn())
        .await
        .unwrap()
    {
        Entity::update_many()
            .col_expr(
                Column::CreatedAt,
                Expr::value(a.created_at - chrono::Duration::minutes(minutes)),
            )
            .filter(Column::Id.eq(a.id))
            .exec(app.conn())
            .await
            .unwrap();
    }
}

/// Enrols the learner of `p` and opens every lesson page; returns her token.
async fn lessons_read(app: &TestApp, learner: i64) -> String {
    let t = app.token(learner).await;
    app.enroll(&t, COURSE).await;
    let info = course(app).await;
    let mut batch = Vec::new();
    for l in &info.lessons {
        let (s, body) = app
            .page(&t, &format!("/courses/{COURSE}/lessons/{}", l.slug))
            .await;
        assert_eq!(s, 200);
        let served = between(&body, "name=\"served\" value=\"", "\"");
        batch.push(finished(&l.slug, served.as_deref()));
    }
    let (s, r) = app.post_json("/api/v1/events", &t, json!(batch)).await;
    assert_eq!(
        (s, r["accepted"].as_u64()),
        (200, Some(info.lessons.len() as u64)),
        "{r}"
    );
    t
}

/// A lesson counts as finished only once the server served it to her: a
/// `lesson_finished` she reports, even with a `lesson_opened` she reports
/// beside it or a made-up proof, is refused one by one, and the post-test
/// stays closed.
async fn lessons_count_as_finished_only_once_the_server_served_them(app: TestApp) {
    let p = app.people().await;
    app.import_course(COURSE).await;
    let t = app.token(p.learner).await;
    let other = app.token(p.learner_in).await;
    for tok in [&t, &other] {
        app.enroll(tok, COURSE).await;
    }
    let info = course(&app).await;
    let first = &info.lessons[0].slug;
    // Her (other) classmate's proof for the same lesson.
    let (_, theirs) = app
        .page(&other, &format!("/courses/{COURSE}/lessons/{first}"))
        .await;
    let theirs = between(&theirs, "name=\"served\" value=\"", "\"").unwrap_or_default();
    let mut batch = Vec::new();
    for l in &info.lessons {
        batch.push(
            json!({"id": uuid::Uuid::new_v4().to_string(), "kind": "lesson_opened",
            "course": COURSE, "lesson": l.slug, "payload": {"seconds": 600}}),
        );
        batch.push(finished(&l.slug, None));
    }
    batch.push(finished(first, Some("00000000000000000000000000000000")));
    batch.push(finished(first, Some(&theirs)));
    let (s, r) = app.post_json("/api/v1/events", &t, json!(batch)).await;
    assert_eq!(s, 200, "{r}");
    let rejected = r["rejected"].as_array().unwrap();
    assert_eq!(rejected.len(), info.lessons.len() + 2, "{r}");
    assert!(
        rejected
            .iter()
            .all(|x| x["reason"].as_str().unwrap().contains("never opened")),
        "{r}"
    );
    let (s, r) = app
        .post_json(
            &format!("/api/v1/courses/{COURSE}/quizzes/post/attempts"),
            &t,
            json!({"answers": app.key(COURSE, "post").await}),
        )
        .await;
    assert_eq!(s, 409, "the post-test is still closed: {r}");
    // The page's "finished" form without the page: refused too.
    let r = app
        .client
        .post(app.url(&format!("/courses/{COURSE}/lessons/{first}/done")))
        .bearer_auth(&t)
        .form(&[("served", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    // Once the page was served: the page view alone counts, and so does the
    // page's proof sent later (as a phone's outbox sends it).
    let (s, body) = app
        .page(&t, &format!("/courses/{COURSE}/lessons/{first}"))
        .await;
    assert_eq!(s, 200);
    let (s, r) = app
        .post_json("/api/v1/events", &t, json!([finished(first, None)]))
        .await;
    assert_eq!((s, r["accepted"].as_u64()), (200, Some(1)), "{r}");
    let second = &info.lessons[1].slug;
    let (_, body2) = app
        .page(&t, &format!("/courses/{COURSE}/lessons/{second}"))
        .await;
    assert!(body.contains("name=\"served\""), "{body}");
    let proof = between(&body2, "name=\"served\" value=\"", "\"").unwrap();
    let (s, r) = app
        .post_json(
            "/api/v1/events",
            &t,
            json!([finished(second, Some(&proof))]),
        )
        .await;
    assert_eq!((s, r["accepted"].as_u64()), (200, Some(1)), "{r}");
}
engine_test!(lessons_count_as_finished_only_once_the_server_served_them);

/// A post-test attempt never carries the keys (API or page); a retake waits
/// an hour, at most three attempts, none after a pass; the figures count the
/// first attempt.
async fn post_test_keys_stay_hidden_and_retakes_follow_the_rule(app: TestApp) {
    let p = app.people().await;
    app.import_course(COURSE).await;
    let t = lessons_read(&app, p.learner).await;
    let key = app.key(COURSE, "post").await;
    let url = format!("/api/v1/courses/{COURSE}/quizzes/post/attempts");
    // The page states the rule, in Chinese and in English.
    let (_, zh) = app
        .page(&t, &format!("/courses/{COURSE}/quiz/post?lang=zh-CN"))
        .await;
    assert!(zh.contains("结业测试最多考 3 次"), "{zh}");
    let (_, en) = app
        .page(&t, &format!("/courses/{COURSE}/quiz/post?lang=en"))
        .await;
    assert!(en.contains("may be taken 3 times at most"), "{en}");
    // First attempt, all wrong: the score, no keys, no per-question verdicts.
    let (s, g) = app.post_json(&url, &t, json!({"answers": {}})).await;
    assert_eq!(s, 200, "{g}");
    assert_eq!(g["passed"], false);
    assert_eq!(g["questions"], json!([]), "{g}");
    assert!(!g.to_string().contains("\"answer\""), "{g}");
    // At once again (API, events, the page): refused, nothing stored.
    let (s, r) = app.post_json(&url, &t, json!({"answers": key})).await;
    assert_eq!(s, 409, "{r}");
    assert!(r.to_string().contains("60 minutes"), "{r}");
    let (s, r) = app
        .post_json(
            "/api/v1/events",
            &t,
            json!([{"id": uuid::Uuid::new_v4().to_string(), "kind": "quiz_submitted", "course": COURSE,
                "occurred_at": "2025-01-01T00:00:00Z", "payload": {"quiz": "post", "answers": key}}]),
        )
        .await;
    assert_eq!(r["accepted"], 0, "{s} {r}");
    let (_, wait) = app
        .page(&t, &format!("/courses/{COURSE}/quiz/post?lang=zh-CN"))
        .await;
    assert!(wait.contains("以后再考结业测试"), "{wait}");
    assert!(!wait.contains("name=\"attempt_id\""), "no form: {wait}");
    assert_eq!(app.count("quiz_attempt").await, 1);
    // An hour later, through the page: right this time, and still no keys.
    age_attempts(&app, 61).await;
    let mut form: Vec<(String, String)> =
        vec![("attempt_id".into(), uuid::Uuid::new_v4().to_string())];
    for (q, vs) in &key {
        for v in vs {
            form.push((format!("q.{q}"), v.clone()));
        }
    }
    let r = app
        .client
        .post(app.url(&format!("/courses/{COURSE}/quiz/post?lang=en")))
        .bearer_auth(&t)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let result = r.text().await.unwrap();
    assert!(result.contains("Passed"), "{result}");
    assert!(
        !result.contains("class=\"review\"") && !result.contains("✔"),
        "{result}"
    );
    // Passed: no further attempt, however long she waits.
    age_attempts(&app, 24 * 60).await;
    let (s, r) = app.post_json(&url, &t, json!({"answers": key})).await;
    assert_eq!(s, 409, "{r}");
    assert!(r.to_string().contains("passed already"), "{r}");
    // The figures count the first attempt (0%), not the retake (100%).
    let skills = fuzhi::reports::skills::learner_skills(app.conn(), p.learner)
        .await
        .unwrap();
    let posts: Vec<_> = skills.iter().filter_map(|s| s.post).collect();
    assert!(!posts.is_empty());
    assert!(posts.iter().all(|s| *s == 0), "{skills:?}");
    assert!(skills.iter().all(|s| s.level < 2), "{skills:?}");
}
engine_test!(post_test_keys_stay_hidden_and_retakes_follow_the_rule);

/// At most three attempts, even an hour apart each.
async fn post_test_attempts_are_counted(app: TestApp) {
    let p = app.people().await;
    app.import_course(COURSE).await;
    let t = lessons_read(&app, p.learner).await;
    let url = format!("/api/v1/courses/{COURSE}/quizzes/post/attempts");
    for _ in 0..3 {
        let (s, g) = app.post_json(&url, &t, json!({"answers": {}})).await;
        assert_eq!(s, 200, "{g}");
        age_attempts(&app, 61).await;
    }
    let (s, r) = app
        .post_json(&url, &t, json!({"answers": app.key(COURSE, "post").await}))
        .await;
    assert_eq!(s, 409, "{r}");
    assert!(r.to_string().contains("every attempt was used"), "{r}");
    let (_, en) = app
        .page(&t, &format!("/courses/{COURSE}/quiz/post?lang=en"))
        .await;
    assert!(en.contains("used every attempt"), "{en}");
    assert_eq!(app.count("quiz_attempt").await, 3);
}
engine_test!(post_test_attempts_are_counted);

// --- 9: a phone shared by a family ----------------------------------------

/// A record a phone kept for one learner, sent in another's session (her
/// "finished", or her answers to the one-time pre-test), is refused one by
/// one with the reason; the session's own records in the same batch count.
async fn records_made_by_another_learner_are_refused_one_by_one(app: TestApp) {
    let p = app.people().await;
    app.import_course(COURSE).await;
    let a = app.token(p.learner).await;
    let b = app.token(p.learner_in).await;
    for t in [&a, &b] {
        app.enroll(t, COURSE).await;
    }
    let lesson = app.first_lesson(COURSE).await;
    let pre = app.key(COURSE, "pre").await;
    let with = |mut e: serde_json::Value, by: i64| {
        e["learner"] = json!(by);
        e
    };
    let theirs_pre = json!({"id": uuid::Uuid::new_v4().to_string(), "kind": "quiz_submitted",
        "course": COURSE, "payload": {"quiz": "pre", "answers": pre}});
    let batch = json!([
        with(finished(&lesson, Some(&app.served(p.learner, COURSE, &lesson))), p.learner_in),
        with(theirs_pre.clone(), p.learner_in),
        with(finished(&lesson, Some(&app.served(p.learner, COURSE, &lesson))), p.learner),
        {"id": uuid::Uuid::new_v4().to_string(), "kind": "lesson_opened", "course": COURSE, "lesson": lesson},
    ]);
    let (s, r) = app.post_json("/api/v1/events", &a, batch.clone()).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["accepted"], 2, "{r}");
    let rejected = r["rejected"].as_array().unwrap();
    assert_eq!(rejected.len(), 2, "{r}");
    for (x, want) in rejected.iter().zip([&batch[0], &batch[1]]) {
        assert_eq!(x["id"], want["id"]);
        assert!(x["reason"].as_str().unwrap().starts_with("learner:"), "{r}");
    }
    // Nothing of hers was spent: her pre-test is still hers to take.
    assert_eq!(app.count("quiz_attempt").await, 0);
    let (s, g) = app
        .post_json(
            &format!("/api/v1/courses/{COURSE}/quizzes/pre/attempts"),
            &b,
            json!({"answers": pre}),
        )
        .await;
    assert_eq!(s, 200, "{g}");
}
engine_test!(records_made_by_another_learner_are_refused_one_by_one);

/// Signing out answers `Clear-Site-Data` (the browser's cache of her pages).
async fn signing_out_clears_the_browsers_cache(app: TestApp) {
    let p = app.people().await;
    let t = app.token(p.learner).await;
    let r = app
        .client
        .post(app.url("/logout"))
        .bearer_auth(&t)
        .form(&[("csrf", "")])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
    let h = r
        .headers()
        .get("clear-site-data")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(h.contains("\"cache\""), "{h:?}");
}
engine_test!(signing_out_clears_the_browsers_cache);

/// A TCP relay in front of the app that can be cut (as in `offline.rs`):
/// going offline also cuts the service worker's own fetches.
struct Relay {
    base: String,
    online: std::sync::Arc<std::sync::atomic::AtomicBool>,
    links: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Relay {
    async fn start(app: &TestApp) -> Relay {
        use std::sync::atomic::Ordering;
        let target = app.addr.trim_start_matches("http://").to_string();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let online = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let links: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>> =
            Default::default();
        let (on, ls) = (online.clone(), links.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !on.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let target = target.clone();
                let link = tokio::spawn(async move {
                    if let Ok(mut out) = tokio::net::TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut out).await;
                    }
                });
                ls.lock().unwrap().push(link);
            }
        });
        Relay {
            base,
            online,
            links,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    fn set_online(&self, on: bool) {
        self.online.store(on, std::sync::atomic::Ordering::SeqCst);
        if !on {
            for l in self.links.lock().unwrap().drain(..) {
                l.abort();
            }
        }
    }
}

/// A Chrome DevTools command through chromedriver.
#[derive(Debug)]
struct Cdp {
    cmd: &'static str,
    params: serde_json::Value,
}

impl fantoccini::wd::WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!(
            "session/{}/goog/cdp/execute",
            session.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (reqwest::Method, Option<String>) {
        (
            reqwest::Method::POST,
            Some(json!({"cmd": self.cmd, "params": self.params}).to_string()),
        )
    }
}

async fn network(b: &Browser, relay: &Relay, on: bool) {
    relay.set_online(on);
    for (cmd, params) in [
        ("Network.enable", json!({})),
        (
            "Network.emulateNetworkConditions",
            json!({"offline": !on, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}),
        ),
    ] {
        b.client.issue_cmd(Cdp { cmd, params }).await.unwrap();
    }
}

/// Polls a script until it returns `true`.
async fn until(b: &Browser, what: &str, script: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let v = b
            .client
            .execute(script, vec![])
            .await
            .unwrap_or(serde_json::Value::Null);
        if v == json!(true) {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "never true: {what}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// The names of the phone's caches.
async fn cache_names(b: &Browser) -> Vec<String> {
    let v = b
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1]; caches.keys().then(done);",
            vec![],
        )
        .await
        .unwrap();
    serde_json::from_value(v).unwrap()
}

/// The records waiting in the phone's outbox: (kind, user).
async fn outbox(b: &Browser) -> Vec<(String, i64)> {
    let v = b
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             const r = indexedDB.open('fuzhi');
             r.onsuccess = () => {
               const q = r.result.transaction('outbox').objectStore('outbox').getAll();
               q.onsuccess = () => done(q.result.map(e => [e.kind, e.user || 0]));
             };
             r.onupgradeneeded = () => { r.result.createObjectStore('outbox', { keyPath: 'id' });
               r.result.createObjectStore('results', { keyPath: 'id' }); };",
            vec![],
        )
        .await
        .unwrap();
    serde_json::from_value(v).unwrap()
}

async fn sign_in(b: &Browser, relay: &Relay, login: &str) {
    b.goto(&relay.url("/login?lang=en")).await;
    b.fill("#login", login).await;
    b.fill("#password", PASSWORD).await;
    b.click("button[type=submit]").await;
    b.wait_text("My learning").await;
}

/// A learner saves a course on a phone she shares, reads it offline, and
/// signs out: her copy and her waiting records leave the phone, so the next
/// person finds nothing of hers offline, cannot add to her records, and
/// the next learner's saved copy is her own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shared_phone_forgets_a_learner_who_signs_out() {
    let app = TestApp::spawn(Engine::Sqlite).await.unwrap();
    let p = app.people().await;
    app.import_course(COURSE).await;
    for u in [p.learner, p.learner_in] {
        let t = app.token(u).await;
        app.enroll(&t, COURSE).await;
    }
    let info = course(&app).await;
    let (first, second) = (&info.lessons[0].slug, &info.lessons[1].slug);
    let relay = Relay::start(&app).await;
    let b = Browser::start(true).await;
    sign_in(&b, &relay, "13900000001").await;
    b.goto(&relay.url(&format!("/courses/{COURSE}"))).await;
    until(
        &b,
        "the save button",
        "const s = document.getElementById('offline-save');
         return !!navigator.serviceWorker.controller && !!s && !s.hidden;",
    )
    .await;
    b.click("#offline-save [data-save]").await;
    until(
        &b,
        "the price",
        "return /[0-9.]+ (KB|MB)/.test(document.querySelector('#offline-save [data-status]').textContent);",
    )
    .await;
    b.click("#offline-save [data-save]").await;
    until(
        &b,
        "the course is saved",
        "return !document.querySelector('#offline-save [data-saved]').hidden;",
    )
    .await;
    let saved = cache_names(&b).await;
    assert!(
        saved
            .iter()
            .any(|n| n.starts_with("fuzhi-course-") && n.ends_with(COURSE)),
        "{saved:?}"
    );
    // Offline, her copy is hers to read, and a finish waits under her name.
    network(&b, &relay, false).await;
    b.goto(&relay.url(&format!("/courses/{COURSE}/lessons/{first}")))
        .await;
    b.wait_text("You are offline").await;
    b.click("form[action$='/done'] button").await;
    b.wait_text("Waiting to be sent when online: 1").await;
    assert_eq!(
        outbox(&b).await,
        vec![("lesson_finished".into(), p.learner)]
    );
    // Online again, she signs out: what waited is sent first, then her copy
    // and her records leave the phone.
    network(&b, &relay, true).await;
    b.goto(&relay.url(&format!("/courses/{COURSE}/lessons/{second}")))
        .await;
    b.wait_text("I have finished").await;
    b.click("form[action='/logout'] button").await;
    b.wait_url("/login").await;
    let names = cache_names(&b).await;
    assert!(
        !names.iter().any(|n| n.starts_with("fuzhi-course-")),
        "her saved course stayed on the phone: {names:?}"
    );
    assert_eq!(outbox(&b).await, vec![], "her records stayed on the phone");
    let sent = fuzhi::entities::learning_event::Entity::find()
        .filter(fuzhi::entities::learning_event::Column::UserId.eq(p.learner))
        .filter(
            fuzhi::entities::learning_event::Column::Kind
                .eq(fuzhi::entities::learning_event::EventKind::LessonFinished),
        )
        .all(app.conn())
        .await
        .unwrap();
    assert_eq!(sent.len(), 1, "what waited was sent before she left");
    // The next person, offline: none of her pages opens, so nothing can be
    // added to her records.
    network(&b, &relay, false).await;
    for l in [first, second] {
        b.goto(&relay.url(&format!("/courses/{COURSE}/lessons/{l}")))
            .await;
        let page = b.wait_text("This page is not saved on your phone").await;
        assert!(!page.contains("I have finished"), "{page}");
    }
    b.goto(&relay.url(&format!("/courses/{COURSE}"))).await;
    b.wait_text("This page is not saved on your phone").await;
    // Another learner signs in and saves the course: a copy of her own.
    network(&b, &relay, true).await;
    sign_in(&b, &relay, "13900000002").await;
    b.goto(&relay.url(&format!("/courses/{COURSE}"))).await;
    until(
        &b,
        "the save button",
        "const s = document.getElementById('offline-save'); return !!s && !s.hidden && !s.querySelector('[data-save]').hidden;",
    )
    .await;
    b.click("#offline-save [data-save]").await;
    until(
        &b,
        "the price",
        "return /[0-9.]+ (KB|MB)/.test(document.querySelector('#offline-save [data-status]').textContent);",
    )
    .await;
    b.click("#offline-save [data-save]").await;
    until(
        &b,
        "the course is saved",
        "return !document.querySelector('#offline-save [data-saved]').hidden;",
    )
    .await;
    let names = cache_names(&b).await;
    let want = format!("fuzhi-course-u{}-{COURSE}", p.learner_in);
    assert!(names.contains(&want), "{names:?}");
    network(&b, &relay, false).await;
    b.goto(&relay.url(&format!("/courses/{COURSE}/lessons/{first}")))
        .await;
    let page = b.wait_text("You are offline").await;
    assert!(page.contains("I have finished"), "{page}");
    b.close().await;
}

// --- 18: "<5" that subtraction would undo ---------------------------------

/// What someone learns of a published cell: a number, or a range.
fn cell_range(v: &serde_json::Value) -> Option<(i64, i64, bool)> {
    const OPEN: i64 = i64::MAX / 4;
    match v {
        serde_json::Value::Number(n) => n.as_i64().map(|n| (n, n, false)),
        serde_json::Value::String(s) if s == "<5" => Some((0, 4, true)),
        serde_json::Value::String(s) if s == "*" => Some((5, OPEN, true)),
        _ => None,
    }
}

/// Every hidden cell of a line still has two possible values once the total
/// and the shown cells are known (the attacker's subtraction, done here
/// independently of the server's code). `what` names the line.
fn no_cell_is_told(cells: &[(i64, i64, bool)], total: i64, what: &str) {
    let shown: i64 = cells.iter().filter(|c| !c.2).map(|c| c.0).sum();
    let rest = total - shown;
    for (i, c) in cells.iter().enumerate().filter(|(_, c)| c.2) {
        let (lo_o, hi_o) = cells
            .iter()
            .enumerate()
            .filter(|(j, o)| *j != i && o.2)
            .fold((0i64, 0i64), |(l, h), (_, o)| {
                (l.saturating_add(o.0), h.saturating_add(o.1))
            });
        let lo = c.0.max(rest.saturating_sub(hi_o));
        let hi = c.1.min(rest.saturating_sub(lo_o));
        assert!(
            lo < hi,
            "{what}: hidden cell {i} is {lo} by subtraction ({cells:?}, total {total})"
        );
    }
}

/// The counts a summary's figures publish, by name (a count, or a rate's
/// numerator and denominator, or a mean's n).
fn counts(figures: &serde_json::Value) -> Vec<(String, serde_json::Value)> {
    let mut out = Vec::new();
    let Some(o) = figures.as_object() else {
        return out;
    };
    for (k, v) in o {
        match v {
            serde_json::Value::Object(inner) if inner.contains_key("numerator") => {
                out.push((format!("{k}.numerator"), v["numerator"].clone()));
                out.push((format!("{k}.denominator"), v["denominator"].clone()));
            }
            serde_json::Value::Object(inner) => {
                if let Some(n) = inner.get("n") {
                    out.push((format!("{k}.n"), n.clone()));
                }
            }
            other => out.push((k.clone(), other.clone())),
        }
    }
    out
}

/// Villages of one township with a few learners in one of them: in no
/// table of the township's summary (villages, causes, status, sex, age) can
/// a hidden count be worked out from the total and the other rows.
async fn no_small_count_is_undone_by_subtraction(app: TestApp) {
    let p = app.people().await;
    app.import_course(COURSE).await;
    let trainer = app.token(p.trainer).await;
    let official = app.token(p.official).await;
    let villages = [
        "530627102001",
        "530627102002",
        "530627102003",
        "530627102004",
        "530627102005",
        "530627102006",
    ];
    let mut ids = Vec::new();
    for (v, village) in villages.iter().enumerate() {
        // 3 in the first village, 6 to 10 in the others.
        let n = if v == 0 { 3 } else { 5 + v };
        for i in 0..n {
            ids.push(
                app.user(&format!("1371{v:02}{i:05}"), "learner", Some(village))
                    .await,
            );
        }
    }
    let (s, r) = app
        .post_json(
            &format!("/api/v1/courses/{COURSE}/enroll"),
            &trainer,
            json!({"user_ids": ids}),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    fuzhi::reports::rollup::run_once(app.conn()).await.unwrap();
    let (s, sum) = app
        .get_json("/api/v1/reports/summary?area=530627102000", &official)
        .await;
    assert_eq!(s, 200, "{sum}");
    let totals: std::collections::BTreeMap<String, serde_json::Value> =
        counts(&sum["figures"]).into_iter().collect();
    let mut small_seen = 0;
    for table in ["by_child_area", "by_cause", "by_status", "by_sex", "by_age"] {
        let rows = sum[table].as_array().unwrap();
        for (name, total) in &totals {
            let Some(serde_json::Value::Number(t)) = Some(total) else {
                continue;
            };
            let cells: Vec<(i64, i64, bool)> = rows
                .iter()
                .filter_map(|r| {
                    counts(&r["figures"])
                        .into_iter()
                        .find(|(k, _)| k == name)
                        .and_then(|(_, v)| cell_range(&v))
                })
                .collect();
            if cells.len() != rows.len() {
                continue;
            }
            small_seen += cells.iter().filter(|c| c.2).count();
            no_cell_is_told(&cells, t.as_i64().unwrap(), &format!("{table}/{name}"));
        }
    }
    assert!(small_seen > 0, "the fixture has small counts: {sum}");
    // The small village itself shows "<5" enrollments.
    let first = sum["by_child_area"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == villages[0])
        .unwrap();
    assert_eq!(first["figures"]["enrollments"], "<5", "{first}");
}
engine_test!(no_small_count_is_undone_by_subtraction);

/// Generated area trees (villages under townships under a county, counts
/// from 0 up, many small): each line the server suppresses (villages of a
/// township, townships of the county) keeps every hidden cell undetermined.
#[test]
fn complementary_suppression_holds_on_generated_trees() {
    use fuzhi::reports::suppress::{Hide, complementary};
    let mut seed: u64 = 0x5eed_1234;
    let mut next = |n: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    for _ in 0..2000 {
        let towns = 1 + next(5) as usize;
        let mut town_totals = Vec::new();
        for _ in 0..towns {
            let villages = 1 + next(7) as usize;
            // Mostly small counts, a few large.
            let vals: Vec<i64> = (0..villages)
                .map(|_| match next(4) {
                    0 => next(5) as i64,
                    1 => 5 + next(3) as i64,
                    _ => next(30) as i64,
                })
                .collect();
            let total: i64 = vals.iter().sum();
            town_totals.push(total);
            let (hide, ok) = complementary(&vals, total);
            let published: Vec<(i64, i64, bool)> = vals
                .iter()
                .zip(&hide)
                .map(|(v, h)| match h {
                    Hide::Shown => (*v, *v, false),
                    Hide::Small => (0, 4, true),
                    Hide::Withheld => (5, i64::MAX / 4, true),
                })
                .collect();
            for (v, h) in vals.iter().zip(&hide) {
                assert_eq!(*h == Hide::Small, *v < 5, "{vals:?} {hide:?}");
            }
            if ok && total >= 5 {
                no_cell_is_told(&published, total, &format!("villages {vals:?}"));
            }
        }
        let county: i64 = town_totals.iter().sum();
        let (hide, ok) = complementary(&town_totals, county);
        if ok && county >= 5 {
            let published: Vec<(i64, i64, bool)> = town_totals
                .iter()
                .zip(&hide)
                .map(|(v, h)| match h {
                    Hide::Shown => (*v, *v, false),
                    Hide::Small => (0, 4, true),
                    Hide::Withheld => (5, i64::MAX / 4, true),
                })
                .collect();
            no_cell_is_told(&published, county, &format!("townships {town_totals:?}"));
        }
    }
}
