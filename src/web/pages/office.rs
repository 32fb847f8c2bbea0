//! `/office`: an official's own start page — what needs doing today in her
//! area. Coverage (households, households with a member trained), households
//! the training never reached (with a link to them), recent certificates,
//! follow-up visits due, and her tools. Every figure is one aggregate query;
//! lists are batched by ids.

use std::collections::{HashMap, HashSet};

use actix_web::{HttpResponse, web};
use chrono::{Duration, Utc};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::{Value, json};

use super::{Page, redirect};
use crate::accounts::Role;
use crate::app::AppContext;
use crate::entities::enrollment::EnrollmentState;
use crate::entities::{app_user, certificate, course, enrollment, follow_up, household, member};
use crate::error::{AppError, AppResult};
use crate::households::store::{reached_households, trained_households};
use crate::learning::content::{default_language, text};
use crate::policy::Action;
use crate::web::extract::{CurrentUser, Locale};

/// Certificates of the last this many days count as recent.
const RECENT_DAYS: i64 = 30;
/// A completer is due a visit this many days after completing (3 months).
const FOLLOW_UP_DAYS: i64 = 91;
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
    user.actor.require(Action::ViewHouseholds)?;
    let lang = locale.0;
    let db = &state.db;
    let prefix = user.actor.scope_prefix().unwrap_or_default();
    let in_scope =
        || household::Entity::find().filter(household::Column::AreaCode.starts_with(&prefix));

    let households = in_scope().count(db).await?;
    let trained = in_scope()
        .filter(household::Column::Id.in_subquery(trained_households()))
        .count(db)
        .await?;
    let never_reached = in_scope()
        .filter(household::Column::Id.not_in_subquery(reached_households()))
        .count(db)
        .await?;
    let share =
        (households > 0).then(|| format!("{:.1}%", trained as f64 * 100.0 / households as f64));

    // Certificates of the area's learners in the last month, newest first.
    let since = Utc::now() - Duration::days(RECENT_DAYS);
    let learners_here = || {
        sea_orm::sea_query::Query::select()
            .column(app_user::Column::Id)
            .from(app_user::Entity)
            .and_where(app_user::Column::AreaCode.starts_with(&prefix))
            .to_owned()
    };
    let certs = certificate::Entity::find()
        .filter(certificate::Column::IssuedAt.gte(since))
        .filter(certificate::Column::RevokedAt.is_null())
        .filter(certificate::Column::UserId.in_subquery(learners_here()))
        .order_by_desc(certificate::Column::IssuedAt)
        .limit(SHOWN)
        .all(db)
        .await?;
    let slugs: Vec<String> = certs.iter().map(|c| c.course_slug.clone()).collect();
    let titles: HashMap<String, String> = if slugs.is_empty() {
        HashMap::new()
    } else {
        course::Entity::find()
            .filter(course::Column::Slug.is_in(slugs))
            .all(db)
            .await?
            .into_iter()
            .map(|c| {
                (
                    c.slug.clone(),
                    text(&c.title_json, lang, default_language(&c)),
                )
            })
            .collect()
    };
    let certificates: Vec<Value> = certs
        .iter()
        .map(|c| {
            json!({
                "name": c.holder_name,
                "course": titles.get(&c.course_slug).cloned().unwrap_or_else(|| c.course_slug.clone()),
                "at": state.settings.local_time(c.issued_at),
            })
        })
        .collect();

    let mut due_ids = due_members(db, &prefix).await?;
    let due_count = due_ids.len();
    due_ids.truncate(SHOWN as usize);
    let due: Vec<Value> = if due_ids.is_empty() {
        vec![]
    } else {
        member::Entity::find()
            .filter(member::Column::Id.is_in(due_ids))
            .order_by_asc(member::Column::Name)
            .all(db)
            .await?
            .into_iter()
            .map(|m| json!({"name": m.name, "household": m.household_id, "id": m.id}))
            .collect()
    };

    Page::new(&state, lang, Some(&user), "office.title")
        .set("households", households)
        .set("trained", trained)
        .set("share", share)
        .set("never_reached", never_reached)
        .set("certificates", certificates)
        .set("recent_days", RECENT_DAYS)
        .set("due_more", due_count > due.len())
        .set("due", due)
        .set("due_count", due_count)
        .set("is_admin", user.actor.is_admin())
        .render(&state, "pages/office_home")
}

