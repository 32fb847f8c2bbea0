//! Extractors: the person's language.

use std::future::{Ready, ready};

use actix_web::{FromRequest, HttpRequest, dev::Payload};

use crate::views::{DEFAULT_LOCALE, LOCALES};

/// The language of the response: `?lang=`, then the `lang` cookie, then
/// `Accept-Language`, then zh-CN.
#[derive(Debug, Clone)]
pub struct Locale(pub &'static str);

pub fn normalize(tag: &str) -> Option<&'static str> {
    let t = tag.trim().to_ascii_lowercase();
    if t.starts_with("zh") {
        Some("zh-CN")
    } else if t.starts_with("en") {
        Some("en")
    } else {
        None
    }
}

pub fn locale_of(req: &HttpRequest) -> &'static str {
    if let Some(q) = req
        .query_string()
        .split('&')
        .find_map(|kv| kv.strip_prefix("lang="))
        && let Some(l) = normalize(q)
    {
        return l;
    }
    if let Some(c) = req.cookie("lang")
        && let Some(l) = normalize(c.value())
    {
        return l;
    }
    if let Some(h) = req
        .headers()
        .get("accept-language")
        .and_then(|v| v.to_str().ok())
    {
        for part in h.split(',') {
            let tag = part.split(';').next().unwrap_or_default();
            if let Some(l) = normalize(tag) {
                return l;
            }
        }
    }
    debug_assert!(LOCALES.contains(&DEFAULT_LOCALE));
    DEFAULT_LOCALE
}

impl FromRequest for Locale {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Locale(locale_of(req))))
    }
}
