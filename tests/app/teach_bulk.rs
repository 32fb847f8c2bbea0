//! A trainer's to-dos done in bulk: one task signed off for a whole class,
//! the roll call (nobody preselected, "everyone came", no withdrawn learner),
//! the tasks really waiting for sign-off, stalled learners with village and
//! phone, cohort enrolment by village with ticks kept, login slips, the new
//! learner's village picked by name; and the officials' full list of
//! follow-up visits due.

use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};

mod follow_ups;
mod forms;
mod phone;

use crate::engine_test;
use crate::helpers::{COURSE, People, TOWNSHIP_A, TestApp, VILLAGE_A, VILLAGE_A2, between};
use fuzhi::entities::{attendance, enrollment, learning_event, lesson_progress, task_signoff};

/// A class of `COURSE` for township A; its id.
pub(super) async fn new_class(app: &TestApp, trainer: &str) -> i64 {
    let (s, loc, body) = app
        .post_form(
            trainer,
            "/teach/classes",
            &[
                ("course", COURSE.to_string()),
                ("place", "新街村活动室".to_string()),
                ("held_at", "2026-12-03T14:30".to_string()),
                ("area_code", TOWNSHIP_A.to_string()),
            ],
        )
        .await;
    assert_eq!(s, 303, "{body}");
    loc.rsplit('/').next().unwrap().parse().unwrap()
}

/// Learners of village A besides the standard people, named 学员1…
pub(super) async fn more_learners(app: &TestApp, n: usize) -> Vec<i64> {
    let mut out = Vec::new();
    for i in 1..=n {
        let id = app
            .user(&format!("1381234{i:04}"), "learner", Some(VILLAGE_A))
            .await;
        out.push(id);
    }
    out
}

pub(super) async fn setup(app: &TestApp) -> (People, String) {
    let p = app.people().await;
    app.import_course(COURSE).await;
    let t = app.token(p.trainer).await;
    (p, t)
}

async fn a_class_signs_off_one_task_for_everyone_in_one_post(app: TestApp) {
    let (p, t) = setup(&app).await;
    let mut class = vec![p.learner, p.learner_in];
    class.extend(more_learners(&app, 3).await);
    app.enroll_learners(&t, COURSE, &class).await;
    let id = new_class(&app, &t).await;
    // Four came, one was excused.
    let mut roll: Vec<(String, String)> = class[..4]
        .iter()
        .map(|u| (format!("mark-{u}"), "present".to_string()))
        .collect();
    roll.push((format!("mark-{}", class[4]), "excused".into()));
    let roll: Vec<(&str, String)> = roll.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    let (s, _, _) = app
        .post_form(&t, &format!("/teach/classes/{id}"), &roll)
        .await;
    assert_eq!(s, 303);

    // The roll call leads to the page; those who came are ticked.
    let (_, roster) = app
        .page(&t, &format!("/teach/classes/{id}?lang=zh-CN"))
        .await;
    assert!(
        roster.contains(&format!("href=\"/teach/classes/{id}/signoff\"")),
        "{roster}"
    );
    let url = format!("/teach/classes/{id}/signoff?task=wifi-connected&lang=zh-CN");
    let (s, html) = app.page(&t, &url).await;
    assert_eq!(s, 200, "{html}");
    for u in &class[..4] {
        assert!(
            html.contains(&format!("name=\"user\" value=\"{u}\" checked")),
            "{u}: {html}"
        );
    }
    assert!(
        html.contains(&format!("name=\"user\" value=\"{}\" >", class[4])),
        "the excused learner is listed, not ticked: {html}"
    );
    assert!(html.contains("全部勾选"), "{html}");
    // "Tick all" ticks everyone.
    let all = between(&html, "<a class=\"btn secondary\" href=\"", "\">全部勾选")
        .expect("a tick-all link")
        .replace("&amp;", "&");
    let (_, every) = app.page(&t, &format!("{all}&lang=zh-CN")).await;
    for u in &class {
        assert!(
            every.contains(&format!("name=\"user\" value=\"{u}\" checked")),
            "{u}: {every}"
        );
    }

    // One learner not in the course: refused by name, nobody signed off.
    let stranger = app.user("13812349999", "learner", Some(VILLAGE_A2)).await;
    let mut form = vec![
        ("class", id.to_string()),
        ("course", COURSE.to_string()),
        ("task", "wifi-connected".to_string()),
        ("level", "2".to_string()),
    ];
    form.push(("user", class[0].to_string()));
    form.push(("user", stranger.to_string()));
    for (lang, said) in [
        ("zh-CN", "没有报名这门课，不能确认：learner 13812349999。"),
        (
            "en",
            "Not enrolled in this course, so they cannot be signed off: learner 13812349999.",
        ),
    ] {
        let (s, _, body) = app
            .post_form(&t, &format!("/teach/signoff/bulk?lang={lang}"), &form)
            .await;
        assert_eq!(s, 422, "{body}");
        let error = between(&body, "role=\"alert\">", "</p>").expect("an error");
        assert!(error.contains(said), "{error}");
    }
    assert_eq!(app.count("task_signoff").await, 0);
    // No level chosen: refused, said so.
    let mut no_level = form.clone();
    no_level.retain(|(k, v)| *k != "level" && v != &stranger.to_string());
    let (s, _, body) = app
        .post_form(&t, "/teach/signoff/bulk?lang=zh-CN", &no_level)
        .await;
    assert_eq!(s, 422);
    assert!(body.contains("请选择完成程度"), "{body}");
    assert_eq!(app.count("task_signoff").await, 0);

    // Everyone in one POST.
    let mut form = vec![
        ("class", id.to_string()),
        ("course", COURSE.to_string()),
        ("task", "wifi-connected".to_string()),
        ("level", "2".to_string()),
        ("note", "课上一起做的".to_string()),
    ];
    form.extend(class.iter().map(|u| ("user", u.to_string())));
    let (s, loc, body) = app.post_form(&t, "/teach/signoff/bulk", &form).await;
    assert_eq!(s, 303, "{body}");
    assert_eq!(
        loc,
        format!("/teach/classes/{id}/signoff?task=wifi-connected&done=5")
    );
    let rows = task_signoff::Entity::find().all(app.conn()).await.unwrap();
    assert_eq!(rows.len(), 5);
    assert!(rows.iter().all(|r| r.trainer_id == p.trainer
        && r.level == 2
        && r.task_slug == "wifi-connected"
        && r.note.as_deref() == Some("课上一起做的")));
    // Each is recorded as a single sign-off is: an event naming the trainer,
    // and skill evidence.
    let events = learning_event::Entity::find()
        .filter(
            learning_event::Column::Kind.eq(fuzhi::entities::learning_event::EventKind::TaskSigned),
        )
        .all(app.conn())
        .await
        .unwrap();
    assert_eq!(events.len(), 5);
    assert!(
        events
            .iter()
            .all(|e| e.payload.contains(&format!("\"trainer\":{}", p.trainer)))
    );
    assert_eq!(app.count("skill_evidence").await, 5);
    let (_, html) = app.page(&t, &format!("{loc}&lang=zh-CN")).await;
    assert!(
        html.contains("已为 5 位学员确认：连上教室的 Wi-Fi"),
        "{html}"
    );
    assert!(html.contains("已确认：自己能独立完成"), "{html}");
    let (_, html) = app.page(&t, &format!("{loc}&lang=en")).await;
    assert!(html.contains("Signed off for 5 learners"), "{html}");
}
engine_test!(a_class_signs_off_one_task_for_everyone_in_one_post);

