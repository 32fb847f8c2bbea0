//! Recording in the browser's authoring pages: a recording is judged
//! (length, voice) and kept as mono Ogg Opus marked as recorded; dialect
//! tracks and question audio go into the draft and out again.

use crate::engine_test;
use crate::helpers::{COURSE, TestApp, multipart};
use fuzhi::courses::Course;

const TONE_OPUS: &[u8] = include_bytes!("../fixtures/narration/tone.opus");
const SPEECH_WEBM: &[u8] = include_bytes!("../fixtures/voice/speech.webm");
const SILENCE_WEBM: &[u8] = include_bytes!("../fixtures/voice/silence.webm");
const SHORT_WEBM: &[u8] = include_bytes!("../fixtures/voice/short.webm");
const PNG_AS_OPUS: &[u8] = include_bytes!("../fixtures/narration/not-audio.opus");
const CHECK: &str = "01-wifi-and-data";

async fn get(app: &TestApp, token: &str, path: &str) -> (u16, String) {
    let res = app
        .client
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

async fn post(
    app: &TestApp,
    token: &str,
    path: &str,
    fields: &[(&str, &str)],
    bytes: &[u8],
) -> (u16, String) {
    let (ct, body) = multipart(fields, "recording.webm", bytes);
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

async fn recordings_are_judged_and_kept_as_mono_opus(app: TestApp) {
    let p = app.people().await;
    app.import_course(COURSE).await;
    let admin = app.token(p.admin).await;
    let lesson = "wifi-and-data";
    let edit = format!("/teach/courses/{COURSE}/lessons/{lesson}");

    // The page offers the recorder (hidden until its script finds a
    // microphone) and the dialect form.
    let (_, html) = get(&app, &admin, &format!("{edit}?lang=zh-CN")).await;
    assert!(html.contains("class=\"recorder\" hidden") && html.contains("录音"));
    assert!(
        html.contains("方言录音") && html.contains("<option value=\"zhenxiong\">镇雄话</option>")
    );
    assert!(html.contains("/static/record."), "the recorder's script");

    // A recording: kept as mono Ogg Opus, marked as recorded.
    let (s, body) = post(
        &app,
        &admin,
        &format!("{edit}/narration/zh-CN?recorded=1"),
        &[],
        SPEECH_WEBM,
    )
    .await;
    assert_eq!(s, 303, "{body}");
    let d = draft(&app).await;
    let path = d.lessons[0].texts["zh-CN"].audio.clone().unwrap();
    assert_eq!(path, "media/01-wifi-and-data.zh-CN.opus");
    let file = &d.media.iter().find(|m| m.path == path).unwrap().bytes;
    assert!(file.starts_with(b"OggS"));
    assert_eq!(fuzhi::courses::audio::sniff(file), Some("opus"));
    assert_eq!(file[28 + 9], 1, "one channel in OpusHead");
    let text = String::from_utf8_lossy(file);
    assert!(text.contains("FUZHI_RECORDED=1") && !text.contains("FUZHI_NARRATION"));

    // Refused with the reason, nothing saved.
    let before = draft(&app).await;
    for (bytes, zh, en) in [
        (SILENCE_WEBM, "听不到说话声", "No voice can be heard"),
        (SHORT_WEBM, "录音太短了", "too short"),
        (PNG_AS_OPUS, "不是 Opus", "is not Opus"),
    ] {
        let (s, body) = post(
            &app,
            &admin,
            &format!("{edit}/narration/zh-CN?recorded=1&lang=zh-CN"),
            &[],
            bytes,
        )
        .await;
        assert_eq!(s, 422);
        assert!(body.contains(zh), "{body}");
        let (s, body) = post(
            &app,
            &admin,
            &format!("{edit}/tracks?recorded=1&lang=en"),
            &[("variety", "yi")],
            bytes,
        )
        .await;
        assert_eq!(s, 422);
        assert!(body.contains(en), "{body}");
    }
    let (s, body) = post(
        &app,
        &admin,
        &format!("{edit}/tracks?lang=en"),
        &[("variety", "other")],
        SPEECH_WEBM,
    )
    .await;
    assert_eq!(s, 422);
    assert!(body.contains("write its Chinese name"), "{body}");
    assert_eq!(draft(&app).await, before);

    // A dialect track of another named variety, and one of 镇雄话.
    let (s, body) = post(
        &app,
        &admin,
        &format!("{edit}/tracks?recorded=1"),
        &[
            ("variety", "other"),
            ("label.zh-CN", "彝良话"),
            ("label.en", "Yiliang speech"),
        ],
        SPEECH_WEBM,
    )
    .await;
    assert_eq!(s, 303, "{body}");
    let (s, _) = post(
        &app,
        &admin,
        &format!("{edit}/tracks?recorded=1"),
        &[("variety", "zhenxiong")],
        SPEECH_WEBM,
    )
    .await;
    assert_eq!(s, 303);
    let d = draft(&app).await;
    let tracks = &d.lessons[0].texts["zh-CN"].tracks;
    assert_eq!(tracks.len(), 2);
    assert_eq!(tracks[0].label["en"], "Yiliang speech");
    assert_eq!(tracks[1].audio, "media/01-wifi-and-data.zhenxiong.opus");

    // Question audio: the prompt and a choice; a wrong choice is not found.
    let quiz = format!("/teach/courses/{COURSE}/quizzes/{CHECK}");
    let (s, body) = post(
        &app,
        &admin,
        &format!("{quiz}/audio/q1/prompt/zh-CN?recorded=1"),
        &[],
        SHORT_WEBM,
    )
    .await;
    assert_eq!(s, 303, "{body}");
    let (s, _) = post(
        &app,
        &admin,
        &format!("{quiz}/audio/q1/b/zh-CN"),
        &[],
        TONE_OPUS,
    )
    .await;
    assert_eq!(s, 303);
    let (s, _) = post(
        &app,
        &admin,
        &format!("{quiz}/audio/q1/zz/zh-CN"),
        &[],
        TONE_OPUS,
    )
    .await;
    assert_eq!(s, 404);
    let (s, body) = post(
        &app,
        &admin,
        &format!("{quiz}/audio/q1/a/zh-CN?recorded=1&lang=zh-CN"),
        &[],
        SILENCE_WEBM,
    )
    .await;
    assert_eq!(s, 422);
    assert!(
        body.contains("q1 · a · ") && body.contains("听不到说话声"),
        "{body}"
    );
    let (_, html) = get(&app, &admin, &format!("{quiz}?lang=zh-CN")).await;
    assert!(
        html.contains(&format!("/media/q-{CHECK}-q1.zh-CN.opus")),
        "{html}"
    );
    // Saving the question from its form keeps its audio.
    let d = draft(&app).await;
    let q = d
        .quizzes
        .iter()
        .find(|q| q.slug == CHECK)
        .unwrap()
        .questions[0]
        .clone();
    assert_eq!(q.audio["zh-CN"], format!("media/q-{CHECK}-q1.zh-CN.opus"));
    assert_eq!(
        q.choices[1].audio["zh-CN"],
        format!("media/q-{CHECK}-q1-b.zh-CN.opus")
    );
    // The draft passes the course rules, and publishing brings it to learners.
    let problems = fuzhi::catalog::authoring::check(app.conn(), &d)
        .await
        .unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    // Removing a track and a choice's audio takes their files away.
    let r = app
        .client
        .post(app.url(&format!("{edit}/tracks/zhenxiong/remove")))
        .bearer_auth(&admin)
        .form(&[("confirm", "yes")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let r = app
        .client
        .post(app.url(&format!("{quiz}/audio/q1/b/zh-CN/remove")))
        .bearer_auth(&admin)
        .form(&[("x", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let d = draft(&app).await;
    assert_eq!(d.lessons[0].texts["zh-CN"].tracks.len(), 1);
    assert!(
        !d.media.iter().any(|m| m.path.contains("zhenxiong")
            || m.path == format!("media/q-{CHECK}-q1-b.zh-CN.opus"))
    );
    let problems = fuzhi::catalog::authoring::check(app.conn(), &d)
        .await
        .unwrap();
    assert!(problems.is_empty(), "{problems:?}");
}
engine_test!(recordings_are_judged_and_kept_as_mono_opus);
