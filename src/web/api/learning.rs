//! Course catalog, lessons, enrollment, events, quizzes, progress, sign-offs,
//! classes and certificates (JSON).

use std::collections::BTreeMap;

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use crate::app::AppContext;
use crate::catalog::view::{self, CourseSummary};
use crate::entities::course::CourseStatus;
use crate::error::{AppError, AppResult};
use crate::learning::content::CourseInfo;
use crate::learning::{certificates, classes, enroll, events, progress, tasks};
use crate::policy::Action;
use crate::web::compress::Prepared;
use crate::web::extract::{CurrentUser, Locale};

type State = web::Data<AppContext>;

use crate::catalog::view::list_courses;

/// Published courses (trainers and admins also see drafts).
#[utoipa::path(get, path = "/api/v1/courses", tag = "learning", params(("lang" = Option<String>, Query, description = "Language: `zh-CN` or `en` (else `Accept-Language`)")),
    responses((status = 200, description = "Courses", body = crate::web::api::shapes::Listing<CourseSummary>)))]
pub async fn courses(state: State, user: CurrentUser, locale: Locale) -> AppResult<HttpResponse> {
    let rows = list_courses(&state.db, user.actor.may(Action::ViewDraftCourses)).await?;
    let items: Vec<_> = rows
        .iter()
        .map(|c| CourseSummary::of(c, locale.0))
        .collect();
    Ok(HttpResponse::Ok().json(json!({"total": items.len(), "items": items})))
}

/// A JSON view of a course version. A published version is immutable, so
/// its views are serialized and compressed once and kept with it (with an
/// `ETag`); a draft one is made for each request.
fn version_json<T: serde::Serialize>(
    req: &HttpRequest,
    info: &CourseInfo,
    key: &str,
    make: impl FnOnce() -> AppResult<T>,
) -> AppResult<HttpResponse> {
    if info.course.status != CourseStatus::Published {
        return Ok(HttpResponse::Ok().json(make()?));
    }
    let prepared = info.memo.get_or_try(key, || -> AppResult<Prepared> {
        let body = serde_json::to_vec(&make()?).map_err(|e| AppError::Internal(e.into()))?;
        Ok(Prepared::new("application/json", body))
    })?;
    Ok(prepared.respond(req))
}

/// A course with its lessons, quizzes, tasks and competences.
#[utoipa::path(get, path = "/api/v1/courses/{slug}", tag = "learning", params(("slug" = String, Path, description = "Course slug"), ("lang" = Option<String>, Query, description = "Language: `zh-CN` or `en` (else `Accept-Language`)")),
    responses((status = 200, description = "The course", body = view::CourseView)))]
pub async fn course(
    state: State,
    user: CurrentUser,
    locale: Locale,
    req: HttpRequest,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let info = view::visible(&state.db, &state.content, &user.actor, &path).await?;
    let lang = locale.0;
    version_json(&req, &info, &format!("course:{lang}"), || {
        Ok(view::CourseView::build(&info, lang))
    })
}

/// A lesson as a learner reads it: its HTML and where it stands in the course.
#[utoipa::path(get, path = "/api/v1/courses/{slug}/lessons/{lesson}", tag = "learning",
    params(("slug" = String, Path, description = "Course slug"), ("lesson" = String, Path, description = "Lesson slug"), ("lang" = Option<String>, Query, description = "Language: `zh-CN` or `en` (else `Accept-Language`)")),
    responses((status = 200, description = "The lesson", body = view::LessonView)))]
pub async fn lesson(
    state: State,
    user: CurrentUser,
    locale: Locale,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> AppResult<HttpResponse> {
    let (slug, lesson) = path.into_inner();
    let info = view::visible(&state.db, &state.content, &user.actor, &slug).await?;
    let lang = locale.0;
    version_json(&req, &info, &format!("lesson:{lesson}:{lang}"), || {
        view::LessonView::build(&info, &lesson, lang)
    })
}

#[derive(Deserialize)]
pub struct QuizQuery {
    /// The attempt to show the questions for (a new one when absent): its
    /// choices come in the order made for this learner and attempt.
    #[serde(default)]
    attempt_id: Option<String>,
}

/// A quiz as a learner takes it (no answer key), its choices in the order
/// made for this learner and attempt.
#[utoipa::path(get, path = "/api/v1/courses/{slug}/quizzes/{quiz}", tag = "learning",
    params(("slug" = String, Path, description = "Course slug"), ("quiz" = String, Path, description = "Quiz slug"), ("lang" = Option<String>, Query, description = "Language: `zh-CN` or `en` (else `Accept-Language`)"),
        ("attempt_id" = Option<String>, Query, description = "The attempt (a UUID) whose choice order to show; a new attempt when absent")),
    responses((status = 200, description = "The quiz", body = view::QuizView)))]
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

