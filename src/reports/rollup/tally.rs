//! The tally: the cells of a batch of villages counted from what `load`
//! read. Pure (no database), so that every rule of counting can be tested on
//! hand-made records.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};

use super::load::{Courses, FollowUp, Household, Member, Sources};
use crate::entities::enrollment::EnrollmentState;
use crate::reports::metric::{Cut, Metric};
use crate::reports::period::month;
use crate::reports::skills;

/// Age bands of the person cuts (age in the year of the refresh).
pub const AGE_BANDS: [&str; 5] = ["0-15", "16-29", "30-44", "45-59", "60+"];

pub fn age_band(age: i32) -> &'static str {
    match age {
        ..=15 => AGE_BANDS[0],
        16..=29 => AGE_BANDS[1],
        30..=44 => AGE_BANDS[2],
        45..=59 => AGE_BANDS[3],
        _ => AGE_BANDS[4],
    }
}

/// The labour force, the denominator of coverage: men 16–60 and women
/// 16–55, able to work (labour capacity not recorded as lost or none).
pub fn in_labour_force(sex: &str, age: i32, labour: Option<&str>) -> bool {
    let top = if sex == "female" { 55 } else { 60 };
    (16..=top).contains(&age) && !matches!(labour, Some("lost") | Some("none"))
}

/// A follow-up shows a listed activity in the last 30 days: an active shop,
/// orders, or sales.
pub fn active(shop: Option<bool>, orders: Option<i32>, sales: Option<i64>) -> bool {
    shop == Some(true) || orders.unwrap_or(0) > 0 || sales.unwrap_or(0) > 0
}

/// Where a cell sits: a village, a cut, a month (`""` when undated), a metric.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) struct Key {
    pub village: String,
    pub cut: Cut,
    pub cut_value: String,
    pub month: String,
    pub metric: Metric,
}

#[derive(Default)]
pub(super) struct Cells(HashMap<Key, i64>);

impl IntoIterator for Cells {
    type Item = (Key, i64);
    type IntoIter = std::collections::hash_map::IntoIter<Key, i64>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// The cuts a person falls in: all, primary cause, status, sex, age band.
#[derive(Clone)]
struct PersonDims {
    village: String,
    cause: String,
    status: String,
    sex: String,
    age: String,
}

impl Cells {
    fn add(&mut self, village: &str, cut: (Cut, &str), month: &str, metric: Metric, v: i64) {
        if v == 0 {
            return;
        }
        *self
            .0
            .entry(Key {
                village: village.to_string(),
                cut: cut.0,
                cut_value: cut.1.to_string(),
                month: month.to_string(),
                metric,
            })
            .or_insert(0) += v;
    }

    fn person(&mut self, d: &PersonDims, month: &str, metric: Metric, v: i64) {
        for cut in [
            (Cut::All, ""),
            (Cut::Cause, d.cause.as_str()),
            (Cut::Status, d.status.as_str()),
            (Cut::Sex, d.sex.as_str()),
            (Cut::Age, d.age.as_str()),
        ] {
            self.add(&d.village, cut, month, metric, v);
        }
    }

    fn household(&mut self, h: &Household, month: &str, metric: Metric, v: i64) {
        for cut in [
            (Cut::All, ""),
            (Cut::Cause, h.cause.as_str()),
            (Cut::Status, h.status.as_str()),
        ] {
            self.add(&h.village, cut, month, metric, v);
        }
    }

