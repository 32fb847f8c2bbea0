//! Videos in lessons. A video's bytes live in the file store under the data
//! folder, named by their SHA-256 (`course_media.file_key`; `content` stays
//! empty and `size` says how large the file is), so no database row holds a
//! video. `video_job` is a phone recording being made into the lesson's
//! 360p video, its sound alone and its poster: who sent it for which
//! lesson, how far the work is (per mille) and, when it failed, why.

use crate::cols::*;
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261210_000060_video"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("course_media")
                .add_column(code_null("file_key", 64))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("course_media")
                .add_column(big_default("size", 0))
                .to_owned(),
        )
        .await?;
        m.create_table(
            table("video_job")
                .col(code("course_slug", 64))
                .col(code("lesson", 64))
                .col(big("user_id"))
                .col(text("alt"))
                .col(code("state", 16))
                .col(int_default("progress", 0))
                .col(code_null("error", 64))
                .col(text("source"))
                .col(code_null("media_path", 200))
                .to_owned(),
        )
        .await?;
        m.create_index(index("video_job", &["course_slug", "lesson"]))
            .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("video_job").to_owned())
            .await?;
        m.alter_table(
            Table::alter()
                .table("course_media")
                .drop_column("size")
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("course_media")
                .drop_column("file_key")
                .to_owned(),
        )
        .await
    }
}
