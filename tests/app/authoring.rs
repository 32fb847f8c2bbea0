//! Trainer authoring in the browser (`/teach/courses`): drafts that learners
//! do not see until published, progress that survives a republish, errors by
//! field, hostile Markdown, and a whole course written in headless Chromium.

use crate::engine_test;
use crate::helpers::{COURSE, Engine, NO_FORM, PASSWORD, TestApp, between};
use crate::support::Browser;

/// A valid new course (zh-CN only) with one skill.
async fn new_course(app: &TestApp, token: &str, slug: &str) {
    let (s, loc, body) = app
        .post_form(
            token,
            "/teach/courses",
            &[
                ("slug", slug),
                ("category", "it"),
                ("level", "1"),
                ("pass_mark", "60"),
                ("hours", "1.5"),
                ("competence", "it.connect"),
                ("title.zh-CN", "连上网络"),
                ("summary.zh-CN", "用手机连上无线网。"),
            ],
        )
        .await;
    assert_eq!(s, 303, "{body}");
    assert_eq!(loc, format!("/teach/courses/{slug}"));
}

/// Eight questions for a pre- or post-test, each one of its own (the tests
/// ask with different items, and a blind learner does not pass them).
async fn fill_test(app: &TestApp, token: &str, slug: &str, quiz: &str, from: usize) {
    for i in from..8 {
        add_question(app, token, slug, quiz, i).await;
    }
}

/// Question `i` of the bank for `quiz`, by the one-question form.
async fn add_question(app: &TestApp, token: &str, slug: &str, quiz: &str, i: usize) {
    let (prompt, choices, key) = crate::authoring_village::bank(quiz)[i];
    let correct = ["a", "b", "c"][key];
    let (s, _, body) = app
        .post_form(
            token,
            &format!("/teach/courses/{slug}/quizzes/{quiz}"),
            &[
                ("kind", "single"),
                ("competence", "it.connect"),
                ("points", "1"),
                ("prompt.zh-CN", prompt),
                ("choice.a.zh-CN", choices[0]),
                ("choice.b.zh-CN", choices[1]),
                ("choice.c.zh-CN", choices[2]),
                ("correct", correct),
                ("explain.zh-CN", "照课文里讲的做。"),
            ],
        )
        .await;
    assert_eq!(s, 303, "{body}");
}

/// Every tag in `html`: none may carry a script, a frame, a handler or a
/// `javascript:` address (escaped text is harmless and allowed), apart from
/// the site's own scripts (offline, and the recorder on authoring pages),
/// loaded from their hashed static addresses.
fn assert_no_active_tags(html: &str) {
    for tag in html
        .split('<')
        .skip(1)
        .map(|t| t.split('>').next().unwrap_or(""))
    {
        let t = tag.to_ascii_lowercase();
        if ((t.starts_with("script src=\"/static/offline.")
            || t.starts_with("script src=\"/static/record.")
            || t.starts_with("script src=\"/static/author."))
            && t.ends_with("\" defer"))
            || t == "/script"
        {
            continue;
        }
        for bad in ["script", "iframe", "onerror", "onload", "javascript:"] {
            assert!(!t.contains(bad), "active markup reached the page: <{tag}>");
        }
    }
}

