//! The summary of an area for a period of whole months, read from the
//! `report_cell` rollup (two indexed queries: the area's own cells and its
//! children's): the registry's figures (`figure`) for the area and each of its
//! cuts, the monthly trend, skills gained by competence, and trained and
//! not-yet-trained households side by side; and the weekly digest's counts.
//! How a period sums each metric (flows and stocks) is `metric`'s.
//!
//! Here what a summary holds; `summary` builds it, `protect` withholds the
//! counts of its tables and months that could be worked out by subtraction.

mod protect;
mod summary;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
};
use serde::Serialize;

use super::figure::{Figures, Ratio};
use super::metric::{Metric, Sums};
pub use super::period::Period;
use super::rollup::ROOT;
use super::suppress::{self, Hide, Kind, Shown};
use crate::areas::AreaCode;
use crate::error::{AppError, AppResult};
use crate::policy::{Action, Actor};

pub use summary::summary;

/// The area a caller asks for: the requested one when it lies inside her
/// scope (404 otherwise, as for an area that does not exist), else her own
/// area; the whole country for an admin who names none.
pub fn target_area(actor: &Actor, area: Option<&str>) -> AppResult<String> {
    actor.require(Action::ViewReports)?;
    match area.map(str::trim).filter(|s| !s.is_empty()) {
        Some(a) => {
            let code = AreaCode::parse(a).map_err(|e| AppError::field("area", e))?;
            actor.require_in(Action::ViewReports, Some(code.as_str()))?;
            Ok(code.as_str().to_string())
        }
        None if actor.is_admin() => Ok(ROOT.to_string()),
        None => actor
            .area
            .as_ref()
            .map(|a| a.as_str().to_string())
            .ok_or(AppError::NotFound),
    }
}

/// One row of a cut: its key (area code, cause code, status, sex, age band),
/// its name in the page's language and its figures.
#[derive(Debug, Clone, Serialize)]
pub struct Group {
    pub code: String,
    pub name: String,
    pub figures: Figures,
    /// An area with no household records imported (its figures read
    /// "no records", not "<5").
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub no_records: bool,
}

/// One month of the trend.
#[derive(Debug, Clone, Serialize)]
pub struct Month {
    pub month: String,
    pub enrollments: Shown,
    pub completions: Shown,
}

/// Skills gained in one competence: learner–competence pairs with both tests.
#[derive(Debug, Clone, Serialize)]
pub struct CompetenceGain {
    pub competence: String,
    pub title: String,
    pub n: Shown,
    pub mean_pre: Shown,
    pub mean_post: Shown,
    pub mean_gain: Shown,
    /// Pairs at level 2 ÷ pairs.
    pub level2: Ratio,
}

/// Trained and not-yet-trained households side by side. Descriptive only:
/// the two groups differ in many ways besides training, so a difference here
/// is not an effect of training.
#[derive(Debug, Clone, Serialize)]
pub struct Side {
    pub households: Shown,
    /// Mean net income per head (latest year recorded), in fen.
    pub income_per_head: Shown,
    pub with_income: Shown,
    /// Households whose latest follow-up shows a listed activity ÷ households
    /// followed up.
    pub follow_up_active: Ratio,
}

#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub descriptive: bool,
    pub trained: Side,
    pub not_yet_trained: Side,
}

impl Comparison {
    /// The two sides add up to the households shown as the area's figure:
    /// when one side's count is hidden, the other is withheld as needed
    /// (complementary suppression).
    pub fn from_sums(s: &Sums) -> Comparison {
        let mut c = Comparison::sides(s);
        if super::figure::no_records(s) {
            // No household records: nothing on either side, not "<5".
            for side in [&mut c.trained, &mut c.not_yet_trained] {
                side.households = Shown::NoRecords;
                side.with_income = Shown::NoRecords;
                side.income_per_head = Shown::NoRecords;
            }
            return c;
        }
        let trained = s.get(Metric::HouseholdsTrained);
        let all = s.get(Metric::Households);
        let (hide, _) = suppress::complementary(&[trained, all - trained], all);
        for (side, h) in [&mut c.trained, &mut c.not_yet_trained]
            .into_iter()
            .zip(hide)
        {
            if h == Hide::Withheld {
                side.households = side.households.withhold();
            }
        }
        c
    }

