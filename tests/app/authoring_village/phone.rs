//! The phone: a trainer on a 390 px screen makes and publishes a course
//! with a picture, and pictures are judged by their content.

use super::*;

/// A 1×1 PNG.
const PNG: [u8; 68] = [
    137, 80, 78, 71, 13, 10, 26, 10, 0, 0, 0, 13, 73, 72, 68, 82, 0, 0, 0, 1, 0, 0, 0, 1, 8, 4, 0,
    0, 0, 181, 28, 12, 2, 0, 0, 0, 11, 73, 68, 65, 84, 120, 218, 99, 100, 96, 0, 0, 0, 6, 0, 2, 48,
    129, 208, 47, 0, 0, 0, 0, 73, 69, 78, 68, 174, 66, 96, 130,
];

/// The tallest and shortest of the visible elements `css` matches, and
/// whether the page is wider than the phone.
async fn sizes(b: &crate::support::Browser, css: &str) -> (Vec<f64>, bool) {
    let v = b
        .client
        .execute(
            "const r = [...document.querySelectorAll(arguments[0])]
               .filter(e => e.getBoundingClientRect().width > 0)
               .map(e => e.getBoundingClientRect().height);
             return [r, document.documentElement.scrollWidth > window.innerWidth];",
            vec![serde_json::json!(css)],
        )
        .await
        .unwrap();
    serde_json::from_value(v).unwrap()
}

/// On a 390 px phone with JavaScript: a trainer makes a course of two
/// lessons, one with a picture (uploaded, placed by the toolbar) and a
/// check of three questions written in one form, sees it as a learner and
/// publishes it after the confirmation; the learner's lesson shows its
/// title and its picture.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trainer_publishes_a_two_lesson_course_from_a_phone() {
    let app = TestApp::spawn(crate::helpers::Engine::Sqlite)
        .await
        .unwrap();
    let p = app.people().await;
    app.import_course(COURSE).await;
    let token = app.token(p.trainer).await;
    let b = crate::support::Browser::start(true).await;
    b.client.set_window_size(390, 844).await.unwrap();
    b.goto(&app.url("/login?lang=zh-CN")).await;
    b.fill("#login", "trainer1").await;
    b.fill("#password", crate::helpers::PASSWORD).await;
    b.click("button[type=submit]").await;
    b.wait_signed_in().await;

    b.goto(&app.url("/teach/courses/new?lang=zh-CN")).await;
    b.fill("#title-zh-CN", "连上无线网").await;
    b.fill("#summary-zh-CN", "用手机连上村里的无线网。").await;
    b.click("input[name=competence][value='it.connect']").await;
    b.click("form[action='/teach/courses'] button[type=submit]")
        .await;
    let course = "/teach/courses/lian-shang-wu-xian-wang";
    b.wait_url(course).await;
    for title in ["打开无线网", "省着用流量"] {
        b.goto(&app.url(&format!("{course}?lang=zh-CN"))).await;
        b.fill("#lesson_title", title).await;
        b.click("#add-lesson button[type=submit]").await;
        b.wait_text("图片").await;
        b.fill("#body-zh-CN", "在设置里打开开关。").await;
        b.click("button[value=save]").await;
        b.wait_text("已保存到草稿").await;
    }
    let lesson = format!("{course}/lessons/da-kai-wu-xian-wang");

    // The toolbar: four buttons a thumb can hit, and no sideways scrolling.
    b.goto(&app.url(&format!("{lesson}?lang=zh-CN"))).await;
    let (heights, wide) = sizes(&b, "[data-md-tools] button").await;
    assert_eq!(heights.len(), 4, "{heights:?}");
    assert!(heights.iter().all(|h| *h >= 44.0), "{heights:?}");
    assert!(!wide, "the lesson page scrolls sideways at 390 px");
    // A picture, uploaded; then the picture button places it once more.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("wifi.png");
    std::fs::write(&file, PNG).unwrap();
    b.client
        .find(fantoccini::Locator::Css("#picture-file"))
        .await
        .unwrap()
        .send_keys(&file.display().to_string())
        .await
        .unwrap();
    b.fill("#picture-alt", "WLAN 开关").await;
    b.click("#pictures button[type=submit]").await;
    // Sent in the background and placed where the cursor was.
    b.wait_text("图片已放进课文").await;
    let picture = "media/da-kai-wu-xian-wang-1.png";
    // Each button writes where the cursor is: at the end of the text here.
    for tool in ["bold", "picture"] {
        b.client
            .execute(
                "const t = document.getElementById('body-zh-CN');
                 t.setSelectionRange(t.value.length, t.value.length);",
                vec![],
            )
            .await
            .unwrap();
        b.click(&format!("[data-md-tools] button[data-md={tool}]"))
            .await;
    }
    let body = b
        .client
        .execute(
            "return document.getElementById('body-zh-CN').value;",
            vec![],
        )
        .await
        .unwrap();
    let body = body.as_str().unwrap_or_default().to_string();
    assert!(body.contains("**加粗**\n\n![说明](media/"), "{body:?}");
    assert_eq!(body.matches(&format!("]({picture})")).count(), 2, "{body}");
    b.click("button[value=save]").await;
    b.wait_text("已保存到草稿").await;

    // The check: three questions in one form.
    b.goto(&app.url(&format!(
        "{course}/quizzes/01-da-kai-wu-xian-wang?lang=zh-CN"
    )))
    .await;
    let (blocks, wide) = sizes(&b, "#add-questions fieldset.batch").await;
    assert_eq!(blocks.len(), 3);
    assert!(!wide, "the quiz page scrolls sideways at 390 px");
    // Sent half-done, the form comes back with its summary on top, focused,
    // and what was typed kept.
    b.fill("#q1-prompt-zh-CN", CHECKS[0].0).await;
    b.click("#add-questions button[type=submit]").await;
    b.wait_text("处需要改正").await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let focused = b
            .client
            .execute("return document.activeElement.id;", vec![])
            .await
            .unwrap();
        if focused == "batch-errors" {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "focused: {focused}");
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let kept = b
        .client
        .execute(
            "return document.getElementById('q1-prompt-zh-CN').value;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(kept, CHECKS[0].0);
    for (i, (prompt, choices, key)) in CHECKS[..3].iter().enumerate() {
        let n = i + 1;
        b.fill(&format!("#q{n}-prompt-zh-CN"), prompt).await;
        for (id, text) in ["a", "b", "c"].iter().zip(choices) {
            b.fill(&format!("#q{n}-choice-{id}-zh-CN"), text).await;
        }
        let right = ["a", "b", "c"][*key];
        b.click(&format!("input[name='q{n}.correct'][value={right}]"))
            .await;
        b.fill(&format!("#q{n}-explain-zh-CN"), "照课文里讲的做。")
            .await;
    }
    b.click("#add-questions button[type=submit]").await;
    b.wait_text("现在有 3 道").await;
    // The tests, by the same form.
    for (quiz, items) in [("pre", &PRE[..4]), ("post", &POST[..4])] {
        let (s, _, page) = app
            .post_form(
                &token,
                &format!("{course}/quizzes/{quiz}/batch"),
                &batch(items),
            )
            .await;
        assert_eq!(s, 303, "{page}");
    }

    // As a learner first, then publish after the confirmation.
    b.goto(&app.url(&format!("{course}?lang=zh-CN"))).await;
    b.click("#publish a[href$='/preview']").await;
    let page = b.wait_text("这是预览").await;
    assert!(
        page.contains("打开无线网") && page.contains("省着用流量"),
        "{page}"
    );
    b.click("a[href$='/publish']").await;
    b.wait_text("确认发布？").await;
    b.click("#confirm button[type=submit]").await;
    b.wait_text("已发布").await;
    b.close().await;

    let learner = app.token(p.learner).await;
    let (s, page) = app
        .page(
            &learner,
            "/courses/lian-shang-wu-xian-wang/lessons/da-kai-wu-xian-wang?lang=zh-CN",
        )
        .await;
    assert_eq!(s, 200);
    assert!(page.contains("<h1>打开无线网</h1>"), "{page}");
    assert!(page.contains(&format!("/{picture}\"")), "{page}");
}

