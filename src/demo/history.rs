//! A made-up training history for the households of an area: learner
//! accounts linked to members, enrollments (completed, under way, withdrawn),
//! learning events, pre- and post-test evidence, trainer sign-offs, follow-up
//! surveys and incomes, spread over the past eighteen months. The same seed
//! gives the same history.
//!
//! Written straight into the tables with multi-row inserts in large
//! transactions (the demo's dashboard and the dashboard benchmark need
//! hundreds of thousands of rows; the HTTP API would take hours). Accounts made
//! here have one shared password hash and must never exist outside a demo.

use chrono::{DateTime, Datelike, Duration, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, Value};

use super::attempts::Rng;
use crate::entities::course::CourseStatus;
use crate::entities::enrollment::EnrollmentState;
use crate::error::{AppError, AppResult};
use crate::reports::stmt;

#[derive(Debug, Clone)]
pub struct Plan {
    /// Area code prefix of the households to give a history.
    pub prefix: String,
    /// Share of households (0–1) with a member who becomes a learner.
    pub learner_share: f64,
    /// Learning events written per enrollment.
    pub events_per_enrollment: usize,
    pub seed: u64,
    pub now: DateTime<Utc>,
    /// Login prefix of the generated accounts (unique per run).
    pub login_prefix: String,
    /// The hash every generated account gets.
    pub password_hash: String,
    /// A course that many learners take and whose quizzes they answer
    /// attempt by attempt (see `attempts`), so that its item analysis has
    /// figures; its skill evidence comes from those attempts.
    pub focus: Option<String>,
}

#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct Made {
    pub learners: usize,
    pub enrollments: usize,
    pub events: usize,
    pub evidence: usize,
    pub attempts: usize,
    pub follow_ups: usize,
    pub incomes: usize,
}

const SE_COLS: [&str; 10] = [
    "user_id",
    "competence",
    "course_slug",
    "source",
    "score",
    "level",
    "area_code",
    "at",
    "created_at",
    "updated_at",
];

/// Parameters per statement, under every engine's limit.
const MAX_PARAMS: usize = 30_000;

async fn insert(
    db: &impl ConnectionTrait,
    table: &str,
    cols: &[&str],
    rows: Vec<Vec<Value>>,
) -> AppResult<()> {
    let per = (MAX_PARAMS / cols.len()).max(1);
    let one = format!("({})", crate::reports::marks(cols.len()));
    let mut it = rows.into_iter().peekable();
    while it.peek().is_some() {
        let chunk: Vec<Vec<Value>> = it.by_ref().take(per).collect();
        let sql = format!(
            "INSERT INTO {table} ({}) VALUES {}",
            cols.join(", "),
            vec![one.as_str(); chunk.len()].join(", ")
        );
        let values: Vec<Value> = chunk.into_iter().flatten().collect();
        db.execute_raw(stmt(db.get_database_backend(), &sql, values))
            .await?;
    }
    Ok(())
}

/// Whether a member can be trained: of working age (men 16–60, women 16–55,
/// as the dashboard's labour force; at least 18 here, learners sign up
/// themselves) and able to work (普通或技能劳动力). Children, the elderly
/// and members without labour capacity get no learner account and no skills.
pub fn able_to_train(sex: &str, age: i32, labour: Option<&str>) -> bool {
    let upper = if sex == "female" { 55 } else { 60 };
    (18..=upper).contains(&age) && matches!(labour, Some("ordinary" | "skilled"))
}

struct Candidate {
    member_id: i64,
    /// The member's name, which her learner account takes.
    name: String,
    household_id: i64,
    area_code: String,
}

