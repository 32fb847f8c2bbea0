//! Extractors: the person's language and the signed-in user.

use std::future::{Future, Ready, ready};
use std::pin::Pin;

use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload, web};

use crate::accounts::signin;
use crate::accounts::tokens::{Claims, csrf_for};
use crate::app::AppContext;
use crate::entities::app_user;
use crate::error::AppError;
use crate::policy::Actor;
use crate::views::{DEFAULT_LOCALE, LOCALES};

pub const SESSION_COOKIE: &str = "fz_session";
pub const PRE_COOKIE: &str = "fz_pre";

/// The language of the response: `?lang=`, then the `lang` cookie, then
/// `Accept-Language`, then zh-CN.
#[derive(Debug, Clone)]
pub struct Locale(pub &'static str);

pub fn normalize(tag: &str) -> Option<&'static str> {
    let t = tag.trim().to_ascii_lowercase();
    if t.starts_with("zh") {
        Some("zh-CN")
    } else if t.starts_with("en") {
        Some("en")
    } else {
        None
    }
}

pub fn locale_of(req: &HttpRequest) -> &'static str {
    if let Some(q) = req
        .query_string()
        .split('&')
        .find_map(|kv| kv.strip_prefix("lang="))
        && let Some(l) = normalize(q)
    {
        return l;
    }
    if let Some(c) = req.cookie("lang")
        && let Some(l) = normalize(c.value())
    {
        return l;
    }
    if let Some(h) = req
        .headers()
        .get("accept-language")
        .and_then(|v| v.to_str().ok())
    {
        for part in h.split(',') {
            let tag = part.split(';').next().unwrap_or_default();
            if let Some(l) = normalize(tag) {
                return l;
            }
        }
    }
    debug_assert!(LOCALES.contains(&DEFAULT_LOCALE));
    DEFAULT_LOCALE
}

impl FromRequest for Locale {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Locale(locale_of(req))))
    }
}

/// The bearer token, or the session cookie (and which it was).
pub fn token_of(req: &HttpRequest) -> Option<(String, bool)> {
    if let Some(h) = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        && let Some(t) = h.strip_prefix("Bearer ")
    {
        return Some((t.trim().to_string(), false));
    }
    req.cookie(SESSION_COOKIE)
        .map(|c| (c.value().to_string(), true))
}

/// A signed-in user (401 when there is none).
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub user: app_user::Model,
    pub actor: Actor,
    pub claims: Claims,
    pub via_cookie: bool,
    pub csrf: String,
}

/// The signed-in user, if any.
#[derive(Debug, Clone)]
pub struct MaybeUser(pub Option<CurrentUser>);

async fn load(req: HttpRequest) -> Result<Option<CurrentUser>, AppError> {
    if let Some(cached) = req.extensions().get::<Option<CurrentUser>>() {
        return Ok(cached.clone());
    }
    let Some(state) = req.app_data::<web::Data<AppContext>>() else {
        return Err(AppError::Internal(anyhow::anyhow!("app state missing")));
    };
    let found = match token_of(&req) {
        None => None,
        Some((token, via_cookie)) => signin::authenticate(&state.db, &state.secrets.jwt, &token)
            .await?
            .map(|(user, claims)| CurrentUser {
                actor: crate::accounts::users::actor_of(&user),
                csrf: csrf_for(&state.secrets.jwt, &claims.jti),
                user,
                claims,
                via_cookie,
            }),
    };
    req.extensions_mut().insert(found.clone());
    Ok(found)
}

impl FromRequest for CurrentUser {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { load(req).await?.ok_or(AppError::Unauthorized) })
    }
}

impl FromRequest for MaybeUser {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { Ok(MaybeUser(load(req).await?)) })
    }
}
