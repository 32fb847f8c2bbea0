//! The phone: on a 390 px screen a trainer adds a photo (its EXIF gone)
//! and a video to a lesson, watches the video being made, previews and
//! publishes; a learner with JavaScript off plays the video.

use super::*;
use crate::support::Browser;

/// Whether the page's first `<video>` has loaded its length, and how far it
/// has played (run by WebDriver even with the page's scripts off).
async fn video_state(b: &Browser) -> (f64, f64, i64, String) {
    let v = b
        .client
        .execute(
            "const v = document.querySelector('video');
             if (!v) return [-1, -1, -1, ''];
             if (v.preload !== 'metadata' && v.readyState === 0) { v.preload = 'metadata'; v.load(); }
             return [isFinite(v.duration) ? v.duration : -1, v.currentTime,
                     v.error ? v.error.code : 0, v.currentSrc];",
            vec![],
        )
        .await
        .unwrap();
    (
        v[0].as_f64().unwrap_or(-1.0),
        v[1].as_f64().unwrap_or(0.0),
        v[2].as_i64().unwrap_or(-1),
        v[3].as_str().unwrap_or_default().to_string(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trainer_adds_a_photo_and_a_video_from_a_phone_and_a_learner_plays_it() {
    let app = TestApp::spawn(crate::helpers::Engine::Sqlite)
        .await
        .unwrap();
    let p = app.people().await;
    app.import_course(COURSE).await;
    // A course of the trainer's own, to edit.
    let (_, shipped) = crate::helpers::shipped();
    let mut c = shipped
        .iter()
        .find(|c| c.course.slug == COURSE)
        .unwrap()
        .course
        .clone();
    c.clear_sources();
    c.slug = "my-phone".into();
    fuzhi::catalog::store::import_course(
        app.conn(),
        &c,
        Some(p.trainer),
        fuzhi::catalog::store::Origin::Import,
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let photo = dir.path().join("IMG_2031.jpg");
    std::fs::write(&photo, phone_photo()).unwrap();
    let clip = dir.path().join("VID_2031.mp4");
    std::fs::write(&clip, CLIP).unwrap();

    let b = Browser::start(true).await;
    b.client.set_window_size(390, 844).await.unwrap();
    b.goto(&app.url("/login?lang=zh-CN")).await;
    b.fill("#login", "trainer1").await;
    b.fill("#password", crate::helpers::PASSWORD).await;
    b.click("button[type=submit]").await;
    b.wait_signed_in().await;
    let lesson = format!("/teach/courses/my-phone/lessons/{LESSON}?lang=zh-CN");
    b.goto(&app.url(&lesson)).await;
    // The photo, from the file chooser, with what it shows.
    b.client
        .find(fantoccini::Locator::Css("#picture-file"))
        .await
        .unwrap()
        .send_keys(&photo.display().to_string())
        .await
        .unwrap();
    b.fill("#picture-alt", "付款码页面").await;
    b.click("#pictures button[type=submit]").await;
    b.wait_text("图片已放进课文").await;
    b.click("button[value=save]").await;
    b.wait_text("已保存到草稿").await;
    // The video: the status page shows its progress until it is made.
    b.client
        .find(fantoccini::Locator::Css("#video-file"))
        .await
        .unwrap()
        .send_keys(&clip.display().to_string())
        .await
        .unwrap();
    b.fill("#video-alt", "拍商品的演示").await;
    b.click("#videos > form button[type=submit]").await;
    b.wait_url("/teach/courses/my-phone/videos/").await;
    let page = b.wait_text("做好了，已加在课文最后").await;
    assert!(page.contains("拍商品的演示"), "{page}");
    // Nothing sideways on the lesson page at 390 px, with the video in it.
    b.goto(&app.url(&lesson)).await;
    let wide = b
        .client
        .execute(
            "return document.documentElement.scrollWidth > window.innerWidth;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        wide,
        serde_json::json!(false),
        "the lesson page scrolls sideways"
    );
    // Preview as a learner, then publish after the confirmation.
    b.goto(&app.url("/teach/courses/my-phone/preview?lang=zh-CN"))
        .await;
    let preview = b.text().await;
    assert!(preview.contains("拍商品的演示"), "{preview}");
    b.goto(&app.url("/teach/courses/my-phone/publish?lang=zh-CN"))
        .await;
    b.click("#confirm form button[type=submit]").await;
    b.wait_text("已发布").await;
    b.close().await;

    // The published picture carries no EXIF (the stored bytes).
    let row = fuzhi::catalog::export::latest(
        app.conn(),
        "my-phone",
        &[fuzhi::entities::course::CourseStatus::Published],
    )
    .await
    .unwrap()
    .unwrap();
    let published = fuzhi::catalog::export::to_package(app.conn(), &row)
        .await
        .unwrap();
    let pic = published
        .media
        .iter()
        .find(|m| m.path == format!("media/{LESSON}-1.jpg"))
        .expect("the photo is published");
    assert!(!pic.bytes.windows(4).any(|w| w == b"Exif"));
    assert_eq!(fuzhi::courses::picture::metadata(&pic.bytes), None);

    // A learner, JavaScript off: the lesson shows the photo and plays the video.
    let b = Browser::start(false).await;
    b.client.set_window_size(390, 844).await.unwrap();
    b.goto(&app.url("/login?lang=zh-CN")).await;
    b.fill("#login", "13900000001").await;
    b.fill("#password", crate::helpers::PASSWORD).await;
    b.click("button[type=submit]").await;
    b.wait_url("/").await;
    b.goto(&app.url(&format!("/courses/my-phone/lessons/{LESSON}?lang=zh-CN")))
        .await;
    let html = b.client.source().await.unwrap();
    assert!(
        html.contains(&format!("media/{LESSON}-1.jpg")),
        "the photo is shown"
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let duration = loop {
        let (duration, _, error, src) = video_state(&b).await;
        assert_eq!(error, 0, "the video failed to load: {src}");
        if duration > 0.0 {
            break duration;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the video never loaded"
        );
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    };
    assert!((2.0..4.0).contains(&duration), "duration {duration}");
    b.client
        .execute(
            "const v = document.querySelector('video'); v.muted = true; v.play();",
            vec![],
        )
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let (_, at, error, _) = video_state(&b).await;
        assert_eq!(error, 0);
        if at > 0.3 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the video never played"
        );
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    b.close().await;
}
