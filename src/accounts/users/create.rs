//! Creating users: one from a form or body, the first admin, a learner with
//! the welcome mail.

use std::collections::BTreeMap;

use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait};
use serde_json::json;

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
/// `None` for the command line and first-start admin. The password is hashed
/// before the first query: called inside a write transaction, use `check`,
/// hash outside it, then `insert`.
pub async fn create(
    db: &impl ConnectionTrait,
    actor: Option<&Actor>,
    new: &NewUser,
) -> AppResult<app_user::Model> {
    let checked = check(actor, new)?;
    let hash = password::hash(new.password.clone()).await?;
    insert(db, actor, &checked, hash).await
}

/// A new user's fields, checked and authorized, without touching the
/// database: what `insert` stores once the password is hashed.
#[derive(Debug, Clone)]
pub struct Checked {
    login: Login,
    name: String,
    email: Option<String>,
    role: Role,
    pin: bool,
    area: Option<AreaCode>,
    locale: &'static str,
    member_id: Option<i64>,
}

/// Checks a new user's fields and that `actor` may create it there (no query).
pub fn check(actor: Option<&Actor>, new: &NewUser) -> AppResult<Checked> {
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
    Ok(Checked {
        login,
        name: name.to_string(),
        email,
        role,
        pin,
        area,
        locale,
        member_id: new.member_id,
    })
}

/// Stores a checked user with its password hash (made outside any write
/// transaction: `password::hash`), after checking the area exists and the
/// login is free.
pub async fn insert(
    db: &impl ConnectionTrait,
    actor: Option<&Actor>,
    c: &Checked,
    hash: String,
) -> AppResult<app_user::Model> {
    if let Some(a) = &c.area
        && crate::areas::find(db, a.as_str()).await?.is_none()
    {
        return Err(AppError::field(
            "area_code",
            format!("area {a} does not exist"),
        ));
    }
    if find_by_login(db, c.login.as_str()).await?.is_some() {
        return Err(AppError::Conflict(format!(
            "the login {} is already taken",
            c.login.as_str()
        )));
    }
    let u = app_user::ActiveModel {
        login: Set(c.login.as_str().to_string()),
        display_name: Set(c.name.clone()),
        email: Set(c.email.clone()),
        password_hash: Set(hash),
        pin: Set(c.pin),
        role: Set(c.role),
        area_code: Set(c.area.clone().map(String::from)),
        member_id: Set(c.member_id),
        locale: Set(c.locale.to_string()),
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
    // The slow work first (hashing, rendering the mail), then one short
    // write transaction.
    let c = check(Some(actor), new)?;
    let hash = password::hash(new.password.clone()).await?;
    let welcome = match (&c.email, c.role) {
        (Some(email), Role::Learner) => Some(crate::mail::render(
            &state.views,
            email,
            "welcome",
            c.locale,
            &json!({"name": c.name, "login": c.login.as_str(), "trainer": actor.display_name,
                "link": format!("{}/login", state.settings.base_url())}),
        )?),
        _ => None,
    };
    crate::db::retrying("create a user", || async {
        let txn = crate::db::begin_write(&state.db).await?;
        let u = insert(&txn, Some(actor), &c, hash.clone()).await?;
        if let Some(m) = &welcome {
            crate::mail::enqueue(&txn, m).await?;
        }
        txn.commit().await?;
        Ok::<_, AppError>(u)
    })
    .await
}