/// An edited lesson stays in the draft until published; then learners see it
/// and the lesson they finished before stays finished.
async fn drafts_stay_hidden_and_progress_survives_republish(app: TestApp) {
    let p = app.people().await;
    app.import_course(COURSE).await;
    let admin = app.token(p.admin).await;
    let learner = app.token(p.learner).await;
    let (s, _) = app.enroll(&learner, COURSE).await;
    assert!(s == 200 || s == 201, "enroll: {s}");
    let lesson = format!("/courses/{COURSE}/lessons/wifi-and-data");
    // She reads the lesson, then says she finished it.
    assert_eq!(app.page(&learner, &lesson).await.0, 200);
    let (s, _, _) = app
        .post_form(&learner, &format!("{lesson}/done"), NO_FORM)
        .await;
    assert_eq!(s, 303);

    // The shipped course is edited by an admin; the trainer may not.
    let trainer = app.token(p.trainer).await;
    assert_eq!(
        app.page(&trainer, &format!("/teach/courses/{COURSE}"))
            .await
            .0,
        404
    );
    let edit = format!("/teach/courses/{COURSE}/lessons/wifi-and-data");
    let (s, body) = app.page(&admin, &edit).await;
    assert_eq!(s, 200);
    let old_title = between(&body, "name=\"title.zh-CN\" value=\"", "\"").unwrap();
    let (s, loc, body) = app.post_form(&admin,
        &edit,
        &[
            ("action", "save"),
            ("minutes", "8"),
            ("competence", "it.connect"),
            ("title.zh-CN", old_title.as_str()),
            ("body.zh-CN", "# 连网\n\n草稿里的新句子。\n\n![Wi-Fi](media/01-wifi-toggle.svg)\n"),
            ("title.en", "Wi-Fi and mobile data"),
            (
                "body.en",
                "# Getting online\n\nA new sentence in the draft.\n\n![Wi-Fi](media/01-wifi-toggle.svg)\n",
            ),
        ],
    )
    .await;
    assert_eq!(s, 303, "{body}");
    assert!(loc.ends_with("?saved=1"));

    let (_, page) = app.page(&learner, &format!("{lesson}?lang=zh-CN")).await;
    assert!(
        !page.contains("草稿里的新句子"),
        "a draft reached a learner"
    );
    let (_, page) = app
        .page(&admin, &format!("/teach/courses/{COURSE}?lang=en"))
        .await;
    assert!(page.contains("Draft with unpublished changes"), "{page}");

    let (s, loc, body) = app
        .post_form(
            &admin,
            &format!("/teach/courses/{COURSE}/publish"),
            &[("confirm", "yes")],
        )
        .await;
    assert_eq!(s, 303, "{body}");
    assert!(loc.ends_with("?published=2"), "{loc}");
    let (_, page) = app.page(&learner, &format!("{lesson}?lang=zh-CN")).await;
    assert!(
        page.contains("草稿里的新句子"),
        "the published edit is not shown"
    );
    let (_, page) = app
        .page(&learner, &format!("/courses/{COURSE}?lang=en"))
        .await;
    let (_, progress) = app.get_json("/api/v1/me/progress", &learner).await;
    let text = progress.to_string();
    assert!(text.contains("wifi-and-data"), "{text}");
    assert!(page.contains("1/6"), "the finished lesson was lost: {page}");
    // Publishing again without changes makes no new version.
    let (_, loc, _) = app
        .post_form(
            &admin,
            &format!("/teach/courses/{COURSE}/publish"),
            &[("confirm", "yes")],
        )
        .await;
    assert!(loc.ends_with("?published=2"), "{loc}");
}
engine_test!(drafts_stay_hidden_and_progress_survives_republish);

