//! The trainer's pages in detail: roll call, sign-off, the learner list,
//! class creation, publish problems, the new-course form and the trainer's
//! start page.

use serde_json::json;

use crate::engine_test;
use crate::helpers::{COURSE, TOWNSHIP_A, TestApp, VILLAGE_A, between};

/// The text a person reads: the page without its tags (attributes hold
/// codes people never see).
fn visible(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// A run of 12 digits (an area code) in the text.
fn has_area_code(text: &str) -> bool {
    let mut run = 0;
    for c in text.chars() {
        run = if c.is_ascii_digit() { run + 1 } else { 0 };
        if run == 12 {
            return true;
        }
    }
    false
}

/// The title of a published course in zh-CN.
async fn course_title(app: &TestApp, slug: &str) -> String {
    fuzhi::catalog::view::published_titles(app.conn(), "zh-CN")
        .await
        .unwrap()
        .remove(slug)
        .expect("a published course")
}

/// A class of `COURSE` in township A; its roll-call address.
async fn new_class(app: &TestApp, trainer: &str, held_at: &str) -> String {
    let (s, loc, body) = app
        .post_form(
            trainer,
            "/teach/classes",
            &[
                ("course", COURSE.to_string()),
                ("place", "新街村活动室".to_string()),
                ("held_at", held_at.to_string()),
                ("area_code", TOWNSHIP_A.to_string()),
            ],
        )
        .await;
    assert_eq!(s, 303, "{body}");
    loc
}

async fn roll_call_takes_one_choice_per_learner_and_says_what_was_saved(app: TestApp) {
    let p = app.people().await;
    app.import_course(COURSE).await;
    let t = app.token(p.trainer).await;
    app.enroll_learners(&t, COURSE, &[p.learner, p.learner_in])
        .await;
    let roster = new_class(&app, &t, "2026-12-03T14:30").await;
    let (s, html) = app.page(&t, &format!("{roster}?lang=zh-CN")).await;
    assert_eq!(s, 200);
    // The course by its title, never its slug.
    let title = course_title(&app, COURSE).await;
    assert!(html.contains(&title), "{html}");
    assert!(!visible(&html).contains(COURSE), "{html}");
    // One group of choices per learner: present, excused or absent.
    for id in [p.learner, p.learner_in] {
        for v in ["present", "excused", "absent"] {
            assert!(
                html.contains(&format!("type=\"radio\" name=\"mark-{id}\" value=\"{v}\"")),
                "{html}"
            );
        }
    }
    assert!(!html.contains("type=\"checkbox\""), "{html}");

    // Marked both present and excused (a hand-made form, or the old one): refused, named, nothing saved.
    let twice = format!("mark-{}", p.learner_in);
    for form in [
        vec![
            ("listed", p.learner.to_string()),
            ("present", p.learner.to_string()),
            ("excused", p.learner.to_string()),
        ],
        vec![
            (twice.as_str(), "present".to_string()),
            (twice.as_str(), "excused".to_string()),
        ],
    ] {
        let (s, _, body) = app
            .post_form(&t, &format!("{roster}?lang=zh-CN"), &form)
            .await;
        assert_eq!(s, 422, "{body}");
        let error =
            between(&body, "<p class=\"flash error\" role=\"alert\">", "</p>").expect("an error");
        assert!(error.contains("learner 1390000000"), "{error}");
        assert!(error.contains("没有保存"), "{error}");
        assert_eq!(app.count("attendance").await, 0);
    }
    // The API refuses it too.
    let id = roster.rsplit('/').next().unwrap();
    let (s, r) = app
        .post_json(
            &format!("/api/v1/sessions/{id}/attendance"),
            &t,
            json!([{"user_id": p.learner, "attended": true, "excused": true}]),
        )
        .await;
    assert_eq!(s, 422, "{r}");
    assert_eq!(app.count("attendance").await, 0);

    // Saved: the page says how many came and how many were excused.
    let (s, loc, _) = app
        .post_form(
            &t,
            &roster,
            &[
                (&format!("mark-{}", p.learner), "present".to_string()),
                (&format!("mark-{}", p.learner_in), "excused".to_string()),
            ],
        )
        .await;
    assert_eq!(s, 303);
    assert_eq!(loc, format!("{roster}?saved=1"));
    let (_, html) = app.page(&t, &format!("{loc}&lang=zh-CN")).await;
    assert!(html.contains("已保存：到了 1 人，请假 1 人。"), "{html}");
    assert!(html.contains(&format!(
        "name=\"mark-{}\" value=\"present\" checked",
        p.learner
    )));
    assert!(html.contains(&format!(
        "name=\"mark-{}\" value=\"excused\" checked",
        p.learner_in
    )));
    let (_, html) = app.page(&t, &format!("{loc}&lang=en")).await;
    assert!(html.contains("Saved: 1 present, 1 excused."), "{html}");
}
engine_test!(roll_call_takes_one_choice_per_learner_and_says_what_was_saved);

async fn sign_off_offers_the_learners_courses_and_shows_what_was_given(app: TestApp) {
    let p = app.people().await;
    app.import_course(COURSE).await;
    app.import_course("online-safety").await;
    let t = app.token(p.trainer).await;
    app.enroll_learners(&t, COURSE, &[p.learner]).await;
    let url = format!("/teach/signoff?user={}&lang=zh-CN", p.learner);
    let (_, html) = app.page(&t, &url).await;
    let select = between(&html, "<select id=\"course\"", "</select>").expect("a course picker");
    assert!(select.contains(&format!("value=\"{COURSE}\"")), "{select}");
    assert!(
        !select.contains("online-safety"),
        "only the learner's courses: {select}"
    );
    // Asking for a course she is not in falls back to hers.
    let (_, other) = app.page(&t, &format!("{url}&course=online-safety")).await;
    assert!(other.contains("value=\"wifi-connected\""), "{other}");
    assert!(!html.contains("已确认："), "nothing given yet");

    let (s, _, body) = app
        .post_form(
            &t,
            "/teach/signoff",
            &[
                ("user_id", p.learner.to_string()),
                ("course", COURSE.to_string()),
                ("task", "wifi-connected".to_string()),
                ("level", "1".to_string()),
            ],
        )
        .await;
    assert_eq!(s, 303, "{body}");
    let (_, html) = app.page(&t, &url).await;
    // The level given is shown on the task, and chosen already.
    let task = between(&html, "value=\"wifi-connected\">", "</form>").expect("the task");
    assert!(task.contains("已确认：在帮助下完成"), "{task}");
    assert!(task.contains("value=\"1\" checked"), "{task}");
    let other_task = between(&html, "value=\"app-installed-safely\">", "</form>").unwrap();
    assert!(!other_task.contains("已确认"), "{other_task}");
    // The history by course and task titles, not their slugs.
    let history = between(&html, "<h2>确认记录</h2>", "</ul>").expect("a history");
    let title = course_title(&app, COURSE).await;
    assert!(history.contains(&title), "{history}");
    assert!(history.contains("连上教室的 Wi-Fi"), "{history}");
    assert!(
        !history.contains(COURSE) && !history.contains("wifi-connected"),
        "{history}"
    );

    // A learner in no course is told so, with the way to enrol her.
    let (_, html) = app
        .page(
            &t,
            &format!("/teach/signoff?user={}&lang=zh-CN", p.learner_in),
        )
        .await;
    assert!(html.contains("还没有报名任何课程"), "{html}");
    assert!(!html.contains("<select id=\"course\""), "{html}");
}
engine_test!(sign_off_offers_the_learners_courses_and_shows_what_was_given);

async fn the_learner_list_shows_village_and_progress_next_to_the_enrol_button(app: TestApp) {
    let p = app.people().await;
    app.import_course(COURSE).await;
    let t = app.token(p.trainer).await;
    app.enroll_learners(&t, COURSE, &[p.learner]).await;
    let (s, html) = app.page(&t, "/teach/learners?lang=zh-CN").await;
    assert_eq!(s, 200);
    let row =
        between(&html, &format!("value=\"{}\"", p.learner), "</tr>").expect("the learner's row");
    assert!(row.contains("新街村"), "village by name: {row}");
    let title = course_title(&app, COURSE).await;
    let lessons = app
        .state
        .content
        .published(app.conn(), COURSE)
        .await
        .unwrap()
        .unwrap()
        .lessons
        .len();
    assert!(
        row.contains(&format!("{title}：学完 0/{lessons} 课")),
        "{row}"
    );
    let other = between(&html, &format!("value=\"{}\"", p.learner_in), "</tr>").unwrap();
    assert!(
        other.contains("龙井村") && other.contains("还没报名课程"),
        "{other}"
    );
    assert!(!has_area_code(&visible(&html)), "{html}");
    // The button sits with its course picker, above the list.
    let picker = html.find("<select id=\"course\"").unwrap();
    let button = html.find("给选中的学员报名").unwrap();
    let first_row = html.find("name=\"user\"").unwrap();
    assert!(picker < button && button < first_row, "{html}");
    assert!(html.contains("第 1 / 1 页"), "a pager: {html}");
}
engine_test!(the_learner_list_shows_village_and_progress_next_to_the_enrol_button);

async fn a_class_is_placed_by_village_name_not_by_code(app: TestApp) {
    let p = app.people().await;
    app.import_course(COURSE).await;
    let t = app.token(p.trainer).await;
    let (_, html) = app.page(&t, "/teach/classes?lang=zh-CN").await;
    let select = between(
        &html,
        "<select id=\"area_code\" name=\"area_code\">",
        "</select>",
    )
    .expect("an area picker");
    assert!(select.contains("<optgroup label=\"泼机镇\">"), "{select}");
    assert!(
        select.contains(&format!("<option value=\"{VILLAGE_A}\" >新街村</option>")),
        "{select}"
    );
    assert!(select.contains("泼机镇（全镇）"), "{select}");
    assert!(
        !select.contains("黑树"),
        "only the trainer's area: {select}"
    );
    assert!(!has_area_code(&visible(&html)), "{html}");
    assert!(html.contains("还没有安排线下课"), "an empty state: {html}");
    // The class list names the village and the course.
    let (s, _, body) = app
        .post_form(
            &t,
            "/teach/classes",
            &[
                ("course", COURSE.to_string()),
                ("place", "村委会".to_string()),
                ("held_at", "2026-12-03T09:00".to_string()),
                ("area_code", VILLAGE_A.to_string()),
            ],
        )
        .await;
    assert_eq!(s, 303, "{body}");
    let (_, html) = app.page(&t, "/teach/classes?lang=zh-CN").await;
    let list = between(&html, "<table class=\"cards\">", "</table>").expect("a list");
    assert!(
        list.contains("新街村") && list.contains(&course_title(&app, COURSE).await),
        "{list}"
    );
    assert!(!visible(&list).contains(COURSE), "{list}");
}
engine_test!(a_class_is_placed_by_village_name_not_by_code);

/// A new course in zh-CN with one skill; `slug` may be empty.
async fn create_course(app: &TestApp, t: &str, slug: &str, title: &str) -> (u16, String, String) {
    app.post_form(
        t,
        "/teach/courses?lang=zh-CN",
        &[
            ("slug", slug.to_string()),
            ("category", "ecommerce".to_string()),
            ("level", "1".to_string()),
            ("pass_mark", "60".to_string()),
            ("hours", "1".to_string()),
            ("competence", "it.connect".to_string()),
            ("title.zh-CN", title.to_string()),
            ("summary.zh-CN", "拍好商品照片。".to_string()),
        ],
    )
    .await
}

async fn publish_problems_name_competences_by_title(app: TestApp) {
    let p = app.people().await;
    app.import_course(COURSE).await;
    let t = app.token(p.trainer).await;
    let (s, _, body) = create_course(&app, &t, "wifi-101", "连上网络").await;
    assert_eq!(s, 303, "{body}");
    for (lang, said) in [
        ("zh-CN", "课前测没有考查技能“连接网络并打开网页”的题目"),
        (
            "en",
            "the pre-test has no question on competence \"Connect to the internet and open a web page\"",
        ),
    ] {
        let (s, _, body) = app
            .post_form(
                &t,
                &format!("/teach/courses/wifi-101/publish?lang={lang}"),
                &[("confirm", "yes".to_string())],
            )
            .await;
        assert_eq!(s, 422);
        let problems =
            between(&body, "<div class=\"card\" id=\"problems\">", "</div>").expect("problems");
        let problems = problems.replace("&quot;", "\"").replace("&#x27;", "'");
        assert!(problems.contains(said), "{problems}");
        assert!(!problems.contains("it.connect"), "{problems}");
    }
}
engine_test!(publish_problems_name_competences_by_title);

async fn a_new_course_takes_its_slug_from_the_title(app: TestApp) {
    let p = app.people().await;
    app.import_course(COURSE).await;
    let t = app.token(p.trainer).await;
    // The title is asked first, the slug may be left empty.
    let (_, html) = app.page(&t, "/teach/courses/new?lang=zh-CN").await;
    let title = html.find("name=\"title.zh-CN\"").unwrap();
    let slug = html.find("name=\"slug\"").unwrap();
    assert!(title < slug, "{html}");
    assert!(html.contains("可以不填"), "{html}");
    let (s, loc, body) = create_course(&app, &t, "", "网店拍照").await;
    assert_eq!(s, 303, "{body}");
    assert_eq!(loc, "/teach/courses/wang-dian-pai-zhao");
    // Taken already: the form comes back with the proposed slug to edit.
    let (s, _, body) = create_course(&app, &t, "", "网店拍照").await;
    assert_eq!(s, 422);
    assert!(body.contains("value=\"wang-dian-pai-zhao\""), "{body}");
    // A typed slug wins.
    let (s, loc, _) = create_course(&app, &t, "shop-photos", "网店拍照").await;
    assert_eq!(s, 303);
    assert_eq!(loc, "/teach/courses/shop-photos");
}
engine_test!(a_new_course_takes_its_slug_from_the_title);

async fn the_trainer_starts_from_what_needs_doing_today(app: TestApp) {
    use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
    let p = app.people().await;
    app.import_course(COURSE).await;
    let t = app.token(p.trainer).await;
    // Nothing yet: friendly empty states, and no way into /admin.
    let (s, html) = app.page(&t, "/teach?lang=zh-CN").await;
    assert_eq!(s, 200);
    for empty in [
        "近期没有安排线下课",
        "没有等待确认的实操",
        "没有掉队的学员",
        "这周还没有学员学习",
    ] {
        assert!(html.contains(empty), "{empty}: {html}");
    }
    for tool in [
        "/teach/courses",
        "/teach/learners",
        "/teach/classes",
        "/teach/signoff",
    ] {
        assert!(html.contains(&format!("href=\"{tool}\"")), "{tool}");
    }
    assert!(!html.contains("href=\"/admin"), "{html}");

    app.enroll_learners(&t, COURSE, &[p.learner, p.learner_in])
        .await;
    let when = (chrono::Utc::now() + chrono::Duration::days(1))
        .format("%Y-%m-%dT09:00")
        .to_string();
    let roster = new_class(&app, &t, &when).await;
    // A class long past is not "next".
    new_class(&app, &t, "2020-01-01T09:00").await;
    // One learner studies today; the other enrolled a month ago and never began.
    let learner = app.token(p.learner).await;
    let lesson = app.first_lesson(COURSE).await;
    let (s, _) = app
        .page(&learner, &format!("/courses/{COURSE}/lessons/{lesson}"))
        .await;
    assert_eq!(s, 200);
    let e = fuzhi::entities::enrollment::Entity::find()
        .filter(fuzhi::entities::enrollment::Column::UserId.eq(p.learner_in))
        .one(app.conn())
        .await
        .unwrap()
        .unwrap();
    let mut am: fuzhi::entities::enrollment::ActiveModel = e.into();
    am.enrolled_at = Set(chrono::Utc::now() - chrono::Duration::days(30));
    am.update(app.conn()).await.unwrap();
    // One task signed off for one learner.
    let (s, _, _) = app
        .post_form(
            &t,
            "/teach/signoff",
            &[
                ("user_id", p.learner.to_string()),
                ("course", COURSE.to_string()),
                ("task", "wifi-connected".to_string()),
                ("level", "2".to_string()),
            ],
        )
        .await;
    assert_eq!(s, 303);

    let (_, html) = app.page(&t, "/teach?lang=zh-CN").await;
    let title = course_title(&app, COURSE).await;
    let next = between(&html, "<h2>接下来的线下课</h2>", "</section>").unwrap();
    assert!(next.contains(&format!("href=\"{roster}\"")), "{next}");
    assert!(next.contains("泼机镇") && next.contains(&title), "{next}");
    assert_eq!(next.matches("<li>").count(), 1, "{next}");
    // Enrolled minutes ago, with no lesson finished: no task is ready for
    // sign-off yet (`teach_bulk` counts the ready ones).
    let waiting = between(&html, "<h2>等待确认的实操</h2>", "</section>").unwrap();
    assert!(waiting.contains("没有等待确认的实操"), "{waiting}");
    let stalled = between(&html, "<h2>好久没学的学员</h2>", "</section>").unwrap();
    assert!(
        stalled.contains("learner 13900000002") && stalled.contains("报名后还没开始学"),
        "{stalled}"
    );
    assert!(!stalled.contains("learner 13900000001"), "{stalled}");
    let recent = between(&html, "<h2>这周在学的学员</h2>", "</section>").unwrap();
    assert!(
        recent.contains("learner 13900000001") && recent.contains("今天"),
        "{recent}"
    );
    assert!(!has_area_code(&visible(&html)), "{html}");
    assert!(!html.contains("href=\"/admin"), "{html}");

    // Officials have their own pages; learners none here.
    let official = app.token(p.official).await;
    assert_eq!(app.page(&official, "/teach").await.0, 403);
    assert_eq!(app.page(&learner, "/teach").await.0, 403);
}
engine_test!(the_trainer_starts_from_what_needs_doing_today);
