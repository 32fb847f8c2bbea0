//! Course catalog, lessons, enrollment, events, quizzes, progress, sign-offs,
//! classes and certificates (JSON).

use std::collections::BTreeMap;

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use crate::app::AppContext;
use crate::catalog::view::{self, CourseSummary};
use crate::error::{AppError, AppResult};
use crate::learning::{certificates, classes, enroll, events, progress, tasks};
use crate::policy::Action;
use crate::web::extract::{CurrentUser, Locale};

type State = web::Data<AppContext>;

pub use crate::catalog::view::list_courses;

pub async fn courses(state: State, user: CurrentUser, locale: Locale) -> AppResult<HttpResponse> {
    let rows = list_courses(&state.db, user.actor.may(Action::ViewDraftCourses)).await?;
    let items: Vec<_> = rows
        .iter()
        .map(|c| CourseSummary::of(c, locale.0))
        .collect();
    Ok(HttpResponse::Ok().json(json!({"total": items.len(), "items": items})))
}

pub async fn course(
    state: State,
    user: CurrentUser,
    locale: Locale,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let (_, view) = view::course_view(&state, &user.actor, &path, locale.0).await?;
    Ok(HttpResponse::Ok().json(view))
}

pub async fn lesson(
    state: State,
    user: CurrentUser,
    locale: Locale,
    path: web::Path<(String, String)>,
) -> AppResult<HttpResponse> {
    let (slug, lesson) = path.into_inner();
    let view = view::lesson_view(&state, &user.actor, &slug, &lesson, locale.0).await?;
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Deserialize)]
pub struct QuizQuery {
    /// The attempt to show the questions for (a new one when absent): its
    /// choices come in the order made for this learner and attempt.
    #[serde(default)]
    attempt_id: Option<String>,
}

pub async fn quiz(
    state: State,
    user: CurrentUser,
    locale: Locale,
    path: web::Path<(String, String)>,
    query: web::Query<QuizQuery>,
) -> AppResult<HttpResponse> {
    let (slug, quiz) = path.into_inner();
    let attempt = match query.attempt_id.as_deref() {
        Some(a) => uuid::Uuid::parse_str(a.trim())
            .map_err(|_| AppError::field("attempt_id", "is not a UUID"))?,
        None => uuid::Uuid::new_v4(),
    };
    let view = view::quiz_view(&state, &user.actor, &slug, &quiz, locale.0, attempt).await?;
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Deserialize, Default)]
pub struct EnrollBody {
    #[serde(default)]
    user_id: Option<i64>,
    #[serde(default)]
    user_ids: Vec<i64>,
    #[serde(default)]
    cohort: Option<String>,
}

pub async fn enroll_api(
    state: State,
    user: CurrentUser,
    path: web::Path<String>,
    body: Option<web::Json<EnrollBody>>,
) -> AppResult<HttpResponse> {
    let body = body.map(|b| b.into_inner()).unwrap_or_default();
    let mut ids = body.user_ids.clone();
    ids.extend(body.user_id);
    if ids.is_empty() {
        user.actor.require(Action::Learn)?;
        let e = enroll::enroll(
            &state.db,
            &state.content,
            &user.actor,
            &crate::accounts::users::find(&state.db, user.actor.id)
                .await?
                .ok_or(AppError::NotFound)?,
            &path,
            body.cohort.clone(),
        )
        .await?;
        state.sessions.refresh(&state.db).await?;
        return Ok(HttpResponse::Ok().json(json!({"enrolled": [e.user_id], "state": e.state})));
    }
    user.actor.require(Action::EnrollOthers)?;
    let done: Vec<i64> = enroll::enroll_many(
        &state.db,
        &state.content,
        &user.actor,
        &ids,
        &path,
        body.cohort.clone(),
    )
    .await?
    .into_iter()
    .map(|e| e.user_id)
    .collect();
    state.sessions.refresh(&state.db).await?;
    Ok(HttpResponse::Ok().json(json!({"enrolled": done})))
}

pub async fn post_events(
    state: State,
    user: CurrentUser,
    body: web::Json<Vec<events::EventIn>>,
) -> crate::web::errors::WebResult<HttpResponse> {
    user.actor.require(Action::Learn)?;
    if body.len() > events::MAX_BATCH {
        return Err(crate::web::errors::WebError::TooLarge(format!(
            "at most {} events a batch",
            events::MAX_BATCH
        )));
    }
    let r = events::ingest(&state, &user.actor, "api", body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(r))
}

#[derive(Deserialize)]
pub struct AttemptBody {
    answers: BTreeMap<String, Vec<String>>,
    /// Client-made id: a resubmission of the same attempt is not counted twice.
    #[serde(default)]
    attempt_id: Option<String>,
}

pub async fn attempt(
    state: State,
    user: CurrentUser,
    path: web::Path<(String, String)>,
    body: web::Json<AttemptBody>,
) -> AppResult<HttpResponse> {
    user.actor.require(Action::Learn)?;
    let (slug, quiz) = path.into_inner();
    let id = body
        .attempt_id
        .clone()
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let graded =
        events::submit_quiz(&state, &user.actor, "api", &slug, &quiz, &body.answers, &id).await?;
    match graded {
        Ok(g) => Ok(HttpResponse::Ok().json(g)),
        Err(rej) if rej.reason.contains("not a quiz") || rej.reason.contains("not a published") => {
            Err(AppError::NotFound)
        }
        Err(rej) => Err(AppError::field("answers", rej.reason)),
    }
}

pub async fn my_progress(state: State, user: CurrentUser) -> AppResult<HttpResponse> {
    user.actor.require(Action::Learn)?;
    let items = progress::overview(&state.db, &state.content, user.actor.id).await?;
    Ok(HttpResponse::Ok().json(json!({"total": items.len(), "items": items})))
}

pub async fn signoff(
    state: State,
    user: CurrentUser,
    body: web::Json<tasks::SignOff>,
) -> AppResult<HttpResponse> {
    let row = tasks::sign_off(
        &state.db,
        &state.content,
        Some(&state.views),
        &state.settings.base_url(),
        &user.actor,
        &body,
    )
    .await?;
    Ok(HttpResponse::Created().json(json!({"id": row.id, "level": row.level})))
}

pub async fn create_session(
    state: State,
    user: CurrentUser,
    body: web::Json<classes::NewSession>,
) -> AppResult<HttpResponse> {
    let s = classes::create(&state.db, &state.content, &user.actor, &body).await?;
    Ok(HttpResponse::Created().json(s))
}

pub async fn attendance(
    state: State,
    user: CurrentUser,
    path: web::Path<i64>,
    body: web::Json<Vec<classes::Mark>>,
) -> AppResult<HttpResponse> {
    let n = classes::mark(&state.db, &user.actor, path.into_inner(), &body).await?;
    Ok(HttpResponse::Ok().json(json!({"updated": n})))
}

pub async fn certificate(state: State, path: web::Path<String>) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(certificates::verify(&state.db, &path).await?))
}

#[derive(Deserialize)]
pub struct RevokeBody {
    reason: String,
}

pub async fn revoke(
    state: State,
    user: CurrentUser,
    path: web::Path<String>,
    body: web::Json<RevokeBody>,
) -> AppResult<HttpResponse> {
    certificates::revoke(&state.db, &user.actor, &path, &body.reason).await?;
    Ok(HttpResponse::NoContent().finish())
}
