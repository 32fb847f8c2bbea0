//! A household's income for one year, in fen.

use sea_orm::entity::prelude::*;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "income_record")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub household_id: i64,
    pub year: i32,
    pub wage_fen: i64,
    pub business_fen: i64,
    pub transfer_fen: i64,
    pub property_fen: i64,
    pub costs_fen: i64,
    pub net_per_capita_fen: i64,
    pub verified_by: Option<i64>,
    pub verified_at: Option<DateTimeUtc>,
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

impl ActiveModel {
    /// A year's income known only by its net per-capita figure (the
    /// registry's import column), unverified.
    pub fn net_only(
        household_id: i64,
        year: i32,
        net_per_capita_fen: i64,
        now: DateTimeUtc,
    ) -> Self {
        use sea_orm::ActiveValue::Set;
        ActiveModel {
            household_id: Set(household_id),
            year: Set(year),
            wage_fen: Set(0),
            business_fen: Set(0),
            transfer_fen: Set(0),
            property_fen: Set(0),
            costs_fen: Set(0),
            net_per_capita_fen: Set(net_per_capita_fen),
            verified_by: Set(None),
            verified_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
    }
}
