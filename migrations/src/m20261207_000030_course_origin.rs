//! Where a published course version came from: `startup` (the course
//! folder `serve` imports when it starts), `import` (`fuzhi courses
//! import`) or `authoring` (a publish in the browser). Versions stored
//! before this step have none. `serve` publishes its folder on start only
//! over a version that came from its folder too, so that a restart never
//! moves a course back past a version published since by other means.

use crate::cols::*;
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000030_course_origin"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("course")
                .add_column(code_null("origin", 16))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("course")
                .drop_column("origin")
                .to_owned(),
        )
        .await
    }
}
