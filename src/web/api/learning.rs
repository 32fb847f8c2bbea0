//! Course catalog, lessons, enrollment, events, quizzes, progress, sign-offs,
//! classes and certificates (JSON).

use std::collections::BTreeMap;

use actix_web::{HttpResponse, web};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Deserialize;
use serde_json::json;

use crate::app::AppContext;
use crate::entities::{competence, course};
use crate::error::{AppError, AppResult};
use crate::learning::content::{CourseInfo, text};
use crate::learning::{certificates, classes, enroll, events, progress, tasks};
use crate::policy::Action;
use crate::web::extract::{CurrentUser, Locale};

type State = web::Data<AppContext>;

/// Published courses, plus drafts for trainers and admins.
pub async fn list_courses(
    db: &sea_orm::DatabaseConnection,
    drafts: bool,
) -> AppResult<Vec<course::Model>> {
    let mut statuses = vec!["published"];
    if drafts {
        statuses.push("draft");
    }
    let rows = course::Entity::find()
        .filter(course::Column::Status.is_in(statuses))
        .order_by_asc(course::Column::Category)
        .order_by_asc(course::Column::Level)
        .order_by_asc(course::Column::Slug)
        .order_by_desc(course::Column::Version)
        .all(db)
        .await?;
    // One row a slug and status: the newest.
    let mut seen = std::collections::HashSet::new();
    Ok(rows
        .into_iter()
        .filter(|r| seen.insert((r.slug.clone(), r.status.clone())))
        .collect())
}

pub fn course_json(c: &course::Model, lang: &str) -> serde_json::Value {
    let def = c.languages.split(',').next().unwrap_or("zh-CN");
    json!({
        "slug": c.slug, "version": c.version, "status": c.status, "category": c.category, "level": c.level,
        "languages": c.languages.split(',').collect::<Vec<_>>(),
        "title": text(&c.title_json, lang, def), "summary": text(&c.summary_json, lang, def),
        "hours": c.hours_tenths as f64 / 10.0, "pass_mark": c.pass_mark,
        "competences": c.competences.split(',').filter(|s| !s.is_empty()).collect::<Vec<_>>(),
    })
}

pub async fn courses(state: State, user: CurrentUser, locale: Locale) -> AppResult<HttpResponse> {
    let rows = list_courses(&state.db, user.actor.may(Action::ViewDraftCourses)).await?;
    let items: Vec<_> = rows.iter().map(|c| course_json(c, locale.0)).collect();
    Ok(HttpResponse::Ok().json(json!({"total": items.len(), "items": items})))
}

/// Question as a learner sees it: no answer key, no explanation.
pub fn public_question(
    q: &crate::entities::question::Model,
    lang: &str,
    def: &str,
) -> serde_json::Value {
    let choices: Vec<serde_json::Value> = serde_json::from_str(&q.choices_json).unwrap_or_default();
    json!({
        "id": q.qid, "kind": q.kind, "competence": q.competence, "points": q.points,
        "prompt": text(&q.prompt_json, lang, def),
        "choices": choices.iter().map(|c| json!({"id": c["id"], "text": text(&c["text"].to_string(), lang, def)})).collect::<Vec<_>>(),
    })
}

pub async fn course_detail(
    state: &AppContext,
    info: &CourseInfo,
    lang: &str,
) -> AppResult<serde_json::Value> {
    let def = info
        .course
        .languages
        .split(',')
        .next()
        .unwrap_or("zh-CN")
        .to_string();
    let codes: Vec<String> = info
        .course
        .competences
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let comps = competence::Entity::find()
        .filter(competence::Column::Code.is_in(codes.clone()))
        .all(&state.db)
        .await?;
    let titles = crate::catalog::store::lesson_titles(&state.db, info, lang, &def).await?;
    let mut v = course_json(&info.course, lang);
    v["competence_titles"] = json!(codes.iter().map(|c| json!({"code": c, "title": comps.iter().find(|x| &x.code == c).map(|x| text(&x.title_json, lang, &def)).unwrap_or_default()})).collect::<Vec<_>>());
    v["lessons"] = json!(info.lessons.iter().map(|l| json!({"slug": l.slug, "position": l.position, "minutes": l.minutes,
        "title": titles.get(&l.slug).cloned().unwrap_or_default(),
        "check": info.lesson_checks().find(|q| q.row.lesson_slug.as_deref() == Some(l.slug.as_str())).map(|q| q.row.slug.clone())})).collect::<Vec<_>>());
    v["quizzes"] = json!(info.quizzes.iter().map(|q| json!({"slug": q.row.slug, "kind": q.row.kind, "lesson": q.row.lesson_slug, "questions": q.questions.len()})).collect::<Vec<_>>());
    v["tasks"] = json!(
        info.tasks
            .iter()
            .map(
                |t| json!({"slug": t.slug, "competence": t.competence, "required": t.required,
        "title": text(&t.title_json, lang, &def), "evidence": text(&t.evidence_json, lang, &def)})
            )
            .collect::<Vec<_>>()
    );
    Ok(v)
}

/// The course a signed-in person may see: published, or a draft for authors.
pub async fn visible(
    state: &AppContext,
    user: &CurrentUser,
    slug: &str,
) -> AppResult<std::sync::Arc<CourseInfo>> {
    if let Some(c) = state.content.published(&state.db, slug).await? {
        return Ok(c);
    }
    if user.actor.may(Action::ViewDraftCourses)
        && let Some(row) = crate::catalog::export::latest(&state.db, slug, &["draft"]).await?
    {
        return Ok(std::sync::Arc::new(
            crate::learning::content::load(&state.db, row).await?,
        ));
    }
    Err(AppError::NotFound)
}

