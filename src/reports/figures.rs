//! The summary of an area for a period of whole months, read from the
//! `report_cell` rollup (two indexed queries: the area's own cells and its
//! children's): the registry's figures (`figure`) for the area and each of its
//! cuts, the monthly trend, skills gained by competence, and trained and
//! not-yet-trained households side by side; and the weekly digest's counts.
//! How a period sums each metric (flows and stocks) is `metric`'s.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
};
use serde::Serialize;

use super::figure::{Figure, Figures, Population, Ratio};
use super::metric::{Cut, Metric, Sums};
pub use super::period::Period;
use super::rollup::{self, Cell, ROOT};
use super::stmt;
use super::suppress::{self, Hide, Kind, Shown};
use crate::areas::AreaCode;
use crate::error::{AppError, AppResult};
use crate::policy::{Action, Actor};

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

/// Competence titles (from `title_json`) in a language, by code.
async fn competence_titles(
    db: &impl ConnectionTrait,
    lang: &str,
) -> AppResult<(HashMap<String, String>, Vec<String>)> {
    use crate::entities::competence;
    use sea_orm::QueryOrder;
    let rows = competence::Entity::find()
        .order_by_asc(competence::Column::Position)
        .all(db)
        .await?;
    let mut titles = HashMap::new();
    let mut order = Vec::new();
    for c in rows {
        let t: HashMap<String, String> = serde_json::from_str(&c.title_json).unwrap_or_default();
        let title = t
            .get(lang)
            .or_else(|| t.get("zh-CN"))
            .or_else(|| t.values().next())
            .cloned()
            .unwrap_or_else(|| c.code.clone());
        order.push(c.code.clone());
        titles.insert(c.code, title);
    }
    Ok((titles, order))
}

