//! The learning event log. A batch is applied in one transaction: unknown ids
//! are stored and applied, known ids are reported as duplicates and change
//! nothing, invalid items are refused one by one with a reason. There is one
//! typed event (`Event`): a page builds it from what it already holds, a
//! client's `EventIn` (the API, a phone's offline outbox) is parsed into it
//! once; both are admitted and written by the same path, so forms and API
//! never disagree.
//!
//! Here the typed event and what applying it reports; `refused` says why an
//! event is refused, `ingest` parses a batch and admits it to the writer,
//! `single` applies events one by one and records a page's events, `bulk`
//! applies many requests' lesson events at once.

mod bulk;
mod ingest;
mod refused;
#[cfg(test)]
mod same_rule;
mod shape;
mod single;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::{ActiveEnum, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::content::CourseInfo;
use super::grading;
use crate::entities::enrollment;
use crate::entities::learning_event::EventKind;
use crate::error::AppResult;

pub(crate) use bulk::{Part, apply_bulk};
pub use ingest::{Recorder, ingest, served_proof};
pub use refused::Refused;

pub(crate) use single::apply;
pub use single::{page_view, quiz_event, record, submit_quiz};

/// An event as a client sends it.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
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
    /// The learner the record was made by (a phone's outbox keeps it with
    /// each record): one that is not the signed-in learner is refused.
    #[serde(default)]
    pub learner: Option<i64>,
    /// For `lesson_finished`: the proof, written into the lesson page the
    /// server gave her, that it served her the lesson (see `served_proof`).
    /// Without it the lesson counts as finished only after a page view the
    /// server recorded.
    #[serde(default)]
    pub served: Option<String>,
}

/// The source of the page views the server records itself.
const PAGE_VIEW: &str = "web";

#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Rejected {
    pub id: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Default, utoipa::ToSchema)]
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

/// A learner's event, typed and checked against the course: what the
/// writer applies. Built by a page from what it holds (`Event::lesson_finished`,
/// `Event::quiz_submitted`), or parsed once from a client's `EventIn`.
#[derive(Debug)]
pub struct Event {
    pub(crate) id: Uuid,
    pub(crate) course: Arc<CourseInfo>,
    /// The lesson as sent; for a lesson event, one of the course's.
    pub(crate) lesson: Option<String>,
    pub(crate) at: DateTime<Utc>,
    pub(crate) act: Act,
    /// The payload as the log stores it.
    pub(crate) payload: serde_json::Value,
}

/// What the event says, by kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Act {
    /// A lesson opened, with the seconds spent reading (at most an hour).
    LessonOpened { seconds: i32 },
    /// A lesson finished, with the proof that the server served its page to
    /// her, if the client has it (see `served_proof`).
    LessonFinished { served: Option<String> },
    /// An answer given along the way: stored for the record only.
    AnswerGiven,
    /// A quiz submitted (the event's id is the attempt's).
    QuizSubmitted {
        quiz: String,
        answers: BTreeMap<String, Vec<String>>,
    },
}

impl Event {
    pub fn kind(&self) -> LearnerKind {
        match self.act {
            Act::LessonOpened { .. } => LearnerKind::LessonOpened,
            Act::LessonFinished { .. } => LearnerKind::LessonFinished,
            Act::AnswerGiven => LearnerKind::AnswerGiven,
            Act::QuizSubmitted { .. } => LearnerKind::QuizSubmitted,
        }
    }

    /// The lesson of a lesson event (checked to be the course's).
    pub(crate) fn lesson_slug(&self) -> &str {
        self.lesson.as_deref().unwrap_or_default()
    }

    /// The lesson-progress step of a lesson event.
    pub(crate) fn step(&self) -> Option<super::progress::Step> {
        match self.act {
            Act::LessonOpened { seconds } => Some(super::progress::Step::Opened { seconds }),
            Act::LessonFinished { .. } => Some(super::progress::Step::Finished),
            Act::AnswerGiven | Act::QuizSubmitted { .. } => None,
        }
    }

    /// `lesson` of `course` finished now, as the lesson page's form says,
    /// with the page's proof that it was served.
    pub fn lesson_finished(
        course: Arc<CourseInfo>,
        lesson: &str,
        served: Option<String>,
    ) -> Result<Event, Refused> {
        if course.lesson(lesson).is_none() {
            return Err(not_a_lesson(lesson, &course.course.slug));
        }
        Ok(Event {
            id: Uuid::new_v4(),
            course,
            lesson: Some(lesson.to_string()),
            at: Utc::now(),
            act: Act::LessonFinished { served },
            payload: serde_json::json!({}),
        })
    }

    /// `lesson` of `course` opened now, as the server saw it serve the page.
    pub(crate) fn page_view(course: Arc<CourseInfo>, lesson: &str, at: DateTime<Utc>) -> Event {
        Event {
            id: Uuid::new_v4(),
            course,
            lesson: Some(lesson.to_string()),
            at,
            act: Act::LessonOpened { seconds: 0 },
            payload: serde_json::json!({}),
        }
    }

    /// Answers to `quiz` of `course` submitted now as attempt `attempt`.
    pub fn quiz_submitted(
        course: Arc<CourseInfo>,
        quiz: &str,
        answers: BTreeMap<String, Vec<String>>,
        attempt: Uuid,
    ) -> Result<Event, Refused> {
        if course.quiz(quiz).is_none() {
            return Err(not_a_quiz(quiz, &course.course.slug));
        }
        let payload = serde_json::json!({"quiz": quiz, "answers": answers});
        let kind = LearnerKind::QuizSubmitted;
        shape::check_shape(kind, Some(&course.course.slug), None, &payload)?;
        Ok(Event {
            id: attempt,
            course,
            lesson: None,
            at: Utc::now(),
            act: Act::QuizSubmitted {
                quiz: quiz.to_string(),
                answers,
            },
            payload,
        })
    }
}

fn not_a_lesson(lesson: &str, course: &str) -> Refused {
    Refused::not_found(
        "lesson",
        format!("{lesson:?} is not a lesson of {course:?}"),
    )
}

fn not_a_quiz(quiz: &str, course: &str) -> Refused {
    Refused::not_found(
        "payload.quiz",
        format!("{quiz:?} is not a quiz of {course:?}"),
    )
}

/// The most events a batch may hold (the API answers 413 beyond).
pub const MAX_BATCH: usize = 500;

/// What applying one request's events gave: accepted, duplicates, the
/// graded quiz attempts by event id, and the events refused by the rules of
/// pre- and post-tests (see `gate`), which store nothing; and, for events
/// refused before the writer, why.
#[derive(Debug, Default)]
pub struct Applied {
    pub accepted: usize,
    pub duplicates: usize,
    pub graded: BTreeMap<String, grading::Graded>,
    pub refused: Vec<(String, Refused)>,
}

impl From<Applied> for Report {
    fn from(a: Applied) -> Report {
        Report {
            accepted: a.accepted,
            duplicates: a.duplicates,
            graded: a.graded,
            rejected: a
                .refused
                .into_iter()
                .map(|(id, r)| Rejected {
                    id,
                    reason: r.reason(),
                })
                .collect(),
        }
    }
}

/// The reading time a `lesson_opened` carries, bounded to an hour.
fn opened_seconds(payload: &serde_json::Value) -> i32 {
    payload
        .get("seconds")
        .and_then(|s| s.as_i64())
        .unwrap_or(0)
        .clamp(0, 3600) as i32
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
