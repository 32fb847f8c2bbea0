//! The phone's side of fuzhi: the web app manifest (so that it can be put on
//! the home screen), the service worker at `/sw.js` (scope `/`, so it must be
//! served from the root), and low-data mode: chosen on `/me` (a cookie, works
//! without JavaScript) or asked by the browser's `Save-Data: on`, it leaves a
//! lesson's pictures out until they are tapped. Nothing here changes what is
//! recorded: a page fetched to be kept offline says so and counts as no visit.

use std::collections::BTreeMap;

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::redirect;
use crate::app::AppContext;
use crate::error::AppResult;
use crate::views::Views;
use crate::web::compress::Prepared;
use crate::web::extract::CurrentUser;

/// The cookie that holds the low-data choice (`1` when on).
pub const LOW_DATA_COOKIE: &str = "lowdata";
/// The header the phone sends when it fetches a page to keep it offline.
pub const SAVING_HEADER: &str = "x-offline-save";

/// The static files every page needs, kept by the service worker.
const SHELL: [&str; 4] = ["site.css", "icons.svg", "icon.svg", "offline.js"];

/// The service worker's code; `/sw.js` puts its version and the shell's
/// addresses in front of it.
const WORKER: &str = include_str!("../../../templates/sw.js");

/// Whether the person chose low-data mode on `/me`.
pub fn low_data_chosen(req: &HttpRequest) -> bool {
    req.cookie(LOW_DATA_COOKIE)
        .is_some_and(|c| c.value() == "1")
}

/// Whether the browser asks to save data (`Save-Data: on`, the phone's data saver).
pub fn save_data_header(req: &HttpRequest) -> bool {
    req.headers()
        .get("save-data")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("on"))
}

/// Low-data mode: chosen, or asked by the browser.
pub fn low_data(req: &HttpRequest) -> bool {
    low_data_chosen(req) || save_data_header(req)
}

/// Whether this request fetches a page to keep it offline (not a visit).
pub fn is_saving(req: &HttpRequest) -> bool {
    req.headers()
        .get(SAVING_HEADER)
        .is_some_and(|v| v.as_bytes() == b"1")
}