/// Builds the summary of `code` (already checked against the caller's scope).
pub async fn summary(
    db: &impl ConnectionTrait,
    code: &str,
    period: &Period,
    lang: &str,
    labels: &dyn Labels,
) -> AppResult<Summary> {
    let backend = db.get_database_backend();
    // The area's own cells: every cut and month (a few thousand rows); a
    // village's are computed now from its records.
    let live = AreaCode::parse(code).is_ok_and(|c| c.level() == crate::areas::Level::Village);
    let own: Vec<Cell> = if live {
        rollup::village_cells(db, code).await?
    } else {
        let rows = db
            .query_all_raw(stmt(
                backend,
                "SELECT cut_kind, cut_value, month, metric, value FROM report_cell WHERE area_code = ?",
                vec![code.into()],
            ))
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            // A cut or metric this version no longer writes (rows of an
            // older one, until the next rebuild) is left out.
            let cut = Cut::parse(&r.try_get_by_index::<String>(0)?);
            let metric = Metric::parse(&r.try_get_by_index::<String>(3)?);
            if let (Some(cut), Some(metric)) = (cut, metric) {
                out.push(Cell {
                    cut,
                    cut_value: r.try_get_by_index(1)?,
                    month: r.try_get_by_index(2)?,
                    metric,
                    value: r.try_get_by_index(4)?,
                });
            }
        }
        out
    };
    let mut cuts: BTreeMap<(Cut, String), Sums> = BTreeMap::new();
    let mut trend: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for c in own {
        if c.cut == Cut::All && !c.month.is_empty() && period.flow(&c.month) {
            let e = trend.entry(c.month.clone()).or_default();
            match c.metric {
                Metric::Enrollments => e.0 += c.value,
                Metric::Completions => e.1 += c.value,
                _ => {}
            }
        }
        cuts.entry((c.cut, c.cut_value))
            .or_default()
            .add(period, &c.month, c.metric, c.value);
    }
    // The children's totals, for the drill-down table.
    let child_rows = db
        .query_all_raw(stmt(
            backend,
            "SELECT area_code, month, metric, value FROM report_cell WHERE parent_code = ? AND cut_kind = ?",
            vec![code.into(), Cut::All.key().into()],
        ))
        .await?;
    let mut children: BTreeMap<String, Sums> = BTreeMap::new();
    for r in &child_rows {
        let c: String = r.try_get_by_index(0)?;
        let month: String = r.try_get_by_index(1)?;
        let metric: String = r.try_get_by_index(2)?;
        let value: i64 = r.try_get_by_index(3)?;
        if let Some(metric) = Metric::parse(&metric) {
            children
                .entry(c)
                .or_default()
                .add(period, &month, metric, value);
        }
    }

    // Names: this area, its children in the area table (with or without data).
    let (area, child_codes) = area_and_children(db, code, labels).await?;
    let mut all_children: BTreeSet<String> = child_codes.keys().cloned().collect();
    all_children.extend(children.keys().cloned());
    let total = cuts
        .get(&(Cut::All, String::new()))
        .cloned()
        .unwrap_or_default();
    // Counts the area's own figures may not show: hiding rows of a table
    // could not protect a small one.
    let mut exposed: BTreeSet<Metric> = BTreeSet::new();
    let child_sums: Vec<(String, Sums)> = all_children
        .into_iter()
        .map(|c| {
            let s = children.get(&c).cloned().unwrap_or_default();
            (c, s)
        })
        .collect();
    let empty_children: Vec<bool> = child_sums
        .iter()
        .map(|(_, s)| super::figure::no_records(s))
        .collect();
    let (withheld, hidden) = protect(
        &child_sums.iter().map(|(_, s)| s).collect::<Vec<_>>(),
        &empty_children,
        &total,
        Cut::All.has_households(),
    );
    exposed.extend(hidden);
    let by_child_area = child_sums
        .into_iter()
        .zip(withheld)
        .map(|((c, s), w)| {
            let mut figures = Figures::of_area(&s);
            figures.withhold(&w);
            Group {
                name: child_codes.get(&c).cloned().unwrap_or_else(|| c.clone()),
                figures,
                no_records: super::figure::no_records(&s),
                code: c,
            }
        })
        .collect();

    let mut group = |cut: Cut, order: Vec<String>, name: &dyn Fn(&str) -> String| {
        let values = cut_values(&cuts, cut, order);
        let sums: Vec<Sums> = values
            .iter()
            .map(|v| cuts.get(&(cut, v.clone())).cloned().unwrap_or_default())
            .collect();
        let (withheld, hidden) = protect(
            &sums.iter().collect::<Vec<_>>(),
            &[],
            &total,
            cut.has_households(),
        );
        exposed.extend(hidden);
        values
            .into_iter()
            .zip(sums)
            .zip(withheld)
            .map(|((v, s), w)| {
                let mut figures = Figures::from_sums(&s, cut.has_households());
                figures.withhold(&w);
                Group {
                    no_records: false,
                    name: if v.is_empty() {
                        labels.unknown()
                    } else {
                        name(&v)
                    },
                    figures,
                    code: v,
                }
            })
            .collect::<Vec<Group>>()
    };
    use crate::households::vocab::{Cause, HouseholdStatus, Sex};
    let causes: Vec<String> = Cause::ALL.iter().map(|c| c.code.to_string()).collect();
    let statuses: Vec<String> = HouseholdStatus::ALL
        .iter()
        .map(|s| s.code().to_string())
        .collect();
    let sexes: Vec<String> = Sex::ALL.iter().map(|s| s.code().to_string()).collect();
    let ages: Vec<String> = rollup::AGE_BANDS.iter().map(|s| s.to_string()).collect();

    let (titles, comp_order) = competence_titles(db, lang).await?;
    let mut skills = Vec::new();
    let comp_order = comp_order
        .into_iter()
        .filter(|c| cuts.contains_key(&(Cut::Competence, c.clone())))
        .collect();
    for c in cut_values(&cuts, Cut::Competence, comp_order) {
        let s = &cuts[&(Cut::Competence, c.clone())];
        let n = s.get(Metric::CompetencePairs);
        skills.push(CompetenceGain {
            title: labels.competence(&c, &titles),
            n: Shown::count(n),
            mean_pre: Shown::mean(Kind::Score, s.get(Metric::CompetencePre), n, 1.0),
            mean_post: Shown::mean(Kind::Score, s.get(Metric::CompetencePost), n, 1.0),
            mean_gain: Shown::mean(
                Kind::Gain,
                s.get(Metric::CompetenceGainSum),
                s.get(Metric::CompetenceGainN),
                10_000.0,
            ),
            level2: Ratio::of(s.get(Metric::CompetenceLevel2), n),
            competence: c,
        });
    }

    let by_cause = group(Cut::Cause, causes, &|c| labels.cause(c));
    let by_status = group(Cut::Status, statuses, &|c| labels.status(c));
    let by_sex = group(Cut::Sex, sexes, &|c| labels.sex(c));
    let by_age = group(Cut::Age, ages, &|c| labels.age(c));
    let mut figures = Figures::of_area(&total);
    let trend = months(period, &trend, &total, &mut exposed);
    let (trained, households) = (
        total.get(Metric::HouseholdsTrained),
        total.get(Metric::Households),
    );
    if !suppress::complementary(&[trained, households - trained], households).1 {
        exposed.insert(Metric::Households);
    }
    figures.withhold(&exposed);
    Ok(Summary {
        area,
        period: period.clone(),
        as_of: if live {
            Some(Utc::now())
        } else {
            rollup::state(db).await?.map(|s| s.0)
        },
        live,
        replica_lag_secs: None,
        figures,
        no_records: super::figure::no_records(&total),
        by_child_area,
        by_cause,
        by_status,
        by_sex,
        by_age,
        trend,
        skills,
        trained_vs_untrained: Comparison::from_sums(&total),
    })
}

