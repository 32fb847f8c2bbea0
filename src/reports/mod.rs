//! Reports for officials: the dashboard's figures for an area and a period
//! (each defined, and how it is counted, in `figure`), cut by child area,
//! poverty cause, household status, sex and age band, with small-cell
//! suppression, charts and exports.
//!
//! Owns the `report_cell` rollup (kept by `rollup`, read by `figures`), its
//! metrics (`metric`) and the registry of figures (`figure`). Never
//! decides who may see an area (that is `policy`) and never writes to the
//! registry or the learning tables.

pub mod digest;
pub mod export;
pub mod figure;
pub mod figures;
pub mod metric;
pub mod period;
pub mod rollup;
pub mod skills;
pub mod suppress;
pub mod svg;
pub mod tests_review;

use sea_orm::{DatabaseBackend, Statement, Value};

/// A statement from SQL written with `?` placeholders, numbered for PostgreSQL.
pub(crate) fn stmt(backend: DatabaseBackend, sql: &str, values: Vec<Value>) -> Statement {
    let sql = if backend == DatabaseBackend::Postgres {
        let mut out = String::with_capacity(sql.len() + 16);
        let mut n = 0;
        for ch in sql.chars() {
            if ch == '?' {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
            } else {
                out.push(ch);
            }
        }
        out
    } else {
        sql.to_string()
    };
    Statement::from_sql_and_values(backend, sql, values)
}

/// `?, ?, ?` for `n` values.
pub(crate) fn marks(n: usize) -> String {
    vec!["?"; n].join(", ")
}
