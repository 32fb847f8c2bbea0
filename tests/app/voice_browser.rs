//! A trainer records with the phone's microphone in Chromium (a fake
//! microphone playing a voice-like sound), at phone width; a learner then
//! listens with JavaScript off, to the narration and to the dialect track.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{COURSE, Engine, PASSWORD, TestApp};
use crate::support::Browser;

/// A voice-like sound: a buzz at 120-150 Hz with three formants, four
/// syllables a second and a pause every one and a half seconds (the
/// encoder's voice detector hears it as speech), 48 kHz mono, 16 bits.
fn voice_wav(seconds: u32) -> Vec<u8> {
    let rate = 48_000u32;
    let n = rate * seconds;
    let mut data = Vec::with_capacity(n as usize * 2);
    for i in 0..n {
        let t = f64::from(i) / f64::from(rate);
        let phase = (t * 4.0).fract();
        let on = phase < 0.7 && t % 1.5 < 1.0;
        let env = if on {
            (std::f64::consts::PI * phase / 0.7).sin().powi(2)
        } else {
            0.0
        };
        let f0 = 120.0 + 30.0 * (2.0 * std::f64::consts::PI * 0.7 * t).sin();
        let mut s = 0.0;
        for h in 1..25 {
            let f = f0 * f64::from(h);
            let w = (-((f - 700.0) / 300.0).powi(2)).exp()
                + 0.6 * (-((f - 1200.0) / 400.0).powi(2)).exp()
                + 0.3 * (-((f - 2500.0) / 500.0).powi(2)).exp();
            s += w * (2.0 * std::f64::consts::PI * f * t + f64::from(h)).sin();
        }
        let v = (0.25 * env * s).clamp(-1.0, 1.0);
        data.extend_from_slice(&((v * 32000.0) as i16).to_le_bytes());
    }
    let mut wav = b"RIFF".to_vec();
    wav.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes());
    wav.extend_from_slice(&1u16.to_le_bytes());
    wav.extend_from_slice(&1u16.to_le_bytes());
    wav.extend_from_slice(&rate.to_le_bytes());
    wav.extend_from_slice(&(rate * 2).to_le_bytes());
    wav.extend_from_slice(&2u16.to_le_bytes());
    wav.extend_from_slice(&16u16.to_le_bytes());
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&(data.len() as u32).to_le_bytes());
    wav.extend_from_slice(&data);
    wav
}

