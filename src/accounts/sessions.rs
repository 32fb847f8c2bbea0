//! Sessions without database round trips. A signed-in request is authorized
//! from its verified token plus this in-memory view of what can invalidate it:
//! each user's token version, role, scope and disabled state (loaded once per
//! user, then kept), and the revoked token ids that have not expired yet.
//! The same per-user entry holds the courses the user is enrolled in (read
//! on first use, one indexed query), which is all a lesson page or a progress
//! event needs to know of enrollment.
//!
//! Every change that can end or alter a session (sign-out, sign-out
//! everywhere, a disabled account, a new role, scope or password, a member
//! link, an enrollment made, withdrawn or resumed) writes a `session_change` row in the same transaction as the change
//! (`note`). Each process reads the rows it has not applied yet, every
//! `POLL` and right after its own changes commit (`refresh`), and drops what
//! they name. So a change made through one process holds in every other one
//! sharing the database within `POLL` plus one query (the README states the
//! bound: 1 s), and in the process that made it before its response is sent.
//!
//! Commits can land out of id order, so a poll rereads the last `OVERLAP` of
//! rows and skips the ids it already applied; applying a row twice only
//! drops a cached entry twice.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use secrecy::SecretString;

use super::tokens::{self, Claims, Purpose};
use super::users;
use crate::entities::{enrollment, revoked_token, session_change};
use crate::error::AppResult;
use crate::policy::Actor;

/// How often each process reads the changes of the others.
pub const POLL: Duration = Duration::from_millis(250);
/// How far back a poll rereads, for transactions that commit late.
const OVERLAP: chrono::TimeDelta = chrono::TimeDelta::seconds(10);
/// Past this many cached users the cache starts again (it refills on use).
const MAX_USERS: usize = 100_000;

/// What a session needs of its user, read once from `app_user`.
#[derive(Debug, Clone)]
pub struct Holder {
    pub actor: Actor,
    pub token_version: i32,
    pub disabled: bool,
    /// The slugs of the courses the user is enrolled in and has not
    /// withdrawn from; read on first use.
    enrolled: tokio::sync::OnceCell<Arc<HashSet<String>>>,
}

#[derive(Default)]
pub struct Sessions {
    users: RwLock<HashMap<i64, Arc<Holder>>>,
    revoked: RwLock<HashSet<String>>,
    applied: Mutex<Applied>,
}

/// Change rows applied recently, to skip them when a poll rereads them.
#[derive(Default)]
struct Applied {
    ids: HashSet<i64>,
    order: VecDeque<(i64, DateTime<Utc>)>,
}

impl Sessions {
    /// Loads the revoked tokens that have not expired and marks every change
    /// so far as applied (nothing is cached yet).
    pub async fn load(db: &impl ConnectionTrait) -> AppResult<Sessions> {
        let now = Utc::now();
        let revoked = revoked_token::Entity::find()
            .filter(revoked_token::Column::ExpiresAt.gt(now))
            .all(db)
            .await?
            .into_iter()
            .map(|r| r.jti)
            .collect();
        let s = Sessions {
            revoked: RwLock::new(revoked),
            ..Default::default()
        };
        s.refresh(db).await?;
        Ok(s)
    }

    /// The user and claims of a session token, or `None` when it is not one
    /// that may be used now. A database read only for a user not seen yet.
    pub async fn authenticate(
        &self,
        db: &impl ConnectionTrait,
        secret: &SecretString,
        token: &str,
    ) -> AppResult<Option<(Arc<Holder>, Claims)>> {
        let Some(claims) = tokens::verify(secret, token, Purpose::Session) else {
            return Ok(None);
        };
        if read(&self.revoked).contains(&claims.jti) {
            return Ok(None);
        }
        let Some(holder) = self.holder(db, claims.sub).await? else {
            return Ok(None);
        };
        if holder.token_version != claims.ver || holder.disabled {
            return Ok(None);
        }
        Ok(Some((holder, claims)))
    }

    async fn holder(&self, db: &impl ConnectionTrait, id: i64) -> AppResult<Option<Arc<Holder>>> {
        if let Some(h) = read(&self.users).get(&id) {
            return Ok(Some(h.clone()));
        }
        let Some(u) = users::find(db, id).await? else {
            return Ok(None);
        };
        let h = Arc::new(Holder {
            actor: users::actor_of(&u),
            token_version: u.token_version,
            disabled: u.disabled_at.is_some(),
            enrolled: Default::default(),
        });
        let mut map = write(&self.users);
        if map.len() >= MAX_USERS {
            map.clear();
        }
        map.insert(id, h.clone());
        Ok(Some(h))
    }

