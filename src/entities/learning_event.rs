//! An append-only learning event with a client-made id.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// What happened. Stored as the snake_case name (`lesson_opened`, …).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::N(32))",
    rename_all = "snake_case"
)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A learner opened a lesson (payload: `seconds` spent, optional).
    LessonOpened,
    /// A learner finished reading a lesson.
    LessonFinished,
    /// A learner answered one question (stored, not graded).
    AnswerGiven,
    /// A learner submitted a quiz (payload: `quiz`, `answers`).
    QuizSubmitted,
    /// A trainer signed off a practical task.
    TaskSigned,
    /// A trainer ticked a learner present at a class.
    ClassAttended,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "learning_event")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: i64,
    pub kind: EventKind,
    pub course_slug: Option<String>,
    pub lesson_slug: Option<String>,
    pub payload: String,
    pub occurred_at: DateTimeUtc,
    pub received_at: DateTimeUtc,
    pub source: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
