//! A learner's state in one lesson, derived from events.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// How far a learner got in a lesson. Stored as its lower-case name.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum LessonState {
    /// Opened, not finished.
    #[sea_orm(string_value = "opened")]
    Opened,
    /// Finished; the first finish is kept.
    #[sea_orm(string_value = "finished")]
    Finished,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "lesson_progress")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    pub course_slug: String,
    pub lesson_slug: String,
    pub state: LessonState,
    pub first_opened_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
    pub seconds: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

#[async_trait::async_trait]
impl ActiveModelBehavior for ActiveModel {
    async fn before_save<C: ConnectionTrait>(
        mut self,
        _db: &C,
        insert: bool,
    ) -> Result<Self, DbErr> {
        super::stamp(&mut self.created_at, &mut self.updated_at, insert);
        Ok(self)
    }
}
