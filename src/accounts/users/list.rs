//! Finding users: by id or login, the page of users an actor may see, and
//! one user an actor may manage.

use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use super::inputs::{UserQuery, page_params};
use crate::entities::app_user;
use crate::error::{AppError, AppResult};
use crate::policy::{Action, Actor};

pub async fn find(db: &impl ConnectionTrait, id: i64) -> AppResult<Option<app_user::Model>> {
    Ok(app_user::Entity::find_by_id(id).one(db).await?)
}

pub async fn find_by_login(
    db: &impl ConnectionTrait,
    login: &str,
) -> AppResult<Option<app_user::Model>> {
    Ok(app_user::Entity::find()
        .filter(app_user::Column::Login.eq(login))
        .one(db)
        .await?)
}

/// Users the actor may see: everyone for admins, learners in their area for staff.
pub async fn list(
    db: &impl ConnectionTrait,
    actor: &Actor,
    q: &UserQuery,
) -> AppResult<(Vec<app_user::Model>, u64)> {
    list_in(db, actor, q, None).await
}

/// As `list`, within one area too (a village, a township: its code's prefix),
/// whatever the area: the actor's own scope still bounds the list.
pub async fn list_in(
    db: &impl ConnectionTrait,
    actor: &Actor,
    q: &UserQuery,
    area: Option<&crate::areas::AreaCode>,
) -> AppResult<(Vec<app_user::Model>, u64)> {
    actor.require(Action::ListUsers)?;
    let mut cond = Condition::all();
    if let Some(a) = area {
        cond = cond.add(app_user::Column::AreaCode.starts_with(a.prefix()));
    }
    if !actor.is_admin() {
        cond = cond.add(app_user::Column::Role.eq("learner"));
        cond = cond
            .add(app_user::Column::AreaCode.starts_with(actor.scope_prefix().unwrap_or_default()));
    }
    if let Some(r) = q.role.as_deref().filter(|r| !r.is_empty()) {
        cond = cond.add(app_user::Column::Role.eq(r));
    }
    if let Some(s) = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        cond = cond.add(
            Condition::any()
                .add(app_user::Column::Login.contains(s))
                .add(app_user::Column::DisplayName.contains(s)),
        );
    }
    let (page, per_page) = page_params(q.page, q.per_page);
    let query = app_user::Entity::find().filter(cond);
    let total = query.clone().count(db).await?;
    let items = query
        .order_by_asc(app_user::Column::Id)
        .offset(crate::paging::offset(page, per_page))
        .limit(per_page)
        .all(db)
        .await?;
    Ok((items, total))
}

/// Loads a user the actor may manage (404 when outside their reach).
pub async fn get_managed(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: i64,
    action: Action,
) -> AppResult<app_user::Model> {
    let u = find(db, id).await?.ok_or(AppError::NotFound)?;
    actor.require_user(action, u.id, u.role, u.area_code.as_deref())?;
    Ok(u)
}