/// Runs `script` until it returns something other than null or false.
async fn wait_js(b: &Browser, script: &str, what: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let v = b
            .client
            .execute(script, vec![])
            .await
            .unwrap_or(Value::Null);
        if !v.is_null() && v != json!(false) {
            return v;
        }
        if Instant::now() >= deadline {
            let page = b
                .client
                .execute(
                    "return [location.href, Array.from(document.querySelectorAll('[data-state]')).map(e => e.textContent).join(' | ')];",
                    vec![],
                )
                .await
                .unwrap_or(Value::Null);
            panic!("{what}: never happened; {page}");
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Records about three seconds in the form `form` and saves it; returns
/// the browser's own recording (what the page sends).
async fn record(b: &Browser, form: &str) -> Vec<u8> {
    b.click(&format!("{form} .recorder [data-act=start]")).await;
    // The recorder counts each second it received from the microphone.
    wait_js(
        b,
        &format!("const r = document.querySelector(\"{form} .recorder\"); return Number(r.dataset.seconds) >= 3;"),
        "three seconds recorded",
    )
    .await;
    b.click(&format!("{form} .recorder [data-act=stop]")).await;
    wait_js(
        b,
        &format!("const r = document.querySelector(\"{form} .recorder\"); return r.dataset.recorded && !r.querySelector('[data-preview]').hidden;"),
        "the recording can be played back",
    )
    .await;
    let raw = b
        .client
        .execute_async(
            &format!(
                "const done = arguments[arguments.length - 1];
                 const box = document.querySelector(\"{form} .recorder\");
                 box.recording.arrayBuffer().then(buf => {{
                   let s = ''; new Uint8Array(buf).forEach(x => s += String.fromCharCode(x));
                   done(btoa(s));
                 }});"
            ),
            vec![],
        )
        .await
        .unwrap();
    use base64::Engine as _;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(raw.as_str().unwrap())
        .unwrap();
    b.click(&format!("{form} button[type=submit]")).await;
    // Saved (the page comes back with `saved=1`), or refused with a reason.
    let v = wait_js(
        b,
        "const e = document.querySelector('.err, .flash.error');
         return location.search.includes('saved=1') ? 'saved' : (e ? e.textContent : null);",
        "the recording is saved",
    )
    .await;
    assert_eq!(v, json!("saved"), "refused");
    raw
}

/// The page's player: (ready state, duration, address) once it has loaded
/// its length (WebDriver runs this even with the page's JavaScript off).
async fn loaded(b: &Browser) -> (f64, String) {
    let v = wait_js(
        b,
        "const a = document.querySelector('audio');
         if (!a) return null;
         if (a.error) return ['error', a.error.code];
         if (a.preload !== 'metadata') { a.preload = 'metadata'; a.load(); }
         return a.readyState >= 1 && isFinite(a.duration) && a.duration > 0 ? [a.duration, a.currentSrc] : null;",
        "the audio loads",
    )
    .await;
    assert_ne!(v[0], json!("error"), "{v}");
    (v[0].as_f64().unwrap(), v[1].as_str().unwrap().to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trainer_records_on_a_phone_and_a_learner_listens() {
    let app = TestApp::spawn(Engine::Sqlite).await.unwrap();
    let p = app.people().await;
    app.import_course(COURSE).await;
    let (_, shipped) = crate::helpers::shipped();
    let mut c = shipped
        .iter()
        .find(|c| c.course.slug == COURSE)
        .unwrap()
        .course
        .clone();
    c.clear_sources();
    c.slug = "recorded".into();
    fuzhi::catalog::store::import_course(
        app.conn(),
        &c,
        Some(p.trainer),
        fuzhi::catalog::store::Origin::Import,
    )
    .await
    .unwrap();
    let lesson = c.lessons[0].slug.clone();
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("voice.wav");
    std::fs::write(&wav, voice_wav(6)).unwrap();

    let b = Browser::start_with(
        true,
        &[
            "--use-fake-device-for-media-stream".into(),
            "--use-fake-ui-for-media-stream".into(),
            format!("--use-file-for-fake-audio-capture={}", wav.display()),
            "--autoplay-policy=no-user-gesture-required".into(),
        ],
    )
    .await;
    b.client.set_window_size(390, 844).await.unwrap();
    b.goto(&app.url("/login?lang=zh-CN")).await;
    b.fill("#login", "trainer1").await;
    b.fill("#password", PASSWORD).await;
    b.click("button[type=submit]").await;
    wait_js(
        &b,
        "return !location.pathname.startsWith('/login');",
        "signed in",
    )
    .await;
    let edit = format!("/teach/courses/recorded/lessons/{lesson}");
    b.goto(&app.url(&format!("{edit}?lang=zh-CN"))).await;
    // Nothing sticks out sideways at phone width.
    let fits = b
        .client
        .execute(
            "return [document.documentElement.scrollWidth <= window.innerWidth, window.innerWidth];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(fits[0], json!(true), "{fits}");
    // The script shows the recorder (the browser has a microphone API).
    wait_js(
        &b,
        "return !document.querySelector('form[action*=\"/narration/zh-CN?\"] .recorder').hidden;",
        "the recorder shows",
    )
    .await;
    let narration = "form[action*='/narration/zh-CN?']";
    let tap = b
        .client
        .execute(
            &format!("return document.querySelector(\"{narration} .recorder [data-act=start]\").getBoundingClientRect().height;"),
            vec![],
        )
        .await
        .unwrap();
    assert!(tap.as_f64().unwrap() >= 44.0, "the record button: {tap}");
    let spoken = record(&b, narration).await;
    b.wait_url("saved=1#narration").await;
    // The dialect track: 镇雄话 is the first variety offered.
    b.goto(&app.url(&format!("{edit}?lang=zh-CN"))).await;
    wait_js(
        &b,
        "return !document.querySelector('form[action*=\"/tracks?\"] .recorder').hidden;",
        "the track recorder shows",
    )
    .await;
    let dialect = record(&b, "form[action*='/tracks?']").await;
    b.wait_url("saved=1#tracks").await;
    b.wait_text("镇雄话").await;
    b.close().await;

    // What was kept: mono Ogg Opus, marked as recorded, a few seconds long.
    let row = fuzhi::catalog::export::latest(
        app.conn(),
        "recorded",
        &[fuzhi::entities::course::CourseStatus::Draft],
    )
    .await
    .unwrap()
    .unwrap();
    let d = fuzhi::catalog::export::to_package(app.conn(), &row)
        .await
        .unwrap();
    let text = &d.lessons[0].texts["zh-CN"];
    let track = text.tracks.first().expect("a track");
    assert_eq!(track.id, "zhenxiong");
    for (path, raw) in [
        (text.audio.clone().unwrap(), spoken),
        (track.audio.clone(), dialect),
    ] {
        let file = &d.media.iter().find(|m| m.path == path).unwrap().bytes;
        // Chromium's WebM (a live recording: unknown sizes), remuxed as it was sent.
        assert!(raw.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]), "WebM");
        let again =
            fuzhi::courses::recording::prepare(Some(&raw), fuzhi::courses::recording::LESSON, true)
                .unwrap();
        assert_eq!(&again.bytes, file);
        if std::env::var_os("FUZHI_KEEP_RECORDING").is_some() {
            std::fs::write(format!("/tmp/{}.webm", track.id), &raw).unwrap();
        }
        let s = fuzhi::courses::opus::Stream::read_ogg(file).expect("Ogg Opus");
        assert_eq!(
            fuzhi::courses::opus::head_info(&s.head).map(|h| h.0),
            Some(1)
        );
        let heard = s.heard().unwrap();
        assert!(heard.seconds >= 2.5 && heard.seconds < 10.0, "{heard:?}");
        assert!(heard.kbps < 40.0, "{heard:?}");
        assert!(String::from_utf8_lossy(file).contains("FUZHI_RECORDED=1"));
        println!(
            "{path}: {:.1} s, {:.1} kbit/s, {} bytes",
            heard.seconds,
            heard.kbps,
            file.len()
        );
    }
    let admin = app.token(p.admin).await;
    let r = app
        .client
        .post(app.url("/teach/courses/recorded/publish"))
        .bearer_auth(&admin)
        .form(&[("confirm", "yes")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);

    // The learner, JavaScript off: the narration, then 镇雄话 by the form.
    let b = Browser::start(false).await;
    b.goto(&app.url("/login?lang=zh-CN")).await;
    b.fill("#login", "13900000001").await;
    b.fill("#password", PASSWORD).await;
    b.click("button[type=submit]").await;
    b.wait_url("/").await;
    b.goto(&app.url(&format!("/courses/recorded/lessons/{lesson}?lang=zh-CN")))
        .await;
    let (duration, src) = loaded(&b).await;
    assert!(src.ends_with(".zh-CN.opus"), "{src}");
    assert!(duration >= 2.5, "narration {duration}");
    b.client
        .find(fantoccini::Locator::Css("#voice"))
        .await
        .unwrap()
        .select_by_value("zhenxiong")
        .await
        .unwrap();
    b.click("form.voice button[type=submit]").await;
    b.wait_url("voice=zhenxiong").await;
    let (duration, src) = loaded(&b).await;
    assert!(src.ends_with(".zhenxiong.opus"), "{src}");
    assert!(duration >= 2.5, "track {duration}");
    // Kept for the next visit.
    b.goto(&app.url(&format!("/courses/recorded/lessons/{lesson}")))
        .await;
    let (_, src) = loaded(&b).await;
    assert!(src.ends_with(".zhenxiong.opus"), "{src}");

    // A lesson check with audio: a player under the prompt and each choice,
    // each big enough for a thumb, each loading its sound.
    let c = super::voice::voiced_course("voiced");
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
    let (s, _) = app.enroll(&learner, "voiced").await;
    assert!((200..300).contains(&s));
    b.goto(&app.url(&format!(
        "/courses/voiced/quiz/{}?lang=zh-CN",
        super::voice::CHECK
    )))
    .await;
    let v = wait_js(
        &b,
        "const all = Array.from(document.querySelectorAll('audio.say'));
         all.forEach(a => { if (a.preload !== 'metadata') { a.preload = 'metadata'; a.load(); } });
         if (all.some(a => a.error)) return ['error'];
         const ready = all.every(a => a.readyState >= 1 && isFinite(a.duration) && a.duration > 0);
         return all.length && ready ? all.map(a => a.getBoundingClientRect().height) : null;",
        "every question player loads",
    )
    .await;
    let heights: Vec<f64> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_f64().unwrap())
        .collect();
    assert!(heights.len() >= 3, "{v}");
    assert!(heights.iter().all(|h| *h >= 44.0), "{heights:?}");
    b.close().await;
}

/// A learner who cannot read opens a shipped pre-test with JavaScript off:
/// every question and every choice has a player under it, and each of them
/// loads its sound in Chromium and knows how long it plays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shipped_pre_tests_can_be_heard_in_the_browser() {
    let app = TestApp::spawn(Engine::Sqlite).await.unwrap();
    let p = app.people().await;
    let (_, shipped) = crate::helpers::shipped();
    let learner = app.token(p.learner).await;
    let mut tests = Vec::new();
    for c in shipped {
        let pre = c.course.quizzes.iter().find(|q| q.slug == "pre").unwrap();
        if pre.questions.iter().all(|q| q.audio.is_empty()) {
            continue;
        }
        app.import_course(&c.course.slug).await;
        app.enroll(&learner, &c.course.slug).await;
        let players: usize = pre.questions.iter().map(|q| 1 + q.choices.len()).sum();
        tests.push((c.course.slug.clone(), players));
    }
    assert!(!tests.is_empty(), "no shipped pre-test has audio");
    // True or false is shown by a mark as well as by 对 and 错.
    let (_, html) = app
        .page(
            &learner,
            &format!("/courses/{}/quiz/pre?lang=zh-CN", tests[0].0),
        )
        .await;
    assert!(
        html.contains("<span aria-hidden=\"true\">✓</span> 对</label>")
            && html.contains("<span aria-hidden=\"true\">✗</span> 错</label>"),
        "{html}"
    );
    let b = Browser::start(false).await;
    b.goto(&app.url("/login?lang=zh-CN")).await;
    b.fill("#login", "13900000001").await;
    b.fill("#password", PASSWORD).await;
    b.click("button[type=submit]").await;
    b.wait_signed_in().await;
    for (slug, players) in tests {
        b.goto(&app.url(&format!("/courses/{slug}/quiz/pre?lang=zh-CN")))
            .await;
        let v = wait_js(
            &b,
            "const all = Array.from(document.querySelectorAll('audio.say'));
             all.forEach(a => { if (a.preload !== 'metadata') { a.preload = 'metadata'; a.load(); } });
             const bad = all.filter(a => a.error).map(a => a.currentSrc);
             if (bad.length) return ['error', bad];
             const ready = all.every(a => a.readyState >= 1 && isFinite(a.duration) && a.duration > 0);
             return all.length && ready ? all.map(a => [a.duration, a.getBoundingClientRect().height]) : null;",
            "every player of the pre-test loads",
        )
        .await;
        assert_ne!(v[0], json!("error"), "{slug}: {v}");
        let loaded = v.as_array().unwrap();
        assert_eq!(loaded.len(), players, "{slug}: {v}");
        for d in loaded {
            assert!(d[0].as_f64().unwrap() >= 0.5, "{slug}: {d}");
            assert!(d[1].as_f64().unwrap() >= 44.0, "{slug}: {d}");
        }
    }
    b.close().await;
}
