//! The tally on hand-made records (reference year 2026):
//!
//! | household | village | status | cause | members (sex, born, labour) | income |
//! |---|---|---|---|---|---|
//! | H1 | V | registered | 07 | m11 male 1986; m12 female 1968 | 400000 |
//! | H2 | V | exited | 01 | m21 female 2000 lost; m22 male 1990 | — |
//! | H3 | V2 | registered | — | m31 male 2015 | 300000 |
//!
//! m99 belongs to no household read. Learners: L1 (m11) completed course c
//! (2026-01-10 → 2026-02-15; competence a 40 → 85, retaken 100 the next
//! day, b 100 → 100) and withdrew
//! from c2 (2026-03-01); L2 (m22) enrolled 2026-02-01; L3 (no member, V)
//! completed c (2026-01-20 → 2026-01-30) without tests. Follow-ups: m11 at 3
//! months (inactive 2026-04-15, then active 2026-05-15), m22 at 3 months (not
//! a completer); H1 active and H2 inactive at 12 months (2026-06-01).

use std::collections::HashMap;

use chrono::{TimeZone, Utc};

use super::super::load::{Enrollment, FollowUp, Household, Learner, Member, Sources};
use super::*;
use crate::entities::enrollment::EnrollmentState;
use crate::reports::skills::Evidence;

const V: &str = "530627102001";
const V2: &str = "530627102002";
const ALL: (Cut, &str) = (Cut::All, "");

fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 10, 0, 0).unwrap()
}

fn household(id: i64, village: &str, status: &str, cause: &str) -> Household {
    Household {
        id,
        village: village.into(),
        status: status.into(),
        cause: cause.into(),
    }
}

fn member(id: i64, household_id: i64, sex: &str, birth_year: i32) -> Member {
    Member {
        id,
        household_id,
        sex: sex.into(),
        birth_year,
        labour: None,
    }
}

fn enrollment(
    course: &str,
    state: EnrollmentState,
    enrolled: DateTime<Utc>,
    done: Option<DateTime<Utc>>,
) -> Enrollment {
    Enrollment {
        course: course.into(),
        state,
        enrolled_at: enrolled,
        completed_at: done,
    }
}

fn test(competence: &str, source: &str, score: i32, when: DateTime<Utc>) -> Evidence {
    Evidence {
        competence: competence.into(),
        source: source.into(),
        score: Some(score),
        level: None,
        at: when,
    }
}

fn follow_up(
    household: Option<i64>,
    member: Option<i64>,
    months: i32,
    when: DateTime<Utc>,
    active: bool,
) -> FollowUp {
    FollowUp {
        household_id: household,
        member_id: member,
        months_after: months,
        surveyed_at: when,
        active,
    }
}

fn sources() -> Sources {
    let mut lost = member(21, 2, "female", 2000);
    lost.labour = Some("lost".into());
    Sources {
        households: vec![
            household(1, V, "registered", "07"),
            household(2, V, "exited", "01"),
            household(3, V2, "registered", ""),
        ],
        members: vec![
            member(11, 1, "male", 1986),
            member(12, 1, "female", 1968),
            lost,
            member(22, 2, "male", 1990),
            member(31, 3, "male", 2015),
            member(99, 999, "male", 1990),
        ],
        learners: vec![
            Learner {
                id: 101,
                member_id: Some(11),
                village: V.into(),
            },
            Learner {
                id: 102,
                member_id: Some(22),
                village: V.into(),
            },
            Learner {
                id: 103,
                member_id: None,
                village: V.into(),
            },
        ],
        enrollments: HashMap::from([
            (
                101,
                vec![
                    enrollment(
                        "c",
                        EnrollmentState::Completed,
                        at(2026, 1, 10),
                        Some(at(2026, 2, 15)),
                    ),
                    enrollment("c2", EnrollmentState::Withdrawn, at(2026, 3, 1), None),
                ],
            ),
            (
                102,
                vec![enrollment(
                    "c",
                    EnrollmentState::Enrolled,
                    at(2026, 2, 1),
                    None,
                )],
            ),
            (
                103,
                vec![enrollment(
                    "c",
                    EnrollmentState::Completed,
                    at(2026, 1, 20),
                    Some(at(2026, 1, 30)),
                )],
            ),
        ]),
        evidence: HashMap::from([(
            101,
            vec![
                test("a", "pre", 40, at(2026, 1, 10)),
                test("b", "pre", 100, at(2026, 1, 10)),
                test("a", "post", 85, at(2026, 2, 15)),
                test("b", "post", 100, at(2026, 2, 15)),
                // A retake of the post-test: no figure may count it.
                test("a", "post", 100, at(2026, 2, 16)),
            ],
        )]),
        follow_ups: vec![
            follow_up(Some(1), Some(11), 3, at(2026, 4, 15), false),
            follow_up(Some(1), Some(11), 3, at(2026, 5, 15), true),
            follow_up(Some(2), Some(22), 3, at(2026, 5, 15), true),
            follow_up(Some(1), None, 12, at(2026, 6, 1), true),
            follow_up(Some(2), None, 12, at(2026, 6, 1), false),
        ],
        income: HashMap::from([(1, 400_000), (3, 300_000)]),
    }
}