/// The members whose 3-month follow-up visit is due in the area (`prefix`):
/// completers of three months ago or more, with a household member, and no
/// 3-month visit recorded. Ordered by member id.
async fn due_members(db: &sea_orm::DatabaseConnection, prefix: &str) -> AppResult<Vec<i64>> {
    let learners_here = sea_orm::sea_query::Query::select()
        .column(app_user::Column::Id)
        .from(app_user::Entity)
        .and_where(app_user::Column::AreaCode.starts_with(prefix))
        .to_owned();
    let cutoff = Utc::now() - Duration::days(FOLLOW_UP_DAYS);
    let done = enrollment::Entity::find()
        .filter(enrollment::Column::State.eq(EnrollmentState::Completed))
        .filter(enrollment::Column::CompletedAt.lte(cutoff))
        .filter(enrollment::Column::UserId.in_subquery(learners_here))
        .all(db)
        .await?;
    let user_ids: Vec<i64> = done.iter().map(|e| e.user_id).collect();
    let members: HashSet<i64> = if user_ids.is_empty() {
        HashSet::new()
    } else {
        app_user::Entity::find()
            .filter(app_user::Column::Id.is_in(user_ids))
            .filter(app_user::Column::MemberId.is_not_null())
            .all(db)
            .await?
            .into_iter()
            .filter_map(|u| u.member_id)
            .collect()
    };
    let member_ids: Vec<i64> = members.iter().copied().collect();
    let visited: HashSet<i64> = if member_ids.is_empty() {
        HashSet::new()
    } else {
        follow_up::Entity::find()
            .filter(follow_up::Column::MemberId.is_in(member_ids.clone()))
            .filter(follow_up::Column::MonthsAfter.eq(3))
            .all(db)
            .await?
            .into_iter()
            .filter_map(|f| f.member_id)
            .collect()
    };
    let mut due: Vec<i64> = member_ids
        .into_iter()
        .filter(|m| !visited.contains(m))
        .collect();
    due.sort_unstable();
    Ok(due)
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
    user.actor.require(Action::ViewHouseholds)?;
    let lang = locale.0;
    let db = &state.db;
    let prefix = user.actor.scope_prefix().unwrap_or_default();
    let all = due_members(db, &prefix).await?;
    let total = all.len() as u64;
    let page = q.page.unwrap_or(1).max(1);
    let ids: Vec<i64> = all
        .into_iter()
        .skip(((page - 1) * DUE_PER_PAGE) as usize)
        .take(DUE_PER_PAGE as usize)
        .collect();
    let members = if ids.is_empty() {
        vec![]
    } else {
        member::Entity::find()
            .filter(member::Column::Id.is_in(ids.clone()))
            .all(db)
            .await?
    };
    let homes: HashMap<i64, String> = if members.is_empty() {
        HashMap::new()
    } else {
        household::Entity::find()
            .filter(household::Column::Id.is_in(members.iter().map(|m| m.household_id)))
            .all(db)
            .await?
            .into_iter()
            .map(|h| (h.id, h.area_code))
            .collect()
    };
    let codes: Vec<String> = homes.values().cloned().collect();
    let places = crate::areas::names(db, &codes).await?;
    let by_id: HashMap<i64, &member::Model> = members.iter().map(|m| (m.id, m)).collect();
    let items: Vec<Value> = ids
        .iter()
        .filter_map(|id| by_id.get(id))
        .map(|m| {
            let village = homes.get(&m.household_id).and_then(|c| places.get(c));
            json!({"id": m.id, "name": m.name, "household": m.household_id, "village": village})
        })
        .collect();
    Page::new(&state, lang, Some(&user), "office.due_title")
        .set("items", items)
        .set("pager", super::pager(page, DUE_PER_PAGE, total))
        .render(&state, "pages/office_due")
}
