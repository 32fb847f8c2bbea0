//! Signing in and out: the password check, the rate limits, the audit entries
//! and the session token.

use chrono::{Duration, TimeZone, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
};
use secrecy::SecretString;

use super::limiter::{Limiter, Reserve};
use super::tokens::{self, Claims, Purpose};
use super::{Login, Role, password, users};
use crate::audit::{self, Action as Audit, Entry};
use crate::config::Settings;
use crate::entities::{app_user, revoked_token};
use crate::error::{AppError, AppResult};
use crate::policy::Actor;

/// Why a sign-in gave no session.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// Unknown login, wrong password or PIN, or a disabled account: one
    /// answer for all, so accounts cannot be told apart.
    #[error("wrong login or password")]
    Refused,
    /// Too many failures; try again after `retry_after` seconds.
    #[error("too many attempts; try again in {retry_after} s")]
    Locked { retry_after: u64 },
    #[error(transparent)]
    Failed(#[from] AppError),
}

impl From<sea_orm::DbErr> for SignInError {
    fn from(e: sea_orm::DbErr) -> Self {
        SignInError::Failed(e.into())
    }
}

pub struct SignedIn {
    pub user: app_user::Model,
    pub token: String,
    pub max_age: Duration,
    /// The device cookie to set (see `devices`).
    pub device: String,
    /// Wrong passwords tried for this account since its last sign-in (within
    /// a day), shown to its owner.
    pub failed_attempts: u32,
}

/// How long a session lasts: staff get hours; learners get days when they
/// sign in on their own phone (`remember`), hours on a shared computer.
pub fn session_life(settings: &Settings, role: Role, remember: bool) -> Duration {
    if role == Role::Learner && remember {
        Duration::days(settings.learner_token_days.max(1))
    } else {
        Duration::hours(settings.staff_token_hours.max(1))
    }
}

/// Signs in. The attempt is counted before the password is verified
/// (`Limiter::reserve`), on a key of the account shared by every address and
/// process, or, on a device that signed in to the account before, on that
/// device's own key. Unknown logins take the same path (a key of the login,
/// a dummy hash), so they answer the same and as slowly; the free failures
/// depend on the login's shape (a phone number: a PIN), never on the account.
#[allow(clippy::too_many_arguments)]
pub async fn sign_in(
    db: &DatabaseConnection,
    limiter: &Limiter,
    settings: &Settings,
    secret: &SecretString,
    login: &str,
    secret_given: &str,
    remember: bool,
    ip: &str,
    device_cookie: Option<&str>,
) -> Result<SignedIn, SignInError> {
    let login_key = match Login::parse(login) {
        Ok(l) => l,
        Err(_) => return Err(SignInError::Refused),
    };
    let user = users::find_by_login(db, login_key.as_str()).await?;
    let free = if login_key.is_phone() {
        settings.login_max_failures_pin
    } else {
        settings.login_max_failures
    }
    .max(1);
    let addr = format!("a:{ip}");
    let account = format!("l:{}", login_key.as_str());
    let per_address = settings.login_max_failures_per_address.max(1);
    let seen = limiter.read(db, &[&addr, &account]).await?;
    let device = user
        .as_ref()
        .and_then(|u| super::devices::recognise(secret, device_cookie, u.id, u.token_version));
    let (key, hot) = match &device {
        Some(nonce) => (format!("ld:{}|{nonce}", login_key.as_str()), None),
        None => (account.clone(), seen.locked(&addr)),
    };
    let failures_before = match limiter.reserve(db, &key, free, hot).await? {
        Reserve::Wait(retry_after) => return Err(SignInError::Locked { retry_after }),
        Reserve::Admitted {
            failures_before,
            delayed,
        } => {
            let hash = user
                .as_ref()
                .map(|u| u.password_hash.clone())
                .unwrap_or_else(|| password::DUMMY_HASH.to_string());
            let ok = password::verify(secret_given.to_string(), hash).await;
            if !(ok && user.as_ref().is_some_and(|u| u.disabled_at.is_none())) {
                failed(
                    db,
                    limiter,
                    &user,
                    &login_key,
                    ip,
                    &addr,
                    per_address,
                    delayed,
                    &device,
                )
                .await?;
                return Err(SignInError::Refused);
            }
            failures_before
        }
    };
    let Some(user) = user else {
        return Err(SignInError::Refused);
    };
    limiter.clear(db, &key).await?;
    let failed_attempts = if device.is_some() {
        seen.recent_failures(&account)
    } else {
        failures_before
    };
    let device =
        super::devices::remember(secret, device_cookie, user.id, user.token_version, device);
    let role = user.role;
    let life = session_life(settings, role, remember);
    let token = tokens::issue(secret, user.id, user.token_version, Purpose::Session, life);
    app_user::Entity::update_many()
        .col_expr(
            app_user::Column::LastLoginAt,
            sea_orm::sea_query::Expr::value(Utc::now()),
        )
        .filter(app_user::Column::Id.eq(user.id))
        .exec(db)
        .await?;
    audit::record(
        db,
        Audit::SignIn,
        Entry {
            actor_id: Some(user.id),
            entity: "user",
            entity_id: Some(user.id.to_string()),
            area_code: user.area_code.clone(),
            ip: Some(ip.to_string()),
            ..Default::default()
        },
    )
    .await?;
    Ok(SignedIn {
        user,
        token,
        max_age: life,
        device,
        failed_attempts,
    })
}

