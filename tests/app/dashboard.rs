//! The officials' dashboard, the summary API and the CSV export against a
//! fixture whose every figure is computed by hand below.
//!
//! Township A (泼机镇 530627102000), reference year 2026:
//!
//! | households | village | status | primary cause | income/head 2025 (fen) |
//! |---|---|---|---|---|
//! | H1–H6 | A (…102001) | registered | 07 | 400000, 450000, …, 650000 |
//! | H7, H8 | A | exited | 01 | 300000, 320000 |
//! | H9 | A | monitored | 09 | 340000 |
//! | H10 | A | ordinary | 09 | 360000 |
//! | H11–H14 | A2 (…102002) | registered | 07 | H11 700000, H12 380000, H13–H14 none |
//!
//! Every household: a head (man born 1986, age 40: labour force) and a spouse
//! (woman born 1968, age 58: not labour force). 28 members, 14 in the labour force.
//!
//! Learners (course smartphone-basics, competences it.connect, it.apps,
//! it.files, it.troubleshoot; every competence gets the same scores):
//!
//! | learner | member of | enrolled | state | completed | pre | post |
//! |---|---|---|---|---|---|---|
//! | L1–L6 | heads of H1–H6 | 2026-01-10 | completed | 2026-02-15 | 40, 50, 60, 20, 100, 30 | 85, 90, 80, 80, 100, 60 |
//! | L7 | head of H7 | 2026-02-05 | enrolled | — | 30 | — |
//! | L8 | head of H11 | 2026-03-01 | completed | 2026-03-20 | 52 | 90 |
//! | L9 | none (volunteer in A) | 2026-01-20 | completed | 2026-02-25 | 60 | 46 |
//! | L10 | head of H9 | 2026-01-15 | withdrawn (the dropout) | — | — | — |
//!
//! Follow-ups: L1–L6 at 3 months (2026-05-15), L1–L5 with an active shop, L6
//! without. Household follow-ups (12 months, 2026-06-01) of H7, H8, H9, H10,
//! H12, H13, H14: active H7, H8, H9, H10, H12.

use std::collections::HashMap;

use chrono::{TimeZone, Utc};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::engine_test;
use crate::helpers::{COURSE, TestApp, VILLAGE_A, VILLAGE_A2, VILLAGE_B, id_number};
use fuzhi::entities::{app_user, enrollment, skill_evidence};
use fuzhi::households::store::{self, FollowUpInput, IncomeInput, MemberInput, NewHousehold};

const COMPETENCES: [&str; 4] = ["it.connect", "it.apps", "it.files", "it.troubleshoot"];

fn at(y: i32, m: u32, d: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 10, 0, 0).unwrap()
}

struct Fixture {
    official: i64,
    admin: i64,
    /// Household ids H1..H14 (index 0 is H1) and their heads' member ids.
    households: Vec<(i64, i64)>,
}