/// The state to put an enrollment in.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct StateBody {
    /// `enrolled` (resume), `paused` or `withdrawn`.
    #[serde(default)]
    state: String,
}

/// Pauses, withdraws or resumes a learner's enrollment: the learner herself,
/// or a trainer, official or admin with her in scope. Audited.
#[utoipa::path(patch, path = "/api/v1/users/{id}/enrollments/{slug}", tag = "learning",
    params(("id" = i64, Path, description = "Learner's user id"), ("slug" = String, Path, description = "Course slug")),
    request_body = StateBody,
    responses((status = 200, description = "The enrollment's state now", body = crate::web::api::shapes::EnrollmentState),
        (status = 409, description = "The course is completed", body = crate::web::errors::ErrorBody),
        (status = 422, description = "Not a state one may set", body = crate::web::errors::ErrorBody)))]
pub async fn enrollment_state(
    state: State,
    user: CurrentUser,
    path: web::Path<(i64, String)>,
    body: web::Json<StateBody>,
) -> AppResult<HttpResponse> {
    let (id, slug) = path.into_inner();
    let to = enroll::Standing::parse(&body.state)?;
    let e = enroll::change(&state.db, &user.actor, id, &slug, to).await?;
    state.sessions.refresh(&state.db).await?;
    Ok(HttpResponse::Ok()
        .json(json!({"user_id": e.user_id, "course": e.course_slug, "state": e.state})))
}

/// No learner: the caller enrols herself; `user_id` or `user_ids`: a
/// trainer enrols those learners, all or none.
#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct EnrollBody {
    #[serde(default)]
    user_id: Option<i64>,
    #[serde(default)]
    user_ids: Vec<i64>,
    #[serde(default)]
    cohort: Option<String>,
}

/// Enrols the caller, or (trainers) the learners named in the body.
#[utoipa::path(post, path = "/api/v1/courses/{slug}/enroll", tag = "learning", params(("slug" = String, Path, description = "Course slug")),
    request_body(content = Option<EnrollBody>, description = "Absent or empty: the caller herself"),
    responses((status = 200, description = "Enrolled", body = crate::web::api::shapes::Enrolled)))]
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

/// A batch of learning events; idempotent by event id.
#[utoipa::path(post, path = "/api/v1/events", tag = "learning", request_body(content = Vec<events::EventIn>, example = json!([
        {"id": "0f9d5c1e-4b1a-4c51-9d1e-2a7c5b6e8f01", "kind": "lesson_opened", "course": "smartphone-basics",
         "lesson": "wifi-and-data", "occurred_at": "2026-11-20T09:00:00Z"}])),
    responses((status = 200, description = "Accepted, duplicate and rejected events", body = events::Report)))]
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
    let r = events::ingest(&state.recorder(), &user.actor, "api", body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(r))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct AttemptBody {
    /// The chosen answers by question id.
    answers: BTreeMap<String, Vec<String>>,
    /// Client-made id: a resubmission of the same attempt is not counted twice.
    #[serde(default)]
    attempt_id: Option<String>,
}

/// Submits a quiz attempt; graded on the server. A pre-test is taken once
/// (its first attempt is the starting point) and its result lists no
/// questions, so no answer key; a post-test opens as the course's rule says,
/// may be taken at most 3 times, an hour apart, not again once passed, and
/// its result carries the score, never the keys. A refused attempt answers
/// 409 and stores nothing.
#[utoipa::path(post, path = "/api/v1/courses/{slug}/quizzes/{quiz}/attempts", tag = "learning",
    params(("slug" = String, Path, description = "Course slug"), ("quiz" = String, Path, description = "Quiz slug")), request_body(content = AttemptBody, example = json!({"answers": {"q1": ["a"], "q2": ["false"]}})),
    responses((status = 200, description = "The graded attempt", body = crate::learning::grading::Graded),
        (status = 409, description = "Refused: the pre-test was taken already, the post-test is not open yet, or the retake rule refuses it (passed already, every attempt used, or the hour since the last not passed)", body = crate::web::errors::ErrorBody)))]
