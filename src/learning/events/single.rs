//! Events applied one by one, in the caller's transaction (a submitted quiz is
//! graded here); and the events a page records: a finished lesson, a page
//! view, a quiz submitted from its form.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
};
use uuid::Uuid;

use super::{
    Applied, EventIn, LearnerKind, PAGE_VIEW, Rejected, Report, Valid, ingest, opened_seconds,
};
use crate::app::AppContext;
use crate::courses::QuizKind;
use crate::entities::{learning_event, quiz_attempt};
use crate::error::{AppError, AppResult};
use crate::learning::content::CourseInfo;
use crate::learning::{completion, grading, progress};
use crate::policy::Actor;

pub(crate) async fn apply(
    txn: &impl ConnectionTrait,
    learner: &Actor,
    source: &str,
    valid: &[Valid],
    now: DateTime<Utc>,
    views: Option<&crate::views::Views>,
    base_url: &str,
) -> AppResult<Applied> {
    let mut accepted = 0;
    let mut duplicates = 0;
    let mut graded = BTreeMap::new();
    let mut refused = Vec::new();
    let mut touched: Vec<std::sync::Arc<CourseInfo>> = Vec::new();
    // Ids already stored are duplicates. A concurrent writer that stores one
    // between this read and the insert makes the insert fail on the key, and
    // the whole batch is retried by the caller.
    let ids: Vec<Uuid> = valid.iter().map(|v| v.id).collect();
    let known: std::collections::HashSet<Uuid> = if ids.is_empty() {
        Default::default()
    } else {
        learning_event::Entity::find()
            .select_only()
            .column(learning_event::Column::Id)
            .filter(learning_event::Column::Id.is_in(ids))
            .into_tuple::<Uuid>()
            .all(txn)
            .await?
            .into_iter()
            .collect()
    };
    let mut seen = std::collections::HashSet::new();
    for v in valid {
        let course = v.course.clone();
        let slug = course.course.slug.clone();
        if known.contains(&v.id) || !seen.insert(v.id) {
            duplicates += 1;
            continue;
        }
        // A pre-test taken again, a post-test not open yet: refused, and
        // nothing stored (lessons finished earlier in the batch count).
        if v.kind == LearnerKind::QuizSubmitted
            && let Err(r) =
                crate::learning::gate::may_submit(txn, learner.id, &course, quiz_of(v)).await?
        {
            refused.push(Rejected {
                id: v.id.to_string(),
                reason: r.reason(),
            });
            continue;
        }
        learning_event::Entity::insert(learning_event::ActiveModel {
            id: Set(v.id),
            user_id: Set(learner.id),
            kind: Set(v.kind.kind()),
            course_slug: Set(Some(slug.clone())),
            lesson_slug: Set(v.lesson.clone()),
            payload: Set(v.payload.to_string()),
            occurred_at: Set(v.at),
            received_at: Set(now),
            source: Set(source.to_string()),
        })
        .exec_without_returning(txn)
        .await?;
        accepted += 1;
        let lesson = v.lesson.as_deref().unwrap_or_default();
        match v.kind {
            LearnerKind::LessonOpened => {
                let seconds = opened_seconds(&v.payload);
                let step = progress::Step::Opened { seconds };
                progress::lesson_step(txn, learner.id, &slug, lesson, v.at, step).await?;
            }
            LearnerKind::LessonFinished => {
                let step = progress::Step::Finished;
                progress::lesson_step(txn, learner.id, &slug, lesson, v.at, step).await?;
            }
            LearnerKind::QuizSubmitted => {
                let quiz = quiz_of(v);
                let answers: BTreeMap<String, Vec<String>> =
                    serde_json::from_value(v.payload.get("answers").cloned().unwrap_or_default())
                        .unwrap_or_default();
                let kind = course.quiz(quiz).map(|q| q.row.kind);
                // A post-test is taken online and counted by the server's
                // clock, so a device's clock cannot make a retake the first.
                let at = if kind == Some(QuizKind::Post) {
                    now
                } else {
                    v.at
                };
                let g = progress::record_attempt(txn, learner, &course, quiz, &answers, v.id, at)
                    .await?;
                graded.insert(
                    v.id.to_string(),
                    match kind {
                        Some(k) => g.for_learner(k),
                        None => g,
                    },
                );
            }
            // Stored for the record; it changes no derived state.
            LearnerKind::AnswerGiven => {}
        }
        // Only a finished lesson or a submitted quiz can complete a course;
        // opening a lesson or answering along the way cannot.
        let may_complete = match v.kind {
            LearnerKind::LessonFinished | LearnerKind::QuizSubmitted => true,
            LearnerKind::LessonOpened | LearnerKind::AnswerGiven => false,
        };
        if may_complete && !touched.iter().any(|c| c.course.slug == slug) {
            touched.push(course);
        }
    }
    for course in touched {
        completion::check(txn, learner.id, &course, views, base_url).await?;
    }
    Ok((accepted, duplicates, graded, refused))
}

