//! Item analysis: the page and its CSV and XLSX export for the people who
//! author a course, from each learner's first attempt only, hidden below the
//! minimum of first attempts.

use std::collections::BTreeMap;

use chrono::{Duration, Utc};
use fuzhi::accounts::users;
use fuzhi::learning::progress::record_attempt;

use crate::engine_test;
use crate::helpers::{COURSE, TestApp, VILLAGE_A, between, shipped};

const SLUG: &str = "items-copy";

/// A copy of the shipped course that `owner` authored.
async fn authored_copy(app: &TestApp, owner: i64) {
    app.import_course(COURSE).await;
    let (_, courses) = shipped();
    let mut c = courses
        .iter()
        .find(|c| c.course.slug == COURSE)
        .unwrap()
        .course
        .clone();
    c.clear_sources();
    c.slug = SLUG.into();
    fuzhi::catalog::store::import_course(
        app.conn(),
        &c,
        Some(owner),
        fuzhi::catalog::store::Origin::Import,
    )
    .await
    .unwrap();
    app.state.content.clear();
}

async fn item_analysis(app: TestApp) {
    let p = app.people().await;
    authored_copy(&app, p.trainer).await;
    let info = app
        .state
        .content
        .published(app.conn(), SLUG)
        .await
        .unwrap()
        .unwrap();
    let key = app.key(SLUG, "pre").await;
    let wrong = |q: &str| -> Vec<String> {
        let right = &key[q][0];
        let other = match right.as_str() {
            "true" => "false",
            "false" => "true",
            "a" => "b",
            _ => "a",
        };
        vec![other.to_string()]
    };
    let post_key = app.key(SLUG, "post").await;
    let url = format!("/teach/courses/{SLUG}/items?lang=en");
    let base = Utc::now() - Duration::days(10);
    // Twenty learners take the pre-test: q1 wrong for learners 0-7, q2
    // wrong for 4-9. Learners 0-7 then take it again with every answer
    // right (a retake must change no figure); learners 0-4 take the post-test.
    for i in 0..20i64 {
        let id = app
            .user(&format!("1371000{i:04}"), "learner", Some(VILLAGE_A))
            .await;
        let u = users::find(app.conn(), id).await.unwrap().unwrap();
        let learner = users::actor_of(&u);
        let mut answers: BTreeMap<String, Vec<String>> = key.clone();
        if i < 8 {
            answers.insert("q1".into(), wrong("q1"));
        }
        if (4..10).contains(&i) {
            answers.insert("q2".into(), wrong("q2"));
        }
        let at = base + Duration::minutes(i);
        let attempt = async |answers: &BTreeMap<String, Vec<String>>, quiz: &str, at| {
            let key = uuid::Uuid::new_v4();
            record_attempt(app.conn(), &learner, &info, quiz, answers, key, at)
                .await
                .unwrap();
        };
        attempt(&answers, "pre", at).await;
        if i < 8 {
            attempt(&key, "pre", at + Duration::days(1)).await;
        }
        if i < 5 {
            attempt(&post_key, "post", at + Duration::days(2)).await;
        }
        if i == 18 {
            // Nineteen first attempts: the pre-test is still hidden.
            let (status, html) = app.page_as(p.trainer, &url).await;
            assert_eq!(status, 200);
            let pre = between(&html, "id=\"quiz-pre\"", "</section>").unwrap();
            assert!(pre.contains("19 first attempts"), "{pre}");
            assert!(
                pre.contains("Needs 1 more first attempts before the figures are shown"),
                "{pre}"
            );
            assert!(!pre.contains("item-pre-q1"));
        }
    }

    let (status, html) = app.page_as(p.trainer, &url).await;
    assert_eq!(status, 200, "{html}");
    let pre = between(&html, "id=\"quiz-pre\"", "</section>").unwrap();
    // Only first attempts: 20, not the 28 attempts stored.
    assert!(pre.contains("20 first attempts"), "{pre}");
    let q1 = between(&pre, "id=\"item-pre-q1\"", "</div>").unwrap();
    // 12 of 20 right (with the retakes it would read 20 of 28, 71%).
    assert!(q1.contains("Right <b>60%</b>"), "{q1}");
    // Rest scores: 14 at the top less one, 6 less two (learners 4-9);
    // M₁ − M₀ = (M − 7/6) − (M − 3/2) = 1/3, s = √0.21, p = 0.6:
    // r = (1/3) ÷ √0.21 × √0.24 ≈ 0.36.
    assert!(q1.contains("Discrimination <b>0.36</b>"), "{q1}");
    // The wrong choice picked by eight, the right one by twelve.
    assert!(q1.contains("8 · 40%") && q1.contains("12 · 60%"), "{q1}");
    let post = between(&html, "id=\"quiz-post\"", "</section>").unwrap();
    assert!(post.contains("5 first attempts"), "{post}");
    assert!(
        post.contains("Needs 15 more first attempts before the figures are shown"),
        "{post}"
    );
    // The Chinese page says the same.
    let (_, zh) = app
        .page_as(
            p.trainer,
            &format!("/teach/courses/{SLUG}/items?lang=zh-CN"),
        )
        .await;
    assert!(zh.contains("还需要 15 份首次作答才显示"), "{zh}");
    assert!(zh.contains("答对率"));
    // The course's authoring page links to it.
    let (_, course) = app
        .page_as(p.trainer, &format!("/teach/courses/{SLUG}"))
        .await;
    assert!(course.contains(&format!("href=\"/teach/courses/{SLUG}/items\"")));

    // The CSV: one line a question, the hidden post-test with its reason.
    let res = app
        .client
        .get(app.url(&format!(
            "/teach/courses/{SLUG}/items/export?format=csv&lang=en"
        )))
        .bearer_auth(app.token(p.trainer).await)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = res.text().await.unwrap();
    assert!(
        csv.starts_with("\u{feff}Quiz,Quiz id,Question,Kind"),
        "{csv}"
    );
    let line = csv.lines().find(|l| l.contains(",pre,q1,")).unwrap();
    assert!(line.contains(",20,0.600,0.356,"), "{line}");
    let line = csv.lines().find(|l| l.contains(",post,")).unwrap();
    assert!(
        line.contains(",5,") && line.contains("Needs 15 more"),
        "{line}"
    );
    let res = app
        .client
        .get(app.url(&format!("/teach/courses/{SLUG}/items/export?format=xlsx")))
        .bearer_auth(app.token(p.admin).await)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("spreadsheetml")
    );
    assert!(res.bytes().await.unwrap().starts_with(b"PK"));

    // Who may see it: the course's author and admins; officials and
    // learners are refused, another trainer finds no such course.
    let other = app
        .user("trainer-items", "trainer", Some("530627102000"))
        .await;
    for (who, want) in [
        (p.admin, 200),
        (p.official, 403),
        (p.learner, 403),
        (other, 404),
    ] {
        assert_eq!(app.page_as(who, &url).await.0, want);
        let export = format!("/teach/courses/{SLUG}/items/export?format=csv");
        assert_eq!(app.page_as(who, &export).await.0, want);
    }
    // A version that does not exist, and a format that does not.
    let (status, _) = app
        .page_as(
            p.trainer,
            &format!("/teach/courses/{SLUG}/items?version=99"),
        )
        .await;
    assert_eq!(status, 404);
    let export = format!("/teach/courses/{SLUG}/items/export?format=pdf");
    assert_eq!(app.page_as(p.trainer, &export).await.0, 422);
}
engine_test!(item_analysis);
