//! The report figures of DATA.md, for an area and a period of whole months,
//! read from the `report_cell` rollup (two indexed queries: the area's own
//! cells and its children's), and the weekly digest's counts.
//!
//! Dated figures are of two sorts. Flows count what happened in the period
//! (enrollments by the month they were made, completions by the month they
//! were completed, skills by the month of the learner's first test, follow-ups
//! by the month of the survey). Stocks count who has been reached by the end
//! of the period (a member or household is counted from the month of its first
//! enrollment or completion). Registry figures are as they stand now.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
};
use serde::Serialize;

use super::rollup::{self, ROOT};
use super::stmt;
use super::suppress::{Kind, Shown};
use crate::areas::AreaCode;
use crate::error::{AppError, AppResult};
use crate::policy::{Action, Actor};

/// A period of whole months, `from` to `to` inclusive ("YYYY-MM").
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Period {
    pub from: Option<String>,
    pub to: String,
}

fn parse_month(field: &str, s: &str) -> AppResult<String> {
    let s = s.trim();
    let ok = s.len() >= 7
        && s[..4].bytes().all(|b| b.is_ascii_digit())
        && &s[4..5] == "-"
        && s[5..7].parse::<u32>().is_ok_and(|m| (1..=12).contains(&m));
    if !ok {
        return Err(AppError::field(
            field,
            "must be a month (2026-03) or a date (2026-03-15)",
        ));
    }
    Ok(s[..7].to_string())
}

impl Period {
    /// From query values; `to` defaults to this month, `from` to the beginning.
    pub fn parse(from: Option<&str>, to: Option<&str>, now: DateTime<Utc>) -> AppResult<Period> {
        let from = match from.map(str::trim).filter(|s| !s.is_empty()) {
            Some(f) => Some(parse_month("from", f)?),
            None => None,
        };
        let to = match to.map(str::trim).filter(|s| !s.is_empty()) {
            Some(t) => parse_month("to", t)?,
            None => rollup::month(now),
        };
        if from.as_ref().is_some_and(|f| *f > to) {
            return Err(AppError::field(
                "from",
                "must not be after the end of the period",
            ));
        }
        Ok(Period { from, to })
    }

    fn flow(&self, month: &str) -> bool {
        month <= self.to.as_str() && self.from.as_deref().is_none_or(|f| month >= f)
    }
}

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

/// The additive metrics of one group (an area, or one cut of it) for a period.
#[derive(Debug, Default, Clone)]
pub struct Sums(HashMap<String, i64>);

impl Sums {
    fn get(&self, m: &str) -> i64 {
        self.0.get(m).copied().unwrap_or(0)
    }
}

/// Flow metrics: summed over the months of the period.
const FLOWS: &[&str] = &[
    "enrol",
    "enrol_done",
    "enrol_wd",
    "complete",
    "mastered",
    "tested",
    "both",
    "pre_sum",
    "post_sum",
    "g_n",
    "g_sum",
    "fu3_n",
    "fu3_act",
    "fu6_n",
    "fu6_act",
    "c_pairs",
    "c_pre",
    "c_post",
    "c_g_n",
    "c_g_sum",
    "c_l2",
];

fn add_cell(sums: &mut Sums, period: &Period, month: &str, metric: &str, value: i64) {
    let counts = if month.is_empty() {
        true
    } else if FLOWS.contains(&metric) {
        period.flow(month)
    } else {
        // Stocks: reached by the end of the period.
        month <= period.to.as_str()
    };
    if counts {
        *sums.0.entry(metric.to_string()).or_insert(0) += value;
    }
}

/// The figures of one group, suppressed for showing.
#[derive(Debug, Clone, Serialize)]
pub struct Figures {
    /// Households registered in the area (建档立卡 and monitored), now.
    pub households: Shown,
    /// Registered members now in the labour force: men 16–60, women 16–55,
    /// able to work.
    pub labour_force: Shown,
    /// Coverage: labour-force members with an enrollment by the end of the
    /// period ÷ labour-force members.
    pub coverage: Ratio,
    /// Enrollments made in the period.
    pub enrollments: Shown,
    /// Enrollments of the period that were withdrawn (dropouts).
    pub withdrawn: Shown,
    /// Completion rate: enrollments of the period now completed ÷ enrollments
    /// of the period.
    pub completion_rate: Ratio,
    /// Courses completed in the period.
    pub completions: Shown,
    /// Households reached: households with a member enrolled by the end of the
    /// period ÷ households registered.
    pub households_reached: Ratio,
    /// Households trained: households with a member who completed a course by
    /// the end of the period ÷ households registered.
    pub households_trained: Ratio,
    /// Mastery rate: completions of the period whose learner is at level 2 on
    /// at least 80% of the course's competences ÷ completions of the period.
    pub mastery: Ratio,
    /// Normalized gain of learners whose first test fell in the period.
    pub gain: Gain,
    /// Behaviour at 3 months: followed-up completers with a listed activity
    /// (an active shop, orders or sales) in the last 30 days ÷ followed-up
    /// completers, surveys of the period.
    pub behaviour_3m: Ratio,
    /// The same at 6 months.
    pub behaviour_6m: Ratio,
}

