//! An official's day in her area, as `/office` shows it: coverage
//! (households, households with a member trained, households the training
//! never reached), the certificates of the last month, and the follow-up
//! visits due. Every figure is one aggregate query; lists are batched by ids.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::entities::enrollment::EnrollmentState;
use crate::entities::{app_user, certificate, course, enrollment, follow_up, household, member};
use crate::error::AppResult;
use crate::households::store::{reached_households, trained_households};
use crate::learning::content::{default_language, text};
use crate::policy::{Action, Actor};

/// Certificates of the last this many days count as recent.
pub const RECENT_DAYS: i64 = 30;
/// A completer is due a visit this many days after completing (3 months).
const FOLLOW_UP_DAYS: i64 = 91;

/// What the official's start page shows.
pub struct Today {
    pub households: u64,
    pub trained: u64,
    pub never_reached: u64,
    /// The newest certificates of the area's learners (at most `shown`).
    pub certificates: Vec<Recent>,
    /// Follow-up visits due in all, and the first `shown` of them.
    pub due_count: usize,
    pub due: Vec<Due>,
}

/// A certificate of the last `RECENT_DAYS`.
pub struct Recent {
    pub holder: String,
    /// The course's title in the page's language (its slug if it has none).
    pub course: String,
    pub issued_at: DateTime<Utc>,
}

/// A member whose follow-up visit is due.
pub struct Due {
    pub id: i64,
    pub name: String,
    pub household: i64,
    /// Her village's name (`due_page` only).
    pub village: Option<String>,
}

/// The official's day in her area; lists hold at most `shown` rows.
pub async fn office(
    db: &DatabaseConnection,
    actor: &Actor,
    lang: &str,
    shown: u64,
) -> AppResult<Today> {
    actor.require(Action::ViewHouseholds)?;
    let prefix = actor.scope_prefix().unwrap_or_default();
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
    let certificates = recent_certificates(db, &prefix, lang, shown).await?;
    let mut due_ids = due_members(db, &prefix).await?;
    let due_count = due_ids.len();
    due_ids.truncate(shown as usize);
    let due = if due_ids.is_empty() {
        vec![]
    } else {
        member::Entity::find()
            .filter(member::Column::Id.is_in(due_ids))
            .order_by_asc(member::Column::Name)
            .all(db)
            .await?
            .into_iter()
            .map(|m| Due {
                id: m.id,
                name: m.name,
                household: m.household_id,
                village: None,
            })
            .collect()
    };
    Ok(Today {
        households,
        trained,
        never_reached,
        certificates,
        due_count,
        due,
    })
}

/// The learners of the area (`prefix`), as a subquery.
fn learners_in(prefix: &str) -> sea_orm::sea_query::SelectStatement {
    sea_orm::sea_query::Query::select()
        .column(app_user::Column::Id)
        .from(app_user::Entity)
        .and_where(app_user::Column::AreaCode.starts_with(prefix))
        .to_owned()
}

/// Certificates of the area's learners in the last month, newest first.
async fn recent_certificates(
    db: &DatabaseConnection,
    prefix: &str,
    lang: &str,
    shown: u64,
) -> AppResult<Vec<Recent>> {
    let since = Utc::now() - Duration::days(RECENT_DAYS);
    let certs = certificate::Entity::find()
        .filter(certificate::Column::IssuedAt.gte(since))
        .filter(certificate::Column::RevokedAt.is_null())
        .filter(certificate::Column::UserId.in_subquery(learners_in(prefix)))
        .order_by_desc(certificate::Column::IssuedAt)
        .limit(shown)
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
    Ok(certs
        .into_iter()
        .map(|c| Recent {
            course: titles.get(&c.course_slug).cloned().unwrap_or(c.course_slug),
            holder: c.holder_name,
            issued_at: c.issued_at,
        })
        .collect())
}

/// One page of the follow-up visits due in the actor's area, by member id,
/// with each member's village: `(total, page)`.
pub async fn due_page(
    db: &DatabaseConnection,
    actor: &Actor,
    page: u64,
    per_page: u64,
) -> AppResult<(u64, Vec<Due>)> {
    actor.require(Action::ViewHouseholds)?;
    let prefix = actor.scope_prefix().unwrap_or_default();
    let all = due_members(db, &prefix).await?;
    let total = all.len() as u64;
    let ids: Vec<i64> = all
        .into_iter()
        .skip((page.saturating_sub(1) * per_page) as usize)
        .take(per_page as usize)
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
    let mut by_id: HashMap<i64, member::Model> = members.into_iter().map(|m| (m.id, m)).collect();
    let items = ids
        .iter()
        .filter_map(|id| by_id.remove(id))
        .map(|m| Due {
            village: homes
                .get(&m.household_id)
                .and_then(|c| places.get(c))
                .cloned(),
            id: m.id,
            name: m.name,
            household: m.household_id,
        })
        .collect();
    Ok((total, items))
}

/// The members whose 3-month follow-up visit is due in the area (`prefix`):
/// completers of three months ago or more, with a household member, and no
/// 3-month visit recorded. Ordered by member id.
async fn due_members(db: &DatabaseConnection, prefix: &str) -> AppResult<Vec<i64>> {
    let cutoff = Utc::now() - Duration::days(FOLLOW_UP_DAYS);
    let done = enrollment::Entity::find()
        .filter(enrollment::Column::State.eq(EnrollmentState::Completed))
        .filter(enrollment::Column::CompletedAt.lte(cutoff))
        .filter(enrollment::Column::UserId.in_subquery(learners_in(prefix)))
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
