//! Enrollment, the event log, quizzes, sign-offs, classes, completion, certificates.

use serde_json::json;

use crate::engine_test;
use crate::helpers::{COURSE, TestApp};

fn ev(id: &str, kind: &str, lesson: Option<&str>) -> serde_json::Value {
    json!({"id": id, "kind": kind, "course": COURSE, "lesson": lesson, "occurred_at": "2026-11-20T08:00:00Z"})
}

/// A `lesson_finished` with the proof of the lesson page the server served
/// to `user` (a lesson counts as finished once she was given it).
fn fin(app: &TestApp, user: i64, id: &str, lesson: &str) -> serde_json::Value {
    let mut e = ev(id, "lesson_finished", Some(lesson));
    e["served"] = json!(app.served(user, COURSE, lesson));
    e
}

/// Finishes every lesson of the course for the learner of `token`.
async fn finish_lessons(
    app: &TestApp,
    user: i64,
    token: &str,
    info: &fuzhi::learning::content::CourseInfo,
) {
    let events: Vec<_> = info
        .lessons
        .iter()
        .map(|l| json!({"id": uuid::Uuid::new_v4().to_string(), "kind": "lesson_finished", "course": COURSE, "lesson": l.slug, "served": app.served(user, COURSE, &l.slug)}))
        .collect();
    let (s, r) = app.post_json("/api/v1/events", token, json!(events)).await;
    assert_eq!(
        (s, r["accepted"].as_u64()),
        (200, Some(info.lessons.len() as u64)),
        "{r}"
    );
}

async fn state_counts(app: &TestApp) -> Vec<i64> {
    let mut v = Vec::new();
    for t in [
        "learning_event",
        "lesson_progress",
        "quiz_attempt",
        "skill_evidence",
        "enrollment",
        "certificate",
    ] {
        v.push(app.count(t).await);
    }
    v
}

async fn the_same_batch_twice_changes_nothing_and_bad_items_are_rejected_alone(app: TestApp) {
    let p = app.people().await;
    app.import_course(COURSE).await;
    let t = app.token(p.learner).await;
    // Not enrolled yet: every item is rejected with a reason.
    let (s, r) = app
        .post_json(
            "/api/v1/events",
            &t,
            json!([ev(
                "6f1c2a1e-0000-4000-8000-000000000001",
                "lesson_opened",
                Some("wifi-and-data")
            )]),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(r["accepted"], 0);
    assert!(
        r["rejected"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("not enrolled")
    );
    let (s, _) = app.enroll(&t, COURSE).await;
    assert_eq!(s, 200);
    let key = app.key(COURSE, "01-wifi-and-data").await;
    let batch = json!([
        ev("6f1c2a1e-0000-4000-8000-000000000001", "lesson_opened", Some("wifi-and-data")),
        fin(&app, p.learner, "6f1c2a1e-0000-4000-8000-000000000002", "wifi-and-data"),
        fin(&app, p.learner, "6f1c2a1e-0000-4000-8000-000000000003", "open-a-web-page"),
        ev("6f1c2a1e-0000-4000-8000-000000000004", "lesson_finished", Some("no-such-lesson")),
        ev("not-a-uuid", "lesson_opened", Some("wifi-and-data")),
        ev("6f1c2a1e-0000-4000-8000-000000000006", "task_signed", None),
        {"id": "6f1c2a1e-0000-4000-8000-000000000007", "kind": "quiz_submitted", "course": COURSE,
         "payload": {"quiz": "01-wifi-and-data", "answers": key}},
    ]);
    let (s, r) = app.post_json("/api/v1/events", &t, batch.clone()).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["accepted"], 4, "{r}");
    assert_eq!(r["duplicates"], 0);
    let rejected: Vec<&str> = r["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        rejected,
        vec![
            "6f1c2a1e-0000-4000-8000-000000000004",
            "not-a-uuid",
            "6f1c2a1e-0000-4000-8000-000000000006"
        ]
    );
    assert!(
        r["rejected"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("no-such-lesson")
    );
    let after_first = state_counts(&app).await;
    assert_eq!(after_first[0], 4, "events stored");
    assert_eq!(after_first[1], 2, "two lessons have progress");
    assert_eq!(after_first[2], 1, "one graded attempt");
    let (_, r) = app.post_json("/api/v1/events", &t, batch).await;
    assert_eq!(
        (r["accepted"].as_u64(), r["duplicates"].as_u64()),
        (Some(0), Some(4)),
        "{r}"
    );
    assert_eq!(
        state_counts(&app).await,
        after_first,
        "a replay changes no table"
    );
    let (_, prog) = app.get_json("/api/v1/me/progress", &t).await;
    assert_eq!(prog["items"][0]["lessons_finished"], 2);
    assert_eq!(prog["items"][0]["lessons"]["wifi-and-data"], "finished");
}
engine_test!(the_same_batch_twice_changes_nothing_and_bad_items_are_rejected_alone);

/// Every string that would give an answer away: choice ids flagged as answers and explanations.
fn leaks(
    body: &str,
    key: &std::collections::BTreeMap<String, Vec<String>>,
    explains: &[String],
) -> Vec<String> {
    let mut out = Vec::new();
    if body.contains("\"answer\"") || body.contains("answer_json") || body.contains("explain") {
        out.push("answer or explanation field".into());
    }
    for e in explains {
        if e.len() > 12 && body.contains(e.as_str()) {
            out.push(format!("explanation {e:?}"));
        }
    }
    let _ = key;
    out
}

async fn answer_keys_never_reach_the_learner_before_submission(app: TestApp) {
    let p = app.people().await;
    app.import_course(COURSE).await;
    let t = app.token(p.learner).await;
    app.enroll(&t, COURSE).await;
    let info = app
        .state
        .content
        .published(app.conn(), COURSE)
        .await
        .unwrap()
        .unwrap();
    for q in &info.quizzes {
        let key = app.key(COURSE, &q.row.slug).await;
        let explains: Vec<String> = q
            .questions
            .iter()
            .flat_map(|x| {
                serde_json::from_str::<std::collections::BTreeMap<String, String>>(&x.explain_json)
                    .unwrap()
                    .into_values()
            })
            .collect();
        let api = app
            .client
            .get(app.url(&format!("/api/v1/courses/{COURSE}/quizzes/{}", q.row.slug)))
            .bearer_auth(&t)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(api.contains("\"questions\""));
        assert_eq!(
            leaks(&api, &key, &explains),
            Vec::<String>::new(),
            "API quiz {}",
            q.row.slug
        );
        for lang in ["zh-CN", "en"] {
            let page = app
                .client
                .get(app.url(&format!(
                    "/courses/{COURSE}/quiz/{}?lang={lang}",
                    q.row.slug
                )))
                .bearer_auth(&t)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            assert_eq!(
                leaks(&page, &key, &explains),
                Vec::<String>::new(),
                "quiz page {}",
                q.row.slug
            );
            // No choice is marked in the form (checked, data-correct, …).
            assert!(
                !page.contains("checked") && !page.contains("correct"),
                "quiz page {}",
                q.row.slug
            );
        }
    }
    for l in &info.lessons {
        let api = app
            .client
            .get(app.url(&format!("/api/v1/courses/{COURSE}/lessons/{}", l.slug)))
            .bearer_auth(&t)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            !api.contains("\"answer\"") && !api.contains("explain"),
            "lesson {}",
            l.slug
        );
    }
    let course = app
        .client
        .get(app.url(&format!("/api/v1/courses/{COURSE}")))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!course.contains("\"answer\"") && !course.contains("explain"));
    // After submission the explanation is shown (the post-test opens once
    // every lesson is finished).
    finish_lessons(&app, p.learner, &t, &info).await;
    let key = app.key(COURSE, "post").await;
    let (_, g) = app
        .post_json(
            &format!("/api/v1/courses/{COURSE}/quizzes/post/attempts"),
            &t,
            json!({"answers": key}),
        )
        .await;
    assert_eq!(g["percent"], 100);
    assert_eq!(g["passed"], true);
    // A post-test may be taken again: its result carries the score, never
    // the keys; a lesson check's result does.
    assert_eq!(g["questions"], json!([]), "{g}");
    let check = info.lesson_checks().next().unwrap().row.slug.clone();
    let (_, g) = app
        .post_json(
            &format!("/api/v1/courses/{COURSE}/quizzes/{check}/attempts"),
            &t,
            json!({"answers": app.key(COURSE, &check).await}),
        )
        .await;
    assert!(
        g["questions"][0]["answer"].is_array(),
        "the key comes with a lesson check's result"
    );
}
engine_test!(answer_keys_never_reach_the_learner_before_submission);

