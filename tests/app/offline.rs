//! Offline in the village: the installable app (manifest, service worker),
//! the list of what a phone keeps of a course (sizes as served), low-data
//! mode, the weight of a first visit, and a learner studying in headless
//! Chromium with the network cut, whose progress arrives once it returns.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::engine_test;
use crate::helpers::{COURSE, Engine, NARRATED, PASSWORD, TestApp, between};
use crate::support::Browser;

/// A GET with the bearer token, as a phone's fetch with her session would be.
async fn get_with(
    app: &TestApp,
    path: &str,
    token: &str,
    headers: &[(&str, &str)],
) -> (u16, Vec<u8>) {
    let mut req = app.client.get(app.url(path)).bearer_auth(token);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.bytes().await.unwrap().to_vec())
}

async fn the_offline_list_matches_what_is_served(app: TestApp) {
    let p = app.people().await;
    app.import_course(COURSE).await;
    let t = app.token(p.learner).await;
    let list_path = format!("/api/v1/courses/{COURSE}/offline");
    // Not enrolled: nothing to save yet, and she is told why.
    let (s, body) = app.get_json(&list_path, &t).await;
    assert_eq!(s, 409, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("enroll"), "{message}");
    app.enroll(&t, COURSE).await;
    let (s, list) = app.get_json(&list_path, &t).await;
    assert_eq!(s, 200, "{list}");
    let info = app
        .state
        .content
        .published(app.conn(), COURSE)
        .await
        .unwrap()
        .unwrap();
    let files = list["files"].as_array().unwrap();
    let urls: Vec<&str> = files.iter().map(|f| f["url"].as_str().unwrap()).collect();
    // The course page first, every lesson and lesson check, every picture.
    assert_eq!(urls[0], format!("/courses/{COURSE}"));
    for l in &info.lessons {
        let url = format!("/courses/{COURSE}/lessons/{}", l.slug);
        assert!(urls.contains(&url.as_str()), "{url} missing: {urls:?}");
    }
    let checks: Vec<_> = info.lesson_checks().collect();
    assert!(!checks.is_empty());
    for q in &checks {
        let url = format!("/courses/{COURSE}/quiz/{}", q.row.slug);
        assert!(urls.contains(&url.as_str()), "{url} missing");
    }
    assert!(
        !urls
            .iter()
            .any(|u| u.ends_with("/quiz/pre") || u.ends_with("/quiz/post")),
        "{urls:?}"
    );
    let media: Vec<&str> = files
        .iter()
        .filter(|f| f["kind"] == "media")
        .map(|f| f["url"].as_str().unwrap())
        .collect();
    let pictures = media.iter().filter(|u| u.ends_with(".svg")).count();
    assert_eq!(pictures, 7, "the course's seven pictures: {urls:?}");
    // And the narration of every lesson that has one.
    for l in info.lessons.iter().filter_map(|l| l.audio.as_deref()) {
        let url = format!("/c/{COURSE}/{}/{l}", info.course.version);
        assert!(media.contains(&url.as_str()), "{url} missing: {media:?}");
    }
    let sum: u64 = files.iter().map(|f| f["bytes"].as_u64().unwrap()).sum();
    assert_eq!(list["bytes"].as_u64().unwrap(), sum);
    assert_eq!(list["version"], info.course.version);

    // Each size is the size of the body served to her, fetched the way the
    // phone saves it: which records no visit.
    for f in files {
        let url = f["url"].as_str().unwrap();
        let (s, body) = get_with(&app, url, &t, &[("x-offline-save", "1")]).await;
        assert_eq!(s, 200, "{url}");
        assert_eq!(
            body.len() as u64,
            f["bytes"].as_u64().unwrap(),
            "{url}: the size listed is not the size served"
        );
        // A lesson check keeps its answer key on the server.
        if f["kind"] == "quiz" {
            let html = String::from_utf8(body).unwrap();
            let q = checks
                .iter()
                .find(|q| url.ends_with(&format!("/quiz/{}", q.row.slug)))
                .unwrap();
            for question in &q.questions {
                let explain =
                    fuzhi::learning::content::text(&question.explain_json, "zh-CN", "zh-CN");
                assert!(!html.contains(&explain), "{url} shows an explanation");
            }
        }
    }
    assert_eq!(
        app.count("learning_event").await,
        0,
        "saving a course opened its lessons"
    );
    // A visit is still a visit.
    let lesson = &info.lessons[0].slug;
    let (s, _) = get_with(
        &app,
        &format!("/courses/{COURSE}/lessons/{lesson}"),
        &t,
        &[],
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(app.count("learning_event").await, 1);

    // Only an enrolled learner saves a course; an unknown course is not found.
    let trainer = app.token(p.trainer).await;
    assert_eq!(app.get_json(&list_path, &trainer).await.0, 403);
    let other = app.token(p.learner_in).await;
    assert_eq!(app.get_json(&list_path, &other).await.0, 409);
    assert_eq!(
        app.get_json("/api/v1/courses/no-such-course/offline", &t)
            .await
            .0,
        404
    );
    let anon = app.client.get(app.url(&list_path)).send().await.unwrap();
    assert_eq!(anon.status().as_u16(), 401);
}
engine_test!(the_offline_list_matches_what_is_served);

async fn low_data_mode_leaves_pictures_out_until_tapped(app: TestApp) {
    let p = app.people().await;
    app.import_course(COURSE).await;
    let t = app.token(p.learner).await;
    app.enroll(&t, COURSE).await;
    let lesson = format!("/courses/{COURSE}/lessons/wifi-and-data");
    let picture = format!("/c/{COURSE}/1/media/01-wifi-toggle.svg");
    let html = |b: Vec<u8>| String::from_utf8(b).unwrap();
    let (_, normal) = get_with(&app, &lesson, &t, &[]).await;
    let normal = html(normal);
    assert!(
        normal.contains(&format!("<img src=\"{picture}\"")),
        "{normal}"
    );
    assert!(!normal.contains("tap-img"));

    // The browser's data saver.
    let (_, saving) = get_with(&app, &lesson, &t, &[("save-data", "on")]).await;
    let saving = html(saving);
    assert!(!saving.contains("<img src=\"/c/"), "{saving}");
    assert!(
        saving.contains(&format!("<a class=\"tap-img\" href=\"{picture}\"")),
        "{saving}"
    );
    // 1,802 bytes: said as 2 KB, with what the picture shows.
    assert!(
        saving.contains("显示图片（2 KB） · WLAN 开关在设置里"),
        "{saving}"
    );
    // The offline list of a phone in low-data mode measures those pages.
    let (_, list) = app
        .get_json(&format!("/api/v1/courses/{COURSE}/offline"), &t)
        .await;
    let plain = list["files"][1]["bytes"].as_u64().unwrap();
    let res = app
        .client
        .get(app.url(&format!("/api/v1/courses/{COURSE}/offline")))
        .bearer_auth(&t)
        .header("save-data", "on")
        .send()
        .await
        .unwrap();
    let light: Value = res.json().await.unwrap();
    assert_eq!(list["files"][1]["url"], lesson);
    assert_ne!(light["files"][1]["bytes"].as_u64().unwrap(), plain);
    assert_eq!(
        light["files"][1]["bytes"].as_u64().unwrap(),
        saving.len() as u64
    );

    // The choice on /me, kept in a cookie, works with a plain form.
    let res = app.login_form("13900000001", PASSWORD).await;
    assert_eq!(res.status().as_u16(), 303);
    let me = app.get("/me").await.text().await.unwrap();
    assert!(me.contains("action=\"/me/low-data\""), "{me}");
    assert!(me.contains("打开省流量模式"));
    let csrf = between(&me, "name=\"csrf\" value=\"", "\"").unwrap();
    let set = |on: &'static str| {
        let csrf = csrf.clone();
        let app = &app;
        async move {
            app.client
                .post(app.url("/me/low-data"))
                .form(&[("csrf", csrf.as_str()), ("on", on)])
                .send()
                .await
                .unwrap()
        }
    };
    let res = set("1").await;
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(res.headers()["location"], "/me");
    let me = app.get("/me").await.text().await.unwrap();
    assert!(me.contains("省流量模式已打开"), "{me}");
    let page = app.get(&lesson).await.text().await.unwrap();
    assert!(!page.contains("<img src=\"/c/"), "{page}");
    assert!(page.contains("class=\"tap-img\""));
    assert!(page.contains("省流量模式：图片点了才显示"));
    // And off again.
    assert_eq!(set("0").await.status().as_u16(), 303);
    let page = app.get(&lesson).await.text().await.unwrap();
    assert!(page.contains(&format!("<img src=\"{picture}\"")));
    // Without the form's token the choice is refused.
    let res = app
        .client
        .post(app.url("/me/low-data"))
        .form(&[("on", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 403);
}
engine_test!(low_data_mode_leaves_pictures_out_until_tapped);

/// The manifest and the service worker, linked from every page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_can_be_put_on_the_home_screen() {
    let app = TestApp::spawn(Engine::Sqlite).await.unwrap();
    let res = app.get("/manifest.webmanifest").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/manifest+json");
    let m: Value = res.json().await.unwrap();
    assert_eq!(m["name"], "扶智");
    assert_eq!(m["short_name"], "扶智");
    assert_eq!(m["lang"], "zh-CN");
    assert_eq!(m["start_url"], "/");
    assert_eq!(m["display"], "standalone");
    assert_eq!(m["theme_color"], "#0b6b3a");
    let icons = m["icons"].as_array().unwrap();
    for (kind, size) in [
        ("image/svg+xml", "any"),
        ("image/png", "192x192"),
        ("image/png", "512x512"),
    ] {
        let icon = icons
            .iter()
            .find(|i| i["type"] == kind && i["sizes"] == size)
            .unwrap_or_else(|| panic!("no {kind} icon of {size}: {icons:?}"));
        let res = app.get(icon["src"].as_str().unwrap()).await;
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-type"], kind);
        let body = res.bytes().await.unwrap();
        if kind == "image/png" {
            // A PNG of the size it claims (width and height in the IHDR chunk).
            let n: u32 = size.split('x').next().unwrap().parse().unwrap();
            assert_eq!(&body[1..4], b"PNG");
            assert_eq!(u32::from_be_bytes(body[16..20].try_into().unwrap()), n);
            assert_eq!(u32::from_be_bytes(body[20..24].try_into().unwrap()), n);
        }
    }

    let res = app.get("/sw.js").await;
    assert_eq!(res.status(), 200);
    let h = res.headers().clone();
    assert!(
        h["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/javascript")
    );
    assert_eq!(h["cache-control"], "no-cache");
    let worker = res.text().await.unwrap();
    assert!(worker.starts_with("const VERSION = \""), "{worker}");
    let css = app.state.views.asset_url("site.css").unwrap().to_string();
    assert!(worker.contains(&css), "the worker keeps the stylesheet");
    assert!(worker.contains("/api/v1/events"));
    // Unchanged: a 304, no body to download again.
    let again = app
        .client
        .get(app.url("/sw.js"))
        .header("if-none-match", h["etag"].to_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);

    // Every page links both, the script deferred from its hashed address.
    let login = app.get("/login").await.text().await.unwrap();
    assert!(login.contains("<link rel=\"manifest\" href=\"/manifest.webmanifest\">"));
    let js = app.state.views.asset_url("offline.js").unwrap();
    assert!(login.contains(&format!("<script src=\"{js}\" defer></script>")));
    let script = app.get(js).await;
    assert_eq!(
        script.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    app.finish().await;
}

/// A GET as a browser sends it: `gzip` when `raw` (the body then as sent),
/// the bearer token when given, extra headers.
async fn fetch(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    raw: bool,
) -> Vec<u8> {
    let client = if raw {
        reqwest::Client::builder()
            .no_gzip()
            .no_brotli()
            .build()
            .unwrap()
    } else {
        reqwest::Client::new()
    };
    let mut req = client.get(app.url(path));
    if raw {
        req = req.header("accept-encoding", "gzip");
    }
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = req.send().await.unwrap();
    assert_eq!(res.status(), 200, "{path}");
    res.bytes().await.unwrap().to_vec()
}

/// The bytes a first visit downloads, compressed as a browser takes them
/// (gzip): the page, what it loads (stylesheet, script, icon sprite and logo,
/// pictures), the manifest and the service worker. Headers are left out.
async fn first_visit(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
) -> (u64, String) {
    let mut total = fetch(app, path, token, headers, true).await.len() as u64;
    let html = String::from_utf8(fetch(app, path, token, headers, false).await).unwrap();
    // Static files wherever named; course media only where shown.
    let mut loads: Vec<String> = Vec::new();
    for (i, _) in html.match_indices("\"/") {
        let url: String = html[i + 1..]
            .split(['"', '#'])
            .next()
            .unwrap_or_default()
            .to_string();
        // Narration waits for play (`preload="none"`): pictures only.
        let shown = html[..i].ends_with("<img src=");
        if url.starts_with("/static/") || (shown && url.starts_with("/c/")) {
            loads.push(url);
        }
    }
    loads.sort();
    loads.dedup();
    loads.push("/manifest.webmanifest".into());
    loads.push("/sw.js".into());
    for l in &loads {
        total += fetch(app, l, token, &[], true).await.len() as u64;
    }
    (total, html)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_visit_stays_within_30_kb() {
    let app = TestApp::spawn(Engine::Sqlite).await.unwrap();
    let p = app.people().await;
    app.import_course(COURSE).await;
    let t = app.token(p.learner).await;
    app.enroll(&t, COURSE).await;
    let (login, _) = first_visit(&app, "/login", None, &[]).await;
    let lesson = format!("/courses/{COURSE}/lessons/wifi-and-data");
    let (full, html) = first_visit(&app, &lesson, Some(&t), &[]).await;
    assert!(html.contains("<img src=\"/c/"), "the pictures are counted");
    let (light, html) = first_visit(&app, &lesson, Some(&t), &[("save-data", "on")]).await;
    assert!(!html.contains("<img src=\"/c/"));
    println!(
        "first visit, gzip, without headers: sign-in {login} B; lesson {full} B with its picture, {light} B in low-data mode"
    );
    assert!(login <= 30 * 1024, "sign-in costs {login} bytes");
    assert!(full <= 30 * 1024, "a lesson costs {full} bytes");
    assert!(light < full);
    // What saving the whole course costs, compressed as it is sent.
    let (_, list) = app
        .get_json(&format!("/api/v1/courses/{COURSE}/offline"), &t)
        .await;
    let mut wire = 0;
    for f in list["files"].as_array().unwrap() {
        let url = f["url"].as_str().unwrap();
        wire += fetch(&app, url, Some(&t), &[("x-offline-save", "1")], true)
            .await
            .len() as u64;
    }
    println!(
        "saving {COURSE} for offline: {} files, {} B as stored, {wire} B over the wire (gzip)",
        list["files"].as_array().unwrap().len(),
        list["bytes"]
    );
    assert!(wire < list["bytes"].as_u64().unwrap());
    app.finish().await;
}

// --- In Chromium, with the network cut -------------------------------------

/// A TCP relay in front of the app that can be cut: the browser's only way
/// to the server, so that going "offline" also cuts the service worker's own
/// fetches (Chromium's network emulation is per page).
struct Relay {
    base: String,
    online: Arc<AtomicBool>,
    links: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Relay {
    async fn start(app: &TestApp) -> Relay {
        let target = app.addr.trim_start_matches("http://").to_string();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let online = Arc::new(AtomicBool::new(true));
        let links: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>> = Arc::default();
        let (on, ls) = (online.clone(), links.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !on.load(Ordering::SeqCst) {
                    // Refused: the connection closes at once.
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

    /// Cuts (closing every open connection) or restores the way to the server.
    fn set_online(&self, on: bool) {
        self.online.store(on, Ordering::SeqCst);
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
    params: Value,
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

/// The phone loses (or finds again) its connection: the page's network is
/// emulated offline, so `navigator.onLine` says so, and the relay is cut.
async fn network(b: &Browser, relay: &Relay, on: bool) {
    relay.set_online(on);
    b.client
        .issue_cmd(Cdp {
            cmd: "Network.enable",
            params: json!({}),
        })
        .await
        .unwrap();
    b.client
        .issue_cmd(Cdp {
            cmd: "Network.emulateNetworkConditions",
            params: json!({"offline": !on, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}),
        })
        .await
        .unwrap();
}

/// Polls a script until it returns `true`.
async fn until(b: &Browser, what: &str, script: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let v = b
            .client
            .execute(script, vec![])
            .await
            .unwrap_or(Value::Null);
        if v == json!(true) {
            return;
        }
        assert!(Instant::now() < deadline, "never true: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The records waiting in the phone's outbox: (id, kind).
async fn outbox(b: &Browser) -> Vec<(String, String)> {
    let v = b
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             const r = indexedDB.open('fuzhi');
             r.onsuccess = () => {
               const q = r.result.transaction('outbox').objectStore('outbox').getAll();
               q.onsuccess = () => done(q.result.map(e => [e.id, e.kind]));
             };",
            vec![],
        )
        .await
        .unwrap();
    serde_json::from_value(v).unwrap()
}

async fn study_offline(reload: bool) {
    let app = TestApp::spawn(Engine::Sqlite).await.unwrap();
    let p = app.people().await;
    app.import_course(NARRATED).await;
    let t = app.token(p.learner).await;
    app.enroll(&t, NARRATED).await;
    let info = app
        .state
        .content
        .published(app.conn(), NARRATED)
        .await
        .unwrap()
        .unwrap();
    let check = info.lesson_checks().next().unwrap();
    let lesson = check.row.lesson_slug.clone().unwrap();
    let relay = Relay::start(&app).await;
    let b = Browser::start(true).await;
    b.goto(&relay.url("/login?lang=en")).await;
    b.fill("#login", "13900000001").await;
    b.fill("#password", PASSWORD).await;
    b.click("button[type=submit]").await;
    b.wait_text("My learning").await;

    // She saves the course: the first tap asks and says its size, the
    // second downloads.
    b.goto(&relay.url(&format!("/courses/{NARRATED}"))).await;
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
        "the size before the download",
        "const s = document.getElementById('offline-save');
         return /[0-9.]+ (KB|MB)/.test(s.querySelector('[data-save]').textContent)
           && /[0-9.]+ (KB|MB)/.test(s.querySelector('[data-status]').textContent)
           && !s.querySelector('[data-light]').hidden
           && /[0-9]+ KB/.test(s.querySelector('[data-light]').textContent)
           && s.querySelector('[data-saved]').hidden;",
    )
    .await;
    b.click("#offline-save [data-save]").await;
    until(
        &b,
        "the course is saved",
        "return !document.querySelector('#offline-save [data-saved]').hidden;",
    )
    .await;
    b.wait_text("This course is saved on your phone").await;
    assert_eq!(app.count("learning_event").await, 0);

    // The signal goes.
    network(&b, &relay, false).await;
    b.goto(&relay.url(&format!("/courses/{NARRATED}/lessons/{lesson}")))
        .await;
    b.wait_text("You are offline").await;
    b.click("form[action$='/done'] button").await;
    b.wait_url(&format!("/quiz/{}", check.row.slug)).await;
    b.wait_text("Waiting to be sent when online: 1").await;
    let key = app.key(NARRATED, &check.row.slug).await;
    for q in &check.questions {
        let ans = &key[&q.qid];
        match q.kind.name().as_str() {
            "number" => b.fill(&format!("input[name='q.{}']", q.qid), &ans[0]).await,
            "order" => {
                for (i, c) in ans.iter().enumerate() {
                    b.fill(
                        &format!("input[name='order.{}.{c}']", q.qid),
                        &(i + 1).to_string(),
                    )
                    .await;
                }
            }
            _ => {
                for a in ans {
                    b.click(&format!("input[name='q.{}'][value='{a}']", q.qid))
                        .await;
                }
            }
        }
    }
    b.click("form button[type=submit]").await;
    b.wait_text("will be marked when you are online").await;
    b.wait_text("Waiting to be sent when online: 2").await;
    let queued = outbox(&b).await;
    let kinds: Vec<&str> = queued.iter().map(|(_, k)| k.as_str()).collect();
    assert_eq!(queued.len(), 2, "{queued:?}");
    assert!(kinds.contains(&"lesson_finished") && kinds.contains(&"quiz_submitted"));
    assert_eq!(
        app.count("learning_event").await,
        0,
        "nothing reached the server"
    );

    if reload {
        b.client.refresh().await.unwrap();
        b.wait_text("You are offline").await;
        b.wait_text("Waiting to be sent when online: 2").await;
    }

    // A record the server will refuse (a lesson the course does not have),
    // as a stale page could have queued: it must stay on the phone with
    // the reason, never be dropped.
    let refused_id = uuid::Uuid::new_v4().to_string();
    if !reload {
        b.client
            .execute_async(
                "const [rec, done] = [arguments[0], arguments[arguments.length - 1]];
                 const r = indexedDB.open('fuzhi');
                 r.onsuccess = () => {
                   const t = r.result.transaction('outbox', 'readwrite');
                   t.objectStore('outbox').put(rec);
                   t.oncomplete = () => done(true);
                 };",
                vec![
                    json!({"id": refused_id, "kind": "lesson_opened", "course": NARRATED,
                    "lesson": "no-such-lesson", "occurred_at": chrono::Utc::now().to_rfc3339(),
                    "user": p.learner}),
                ],
            )
            .await
            .unwrap();
    }

    // The signal comes back: the records are sent, once.
    network(&b, &relay, true).await;
    let ids: Vec<uuid::Uuid> = queued
        .iter()
        .map(|(id, _)| uuid::Uuid::parse_str(id).unwrap())
        .collect();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let stored = fuzhi::entities::learning_event::Entity::find()
            .filter(fuzhi::entities::learning_event::Column::Id.is_in(ids.clone()))
            .all(app.conn())
            .await
            .unwrap();
        if stored.len() == 2 {
            assert!(stored.iter().all(|e| e.user_id == p.learner), "{stored:?}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the queued records never arrived: {} of 2",
            stored.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if !reload {
        // The answer said "will be marked": now it shows the mark.
        b.wait_text("Marked: ").await;
        b.wait_text("Passed!").await;
    }
    until(
        &b,
        "nothing waits to be sent",
        "return !/Waiting to be sent/.test(document.body.innerText);",
    )
    .await;
    if reload {
        assert!(outbox(&b).await.is_empty());
    } else {
        // Only the refused record is left, with the server's reason, and
        // the learner is told.
        let left = outbox(&b).await;
        assert_eq!(
            left,
            vec![(refused_id.clone(), "lesson_opened".to_string())]
        );
        b.wait_text("not accepted by the server").await;
    }
    // Once more online: nothing is sent twice.
    b.client.refresh().await.unwrap();
    b.goto(&relay.url(&format!("/courses/{NARRATED}"))).await;
    let page = b.wait_text("Lessons").await;
    let mut by_kind: BTreeMap<String, usize> = BTreeMap::new();
    for e in fuzhi::entities::learning_event::Entity::find()
        .all(app.conn())
        .await
        .unwrap()
    {
        *by_kind.entry(format!("{:?}", e.kind)).or_default() += 1;
    }
    assert_eq!(by_kind.get("LessonFinished"), Some(&1), "{by_kind:?}");
    assert_eq!(by_kind.get("QuizSubmitted"), Some(&1), "{by_kind:?}");
    // The course page shows the lesson finished.
    let state = b
        .client
        .execute(
            &format!(
                "return document.querySelector(\"a[href='/courses/{NARRATED}/lessons/{lesson}']\").parentElement.innerText;"
            ),
            vec![],
        )
        .await
        .unwrap();
    assert!(state.as_str().unwrap().contains("done"), "{state} / {page}");
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_learner_studies_offline_and_her_progress_arrives_once() {
    study_offline(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_made_offline_survives_a_reload_before_the_signal_returns() {
    study_offline(true).await;
}