pub async fn attempt(
    state: State,
    user: CurrentUser,
    path: web::Path<(String, String)>,
    body: web::Json<AttemptBody>,
) -> AppResult<HttpResponse> {
    user.actor.require(Action::Learn)?;
    let (slug, quiz) = path.into_inner();
    let body = body.into_inner();
    let id = match body.attempt_id.as_deref() {
        Some(a) => uuid::Uuid::parse_str(a.trim())
            .map_err(|_| AppError::field("attempt_id", "is not a UUID"))?,
        None => uuid::Uuid::new_v4(),
    };
    let rec = state.recorder();
    let graded = match events::quiz_event(&rec, &slug, &quiz, body.answers, id).await? {
        Ok(event) => events::submit_quiz(&rec, &user.actor, "api", event).await?,
        Err(refused) => Err(refused),
    };
    Ok(HttpResponse::Ok().json(graded?))
}

/// The caller's enrolments, lesson states, scores and certificates.
#[utoipa::path(get, path = "/api/v1/me/progress", tag = "learning",
    responses((status = 200, description = "Progress by course", body = crate::web::api::shapes::Listing<progress::CourseProgress>)))]
pub async fn my_progress(state: State, user: CurrentUser) -> AppResult<HttpResponse> {
    user.actor.require(Action::Learn)?;
    let items = progress::overview(&state.db, &state.content, user.actor.id).await?;
    Ok(HttpResponse::Ok().json(json!({"total": items.len(), "items": items})))
}

/// A trainer signs off a practical task of a learner in her area.
#[utoipa::path(post, path = "/api/v1/tasks/signoff", tag = "learning", request_body(content = tasks::SignOff, example = json!({
        "user_id": 10, "course": "smartphone-basics", "task": "wifi-connected", "level": 2, "note": "自己连上了"})),
    responses((status = 201, description = "Signed off", body = crate::web::api::shapes::SignedOff)))]
pub async fn signoff(
    state: State,
    user: CurrentUser,
    body: web::Json<tasks::SignOff>,
) -> AppResult<HttpResponse> {
    let row = tasks::sign_off(&state.db, &state.content, &user.actor, &body).await?;
    Ok(HttpResponse::Created().json(json!({"id": row.id, "level": row.level})))
}

/// An in-person class.
#[utoipa::path(post, path = "/api/v1/sessions", tag = "learning", request_body(content = classes::NewSession, example = json!({
        "course": "smartphone-basics", "place": "新街村委会", "held_at": "2026-11-20T09:00:00Z", "area_code": "530627102001"})),
    responses((status = 201, description = "The class as stored", body = crate::web::api::shapes::StoredRow)))]
pub async fn create_session(
    state: State,
    user: CurrentUser,
    body: web::Json<classes::NewSession>,
) -> AppResult<HttpResponse> {
    let s = classes::create(&state.db, &state.content, &user.actor, &body).await?;
    Ok(HttpResponse::Created().json(s))
}

/// Who attended a class.
#[utoipa::path(post, path = "/api/v1/sessions/{id}/attendance", tag = "learning",
    params(("id" = i64, Path, description = "Class id")), request_body = Vec<classes::Mark>,
    responses((status = 200, description = "Marks changed", body = crate::web::api::shapes::Updated)))]
pub async fn attendance(
    state: State,
    user: CurrentUser,
    path: web::Path<i64>,
    body: web::Json<Vec<classes::Mark>>,
) -> AppResult<HttpResponse> {
    let n = classes::mark(&state.db, &user.actor, path.into_inner(), &body).await?;
    Ok(HttpResponse::Ok().json(json!({"updated": n})))
}

/// Verifies a certificate: holder, course, date, valid or revoked.
#[utoipa::path(get, path = "/api/v1/certificates/{code}", tag = "learning",
    params(("code" = String, Path, description = "Certificate code")),
    responses((status = 200, description = "The certificate", body = certificates::Verification)))]
pub async fn certificate(state: State, path: web::Path<String>) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(certificates::verify(&state.db, &path).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct RevokeBody {
    reason: String,
}

/// Revokes a certificate, with the reason.
#[utoipa::path(post, path = "/api/v1/certificates/{code}/revoke", tag = "learning",
    params(("code" = String, Path, description = "Certificate code")), request_body(content = RevokeBody, example = json!({"reason": "issued to the wrong person"})),
    responses((status = 204, description = "Revoked")))]
pub async fn revoke(
    state: State,
    user: CurrentUser,
    path: web::Path<String>,
    body: web::Json<RevokeBody>,
) -> AppResult<HttpResponse> {
    certificates::revoke(&state.db, &user.actor, &path, &body.reason).await?;
    Ok(HttpResponse::NoContent().finish())
}
