//! The registry of the dashboard's figures: what each one divides or shows,
//! whom it describes, and where it appears. Each variant of `Figure` is
//! defined in its doc comment, and for officials in `dash.def.<id>`. The
//! headline table, the tiles, the columns of the cut tables, the export, the
//! JSON summary and the definitions list all loop over `Figure::iter()`;
//! labels are the locale keys `dash.<id>` and `dash.def.<id>`, and a test
//! fails when one is missing.
//!
//! How every figure is counted (`rollup::tally`, `metric`):
//! - an area's figures are over the households and members registered in its
//!   villages and the learners counted there; a learner linked to no
//!   household member counts in her village's training figures, in no cause,
//!   status, sex or age cut and in no household figure;
//! - a period is whole months (`period`); registry counts (households, labour
//!   force) are as of now; flows (enrollments, completions, tests, surveys)
//!   count in the months they happened; stocks (coverage, households reached
//!   and trained) count whoever was reached by the end of the period;
//! - ages are taken in the year of the refresh; the labour force is
//!   `rollup::in_labour_force`;
//! - the gain reads each learner's first pre-test and first post-test per
//!   competence, and a level (mastery) comes from first attempts and
//!   trainers' sign-offs (`skills`): a retake changes no figure;
//! - a count under five, a rate whose numerator or denominator is, and a mean
//!   over fewer than five are hidden, and so are the rows that would give one
//!   away by subtraction (`suppress`).

use serde::Serialize;
use serde::ser::{Error as _, Serializer};
use serde_json::{Map, Value};

use super::metric::{Metric, Sums};
use super::suppress::{Kind, Shown};
use sea_orm::{EnumIter, Iterable};

/// One figure of the dashboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, EnumIter)]
pub enum Figure {
    /// Households registered in the area (建档立卡 and monitored), now.
    Households,
    /// Registered members now in the labour force: men 16–60, women 16–55,
    /// able to work.
    LabourForce,
    /// Labour-force members with an enrollment by the end of the period ÷
    /// labour-force members.
    Coverage,
    /// Enrollments made in the period.
    Enrollments,
    /// Enrollments of the period now completed ÷ enrollments of the period.
    CompletionRate,
    /// Enrollments of the period that were withdrawn (dropouts).
    Withdrawn,
    /// Courses completed in the period.
    Completions,
    /// Households with a member enrolled by the end of the period ÷
    /// households registered.
    HouseholdsReached,
    /// Households with a member who completed a course by the end of the
    /// period ÷ households registered.
    HouseholdsTrained,
    /// Completions of the period whose learner is at level 2 on at least 80%
    /// of the course's competences ÷ completions of the period.
    Mastery,
    /// Normalized gain g = (post − pre) ÷ (100 − pre) per learner, pre and
    /// post being her mean scores over the competences she was tested on both
    /// times, averaged over the learners whose first test fell in the period;
    /// learners with pre = 100 are left out.
    GainMean,
    /// Learners in that mean.
    GainN,
    /// Mean pre-test score of the learners with both tests.
    GainPre,
    /// Mean post-test score of the learners with both tests.
    GainPost,
    /// Learners first enrolled in the period who took both tests (first
    /// attempts; on some competence) ÷ learners first enrolled in the period:
    /// how much of the training the gain speaks for.
    GainBoth,
    /// Followed-up completers with a listed activity (an active shop, orders
    /// or sales) in the last 30 days ÷ followed-up completers, 3 months after
    /// training, surveys of the period.
    Behaviour3m,
    /// The same at 6 months.
    Behaviour6m,
}

/// What a figure shows, read from the sums of a group. Each measure carries
/// its suppression rule (see `suppress`): a count is hidden below five, a
/// rate when its numerator or its denominator is, a mean when it is over
/// fewer than five.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Measure {
    Count(Metric),
    Rate {
        numerator: Metric,
        denominator: Metric,
    },
    /// `sum ÷ n ÷ scale` (sums are kept as scaled integers).
    Mean {
        kind: Kind,
        sum: Metric,
        n: Metric,
        scale: f64,
    },
}

/// Whom a figure describes. Household figures are not figures of the sex
/// and age cuts, which describe people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Population {
    Households,
    People,
}

/// A figure's entry in the registry.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    /// Row key in the tables and exports, field of the JSON summary, and
    /// the locale keys `dash.<id>` (label) and `dash.def.<id>` (definition).
    pub id: &'static str,
    pub measure: Measure,
    pub population: Population,
    /// A tile at the top of the page.
    pub tile: bool,
    /// A column of the cut tables (by area, cause, status, sex, age).
    pub in_cuts: bool,
    /// Explained in the definitions list (`dash.def.<id>`).
    pub defined: bool,
    /// The object and field it takes in the JSON summary, when not a field
    /// of its own named `id`.
    pub nested: Option<(&'static str, &'static str)>,
}

