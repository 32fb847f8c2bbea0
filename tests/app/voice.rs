//! What is heard besides the narration: dialect tracks a learner picks and
//! audio for questions and choices; the package format carries both.

use serde_json::json;

use crate::engine_test;
use crate::helpers::{NARRATED as COURSE, TestApp};
use fuzhi::courses::{Course, Media, Text, Track};

const TONE_OPUS: &[u8] = include_bytes!("../fixtures/narration/tone.opus");

/// The lesson check of the shipped course's first lesson.
pub const CHECK: &str = "01-payment-password";

fn zh(s: &str) -> Text {
    Text::from([("zh-CN".into(), s.into())])
}

/// The shipped course renamed `slug`, with a 镇雄话 track on its first
/// lesson and audio on the first check's first question and its choices.
pub fn voiced_course(slug: &str) -> Course {
    let (_, shipped) = crate::helpers::shipped();
    let mut c = shipped
        .iter()
        .find(|c| c.course.slug == COURSE)
        .unwrap()
        .course
        .clone();
    c.clear_sources();
    c.slug = slug.to_string();
    let stem = c.lessons[0].stem();
    let track = format!("media/{stem}.zhenxiong.opus");
    c.lessons[0]
        .texts
        .get_mut("zh-CN")
        .unwrap()
        .tracks
        .push(Track {
            id: "zhenxiong".into(),
            label: Text::from([
                ("zh-CN".into(), "镇雄话".into()),
                ("en".into(), "Zhenxiong dialect".into()),
            ]),
            audio: track.clone(),
        });
    let mut files = vec![track];
    let q = c
        .quizzes
        .iter_mut()
        .find(|q| q.slug == CHECK)
        .unwrap()
        .questions
        .iter_mut()
        .find(|q| !q.choices.is_empty())
        .unwrap();
    let prompt = format!("media/q-{CHECK}-{}.zh-CN.opus", q.id);
    q.audio = zh(&prompt);
    files.push(prompt);
    for ch in &mut q.choices {
        let path = format!("media/q-{CHECK}-{}-{}.zh-CN.opus", q.id, ch.id);
        ch.audio = zh(&path);
        files.push(path);
    }
    for path in files {
        c.media.push(Media {
            path,
            bytes: TONE_OPUS.to_vec(),
        });
    }
    c.media.sort_by(|a, b| a.path.cmp(&b.path));
    c
}

/// Tracks and question audio of a course, in order.
fn heard(c: &Course) -> (Vec<Track>, Vec<Text>) {
    let tracks = c
        .lessons
        .iter()
        .flat_map(|l| l.texts.values())
        .flat_map(|t| t.tracks.clone())
        .collect();
    let audio = c
        .quizzes
        .iter()
        .flat_map(|q| &q.questions)
        .flat_map(|q| {
            std::iter::once(q.audio.clone()).chain(q.choices.iter().map(|c| c.audio.clone()))
        })
        .filter(|a| !a.is_empty())
        .collect();
    (tracks, audio)
}