/// A rate with the two counts it divides.
#[derive(Debug, Clone, Serialize)]
pub struct Ratio {
    pub rate: Shown,
    pub numerator: Shown,
    pub denominator: Shown,
}

impl Ratio {
    fn of(num: i64, den: i64) -> Ratio {
        Ratio {
            rate: Shown::rate(num, den),
            numerator: Shown::count(num),
            denominator: Shown::count(den),
        }
    }
    fn missing() -> Ratio {
        Ratio {
            rate: Shown::Missing,
            numerator: Shown::Missing,
            denominator: Shown::Missing,
        }
    }
}

/// Normalized gain g = (post − pre) ÷ (100 − pre) per learner, pre and post
/// being her mean scores over the competences she was tested on both times;
/// learners with pre = 100 are left out of the mean.
#[derive(Debug, Clone, Serialize)]
pub struct Gain {
    /// Mean of the learners' gains.
    pub mean: Shown,
    /// Learners in that mean.
    pub n: Shown,
    /// Mean pre-test score of the learners with both tests.
    pub mean_pre: Shown,
    /// Mean post-test score of the learners with both tests.
    pub mean_post: Shown,
    /// Learners with both tests ÷ learners with either.
    pub share_both_tests: Ratio,
}

impl Figures {
    /// `household_cut`: whether household figures belong to this cut (not to
    /// the sex and age cuts, which describe people).
    pub fn from_sums(s: &Sums, household_cut: bool) -> Figures {
        let hh = |r: Ratio| if household_cut { r } else { Ratio::missing() };
        Figures {
            households: if household_cut {
                Shown::count(s.get("hh"))
            } else {
                Shown::Missing
            },
            labour_force: Shown::count(s.get("lf")),
            coverage: Ratio::of(s.get("lf_enrolled"), s.get("lf")),
            enrollments: Shown::count(s.get("enrol")),
            withdrawn: Shown::count(s.get("enrol_wd")),
            completion_rate: Ratio::of(s.get("enrol_done"), s.get("enrol")),
            completions: Shown::count(s.get("complete")),
            households_reached: hh(Ratio::of(s.get("hh_reached"), s.get("hh"))),
            households_trained: hh(Ratio::of(s.get("hh_trained"), s.get("hh"))),
            mastery: Ratio::of(s.get("mastered"), s.get("complete")),
            gain: Gain {
                mean: Shown::mean(Kind::Gain, s.get("g_sum"), s.get("g_n"), 10_000.0),
                n: Shown::count(s.get("g_n")),
                mean_pre: Shown::mean(Kind::Score, s.get("pre_sum"), s.get("both"), 100.0),
                mean_post: Shown::mean(Kind::Score, s.get("post_sum"), s.get("both"), 100.0),
                share_both_tests: Ratio::of(s.get("both"), s.get("tested")),
            },
            behaviour_3m: Ratio::of(s.get("fu3_act"), s.get("fu3_n")),
            behaviour_6m: Ratio::of(s.get("fu6_act"), s.get("fu6_n")),
        }
    }
}

