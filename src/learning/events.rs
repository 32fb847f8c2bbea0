//! The learning event log. A batch is applied in one transaction: unknown ids
//! are stored and applied, known ids are reported as duplicates and change
//! nothing, invalid items are rejected one by one with a reason. Web pages
//! record through the same `record` function, so forms and API never disagree.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveEnum, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    QueryFilter, QuerySelect,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::content::{Cache, CourseInfo};
use super::{completion, grading, progress};
use crate::app::AppContext;
use crate::entities::learning_event::{self, EventKind};
use crate::entities::{enrollment, quiz_attempt};
use crate::error::{AppError, AppResult};
use crate::policy::Actor;

/// An event as a client sends it.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct EventIn {
    pub id: String,
    pub kind: String,
    #[serde(default)]
    pub course: Option<String>,
    #[serde(default)]
    pub lesson: Option<String>,
    #[serde(default)]
    pub occurred_at: Option<String>,
    #[serde(default)]
    pub payload: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Rejected {
    pub id: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct Report {
    pub accepted: usize,
    pub duplicates: usize,
    pub rejected: Vec<Rejected>,
    /// Results of `quiz_submitted` events, by event id.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub graded: BTreeMap<String, grading::Graded>,
}

/// The kinds a learner's device may send; trainers record sign-offs and
/// attendance through their own services.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LearnerKind {
    LessonOpened,
    LessonFinished,
    AnswerGiven,
    QuizSubmitted,
}

impl LearnerKind {
    pub const ALL: [LearnerKind; 4] = [
        LearnerKind::LessonOpened,
        LearnerKind::LessonFinished,
        LearnerKind::AnswerGiven,
        LearnerKind::QuizSubmitted,
    ];

    /// The kind as stored.
    pub fn kind(self) -> EventKind {
        match self {
            LearnerKind::LessonOpened => EventKind::LessonOpened,
            LearnerKind::LessonFinished => EventKind::LessonFinished,
            LearnerKind::AnswerGiven => EventKind::AnswerGiven,
            LearnerKind::QuizSubmitted => EventKind::QuizSubmitted,
        }
    }

    /// A kind's stored name, if a learner may send it.
    pub fn parse(name: &str) -> Option<LearnerKind> {
        match EventKind::try_from_value(&name.to_string()).ok()? {
            EventKind::LessonOpened => Some(LearnerKind::LessonOpened),
            EventKind::LessonFinished => Some(LearnerKind::LessonFinished),
            EventKind::AnswerGiven => Some(LearnerKind::AnswerGiven),
            EventKind::QuizSubmitted => Some(LearnerKind::QuizSubmitted),
            EventKind::TaskSigned | EventKind::ClassAttended => None,
        }
    }

    pub fn name(self) -> String {
        self.kind().to_value()
    }
}

pub(crate) struct Valid {
    id: Uuid,
    kind: LearnerKind,
    course: std::sync::Arc<CourseInfo>,
    lesson: Option<String>,
    at: DateTime<Utc>,
    payload: serde_json::Value,
}

/// The most events a batch may hold (the API answers 413 beyond).
pub const MAX_BATCH: usize = 500;

/// What applying one request's events gave: accepted, duplicates, and the
/// graded quiz attempts by event id.
pub type Applied = (usize, usize, BTreeMap<String, grading::Graded>);

/// Validates a batch of a learner's events and applies the valid ones through
/// the process's writer (group commit: see `writer`); answers once they are
/// durable.
pub async fn ingest(
    ctx: &AppContext,
    learner: &Actor,
    source: &str,
    batch: Vec<EventIn>,
) -> AppResult<Report> {
    if batch.len() > MAX_BATCH {
        return Err(AppError::field(
            "events",
            format!("at most {MAX_BATCH} events a batch"),
        ));
    }
    let mut report = Report::default();
    let mut valid = Vec::new();
    let now = Utc::now();
    let mut enrolled: BTreeMap<String, bool> = BTreeMap::new();
    for e in batch {
        match check(&ctx.db, &ctx.content, learner, &e, now, &mut enrolled).await? {
            Ok(v) => valid.push(v),
            Err(reason) => report.rejected.push(Rejected {
                id: e.id.clone(),
                reason,
            }),
        }
    }
    if valid.is_empty() {
        return Ok(report);
    }
    let (accepted, duplicates, graded) = ctx.events.write(learner, source, valid, now).await?;
    report.accepted = accepted;
    report.duplicates = duplicates;
    report.graded = graded;
    Ok(report)
}

