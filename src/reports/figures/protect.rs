//! Complementary suppression over a summary's tables and its monthly trend:
//! the counts to withhold so that no hidden count can be worked out from the
//! others and the total shown beside them.

use std::collections::{BTreeMap, BTreeSet};

use super::{Month, Period};
use crate::reports::figure::{Figure, Population};
use crate::reports::metric::{Metric, Sums};
use crate::reports::suppress::{self, Hide, Shown};

/// Complementary suppression over the rows of one table, whose counts add up
/// to `total` (shown with them): per row, the counts to withhold so that no
/// hidden count can be worked out by subtraction; and the counts the total
/// itself must not show (when hiding rows cannot protect them). Records of
/// the area in no row (a household registered at the township itself) count
/// as one more row, never shown. `households`: whether the rows describe
/// households too (not the sex and age cuts). `empty`: per row, an area with
/// no household records, whose zeros are shown as such.
pub(super) fn protect(
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

/// Every month of the period that has data or lies between months that do,
/// with complementary suppression: the months add up to the period's
/// enrollments and completions, shown beside them.
pub(super) fn months(
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
