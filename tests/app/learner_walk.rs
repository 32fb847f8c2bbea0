//! A learner's walk through a course on her phone, in Chinese: what the pages
//! say is left, where they lead next, and the small things a phone needs.

use serde_json::json;

use crate::engine_test;
use crate::helpers::{COURSE, TestApp, VILLAGE_A};

async fn info(app: &TestApp) -> std::sync::Arc<fuzhi::learning::content::CourseInfo> {
    app.state
        .content
        .published(app.conn(), COURSE)
        .await
        .unwrap()
        .unwrap()
}

/// Enrolls the learner and finishes every lesson by events.
async fn enrolled_with_lessons_done(app: &TestApp, user: i64, token: &str) {
    app.enroll(token, COURSE).await;
    let info = info(app).await;
    let events: Vec<_> = info
        .lessons
        .iter()
        .map(|l| json!({"id": uuid::Uuid::new_v4().to_string(), "kind": "lesson_finished", "course": COURSE, "lesson": l.slug, "served": app.served(user, COURSE, &l.slug)}))
        .collect();
    let (s, v) = app.post_json("/api/v1/events", token, json!(events)).await;
    assert!(s < 300, "{v}");
}

/// Passes quizzes by the API with every answer right.
async fn pass(app: &TestApp, token: &str, quizzes: &[String]) {
    for q in quizzes {
        let key = app.key(COURSE, q).await;
        let (s, g) = app
            .post_json(
                &format!("/api/v1/courses/{COURSE}/quizzes/{q}/attempts"),
                token,
                json!({"answers": key}),
            )
            .await;
        assert_eq!(s, 200, "{g}");
        assert_eq!(g["passed"], json!(true), "{q}: {g}");
    }
}

/// Everything done but the trainer's sign-off of the practical tasks.
async fn all_but_signoff(app: &TestApp) -> (i64, String, usize) {
    let p = app.people().await;
    app.import_course(COURSE).await;
    let t = app.token(p.learner).await;
    enrolled_with_lessons_done(app, p.learner, &t).await;
    let info = info(app).await;
    let mut quizzes: Vec<String> = info.lesson_checks().map(|q| q.row.slug.clone()).collect();
    quizzes.push("post".into());
    pass(app, &t, &quizzes).await;
    let tasks = info.tasks.iter().filter(|t| t.required).count();
    assert!(tasks > 0, "the course has required practical tasks");
    (p.learner, t, tasks)
}

/// After the final test is passed, the course page lists only what is
/// really left: no "0 lessons", no final test; just the practical tasks.
async fn the_course_page_lists_only_what_is_left(app: TestApp) {
    let (_, t, tasks) = all_but_signoff(&app).await;
    let (s, zh) = app.page(&t, &format!("/courses/{COURSE}?lang=zh-CN")).await;
    assert_eq!(s, 200);
    let left = crate::helpers::between(&zh, "id=\"missing\"", "</div>").expect(&zh);
    assert!(left.contains("还差下面这些"), "{left}");
    assert!(
        left.contains(&format!("{tasks} 个实操任务要培训老师当面签认")),
        "{left}"
    );
    for gone in [
        "0 节课",
        "0 个课后小测",
        "结业测试",
        "节课没学完",
        "课后小测没通过",
    ] {
        assert!(!left.contains(gone), "{gone:?} still listed: {left}");
    }
    let (_, en) = app.page(&t, &format!("/courses/{COURSE}?lang=en")).await;
    let left = crate::helpers::between(&en, "id=\"missing\"", "</div>").unwrap();
    assert!(left.contains("practical tasks for the trainer"), "{left}");
    assert!(
        !left.contains("final test") && !left.contains("0 lessons"),
        "{left}"
    );
}
engine_test!(the_course_page_lists_only_what_is_left);

