//! The report rollup: additive figures per area, cut and month, kept by the
//! refresh job (`fuzhi::reports::rollup`), so that a dashboard reads a few
//! thousand rows of its own area instead of scanning the registry. Also the
//! `updated_at` indexes the job uses to find what changed since its last run.

use crate::cols::*;
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000003_report_rollup"
    }
}

/// `(table, column)` pairs indexed for the refresh job's change scan.
const CHANGE_INDEXES: &[(&str, &str)] = &[
    ("household", "updated_at"),
    ("member", "updated_at"),
    ("app_user", "updated_at"),
    ("enrollment", "updated_at"),
    ("skill_evidence", "created_at"),
    ("follow_up", "updated_at"),
    ("income_record", "updated_at"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One additive number: `metric` summed over the people or households of
        // `area_code` that fall in (`cut_kind`, `cut_value`) and in `month`
        // ("YYYY-MM"; empty for figures that are not dated).
        m.create_table(
            table("report_cell")
                .col(code("area_code", 12))
                .col(code("parent_code", 12))
                .col(code("level", 16))
                .col(code("cut_kind", 16))
                .col(code("cut_value", 48))
                .col(code("month", 7))
                .col(code("metric", 24))
                .col(big_default("value", 0))
                .to_owned(),
        )
        .await?;
        m.create_index(unique(
            "report_cell",
            &["area_code", "cut_kind", "cut_value", "month", "metric"],
        ))
        .await?;
        m.create_index(index("report_cell", &["parent_code", "cut_kind"]))
            .await?;

        // When the rollup was last refreshed (one row).
        m.create_table(
            table("report_state")
                .col(ts("refreshed_at"))
                .col(ts("full_at"))
                .to_owned(),
        )
        .await?;

        for (t, c) in CHANGE_INDEXES {
            m.create_index(index(t, &[c])).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (t, c) in CHANGE_INDEXES {
            m.drop_index(
                Index::drop()
                    .name(format!("ix_{t}_{c}"))
                    .table(*t)
                    .to_owned(),
            )
            .await?;
        }
        m.drop_table(Table::drop().table("report_state").to_owned())
            .await?;
        m.drop_table(Table::drop().table("report_cell").to_owned())
            .await
    }
}
