//! Narration: each language version plays its own, media answers byte
//! ranges, trainers upload and remove narration in the browser, and export
//! and import carry it per language.

use crate::engine_test;
use crate::helpers::{NARRATED as COURSE, TestApp, repo_path};
use fuzhi::courses::{Course, Media};

const TONE_OPUS: &[u8] = include_bytes!("../fixtures/narration/tone.opus");
const TONE_MP3: &[u8] = include_bytes!("../fixtures/narration/tone.mp3");
const PNG_AS_OPUS: &[u8] = include_bytes!("../fixtures/narration/not-audio.opus");

/// The shipped smartphone course, renamed `slug`, with an English narration
/// of its first lesson and no English text for its second (that page falls
/// back to Mandarin).
pub fn narrated_course(slug: &str) -> Course {
    let (_, shipped) = crate::helpers::shipped();
    let mut c = shipped
        .iter()
        .find(|c| c.course.slug == COURSE)
        .unwrap()
        .course
        .clone();
    c.clear_sources();
    c.slug = slug.to_string();
    let first = &mut c.lessons[0];
    let en = format!("media/{}.en.opus", first.stem());
    first.texts.get_mut("en").unwrap().audio = Some(en.clone());
    c.media.push(Media {
        path: en,
        bytes: TONE_OPUS.to_vec(),
    });
    c.media.sort_by(|a, b| a.path.cmp(&b.path));
    c.lessons[1].texts.remove("en");
    c
}

/// The `src` of the page's `<audio>`, if it has one.
fn audio_src(html: &str) -> Option<String> {
    let i = html.find("<audio")?;
    crate::helpers::between(&html[i..], "src=\"", "\"")
}

async fn lesson_pages_play_the_narration_of_the_language_shown(app: TestApp) {
    let p = app.people().await;
    app.import_course(COURSE).await;
    let c = narrated_course("narrated");
    fuzhi::catalog::store::import_course(
        app.conn(),
        &c,
        None,
        fuzhi::catalog::store::Origin::Import,
    )
    .await
    .unwrap();
    app.state.content.clear();
    let learner = app.token(p.learner).await;
    let (one, two) = (c.lessons[0].slug.clone(), c.lessons[1].slug.clone());
    let (stem1, stem2) = (c.lessons[0].stem(), c.lessons[1].stem());

    // The shipped course: Mandarin has the generated narration, English none.
    let path = format!("/courses/{COURSE}/lessons/{one}");
    let (s, zh) = app.page(&learner, &format!("{path}?lang=zh-CN")).await;
    assert_eq!(s, 200);
    assert_eq!(
        audio_src(&zh).as_deref(),
        Some(format!("/c/{COURSE}/1/media/{stem1}.zh-CN.opus").as_str()),
        "{zh}"
    );
    let (_, en) = app.page(&learner, &format!("{path}?lang=en")).await;
    assert!(en.contains("lang=\"en\"") || en.contains("Wi-Fi"), "{en}");
    assert_eq!(audio_src(&en), None, "an English page plays Mandarin");

    // English narration plays on the English page, Mandarin on the Mandarin one.
    let path = format!("/courses/narrated/lessons/{one}");
    let (_, en) = app.page(&learner, &format!("{path}?lang=en")).await;
    assert_eq!(
        audio_src(&en).as_deref(),
        Some(format!("/c/narrated/1/media/{stem1}.en.opus").as_str())
    );
    let (_, zh) = app.page(&learner, &format!("{path}?lang=zh-CN")).await;
    assert_eq!(
        audio_src(&zh).as_deref(),
        Some(format!("/c/narrated/1/media/{stem1}.zh-CN.opus").as_str())
    );
    // No English text: the page shows the Mandarin text and plays its narration.
    let (_, fallback) = app
        .page(
            &learner,
            &format!("/courses/narrated/lessons/{two}?lang=en"),
        )
        .await;
    assert_eq!(
        audio_src(&fallback).as_deref(),
        Some(format!("/c/narrated/1/media/{stem2}.zh-CN.opus").as_str())
    );
    // Each text row carries its own.
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let texts = fuzhi::entities::lesson_text::Entity::find()
        .filter(fuzhi::entities::lesson_text::Column::Audio.like("%.en.opus"))
        .all(app.conn())
        .await
        .unwrap();
    assert_eq!(texts.len(), 1);
    assert_eq!(texts[0].locale, "en");
}
engine_test!(lesson_pages_play_the_narration_of_the_language_shown);

/// A client that neither asks for nor undoes compression by itself.
fn raw_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_gzip()
        .no_brotli()
        .build()
        .unwrap()
}