    /// The courses `user` is enrolled in (any state but withdrawn): from
    /// memory once read; empty for an unknown user.
    pub async fn enrolled(
        &self,
        db: &impl ConnectionTrait,
        user: i64,
    ) -> AppResult<Arc<HashSet<String>>> {
        let Some(holder) = self.holder(db, user).await? else {
            return Ok(Default::default());
        };
        let set = holder
            .enrolled
            .get_or_try_init(|| async {
                let slugs: Vec<String> = enrollment::Entity::find()
                    .select_only()
                    .column(enrollment::Column::CourseSlug)
                    .filter(enrollment::Column::UserId.eq(user))
                    .filter(enrollment::Column::State.ne(enrollment::EnrollmentState::Withdrawn))
                    .into_tuple()
                    .all(db)
                    .await?;
                Ok::<_, crate::error::AppError>(Arc::new(slugs.into_iter().collect()))
            })
            .await?;
        Ok(set.clone())
    }

    /// Applies the change rows not applied yet. Cheap: one indexed read.
    pub async fn refresh(&self, db: &impl ConnectionTrait) -> AppResult<usize> {
        let since = Utc::now() - OVERLAP;
        let rows = session_change::Entity::find()
            .filter(session_change::Column::At.gte(since))
            .order_by_asc(session_change::Column::Id)
            .all(db)
            .await?;
        let mut applied = self.applied.lock().unwrap_or_else(|e| e.into_inner());
        let mut n = 0;
        for r in rows {
            if !applied.ids.insert(r.id) {
                continue;
            }
            applied.order.push_back((r.id, r.at));
            n += 1;
            if let Some(jti) = r.jti {
                write(&self.revoked).insert(jti);
            }
            if let Some(user) = r.user_id {
                write(&self.users).remove(&user);
            }
        }
        while let Some(&(id, at)) = applied.order.front() {
            if at >= since - OVERLAP {
                break;
            }
            applied.ids.remove(&id);
            applied.order.pop_front();
        }
        Ok(n)
    }

    /// Forgets revoked ids of tokens that have expired anyway.
    fn forget(&self, expired: &[String]) {
        let mut set = write(&self.revoked);
        for j in expired {
            set.remove(j);
        }
    }

    pub fn cached_users(&self) -> usize {
        read(&self.users).len()
    }
}

/// Records, inside the caller's transaction, that `user`'s sessions must be
/// looked at again (a new token version, role, scope, member, disabled, or
/// an enrollment changed).
pub async fn note_user(db: &impl ConnectionTrait, user: i64) -> AppResult<()> {
    note(db, Some(user), None).await
}

/// Records, inside the caller's transaction, that one token is revoked.
pub async fn note_revoked(db: &impl ConnectionTrait, jti: &str) -> AppResult<()> {
    note(db, None, Some(jti.to_string())).await
}

async fn note(db: &impl ConnectionTrait, user: Option<i64>, jti: Option<String>) -> AppResult<()> {
    session_change::Entity::insert(session_change::ActiveModel {
        user_id: Set(user),
        jti: Set(jti),
        at: Set(Utc::now()),
        ..Default::default()
    })
    .exec(db)
    .await?;
    Ok(())
}

/// Forgets change rows older than a day and revoked ids that have expired
/// (hourly, `jobs`).
pub async fn prune(sessions: &Sessions, db: &impl sea_orm::ConnectionTrait) -> AppResult<()> {
    let now = Utc::now();
    session_change::Entity::delete_many()
        .filter(session_change::Column::At.lt(now - chrono::TimeDelta::days(1)))
        .exec(db)
        .await?;
    // Exactly the ids removed here leave memory: none of them can come back.
    let expired: Vec<String> = revoked_token::Entity::find()
        .filter(revoked_token::Column::ExpiresAt.lte(now))
        .all(db)
        .await?
        .into_iter()
        .map(|r| r.jti)
        .collect();
    if !expired.is_empty() {
        revoked_token::Entity::delete_many()
            .filter(revoked_token::Column::Jti.is_in(expired.clone()))
            .exec(db)
            .await?;
        sessions.forget(&expired);
    }
    Ok(())
}

fn read<T>(l: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|e| e.into_inner())
}

fn write<T>(l: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|e| e.into_inner())
}
