//! Security: learning. Finding 10 (post-test keys, retakes, finishing lessons
//! unread), 9 (a shared phone's outbox and saved pages), 18 (complementary
//! suppression of small counts).

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::json;

use crate::engine_test;
use crate::helpers::{COURSE, TestApp, between};

async fn course(app: &TestApp) -> std::sync::Arc<fuzhi::learning::content::CourseInfo> {
    app.state
        .content
        .published(app.conn(), COURSE)
        .await
        .unwrap()
        .unwrap()
}

async fn page(app: &TestApp, token: &str, path: &str) -> (u16, String) {
    let r = app
        .client
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
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
        .filter(Column::Kind.eq("post"))
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
    app.post_json(&format!("/api/v1/courses/{COURSE}/enroll"), &t, json!({}))
        .await;
    let info = course(app).await;
    let mut batch = Vec::new();
    for l in &info.lessons {
        let (s, body) = page(app, &t, &format!("/courses/{COURSE}/lessons/{}", l.slug)).await;
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
        app.post_json(&format!("/api/v1/courses/{COURSE}/enroll"), tok, json!({}))
            .await;
    }
    let info = course(&app).await;
    let first = &info.lessons[0].slug;
    // Her (other) classmate's proof for the same lesson.
    let (_, theirs) = page(&app, &other, &format!("/courses/{COURSE}/lessons/{first}")).await;
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
    let (s, body) = page(&app, &t, &format!("/courses/{COURSE}/lessons/{first}")).await;
    assert_eq!(s, 200);
    let (s, r) = app
        .post_json("/api/v1/events", &t, json!([finished(first, None)]))
        .await;
    assert_eq!((s, r["accepted"].as_u64()), (200, Some(1)), "{r}");
    let second = &info.lessons[1].slug;
    let (_, body2) = page(&app, &t, &format!("/courses/{COURSE}/lessons/{second}")).await;
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
    let (_, zh) = page(&app, &t, &format!("/courses/{COURSE}/quiz/post?lang=zh-CN")).await;
    assert!(zh.contains("结业测试最多考 3 次"), "{zh}");
    let (_, en) = page(&app, &t, &format!("/courses/{COURSE}/quiz/post?lang=en")).await;
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
    let (_, wait) = page(&app, &t, &format!("/courses/{COURSE}/quiz/post?lang=zh-CN")).await;
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
    let (_, en) = page(&app, &t, &format!("/courses/{COURSE}/quiz/post?lang=en")).await;
    assert!(en.contains("used every attempt"), "{en}");
    assert_eq!(app.count("quiz_attempt").await, 3);
}
engine_test!(post_test_attempts_are_counted);
