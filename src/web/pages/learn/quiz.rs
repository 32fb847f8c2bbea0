//! The quiz pages: a quiz with a new attempt, the pre-test's result as a
//! starting point, the post-test while it is closed, and a submitted quiz's
//! result.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use sea_orm::{ActiveEnum, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

use super::{State, html_response};
use crate::accounts::Role;
use crate::app::AppContext;
use crate::catalog::view::{self, ResultLine, visible};
use crate::courses::QuizKind;
use crate::error::{AppError, AppResult};
use crate::learning::content::{CourseInfo, QuizInfo, text};
use crate::learning::events::{Event, Refused};
use crate::learning::grading::Graded;
use crate::learning::{certificates, events, gate};
use crate::policy::Action;
use crate::reports::skills::level_of_score;
use crate::web::extract::{CurrentUser, Locale};
use crate::web::pages::Page;

pub async fn quiz_page(
    state: State,
    user: CurrentUser,
    locale: Locale,
    path: web::Path<(String, String)>,
) -> AppResult<HttpResponse> {
    let (slug, quiz) = path.into_inner();
    if user.actor.role == Role::Learner {
        let info = visible(&state.db, &state.content, &user.actor, &slug).await?;
        let q = info.quiz(&quiz).ok_or(AppError::NotFound)?;
        // Her starting point is recorded once: the page shows it, not a new attempt.
        if q.row.kind == QuizKind::Pre
            && let Some(a) = gate::first_pre(&state.db, user.actor.id, &slug).await?
        {
            let g = stored_result(&a)?;
            return start_page(&state, &user, locale.0, &info, &g, None, StatusCode::OK);
        }
        if q.row.kind == QuizKind::Post
            && let Some(r) = gate::post_test_closed(&state.db, user.actor.id, &info).await?
        {
            return closed_page(&state, &user, locale.0, &info, &r, None, StatusCode::OK);
        }
        // Taken again only as the retake rule says: the page says when.
        if q.row.kind == QuizKind::Post
            && let Some(r) =
                gate::post_retake(&state.db, user.actor.id, &slug, chrono::Utc::now()).await?
        {
            return closed_page(&state, &user, locale.0, &info, &r, None, StatusCode::OK);
        }
    }
    Ok(html_response(
        quiz_body(&state, &user, locale.0, &slug, &quiz).await?,
    ))
}

/// A quiz page's HTML with a new attempt (also measured for the offline list).
pub(crate) async fn quiz_body(
    state: &AppContext,
    user: &CurrentUser,
    lang: &'static str,
    slug: &str,
    quiz: &str,
) -> AppResult<String> {
    // A new attempt each time the quiz is opened, each with its own order.
    let attempt = uuid::Uuid::new_v4();
    let view = view::quiz_view(state, &user.actor, slug, quiz, lang, attempt).await?;
    Page::new(
        state,
        lang,
        Some(user),
        &format!("quiz.{}", view.kind.to_value()),
    )
    .set("attempt_id", attempt.to_string())
    .set("retake_rule", retake_rule(state, lang))
    .set("quiz", view)
    .set("can_submit", user.actor.role == Role::Learner)
    .html(state, "pages/quiz")
}

/// A stored attempt's result, as the learner may see it.
fn stored_result(a: &crate::entities::quiz_attempt::Model) -> AppResult<Graded> {
    let g: Graded =
        serde_json::from_str(&a.result_json).map_err(|e| AppError::Internal(e.into()))?;
    Ok(g.for_learner(a.kind))
}

/// The pre-test's result as a starting point: the score, the competences she
/// already has and those to learn, and the lessons to put her effort in. No
/// answer and no explanation: the post-test asks the same questions.
fn start_page(
    state: &AppContext,
    user: &CurrentUser,
    lang: &str,
    info: &CourseInfo,
    g: &Graded,
    flash: Option<&str>,
    status: StatusCode,
) -> AppResult<HttpResponse> {
    let def = info.default_language();
    let codes: Vec<&str> = info
        .course
        .competences
        .split(',')
        .filter(|c| !c.is_empty())
        .collect();
    let title_of = |code: &str| {
        info.competences
            .iter()
            .find(|c| c.code == code)
            .map(|c| text(&c.title_json, lang, def))
            .unwrap_or_else(|| code.to_string())
    };
    // Known: at the level a post-test score of 80% or more shows.
    let known = |code: &str| {
        g.competences
            .get(code)
            .is_some_and(|s| level_of_score(*s) >= 2)
    };
    let skill = |code: &&str| json!({"title": title_of(code), "percent": g.competences.get(*code).copied().unwrap_or(0)});
    let has: Vec<_> = codes.iter().filter(|c| known(c)).map(skill).collect();
    let to_learn: Vec<_> = codes.iter().filter(|c| !known(c)).map(skill).collect();
    let titles = crate::catalog::store::lesson_titles(info, lang);
    let focus: Vec<_> = info
        .lessons
        .iter()
        .filter(|l| l.competences.split(',').any(|c| !c.is_empty() && !known(c)))
        .map(|l| json!({"slug": l.slug, "title": titles.get(&l.slug).cloned().unwrap_or_default()}))
        .collect();
    let first = focus
        .first()
        .and_then(|f| f["slug"].as_str().map(str::to_string))
        .or_else(|| info.lessons.first().map(|l| l.slug.clone()));
    Page::new(state, lang, Some(user), "quiz.start")
        .set(
            "course",
            json!({"slug": info.course.slug, "title": text(&info.course.title_json, lang, def)}),
        )
        .set("g", g)
        .set(
            "start",
            json!({"has": has, "to_learn": to_learn, "focus": focus, "first": first}),
        )
        .set("flash", flash)
        .render_status(state, "pages/quiz_result", status)
}

