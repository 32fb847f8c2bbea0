//! A learner's enrollment in a course (by stable slug).

use sea_orm::entity::prelude::*;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "enrollment")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    pub course_slug: String,
    pub cohort: Option<String>,
    pub state: String,
    pub area_code: Option<String>,
    pub household_id: Option<i64>,
    pub pre_done: bool,
    pub enrolled_at: DateTimeUtc,
    pub completed_at: Option<DateTimeUtc>,
    pub enrolled_by: Option<i64>,
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
