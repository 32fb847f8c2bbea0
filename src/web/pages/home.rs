use actix_web::{HttpRequest, HttpResponse, web};
use sea_orm::ActiveEnum;
use serde_json::json;

use super::Page;
use crate::app::AppContext;
use crate::entities::enrollment::EnrollmentState;
use crate::error::{AppError, AppResult};
use crate::web::extract::{Locale, MaybeUser};

/// Staff go to their desk; learners see "continue where you left off" and the
/// catalog; visitors see the catalog and the sign-in button.
pub async fn home(
    state: web::Data<AppContext>,
    locale: Locale,
    user: MaybeUser,
) -> AppResult<HttpResponse> {
    if let Some(u) = &user.0 {
        let to = match u.actor.role.as_str() {
            "admin" => Some("/admin"),
            "official" => Some("/office"),
            "trainer" => Some("/teach"),
            _ => None,
        };
        if let Some(to) = to {
            return Ok(super::redirect(to));
        }
    }
    let catalog = super::learn::catalog(&state, user.0.as_ref(), locale.0).await?;
    let resume = catalog
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|c| c["courses"].as_array().cloned().unwrap_or_default())
        .find(|c| {
            c["mine"]["state"] == EnrollmentState::Enrolled.to_value()
                && c["mine"]["next_lesson"].is_string()
        })
        .map(|c| json!({"slug": c["slug"], "title": c["title"], "lesson": c["mine"]["next_lesson"], "percent": c["mine"]["percent"]}));
    Page::new(&state, locale.0, user.0.as_ref(), "home.title")
        .set("catalog", catalog)
        .set("resume", resume)
        .set("wide", true)
        .render(&state, "pages/home")
}

/// A static file (the stylesheet) by its content-hashed name: immutable.
pub async fn asset(
    assets: web::Data<crate::web::compress::Assets>,
    req: HttpRequest,
    file: web::Path<String>,
) -> AppResult<HttpResponse> {
    let prepared = assets.get(&file).ok_or(AppError::NotFound)?;
    Ok(prepared.respond(&req))
}

/// `/favicon.ico`, which browsers ask for by themselves: the icon the pages
/// link to, at its content-hashed address.
pub async fn favicon(state: web::Data<AppContext>) -> AppResult<HttpResponse> {
    let url = state
        .views
        .asset_url("icon.svg")
        .ok_or(AppError::NotFound)?;
    Ok(HttpResponse::Found()
        .insert_header(("Location", url.to_string()))
        .insert_header(("Cache-Control", "public, max-age=86400"))
        .finish())
}