/// A wrong password (or an unknown or disabled account): audited, counted
/// for the address, and the account's owner told (an audit row in her area,
/// which her trainer and officials see) when this failure starts the waits.
#[allow(clippy::too_many_arguments)]
async fn failed(
    db: &DatabaseConnection,
    limiter: &Limiter,
    user: &Option<app_user::Model>,
    login_key: &Login,
    ip: &str,
    addr: &str,
    per_address: u32,
    delayed: bool,
    device: &Option<String>,
) -> Result<(), SignInError> {
    let entity_id = user.as_ref().map(|u| u.id.to_string());
    let area_code = user.as_ref().and_then(|u| u.area_code.clone());
    audit::record(
        db,
        Audit::SignInFailed,
        Entry {
            entity: "user",
            entity_id: entity_id.clone(),
            area_code: area_code.clone(),
            reason: Some(if user.as_ref().is_some_and(|u| u.disabled_at.is_some()) {
                "account disabled".into()
            } else {
                format!("wrong password for {}", login_key.masked())
            }),
            ip: Some(ip.to_string()),
            ..Default::default()
        },
    )
    .await?;
    let counted = limiter.fail(db, &[(addr, per_address)]).await?;
    let locks = [
        delayed.then(|| {
            (
                crate::accounts::limiter::ACCOUNT_BASE_DELAY as u64,
                format!(
                    "{}{}: each next try waits longer",
                    login_key.masked(),
                    if device.is_some() {
                        " on a known device"
                    } else {
                        ""
                    }
                ),
            )
        }),
        counted[0].map(|s| (s, "every login from this address".to_string())),
    ];
    // One audit row per lockout; attempts refused while locked write none.
    for (secs, what) in locks.into_iter().flatten() {
        tracing::warn!(login = %login_key.masked(), %ip, lock_secs = secs, "sign-in locked: {what}");
        audit::record(
            db,
            Audit::SignInLocked,
            Entry {
                entity: "user",
                entity_id: entity_id.clone(),
                area_code: area_code.clone(),
                reason: Some(format!("sign-in locked for {secs} s: {what}")),
                ip: Some(ip.to_string()),
                ..Default::default()
            },
        )
        .await?;
    }
    Ok(())
}

/// Signs out this token only, or every token of the user.
pub async fn sign_out(
    db: &impl ConnectionTrait,
    user: &Actor,
    claims: &Claims,
    everywhere: bool,
) -> AppResult<()> {
    if everywhere {
        users::bump_token_version(db, user.id).await?;
    } else {
        let expires = Utc
            .timestamp_opt(claims.exp, 0)
            .single()
            .unwrap_or_else(Utc::now);
        revoked_token::Entity::insert(revoked_token::ActiveModel {
            jti: Set(claims.jti.clone()),
            expires_at: Set(expires),
        })
        .on_conflict(
            sea_orm::sea_query::OnConflict::column(revoked_token::Column::Jti)
                .update_column(revoked_token::Column::ExpiresAt)
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
        super::sessions::note_revoked(db, &claims.jti).await?;
    }
    audit::record(
        db,
        Audit::SignOut,
        Entry {
            actor_id: Some(user.id),
            entity: "user",
            entity_id: Some(user.id.to_string()),
            reason: everywhere.then(|| "everywhere".to_string()),
            ..Default::default()
        },
    )
    .await?;
    Ok(())
}

/// Reset mails for one login before the next waits (30 s, doubling up to
/// 15 minutes), whether or not the login exists.
pub const RESET_MAILS_PER_LOGIN: u32 = 3;
/// Reset requests from one client address before the next waits.
pub const RESET_REQUESTS_PER_ADDRESS: u32 = 10;

/// Mails a single-use reset link when the login exists and has an email.
/// Always succeeds from the caller's view, so accounts cannot be enumerated:
/// a request over the limits of its address or its login (counted the same
/// for logins that do not exist) is answered the same and sends nothing.
pub async fn request_reset(state: &crate::app::AppContext, login: &str, ip: &str) -> AppResult<()> {
    let Ok(login) = Login::parse(login) else {
        return Ok(());
    };
    for (key, free) in [
        (format!("ra:{ip}"), RESET_REQUESTS_PER_ADDRESS),
        (format!("rl:{}", login.as_str()), RESET_MAILS_PER_LOGIN),
    ] {
        if let Reserve::Wait(secs) = state.limiter.reserve(&state.db, &key, free, None).await? {
            tracing::warn!(login = %login.masked(), %ip, wait_secs = secs, "reset request over its limit: no mail");
            return Ok(());
        }
    }
    let Some(u) = users::find_by_login(&state.db, login.as_str()).await? else {
        return Ok(());
    };
    let Some(email) = u.email.clone().filter(|_| u.disabled_at.is_none()) else {
        return Ok(());
    };
    let token = tokens::issue(
        &state.secrets.jwt,
        u.id,
        u.token_version,
        Purpose::Reset,
        Duration::hours(1),
    );
    let link = format!("{}/reset?token={}", state.settings.base_url(), token);
    crate::mail::queue(
        &state.db,
        &state.views,
        &email,
        "reset",
        &u.locale,
        &serde_json::json!({"name": u.display_name, "link": link, "login": u.login}),
    )
    .await
}

/// Sets a new password with a reset token; the token works once, and every
/// other token of the user stops working.
pub async fn reset_password(
    db: &impl ConnectionTrait,
    secret: &SecretString,
    token: &str,
    new: &str,
) -> AppResult<()> {
    let invalid = || {
        AppError::field(
            "token",
            "the reset link is invalid or has expired; ask for a new one",
        )
    };
    let claims = tokens::verify(secret, token, Purpose::Reset).ok_or_else(invalid)?;
    let u = users::find(db, claims.sub).await?.ok_or_else(invalid)?;
    if u.token_version != claims.ver || u.disabled_at.is_some() {
        return Err(invalid());
    }
    users::set_password(db, Some(u.id), &u, new).await
}