async fn the_package_carries_tracks_and_question_audio(app: TestApp) {
    let c = voiced_course("voiced");
    let (skills, _) = crate::helpers::shipped();
    let want = heard(&c);
    assert_eq!(want.0.len(), 1);
    assert!(want.1.len() >= 3, "{:?}", want.1);
    // Files: written and read back with no problem.
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("voiced");
    fuzhi::courses::write_course(&c, &folder).unwrap();
    let stem = c.lessons[0].stem();
    let lesson = std::fs::read_to_string(folder.join(format!("lessons/{stem}.zh-CN.md"))).unwrap();
    assert!(
        lesson.contains(&format!("tracks = [\n  {{ id = \"zhenxiong\", label = {{ zh-CN = \"镇雄话\", en = \"Zhenxiong dialect\" }}, audio = \"media/{stem}.zhenxiong.opus\" }},\n]")),
        "{lesson}"
    );
    let quiz = std::fs::read_to_string(folder.join(format!("quizzes/{CHECK}.toml"))).unwrap();
    assert!(
        quiz.contains(&format!(
            "audio = {{ zh-CN = \"media/q-{CHECK}-q1.zh-CN.opus\" }}"
        )),
        "{quiz}"
    );
    let (loaded, problems) = fuzhi::courses::load_course(&folder, Some((skills, "skills.toml")));
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(heard(&loaded.unwrap()), want);
    // The database: imported, read back, exported, loaded again.
    fuzhi::catalog::store::import_skills(app.conn(), skills)
        .await
        .unwrap();
    fuzhi::catalog::store::import_course(
        app.conn(),
        &c,
        None,
        fuzhi::catalog::store::Origin::Import,
    )
    .await
    .unwrap();
    let row = fuzhi::catalog::export::latest(
        app.conn(),
        "voiced",
        &[fuzhi::entities::course::CourseStatus::Published],
    )
    .await
    .unwrap()
    .unwrap();
    let back = fuzhi::catalog::export::to_package(app.conn(), &row)
        .await
        .unwrap();
    assert_eq!(heard(&back), want);
    let out = tempfile::tempdir().unwrap();
    let folder = out.path().join("voiced");
    fuzhi::catalog::export::export(app.conn(), "voiced", &folder)
        .await
        .unwrap();
    let (again, problems) = fuzhi::courses::load_course(&folder, Some((skills, "skills.toml")));
    assert!(problems.is_empty(), "{problems:?}");
    let again = again.unwrap();
    assert_eq!(heard(&again), want);
    assert_eq!(again.media, c.media);
    // A file nothing names, a track in the English file, a missing file: problems.
    let mut bad = c.clone();
    bad.lessons[0].texts.get_mut("en").unwrap().tracks =
        bad.lessons[0].texts["zh-CN"].tracks.clone();
    bad.quizzes
        .iter_mut()
        .for_each(|q| q.questions.iter_mut().for_each(|x| x.audio.clear()));
    let folder = dir.path().join("bad");
    fuzhi::courses::write_course(&bad, &folder).unwrap();
    let (_, problems) = fuzhi::courses::load_course(&folder, Some((skills, "skills.toml")));
    let text: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
    assert!(
        text.iter()
            .any(|p| p.contains("tracks belong in the default language's file")),
        "{text:?}"
    );
    assert!(
        text.iter()
            .any(|p| p.contains(&format!("q-{CHECK}-q1.zh-CN.opus")) && p.contains("not used")),
        "{text:?}"
    );
}
engine_test!(the_package_carries_tracks_and_question_audio);

/// The `src` of the lesson page's player.
fn playing(html: &str) -> Option<String> {
    let i = html.find("<audio")?;
    crate::helpers::between(&html[i..], "src=\"", "\"")
}

async fn import(app: &TestApp, c: &Course) {
    fuzhi::catalog::store::import_course(
        app.conn(),
        c,
        None,
        fuzhi::catalog::store::Origin::Import,
    )
    .await
    .unwrap();
    app.state.content.clear();
}

