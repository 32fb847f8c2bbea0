//! Enrollment: a learner enrolls herself; a trainer enrolls learners of her
//! area, one by one or as a cohort. Every change notes the learner in
//! `session_change`, so each process's in-memory view of her courses
//! (`accounts::sessions::Sessions::enrolled`) drops it; callers run
//! `sessions.refresh` after their commit, as for any change of a user.
//!
//! An enrollment that is not completed can be paused, withdrawn and resumed
//! ([`change`]): by the learner herself, or by a trainer or official whose
//! area holds her (admins anywhere). Each change is audited (`enrollment`,
//! `user/slug`, the state before and after); the dashboard's "withdrawn"
//! figure counts withdrawn enrollments by the month they were made.

use chrono::Utc;
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait,
    DatabaseConnection, EntityTrait, QueryFilter,
};

use crate::accounts::Role;
use crate::audit;
use crate::entities::enrollment::EnrollmentState;
use crate::entities::{app_user, enrollment, member};
use crate::error::{AppError, AppResult};
use crate::policy::{Action, Actor};

pub async fn find(
    db: &impl ConnectionTrait,
    user_id: i64,
    slug: &str,
) -> AppResult<Option<enrollment::Model>> {
    Ok(enrollment::Entity::find()
        .filter(enrollment::Column::UserId.eq(user_id))
        .filter(enrollment::Column::CourseSlug.eq(slug))
        .one(db)
        .await?)
}

/// Enrolls `learner` in the published course `slug` (idempotent: an existing
/// enrollment is returned, a withdrawn one is resumed).
pub async fn enroll(
    db: &impl ConnectionTrait,
    cache: &super::content::Cache,
    actor: &Actor,
    learner: &app_user::Model,
    slug: &str,
    cohort: Option<String>,
) -> AppResult<enrollment::Model> {
    if actor.id != learner.id {
        actor.require_user(
            Action::EnrollOthers,
            learner.id,
            learner.role,
            learner.area_code.as_deref(),
        )?;
    }
    if learner.role != Role::Learner {
        return Err(AppError::field("user_id", "only learners can be enrolled"));
    }
    if cache.published(db, slug).await?.is_none() {
        return Err(AppError::NotFound);
    }
    if let Some(e) = find(db, learner.id, slug).await? {
        if matches!(
            e.state,
            EnrollmentState::Withdrawn | EnrollmentState::Paused
        ) {
            let mut am: enrollment::ActiveModel = e.into();
            am.state = Set(EnrollmentState::Enrolled);
            let e = am.update(db).await?;
            crate::accounts::sessions::note_user(db, learner.id).await?;
            return Ok(e);
        }
        return Ok(e);
    }
    let household_id = match learner.member_id {
        Some(m) => member::Entity::find_by_id(m)
            .one(db)
            .await?
            .map(|m| m.household_id),
        None => None,
    };
    let e = enrollment::ActiveModel {
        user_id: Set(learner.id),
        course_slug: Set(slug.to_string()),
        cohort: Set(cohort.filter(|c| !c.trim().is_empty())),
        state: Set(EnrollmentState::Enrolled),
        area_code: Set(learner.area_code.clone()),
        household_id: Set(household_id),
        pre_done: Set(false),
        enrolled_at: Set(Utc::now()),
        enrolled_by: Set((actor.id != learner.id).then_some(actor.id)),
        ..Default::default()
    }
    .insert(db)
    .await?;
    // Each process's view of the learner's courses (`accounts::sessions`).
    crate::accounts::sessions::note_user(db, learner.id).await?;
    Ok(e)
}

/// Enrolls several learners (by user id) in one transaction: all or none.
/// A write conflict (a Galera certification failure, a deadlock) runs the
/// transaction again (`db::retrying`).
pub async fn enroll_many(
    db: &DatabaseConnection,
    cache: &super::content::Cache,
    actor: &Actor,
    learners: &[i64],
    slug: &str,
    cohort: Option<String>,
) -> AppResult<Vec<enrollment::Model>> {
    crate::db::retrying("enroll", || {
        enroll_many_once(db, cache, actor, learners, slug, cohort.clone())
    })
    .await
}

async fn enroll_many_once(
    db: &DatabaseConnection,
    cache: &super::content::Cache,
    actor: &Actor,
    learners: &[i64],
    slug: &str,
    cohort: Option<String>,
) -> AppResult<Vec<enrollment::Model>> {
    let txn = crate::db::begin_write(db).await?;
    let mut done = Vec::with_capacity(learners.len());
    for id in learners {
        let learner = crate::accounts::users::find(&txn, *id)
            .await?
            .ok_or(AppError::NotFound)?;
        done.push(enroll(&txn, cache, actor, &learner, slug, cohort.clone()).await?);
    }
    txn.commit().await?;
    Ok(done)
}

