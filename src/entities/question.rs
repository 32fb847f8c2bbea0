//! A quiz question; the answer key never leaves the server before submission.

use sea_orm::entity::prelude::*;
use serde::Serialize;

pub use crate::courses::QuestionKind;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "question")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub quiz_id: i64,
    pub qid: String,
    pub position: i32,
    pub kind: QuestionKind,
    pub competence: String,
    pub points: i32,
    pub prompt_json: String,
    pub choices_json: String,
    pub answer_json: String,
    pub tolerance: Option<String>,
    pub explain_json: String,
    /// The prompt's audio per language (`{"zh-CN": "media/…"}`); none when empty.
    pub audio_json: Option<String>,
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
