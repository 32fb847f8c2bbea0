//! HTML pages (server-rendered, work without JavaScript).

pub mod admin;
pub mod audit_view;
pub mod auth;
pub mod authoring;
pub mod dashboard;
pub mod enrollment;
pub mod home;
pub mod households;
pub mod learn;
pub mod members;
pub mod office;
pub mod offline;
pub mod reset;
pub mod site;
pub mod teach;
pub mod voice;

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
                    "id": u.actor.id, "role": u.actor.role.as_str(), "display_name": u.actor.display_name,
                    "login": u.actor.login, "csrf": u.csrf,
                }),
                None => Value::Null,
            },
        );
        let site = state.site.current();
        data.insert(
            "site".into(),
            json!({
                "organiser": site.texts.organiser, "address": site.texts.address,
                "contact": site.texts.contact, "icp": site.texts.icp, "seal": site.seal_url(),
            }),
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

    /// The page's HTML, as `render` would send it.
    pub fn html(self, state: &AppContext, template: &str) -> AppResult<String> {
        Ok(state.views.render(template, &Value::Object(self.data))?)
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
    let secure = req
        .app_data::<actix_web::web::Data<AppContext>>()
        .is_some_and(|s| s.settings.secure_cookies());
    let c = Cookie::build(PRE_COOKIE, v.clone())
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .finish();
    (v, Some(c))
}

/// A 303 to `to`; a target that is not a valid header value (never one of
/// ours) goes home rather than failing.
pub fn redirect(to: &str) -> HttpResponse {
    let to = actix_web::http::header::HeaderValue::from_str(to)
        .unwrap_or_else(|_| actix_web::http::header::HeaderValue::from_static("/"));
    HttpResponse::SeeOther()
        .insert_header((actix_web::http::header::LOCATION, to))
        .finish()
}

/// Only paths of this site are followed after sign-in (no open redirect):
/// one leading `/`, no backslash, no control character or space (browsers
/// drop tabs and newlines, so `/\t/evil.example` would become
/// `//evil.example`). Anything else gives `None`.
pub fn safe_next(next: Option<&str>) -> Option<String> {
    let n = next?;
    let plain = n
        .chars()
        .all(|c| !c.is_control() && !c.is_whitespace() && c != '\\');
    if !plain || !n.starts_with('/') || n.starts_with("//") {
        return None;
    }
    // The same origin once resolved, as a browser would resolve it.
    let base = url::Url::parse("http://fuzhi.invalid/").ok()?;
    let joined = base.join(n).ok()?;
    if joined.origin() != base.origin() {
        return None;
    }
    // Non-ASCII letters are percent-encoded, so the header value is valid.
    let mut out = joined.path().to_string();
    // Dot segments resolved (`/.//host`, `/x/..//host`, `/%2e%2e//host`)
    // must not leave a path that a browser reads as another host, nor one
    // that does once its escapes are decoded (`/%2F%2Fhost`, `/%5Chost`).
    let decoded = percent_decode_once(&out);
    if out.starts_with("//")
        || decoded.starts_with("//")
        || decoded.contains('\\')
        || decoded.chars().any(|c| c.is_control())
        || base
            .join(&decoded)
            .map_or(true, |u| u.origin() != base.origin())
    {
        return None;
    }
    if let Some(q) = joined.query() {
        out.push('?');
        out.push_str(q);
    }
    if let Some(f) = joined.fragment() {
        out.push('#');
        out.push_str(f);
    }
    Some(out)
}

/// `%XX` escapes decoded once (invalid ones kept as they are).
fn percent_decode_once(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (
                (b[i + 1] as char).to_digit(16),
                (b[i + 2] as char).to_digit(16),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
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
