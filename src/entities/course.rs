//! One version of a course.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// Where a version of a course stands. Stored as its lower-case name.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum CourseStatus {
    /// Being written; seen by its author and staff who may view drafts.
    #[sea_orm(string_value = "draft")]
    Draft,
    /// The version learners take; at most one a slug.
    #[sea_orm(string_value = "published")]
    Published,
    /// Was published until a newer version was.
    #[sea_orm(string_value = "replaced")]
    Replaced,
    /// Withdrawn from learners; no version of the slug is published.
    #[sea_orm(string_value = "archived")]
    Archived,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "course")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub slug: String,
    pub version: i32,
    pub status: CourseStatus,
    pub category: String,
    pub level: i32,
    pub languages: String,
    pub title_json: String,
    pub summary_json: String,
    pub pass_mark: i32,
    pub hours_tenths: i32,
    pub competences: String,
    pub content_hash: Option<String>,
    pub source_course: Option<String>,
    pub source_tasks: Option<String>,
    pub author_id: Option<i64>,
    /// `startup`, `import` or `authoring` (see `catalog::store::Origin`);
    /// none for versions stored before it was kept.
    pub origin: Option<String>,
    pub published_at: Option<DateTimeUtc>,
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