async fn media_answers_byte_ranges(app: TestApp) {
    app.import_course(COURSE).await;
    let c = &crate::helpers::shipped()
        .1
        .iter()
        .find(|c| c.course.slug == COURSE)
        .unwrap()
        .course;
    let audio = c.lessons[0].texts["zh-CN"].audio.clone().unwrap();
    let bytes = std::fs::read(repo_path(&format!("courses/{COURSE}/{audio}"))).unwrap();
    let len = bytes.len();
    assert!(len > 10_000);
    let url = app.url(&format!("/c/{COURSE}/1/{audio}"));
    let client = raw_client();
    let get = |range: Option<&str>| {
        let mut r = client.get(&url).header("accept-encoding", "gzip, br");
        if let Some(range) = range {
            r = r.header("range", range);
        }
        r.send()
    };
    let header = |r: &reqwest::Response, h: &str| {
        r.headers().get(h).map(|v| v.to_str().unwrap().to_string())
    };

    let whole = get(None).await.unwrap();
    assert_eq!(whole.status(), 200);
    assert_eq!(header(&whole, "accept-ranges").as_deref(), Some("bytes"));
    assert_eq!(header(&whole, "content-type").as_deref(), Some("audio/ogg"));
    assert_eq!(header(&whole, "content-encoding"), None);
    assert!(
        header(&whole, "cache-control")
            .unwrap()
            .contains("immutable")
    );
    let etag = header(&whole, "etag").unwrap();
    assert_eq!(whole.bytes().await.unwrap(), bytes);

    let cases = [
        ("bytes=0-99", 0, 99),
        ("bytes=1000-1999", 1000, 1999),
        (&format!("bytes={}-", len - 300) as &str, len - 300, len - 1),
        ("bytes=-500", len - 500, len - 1),
        (&format!("bytes=10-{}", len + 5000) as &str, 10, len - 1),
    ];
    for (range, a, b) in cases {
        let r = get(Some(range)).await.unwrap();
        assert_eq!(r.status(), 206, "{range}");
        assert_eq!(
            header(&r, "content-range"),
            Some(format!("bytes {a}-{b}/{len}")),
            "{range}"
        );
        assert_eq!(header(&r, "accept-ranges").as_deref(), Some("bytes"));
        assert_eq!(header(&r, "content-encoding"), None, "{range}");
        assert_eq!(header(&r, "etag").as_deref(), Some(etag.as_str()));
        assert_eq!(
            header(&r, "content-length"),
            Some((b - a + 1).to_string()),
            "{range}"
        );
        assert_eq!(&r.bytes().await.unwrap()[..], &bytes[a..=b], "{range}");
    }
    for range in [
        format!("bytes={len}-"),
        format!("bytes={}-", len + 10),
        "bytes=-0".into(),
    ] {
        let r = get(Some(&range)).await.unwrap();
        assert_eq!(r.status(), 416, "{range}");
        assert_eq!(header(&r, "content-range"), Some(format!("bytes */{len}")));
    }
    // A range for another version of the file gets the whole new one.
    let r = client
        .get(&url)
        .header("range", "bytes=0-9")
        .header("if-range", "\"stale\"")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap().len(), len);
    // The cached copy is still good.
    let r = client
        .get(&url)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 304);
}
engine_test!(media_answers_byte_ranges);

/// A multipart body with the file in the field `file`.
fn multipart(name: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "fuzhiNarrationBoundary7d1";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn upload(app: &TestApp, token: &str, path: &str, name: &str, bytes: &[u8]) -> (u16, String) {
    let (ct, body) = multipart(name, bytes);
    let res = app
        .client
        .post(app.url(path))
        .bearer_auth(token)
        .header("content-type", ct)
        .body(body)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.text().await.unwrap_or_default())
}

/// The draft as a package.
async fn draft(app: &TestApp) -> Course {
    let row = fuzhi::catalog::export::latest(
        app.conn(),
        COURSE,
        &[fuzhi::entities::course::CourseStatus::Draft],
    )
    .await
    .unwrap()
    .expect("a draft");
    fuzhi::catalog::export::to_package(app.conn(), &row)
        .await
        .unwrap()
}

