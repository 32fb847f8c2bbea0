//! People clicking through pages in headless Chromium.

use serde_json::json;

use crate::helpers::{COURSE, Engine, NARRATED, PASSWORD, TestApp};
use crate::support::Browser;

/// A learner goes from sign-in to a verified certificate with JavaScript off.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_learner_earns_a_certificate_with_javascript_off() {
    earn_certificate(COURSE).await;
}

/// The farm-produce course is taken the same way, end to end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_learner_completes_the_farm_produce_course() {
    earn_certificate("farm-produce").await;
}

/// Signs in, enrolls in `course`, reads every lesson, passes every check and
/// the post-test (answering by choice id, whatever order the page shows),
/// and checks the certificate.
async fn earn_certificate(course: &str) {
    let app = TestApp::spawn(Engine::Sqlite).await.unwrap();
    let p = app.people().await;
    app.import_course(course).await;
    let info = app
        .state
        .content
        .published(app.conn(), course)
        .await
        .unwrap()
        .unwrap();
    let b = Browser::start(false).await;
    b.goto(&app.url("/login?lang=en")).await;
    b.fill("#login", "13900000001").await;
    b.fill("#password", PASSWORD).await;
    b.click("button[type=submit]").await;
    // The home page lists the course by its English title.
    let title = fuzhi::learning::content::text(&info.course.title_json, "en", "zh-CN");
    b.wait_text(&title).await;
    b.click(&format!("a[href='/courses/{course}']")).await;
    b.wait_text("Enroll").await;
    b.click("form[action$='/enroll'] button").await;
    b.wait_text("Take the pre-test").await;
    b.click("form[action$='/skip-pre'] button").await;
    b.wait_text("Lessons").await;
    for l in &info.lessons {
        b.goto(&app.url(&format!("/courses/{course}/lessons/{}?lang=en", l.slug)))
            .await;
        b.click("form[action$='/done'] button").await;
        if let Some(q) = info
            .lesson_checks()
            .find(|q| q.row.lesson_slug.as_deref() == Some(l.slug.as_str()))
        {
            b.wait_url("/quiz/").await;
            let key = app.key(course, &q.row.slug).await;
            let kinds = q
                .questions
                .iter()
                .map(|x| (x.qid.clone(), x.kind.name()))
                .collect();
            answer(&b, key, kinds).await;
            b.click("form button[type=submit]").await;
            b.wait_text("Passed!").await;
        }
    }
    // The trainer signs off the practical tasks in class.
    let trainer = app.token(p.trainer).await;
    for t in info.tasks.iter().filter(|t| t.required) {
        let (s, _) = app
            .post_json(
                "/api/v1/tasks/signoff",
                &trainer,
                json!({"user_id": p.learner, "course": course, "task": t.slug, "level": 2}),
            )
            .await;
        assert_eq!(s, 201);
    }
    b.goto(&app.url(&format!("/courses/{course}/quiz/post?lang=en")))
        .await;
    let post = info.quiz("post").unwrap();
    answer(
        &b,
        app.key(course, "post").await,
        post.questions
            .iter()
            .map(|x| (x.qid.clone(), x.kind.name()))
            .collect(),
    )
    .await;
    b.click("form button[type=submit]").await;
    b.wait_text("you have completed this course").await;
    b.click("a[href^='/certificates/']").await;
    let page = b.wait_text("Valid certificate").await;
    assert!(page.contains("learner 13900000001"));
    let code = b
        .url()
        .await
        .rsplit('/')
        .next()
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_string();
    // Anyone can check the code on the verification page.
    let other = Browser::start(false).await;
    other.goto(&app.url("/certificates?lang=en")).await;
    other.fill("#code", &code.to_lowercase()).await;
    other.click("button[type=submit]").await;
    other.wait_text("Valid certificate").await;
    other.close().await;
    b.goto(&app.url("/me?lang=en")).await;
    b.wait_text("Completed").await;
    b.close().await;
}

