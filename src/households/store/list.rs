//! The scoped, filtered list of households (area, status, primary cause,
//! trained or not, registry number or a member's name), one page at a time.

use std::collections::{HashMap, HashSet};

use sea_orm::sea_query::{Expr, Query, SelectStatement};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::inputs::{ListQuery, Page, Summary};
use crate::areas::AreaCode;
use crate::entities::{app_user, enrollment, household, household_cause, member};
use crate::error::{AppError, AppResult};
use crate::households::messages::{Msg, RegistryError, RegistryResult};
use crate::households::rules;
use crate::households::vocab::{HouseholdStatus, Relation};
use crate::policy::{Action, Actor};

/// The area prefix a list or export covers: the requested area when it lies
/// inside the actor's (404 otherwise), else the actor's whole area.
pub fn area_prefix(actor: &Actor, area: Option<&str>) -> AppResult<String> {
    let scope = actor.scope_prefix();
    match area.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(scope.unwrap_or_default()),
        Some(a) => {
            let code = AreaCode::parse(a).map_err(|e| AppError::field("area", e))?;
            let p = code.prefix().to_owned();
            match scope {
                Some(s) if !p.starts_with(&s) => Err(AppError::NotFound),
                _ => Ok(p),
            }
        }
    }
}

/// Ids of households with a linked learner who completed a course.
pub fn trained_households() -> SelectStatement {
    use sea_orm::sea_query::ExprTrait;
    reached_households()
        .and_where(
            Expr::col((enrollment::Entity, enrollment::Column::State))
                .eq(enrollment::EnrollmentState::Completed),
        )
        .to_owned()
}

/// Ids of households with a linked learner enrolled in a course (in any
/// state): the households the training has reached.
pub fn reached_households() -> SelectStatement {
    use sea_orm::sea_query::ExprTrait;
    Query::select()
        .column((member::Entity, member::Column::HouseholdId))
        .from(member::Entity)
        .inner_join(
            app_user::Entity,
            Expr::col((app_user::Entity, app_user::Column::MemberId))
                .equals((member::Entity, member::Column::Id)),
        )
        .inner_join(
            enrollment::Entity,
            Expr::col((enrollment::Entity, enrollment::Column::UserId))
                .equals((app_user::Entity, app_user::Column::Id)),
        )
        .to_owned()
}

fn yes_no(s: Option<&str>) -> Result<Option<bool>, Msg> {
    match s.map(str::trim).unwrap_or("") {
        "" => Ok(None),
        "1" | "true" | "yes" => Ok(Some(true)),
        "0" | "false" | "no" => Ok(Some(false)),
        other => Err(Msg::new("hh.err.yes_no").with("value", other)),
    }
}

pub async fn list(
    db: &impl ConnectionTrait,
    actor: &Actor,
    f: &ListQuery,
) -> RegistryResult<Page<Summary>> {
    actor.require(Action::ViewHouseholds)?;
    let prefix = area_prefix(actor, f.area.as_deref())?;
    let mut q = household::Entity::find();
    if !prefix.is_empty() {
        q = q.filter(household::Column::AreaCode.starts_with(&prefix));
    }
    if let Some(s) = f.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let st = HouseholdStatus::parse(s).ok_or_else(|| {
            RegistryError::field("status", Msg::new("hh.err.unknown_status").with("value", s))
        })?;
        q = q.filter(household::Column::Status.eq(st.code()));
    }
    if let Some(c) = f.cause.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let cause = rules::cause(c).map_err(|m| RegistryError::field("cause", m))?;
        q = q.filter(
            household::Column::Id.in_subquery(
                Query::select()
                    .column(household_cause::Column::HouseholdId)
                    .from(household_cause::Entity)
                    .and_where(household_cause::Column::IsPrimary.eq(true))
                    .and_where(household_cause::Column::Cause.eq(cause.code))
                    .to_owned(),
            ),
        );
    }
    match yes_no(f.trained.as_deref()).map_err(|m| RegistryError::field("trained", m))? {
        Some(true) => q = q.filter(household::Column::Id.in_subquery(trained_households())),
        Some(false) => q = q.filter(household::Column::Id.not_in_subquery(trained_households())),
        None => {}
    }
    match yes_no(f.reached.as_deref()).map_err(|m| RegistryError::field("reached", m))? {
        Some(true) => q = q.filter(household::Column::Id.in_subquery(reached_households())),
        Some(false) => q = q.filter(household::Column::Id.not_in_subquery(reached_households())),
        None => {}
    }
    if let Some(text) = f.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        q = q.filter(
            sea_orm::Condition::any()
                .add(household::Column::RegistryNo.starts_with(text))
                .add(
                    household::Column::Id.in_subquery(
                        Query::select()
                            .column(member::Column::HouseholdId)
                            .from(member::Entity)
                            .and_where(member::Column::Name.eq(text))
                            .to_owned(),
                    ),
                ),
        );
    }
    let (page, per_page) = f.page_params();
    let total = q.clone().count(db).await?;
    let rows = q
        .order_by_asc(household::Column::AreaCode)
        .order_by_asc(household::Column::RegistryNo)
        .offset(crate::paging::offset(page, per_page))
        .limit(per_page)
        .all(db)
        .await?;
    let items = summarize(db, rows).await?;
    Ok(Page { items, total })
}

async fn summarize(
    db: &impl ConnectionTrait,
    rows: Vec<household::Model>,
) -> AppResult<Vec<Summary>> {
    let ids: Vec<i64> = rows.iter().map(|h| h.id).collect();
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let members = member::Entity::find()
        .filter(member::Column::HouseholdId.is_in(ids.clone()))
        .all(db)
        .await?;
    let primaries: HashMap<i64, String> = household_cause::Entity::find()
        .filter(household_cause::Column::HouseholdId.is_in(ids.clone()))
        .filter(household_cause::Column::IsPrimary.eq(true))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.household_id, c.cause))
        .collect();
    use sea_orm::sea_query::ExprTrait;
    let mut trained_q = trained_households();
    trained_q
        .and_where(Expr::col((member::Entity, member::Column::HouseholdId)).is_in(ids.clone()));
    let trained: HashSet<i64> = {
        let stmt = db.get_database_backend().build(&trained_q);
        db.query_all_raw(stmt)
            .await?
            .into_iter()
            .filter_map(|r| r.try_get_by_index::<i64>(0).ok())
            .collect()
    };
    let codes: Vec<String> = rows.iter().map(|h| h.area_code.clone()).collect();
    let names = crate::areas::names(db, &codes).await?;
    Ok(rows
        .into_iter()
        .map(|h| {
            let mine: Vec<&member::Model> =
                members.iter().filter(|m| m.household_id == h.id).collect();
            Summary {
                id: h.id,
                area_name: names.get(&h.area_code).cloned(),
                primary_cause: primaries.get(&h.id).cloned(),
                head: mine
                    .iter()
                    .find(|m| m.relation == Relation::Head.code())
                    .map(|m| m.name.clone()),
                members: mine.len(),
                trained: trained.contains(&h.id),
                registry_no: h.registry_no,
                area_code: h.area_code,
                kind: h.kind,
                status: h.status,
            }
        })
        .collect())
}

/// The household, 404 when missing or outside the actor's area.
pub async fn find_in_scope(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: i64,
    action: Action,
) -> AppResult<household::Model> {
    actor.require(action)?;
    let h = household::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    actor.require_in(action, Some(&h.area_code))?;
    Ok(h)
}
