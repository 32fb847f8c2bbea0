//! A phone recording being made into a lesson video (see
//! [`crate::catalog::videos`]).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// Where a video job stands. Stored as its lower-case name.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum VideoState {
    /// Waiting to be made.
    #[sea_orm(string_value = "queued")]
    Queued,
    /// Being made.
    #[sea_orm(string_value = "running")]
    Running,
    /// Made: `media_path` names the video.
    #[sea_orm(string_value = "done")]
    Done,
    /// Could not be made: `error` says why.
    #[sea_orm(string_value = "failed")]
    Failed,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "video_job")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub course_slug: String,
    pub lesson: String,
    pub user_id: i64,
    /// What the video shows, as the trainer said it.
    pub alt: String,
    /// `queued`, `running`, `done` or `failed`.
    pub state: VideoState,
    /// How far the work is, per mille.
    pub progress: i32,
    /// Why it failed: a locale key.
    pub error: Option<String>,
    /// The recording as sent, in the data folder, until it is made.
    pub source: String,
    /// The video's `media/…` path once made.
    pub media_path: Option<String>,
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
