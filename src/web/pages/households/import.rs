//! Spreadsheet import from the browser: a CSV or XLSX upload (or pasted CSV),
//! all households or none, every bad row shown.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::State;
use crate::error::{AppError, AppResult};
use crate::households::bulk;
use crate::policy::Action;
use crate::web::api::households::{IMPORT_LIMIT, key, read_body};
use crate::web::extract::{CurrentUser, Locale};
use crate::web::pages::Page;

pub async fn import_form(
    state: State,
    locale: Locale,
    user: CurrentUser,
) -> AppResult<HttpResponse> {
    user.actor.require(Action::EditHouseholds)?;
    Page::new(&state, locale.0, Some(&user), "hh.import")
        .set("result", Value::Null)
        .set("errors", json!([]))
        .set("csv", "")
        .render(&state, "pages/household_import")
}

/// The uploaded file of a `multipart/form-data` body (field `file`), or the
/// pasted text (field `csv`) when no file was chosen.
fn multipart_file(content_type: &str, body: &[u8]) -> Option<Vec<u8>> {
    let boundary = content_type
        .split(';')
        .find_map(|p| p.trim().strip_prefix("boundary="))?
        .trim_matches('"');
    let delim = format!("--{boundary}");
    let mut file = None;
    let mut text = None;
    for part in split(body, delim.as_bytes()).into_iter().skip(1) {
        let part = part.strip_prefix(b"\r\n").unwrap_or(part);
        let Some(end) = find(part, b"\r\n\r\n") else {
            continue;
        };
        let headers = String::from_utf8_lossy(&part[..end]).to_ascii_lowercase();
        let content = &part[end + 4..];
        let content = content.strip_suffix(b"\r\n").unwrap_or(content);
        if headers.contains("name=\"file\"") && !content.is_empty() {
            file = Some(content.to_vec());
        } else if headers.contains("name=\"csv\"") && !content.trim_ascii().is_empty() {
            text = Some(content.to_vec());
        }
    }
    file.or(text)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn split<'a>(mut hay: &'a [u8], delim: &[u8]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    while let Some(i) = find(hay, delim) {
        out.push(&hay[..i]);
        hay = &hay[i + delim.len()..];
    }
    out.push(hay);
    out
}

pub async fn import(
    state: State,
    locale: Locale,
    user: CurrentUser,
    req: HttpRequest,
    body: web::Payload,
) -> crate::web::errors::WebResult<HttpResponse> {
    user.actor.require(Action::EditHouseholds)?;
    let bytes = read_body(body, IMPORT_LIMIT).await?;
    let ctype = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let file = if ctype.starts_with("multipart/form-data") {
        multipart_file(&ctype, &bytes)
    } else if ctype.starts_with("application/x-www-form-urlencoded") {
        url::form_urlencoded::parse(&bytes)
            .find(|(k, _)| k == "csv")
            .map(|(_, v)| v.into_owned().into_bytes())
            .filter(|v| !v.trim_ascii().is_empty())
    } else {
        Some(bytes)
    };
    let page = |result: Value, errors: Value, status: StatusCode| {
        Page::new(&state, locale.0, Some(&user), "hh.import")
            .set("result", result)
            .set("errors", errors)
            .set("csv", "")
            .render_status(&state, "pages/household_import", status)
            .map_err(crate::web::errors::WebError::from)
    };
    let Some(file) = file else {
        return page(
            Value::Null,
            json!([{"row": 0, "field": "", "message": state.views.tr(locale.0, "hh.import_empty")}]),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    };
    let scope = user.actor.scope_prefix().unwrap_or_default();
    let outcome =
        match bulk::parse_for(&state.db, Some(&user.actor), &scope, key(&state), &file).await {
            Ok(plan) => bulk::import_plan(&state.db, &plan, Some(&user.actor)).await,
            Err(e) => Err(e),
        };
    match outcome {
        Ok(done) => page(json!(done), json!([]), StatusCode::OK),
        Err(AppError::Import { errors, .. }) => {
            page(Value::Null, json!(errors), StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(e) => Err(e.into()),
    }
}