/// A lesson check may be retaken until it is passed, but only the first
/// attempt is evidence of a skill: a level reached by retakes would count
/// her as mastering what her first try did not show.
async fn a_lesson_check_retake_raises_no_level(app: TestApp) {
    let p = app.people().await;
    app.import_course(COURSE).await;
    let t = app.token(p.learner).await;
    app.enroll(&t, COURSE).await;
    let info = app
        .state
        .content
        .published(app.conn(), COURSE)
        .await
        .unwrap()
        .unwrap();
    let check = info.lesson_checks().next().unwrap().row.slug.clone();
    let url = format!("/api/v1/courses/{COURSE}/quizzes/{check}/attempts");
    let (s, g) = app.post_json(&url, &t, json!({"answers": {}})).await;
    assert_eq!((s, g["passed"].as_bool()), (200, Some(false)), "{g}");
    let (s, g) = app
        .post_json(&url, &t, json!({"answers": app.key(COURSE, &check).await}))
        .await;
    assert_eq!((s, g["passed"].as_bool()), (200, Some(true)), "{g}");
    let evidence = fuzhi::reports::skills::evidence_of(app.conn(), p.learner)
        .await
        .unwrap();
    let skills = fuzhi::reports::skills::per_competence(&evidence);
    assert!(!skills.is_empty(), "the first attempt is evidence");
    for s in skills.values() {
        assert_eq!(s.level, 0, "a retake raised {}: {s:?}", s.competence);
    }
}
engine_test!(a_lesson_check_retake_raises_no_level);

