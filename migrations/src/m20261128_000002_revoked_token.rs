//! Revoked session tokens ("sign out" of one device), kept until they expire.

use crate::cols::*;
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261128_000002_revoked_token"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            bare_table("revoked_token")
                .col(code("jti", 40).primary_key())
                .col(ts("expires_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("revoked_token", &["expires_at"]))
            .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("revoked_token").to_owned())
            .await
    }
}