/// The quiz a `quiz_submitted` event names (checked to exist by `check`).
fn quiz_of(v: &Valid) -> &str {
    v.payload
        .get("quiz")
        .and_then(|q| q.as_str())
        .unwrap_or_default()
}

/// Records one event from a page (same path as the API).
pub async fn record(
    ctx: &AppContext,
    learner: &Actor,
    kind: LearnerKind,
    course: &str,
    lesson: Option<&str>,
    payload: serde_json::Value,
    served: Option<&str>,
) -> AppResult<Report> {
    let e = EventIn {
        id: Uuid::new_v4().to_string(),
        kind: kind.name(),
        course: Some(course.into()),
        lesson: lesson.map(str::to_string),
        occurred_at: None,
        payload: Some(payload),
        learner: None,
        served: served.map(str::to_string),
    };
    let r = ingest(ctx, learner, "web", vec![e]).await?;
    if let Some(rej) = r.rejected.first() {
        return Err(AppError::BadRequest(rej.reason.clone()));
    }
    Ok(r)
}

/// Records that `learner` opened `lesson` of `course` (a lesson page she is
/// enrolled in, already checked by the page) through the writer. By default
/// (`page_view_wait_ms` = 0) the page does not wait: the view commits with
/// the writer's next batch, milliseconds later, long before the learner's
/// next click. With a wait set, the page waits for the commit at most that
/// long. A page view is not acknowledged to anyone, so one still queued when
/// the process dies is the only kind of event that can be lost.
pub async fn page_view(
    ctx: &AppContext,
    learner: &Actor,
    course: std::sync::Arc<CourseInfo>,
    lesson: &str,
) -> AppResult<()> {
    let now = Utc::now();
    // Past the day's budget the page is still shown, without a record:
    // reloading a page thousands of times cannot fill the disk.
    if let Some(why) = ctx.budgets.over_web(
        crate::learning::limits::Budget::of(&ctx.settings),
        learner.id,
        1,
        now,
    ) {
        tracing::debug!(learner = learner.id, why, "a page view was not recorded");
        return Ok(());
    }
    let v = Valid {
        id: Uuid::new_v4(),
        kind: LearnerKind::LessonOpened,
        course,
        lesson: Some(lesson.to_string()),
        at: now,
        payload: serde_json::json!({}),
    };
    let answer = ctx.events.submit(learner, PAGE_VIEW, vec![v], now).await?;
    if ctx.settings.page_view_wait_ms == 0 {
        return Ok(());
    }
    let wait = std::time::Duration::from_millis(ctx.settings.page_view_wait_ms);
    match tokio::time::timeout(wait, answer).await {
        Ok(Ok(Err(e))) => tracing::warn!(error = %e, "a page view was not recorded"),
        Ok(_) => {}
        Err(_) => tracing::debug!("a page view commits after its page"),
    }
    Ok(())
}

/// A learner's answers to one quiz, recorded as a `quiz_submitted` event with
/// the attempt's id: the result, or the stored result when this attempt was
/// submitted before, or why the submission was rejected.
pub async fn submit_quiz(
    ctx: &AppContext,
    learner: &Actor,
    source: &str,
    course: &str,
    quiz: &str,
    answers: &BTreeMap<String, Vec<String>>,
    attempt_id: &str,
) -> AppResult<Result<grading::Graded, Rejected>> {
    let e = EventIn {
        id: attempt_id.to_string(),
        kind: LearnerKind::QuizSubmitted.name(),
        course: Some(course.into()),
        lesson: None,
        occurred_at: None,
        payload: Some(serde_json::json!({"quiz": quiz, "answers": answers})),
        learner: None,
        served: None,
    };
    let r = ingest(ctx, learner, source, vec![e]).await?;
    if let Some(rej) = r.rejected.into_iter().next() {
        return Ok(Err(rej));
    }
    if let Some(g) = r.graded.into_values().next() {
        return Ok(Ok(g));
    }
    // A duplicate: the stored result of the same attempt.
    let key = Uuid::parse_str(attempt_id.trim()).map_err(|_| AppError::NotFound)?;
    // Hers only: another learner's attempt id shows nothing of it.
    let a = quiz_attempt::Entity::find()
        .filter(quiz_attempt::Column::AttemptKey.eq(key))
        .filter(quiz_attempt::Column::UserId.eq(learner.id))
        .one(&ctx.db)
        .await?
        .ok_or(AppError::NotFound)?;
    let g: grading::Graded =
        serde_json::from_str(&a.result_json).map_err(|e| AppError::Internal(e.into()))?;
    Ok(Ok(g.for_learner(a.kind)))
}
