//! Details of the pages people read: numbered quiz questions, the home page's
//! heading and icon, cached icons and course covers, area names instead of
//! codes, the certificate, study hours, Chinese punctuation and the empty
//! course list.

use crate::engine_test;
use crate::helpers::{COURSE, TestApp, between};

async fn quiz_questions_are_numbered_from_one_with_large_choices(app: TestApp) {
    let p = app.people().await;
    app.import_course(COURSE).await;
    let token = app.token(p.learner).await;
    let page = app
        .client
        .get(app.url(&format!("/courses/{COURSE}/quiz/pre?lang=zh-CN")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let numbers: Vec<&str> = page
        .split("<legend><strong>")
        .skip(1)
        .filter_map(|s| s.split("</strong>").next())
        .collect();
    assert!(numbers.len() >= 2, "{page}");
    let expected: Vec<String> = (1..=numbers.len()).map(|n| n.to_string()).collect();
    assert_eq!(numbers, expected);
    // Every radio button and checkbox sits in a label that is the tap target.
    let inputs = page.matches("type=\"radio\"").count() + page.matches("type=\"checkbox\"").count();
    assert!(inputs > 0);
    assert_eq!(page.matches("<label class=\"choice\">").count(), inputs);
    let css = between(&page, "<link rel=\"stylesheet\" href=\"", "\"").unwrap();
    let rules = app.get(&css).await.text().await.unwrap();
    assert!(rules.contains("label.choice{") && rules.contains("min-height:44px"));
}
engine_test!(quiz_questions_are_numbered_from_one_with_large_choices);

async fn the_home_page_has_a_heading_a_title_and_an_icon(app: TestApp) {
    for (lang, heading, name) in [
        ("zh-CN", "扶贫先扶智", "扶智"),
        ("en", "Lift the skills first", "fuzhi"),
    ] {
        let page = app
            .get(&format!("/?lang={lang}"))
            .await
            .text()
            .await
            .unwrap();
        let title = between(&page, "<title>", "</title>").unwrap();
        // The page's own title, then the product's name, not the name twice.
        assert!(title.ends_with(&format!(" · {name}")), "{title}");
        assert_ne!(title, format!("{name} · {name}"));
        let h1 = between(&page, "<h1>", "</h1>").expect("a heading");
        assert!(h1.contains(heading), "{h1}");
        assert!(page.contains("<link rel=\"icon\" href=\"/static/icon."));
    }
    let r = app.get("/favicon.ico").await;
    assert_eq!(r.status(), 302);
    let to = r.headers()["location"].to_str().unwrap().to_string();
    assert!(
        to.starts_with("/static/icon.") && to.ends_with(".svg"),
        "{to}"
    );
    let icon = app.get(&to).await;
    assert_eq!(icon.status(), 200);
    assert_eq!(icon.headers()["content-type"], "image/svg+xml");
    assert!(icon.text().await.unwrap().starts_with("<svg"));
}
engine_test!(the_home_page_has_a_heading_a_title_and_an_icon);

/// Every `{{icon "name"}}` a template draws is a symbol of the sprite, and the
/// catalog shows each course with its cover picture from the sprite, which is
/// served once and cached for good.
async fn icons_come_from_one_cached_sprite_and_every_course_has_a_cover(app: TestApp) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    let sprite = std::fs::read_to_string(root.join("static/icons.svg")).unwrap();
    let mut used = Vec::new();
    let mut dirs = vec![root.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "hbs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for part in text.split("{{icon \"").skip(1) {
                    used.push((path.clone(), part.split('"').next().unwrap().to_string()));
                }
            }
        }
    }
    assert!(used.len() > 10, "{used:?}");
    for (path, name) in &used {
        assert!(
            sprite.contains(&format!("<symbol id=\"{name}\"")),
            "{} draws icon {name:?}, which icons.svg does not have",
            path.display()
        );
    }

    let p = app.people().await;
    app.import_course(COURSE).await;
    let token = app.token(p.learner).await;
    let page = app
        .client
        .get(app.url("/?lang=zh-CN"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let cards = page.matches("<article class=\"course\">").count();
    assert!(cards >= 1, "{page}");
    assert_eq!(page.matches("<div class=\"cover ").count(), cards);
    let href = between(&page, "<div class=\"cover ", "</div>")
        .and_then(|c| between(&c, "<use href=\"", "#"))
        .expect("a cover drawn from the sprite");
    assert!(href.starts_with("/static/icons."), "{href}");
    let r = app.get(&href).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/svg+xml");
    assert!(
        r.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
}
engine_test!(icons_come_from_one_cached_sprite_and_every_course_has_a_cover);

/// The account list names each person's area; its 12-digit code is not what
/// people read (it stays in the cell's title), and an empty search says so.
async fn the_account_list_shows_area_names_not_codes(app: TestApp) {
    let p = app.people().await;
    let token = app.token(p.admin).await;
    let get = |path: &'static str| {
        let (app, token) = (&app, &token);
        async move {
            app.client
                .get(app.url(path))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    let page = get("/admin/users?lang=zh-CN&q=13900000001").await;
    let name = fuzhi::areas::find(app.conn(), crate::helpers::VILLAGE_A)
        .await
        .unwrap()
        .unwrap()
        .name;
    let cell = between(
        &page,
        &format!("title=\"{}\">", crate::helpers::VILLAGE_A),
        "</td>",
    )
    .expect("the area cell");
    assert_eq!(cell, name);
    assert!(
        page.contains("data-label=\""),
        "a table that becomes cards on phones"
    );
    let empty = get("/admin/users?lang=zh-CN&q=nobody-by-this-name").await;
    assert!(empty.contains("class=\"empty\""), "{empty}");
    assert!(empty.contains("没有找到账号"));
}
engine_test!(the_account_list_shows_area_names_not_codes);

/// The certificate is a page a villager is proud to print: who, which
/// course, who issued it, on which day (local time), the study hours (学时), the
/// skills gained, the QR code and the code, and a print button that only
/// shows where it works (script on), with print styles for A4.
async fn the_certificate_names_issuer_hours_and_skills_and_prints(app: TestApp) {
    use serde_json::json;
    let p = app.people().await;
    app.import_course(COURSE).await;
    let t = app.token(p.learner).await;
    let trainer = app.token(p.trainer).await;
    app.enroll(&t, COURSE).await;
    let info = app
        .state
        .content
        .published(app.conn(), COURSE)
        .await
        .unwrap()
        .unwrap();
    let events: Vec<_> = info
        .lessons
        .iter()
        .map(|l| json!({"id": uuid::Uuid::new_v4().to_string(), "kind": "lesson_finished", "course": COURSE, "lesson": l.slug, "served": app.served(p.learner, COURSE, &l.slug)}))
        .collect();
    app.post_json("/api/v1/events", &t, json!(events)).await;
    let mut quizzes: Vec<String> = info.lesson_checks().map(|q| q.row.slug.clone()).collect();
    quizzes.push("post".into());
    for q in quizzes {
        let key = app.key(COURSE, &q).await;
        let (s, g) = app
            .post_json(
                &format!("/api/v1/courses/{COURSE}/quizzes/{q}/attempts"),
                &t,
                json!({"answers": key}),
            )
            .await;
        assert_eq!(s, 200, "{g}");
    }
    for task in info.tasks.iter().filter(|t| t.required) {
        let (s, _) = app
            .post_json(
                "/api/v1/tasks/signoff",
                &trainer,
                json!({"user_id": p.learner, "course": COURSE, "task": task.slug, "level": 2}),
            )
            .await;
        assert_eq!(s, 201);
    }
    let (_, prog) = app.get_json("/api/v1/me/progress", &t).await;
    let code = prog["items"][0]["certificate"]
        .as_str()
        .unwrap()
        .to_string();
    let hours = f64::from(info.course.hours_tenths) / 10.0;
    for (lang, words) in [
        (
            "zh-CN",
            [
                "颁发单位",
                "扶智数字技能培训平台",
                "学时",
                "掌握的本领",
                "打印证书",
            ],
        ),
        (
            "en",
            [
                "Issued by",
                "fuzhi digital-skills training",
                "study hours",
                "Skills gained",
                "Print the certificate",
            ],
        ),
    ] {
        // Anyone may open it: no sign-in.
        let page = app
            .get(&format!("/certificates/{code}?lang={lang}"))
            .await
            .text()
            .await
            .unwrap();
        for w in words {
            assert!(page.contains(w), "{w} missing on the {lang} page: {page}");
        }
        assert!(page.contains("learner 13900000001"));
        assert!(page.contains("镇雄县"), "the county issued it: {page}");
        assert!(page.contains(&format!("{hours} ")), "{hours} hours: {page}");
        // The day in local time, written as people write it.
        let today = app.state.settings.local_date(chrono::Utc::now(), lang);
        assert!(page.contains(&today), "{today}: {page}");
        for c in &info.competences {
            let titles: std::collections::BTreeMap<String, String> =
                serde_json::from_str(&c.title_json).unwrap();
            assert!(
                page.contains(&titles[lang]),
                "skill {:?} on {lang}",
                titles[lang]
            );
        }
        assert!(page.contains("<svg") && page.contains(&code));
        assert!(page.contains("@media print") && page.contains("size:A4"));
        // The button is hidden until script shows it, so it works or is not there.
        let button = between(&page, "<button type=\"button\"", "</button>").unwrap();
        assert!(button.contains("data-print") && button.contains("hidden"));
        let js = format!(
            "/static/print.{}",
            between(&page, "<script src=\"/static/print.", "\"").unwrap()
        );
        let script = app.get(&js).await.text().await.unwrap();
        assert!(script.contains("print()") && script.contains("data-print"));
        assert!(!page.contains("课时"));
    }
}
engine_test!(the_certificate_names_issuer_hours_and_skills_and_prints);

/// Learners read 课 (or 节) for a lesson and 学时 for hours; 课时 (which
/// people read both ways) is on none of their pages.
async fn learner_pages_say_hours_as_study_hours(app: TestApp) {
    let p = app.people().await;
    app.import_course(COURSE).await;
    let token = app.token(p.learner).await;
    for path in [
        "/?lang=zh-CN".to_string(),
        format!("/courses/{COURSE}?lang=zh-CN"),
        format!(
            "/courses/{COURSE}/lessons/{}?lang=zh-CN",
            app.first_lesson(COURSE).await
        ),
        "/me?lang=zh-CN".to_string(),
    ] {
        let page = app
            .client
            .get(app.url(&path))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!page.contains("课时"), "{path}");
        if path.contains("/courses/") && !path.contains("/lessons/") {
            assert!(page.contains(" 学时"), "{path}: {page}");
        }
    }
    // And in the learner pages' texts: no 课时, and full-width colons.
    let zh =
        std::fs::read_to_string(crate::helpers::repo_path("templates/locales/zh-CN.toml")).unwrap();
    for line in zh.lines() {
        let learner = [
            "\"course.",
            "\"lesson.",
            "\"quiz.",
            "\"me.",
            "\"cert.",
            "\"home.",
            "\"state.",
        ]
        .iter()
        .any(|p| line.starts_with(p));
        if learner {
            let text = line.split_once(" = ").unwrap().1;
            assert!(!text.contains("课时"), "{line}");
            assert!(!text.contains(':'), "{line}");
        }
    }
}
engine_test!(learner_pages_say_hours_as_study_hours);

/// Chinese text uses full-width colons, also where a template joins a label
/// and a value (`{{t "punct.colon"}}`), and 课时 is said nowhere: a lesson is
/// 课 and hours are 学时.
#[test]
fn chinese_text_has_full_width_colons_and_no_keshi() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    let zh = std::fs::read_to_string(root.join("locales/zh-CN.toml")).unwrap();
    for line in zh.lines() {
        assert!(!line.contains("课时"), "{line}");
        if let Some((_, text)) = line.split_once(" = ") {
            assert!(!text.replace("://", "").contains(':'), "{line}");
        }
    }
    let mut dirs = vec![root.join("pages"), root.join("partials")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for pattern in ["}}: ", "</strong>: ", "</b>: "] {
                assert!(
                    !text.contains(pattern),
                    "{} joins a label and a value with a half-width colon",
                    path.display()
                );
            }
        }
    }
}

/// An author with no course yet is shown a friendly empty state with the
/// next step, not a bare line.
async fn the_course_list_starts_from_a_friendly_empty_state(app: TestApp) {
    let p = app.people().await;
    let token = app.token(p.trainer).await;
    let page = app
        .client
        .get(app.url("/teach/courses?lang=zh-CN"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let empty = between(&page, "<div class=\"empty\">", "</div>").expect("an empty state");
    assert!(empty.contains("href=\"/teach/courses/new\""), "{empty}");
}
engine_test!(the_course_list_starts_from_a_friendly_empty_state);
