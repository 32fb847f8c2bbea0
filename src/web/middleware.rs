//! Request ids, access logging and security headers on every response.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage};
use tracing::Instrument;

#[derive(Clone, Debug)]
pub struct RequestId(pub String);

/// Gives each request an id (or keeps a sane incoming `X-Request-Id`), logs the
/// request in a span carrying it, and sets it on the response.
pub async fn request_id(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, Error> {
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|s| s.len() <= 64 && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string()[..16].to_string());
    req.extensions_mut().insert(RequestId(id.clone()));
    let method = req.method().to_string();
    let path = req.path().to_string();
    let span = tracing::info_span!("request", id = %id, %method, %path);
    let started = std::time::Instant::now();
    let mut res = next.call(req).instrument(span.clone()).await?;
    let status = res.status().as_u16();
    span.in_scope(|| {
        tracing::info!(status, ms = started.elapsed().as_millis() as u64, "done");
    });
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut()
            .insert(HeaderName::from_static("x-request-id"), v);
    }
    Ok(res)
}

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
img-src 'self' data: blob:; media-src 'self' blob:; object-src 'none'; base-uri 'none'; \
form-action 'self'; frame-ancestors 'none'";

pub async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, Error> {
    // A language chosen with `?lang=` sticks for the next pages.
    let chosen = req
        .query_string()
        .split('&')
        .find_map(|kv| kv.strip_prefix("lang="))
        .and_then(super::extract::normalize);
    let https = req
        .app_data::<actix_web::web::Data<crate::app::AppContext>>()
        .map(|s| (s.settings.is_https(), s.settings.secure_cookies()));
    let (https, secure) = https.unwrap_or((false, false));
    let mut res = next.call(req).await?;
    let secure = if secure { "; Secure" } else { "" };
    if let Some(l) = chosen
        && let Ok(v) = HeaderValue::from_str(&format!(
            "lang={l}; Path=/; Max-Age=31536000; SameSite=Lax{secure}"
        ))
    {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    let h = res.headers_mut();
    // A handler's own policy (an SVG's `sandbox`) is stricter: never replaced.
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // Served over HTTPS: browsers must never come back over plain HTTP.
    if https {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-store"),
        );
    }
    Ok(res)
}