/// Pauses, resumes or withdraws an enrollment (not `completed`: that is earned).
pub async fn set_state(
    db: &impl ConnectionTrait,
    e: enrollment::Model,
    to: Standing,
) -> AppResult<enrollment::Model> {
    if e.state == EnrollmentState::Completed {
        return Err(AppError::Conflict("the course is already completed".into()));
    }
    let user = e.user_id;
    let mut am: enrollment::ActiveModel = e.into();
    am.state = Set(to.state());
    let e = am.update(db).await?;
    crate::accounts::sessions::note_user(db, user).await?;
    Ok(e)
}

/// The learner skips the pre-test of a course she is enrolled in (not found otherwise).
pub async fn skip_pre(db: &impl ConnectionTrait, user_id: i64, slug: &str) -> AppResult<()> {
    find(db, user_id, slug).await?.ok_or(AppError::NotFound)?;
    mark_pre_done(db, user_id, slug).await
}

/// Marks the pre-test as done or skipped.
pub async fn mark_pre_done(db: &impl ConnectionTrait, user_id: i64, slug: &str) -> AppResult<()> {
    enrollment::Entity::update_many()
        .col_expr(
            enrollment::Column::PreDone,
            sea_orm::sea_query::Expr::value(true),
        )
        .filter(enrollment::Column::UserId.eq(user_id))
        .filter(enrollment::Column::CourseSlug.eq(slug))
        .exec(db)
        .await?;
    Ok(())
}

/// A state a person may put an unfinished enrollment in (stored by name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    Enrolled,
    Paused,
    Withdrawn,
}

impl Standing {
    pub const ALL: [Standing; 3] = [Standing::Enrolled, Standing::Paused, Standing::Withdrawn];

    /// The enrollment state it puts her in.
    pub fn state(self) -> EnrollmentState {
        match self {
            Standing::Enrolled => EnrollmentState::Enrolled,
            Standing::Paused => EnrollmentState::Paused,
            Standing::Withdrawn => EnrollmentState::Withdrawn,
        }
    }

    /// The state named `s`, or a field error on `state`.
    pub fn parse(s: &str) -> AppResult<Standing> {
        Standing::ALL
            .into_iter()
            .find(|x| x.state().to_value() == s.trim())
            .ok_or_else(|| AppError::field("state", "must be enrolled, paused or withdrawn"))
    }
}

/// The learner `user_id` as `actor` may see and change her enrollments: the
/// learner herself, staff with her in their area, admins (403 for a role
/// that never may, 404 for anyone else).
pub async fn learner_for(
    db: &impl ConnectionTrait,
    actor: &Actor,
    user_id: i64,
) -> AppResult<app_user::Model> {
    let learner = crate::accounts::users::find(db, user_id)
        .await?
        .ok_or(AppError::NotFound)?;
    actor.require_user(
        Action::ChangeEnrollment,
        learner.id,
        learner.role,
        learner.area_code.as_deref(),
    )?;
    if learner.role != Role::Learner {
        return Err(AppError::NotFound);
    }
    Ok(learner)
}

/// Every enrollment of the learner, oldest first.
pub async fn of_learner(
    db: &impl ConnectionTrait,
    actor: &Actor,
    user_id: i64,
) -> AppResult<(app_user::Model, Vec<enrollment::Model>)> {
    use sea_orm::QueryOrder;
    let learner = learner_for(db, actor, user_id).await?;
    let rows = enrollment::Entity::find()
        .filter(enrollment::Column::UserId.eq(user_id))
        .order_by_asc(enrollment::Column::Id)
        .all(db)
        .await?;
    Ok((learner, rows))
}

/// Puts the learner's enrollment in `slug` in state `to` (audited; setting
/// the state it has changes nothing). A completed course cannot be paused
/// or withdrawn (409).
pub async fn change(
    db: &DatabaseConnection,
    actor: &Actor,
    user_id: i64,
    slug: &str,
    to: Standing,
) -> AppResult<enrollment::Model> {
    crate::db::retrying("enrollment state", || {
        change_once(db, actor, user_id, slug, to)
    })
    .await
}

async fn change_once(
    db: &DatabaseConnection,
    actor: &Actor,
    user_id: i64,
    slug: &str,
    to: Standing,
) -> AppResult<enrollment::Model> {
    let txn = crate::db::begin_write(db).await?;
    let learner = learner_for(&txn, actor, user_id).await?;
    let e = find(&txn, user_id, slug).await?.ok_or(AppError::NotFound)?;
    if e.state == to.state() {
        txn.rollback().await?;
        return Ok(e);
    }
    let before = e.state;
    let e = set_state(&txn, e, to).await?;
    audit::record(
        &txn,
        audit::Action::Update,
        audit::Entry {
            actor_id: Some(actor.id),
            entity: "enrollment",
            entity_id: Some(format!("{user_id}/{slug}")),
            area_code: learner.area_code.clone(),
            before: Some(serde_json::json!({"state": before})),
            after: Some(serde_json::json!({"state": to.state()})),
            ..Default::default()
        },
    )
    .await?;
    txn.commit().await?;
    Ok(e)
}
