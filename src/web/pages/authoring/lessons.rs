//! The lesson editor: add, reorder, edit in Markdown with a server-rendered preview.

use super::forms::NewLesson;
use super::*;
use crate::courses::edit::LessonEdit;

pub async fn lesson_add(
    author: Author,
    path: web::Path<String>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let (e, mut f) = author.form(&path, &body).await?;
    // No slug typed (it sits under "More"): one is made from the title.
    if f.get("lesson_slug").is_empty() {
        let c = e.course();
        let taken: Vec<&str> = c.lessons.iter().map(|l| l.slug.as_str()).collect();
        let n = c.lessons.len() + 1;
        f.set(
            "lesson_slug",
            &edit::derive_slug(&f.get("lesson_title"), "lesson", n, &taken),
        );
    }
    match NewLesson::try_from(e.form(&f)) {
        Ok(new) => {
            let lesson = new.slug.as_str();
            e.save("lesson added", |c| {
                edit::add_lesson(c, lesson, &new.title);
                true
            })
            .await?;
            let slug = e.slug();
            Ok(redirect(&format!("/teach/courses/{slug}/lessons/{lesson}")))
        }
        Err(errors) => {
            let mut v = meta_values(e.course());
            // A slug made here is not shown back as if it had been typed.
            let typed = Fields::parse(&body).get("lesson_slug");
            v["lesson_slug"] = json!(typed);
            v["lesson_title"] = json!(f.get("lesson_title"));
            e.course_page(v, &errors, None, StatusCode::UNPROCESSABLE_ENTITY)
                .await
        }
    }
}

pub async fn lesson_move(
    state: State,
    user: CurrentUser,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let (slug, lesson) = path.into_inner();
    let up = Fields::parse(&body).get("dir") == "up";
    authoring::edit(&state.db, &user.actor, &slug, "lesson moved", |c| {
        c.lessons.iter().any(|l| l.slug == lesson) && {
            edit::move_lesson(c, &lesson, up);
            true
        }
    })
    .await?;
    Ok(redirect(&format!("/teach/courses/{slug}")))
}

pub(super) fn lesson_values(c: &Course, slug: &str) -> Option<Value> {
    let l = c.lessons.iter().find(|l| l.slug == slug)?;
    let first = l
        .texts
        .get(c.default_language())
        .or_else(|| l.texts.values().next());
    let mut v = json!({
        "minutes": first.map_or(5, |t| t.minutes).to_string(),
        "competence": first.map(|t| t.competences.clone()).unwrap_or_default(),
    });
    for (lang, t) in &l.texts {
        v[format!("title.{lang}")] = json!(t.title);
        v[format!("body.{lang}")] = json!(t.body_md);
    }
    Some(v)
}

/// The course's pictures (`media/…`), for the toolbar's picture button.
pub(super) fn pictures(c: &Course) -> Vec<String> {
    c.media
        .iter()
        .map(|m| m.path.clone())
        .filter(|p| {
            // A video's poster is the video's, not a picture to place.
            let poster = p.strip_suffix(".jpg").is_some_and(|stem| {
                let video = format!("{stem}.mp4");
                c.media.iter().any(|m| m.path == video)
            });
            !poster
                && [".png", ".webp", ".svg", ".jpg"]
                    .iter()
                    .any(|e| p.ends_with(e))
        })
        .collect()
}

/// The videos of a lesson (`media/{lesson}-video-N.mp4`), with their
/// captions in the course's first language, as the lesson page shows them.
pub(super) fn videos(c: &Course, lesson: &str, version: i32) -> Vec<Value> {
    let prefix = format!("media/{lesson}-video-");
    let lang = c.default_language();
    c.media
        .iter()
        .filter(|m| m.path.starts_with(&prefix) && m.path.ends_with(".mp4"))
        .map(|m| {
            let vtt = crate::courses::media::captions_of(&m.path, lang);
            let captions = c
                .media
                .iter()
                .find(|x| Some(&x.path) == vtt.as_ref())
                .map(|x| String::from_utf8_lossy(&x.bytes).to_string());
            json!({"path": m.path, "url": format!("/c/{}/{version}/{}", c.slug, m.path),
                   "kb": m.bytes.len().div_ceil(1024),
                   "captions": captions})
        })
        .collect()
}

/// What the lesson page shows besides the stored lesson.
#[derive(Default)]
pub(super) struct Shown {
    pub(super) errors: Errors,
    pub(super) preview: Option<Vec<Value>>,
    pub(super) flash: Option<String>,
}

