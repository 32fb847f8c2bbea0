//! `GET /api/v1/courses/{slug}/offline`: what a learner's phone fetches to
//! keep a course she is enrolled in, and how many bytes that is, so that she
//! sees the size before she spends the data.

use actix_web::{HttpRequest, HttpResponse, web};

use crate::app::AppContext;
use crate::error::{AppError, AppResult};
use crate::learning::offline::{self, FileKind, OfflineFile, OfflineList};
use crate::policy::Action;
use crate::web::extract::{CurrentUser, Locale};
use crate::web::pages::{learn, offline as phone};

/// What the learner chose to keep besides text, pictures and sound.
#[derive(serde::Deserialize)]
pub struct Choice {
    /// `1`: the videos too.
    videos: Option<String>,
}

/// The pages (course page, lessons, lesson checks: no answer key) and media
/// (pictures, narration) of a course to keep on the phone, each with the size
/// of its body as served to the caller now (in her language, in low-data mode
/// when she is in it), and their sum; its videos are listed apart, with
/// their sizes, and kept only when she asks for them (`videos=1`). For an
/// enrolled learner only.
#[utoipa::path(get, path = "/api/v1/courses/{slug}/offline", tag = "learning",
    params(("slug" = String, Path, description = "Course slug"), ("lang" = Option<String>, Query, description = "Language: `zh-CN` or `en` (else `Accept-Language`)"), ("videos" = Option<String>, Query, description = "`1`: keep the videos too")),
    responses((status = 200, description = "The files to keep and their sizes", body = OfflineList),
        (status = 409, description = "Not enrolled in this course", body = crate::web::errors::ErrorBody)))]
pub async fn course_files(
    req: HttpRequest,
    state: web::Data<AppContext>,
    user: CurrentUser,
    locale: Locale,
    path: web::Path<String>,
    q: web::Query<Choice>,
) -> AppResult<HttpResponse> {
    user.actor.require(Action::Learn)?;
    let slug = path.into_inner();
    let info = state
        .content
        .published(&state.db, &slug)
        .await?
        .ok_or(AppError::NotFound)?;
    let enrolled = state.sessions.enrolled(&state.db, user.actor.id).await?;
    if !enrolled.contains(&slug) {
        return Err(AppError::Conflict(format!(
            "course: not enrolled in {slug:?}; enroll first, then save it for offline"
        )));
    }
    let (lang, low_data) = (locale.0, phone::low_data(&req));
    let mut files = Vec::new();
    for (kind, url) in offline::pages(&info) {
        let body = match kind {
            FileKind::Course => learn::course_body(&state, &user, lang, &slug).await?,
            FileKind::Lesson => {
                let lesson = url.rsplit('/').next().unwrap_or_default();
                let voice = super::super::pages::voice::choose(&req, false).0;
                learn::lesson_body(
                    &state,
                    &user,
                    lang,
                    &info,
                    lesson,
                    true,
                    (low_data, voice.as_deref()),
                )
                .await?
            }
            FileKind::Quiz => {
                let quiz = url.rsplit('/').next().unwrap_or_default();
                learn::quiz_body(&state, &user, lang, &slug, quiz).await?
            }
            FileKind::Media => continue,
        };
        files.push(OfflineFile {
            url,
            kind,
            bytes: body.len() as u64,
        });
    }
    for (url, bytes) in offline::media_sizes(&state.db, &info).await? {
        files.push(OfflineFile {
            url,
            kind: FileKind::Media,
            bytes,
        });
    }
    let with_videos = q.videos.as_deref() == Some("1");
    Ok(HttpResponse::Ok().json(OfflineList::new(&info, files, with_videos)))
}