/// The post-test's retake rule, as the pages state it.
fn retake_rule(state: &AppContext, lang: &str) -> String {
    state
        .views
        .tr(lang, "quiz.retake_rule")
        .replace("{n}", &gate::POST_ATTEMPTS.to_string())
        .replace("{wait}", &gate::POST_RETAKE_WAIT_MINUTES.to_string())
}

/// The post-test before it opens: what is left first, with links; or, once
/// it was taken, why it cannot be taken again now.
fn closed_page(
    state: &AppContext,
    user: &CurrentUser,
    lang: &str,
    info: &CourseInfo,
    r: &gate::Refusal,
    flash: Option<&str>,
    status: StatusCode,
) -> AppResult<HttpResponse> {
    let def = info.default_language();
    let titles = crate::catalog::store::lesson_titles(info, lang);
    let (lessons, checks) = match r {
        gate::Refusal::PostClosed { left, .. } => (left.lessons.clone(), left.checks.clone()),
        _ => Default::default(),
    };
    // Why a retake is refused, in her language.
    let retake = match r {
        gate::Refusal::PostPassed => Some(state.views.tr(lang, "quiz.retake_passed")),
        gate::Refusal::PostUsedUp => Some(state.views.tr(lang, "quiz.retake_used")),
        gate::Refusal::PostWait { until } => Some(
            state
                .views
                .tr(lang, "quiz.retake_wait")
                .replace("{time}", &state.settings.local_time(*until)),
        ),
        gate::Refusal::PreTaken | gate::Refusal::PostClosed { .. } => None,
    };
    let item = |slug: &String| json!({"slug": slug, "title": titles.get(slug).cloned().unwrap_or_default()});
    let checks: Vec<_> = checks
        .iter()
        .filter_map(|c| info.quiz(c))
        .map(|q| {
            let lesson = q.row.lesson_slug.clone().unwrap_or_default();
            json!({"slug": q.row.slug, "title": titles.get(&lesson).cloned().unwrap_or_default()})
        })
        .collect();
    Page::new(state, lang, Some(user), "quiz.post")
        .set(
            "quiz",
            json!({"course": info.course.slug, "course_title": text(&info.course.title_json, lang, def), "slug": "post"}),
        )
        .set(
            "closed",
            json!({"lessons": lessons.iter().map(item).collect::<Vec<_>>(), "checks": checks, "retake": retake}),
        )
        .set("retake_rule", retake_rule(state, lang))
        .set("flash", flash)
        .render_status(state, "pages/quiz", status)
}

/// An attempt the rules of pre- and post-tests refuse (409): the pre-test's
/// recorded result as her starting point, or the post-test's page saying
/// what is left first or when she may take it again.
async fn refused_page(
    state: &AppContext,
    user: &CurrentUser,
    lang: &str,
    info: &CourseInfo,
    r: gate::Refusal,
) -> AppResult<HttpResponse> {
    if let gate::Refusal::PreTaken = r {
        let a = gate::first_pre(&state.db, user.actor.id, &info.course.slug)
            .await?
            .ok_or(AppError::NotFound)?;
        let msg = state.views.tr(lang, "quiz.pre_taken");
        let g = stored_result(&a)?;
        return start_page(
            state,
            user,
            lang,
            info,
            &g,
            Some(&msg),
            StatusCode::CONFLICT,
        );
    }
    let msg = state.views.tr(
        lang,
        if r.is_retake() {
            "quiz.retake_refused"
        } else {
            "quiz.post_closed"
        },
    );
    closed_page(
        state,
        user,
        lang,
        info,
        &r,
        Some(&msg),
        StatusCode::CONFLICT,
    )
}

