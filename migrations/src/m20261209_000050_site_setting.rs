//! What the site says of who runs it: the organiser's name, address and
//! contact, the ICP filing number (`site_setting`, one row a setting, set by
//! an admin), and the organiser's seal image (`site_file`). Nothing is
//! stored until an admin sets it, so nothing untrue is shown.

use crate::cols::*;
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261209_000050_site_setting"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let backend = m.get_database_backend();
        m.create_table(
            bare_table("site_setting")
                .col(
                    ColumnDef::new("name")
                        .string_len(64)
                        .not_null()
                        .primary_key(),
                )
                .col(text("value"))
                .col(ts("updated_at"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            bare_table("site_file")
                .col(
                    ColumnDef::new("name")
                        .string_len(64)
                        .not_null()
                        .primary_key(),
                )
                .col(code("mime", 64))
                .col(code("etag", 64))
                .col(bytes("content", backend))
                .col(ts("updated_at"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("site_file").to_owned())
            .await?;
        m.drop_table(Table::drop().table("site_setting").to_owned())
            .await
    }
}
