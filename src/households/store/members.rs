//! The members of a household: adding and removing one, the stored row of a
//! validated member (for forms and imports alike), and the refusal of an
//! identity number registered twice.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter,
};

use super::conflicts::{Clash, settle};
use super::inputs::MemberInput;
use super::list::find_in_scope;
use super::snapshots::{log_members, members_of};
use super::{hasher, validate};
use crate::db::begin_write;
use crate::entities::{app_user, follow_up, household, member};
use crate::error::{AppError, AppResult};
use crate::households::import::MemberRow;
use crate::households::messages::{Msg, Problems, RegistryError, RegistryResult};
use crate::households::vocab::Relation;
use crate::policy::{Action, Actor};

/// The row to insert for a validated member of household `household_id`.
pub fn member_model(
    household_id: i64,
    area_code: &str,
    m: &MemberRow,
    now: DateTime<Utc>,
) -> member::ActiveModel {
    member::ActiveModel {
        household_id: Set(household_id),
        area_code: Set(area_code.to_owned()),
        name: Set(m.name.clone()),
        sex: Set(m.sex.code().to_owned()),
        birth_year: Set(m.birth_year),
        ethnicity: Set(m.ethnicity.clone()),
        relation: Set(m.relation.code().to_owned()),
        education: Set(m.education.clone()),
        school_status: Set(m.school_status.clone()),
        health: Set(m.health.map(|h| h.code().to_owned())),
        labour: Set(m.labour.map(|l| l.code().to_owned())),
        migrant_months: Set(m.migrant_months),
        id_hmac: Set(Some(m.id.hmac.clone())),
        id_last4: Set(Some(m.id.last4.clone())),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
}

/// Refuses identity numbers already registered: naming the household when it
/// is inside the actor's area; outside it, saying only that the number cannot
/// be used here (and recording the clash, see `conflicts`). `area` is the
/// area of the household the members are for.
pub(super) async fn check_ids_free(
    db: &impl ConnectionTrait,
    actor: &Actor,
    area: &str,
    members: &[&MemberRow],
) -> RegistryResult<()> {
    if members.is_empty() {
        return Ok(());
    }
    let hmacs: Vec<String> = members.iter().map(|m| m.id.hmac.clone()).collect();
    let found = member::Entity::find()
        .filter(member::Column::IdHmac.is_in(hmacs))
        .all(db)
        .await?;
    let Some(existing) = found.first() else {
        return Ok(());
    };
    let last4 = existing.id_last4.clone().unwrap_or_default();
    if actor.in_scope(Some(&existing.area_code)) {
        let no = household::Entity::find_by_id(existing.household_id)
            .one(db)
            .await?
            .map(|h| h.registry_no)
            .unwrap_or_default();
        return Err(RegistryError::Conflict(
            Msg::new("hh.err.id_taken_in")
                .with("last4", last4)
                .with("registry", no),
        ));
    }
    let clashes = found
        .iter()
        .filter(|e| !actor.in_scope(Some(&e.area_code)))
        .map(|e| Clash {
            kind: "id_number",
            number: e.id_last4.clone().unwrap_or_default(),
            existing_household: e.household_id,
            existing_area: e.area_code.clone(),
            wanted_area: area.to_owned(),
        })
        .collect();
    Err(RegistryError::Elsewhere(
        Msg::new("hh.err.id_elsewhere").with("last4", last4),
        clashes,
    ))
}

/// Drops the links of learner accounts to these members, and their follow-ups.
pub(super) async fn unlink_members(db: &impl ConnectionTrait, member_ids: &[i64]) -> AppResult<()> {
    if member_ids.is_empty() {
        return Ok(());
    }
    let linked = app_user::Entity::find()
        .filter(app_user::Column::MemberId.is_in(member_ids.iter().copied()))
        .all(db)
        .await?;
    app_user::Entity::update_many()
        .col_expr(app_user::Column::MemberId, Expr::value(Option::<i64>::None))
        .filter(app_user::Column::MemberId.is_in(member_ids.iter().copied()))
        .exec(db)
        .await?;
    // A learner's session names her member: every process must drop it.
    for u in linked {
        crate::accounts::sessions::note_user(db, u.id).await?;
    }
    follow_up::Entity::delete_many()
        .filter(follow_up::Column::MemberId.is_in(member_ids.iter().copied()))
        .exec(db)
        .await?;
    Ok(())
}

/// Adds a member to a household.
pub async fn add_member(
    db: &DatabaseConnection,
    actor: &Actor,
    key: &[u8],
    household_id: i64,
    m: &MemberInput,
) -> RegistryResult<member::Model> {
    let txn = begin_write(db).await?;
    let result = add_member_in(&txn, actor, key, household_id, m).await;
    settle(db, txn, actor, result).await
}

async fn add_member_in(
    txn: &impl ConnectionTrait,
    actor: &Actor,
    key: &[u8],
    household_id: i64,
    m: &MemberInput,
) -> RegistryResult<member::Model> {
    let h = find_in_scope(txn, actor, household_id, Action::EditHouseholds).await?;
    let mut p = Problems::new();
    let v = validate::member(&mut p, "", m, &hasher(key));
    let existing = members_of(txn, h.id).await?;
    if let Some(v) = &v
        && v.relation == Relation::Head
        && existing.iter().any(|e| e.relation == Relation::Head.code())
    {
        p.insert("relation".into(), Msg::new("hh.err.has_head"));
    }
    let Some(v) = v.filter(|_| p.is_empty()) else {
        return Err(RegistryError::Invalid(p));
    };
    check_ids_free(txn, actor, &h.area_code, &[&v]).await?;
    let created = member_model(h.id, &h.area_code, &v, Utc::now())
        .insert(txn)
        .await?;
    log_members(txn, actor, &h, &existing, "add member").await?;
    Ok(created)
}

/// The member of this household, 404 otherwise.
pub async fn find_member(
    db: &impl ConnectionTrait,
    actor: &Actor,
    household_id: i64,
    member_id: i64,
    action: Action,
) -> AppResult<(household::Model, member::Model)> {
    let h = find_in_scope(db, actor, household_id, action).await?;
    let m = member::Entity::find_by_id(member_id)
        .one(db)
        .await?
        .filter(|m| m.household_id == h.id)
        .ok_or(AppError::NotFound)?;
    Ok((h, m))
}

/// Removes a member; a linked learner account keeps working without the link.
pub async fn remove_member(
    db: &DatabaseConnection,
    actor: &Actor,
    household_id: i64,
    member_id: i64,
) -> RegistryResult<()> {
    let txn = begin_write(db).await?;
    let (h, m) = find_member(&txn, actor, household_id, member_id, Action::EditHouseholds).await?;
    let existing = members_of(&txn, h.id).await?;
    if existing.len() <= 1 {
        return Err(RegistryError::Conflict(Msg::new("hh.err.last_member")));
    }
    unlink_members(&txn, &[m.id]).await?;
    member::Entity::delete_by_id(m.id).exec(&txn).await?;
    log_members(&txn, actor, &h, &existing, "remove member").await?;
    txn.commit().await?;
    Ok(())
}
