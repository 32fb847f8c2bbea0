//! When a learner may submit a pre- or post-test.
//!
//! - The pre-test is the course's starting point: its first attempt is the
//!   before-score the gain is measured from, and its questions come back in
//!   the post-test. So it is taken once: a second attempt is refused (a
//!   resubmission of the same attempt is a duplicate, not a second attempt),
//!   and its result never carries the answer key (see `Graded::without_key`).
//! - The post-test opens as the course's `post_test` rule says
//!   (`courses::PostTestRule`, by default once every lesson is finished).
//!   It may then be taken at most `POST_ATTEMPTS` times, `POST_RETAKE_WAIT`
//!   apart (by the server's clock), and not again once passed; each attempt
//!   shows the choices in a new order, and its result says the score, never
//!   the keys (see `Graded::for_learner`). The figures (gain, mastery) count
//!   the first attempt.
//!
//! The event log applies these rules in the transaction that would store the
//! attempt (`events::apply`: the one check of a submission, free of races),
//! so neither a form nor the API nor a replayed batch gets round them; a
//! refused attempt stores nothing. Pages ask the same rules only for what to
//! show (a closed post-test, the pre-test's result instead of a new form).

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use super::completion::{self, Missing};
use super::content::CourseInfo;
use crate::courses::{PostTestRule, QuizKind};
use crate::entities::quiz_attempt;
use crate::error::AppResult;

/// Why an attempt is refused.
#[derive(Debug)]
pub enum Refusal {
    /// The pre-test was taken already.
    PreTaken,
    /// The post-test is not open yet: what is still to do first.
    PostClosed { rule: PostTestRule, left: Missing },
    /// The post-test was passed already.
    PostPassed,
    /// Every attempt at the post-test was used.
    PostUsedUp,
    /// The next attempt at the post-test opens at this time.
    PostWait { until: DateTime<Utc> },
}

/// How many times the post-test may be taken.
pub const POST_ATTEMPTS: usize = 3;

/// The least time between two attempts at the post-test, in minutes.
pub const POST_RETAKE_WAIT_MINUTES: i64 = 60;

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
            Refusal::PostPassed => {
                "quiz: the post-test was passed already; the first attempt is the one that counts"
                    .into()
            }
            Refusal::PostUsedUp => format!(
                "quiz: the post-test may be taken {POST_ATTEMPTS} times; every attempt was used"
            ),
            Refusal::PostWait { until } => format!(
                "quiz: the next attempt at the post-test opens {POST_RETAKE_WAIT_MINUTES} minutes after the last one, at {}",
                until.format("%Y-%m-%dT%H:%M:%SZ")
            ),
        }
    }

    /// Whether the post-test was open and this is the retake rule refusing.
    pub fn is_retake(&self) -> bool {
        matches!(
            self,
            Refusal::PostPassed | Refusal::PostUsedUp | Refusal::PostWait { .. }
        )
    }
}

/// The learner's attempts at the post-test of a course, first first (in the
/// order the server stored them: a client's clock cannot reorder them).
pub async fn post_attempts(
    db: &impl ConnectionTrait,
    user: i64,
    course: &str,
) -> AppResult<Vec<quiz_attempt::Model>> {
    Ok(quiz_attempt::Entity::find()
        .filter(quiz_attempt::Column::UserId.eq(user))
        .filter(quiz_attempt::Column::CourseSlug.eq(course))
        .filter(quiz_attempt::Column::Kind.eq(QuizKind::Post))
        .order_by_asc(quiz_attempt::Column::Id)
        .all(db)
        .await?)
}

/// Whether the retake rule lets `user` take the post-test again now.
pub async fn post_retake(
    db: &impl ConnectionTrait,
    user: i64,
    course: &str,
    now: DateTime<Utc>,
) -> AppResult<Option<Refusal>> {
    let done = post_attempts(db, user, course).await?;
    if done.iter().any(|a| a.passed) {
        return Ok(Some(Refusal::PostPassed));
    }
    if done.len() >= POST_ATTEMPTS {
        return Ok(Some(Refusal::PostUsedUp));
    }
    if let Some(last) = done.iter().map(|a| a.created_at).max() {
        let until = last + Duration::minutes(POST_RETAKE_WAIT_MINUTES);
        if now < until {
            return Ok(Some(Refusal::PostWait { until }));
        }
    }
    Ok(None)
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
        .filter(quiz_attempt::Column::Kind.eq(QuizKind::Pre))
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
    match q.row.kind {
        QuizKind::Pre if first_pre(db, user, &course.course.slug).await?.is_some() => {
            Ok(Err(Refusal::PreTaken))
        }
        QuizKind::Post => {
            if let Some(r) = post_test_closed(db, user, course).await? {
                return Ok(Err(r));
            }
            Ok(
                match post_retake(db, user, &course.course.slug, Utc::now()).await? {
                    Some(r) => Err(r),
                    None => Ok(()),
                },
            )
        }
        QuizKind::Pre | QuizKind::Lesson => Ok(Ok(())),
    }
}