/// The lesson HTML with each picture replaced by a link to it that says its
/// size ("显示图片（2 KB）"): with JavaScript the tap shows the picture in place,
/// without it the link opens the picture. `sizes` are by address.
pub fn defer_images(
    views: &Views,
    lang: &str,
    html: &str,
    sizes: &BTreeMap<String, u64>,
) -> AppResult<String> {
    #[derive(Serialize)]
    struct Tap<'a> {
        lang: &'a str,
        src: String,
        alt: String,
        kb: Option<u64>,
    }
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(i) = rest.find("<img") {
        out.push_str(&rest[..i]);
        let end = rest[i..].find('>').map_or(rest.len(), |j| i + j + 1);
        let tag = &rest[i..end];
        match attribute(tag, "src") {
            Some(src) => {
                let kb = sizes.get(&src).map(|b| b.div_ceil(1024).max(1));
                let alt = attribute(tag, "alt").unwrap_or_default();
                let tap = Tap { lang, src, alt, kb };
                out.push_str(&views.render("partials/tap_image", &tap)?);
            }
            None => out.push_str(tag),
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Each lesson video with its lighter choice: in low-data mode the video
/// becomes its sound alone (a player) with a link to watch it that says its
/// size ("看视频（1,2 MB）"); otherwise a link under the video offers the
/// sound alone, with its size. Both work without JavaScript. `sizes` are by
/// address.
pub fn video_choices(
    views: &Views,
    lang: &str,
    html: &str,
    sizes: &BTreeMap<String, u64>,
    low_data: bool,
) -> AppResult<String> {
    #[derive(Serialize)]
    struct Choice<'a> {
        lang: &'a str,
        low_data: bool,
        figure: &'a str,
        video: String,
        audio: String,
        alt: String,
        video_kb: Option<u64>,
        audio_kb: Option<u64>,
    }
    const OPEN: &str = "<figure class=\"video\">";
    let mut out = String::with_capacity(html.len() + 256);
    let mut rest = html;
    while let Some(i) = rest.find(OPEN) {
        out.push_str(&rest[..i]);
        let end = rest[i..]
            .find("</figure>")
            .map_or(rest.len(), |j| i + j + "</figure>".len());
        let figure = &rest[i..end];
        let video_tag = figure.find("<video").map_or("", |v| &figure[v..]);
        match attribute(video_tag, "src") {
            Some(video) => {
                let audio = format!("{}.opus", video.trim_end_matches(".mp4"));
                let kb = |a: &str| sizes.get(a).map(|b| b.div_ceil(1024).max(1));
                let choice = Choice {
                    lang,
                    low_data,
                    figure: figure.strip_suffix("</figure>").unwrap_or(figure),
                    video_kb: kb(&video),
                    audio_kb: kb(&audio),
                    alt: attribute(video_tag, "aria-label").unwrap_or_default(),
                    video,
                    audio,
                };
                out.push_str(&views.render("partials/video_choice", &choice)?);
            }
            None => out.push_str(figure),
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The value of `name="…"` in a tag the sanitizer wrote (double quotes,
/// entities escaped), unescaped.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let len = tag[start..].find('"')?;
    Some(
        tag[start..start + len]
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}

/// `/manifest.webmanifest`: what a phone needs to put fuzhi on its home screen.
pub async fn manifest(state: web::Data<AppContext>) -> HttpResponse {
    let views = &state.views;
    let mut icons = Vec::new();
    if let Some(svg) = views.asset_url("icon.svg") {
        icons.push(json!({"src": svg, "type": "image/svg+xml", "sizes": "any", "purpose": "any"}));
    }
    for size in [192, 512] {
        if let Some(png) = views.asset_url(&format!("icon-{size}.png")) {
            icons.push(json!({"src": png, "type": "image/png", "sizes": format!("{size}x{size}"), "purpose": "any"}));
        }
    }
    let body = json!({
        "name": views.tr("zh-CN", "app.name"),
        "short_name": views.tr("zh-CN", "app.name"),
        "description": views.tr("zh-CN", "app.motto"),
        "lang": "zh-CN",
        "dir": "ltr",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "theme_color": "#0b6b3a",
        "background_color": "#f4f5ef",
        "icons": icons,
    });
    HttpResponse::Ok()
        .content_type("application/manifest+json")
        .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
        .body(body.to_string())
}

/// `/sw.js`: the service worker. Its version is a hash of its code and of
/// the shell's hashed addresses, so a new build makes a new cache and drops
/// the old one. Checked by the browser each time (`no-cache`; a 304 when
/// unchanged).
pub async fn service_worker(req: HttpRequest, state: web::Data<AppContext>) -> HttpResponse {
    use sha2::{Digest, Sha256};
    let shell: Vec<&str> = SHELL
        .iter()
        .filter_map(|f| state.views.asset_url(f))
        .collect();
    let mut h = Sha256::new();
    for url in &shell {
        h.update(url.as_bytes());
    }
    h.update(WORKER.as_bytes());
    let version = hex::encode(&h.finalize()[..6]);
    let body = format!(
        "const VERSION = {};\nconst SHELL = {};\n{WORKER}",
        json!(version),
        json!(shell)
    );
    Prepared::with_cache(
        "application/javascript; charset=utf-8",
        "no-cache",
        body.into_bytes(),
    )
    .respond(&req)
}

#[derive(Deserialize)]
pub struct LowDataForm {
    /// `1` turns low-data mode on; anything else, or nothing, turns it off.
    #[serde(default)]
    on: Option<String>,
}

/// `POST /me/low-data`: turns low-data mode on or off on this phone.
pub async fn low_data_toggle(
    state: web::Data<AppContext>,
    _user: CurrentUser,
    form: web::Form<LowDataForm>,
) -> AppResult<HttpResponse> {
    let on = form.on.as_deref() == Some("1");
    let cookie = Cookie::build(LOW_DATA_COOKIE, if on { "1" } else { "" })
        .path("/")
        .http_only(true)
        .secure(state.settings.secure_cookies())
        .same_site(SameSite::Lax)
        .max_age(if on {
            CookieDuration::days(365)
        } else {
            CookieDuration::ZERO
        })
        .finish();
    let mut res = redirect("/me");
    res.add_cookie(&cookie).ok();
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_are_read_and_unescaped() {
        let tag = r#"<img src="/c/a/1/media/x.svg" alt="Wi&#39;Fi &amp; &quot;data&quot;" loading="lazy">"#;
        assert_eq!(attribute(tag, "src").as_deref(), Some("/c/a/1/media/x.svg"));
        assert_eq!(attribute(tag, "alt").as_deref(), Some("Wi'Fi & \"data\""));
        assert_eq!(attribute(tag, "title"), None);
    }
}
