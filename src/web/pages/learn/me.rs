//! The learner's own progress page, a certificate as anyone may check it, and
//! the form that looks a certificate up by its code.

use std::collections::BTreeMap;

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use super::State;
use super::course::waits_signoff;
use crate::catalog::view::published_titles;
use crate::entities::enrollment::EnrollmentState;
use crate::error::AppResult;
use crate::learning::{certificates, progress};
use crate::web::extract::{CurrentUser, Locale, MaybeUser};
use crate::web::pages::{Page, offline, redirect};

pub async fn me(
    req: HttpRequest,
    state: State,
    user: CurrentUser,
    locale: Locale,
) -> AppResult<HttpResponse> {
    let items = progress::overview(&state.db, &state.content, user.actor.id).await?;
    let titles = published_titles(&state.db, locale.0).await?;
    // A course waiting only for the trainer's sign-off says so.
    let mut waiting = BTreeMap::new();
    for p in &items {
        if p.certificate.is_some()
            || matches!(
                p.state,
                EnrollmentState::Completed | EnrollmentState::Withdrawn
            )
        {
            continue;
        }
        if let Some(info) = state.content.published(&state.db, &p.course).await? {
            let m = crate::learning::completion::missing(&state.db, user.actor.id, &info).await?;
            if let Some(n) = waits_signoff(&m) {
                waiting.insert(p.course.clone(), n);
            }
        }
    }
    let items: Vec<_> = items
        .into_iter()
        .map(|p| {
            let mut v = json!(p);
            v["waits_signoff"] = json!(waiting.get(&p.course));
            v["title"] = json!(titles.get(&p.course).cloned().unwrap_or(p.course.clone()));
            // 0% is a score too (a starting point), shown as such.
            let label = |s: Option<i32>| s.map_or("—".to_string(), |s| format!("{s}%"));
            v["pre_label"] = json!(label(p.pre_score));
            v["post_label"] = json!(label(p.post_score));
            v
        })
        .collect();
    Page::new(&state, locale.0, Some(&user), "me.title")
        .set("items", items)
        .set("low_data", offline::low_data_chosen(&req))
        .set("save_data", offline::save_data_header(&req))
        .render(&state, "pages/me")
}

pub async fn certificate_page(
    state: State,
    user: MaybeUser,
    locale: Locale,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let v = certificates::verify(&state.db, &path).await?;
    let link = format!("{}/certificates/{}", state.settings.base_url(), v.code);
    let qr = qrcode::QrCode::new(link.as_bytes())
        .map(|q| {
            q.render::<qrcode::render::svg::Color>()
                .min_dimensions(160, 160)
                .build()
        })
        .unwrap_or_default();
    let lang = locale.0;
    let in_lang = |t: &serde_json::Value| {
        t.get(lang)
            .or_else(|| t.get("zh-CN"))
            .and_then(|x| x.as_str())
            .map(str::to_string)
    };
    let title = in_lang(&v.course_title).unwrap_or(v.course.clone());
    let competences: Vec<String> = v
        .competences
        .iter()
        .map(|c| in_lang(&c.title).unwrap_or(c.code.clone()))
        .collect();
    let platform = state.views.tr(lang, "cert.platform");
    let issuer = match &v.issuer_area {
        Some(area) => format!("{area} · {platform}"),
        None => platform,
    };
    // 4 or 1.5, not 4.0.
    let hours = format!("{}", (v.hours * 10.0).round() / 10.0);
    Page::new(&state, lang, user.0.as_ref(), "cert.title")
        .set("v", &v)
        .set("course_title", title)
        .set("competences", competences)
        .set("issuer", issuer)
        .set("hours", hours)
        .set("issued", state.settings.local_date(v.issued, lang))
        .set("qr", qr)
        .set("link", link)
        .render(&state, "pages/certificate")
}

#[derive(Deserialize)]
pub struct CodeQuery {
    code: Option<String>,
}

pub async fn verify_form(
    state: State,
    user: MaybeUser,
    locale: Locale,
    q: web::Query<CodeQuery>,
) -> AppResult<HttpResponse> {
    if let Some(c) = q.code.as_deref().filter(|c| !c.trim().is_empty()) {
        return Ok(redirect(&format!(
            "/certificates/{}",
            certificates::normalize(c)
        )));
    }
    Page::new(&state, locale.0, user.0.as_ref(), "cert.verify").render(&state, "pages/verify")
}