/// Bad input comes back as the same form (422) naming each field; another
/// trainer's course does not exist for her; a course with problems is not published.
async fn bad_input_is_reported_by_field(app: TestApp) {
    let p = app.people().await;
    app.import_course(COURSE).await;
    let trainer = app.token(p.trainer).await;
    let (s, _, body) = app
        .post_form(
            &trainer,
            "/teach/courses?lang=en",
            &[
                ("slug", "Bad Slug"),
                ("category", "it"),
                ("level", "7"),
                ("hours", "abc"),
                ("pass_mark", "80"),
            ],
        )
        .await;
    assert_eq!(s, 422);
    for message in [
        "Use lowercase letters, digits and dashes",
        "Choose a level from 1 to 3.",
        "Give a number of hours above 0",
        "Tick at least one skill.",
        "Please fill this in.",
    ] {
        assert!(body.contains(message), "missing {message:?}");
    }
    assert!(
        body.contains("value=\"Bad Slug\""),
        "the form was not refilled"
    );

    new_course(&app, &trainer, "wifi-101").await;
    let (s, _, body) = app
        .post_form(
            &trainer,
            "/teach/courses?lang=en",
            &[
                ("slug", "wifi-101"),
                ("category", "it"),
                ("level", "1"),
                ("hours", "1"),
                ("pass_mark", "80"),
                ("competence", "it.connect"),
                ("title.zh-CN", "x"),
                ("summary.zh-CN", "y"),
            ],
        )
        .await;
    assert_eq!(s, 422);
    assert!(body.contains("already used by a course"));

    // Two right answers for a one-answer question; no choices at all.
    let quiz = "/teach/courses/wifi-101/quizzes/pre?lang=en";
    let (s, _, body) = app
        .post_form(
            &trainer,
            quiz,
            &[
                ("kind", "single"),
                ("competence", "it.connect"),
                ("points", "1"),
                ("prompt.zh-CN", "问"),
                ("choice.a.zh-CN", "甲"),
                ("choice.b.zh-CN", "乙"),
                ("correct", "a"),
                ("correct", "b"),
                ("explain.zh-CN", "因为"),
            ],
        )
        .await;
    assert_eq!(s, 422);
    assert!(body.contains("Tick exactly one right answer."));
    let (s, _, body) = app
        .post_form(
            &trainer,
            quiz,
            &[
                ("kind", "true_false"),
                ("competence", "it.apps"),
                ("points", "0"),
            ],
        )
        .await;
    assert_eq!(s, 422);
    for message in [
        "Choose true or false.",
        "Choose one of the course&#x27;s skills.",
        "Give a whole number from 1 to 100.",
    ] {
        assert!(body.contains(message), "missing {message:?} in {body}");
    }

    // Publishing an empty course names what is missing, in place of a 500.
    let (s, _, body) = app
        .post_form(
            &trainer,
            "/teach/courses/wifi-101/publish?lang=en",
            &[("confirm", "yes")],
        )
        .await;
    assert_eq!(s, 422);
    assert!(body.contains("Not published"), "{body}");
    assert!(body.contains("no lessons"), "{body}");
    // The same problems in Chinese, for a trainer who reads no English.
    let (_, _, body) = app
        .post_form(
            &trainer,
            "/teach/courses/wifi-101/publish?lang=zh-CN",
            &[("confirm", "yes")],
        )
        .await;
    assert!(body.contains("还没有课"), "{body}");
    assert!(
        body.contains("课前测至少需要 4 道题：课程的 1 项技能每项 2 道，最少 4 道（现有 0 道）"),
        "{body}"
    );
    assert!(
        body.contains("/teach/courses/wifi-101/quizzes/pre"),
        "{body}"
    );

    // The lesson form: minutes out of range; a missing lesson is a 404.
    let (s, _, _) = app
        .post_form(
            &trainer,
            "/teach/courses/wifi-101/lessons",
            &[("lesson_slug", "join-wifi"), ("lesson_title", "连 Wi-Fi")],
        )
        .await;
    assert_eq!(s, 303);
    let (s, _, body) = app
        .post_form(
            &trainer,
            "/teach/courses/wifi-101/lessons/join-wifi?lang=en",
            &[
                ("action", "save"),
                ("minutes", "45"),
                ("competence", "it.connect"),
                ("title.zh-CN", ""),
            ],
        )
        .await;
    assert_eq!(s, 422);
    assert!(body.contains("from 5 to 10"));
    assert!(body.contains("Please fill this in."));
    assert_eq!(
        app.page(&trainer, "/teach/courses/wifi-101/lessons/nope")
            .await
            .0,
        404
    );

    // Another trainer does not see or touch the course; learners are refused.
    let other = app.user("trainer2", "trainer", Some("530627103000")).await;
    let other = app.token(other).await;
    assert_eq!(app.page(&other, "/teach/courses/wifi-101").await.0, 404);
    assert_eq!(
        app.post_form(
            &other,
            "/teach/courses/wifi-101/publish",
            &[("confirm", "yes")]
        )
        .await
        .0,
        404
    );
    let (_, list) = app.page(&other, "/teach/courses").await;
    assert!(!list.contains("wifi-101"));
    let learner = app.token(p.learner).await;
    assert_eq!(app.page(&learner, "/teach/courses").await.0, 403);
    let (_, list) = app.page(&trainer, "/teach/courses").await;
    assert!(list.contains("wifi-101"));
}
engine_test!(bad_input_is_reported_by_field);

