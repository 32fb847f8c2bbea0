//! Events applied one by one, in the caller's transaction (a submitted quiz is
//! graded here); and the events a page records: a finished lesson, a page
//! view, a quiz submitted from its form.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
};
use uuid::Uuid;

use super::ingest::{admit, course_naming};
use super::{Act, Applied, Event, PAGE_VIEW, Recorder, Refused, Report};
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
    valid: &[Event],
    now: DateTime<Utc>,
) -> AppResult<Applied> {
    let mut applied = Applied::default();
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
            applied.duplicates += 1;
            continue;
        }
        // A pre-test taken again, a post-test not open yet: refused, and
        // nothing stored (lessons finished earlier in the batch count). The
        // one check of these rules, in the transaction that would store the
        // attempt.
        if let Act::QuizSubmitted { quiz, .. } = &v.act
            && let Err(r) =
                crate::learning::gate::may_submit(txn, learner.id, &course, quiz).await?
        {
            applied.refused.push((v.id.to_string(), Refused::Gate(r)));
            continue;
        }
        learning_event::Entity::insert(learning_event::ActiveModel {
            id: Set(v.id),
            user_id: Set(learner.id),
            kind: Set(v.kind().kind()),
            course_slug: Set(Some(slug.clone())),
            lesson_slug: Set(v.lesson.clone()),
            payload: Set(v.payload.to_string()),
            occurred_at: Set(v.at),
            received_at: Set(now),
            source: Set(source.to_string()),
        })
        .exec_without_returning(txn)
        .await?;
        applied.accepted += 1;
        if let Some(step) = v.step() {
            progress::lesson_step(txn, learner.id, &slug, v.lesson_slug(), v.at, step).await?;
        }
        if let Act::QuizSubmitted { quiz, answers } = &v.act {
            let kind = course.quiz(quiz).map(|q| q.row.kind);
            // A post-test is taken online and counted by the server's
            // clock, so a device's clock cannot make a retake the first.
            let at = if kind == Some(QuizKind::Post) {
                now
            } else {
                v.at
            };
            let g =
                progress::record_attempt(txn, learner, &course, quiz, answers, v.id, at).await?;
            applied.graded.insert(
                v.id.to_string(),
                match kind {
                    Some(k) => g.for_learner(k),
                    None => g,
                },
            );
        }
        // Only a finished lesson or a submitted quiz can complete a course;
        // opening a lesson or answering along the way cannot.
        let may_complete = match v.act {
            Act::LessonFinished { .. } | Act::QuizSubmitted { .. } => true,
            Act::LessonOpened { .. } | Act::AnswerGiven => false,
        };
        if may_complete && !touched.iter().any(|c| c.course.slug == slug) {
            touched.push(course);
        }
    }
    for course in touched {
        completion::check(txn, learner.id, &course).await?;
    }
    Ok(applied)
}

/// Records one event a page built (same path as the API's events): its
/// refusal is the page's answer (see `Refused` for the status).
pub async fn record(rec: &Recorder<'_>, learner: &Actor, event: Event) -> AppResult<Report> {
    let id = event.id.to_string();
    let mut applied = admit(rec, learner, "web", vec![(id, Ok(event))], Utc::now()).await?;
    if let Some((_, refused)) = applied.refused.pop() {
        return Err(refused.into());
    }
    Ok(applied.into())
}

/// Records that `learner` opened `lesson` of `course` (a lesson page she is
/// enrolled in, already checked by the page) through the writer. By default
/// (`page_view_wait_ms` = 0) the page does not wait: the view commits with
/// the writer's next batch, milliseconds later, long before the learner's
/// next click. With a wait set, the page waits for the commit at most that
/// long. A page view is not acknowledged to anyone, so one still queued when
/// the process dies is the only kind of event that can be lost.
pub async fn page_view(
    rec: &Recorder<'_>,
    learner: &Actor,
    course: std::sync::Arc<CourseInfo>,
    lesson: &str,
) -> AppResult<()> {
    let now = Utc::now();
    // Past the day's budget the page is still shown, without a record:
    // reloading a page thousands of times cannot fill the disk.
    if let Some(why) = rec.budgets.over_web(rec.budget, learner.id, 1, now) {
        tracing::debug!(learner = learner.id, why, "a page view was not recorded");
        return Ok(());
    }
    let v = Event::page_view(course, lesson, now);
    let answer = rec.writer.submit(learner, PAGE_VIEW, vec![v], now).await?;
    if rec.page_view_wait_ms == 0 {
        return Ok(());
    }
    let wait = std::time::Duration::from_millis(rec.page_view_wait_ms);
    match tokio::time::timeout(wait, answer).await {
        Ok(Ok(Err(e))) => tracing::warn!(error = %e, "a page view was not recorded"),
        Ok(_) => {}
        Err(_) => tracing::debug!("a page view commits after its page"),
    }
    Ok(())
}

/// A quiz attempt sent to the API: the typed event of answers to `quiz` of
/// the published course `course`, or why there is none (no such course or
/// quiz, answers out of bounds).
pub async fn quiz_event(
    rec: &Recorder<'_>,
    course: &str,
    quiz: &str,
    answers: BTreeMap<String, Vec<String>>,
    attempt: Uuid,
) -> AppResult<Result<Event, Refused>> {
    Ok(
        match course_naming(rec.db, rec.content, course, None, Some(quiz)).await? {
            Ok(info) => Event::quiz_submitted(info, quiz, answers, attempt),
            Err(r) => Err(r),
        },
    )
}

/// A learner's answers to one quiz (a `quiz_submitted` event, its id the
/// attempt's): the result, or the stored result when this attempt was
/// submitted before, or why the submission was refused.
pub async fn submit_quiz(
    rec: &Recorder<'_>,
    learner: &Actor,
    source: &str,
    event: Event,
) -> AppResult<Result<grading::Graded, Refused>> {
    let key = event.id;
    let applied = admit(
        rec,
        learner,
        source,
        vec![(key.to_string(), Ok(event))],
        Utc::now(),
    )
    .await?;
    if let Some((_, refused)) = applied.refused.into_iter().next() {
        return Ok(Err(refused));
    }
    if let Some(g) = applied.graded.into_values().next() {
        return Ok(Ok(g));
    }
    // A duplicate: the stored result of the same attempt, hers only
    // (another learner's attempt id shows nothing of it).
    let a = quiz_attempt::Entity::find()
        .filter(quiz_attempt::Column::AttemptKey.eq(key))
        .filter(quiz_attempt::Column::UserId.eq(learner.id))
        .one(rec.db)
        .await?
        .ok_or(AppError::NotFound)?;
    let g: grading::Graded =
        serde_json::from_str(&a.result_json).map_err(|e| AppError::Internal(e.into()))?;
    Ok(Ok(g.for_learner(a.kind)))
}
