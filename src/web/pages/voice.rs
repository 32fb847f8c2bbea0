//! The voice a learner listens to a lesson in: the Mandarin narration or a
//! dialect track (镇雄话, 彝语, 苗语 …). She chooses it on the lesson page with
//! a plain form (`?voice=zhenxiong`, works without JavaScript); the choice
//! is kept on her phone in a cookie for a year and applies to every lesson
//! that has a track of that variety (the others play the narration).

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};

use crate::catalog::view::LessonView;
use crate::courses::is_slug;

/// The cookie that holds the chosen variety's id (empty: the narration).
pub const VOICE_COOKIE: &str = "voice";

/// The variety asked for: the query's `voice` (then also a cookie to keep
/// it), else the cookie's. Anything that is not a slug counts as none.
pub fn choose(req: &HttpRequest, secure: bool) -> (Option<String>, Option<Cookie<'static>>) {
    let asked = url::form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, _)| k == "voice")
        .map(|(_, v)| v.into_owned());
    let clean = |v: String| Some(v).filter(|v| is_slug(v) && v.len() <= 32);
    match asked {
        Some(v) => {
            let v = clean(v);
            let cookie = Cookie::build(VOICE_COOKIE, v.clone().unwrap_or_default())
                .path("/")
                .http_only(true)
                .secure(secure)
                .same_site(SameSite::Lax)
                .max_age(CookieDuration::days(365))
                .finish();
            (v, Some(cookie))
        }
        None => (
            req.cookie(VOICE_COOKIE)
                .and_then(|c| clean(c.value().to_string())),
            None,
        ),
    }
}

/// What the lesson page plays: (address, the variety's id or "" for the
/// narration). A variety the lesson lacks plays the narration.
pub fn playing(view: &LessonView, voice: Option<&str>) -> (Option<String>, String) {
    match voice.and_then(|v| view.tracks.iter().find(|t| t.id == v)) {
        Some(t) => (Some(t.audio.clone()), t.id.clone()),
        None => (
            view.audio
                .clone()
                .or_else(|| view.tracks.first().map(|t| t.audio.clone())),
            if view.audio.is_some() {
                String::new()
            } else {
                view.tracks
                    .first()
                    .map(|t| t.id.clone())
                    .unwrap_or_default()
            },
        ),
    }
}
