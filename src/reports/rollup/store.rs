//! Writing the rollup: a township's cells (every cut for the township, the
//! `all` cut of each of its villages), the re-sum of every ancestor from its
//! children's cells, and the refresh state.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, Value};

use super::tally::Cells;
use super::{ROOT, all, range, t};
use crate::areas::AreaCode;
use crate::error::AppResult;
use crate::reports::metric::{Cut, Metric};
use crate::reports::stmt;

fn parent_of(code: &str) -> String {
    match AreaCode::parse(code) {
        Ok(c) => c
            .parent()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| ROOT.to_string()),
        Err(_) => "-".into(),
    }
}

fn level_of(code: &str) -> &'static str {
    if code == ROOT {
        return "all";
    }
    AreaCode::parse(code)
        .map(|c| c.level().as_str())
        .unwrap_or("village")
}

/// Writes a township's cells: every cut for the township itself, and the
/// `all` cut of each of its villages (the township's drill-down). A village's
/// own dashboard is computed live: a village is small, and keeping every cut
/// of every village would make the rollup as large as the data it sums.
pub(super) async fn write_township(
    db: &impl ConnectionTrait,
    township: &str,
    cells: Cells,
) -> AppResult<usize> {
    let backend = db.get_database_backend();
    let prefix = &township[..9];
    // The township's row and its villages' rows: one index range.
    db.execute_raw(stmt(
        backend,
        "DELETE FROM report_cell WHERE area_code >= ? AND area_code < ?",
        range(prefix),
    ))
    .await?;
    let mut rows: BTreeMap<(String, Cut, String, String, Metric), i64> = BTreeMap::new();
    for (k, v) in cells {
        if k.cut == Cut::All {
            *rows
                .entry((
                    k.village.clone(),
                    k.cut,
                    k.cut_value.clone(),
                    k.month.clone(),
                    k.metric,
                ))
                .or_insert(0) += v;
        }
        *rows
            .entry((township.to_string(), k.cut, k.cut_value, k.month, k.metric))
            .or_insert(0) += v;
    }
    let now = Utc::now();
    let n = rows.len();
    let rows: Vec<_> = rows.into_iter().collect();
    const ROWS: usize = 1000;
    for chunk in rows.chunks(ROWS) {
        let one = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
        let sql = format!(
            "INSERT INTO report_cell (area_code, parent_code, level, cut_kind, cut_value, month, metric, value, created_at, updated_at) VALUES {}",
            vec![one; chunk.len()].join(", ")
        );
        let mut v: Vec<Value> = Vec::with_capacity(chunk.len() * 10);
        for ((area, kind, value_key, month, metric), value) in chunk {
            v.push(area.clone().into());
            v.push(parent_of(area).into());
            v.push(level_of(area).into());
            v.push(kind.key().into());
            v.push(value_key.clone().into());
            v.push(month.clone().into());
            v.push(metric.key().into());
            v.push((*value).into());
            v.push(now.into());
            v.push(now.into());
        }
        db.execute_raw(stmt(backend, &sql, v)).await?;
    }
    Ok(n)
}

/// Re-sums one area's cells from its children's.
pub(super) async fn resum(db: &impl ConnectionTrait, code: &str) -> AppResult<()> {
    let backend = db.get_database_backend();
    let now = Utc::now();
    db.execute_raw(stmt(
        backend,
        "DELETE FROM report_cell WHERE area_code = ?",
        vec![code.into()],
    ))
    .await?;
    db.execute_raw(stmt(
        backend,
        "INSERT INTO report_cell (area_code, parent_code, level, cut_kind, cut_value, month, metric, value, created_at, updated_at) \
         SELECT ?, ?, ?, cut_kind, cut_value, month, metric, SUM(value), ?, ? \
         FROM report_cell WHERE parent_code = ? AND area_code <> ? \
         GROUP BY cut_kind, cut_value, month, metric",
        vec![
            code.into(),
            parent_of(code).into(),
            level_of(code).into(),
            now.into(),
            now.into(),
            code.into(),
            code.into(),
        ],
    ))
    .await?;
    Ok(())
}

/// Every ancestor of these townships above them, deepest level first.
pub(super) fn ancestors(townships: &BTreeSet<String>) -> Vec<String> {
    let mut by_level: BTreeMap<usize, BTreeSet<String>> = BTreeMap::new();
    for t in townships {
        let mut code = t.clone();
        loop {
            let p = parent_of(&code);
            if p == "-" {
                break;
            }
            let depth = match p.as_str() {
                ROOT => 0,
                other => AreaCode::parse(other)
                    .map(|c| c.level().digits())
                    .unwrap_or(0),
            };
            by_level.entry(depth).or_default().insert(p.clone());
            if p == ROOT {
                break;
            }
            code = p;
        }
    }
    by_level
        .into_iter()
        .rev()
        .flat_map(|(_, s)| s.into_iter())
        .collect()
}

pub(super) async fn mark(db: &DatabaseConnection, at: DateTime<Utc>, full: bool) -> AppResult<()> {
    let backend = db.get_database_backend();
    let now = Utc::now();
    let have = all(db, "SELECT id FROM report_state", vec![]).await?;
    if have.is_empty() {
        db.execute_raw(stmt(
            backend,
            "INSERT INTO report_state (refreshed_at, full_at, runs, created_at, updated_at) VALUES (?, ?, 1, ?, ?)",
            vec![at.into(), at.into(), now.into(), now.into()],
        ))
        .await?;
    } else if full {
        db.execute_raw(stmt(
            backend,
            "UPDATE report_state SET refreshed_at = ?, full_at = ?, runs = runs + 1, updated_at = ?",
            vec![at.into(), at.into(), now.into()],
        ))
        .await?;
    } else {
        db.execute_raw(stmt(
            backend,
            "UPDATE report_state SET refreshed_at = ?, runs = runs + 1, updated_at = ?",
            vec![at.into(), now.into()],
        ))
        .await?;
    }
    Ok(())
}

/// When the rollup was last refreshed and last rebuilt in full.
pub async fn state(db: &impl ConnectionTrait) -> AppResult<Option<(DateTime<Utc>, DateTime<Utc>)>> {
    let rows = all(db, "SELECT refreshed_at, full_at FROM report_state", vec![]).await?;
    match rows.first() {
        Some(r) => Ok(Some((t(r, 0)?, t(r, 1)?))),
        None => Ok(None),
    }
}
