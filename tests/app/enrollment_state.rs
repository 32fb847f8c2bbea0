//! Pausing, withdrawing and resuming an enrollment: the learner herself on
//! her pages, a trainer on hers, an official by the API; each change asked
//! for first, audited, seen by the learner's session and counted by the
//! dashboard's "withdrawn" figure. Who may do it where is in the access
//! matrix.

use chrono::NaiveDate;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::json;

use crate::engine_test;
use crate::helpers::{COURSE, TestApp, VILLAGE_A};
use fuzhi::entities::{change_event, enrollment};
use fuzhi::households::store::{self, MemberInput, NewHousehold};
use fuzhi::reports::metric::{Cut, Metric};

async fn state_of(app: &TestApp, user: i64) -> fuzhi::entities::enrollment::EnrollmentState {
    enrollment::Entity::find()
        .filter(enrollment::Column::UserId.eq(user))
        .filter(enrollment::Column::CourseSlug.eq(COURSE))
        .one(app.conn())
        .await
        .unwrap()
        .unwrap()
        .state
}

/// The village's live "withdrawn" count (every cut `all` cell summed).
async fn withdrawn_in(app: &TestApp, village: &str) -> i64 {
    fuzhi::reports::rollup::village_cells(app.conn(), village)
        .await
        .unwrap()
        .iter()
        .filter(|c| c.metric == Metric::EnrollmentsWithdrawn && c.cut == Cut::All)
        .map(|c| c.value)
        .sum()
}

fn location(r: &reqwest::Response) -> String {
    r.headers()["location"].to_str().unwrap().to_string()
}

