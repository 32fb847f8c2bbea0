//! Failures as a person sees them: outside `/api/`, an error answer
//! (`errors::ErrorInfo`) becomes an HTML page in the person's language, with
//! what she can act on (the fields, the rows), and a 401 a redirect to the
//! sign-in page.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{StatusCode, header};
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse, web};
use serde_json::json;

use super::errors::ErrorInfo;
use super::extract::locale_of;
use crate::app::AppContext;
use crate::error::RowError;

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
        // A media player's range past the end: its `Content-Range` is the answer.
        || status == StatusCode::RANGE_NOT_SATISFIABLE
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
    // In the page's language: the fields are listed below, not repeated.
    let detail = match (&info, code) {
        (Some(i), "validation_failed") if !i.fields.is_empty() => None,
        (
            Some(i),
            "validation_failed" | "conflict" | "bad_request" | "import_failed" | "too_large",
        ) => Some(state.views.localize(lang, &i.message)),
        _ => None,
    };
    let fields: Vec<_> = info
        .as_ref()
        .map(|i| {
            i.fields
                .iter()
                .map(|(k, v)| {
                    json!({
                        "field": crate::localize::field_label(state.views.catalog(), lang, k),
                        "message": state.views.localize(lang, v),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let rows: Vec<RowError> = info
        .as_ref()
        .map(|i| {
            i.errors
                .iter()
                .map(|r| RowError {
                    message: state.views.localize(lang, &r.message),
                    ..r.clone()
                })
                .collect()
        })
        .unwrap_or_default();
    // The header as on every other page: signed in when she is.
    let user = {
        use actix_web::FromRequest;
        crate::web::extract::MaybeUser::extract(&req)
            .await
            .ok()
            .and_then(|u| u.0)
    };
    // Staff reach only their own area; an area or record outside it is
    // answered 404 as one that does not exist, so the page says both.
    let title = match (code, &user) {
        ("not_found", Some(u)) if !u.actor.is_admin() && u.actor.area.is_some() => {
            "error.not_found_scope".to_string()
        }
        _ => format!("error.{code}"),
    };
    let body = crate::web::pages::Page::new(&state, lang, user.as_ref(), &title)
        .set("status", status.as_u16())
        .set("code", code)
        .set("detail", detail)
        .set("fields", fields)
        .set("rows", rows)
        .html(&state, "pages/error")
        .unwrap_or_else(|_| format!("{} {}", status.as_u16(), code));
    let mut resp = HttpResponse::build(status);
    resp.content_type("text/html; charset=utf-8");
    if let Some(ra) = old.headers().get(header::RETRY_AFTER) {
        resp.insert_header((header::RETRY_AFTER, ra.clone()));
    }
    Ok(ServiceResponse::new(req, resp.body(body)))
}