/// `/me` says the certificate waits for the trainer's sign-off when that is
/// all that is left, and not before.
async fn me_says_the_certificate_waits_for_the_trainers_signoff(app: TestApp) {
    let p = app.people().await;
    app.import_course(COURSE).await;
    let other = app.token(p.learner_in).await;
    enrolled_with_lessons_done(&app, p.learner_in, &other).await;
    let (_, me) = app.page(&other, "/me?lang=zh-CN").await;
    assert!(!me.contains("证书要等培训老师签认实操任务后发放"), "{me}");

    let (learner, t, tasks) = {
        // The same walk for a second learner, to the end but the sign-off.
        let info = info(&app).await;
        let t = app.token(p.learner).await;
        enrolled_with_lessons_done(&app, p.learner, &t).await;
        let mut quizzes: Vec<String> = info.lesson_checks().map(|q| q.row.slug.clone()).collect();
        quizzes.push("post".into());
        pass(&app, &t, &quizzes).await;
        (
            p.learner,
            t,
            info.tasks.iter().filter(|t| t.required).count(),
        )
    };
    let (_, me) = app.page(&t, "/me?lang=zh-CN").await;
    assert!(
        me.contains(&format!(
            "证书要等培训老师签认实操任务后发放：还有 {tasks} 个实操任务"
        )),
        "{me}"
    );
    let (_, en) = app.page(&t, "/me?lang=en").await;
    assert!(
        en.contains("once the trainer signs off your practical tasks"),
        "{en}"
    );
    // Signed off: the certificate, and the note is gone.
    let trainer = app.token(p.trainer).await;
    for task in info(&app).await.tasks.iter().filter(|t| t.required) {
        let (s, _) = app
            .post_json(
                "/api/v1/tasks/signoff",
                &trainer,
                json!({"user_id": learner, "course": COURSE, "task": task.slug, "level": 2}),
            )
            .await;
        assert_eq!(s, 201);
    }
    let (_, me) = app.page(&t, "/me?lang=zh-CN").await;
    assert!(!me.contains("证书要等培训老师签认"), "{me}");
    assert!(me.contains("/certificates/"), "{me}");
}
engine_test!(me_says_the_certificate_waits_for_the_trainers_signoff);

/// The pre-test page says it is taken once; handed in with questions left
/// blank, the server asks first ("你还有 N 题没答，确定交卷吗？") and
/// records nothing until she confirms.
async fn the_pre_test_is_taken_once_and_blanks_are_confirmed(app: TestApp) {
    let p = app.people().await;
    app.import_course(COURSE).await;
    let t = app.token(p.learner).await;
    app.enroll(&t, COURSE).await;
    let (_, form) = app
        .page(&t, &format!("/courses/{COURSE}/quiz/pre?lang=zh-CN"))
        .await;
    assert!(!form.contains("可以多做几次"), "{form}");
    assert!(form.contains("课前小测只做一次"), "{form}");
    let (_, en) = app
        .page(&t, &format!("/courses/{COURSE}/quiz/pre?lang=en"))
        .await;
    assert!(!en.contains("you may try again"), "{en}");
    assert!(en.contains("taken only once"), "{en}");

    let key = app.key(COURSE, "pre").await;
    assert!(key.len() >= 2);
    let attempt = uuid::Uuid::new_v4().to_string();
    let mut fields = vec![("attempt_id".to_string(), attempt.clone())];
    let (first, v) = key.iter().next().unwrap();
    for a in v {
        fields.push((format!("q.{first}"), a.clone()));
    }
    let path = format!("/courses/{COURSE}/quiz/pre?lang=zh-CN");
    let res = app.submit(&t, &path, &fields).await;
    assert_eq!(res.status().as_u16(), 200);
    let ask = res.text().await.unwrap();
    let blank = key.len() - 1;
    assert!(
        ask.contains(&format!("你还有 {blank} 题没答，确定交卷吗？")),
        "{ask}"
    );
    assert!(ask.contains("name=\"blank_ok\" value=\"1\""), "{ask}");
    assert!(
        ask.contains(&format!("value=\"{attempt}\"")),
        "the answers are kept"
    );
    assert!(ask.contains(&format!("name=\"q.{first}\"")), "{ask}");
    assert_eq!(app.count("quiz_attempt").await, 0, "nothing recorded yet");

    // Confirmed: graded as her starting point.
    fields.push(("blank_ok".into(), "1".into()));
    let res = app.submit(&t, &path, &fields).await;
    assert_eq!(res.status().as_u16(), 200);
    let done = res.text().await.unwrap();
    assert!(done.contains("这是你现在的水平"), "{done}");
    assert_eq!(app.count("quiz_attempt").await, 1);

    // Every question answered: no question asked.
    let other = app.token(p.learner_in).await;
    app.enroll(&other, COURSE).await;
    let mut all = vec![("attempt_id".to_string(), uuid::Uuid::new_v4().to_string())];
    for (q, vs) in &key {
        for v in vs {
            all.push((format!("q.{q}"), v.clone()));
        }
    }
    let done = app.submit(&other, &path, &all).await.text().await.unwrap();
    assert!(done.contains("这是你现在的水平"), "{done}");
    assert!(!done.contains("题没答"));
}
engine_test!(the_pre_test_is_taken_once_and_blanks_are_confirmed);