fn tally_2026() -> Cells {
    let courses = HashMap::from([("c".to_string(), vec!["a".to_string(), "b".to_string()])]);
    tally(&sources(), &courses, 2026)
}

#[test]
fn the_registry_is_counted_by_cut() {
    let c = tally_2026();
    assert_eq!(c.get(V, ALL, "", Metric::Households), 2);
    assert_eq!(c.get(V2, ALL, "", Metric::Households), 1);
    assert_eq!(c.get(V, (Cut::Cause, "07"), "", Metric::Households), 1);
    assert_eq!(c.get(V, (Cut::Status, "exited"), "", Metric::Households), 1);
    // Households are not cut by sex or age.
    assert_eq!(c.get(V, (Cut::Sex, "male"), "", Metric::Households), 0);
    // m99's household was not read: she counts nowhere.
    assert_eq!(c.get(V, ALL, "", Metric::People), 4);
    assert_eq!(c.get(V2, ALL, "", Metric::People), 1);
    // Labour force: m11 (40) and m22 (36); m12 is 58, m21 cannot work, m31 is 11.
    assert_eq!(c.get(V, ALL, "", Metric::LabourForce), 2);
    assert_eq!(c.get(V, (Cut::Sex, "male"), "", Metric::LabourForce), 2);
    assert_eq!(c.get(V, (Cut::Age, "30-44"), "", Metric::LabourForce), 2);
    assert_eq!(c.get(V2, ALL, "", Metric::LabourForce), 0);
    assert_eq!(c.get(V2, (Cut::Age, "0-15"), "", Metric::People), 1);
}

#[test]
fn enrollments_and_completions_fall_in_their_months() {
    let c = tally_2026();
    assert_eq!(c.get(V, ALL, "2026-01", Metric::Enrollments), 2);
    assert_eq!(c.get(V, ALL, "2026-02", Metric::Enrollments), 1);
    assert_eq!(c.get(V, ALL, "2026-03", Metric::Enrollments), 1);
    assert_eq!(c.get(V, ALL, "2026-01", Metric::EnrollmentsCompleted), 2);
    assert_eq!(c.get(V, ALL, "2026-03", Metric::EnrollmentsWithdrawn), 1);
    assert_eq!(c.get(V, ALL, "2026-02", Metric::Completions), 1);
    assert_eq!(c.get(V, ALL, "2026-01", Metric::Completions), 1);
    // L3 is linked to no household: her cuts are "unknown".
    assert_eq!(
        c.get(V, (Cut::Cause, ""), "2026-01", Metric::Completions),
        1
    );
    assert_eq!(
        c.get(V, (Cut::Cause, "07"), "2026-02", Metric::Completions),
        1
    );
    // L1 is at level 2 on both of c's competences; L3 has no evidence.
    assert_eq!(c.get(V, ALL, "2026-02", Metric::Mastered), 1);
    assert_eq!(c.get(V, ALL, "2026-01", Metric::Mastered), 0);
    // Labour-force members by the month of their first enrollment.
    assert_eq!(c.get(V, ALL, "2026-01", Metric::LabourForceEnrolled), 1);
    assert_eq!(c.get(V, ALL, "2026-02", Metric::LabourForceEnrolled), 1);
    // H1 reached in January and trained in February; H2 reached in February.
    assert_eq!(c.get(V, ALL, "2026-01", Metric::HouseholdsReached), 1);
    assert_eq!(c.get(V, ALL, "2026-02", Metric::HouseholdsReached), 1);
    assert_eq!(c.get(V, ALL, "2026-02", Metric::HouseholdsTrained), 1);
    assert_eq!(
        c.get(
            V,
            (Cut::Status, "exited"),
            "2026-02",
            Metric::HouseholdsTrained
        ),
        0
    );
}

