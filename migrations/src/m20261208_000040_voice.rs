//! What is heard besides the narration: a lesson text's dialect tracks
//! (`lesson_text.tracks_json`: the front matter's `tracks`, as JSON) and a
//! question's prompt audio per language (`question.audio_json`). A choice's
//! audio rides in `question.choices_json` with its text. Both columns are
//! empty for versions stored before.

use crate::cols::*;
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261208_000040_voice"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("lesson_text")
                .add_column(text_null("tracks_json"))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("question")
                .add_column(text_null("audio_json"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("question")
                .drop_column("audio_json")
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("lesson_text")
                .drop_column("tracks_json")
                .to_owned(),
        )
        .await
    }
}
