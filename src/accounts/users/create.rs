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
    if let Some(a) = actor
        && new.member_id.is_some()
        && !may_write(a.role, Target::Managed, Field::MemberId)
    {
        // Only the fields this role may write (`fields::WRITABLE`).
        let (k, v) = refused(a.role, Field::MemberId);
        return Err(AppError::field(&k, v));
    }
    if actor.is_some() && role == Role::Learner && area.is_none() {
        return Err(AppError::field(
            "area_code",
            "a learner needs her village (学员需要所在村)",
        ));
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
/// transaction: `password::hash`), after checking the member link, that the
/// area exists and that the login is free (within the actor's reach; one
/// taken elsewhere is audited and answered without saying where).
pub async fn insert(
    db: &impl ConnectionTrait,
    actor: Option<&Actor>,
    c: &Checked,
    hash: String,
) -> AppResult<app_user::Model> {
    if let Some(a) = actor
        && let Some(m) = c.member_id
    {
        super::update::check_member(db, a, m, None).await?;
    }
    if let Some(a) = &c.area
        && crate::areas::find(db, a.as_str()).await?.is_none()
    {
        return Err(AppError::field(
            "area_code",
            format!("area {a} does not exist"),
        ));
    }
    if let Some(a) = actor
        && !a.is_admin()
        && outside_collisions_today(db, a.id).await? >= OUTSIDE_COLLISIONS_PER_DAY
    {
        return Err(AppError::field(
            "login",
            format!(
                "{OUTSIDE_COLLISIONS_PER_DAY} logins that cannot be used here were tried today; \
                 ask an administrator (今天已尝试过多不能使用的号码，请联系管理员)"
            ),
        ));
    }
    if let Some(other) = find_by_login(db, c.login.as_str()).await? {
        let mine = |a: &Actor| {
            a.is_admin() || (other.role == Role::Learner && a.in_scope(other.area_code.as_deref()))
        };
        return Err(match actor {
            Some(a) if !mine(a) => {
                // Not within her reach: audited where both are seen, and
                // answered without saying where (or whose).
                audit_outside(db, a, &other, &c.login).await?;
                AppError::Conflict(OUTSIDE_MESSAGE.into())
            }
            _ => AppError::Conflict(
                crate::localize::Msg::new("acct.err.login_taken")
                    .with("login", c.login.as_str())
                    .english(),
            ),
        });
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
    let created = crate::db::retrying("create a user", || async {
        let txn = crate::db::begin_write(&state.db).await?;
        let u = insert(&txn, Some(actor), &c, hash.clone()).await?;
        if let Some(m) = &welcome {
            crate::mail::enqueue(&txn, m).await?;
        }
        txn.commit().await?;
        Ok::<_, AppError>(u)
    })
    .await;
    match created {
        Err(AppError::Conflict(m)) if m == OUTSIDE_MESSAGE => {
            // The audit row went with the transaction: written again.
            if let Some(other) = find_by_login(&state.db, c.login.as_str()).await? {
                audit_outside(&state.db, actor, &other, &c.login).await?;
            }
            Err(AppError::Conflict(m))
        }
        r => r,
    }
}

/// The answer to staff for a login taken outside their area: it says
/// neither where nor by whom.
pub const OUTSIDE_MESSAGE: &str = "this phone number or login cannot be used here; an administrator can help (此号码或登录名不能在此使用，请联系管理员)";
/// How the audit rows of such collisions begin (`conflict` rows).
pub const OUTSIDE_COLLISION: &str = "login taken outside the area";
/// Such collisions a staff member may meet in a day (single or imported,
/// an import counting as many as its rows) before creating is refused.
pub const OUTSIDE_COLLISIONS_PER_DAY: u64 = 20;

/// Collisions outside her area this actor met in the last day.
pub async fn outside_collisions_today(db: &impl ConnectionTrait, actor: i64) -> AppResult<u64> {
    use crate::entities::change_event;
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let rows = change_event::Entity::find()
        .filter(change_event::Column::ActorId.eq(actor))
        .filter(change_event::Column::Action.eq("conflict"))
        .filter(change_event::Column::Entity.eq("user"))
        .filter(change_event::Column::Reason.starts_with(OUTSIDE_COLLISION))
        .filter(change_event::Column::At.gt(chrono::Utc::now() - chrono::Duration::days(1)))
        .count(db)
        .await?;
    Ok(rows)
}

/// The smallest area holding both codes (12-digit division codes: province,
/// prefecture, county, township, village); `None` (the admin's) when none.
pub(super) fn covering(a: Option<&str>, b: Option<&str>) -> Option<String> {
    let (a, b) = (a?, b?);
    [9usize, 6, 4, 2]
        .into_iter()
        .chain(std::iter::once(12))
        .filter(|n| *n <= a.len() && *n <= b.len())
        .filter(|n| a[..*n] == b[..*n])
        .max()
        .map(|n| format!("{:0<12}", &a[..n]))
}

/// The audit row of a login taken outside the creator's area, in the
/// smallest area holding both (its officials and the admin see it).
pub(super) async fn audit_outside(
    db: &impl ConnectionTrait,
    a: &Actor,
    other: &app_user::Model,
    login: &Login,
) -> AppResult<()> {
    audit::record(
        db,
        Audit::Conflict,
        Entry {
            actor_id: Some(a.id),
            entity: "user",
            entity_id: Some(other.id.to_string()),
            area_code: covering(
                a.area.as_ref().map(|x| x.as_str()),
                other.area_code.as_deref(),
            ),
            reason: Some(format!(
                "{OUTSIDE_COLLISION}: {} (an account outside the creator's area)",
                login.masked()
            )),
            ..Default::default()
        },
    )
    .await
}