    #[cfg(test)]
    fn get(&self, village: &str, cut: (Cut, &str), month: &str, metric: Metric) -> i64 {
        self.0
            .get(&Key {
                village: village.to_string(),
                cut: cut.0,
                cut_value: cut.1.to_string(),
                month: month.to_string(),
                metric,
            })
            .copied()
            .unwrap_or(0)
    }
}

/// Counts the cells of the villages in `src`, ages taken in `year`.
pub(super) fn tally(src: &Sources, courses: &Courses, year: i32) -> Cells {
    let mut cells = Cells::default();
    let hh_index: HashMap<i64, usize> = src
        .households
        .iter()
        .enumerate()
        .map(|(n, h)| (h.id, n))
        .collect();
    let member_index: HashMap<i64, usize> = src
        .members
        .iter()
        .enumerate()
        .map(|(n, m)| (m.id, n))
        .collect();
    let dims_of = |m: &Member| -> PersonDims {
        let h = &src.households[hh_index[&m.household_id]];
        PersonDims {
            village: h.village.clone(),
            cause: h.cause.clone(),
            status: h.status.clone(),
            sex: m.sex.clone(),
            age: age_band(year - m.birth_year).to_string(),
        }
    };
    let labour = |m: &Member| in_labour_force(&m.sex, year - m.birth_year, m.labour.as_deref());

    // ---- people and households ------------------------------------------------
    for h in &src.households {
        cells.household(h, "", Metric::Households, 1);
    }
    for m in &src.members {
        if !hh_index.contains_key(&m.household_id) {
            continue;
        }
        let d = dims_of(m);
        cells.person(&d, "", Metric::People, 1);
        if labour(m) {
            cells.person(&d, "", Metric::LabourForce, 1);
        }
    }

    // First enrollment and first completion per household, for reached/trained.
    let mut hh_first_enrol: HashMap<i64, DateTime<Utc>> = HashMap::new();
    let mut hh_first_done: HashMap<i64, DateTime<Utc>> = HashMap::new();
    // Learners (by member) who completed a course, for the behaviour figures.
    let mut completer_members: BTreeSet<i64> = BTreeSet::new();

    for l in &src.learners {
        let member = l
            .member_id
            .and_then(|m| member_index.get(&m))
            .map(|n| &src.members[*n])
            .filter(|m| hh_index.contains_key(&m.household_id));
        let d = match member {
            Some(m) => dims_of(m),
            None => PersonDims {
                village: l.village.clone(),
                cause: String::new(),
                status: String::new(),
                sex: String::new(),
                age: String::new(),
            },
        };
        let ev = src.evidence.get(&l.id).map(Vec::as_slice).unwrap_or(&[]);
        let skills = skills::per_competence(ev);
        let es = src.enrollments.get(&l.id).map(Vec::as_slice).unwrap_or(&[]);
        let mut first_enrol: Option<DateTime<Utc>> = None;
        let mut first_done: Option<DateTime<Utc>> = None;
        for e in es {
            let m = month(e.enrolled_at);
            cells.person(&d, &m, Metric::Enrollments, 1);
            match e.state {
                EnrollmentState::Completed => cells.person(&d, &m, Metric::EnrollmentsCompleted, 1),
                EnrollmentState::Withdrawn => cells.person(&d, &m, Metric::EnrollmentsWithdrawn, 1),
                EnrollmentState::Enrolled | EnrollmentState::Paused => {}
            }
            first_enrol = Some(first_enrol.map_or(e.enrolled_at, |f| f.min(e.enrolled_at)));
            if let (Some(done), EnrollmentState::Completed) = (e.completed_at, e.state) {
                let cm = month(done);
                cells.person(&d, &cm, Metric::Completions, 1);
                let comps = courses.get(&e.course).map(Vec::as_slice).unwrap_or(&[]);
                if skills::mastered(&skills, comps) {
                    cells.person(&d, &cm, Metric::Mastered, 1);
                }
                first_done = Some(first_done.map_or(done, |f| f.min(done)));
            }
        }
        // Learners by their first enrollment, and which of them took both
        // tests (the share the gain rests on).
        if let Some(f) = first_enrol {
            let fm = month(f);
            cells.person(&d, &fm, Metric::Learners, 1);
            if skills.values().any(|s| s.pre.is_some() && s.post.is_some()) {
                cells.person(&d, &fm, Metric::LearnersBothTests, 1);
            }
        }
        if let Some(m) = member {
            if let Some(f) = first_enrol {
                if labour(m) {
                    cells.person(&d, &month(f), Metric::LabourForceEnrolled, 1);
                }
                let e = hh_first_enrol.entry(m.household_id).or_insert(f);
                *e = (*e).min(f);
            }
            if let Some(f) = first_done {
                let e = hh_first_done.entry(m.household_id).or_insert(f);
                *e = (*e).min(f);
                completer_members.insert(m.id);
            }
        }
        skills_gained(&mut cells, &d, ev, &skills);
    }

    // Behaviour of followed-up completers at 3 and 6 months: each member's
    // latest survey at that horizon, bucketed by the survey's month.
    let mut latest: BTreeMap<(i64, i32), &FollowUp> = BTreeMap::new();
    for f in &src.follow_ups {
        let Some(mid) = f.member_id else { continue };
        if !completer_members.contains(&mid) || !(f.months_after == 3 || f.months_after == 6) {
            continue;
        }
        let e = latest.entry((mid, f.months_after)).or_insert(f);
        if f.surveyed_at > e.surveyed_at {
            *e = f;
        }
    }
    for ((mid, horizon), f) in latest {
        let d = dims_of(&src.members[member_index[&mid]]);
        let sm = month(f.surveyed_at);
        let (n, a) = if horizon == 3 {
            (Metric::FollowedUp3, Metric::Active3)
        } else {
            (Metric::FollowedUp6, Metric::Active6)
        };
        cells.person(&d, &sm, n, 1);
        if f.active {
            cells.person(&d, &sm, a, 1);
        }
    }

    // Households: reached, trained, and the descriptive comparison of trained
    // and not-yet-trained households (income per head, follow-up activity).
    let mut hh_latest_fu: HashMap<i64, &FollowUp> = HashMap::new();
    for f in &src.follow_ups {
        let Some(hid) = f.household_id else { continue };
        let e = hh_latest_fu.entry(hid).or_insert(f);
        if f.surveyed_at > e.surveyed_at {
            *e = f;
        }
    }
    for h in &src.households {
        if let Some(f) = hh_first_enrol.get(&h.id) {
            cells.household(h, &month(*f), Metric::HouseholdsReached, 1);
        }
        let trained = hh_first_done.get(&h.id).map(|f| month(*f));
        if let Some(tm) = &trained {
            cells.household(h, tm, Metric::HouseholdsTrained, 1);
        }
        if let Some(fen) = src.income.get(&h.id) {
            cells.household(h, "", Metric::WithIncome, 1);
            cells.household(h, "", Metric::IncomeSum, *fen);
            if let Some(tm) = &trained {
                cells.household(h, tm, Metric::WithIncomeTrained, 1);
                cells.household(h, tm, Metric::IncomeSumTrained, *fen);
            }
        }
        if let Some(f) = hh_latest_fu.get(&h.id) {
            let act = i64::from(f.active);
            cells.household(h, "", Metric::FollowedUp, 1);
            cells.household(h, "", Metric::FollowedUpActive, act);
            if let Some(tm) = &trained {
                cells.household(h, tm, Metric::FollowedUpTrained, 1);
                cells.household(h, tm, Metric::FollowedUpActiveTrained, act);
            }
        }
    }
    cells
}

/// Skills gained by one learner: her baseline month (first test) buckets her
/// mean gain; each competence's pair of tests is bucketed by its pre-test.
fn skills_gained(
    cells: &mut Cells,
    d: &PersonDims,
    ev: &[skills::Evidence],
    skills: &BTreeMap<String, skills::Skill>,
) {
    let tested_at = ev
        .iter()
        .filter(|e| e.source == "pre" || e.source == "post")
        .map(|e| e.at)
        .min();
    let Some(at) = tested_at else { return };
    let bm = month(at);
    cells.person(d, &bm, Metric::Tested, 1);
    let both: Vec<&skills::Skill> = skills
        .values()
        .filter(|s| s.pre.is_some() && s.post.is_some())
        .collect();
    if !both.is_empty() {
        let n = both.len() as f64;
        let mean = |score: fn(&skills::Skill) -> Option<i32>| {
            both.iter()
                .map(|s| f64::from(score(s).unwrap_or(0)))
                .sum::<f64>()
                / n
        };
        let pre = mean(|s| s.pre);
        let post = mean(|s| s.post);
        cells.person(d, &bm, Metric::BothTests, 1);
        cells.person(d, &bm, Metric::PreSum, (pre * 100.0).round() as i64);
        cells.person(d, &bm, Metric::PostSum, (post * 100.0).round() as i64);
        if pre < 100.0 {
            let g = (post - pre) / (100.0 - pre);
            cells.person(d, &bm, Metric::GainN, 1);
            cells.person(d, &bm, Metric::GainSum, (g * 10_000.0).round() as i64);
        }
    }
    for sk in skills.values() {
        let (Some(pre), Some(post), Some(pre_at)) = (sk.pre, sk.post, sk.pre_at) else {
            continue;
        };
        let cut = (Cut::Competence, sk.competence.as_str());
        let pm = month(pre_at);
        let mut add = |metric, v| cells.add(&d.village, cut, &pm, metric, v);
        add(Metric::CompetencePairs, 1);
        add(Metric::CompetencePre, i64::from(pre));
        add(Metric::CompetencePost, i64::from(post));
        if let Some(g) = skills::gain(pre, post) {
            add(Metric::CompetenceGainN, 1);
            add(Metric::CompetenceGainSum, (g * 10_000.0).round() as i64);
        }
        if sk.level >= 2 {
            add(Metric::CompetenceLevel2, 1);
        }
    }
}

#[cfg(test)]
#[path = "tally_tests.rs"]
mod tests;
