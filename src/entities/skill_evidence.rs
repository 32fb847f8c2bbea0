//! Evidence of a learner's level or score in a competence.

use sea_orm::entity::prelude::*;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "skill_evidence")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    pub competence: String,
    pub course_slug: Option<String>,
    pub source: String,
    pub score: Option<i32>,
    pub level: Option<i32>,
    pub attempt_id: Option<i64>,
    pub signoff_id: Option<i64>,
    pub area_code: Option<String>,
    pub at: DateTimeUtc,
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