async fn pause_withdraw_and_resume(app: TestApp) {
    let p = app.people().await;
    app.import_course(COURSE).await;
    // The learner is a member of a registered household of village A.
    let admin = fuzhi::accounts::users::find(app.conn(), p.admin)
        .await
        .unwrap()
        .unwrap();
    let admin = fuzhi::accounts::users::actor_of(&admin);
    let id_number = fuzhi::households::NationalId::synthetic(
        "530627",
        NaiveDate::from_ymd_opt(1990, 3, 1).unwrap(),
        1,
    )
    .unwrap()
    .expose()
    .to_owned();
    let h = store::create(
        app.conn(),
        &admin,
        b"test-hmac-key-0123456789abcdef0123456789ab",
        &NewHousehold {
            registry_no: "ENROL-01".into(),
            area_code: VILLAGE_A.into(),
            status: Some("registered".into()),
            primary_cause: Some("07".into()),
            members: vec![MemberInput {
                name: "户主".into(),
                id_number,
                relation: "head".into(),
                ..Default::default()
            }],
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let head = store::get(app.conn(), &admin, h.id, false)
        .await
        .unwrap()
        .members[0]
        .id;
    fuzhi::households::link::link(app.conn(), &admin, head, "13900000001")
        .await
        .unwrap();

    let me = app.token(p.learner).await;
    let (status, _) = app.enroll(&me, COURSE).await;
    assert_eq!(status, 200);
    assert_eq!(withdrawn_in(&app, VILLAGE_A).await, 0);

    // Her course page leads to the choices; the choices say what each means.
    let (_, course) = app.page(&me, &format!("/courses/{COURSE}")).await;
    let choices = format!("/learners/{}/courses/{COURSE}", p.learner);
    assert!(course.contains(&format!("href=\"{choices}\"")), "{course}");
    let (status, page) = app.page(&me, &choices).await;
    assert_eq!(status, 200);
    assert!(page.contains("暂停：学过的课和成绩都保留"), "{page}");
    assert!(page.contains("确定退出这门课"), "{page}");
    assert!(page.contains("name=\"state\" value=\"paused\""), "{page}");
    assert!(
        page.contains("name=\"state\" value=\"withdrawn\""),
        "{page}"
    );

    // Without the confirmation nothing changes: it asks first.
    let r = app.submit(&me, &choices, &[("state", "withdrawn")]).await;
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(location(&r), choices);
    assert_eq!(
        state_of(&app, p.learner).await,
        fuzhi::entities::enrollment::EnrollmentState::Enrolled
    );

    // Paused by herself: the list says so, the course page offers to resume.
    let r = app
        .submit(&me, &choices, &[("state", "paused"), ("confirm", "yes")])
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let back = location(&r);
    assert_eq!(
        back,
        format!("/learners/{}/courses?changed=paused", p.learner)
    );
    assert_eq!(
        state_of(&app, p.learner).await,
        fuzhi::entities::enrollment::EnrollmentState::Paused
    );
    let (_, list) = app.page(&me, &back).await;
    assert!(list.contains("已暂停。学习记录都保留着。"), "{list}");
    let (_, course) = app.page(&me, &format!("/courses/{COURSE}")).await;
    assert!(course.contains("继续学习"), "{course}");
    // Resumed by enrolling again; her offline copy is hers to fetch.
    let r = app.enroll_on_page(&me, COURSE).await;
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(
        state_of(&app, p.learner).await,
        fuzhi::entities::enrollment::EnrollmentState::Enrolled
    );
    let offline = format!("/api/v1/courses/{COURSE}/offline");
    assert_eq!(app.get_json(&offline, &me).await.0, 200);

    // Withdrawn by the trainer of her township, from her list of learners.
    let trainer = app.token(p.trainer).await;
    let (_, learners) = app.page(&trainer, "/teach/learners").await;
    assert!(
        learners.contains(&format!("href=\"/learners/{}/courses\"", p.learner)),
        "{learners}"
    );
    let r = app
        .submit(
            &trainer,
            &choices,
            &[("state", "withdrawn"), ("confirm", "yes")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(
        state_of(&app, p.learner).await,
        fuzhi::entities::enrollment::EnrollmentState::Withdrawn
    );
    // Her session no longer holds the course; the village counts a dropout.
    assert_eq!(app.get_json(&offline, &me).await.0, 409);
    assert_eq!(withdrawn_in(&app, VILLAGE_A).await, 1);

    // Each change is in the audit log, with the state before and after and who.
    let audit = change_event::Entity::find()
        .filter(change_event::Column::Entity.eq("enrollment"))
        .order_by_asc(change_event::Column::Id)
        .all(app.conn())
        .await
        .unwrap();
    let lines: Vec<(Option<i64>, String, String)> = audit
        .iter()
        .map(|e| {
            (
                e.actor_id,
                e.before_json.clone().unwrap_or_default(),
                e.after_json.clone().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0].0, Some(p.learner));
    assert!(
        lines[0].1.contains("enrolled") && lines[0].2.contains("paused"),
        "{lines:?}"
    );
    assert_eq!(lines[1].0, Some(p.trainer));
    assert!(lines[1].2.contains("withdrawn"), "{lines:?}");
    assert_eq!(
        audit[1].entity_id.as_deref(),
        Some(&*format!("{}/{COURSE}", p.learner))
    );

    // The official of the township resumes her by the API; bad input is
    // named; a completed course cannot be left.
    let official = app.token(p.official).await;
    let api = format!("/api/v1/users/{}/enrollments/{COURSE}", p.learner);
    let patch = |body: serde_json::Value| {
        app.client
            .patch(app.url(&api))
            .bearer_auth(&official)
            .json(&body)
            .send()
    };
    let r = patch(json!({"state": "enrolled"})).await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        body,
        json!({"user_id": p.learner, "course": COURSE, "state": "enrolled"})
    );
    assert_eq!(withdrawn_in(&app, VILLAGE_A).await, 0);
    let r = patch(json!({"state": "completed"})).await.unwrap();
    assert_eq!(r.status().as_u16(), 422);
    let body: serde_json::Value = r.json().await.unwrap();
    assert!(body.to_string().contains("state"), "{body}");
    enrollment::Entity::update_many()
        .col_expr(
            enrollment::Column::State,
            sea_orm::sea_query::Expr::value(
                fuzhi::entities::enrollment::EnrollmentState::Completed,
            ),
        )
        .filter(enrollment::Column::UserId.eq(p.learner))
        .exec(app.conn())
        .await
        .unwrap();
    let r = patch(json!({"state": "withdrawn"})).await.unwrap();
    assert_eq!(r.status().as_u16(), 409);
    assert_eq!(
        state_of(&app, p.learner).await,
        fuzhi::entities::enrollment::EnrollmentState::Completed
    );
    // A completed course offers nothing to change.
    let (_, page) = app.page(&me, &choices).await;
    assert!(page.contains("这门课已经结业"), "{page}");
    assert!(!page.contains("name=\"state\""), "{page}");
    app.finish().await;
}
engine_test!(pause_withdraw_and_resume);
