//! Sign-in throttling kept in the database, so that a lockout reached through
//! one `serve` process holds on every other one sharing the database: one row
//! a key (`la:login|address`, `a:address`, `l:login`), times in Unix seconds.
//! Rows quiet for a day are deleted (`last_failure` is indexed for it).
//!
//! Also `leader_lease`: the lease by which one `serve` process leads a job
//! on MariaDB/MySQL (a replicated row, so that it holds across the nodes of
//! a Galera cluster, where `GET_LOCK` does not), and a run counter on `report_state`: how many times the rollup job has
//! run, readable from outside the process (several processes share one
//! leader; the count shows the job ran once per interval, not once per
//! process).

use crate::cols::*;
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261203_000020_signin_throttle"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            bare_table("signin_throttle")
                .col(
                    ColumnDef::new("throttle_key")
                        .string_len(128)
                        .not_null()
                        .primary_key(),
                )
                .col(big_default("window_start", 0))
                .col(int_default("failures", 0))
                .col(int_default("lockouts", 0))
                .col(big_default("locked_until", 0))
                .col(big_default("last_failure", 0))
                .to_owned(),
        )
        .await?;
        m.create_index(index("signin_throttle", &["last_failure"]))
            .await?;
        m.create_table(
            bare_table("leader_lease")
                .col(
                    ColumnDef::new("name")
                        .string_len(64)
                        .not_null()
                        .primary_key(),
                )
                .col(code("holder", 128))
                .col(ColumnDef::new("expires_at").date_time().not_null())
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("report_state")
                .add_column(big_default("runs", 0))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("report_state")
                .drop_column("runs")
                .to_owned(),
        )
        .await?;
        m.drop_table(Table::drop().table("leader_lease").to_owned())
            .await?;
        m.drop_table(Table::drop().table("signin_throttle").to_owned())
            .await
    }
}