const HOSTILE: &str = "# 标题\n\n<script>alert(1)</script>\n\n<img src=x onerror=alert(2)>\n\n[点我](javascript:alert(3))\n\n<iframe src=\"https://evil.example\"></iframe>\n\n正文 **加粗**。\n";

/// Raw HTML and scripts never reach a page: not in the preview, not in the
/// published lesson (even when a package skipped the checker).
async fn hostile_markdown_never_reaches_a_page(app: TestApp) {
    let p = app.people().await;
    app.import_course(COURSE).await;
    let trainer = app.token(p.trainer).await;
    new_course(&app, &trainer, "safe-101").await;
    app.post_form(
        &trainer,
        "/teach/courses/safe-101/lessons",
        &[("lesson_slug", "first"), ("lesson_title", "第一课")],
    )
    .await;
    let edit = "/teach/courses/safe-101/lessons/first?lang=en";
    let fields = |action: &'static str| {
        vec![
            ("action", action),
            ("minutes", "5"),
            ("competence", "it.connect"),
            ("title.zh-CN", "第一课"),
            ("body.zh-CN", HOSTILE),
        ]
    };
    let (s, _, page) = app.post_form(&trainer, edit, &fields("preview")).await;
    assert_eq!(s, 200);
    let preview = between(&page, "id=\"preview\"", "<form").expect("a preview");
    assert!(preview.contains("<strong>加粗</strong>"), "{preview}");
    assert_no_active_tags(&preview);
    assert_no_active_tags(&page);
    // Saved, the checker names the raw HTML and the link, and publishing is refused.
    let (s, _, _) = app.post_form(&trainer, edit, &fields("save")).await;
    assert_eq!(s, 303);
    let (_, page) = app.page(&trainer, edit).await;
    assert!(page.contains("raw HTML is not allowed"), "{page}");
    assert!(page.contains("javascript:alert(3)"), "{page}");
    assert_no_active_tags(&page);
    fill_test(&app, &trainer, "safe-101", "pre", 0).await;
    fill_test(&app, &trainer, "safe-101", "post", 0).await;
    let (s, _, _) = app
        .post_form(
            &trainer,
            "/teach/courses/safe-101/publish",
            &[("confirm", "yes")],
        )
        .await;
    assert_eq!(s, 422);

    // Even a package that skipped the checker renders harmlessly.
    let draft = fuzhi::catalog::export::latest(
        app.conn(),
        "safe-101",
        &[fuzhi::entities::course::CourseStatus::Draft],
    )
    .await
    .unwrap()
    .unwrap();
    let package = fuzhi::catalog::export::to_package(app.conn(), &draft)
        .await
        .unwrap();
    assert!(
        package.lessons[0].texts["zh-CN"]
            .body_md
            .contains("<script>")
    );
    fuzhi::catalog::store::import_course(
        app.conn(),
        &package,
        Some(p.trainer),
        fuzhi::catalog::store::Origin::Import,
    )
    .await
    .unwrap();
    app.state.content.clear();
    let learner = app.token(p.learner).await;
    app.enroll(&learner, "safe-101").await;
    let (s, page) = app.page(&learner, "/courses/safe-101/lessons/first").await;
    assert_eq!(s, 200);
    let article = between(&page, "<article class=\"lesson\">", "</article>").unwrap();
    assert!(article.contains("<strong>加粗</strong>"), "{article}");
    assert!(
        article.contains("&lt;script&gt;"),
        "raw HTML is shown as text: {article}"
    );
    assert_no_active_tags(&page);
}
engine_test!(hostile_markdown_never_reaches_a_page);

