//! Faults: a new course version imported while two processes serve (each
//! must serve it within the stated bound, and accept events for its new
//! lesson at once), and a restart whose course folder holds an older version
//! (it must not publish it over the newer one).

use std::time::{Duration, Instant};

use serde_json::json;

use super::enroll;
use crate::engine_test;
use crate::helpers::{COURSE, TestApp, repo_path};

/// A course folder with the shipped skills and the test course, plus (for
/// `extra`) a seventh lesson.
fn folder(extra: bool) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::copy(
        repo_path("courses/skills.toml"),
        d.path().join("skills.toml"),
    )
    .unwrap();
    let copy = std::process::Command::new("cp")
        .arg("-r")
        .arg(repo_path(&format!("courses/{COURSE}")))
        .arg(d.path())
        .status()
        .unwrap();
    assert!(copy.success());
    if extra {
        let lessons = d.path().join(COURSE).join("lessons");
        for (lang, title, body) in [
            (
                "zh-CN",
                "复习：连网和装软件",
                "把前面学的再做一遍：连上无线网，打开一个网页。",
            ),
            (
                "en",
                "Review: getting online",
                "Do it once more: connect to Wi-Fi and open a web page.",
            ),
        ] {
            std::fs::write(
                lessons.join(format!("07-review.{lang}.md")),
                format!("+++\ntitle = \"{title}\"\nminutes = 5\ncompetences = [\"it.connect\"]\n+++\n# {title}\n\n{body}\n"),
            )
            .unwrap();
        }
    }
    d
}

/// The newest published version of the test course: (version, origin).
async fn newest(app: &TestApp) -> (i32, Option<String>) {
    use fuzhi::entities::course;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    let c = course::Entity::find()
        .filter(course::Column::Slug.eq(COURSE))
        .filter(course::Column::Status.eq(course::CourseStatus::Published))
        .order_by_desc(course::Column::Version)
        .one(app.conn())
        .await
        .unwrap()
        .unwrap();
    (c.version, c.origin)
}

async fn a_new_version_reaches_every_process(app: TestApp) {
    app.seed_areas().await;
    let v1 = folder(false);
    let v1_dir = v1.path().to_str().unwrap().to_string();
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    // The first server publishes its course folder on start.
    let mut a = app
        .db
        .serve(&app.db.url, da.path())
        .env("FUZHI_COURSES_DIR", &v1_dir)
        .start()
        .await;
    let (first, origin) = newest(&app).await;
    assert_eq!(origin.as_deref(), Some("startup"));
    let b = app.db.serve(&app.db.url, db.path()).start().await;
    let (people, lessons) = enroll(&app, 1).await;
    let token = &people[0].1;
    let http = reqwest::Client::new();
    let post = |addr: String, lesson: String| {
        let http = http.clone();
        let token = token.clone();
        async move {
            let r = http
                .post(format!("{addr}/api/v1/events"))
                .bearer_auth(token)
                .json(
                    &json!([{"id": uuid::Uuid::new_v4().to_string(), "kind": "lesson_opened",
                    "course": COURSE, "lesson": lesson}]),
                )
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            r.json::<serde_json::Value>().await.unwrap()
        }
    };
    // Both processes have the first version cached.
    for s in [&a, &b] {
        let r = post(s.addr.clone(), lessons[0].clone()).await;
        assert_eq!(r["accepted"], 1, "{r}");
    }

    // `fuzhi courses import` of a version with a new lesson, as an operator would.
    let v2 = folder(true);
    let out = app
        .db
        .command(
            &app.db.url,
            da.path(),
            &["courses", "import", v2.path().to_str().unwrap()],
        )
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let imported = Instant::now();
    let (second, origin) = newest(&app).await;
    assert_eq!((second, origin.as_deref()), (first + 1, Some("import")));
    let new_lesson = {
        app.state.content.clear();
        let info = app
            .state
            .content
            .published(app.conn(), COURSE)
            .await
            .unwrap()
            .unwrap();
        let l = info
            .lessons
            .iter()
            .find(|l| !lessons.contains(&l.slug))
            .expect("the new lesson");
        l.slug.clone()
    };

    // An event for the new lesson is accepted by both at once: a process
    // loads the version it has not seen rather than refuse the event.
    for s in [&a, &b] {
        let r = post(s.addr.clone(), new_lesson.clone()).await;
        assert_eq!(r["accepted"], 1, "an event for the new lesson: {r}");
        assert_eq!(r["rejected"], json!([]), "{r}");
    }
    // And both serve the new lesson within the bound.
    for s in [&a, &b] {
        let deadline = imported + Duration::from_secs(2);
        loop {
            let st = http
                .get(s.url(&format!("/api/v1/courses/{COURSE}/lessons/{new_lesson}")))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status();
            if st == 200 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the new lesson was not served within 2 s: {st}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    eprintln!(
        "fault: course import while two processes serve: both serve it {} ms after the import",
        imported.elapsed().as_millis()
    );

    // A restart whose course folder holds the first version keeps the newer one.
    a.kill();
    let a = app
        .db
        .serve(&app.db.url, da.path())
        .env("FUZHI_COURSES_DIR", &v1_dir)
        .start()
        .await;
    assert_eq!(
        newest(&app).await,
        (second, Some("import".to_string())),
        "a restart published its older course files over the imported version"
    );
    eprintln!("fault: restart after an import: version {second} stays published");
    drop((a, b));
}
engine_test!(a_new_version_reaches_every_process);
