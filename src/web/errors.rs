//! Turns error responses outside `/api/` into HTML pages in the person's
//! language (and a 401 into a redirect to the sign-in page). API responses keep
//! the JSON body of `AppError`.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{StatusCode, header};
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse, web};
use serde_json::json;

use super::extract::locale_of;
use crate::app::AppContext;
use crate::error::ErrorInfo;

pub async fn html_errors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let path = req.path().to_string();
    let res = next.call(req).await?.map_into_boxed_body();
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error())
        || path.starts_with("/api/")
        || path == "/healthz"
        || res
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|c| c.starts_with("text/html"))
    {
        return Ok(res);
    }
    let info = res.response().extensions().get::<ErrorInfo>().cloned();
    let (req, old) = res.into_parts();
    if status == StatusCode::UNAUTHORIZED {
        let target = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".into());
        let loc = format!(
            "/login?next={}",
            url::form_urlencoded::byte_serialize(target.as_bytes()).collect::<String>()
        );
        let resp = HttpResponse::SeeOther()
            .insert_header((header::LOCATION, loc))
            .finish();
        return Ok(ServiceResponse::new(req, resp));
    }
    let Some(state) = req.app_data::<web::Data<AppContext>>().cloned() else {
        return Ok(ServiceResponse::new(req, old));
    };
    let lang = locale_of(&req);
    let code = info
        .as_ref()
        .map(|i| i.code)
        .unwrap_or(match status.as_u16() {
            404 => "not_found",
            413 => "too_large",
            400 => "bad_request",
            _ => "internal",
        });
    // Detail only for errors the person can act on; never internal causes.
    let detail = match (&info, code) {
        (
            Some(i),
            "validation_failed" | "conflict" | "bad_request" | "import_failed" | "too_large",
        ) => Some(i.message.clone()),
        _ => None,
    };
    let fields: Vec<_> = info
        .as_ref()
        .map(|i| {
            i.fields
                .iter()
                .map(|(k, v)| json!({"field": k, "message": v}))
                .collect()
        })
        .unwrap_or_default();
    let rows = info.as_ref().map(|i| i.errors.clone()).unwrap_or_default();
    let data = json!({
        "lang": lang,
        "title": state.views.tr(lang, &format!("error.{code}")),
        "status": status.as_u16(),
        "code": code,
        "detail": detail,
        "fields": fields,
        "rows": rows,
        "user": null,
    });
    let body = state
        .views
        .render("pages/error", &data)
        .unwrap_or_else(|_| format!("{} {}", status.as_u16(), code));
    let mut resp = HttpResponse::build(status);
    resp.content_type("text/html; charset=utf-8");
    if let Some(ra) = old.headers().get(header::RETRY_AFTER) {
        resp.insert_header((header::RETRY_AFTER, ra.clone()));
    }
    Ok(ServiceResponse::new(req, resp.body(body)))
}