/// A lesson page's first load, every byte included and compressed, apart from
/// its own images and audio, stays within 30 KB.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lesson_page_costs_at_most_30_kb() {
    let app = TestApp::spawn(Engine::Sqlite).await.unwrap();
    let p = app.people().await;
    app.import_course(COURSE).await;
    let t = app.token(p.learner).await;
    app.enroll(&t, COURSE).await;
    let b = Browser::start(true).await;
    b.goto(&app.url("/login")).await;
    b.fill("#login", "13900000001").await;
    b.fill("#password", PASSWORD).await;
    b.click("button[type=submit]").await;
    b.wait_url("/").await;
    let info = app
        .state
        .content
        .published(app.conn(), COURSE)
        .await
        .unwrap()
        .unwrap();
    let mut worst = 0;
    for l in &info.lessons {
        b.goto(&app.url(&format!("/courses/{COURSE}/lessons/{}", l.slug)))
            .await;
        let bytes = b
            .client
            .execute(
                "const nav = performance.getEntriesByType('navigation')[0];
                 const own = performance.getEntriesByType('resource')
                   .filter(r => !/\\/media\\//.test(r.name))
                   .reduce((s, r) => s + r.transferSize, 0);
                 return [nav.transferSize, nav.encodedBodySize, own];",
                vec![],
            )
            .await
            .unwrap();
        let v: Vec<u64> = serde_json::from_value(bytes).unwrap();
        assert!(v[1] > 500, "the page body was measured: {v:?}");
        assert!(v[1] < v[0], "headers are counted: {v:?}");
        let total = v[0] + v[2];
        worst = worst.max(total);
        assert!(total <= 30 * 1024, "lesson {} costs {total} bytes", l.slug);
    }
    println!("heaviest lesson page: {worst} bytes");
    b.close().await;
}

/// Fills in the right answers of a quiz form.
async fn answer(
    b: &Browser,
    key: std::collections::BTreeMap<String, Vec<String>>,
    kinds: Vec<(String, String)>,
) {
    for (qid, kind) in kinds {
        let ans = &key[&qid];
        match kind.as_str() {
            "number" => b.fill(&format!("input[name='q.{qid}']"), &ans[0]).await,
            "order" => {
                for (i, c) in ans.iter().enumerate() {
                    b.fill(
                        &format!("input[name='order.{qid}.{c}']"),
                        &(i + 1).to_string(),
                    )
                    .await;
                }
            }
            _ => {
                for a in ans {
                    b.click(&format!("input[name='q.{qid}'][value='{a}']"))
                        .await;
                }
            }
        }
    }
}