/// After enrolling, the course page leads to the first lesson; after the
/// last lesson check, the result leads to the final test once it is open.
async fn the_pages_lead_to_the_first_lesson_and_to_the_final_test(app: TestApp) {
    let p = app.people().await;
    app.import_course(COURSE).await;
    let t = app.token(p.learner).await;
    let info = info(&app).await;
    let first = info.lessons.first().unwrap().slug.clone();
    let res = app.enroll_on_page(&t, COURSE).await;
    assert_eq!(res.status().as_u16(), 303);
    let (_, course) = app.page(&t, &format!("/courses/{COURSE}?lang=zh-CN")).await;
    let start = format!("href=\"/courses/{COURSE}/lessons/{first}\">开始第一课</a>");
    assert!(course.contains(&start), "{course}");
    let (_, en) = app.page(&t, &format!("/courses/{COURSE}?lang=en")).await;
    assert!(en.contains(">Start the first lesson</a>"), "{en}");

    // Every lesson finished, every check passed but the last one.
    enrolled_with_lessons_done(&app, p.learner, &t).await;
    let last = info
        .lesson_checks()
        .find(|q| {
            q.row
                .lesson_slug
                .as_deref()
                .is_some_and(|l| info.neighbours(l).1.is_none())
        })
        .expect("the last lesson has a check")
        .row
        .slug
        .clone();
    let others: Vec<String> = info
        .lesson_checks()
        .map(|q| q.row.slug.clone())
        .filter(|s| *s != last)
        .collect();
    pass(&app, &t, &others).await;
    let mut form = vec![("attempt_id".to_string(), uuid::Uuid::new_v4().to_string())];
    for (q, vs) in app.key(COURSE, &last).await {
        for v in vs {
            form.push((format!("q.{q}"), v));
        }
    }
    let path = format!("/courses/{COURSE}/quiz/{last}?lang=zh-CN");
    let result = app.submit(&t, &path, &form).await.text().await.unwrap();
    assert!(result.contains("通过了"), "{result}");
    let go = format!("href=\"/courses/{COURSE}/quiz/post\">去做结业测试</a>");
    assert!(result.contains(&go), "{result}");
    assert!(result.contains("回到课程"));
}
engine_test!(the_pages_lead_to_the_first_lesson_and_to_the_final_test);

