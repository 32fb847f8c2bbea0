//! Linking learner accounts to household members: finding a member by name
//! and birth year or by the full identity number (looked up by its HMAC, never
//! stored or logged), setting a learner's `member_id`, and creating a learner
//! account from a member in one step. Trainers and officials act inside their
//! area, admins everywhere.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;

use super::idcard::NationalId;
use super::messages::Msg;
use super::rules;
use super::store::hasher;
use crate::accounts::Role;
use crate::accounts::users::{self, NewUser, UserChange};
use crate::entities::{app_user, household, member};
use crate::error::{AppError, AppResult};
use crate::policy::{Action, Actor};

/// A member as a search shows it: enough to recognise, nothing sensitive.
#[derive(Debug, Clone, Serialize)]
pub struct MemberHit {
    pub id: i64,
    pub household_id: i64,
    pub registry_no: String,
    pub area_code: String,
    /// The area's name, which pages show (the code only in a title).
    pub area_name: Option<String>,
    pub name: String,
    pub sex: String,
    pub birth_year: i32,
    pub relation: String,
    pub id_last4: Option<String>,
    pub learner_login: Option<String>,
}

async fn hits(db: &impl ConnectionTrait, found: Vec<member::Model>) -> AppResult<Vec<MemberHit>> {
    let hh: Vec<i64> = found.iter().map(|m| m.household_id).collect();
    let ids: Vec<i64> = found.iter().map(|m| m.id).collect();
    let households: std::collections::HashMap<i64, String> = if hh.is_empty() {
        Default::default()
    } else {
        household::Entity::find()
            .filter(household::Column::Id.is_in(hh))
            .all(db)
            .await?
            .into_iter()
            .map(|h| (h.id, h.registry_no))
            .collect()
    };
    let learners: std::collections::HashMap<i64, String> = if ids.is_empty() {
        Default::default()
    } else {
        app_user::Entity::find()
            .filter(app_user::Column::MemberId.is_in(ids))
            .all(db)
            .await?
            .into_iter()
            .filter_map(|u| u.member_id.map(|m| (m, u.login)))
            .collect()
    };
    let codes: Vec<String> = found.iter().map(|m| m.area_code.clone()).collect();
    let names = crate::areas::names(db, &codes).await?;
    Ok(found
        .into_iter()
        .map(|m| MemberHit {
            area_name: names.get(&m.area_code).cloned(),
            registry_no: households.get(&m.household_id).cloned().unwrap_or_default(),
            learner_login: learners.get(&m.id).cloned(),
            id: m.id,
            household_id: m.household_id,
            area_code: m.area_code,
            name: m.name,
            sex: m.sex,
            birth_year: m.birth_year,
            relation: m.relation,
            id_last4: m.id_last4,
        })
        .collect())
}

/// Members of the actor's area with this name (and birth year, when given).
pub async fn search_by_name(
    db: &impl ConnectionTrait,
    actor: &Actor,
    name: &str,
    birth_year: Option<i32>,
) -> AppResult<Vec<MemberHit>> {
    actor.require(Action::ManageUser)?;
    let name = name.trim();
    if name.is_empty() {
        return Ok(vec![]);
    }
    let mut q = member::Entity::find().filter(member::Column::Name.eq(name));
    if let Some(y) = birth_year {
        q = q.filter(member::Column::BirthYear.eq(y));
    }
    if let Some(p) = actor.scope_prefix() {
        q = q.filter(member::Column::AreaCode.starts_with(&p));
    }
    let found = q.order_by_asc(member::Column::Id).limit(50).all(db).await?;
    hits(db, found).await
}

/// The member with this identity number, when inside the actor's area.
pub async fn search_by_id_number(
    db: &impl ConnectionTrait,
    actor: &Actor,
    key: &[u8],
    id_number: &str,
) -> AppResult<Vec<MemberHit>> {
    actor.require(Action::ManageUser)?;
    let id = NationalId::parse(id_number)
        .map_err(|e| AppError::field("id_number", rules::id_problem(&e).english()))?;
    let found = member::Entity::find()
        .filter(member::Column::IdHmac.eq(hasher(key).hex(&id)))
        .all(db)
        .await?
        .into_iter()
        .filter(|m| actor.in_scope(Some(&m.area_code)))
        .collect();
    hits(db, found).await
}

/// The member, 404 when missing or outside the actor's area.
pub async fn member_in_scope(
    db: &impl ConnectionTrait,
    actor: &Actor,
    member_id: i64,
) -> AppResult<member::Model> {
    actor.require(Action::ManageUser)?;
    // Linking an account to a member is an official's act (`users::fields`).
    if !users::fields::may_write(
        actor.role,
        users::fields::Target::Managed,
        users::fields::Field::MemberId,
    ) {
        return Err(AppError::Forbidden);
    }
    let m = member::Entity::find_by_id(member_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    actor.require_in(Action::ManageUser, Some(&m.area_code))?;
    Ok(m)
}

async fn linked_user(
    db: &impl ConnectionTrait,
    member_id: i64,
) -> AppResult<Option<app_user::Model>> {
    Ok(app_user::Entity::find()
        .filter(app_user::Column::MemberId.eq(member_id))
        .one(db)
        .await?)
}

/// Links the learner with `login` to the member. Linking the same pair again
/// is a no-op; a member already linked to someone else is a conflict.
pub async fn link(
    db: &impl ConnectionTrait,
    actor: &Actor,
    member_id: i64,
    login: &str,
) -> AppResult<app_user::Model> {
    let m = member_in_scope(db, actor, member_id).await?;
    let login = login.trim();
    let u = users::find_by_login(db, login)
        .await?
        .filter(|u| u.role == Role::Learner)
        .ok_or_else(|| {
            AppError::field(
                "login",
                Msg::new("hh.err.no_learner").with("login", login).english(),
            )
        })?;
    actor.require_user(
        Action::ManageUser,
        u.id,
        Role::Learner,
        u.area_code.as_deref(),
    )?;
    if let Some(other) = linked_user(db, m.id).await? {
        if other.id == u.id {
            return Ok(u);
        }
        return Err(already_linked(&other));
    }
    users::update(
        db,
        actor,
        u.id,
        &UserChange {
            member_id: Some(m.id),
            ..Default::default()
        },
    )
    .await
}

fn already_linked(other: &app_user::Model) -> AppError {
    AppError::Conflict(
        Msg::new("hh.err.linked")
            .with("login", &other.login)
            .english(),
    )
}

/// Creates a learner account (phone number and PIN) for the member, linked to it.
pub async fn create_learner(
    db: &impl ConnectionTrait,
    actor: &Actor,
    member_id: i64,
    phone: &str,
    pin: &str,
) -> AppResult<app_user::Model> {
    let m = member_in_scope(db, actor, member_id).await?;
    if let Some(other) = linked_user(db, m.id).await? {
        return Err(already_linked(&other));
    }
    users::create(
        db,
        Some(actor),
        &NewUser {
            login: phone.trim().to_owned(),
            display_name: m.name.clone(),
            password: pin.to_owned(),
            pin: true,
            role: Role::Learner.as_str().into(),
            area_code: Some(m.area_code.clone()),
            member_id: Some(m.id),
            ..Default::default()
        },
    )
    .await
}
