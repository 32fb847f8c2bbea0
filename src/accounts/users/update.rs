//! Changing a user: name, email, role, area, disabled, member link; a new
//! role or scope revokes the old tokens.

use std::collections::BTreeMap;

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait};

use super::fields::{Field, Target, may_write, refused};
use super::inputs::{UserChange, validate_display_name, validate_email};
use super::list::get_managed;
use super::view::snapshot;
use crate::accounts::{Role, sessions};
use crate::areas::AreaCode;
use crate::audit::{self, Action as Audit, Entry};
use crate::entities::app_user;
use crate::error::{AppError, AppResult};
use crate::policy::{Action, Actor};

pub async fn update(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: i64,
    ch: &UserChange,
) -> AppResult<app_user::Model> {
    let u = get_managed(db, actor, id, Action::ManageUser).await?;
    let before = snapshot(&u);
    let mut am: app_user::ActiveModel = u.clone().into();
    let mut errs = BTreeMap::new();
    // Only the fields the actor's role may write (`fields::WRITABLE`); a
    // field sent with the value it has is not a write.
    let target = if u.id == actor.id {
        Target::Own
    } else {
        Target::Managed
    };
    let trimmed = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let written = [
        (
            Field::DisplayName,
            ch.display_name
                .as_deref()
                .is_some_and(|n| n.trim() != u.display_name),
        ),
        (
            Field::Email,
            ch.email.is_some() && trimmed(&ch.email) != u.email,
        ),
        (
            Field::Role,
            ch.role
                .as_deref()
                .filter(|r| !r.is_empty())
                .is_some_and(|r| Role::parse(r) != Some(u.role)),
        ),
        (
            Field::AreaCode,
            ch.area_code.is_some() && trimmed(&ch.area_code) != u.area_code,
        ),
        (
            Field::Disabled,
            ch.disabled.is_some_and(|d| d != u.disabled_at.is_some()),
        ),
        (
            Field::MemberId,
            ch.member_id.is_some() && ch.member_id != u.member_id,
        ),
    ];
    for (field, _) in written
        .iter()
        .filter(|(f, w)| *w && !may_write(actor.role, target, *f))
    {
        let (k, v) = refused(actor.role, *field);
        errs.insert(k, v);
    }
    if !errs.is_empty() {
        return Err(AppError::fields(errs));
    }
    if let Some(n) = &ch.display_name {
        match validate_display_name(n) {
            Ok(n) => am.display_name = Set(n.to_string()),
            Err(e) => {
                errs.insert("display_name".into(), e);
            }
        }
    }
    if ch.email.is_some() {
        match validate_email(&ch.email) {
            Ok(e) => am.email = Set(e),
            Err(e) => {
                errs.insert("email".into(), e);
            }
        }
    }
    let mut role_changed = false;
    let new_role = match ch.role.as_deref().filter(|r| !r.is_empty()) {
        Some(r) => match Role::parse(r) {
            Some(r) => {
                if r != u.role {
                    actor.require(Action::ChangeRole)?;
                    role_changed = true;
                }
                r
            }
            None => {
                errs.insert(
                    "role".into(),
                    "must be learner, trainer, official or admin".into(),
                );
                u.role
            }
        },
        None => u.role,
    };
    if let Some(c) = &ch.area_code {
        let c = c.trim();
        let new_area = if c.is_empty() {
            None
        } else {
            Some(c.to_string())
        };
        if new_area != u.area_code {
            match new_area.as_deref().map(AreaCode::parse) {
                Some(Err(e)) => {
                    errs.insert("area_code".into(), e);
                }
                Some(Ok(a)) => {
                    // Staff may move a learner only within their own area.
                    actor.require_in(Action::ManageUser, Some(a.as_str()))?;
                    if crate::areas::find(db, a.as_str()).await?.is_none() {
                        errs.insert("area_code".into(), format!("area {a} does not exist"));
                    }
                    if u.role != Role::Learner {
                        actor.require(Action::ChangeRole)?;
                        role_changed = true;
                    }
                    am.area_code = Set(Some(a.to_string()));
                }
                // A learner without an area is in no one's scope but an
                // admin's: she would vanish from her trainer and officials.
                None if u.role != Role::Admin => {
                    errs.insert(
                        "area_code".into(),
                        "cannot be emptied: every account but an admin's belongs to an area (只有管理员可以没有地区)".into(),
                    );
                }
                None => am.area_code = Set(None),
            }
        }
    }
    if new_role == Role::Learner && u.role != Role::Learner {
        let area = match &am.area_code {
            Set(a) => a.clone(),
            _ => u.area_code.clone(),
        };
        if area.is_none() {
            errs.insert(
                "area_code".into(),
                "a learner needs her village (学员需要所在村)".into(),
            );
        }
    }
    if new_role.is_staff() && new_role != Role::Admin {
        let area = match &am.area_code {
            Set(a) => a.clone(),
            _ => u.area_code.clone(),
        };
        if area.is_none() {
            errs.insert(
                "area_code".into(),
                "trainers and officials need the area they serve".into(),
            );
        }
    }
    if !errs.is_empty() {
        return Err(AppError::fields(errs));
    }
    if role_changed {
        am.role = Set(new_role);
        // A new role or scope takes effect at once: old tokens stop working.
        am.token_version = Set(u.token_version + 1);
    }
    if let Some(d) = ch.disabled {
        if d && u.id == actor.id {
            return Err(AppError::field(
                "disabled",
                "you cannot disable your own account",
            ));
        }
        if d != u.disabled_at.is_some() {
            am.disabled_at = Set(if d { Some(Utc::now()) } else { None });
            if d {
                am.token_version = Set(u.token_version + 1);
            }
        }
    }
    if let Some(m) = ch.member_id.filter(|m| Some(*m) != u.member_id) {
        check_member(db, actor, m, Some(u.id)).await?;
        am.member_id = Set(Some(m));
    }
    let after = am.update(db).await?;
    sessions::note_user(db, after.id).await?;
    audit::record(
        db,
        if role_changed {
            Audit::RoleChange
        } else {
            Audit::Update
        },
        Entry {
            actor_id: Some(actor.id),
            entity: "user",
            entity_id: Some(after.id.to_string()),
            area_code: after.area_code.clone(),
            before: Some(before),
            after: Some(snapshot(&after)),
            ..Default::default()
        },
    )
    .await?;
    Ok(after)
}

/// A member an account may be linked to by this actor: in her area (one
/// answer for a member elsewhere and one that does not exist) and not linked
/// to another account.
pub(super) async fn check_member(
    db: &impl ConnectionTrait,
    actor: &Actor,
    member_id: i64,
    user_id: Option<i64>,
) -> AppResult<()> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let m = crate::entities::member::Entity::find_by_id(member_id)
        .one(db)
        .await?
        .filter(|m| actor.in_scope(Some(&m.area_code)));
    if m.is_none() {
        return Err(AppError::field(
            "member_id",
            "is not a household member in your area (不是您辖区内的家庭成员)",
        ));
    }
    let other = app_user::Entity::find()
        .filter(app_user::Column::MemberId.eq(member_id))
        .one(db)
        .await?;
    if other.is_some_and(|o| Some(o.id) != user_id) {
        return Err(AppError::Conflict(
            "this household member is already linked to another account".into(),
        ));
    }
    Ok(())
}