/// Writes a history for the households under `plan.prefix`.
pub async fn generate(db: &DatabaseConnection, plan: &Plan) -> AppResult<Made> {
    let backend = db.get_database_backend();
    let mut rng = Rng(plan.seed);
    let now = plan.now;
    let year = now.year();
    let courses: Vec<(String, Vec<String>, Vec<String>)> = {
        let rows = db
            .query_all_raw(stmt(
                backend,
                "SELECT c.slug, c.competences, c.id FROM course c WHERE c.status = ? ORDER BY c.slug",
                vec![CourseStatus::Published.into()],
            ))
            .await?;
        let mut out = Vec::new();
        for r in rows {
            let slug: String = r.try_get_by_index(0)?;
            let comps: String = r.try_get_by_index(1)?;
            let id: i64 = r.try_get_by_index(2)?;
            let lessons: Vec<String> = db
                .query_all_raw(stmt(
                    backend,
                    "SELECT slug FROM lesson WHERE course_id = ? ORDER BY position",
                    vec![id.into()],
                ))
                .await?
                .iter()
                .filter_map(|l| l.try_get_by_index::<String>(0).ok())
                .collect();
            let comps: Vec<String> = comps
                .split(',')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_string)
                .collect();
            if !comps.is_empty() && !lessons.is_empty() {
                out.push((slug, comps, lessons));
            }
        }
        out
    };
    if courses.is_empty() {
        return Err(AppError::BadRequest(
            "no published course with competences and lessons".into(),
        ));
    }

    let focus = match &plan.focus {
        Some(slug) => super::attempts::load(db, slug).await?,
        None => None,
    };
    let focus_at = focus
        .as_ref()
        .and_then(|f| courses.iter().position(|c| c.0 == f.course.slug));

    // One member able to train (working age, able to work) per chosen
    // household, not yet a learner.
    let rows = db
        .query_all_raw(stmt(
            backend,
            "SELECT m.id, m.household_id, m.area_code, m.birth_year, m.name, m.sex, m.labour FROM member m \
             WHERE m.area_code LIKE ? AND NOT EXISTS (SELECT 1 FROM app_user u WHERE u.member_id = m.id) \
             ORDER BY m.household_id, m.id",
            vec![format!("{}%", plan.prefix).into()],
        ))
        .await?;
    let mut candidates: Vec<Candidate> = Vec::new();
    let mut households: Vec<(i64, String)> = Vec::new();
    let mut last_hh = -1;
    let mut taken = false;
    let mut chosen = false;
    for r in rows {
        let (mid, hid, area, born): (i64, i64, String, i32) = (
            r.try_get_by_index(0)?,
            r.try_get_by_index(1)?,
            r.try_get_by_index(2)?,
            r.try_get_by_index(3)?,
        );
        let name: String = r.try_get_by_index(4)?;
        let sex: String = r.try_get_by_index(5)?;
        let labour: Option<String> = r.try_get_by_index(6)?;
        if hid != last_hh {
            last_hh = hid;
            taken = false;
            chosen = rng.chance(plan.learner_share);
            households.push((hid, area.clone()));
        }
        if chosen && !taken && able_to_train(&sex, year - born, labour.as_deref()) {
            taken = true;
            candidates.push(Candidate {
                member_id: mid,
                name,
                household_id: hid,
                area_code: area,
            });
        }
    }

    let mut made = Made::default();
    let txn = crate::db::begin_write(db).await?;
    // Accounts, then their ids back by login.
    let user_rows: Vec<Vec<Value>> = candidates
        .iter()
        .enumerate()
        .map(|(i, c)| {
            vec![
                format!("{}{i:07}", plan.login_prefix).into(),
                c.name.clone().into(),
                plan.password_hash.clone().into(),
                true.into(),
                "learner".into(),
                c.area_code.clone().into(),
                c.member_id.into(),
                "zh-CN".into(),
                0i32.into(),
                now.into(),
                now.into(),
            ]
        })
        .collect();
    insert(
        &txn,
        "app_user",
        &[
            "login",
            "display_name",
            "password_hash",
            "pin",
            "role",
            "area_code",
            "member_id",
            "locale",
            "token_version",
            "created_at",
            "updated_at",
        ],
        user_rows,
    )
    .await?;
    let ids: std::collections::HashMap<i64, i64> = txn
        .query_all_raw(stmt(
            backend,
            "SELECT member_id, id FROM app_user WHERE login LIKE ?",
            vec![format!("{}%", plan.login_prefix).into()],
        ))
        .await?
        .iter()
        .filter_map(|r| Some((r.try_get_by_index(0).ok()?, r.try_get_by_index(1).ok()?)))
        .collect();
    made.learners = ids.len();

    let mut enrollments = Vec::new();
    let mut events = Vec::new();
    let mut evidence = Vec::new();
    let mut attempts = Vec::new();
    let mut follow_ups = Vec::new();
    let mut trained: std::collections::HashSet<i64> = Default::default();
    let ev_cols = [
        "id",
        "user_id",
        "kind",
        "course_slug",
        "lesson_slug",
        "payload",
        "occurred_at",
        "received_at",
        "source",
    ];
    const FLUSH: usize = 60_000;
    for c in &candidates {
        let Some(&uid) = ids.get(&c.member_id) else {
            continue;
        };
        let n_courses = 1 + usize::from(rng.chance(0.4));
        let first = match focus_at {
            Some(i) if rng.chance(0.45) => i,
            _ => rng.below(courses.len() as u64) as usize,
        };
        for k in 0..n_courses.min(courses.len()) {
            let (slug, comps, lessons) = &courses[(first + k) % courses.len()];
            let enrolled = now - Duration::days(20 + rng.below(520) as i64);
            let roll = rng.below(100);
            let (state, done) = if roll < 55 {
                (
                    EnrollmentState::Completed,
                    Some(enrolled + Duration::days(7 + rng.below(40) as i64)),
                )
            } else if roll < 85 {
                (EnrollmentState::Enrolled, None)
            } else {
                (EnrollmentState::Withdrawn, None)
            };
            let done = done.filter(|d| *d < now);
            let state = if state == EnrollmentState::Completed && done.is_none() {
                EnrollmentState::Enrolled
            } else {
                state
            };
            enrollments.push(vec![
                uid.into(),
                slug.clone().into(),
                state.into(),
                c.area_code.clone().into(),
                c.household_id.into(),
                true.into(),
                enrolled.into(),
                done.into(),
                now.into(),
                now.into(),
            ]);
            made.enrollments += 1;
            if done.is_some() {
                trained.insert(c.household_id);
            }
            let end = done.unwrap_or(enrolled + Duration::days(10));
            if let Some(info) = focus.as_ref().filter(|f| &f.course.slug == slug) {
                // Its quizzes answered one by one; the evidence is theirs.
                let reached = if done.is_some() {
                    lessons.len()
                } else {
                    rng.below(lessons.len() as u64 + 1) as usize
                };
                let who = super::attempts::Enrolment {
                    user: uid,
                    enrolled,
                    done,
                    lessons: reached,
                };
                let m = super::attempts::learner(&mut rng, info, &who, now);
                made.attempts += m.rows.len();
                made.evidence += m.evidence.len();
                attempts.extend(m.rows);
                for (comp, source, score, at) in m.evidence {
                    evidence.push(vec![
                        uid.into(),
                        comp.into(),
                        slug.clone().into(),
                        source.into(),
                        Some(score).into(),
                        Option::<i32>::None.into(),
                        c.area_code.clone().into(),
                        at.into(),
                        now.into(),
                        now.into(),
                    ]);
                }
            } else {
                // Baseline and, for completers, the post-test per competence.
                for comp in comps {
                    let pre = 20 + rng.below(60) as i32;
                    evidence.push(vec![
                        uid.into(),
                        comp.clone().into(),
                        slug.clone().into(),
                        "pre".into(),
                        Some(pre).into(),
                        Option::<i32>::None.into(),
                        c.area_code.clone().into(),
                        (enrolled + Duration::hours(1)).into(),
                        now.into(),
                        now.into(),
                    ]);
                    if done.is_some() {
                        let post = (pre + rng.below((101 - pre) as u64) as i32).min(100);
                        evidence.push(vec![
                            uid.into(),
                            comp.clone().into(),
                            slug.clone().into(),
                            "post".into(),
                            Some(post).into(),
                            Option::<i32>::None.into(),
                            c.area_code.clone().into(),
                            end.into(),
                            now.into(),
                            now.into(),
                        ]);
                    }
                }
                made.evidence += comps.len() * (1 + usize::from(done.is_some()));
            }
            let span = (end - enrolled).num_seconds().max(1);
            for e in 0..plan.events_per_enrollment {
                let lesson = &lessons[e / 2 % lessons.len()];
                let kind = if e % 2 == 0 {
                    "lesson_opened"
                } else {
                    "lesson_finished"
                };
                let at = enrolled
                    + Duration::seconds(span * e as i64 / plan.events_per_enrollment.max(1) as i64);
                events.push(vec![
                    uuid::Uuid::from_u64_pair(rng.next(), rng.next()).into(),
                    uid.into(),
                    kind.into(),
                    slug.clone().into(),
                    lesson.clone().into(),
                    "{}".into(),
                    at.into(),
                    at.into(),
                    "web".into(),
                ]);
            }
            made.events += plan.events_per_enrollment;
            if let Some(d) = done {
                for (months, p) in [(3i64, 0.5), (6, 0.35)] {
                    let at = d + Duration::days(30 * months);
                    if at < now && rng.chance(p) {
                        let shop = rng.chance(0.5);
                        let orders = if shop { rng.below(30) as i32 } else { 0 };
                        follow_ups.push(vec![
                            c.household_id.into(),
                            c.member_id.into(),
                            c.area_code.clone().into(),
                            at.into(),
                            (months as i32).into(),
                            Some(shop).into(),
                            Some(orders).into(),
                            Some(i64::from(orders) * 2_500).into(),
                            now.into(),
                            now.into(),
                        ]);
                        made.follow_ups += 1;
                    }
                }
            }
        }
        if events.len() >= FLUSH {
            insert(
                &txn,
                "learning_event",
                &ev_cols,
                std::mem::take(&mut events),
            )
            .await?;
        }
        if evidence.len() >= FLUSH {
            insert(
                &txn,
                "skill_evidence",
                &SE_COLS,
                std::mem::take(&mut evidence),
            )
            .await?;
        }
    }
    insert(&txn, "learning_event", &ev_cols, events).await?;
    insert(&txn, "quiz_attempt", &super::attempts::COLS, attempts).await?;
    insert(
        &txn,
        "enrollment",
        &[
            "user_id",
            "course_slug",
            "state",
            "area_code",
            "household_id",
            "pre_done",
            "enrolled_at",
            "completed_at",
            "created_at",
            "updated_at",
        ],
        enrollments,
    )
    .await?;
    insert(&txn, "skill_evidence", &SE_COLS, evidence).await?;
    insert(
        &txn,
        "follow_up",
        &[
            "household_id",
            "member_id",
            "area_code",
            "surveyed_at",
            "months_after",
            "shop_active",
            "orders_30d",
            "sales_30d_fen",
            "created_at",
            "updated_at",
        ],
        follow_ups,
    )
    .await?;
    // Last year's income for most households without one.
    let have: std::collections::HashSet<i64> = txn
        .query_all_raw(stmt(
            backend,
            "SELECT r.household_id FROM income_record r JOIN household h ON h.id = r.household_id \
             WHERE h.area_code LIKE ? AND r.year = ?",
            vec![format!("{}%", plan.prefix).into(), (year - 1).into()],
        ))
        .await?
        .iter()
        .filter_map(|r| r.try_get_by_index(0).ok())
        .collect();
    let mut incomes = Vec::new();
    for (hid, _) in &households {
        if have.contains(hid) || !rng.chance(0.7) {
            continue;
        }
        let base = 400_000 + rng.below(800_000) as i64;
        let net = if trained.contains(hid) {
            base + rng.below(100_000) as i64
        } else {
            base
        };
        incomes.push(vec![
            (*hid).into(),
            (year - 1).into(),
            (net * 3).into(),
            net.into(),
            now.into(),
            now.into(),
        ]);
    }
    made.incomes = incomes.len();
    insert(
        &txn,
        "income_record",
        &[
            "household_id",
            "year",
            "wage_fen",
            "net_per_capita_fen",
            "created_at",
            "updated_at",
        ],
        incomes,
    )
    .await?;
    txn.commit().await?;
    Ok(made)
}
