//! The course page: what the course holds, where the learner stands and what
//! is left before the certificate; and enrolling in a course or skipping its
//! pre-test.

use actix_web::{HttpResponse, web};
use serde_json::json;

use super::{State, html_response};
use crate::accounts::Role;
use crate::app::AppContext;
use crate::catalog::view;
use crate::entities::enrollment::EnrollmentState;
use crate::error::{AppError, AppResult};
use crate::learning::{enroll, progress};
use crate::policy::Action;
use crate::web::extract::{CurrentUser, Locale};
use crate::web::pages::{Page, redirect};

pub async fn course_page(
    state: State,
    user: CurrentUser,
    locale: Locale,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let body = course_body(&state, &user, locale.0, &path).await?;
    Ok(html_response(body))
}

/// The course page's HTML for `user` (also measured for the offline list).
pub(crate) async fn course_body(
    state: &AppContext,
    user: &CurrentUser,
    lang: &'static str,
    slug: &str,
) -> AppResult<String> {
    let (info, mut detail) = view::course_view(state, &user.actor, slug, lang).await?;
    let st = progress::standing(&state.db, &state.content, user.actor.id, &info).await?;
    // The learner sees the trainer's sign-offs: the best level per task.
    for t in &mut detail.tasks {
        t.level = st.levels.get(&t.slug).map(|l| format!("teach.level{l}"));
    }
    for l in &mut detail.lessons {
        l.state = st
            .progress
            .as_ref()
            .and_then(|m| m.lessons.get(&l.slug))
            .cloned();
    }
    let (e, mine, missing) = (st.enrollment, st.progress, st.missing);
    // Where to go next while the course is under way: the first lesson, or
    // the one to continue with.
    let start = match (&e, &mine) {
        (Some(e), Some(m))
            if !matches!(
                e.state,
                EnrollmentState::Completed | EnrollmentState::Withdrawn
            ) =>
        {
            m.next_lesson
                .as_ref()
                .map(|n| json!({"slug": n, "first": m.lessons_finished == 0}))
        }
        _ => None,
    };
    Page::new(state, lang, Some(user), "course.title")
        .set("title", &detail.summary.title)
        .set("c", detail)
        .set(
            "enrollment",
            e.map(|e| json!({"state": e.state, "pre_done": e.pre_done})),
        )
        .set("mine", mine)
        .set(
            "missing",
            missing.filter(|m| !m.is_empty()).map(|m| missing_json(&m)),
        )
        .set("start", start)
        .set("is_learner", user.actor.role == Role::Learner)
        .html(state, "pages/course")
}

/// What is missing, as the pages list it: only what is really left (a count
/// of nothing is no line), and whether only the trainer's sign-off is left.
fn missing_json(m: &crate::learning::completion::Missing) -> serde_json::Value {
    let n = |v: &Vec<String>| (!v.is_empty()).then_some(v.len());
    json!({
        "lessons": n(&m.lessons),
        "checks": n(&m.checks),
        "tasks": n(&m.tasks),
        "post_test": m.post_test,
        "waits_signoff": waits_signoff(m),
    })
}

/// The required tasks still to sign off when nothing else is left: the
/// certificate then waits on the trainer alone.
pub(super) fn waits_signoff(m: &crate::learning::completion::Missing) -> Option<usize> {
    (m.lessons.is_empty() && m.checks.is_empty() && !m.post_test && !m.tasks.is_empty())
        .then_some(m.tasks.len())
}

pub async fn enroll_self(
    state: State,
    user: CurrentUser,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    user.actor.require(Action::Learn)?;
    enroll::enroll(
        &state.db,
        &state.content,
        &user.actor,
        &crate::accounts::users::find(&state.db, user.actor.id)
            .await?
            .ok_or(AppError::NotFound)?,
        &path,
        None,
    )
    .await?;
    state.sessions.refresh(&state.db).await?;
    Ok(redirect(&format!("/courses/{}", path.as_str())))
}

pub async fn skip_pre(
    state: State,
    user: CurrentUser,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    user.actor.require(Action::Learn)?;
    enroll::skip_pre(&state.db, user.actor.id, &path).await?;
    Ok(redirect(&format!("/courses/{}", path.as_str())))
}
