//! A household member. The national ID is never stored: only its HMAC and last four characters.

use sea_orm::entity::prelude::*;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "member")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub household_id: i64,
    pub area_code: String,
    pub name: String,
    pub sex: String,
    pub birth_year: i32,
    pub ethnicity: Option<String>,
    pub relation: String,
    pub education: Option<String>,
    pub school_status: Option<String>,
    /// Sensitive: left out of a serialized row when cleared.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health: Option<String>,
    pub labour: Option<String>,
    pub migrant_months: Option<i32>,
    #[serde(skip_serializing)]
    pub id_hmac: Option<String>,
    pub id_last4: Option<String>,
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
