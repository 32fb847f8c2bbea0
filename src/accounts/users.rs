//! Creating, finding, changing and signing in users.

use std::collections::BTreeMap;

use chrono::Utc;
use sea_orm::TransactionSession;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Login, Role, password};
use crate::areas::AreaCode;
use crate::audit::{self, Action as Audit, Entry};
use crate::entities::app_user;
use crate::error::{AppError, AppResult};
use crate::policy::{Action, Actor};

/// What a form or JSON body gives to create a user.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewUser {
    pub login: String,
    pub display_name: String,
    #[serde(default)]
    pub email: Option<String>,
    pub password: String,
    /// The secret is a 6-digit PIN (learners).
    #[serde(default)]
    pub pin: bool,
    pub role: String,
    #[serde(default)]
    pub area_code: Option<String>,
    #[serde(default)]
    pub member_id: Option<i64>,
    #[serde(default)]
    pub locale: Option<String>,
}

/// A user as shown to others: never the password hash.
#[derive(Debug, Clone, Serialize)]
pub struct UserView {
    pub id: i64,
    pub login: String,
    pub display_name: String,
    pub email: Option<String>,
    pub role: Role,
    pub area_code: Option<String>,
    pub scope_area_code: Option<String>,
    pub member_id: Option<i64>,
    pub locale: String,
    pub disabled: bool,
    pub pin: bool,
    pub created_at: String,
}

impl From<&app_user::Model> for UserView {
    fn from(u: &app_user::Model) -> Self {
        UserView {
            id: u.id,
            login: u.login.clone(),
            display_name: u.display_name.clone(),
            email: u.email.clone(),
            role: u.role,
            area_code: u.area_code.clone(),
            scope_area_code: if u.role == Role::Learner {
                None
            } else {
                u.area_code.clone()
            },
            member_id: u.member_id,
            locale: u.locale.clone(),
            disabled: u.disabled_at.is_some(),
            pin: u.pin,
            created_at: u.created_at.to_rfc3339(),
        }
    }
}

/// The audit snapshot of a user: no hash, no secret.
pub fn snapshot(u: &app_user::Model) -> serde_json::Value {
    json!({
        "login": u.login, "display_name": u.display_name, "email": u.email,
        "role": u.role, "area_code": u.area_code, "member_id": u.member_id,
        "disabled": u.disabled_at.is_some(),
    })
}

pub fn actor_of(u: &app_user::Model) -> Actor {
    Actor {
        id: u.id,
        role: u.role,
        login: u.login.clone(),
        display_name: u.display_name.clone(),
        area: u.area_code.as_deref().and_then(|c| AreaCode::parse(c).ok()),
        member_id: u.member_id,
        locale: u.locale.clone(),
    }
}

fn validate_email(e: &Option<String>) -> Result<Option<String>, String> {
    match e.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(e) => {
            let ok = e.len() <= 254
                && e.split_once('@').is_some_and(|(a, b)| {
                    !a.is_empty() && b.contains('.') && !b.starts_with('.') && !b.ends_with('.')
                })
                && !e.chars().any(char::is_whitespace);
            if ok {
                Ok(Some(e.to_string()))
            } else {
                Err("is not an email address".into())
            }
        }
    }
}

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
    let name = new.display_name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        errs.insert("display_name".into(), "must be 1 to 100 characters".into());
    }
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

#[derive(Debug, Clone, Default, Deserialize)]
pub struct UserQuery {
    pub q: Option<String>,
    pub role: Option<String>,
    pub page: Option<u64>,
    pub per_page: Option<u64>,
}

pub fn page_params(page: Option<u64>, per_page: Option<u64>) -> (u64, u64) {
    (
        page.unwrap_or(1).max(1),
        per_page.unwrap_or(50).clamp(1, 200),
    )
}