async fn check(
    db: &DatabaseConnection,
    cache: &Cache,
    learner: &Actor,
    e: &EventIn,
    now: DateTime<Utc>,
    enrolled: &mut BTreeMap<String, bool>,
) -> AppResult<Result<Valid, String>> {
    let Ok(id) = Uuid::parse_str(e.id.trim()) else {
        return Ok(Err("id: not a UUID".into()));
    };
    let Some(kind) = LearnerKind::parse(&e.kind) else {
        return Ok(Err(format!(
            "kind: {:?} is not one of {}",
            e.kind,
            LearnerKind::ALL.map(LearnerKind::name).join(", ")
        )));
    };
    let at = match e.occurred_at.as_deref() {
        None => now,
        Some(s) => match DateTime::parse_from_rfc3339(s) {
            Ok(t) => t.with_timezone(&Utc),
            Err(_) => return Ok(Err("occurred_at: not an RFC 3339 time".into())),
        },
    };
    if at > now + Duration::days(1) || at.timestamp() < 1_577_836_800 {
        return Ok(Err("occurred_at: outside the possible range".into()));
    }
    let Some(slug) = e.course.as_deref().filter(|s| !s.is_empty()) else {
        return Ok(Err("course: missing".into()));
    };
    let Some(course) = cache.published(db, slug).await? else {
        return Ok(Err(format!("course: {slug:?} is not a published course")));
    };
    let is_enrolled = match enrolled.get(slug) {
        Some(v) => *v,
        None => {
            let v = super::enroll::find(db, learner.id, slug)
                .await?
                .is_some_and(|e| e.state != "withdrawn");
            enrolled.insert(slug.to_string(), v);
            v
        }
    };
    if !is_enrolled {
        return Ok(Err(format!("course: not enrolled in {slug:?}")));
    }
    let lesson = e.lesson.clone().filter(|l| !l.is_empty());
    let payload = e.payload.clone().unwrap_or(serde_json::Value::Null);
    match kind {
        LearnerKind::LessonOpened | LearnerKind::LessonFinished => match &lesson {
            Some(l) if course.lesson(l).is_some() => {}
            Some(l) => return Ok(Err(format!("lesson: {l:?} is not a lesson of {slug:?}"))),
            None => return Ok(Err("lesson: missing".into())),
        },
        LearnerKind::QuizSubmitted => {
            let quiz = payload
                .get("quiz")
                .and_then(|q| q.as_str())
                .unwrap_or_default();
            if course.quiz(quiz).is_none() {
                return Ok(Err(format!(
                    "payload.quiz: {quiz:?} is not a quiz of {slug:?}"
                )));
            }
            if serde_json::from_value::<BTreeMap<String, Vec<String>>>(
                payload.get("answers").cloned().unwrap_or_default(),
            )
            .is_err()
            {
                return Ok(Err(
                    "payload.answers: must map question ids to lists of answers".into(),
                ));
            }
        }
        LearnerKind::AnswerGiven => {}
    }
    Ok(Ok(Valid {
        id,
        kind,
        course,
        lesson,
        at,
        payload,
    }))
}

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
                let seconds = v
                    .payload
                    .get("seconds")
                    .and_then(|s| s.as_i64())
                    .unwrap_or(0)
                    .clamp(0, 3600) as i32;
                let step = progress::Step::Opened { seconds };
                progress::lesson_step(txn, learner.id, &slug, lesson, v.at, step).await?;
            }
            LearnerKind::LessonFinished => {
                let step = progress::Step::Finished;
                progress::lesson_step(txn, learner.id, &slug, lesson, v.at, step).await?;
            }
            LearnerKind::QuizSubmitted => {
                let quiz = v
                    .payload
                    .get("quiz")
                    .and_then(|q| q.as_str())
                    .unwrap_or_default();
                let answers: BTreeMap<String, Vec<String>> =
                    serde_json::from_value(v.payload.get("answers").cloned().unwrap_or_default())
                        .unwrap_or_default();
                let g = progress::record_attempt(txn, learner, &course, quiz, &answers, v.id, v.at)
                    .await?;
                graded.insert(v.id.to_string(), g);
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
    Ok((accepted, duplicates, graded))
}

/// Records one event from a page (same path as the API).
pub async fn record(
    ctx: &AppContext,
    learner: &Actor,
    kind: LearnerKind,
    course: &str,
    lesson: Option<&str>,
    payload: serde_json::Value,
) -> AppResult<Report> {
    let e = EventIn {
        id: Uuid::new_v4().to_string(),
        kind: kind.name(),
        course: Some(course.into()),
        lesson: lesson.map(str::to_string),
        occurred_at: None,
        payload: Some(payload),
    };
    let r = ingest(ctx, learner, "web", vec![e]).await?;
    if let Some(rej) = r.rejected.first() {
        return Err(AppError::BadRequest(rej.reason.clone()));
    }
    Ok(r)
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
    let a = quiz_attempt::Entity::find()
        .filter(quiz_attempt::Column::AttemptKey.eq(key))
        .one(&ctx.db)
        .await?
        .ok_or(AppError::NotFound)?;
    let g = serde_json::from_str(&a.result_json).map_err(|e| AppError::Internal(e.into()))?;
    Ok(Ok(g))
}

/// Count of the enrollments of one learner (for tests and pages).
pub async fn enrollment_count(db: &impl ConnectionTrait, user_id: i64) -> AppResult<usize> {
    Ok(enrollment::Entity::find()
        .filter(enrollment::Column::UserId.eq(user_id))
        .all(db)
        .await?
        .len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learners_send_only_their_own_kinds() {
        for k in LearnerKind::ALL {
            assert_eq!(LearnerKind::parse(&k.name()), Some(k));
        }
        assert_eq!(LearnerKind::QuizSubmitted.name(), "quiz_submitted");
        assert_eq!(LearnerKind::LessonOpened.name(), "lesson_opened");
        assert_eq!(LearnerKind::parse("task_signed"), None);
        assert_eq!(LearnerKind::parse("class_attended"), None);
        assert_eq!(LearnerKind::parse("lesson_read"), None);
    }

    #[test]
    fn stored_names_are_unchanged() {
        use sea_orm::Iterable;
        let names: Vec<String> = EventKind::iter().map(|k| k.to_value()).collect();
        assert_eq!(
            names,
            [
                "lesson_opened",
                "lesson_finished",
                "answer_given",
                "quiz_submitted",
                "task_signed",
                "class_attended"
            ]
        );
    }
}