async fn parallel_submissions_count_once(app: TestApp) {
    let p = app.people().await;
    app.import_course(COURSE).await;
    let t = app.token(p.learner).await;
    app.enroll(&t, COURSE).await;
    let key = app.key(COURSE, "pre").await;
    let attempt = "0b9f1c10-1111-4111-8111-000000000001";
    let mut handles = Vec::new();
    for _ in 0..8 {
        let (c, url, t) = (
            app.client.clone(),
            app.url(&format!("/api/v1/courses/{COURSE}/quizzes/pre/attempts")),
            t.clone(),
        );
        let body = json!({"answers": key, "attempt_id": attempt});
        handles.push(tokio::spawn(async move {
            c.post(url)
                .bearer_auth(t)
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    for h in handles {
        assert_eq!(h.await.unwrap(), 200);
    }
    assert_eq!(app.count("quiz_attempt").await, 1);
    let batch = json!([
        ev(
            "0b9f1c10-2222-4222-8222-000000000001",
            "lesson_opened",
            Some("wifi-and-data")
        ),
        fin(
            &app,
            p.learner,
            "0b9f1c10-2222-4222-8222-000000000002",
            "wifi-and-data"
        ),
        ev(
            "0b9f1c10-2222-4222-8222-000000000003",
            "lesson_opened",
            Some("open-a-web-page")
        ),
    ]);
    let mut handles = Vec::new();
    for _ in 0..8 {
        let (c, url, t, b) = (
            app.client.clone(),
            app.url("/api/v1/events"),
            t.clone(),
            batch.clone(),
        );
        handles.push(tokio::spawn(async move {
            let r: serde_json::Value = c
                .post(url)
                .bearer_auth(t)
                .json(&b)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            r["accepted"].as_u64().unwrap()
        }));
    }
    let mut accepted = 0;
    for h in handles {
        accepted += h.await.unwrap();
    }
    assert_eq!(accepted, 3, "each event accepted exactly once");
    assert_eq!(app.count("learning_event").await, 4);
    assert_eq!(app.count("lesson_progress").await, 2);
}
engine_test!(parallel_submissions_count_once);

async fn completing_a_course_issues_a_verifiable_certificate(app: TestApp) {
    let p = app.people().await;
    app.import_course(COURSE).await;
    // The learner has an email: the certificate mail is queued with the certificate.
    let admin = app.token(p.admin).await;
    app.client
        .patch(app.url(&format!("/api/v1/users/{}", p.learner)))
        .bearer_auth(&admin)
        .json(&json!({"email": "xiu@example.org"}))
        .send()
        .await
        .unwrap();
    let t = app.token(p.learner).await;
    let trainer = app.token(p.trainer).await;
    // The trainer enrolls the learner as part of a cohort.
    let (s, r) = app
        .post_json(
            &format!("/api/v1/courses/{COURSE}/enroll"),
            &trainer,
            json!({"user_ids": [p.learner], "cohort": "泼机镇 2026 冬"}),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    let info = app
        .state
        .content
        .published(app.conn(), COURSE)
        .await
        .unwrap()
        .unwrap();
    let mut events = Vec::new();
    for (i, l) in info.lessons.iter().enumerate() {
        events.push(json!({"id": uuid::Uuid::new_v4().to_string(), "kind": "lesson_finished", "course": COURSE, "lesson": l.slug, "served": app.served(p.learner, COURSE, &l.slug)}));
        let _ = i;
    }
    let (_, r) = app.post_json("/api/v1/events", &t, json!(events)).await;
    assert_eq!(r["accepted"].as_u64().unwrap() as usize, info.lessons.len());
    for q in info.lesson_checks() {
        let key = app.key(COURSE, &q.row.slug).await;
        let (s, g) = app
            .post_json(
                &format!("/api/v1/courses/{COURSE}/quizzes/{}/attempts", q.row.slug),
                &t,
                json!({"answers": key}),
            )
            .await;
        assert_eq!((s, g["passed"].as_bool()), (200, Some(true)), "{g}");
    }
    // A failed post-test does not complete the course.
    let (_, g) = app
        .post_json(
            &format!("/api/v1/courses/{COURSE}/quizzes/post/attempts"),
            &t,
            json!({"answers": {}}),
        )
        .await;
    assert_eq!(g["passed"], false);
    let required: Vec<String> = info
        .tasks
        .iter()
        .filter(|t| t.required)
        .map(|t| t.slug.clone())
        .collect();
    assert!(!required.is_empty());
    // A retake waits an hour after the last attempt.
    {
        use fuzhi::entities::quiz_attempt::{Column, Entity};
        use sea_orm::{EntityTrait, sea_query::Expr};
        Entity::update_many()
            .col_expr(
                Column::CreatedAt,
                Expr::value(chrono::Utc::now() - chrono::Duration::hours(2)),
            )
            .exec(app.conn())
            .await
            .unwrap();
    }
    let key = app.key(COURSE, "post").await;
    app.post_json(
        &format!("/api/v1/courses/{COURSE}/quizzes/post/attempts"),
        &t,
        json!({"answers": key}),
    )
    .await;
    assert_eq!(app.count("certificate").await, 0, "tasks are still missing");
    // Level 0 does not count; level 1 does.
    for (i, task) in required.iter().enumerate() {
        let (s, r) = app.post_json("/api/v1/tasks/signoff", &trainer, json!({"user_id": p.learner, "course": COURSE, "task": task, "level": 0, "note": "还要练习"})).await;
        assert_eq!(s, 201, "{r}");
        assert_eq!(app.count("certificate").await, 0);
        let (s, _) = app.post_json("/api/v1/tasks/signoff", &trainer, json!({"user_id": p.learner, "course": COURSE, "task": task, "level": 1 + (i as i32 % 2)})).await;
        assert_eq!(s, 201);
    }
    assert_eq!(app.count("certificate").await, 1);
    let (_, prog) = app.get_json("/api/v1/me/progress", &t).await;
    let item = &prog["items"][0];
    assert_eq!(item["state"], "completed");
    assert_eq!(item["post_score"], 100);
    let code = item["certificate"].as_str().unwrap().to_string();
    assert_eq!(code.len(), 11);
    // Public verification: display name, course, date, valid — nothing else.
    let v: serde_json::Value = app
        .client
        .get(app.url(&format!("/api/v1/certificates/{}", code.to_lowercase())))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["holder"], "learner 13900000001");
    assert_eq!(v["valid"], true);
    assert!(v.get("login").is_none() && v.get("user_id").is_none());
    let page = app
        .get(&format!("/certificates/{code}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("<svg") && page.contains(&code),
        "printable page with a QR code"
    );
    let mails = app.count("mail_outbox").await;
    assert_eq!(mails, 1, "certificate mail queued");
    // The trainer of another township cannot revoke it; this one can, with a reason.
    let other = app.user("trainer2", "trainer", Some("530627103000")).await;
    let (s, _) = app
        .post_json(
            &format!("/api/v1/certificates/{code}/revoke"),
            &app.token(other).await,
            json!({"reason": "x"}),
        )
        .await;
    assert_eq!(s, 404);
    let (s, _) = app
        .post_json(
            &format!("/api/v1/certificates/{code}/revoke"),
            &trainer,
            json!({"reason": ""}),
        )
        .await;
    assert_eq!(s, 422);
    let res = app
        .client
        .post(app.url(&format!("/api/v1/certificates/{code}/revoke")))
        .bearer_auth(&trainer)
        .json(&json!({"reason": "冒名顶替"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let v: serde_json::Value = app
        .client
        .get(app.url(&format!("/api/v1/certificates/{code}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["valid"], false);
    // Skill evidence from quizzes and tasks.
    assert!(app.count("skill_evidence").await >= 4);
}
engine_test!(completing_a_course_issues_a_verifiable_certificate);

async fn classes_record_attendance_as_events(app: TestApp) {
    let p = app.people().await;
    app.import_course(COURSE).await;
    let trainer = app.token(p.trainer).await;
    let (s, session) = app.post_json("/api/v1/sessions", &trainer, json!({"course": COURSE, "place": "新街村活动室", "held_at": "2026-12-01T09:00:00+08:00", "expected": [p.learner, p.learner_in]})).await;
    assert_eq!(s, 201, "{session}");
    let id = session["id"].as_i64().unwrap();
    assert_eq!(app.count("attendance").await, 2);
    let (s, _) = app.post_json(&format!("/api/v1/sessions/{id}/attendance"), &trainer, json!([{"user_id": p.learner, "attended": true}, {"user_id": p.learner_in, "attended": false, "excused": true}])).await;
    assert_eq!(s, 200);
    // Ticking again adds no second event.
    app.post_json(
        &format!("/api/v1/sessions/{id}/attendance"),
        &trainer,
        json!([{"user_id": p.learner, "attended": true}]),
    )
    .await;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let evs = fuzhi::entities::learning_event::Entity::find()
        .filter(fuzhi::entities::learning_event::Column::Kind.eq("class_attended"))
        .all(app.conn())
        .await
        .unwrap();
    assert_eq!(evs.len(), 1);
    assert_eq!(evs[0].user_id, p.learner);
    // A learner of another township cannot be put on the roster.
    let (s, _) = app
        .post_json(
            &format!("/api/v1/sessions/{id}/attendance"),
            &trainer,
            json!([{"user_id": p.learner_out, "attended": true}]),
        )
        .await;
    assert_eq!(s, 404);
    let (s, r) = app
        .post_json(
            "/api/v1/sessions",
            &trainer,
            json!({"course": COURSE, "place": "x", "held_at": "tomorrow"}),
        )
        .await;
    assert_eq!(s, 422);
    assert!(r["error"]["fields"]["held_at"].is_string());
}
engine_test!(classes_record_attendance_as_events);

async fn trainer_pages_enroll_a_cohort_sign_off_and_take_the_roll(app: TestApp) {
    let p = app.people().await;
    app.import_course(COURSE).await;
    let t = app.token(p.trainer).await;
    let post = |path: String, form: Vec<(&'static str, String)>| {
        let (c, url, t) = (app.client.clone(), app.url(&path), t.clone());
        async move { c.post(url).bearer_auth(t).form(&form).send().await.unwrap() }
    };
    let res = post(
        "/teach/learners/enroll".into(),
        vec![
            ("course", COURSE.into()),
            ("cohort", "冬季班".into()),
            ("user", p.learner.to_string()),
            ("user", p.learner_in.to_string()),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    assert_eq!(app.count("enrollment").await, 2);
    let page = app
        .client
        .get(app.url(&format!("/teach/signoff?user={}&lang=en", p.learner)))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("wifi-connected"));
    let res = post(
        "/teach/signoff".into(),
        vec![
            ("user_id", p.learner.to_string()),
            ("course", COURSE.into()),
            ("task", "wifi-connected".into()),
            ("level", "2".into()),
            ("note", "很熟练".into()),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    let page = app
        .client
        .get(app.url(&format!("/teach/signoff?user={}&lang=en", p.learner)))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("很熟练"), "the sign-off is listed");
    let learner = app.token(p.learner).await;
    let course = app
        .client
        .get(app.url(&format!("/courses/{COURSE}?lang=en")))
        .bearer_auth(&learner)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        course.contains("Does it on their own"),
        "the learner sees the sign-off"
    );
    let res = post(
        "/teach/classes".into(),
        vec![
            ("course", COURSE.into()),
            ("place", "新街村活动室".into()),
            ("held_at", "2026-12-03T14:30".into()),
            ("area_code", "530627102000".into()),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    let roster_url = res.headers()["location"].to_str().unwrap().to_string();
    let roster = app
        .client
        .get(app.url(&roster_url))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        roster.contains("learner 13900000001") && roster.contains("learner 13900000002"),
        "enrolled learners are on the roster"
    );
    let res = post(
        roster_url.clone(),
        vec![
            ("listed", p.learner.to_string()),
            ("listed", p.learner_in.to_string()),
            ("present", p.learner.to_string()),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    // Only the learner given a choice is recorded; the other is left unmarked.
    assert_eq!(app.count("attendance").await, 1);
    let roster = app
        .client
        .get(app.url(&roster_url))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        roster.matches("value=\"present\" checked").count(),
        1,
        "one learner ticked present"
    );
    // A bad time names the field.
    let res = post(
        "/teach/classes".into(),
        vec![
            ("course", COURSE.into()),
            ("place", "x".into()),
            ("held_at", "soon".into()),
        ],
    )
    .await;
    assert_eq!(res.status(), 422);
}
engine_test!(trainer_pages_enroll_a_cohort_sign_off_and_take_the_roll);

async fn the_lesson_page_and_the_api_show_the_same_lesson(app: TestApp) {
    let p = app.people().await;
    app.import_course(COURSE).await;
    let t = app.token(p.learner).await;
    app.enroll(&t, COURSE).await;
    let info = app
        .state
        .content
        .published(app.conn(), COURSE)
        .await
        .unwrap()
        .unwrap();
    let (first, second) = (&info.lessons[0].slug, &info.lessons[1].slug);
    let (s, l) = app
        .get_json(
            &format!("/api/v1/courses/{COURSE}/lessons/{second}?lang=en"),
            &t,
        )
        .await;
    assert_eq!(s, 200, "{l}");
    assert_eq!(l["course"], COURSE);
    assert_eq!(l["slug"], second.as_str());
    assert_eq!(l["prev"], first.as_str());
    assert_eq!(l["number"], 2);
    assert_eq!(l["of"], info.lessons.len());
    assert_eq!(l["fallback"], l["language"] != "en");
    let check = info.check_of(second).map(|q| q.row.slug.clone());
    assert_eq!(l["check"], json!(check));
    let page = app
        .client
        .get(app.url(&format!("/courses/{COURSE}/lessons/{second}?lang=en")))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(&format!("/courses/{COURSE}/lessons/{first}")));
    if let Some(next) = l["next"].as_str() {
        assert!(page.contains(&format!("/courses/{COURSE}/lessons/{next}")));
    }
    assert!(page.contains(l["course_title"].as_str().unwrap()));
    // Opening the page is recorded; the API read is not.
    let (_, prog) = app.get_json("/api/v1/me/progress", &t).await;
    assert_eq!(prog["items"][0]["lessons"][second.as_str()], "opened");
    // A batch beyond the limit is refused whole.
    let many: Vec<_> = (0..501)
        .map(|_| {
            ev(
                &uuid::Uuid::new_v4().to_string(),
                "lesson_opened",
                Some(first),
            )
        })
        .collect();
    let (s, _) = app.post_json("/api/v1/events", &t, json!(many)).await;
    assert_eq!(s, 413);
}
engine_test!(the_lesson_page_and_the_api_show_the_same_lesson);

/// A lesson page waits for the commit of its own view only so long
/// (`page_view_wait_ms`): with the database's write lock held elsewhere, the
/// page is answered anyway, and the view is committed once the lock is free
/// (an acknowledged event posted after it is durable, and the writer keeps
/// order).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lesson_page_does_not_wait_for_a_blocked_commit() {
    use crate::helpers::Engine;
    use sea_orm::{ConnectionTrait, Database, TransactionTrait};
    let Some(app) = TestApp::spawn_with(Engine::Sqlite, |s| s.page_view_wait_ms = 20).await else {
        return;
    };
    let p = app.people().await;
    app.import_course(COURSE).await;
    let t = app.token(p.learner).await;
    let (s, _) = app.enroll(&t, COURSE).await;
    assert_eq!(s, 200);
    let lesson = app.first_lesson(COURSE).await;
    // Another connection takes SQLite's write lock and keeps it.
    let other = Database::connect(&app.db.url).await.unwrap();
    let hold = other.begin().await.unwrap();
    hold.execute_unprepared("DELETE FROM session_change WHERE id < 0")
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let res = app
        .client
        .get(app.url(&format!("/courses/{COURSE}/lessons/{lesson}")))
        .bearer_auth(&t)
        .timeout(std::time::Duration::from_secs(5))
        .send()
        .await
        .expect("the page is answered while the commit waits for the lock");
    assert_eq!(res.status(), 200);
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    hold.rollback().await.unwrap();
    let other_lesson = uuid::Uuid::new_v4().to_string();
    let (s, r) = app
        .post_json(
            "/api/v1/events",
            &t,
            json!([{"id": other_lesson, "kind": "answer_given", "course": COURSE}]),
        )
        .await;
    assert_eq!((s, r["accepted"].clone()), (200, json!(1)), "{r}");
    let (_, prog) = app.get_json("/api/v1/me/progress", &t).await;
    assert_eq!(prog["items"][0]["lessons"][lesson.as_str()], "opened");
    app.finish().await;
}

/// A learner who withdrew reads a lesson as a visitor would (no error), and
/// her events are refused; enrolling again resumes both.
async fn a_withdrawn_learner_reads_without_recording(app: TestApp) {
    let p = app.people().await;
    app.import_course(COURSE).await;
    let t = app.token(p.learner).await;
    let lesson = app.first_lesson(COURSE).await;
    let ev = || json!([{"id": uuid::Uuid::new_v4().to_string(), "kind": "lesson_opened", "course": COURSE, "lesson": lesson}]);
    let (_, r) = app.post_json("/api/v1/events", &t, ev()).await;
    assert_eq!(r["accepted"], 0, "not enrolled yet: {r}");
    app.enroll(&t, COURSE).await;
    let (_, r) = app.post_json("/api/v1/events", &t, ev()).await;
    assert_eq!(r["accepted"], 1, "enrolled: {r}");
    use sea_orm::ConnectionTrait;
    app.conn()
        .execute_unprepared(&format!(
            "UPDATE enrollment SET state = '{}' WHERE user_id = {}",
            sea_orm::ActiveEnum::to_value(&fuzhi::entities::enrollment::EnrollmentState::Withdrawn),
            p.learner
        ))
        .await
        .unwrap();
    fuzhi::accounts::sessions::note_user(app.conn(), p.learner)
        .await
        .unwrap();
    app.state.sessions.refresh(app.conn()).await.unwrap();
    let res = app
        .client
        .get(app.url(&format!("/courses/{COURSE}/lessons/{lesson}")))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let (_, r) = app.post_json("/api/v1/events", &t, ev()).await;
    assert_eq!(r["accepted"], 0, "withdrawn: {r}");
    app.enroll(&t, COURSE).await;
    let (_, r) = app.post_json("/api/v1/events", &t, ev()).await;
    assert_eq!(r["accepted"], 1, "enrolled again: {r}");
}
engine_test!(a_withdrawn_learner_reads_without_recording);

/// The ids of each question's choices, in the order a quiz view shows them.
fn shown_order(view: &serde_json::Value) -> Vec<(String, Vec<String>)> {
    view["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| {
            let ids = q["choices"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].as_str().unwrap().to_string())
                .collect();
            (q["id"].as_str().unwrap().to_string(), ids)
        })
        .collect()
}

/// Choices come in an order made for the learner and the attempt: the same
/// attempt always shows the same order (so a review shows what she saw), other
/// attempts and other learners get other orders, the attempt stores its seed,
/// and grading still goes by choice id.
async fn choices_are_shuffled_per_learner_and_attempt(app: TestApp) {
    use fuzhi::entities::quiz_attempt;
    use fuzhi::learning::shuffle;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

    let p = app.people().await;
    app.import_course(COURSE).await;
    let t = app.token(p.learner).await;
    let other = app.token(p.learner_in).await;
    for tok in [&t, &other] {
        app.enroll(tok, COURSE).await;
    }
    let url = |a: &str| format!("/api/v1/courses/{COURSE}/quizzes/pre?attempt_id={a}");
    let attempt = "5eed0000-0000-4000-8000-000000000001";
    let (s, first) = app.get_json(&url(attempt), &t).await;
    assert_eq!(s, 200);
    assert_eq!(first["attempt_id"], attempt);
    let (_, again) = app.get_json(&url(attempt), &t).await;
    assert_eq!(
        shown_order(&first),
        shown_order(&again),
        "same attempt, same order"
    );

    // The file's order, as an attempt without a seed would show it.
    let info = app
        .state
        .content
        .published(app.conn(), COURSE)
        .await
        .unwrap()
        .unwrap();
    let file_order: Vec<(String, Vec<String>)> = info
        .quiz("pre")
        .unwrap()
        .questions
        .iter()
        .map(|q| {
            let ids = serde_json::from_str::<Vec<serde_json::Value>>(&q.choices_json)
                .unwrap()
                .iter()
                .map(|c| c["id"].as_str().unwrap().to_string())
                .collect();
            (q.qid.clone(), ids)
        })
        .collect();
    // Each shown order holds the same ids as the file, for every question.
    for ((qa, shown), (qb, file)) in shown_order(&first).iter().zip(&file_order) {
        assert_eq!(qa, qb);
        let (mut a, mut b) = (shown.clone(), file.clone());
        a.sort();
        b.sort();
        assert_eq!(a, b, "question {qa}");
    }
    // Other attempts and another learner see other orders.
    let mut orders = std::collections::HashSet::new();
    for n in 0..6 {
        let a = format!("5eed0000-0000-4000-8000-00000000001{n}");
        orders.insert(shown_order(&app.get_json(&url(&a), &t).await.1));
    }
    orders.insert(shown_order(&app.get_json(&url(attempt), &other).await.1));
    assert!(orders.len() >= 6, "orders vary by attempt and learner");
    assert!(
        orders.iter().any(|o| *o != file_order),
        "attempts are not all in the file's order"
    );
    // A new attempt is made when none is named.
    let (_, fresh) = app
        .get_json(&format!("/api/v1/courses/{COURSE}/quizzes/pre"), &t)
        .await;
    assert!(uuid::Uuid::parse_str(fresh["attempt_id"].as_str().unwrap()).is_ok());
    let (s, bad) = app.get_json(&url("not-a-uuid"), &t).await;
    assert_eq!(s, 422, "{bad}");
    assert!(bad.to_string().contains("attempt_id"), "{bad}");

    // Submitting the right ids passes whatever the order, and the attempt
    // keeps the seed that made the order she saw.
    let key = app.key(COURSE, "pre").await;
    let (s, g) = app
        .post_json(
            &format!("/api/v1/courses/{COURSE}/quizzes/pre/attempts"),
            &t,
            json!({"answers": key, "attempt_id": attempt}),
        )
        .await;
    assert_eq!(s, 200, "{g}");
    assert_eq!(g["percent"], 100);
    let want = shuffle::seed_of(p.learner, uuid::Uuid::parse_str(attempt).unwrap());
    assert_eq!(g["seed"], want);
    let row = quiz_attempt::Entity::find()
        .filter(quiz_attempt::Column::UserId.eq(p.learner))
        .one(app.conn())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.choice_seed, Some(want));
    // The stored seed reproduces the order the page showed.
    for (qid, shown) in shown_order(&first) {
        let file = &file_order.iter().find(|(q, _)| *q == qid).unwrap().1;
        let kind = info
            .quiz("pre")
            .unwrap()
            .questions
            .iter()
            .find(|q| q.qid == qid)
            .unwrap()
            .kind;
        assert_eq!(
            shuffle::arrange(file.clone(), row.choice_seed, &qid, kind),
            shown,
            "question {qid}"
        );
    }
}
engine_test!(choices_are_shuffled_per_learner_and_attempt);

/// A quiz form sent as the page sends it (questions left blank confirmed).
async fn send_quiz(
    app: &TestApp,
    token: &str,
    quiz: &str,
    answers: &std::collections::BTreeMap<String, Vec<String>>,
) -> (u16, String) {
    let mut form: Vec<(String, String)> = vec![
        ("attempt_id".into(), uuid::Uuid::new_v4().to_string()),
        ("blank_ok".into(), "1".into()),
    ];
    for (q, vs) in answers {
        for v in vs {
            form.push((format!("q.{q}"), v.clone()));
        }
    }
    let r = app
        .client
        .post(app.url(&format!("/courses/{COURSE}/quiz/{quiz}?lang=zh-CN")))
        .bearer_auth(token)
        .form(&form)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// The pre-test is where she starts: its result shows the score, what she
/// already knows and which lessons to focus on, never the answers or the
/// explanations (the post-test asks the same questions); it is taken once,
/// and a second attempt, by form, API or event, is refused and leaves the
/// before-score the gain is measured from as it was.
async fn the_pre_test_is_a_starting_point_taken_once(app: TestApp) {
    use fuzhi::reports::skills::{evidence_of, per_competence};
    let p = app.people().await;
    app.import_course(COURSE).await;
    let t = app.token(p.learner).await;
    app.enroll(&t, COURSE).await;
    let info = app
        .state
        .content
        .published(app.conn(), COURSE)
        .await
        .unwrap()
        .unwrap();
    let pre = info.quiz("pre").unwrap();
    let explains: Vec<String> = pre
        .questions
        .iter()
        .flat_map(|x| {
            serde_json::from_str::<std::collections::BTreeMap<String, String>>(&x.explain_json)
                .unwrap()
                .into_values()
        })
        .collect();
    let form = format!("<form method=\"post\" action=\"/courses/{COURSE}/quiz/pre\"");
    let (_, before) = app
        .page(&t, &format!("/courses/{COURSE}/quiz/pre?lang=zh-CN"))
        .await;
    assert!(before.contains(&form), "{before}");
    // Half right.
    let key = app.key(COURSE, "pre").await;
    let half: std::collections::BTreeMap<String, Vec<String>> = key
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 2 == 0)
        .map(|(_, (k, v))| (k.clone(), v.clone()))
        .collect();
    let (s, result) = send_quiz(&app, &t, "pre", &half).await;
    assert_eq!(s, 200, "{result}");
    assert!(result.contains("这是你现在的水平"), "{result}");
    assert!(result.contains("重点学这几课") || result.contains("你已经会了不少"));
    for gone in ["再试一次", "还没通过", "正确答案", "✘", "再做一次"] {
        assert!(!result.contains(gone), "{gone} in {result}");
    }
    for e in &explains {
        assert!(!result.contains(e.as_str()), "explanation {e:?} shown");
    }
    let lesson_link = format!("/courses/{COURSE}/lessons/");
    assert!(result.contains(&lesson_link), "lessons to focus on, linked");
    assert_eq!(app.count("quiz_attempt").await, 1);
    let evidence = app.count("skill_evidence").await;
    let (_, prog) = app.get_json("/api/v1/me/progress", &t).await;
    let first_score = prog["items"][0]["pre_score"].clone();
    assert!(first_score.is_number(), "{prog}");
    let (_, me) = app.page(&t, "/me?lang=zh-CN").await;
    assert!(
        me.contains(&format!("课前：{first_score}% · 结业：—")),
        "{me}"
    );
    let first_pre: std::collections::BTreeMap<String, Option<i32>> =
        per_competence(&evidence_of(app.conn(), p.learner).await.unwrap())
            .into_iter()
            .map(|(k, v)| (k, v.pre))
            .collect();

    // Opened again: the recorded result, no new attempt.
    let (s, again) = app
        .page(&t, &format!("/courses/{COURSE}/quiz/pre?lang=en"))
        .await;
    assert_eq!(s, 200);
    assert!(again.contains("This is where you start"), "{again}");
    assert!(!again.contains(&form) && !again.contains("attempt_id"));
    // Sent again (all right this time): refused, nothing changes.
    let (s, refused) = send_quiz(&app, &t, "pre", &key).await;
    assert_eq!(s, 409, "{refused}");
    assert!(refused.contains("课前小测只做一次"), "{refused}");
    assert!(refused.contains("这是你现在的水平"));
    let (s, r) = app
        .post_json(
            &format!("/api/v1/courses/{COURSE}/quizzes/pre/attempts"),
            &t,
            json!({"answers": key}),
        )
        .await;
    assert_eq!(s, 409, "{r}");
    let (s, r) = app
        .post_json(
            "/api/v1/events",
            &t,
            json!([{"id": uuid::Uuid::new_v4().to_string(), "kind": "quiz_submitted", "course": COURSE,
                "payload": {"quiz": "pre", "answers": key}}]),
        )
        .await;
    assert_eq!((s, r["accepted"].as_u64()), (200, Some(0)), "{r}");
    assert!(
        r["rejected"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("pre-test")
    );
    assert_eq!(app.count("quiz_attempt").await, 1);
    assert_eq!(app.count("skill_evidence").await, evidence);
    let (_, prog) = app.get_json("/api/v1/me/progress", &t).await;
    assert_eq!(prog["items"][0]["pre_score"], first_score);
    let pre_now: std::collections::BTreeMap<String, Option<i32>> =
        per_competence(&evidence_of(app.conn(), p.learner).await.unwrap())
            .into_iter()
            .map(|(k, v)| (k, v.pre))
            .collect();
    assert_eq!(
        pre_now, first_pre,
        "the gain is measured from the first pre-test"
    );

    // Through the API the result has the score per competence and no key,
    // the first time and when the same attempt is sent again.
    let other = app.token(p.learner_in).await;
    app.enroll(&other, COURSE).await;
    let attempt = uuid::Uuid::new_v4().to_string();
    for _ in 0..2 {
        let res = app
            .client
            .post(app.url(&format!("/api/v1/courses/{COURSE}/quizzes/pre/attempts")))
            .bearer_auth(&other)
            .json(&json!({"answers": key, "attempt_id": attempt}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let body = res.text().await.unwrap();
        let g: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(g["percent"], 100);
        assert!(g["competences"].as_object().is_some_and(|c| !c.is_empty()));
        assert_eq!(g["questions"], json!([]), "{body}");
        assert!(
            !body.contains("\"answer\"") && !body.contains("explain"),
            "{body}"
        );
    }
}
engine_test!(the_pre_test_is_a_starting_point_taken_once);

/// The post-test is not a way round the lessons: before every lesson is
/// finished its page lists what is left, with links, and an attempt is
/// refused with a clear message and nothing saved.
async fn the_post_test_opens_once_the_lessons_are_done(app: TestApp) {
    let p = app.people().await;
    app.import_course(COURSE).await;
    let t = app.token(p.learner).await;
    app.enroll(&t, COURSE).await;
    let info = app
        .state
        .content
        .published(app.conn(), COURSE)
        .await
        .unwrap()
        .unwrap();
    let form = format!("<form method=\"post\" action=\"/courses/{COURSE}/quiz/post\"");
    let (s, closed) = app
        .page(&t, &format!("/courses/{COURSE}/quiz/post?lang=zh-CN"))
        .await;
    assert_eq!(s, 200);
    assert!(!closed.contains(&form), "{closed}");
    assert!(closed.contains("还差下面这些"), "{closed}");
    for l in &info.lessons {
        assert!(closed.contains(&format!("/courses/{COURSE}/lessons/{}\"", l.slug)));
    }
    let key = app.key(COURSE, "post").await;
    let (s, refused) = send_quiz(&app, &t, "post", &key).await;
    assert_eq!(s, 409, "{refused}");
    assert!(refused.contains("结业测试还没开放"), "{refused}");
    let (s, r) = app
        .post_json(
            &format!("/api/v1/courses/{COURSE}/quizzes/post/attempts"),
            &t,
            json!({"answers": key}),
        )
        .await;
    assert_eq!(s, 409, "{r}");
    assert!(r.to_string().contains("post-test opens"), "{r}");
    assert_eq!(app.count("quiz_attempt").await, 0);
    assert_eq!(app.count("learning_event").await, 0, "nothing saved");
    // One lesson left: the page names just that one.
    let (last, rest) = info.lessons.split_last().unwrap();
    let events: Vec<_> = rest
        .iter()
        .map(|l| json!({"id": uuid::Uuid::new_v4().to_string(), "kind": "lesson_finished", "course": COURSE, "lesson": l.slug, "served": app.served(p.learner, COURSE, &l.slug)}))
        .collect();
    app.post_json("/api/v1/events", &t, json!(events)).await;
    let (_, closed) = app
        .page(&t, &format!("/courses/{COURSE}/quiz/post?lang=en"))
        .await;
    assert!(closed.contains(&format!("/courses/{COURSE}/lessons/{}\"", last.slug)));
    assert!(!closed.contains(&format!("/courses/{COURSE}/lessons/{}\"", rest[0].slug)));
    // The last lesson finished and the post-test sent in one batch: it opens.
    let (s, r) = app
        .post_json(
            "/api/v1/events",
            &t,
            json!([
                {"id": uuid::Uuid::new_v4().to_string(), "kind": "lesson_finished", "course": COURSE, "lesson": last.slug, "served": app.served(p.learner, COURSE, &last.slug)},
                {"id": uuid::Uuid::new_v4().to_string(), "kind": "quiz_submitted", "course": COURSE,
                    "payload": {"quiz": "post", "answers": key}},
            ]),
        )
        .await;
    assert_eq!((s, r["accepted"].as_u64()), (200, Some(2)), "{r}");
    // Passed in that batch: the page now says so instead of a new form.
    let (_, open) = app
        .page(&t, &format!("/courses/{COURSE}/quiz/post?lang=zh-CN"))
        .await;
    assert!(open.contains("你已经通过了结业测试"), "{open}");
    assert!(!open.contains(&form), "{open}");
    assert_eq!(app.count("quiz_attempt").await, 1);
}
engine_test!(the_post_test_opens_once_the_lessons_are_done);

/// A quiz attempt refused answers by the kind of refusal, the same from the
/// API and from the quiz page: no such quiz 404, an attempt id that is not
/// one 422 naming the field, answers out of bounds 422 naming them, the
/// pre-test taken again 409; nothing refused is stored.
async fn refused_attempts_answer_by_their_kind(app: TestApp) {
    let p = app.people().await;
    app.import_course(COURSE).await;
    let t = app.token(p.learner).await;
    app.post_json(&format!("/api/v1/courses/{COURSE}/enroll"), &t, json!({}))
        .await;
    let url = |quiz: &str| format!("/api/v1/courses/{COURSE}/quizzes/{quiz}/attempts");
    let (s, r) = app
        .post_json(&url("no-such-quiz"), &t, json!({"answers": {}}))
        .await;
    assert_eq!(s, 404, "{r}");
    let (s, r) = app
        .post_json(
            &url("pre"),
            &t,
            json!({"answers": {}, "attempt_id": "not-a-uuid"}),
        )
        .await;
    assert_eq!(s, 422, "{r}");
    assert!(r.to_string().contains("attempt_id"), "{r}");
    let long = "x".repeat(300);
    let (s, r) = app
        .post_json(&url("pre"), &t, json!({"answers": {"q1": [long]}}))
        .await;
    assert_eq!(s, 422, "{r}");
    assert!(r.to_string().contains("payload.answers"), "{r}");
    assert_eq!(app.count("quiz_attempt").await, 0);
    let (s, r) = app.post_json(&url("pre"), &t, json!({"answers": {}})).await;
    assert_eq!(s, 200, "{r}");
    let (s, r) = app.post_json(&url("pre"), &t, json!({"answers": {}})).await;
    assert_eq!(s, 409, "{r}");
    assert!(r.to_string().contains("taken already"), "{r}");
    // The page: the same refusals, and its own words for the gate's.
    let mut form = vec![
        ("attempt_id".to_string(), uuid::Uuid::new_v4().to_string()),
        ("blank_ok".to_string(), "1".to_string()),
    ];
    let page = |form: Vec<(String, String)>, quiz: &str| {
        let req = app
            .client
            .post(app.url(&format!("/courses/{COURSE}/quiz/{quiz}?lang=zh-CN")))
            .bearer_auth(&t)
            .form(&form);
        async move {
            let r = req.send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let (s, body) = page(form.clone(), "pre").await;
    assert_eq!(s, 409);
    assert!(body.contains("课前小测只做一次"), "{body}");
    form.push(("q.q1".into(), "x".repeat(300)));
    let (s, _) = page(form, "01-wifi-and-data").await;
    assert_eq!(s, 422);
    assert_eq!(app.count("quiz_attempt").await, 1);
}
engine_test!(refused_attempts_answer_by_their_kind);