impl Editor<'_> {
    pub(super) async fn lesson_page(
        &self,
        lesson: &str,
        values: Value,
        shown: Shown,
        status: StatusCode,
    ) -> AppResult<HttpResponse> {
        let (state, lang, c) = (self.state, self.lang, self.course());
        let l = c
            .lessons
            .iter()
            .find(|l| l.slug == lesson)
            .ok_or(AppError::NotFound)?;
        let stem = l.stem();
        let file = format!("lessons/{stem}.");
        let (_, problems) = self.problems(|f| f.starts_with(&file)).await?;
        let errors = &shown.errors;
        let version = self.w.row.version;
        let langs: Vec<Value> = c
            .languages
            .iter()
            .map(|code| {
                let text = l.texts.get(code);
                let audio = text
                    .and_then(|t| t.audio.as_deref())
                    .map(|a| format!("/c/{}/{version}/{a}", c.slug));
                json!({"has_text": text.is_some(), "audio": audio,
                       "narration_err": errors.get(&format!("narration.{code}")).map(|m| tr(state, lang, m)),
                       "code": code, "title": values.get(format!("title.{code}")).cloned().unwrap_or(json!("")),
                       "body": values.get(format!("body.{code}")).cloned().unwrap_or(json!("")),
                       "name": tr(state, lang, &format!("lang.{code}")),
                       "title_err": errors.get(&format!("title.{code}")).map(|m| tr(state, lang, m))})
            })
            .collect();
        let chosen = chosen(&values, "competence");
        let competences: Vec<Value> = self
            .competences()
            .await?
            .into_iter()
            .map(|mut o| {
                o["checked"] = json!(
                    chosen
                        .iter()
                        .any(|x| Some(x.as_str()) == o["code"].as_str())
                );
                o
            })
            .collect();
        let minutes = values
            .get("minutes")
            .and_then(Value::as_str)
            .unwrap_or("5")
            .to_string();
        let tracks: Vec<Value> = l
            .texts
            .get(c.default_language())
            .map(|t| t.tracks.clone())
            .unwrap_or_default()
            .iter()
            .map(|t| {
                json!({"id": t.id, "label": pick(&t.label, lang, c),
                       "audio": format!("/c/{}/{version}/{}", c.slug, t.audio)})
            })
            .collect();
        let varieties: Vec<Value> = super::voices::VARIETIES
            .iter()
            .map(|(id, zh, en)| json!({"id": id, "label": if lang == "en" { *en } else { *zh }}))
            .collect();
        self.page("author.lesson")
            .set(
                "lesson",
                json!({"slug": l.slug, "stem": stem, "title": l.texts.get(lang)
                .or_else(|| l.texts.get(c.default_language()))
                .map(|t| t.title.clone()).unwrap_or_default()}),
            )
            .set("pictures", pictures(c))
            .set("videos", videos(c, lesson, version))
            .set("video_jobs", self.video_jobs(lesson).await?)
            .set("video_err", errors.get("video").map(|m| tr(state, lang, m)))
            .set(
                "captions_err",
                errors.get("captions").map(|m| tr(state, lang, m)),
            )
            .set("tracks", tracks)
            .set("varieties", varieties)
            .set("track_err", errors.get("track").map(|m| tr(state, lang, m)))
            .set("langs", langs)
            .set("minutes", minutes)
            .set("errors", self.errors(errors))
            .set("competences", competences)
            .set("preview", shown.preview)
            .set("problems", problems)
            .set("flash", shown.flash)
            .render_status(state, "pages/teach_lesson", status)
    }
}

pub async fn lesson_edit(
    author: Author,
    path: web::Path<(String, String)>,
    q: web::Query<Flash>,
) -> AppResult<HttpResponse> {
    let (slug, lesson) = path.into_inner();
    let e = author.editor(&slug).await?;
    let values = lesson_values(e.course(), &lesson).ok_or(AppError::NotFound)?;
    let shown = Shown {
        flash: e.saved(&q),
        ..Default::default()
    };
    e.lesson_page(&lesson, values, shown, StatusCode::OK).await
}

/// Saves a lesson, or (the preview button) shows it rendered without saving.
pub async fn lesson_save(
    author: Author,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let (slug, lesson) = path.into_inner();
    let e = author.editor(&slug).await?;
    if !e.course().lessons.iter().any(|l| l.slug == lesson) {
        return Err(AppError::NotFound);
    }
    let f = Fields::parse(&body);
    if f.get("action") == "preview" {
        let prefix = format!("/c/{slug}/{}", e.w.row.version);
        let media: Vec<String> = e.course().media.iter().map(|m| m.path.clone()).collect();
        let preview: Vec<Value> = e
            .course()
            .languages
            .iter()
            .map(|code| {
                let title = f.get(&format!("title.{code}"));
                let body = render_markdown(&f.raw(&format!("body.{code}")), &prefix, &media);
                json!({"name": e.tr(&format!("lang.{code}")),
                       "html": crate::catalog::view::titled(&title, &body)})
            })
            .collect();
        let shown = Shown {
            preview: Some(preview),
            ..Default::default()
        };
        return e
            .lesson_page(&lesson, f.values(), shown, StatusCode::OK)
            .await;
    }
    match LessonEdit::try_from(e.form(&f)) {
        Ok(change) => {
            e.save("lesson", |c| edit::set_lesson(c, &lesson, &change))
                .await?;
            Ok(redirect(&format!(
                "/teach/courses/{slug}/lessons/{lesson}?saved=1"
            )))
        }
        Err(errors) => {
            let shown = Shown {
                errors,
                ..Default::default()
            };
            e.lesson_page(&lesson, f.values(), shown, StatusCode::UNPROCESSABLE_ENTITY)
                .await
        }
    }
}
