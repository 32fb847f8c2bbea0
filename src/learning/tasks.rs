//! Practical tasks: a trainer signs a task off for a learner of her area with
//! a level (0 fail, 1 with help, 2 on own) and a note. The sign-off is also a
//! learning event and skill evidence, in one transaction.

use chrono::Utc;
use std::collections::BTreeMap;

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, EntityTrait, QueryFilter,
};
use serde::Deserialize;

use super::content::Cache;
use crate::accounts::Role;
use crate::entities::learning_event::{self, EventKind};
use crate::entities::{app_user, skill_evidence, task_signoff};
use crate::error::{AppError, AppResult};
use crate::policy::{Action, Actor};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SignOff {
    pub user_id: i64,
    pub course: String,
    pub task: String,
    pub level: i32,
    #[serde(default)]
    pub note: Option<String>,
}

/// Signs off a practical task; a write conflict (a Galera certification
/// failure, a deadlock) runs the transaction again (`db::retrying`).
pub async fn sign_off(
    db: &DatabaseConnection,
    cache: &Cache,
    trainer: &Actor,
    s: &SignOff,
) -> AppResult<task_signoff::Model> {
    crate::db::retrying("task sign-off", || sign_off_once(db, cache, trainer, s)).await
}

async fn sign_off_once(
    db: &DatabaseConnection,
    cache: &Cache,
    trainer: &Actor,
    s: &SignOff,
) -> AppResult<task_signoff::Model> {
    let txn = crate::db::begin_write(db).await?;
    let row = sign_off_in(&txn, cache, trainer, s).await?;
    txn.commit().await?;
    Ok(row)
}

/// One task signed off for several learners (a class): every learner's
/// sign-off is written as `sign_off` writes it (the sign-off row, its
/// learning event naming the trainer, the skill evidence, completion) in one
/// transaction — all of them or, if one is refused, none. A refusal names
/// the learner (`user_id` and her id in the message).
pub async fn sign_off_many(
    db: &DatabaseConnection,
    cache: &Cache,
    trainer: &Actor,
    learners: &[i64],
    s: &SignOff,
) -> AppResult<Vec<task_signoff::Model>> {
    trainer.require(Action::SignOffTasks)?;
    if learners.is_empty() {
        return Err(AppError::field("user_id", "tick at least one learner"));
    }
    crate::db::retrying("task sign-off", || async {
        let txn = crate::db::begin_write(db).await?;
        let mut rows = Vec::with_capacity(learners.len());
        for id in learners {
            let one = SignOff {
                user_id: *id,
                course: s.course.clone(),
                task: s.task.clone(),
                level: s.level,
                note: s.note.clone(),
            };
            match sign_off_in(&txn, cache, trainer, &one).await {
                Ok(r) => rows.push(r),
                Err(AppError::Validation { message, .. }) => {
                    return Err(AppError::field(
                        "user_id",
                        format!("learner {id}: {message}; nothing was signed off"),
                    ));
                }
                Err(e) => return Err(e),
            }
        }
        txn.commit().await?;
        Ok(rows)
    })
    .await
}

async fn sign_off_in(
    txn: &DatabaseTransaction,
    cache: &Cache,
    trainer: &Actor,
    s: &SignOff,
) -> AppResult<task_signoff::Model> {
    trainer.require(Action::SignOffTasks)?;
    let learner = app_user::Entity::find_by_id(s.user_id)
        .one(txn)
        .await?
        .ok_or(AppError::NotFound)?;
    trainer.require_user(
        Action::SignOffTasks,
        learner.id,
        learner.role,
        learner.area_code.as_deref(),
    )?;
    if learner.role != Role::Learner {
        return Err(AppError::NotFound);
    }
    let course = cache
        .published(txn, &s.course)
        .await?
        .ok_or(AppError::NotFound)?;
    let task = course.task(&s.task).ok_or_else(|| {
        AppError::field("task", format!("{:?} is not a task of this course", s.task))
    })?;
    if !(0..=2).contains(&s.level) {
        return Err(AppError::field(
            "level",
            "must be 0 (not yet), 1 (with help) or 2 (on own)",
        ));
    }
    if super::enroll::find(txn, learner.id, &s.course)
        .await?
        .is_none()
    {
        return Err(AppError::field(
            "user_id",
            "the learner is not enrolled in this course",
        ));
    }
    let note = s
        .note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| n.chars().take(1000).collect::<String>());
    let now = Utc::now();
    let row = task_signoff::ActiveModel {
        user_id: Set(learner.id),
        course_slug: Set(s.course.clone()),
        task_slug: Set(task.slug.clone()),
        trainer_id: Set(trainer.id),
        level: Set(s.level),
        note: Set(note.clone()),
        at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    learning_event::ActiveModel {
        id: Set(uuid::Uuid::new_v4()),
        user_id: Set(learner.id),
        kind: Set(EventKind::TaskSigned),
        course_slug: Set(Some(s.course.clone())),
        lesson_slug: Set(None),
        payload: Set(
            serde_json::json!({"task": task.slug, "level": s.level, "trainer": trainer.id})
                .to_string(),
        ),
        occurred_at: Set(now),
        received_at: Set(now),
        source: Set("web".into()),
    }
    .insert(txn)
    .await?;
    skill_evidence::ActiveModel {
        user_id: Set(learner.id),
        competence: Set(task.competence.clone()),
        course_slug: Set(Some(s.course.clone())),
        source: Set("task".into()),
        score: Set(None),
        level: Set(Some(s.level)),
        attempt_id: Set(None),
        signoff_id: Set(Some(row.id)),
        area_code: Set(learner.area_code.clone()),
        at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    super::completion::check(txn, learner.id, &course).await?;
    Ok(row)
}

/// The best level signed off for each task of a course, for the learner to see.
pub async fn best_levels(
    db: &impl ConnectionTrait,
    user_id: i64,
    course: &str,
) -> AppResult<BTreeMap<String, i32>> {
    Ok(task_signoff::Entity::find()
        .filter(task_signoff::Column::UserId.eq(user_id))
        .filter(task_signoff::Column::CourseSlug.eq(course))
        .all(db)
        .await?
        .into_iter()
        .fold(BTreeMap::new(), |mut m, s| {
            let e = m.entry(s.task_slug).or_insert(s.level);
            *e = (*e).max(s.level);
            m
        }))
}