/// Archiving asks first, then takes the course away from learners.
async fn archive_asks_first(app: TestApp) {
    let p = app.people().await;
    app.import_course(COURSE).await;
    let trainer = app.token(p.trainer).await;
    new_course(&app, &trainer, "arch-101").await;
    app.post_form(
        &trainer,
        "/teach/courses/arch-101/lessons",
        &[("lesson_slug", "one"), ("lesson_title", "第一课")],
    )
    .await;
    app.post_form(
        &trainer,
        "/teach/courses/arch-101/lessons/one",
        &[
            ("action", "save"),
            ("minutes", "5"),
            ("competence", "it.connect"),
            ("title.zh-CN", "第一课"),
            ("body.zh-CN", "正文。"),
        ],
    )
    .await;
    fill_test(&app, &trainer, "arch-101", "pre", 0).await;
    fill_test(&app, &trainer, "arch-101", "post", 0).await;
    let (s, loc, body) = app
        .post_form(
            &trainer,
            "/teach/courses/arch-101/publish",
            &[("confirm", "yes")],
        )
        .await;
    assert_eq!(s, 303, "{body}");
    assert!(loc.ends_with("?published=1"));
    let learner = app.token(p.learner).await;
    assert_eq!(app.page(&learner, "/courses/arch-101").await.0, 200);
    // Without the confirmation the post only leads to the question.
    let (s, loc, _) = app
        .post_form(&trainer, "/teach/courses/arch-101/archive", NO_FORM)
        .await;
    assert_eq!((s, loc.as_str()), (303, "/teach/courses/arch-101/archive"));
    assert_eq!(app.page(&learner, "/courses/arch-101").await.0, 200);
    let (s, page) = app
        .page(&trainer, "/teach/courses/arch-101/archive?lang=en")
        .await;
    assert_eq!(s, 200);
    assert!(page.contains("Yes, archive it"));
    let (s, _, _) = app
        .post_form(
            &trainer,
            "/teach/courses/arch-101/archive",
            &[("confirm", "yes")],
        )
        .await;
    assert_eq!(s, 303);
    assert_eq!(app.page(&learner, "/courses/arch-101").await.0, 404);
    // Publishing again brings it back as a new version.
    let (_, loc, _) = app
        .post_form(
            &trainer,
            "/teach/courses/arch-101/publish",
            &[("confirm", "yes")],
        )
        .await;
    assert!(loc.ends_with("?published=2"), "{loc}");
    assert_eq!(app.page(&learner, "/courses/arch-101").await.0, 200);
}
engine_test!(archive_asks_first);

async fn sign_in(b: &Browser, app: &TestApp, login: &str) {
    b.goto(&app.url("/login?lang=en")).await;
    b.fill("#login", login).await;
    b.fill("#password", PASSWORD).await;
    b.click("button[type=submit]").await;
    b.wait_signed_in().await;
}

async fn browser_question(b: &Browser, app: &TestApp, quiz: &str) {
    b.goto(&app.url(&format!("/teach/courses/tea-shop/quizzes/{quiz}?lang=en")))
        .await;
    b.fill(
        "#add-questions textarea[name='q1.prompt.zh-CN']",
        "茶叶应该放在哪里？",
    )
    .await;
    b.fill(
        "#add-questions input[name='q1.choice.a.zh-CN']",
        "干燥的地方",
    )
    .await;
    b.fill(
        "#add-questions input[name='q1.choice.b.zh-CN']",
        "潮湿的地方",
    )
    .await;
    b.fill(
        "#add-questions input[name='q1.choice.c.zh-CN']",
        "阳光底下晒",
    )
    .await;
    b.click("#add-questions input[name='q1.correct'][value=a]")
        .await;
    b.fill(
        "#add-questions textarea[name='q1.explain.zh-CN']",
        "潮湿会让茶叶变质。",
    )
    .await;
    b.click("#add-questions button[type=submit]").await;
    b.wait_text("Saved in the draft").await;
}