pub async fn course(
    state: State,
    user: CurrentUser,
    locale: Locale,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let info = visible(&state, &user, &path).await?;
    Ok(HttpResponse::Ok().json(course_detail(&state, &info, locale.0).await?))
}

pub async fn lesson(
    state: State,
    user: CurrentUser,
    locale: Locale,
    path: web::Path<(String, String)>,
) -> AppResult<HttpResponse> {
    let (slug, lesson) = path.into_inner();
    let info = visible(&state, &user, &slug).await?;
    let l = info.lesson(&lesson).ok_or(AppError::NotFound)?;
    let t = crate::catalog::store::lesson_text(&state.db, &info, l, locale.0)
        .await?
        .ok_or(AppError::NotFound)?;
    let i = info
        .lessons
        .iter()
        .position(|x| x.slug == l.slug)
        .unwrap_or(0);
    Ok(HttpResponse::Ok().json(json!({
        "course": slug, "slug": l.slug, "position": l.position, "minutes": l.minutes,
        "language": t.locale, "title": t.title, "html": t.body_html,
        "audio": l.audio.as_ref().map(|a| format!("/c/{}/{}/{}", slug, info.course.version, a)),
        "prev": i.checked_sub(1).and_then(|j| info.lessons.get(j)).map(|x| x.slug.clone()),
        "next": info.lessons.get(i + 1).map(|x| x.slug.clone()),
        "check": info.lesson_checks().find(|q| q.row.lesson_slug.as_deref() == Some(l.slug.as_str())).map(|q| q.row.slug.clone()),
    })))
}

pub async fn quiz(
    state: State,
    user: CurrentUser,
    locale: Locale,
    path: web::Path<(String, String)>,
) -> AppResult<HttpResponse> {
    let (slug, quiz) = path.into_inner();
    let info = visible(&state, &user, &slug).await?;
    let q = info.quiz(&quiz).ok_or(AppError::NotFound)?;
    let def = info
        .course
        .languages
        .split(',')
        .next()
        .unwrap_or("zh-CN")
        .to_string();
    Ok(HttpResponse::Ok().json(json!({
        "course": slug, "slug": q.row.slug, "kind": q.row.kind, "pass_mark": info.course.pass_mark,
        "questions": q.questions.iter().map(|x| public_question(x, locale.0, &def)).collect::<Vec<_>>(),
    })))
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
            &user.user,
            &path,
            body.cohort.clone(),
        )
        .await?;
        return Ok(HttpResponse::Ok().json(json!({"enrolled": [e.user_id], "state": e.state})));
    }
    user.actor.require(Action::EnrollOthers)?;
    let mut done = Vec::new();
    for id in ids {
        let learner = crate::accounts::users::find(&state.db, id)
            .await?
            .ok_or(AppError::NotFound)?;
        done.push(
            enroll::enroll(
                &state.db,
                &state.content,
                &user.actor,
                &learner,
                &path,
                body.cohort.clone(),
            )
            .await?
            .user_id,
        );
    }
    Ok(HttpResponse::Ok().json(json!({"enrolled": done})))
}

pub async fn post_events(
    state: State,
    user: CurrentUser,
    body: web::Json<Vec<events::EventIn>>,
) -> AppResult<HttpResponse> {
    user.actor.require(Action::Learn)?;
    let r = events::ingest(
        &state.db,
        &state.content,
        Some(&state.views),
        &state.settings.base_url(),
        &user.actor,
        "api",
        body.into_inner(),
    )
    .await?;
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
    let e = events::EventIn {
        id: id.clone(),
        kind: "quiz_submitted".into(),
        course: Some(slug),
        lesson: None,
        occurred_at: None,
        payload: Some(json!({"quiz": quiz, "answers": body.answers})),
    };
    let r = events::ingest(
        &state.db,
        &state.content,
        Some(&state.views),
        &state.settings.base_url(),
        &user.actor,
        "api",
        vec![e],
    )
    .await?;
    if let Some(rej) = r.rejected.first() {
        return Err(
            if rej.reason.contains("not a quiz") || rej.reason.contains("not a published") {
                AppError::NotFound
            } else {
                AppError::field("answers", rej.reason.clone())
            },
        );
    }
    let g = match r.graded.into_values().next() {
        Some(g) => g,
        None => {
            // A duplicate: the stored result of the same attempt.
            let a = crate::entities::quiz_attempt::Entity::find()
                .filter(
                    crate::entities::quiz_attempt::Column::AttemptKey
                        .eq(uuid::Uuid::parse_str(&id)
                            .map_err(|_| AppError::field("attempt_id", "not a UUID"))?),
                )
                .one(&state.db)
                .await?
                .ok_or(AppError::NotFound)?;
            serde_json::from_str(&a.result_json).map_err(|e| AppError::Internal(e.into()))?
        }
    };
    Ok(HttpResponse::Ok().json(g))
}

pub async fn my_progress(state: State, user: CurrentUser) -> AppResult<HttpResponse> {
    user.actor.require(Action::Learn)?;
    let items = progress::overview(&state.db, &state.content, user.user.id).await?;
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
