//! Sign-in and sign-out pages.

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::{Page, pre_token, redirect, safe_next};
use crate::accounts::devices::{DEVICE_COOKIE, DEVICE_MAX_AGE_SECS};
use crate::accounts::signin;
use crate::accounts::signin::SignInError;
use crate::app::AppContext;
use crate::error::AppResult;
use crate::web::errors::WebResult;
use crate::web::extract::{CurrentUser, Locale, MaybeUser, SESSION_COOKIE};

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

pub async fn login_form(
    req: HttpRequest,
    state: web::Data<AppContext>,
    locale: Locale,
    user: MaybeUser,
    q: web::Query<NextQuery>,
) -> AppResult<HttpResponse> {
    if user.0.is_some() {
        return Ok(redirect(
            &safe_next(q.next.as_deref()).unwrap_or_else(|| "/".into()),
        ));
    }
    let (pre, cookie) = pre_token(&req);
    let mut res = Page::new(&state, locale.0, None, "login.title")
        .set("pre", &pre)
        .set("next", safe_next(q.next.as_deref()))
        .set("login", "")
        .render(&state, "pages/login")?;
    if let Some(c) = cookie {
        res.add_cookie(&c).ok();
    }
    Ok(res)
}

#[derive(Deserialize)]
pub struct LoginForm {
    login: String,
    password: String,
    remember: Option<String>,
    next: Option<String>,
}

/// The client's address for sign-in limits and the audit log (see
/// `extract::client_address`: `X-Forwarded-For` only from trusted proxies).
pub fn client_ip(req: &HttpRequest) -> String {
    crate::web::extract::client_address(req)
}

pub fn session_cookie(state: &AppContext, token: String, max_age_secs: i64) -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE, token)
        .path("/")
        .http_only(true)
        .secure(state.settings.secure_cookies())
        .same_site(SameSite::Lax)
        .max_age(CookieDuration::seconds(max_age_secs))
        .finish()
}

/// The device cookie (see `accounts::devices`): a year, this site only.
pub fn device_cookie(state: &AppContext, value: String) -> Cookie<'static> {
    Cookie::build(DEVICE_COOKIE, value)
        .path("/")
        .http_only(true)
        .secure(state.settings.secure_cookies())
        .same_site(SameSite::Lax)
        .max_age(CookieDuration::seconds(DEVICE_MAX_AGE_SECS))
        .finish()
}

pub async fn login_submit(
    req: HttpRequest,
    state: web::Data<AppContext>,
    locale: Locale,
    form: web::Form<LoginForm>,
) -> WebResult<HttpResponse> {
    let ip = client_ip(&req);
    let result = signin::sign_in(
        &state.db,
        &state.limiter,
        &state.settings,
        &state.secrets.jwt,
        &form.login,
        &form.password,
        form.remember.is_some(),
        &ip,
        req.cookie(DEVICE_COOKIE).as_ref().map(|c| c.value()),
    )
    .await;
    match result {
        Ok(s) => {
            let to = safe_next(form.next.as_deref()).unwrap_or_else(|| "/".into());
            let mut res = redirect(&to);
            res.add_cookie(&session_cookie(&state, s.token, s.max_age.num_seconds()))
                .ok();
            res.add_cookie(&device_cookie(&state, s.device)).ok();
            let lang = Cookie::build("lang", s.user.locale.clone())
                .path("/")
                .secure(state.settings.secure_cookies())
                .finish();
            if req.cookie("lang").is_none() {
                res.add_cookie(&lang).ok();
            }
            Ok(res)
        }
        Err(e @ (SignInError::Refused | SignInError::Locked { .. })) => {
            let (key, status) = match &e {
                SignInError::Locked { .. } => ("login.locked", StatusCode::TOO_MANY_REQUESTS),
                _ => ("login.wrong", StatusCode::UNAUTHORIZED),
            };
            let (pre, _) = pre_token(&req);
            let mut res = Page::new(&state, locale.0, None, "login.title")
                .set("pre", &pre)
                .set("next", safe_next(form.next.as_deref()))
                .set("login", &form.login)
                .set("error", {
                    // How long she waits, in whole minutes (at least one).
                    let minutes = match &e {
                        SignInError::Locked { retry_after } => retry_after.div_ceil(60).max(1),
                        _ => 0,
                    };
                    state
                        .views
                        .tr(locale.0, key)
                        .replace("{n}", &minutes.to_string())
                })
                .render_status(&state, "pages/login", status)?;
            if let SignInError::Locked { retry_after } = e {
                res.headers_mut().insert(
                    actix_web::http::header::RETRY_AFTER,
                    actix_web::http::header::HeaderValue::from(retry_after),
                );
            }
            Ok(res)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct LogoutForm {
    everywhere: Option<String>,
}

pub async fn logout(
    state: web::Data<AppContext>,
    user: CurrentUser,
    form: web::Form<LogoutForm>,
) -> AppResult<HttpResponse> {
    signin::sign_out(
        &state.db,
        &user.actor,
        &user.claims,
        form.everywhere.is_some(),
    )
    .await?;
    state.sessions.refresh(&state.db).await?;
    let mut res = redirect("/login");
    let mut gone = Cookie::build(SESSION_COOKIE, "")
        .path("/")
        .http_only(true)
        .secure(state.settings.secure_cookies())
        .finish();
    gone.make_removal();
    res.add_cookie(&gone).ok();
    // A phone shared by a family: the browser's cache of her pages goes with
    // her session (her saved courses and waiting records are taken off by the
    // page's script, each learner's own, see static/offline.js).
    res.headers_mut().insert(
        actix_web::http::header::HeaderName::from_static("clear-site-data"),
        actix_web::http::header::HeaderValue::from_static("\"cache\""),
    );
    Ok(res)
}
