//! Pictures and videos from the phone, through the lesson editor: a photo
//! loses its position and size, a recording becomes a 360p video that
//! ffprobe vouches for, nothing of a video sits in a database row, and a
//! learner gets the video, its sound alone in low-data mode, and its
//! captions.

use std::process::Command;

mod phone;

use crate::engine_test;
use crate::helpers::{CLIP, COURSE, SILENT_CLIP, TestApp, multipart};
use fuzhi::courses::Course;

const LESSON: &str = "wifi-and-data";

fn media<'a>(c: &'a Course, path: &str) -> &'a [u8] {
    &c.media
        .iter()
        .find(|m| m.path == path)
        .unwrap_or_else(|| panic!("{path} in the draft"))
        .bytes
}

/// A phone photo: 3000×2250 pixels of a scene with detail, turned by its
/// EXIF (orientation 6), with a GPS position; about 3 MB.
fn phone_photo() -> Vec<u8> {
    let img = image::RgbImage::from_fn(3000, 2250, |x, y| {
        let n = (x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503)) >> 26;
        let sky = y < 900;
        let base = if sky {
            [120 + (y / 10) as u8 % 60, 170, 230]
        } else {
            [70 + (x / 40 % 50) as u8, 120 + (y / 30 % 60) as u8, 40]
        };
        image::Rgb(base.map(|c| c.saturating_add(n as u8)))
    });
    let mut plain = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut plain, 97)
        .encode_image(&img)
        .unwrap();
    // APP1 EXIF: orientation 6 and GPSLatitudeRef "N", as a phone writes it.
    let mut t = b"MM\0\x2a\0\0\0\x08".to_vec();
    t.extend_from_slice(&2u16.to_be_bytes());
    t.extend_from_slice(&[0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0]);
    t.extend_from_slice(&[0x88, 0x25, 0, 4, 0, 0, 0, 1, 0, 0, 0, 38]);
    t.extend_from_slice(&[0, 0, 0, 0]);
    t.extend_from_slice(&1u16.to_be_bytes());
    t.extend_from_slice(&[0x00, 0x01, 0, 2, 0, 0, 0, 2, b'N', 0, 0, 0]);
    t.extend_from_slice(&[0, 0, 0, 0]);
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&t);
    let mut out = plain[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&plain[2..]);
    out
}

