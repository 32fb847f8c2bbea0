//! A graded quiz attempt.

use sea_orm::entity::prelude::*;
use serde::Serialize;

use crate::courses::QuizKind;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "quiz_attempt")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub attempt_key: Uuid,
    pub user_id: i64,
    pub course_slug: String,
    pub course_version: i32,
    pub quiz_slug: String,
    pub kind: QuizKind,
    pub answers_json: String,
    pub result_json: String,
    pub score: i32,
    pub max_score: i32,
    pub passed: bool,
    pub submitted_at: DateTimeUtc,
    /// What ordered the choices she saw (none before shuffling existed).
    pub choice_seed: Option<i64>,
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
