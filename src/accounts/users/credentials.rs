//! Setting a user's password or PIN and revoking their tokens.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
};

use super::list::get_managed;
use crate::accounts::{password, sessions};
use crate::audit::{self, Action as Audit, Entry};
use crate::entities::app_user;
use crate::error::{AppError, AppResult};
use crate::policy::{Action, Actor};

/// An admin or trainer sets the password (or PIN) of someone they manage;
/// the same path for the page and the API.
pub async fn reset_password(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: i64,
    new: &str,
) -> AppResult<app_user::Model> {
    let u = get_managed(db, actor, id, Action::ManageUser).await?;
    set_password(db, Some(actor.id), &u, new).await?;
    Ok(u)
}

/// Sets a new password (or PIN) and revokes every token of the user.
pub async fn set_password(
    db: &impl ConnectionTrait,
    actor_id: Option<i64>,
    u: &app_user::Model,
    new: &str,
) -> AppResult<()> {
    password::check_strength(new, u.pin).map_err(|e| AppError::field("password", e))?;
    let hash = password::hash(new.to_string()).await?;
    let mut am: app_user::ActiveModel = u.clone().into();
    am.password_hash = Set(hash);
    am.token_version = Set(u.token_version + 1);
    am.update(db).await?;
    sessions::note_user(db, u.id).await?;
    audit::record(
        db,
        Audit::Update,
        Entry {
            actor_id,
            entity: "user",
            entity_id: Some(u.id.to_string()),
            area_code: u.area_code.clone(),
            reason: Some("password changed".into()),
            ..Default::default()
        },
    )
    .await?;
    Ok(())
}

/// Revokes every token of a user ("sign out everywhere").
pub async fn bump_token_version(db: &impl ConnectionTrait, user_id: i64) -> AppResult<()> {
    app_user::Entity::update_many()
        .col_expr(app_user::Column::TokenVersion, {
            use sea_orm::sea_query::ExprTrait;
            sea_orm::sea_query::Expr::col(app_user::Column::TokenVersion).add(1)
        })
        .col_expr(
            app_user::Column::UpdatedAt,
            sea_orm::sea_query::Expr::value(Utc::now()),
        )
        .filter(app_user::Column::Id.eq(user_id))
        .exec(db)
        .await?;
    sessions::note_user(db, user_id).await
}
