//! The seed that ordered an attempt's choices: a learner sees each question's
//! choices in an order shuffled for her and that attempt, and a review of the
//! attempt must show them in the same order. Attempts made before have none
//! (they were shown in the course file's order).

use crate::cols::*;
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261203_000005_quiz_attempt_seed"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("quiz_attempt")
                .add_column(big_null("choice_seed"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("quiz_attempt")
                .drop_column("choice_seed")
                .to_owned(),
        )
        .await
    }
}
