//! Small builders so that each table reads as a list of its columns.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

/// A table with `id` (big auto-increment key), `created_at` and `updated_at`.
pub fn table(name: &'static str) -> TableCreateStatement {
    let mut t = Table::create();
    t.table(name)
        .col(
            ColumnDef::new("id")
                .big_integer()
                .not_null()
                .auto_increment()
                .primary_key(),
        )
        .col(ts("created_at"))
        .col(ts("updated_at"));
    t
}

/// A table with no surrogate key and no timestamps (the caller adds a key).
pub fn bare_table(name: &'static str) -> TableCreateStatement {
    let mut t = Table::create();
    t.table(name);
    t
}

pub fn ts(name: &'static str) -> ColumnDef {
    ColumnDef::new(name)
        .timestamp_with_time_zone()
        .not_null()
        .take()
}
pub fn ts_null(name: &'static str) -> ColumnDef {
    ColumnDef::new(name)
        .timestamp_with_time_zone()
        .null()
        .take()
}
pub fn code(name: &'static str, len: u32) -> ColumnDef {
    ColumnDef::new(name).string_len(len).not_null().take()
}
pub fn code_null(name: &'static str, len: u32) -> ColumnDef {
    ColumnDef::new(name).string_len(len).null().take()
}
pub fn text(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).text().not_null().take()
}
pub fn text_null(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).text().null().take()
}
pub fn int(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).integer().not_null().take()
}
pub fn int_default(name: &'static str, v: i32) -> ColumnDef {
    ColumnDef::new(name).integer().not_null().default(v).take()
}
pub fn int_null(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).integer().null().take()
}
pub fn big(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).big_integer().not_null().take()
}
pub fn big_default(name: &'static str, v: i64) -> ColumnDef {
    ColumnDef::new(name)
        .big_integer()
        .not_null()
        .default(v)
        .take()
}
pub fn big_null(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).big_integer().null().take()
}
pub fn boolean(name: &'static str, default: bool) -> ColumnDef {
    ColumnDef::new(name)
        .boolean()
        .not_null()
        .default(default)
        .take()
}
pub fn boolean_null(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).boolean().null().take()
}
/// Binary content that may be larger than MySQL's 64 KB `BLOB`.
pub fn bytes(name: &'static str, backend: DatabaseBackend) -> ColumnDef {
    let mut c = ColumnDef::new(name);
    match backend {
        DatabaseBackend::MySql => c.custom("LONGBLOB"),
        _ => c.blob(),
    };
    c.not_null().take()
}

/// A foreign key from `table.column` to `target.id`.
pub fn fk(
    table: &'static str,
    column: &'static str,
    target: &'static str,
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_{column}"))
        .from(table, column)
        .to(target, "id")
        .on_delete(on_delete)
        .take()
}

pub fn index(table: &'static str, cols: &[&'static str]) -> IndexCreateStatement {
    let mut i = Index::create();
    i.name(format!("ix_{}_{}", table, cols.join("_")))
        .table(table);
    for c in cols {
        i.col(*c);
    }
    i
}

pub fn unique(table: &'static str, cols: &[&'static str]) -> IndexCreateStatement {
    let mut i = index(table, cols);
    i.name(format!("ux_{}_{}", table, cols.join("_"))).unique();
    i
}