impl Figure {
    /// The registry: one row a figure.
    #[rustfmt::skip]
    pub fn spec(self) -> Spec {
        use Figure as F;
        use Metric as M;
        use Population::{Households as Hh, People};
        let count = Measure::Count;
        let rate = |numerator, denominator| Measure::Rate { numerator, denominator };
        let mean = |kind, sum, n, scale| Measure::Mean { kind, sum, n, scale };
        let (id, measure, population, tile, in_cuts, defined, nested) = match self {
            //                       id                    measure                                               whom    tile   cuts   defined  JSON
            F::Households        => ("households",         count(M::Households),                                  Hh,     true,  true,  false,   None),
            F::LabourForce       => ("labour_force",       count(M::LabourForce),                                 People, false, true,  true,    None),
            F::Coverage          => ("coverage",           rate(M::LabourForceEnrolled, M::LabourForce),          People, true,  true,  true,    None),
            F::Enrollments       => ("enrollments",        count(M::Enrollments),                                 People, false, true,  false,   None),
            F::CompletionRate    => ("completion_rate",    rate(M::EnrollmentsCompleted, M::Enrollments),         People, true,  true,  true,    None),
            F::Withdrawn         => ("withdrawn",          count(M::EnrollmentsWithdrawn),                        People, false, true,  false,   None),
            F::Completions       => ("completions",        count(M::Completions),                                 People, false, false, false,   None),
            F::HouseholdsReached => ("households_reached", rate(M::HouseholdsReached, M::Households),             Hh,     true,  true,  true,    None),
            F::HouseholdsTrained => ("households_trained", rate(M::HouseholdsTrained, M::Households),             Hh,     true,  true,  true,    None),
            F::Mastery           => ("mastery",            rate(M::Mastered, M::Completions),                     People, true,  true,  true,    None),
            F::GainMean          => ("gain_mean",          mean(Kind::Gain, M::GainSum, M::GainN, 10_000.0),      People, true,  true,  true,    Some(("gain", "mean"))),
            F::GainN             => ("gain_n",             count(M::GainN),                                       People, false, true,  false,   Some(("gain", "n"))),
            F::GainPre           => ("gain_pre",           mean(Kind::Score, M::PreSum, M::BothTests, 100.0),     People, false, false, false,   Some(("gain", "mean_pre"))),
            F::GainPost          => ("gain_post",          mean(Kind::Score, M::PostSum, M::BothTests, 100.0),    People, false, false, false,   Some(("gain", "mean_post"))),
            F::GainBoth          => ("gain_both",          rate(M::LearnersBothTests, M::Learners),               People, false, false, true,    Some(("gain", "share_both_tests"))),
            F::Behaviour3m       => ("behaviour_3m",       rate(M::Active3, M::FollowedUp3),                      People, true,  true,  true,    None),
            F::Behaviour6m       => ("behaviour_6m",       rate(M::Active6, M::FollowedUp6),                      People, false, true,  false,   None),
        };
        Spec { id, measure, population, tile, in_cuts, defined, nested }
    }

    /// Every figure, in registry order.
    pub fn all() -> impl Iterator<Item = Figure> {
        Figure::iter()
    }

    pub fn id(self) -> &'static str {
        self.spec().id
    }

    /// The locale key of its label.
    pub fn label_key(self) -> String {
        format!("dash.{}", self.id())
    }

    /// The locale key of its definition, when it has one.
    pub fn definition_key(self) -> Option<String> {
        self.spec()
            .defined
            .then(|| format!("dash.def.{}", self.id()))
    }

    /// The columns of a cut table: household figures first (only when the
    /// cut describes households), then people's, in registry order.
    pub fn columns(households: bool) -> Vec<Figure> {
        let mut cols: Vec<Figure> = Figure::iter()
            .filter(|f| f.spec().in_cuts)
            .filter(|f| households || f.spec().population == Population::People)
            .collect();
        cols.sort_by_key(|f| f.spec().population);
        cols
    }
}

/// A rate with the two counts it divides.
#[derive(Debug, Clone, Serialize)]
pub struct Ratio {
    pub rate: Shown,
    pub numerator: Shown,
    pub denominator: Shown,
}

