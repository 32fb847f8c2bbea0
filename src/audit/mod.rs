//! The audit log (`change_event`): who did what to which record, when.
//! Insert-only: this module has no update or delete path, and nothing else
//! writes the table. Callers pass snapshots with secrets and ID numbers
//! already removed; `record` never sees a password or token.

use chrono::Utc;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde::Serialize;

use crate::entities::change_event;
use crate::error::AppResult;

/// What happened, as stored in `change_event.action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Create,
    Update,
    Delete,
    ReadSensitive,
    Import,
    Export,
    SignIn,
    SignInFailed,
    /// A sign-in lockout began (one row per lockout, not per refused try).
    SignInLocked,
    SignOut,
    RoleChange,
    /// An identity or registry number refused because a record of another
    /// area has it; for an official covering both areas (or the admin).
    Conflict,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
            Action::ReadSensitive => "read_sensitive",
            Action::Import => "import",
            Action::Export => "export",
            Action::SignIn => "sign_in",
            Action::SignInFailed => "sign_in_failed",
            Action::SignInLocked => "sign_in_locked",
            Action::SignOut => "sign_out",
            Action::RoleChange => "role_change",
            Action::Conflict => "conflict",
        }
    }
}

/// One audit entry to write.
#[derive(Debug, Default)]
pub struct Entry<'a> {
    pub actor_id: Option<i64>,
    pub entity: &'a str,
    pub entity_id: Option<String>,
    pub area_code: Option<String>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub reason: Option<String>,
    pub ip: Option<String>,
}

pub async fn record(db: &impl ConnectionTrait, action: Action, e: Entry<'_>) -> AppResult<()> {
    let am = change_event::ActiveModel {
        at: Set(Utc::now()),
        actor_id: Set(e.actor_id),
        action: Set(action.as_str().to_string()),
        entity: Set(e.entity.to_string()),
        entity_id: Set(e.entity_id),
        area_code: Set(e.area_code),
        before_json: Set(e.before.map(|v| v.to_string())),
        after_json: Set(e.after.map(|v| v.to_string())),
        reason: Set(e.reason),
        ip: Set(e.ip),
        ..Default::default()
    };
    change_event::Entity::insert(am)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct Filter {
    pub action: Option<String>,
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    pub actor_id: Option<i64>,
    /// Area prefix: events about records inside this area.
    pub area_prefix: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
}

pub async fn list(
    db: &impl ConnectionTrait,
    f: &Filter,
    page: u64,
    per_page: u64,
) -> AppResult<Page<change_event::Model>> {
    let mut q = change_event::Entity::find();
    if let Some(a) = f.action.as_deref().filter(|s| !s.is_empty()) {
        q = q.filter(change_event::Column::Action.eq(a));
    }
    if let Some(a) = f.entity.as_deref().filter(|s| !s.is_empty()) {
        q = q.filter(change_event::Column::Entity.eq(a));
    }
    if let Some(a) = f.entity_id.as_deref().filter(|s| !s.is_empty()) {
        q = q.filter(change_event::Column::EntityId.eq(a));
    }
    if let Some(a) = f.actor_id {
        q = q.filter(change_event::Column::ActorId.eq(a));
    }
    if let Some(a) = f.area_prefix.as_deref().filter(|s| !s.is_empty()) {
        q = q.filter(change_event::Column::AreaCode.starts_with(a));
    }
    let total = q.clone().count(db).await?;
    let items = q
        .order_by_desc(change_event::Column::Id)
        .offset(crate::paging::offset(page, per_page))
        .limit(per_page)
        .all(db)
        .await?;
    Ok(Page { items, total })
}
