//! CSRF protection for every state-changing request that a cookie
//! authenticates, in one middleware so that no form can forget it.
//!
//! - Requests authenticated by a valid bearer token carry no ambient
//!   credential: nothing to check. Any other `Authorization` header does not
//!   count (the session cookie would authenticate the request).
//! - Signed-in form posts carry `csrf` (a hidden field, or `?csrf=` for
//!   multipart uploads), an HMAC of the session id; JSON requests with the
//!   cookie send it as `X-CSRF-Token`.
//! - Anonymous form posts (sign-in, password reset) use a double-submit value:
//!   the `fz_pre` cookie must equal the form's `csrf` field.

use actix_web::ResponseError;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{Error, web};

use super::extract::{PRE_COOKIE, SESSION_COOKIE, bearer_of};
use crate::accounts::tokens::{Purpose, csrf_for, verify};
use crate::app::AppContext;
use crate::web::errors::WebError;

pub async fn csrf(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let Some(state) = req.app_data::<web::Data<AppContext>>().cloned() else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    // A valid bearer token is what authenticates this request (the cookie is
    // then never read), and no browser sends one on its own. Any other
    // `Authorization` header leaves the cookie in charge: checked below.
    if bearer_of(req.headers())
        .and_then(|t| verify(&state.secrets.jwt, t, Purpose::Session))
        .is_some()
    {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let session = req
        .cookie(SESSION_COOKIE)
        .and_then(|c| verify(&state.secrets.jwt, c.value(), Purpose::Session));
    let is_api = req.path().starts_with("/api/");
    let expected = match (&session, is_api) {
        (Some(c), _) => csrf_for(&state.secrets.jwt, &c.jti),
        // An API call without a session cookie has no ambient credential.
        (None, true) => return Ok(next.call(req).await?.map_into_boxed_body()),
        (None, false) => match req.cookie(PRE_COOKIE) {
            Some(c) if c.value().len() >= 16 => c.value().to_string(),
            _ => return Ok(refuse(req)),
        },
    };
    let mut given = req
        .headers()
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| query_field(req.query_string()));
    let is_form = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    if given.is_none() && is_form {
        let body = req.extract::<web::Bytes>().await?;
        given = form_field(&body);
        req.set_payload(Payload::from(body));
    }
    if given.as_deref() != Some(expected.as_str()) {
        return Ok(refuse(req));
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

fn refuse(req: ServiceRequest) -> ServiceResponse<BoxBody> {
    let (r, _) = req.into_parts();
    ServiceResponse::new(r, WebError::Csrf.error_response())
}

fn query_field(q: &str) -> Option<String> {
    url::form_urlencoded::parse(q.as_bytes())
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.into_owned())
}

fn form_field(body: &[u8]) -> Option<String> {
    url::form_urlencoded::parse(body)
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.into_owned())
}