async fn a_phone_photo_is_kept_small_upright_and_without_its_position(app: TestApp) {
    let p = app.people().await;
    app.import_course(COURSE).await;
    let admin = app.token(p.admin).await;
    let url = format!("/teach/courses/{COURSE}/lessons/{LESSON}/pictures");
    let photo = phone_photo();
    assert!(photo.len() > 1_000_000, "{} bytes", photo.len());
    // The alt text is required: nothing is kept without it.
    let res = app
        .send_file(&admin, &url, &[("alt", "  ")], "IMG_0001.jpg", &photo)
        .await;
    assert_eq!(res.status().as_u16(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("图片：请写一句话说明图片上是什么")
    );
    // Not a picture, whatever its name.
    let res = app
        .send_file(&admin, &url, &[("alt", "付款码")], "x.jpg", CLIP)
        .await;
    assert_eq!(res.status().as_u16(), 422);
    // From the editor's script: placed where the cursor is, the JSON says where.
    let (ct, body) = multipart(
        &[("alt", "付款码页面"), ("place", "cursor")],
        "IMG_0001.jpg",
        &photo,
    );
    let res = app
        .client
        .post(app.url(&url))
        .bearer_auth(&admin)
        .header("content-type", ct)
        .header("accept", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let j: serde_json::Value = res.json().await.unwrap();
    let path = j["path"].as_str().unwrap().to_string();
    assert_eq!(path, format!("media/{LESSON}-1.jpg"));
    assert_eq!(j["markdown"], format!("![付款码页面]({path})"));
    let c = app.draft(COURSE).await;
    let kept = media(&c, &path);
    assert!(kept.len() <= 80 * 1024, "{} bytes kept", kept.len());
    eprintln!(
        "a phone photo of {} bytes kept as {} bytes",
        photo.len(),
        kept.len()
    );
    assert!(!kept.windows(4).any(|w| w == b"Exif"), "no EXIF left");
    assert_eq!(fuzhi::courses::picture::metadata(kept), None);
    let back = image::load_from_memory(kept).unwrap();
    // Upright (the phone was turned) and 720 px wide.
    assert_eq!((back.width(), back.height()), (720, 960));
    // Placed by the script: the text is as the author left it.
    let body = &c.lessons.iter().find(|l| l.slug == LESSON).unwrap().texts["zh-CN"].body_md;
    assert!(!body.contains(&path));
    // Without the script: added at the end of the text with its alt text.
    let res = app
        .send_file(&admin, &url, &[("alt", "设置页面")], "IMG_0002.jpg", &photo)
        .await;
    assert_eq!(res.status().as_u16(), 303);
    let c = app.draft(COURSE).await;
    let body = &c.lessons.iter().find(|l| l.slug == LESSON).unwrap().texts["zh-CN"].body_md;
    assert!(
        body.trim_end()
            .ends_with(&format!("![设置页面](media/{LESSON}-2.jpg)")),
        "{body}"
    );
    app.finish().await;
}
engine_test!(a_phone_photo_is_kept_small_upright_and_without_its_position);

/// ffprobe's answer about a file, as JSON.
fn probe(bytes: &[u8], args: &[&str]) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("f");
    std::fs::write(&f, bytes).unwrap();
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-print_format", "json"])
        .args(args)
        .arg(&f)
        .output()
        .expect("ffprobe (Debian package ffmpeg) is installed by .ci/test");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

async fn a_recording_becomes_a_small_video_a_learner_can_watch_or_only_hear(app: TestApp) {
    let p = app.people().await;
    app.import_course(COURSE).await;
    let admin = app.token(p.admin).await;
    let url = format!("/teach/courses/{COURSE}/lessons/{LESSON}/videos");
    // Refused at once, with the reason, and nothing kept.
    for (fields, name, bytes, says) in [
        (
            &[("alt", "演示")][..],
            "silent.mp4",
            SILENT_CLIP,
            "视频：没有声音",
        ),
        (
            &[("alt", "演示")][..],
            "notes.mp4",
            b"not a video at all".as_slice(),
            "视频：这个文件不是视频",
        ),
        (
            &[("alt", "")][..],
            "clip.mp4",
            CLIP,
            "视频：请写一句话说明视频里是什么",
        ),
    ] {
        let res = app.send_file(&admin, &url, fields, name, bytes).await;
        assert_eq!(res.status().as_u16(), 422, "{name}");
        assert!(res.text().await.unwrap().contains(says), "{name}: {says}");
    }
    assert_eq!(
        app.count("video_job").await,
        0,
        "a refused recording makes no job"
    );
    let res = app
        .send_file(
            &admin,
            &url,
            &[("alt", "拍商品照片的演示")],
            "clip.mp4",
            CLIP,
        )
        .await;
    assert_eq!(res.status().as_u16(), 303);
    let status = res.headers()["location"].to_str().unwrap().to_string();
    let id: i64 = status.rsplit('/').next().unwrap().parse().unwrap();
    // The status page while it works (or once done) says so.
    let (code, html) = app.page(&admin, &status).await;
    assert_eq!(code, 200);
    assert!(html.contains("拍商品照片的演示"));
    let job = fuzhi::catalog::videos::ended(app.conn(), id).await.unwrap();
    assert_eq!(
        job.state,
        fuzhi::entities::video_job::VideoState::Done,
        "{:?}",
        job.error
    );
    let video_path = job.media_path.unwrap();
    assert_eq!(video_path, format!("media/{LESSON}-video-1.mp4"));
    let (code, html) = app.page(&admin, &status).await;
    assert_eq!(code, 200);
    assert!(
        !html.contains("http-equiv=\"refresh\""),
        "a finished job stops reloading"
    );
    // The video: H.264 Constrained Baseline, 360p at most, a key frame
    // every 6 s, AAC mono, nothing of the phone's metadata.
    let c = app.draft(COURSE).await;
    let video = media(&c, &video_path).to_vec();
    let v = probe(&video, &["-show_streams", "-show_format"]);
    let streams = v["streams"].as_array().unwrap();
    let vs = streams.iter().find(|s| s["codec_type"] == "video").unwrap();
    assert_eq!(vs["codec_name"], "h264");
    assert_eq!(vs["profile"], "Constrained Baseline");
    assert!(
        vs["width"]
            .as_u64()
            .unwrap()
            .min(vs["height"].as_u64().unwrap())
            <= 360
    );
    let a = streams.iter().find(|s| s["codec_type"] == "audio").unwrap();
    assert_eq!(
        (a["codec_name"].as_str(), a["channels"].as_u64()),
        (Some("aac"), Some(1))
    );
    let tags = v["format"]["tags"].to_string();
    assert!(
        !tags.contains("location") && !tags.contains("creation_time"),
        "{tags}"
    );
    let keys = probe(
        &video,
        &[
            "-select_streams",
            "v",
            "-skip_frame",
            "nokey",
            "-show_entries",
            "frame=pts_time",
        ],
    );
    let times: Vec<f64> = keys["frames"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["pts_time"].as_str()?.parse().ok())
        .collect();
    assert!(!times.is_empty());
    for w in times.windows(2) {
        assert!(w[1] - w[0] <= 6.01, "key frames {times:?}");
    }
    // Peak bitrate over any one second stays under the cap (+ audio).
    let packets = probe(&video, &["-show_entries", "packet=pts_time,size"]);
    let mut per_second = std::collections::BTreeMap::<u64, u64>::new();
    for pk in packets["packets"].as_array().unwrap() {
        let t: f64 = pk["pts_time"]
            .as_str()
            .and_then(|t| t.parse().ok())
            .unwrap_or(0.0);
        let size: u64 = pk["size"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        *per_second.entry(t as u64).or_default() += size * 8;
    }
    let peak = per_second.values().max().copied().unwrap_or(0);
    assert!(peak <= 400_000, "peak {peak} bit/s");
    // Its sound alone: Opus, mono, small.
    let sound = media(&c, &format!("media/{LESSON}-video-1.opus"));
    let s = probe(sound, &["-show_streams"]);
    assert_eq!(s["streams"][0]["codec_name"], "opus");
    assert_eq!(s["streams"][0]["channels"], 1);
    // The poster: a JPEG lesson picture with no metadata.
    let poster = media(&c, &format!("media/{LESSON}-video-1.jpg"));
    assert_eq!(fuzhi::courses::picture::metadata(poster), None);
    assert!(image::load_from_memory(poster).is_ok());
    // No database row holds the video: its row names a file in the store.
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let rows = fuzhi::entities::course_media::Entity::find()
        .filter(fuzhi::entities::course_media::Column::Path.eq(video_path.clone()))
        .all(app.conn())
        .await
        .unwrap();
    assert!(!rows.is_empty());
    for r in &rows {
        assert!(r.content.is_empty(), "the video's bytes are not in the row");
        assert_eq!(r.size as usize, video.len());
        let name = r.file_key.as_deref().expect("a file store name");
        assert_eq!(fuzhi::catalog::files::get(name).unwrap(), video);
    }
    // Captions typed on the phone.
    let res = app
        .send_file(
            &admin,
            &format!("/teach/courses/{COURSE}/lessons/{LESSON}/captions"),
            &[
                ("video", &video_path),
                ("text", "0:00 先打开相机\n0:02 对准商品"),
            ],
            "",
            b"",
        )
        .await;
    assert_eq!(res.status().as_u16(), 303);
    let c = app.draft(COURSE).await;
    let vtt = String::from_utf8(media(&c, &format!("media/{LESSON}-video-1.zh-CN.vtt")).to_vec())
        .unwrap();
    assert!(
        vtt.starts_with("WEBVTT") && vtt.contains("00:00:02.000 --> 00:00:06.000\n对准商品"),
        "{vtt}"
    );
    // Published, a learner sees the player (no script needed) and can
    // choose the sound alone; in low-data mode the sound comes first.
    let res = app
        .client
        .post(app.url(&format!("/teach/courses/{COURSE}/publish")))
        .bearer_auth(&admin)
        .form(&[("confirm", "yes")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status().as_u16(),
        303,
        "{}",
        res.text().await.unwrap_or_default()
    );
    let learner = app.token(p.learner).await;
    let enroll = app.enroll_on_page(&learner, COURSE).await;
    assert!(enroll.status().as_u16() < 400);
    let (code, html) = app
        .page(&learner, &format!("/courses/{COURSE}/lessons/{LESSON}"))
        .await;
    assert_eq!(code, 200);
    let article = crate::helpers::between(&html, "<article class=\"lesson\">", "</article>")
        .unwrap_or_default();
    assert!(
        html.contains("<video controls=\"\" preload=\"none\""),
        "the player: {article}"
    );
    assert!(
        html.contains("<track kind=\"captions\" srclang=\"zh-CN\""),
        "the captions"
    );
    assert!(html.contains("只听声音"), "the sound alone is offered");
    let src = crate::helpers::between(&html, "playsinline=\"\" poster=\"", "\"").unwrap();
    assert!(src.ends_with("-video-1.jpg"));
    let video_url = crate::helpers::between(&html, ".jpg\" src=\"", "\"").unwrap();
    assert!(video_url.ends_with(".mp4"), "{video_url}");
    // Byte ranges, as a player asks: the right bytes, streamed from the store.
    let res = app
        .client
        .get(app.url(&video_url))
        .bearer_auth(&learner)
        .header("range", "bytes=100-1099")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 206);
    assert_eq!(
        res.headers()["content-range"].to_str().unwrap(),
        format!("bytes 100-1099/{}", video.len())
    );
    assert_eq!(res.bytes().await.unwrap().as_ref(), &video[100..1100]);
    let res = app.client.get(app.url(&video_url)).send().await.unwrap();
    assert_eq!(res.bytes().await.unwrap().len(), video.len());
    // Saving for offline: the video is listed with its size, kept only when chosen.
    let (code, list) = app
        .get_json(&format!("/api/v1/courses/{COURSE}/offline"), &learner)
        .await;
    assert_eq!(code, 200);
    let urls = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|f| f["url"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(!urls(&list["files"]).iter().any(|u| u.ends_with(".mp4")));
    assert!(
        urls(&list["files"])
            .iter()
            .any(|u| u.ends_with("-video-1.opus")),
        "the sound is kept"
    );
    assert_eq!(urls(&list["videos"]), vec![video_url.clone()]);
    assert_eq!(
        list["videos"][0]["bytes"].as_u64(),
        Some(video.len() as u64)
    );
    let (_, chosen) = app
        .get_json(
            &format!("/api/v1/courses/{COURSE}/offline?videos=1"),
            &learner,
        )
        .await;
    assert!(urls(&chosen["files"]).contains(&video_url));
    assert_eq!(
        chosen["bytes"].as_u64().unwrap(),
        list["bytes"].as_u64().unwrap() + video.len() as u64
    );
    let res = app
        .client
        .get(app.url(&format!("/courses/{COURSE}/lessons/{LESSON}")))
        .bearer_auth(&learner)
        .header("save-data", "on")
        .send()
        .await
        .unwrap();
    let low = res.text().await.unwrap();
    assert!(
        !low.contains("<video"),
        "low-data mode loads no video player"
    );
    assert!(low.contains("<audio controls preload=\"none\""));
    assert!(
        low.contains("看视频（"),
        "the video is a tap away, its size said"
    );
    app.finish().await;
}
engine_test!(a_recording_becomes_a_small_video_a_learner_can_watch_or_only_hear);

/// Changes of one course that meet (two tabs, a video finished in the
/// background while the trainer saves) run one after the other: none fails
/// and none is lost, even when more of them wait than the pool has
/// connections (a waiting save holds none).
async fn changes_that_meet_are_all_kept(app: TestApp) {
    let p = app.people().await;
    app.import_course(COURSE).await;
    let admin = fuzhi::accounts::users::find(app.conn(), p.admin)
        .await
        .unwrap()
        .unwrap();
    let admin = fuzhi::accounts::users::actor_of(&admin);
    let lessons: Vec<String> = crate::helpers::shipped()
        .1
        .iter()
        .find(|c| c.course.slug == COURSE)
        .unwrap()
        .course
        .lessons
        .iter()
        .map(|l| l.slug.clone())
        .collect();
    const SAVES: usize = 16;
    let edits = (0..SAVES).map(|i| {
        let (db, actor, lesson) = (
            app.conn().clone(),
            admin.clone(),
            lessons[i % lessons.len()].clone(),
        );
        tokio::spawn(async move {
            fuzhi::catalog::authoring::edit(&db, &actor, COURSE, "text", |c| {
                let l = c.lessons.iter_mut().find(|l| l.slug == lesson).unwrap();
                let t = l.texts.get_mut("zh-CN").unwrap();
                t.body_md.push_str(&format!("\n\n标记 {i}\n"));
                t.source = None;
                true
            })
            .await
        })
    });
    for e in futures_util::future::join_all(edits).await {
        e.unwrap()
            .expect("a change that meets another is not refused");
    }
    let c = app.draft(COURSE).await;
    let all: String = c
        .lessons
        .iter()
        .map(|l| l.texts["zh-CN"].body_md.clone())
        .collect();
    for i in 0..SAVES {
        assert!(all.contains(&format!("标记 {i}")), "change {i} was lost");
    }
    app.finish().await;
}
engine_test!(changes_that_meet_are_all_kept);
