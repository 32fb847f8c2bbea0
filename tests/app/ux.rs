//! Faults a walk-through found in the pages, each pinned by a test.

use crate::engine_test;
use crate::helpers::{COURSE, TestApp, between};

async fn quiz_questions_are_numbered_from_one_with_large_choices(app: TestApp) {
    let p = app.people().await;
    app.import_course(COURSE).await;
    let token = app.token(p.learner).await;
    let page = app
        .client
        .get(app.url(&format!("/courses/{COURSE}/quiz/post?lang=zh-CN")))
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
