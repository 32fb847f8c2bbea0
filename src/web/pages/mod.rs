//! HTML pages (server-rendered, work without JavaScript).

pub mod admin;
pub mod auth;
pub mod authoring;
pub mod dashboard;
pub mod home;
pub mod households;
pub mod learn;
pub mod members;
pub mod reset;
pub mod teach;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::{HttpRequest, HttpResponse};
use serde_json::{Map, Value, json};

use super::extract::{CurrentUser, PRE_COOKIE};
use crate::app::AppContext;
use crate::error::AppResult;

/// The data every page template gets: language, title, the signed-in user
/// (with the CSRF token for forms) and whatever the page adds.
pub struct Page {
    data: Map<String, Value>,
}

impl Page {
    pub fn new(
        state: &AppContext,
        lang: &str,
        user: Option<&CurrentUser>,
        title_key: &str,
    ) -> Page {
        let mut data = Map::new();
        data.insert("lang".into(), json!(lang));
        data.insert("title".into(), json!(state.views.tr(lang, title_key)));
        data.insert(
            "user".into(),
            match user {
                Some(u) => json!({
                    "id": u.user.id, "role": u.user.role, "display_name": u.user.display_name,
                    "login": u.user.login, "csrf": u.csrf,
                }),
                None => Value::Null,
            },
        );
        data.insert("wide".into(), json!(false));
        data.insert("flash".into(), Value::Null);
        data.insert("error".into(), Value::Null);
        Page { data }
    }

    pub fn set(mut self, key: &str, v: impl serde::Serialize) -> Page {
        self.data
            .insert(key.into(), serde_json::to_value(v).unwrap_or(Value::Null));
        self
    }

    pub fn render(self, state: &AppContext, template: &str) -> AppResult<HttpResponse> {
        let body = state.views.render(template, &Value::Object(self.data))?;
        Ok(HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .body(body))
    }

    pub fn render_status(
        self,
        state: &AppContext,
        template: &str,
        status: actix_web::http::StatusCode,
    ) -> AppResult<HttpResponse> {
        let body = state.views.render(template, &Value::Object(self.data))?;
        Ok(HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .body(body))
    }
}

/// The double-submit value for anonymous forms: the `fz_pre` cookie, made
/// when missing. Returns the value and the cookie to set, if new.
pub fn pre_token(req: &HttpRequest) -> (String, Option<Cookie<'static>>) {
    if let Some(c) = req.cookie(PRE_COOKIE).filter(|c| c.value().len() >= 16) {
        return (c.value().to_string(), None);
    }
    let v = uuid::Uuid::new_v4().simple().to_string();
    let c = Cookie::build(PRE_COOKIE, v.clone())
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .finish();
    (v, Some(c))
}

pub fn redirect(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header(("Location", to.to_string()))
        .finish()
}

/// Only local paths are followed after sign-in (no open redirect).
pub fn safe_next(next: Option<&str>) -> Option<String> {
    next.filter(|n| n.starts_with('/') && !n.starts_with("//") && !n.contains('\\'))
        .map(str::to_string)
}

/// Page links for a paginated list.
pub fn pager(page: u64, per_page: u64, total: u64) -> Value {
    let pages = total.div_ceil(per_page).max(1);
    json!({
        "page": page, "pages": pages, "total": total,
        "prev": if page > 1 { Some(page - 1) } else { None },
        "next": if page < pages { Some(page + 1) } else { None },
    })
}
