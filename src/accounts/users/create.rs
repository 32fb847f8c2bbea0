//! Creating users: one from a form or body, the first admin, a learner with
//! the welcome mail.

use std::collections::BTreeMap;

use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait};
use serde_json::json;

use super::fields::{Field, Target, may_write, refused};
use super::inputs::{NewUser, validate_display_name, validate_email};
use super::list::find_by_login;
use super::view::snapshot;
use crate::accounts::{Login, Role, password};
use crate::areas::AreaCode;
use crate::audit::{self, Action as Audit, Entry};
use crate::entities::app_user;
use crate::error::{AppError, AppResult};
use crate::policy::{Action, Actor};

/// Creates a user after checking the actor may create it there. `actor` is
/// `None` for the command line and first-start admin.
pub async fn create(
    db: &impl ConnectionTrait,
    actor: Option<&Actor>,
    new: &NewUser,
) -> AppResult<app_user::Model> {
    let mut errs = BTreeMap::new();
    let login = Login::parse(&new.login)
        .map_err(|e| errs.insert("login".into(), e))
        .ok();
    let name = validate_display_name(&new.display_name)
        .map_err(|e| errs.insert("display_name".into(), e))
        .unwrap_or_default();
    let email = validate_email(&new.email)
        .map_err(|e| errs.insert("email".into(), e))
        .ok()
        .flatten();
    let role = Role::parse(&new.role);
    if role.is_none() {
        errs.insert(
            "role".into(),
            "must be learner, trainer, official or admin".into(),
        );
    }
    let pin = new.pin && role == Some(Role::Learner);
    if let Err(e) = password::check_strength(&new.password, pin) {
        errs.insert("password".into(), e);
    }
    let area = match new
        .area_code
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(c) => match AreaCode::parse(c) {
            Ok(a) => Some(a),
            Err(e) => {
                errs.insert("area_code".into(), e);
                None
            }
        },
        None => None,
    };
    if matches!(role, Some(Role::Trainer | Role::Official))
        && area.is_none()
        && !errs.contains_key("area_code")
    {
        errs.insert(
            "area_code".into(),
            "trainers and officials need the area they serve".into(),
        );
    }
    let locale = match new.locale.as_deref() {
        Some("en") => "en",
        _ => "zh-CN",
    };
    if !errs.is_empty() {
        return Err(AppError::fields(errs));
    }
    let (login, role) = (login.expect("validated"), role.expect("validated"));
    if let Some(a) = actor {
        match role {
            Role::Learner => {
                a.require_in(Action::CreateLearner, area.as_ref().map(AreaCode::as_str))?
            }
            _ => a.require(Action::CreateStaff)?,
        }
    }
    if let Some(a) = actor {
        // Only the fields this role may write (`fields::WRITABLE`).
        if new.member_id.is_some() && !may_write(a.role, Target::Managed, Field::MemberId) {
            let (k, v) = refused(a.role, Field::MemberId);
            return Err(AppError::field(&k, v));
        }
        if role == Role::Learner && area.is_none() {
            return Err(AppError::field(
                "area_code",
                "a learner needs her village (学员需要所在村)",
            ));
        }
        if let Some(m) = new.member_id {
            super::update::check_member(db, a, m, None).await?;
        }
    }
    if let Some(a) = &area
        && crate::areas::find(db, a.as_str()).await?.is_none()
    {
        return Err(AppError::field(
            "area_code",
            format!("area {a} does not exist"),
        ));
    }
    if find_by_login(db, login.as_str()).await?.is_some() {
        return Err(AppError::Conflict(format!(
            "the login {} is already taken",
            login.as_str()
        )));
    }
    let hash = password::hash(new.password.clone()).await?;
    let u = app_user::ActiveModel {
        login: Set(login.as_str().to_string()),
        display_name: Set(name.to_string()),
        email: Set(email),
        password_hash: Set(hash),
        pin: Set(pin),
        role: Set(role),
        area_code: Set(area.map(String::from)),
        member_id: Set(new.member_id),
        locale: Set(locale.to_string()),
        token_version: Set(0),
        ..Default::default()
    }
    .insert(db)
    .await?;
    audit::record(
        db,
        Audit::Create,
        Entry {
            actor_id: actor.map(|a| a.id),
            entity: "user",
            entity_id: Some(u.id.to_string()),
            area_code: u.area_code.clone(),
            after: Some(snapshot(&u)),
            ..Default::default()
        },
    )
    .await?;
    Ok(u)
}

/// Creates the first admin when none with this login exists (idempotent).
pub async fn ensure_admin(
    db: &impl ConnectionTrait,
    login: &str,
    password: &str,
) -> AppResult<bool> {
    if find_by_login(db, login.trim()).await?.is_some() {
        return Ok(false);
    }
    create(
        db,
        None,
        &NewUser {
            login: login.to_string(),
            display_name: "Administrator".into(),
            password: password.to_string(),
            role: "admin".into(),
            ..Default::default()
        },
    )
    .await?;
    Ok(true)
}

/// Creates a user and, for a learner with an email created by staff, queues
/// the welcome mail in the same transaction.
pub async fn create_and_welcome(
    state: &crate::app::AppContext,
    actor: &Actor,
    new: &NewUser,
) -> AppResult<app_user::Model> {
    let txn = sea_orm::TransactionTrait::begin(&state.db).await?;
    let u = create(&txn, Some(actor), new).await?;
    if u.role == Role::Learner
        && let Some(email) = &u.email
    {
        crate::mail::queue(
            &txn,
            &state.views,
            email,
            "welcome",
            &u.locale,
            &json!({"name": u.display_name, "login": u.login, "trainer": actor.display_name,
                "link": format!("{}/login", state.settings.base_url())}),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(u)
}
