//! The refresh job: which townships to recompute (all of them once a day,
//! else those with a village changed since the last run), one township a
//! transaction, then the re-sum of their ancestors.

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, Duration, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, Value};

use super::store::{ancestors, mark, resum, state, write_township};
use super::{all, is_village, load, os, s, tally, township_of};
use crate::areas::{AreaCode, Level};
use crate::error::AppResult;

/// What a refresh did.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct Refreshed {
    pub full: bool,
    pub villages: usize,
    pub cells: usize,
}

/// Rebuilds the cells of the townships of these villages, and of all their
/// ancestors.
pub async fn refresh_villages(
    db: &DatabaseConnection,
    villages: &BTreeSet<String>,
) -> AppResult<Refreshed> {
    refresh(db, villages, false).await
}

/// Tables the rollup reads from the registry and the learning records.
const SOURCES: [&str; 8] = [
    "household",
    "household_cause",
    "member",
    "app_user",
    "enrollment",
    "skill_evidence",
    "follow_up",
    "income_record",
];

/// Refreshes PostgreSQL's planner statistics of these tables (a sample, not
/// a scan). After a bulk import the statistics can still describe nearly
/// empty tables until autovacuum comes round, and plans made from them scan
/// whole tables once per township. The other engines need nothing.
async fn analyze(db: &DatabaseConnection, tables: &[&str]) -> AppResult<()> {
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        db.execute_unprepared(&format!("ANALYZE {}", tables.join(", ")))
            .await?;
    }
    Ok(())
}

async fn refresh(
    db: &DatabaseConnection,
    villages: &BTreeSet<String>,
    full: bool,
) -> AppResult<Refreshed> {
    let courses = load::course_competences(db).await?;
    let year = Utc::now().year();
    let townships: BTreeSet<String> = villages
        .iter()
        .filter(|v| is_village(v))
        .map(|v| township_of(v))
        .collect();
    let mut out = Refreshed {
        villages: villages.len(),
        ..Default::default()
    };
    // One township a transaction: short writes, bounded memory.
    for t in &townships {
        let txn = crate::db::begin_write(db).await?;
        let sources = load::sources(&txn, &t[..9]).await?;
        let cells = tally::tally(&sources, &courses, year);
        out.cells += write_township(&txn, t, cells).await?;
        txn.commit().await?;
    }
    if full {
        // The township rows were just rewritten in bulk: fresh statistics
        // for the re-sums that read them by parent.
        analyze(db, &["report_cell"]).await?;
    }
    let txn = crate::db::begin_write(db).await?;
    for a in ancestors(&townships) {
        resum(&txn, &a).await?;
    }
    txn.commit().await?;
    Ok(out)
}

/// Rebuilds the whole rollup.
pub async fn rebuild(db: &DatabaseConnection) -> AppResult<Refreshed> {
    let started = Utc::now();
    let mut villages: BTreeSet<String> = BTreeSet::new();
    for r in all(
        db,
        "SELECT DISTINCT area_code FROM household \
         UNION SELECT DISTINCT area_code FROM app_user WHERE role = ? AND member_id IS NULL AND area_code IS NOT NULL \
         UNION SELECT DISTINCT area_code FROM report_cell WHERE level = ? OR level = ?",
        vec!["learner".into(), "village".into(), "township".into()],
    )
    .await?
    {
        match os(&r, 0)? {
            Some(c) if is_village(&c) => {
                villages.insert(c);
            }
            // A township in the rollup: refreshed too, so that one whose
            // households are all gone is emptied.
            Some(c) if AreaCode::parse(&c).is_ok_and(|a| a.level() == Level::Township) => {
                villages.insert(format!("{}001", &c[..9]));
            }
            _ => {}
        }
    }
    analyze(db, &SOURCES).await?;
    let mut out = refresh(db, &villages, true).await?;
    out.full = true;
    mark(db, started, true).await?;
    Ok(out)
}

/// Rows committed just before the previous run started may carry an earlier
/// time than its watermark; this margin takes them again.
const MARGIN_MINUTES: i64 = 10;

/// Villages with changes since `since`.
async fn changed_villages(
    db: &impl ConnectionTrait,
    since: DateTime<Utc>,
) -> AppResult<BTreeSet<String>> {
    let w: Value = since.into();
    let mut out = BTreeSet::new();
    let mut prefixes = BTreeSet::new();
    let queries: [(&str, usize); 6] = [
        (
            "SELECT DISTINCT area_code FROM household WHERE updated_at >= ?",
            1,
        ),
        (
            "SELECT DISTINCT area_code FROM member WHERE updated_at >= ?",
            1,
        ),
        (
            "SELECT DISTINCT area_code FROM follow_up WHERE updated_at >= ?",
            1,
        ),
        (
            "SELECT DISTINCT h.area_code FROM income_record r JOIN household h ON h.id = r.household_id WHERE r.updated_at >= ?",
            1,
        ),
        (
            "SELECT DISTINCT COALESCE(m.area_code, u.area_code) FROM app_user u LEFT JOIN member m ON m.id = u.member_id \
             WHERE u.role = 'learner' AND (u.updated_at >= ? \
             OR u.id IN (SELECT user_id FROM enrollment WHERE updated_at >= ?) \
             OR u.id IN (SELECT user_id FROM skill_evidence WHERE created_at >= ?))",
            3,
        ),
        (
            "SELECT DISTINCT area_code FROM change_event WHERE at >= ? AND action = 'delete' AND area_code IS NOT NULL",
            1,
        ),
    ];
    for (sql, n) in queries {
        for r in all(db, sql, vec![w.clone(); n]).await? {
            if let Some(c) = os(&r, 0)? {
                if is_village(&c) {
                    out.insert(c);
                } else if AreaCode::parse(&c).is_ok() {
                    prefixes.insert(c);
                }
            }
        }
    }
    // A deletion recorded against a larger area: every village of it we hold.
    for p in prefixes {
        let prefix = AreaCode::parse(&p)
            .map(|c| c.prefix().to_string())
            .unwrap_or(p);
        for r in all(
            db,
            "SELECT DISTINCT area_code FROM report_cell WHERE level = ? AND area_code LIKE ?",
            vec!["village".into(), format!("{prefix}%").into()],
        )
        .await?
        {
            out.insert(s(&r, 0)?);
        }
    }
    Ok(out)
}

/// One step of the refresh job: a full rebuild on the first run and once a
/// day, else only the villages that changed.
pub async fn run_once(db: &DatabaseConnection) -> AppResult<Refreshed> {
    let started = Utc::now();
    let Some((refreshed, full)) = state(db).await? else {
        return rebuild(db).await;
    };
    if full.date_naive() != started.date_naive() {
        return rebuild(db).await;
    }
    let villages = changed_villages(db, refreshed - Duration::minutes(MARGIN_MINUTES)).await?;
    let out = if villages.is_empty() {
        Refreshed::default()
    } else {
        refresh_villages(db, &villages).await?
    };
    mark(db, started, false).await?;
    Ok(out)
}

/// The name of the rollup job's leader lock.
pub const LEADER: &str = "report-rollup";

/// How many times the job has run (`report_state.runs`), for those who check
/// it ran once per interval, not once per process.
pub async fn runs(db: &impl ConnectionTrait) -> AppResult<i64> {
    let rows = super::all(db, "SELECT runs FROM report_state", vec![]).await?;
    Ok(rows
        .first()
        .map(|r| r.try_get_by_index::<i64>(0))
        .transpose()?
        .unwrap_or(0))
}
