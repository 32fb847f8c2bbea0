//! `/office/members`: trainers and officials find a household member (by name
//! and birth year, or by the full ID number sent in a POST body so that it
//! never appears in a URL or an access log) and link a learner account to
//! it, or create the learner account from the member in one step.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Page, redirect, safe_next};
use crate::app::AppContext;
use crate::error::{AppError, AppResult};
use crate::households::link::{self, MemberHit};
use crate::policy::Action;
use crate::web::extract::{CurrentUser, Locale};

type State = web::Data<AppContext>;

#[derive(Deserialize)]
pub struct SearchQuery {
    name: Option<String>,
    birth_year: Option<String>,
    done: Option<String>,
}

#[allow(clippy::too_many_arguments)]
fn page(
    state: &AppContext,
    lang: &str,
    user: &CurrentUser,
    hits: &[MemberHit],
    name: &str,
    birth_year: &str,
    searched: bool,
    errors: Value,
) -> Page {
    Page::new(state, lang, Some(user), "members.title")
        .set("hits", hits)
        .set("name", name)
        .set("birth_year", birth_year)
        .set("searched", searched)
        .set("errors", errors)
        .set("wide", true)
}

pub async fn search(
    state: State,
    locale: Locale,
    user: CurrentUser,
    q: web::Query<SearchQuery>,
) -> AppResult<HttpResponse> {
    user.actor.require(Action::ManageUser)?;
    let name = q.name.clone().unwrap_or_default();
    let by = q.birth_year.clone().unwrap_or_default();
    let year = by.trim().parse::<i32>().ok();
    let hits = link::search_by_name(&state.db, &user.actor, &name, year).await?;
    let flash = q
        .done
        .as_ref()
        .map(|_| state.views.tr(locale.0, "members.linked"));
    page(
        &state,
        locale.0,
        &user,
        &hits,
        &name,
        &by,
        !name.trim().is_empty(),
        json!([]),
    )
    .set("flash", flash)
    .render(&state, "pages/members")
}

#[derive(Deserialize)]
pub struct IdForm {
    id_number: Option<String>,
}

pub async fn search_id(
    state: State,
    locale: Locale,
    user: CurrentUser,
    form: web::Form<IdForm>,
) -> AppResult<HttpResponse> {
    user.actor.require(Action::ManageUser)?;
    let id = form.id_number.clone().unwrap_or_default();
    match link::search_by_id_number(&state.db, &user.actor, state.id_key(), &id).await {
        Ok(hits) => page(&state, locale.0, &user, &hits, "", "", true, json!([]))
            .render(&state, "pages/members"),
        Err(AppError::Validation { fields, .. }) => {
            let errors: Vec<Value> = fields
                .values()
                .map(|m| json!({"message": state.views.localize(locale.0, m)}))
                .collect();
            page(&state, locale.0, &user, &[], "", "", false, json!(errors)).render_status(
                &state,
                "pages/members",
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
        Err(e) => Err(e),
    }
}

fn back(next: &Option<String>) -> String {
    let to = safe_next(next.as_deref()).unwrap_or_else(|| "/office/members".into());
    let sep = if to.contains('?') { '&' } else { '?' };
    format!("{to}{sep}done=1")
}

/// A refused link or account creation: the member page with the reason.
fn refused(
    state: &AppContext,
    lang: &str,
    user: &CurrentUser,
    e: AppError,
) -> AppResult<HttpResponse> {
    let (status, message) = match &e {
        AppError::Validation { fields, .. } if !fields.is_empty() => (
            StatusCode::UNPROCESSABLE_ENTITY,
            state.views.fields_line(lang, fields),
        ),
        AppError::Validation { message, .. } => (
            StatusCode::UNPROCESSABLE_ENTITY,
            state.views.localize(lang, message),
        ),
        AppError::Conflict(m) => (StatusCode::CONFLICT, state.views.localize(lang, m)),
        _ => return Err(e),
    };
    page(
        state,
        lang,
        user,
        &[],
        "",
        "",
        false,
        json!([{"message": message}]),
    )
    .render_status(state, "pages/members", status)
}

#[derive(Deserialize)]
pub struct LinkForm {
    login: Option<String>,
    next: Option<String>,
}

pub async fn link_learner(
    state: State,
    locale: Locale,
    user: CurrentUser,
    path: web::Path<i64>,
    form: web::Form<LinkForm>,
) -> AppResult<HttpResponse> {
    let login = form.login.clone().unwrap_or_default();
    match link::link(&state.db, &user.actor, path.into_inner(), &login).await {
        Ok(_) => Ok(redirect(&back(&form.next))),
        Err(e) => refused(&state, locale.0, &user, e),
    }
}

#[derive(Deserialize)]
pub struct LearnerForm {
    phone: Option<String>,
    pin: Option<String>,
    next: Option<String>,
}

pub async fn create_learner(
    state: State,
    locale: Locale,
    user: CurrentUser,
    path: web::Path<i64>,
    form: web::Form<LearnerForm>,
) -> AppResult<HttpResponse> {
    let phone = form.phone.clone().unwrap_or_default();
    let pin = form.pin.clone().unwrap_or_default();
    let txn = crate::db::begin_write(&state.db).await?;
    match link::create_learner(&txn, &user.actor, path.into_inner(), &phone, &pin).await {
        Ok(_) => {
            txn.commit().await?;
            Ok(redirect(&back(&form.next)))
        }
        Err(e) => refused(&state, locale.0, &user, e),
    }
}
