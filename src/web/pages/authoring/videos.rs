//! A lesson's videos, from the lesson page: a recording from the phone
//! (MP4, MOV or WebM, up to 200 MB and 10 minutes) is judged at once (a
//! video, with sound, not too long), then made into the lesson's 360p video
//! in the background ([`crate::catalog::videos`]); the status page shows a
//! progress bar and reloads itself until the video is in the draft (no
//! JavaScript needed). Captions are typed or uploaded (WebVTT, or SRT,
//! which is converted) per video.

use super::*;
use crate::catalog::videos;
use crate::courses::video;
use crate::entities::video_job::{self, VideoState};
use crate::web::upload::Upload;
use sea_orm::ActiveEnum;

/// The longest captions file.
const CAPTIONS_MB: usize = 1;

impl Editor<'_> {
    /// The latest video jobs of a lesson, for its page.
    pub(super) async fn video_jobs(&self, lesson: &str) -> AppResult<Vec<Value>> {
        let jobs = videos::of_lesson(&self.state.db, self.slug(), lesson).await?;
        Ok(jobs
            .iter()
            .filter(|j| j.state != VideoState::Done)
            .map(|j| self.job_view(j))
            .collect())
    }

    fn job_view(&self, j: &video_job::Model) -> Value {
        let (state, lang) = (self.state, self.lang);
        json!({
            "id": j.id, "alt": j.alt, "progress": j.progress,
            "percent": j.progress / 10,
            "working": matches!(j.state, VideoState::Queued | VideoState::Running),
            "done": j.state == VideoState::Done, "failed": j.state == VideoState::Failed,
            "error": j.error.as_deref().map(|k| tr(state, lang, k)),
            "state_text": tr(state, lang, &format!("author.video.state.{}", j.state.to_value())),
            "url": format!("/teach/courses/{}/videos/{}", self.slug(), j.id),
        })
    }
}

pub async fn video_upload(
    author: Author,
    path: web::Path<(String, String)>,
    upload: Upload<{ video::UPLOAD_MB }>,
) -> crate::web::errors::WebResult<HttpResponse> {
    let (slug, lesson) = path.into_inner();
    let e = author.editor(&slug).await?;
    if !e.course().lessons.iter().any(|l| l.slug == lesson) {
        return Err(AppError::NotFound.into());
    }
    let dir = videos::uploads_dir(&e.state.settings.data_dir);
    let source = dir.join(format!("video-{}", uuid::Uuid::new_v4().simple()));
    let (found, fields) = upload.save_with_fields(&source).await?;
    let judged = match (found, described(&fields, "author.video.no_alt")) {
        (false, _) => Err("author.video.missing"),
        (true, Err(key)) => Err(key),
        (true, Ok(alt)) => match video::probe(&source).await.and_then(|p| {
            video::accept(&p)?;
            Ok(p)
        }) {
            Ok(_) => Ok(alt),
            Err(key) => Err(key),
        },
    };
    let alt = match judged {
        Ok(alt) => alt,
        Err(key) => {
            let _ = tokio::fs::remove_file(&source).await;
            return Ok(e.lesson_refused(&lesson, "video", key).await?);
        }
    };
    let id = videos::start(&e.state.db, &e.user.actor, &slug, &lesson, &alt, &source).await?;
    Ok(redirect(&format!("/teach/courses/{slug}/videos/{id}")))
}

/// How a video is coming along: a progress bar that reloads every two
/// seconds while the video is being made (JSON for the editor's script).
pub async fn video_status(
    req: HttpRequest,
    author: Author,
    path: web::Path<(String, i64)>,
) -> AppResult<HttpResponse> {
    let (slug, id) = path.into_inner();
    let e = author.editor(&slug).await?;
    let j = videos::job(&e.state.db, &slug, id).await?;
    let view = e.job_view(&j);
    let wants_json = wants_json(&req);
    if wants_json {
        return Ok(HttpResponse::Ok()
            .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
            .json(view));
    }
    let lesson_title = stem_title_of(e.course(), &j.lesson, e.lang);
    let working = view["working"].as_bool().unwrap_or(false);
    let mut page = e
        .page("author.video.title")
        .set("job", view)
        .set("lesson", json!({"slug": j.lesson, "title": lesson_title}));
    if working {
        page = page.set("refresh", 2);
    }
    page.render(e.state, "pages/teach_video")
}

fn stem_title_of(c: &Course, slug: &str, lang: &str) -> String {
    c.lessons
        .iter()
        .find(|l| l.slug == slug)
        .and_then(|l| {
            l.texts
                .get(lang)
                .or_else(|| l.texts.get(c.default_language()))
        })
        .map(|t| t.title.clone())
        .unwrap_or_default()
}

