//! Spreadsheet import from the browser: a CSV or XLSX upload (or pasted CSV),
//! all households or none, every bad row shown. In update mode (the yearly
//! refresh) the upload is first shown as what it would change; the person
//! confirms, and the same file (carried by the confirm form) is written if
//! nothing changed meanwhile.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use serde_json::{Value, json};

use super::State;
use crate::error::{AppError, AppResult};
use crate::households::import::IMPORT_LIMIT;
use crate::households::{bulk, refresh};
use crate::policy::Action;
use crate::web::extract::{CurrentUser, Locale};
use crate::web::pages::Page;
use crate::web::upload::Upload;

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
        .set("report", false)
        .set("preview", false)
        .set("done", false)
        .set("update", false)
        .set("file", "")
        .render(&state, "pages/household_import")
}

pub async fn import(
    state: State,
    locale: Locale,
    user: CurrentUser,
    upload: Upload<{ IMPORT_LIMIT >> 20 }>,
) -> crate::web::errors::WebResult<HttpResponse> {
    user.actor.require(Action::EditHouseholds)?;
    let (file, fields) = upload.read_with_fields().await?;
    if fields.iter().any(|(k, v)| k == "mode" && v == "update") {
        return Ok(refresh_file(&state, locale, &user, file, None).await?);
    }
    Ok(import_file(&state, locale, &user, file).await?)
}

/// The confirm form of an update: the file (base64) and the digest of the
/// changes the person saw.
pub async fn import_confirm(
    state: State,
    locale: Locale,
    user: CurrentUser,
    upload: Upload<{ (IMPORT_LIMIT >> 20) * 2 }>,
) -> crate::web::errors::WebResult<HttpResponse> {
    use base64::Engine as _;
    user.actor.require(Action::EditHouseholds)?;
    let (file, fields) = upload.read_with_fields().await?;
    let digest = fields
        .iter()
        .find(|(k, _)| k == "digest")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let file = file.and_then(|b| {
        base64::engine::general_purpose::STANDARD
            .decode(b.trim_ascii())
            .ok()
    });
    Ok(refresh_file(&state, locale, &user, file, Some(digest)).await?)
}

fn localized_errors(state: &State, lang: &str, errors: &[crate::error::RowError]) -> Value {
    errors
        .iter()
        .map(|e| {
            json!({
                "row": e.row,
                "field": e.field,
                "message": state.views.localize(lang, &e.message),
            })
        })
        .collect()
}

/// The report of an update, for the page: household changes with the
/// column names in the person's language.
fn report_json(r: &refresh::Refresh, lang: &str) -> Value {
    let en = lang.starts_with("en");
    json!({
        "changed": r.changed.iter().map(|h| json!({
            "registry_no": h.registry_no,
            "row": h.row,
            "members_added": h.members_added.join("、"),
            "changes": h.changes.iter().map(|c| json!({
                "field": if en { c.field_en } else { c.field },
                "member": c.member,
                "old": c.old,
                "new": c.new,
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "added": r.added.join("、"),
        "n_changed": r.changed.len(),
        "n_added": r.added.len(),
        "unchanged": r.unchanged,
        "members_kept": r.members_kept,
        "digest": r.digest,
    })
}

/// Update mode: without `digest`, the preview; with it, the write.
async fn refresh_file(
    state: &State,
    locale: Locale,
    user: &CurrentUser,
    file: Option<Vec<u8>>,
    digest: Option<String>,
) -> AppResult<HttpResponse> {
    use base64::Engine as _;
    let page = |preview: Value, done: Value, errors: Value, file: String, status| {
        let report = match (&preview, &done) {
            (Value::Null, Value::Null) => Value::Bool(false),
            (Value::Null, d) => d.clone(),
            (p, _) => p.clone(),
        };
        Page::new(state, locale.0, Some(user), "hh.import")
            .set("result", Value::Null)
            .set("report", report)
            .set("preview", !preview.is_null())
            .set("done", !done.is_null())
            .set("errors", errors)
            .set("file", file)
            .set("update", true)
            .set("csv", "")
            .render_status(state, "pages/household_import", status)
    };
    let Some(file) = file else {
        return page(
            Value::Null,
            Value::Null,
            json!([{"row": 0, "field": "", "message": state.views.tr(locale.0, "hh.import_empty")}]),
            String::new(),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    };
    let scope = user.actor.scope_prefix().unwrap_or_default();
    let plan = bulk::parse_mode(
        &state.db,
        Some(&user.actor),
        &scope,
        state.id_key(),
        &file,
        true,
    )
    .await;
    let outcome = match (plan, digest) {
        (Ok(plan), None) => refresh::plan(&state.db, &plan, Some(&user.actor))
            .await
            .map(|r| (r, false)),
        (Ok(plan), Some(d)) => refresh::apply(&state.db, &plan, Some(&user.actor), Some(&d))
            .await
            .map(|r| (r, true)),
        (Err(e), _) => Err(e),
    };
    match outcome {
        Ok((r, false)) => {
            let encoded = base64::engine::general_purpose::STANDARD.encode(&file);
            page(
                report_json(&r, locale.0),
                Value::Null,
                json!([]),
                encoded,
                StatusCode::OK,
            )
        }
        Ok((r, true)) => page(
            Value::Null,
            report_json(&r, locale.0),
            json!([]),
            String::new(),
            StatusCode::OK,
        ),
        Err(AppError::Import { errors, .. }) => page(
            Value::Null,
            Value::Null,
            localized_errors(state, locale.0, &errors),
            String::new(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(AppError::Conflict(m)) => page(
            Value::Null,
            Value::Null,
            json!([{"row": 0, "field": "", "message": state.views.localize(locale.0, &m)}]),
            String::new(),
            StatusCode::CONFLICT,
        ),
        Err(e) => Err(e),
    }
}

async fn import_file(
    state: &State,
    locale: Locale,
    user: &CurrentUser,
    file: Option<Vec<u8>>,
) -> AppResult<HttpResponse> {
    let page = |result: Value, errors: Value, status: StatusCode| {
        Page::new(state, locale.0, Some(user), "hh.import")
            .set("result", result)
            .set("errors", errors)
            .set("csv", "")
            .set("report", false)
            .set("preview", false)
            .set("done", false)
            .set("update", false)
            .set("file", "")
            .render_status(state, "pages/household_import", status)
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
        match bulk::parse_for(&state.db, Some(&user.actor), &scope, state.id_key(), &file).await {
            Ok(plan) => bulk::import_plan(&state.db, &plan, Some(&user.actor)).await,
            Err(e) => Err(e),
        };
    match outcome {
        Ok(done) => page(json!(done), json!([]), StatusCode::OK),
        Err(AppError::Import { errors, .. }) => page(
            Value::Null,
            localized_errors(state, locale.0, &errors),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e) => Err(e),
    }
}