async fn roll_call_starts_unmarked_has_everyone_came_and_no_withdrawn_learner(app: TestApp) {
    let (p, t) = setup(&app).await;
    let gone = more_learners(&app, 1).await[0];
    app.enroll_learners(&t, COURSE, &[p.learner, p.learner_in, gone])
        .await;
    let e = enrollment::Entity::find()
        .filter(enrollment::Column::UserId.eq(gone))
        .one(app.conn())
        .await
        .unwrap()
        .unwrap();
    fuzhi::learning::enroll::set_state(app.conn(), e, fuzhi::learning::enroll::Standing::Withdrawn)
        .await
        .unwrap();
    let id = new_class(&app, &t).await;
    let roster = format!("/teach/classes/{id}");
    let (_, html) = app.page(&t, &format!("{roster}?lang=zh-CN")).await;
    // Nobody preselected: no choice is checked.
    assert!(
        html.contains(&format!("name=\"mark-{}\"", p.learner)),
        "{html}"
    );
    assert!(!html.contains("checked"), "{html}");
    assert!(html.contains("没点名"), "{html}");
    // No withdrawn learner.
    assert!(!html.contains("learner 13812340001"), "{html}");
    assert!(!html.contains(&format!("value=\"{gone}\"")), "{html}");
    // "Everyone came" is there, in both languages.
    assert!(
        html.contains("name=\"all\" value=\"present\">全部到了"),
        "{html}"
    );
    let (_, en) = app.page(&t, &format!("{roster}?lang=en")).await;
    assert!(en.contains(">Everyone came<"), "{en}");

    // Saving with one learner unmarked records only the marked one, and says so.
    let (s, loc, _) = app
        .post_form(
            &t,
            &roster,
            &[
                ("listed", p.learner.to_string()),
                ("listed", p.learner_in.to_string()),
                (&format!("mark-{}", p.learner), "present".to_string()),
            ],
        )
        .await;
    assert_eq!(s, 303);
    let rows = attendance::Entity::find().all(app.conn()).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].user_id, rows[0].attended), (p.learner, true));
    let (_, html) = app.page(&t, &format!("{loc}&lang=zh-CN")).await;
    assert!(html.contains("还有 1 人没点名，没有记录"), "{html}");
    let (_, html) = app.page(&t, &format!("{loc}&lang=en")).await;
    assert!(html.contains("1 not marked, so not recorded"), "{html}");

    // "Everyone came": all listed present, the excused stay excused.
    let (s, _, _) = app
        .post_form(
            &t,
            &roster,
            &[
                ("listed", p.learner.to_string()),
                ("listed", p.learner_in.to_string()),
                (&format!("mark-{}", p.learner), "excused".to_string()),
                ("all", "present".to_string()),
            ],
        )
        .await;
    assert_eq!(s, 303);
    let mut rows: Vec<(i64, bool, bool)> = attendance::Entity::find()
        .all(app.conn())
        .await
        .unwrap()
        .into_iter()
        .map(|a| (a.user_id, a.attended, a.excused))
        .collect();
    rows.sort();
    assert_eq!(
        rows,
        vec![(p.learner, false, true), (p.learner_in, true, false)]
    );
}
engine_test!(roll_call_starts_unmarked_has_everyone_came_and_no_withdrawn_learner);