async fn a_learner_picks_the_voice_and_hears_questions(app: TestApp) {
    let p = app.people().await;
    app.import_course(COURSE).await;
    let c = voiced_course("voiced");
    import(&app, &c).await;
    let learner = app.token(p.learner).await;
    let (one, two) = (c.lessons[0].slug.clone(), c.lessons[1].slug.clone());
    let stem = c.lessons[0].stem();
    let path = format!("/courses/voiced/lessons/{one}?lang=zh-CN");
    let (s, html) = app.page(&learner, &path).await;
    assert_eq!(s, 200);
    // A plain form: the narration first, then the variety.
    assert!(html.contains("<select id=\"voice\" name=\"voice\"><option value=\"\">普通话朗读</option><option value=\"zhenxiong\">镇雄话</option></select>"), "{html}");
    assert_eq!(
        playing(&html).as_deref(),
        Some(format!("/c/voiced/1/media/{stem}.zh-CN.opus").as_str())
    );
    // Chosen: the page plays the track and the phone keeps the choice.
    let res = app
        .client
        .get(app.url(&format!("/courses/voiced/lessons/{one}?voice=zhenxiong")))
        .bearer_auth(&learner)
        .send()
        .await
        .unwrap();
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("voice="))
        .map(str::to_string);
    assert!(
        cookie
            .as_deref()
            .is_some_and(|c| c.starts_with("voice=zhenxiong;") && c.contains("Max-Age=31536000")),
        "{cookie:?}"
    );
    let html = res.text().await.unwrap();
    let track = format!("/c/voiced/1/media/{stem}.zhenxiong.opus");
    assert_eq!(playing(&html).as_deref(), Some(track.as_str()));
    assert!(html.contains("<option value=\"zhenxiong\" selected>"));
    // The choice stays (the client keeps cookies) and the English page names it in English.
    let (_, html) = app
        .page(&learner, &format!("/courses/voiced/lessons/{one}?lang=en"))
        .await;
    assert_eq!(playing(&html).as_deref(), Some(track.as_str()));
    assert!(html.contains(">Zhenxiong dialect</option>"), "{html}");
    // A lesson without that variety plays its narration, with no chooser.
    let (_, html) = app
        .page(
            &learner,
            &format!("/courses/voiced/lessons/{two}?lang=zh-CN"),
        )
        .await;
    assert!(playing(&html).unwrap().ends_with(".zh-CN.opus"));
    assert!(!html.contains("name=\"voice\""));
    // Back to the narration.
    let (_, html) = app
        .page(&learner, &format!("/courses/voiced/lessons/{one}?voice="))
        .await;
    assert!(playing(&html).unwrap().ends_with(".zh-CN.opus"));

    // The lesson check: a native player under the prompt and each choice.
    let (s, v) = app.enroll(&learner, "voiced").await;
    assert!((200..300).contains(&s), "{s} {v}");
    let (s, html) = app
        .page(
            &learner,
            &format!("/courses/voiced/quiz/{CHECK}?lang=zh-CN"),
        )
        .await;
    assert_eq!(s, 200, "{html}");
    let q = c
        .quizzes
        .iter()
        .find(|q| q.slug == CHECK)
        .unwrap()
        .questions
        .iter()
        .find(|q| !q.audio.is_empty())
        .unwrap();
    let players: Vec<&str> = html
        .split("<audio class=\"say\" controls preload=\"none\" src=\"")
        .skip(1)
        .collect();
    assert_eq!(players.len(), 1 + q.choices.len(), "{html}");
    assert!(html.contains(&format!(
        "src=\"/c/voiced/1/media/q-{CHECK}-{}.zh-CN.opus\"",
        q.id
    )));
    for ch in &q.choices {
        let src = format!("/c/voiced/1/media/q-{CHECK}-{}-{}.zh-CN.opus", q.id, ch.id);
        assert!(html.contains(&format!("src=\"{src}\"")), "{src}");
        let r = app
            .client
            .get(app.url(&src))
            .bearer_auth(&learner)
            .send()
            .await
            .unwrap();
        assert_eq!(r.headers()["content-type"], "audio/ogg");
    }
    // The English page has no English audio: no player (never another language's).
    let (_, html) = app
        .page(&learner, &format!("/courses/voiced/quiz/{CHECK}?lang=en"))
        .await;
    assert!(!html.contains("<audio class=\"say\""));
    // The API says it too.
    let r = app
        .client
        .get(app.url(&format!(
            "/api/v1/courses/voiced/quizzes/{CHECK}?lang=zh-CN"
        )))
        .bearer_auth(&learner)
        .send()
        .await
        .unwrap();
    let v: serde_json::Value = r.json().await.unwrap();
    let first = v["questions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == json!(q.id))
        .unwrap();
    assert!(
        first["audio"].as_str().unwrap().ends_with(".zh-CN.opus"),
        "{first}"
    );
    // Saved for offline: tracks and question audio are listed as media.
    let r = app
        .client
        .get(app.url("/api/v1/courses/voiced/offline"))
        .bearer_auth(&learner)
        .send()
        .await
        .unwrap();
    let v: serde_json::Value = r.json().await.unwrap();
    let urls: Vec<&str> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["url"].as_str())
        .collect();
    assert!(urls.contains(&track.as_str()), "{urls:?}");
    assert!(
        urls.iter().any(|u| u.contains(&format!("q-{CHECK}-"))),
        "{urls:?}"
    );
}
engine_test!(a_learner_picks_the_voice_and_hears_questions);

/// Saving a course for offline study takes the lesson checks' audio but not
/// the pre- and post-test's, which are taken online.
async fn offline_saving_leaves_the_tests_audio_online(app: TestApp) {
    let p = app.people().await;
    app.import_course(COURSE).await;
    let mut c = voiced_course("voiced");
    let pre = c.quizzes.iter_mut().find(|q| q.slug == "pre").unwrap();
    let q = &mut pre.questions[0];
    let prompt = format!("media/q-pre-{}.zh-CN.opus", q.id);
    q.audio = zh(&prompt);
    if !c.media.iter().any(|m| m.path == prompt) {
        c.media.push(Media {
            path: prompt.clone(),
            bytes: TONE_OPUS.to_vec(),
        });
        c.media.sort_by(|a, b| a.path.cmp(&b.path));
    }
    import(&app, &c).await;
    let learner = app.token(p.learner).await;
    app.enroll(&learner, "voiced").await;
    let (s, list) = app
        .get_json("/api/v1/courses/voiced/offline", &learner)
        .await;
    assert_eq!(s, 200, "{list}");
    let urls: Vec<&str> = list["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["url"].as_str().unwrap())
        .collect();
    assert!(
        urls.iter()
            .any(|u| u.contains(&format!("/media/q-{CHECK}-"))),
        "{urls:?}"
    );
    assert!(
        !urls
            .iter()
            .any(|u| u.contains("/media/q-pre-") || u.contains("/media/q-post-")),
        "{urls:?}"
    );
    // The file itself is still served to the test page.
    let (s, _) = app.page(&learner, &format!("/c/voiced/1/{prompt}")).await;
    assert_eq!(s, 200);
}
engine_test!(offline_saving_leaves_the_tests_audio_online);