#[test]
fn skills_are_bucketed_by_the_first_test() {
    let c = tally_2026();
    let jan = "2026-01";
    assert_eq!(c.get(V, ALL, jan, Metric::Tested), 1);
    assert_eq!(c.get(V, ALL, jan, Metric::BothTests), 1);
    // Learners by their first enrollment: L1 and L3 in January, L2 in
    // February; of them only L1 took both tests.
    assert_eq!(c.get(V, ALL, jan, Metric::Learners), 2);
    assert_eq!(c.get(V, ALL, "2026-02", Metric::Learners), 1);
    assert_eq!(c.get(V, ALL, jan, Metric::LearnersBothTests), 1);
    assert_eq!(c.get(V, ALL, "2026-02", Metric::LearnersBothTests), 0);
    // Means over a and b with the first post-test (the retake of a at 100
    // would make the post mean 100 and g 1): pre (40 + 100) / 2 = 70, post
    // (85 + 100) / 2 = 92.5; g = 22.5 / 30 = 0.75.
    assert_eq!(c.get(V, ALL, jan, Metric::PreSum), 7_000);
    assert_eq!(c.get(V, ALL, jan, Metric::PostSum), 9_250);
    assert_eq!(c.get(V, ALL, jan, Metric::GainN), 1);
    assert_eq!(c.get(V, ALL, jan, Metric::GainSum), 7_500);
    let a = (Cut::Competence, "a");
    let b = (Cut::Competence, "b");
    assert_eq!(c.get(V, a, jan, Metric::CompetencePairs), 1);
    assert_eq!(c.get(V, a, jan, Metric::CompetencePre), 40);
    assert_eq!(c.get(V, a, jan, Metric::CompetencePost), 85);
    assert_eq!(c.get(V, a, jan, Metric::CompetenceGainN), 1);
    // a: 45 / 60 = 0.75; b: a pre-test of 100 has no gain.
    assert_eq!(c.get(V, a, jan, Metric::CompetenceGainSum), 7_500);
    assert_eq!(c.get(V, b, jan, Metric::CompetencePairs), 1);
    assert_eq!(c.get(V, b, jan, Metric::CompetenceGainN), 0);
    assert_eq!(c.get(V, b, jan, Metric::CompetenceLevel2), 1);
}

#[test]
fn follow_ups_and_incomes_compare_trained_households() {
    let c = tally_2026();
    // m11's latest 3-month survey (May, active); m22 completed nothing.
    assert_eq!(c.get(V, ALL, "2026-05", Metric::FollowedUp3), 1);
    assert_eq!(c.get(V, ALL, "2026-05", Metric::Active3), 1);
    assert_eq!(c.get(V, ALL, "2026-04", Metric::FollowedUp3), 0);
    assert_eq!(c.get(V, ALL, "", Metric::WithIncome), 1);
    assert_eq!(c.get(V, ALL, "", Metric::IncomeSum), 400_000);
    assert_eq!(c.get(V2, ALL, "", Metric::IncomeSum), 300_000);
    assert_eq!(c.get(V, ALL, "2026-02", Metric::WithIncomeTrained), 1);
    assert_eq!(c.get(V, ALL, "2026-02", Metric::IncomeSumTrained), 400_000);
    // Households' latest follow-ups: H1 (June, active), H2 (June, inactive).
    assert_eq!(c.get(V, ALL, "", Metric::FollowedUp), 2);
    assert_eq!(c.get(V, ALL, "", Metric::FollowedUpActive), 1);
    assert_eq!(c.get(V, ALL, "2026-02", Metric::FollowedUpTrained), 1);
    assert_eq!(c.get(V, ALL, "2026-02", Metric::FollowedUpActiveTrained), 1);
}

#[test]
fn households_are_counted_only_in_household_cuts() {
    for (k, v) in tally_2026() {
        if matches!(k.metric, Metric::Households | Metric::HouseholdsTrained) {
            assert!(k.cut.has_households(), "{k:?} = {v}");
        }
    }
}

#[test]
fn nothing_is_counted_from_nothing() {
    assert_eq!(
        tally(&Sources::default(), &HashMap::new(), 2026)
            .into_iter()
            .count(),
        0
    );
}

#[test]
fn the_rules_of_counting() {
    assert_eq!(age_band(15), "0-15");
    assert_eq!(age_band(16), "16-29");
    assert_eq!(age_band(60), "60+");
    assert!(in_labour_force("male", 60, None));
    assert!(!in_labour_force("female", 56, None));
    assert!(!in_labour_force("male", 30, Some("none")));
    assert!(!in_labour_force("male", 15, Some("full")));
    assert!(active(None, Some(1), None));
    assert!(active(None, None, Some(100)));
    assert!(!active(Some(false), Some(0), None));
}