    fn sides(s: &Sums) -> Comparison {
        let side = |hh: i64, n: i64, sum: i64, fu: i64, act: i64| Side {
            households: Shown::count(hh),
            income_per_head: Shown::mean(Kind::Fen, sum, n, 1.0),
            with_income: Shown::count(n),
            follow_up_active: Ratio::of(act, fu),
        };
        Comparison {
            descriptive: true,
            trained: side(
                s.get(Metric::HouseholdsTrained),
                s.get(Metric::WithIncomeTrained),
                s.get(Metric::IncomeSumTrained),
                s.get(Metric::FollowedUpTrained),
                s.get(Metric::FollowedUpActiveTrained),
            ),
            not_yet_trained: side(
                s.get(Metric::Households) - s.get(Metric::HouseholdsTrained),
                s.get(Metric::WithIncome) - s.get(Metric::WithIncomeTrained),
                s.get(Metric::IncomeSum) - s.get(Metric::IncomeSumTrained),
                s.get(Metric::FollowedUp) - s.get(Metric::FollowedUpTrained),
                s.get(Metric::FollowedUpActive) - s.get(Metric::FollowedUpActiveTrained),
            ),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct AreaRef {
    pub code: String,
    pub name: String,
    pub level: String,
    pub parent: Option<String>,
}

/// Everything the dashboard, the summary API and the exports show.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub area: AreaRef,
    pub period: Period,
    /// When the figures were counted: the rollup's last refresh, or now
    /// for a village (counted from its records on each view).
    pub as_of: Option<DateTime<Utc>>,
    /// The figures were counted now from the records (a village), not read
    /// from the rollup that its township and county wait for.
    pub live: bool,
    /// Read from a replica this many seconds behind the primary; absent when
    /// read from the primary.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replica_lag_secs: Option<f64>,
    pub figures: Figures,
    /// The area has no household records imported.
    pub no_records: bool,
    pub by_child_area: Vec<Group>,
    pub by_cause: Vec<Group>,
    pub by_status: Vec<Group>,
    pub by_sex: Vec<Group>,
    pub by_age: Vec<Group>,
    pub trend: Vec<Month>,
    pub skills: Vec<CompetenceGain>,
    pub trained_vs_untrained: Comparison,
}

/// Names for codes in the page's language.
pub trait Labels {
    fn cause(&self, code: &str) -> String;
    fn status(&self, code: &str) -> String;
    fn sex(&self, code: &str) -> String;
    fn age(&self, band: &str) -> String;
    fn unknown(&self) -> String;
    fn whole_country(&self) -> String;
    fn competence(&self, code: &str, titles: &HashMap<String, String>) -> String {
        titles
            .get(code)
            .cloned()
            .unwrap_or_else(|| code.to_string())
    }
}

/// The weekly digest's counts for an area since a time: enrollments made,
/// courses completed, and households with an enrollment made (live, not from
/// the rollup: a week is finer than its months).
pub async fn week_counts(
    db: &impl ConnectionTrait,
    prefix: &str,
    since: DateTime<Utc>,
) -> AppResult<(u64, u64, usize)> {
    use crate::entities::enrollment;
    let in_area = enrollment::Column::AreaCode.starts_with(prefix);
    let enrolled = enrollment::Entity::find()
        .filter(in_area.clone())
        .filter(enrollment::Column::EnrolledAt.gte(since))
        .count(db)
        .await?;
    let completed = enrollment::Entity::find()
        .filter(in_area.clone())
        .filter(enrollment::Column::CompletedAt.gte(since))
        .count(db)
        .await?;
    let households: Vec<Option<i64>> = enrollment::Entity::find()
        .select_only()
        .column(enrollment::Column::HouseholdId)
        .distinct()
        .filter(in_area)
        .filter(enrollment::Column::EnrolledAt.gte(since))
        .filter(enrollment::Column::HouseholdId.is_not_null())
        .into_tuple()
        .all(db)
        .await?;
    Ok((enrolled, completed, households.len()))
}
