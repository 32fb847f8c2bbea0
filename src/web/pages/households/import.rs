//! Spreadsheet import from the browser: a CSV or XLSX upload (or pasted CSV),
//! all households or none, every bad row shown.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use serde_json::{Value, json};

use super::State;
use crate::error::{AppError, AppResult};
use crate::households::bulk;
use crate::policy::Action;
use crate::web::api::households::{IMPORT_LIMIT, key};
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
        .render(&state, "pages/household_import")
}

pub async fn import(
    state: State,
    locale: Locale,
    user: CurrentUser,
    upload: Upload<{ IMPORT_LIMIT >> 20 }>,
) -> crate::web::errors::WebResult<HttpResponse> {
    user.actor.require(Action::EditHouseholds)?;
    let file = upload.read().await?;
    Ok(import_file(&state, locale, &user, file).await?)
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
        match bulk::parse_for(&state.db, Some(&user.actor), &scope, key(state), &file).await {
            Ok(plan) => bulk::import_plan(&state.db, &plan, Some(&user.actor)).await,
            Err(e) => Err(e),
        };
    match outcome {
        Ok(done) => page(json!(done), json!([]), StatusCode::OK),
        Err(AppError::Import { errors, .. }) => {
            let errors: Vec<Value> = errors
                .iter()
                .map(|e| {
                    json!({
                        "row": e.row,
                        "field": e.field,
                        "message": state.views.localize(locale.0, &e.message),
                    })
                })
                .collect();
            page(Value::Null, json!(errors), StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(e) => Err(e),
    }
}