impl Ratio {
    pub fn of(num: i64, den: i64) -> Ratio {
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

/// A figure's value in one group, suppressed for showing.
#[derive(Debug, Clone)]
pub enum Reading {
    Count(Shown),
    Ratio(Ratio),
    /// A mean, and the count it is over.
    Mean {
        mean: Shown,
        n: Shown,
    },
}

impl Measure {
    /// The counts a figure shows (alone, as a numerator or denominator, or
    /// as the number a mean is over): what complementary suppression works on.
    pub fn counts(self) -> Vec<Metric> {
        match self {
            Measure::Count(m) => vec![m],
            Measure::Rate {
                numerator,
                denominator,
            } => vec![numerator, denominator],
            Measure::Mean { n, .. } => vec![n],
        }
    }

    /// `empty`: the group is an area with no household records, where a
    /// zero is "no records", not a small cell.
    fn read(self, s: &Sums, empty: bool) -> Reading {
        let none = |v: i64| empty && v == 0;
        match self {
            Measure::Count(m) if none(s.get(m)) => Reading::Count(Shown::NoRecords),
            Measure::Count(m) => Reading::Count(Shown::count(s.get(m))),
            Measure::Rate { denominator, .. } if none(s.get(denominator)) => {
                Reading::Ratio(Ratio {
                    rate: Shown::NoRecords,
                    numerator: Shown::NoRecords,
                    denominator: Shown::NoRecords,
                })
            }
            Measure::Rate {
                numerator,
                denominator,
            } => Reading::Ratio(Ratio::of(s.get(numerator), s.get(denominator))),
            Measure::Mean { n, .. } if none(s.get(n)) => Reading::Mean {
                mean: Shown::NoRecords,
                n: Shown::NoRecords,
            },
            Measure::Mean {
                kind,
                sum,
                n,
                scale,
            } => Reading::Mean {
                mean: Shown::mean(kind, s.get(sum), s.get(n), scale),
                n: Shown::count(s.get(n)),
            },
        }
    }

    fn missing(self) -> Reading {
        match self {
            Measure::Count(_) => Reading::Count(Shown::Missing),
            Measure::Rate { .. } => Reading::Ratio(Ratio::missing()),
            Measure::Mean { .. } => Reading::Mean {
                mean: Shown::Missing,
                n: Shown::Missing,
            },
        }
    }
}

impl Reading {
    /// The figure itself: the count, the rate or the mean.
    pub fn shown(&self) -> &Shown {
        match self {
            Reading::Count(v) | Reading::Mean { mean: v, .. } => v,
            Reading::Ratio(r) => &r.rate,
        }
    }

    /// The cells of its row in the headline table: value, count, out of.
    pub fn cells(&self) -> Vec<Shown> {
        match self {
            Reading::Ratio(r) => vec![r.rate.clone(), r.numerator.clone(), r.denominator.clone()],
            other => vec![other.shown().clone(), Shown::Missing, Shown::Missing],
        }
    }

    /// The line under a tile: what a rate divides, or what a mean is over.
    pub fn detail(&self) -> Option<String> {
        match self {
            Reading::Count(_) => None,
            Reading::Ratio(r) => Some(format!("{} / {}", r.numerator.text(), r.denominator.text())),
            Reading::Mean { n, .. } => Some(format!("N = {}", n.text())),
        }
    }
}

/// JSON: a count or a mean as its number, a rate as `{rate, numerator,
/// denominator}`.
impl Serialize for Reading {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Reading::Ratio(r) => r.serialize(s),
            other => other.shown().serialize(s),
        }
    }
}

/// Whether an area has no household records imported: nothing of the
/// registry to count, so its zeros are no small cells.
pub fn no_records(s: &Sums) -> bool {
    s.get(super::metric::Metric::Households) == 0
}

/// Every figure of one group, in registry order.
#[derive(Debug, Clone)]
pub struct Figures(Vec<(Figure, Reading)>);

impl Figures {
    /// `household_cut`: whether household figures belong to this cut (not to
    /// the sex and age cuts, which describe people).
    pub fn from_sums(s: &Sums, household_cut: bool) -> Figures {
        Figures::read(s, household_cut, false)
    }

    /// The figures of an area: when it has no household records imported,
    /// its zeros read "no records" (`Shown::NoRecords`), not "<5"; its real
    /// small counts stay hidden.
    pub fn of_area(s: &Sums) -> Figures {
        Figures::read(s, true, no_records(s))
    }

    fn read(s: &Sums, household_cut: bool, empty: bool) -> Figures {
        Figures(
            Figure::iter()
                .map(|f| {
                    let spec = f.spec();
                    let r = if household_cut || spec.population == Population::People {
                        spec.measure.read(s, empty)
                    } else {
                        spec.measure.missing()
                    };
                    (f, r)
                })
                .collect(),
        )
    }