/// Complementary suppression over the rows of one table, whose counts add up
/// to `total` (shown with them): per row, the counts to withhold so that no
/// hidden count can be worked out by subtraction; and the counts the total
/// itself must not show (when hiding rows cannot protect them). Records of
/// the area in no row (a household registered at the township itself) count
/// as one more row, never shown. `households`: whether the rows describe
/// households too (not the sex and age cuts). `empty`: per row, an area with
/// no household records, whose zeros are shown as such.
fn protect(
    rows: &[&Sums],
    empty: &[bool],
    total: &Sums,
    households: bool,
) -> (Vec<BTreeSet<Metric>>, BTreeSet<Metric>) {
    let metrics: BTreeSet<Metric> = Figure::all()
        .filter(|f| households || f.spec().population == Population::People)
        .flat_map(|f| f.spec().measure.counts())
        .collect();
    let mut withheld = vec![BTreeSet::new(); rows.len()];
    let mut exposed = BTreeSet::new();
    for m in metrics {
        let mut values: Vec<i64> = rows.iter().map(|s| s.get(m)).collect();
        let t = total.get(m);
        let rest = t - values.iter().sum::<i64>();
        if rest < 0 {
            // Rows that overlap: not a partition of the total.
            continue;
        }
        if rest > 0 {
            values.push(rest);
        }
        let known: Vec<bool> = values
            .iter()
            .enumerate()
            .map(|(i, v)| *v == 0 && empty.get(i).copied().unwrap_or(false))
            .collect();
        let (hide, ok) = suppress::complementary_known(&values, &known, t);
        for (i, h) in hide.iter().enumerate().take(rows.len()) {
            if *h == Hide::Withheld {
                withheld[i].insert(m);
            }
        }
        if !ok {
            exposed.insert(m);
        }
    }
    (withheld, exposed)
}

/// The values of a cut: `order` first, then any other value with cells.
fn cut_values(cuts: &BTreeMap<(Cut, String), Sums>, cut: Cut, order: Vec<String>) -> Vec<String> {
    let mut keys = order;
    for (k, v) in cuts.keys() {
        if *k == cut && !keys.contains(v) {
            keys.push(v.clone());
        }
    }
    keys
}

/// Every month of the period that has data or lies between months that do,
/// with complementary suppression: the months add up to the period's
/// enrollments and completions, shown beside them.
fn months(
    period: &Period,
    data: &BTreeMap<String, (i64, i64)>,
    total: &Sums,
    exposed: &mut BTreeSet<Metric>,
) -> Vec<Month> {
    let mut out = months_of(period, data);
    for (metric, pick) in [(Metric::Enrollments, 0usize), (Metric::Completions, 1usize)] {
        let values: Vec<i64> = out
            .iter()
            .map(|m| {
                data.get(&m.month)
                    .map_or(0, |v| if pick == 0 { v.0 } else { v.1 })
            })
            .collect();
        let t = total.get(metric);
        if values.iter().sum::<i64>() != t {
            continue;
        }
        let (hide, ok) = suppress::complementary(&values, t);
        for (m, h) in out.iter_mut().zip(hide) {
            if h == Hide::Withheld {
                let cell = if pick == 0 {
                    &mut m.enrollments
                } else {
                    &mut m.completions
                };
                *cell = cell.withhold();
            }
        }
        if !ok {
            exposed.insert(metric);
        }
    }
    out
}

fn months_of(period: &Period, data: &BTreeMap<String, (i64, i64)>) -> Vec<Month> {
    let Some(first) = period.from.clone().or_else(|| data.keys().next().cloned()) else {
        return vec![];
    };
    let (mut y, mut m): (i32, u32) = (
        first[..4].parse().unwrap_or(2000),
        first[5..7].parse().unwrap_or(1),
    );
    let mut out = Vec::new();
    loop {
        let key = format!("{y:04}-{m:02}");
        if key > period.to || out.len() >= 240 {
            break;
        }
        let (e, c) = data.get(&key).copied().unwrap_or_default();
        out.push(Month {
            month: key,
            enrollments: Shown::count(e),
            completions: Shown::count(c),
        });
        m += 1;
        if m > 12 {
            m = 1;
            y += 1;
        }
    }
    out
}

async fn area_and_children(
    db: &impl ConnectionTrait,
    code: &str,
    labels: &dyn Labels,
) -> AppResult<(AreaRef, BTreeMap<String, String>)> {
    use crate::entities::area;
    let parent_key = if code == ROOT { None } else { Some(code) };
    let kids = match parent_key {
        Some(c) => {
            area::Entity::find()
                .filter(area::Column::ParentCode.eq(c))
                .all(db)
                .await?
        }
        None => {
            area::Entity::find()
                .filter(area::Column::Level.eq("province"))
                .all(db)
                .await?
        }
    };
    let children = kids.into_iter().map(|a| (a.code, a.name)).collect();
    if code == ROOT {
        return Ok((
            AreaRef {
                code: String::new(),
                name: labels.whole_country(),
                level: "all".into(),
                parent: None,
            },
            children,
        ));
    }
    let parsed = AreaCode::parse(code).map_err(|e| AppError::field("area", e))?;
    let me = crate::areas::find(db, code).await?;
    Ok((
        AreaRef {
            code: code.to_string(),
            name: me.map(|a| a.name).unwrap_or_else(|| code.to_string()),
            level: parsed.level().as_str().to_string(),
            parent: parsed.parent().map(|p| p.as_str().to_string()),
        },
        children,
    ))
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
