//! A follow-up survey of a household or member after training.

use sea_orm::entity::prelude::*;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "follow_up")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub household_id: Option<i64>,
    pub member_id: Option<i64>,
    pub area_code: String,
    pub surveyed_at: DateTimeUtc,
    pub months_after: i32,
    pub shop_active: Option<bool>,
    pub orders_30d: Option<i32>,
    pub sales_30d_fen: Option<i64>,
    pub work_status: Option<String>,
    pub notes: Option<String>,
    pub surveyor_id: Option<i64>,
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
