use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::error::AppResult;
use crate::web::AppState;
use crate::web::extract::Locale;

pub async fn home(state: web::Data<AppState>, locale: Locale) -> AppResult<HttpResponse> {
    super::html(
        &state,
        "pages/home",
        &json!({"lang": locale.0, "title": state.views.tr(locale.0, "app.name"), "user": null}),
    )
}
