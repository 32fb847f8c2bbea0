//! `/office`: an official's own start page — what needs doing today in her
//! area (`reports::today`), and her tools; `/office/follow-ups`, every
//! follow-up visit due, by page.

use actix_web::{HttpResponse, web};
use serde_json::{Value, json};

use super::{Page, redirect};
use crate::accounts::Role;
use crate::app::AppContext;
use crate::error::{AppError, AppResult};
use crate::reports::today::{self, RECENT_DAYS};
use crate::web::extract::{CurrentUser, Locale};

/// How many names a list on the page shows.
const SHOWN: u64 = 8;

pub async fn home(
    state: web::Data<AppContext>,
    locale: Locale,
    user: CurrentUser,
) -> AppResult<HttpResponse> {
    match user.actor.role {
        Role::Learner => return Err(AppError::Forbidden),
        Role::Trainer => return Ok(redirect("/teach")),
        _ => {}
    }
    let lang = locale.0;
    let t = today::office(&state.db, &user.actor, lang, SHOWN).await?;
    let share = (t.households > 0)
        .then(|| format!("{:.1}%", t.trained as f64 * 100.0 / t.households as f64));
    let certificates: Vec<Value> = t
        .certificates
        .iter()
        .map(|c| json!({"name": c.holder, "course": c.course, "at": state.settings.local_time(c.issued_at)}))
        .collect();
    let due: Vec<Value> = t
        .due
        .iter()
        .map(|m| json!({"name": m.name, "household": m.household, "id": m.id}))
        .collect();
    Page::new(&state, lang, Some(&user), "office.title")
        .set("households", t.households)
        .set("trained", t.trained)
        .set("share", share)
        .set("never_reached", t.never_reached)
        .set("certificates", certificates)
        .set("recent_days", RECENT_DAYS)
        .set("due_more", t.due_count > due.len())
        .set("due", due)
        .set("due_count", t.due_count)
        .set("is_admin", user.actor.is_admin())
        .render(&state, "pages/office_home")
}

#[derive(serde::Deserialize)]
pub struct DueQuery {
    #[serde(default, deserialize_with = "crate::paging::page")]
    page: Option<u64>,
}

/// Follow-up visits due per page of the full list.
const DUE_PER_PAGE: u64 = 50;

/// `/office/follow-ups`: every follow-up visit due in the official's area,
/// by page, each linked to the household's form with the member chosen.
pub async fn follow_ups_due(
    state: web::Data<AppContext>,
    locale: Locale,
    user: CurrentUser,
    q: web::Query<DueQuery>,
) -> AppResult<HttpResponse> {
    let lang = locale.0;
    let page = q.page.unwrap_or(1).max(1);
    let (total, due) = today::due_page(&state.db, &user.actor, page, DUE_PER_PAGE).await?;
    let items: Vec<Value> = due
        .iter()
        .map(
            |m| json!({"id": m.id, "name": m.name, "household": m.household, "village": m.village}),
        )
        .collect();
    Page::new(&state, lang, Some(&user), "office.due_title")
        .set("items", items)
        .set("pager", super::pager(page, DUE_PER_PAGE, total))
        .render(&state, "pages/office_due")
}
