//! The completion rule: every lesson finished, every lesson check passed,
//! every required task signed off at level 1 or more, the post-test passed.
//! On completion the enrollment is completed and a certificate issued, in the
//! same transaction as the act that completed it.

use std::collections::HashSet;

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
};

use super::content::CourseInfo;
use crate::entities::enrollment::EnrollmentState;
use crate::entities::lesson_progress::LessonState;
use crate::entities::{enrollment, lesson_progress, quiz_attempt, task_signoff};
use crate::error::AppResult;

/// What is still missing for a learner to complete a course.
#[derive(Debug, Default, serde::Serialize)]
pub struct Missing {
    pub lessons: Vec<String>,
    pub checks: Vec<String>,
    pub tasks: Vec<String>,
    pub post_test: bool,
}

impl Missing {
    pub fn is_empty(&self) -> bool {
        self.lessons.is_empty()
            && self.checks.is_empty()
            && self.tasks.is_empty()
            && !self.post_test
    }
}

pub async fn missing(
    db: &impl ConnectionTrait,
    user: i64,
    course: &CourseInfo,
) -> AppResult<Missing> {
    let slug = &course.course.slug;
    let finished: HashSet<String> = lesson_progress::Entity::find()
        .filter(lesson_progress::Column::UserId.eq(user))
        .filter(lesson_progress::Column::CourseSlug.eq(slug.as_str()))
        .filter(lesson_progress::Column::State.eq(LessonState::Finished))
        .all(db)
        .await?
        .into_iter()
        .map(|p| p.lesson_slug)
        .collect();
    let passed: HashSet<String> = quiz_attempt::Entity::find()
        .filter(quiz_attempt::Column::UserId.eq(user))
        .filter(quiz_attempt::Column::CourseSlug.eq(slug.as_str()))
        .filter(quiz_attempt::Column::Passed.eq(true))
        .all(db)
        .await?
        .into_iter()
        .map(|a| a.quiz_slug)
        .collect();
    let signed: HashSet<String> = task_signoff::Entity::find()
        .filter(task_signoff::Column::UserId.eq(user))
        .filter(task_signoff::Column::CourseSlug.eq(slug.as_str()))
        .filter(task_signoff::Column::Level.gte(1))
        .all(db)
        .await?
        .into_iter()
        .map(|s| s.task_slug)
        .collect();
    Ok(Missing {
        lessons: course
            .lessons
            .iter()
            .filter(|l| !finished.contains(&l.slug))
            .map(|l| l.slug.clone())
            .collect(),
        checks: course
            .lesson_checks()
            .filter(|q| !passed.contains(&q.row.slug))
            .map(|q| q.row.slug.clone())
            .collect(),
        tasks: course
            .tasks
            .iter()
            .filter(|t| t.required && !signed.contains(&t.slug))
            .map(|t| t.slug.clone())
            .collect(),
        post_test: course.quiz("post").is_some() && !passed.contains("post"),
    })
}

/// Completes the enrollment and issues the certificate when the rule holds.
/// Returns the certificate code when this call completed the course.
pub async fn check(
    db: &impl ConnectionTrait,
    user: i64,
    course: &CourseInfo,
) -> AppResult<Option<String>> {
    let slug = &course.course.slug;
    let Some(e) = super::enroll::find(db, user, slug).await? else {
        return Ok(None);
    };
    if matches!(
        e.state,
        EnrollmentState::Completed | EnrollmentState::Withdrawn
    ) {
        return Ok(None);
    }
    if !missing(db, user, course).await?.is_empty() {
        return Ok(None);
    }
    let now = Utc::now();
    let mut am: enrollment::ActiveModel = e.into();
    am.state = Set(EnrollmentState::Completed);
    am.completed_at = Set(Some(now));
    am.update(db).await?;
    let code = super::certificates::issue(db, user, course).await?;
    Ok(Some(code))
}