/// A trainer writes a course in Chromium with JavaScript off and publishes
/// it; a learner finds it, opens the lesson and finishes it; the trainer
/// edits the lesson and republishes; the learner's lesson stays finished.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trainer_authors_a_course_in_the_browser_and_a_learner_takes_it() {
    let app = TestApp::spawn(Engine::Sqlite).await.unwrap();
    let p = app.people().await;
    app.import_course(COURSE).await;
    let token = app.token(p.trainer).await;
    let t = Browser::start(false).await;
    sign_in(&t, &app, "trainer1").await;
    t.goto(&app.url("/teach?lang=en")).await;
    t.click("a[href='/teach/courses']").await;
    t.wait_text("My courses").await;
    t.click("a[href='/teach/courses/new']").await;
    t.wait_text("Short name in the address").await;
    t.fill("#slug", "tea-shop").await;
    t.fill("#title-zh-CN", "网上卖茶").await;
    t.fill("#summary-zh-CN", "在网上开店卖自家的茶。").await;
    t.click("input[name=competence][value='it.connect']").await;
    t.click("form[action='/teach/courses'] button[type=submit]")
        .await;
    t.wait_url("/teach/courses/tea-shop").await;
    t.wait_text("Not published yet").await;
    // No short name asked for the lesson: it is made from the title.
    t.fill("#lesson_title", "拍好茶叶照片").await;
    t.click("#add-lesson button").await;
    t.wait_url("/teach/courses/tea-shop/lessons/pai-hao-cha-ye-zhao-pian")
        .await;
    t.fill("#body-zh-CN", "# 拍照\n\n在**自然光**下拍茶叶。")
        .await;
    t.click("button[value=preview]").await;
    let page = t.wait_text("Preview (not saved yet)").await;
    assert!(page.contains("在自然光下拍茶叶"), "{page}");
    t.click("button[value=save]").await;
    t.wait_text("Saved in the draft").await;
    // One question in the browser; the rest of the eight each test needs by form posts.
    browser_question(&t, &app, "pre").await;
    fill_test(&app, &token, "tea-shop", "pre", 1).await;
    fill_test(&app, &token, "tea-shop", "post", 0).await;
    t.goto(&app.url("/teach/courses/tea-shop?lang=en")).await;
    t.wait_text("Everything is checked").await;
    t.click("#publish a[href$='/publish']").await;
    t.wait_text("Publish?").await;
    t.click("#confirm button[type=submit]").await;
    t.wait_text("learners now see version 1").await;

    let l = Browser::start(false).await;
    sign_in(&l, &app, "13900000001").await;
    l.goto(&app.url("/?lang=en")).await;
    l.wait_text("网上卖茶").await;
    l.click("a[href='/courses/tea-shop']").await;
    l.wait_text("Enroll").await;
    l.click("form[action$='/enroll'] button").await;
    l.wait_text("Take the pre-test").await;
    l.click("form[action$='/skip-pre'] button").await;
    l.wait_text("Lessons").await;
    l.click("a[href='/courses/tea-shop/lessons/pai-hao-cha-ye-zhao-pian']")
        .await;
    l.wait_text("在自然光下拍茶叶").await;
    l.click("form[action$='/done'] button").await;
    l.wait_url("/courses/tea-shop").await;

    // The trainer improves the lesson and publishes again.
    t.goto(&app.url("/teach/courses/tea-shop/lessons/pai-hao-cha-ye-zhao-pian?lang=en"))
        .await;
    t.fill(
        "#body-zh-CN",
        "# 拍照\n\n在**自然光**下拍茶叶，背景要干净。",
    )
    .await;
    t.click("button[value=save]").await;
    t.wait_text("Saved in the draft").await;
    t.goto(&app.url("/teach/courses/tea-shop?lang=en")).await;
    t.click("#publish a[href$='/publish']").await;
    t.click("#confirm button[type=submit]").await;
    t.wait_text("learners now see version 2").await;

    l.goto(&app.url("/courses/tea-shop/lessons/pai-hao-cha-ye-zhao-pian?lang=en"))
        .await;
    l.wait_text("背景要干净").await;
    l.goto(&app.url("/courses/tea-shop?lang=en")).await;
    let page = l.wait_text("1/1").await;
    assert!(page.contains("1/1"), "{page}");
    l.close().await;
    t.close().await;
}
