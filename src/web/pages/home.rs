use actix_web::{HttpResponse, web};

use super::Page;
use crate::error::AppResult;
use crate::web::AppState;
use crate::web::extract::{Locale, MaybeUser};

pub async fn home(
    state: web::Data<AppState>,
    locale: Locale,
    user: MaybeUser,
) -> AppResult<HttpResponse> {
    if let Some(u) = &user.0 {
        let to = match u.user.role.as_str() {
            "admin" => Some("/admin"),
            "official" => Some("/office"),
            "trainer" => Some("/teach"),
            _ => None,
        };
        if let Some(to) = to {
            return Ok(super::redirect(to));
        }
    }
    Page::new(&state, locale.0, user.0.as_ref(), "app.name").render(&state, "pages/home")
}
