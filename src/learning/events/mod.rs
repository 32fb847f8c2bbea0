//! The learning event log. A batch is applied in one transaction: unknown ids
//! are stored and applied, known ids are reported as duplicates and change
//! nothing, invalid items are rejected one by one with a reason. Web pages
//! record through the same `record` function, so forms and API never disagree.
//!
//! Here the typed event and what applying it reports; `ingest` checks a batch
//! and hands it to the writer, `single` applies events one by one and records
//! a page's events, `bulk` applies many requests' lesson events at once.

mod bulk;
mod ingest;
mod single;

use std::collections::BTreeMap;

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
pub use ingest::{ingest, served_proof};
pub(crate) use single::apply;
pub use single::{page_view, record, submit_quiz};

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

/// What applying one request's events gave: accepted, duplicates, the
/// graded quiz attempts by event id, and the attempts refused by the rules
/// of pre- and post-tests (see `gate`), which store nothing.
pub type Applied = (
    usize,
    usize,
    BTreeMap<String, grading::Graded>,
    Vec<Rejected>,
);

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
