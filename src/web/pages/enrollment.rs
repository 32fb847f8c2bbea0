//! Pausing, withdrawing and resuming an enrollment, for the learner herself
//! and for the trainers and officials of her area: her courses with their
//! state (`/learners/{id}/courses`), one course's choices, each explained
//! before it is confirmed (`/learners/{id}/courses/{slug}`), and the change
//! (`learning::enroll::change`, audited).

use actix_web::{HttpResponse, web};
use sea_orm::ActiveEnum;
use serde::Deserialize;
use serde_json::json;

use super::{Page, redirect};
use crate::app::AppContext;
use crate::entities::enrollment::{self, EnrollmentState};
use crate::error::{AppError, AppResult};
use crate::learning::enroll::{self, Standing};
use crate::web::extract::{CurrentUser, Locale};

type State = web::Data<AppContext>;

#[derive(Deserialize, Default)]
pub struct Flash {
    #[serde(default)]
    changed: Option<String>,
}

/// The states a person may move this enrollment to from where it is.
fn choices(e: &enrollment::Model) -> Vec<Standing> {
    match e.state {
        EnrollmentState::Enrolled => vec![Standing::Paused, Standing::Withdrawn],
        EnrollmentState::Paused => vec![Standing::Enrolled, Standing::Withdrawn],
        EnrollmentState::Withdrawn => vec![Standing::Enrolled],
        EnrollmentState::Completed => vec![],
    }
}

/// The flash line after a change, from the state it now has.
fn flash(state: &AppContext, lang: &str, changed: Option<&str>) -> Option<String> {
    let to = Standing::parse(changed?).ok()?;
    Some(
        state
            .views
            .tr(lang, &format!("enrol.now_{}", to.state().to_value())),
    )
}

/// A learner's courses with their state, each with a link to change it.
pub async fn list(
    state: State,
    locale: Locale,
    user: CurrentUser,
    path: web::Path<i64>,
    q: web::Query<Flash>,
) -> AppResult<HttpResponse> {
    let lang = locale.0;
    let (learner, rows) = enroll::of_learner(&state.db, &user.actor, *path).await?;
    let titles = crate::catalog::view::published_titles(&state.db, lang).await?;
    let items: Vec<_> = rows
        .iter()
        .map(|e| {
            json!({
                "slug": e.course_slug,
                "title": titles.get(&e.course_slug).cloned().unwrap_or_else(|| e.course_slug.clone()),
                "state": e.state,
                "changeable": !choices(e).is_empty(),
            })
        })
        .collect();
    Page::new(&state, lang, Some(&user), "enrol.title")
        .set(
            "learner",
            json!({"id": learner.id, "name": learner.display_name}),
        )
        .set("myself", learner.id == user.actor.id)
        .set("items", items)
        .set("flash", flash(&state, lang, q.changed.as_deref()))
        .render(&state, "pages/enrollments")
}

/// One course of the learner: what each change means, and a button for each.
pub async fn confirm(
    state: State,
    locale: Locale,
    user: CurrentUser,
    path: web::Path<(i64, String)>,
) -> AppResult<HttpResponse> {
    let lang = locale.0;
    let (id, slug) = path.into_inner();
    let learner = enroll::learner_for(&state.db, &user.actor, id).await?;
    let e = enroll::find(&state.db, id, &slug)
        .await?
        .ok_or(AppError::NotFound)?;
    let titles = crate::catalog::view::published_titles(&state.db, lang).await?;
    let options: Vec<_> = choices(&e)
        .into_iter()
        .map(|to| json!({"state": to.state(), "danger": to == Standing::Withdrawn}))
        .collect();
    Page::new(&state, lang, Some(&user), "enrol.change")
        .set("learner", json!({"id": learner.id, "name": learner.display_name}))
        .set("myself", learner.id == user.actor.id)
        .set(
            "course",
            json!({"slug": slug, "title": titles.get(&slug).cloned().unwrap_or_else(|| slug.clone())}),
        )
        .set("state", e.state)
        .set("options", options)
        .render(&state, "pages/enrollment")
}

#[derive(Deserialize)]
pub struct ChangeForm {
    #[serde(default)]
    state: String,
    #[serde(default)]
    confirm: String,
}

/// Changes the state only with the confirmation field; otherwise asks first.
pub async fn change(
    state: State,
    user: CurrentUser,
    path: web::Path<(i64, String)>,
    form: web::Form<ChangeForm>,
) -> AppResult<HttpResponse> {
    let (id, slug) = path.into_inner();
    if form.confirm != "yes" {
        enroll::learner_for(&state.db, &user.actor, id).await?;
        return Ok(redirect(&format!("/learners/{id}/courses/{slug}")));
    }
    let to = Standing::parse(&form.state)?;
    enroll::change(&state.db, &user.actor, id, &slug, to).await?;
    state.sessions.refresh(&state.db).await?;
    Ok(redirect(&format!(
        "/learners/{id}/courses?changed={}",
        to.state().to_value()
    )))
}