async fn fixture(app: &TestApp) -> Fixture {
    let p = app.people().await;
    app.import_course(COURSE).await;
    let admin_model = fuzhi::accounts::users::find(app.conn(), p.admin)
        .await
        .unwrap()
        .unwrap();
    let admin = fuzhi::accounts::users::actor_of(&admin_model);
    let db = app.conn();
    // (village, status, cause)
    let mut spec = Vec::new();
    for _ in 0..6 {
        spec.push((VILLAGE_A, "registered", "07"));
    }
    spec.push((VILLAGE_A, "exited", "01"));
    spec.push((VILLAGE_A, "exited", "01"));
    spec.push((VILLAGE_A, "monitored", "09"));
    spec.push((VILLAGE_A, "ordinary", "09"));
    for _ in 0..4 {
        spec.push((VILLAGE_A2, "registered", "07"));
    }
    let mut households = Vec::new();
    for (n, (village, status, cause)) in spec.into_iter().enumerate() {
        let n = n as u16;
        let h = store::create(
            db,
            &admin,
            b"test-hmac-key-0123456789abcdef0123456789ab",
            &NewHousehold {
                registry_no: format!("DASH-{:02}", n + 1),
                area_code: village.into(),
                status: Some(status.into()),
                monitor_type: (status == "monitored").then(|| "marginal".to_string()),
                exited_year: (status == "exited").then_some(2020),
                primary_cause: Some(cause.into()),
                members: vec![
                    MemberInput {
                        name: format!("户主{n}"),
                        id_number: id_number(1986, 2 * n + 1),
                        relation: "head".into(),
                        ..Default::default()
                    },
                    MemberInput {
                        name: format!("配偶{n}"),
                        id_number: id_number(1968, 2 * n + 2),
                        relation: "spouse".into(),
                        ..Default::default()
                    },
                ],
                ..Default::default()
            },
        )
        .await
        .unwrap_or_else(|e| panic!("household {n}: {e:?}"));
        let d = store::get(db, &admin, h.id, false).await.unwrap();
        let head = d.members.iter().find(|m| m.relation == "head").unwrap().id;
        households.push((h.id, head));
    }

    // Learners: (login, member, enrolled, state, completed, pre, post)
    type L = (
        &'static str,
        Option<usize>,
        chrono::DateTime<Utc>,
        fuzhi::entities::enrollment::EnrollmentState,
        Option<chrono::DateTime<Utc>>,
        Option<i32>,
        Option<i32>,
    );
    let learners: Vec<L> = vec![
        (
            "13800000001",
            Some(0),
            at(2026, 1, 10),
            fuzhi::entities::enrollment::EnrollmentState::Completed,
            Some(at(2026, 2, 15)),
            Some(40),
            Some(85),
        ),
        (
            "13800000002",
            Some(1),
            at(2026, 1, 10),
            fuzhi::entities::enrollment::EnrollmentState::Completed,
            Some(at(2026, 2, 15)),
            Some(50),
            Some(90),
        ),
        (
            "13800000003",
            Some(2),
            at(2026, 1, 10),
            fuzhi::entities::enrollment::EnrollmentState::Completed,
            Some(at(2026, 2, 15)),
            Some(60),
            Some(80),
        ),
        (
            "13800000004",
            Some(3),
            at(2026, 1, 10),
            fuzhi::entities::enrollment::EnrollmentState::Completed,
            Some(at(2026, 2, 15)),
            Some(20),
            Some(80),
        ),
        (
            "13800000005",
            Some(4),
            at(2026, 1, 10),
            fuzhi::entities::enrollment::EnrollmentState::Completed,
            Some(at(2026, 2, 15)),
            Some(100),
            Some(100),
        ),
        (
            "13800000006",
            Some(5),
            at(2026, 1, 10),
            fuzhi::entities::enrollment::EnrollmentState::Completed,
            Some(at(2026, 2, 15)),
            Some(30),
            Some(60),
        ),
        (
            "13800000007",
            Some(6),
            at(2026, 2, 5),
            fuzhi::entities::enrollment::EnrollmentState::Enrolled,
            None,
            Some(30),
            None,
        ),
        (
            "13800000008",
            Some(10),
            at(2026, 3, 1),
            fuzhi::entities::enrollment::EnrollmentState::Completed,
            Some(at(2026, 3, 20)),
            Some(52),
            Some(90),
        ),
        (
            "13800000009",
            None,
            at(2026, 1, 20),
            fuzhi::entities::enrollment::EnrollmentState::Completed,
            Some(at(2026, 2, 25)),
            Some(60),
            Some(46),
        ),
        (
            "13800000010",
            Some(8),
            at(2026, 1, 15),
            fuzhi::entities::enrollment::EnrollmentState::Withdrawn,
            None,
            None,
            None,
        ),
    ];
    for (login, member, enrolled, state, completed, pre, post) in learners {
        let village = match member {
            Some(10..) => VILLAGE_A2,
            _ => VILLAGE_A,
        };
        let uid = app.user(login, "learner", Some(village)).await;
        let member_id = member.map(|i| households[i].1);
        let household_id = member.map(|i| households[i].0);
        if let Some(m) = member_id {
            app_user::Entity::update_many()
                .col_expr(
                    app_user::Column::MemberId,
                    sea_orm::sea_query::Expr::value(m),
                )
                .filter(app_user::Column::Id.eq(uid))
                .exec(db)
                .await
                .unwrap();
        }
        enrollment::ActiveModel {
            user_id: Set(uid),
            course_slug: Set(COURSE.into()),
            state: Set(state),
            area_code: Set(Some(village.into())),
            household_id: Set(household_id),
            pre_done: Set(pre.is_some()),
            enrolled_at: Set(enrolled),
            completed_at: Set(completed),
            ..Default::default()
        }
        .insert(db)
        .await
        .unwrap();
        for c in COMPETENCES {
            for (source, score, when) in [
                ("pre", pre, enrolled + chrono::Duration::hours(1)),
                ("post", post, completed.unwrap_or(enrolled)),
            ] {
                let Some(score) = score else { continue };
                skill_evidence::ActiveModel {
                    user_id: Set(uid),
                    competence: Set(c.into()),
                    course_slug: Set(Some(COURSE.into())),
                    source: Set(source.into()),
                    score: Set(Some(score)),
                    area_code: Set(Some(village.into())),
                    at: Set(when),
                    ..Default::default()
                }
                .insert(db)
                .await
                .unwrap();
            }
        }
    }
    // Completers' follow-ups at 3 months: L1–L5 active, L6 not.
    for (i, (hid, head)) in households.iter().take(6).enumerate() {
        store::record_follow_up(
            db,
            &admin,
            *hid,
            &FollowUpInput {
                member_id: Some(*head),
                surveyed_at: Some("2026-05-15".into()),
                months_after: 3,
                shop_active: Some(i < 5),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    }
    // Household follow-ups of not-yet-trained households.
    for (i, active) in [
        (6, true),
        (7, true),
        (8, true),
        (9, true),
        (11, true),
        (12, false),
        (13, false),
    ] {
        store::record_follow_up(
            db,
            &admin,
            households[i].0,
            &FollowUpInput {
                surveyed_at: Some("2026-06-01".into()),
                months_after: 12,
                shop_active: Some(active),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    }
    let incomes: [(usize, i64); 12] = [
        (0, 400_000),
        (1, 450_000),
        (2, 500_000),
        (3, 550_000),
        (4, 600_000),
        (5, 650_000),
        (10, 700_000),
        (6, 300_000),
        (7, 320_000),
        (8, 340_000),
        (9, 360_000),
        (11, 380_000),
    ];
    for (i, fen) in incomes {
        store::record_income(
            db,
            &admin,
            households[i].0,
            &IncomeInput {
                year: 2025,
                net_per_capita_fen: Some(fen),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    }
    // Someone outside township A, who must never show up in its figures.
    let outside = app.user("13800000099", "learner", Some(VILLAGE_B)).await;
    enrollment::ActiveModel {
        user_id: Set(outside),
        course_slug: Set(COURSE.into()),
        state: Set(fuzhi::entities::enrollment::EnrollmentState::Enrolled),
        area_code: Set(Some(VILLAGE_B.into())),
        pre_done: Set(false),
        enrolled_at: Set(at(2026, 1, 10)),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    let r = fuzhi::reports::rollup::run_once(db).await.unwrap();
    assert!(r.full, "the first refresh rebuilds everything");
    Fixture {
        official: p.official,
        admin: p.admin,
        households,
    }
}

fn find<'a>(groups: &'a Value, code: &str) -> &'a Value {
    groups
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["code"] == code)
        .unwrap_or_else(|| panic!("no group {code} in {groups}"))
}

/// The hand-computed figures of township A over all time (to 2026-12).
fn check_township(s: &Value) {
    let f = &s["figures"];
    // 14 households; 14 heads aged 40 in the labour force (spouses are 58).
    assert_eq!(f["households"], 14);
    assert_eq!(f["labour_force"], 14);
    // Coverage: labour-force members who enrolled: L1–L8 and L10 = 9 (L9 is
    // no member) → 9 / 14 = 0.642857… → 0.6429.
    assert_eq!(
        f["coverage"],
        json!({"rate": 0.6429, "numerator": 9, "denominator": 14})
    );
    // Enrollments L1–L10 = 10; completed L1–L6, L8, L9 = 8 → 8 / 10 = 0.8.
    assert_eq!(f["enrollments"], 10);
    assert_eq!(
        f["completion_rate"],
        json!({"rate": 0.8, "numerator": 8, "denominator": 10})
    );
    // One dropout: fewer than five.
    assert_eq!(f["withdrawn"], "<5");
    assert_eq!(f["completions"], 8);
    // Reached: H1–H7, H9, H11 = 9 → 9 / 14 = 0.6429.
    assert_eq!(
        f["households_reached"],
        json!({"rate": 0.6429, "numerator": 9, "denominator": 14})
    );
    // Trained: H1–H6, H11 = 7 → 7 / 14 = 0.5.
    assert_eq!(
        f["households_trained"],
        json!({"rate": 0.5, "numerator": 7, "denominator": 14})
    );
    // Mastery: post ≥ 80 is level 2 on all four competences for L1–L5 and
    // L8; L6 (60) and L9 (46) are not → 6 / 8 = 0.75.
    assert_eq!(
        f["mastery"],
        json!({"rate": 0.75, "numerator": 6, "denominator": 8})
    );
    // Gain per learner: L1 (85−40)/60 = 0.75, L2 40/50 = 0.8, L3 20/40 = 0.5,
    // L4 60/80 = 0.75, L6 30/70 = 0.4286, L8 38/48 = 0.7917, L9 −14/40 = −0.35;
    // L5 (pre 100) left out. Sum 3.6703 / 7 = 0.52433 → 0.5243.
    let g = &f["gain"];
    assert_eq!(g["mean"], 0.5243);
    assert_eq!(g["n"], 7);
    // Mean pre of the 8 with both tests: (40+50+60+20+100+30+52+60)/8 = 412/8 = 51.5.
    assert_eq!(g["mean_pre"], 51.5);
    // Mean post: (85+90+80+80+100+60+90+46)/8 = 631/8 = 78.875 → 78.88.
    assert_eq!(g["mean_post"], 78.88);
    // Both tests: 8 of the 10 learners enrolled (L7 has no post-test, L10
    // dropped out before any test) → 0.8.
    assert_eq!(
        g["share_both_tests"],
        json!({"rate": 0.8, "numerator": 8, "denominator": 10})
    );
    // Behaviour at 3 months: 5 of the 6 followed-up completers → 0.8333,
    // but all 5 are men: with the 5 shown here, the women's "<5" (none)
    // would be 5 minus the men's, so the count is withheld ("*", see
    // `suppress::complementary`), and the rate with it.
    assert_eq!(
        f["behaviour_3m"],
        json!({"rate": "*", "numerator": "*", "denominator": 6})
    );
    assert_eq!(
        f["behaviour_6m"],
        json!({"rate": "<5", "numerator": "<5", "denominator": "<5"})
    );

    // By child area: A has H1–H10; A2 has 4 households (suppressed). The
    // township's other villages have no records imported and say so (their
    // zero is no small cell), so A's 10 beside the total of 14 would tell
    // A2's 4: A is withheld ("*"), and every figure built on its counts.
    let a = &find(&s["by_child_area"], VILLAGE_A)["figures"];
    assert_eq!(a["households"], "*");
    assert_eq!(a["households_reached"]["rate"], "*");
    assert_eq!(a["households_trained"]["rate"], "*");
    assert_eq!(a["enrollments"], "*");
    assert_eq!(a["completion_rate"]["rate"], "*");
    let empty: Vec<&Value> = s["by_child_area"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["code"] != VILLAGE_A && g["code"] != VILLAGE_A2)
        .collect();
    assert!(!empty.is_empty(), "{}", s["by_child_area"]);
    for g in empty {
        assert_eq!(g["no_records"], true, "{g}");
        assert_eq!(g["figures"]["households"], Value::Null, "{g}");
    }
    let a2 = &find(&s["by_child_area"], VILLAGE_A2)["figures"];
    assert_eq!(a2["households"], "<5");
    assert_eq!(a2["enrollments"], "<5");

    // By primary cause: 07 is H1–H6, H11–H14 = 10; reached and trained
    // H1–H6, H11 = 7 → 0.7. Cause 01 has two households.
    let c07 = &find(&s["by_cause"], "07")["figures"];
    assert_eq!(c07["households"], 10);
    assert_eq!(c07["households_reached"]["rate"], 0.7);
    // Every trained household is of cause 07: shown, its 7 would tell that
    // the other causes' "<5" are none; withheld ("*").
    assert_eq!(c07["households_trained"]["rate"], "*");
    assert_eq!(find(&s["by_cause"], "01")["figures"]["households"], "<5");
    // By status: registered is the same ten households.
    assert_eq!(
        find(&s["by_status"], "registered")["figures"]["households"],
        10
    );
    assert_eq!(
        find(&s["by_status"], "exited")["figures"]["households"],
        "<5"
    );
    // By sex: the 9 linked enrollments are all men's; 14 men in the labour force.
    // No woman: where the men's count equals the total it would tell that
    // the women's "<5" is none, and is withheld ("*"); the enrollments keep
    // L9's (no member, sex unknown) beside the women's.
    let male = &find(&s["by_sex"], "male")["figures"];
    assert_eq!(male["enrollments"], 9);
    assert_eq!(
        male["coverage"],
        json!({"rate": "*", "numerator": "*", "denominator": "*"})
    );
    assert_eq!(
        male["households"],
        Value::Null,
        "no household figures by sex"
    );
    assert_eq!(
        find(&s["by_sex"], "female")["figures"]["labour_force"],
        "<5"
    );
    // By age: the heads are 40 (30-44).
    // The heads are all 30-44: that band's 14 is withheld, or it would tell
    // the other bands' "<5" are none.
    assert_eq!(find(&s["by_age"], "30-44")["figures"]["labour_force"], "*");

    // Trend: January 8 enrollments (L1–L6, L9, L10); February 1 enrollment
    // and 7 completions (L1–L6, L9); March 1 and 1.
    let trend: HashMap<String, (Value, Value)> = s["trend"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["month"].as_str().unwrap().to_string(),
                (m["enrollments"].clone(), m["completions"].clone()),
            )
        })
        .collect();
    assert_eq!(trend["2026-01"], (json!(8), json!("<5")));
    assert_eq!(trend["2026-02"], (json!("<5"), json!(7)));
    assert_eq!(trend["2026-03"], (json!("<5"), json!("<5")));
    assert_eq!(trend["2026-12"], (json!("<5"), json!("<5")));

    // Skills per competence: the same 8 pairs in each of the four.
    let skills = s["skills"].as_array().unwrap();
    assert_eq!(skills.len(), 4);
    for c in skills {
        assert_eq!(c["n"], 8);
        assert_eq!(c["mean_pre"], 51.5);
        // 631 / 8 = 78.875 → 78.88; gain as above; level 2: 6 of 8.
        assert_eq!(c["mean_post"], 78.88);
        assert_eq!(c["mean_gain"], 0.5243);
        assert_eq!(c["level2"]["rate"], 0.75);
    }

    // Trained (H1–H6, H11) and not-yet-trained (the other 7) households.
    let t = &s["trained_vs_untrained"];
    assert_eq!(t["descriptive"], true);
    // Income per head: (400000+450000+500000+550000+600000+650000+700000)/7
    // = 3850000/7 = 550000 fen; the others (300000+320000+340000+360000+380000)/5 = 340000.
    assert_eq!(t["trained"]["households"], 7);
    assert_eq!(t["trained"]["income_per_head"], 550_000);
    assert_eq!(t["trained"]["with_income"], 7);
    assert_eq!(t["not_yet_trained"]["households"], 7);
    assert_eq!(t["not_yet_trained"]["income_per_head"], 340_000);
    assert_eq!(t["not_yet_trained"]["with_income"], 5);
    // Latest follow-ups: trained H1–H6, 5 active → 0.8333; others: H7–H10,
    // H12–H14 = 7 followed up, 5 active → 0.7143.
    assert_eq!(t["trained"]["follow_up_active"]["rate"], 0.8333);
    assert_eq!(t["not_yet_trained"]["follow_up_active"]["rate"], 0.7143);
}

async fn figures_match_the_hand_computed_fixture(app: TestApp) {
    let fx = fixture(&app).await;
    let token = app.token(fx.official).await;
    let (status, s) = app
        .get_json(
            "/api/v1/reports/summary?area=530627102000&to=2026-12",
            &token,
        )
        .await;
    assert_eq!(status, 200, "{s}");
    check_township(&s);
    // Her own area is the default.
    let (_, again) = app
        .get_json("/api/v1/reports/summary?to=2026-12", &token)
        .await;
    assert_eq!(again["figures"], s["figures"]);

    // February only: flows of February, stocks by the end of February.
    let (_, feb) = app
        .get_json(
            "/api/v1/reports/summary?area=530627102000&from=2026-02&to=2026-02",
            &token,
        )
        .await;
    let f = &feb["figures"];
    // Enrolled in February: L7 only; completed in February: L1–L6, L9 = 7.
    assert_eq!(f["enrollments"], "<5");
    assert_eq!(f["completions"], 7);
    // Reached by the end of February: H1–H7, H9 = 8 → 8/14 = 0.5714; trained H1–H6 = 6 → 0.4286.
    assert_eq!(f["households_reached"]["rate"], 0.5714);
    assert_eq!(f["households_trained"]["rate"], 0.4286);

    // The page shows the same numbers (as text), and suppresses the same cells.
    let page = app
        .client
        .get(app.url("/office/dashboard?area=530627102000&to=2026-12&lang=en"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    for text in [
        "64.3%",
        "80.0%",
        "50.0%",
        "75.0%",
        "0.52",
        "51.5",
        // The gain tile says what it rests on.
        "N &#x3D; 7; 8 of 10 enrolled learners took both tests (80.0%)",
        "83.3%",
        "5500.00",
        "3400.00",
        "71.4%",
        "&lt;5",
        "<svg",
        "Descriptive only",
    ] {
        assert!(html.contains(text), "the page lacks {text}");
    }
    // A household's skill profile names competences by their titles, not codes.
    let hh = app
        .client
        .get(app.url(&format!(
            "/office/households/{}?lang=en",
            fx.households[0].0
        )))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        hh.contains("Connect to the internet and open a web page"),
        "{hh}"
    );
    assert!(!hh.contains(">it.connect<"), "{hh}");
    // The time of the figures is shown in China Standard Time, not UTC.
    assert!(html.contains("(UTC+08:00)"), "{html}");
    assert!(!html.contains(" UTC<") && !html.contains(" UTC ·"));
    // Handlebars escapes `=` in the link; the browser reads it back.
    assert!(
        html.contains(&format!("/office/dashboard?area&#x3D;{VILLAGE_A}")),
        "drill-down link"
    );

    // The CSV carries the same tables.
    let res = app
        .client
        .get(app.url("/api/v1/reports/export?area=530627102000&to=2026-12&format=csv&lang=en"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body = res.text().await.unwrap();
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(false)
        .from_reader(body.trim_start_matches('\u{feff}').as_bytes());
    let mut cells: HashMap<(String, String), Vec<String>> = HashMap::new();
    for rec in rdr.records() {
        let rec = rec.unwrap();
        let v: Vec<String> = rec.iter().map(str::to_string).collect();
        cells.insert((v[0].clone(), v[1].clone()), v[3..].to_vec());
    }
    let get = |t: &str, k: &str| {
        cells
            .get(&(t.to_string(), k.to_string()))
            .cloned()
            .unwrap_or_else(|| panic!("CSV lacks {t}/{k}"))
    };
    assert_eq!(get("figures", "households")[0], "14");
    assert_eq!(get("figures", "coverage"), ["64.3%", "9", "14"]);
    assert_eq!(get("figures", "completion_rate"), ["80.0%", "8", "10"]);
    assert_eq!(get("figures", "withdrawn")[0], "<5");
    assert_eq!(get("figures", "households_reached"), ["64.3%", "9", "14"]);
    assert_eq!(get("figures", "households_trained"), ["50.0%", "7", "14"]);
    assert_eq!(get("figures", "mastery"), ["75.0%", "6", "8"]);
    assert_eq!(get("figures", "gain_mean")[0], "0.52");
    assert_eq!(get("figures", "gain_n")[0], "7");
    assert_eq!(get("figures", "gain_pre")[0], "51.5");
    assert_eq!(get("figures", "gain_post")[0], "78.9");
    assert_eq!(get("figures", "gain_both"), ["80.0%", "8", "10"]);
    assert_eq!(get("figures", "behaviour_3m"), ["*", "*", "6"]);
    // by_child_area: households, reached, trained, labour force, coverage, enrollments, completion …
    // A is withheld beside villages with no records (see above).
    let a = get("by_child_area", VILLAGE_A);
    assert_eq!(a[..3], ["*", "*", "*"]);
    assert_eq!(a[5], "*");
    assert_eq!(a[6], "*");
    assert_eq!(get("by_child_area", VILLAGE_A2)[0], "<5");
    assert_eq!(get("by_cause", "07")[..3], ["10", "70.0%", "*"]);
    assert_eq!(get("by_cause", "01")[0], "<5");
    assert_eq!(get("trend", "2026-01"), ["8", "<5"]);
    assert_eq!(get("trend", "2026-02"), ["<5", "7"]);
    assert_eq!(
        get("skills", "it.connect"),
        ["8", "51.5", "78.9", "0.52", "75.0%"]
    );
    assert_eq!(
        get("trained_vs_untrained", "trained"),
        ["7", "7", "5500.00", "6", "83.3%"]
    );
    assert_eq!(
        get("trained_vs_untrained", "not_yet_trained"),
        ["7", "5", "3400.00", "7", "71.4%"]
    );

    // XLSX is a real workbook.
    let res = app
        .client
        .get(app.url("/api/v1/reports/export?area=530627102000&format=xlsx"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.bytes().await.unwrap().starts_with(b"PK"));

    // The admin sees the whole country, township A among the rest.
    let (status, all) = app
        .get_json(
            "/api/v1/reports/summary?to=2026-12",
            &app.token(fx.admin).await,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(all["figures"]["households"], 14);
    assert_eq!(
        all["figures"]["enrollments"], 11,
        "the outside learner counts nationally"
    );
    let _ = fx.households;
}
engine_test!(figures_match_the_hand_computed_fixture);

/// The value of attribute `name` in one tag's text.
fn attr(tag: &str, name: &str) -> Option<String> {
    crate::helpers::between(tag, &format!(" {name}=\""), "\"")
}

/// `(tag, text)` of every `<text …>…</text>` of an SVG with this class.
fn texts_of(svg: &str, class: &str) -> Vec<(String, String)> {
    svg.split("<text")
        .skip(1)
        .filter_map(|t| {
            let (tag, rest) = t.split_once('>')?;
            let text = rest.split("</text>").next()?.to_string();
            (attr(tag, "class").as_deref() == Some(class)).then(|| (tag.to_string(), text))
        })
        .collect()
}

/// Width of text as the chart lays it out (16 units a character, six tenths
/// of that for Latin letters and digits).
fn drawn_width(s: &str) -> f64 {
    let s = s.replace("&lt;", "<").replace("&amp;", "&");
    s.chars()
        .map(|c| if (c as u32) < 0x2E80 { 0.62 } else { 1.0 })
        .sum::<f64>()
        * 16.0
}

/// Hidden months are a gap in the trend (not a point at zero) and are marked;
/// charts fill their card; bar labels and values fit inside the chart; a
/// hidden rate reads "—" (explained), not "<5"; each tile carries its
/// definition.
async fn hidden_figures_read_right_and_charts_fit(app: TestApp) {
    let fx = fixture(&app).await;
    let token = app.token(fx.official).await;
    let html = app
        .client
        .get(app.url("/office/dashboard?area=530627102000&from=2026-01&to=2026-12&lang=en"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();

    // Every chart scales to the width of its card.
    let svgs: Vec<&str> = html
        .split("<svg")
        .skip(1)
        .filter(|s| !s.starts_with(" class=\"i\""))
        .collect();
    assert!(svgs.len() >= 2, "{html}");
    for svg in &svgs {
        let tag = svg.split('>').next().unwrap();
        assert_eq!(attr(tag, "width").as_deref(), Some("100%"), "{tag}");
    }
    assert!(!html.contains("max-width:40rem"));

    // The trend: months with fewer than five enrollments break the line and
    // are marked "<5" with a hollow mark on the baseline; none is drawn at 0.
    let trend = svgs
        .iter()
        .find(|s| s.contains("polyline"))
        .expect("the trend chart");
    let trend = trend.split("</svg>").next().unwrap();
    let base_y = attr(trend.split("<line").nth(1).unwrap(), "y1").unwrap();
    let hidden = texts_of(trend, "hid");
    assert!(!hidden.is_empty(), "hidden months are marked: {trend}");
    assert!(hidden.iter().all(|(_, t)| t == "&lt;5"), "{hidden:?}");
    for dot in trend.split("<circle").skip(1) {
        let tag = dot.split('>').next().unwrap();
        let small = attr(tag, "class").unwrap().ends_with(" small");
        if !small {
            assert_ne!(
                attr(tag, "cy"),
                Some(base_y.clone()),
                "a hidden month drawn at 0: {tag}"
            );
        }
    }
    // Only February's completions (7) are shown: no line runs through a
    // hidden month, which keep a hollow mark each.
    for line in trend.split("<polyline").skip(1) {
        let points = attr(line, "points").unwrap();
        for p in points.split(' ') {
            assert_ne!(
                p.split(',').nth(1),
                Some(base_y.as_str()),
                "a line through 0: {trend}"
            );
        }
    }
    // January shows its enrollments, February its completions.
    assert_eq!(trend.matches(" small\"").count(), 22, "{trend}");
    assert_eq!(hidden.len(), 12, "{trend}");
    assert!(
        html.contains("the line breaks there"),
        "the legend explains the gaps"
    );

    // Bar charts: labels end inside the left edge, values inside the right.
    for svg in svgs.iter().filter(|s| s.contains("class=\"lb\"")) {
        let svg = svg.split("</svg>").next().unwrap();
        let view = attr(svg, "viewBox").unwrap();
        let width: f64 = view.split(' ').nth(2).unwrap().parse().unwrap();
        for (tag, text) in texts_of(svg, "v") {
            let x: f64 = attr(&tag, "x").unwrap().parse().unwrap();
            assert!(
                x + drawn_width(&text) <= width,
                "{text} cut off at {x} of {width}"
            );
        }
        for (tag, text) in texts_of(svg, "lb") {
            let x: f64 = attr(&tag, "x").unwrap().parse().unwrap();
            assert!(x - drawn_width(&text) >= 0.0, "{text} cut off at {x}");
        }
    }

    // 龙井村 (A2) has 4 households: the count reads "<5", its rates "—"
    // with the reason in a title, never "<5".
    let row = crate::helpers::between(&html, ">龙井村</a></th>", "</tr>").expect("A2's row");
    assert!(row.starts_with("<td>&lt;5</td>"), "{row}");
    assert!(
        row.contains("<abbr title=\"fewer than 5 people, hidden to protect privacy\">—</abbr>"),
        "{row}"
    );
    let cells: Vec<&str> = row.split("<td>").skip(1).collect();
    let head = crate::helpers::between(&html, "<h2>By area</h2>", "</thead>").unwrap();
    let heads: Vec<String> = head
        .split("<th scope=\"col\">")
        .skip(2)
        .map(|h| h.split('<').next().unwrap().to_string())
        .collect();
    for (h, c) in heads.iter().zip(&cells) {
        let rate = [
            "rate",
            "Coverage",
            "reached",
            "trained",
            "normalized",
            "Active",
        ]
        .iter()
        .any(|w| h.contains(w));
        if rate {
            assert!(!c.starts_with("&lt;5"), "{h} shows <5: {row}");
        }
    }
    assert!(html.contains("In rate and average columns a hidden figure shows as"));

    // The tiles explain themselves.
    let tiles = crate::helpers::between(&html, "<section class=\"tiles\"", "</section>").unwrap();
    assert_eq!(tiles.matches("<div class=\"tile\">").count(), 8, "{tiles}");
    assert_eq!(tiles.matches("<small>").count(), 8, "{tiles}");
    assert!(tiles.contains("Mastery rate") && tiles.contains("80% of the skills on her own"));
    // No raw area code where people read.
    assert!(!html.contains("530627102000 ·"), "{html}");
}
engine_test!(hidden_figures_read_right_and_charts_fit);

async fn scope_and_input_are_checked(app: TestApp) {
    let fx = fixture(&app).await;
    let token = app.token(fx.official).await;
    // Outside her township, above it, or unknown: 404 alike.
    for area in ["530627103000", VILLAGE_B, "530627000000", "110000000000"] {
        let (status, _) = app
            .get_json(&format!("/api/v1/reports/summary?area={area}"), &token)
            .await;
        assert_eq!(status, 404, "{area}");
    }
    let (status, body) = app
        .get_json("/api/v1/reports/summary?area=12ab", &token)
        .await;
    assert_eq!(status, 422, "{body}");
    let (status, _) = app
        .get_json("/api/v1/reports/summary?from=2026-13", &token)
        .await;
    assert_eq!(status, 422);
    let (status, _) = app
        .get_json("/api/v1/reports/export?format=pdf", &token)
        .await;
    assert_eq!(status, 422);

    // A village drill-down: village A alone.
    let (status, v) = app
        .get_json(
            &format!("/api/v1/reports/summary?area={VILLAGE_A}&to=2026-12"),
            &token,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(v["figures"]["households"], 10);
    // A reached H1–H7, H9 = 8 → 0.8; trained H1–H6 = 6 → 0.6; enrollments
    // L1–L7, L9, L10 = 9; completed L1–L6, L9 = 7 → 0.7778.
    assert_eq!(v["figures"]["households_reached"]["rate"], 0.8);
    assert_eq!(v["figures"]["households_trained"]["rate"], 0.6);
    assert_eq!(v["figures"]["enrollments"], 9);
    assert_eq!(v["figures"]["completion_rate"]["rate"], 0.7778);
    assert_eq!(v["by_child_area"], json!([]));
}
engine_test!(scope_and_input_are_checked);

/// A township with no household records imported is no small cell: its
/// figures read "—" with "no household records imported", not "<5" (which
/// reads as "a few"); a real count of one to four there stays hidden, and
/// the imported township beside it still shows its own.
async fn an_area_without_records_reads_no_records_not_small(app: TestApp) {
    let fx = fixture(&app).await;
    let token = app.token(fx.admin).await;
    let (status, s) = app
        .get_json(
            "/api/v1/reports/summary?area=530627000000&to=2026-12",
            &token,
        )
        .await;
    assert_eq!(status, 200, "{s}");
    let imported = find(&s["by_child_area"], "530627102000");
    assert_eq!(imported["figures"]["households"], 14);
    assert!(imported.get("no_records").is_none(), "{imported}");
    let empty = find(&s["by_child_area"], "530627103000");
    assert_eq!(empty["no_records"], true, "{empty}");
    assert_eq!(empty["figures"]["households"], Value::Null, "{empty}");
    assert_eq!(empty["figures"]["labour_force"], Value::Null, "{empty}");
    assert_eq!(empty["figures"]["coverage"]["rate"], Value::Null, "{empty}");
    // Its one outside learner's enrollment is a real small count.
    assert_eq!(empty["figures"]["enrollments"], "<5", "{empty}");

    let html = app
        .client
        .get(app.url("/office/dashboard?area=530627000000&from=2026-01&to=2026-12&lang=zh-CN"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let row = html
        .split("<tr>")
        .map(|r| r.split("</tr>").next().unwrap())
        .find(|r| r.contains("530627103000") && r.contains("<td>"))
        .unwrap_or_else(|| panic!("no row for the empty township: {html}"));
    assert!(row.contains("未导入户籍数据"), "{row}");
    let first_cell = row
        .split("<td>")
        .nth(1)
        .unwrap()
        .split("</td>")
        .next()
        .unwrap();
    assert_eq!(first_cell, "—", "households of an empty township: {row}");
    let row = html
        .split("<tr>")
        .map(|r| r.split("</tr>").next().unwrap())
        .find(|r| r.contains("530627102000") && r.contains("<td>"))
        .unwrap();
    assert!(!row.contains("未导入户籍数据"), "{row}");
    assert!(row.contains("<td>14</td>"), "{row}");

    // The empty township's own page says why its figures are blank.
    let (status, own) = app
        .get_json(
            "/api/v1/reports/summary?area=530627103000&to=2026-12",
            &token,
        )
        .await;
    assert_eq!(status, 200, "{own}");
    assert_eq!(own["no_records"], true, "{own}");
    assert_eq!(own["figures"]["households"], Value::Null, "{own}");
    assert_eq!(
        own["trained_vs_untrained"]["trained"]["households"],
        Value::Null,
        "{own}"
    );
    let html = app
        .client
        .get(app.url("/office/dashboard?area=530627103000&lang=zh-CN"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("本地区还没有导入户籍数据"), "{html}");
    let tiles = crate::helpers::between(&html, "<section class=\"tiles\"", "</section>").unwrap();
    // Households: nothing imported; the one enrollment there stays "<5".
    let households = tiles.split("<div class=\"tile\">").nth(1).unwrap();
    assert!(households.contains("未导入户籍数据"), "{households}");
    assert!(!households.contains("&lt;5"), "{households}");
    assert!(tiles.contains("&lt;5"), "{tiles}");
}
engine_test!(an_area_without_records_reads_no_records_not_small);

/// A change after the first refresh is picked up by the next incremental one.
async fn the_refresh_follows_new_events(app: TestApp) {
    let fx = fixture(&app).await;
    let admin = fuzhi::accounts::users::actor_of(
        &fuzhi::accounts::users::find(app.conn(), fx.admin)
            .await
            .unwrap()
            .unwrap(),
    );
    // H13 (in village A2) gets an income record.
    store::record_income(
        app.conn(),
        &admin,
        fx.households[12].0,
        &IncomeInput {
            year: 2025,
            net_per_capita_fen: Some(500_000),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let r = fuzhi::reports::rollup::run_once(app.conn()).await.unwrap();
    assert!(!r.full);
    assert!(r.villages >= 1, "{r:?}");
    let token = app.token(fx.official).await;
    let (_, s) = app
        .get_json(
            "/api/v1/reports/summary?area=530627102000&to=2026-12",
            &token,
        )
        .await;
    // Not-yet-trained with income: 5 + H13 = 6; (1700000 + 500000) / 6 = 366666.67 → 366667.
    assert_eq!(
        s["trained_vs_untrained"]["not_yet_trained"]["with_income"],
        6
    );
    assert_eq!(
        s["trained_vs_untrained"]["not_yet_trained"]["income_per_head"],
        366_667
    );
    // Nothing else moved.
    check_township_households(&s);
}
engine_test!(the_refresh_follows_new_events);

/// A village's figures are counted from its records when the page opens,
/// its township's come from the rollup: each page says which, so the two do
/// not read as the same moment.
async fn a_village_says_its_figures_are_counted_now(app: TestApp) {
    let fx = fixture(&app).await;
    fuzhi::reports::rollup::run_once(app.conn()).await.unwrap();
    let token = app.token(fx.official).await;
    let (s, village) = app
        .page(
            &token,
            &format!("/office/dashboard?area={VILLAGE_A}&lang=zh-CN"),
        )
        .await;
    assert_eq!(s, 200, "{village}");
    assert!(village.contains("按本村记录现在统计"), "{village}");
    let (_, township) = app
        .page(&token, "/office/dashboard?area=530627102000&lang=zh-CN")
        .await;
    assert!(township.contains("数据更新于"), "{township}");
    assert!(!township.contains("按本村记录现在统计"), "{township}");
    let (_, api) = app
        .get_json(&format!("/api/v1/reports/summary?area={VILLAGE_A}"), &token)
        .await;
    assert_eq!(api["live"], true);
}
engine_test!(a_village_says_its_figures_are_counted_now);

fn check_township_households(s: &Value) {
    assert_eq!(s["figures"]["households"], 14);
    assert_eq!(s["figures"]["households_trained"]["numerator"], 7);
}

/// The demo county's dashboard in headless Chromium, at a phone's and a
/// desktop's width, with JavaScript off and on: it renders, it shows figures
/// and charts, and nothing is wider than the screen. Set
/// `FUZHI_SCREENSHOTS=dir` to keep the screenshots.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_reads_on_a_phone_and_a_desktop() {
    let app = TestApp::spawn_with(crate::helpers::Engine::Sqlite, |s| {
        s.courses_dir = Some(crate::helpers::repo_path("courses"));
    })
    .await
    .unwrap();
    fuzhi::demo::seed(&app.state).await.unwrap();
    for javascript in [false, true] {
        let b = crate::support::Browser::start(javascript).await;
        b.goto(&app.url("/login?lang=en")).await;
        b.fill("#login", "gov.zhenxiong").await;
        b.fill("#password", fuzhi::demo::STAFF_PASSWORD).await;
        b.click("button[type=submit]").await;
        b.wait_url("/office").await;
        for (width, height, name) in [(390u32, 4200u32, "phone"), (1280, 3000, "desktop")] {
            b.client.set_window_size(width, height).await.unwrap();
            b.goto(&app.url("/office/dashboard?lang=en")).await;
            let text = b.wait_text("Training dashboard").await;
            assert!(text.contains("Households trained"), "{text}");
            assert!(text.contains("Descriptive only"));
            let svgs = b
                .client
                .find_all(fantoccini::Locator::Css("figure.chart svg"))
                .await
                .unwrap();
            assert!(svgs.len() >= 2, "charts drawn on the server");
            if javascript {
                let wide = b
                    .client
                    .execute(
                        "return document.documentElement.scrollWidth > window.innerWidth",
                        vec![],
                    )
                    .await
                    .unwrap();
                assert_eq!(
                    wide,
                    serde_json::json!(false),
                    "wider than the {name} screen"
                );
            }
            if let Ok(dir) = std::env::var("FUZHI_SCREENSHOTS") {
                let png = b.client.screenshot().await.unwrap();
                let js = if javascript { "js" } else { "nojs" };
                std::fs::write(format!("{dir}/dashboard-{name}-{js}.png"), png).unwrap();
            }
        }
        // A drill-down link leads to a township.
        b.goto(&app.url("/office/dashboard?area=530627102000&lang=en"))
            .await;
        b.wait_text("Training dashboard").await;
        b.close().await;
    }
}