async fn waiting_counts_learners_who_finished_the_lessons_and_stalled_show_village_and_phone(
    app: TestApp,
) {
    let (p, t) = setup(&app).await;
    app.enroll_learners(&t, COURSE, &[p.learner, p.learner_in])
        .await;
    // Enrolled minutes ago: nothing waits.
    let (_, html) = app.page(&t, "/teach?lang=zh-CN").await;
    let waiting = between(&html, "<h2>等待确认的实操</h2>", "</section>").unwrap();
    assert!(waiting.contains("没有等待确认的实操"), "{waiting}");

    // One learner finishes the lessons on connecting (the Wi-Fi task's skill).
    let info = app
        .state
        .content
        .published(app.conn(), COURSE)
        .await
        .unwrap()
        .unwrap();
    let now = chrono::Utc::now();
    for l in info
        .lessons
        .iter()
        .filter(|l| l.competences.contains("it.connect"))
    {
        lesson_progress::ActiveModel {
            user_id: Set(p.learner),
            course_slug: Set(COURSE.into()),
            lesson_slug: Set(l.slug.clone()),
            state: Set(fuzhi::entities::lesson_progress::LessonState::Finished),
            first_opened_at: Set(now),
            finished_at: Set(Some(now)),
            seconds: Set(60),
            ..Default::default()
        }
        .insert(app.conn())
        .await
        .unwrap();
    }
    // The other enrolled a month ago and never began.
    let e = enrollment::Entity::find()
        .filter(enrollment::Column::UserId.eq(p.learner_in))
        .one(app.conn())
        .await
        .unwrap()
        .unwrap();
    let mut am: enrollment::ActiveModel = e.into();
    am.enrolled_at = Set(now - chrono::Duration::days(30));
    am.update(app.conn()).await.unwrap();

    let (_, html) = app.page(&t, "/teach?lang=zh-CN").await;
    let waiting = between(&html, "<h2>等待确认的实操</h2>", "</section>").unwrap();
    assert!(
        waiting.contains("：1 项实操待确认（1 位学员）"),
        "{waiting}"
    );
    assert!(
        waiting.contains(&format!("href=\"/teach/signoff/bulk?course={COURSE}\"")),
        "{waiting}"
    );
    let stalled = between(&html, "<h2>好久没学的学员</h2>", "</section>").unwrap();
    assert!(stalled.contains("learner 13900000002"), "{stalled}");
    assert!(stalled.contains("龙井村"), "her village: {stalled}");
    assert!(
        stalled.contains("href=\"tel:13900000002\""),
        "her phone: {stalled}"
    );
    let (_, en) = app.page(&t, "/teach?lang=en").await;
    assert!(en.contains("1 tasks to sign off (1 learners)"), "{en}");

    // The to-do's page lists the ready learner for the ready task.
    let (s, html) = app
        .page(
            &t,
            &format!("/teach/signoff/bulk?course={COURSE}&lang=zh-CN"),
        )
        .await;
    assert_eq!(s, 200, "{html}");
    assert!(html.contains("value=\"wifi-connected\" selected"), "{html}");
    assert!(
        html.contains(&format!("name=\"user\" value=\"{}\"", p.learner)),
        "{html}"
    );
    assert!(
        !html.contains(&format!("name=\"user\" value=\"{}\"", p.learner_in)),
        "{html}"
    );
    assert!(html.contains("课已学完，等待确认"), "{html}");
    // Signed off from there: nothing waits any more.
    let (s, loc, body) = app
        .post_form(
            &t,
            "/teach/signoff/bulk",
            &[
                ("course", COURSE.to_string()),
                ("task", "wifi-connected".to_string()),
                ("level", "1".to_string()),
                ("user", p.learner.to_string()),
            ],
        )
        .await;
    assert_eq!(s, 303, "{body}");
    assert!(loc.starts_with("/teach/signoff/bulk?course="), "{loc}");
    let (_, html) = app.page(&t, "/teach?lang=zh-CN").await;
    assert!(html.contains("没有等待确认的实操"), "{html}");
}
engine_test!(waiting_counts_learners_who_finished_the_lessons_and_stalled_show_village_and_phone);