/// Locked out, the sign-in page says for how many minutes.
async fn the_lockout_says_how_many_minutes(app: TestApp) {
    app.seed_areas().await;
    fuzhi::accounts::users::create(
        app.conn(),
        None,
        &fuzhi::accounts::users::NewUser {
            login: "13912340000".into(),
            display_name: "李四".into(),
            password: "482916".into(),
            pin: true,
            role: "learner".into(),
            area_code: Some(VILLAGE_A.into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let mut last = None;
    for _ in 0..7 {
        let res = app.login_form("13912340000", "000000").await;
        if res.status().as_u16() == 429 {
            last = Some(res);
            break;
        }
    }
    let res = last.expect("locked out after a few wrong PINs");
    let secs: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let minutes = secs.div_ceil(60).max(1);
    let body = res.text().await.unwrap();
    assert!(
        body.contains(&format!("请 {minutes} 分钟后再试")),
        "{minutes} minutes: {body}"
    );
}
engine_test!(the_lockout_says_how_many_minutes);

/// PIN fields bring up the number keypad; the narration player is named.
async fn pin_fields_are_numeric_and_the_narration_is_named(app: TestApp) {
    let p = app.people().await;
    app.import_course(COURSE).await;
    let learner = fuzhi::accounts::users::create(
        app.conn(),
        None,
        &fuzhi::accounts::users::NewUser {
            login: "13912340001".into(),
            display_name: "王五".into(),
            password: "482916".into(),
            pin: true,
            role: "learner".into(),
            area_code: Some(VILLAGE_A.into()),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .id;
    let admin = app.token(p.admin).await;
    let (_, edit) = app
        .page(&admin, &format!("/admin/users/{learner}?lang=zh-CN"))
        .await;
    let field = crate::helpers::between(&edit, "<input id=\"password\"", ">").unwrap();
    assert!(
        field.contains("inputmode=\"numeric\"") && field.contains("pattern=\"[0-9]*\""),
        "{field}"
    );
    for tpl in ["household.hbs", "members.hbs"] {
        let text =
            std::fs::read_to_string(crate::helpers::repo_path(&format!("templates/pages/{tpl}")))
                .unwrap();
        let pin = crate::helpers::between(&text, "name=\"pin\"", ">").unwrap();
        assert!(
            pin.contains("inputmode=\"numeric\"") && pin.contains("pattern=\"[0-9]*\""),
            "{tpl}: {pin}"
        );
    }

    // A course whose lessons carry narration.
    app.import_course(crate::helpers::NARRATED).await;
    let t = app.token(p.learner).await;
    let narrated_course = crate::helpers::NARRATED;
    app.enroll(&t, narrated_course).await;
    let info = app
        .state
        .content
        .published(app.conn(), narrated_course)
        .await
        .unwrap()
        .unwrap();
    let mut narrated = 0;
    for l in &info.lessons {
        for (lang, label) in [("zh-CN", "课文朗读"), ("en", "Lesson narration")] {
            let (_, html) = app
                .page(
                    &t,
                    &format!("/courses/{narrated_course}/lessons/{}?lang={lang}", l.slug),
                )
                .await;
            if let Some(audio) = crate::helpers::between(&html, "<audio controls", ">") {
                assert!(
                    audio.contains(&format!("aria-label=\"{label}\"")),
                    "{audio}"
                );
                narrated += 1;
            }
        }
    }
    assert!(narrated > 0, "some lesson is narrated");
}
engine_test!(pin_fields_are_numeric_and_the_narration_is_named);

/// Disabling an account asks for a ticked box first, as other destructive
/// acts do.
async fn disabling_a_user_asks_for_confirmation(app: TestApp) {
    let p = app.people().await;
    let admin = app.token(p.admin).await;
    let (_, edit) = app
        .page(&admin, &format!("/admin/users/{}?lang=zh-CN", p.learner))
        .await;
    let form = crate::helpers::between(&edit, "name=\"intent\" value=\"disable\"", "</form>")
        .expect(&edit);
    assert!(
        form.contains("type=\"checkbox\" name=\"confirm\" value=\"yes\" required"),
        "{form}"
    );
    assert!(form.contains("确认停用这个账号"), "{form}");
    let path = format!("/admin/users/{}", p.learner);
    let res = app.submit(&admin, &path, &[("intent", "disable")]).await;
    assert_eq!(res.status().as_u16(), 303);
    let to = res.headers()["location"].to_str().unwrap().to_string();
    assert!(to.ends_with("?confirm=1"), "{to}");
    let u = fuzhi::accounts::users::find(app.conn(), p.learner)
        .await
        .unwrap()
        .unwrap();
    assert!(
        u.disabled_at.is_none(),
        "not disabled without the ticked box"
    );
    let (_, again) = app.page(&admin, &format!("{to}&lang=zh-CN")).await;
    assert!(again.contains("请先勾选“确认停用这个账号”"), "{again}");
    let res = app
        .submit(
            &admin,
            &path,
            &[
                ("intent".to_string(), "disable".to_string()),
                ("confirm".to_string(), "yes".to_string()),
            ],
        )
        .await;
    assert_eq!(res.status().as_u16(), 303);
    let u = fuzhi::accounts::users::find(app.conn(), p.learner)
        .await
        .unwrap()
        .unwrap();
    assert!(u.disabled_at.is_some());
}
engine_test!(disabling_a_user_asks_for_confirmation);

/// The household import template's example lives in Zhenxiong county.
#[test]
fn the_import_template_example_is_in_zhenxiong() {
    let csv = fuzhi::households::import::template_csv();
    let example = csv.lines().nth(1).unwrap();
    let area = example.split(',').nth(1).unwrap();
    assert!(area.starts_with("530627") && area.len() == 12, "{example}");
    assert!(!example.contains("530102"), "{example}");
}

/// At 390 px, the course page's links (the catalog link and every lesson)
/// are tap targets at least 44 px high, as are the links on top of the
/// lesson and quiz pages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn course_page_links_are_tall_enough_to_tap_at_390_px() {
    let app = TestApp::spawn(crate::helpers::Engine::Sqlite)
        .await
        .unwrap();
    let p = app.people().await;
    app.import_course(COURSE).await;
    let t = app.token(p.learner).await;
    app.enroll(&t, COURSE).await;
    let info = info(&app).await;
    let b = crate::support::Browser::start(true).await;
    b.client.set_window_size(390, 844).await.unwrap();
    b.goto(&app.url("/login?lang=zh-CN")).await;
    b.fill("#login", "13900000001").await;
    b.fill("#password", crate::helpers::PASSWORD).await;
    b.click("button[type=submit]").await;
    b.wait_signed_in().await;
    let check = info.lesson_checks().next().unwrap().row.slug.clone();
    for path in [
        format!("/courses/{COURSE}?lang=zh-CN"),
        format!(
            "/courses/{COURSE}/lessons/{}?lang=zh-CN",
            info.lessons[0].slug
        ),
        format!("/courses/{COURSE}/quiz/{check}?lang=zh-CN"),
    ] {
        b.goto(&app.url(&path)).await;
        let v = b
            .client
            .execute(
                "return [...document.querySelectorAll('main a')]
                   .filter(a => a.getBoundingClientRect().width > 0)
                   .filter(a => !a.closest('.lesson-body, article'))
                   .map(a => [a.textContent.trim(), a.getBoundingClientRect().height]);",
                vec![],
            )
            .await
            .unwrap();
        let links: Vec<(String, f64)> = serde_json::from_value(v).unwrap();
        assert!(!links.is_empty(), "{path}");
        let small: Vec<_> = links.iter().filter(|(_, h)| *h < 44.0).collect();
        assert!(small.is_empty(), "{path}: links under 44 px: {small:?}");
        if path.ends_with(&format!("{COURSE}?lang=zh-CN")) {
            assert!(links.iter().any(|(t, _)| t == "全部课程"), "{links:?}");
            assert!(links.len() > info.lessons.len(), "{links:?}");
        }
    }
    b.close().await;
}