/// One row of a cut: its key (area code, cause code, status, sex, age band),
/// its name in the page's language and its figures.
#[derive(Debug, Clone, Serialize)]
pub struct Group {
    pub code: String,
    pub name: String,
    pub figures: Figures,
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
    fn from_sums(s: &Sums) -> Comparison {
        let side = |hh: i64, n: i64, sum: i64, fu: i64, act: i64| Side {
            households: Shown::count(hh),
            income_per_head: Shown::mean(Kind::Fen, sum, n, 1.0),
            with_income: Shown::count(n),
            follow_up_active: Ratio::of(act, fu),
        };
        Comparison {
            descriptive: true,
            trained: side(
                s.get("hh_trained"),
                s.get("inc_n_t"),
                s.get("inc_sum_t"),
                s.get("hfu_n_t"),
                s.get("hfu_act_t"),
            ),
            not_yet_trained: side(
                s.get("hh") - s.get("hh_trained"),
                s.get("inc_n") - s.get("inc_n_t"),
                s.get("inc_sum") - s.get("inc_sum_t"),
                s.get("hfu_n") - s.get("hfu_n_t"),
                s.get("hfu_act") - s.get("hfu_act_t"),
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
    /// When the rollup was last refreshed.
    pub as_of: Option<DateTime<Utc>>,
    pub figures: Figures,
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
    let own: Vec<(String, String, String, String, i64)> = if AreaCode::parse(code)
        .is_ok_and(|c| c.level() == crate::areas::Level::Village)
    {
        rollup::village_cells(db, code).await?
    } else {
        let mut out = Vec::new();
        for r in db
                .query_all_raw(stmt(
                    backend,
                    "SELECT cut_kind, cut_value, month, metric, value FROM report_cell WHERE area_code = ?",
                    vec![code.into()],
                ))
                .await?
            {
                out.push((
                    r.try_get_by_index(0)?,
                    r.try_get_by_index(1)?,
                    r.try_get_by_index(2)?,
                    r.try_get_by_index(3)?,
                    r.try_get_by_index(4)?,
                ));
            }
        out
    };
    let mut cuts: BTreeMap<(String, String), Sums> = BTreeMap::new();
    let mut trend: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for (kind, value_key, month, metric, value) in own {
        if kind == "all" && !month.is_empty() && period.flow(&month) {
            let e = trend.entry(month.clone()).or_default();
            match metric.as_str() {
                "enrol" => e.0 += value,
                "complete" => e.1 += value,
                _ => {}
            }
        }
        add_cell(
            cuts.entry((kind, value_key)).or_default(),
            period,
            &month,
            &metric,
            value,
        );
    }
    // The children's totals, for the drill-down table.
    let child_rows = db
        .query_all_raw(stmt(
            backend,
            "SELECT area_code, month, metric, value FROM report_cell WHERE parent_code = ? AND cut_kind = ?",
            vec![code.into(), "all".into()],
        ))
        .await?;
    let mut children: BTreeMap<String, Sums> = BTreeMap::new();
    for r in &child_rows {
        let c: String = r.try_get_by_index(0)?;
        let month: String = r.try_get_by_index(1)?;
        let metric: String = r.try_get_by_index(2)?;
        let value: i64 = r.try_get_by_index(3)?;
        add_cell(
            children.entry(c).or_default(),
            period,
            &month,
            &metric,
            value,
        );
    }

    // Names: this area, its children in the area table (with or without data).
    let (area, child_codes) = area_and_children(db, code, labels).await?;
    let mut all_children: BTreeSet<String> = child_codes.keys().cloned().collect();
    all_children.extend(children.keys().cloned());
    let by_child_area = all_children
        .into_iter()
        .map(|c| Group {
            name: child_codes.get(&c).cloned().unwrap_or_else(|| c.clone()),
            figures: Figures::from_sums(&children.get(&c).cloned().unwrap_or_default(), true),
            code: c,
        })
        .collect();

    let group = |kind: &str, order: &[String], name: &dyn Fn(&str) -> String, hh: bool| {
        let mut keys: Vec<String> = order.to_vec();
        for (k, v) in cuts.keys() {
            if k == kind && !keys.contains(v) {
                keys.push(v.clone());
            }
        }
        keys.into_iter()
            .map(|v| Group {
                name: if v.is_empty() {
                    labels.unknown()
                } else {
                    name(&v)
                },
                figures: Figures::from_sums(
                    &cuts
                        .get(&(kind.to_string(), v.clone()))
                        .cloned()
                        .unwrap_or_default(),
                    hh,
                ),
                code: v,
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
    let mut comp_keys: Vec<String> = comp_order
        .into_iter()
        .filter(|c| cuts.contains_key(&("competence".to_string(), c.clone())))
        .collect();
    for (k, v) in cuts.keys() {
        if k == "competence" && !comp_keys.contains(v) {
            comp_keys.push(v.clone());
        }
    }
    for c in comp_keys {
        let s = &cuts[&("competence".to_string(), c.clone())];
        let n = s.get("c_pairs");
        skills.push(CompetenceGain {
            title: labels.competence(&c, &titles),
            n: Shown::count(n),
            mean_pre: Shown::mean(Kind::Score, s.get("c_pre"), n, 1.0),
            mean_post: Shown::mean(Kind::Score, s.get("c_post"), n, 1.0),
            mean_gain: Shown::mean(Kind::Gain, s.get("c_g_sum"), s.get("c_g_n"), 10_000.0),
            level2: Ratio::of(s.get("c_l2"), n),
            competence: c,
        });
    }

    let total = cuts
        .get(&("all".to_string(), String::new()))
        .cloned()
        .unwrap_or_default();
    Ok(Summary {
        area,
        period: period.clone(),
        as_of: rollup::state(db).await?.map(|s| s.0),
        figures: Figures::from_sums(&total, true),
        by_child_area,
        by_cause: group("cause", &causes, &|c| labels.cause(c), true),
        by_status: group("status", &statuses, &|c| labels.status(c), true),
        by_sex: group("sex", &sexes, &|c| labels.sex(c), false),
        by_age: group("age", &ages, &|c| labels.age(c), false),
        trend: months(period, &trend),
        skills,
        trained_vs_untrained: Comparison::from_sums(&total),
    })
}

/// Every month of the period that has data or lies between months that do.
fn months(period: &Period, data: &BTreeMap<String, (i64, i64)>) -> Vec<Month> {
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