async fn trainers_upload_and_remove_narration(app: TestApp) {
    let p = app.people().await;
    app.import_course(COURSE).await;
    let admin = app.token(p.admin).await;
    let learner = app.token(p.learner).await;
    let (_, shipped) = crate::helpers::shipped();
    let course = &shipped
        .iter()
        .find(|c| c.course.slug == COURSE)
        .unwrap()
        .course;
    let lesson = course.lessons[0].slug.clone();
    let stem = course.lessons[0].stem();
    let edit = format!("/teach/courses/{COURSE}/lessons/{lesson}");

    // The page offers it per language and states the limit.
    let (s, html) = app.page(&admin, &format!("{edit}?lang=en")).await;
    assert_eq!(s, 200);
    assert!(html.contains("at most 2 MB"), "{html}");
    assert!(html.contains(&format!("action=\"{edit}/narration/en?csrf=")));
    assert!(html.contains("enctype=\"multipart/form-data\""));
    let (_, html) = app.page(&admin, &format!("{edit}?lang=zh-CN")).await;
    assert!(html.contains("朗读音频") && html.contains("最大 2 MB"));

    // A real Opus file for English: saved in the draft under its language.
    let (s, body) = upload(
        &app,
        &admin,
        &format!("{edit}/narration/en"),
        "tone.opus",
        TONE_OPUS,
    )
    .await;
    assert_eq!(s, 303, "{body}");
    let d = draft(&app).await;
    let en_path = format!("media/{stem}.en.opus");
    assert_eq!(
        d.lessons[0].texts["en"].audio.as_deref(),
        Some(en_path.as_str())
    );
    assert_eq!(
        d.media
            .iter()
            .find(|m| m.path == en_path)
            .map(|m| &m.bytes[..]),
        Some(TONE_OPUS)
    );
    // An MP3 replaces the Mandarin narration; the old file goes with it.
    let (s, body) = upload(
        &app,
        &admin,
        &format!("{edit}/narration/zh-CN"),
        "tone.mp3",
        TONE_MP3,
    )
    .await;
    assert_eq!(s, 303, "{body}");
    let d = draft(&app).await;
    let zh_path = format!("media/{stem}.zh-CN.mp3");
    assert_eq!(
        d.lessons[0].texts["zh-CN"].audio.as_deref(),
        Some(zh_path.as_str())
    );
    assert!(
        d.media
            .iter()
            .any(|m| m.path == zh_path && m.bytes == TONE_MP3)
    );
    assert!(
        !d.media
            .iter()
            .any(|m| m.path == format!("media/{stem}.zh-CN.opus"))
    );

    // Refused, naming the field and why, nothing saved.
    let before = draft(&app).await;
    let (s, body) = upload(
        &app,
        &admin,
        &format!("{edit}/narration/en?lang=en"),
        "pic.opus",
        PNG_AS_OPUS,
    )
    .await;
    assert_eq!(s, 422);
    assert!(
        body.contains("Narration: the file&#x27;s content is not Opus (Ogg), MP3 or M4A audio")
            || body.contains("Narration: the file's content is not Opus (Ogg), MP3 or M4A audio"),
        "{body}"
    );
    let mut big = TONE_OPUS.to_vec();
    big.resize(fuzhi::courses::audio::AUDIO_LIMIT + 1, 0);
    let (s, body) = upload(
        &app,
        &admin,
        &format!("{edit}/narration/en?lang=zh-CN"),
        "big.opus",
        &big,
    )
    .await;
    assert_eq!(s, 422);
    assert!(body.contains("朗读音频：文件超过 2 MB，没有保存"), "{body}");
    let huge = vec![0u8; 4 << 20];
    let (s, _) = upload(
        &app,
        &admin,
        &format!("{edit}/narration/en"),
        "huge.opus",
        &huge,
    )
    .await;
    assert_eq!(s, 413);
    let (s, _) = upload(
        &app,
        &admin,
        &format!("{edit}/narration/fr"),
        "tone.opus",
        TONE_OPUS,
    )
    .await;
    assert_eq!(s, 404);
    assert_eq!(
        draft(&app).await,
        before,
        "a refused upload changed the draft"
    );

    // Removing asks for the confirmation first.
    let remove = |form: &'static [(&'static str, &'static str)]| {
        app.client
            .post(app.url(&format!("{edit}/narration/en/remove?lang=en")))
            .bearer_auth(&admin)
            .form(form)
            .send()
    };
    let r = remove(&[]).await.unwrap();
    assert_eq!(r.status(), 422);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("tick the confirmation box")
    );
    assert_eq!(draft(&app).await, before);
    let r = remove(&[("confirm", "yes")]).await.unwrap();
    assert_eq!(r.status(), 303);
    let d = draft(&app).await;
    assert_eq!(d.lessons[0].texts["en"].audio, None);
    assert!(!d.media.iter().any(|m| m.path == en_path));
    // The draft still passes the course rules.
    let problems = fuzhi::catalog::authoring::check(app.conn(), &d)
        .await
        .unwrap();
    assert!(problems.is_empty(), "{problems:?}");

    // Learners hear the new Mandarin narration once it is published.
    let lesson_page = format!("/courses/{COURSE}/lessons/{lesson}?lang=zh-CN");
    let (_, html) = app.page(&learner, &lesson_page).await;
    assert!(audio_src(&html).unwrap().ends_with(".zh-CN.opus"));
    let r = app
        .client
        .post(app.url(&format!("/teach/courses/{COURSE}/publish")))
        .bearer_auth(&admin)
        .form(&[("confirm", "yes")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let (_, html) = app.page(&learner, &lesson_page).await;
    let src = audio_src(&html).unwrap();
    assert_eq!(src, format!("/c/{COURSE}/2/{zh_path}"));
    let r = app.client.get(app.url(&src)).send().await.unwrap();
    assert_eq!(r.headers()["content-type"], "audio/mpeg");
    assert_eq!(r.bytes().await.unwrap(), TONE_MP3);
}
engine_test!(trainers_upload_and_remove_narration);
