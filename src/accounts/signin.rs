//! Signing in and out: the password check, the rate limits, the audit entries
//! and the session token.

use chrono::{Duration, TimeZone, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
};
use secrecy::SecretString;

use super::limiter::Limiter;
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

/// How many times its own limit a login may fail in a window, summed over
/// every address, before addresses that failed for it are held off.
const SPREAD_FACTOR: u32 = 5;

pub struct SignedIn {
    pub user: app_user::Model,
    pub token: String,
    pub max_age: Duration,
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
) -> Result<SignedIn, SignInError> {
    let login_key = match Login::parse(login) {
        Ok(l) => l,
        Err(_) => return Err(SignInError::Refused),
    };
    let user = users::find_by_login(db, login_key.as_str()).await?;
    let per_login = if user.as_ref().is_some_and(|u| u.pin) {
        settings.login_max_failures_pin
    } else {
        settings.login_max_failures
    };
    // Never keyed by the login alone: that would let anyone lock anyone out.
    let pair = format!("la:{}|{ip}", login_key.as_str());
    let addr = format!("a:{ip}");
    let whole = format!("l:{}", login_key.as_str());
    let per_address = settings.login_max_failures_per_address.max(1);
    // Shared by every process on the database: one indexed read.
    let seen = limiter.read(db, &[&pair, &addr, &whole]).await?;
    if let Some(wait) = seen.locked(&pair).or_else(|| seen.locked(&addr)) {
        return Err(SignInError::Locked { retry_after: wait });
    }
    // A login under attack from many addresses: an address that has already
    // failed for it gets no more tries this window. Addresses that have not
    // been failing (its owner's) are not concerned.
    let spread = per_login.saturating_mul(SPREAD_FACTOR);
    if seen.failures(&whole) >= spread && seen.failures(&pair) > 0 {
        return Err(SignInError::Locked {
            retry_after: settings.login_window_secs.max(1),
        });
    }
    let hash = user
        .as_ref()
        .map(|u| u.password_hash.clone())
        .unwrap_or_else(|| password::DUMMY_HASH.to_string());
    let ok = password::verify(secret_given.to_string(), hash).await;
    let user = match user {
        Some(u) if ok && u.disabled_at.is_none() => u,
        other => {
            let entity_id = other.as_ref().map(|u| u.id.to_string());
            let area_code = other.as_ref().and_then(|u| u.area_code.clone());
            audit::record(
                db,
                Audit::SignInFailed,
                Entry {
                    entity: "user",
                    entity_id: entity_id.clone(),
                    area_code: area_code.clone(),
                    reason: Some(if other.as_ref().is_some_and(|u| u.disabled_at.is_some()) {
                        "account disabled".into()
                    } else {
                        format!("wrong password for {}", login_key.masked())
                    }),
                    ip: Some(ip.to_string()),
                    ..Default::default()
                },
            )
            .await?;
            let counted = limiter
                .fail(
                    db,
                    &[(&whole, u32::MAX), (&pair, per_login), (&addr, per_address)],
                )
                .await?;
            let locks = [
                counted[1].map(|s| (s, format!("{} from this address", login_key.masked()))),
                counted[2].map(|s| (s, "every login from this address".to_string())),
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
            return Err(SignInError::Refused);
        }
    };
    limiter.clear(db, &pair).await?;
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
    })
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

/// Mails a single-use reset link when the login exists and has an email.
/// Always succeeds from the caller's view, so accounts cannot be enumerated.
pub async fn request_reset(state: &crate::app::AppContext, login: &str) -> AppResult<()> {
    let Ok(login) = Login::parse(login) else {
        return Ok(());
    };
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
