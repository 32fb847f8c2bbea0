//! The additive metrics of the `report_cell` rollup: what the tally counts in
//! each cell, and how a period sums the cells of a metric. Every figure of the
//! dashboard divides or shows these (see `figure`).
//!
//! The stored key (the `metric` column) is the metric's name in the database:
//! changing one needs a migration of the rows or a full rebuild.

use std::collections::HashMap;

use sea_orm::{EnumIter, Iterable};

use super::period::Period;

/// How a period sums a dated metric. Undated cells (registry metrics, month
/// `""`) count in every period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tally {
    /// What happened in the period: summed over its months.
    Flow,
    /// Who has been reached by the end of the period: every month up to its
    /// end (a member or household counts from the month of its first
    /// enrollment or completion).
    Stock,
}

/// One additive metric of the rollup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, EnumIter)]
pub enum Metric {
    /// Households registered, now.
    Households,
    /// Members registered, now.
    People,
    /// Members in the labour force, now.
    LabourForce,
    /// Labour-force members, by the month of their first enrollment.
    LabourForceEnrolled,
    /// Enrollments, by the month they were made.
    Enrollments,
    /// Enrollments now completed, by the month they were made.
    EnrollmentsCompleted,
    /// Enrollments now withdrawn, by the month they were made.
    EnrollmentsWithdrawn,
    /// Completions, by the month of completion.
    Completions,
    /// Completions whose learner mastered the course's competences.
    Mastered,
    /// Learners with a pre- or post-test, by the month of the first.
    Tested,
    /// Learners with both tests on some competence.
    BothTests,
    /// Learners, by the month of their first enrollment.
    Learners,
    /// Of them, those with both tests on some competence.
    LearnersBothTests,
    /// Sum of those learners' mean pre-test scores, ×100 (learners with
    /// both tests, by the month of their first test).
    PreSum,
    /// Sum of those learners' mean post-test scores, ×100.
    PostSum,
    /// Learners in the mean gain (pre-test below 100).
    GainN,
    /// Sum of their gains, ×10,000.
    GainSum,
    /// Completers followed up at 3 months, by the survey's month.
    FollowedUp3,
    /// Of them, with a listed activity.
    Active3,
    /// Completers followed up at 6 months.
    FollowedUp6,
    /// Of them, with a listed activity.
    Active6,
    /// Learner–competence pairs with both tests, by the pre-test's month.
    CompetencePairs,
    /// Sum of the pairs' pre-test scores.
    CompetencePre,
    /// Sum of the pairs' post-test scores.
    CompetencePost,
    /// Pairs in the mean gain (pre-test below 100).
    CompetenceGainN,
    /// Sum of their gains, ×10,000.
    CompetenceGainSum,
    /// Pairs at level 2 (on own).
    CompetenceLevel2,
    /// Households reached, by the month of their first enrollment.
    HouseholdsReached,
    /// Households trained, by the month of their first completion.
    HouseholdsTrained,
    /// Households with an income record, now.
    WithIncome,
    /// Sum of their latest net income per head, in fen.
    IncomeSum,
    /// Trained households with an income record, by the month trained.
    WithIncomeTrained,
    /// Sum of their latest net income per head, in fen.
    IncomeSumTrained,
    /// Households followed up, now.
    FollowedUp,
    /// Of them, active at their latest follow-up.
    FollowedUpActive,
    /// Trained households followed up, by the month trained.
    FollowedUpTrained,
    /// Of them, active at their latest follow-up.
    FollowedUpActiveTrained,
}