/// At a phone's width (390 px) the pages people use fit the screen: the
/// household page's member list turns into cards with every "remove member"
/// on screen, and each quiz choice is a tap target at least 44 px high.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_fit_a_phone_and_choices_are_easy_to_tap() {
    let app = TestApp::spawn_with(Engine::Sqlite, |s| {
        s.courses_dir = Some(crate::helpers::repo_path("courses"));
    })
    .await
    .unwrap();
    fuzhi::demo::seed(&app.state).await.unwrap();
    let v: serde_json::Value = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"login": "gov.zhenxiong", "password": fuzhi::demo::STAFF_PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = v["token"].as_str().unwrap().to_string();
    let (_, list) = app
        .get_json("/api/v1/households?per_page=100", &token)
        .await;
    let household = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .max_by_key(|h| h["members"].as_i64())
        .unwrap()["id"]
        .as_i64()
        .unwrap();

    let b = Browser::start(true).await;
    b.client.set_window_size(390, 844).await.unwrap();
    b.goto(&app.url("/login?lang=zh-CN")).await;
    b.fill("#login", "gov.zhenxiong").await;
    b.fill("#password", fuzhi::demo::STAFF_PASSWORD).await;
    b.click("button[type=submit]").await;
    b.wait_url("/office").await;
    b.goto(&app.url(&format!("/office/households/{household}?lang=zh-CN")))
        .await;
    b.wait_text("家庭成员").await;
    let fit = b
        .client
        .execute(
            "const w = window.innerWidth;
             const removes = [...document.querySelectorAll('a[href*=\"/remove\"]')];
             return [document.documentElement.scrollWidth <= w, removes.length,
                     removes.every(a => { const r = a.getBoundingClientRect();
                                          return r.left >= 0 && r.right <= w; })];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        fit[0],
        json!(true),
        "the household page is wider than the phone"
    );
    assert!(fit[1].as_u64().unwrap() >= 2, "{fit}");
    assert_eq!(fit[2], json!(true), "a 'remove member' is off screen");
    b.close().await;

    // A learner enrolled in the course opens its first lesson check.
    let learner = app
        .user("13900000009", "learner", Some(crate::helpers::VILLAGE_A))
        .await;
    let t = app.token(learner).await;
    app.enroll(&t, COURSE).await;
    let info = app
        .state
        .content
        .published(app.conn(), COURSE)
        .await
        .unwrap()
        .unwrap();
    let check = info.lesson_checks().next().unwrap().row.slug.clone();
    let b = Browser::start(true).await;
    b.client.set_window_size(390, 844).await.unwrap();
    b.goto(&app.url("/login?lang=zh-CN")).await;
    b.fill("#login", "13900000009").await;
    b.fill("#password", PASSWORD).await;
    b.click("button[type=submit]").await;
    b.wait_url("/").await;
    b.goto(&app.url(&format!("/courses/{COURSE}/quiz/{check}?lang=zh-CN")))
        .await;
    let sizes = b
        .client
        .execute(
            "return [document.documentElement.scrollWidth <= window.innerWidth,
                     [...document.querySelectorAll('label.choice')]
                       .map(l => l.getBoundingClientRect().height)];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(sizes[0], json!(true), "the quiz is wider than the phone");
    let heights: Vec<f64> = serde_json::from_value(sizes[1].clone()).unwrap();
    assert!(heights.len() >= 4, "{heights:?}");
    assert!(heights.iter().all(|h| *h >= 44.0), "{heights:?}");
    b.close().await;
}

/// A demo learner opens a shipped lesson with JavaScript off: the page's
/// `<audio>` loads the Mandarin narration (Chromium reads its length with
/// range requests) and knows how long it plays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lesson_narration_plays_with_javascript_off() {
    let app = TestApp::spawn_with(Engine::Sqlite, |s| {
        s.courses_dir = Some(crate::helpers::repo_path("courses"));
    })
    .await
    .unwrap();
    fuzhi::demo::seed(&app.state).await.unwrap();
    let lesson = app.first_lesson(NARRATED).await;
    let b = Browser::start(false).await;
    b.goto(&app.url("/login?lang=zh-CN")).await;
    b.fill("#login", "13800000001").await;
    b.fill("#password", fuzhi::demo::LEARNER_PIN).await;
    b.click("button[type=submit]").await;
    b.wait_url("/").await;
    b.goto(&app.url(&format!("/courses/{NARRATED}/lessons/{lesson}?lang=zh-CN")))
        .await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let (state, duration) = loop {
        // WebDriver runs this even with the page's JavaScript off.
        let v = b
            .client
            .execute(
                "const a = document.querySelector('audio');
                 if (!a) return [-1, -1, 0, ''];
                 if (a.preload !== 'metadata') { a.preload = 'metadata'; a.load(); }
                 return [a.readyState, isFinite(a.duration) ? a.duration : -1,
                         a.error ? a.error.code : 0, a.currentSrc];",
                vec![],
            )
            .await
            .unwrap();
        let state = v[0].as_i64().unwrap();
        let duration = v[1].as_f64().unwrap_or(-1.0);
        assert_eq!(v[2], json!(0), "the audio failed: {v}");
        assert!(
            v[3].as_str().unwrap().contains(".zh-CN.opus") || state < 0,
            "{v}"
        );
        if state >= 1 && duration > 0.0 {
            break (state, duration);
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the narration never loaded: {v}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    };
    assert!(state >= 1);
    // The shipped narration of a lesson lasts minutes, not a blip.
    assert!(duration > 30.0, "duration {duration}");
    println!("narration duration in Chromium: {duration:.1} s");
}