/// The answers of the quiz form: `q.<id>` (repeated for several choices) and,
/// for order questions, `order.<id>.<choice>` = position; and `attempt_id`.
fn quiz_form(quiz: &QuizInfo, body: &[u8]) -> (BTreeMap<String, Vec<String>>, Option<String>) {
    let mut answers: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut attempt_id = None;
    for (k, v) in url::form_urlencoded::parse(body) {
        if let Some(id) = k.strip_prefix("q.") {
            answers
                .entry(id.to_string())
                .or_default()
                .push(v.into_owned());
        } else if k == "attempt_id" {
            attempt_id = Some(v.into_owned());
        }
    }
    for qu in quiz
        .questions
        .iter()
        .filter(|x| x.kind == crate::courses::QuestionKind::Order)
    {
        let mut pos: Vec<(i64, String)> = url::form_urlencoded::parse(body)
            .filter_map(|(k, v)| {
                k.strip_prefix(&format!("order.{}.", qu.qid))
                    .map(|c| (v.parse().unwrap_or(99), c.to_string()))
            })
            .collect();
        if !pos.is_empty() {
            pos.sort();
            answers.insert(qu.qid.clone(), pos.into_iter().map(|(_, c)| c).collect());
        }
    }
    (answers, attempt_id)
}

pub async fn quiz_submit(
    state: State,
    user: CurrentUser,
    locale: Locale,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    user.actor.require(Action::Learn)?;
    let (slug, quiz) = path.into_inner();
    let info = visible(&state.db, &state.content, &user.actor, &slug).await?;
    let q = info.quiz(&quiz).ok_or(AppError::NotFound)?;
    let (answers, attempt_id) = quiz_form(q, &body);
    let id = attempt_id
        .and_then(|a| uuid::Uuid::parse_str(&a).ok())
        .unwrap_or_else(uuid::Uuid::new_v4);
    let lang = locale.0;
    // The same attempt sent twice (a double tap) is not a second attempt.
    let again = crate::entities::quiz_attempt::Entity::find()
        .filter(crate::entities::quiz_attempt::Column::AttemptKey.eq(id))
        .filter(crate::entities::quiz_attempt::Column::UserId.eq(user.actor.id))
        .one(&state.db)
        .await?
        .is_some();
    // Questions left blank: she confirms first (a pre-test is taken once,
    // a post-test a few times), unless this is her confirmation.
    let blank = q
        .questions
        .iter()
        .filter(|x| {
            answers
                .get(&x.qid)
                .is_none_or(|v| v.iter().all(|a| a.trim().is_empty()))
        })
        .count();
    let confirmed = url::form_urlencoded::parse(&body).any(|(k, v)| k == "blank_ok" && v == "1");
    if !again && blank > 0 && !confirmed {
        // Nothing is stored here: the gate only says what to show, the
        // refusal rather than a question about an attempt it would refuse.
        // What she confirms is checked once, where it is written.
        if let Err(r) = gate::may_submit(&state.db, user.actor.id, &info, &quiz).await? {
            return refused_page(&state, &user, lang, &info, r).await;
        }
        let fields: Vec<_> = url::form_urlencoded::parse(&body)
            .filter(|(k, _)| k != "csrf" && k != "blank_ok")
            .map(|(k, v)| json!({"k": k, "v": v}))
            .collect();
        let def = info.default_language();
        return Page::new(&state, lang, Some(&user), &format!("quiz.{}", q.row.kind.to_value()))
            .set(
                "quiz",
                json!({"course": slug, "course_title": text(&info.course.title_json, lang, def), "slug": q.row.slug, "kind": q.row.kind}),
            )
            .set("blank", json!({"count": blank, "fields": fields}))
            .render(&state, "pages/quiz");
    }
    let event = Event::quiz_submitted(info.clone(), &quiz, answers, id)?;
    let g = match events::submit_quiz(&state.recorder(), &user.actor, "web", event).await? {
        Ok(g) => g,
        Err(Refused::Gate(r)) => return refused_page(&state, &user, lang, &info, r).await,
        Err(refused) => return Err(refused.into()),
    };
    if q.row.kind == QuizKind::Pre {
        return start_page(&state, &user, lang, &info, &g, None, StatusCode::OK);
    }
    let def = info.default_language();
    let results = ResultLine::lines(&info, q, &g, lang, |word| {
        state.views.tr(lang, &format!("quiz.{word}"))
    });
    let cert = certificates::code_of(&state.db, user.actor.id, &slug).await?;
    let next = q
        .row
        .lesson_slug
        .as_deref()
        .and_then(|ls| info.neighbours(ls).1)
        .map(|x| x.slug.clone());
    // The last lesson check passed: the final test, when it is open to her.
    let post_open = next.is_none()
        && q.row.kind == QuizKind::Lesson
        && info.quiz("post").is_some()
        && gate::post_test_closed(&state.db, user.actor.id, &info)
            .await?
            .is_none()
        && gate::post_retake(&state.db, user.actor.id, &slug, chrono::Utc::now())
            .await?
            .is_none();
    Page::new(&state, lang, Some(&user), "quiz.result")
        .set(
            "course",
            json!({"slug": slug, "title": text(&info.course.title_json, lang, def)}),
        )
        .set("quiz", json!({"slug": q.row.slug, "kind": q.row.kind}))
        .set("retake_rule", retake_rule(&state, lang))
        .set("g", &g)
        .set("results", results)
        .set("certificate", cert)
        .set("next", next)
        .set("post_open", post_open)
        .render(&state, "pages/quiz_result")
}
