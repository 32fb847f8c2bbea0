//! "Forgot my password": ask for a link, then set a new password with it.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::{Page, pre_token, redirect};
use crate::accounts::signin;
use crate::app::AppContext;
use crate::error::{AppError, AppResult};
use crate::web::extract::Locale;

pub async fn request_form(
    req: HttpRequest,
    state: web::Data<AppContext>,
    locale: Locale,
) -> AppResult<HttpResponse> {
    let (pre, cookie) = pre_token(&req);
    let mut res = Page::new(&state, locale.0, None, "reset.title")
        .set("pre", &pre)
        .set("sent", false)
        .render(&state, "pages/reset_request")?;
    if let Some(c) = cookie {
        res.add_cookie(&c).ok();
    }
    Ok(res)
}

#[derive(Deserialize)]
pub struct RequestForm {
    login: String,
}

pub async fn request_submit(
    req: HttpRequest,
    state: web::Data<AppContext>,
    locale: Locale,
    form: web::Form<RequestForm>,
) -> AppResult<HttpResponse> {
    let ip = crate::web::extract::client_address(&req);
    signin::request_reset(&state, &form.login, &ip).await?;
    let (pre, _) = pre_token(&req);
    Page::new(&state, locale.0, None, "reset.title")
        .set("pre", &pre)
        .set("sent", true)
        .render(&state, "pages/reset_request")
}

#[derive(Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

pub async fn reset_form(
    req: HttpRequest,
    state: web::Data<AppContext>,
    locale: Locale,
    q: web::Query<TokenQuery>,
) -> AppResult<HttpResponse> {
    let (pre, cookie) = pre_token(&req);
    let mut res = Page::new(&state, locale.0, None, "reset.new_title")
        .set("pre", &pre)
        .set("token", q.token.clone().unwrap_or_default())
        .render(&state, "pages/reset")?;
    if let Some(c) = cookie {
        res.add_cookie(&c).ok();
    }
    Ok(res)
}

#[derive(Deserialize)]
pub struct ResetForm {
    token: String,
    password: String,
}

pub async fn reset_submit(
    req: HttpRequest,
    state: web::Data<AppContext>,
    locale: Locale,
    form: web::Form<ResetForm>,
) -> AppResult<HttpResponse> {
    match signin::reset_password(&state.db, &state.secrets.jwt, &form.token, &form.password).await {
        Ok(()) => {
            state.sessions.refresh(&state.db).await?;
            Ok(redirect("/login?reset=1"))
        }
        Err(AppError::Validation { fields, .. }) => {
            let (pre, _) = pre_token(&req);
            Page::new(&state, locale.0, None, "reset.new_title")
                .set("pre", &pre)
                .set("token", &form.token)
                .set(
                    "error",
                    fields.values().cloned().collect::<Vec<_>>().join("; "),
                )
                .render_status(&state, "pages/reset", StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(e) => Err(e),
    }
}
