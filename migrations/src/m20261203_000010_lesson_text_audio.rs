//! A lesson's narration belongs to its language version: each `lesson_text`
//! carries its own `audio` (a `media/…` path), filled at import from that
//! language file's front matter. `lesson.audio` stays: it is the default
//! language's narration, which versions imported before this step only have
//! there (the lesson page falls back to it for the default language's text).

use crate::cols::*;
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261203_000010_lesson_text_audio"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("lesson_text")
                .add_column(code_null("audio", 200))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("lesson_text")
                .drop_column("audio")
                .to_owned(),
        )
        .await
    }
}
