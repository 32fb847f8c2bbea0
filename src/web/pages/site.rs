//! Who runs the site: the admin's settings page (`/admin/settings`: the
//! organiser, address, contact, ICP filing number and the seal), the seal
//! image (`/site/seal`) and the privacy notice (`/privacy`).

use std::collections::BTreeMap;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::{Page, redirect};
use crate::app::AppContext;
use crate::error::{AppError, AppResult};
use crate::policy::Action;
use crate::site::{self, SiteSettings};
use crate::web::errors::WebResult;
use crate::web::extract::{CurrentUser, Locale, MaybeUser};
use crate::web::upload::Upload;

type State = web::Data<AppContext>;

/// The policy of the seal's answer, as of course media: nothing runs.
const SEAL_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; sandbox";

fn settings_page(
    state: &AppContext,
    lang: &str,
    user: &CurrentUser,
    values: &SiteSettings,
    errors: &BTreeMap<String, String>,
) -> Page {
    let errors: serde_json::Map<String, Value> = errors
        .iter()
        .map(|(k, v)| (k.clone(), json!(state.views.tr(lang, v))))
        .collect();
    Page::new(state, lang, Some(user), "site.title")
        .set("values", values)
        .set("errors", errors)
        .set("seal_kb", site::SEAL_LIMIT / 1024)
}

pub async fn settings(
    req: HttpRequest,
    state: State,
    locale: Locale,
    user: CurrentUser,
) -> AppResult<HttpResponse> {
    user.actor.require(Action::ManageSite)?;
    let current = site::load(&state.db, &state.settings.site).await?;
    let q = req.query_string();
    let flash = if q.contains("saved=1") {
        Some(state.views.tr(locale.0, "site.saved"))
    } else if q.contains("seal=1") {
        Some(state.views.tr(locale.0, "site.seal_saved"))
    } else {
        None
    };
    settings_page(&state, locale.0, &user, &current.texts, &BTreeMap::new())
        .set("flash", flash)
        .render(&state, "pages/admin_settings")
}

#[derive(serde::Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    organiser: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    contact: String,
    #[serde(default)]
    icp: String,
}

pub async fn settings_save(
    state: State,
    locale: Locale,
    user: CurrentUser,
    form: web::Form<SettingsForm>,
) -> AppResult<HttpResponse> {
    user.actor.require(Action::ManageSite)?;
    let f = form.into_inner();
    let values = SiteSettings {
        organiser: f.organiser,
        address: f.address,
        contact: f.contact,
        icp: f.icp,
    };
    match site::save(&state.db, &user.actor, &state.settings.site, values.clone()).await {
        Ok(()) => {
            state.site.reload(&state.db, &state.settings.site).await?;
            Ok(redirect("/admin/settings?saved=1"))
        }
        Err(AppError::Validation { fields, .. }) => {
            settings_page(&state, locale.0, &user, &values, &fields).render_status(
                &state,
                "pages/admin_settings",
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
        Err(e) => Err(e),
    }
}

pub async fn seal_upload(
    state: State,
    locale: Locale,
    user: CurrentUser,
    upload: Upload<1>,
) -> WebResult<HttpResponse> {
    user.actor.require(Action::ManageSite)?;
    let bytes = upload.read().await?.unwrap_or_default();
    match site::set_seal(&state.db, &user.actor, bytes).await {
        Ok(()) => {
            state.site.reload(&state.db, &state.settings.site).await?;
            Ok(redirect("/admin/settings?seal=1"))
        }
        Err(AppError::Validation { fields, .. }) => {
            let current = site::load(&state.db, &state.settings.site).await?;
            Ok(
                settings_page(&state, locale.0, &user, &current.texts, &fields).render_status(
                    &state,
                    "pages/admin_settings",
                    StatusCode::UNPROCESSABLE_ENTITY,
                )?,
            )
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn seal_remove_confirm(
    state: State,
    locale: Locale,
    user: CurrentUser,
) -> AppResult<HttpResponse> {
    user.actor.require(Action::ManageSite)?;
    if state.site.current().seal.is_none() {
        return Ok(redirect("/admin/settings"));
    }
    Page::new(&state, locale.0, Some(&user), "site.seal_remove")
        .render(&state, "pages/admin_seal_remove")
}

pub async fn seal_remove(state: State, user: CurrentUser) -> AppResult<HttpResponse> {
    user.actor.require(Action::ManageSite)?;
    site::remove_seal(&state.db, &user.actor).await?;
    state.site.reload(&state.db, &state.settings.site).await?;
    Ok(redirect("/admin/settings"))
}

/// The seal image: public (certificates are), checked when it was
/// uploaded, sent with the media policy and `nosniff`.
pub async fn seal_image(req: HttpRequest, state: State) -> AppResult<HttpResponse> {
    let Some(f) = site::seal(&state.db).await? else {
        return Err(AppError::NotFound);
    };
    let etag = format!("\"{}\"", f.etag);
    let cache = "public, max-age=300";
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        == Some(etag.as_str());
    let mut res = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    res.insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, cache))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CONTENT_SECURITY_POLICY, SEAL_CSP));
    if fresh {
        return Ok(res.finish());
    }
    Ok(res
        .content_type(f.mime)
        .insert_header((header::CONTENT_DISPOSITION, "inline"))
        .body(f.content))
}

/// What the site keeps of people, who sees it, for how long, whom to ask.
pub async fn privacy(state: State, locale: Locale, user: MaybeUser) -> AppResult<HttpResponse> {
    let site = state.site.current();
    let contact = [
        &site.texts.organiser,
        &site.texts.contact,
        &site.texts.address,
    ]
    .into_iter()
    .filter(|s| !s.is_empty())
    .cloned()
    .collect::<Vec<_>>();
    Page::new(&state, locale.0, user.0.as_ref(), "privacy.title")
        .set("contact", contact)
        .render(&state, "pages/privacy")
}
