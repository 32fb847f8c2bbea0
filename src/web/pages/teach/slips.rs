//! Login slips for a class, one page to print: for each learner her name,
//! village, the site's address, the phone or login she signs in with, and
//! how to set or reset her PIN. A PIN is never printed: the trainer sets it
//! with the learner, and a forgotten one is set again on her page.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use super::roster::{class_learners, class_view};
use super::{Page, State};
use crate::error::AppResult;
use crate::learning::classes;
use crate::policy::Action;
use crate::web::extract::{CurrentUser, Locale};

#[derive(Deserialize)]
pub struct SlipsQuery {
    /// Only the learners who never signed in.
    new: Option<String>,
}

pub async fn slips(
    state: State,
    locale: Locale,
    user: CurrentUser,
    path: web::Path<i64>,
    q: web::Query<SlipsQuery>,
) -> AppResult<HttpResponse> {
    user.actor.require(Action::RunClasses)?;
    let lang = locale.0;
    let s = classes::get(&state.db, &user.actor, path.into_inner()).await?;
    let only_new = q.new.is_some();
    let learners = class_learners(&state, &s).await?;
    let codes: Vec<String> = learners
        .iter()
        .filter_map(|l| l.user.area_code.clone())
        .collect();
    let places = crate::areas::names(&state.db, &codes).await?;
    let slips: Vec<_> = learners
        .iter()
        .filter(|l| !only_new || l.user.last_login_at.is_none())
        .map(|l| {
            let u = &l.user;
            json!({"id": u.id, "name": u.display_name, "login": u.login, "pin": u.pin,
                   "village": u.area_code.as_ref().and_then(|c| places.get(c)),
                   "new": u.last_login_at.is_none()})
        })
        .collect();
    Page::new(&state, lang, Some(&user), "teach.slips")
        .set("s", class_view(&state, lang, &s).await?)
        .set("site", state.settings.base_url())
        .set("only_new", only_new)
        .set("slips", slips)
        .render(&state, "pages/teach_slips")
}
