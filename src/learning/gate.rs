//! When a learner may submit a pre- or post-test.
//!
//! - The pre-test is the course's starting point: its first attempt is the
//!   before-score the gain is measured from, and its questions come back in
//!   the post-test. So it is taken once: a second attempt is refused (a
//!   resubmission of the same attempt is a duplicate, not a second attempt),
//!   and its result never carries the answer key (see `Graded::without_key`).
//! - The post-test opens as the course's `post_test` rule says
//!   (`courses::PostTestRule`, by default once every lesson is finished).
//!
//! The event log applies these rules in the transaction that would store the
//! attempt, so neither a form nor the API nor a replayed batch gets round
//! them; a refused attempt stores nothing.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use super::completion::{self, Missing};
use super::content::CourseInfo;
use crate::courses::PostTestRule;
use crate::entities::quiz_attempt;
use crate::error::AppResult;

/// Why an attempt is refused.
#[derive(Debug)]
pub enum Refusal {
    /// The pre-test was taken already.
    PreTaken,
    /// The post-test is not open yet: what is still to do first.
    PostClosed { rule: PostTestRule, left: Missing },
}

impl Refusal {
    /// The reason as the API reports it.
    pub fn reason(&self) -> String {
        match self {
            Refusal::PreTaken => {
                "quiz: the pre-test was taken already; its first attempt is the starting point"
                    .into()
            }
            Refusal::PostClosed { rule, left } => format!(
                "quiz: the post-test opens {} ({} lessons not finished, {} lesson checks not passed)",
                match rule {
                    PostTestRule::AfterChecks => {
                        "once every lesson is finished and every lesson check passed"
                    }
                    _ => "once every lesson is finished",
                },
                left.lessons.len(),
                left.checks.len()
            ),
        }
    }
}

/// The learner's first pre-test attempt in a course: her starting point.
pub async fn first_pre(
    db: &impl ConnectionTrait,
    user: i64,
    course: &str,
) -> AppResult<Option<quiz_attempt::Model>> {
    Ok(quiz_attempt::Entity::find()
        .filter(quiz_attempt::Column::UserId.eq(user))
        .filter(quiz_attempt::Column::CourseSlug.eq(course))
        .filter(quiz_attempt::Column::Kind.eq("pre"))
        .order_by_asc(quiz_attempt::Column::SubmittedAt)
        .order_by_asc(quiz_attempt::Column::Id)
        .one(db)
        .await?)
}

/// What is left before the post-test opens; `None` when it is open.
pub async fn post_test_closed(
    db: &impl ConnectionTrait,
    user: i64,
    course: &CourseInfo,
) -> AppResult<Option<Refusal>> {
    let rule = PostTestRule::of_source(course.course.source_course.as_deref());
    if rule == PostTestRule::AnyTime {
        return Ok(None);
    }
    let mut left = completion::missing(db, user, course).await?;
    if rule != PostTestRule::AfterChecks {
        left.checks.clear();
    }
    left.tasks.clear();
    left.post_test = false;
    Ok((!left.is_empty()).then_some(Refusal::PostClosed { rule, left }))
}

/// Whether `user` may submit a new attempt at `quiz` of `course` now.
pub async fn may_submit(
    db: &impl ConnectionTrait,
    user: i64,
    course: &CourseInfo,
    quiz: &str,
) -> AppResult<Result<(), Refusal>> {
    let Some(q) = course.quiz(quiz) else {
        return Ok(Ok(()));
    };
    match q.row.kind.as_str() {
        "pre" if first_pre(db, user, &course.course.slug).await?.is_some() => {
            Ok(Err(Refusal::PreTaken))
        }
        "post" => Ok(match post_test_closed(db, user, course).await? {
            Some(r) => Err(r),
            None => Ok(()),
        }),
        _ => Ok(Ok(())),
    }
}
