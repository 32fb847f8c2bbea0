//! In-person classes: a trainer creates a session (course, place, time,
//! expected learners) and ticks attendance; each attendance is an event too.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter,
};
use serde::Deserialize;

use super::content::Cache;
use crate::areas::AreaCode;
use crate::entities::learning_event::{self, EventKind};
use crate::entities::{app_user, attendance, class_session};
use crate::error::{AppError, AppResult};
use crate::policy::{Action, Actor};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewSession {
    pub course: String,
    pub place: String,
    pub held_at: String,
    #[serde(default)]
    pub area_code: Option<String>,
    #[serde(default)]
    pub expected: Vec<i64>,
}

pub async fn create(
    db: &DatabaseConnection,
    cache: &Cache,
    trainer: &Actor,
    s: &NewSession,
) -> AppResult<class_session::Model> {
    trainer.require(Action::RunClasses)?;
    cache
        .published(db, &s.course)
        .await?
        .ok_or_else(|| AppError::field("course", "no published course with this name"))?;
    let held_at = DateTime::parse_from_rfc3339(&s.held_at)
        .map(|t| t.with_timezone(&Utc))
        .or_else(|_| {
            chrono::NaiveDateTime::parse_from_str(&s.held_at, "%Y-%m-%dT%H:%M").map(|n| n.and_utc())
        })
        .map_err(|_| AppError::field("held_at", "a date and time, e.g. 2026-12-01T09:00"))?;
    let place = s.place.trim();
    if place.is_empty() || place.chars().count() > 200 {
        return Err(AppError::field("place", "must be 1 to 200 characters"));
    }
    let area = match s.area_code.as_deref().filter(|a| !a.is_empty()) {
        Some(a) => AreaCode::parse(a).map_err(|e| AppError::field("area_code", e))?,
        None => trainer
            .area
            .clone()
            .ok_or_else(|| AppError::field("area_code", "is needed"))?,
    };
    trainer.require_in(Action::RunClasses, Some(area.as_str()))?;
    let txn = crate::db::begin_write(db).await?;
    let session = class_session::ActiveModel {
        course_slug: Set(s.course.clone()),
        trainer_id: Set(trainer.id),
        area_code: Set(area.to_string()),
        held_at: Set(held_at),
        place: Set(place.to_string()),
        notes: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    for uid in &s.expected {
        let u = roster_learner(&txn, trainer, *uid, || {
            AppError::field("expected", format!("no learner {uid}"))
        })
        .await?;
        attendance::ActiveModel {
            session_id: Set(session.id),
            user_id: Set(u.id),
            attended: Set(false),
            excused: Set(false),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(session)
}

/// A person the trainer may put on a class roster; `missing` when there is
/// no such person, not found when she is outside the trainer's reach.
async fn roster_learner(
    db: &impl ConnectionTrait,
    trainer: &Actor,
    user_id: i64,
    missing: impl FnOnce() -> AppError,
) -> AppResult<app_user::Model> {
    let u = app_user::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .ok_or_else(missing)?;
    trainer.require_user(Action::RunClasses, u.id, u.role, u.area_code.as_deref())?;
    Ok(u)
}

/// The session, if the trainer may run it (404 otherwise).
pub async fn get(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
) -> AppResult<class_session::Model> {
    let s = class_session::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    actor.require_in(Action::RunClasses, Some(&s.area_code))?;
    Ok(s)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct Mark {
    pub user_id: i64,
    pub attended: bool,
    #[serde(default)]
    pub excused: bool,
}

/// Sets attendance; a newly attended learner gets a `class_attended` event.
pub async fn mark(
    db: &DatabaseConnection,
    actor: &Actor,
    session_id: i64,
    marks: &[Mark],
) -> AppResult<usize> {
    let s = get(db, actor, session_id).await?;
    // One choice per learner: present, excused or absent.
    if let Some(m) = marks.iter().find(|m| m.attended && m.excused) {
        return Err(AppError::field(
            "excused",
            format!(
                "learner {} is marked both present and excused; choose one",
                m.user_id
            ),
        ));
    }
    let txn = crate::db::begin_write(db).await?;
    let now = Utc::now();
    let mut changed = 0;
    for m in marks {
        let existing = attendance::Entity::find()
            .filter(attendance::Column::SessionId.eq(s.id))
            .filter(attendance::Column::UserId.eq(m.user_id))
            .one(&txn)
            .await?;
        let was = existing.as_ref().is_some_and(|a| a.attended);
        match existing {
            Some(a) => {
                let mut am: attendance::ActiveModel = a.into();
                am.attended = Set(m.attended);
                am.excused = Set(m.excused);
                am.update(&txn).await?;
            }
            None => {
                let u = roster_learner(&txn, actor, m.user_id, || AppError::NotFound).await?;
                attendance::ActiveModel {
                    session_id: Set(s.id),
                    user_id: Set(u.id),
                    attended: Set(m.attended),
                    excused: Set(m.excused),
                    ..Default::default()
                }
                .insert(&txn)
                .await?;
            }
        }
        if m.attended && !was {
            learning_event::ActiveModel {
                id: Set(uuid::Uuid::new_v4()),
                user_id: Set(m.user_id),
                kind: Set(EventKind::ClassAttended),
                course_slug: Set(Some(s.course_slug.clone())),
                lesson_slug: Set(None),
                payload: Set(serde_json::json!({"session": s.id}).to_string()),
                occurred_at: Set(s.held_at),
                received_at: Set(now),
                source: Set("web".into()),
            }
            .insert(&txn)
            .await?;
        }
        changed += 1;
    }
    txn.commit().await?;
    Ok(changed)
}