/// Users the actor may see: everyone for admins, learners in their area for staff.
pub async fn list(
    db: &impl ConnectionTrait,
    actor: &Actor,
    q: &UserQuery,
) -> AppResult<(Vec<app_user::Model>, u64)> {
    actor.require(Action::ListUsers)?;
    let mut cond = Condition::all();
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
        .offset((page - 1) * per_page)
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

#[derive(Debug, Clone, Default, Deserialize)]
pub struct UserChange {
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub role: Option<String>,
    pub area_code: Option<String>,
    pub disabled: Option<bool>,
    pub member_id: Option<i64>,
}

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
    if let Some(n) = &ch.display_name {
        let n = n.trim();
        if n.is_empty() || n.chars().count() > 100 {
            errs.insert(
                "display_name".to_string(),
                "must be 1 to 100 characters".to_string(),
            );
        } else {
            am.display_name = Set(n.to_string());
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
                None => am.area_code = Set(None),
            }
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
    if let Some(m) = ch.member_id {
        am.member_id = Set(Some(m));
    }
    let after = am.update(db).await?;
    super::sessions::note_user(db, after.id).await?;
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
    super::sessions::note_user(db, u.id).await?;
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
    super::sessions::note_user(db, user_id).await
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

/// Creates learner accounts from CSV (`name,phone,pin[,area_code][,member_id]`,
/// Chinese headers 姓名,手机号,PIN,行政区划代码,成员编号 also accepted),
/// all-or-nothing: one bad row and nothing is created; every bad row is listed.
pub async fn import_learners(
    db: &impl sea_orm::TransactionTrait,
    actor: &Actor,
    data: &[u8],
) -> AppResult<usize> {
    use crate::error::RowError;
    actor.require(Action::CreateLearner)?;
    let text = String::from_utf8_lossy(data);
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let headers = rdr
        .headers()
        .map_err(|e| AppError::BadRequest(format!("cannot read the header row: {e}")))?
        .clone();
    let col = |names: &[&str]| {
        headers
            .iter()
            .position(|h| names.iter().any(|n| h.eq_ignore_ascii_case(n)))
    };
    let (Some(ni), Some(pi), Some(ki)) = (
        col(&["name", "display_name", "姓名"]),
        col(&["phone", "login", "手机号", "手机号码"]),
        col(&["pin", "password", "密码"]),
    ) else {
        return Err(AppError::BadRequest(
            "the header row must have name, phone and pin columns".into(),
        ));
    };
    let ai = col(&["area_code", "行政区划代码", "村代码"]);
    let mi = col(&["member_id", "成员编号"]);
    let default_area = actor
        .area
        .as_ref()
        .filter(|a| a.level() == crate::areas::Level::Village)
        .map(|a| a.to_string());
    let mut errors = Vec::new();
    let mut rows = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, rec) in rdr.records().enumerate() {
        let row = i + 2;
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                errors.push(RowError {
                    row,
                    field: String::new(),
                    message: e.to_string(),
                });
                continue;
            }
        };
        let get = |i: Option<usize>| i.and_then(|i| rec.get(i)).unwrap_or_default().to_string();
        let area = Some(get(ai))
            .filter(|s| !s.is_empty())
            .or_else(|| default_area.clone());
        let member_id = match get(mi).as_str() {
            "" => None,
            s => match s.parse::<i64>() {
                Ok(v) => Some(v),
                Err(_) => {
                    errors.push(RowError {
                        row,
                        field: "member_id".into(),
                        message: "must be a number".into(),
                    });
                    None
                }
            },
        };
        let new = NewUser {
            login: get(Some(pi)),
            display_name: get(Some(ni)),
            password: get(Some(ki)),
            pin: true,
            role: "learner".into(),
            area_code: area,
            member_id,
            ..Default::default()
        };
        match Login::parse(&new.login) {
            Ok(l) if !seen.insert(l.as_str().to_string()) => errors.push(RowError {
                row,
                field: "phone".into(),
                message: "appears twice in the file".into(),
            }),
            _ => {}
        }
        if new.area_code.is_none() {
            errors.push(RowError {
                row,
                field: "area_code".into(),
                message: "is needed (the learner's village)".into(),
            });
        }
        rows.push((row, new));
    }
    let txn = db.begin().await?;
    let mut created = 0;
    for (row, new) in &rows {
        match create(&txn, Some(actor), new).await {
            Ok(_) => created += 1,
            Err(AppError::Validation { fields, .. }) => {
                errors.extend(fields.into_iter().map(|(field, message)| RowError {
                    row: *row,
                    field,
                    message,
                }))
            }
            Err(AppError::Conflict(m)) => errors.push(RowError {
                row: *row,
                field: "phone".into(),
                message: m,
            }),
            Err(AppError::NotFound) => errors.push(RowError {
                row: *row,
                field: "area_code".into(),
                message: "is not an area you serve".into(),
            }),
            Err(e) => return Err(e),
        }
    }
    if !errors.is_empty() {
        txn.rollback().await?;
        errors.sort_by_key(|e| e.row);
        return Err(AppError::Import {
            message: format!("{} problems; no account was created", errors.len()),
            errors,
        });
    }
    txn.commit().await?;
    Ok(created)
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