/// Captions as typed on a phone: one line each, the minute and second it
/// starts and its words (`0:05 先打开相机`); each shows until the next one
/// starts (the last for 4 seconds).
fn typed_lines(text: &str) -> Option<String> {
    let mut cues: Vec<(u32, &str)> = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (time, words) = line.split_once(char::is_whitespace)?;
        let (m, sec) = time
            .replace('：', ":")
            .split_once(':')
            .map(|(m, s)| (m.to_string(), s.to_string()))?;
        let at = m.parse::<u32>().ok()? * 60 + sec.parse::<u32>().ok().filter(|s| *s < 60)?;
        if cues.last().is_some_and(|(t, _)| *t >= at) {
            return None;
        }
        cues.push((at, words.trim()));
    }
    let stamp = |t: u32| format!("{:02}:{:02}:{:02}.000", t / 3600, t / 60 % 60, t % 60);
    let mut out = String::from("WEBVTT\n\n");
    for (i, (at, words)) in cues.iter().enumerate() {
        let end = cues.get(i + 1).map_or(at + 4, |(n, _)| *n);
        out.push_str(&format!("{} --> {}\n{words}\n\n", stamp(*at), stamp(end)));
    }
    (!cues.is_empty()).then_some(out)
}

/// Captions as WebVTT: WebVTT as it is, SRT (`00:00:01,000 --> …`,
/// numbered cues) converted, lines typed on the phone (`0:05 先打开相机`)
/// made into cues; anything else refused (a locale key).
pub fn to_webvtt(text: &str) -> Result<String, &'static str> {
    let text = text.trim_start_matches('\u{feff}').replace("\r\n", "\n");
    if text.trim().is_empty() {
        return Err("author.captions.missing");
    }
    if text.starts_with("WEBVTT") {
        return Ok(text);
    }
    if !text.contains("-->") {
        return typed_lines(&text).ok_or("author.captions.bad");
    }
    let mut out = String::from("WEBVTT\n\n");
    let mut cues = 0;
    for block in text.split("\n\n").filter(|b| !b.trim().is_empty()) {
        let mut lines = block.lines().filter(|l| !l.trim().is_empty()).peekable();
        if lines
            .peek()
            .is_some_and(|l| l.trim().parse::<u32>().is_ok())
        {
            lines.next();
        }
        let Some(time) = lines.next().filter(|l| l.contains("-->")) else {
            return Err("author.captions.bad");
        };
        let time = time.replace(',', ".");
        let ok = time.split("-->").all(|t| {
            let t = t.trim();
            t.len() >= 9
                && t.bytes()
                    .all(|b| b.is_ascii_digit() || b == b':' || b == b'.')
        });
        if !ok {
            return Err("author.captions.bad");
        }
        out.push_str(time.trim());
        out.push('\n');
        for l in lines {
            out.push_str(l);
            out.push('\n');
        }
        out.push('\n');
        cues += 1;
    }
    if cues == 0 {
        return Err("author.captions.bad");
    }
    Ok(out)
}

pub async fn captions_save(
    author: Author,
    path: web::Path<(String, String)>,
    upload: Upload<CAPTIONS_MB>,
) -> crate::web::errors::WebResult<HttpResponse> {
    let (slug, lesson) = path.into_inner();
    let e = author.editor(&slug).await?;
    let (file, fields) = upload.read_with_fields().await?;
    let field = |k: &str| {
        fields
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let video = field("video");
    let lang = e.course().default_language().to_string();
    if !video.starts_with(&format!("media/{lesson}-video-"))
        || !e.course().media.iter().any(|m| m.path == video)
    {
        return Err(AppError::NotFound.into());
    }
    let remove = field("remove") == "1";
    let text = match file.filter(|f| !f.is_empty()) {
        Some(f) => String::from_utf8(f).map_err(|_| "author.captions.bad"),
        None => Ok(field("text")),
    };
    let vtt = if remove {
        Ok(None)
    } else {
        text.and_then(|t| to_webvtt(&t)).map(Some)
    };
    let vtt = match vtt.map(|v| v.map(String::into_bytes)) {
        Ok(v) => v,
        Err(key) => return Ok(e.lesson_refused(&lesson, "captions", key).await?),
    };
    e.save("captions", |c| {
        crate::courses::edit::set_captions(c, &video, &lang, vtt.clone())
    })
    .await?;
    Ok(redirect(&format!(
        "/teach/courses/{slug}/lessons/{lesson}?saved=1#videos"
    )))
}

#[cfg(test)]
mod tests {
    use super::to_webvtt;

    #[test]
    fn srt_becomes_webvtt() {
        let srt = "1\r\n00:00:01,000 --> 00:00:03,500\r\n先打开相机\r\n\r\n2\r\n00:00:04,000 --> 00:00:06,000\r\n对准商品\r\n";
        assert_eq!(
            to_webvtt(srt).unwrap(),
            "WEBVTT\n\n00:00:01.000 --> 00:00:03.500\n先打开相机\n\n00:00:04.000 --> 00:00:06.000\n对准商品\n\n"
        );
        assert!(to_webvtt("WEBVTT\n\n00:00.000 --> 00:01.000\n好").is_ok());
        assert_eq!(to_webvtt("随便写的字").unwrap_err(), "author.captions.bad");
        assert_eq!(
            to_webvtt("0:01 先打开相机\n0:05 对准商品").unwrap(),
            "WEBVTT\n\n00:00:01.000 --> 00:00:05.000\n先打开相机\n\n00:00:05.000 --> 00:00:09.000\n对准商品\n\n"
        );
        // Out of order: refused, not guessed.
        assert!(to_webvtt("0:05 后\n0:01 先").is_err());
        assert_eq!(to_webvtt("  ").unwrap_err(), "author.captions.missing");
    }
}