impl Metric {
    /// The key stored in `report_cell.metric`.
    pub const fn key(self) -> &'static str {
        use Metric::*;
        match self {
            Households => "hh",
            People => "people",
            LabourForce => "lf",
            LabourForceEnrolled => "lf_enrolled",
            Enrollments => "enrol",
            EnrollmentsCompleted => "enrol_done",
            EnrollmentsWithdrawn => "enrol_wd",
            Completions => "complete",
            Mastered => "mastered",
            Tested => "tested",
            BothTests => "both",
            Learners => "learners",
            LearnersBothTests => "learners_both",
            PreSum => "pre_sum",
            PostSum => "post_sum",
            GainN => "g_n",
            GainSum => "g_sum",
            FollowedUp3 => "fu3_n",
            Active3 => "fu3_act",
            FollowedUp6 => "fu6_n",
            Active6 => "fu6_act",
            CompetencePairs => "c_pairs",
            CompetencePre => "c_pre",
            CompetencePost => "c_post",
            CompetenceGainN => "c_g_n",
            CompetenceGainSum => "c_g_sum",
            CompetenceLevel2 => "c_l2",
            HouseholdsReached => "hh_reached",
            HouseholdsTrained => "hh_trained",
            WithIncome => "inc_n",
            IncomeSum => "inc_sum",
            WithIncomeTrained => "inc_n_t",
            IncomeSumTrained => "inc_sum_t",
            FollowedUp => "hfu_n",
            FollowedUpActive => "hfu_act",
            FollowedUpTrained => "hfu_n_t",
            FollowedUpActiveTrained => "hfu_act_t",
        }
    }

    pub const fn tally(self) -> Tally {
        use Metric::*;
        match self {
            Enrollments | EnrollmentsCompleted | EnrollmentsWithdrawn | Completions | Mastered
            | Tested | BothTests | Learners | LearnersBothTests | PreSum | PostSum | GainN
            | GainSum | FollowedUp3 | Active3 | FollowedUp6 | Active6 | CompetencePairs
            | CompetencePre | CompetencePost | CompetenceGainN | CompetenceGainSum
            | CompetenceLevel2 => Tally::Flow,
            Households
            | People
            | LabourForce
            | LabourForceEnrolled
            | HouseholdsReached
            | HouseholdsTrained
            | WithIncome
            | IncomeSum
            | WithIncomeTrained
            | IncomeSumTrained
            | FollowedUp
            | FollowedUpActive
            | FollowedUpTrained
            | FollowedUpActiveTrained => Tally::Stock,
        }
    }

    /// The metric stored under `key`; none for a key no longer counted.
    pub fn parse(key: &str) -> Option<Metric> {
        Metric::iter().find(|m| m.key() == key)
    }
}

/// The cut a cell belongs to (`report_cell.cut_kind`), its value being the
/// cause code, status, sex, age band or competence (`""` for `All`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, EnumIter)]
pub enum Cut {
    All,
    /// The household's primary poverty cause.
    Cause,
    /// The household's status.
    Status,
    Sex,
    Age,
    /// Learner–competence pairs (skills gained).
    Competence,
}

impl Cut {
    /// The key stored in `report_cell.cut_kind`.
    pub const fn key(self) -> &'static str {
        match self {
            Cut::All => "all",
            Cut::Cause => "cause",
            Cut::Status => "status",
            Cut::Sex => "sex",
            Cut::Age => "age",
            Cut::Competence => "competence",
        }
    }

    pub fn parse(key: &str) -> Option<Cut> {
        Cut::iter().find(|c| c.key() == key)
    }

    /// Whether households are counted in this cut (the others describe
    /// people).
    pub const fn has_households(self) -> bool {
        matches!(self, Cut::All | Cut::Cause | Cut::Status)
    }
}

/// The metrics of one group (an area, or one cut of it) summed over a period.
#[derive(Debug, Default, Clone)]
pub struct Sums(HashMap<Metric, i64>);

impl Sums {
    pub fn get(&self, m: Metric) -> i64 {
        self.0.get(&m).copied().unwrap_or(0)
    }

    /// Adds a cell of `month` (`""` for an undated one) when the period
    /// counts it.
    pub fn add(&mut self, period: &Period, month: &str, metric: Metric, value: i64) {
        let counts = month.is_empty()
            || match metric.tally() {
                Tally::Flow => period.flow(month),
                Tally::Stock => period.stock(month),
            };
        if counts {
            *self.0.entry(metric).or_insert(0) += value;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn keys_are_distinct_and_read_back() {
        let keys: HashSet<&str> = Metric::iter().map(Metric::key).collect();
        assert_eq!(keys.len(), Metric::iter().count());
        for m in Metric::iter() {
            assert_eq!(Metric::parse(m.key()), Some(m));
        }
        assert_eq!(Metric::parse("no_such_metric"), None);
        for c in Cut::iter() {
            assert_eq!(Cut::parse(c.key()), Some(c));
        }
    }

    #[test]
    fn flows_count_in_the_period_and_stocks_up_to_its_end() {
        let mut s = Sums::default();
        let feb = Period {
            from: Some("2026-02".into()),
            to: "2026-02".into(),
        };
        for month in ["2026-01", "2026-02", "2026-03", ""] {
            s.add(&feb, month, Metric::Enrollments, 1);
            s.add(&feb, month, Metric::HouseholdsReached, 1);
        }
        // February and the undated cell.
        assert_eq!(s.get(Metric::Enrollments), 2);
        // January, February and the undated cell.
        assert_eq!(s.get(Metric::HouseholdsReached), 3);
        assert_eq!(s.get(Metric::Completions), 0);
    }
}