    /// Hides (as `Withheld`) every figure that shows one of `counts`: the
    /// count itself, a rate dividing it or by it (with that count), a mean
    /// over it (with its n).
    pub fn withhold(&mut self, counts: &std::collections::BTreeSet<Metric>) {
        if counts.is_empty() {
            return;
        }
        for (f, r) in &mut self.0 {
            match (f.spec().measure, r) {
                (Measure::Count(m), Reading::Count(v)) if counts.contains(&m) => *v = v.withhold(),
                (
                    Measure::Rate {
                        numerator,
                        denominator,
                    },
                    Reading::Ratio(x),
                ) => {
                    let (num, den) = (counts.contains(&numerator), counts.contains(&denominator));
                    if num {
                        x.numerator = x.numerator.withhold();
                    }
                    if den {
                        x.denominator = x.denominator.withhold();
                    }
                    if num || den {
                        x.rate = x.rate.withhold();
                    }
                }
                (Measure::Mean { n: m, .. }, Reading::Mean { mean, n }) if counts.contains(&m) => {
                    *mean = mean.withhold();
                    *n = n.withhold();
                }
                _ => {}
            }
        }
    }

    pub fn get(&self, f: Figure) -> &Reading {
        // Built from `Figure::iter()`, so the figure's position is its order.
        &self.0[f as usize].1
    }

    pub fn iter(&self) -> impl Iterator<Item = &(Figure, Reading)> {
        self.0.iter()
    }
}

/// JSON: one field a figure (`nested` ones grouped in their object).
impl Serialize for Figures {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut top = Map::new();
        for (f, r) in &self.0 {
            let v = serde_json::to_value(r).map_err(S::Error::custom)?;
            match f.spec().nested {
                None => {
                    top.insert(f.id().to_string(), v);
                }
                Some((object, field)) => {
                    if let Value::Object(o) = top
                        .entry(object.to_string())
                        .or_insert_with(|| Value::Object(Map::new()))
                    {
                        o.insert(field.to_string(), v);
                    }
                }
            }
        }
        top.serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::period::Period;
    use std::collections::HashSet;

    fn sums(cells: &[(Metric, i64)]) -> Sums {
        let p = Period {
            from: None,
            to: "2026-12".into(),
        };
        let mut s = Sums::default();
        for (m, v) in cells {
            s.add(&p, "", *m, *v);
        }
        s
    }

    #[test]
    fn ids_are_distinct_and_figures_sit_in_registry_order() {
        let ids: HashSet<&str> = Figure::iter().map(Figure::id).collect();
        assert_eq!(ids.len(), Figure::iter().count());
        assert!(ids.iter().all(|id| !id.is_empty()));
        let f = Figures::from_sums(&Sums::default(), true);
        for fig in Figure::iter() {
            assert_eq!(f.0[fig as usize].0, fig);
        }
    }

    #[test]
    fn household_figures_leave_the_people_cuts() {
        let s = sums(&[(Metric::Households, 10), (Metric::HouseholdsReached, 6)]);
        let people = Figures::from_sums(&s, false);
        assert_eq!(*people.get(Figure::Households).shown(), Shown::Missing);
        assert_eq!(
            serde_json::to_value(people.get(Figure::HouseholdsReached)).unwrap(),
            serde_json::json!({"rate": null, "numerator": null, "denominator": null})
        );
        let all = Figures::from_sums(&s, true);
        assert_eq!(all.get(Figure::HouseholdsReached).shown().text(), "60.0%");
        assert_eq!(
            all.get(Figure::HouseholdsReached).detail().as_deref(),
            Some("6 / 10")
        );
        let cols = Figure::columns(false);
        assert!(!cols.contains(&Figure::Households));
        assert_eq!(
            Figure::columns(true)[..3],
            [
                Figure::Households,
                Figure::HouseholdsReached,
                Figure::HouseholdsTrained
            ]
        );
    }

    #[test]
    fn the_json_nests_the_gain() {
        let s = sums(&[
            (Metric::GainSum, 25_000),
            (Metric::GainN, 5),
            (Metric::LearnersBothTests, 6),
            (Metric::Learners, 9),
        ]);
        let f = Figures::from_sums(&s, true);
        let v = serde_json::to_value(&f).unwrap();
        assert_eq!(v["gain"]["mean"], 0.5);
        assert_eq!(v["gain"]["n"], 5);
        assert_eq!(v["gain"]["mean_pre"], "<5");
        // The share of enrolled learners the gain rests on.
        assert_eq!(v["gain"]["share_both_tests"]["numerator"], 6);
        assert_eq!(v["gain"]["share_both_tests"]["denominator"], 9);
        assert_eq!(v["households"], "<5");
        assert_eq!(f.get(Figure::GainMean).detail().as_deref(), Some("N = 5"));
        assert!(v.get("gain_mean").is_none());
    }
}
