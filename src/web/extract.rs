//! Extractors: the person's language and the signed-in user.

use std::future::{Future, Ready, ready};
use std::pin::Pin;

use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload, web};

use crate::accounts::tokens::{Claims, csrf_for};
use crate::app::AppContext;
use crate::error::AppError;
use crate::policy::Actor;
use crate::views::{DEFAULT_LOCALE, LOCALES};
use crate::web::errors::WebError;

pub const SESSION_COOKIE: &str = "fz_session";
pub const PRE_COOKIE: &str = "fz_pre";

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

/// The token of an `Authorization: Bearer …` header, if there is one.
pub fn bearer_of(headers: &actix_web::http::header::HeaderMap) -> Option<&str> {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim)
}

/// The bearer token, or the session cookie (and which it was).
pub fn token_of(req: &HttpRequest) -> Option<(String, bool)> {
    if let Some(t) = bearer_of(req.headers()) {
        return Some((t.to_string(), false));
    }
    req.cookie(SESSION_COOKIE)
        .map(|c| (c.value().to_string(), true))
}

/// A signed-in user (401 when there is none).
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub actor: Actor,
    pub claims: Claims,
    pub via_cookie: bool,
    pub csrf: String,
}

/// The signed-in user, if any.
#[derive(Debug, Clone)]
pub struct MaybeUser(pub Option<CurrentUser>);

async fn load(req: HttpRequest) -> Result<Option<CurrentUser>, AppError> {
    if let Some(cached) = req.extensions().get::<Option<CurrentUser>>() {
        return Ok(cached.clone());
    }
    let Some(state) = req.app_data::<web::Data<AppContext>>() else {
        return Err(AppError::Internal(anyhow::anyhow!("app state missing")));
    };
    let found = match token_of(&req) {
        None => None,
        Some((token, via_cookie)) => state
            .sessions
            .authenticate(&state.db, &state.secrets.jwt, &token)
            .await?
            .map(|(holder, claims)| CurrentUser {
                actor: holder.actor.clone(),
                csrf: csrf_for(&state.secrets.jwt, &claims.jti),
                claims,
                via_cookie,
            }),
    };
    req.extensions_mut().insert(found.clone());
    Ok(found)
}

impl FromRequest for CurrentUser {
    type Error = WebError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, WebError>>>>;
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { load(req).await?.ok_or(WebError::Unauthorized) })
    }
}

impl FromRequest for MaybeUser {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { Ok(MaybeUser(load(req).await?)) })
    }
}

/// The client's address: the peer, or — when the peer is one of the
/// `trusted_proxies` — the nearest `X-Forwarded-For` entry that is not a
/// trusted proxy itself. With no trusted proxy the header is never read.
pub fn client_address(req: &HttpRequest) -> String {
    let Some(peer) = req.peer_addr().map(|a| a.ip()) else {
        return "unknown".into();
    };
    let trusted = req
        .app_data::<web::Data<AppContext>>()
        .map(|s| s.settings.trusted_proxies.as_slice())
        .unwrap_or_default();
    let forwarded: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .collect();
    forwarded_client(peer, &forwarded.join(","), trusted).to_string()
}

/// See [`client_address`]: walks `X-Forwarded-For` from the right (the entry
/// the nearest proxy appended) while the hop is trusted.
pub fn forwarded_client(
    peer: std::net::IpAddr,
    forwarded_for: &str,
    trusted: &[String],
) -> std::net::IpAddr {
    let is_trusted = |ip: std::net::IpAddr| trusted.iter().any(|t| in_range(ip, t));
    if trusted.is_empty() || !is_trusted(peer) {
        return peer;
    }
    let mut client = peer;
    for hop in forwarded_for.rsplit(',') {
        let Ok(ip) = hop.trim().parse::<std::net::IpAddr>() else {
            break;
        };
        client = ip;
        if !is_trusted(ip) {
            break;
        }
    }
    client
}

/// Whether `ip` is the address, or inside the CIDR range, `range`.
fn in_range(ip: std::net::IpAddr, range: &str) -> bool {
    use std::net::IpAddr;
    let (net, bits) = match range.trim().split_once('/') {
        Some((n, b)) => (n, b.parse::<u32>().ok()),
        None => (range.trim(), None),
    };
    let Ok(net) = net.parse::<IpAddr>() else {
        return false;
    };
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let bits = bits.unwrap_or(32).min(32);
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let bits = bits.unwrap_or(128).min(128);
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_for_is_read_only_behind_a_trusted_proxy() {
        let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
        let none: Vec<String> = vec![];
        let proxy = vec!["10.0.0.0/8".to_string(), "192.0.2.7".to_string()];
        // Off by default: the header is anyone's to send.
        assert_eq!(
            forwarded_client(ip("10.1.1.1"), "203.0.113.9", &none),
            ip("10.1.1.1")
        );
        // A peer that is not a trusted proxy is the client.
        assert_eq!(
            forwarded_client(ip("198.51.100.1"), "203.0.113.9", &proxy),
            ip("198.51.100.1")
        );
        // Behind the proxy: the nearest untrusted hop; a forged left part is ignored.
        assert_eq!(
            forwarded_client(ip("10.1.1.1"), "1.2.3.4, 203.0.113.9, 192.0.2.7", &proxy),
            ip("203.0.113.9")
        );
        assert_eq!(
            forwarded_client(ip("192.0.2.7"), "", &proxy),
            ip("192.0.2.7")
        );
        assert_eq!(
            forwarded_client(ip("10.1.1.1"), "junk", &proxy),
            ip("10.1.1.1")
        );
    }
}
