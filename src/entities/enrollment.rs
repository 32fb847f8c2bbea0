//! A learner's enrollment in a course (by stable slug).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// Where a learner stands in a course. Stored as its lower-case name.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum EnrollmentState {
    /// Learning (or resumed).
    #[sea_orm(string_value = "enrolled")]
    Enrolled,
    /// Paused by her or by staff; can be resumed.
    #[sea_orm(string_value = "paused")]
    Paused,
    /// Passed; earned, never set by hand.
    #[sea_orm(string_value = "completed")]
    Completed,
    /// Withdrawn by her or by staff; enrolling again resumes it.
    #[sea_orm(string_value = "withdrawn")]
    Withdrawn,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "enrollment")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    pub course_slug: String,
    pub cohort: Option<String>,
    pub state: EnrollmentState,
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
