//! What can end or change a session (a sign-out, a disabled account, a new
//! role or password), one row a change, so that every `serve` process sharing
//! the database drops what it holds in memory within a second. Rows older than
//! a day are pruned.

use crate::cols::*;
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_000004_session_change"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            bare_table("session_change")
                .col(
                    ColumnDef::new("id")
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(ColumnDef::new("user_id").big_integer().null())
                .col(code_null("jti", 40))
                .col(ts("at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("session_change", &["at"])).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("session_change").to_owned())
            .await
    }
}
