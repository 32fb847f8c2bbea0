//! The `report_cell` rollup and the job that keeps it.
//!
//! A township's cells are computed from the registry and the learning tables
//! with a fixed number of queries (never one per person, `load`), then
//! counted by a pure function (`tally`): every cut for the township, and the
//! `all` cut of each of its villages for the drill-down. Every ancestor
//! (county, prefecture, province, the whole country) is then re-summed from
//! its children's cells (`store`). A dashboard reads the cells of one area and
//! of its children: a few thousand rows at any level. A village's own
//! dashboard is computed live from its records (a village is small).
//!
//! `job::run_once` refreshes only the townships with a village touched since
//! the last run (found by indexed `updated_at` scans and the audit log's
//! deletions); once a day, and on the first run, it rebuilds everything, so
//! that what the change scan cannot see (a household moved to another
//! village, a learner unlinked) and the age bands of a new year are put right.
//! Rebuilding a township is idempotent, so overlapping windows cost time,
//! never correctness.

mod job;
mod load;
mod store;
mod tally;

use chrono::{Datelike, Utc};
use sea_orm::{ConnectionTrait, QueryResult, Value};

use super::metric::{Cut, Metric};
use super::stmt;
use crate::areas::{AreaCode, Level};
use crate::error::AppResult;

pub use job::{LEADER, Refreshed, rebuild, refresh_villages, run_once, runs};
pub use store::state;
pub use tally::{AGE_BANDS, active, age_band, in_labour_force};

/// Code of the row that sums the whole country (the provinces' parent).
pub const ROOT: &str = "";

/// One cell of an area: a metric in one cut and month (`""` when undated).
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    pub cut: Cut,
    pub cut_value: String,
    pub month: String,
    pub metric: Metric,
    pub value: i64,
}

/// A village's cells, computed now (for its own dashboard).
pub async fn village_cells(db: &impl ConnectionTrait, village: &str) -> AppResult<Vec<Cell>> {
    if !is_village(village) {
        return Ok(vec![]);
    }
    let courses = load::course_competences(db).await?;
    let sources = load::sources(db, village).await?;
    let cells = tally::tally(&sources, &courses, Utc::now().year());
    Ok(cells
        .into_iter()
        .filter(|(k, _)| k.village == village)
        .map(|(k, value)| Cell {
            cut: k.cut,
            cut_value: k.cut_value,
            month: k.month,
            metric: k.metric,
            value,
        })
        .collect())
}

// ---- shared by the loaders, the store and the job ----------------------------

async fn all(
    db: &impl ConnectionTrait,
    sql: &str,
    values: Vec<Value>,
) -> AppResult<Vec<QueryResult>> {
    Ok(db
        .query_all_raw(stmt(db.get_database_backend(), sql, values))
        .await?)
}

fn s(r: &QueryResult, i: usize) -> Result<String, sea_orm::DbErr> {
    r.try_get_by_index::<String>(i)
}
fn os(r: &QueryResult, i: usize) -> Result<Option<String>, sea_orm::DbErr> {
    r.try_get_by_index::<Option<String>>(i)
}
fn t(r: &QueryResult, n: usize) -> Result<chrono::DateTime<Utc>, sea_orm::DbErr> {
    r.try_get_by_index::<chrono::DateTime<Utc>>(n)
}

/// `[lo, hi)` of the codes that start with `prefix`: an index range, where
/// `LIKE` would not use one on SQLite. The bound is the next digit string of
/// the same length (`530627102` → `530627103`), which sorts right under any
/// collation, unlike punctuation.
fn range(prefix: &str) -> Vec<Value> {
    vec![prefix.to_string().into(), next_code(prefix).into()]
}

/// The first digit string of the same length after `prefix`.
fn next_code(prefix: &str) -> String {
    let mut next: Vec<u8> = prefix.bytes().collect();
    let mut i = next.len();
    loop {
        if i == 0 {
            // All nines: nothing sorts after it among digit codes.
            next = b"A".to_vec();
            break;
        }
        i -= 1;
        if next[i] == b'9' {
            next[i] = b'0';
        } else {
            next[i] += 1;
            break;
        }
    }
    String::from_utf8_lossy(&next).into_owned()
}

fn is_village(code: &str) -> bool {
    AreaCode::parse(code).is_ok_and(|c| c.level() == Level::Village)
}

/// The township (`ttttttttt000`) of a village.
fn township_of(village: &str) -> String {
    format!("{:0<12}", &village[..9])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_is_an_index_range() {
        assert_eq!(next_code("530627102"), "530627103");
        assert_eq!(next_code("530629"), "530630");
        assert_eq!(next_code("99"), "A");
        assert_eq!(township_of("530627102001"), "530627102000");
    }
}
