//! HTML pages (server-rendered, work without JavaScript).

pub mod home;

use actix_web::{HttpResponse, web};

use crate::error::{AppError, AppResult};
use crate::web::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(home::home))
        .default_service(web::to(|| async {
            Err::<HttpResponse, _>(AppError::NotFound)
        }));
}

/// Renders a page template as an HTML response.
pub fn html(state: &AppState, name: &str, data: &serde_json::Value) -> AppResult<HttpResponse> {
    let body = state.views.render(name, data)?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(body))
}
