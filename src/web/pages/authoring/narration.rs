//! A lesson's narration, per language: upload (Opus, MP3 or M4A judged by
//! content, at most 2 MB) and remove after a confirmation. Both change the
//! draft like any lesson edit; learners hear it once the course is published.

use super::*;
use crate::courses::recording::{self, Refusal};
use crate::web::upload::Upload;

/// The largest body read: the 2 MB file and the multipart framing. Beyond
/// it the request is refused (413) before anything is parsed.
pub(super) const BODY_MB: usize = 3;

/// Why an uploaded file or recording is refused (a locale key), or the
/// file to keep. A recording (WebM, or `recorded`) becomes mono Ogg Opus.
pub(super) fn judge(
    file: Option<&[u8]>,
    bounds: recording::Bounds,
    recorded: bool,
) -> Result<recording::Ready, String> {
    recording::prepare(file, bounds, recorded).map_err(|r| match r {
        Refusal::Missing | Refusal::TooBig | Refusal::BadType => {
            format!("author.narration.{}", r.key())
        }
        _ => format!("author.audio.{}", r.key()),
    })
}

/// Whether the request comes from the recorder (`?recorded=1`).
pub(super) fn is_recorded(req: &HttpRequest) -> bool {
    req.query_string().split('&').any(|kv| kv == "recorded=1")
}

impl Editor<'_> {
    /// The lesson page again with one language's narration problem (422).
    pub(super) async fn narration_refused(
        &self,
        lesson: &str,
        lang: &str,
        key: &str,
    ) -> AppResult<HttpResponse> {
        self.lesson_refused(lesson, &format!("narration.{lang}"), key)
            .await
    }

    /// The lesson page again with one problem under `field` (422).
    pub(super) async fn lesson_refused(
        &self,
        lesson: &str,
        field: &str,
        key: &str,
    ) -> AppResult<HttpResponse> {
        let values = lessons::lesson_values(self.course(), lesson).ok_or(AppError::NotFound)?;
        let mut errors = Errors::new();
        errors.insert(field.to_string(), key.to_string());
        self.lesson_page(
            lesson,
            values,
            lessons::Shown {
                errors,
                ..Default::default()
            },
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await
    }

    /// The lesson and language exist in this course (404 otherwise).
    fn narration_target(&self, lesson: &str, lang: &str) -> AppResult<()> {
        let c = self.course();
        let known_lesson = c.lessons.iter().any(|l| l.slug == lesson);
        if !known_lesson || !c.languages.iter().any(|l| l == lang) {
            return Err(AppError::NotFound);
        }
        Ok(())
    }

    fn has_text(&self, lesson: &str, lang: &str) -> bool {
        self.course()
            .lessons
            .iter()
            .any(|l| l.slug == lesson && l.texts.contains_key(lang))
    }
}

pub async fn narration_upload(
    req: HttpRequest,
    author: Author,
    path: web::Path<(String, String, String)>,
    upload: Upload<BODY_MB>,
) -> crate::web::errors::WebResult<HttpResponse> {
    let (slug, lesson, lang) = path.into_inner();
    let e = author.editor(&slug).await?;
    e.narration_target(&lesson, &lang)?;
    if !e.has_text(&lesson, &lang) {
        return e
            .narration_refused(&lesson, &lang, "author.narration.no_text")
            .await
            .map_err(Into::into);
    }
    let file = upload.read().await?;
    let ready = match judge(file.as_deref(), recording::LESSON, is_recorded(&req)) {
        Ok(ready) => ready,
        Err(key) => return Ok(e.narration_refused(&lesson, &lang, &key).await?),
    };
    e.save("narration", |c| {
        edit::set_narration(c, &lesson, &lang, Some((ready.ext, ready.bytes.clone())))
    })
    .await?;
    Ok(redirect(&format!(
        "/teach/courses/{slug}/lessons/{lesson}?saved=1#narration"
    )))
}

pub async fn narration_remove(
    author: Author,
    path: web::Path<(String, String, String)>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let (slug, lesson, lang) = path.into_inner();
    let e = author.editor(&slug).await?;
    e.narration_target(&lesson, &lang)?;
    if Fields::parse(&body).get("confirm") != "yes" {
        return e
            .narration_refused(&lesson, &lang, "author.narration.confirm")
            .await;
    }
    e.save("narration removed", |c| {
        edit::set_narration(c, &lesson, &lang, None)
    })
    .await?;
    Ok(redirect(&format!(
        "/teach/courses/{slug}/lessons/{lesson}?saved=1#narration"
    )))
}

#[cfg(test)]
mod tests {
    use super::judge;

    #[test]
    fn uploads_are_judged_by_content_and_size() {
        use crate::courses::recording::LESSON;
        let key = |f: Option<&[u8]>| judge(f, LESSON, false).map(|r| r.ext);
        assert_eq!(key(None), Err("author.narration.missing".into()));
        assert_eq!(
            key(Some(b"\x89PNG\r\n\x1a\n")),
            Err("author.narration.bad_type".into())
        );
        // An ID3 tag alone is not audio; one followed by MPEG frames is.
        assert_eq!(
            key(Some(b"ID3\x04\0\0\0\0\0\x21\0\0")),
            Err("author.narration.bad_type".into())
        );
        let mut mp3 = b"ID3\x04\0\0\0\0\0\0".to_vec();
        for _ in 0..2 {
            mp3.extend_from_slice(&[0xFF, 0xFB, 0x90, 0x64]);
            mp3.resize(mp3.len() + 413, 0);
        }
        assert_eq!(key(Some(&mp3)), Ok("mp3"));
        let big = vec![0u8; crate::courses::audio::AUDIO_LIMIT + 1];
        assert_eq!(key(Some(&big)), Err("author.narration.too_big".into()));
    }
}
