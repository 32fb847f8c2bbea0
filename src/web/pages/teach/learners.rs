//! The trainer's learners: the list of her area with village and progress,
//! filtered by name or phone and by village, and the cohort enrolment
//! whose ticks are kept while she turns the pages (the ticked learners of
//! other pages travel as hidden fields of the same form).

use std::collections::HashSet;

use actix_web::{HttpResponse, web};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::Deserialize;
use serde_json::json;

use super::{Page, State, area_groups, course_options, progress_lines, redirect, tr};
use crate::accounts::Role;
use crate::accounts::users::{self, UserQuery};
use crate::areas::AreaCode;
use crate::entities::app_user;
use crate::error::{AppError, AppResult};
use crate::learning::enroll;
use crate::policy::Action;
use crate::web::extract::{CurrentUser, Locale};

#[derive(Deserialize)]
pub struct LearnersQuery {
    q: Option<String>,
    /// A village (or township) of the trainer's area, by code.
    village: Option<String>,
    #[serde(default, deserialize_with = "crate::paging::page")]
    page: Option<u64>,
    done: Option<usize>,
}

/// Learners per page of the trainer's list.
const LEARNERS_PER_PAGE: u64 = 50;

/// What the list shows: the filters, the page and the learners ticked so far.
#[derive(Default)]
struct ListView {
    q: Option<String>,
    village: Option<String>,
    page: Option<u64>,
    done: Option<usize>,
    ticked: Vec<i64>,
}

pub async fn learners(
    state: State,
    locale: Locale,
    user: CurrentUser,
    q: web::Query<LearnersQuery>,
) -> AppResult<HttpResponse> {
    let q = q.into_inner();
    let view = ListView {
        q: q.q,
        village: q.village,
        page: q.page,
        done: q.done,
        ticked: vec![],
    };
    render(&state, locale.0, &user, view).await
}

/// The same list after a filter, a page turn or "clear" in the form: the
/// `user` fields ticked (here and on other pages) stay ticked.
pub async fn learners_post(
    state: State,
    locale: Locale,
    user: CurrentUser,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let mut view = ListView::default();
    let mut clear = false;
    for (k, v) in url::form_urlencoded::parse(&body) {
        match k.as_ref() {
            "q" => view.q = Some(v.into_owned()),
            "village" => view.village = Some(v.into_owned()),
            "page" => view.page = v.parse().ok().filter(|p| *p >= 1),
            "user" => view.ticked.extend(v.parse::<i64>().ok()),
            "clear" => clear = true,
            _ => {}
        }
    }
    if clear {
        view.ticked.clear();
    }
    render(&state, locale.0, &user, view).await
}

async fn render(
    state: &State,
    lang: &'static str,
    user: &CurrentUser,
    v: ListView,
) -> AppResult<HttpResponse> {
    user.actor.require(Action::EnrollOthers)?;
    let village = v
        .village
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .and_then(|c| AreaCode::parse(c).ok());
    let query = UserQuery {
        q: v.q.clone(),
        role: Some("learner".into()),
        page: v.page,
        per_page: Some(LEARNERS_PER_PAGE),
    };
    let (items, total) = users::list_in(&state.db, &user.actor, &query, village.as_ref()).await?;
    let (page, per_page) = users::page_params(v.page, Some(LEARNERS_PER_PAGE));
    // Ticked learners, kept only if the trainer may enrol them.
    let ticked: Vec<app_user::Model> = if v.ticked.is_empty() {
        vec![]
    } else {
        app_user::Entity::find()
            .filter(app_user::Column::Id.is_in(v.ticked.iter().copied()))
            .all(&state.db)
            .await?
            .into_iter()
            .filter(|u| {
                u.role == Role::Learner
                    && user
                        .actor
                        .require_user(Action::EnrollOthers, u.id, u.role, u.area_code.as_deref())
                        .is_ok()
            })
            .collect()
    };
    let on_page: HashSet<i64> = items.iter().map(|u| u.id).collect();
    let kept: HashSet<i64> = ticked.iter().map(|u| u.id).collect();
    let elsewhere: Vec<i64> = ticked
        .iter()
        .map(|u| u.id)
        .filter(|id| !on_page.contains(id))
        .collect();
    let ids: Vec<i64> = items.iter().map(|u| u.id).collect();
    let codes: Vec<String> = items.iter().filter_map(|u| u.area_code.clone()).collect();
    let places = crate::areas::names(&state.db, &codes).await?;
    let mut progress = progress_lines(state, lang, &ids).await?;
    let rows: Vec<_> = items
        .iter()
        .map(|u| {
            let village = u.area_code.as_ref().and_then(|c| places.get(c)).cloned();
            json!({"id": u.id, "name": u.display_name, "login": u.login, "village": village,
                   "ticked": kept.contains(&u.id),
                   "progress": progress.remove(&u.id).unwrap_or_default()})
        })
        .collect();
    let chosen = village.as_ref().map(|a| a.as_str().to_string());
    let villages = area_groups(state, lang, user, chosen.as_deref()).await?;
    Page::new(state, lang, Some(user), "teach.learners")
        .set("items", rows)
        .set("courses", course_options(state, lang).await?)
        .set("villages", villages)
        .set("village", chosen.unwrap_or_default())
        .set("pager", super::super::pager(page, per_page, total))
        .set("q", v.q.clone().unwrap_or_default())
        .set("ticked", kept.len())
        .set("elsewhere", elsewhere)
        .set(
            "flash",
            v.done
                .map(|n| tr(state, lang, "teach.enrolled").replace("{n}", &n.to_string())),
        )
        .render(state, "pages/teach_learners")
}

/// The cohort form: `course`, `cohort`, and one `user` field per ticked learner.
struct CohortForm {
    course: String,
    cohort: Option<String>,
    learners: Vec<i64>,
}

impl TryFrom<&[u8]> for CohortForm {
    type Error = AppError;

    fn try_from(body: &[u8]) -> AppResult<CohortForm> {
        let mut f = CohortForm {
            course: String::new(),
            cohort: None,
            learners: Vec::new(),
        };
        for (k, v) in url::form_urlencoded::parse(body) {
            match k.as_ref() {
                "course" => f.course = v.into_owned(),
                "cohort" => f.cohort = Some(v.into_owned()),
                "user" => f.learners.push(
                    v.parse::<i64>()
                        .map_err(|_| AppError::field("user", "not a learner id"))?,
                ),
                _ => {}
            }
        }
        if f.learners.is_empty() {
            return Err(AppError::field(
                "user",
                crate::localize::Msg::new("teach.err.tick_learner").english(),
            ));
        }
        Ok(f)
    }
}

pub async fn enroll_cohort(
    state: State,
    user: CurrentUser,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    user.actor.require(Action::EnrollOthers)?;
    let f = CohortForm::try_from(&body[..])?;
    // All or none, as the API's cohort enrollment.
    enroll::enroll_many(
        &state.db,
        &state.content,
        &user.actor,
        &f.learners,
        &f.course,
        f.cohort.clone(),
    )
    .await?;
    state.sessions.refresh(&state.db).await?;
    Ok(redirect(&format!(
        "/teach/learners?done={}",
        f.learners.len()
    )))
}