/// A file that is not a picture is refused by its content, and nothing is kept.
async fn a_picture_is_judged_by_its_content(app: TestApp) {
    let p = app.people().await;
    app.import_course(COURSE).await;
    let t = app.token(p.trainer).await;
    course(&app, &t, "pics").await;
    let one = lesson(&app, &t, "pics", "打开无线网", "正文。").await;
    let send = |bytes: Vec<u8>| {
        let mut body = "--mx\r\nContent-Disposition: form-data; name=\"alt\"\r\n\r\n打开无线网\r\n--mx\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n\r\n"
            .as_bytes()
            .to_vec();
        body.extend_from_slice(&bytes);
        body.extend_from_slice(b"\r\n--mx--\r\n");
        app.client
            .post(app.url(&format!(
                "/teach/courses/pics/lessons/{one}/pictures?lang=zh-CN"
            )))
            .bearer_auth(&t)
            .header("content-type", "multipart/form-data; boundary=mx")
            .body(body)
            .send()
    };
    let r = send(b"MZ not a picture".to_vec()).await.unwrap();
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(page.contains("图片：文件内容不是照片"), "{page}");
    let r = send(PNG.to_vec()).await.unwrap();
    assert_eq!(r.status(), 303);
    let (_, page) = app
        .page(&t, &format!("/teach/courses/pics/lessons/{one}?lang=zh-CN"))
        .await;
    assert!(
        page.contains(&format!("![打开无线网](media/{one}-1.png)")),
        "{page}"
    );
    assert!(!page.contains(&format!("media/{one}-2.png")), "{page}");
}
engine_test!(a_picture_is_judged_by_its_content);
