//! Builds an area's summary for a period: its own cells and its children's,
//! read from the rollup, summed by cut, month and competence, and shown with
//! complementary suppression.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::Utc;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::protect::{months, protect};
use super::{AreaRef, Comparison, CompetenceGain, Group, Labels, Period, Summary};
use crate::areas::AreaCode;
use crate::error::{AppError, AppResult};
use crate::reports::figure::{Figures, Ratio};
use crate::reports::metric::{Cut, Metric, Sums};
use crate::reports::rollup::{self, Cell, ROOT};
use crate::reports::stmt;
use crate::reports::suppress::{self, Kind, Shown};

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
        .map(|(_, s)| crate::reports::figure::no_records(s))
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
                no_records: crate::reports::figure::no_records(&s),
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
        no_records: crate::reports::figure::no_records(&total),
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
