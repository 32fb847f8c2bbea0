//! What the tally of a batch of villages reads, one loader a source: the
//! households (with their primary cause), their members, the learners of
//! these villages, the learners' enrollments and skill evidence, the
//! follow-ups, and the households' latest incomes. A fixed number of queries
//! a batch, never one per person.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, QueryResult, Value};

use super::{all, is_village, os, range, s, t};
use crate::entities::course::CourseStatus;
use crate::entities::enrollment::EnrollmentState;
use crate::error::AppResult;
use crate::reports::marks;
use crate::reports::skills::Evidence;

pub(super) struct Household {
    pub id: i64,
    pub village: String,
    pub status: String,
    /// The primary poverty cause, `""` when none is recorded.
    pub cause: String,
}

pub(super) struct Member {
    pub id: i64,
    pub household_id: i64,
    pub sex: String,
    pub birth_year: i32,
    pub labour: Option<String>,
}

pub(super) struct Learner {
    pub id: i64,
    pub member_id: Option<i64>,
    pub village: String,
}

pub(super) struct Enrollment {
    pub course: String,
    pub state: EnrollmentState,
    pub enrolled_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
}

pub(super) struct FollowUp {
    pub household_id: Option<i64>,
    pub member_id: Option<i64>,
    pub months_after: i32,
    pub surveyed_at: DateTime<Utc>,
    /// A listed activity in the last 30 days (`tally::active`).
    pub active: bool,
}

/// Everything the tally of a batch of villages reads.
#[derive(Default)]
pub(super) struct Sources {
    pub households: Vec<Household>,
    pub members: Vec<Member>,
    /// Learners counted in a village of the batch.
    pub learners: Vec<Learner>,
    /// By learner.
    pub enrollments: HashMap<i64, Vec<Enrollment>>,
    /// By learner.
    pub evidence: HashMap<i64, Vec<Evidence>>,
    pub follow_ups: Vec<FollowUp>,
    /// The latest year's net income per head (fen), by household.
    pub income: HashMap<i64, i64>,
}

/// The published courses' competences, by slug.
pub(super) type Courses = HashMap<String, Vec<String>>;

fn i(r: &QueryResult, n: usize) -> Result<i64, sea_orm::DbErr> {
    r.try_get_by_index::<i64>(n)
}
fn oi(r: &QueryResult, n: usize) -> Result<Option<i64>, sea_orm::DbErr> {
    r.try_get_by_index::<Option<i64>>(n)
}
fn i32_(r: &QueryResult, n: usize) -> Result<i32, sea_orm::DbErr> {
    r.try_get_by_index::<i32>(n)
}
fn oi32(r: &QueryResult, n: usize) -> Result<Option<i32>, sea_orm::DbErr> {
    r.try_get_by_index::<Option<i32>>(n)
}
fn ot(r: &QueryResult, n: usize) -> Result<Option<DateTime<Utc>>, sea_orm::DbErr> {
    r.try_get_by_index::<Option<DateTime<Utc>>>(n)
}

/// Ids in chunks small enough for every engine's parameter limit.
const CHUNK: usize = 500;

/// The sources of the villages whose code starts with `prefix` (a
/// township's nine digits, or one village's twelve).
pub(super) async fn sources(db: &impl ConnectionTrait, prefix: &str) -> AppResult<Sources> {
    let learners = learners(db, prefix).await?;
    let ids: Vec<i64> = learners.iter().map(|l| l.id).collect();
    Ok(Sources {
        households: households(db, prefix).await?,
        members: members(db, prefix).await?,
        enrollments: enrollments(db, &ids).await?,
        evidence: evidence(db, &ids).await?,
        learners,
        follow_ups: follow_ups(db, prefix).await?,
        income: income(db, prefix).await?,
    })
}

/// The published courses' competences, by slug.
pub(super) async fn course_competences(db: &impl ConnectionTrait) -> AppResult<Courses> {
    let rows = all(
        db,
        "SELECT slug, competences FROM course WHERE status = ?",
        vec![CourseStatus::Published.into()],
    )
    .await?;
    let mut out = HashMap::new();
    for r in rows {
        let list: Vec<String> = s(&r, 1)?
            .split(',')
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty())
            .collect();
        out.insert(s(&r, 0)?, list);
    }
    Ok(out)
}

async fn households(db: &impl ConnectionTrait, prefix: &str) -> AppResult<Vec<Household>> {
    // A household's primary cause: the first (by id) of its causes marked
    // primary. Read in one join and picked here; a subquery per household
    // would be planned as a scan of the whole cause table per household on
    // PostgreSQL (the `ORDER BY id LIMIT 1` walks the primary key).
    let mut primary: HashMap<i64, (i64, String)> = HashMap::new();
    let mut v = vec![Value::from(true)];
    v.extend(range(prefix));
    for r in all(
        db,
        "SELECT c.household_id, c.id, c.cause FROM household h \
         JOIN household_cause c ON c.household_id = h.id \
         WHERE c.is_primary = ? AND h.area_code >= ? AND h.area_code < ?",
        v,
    )
    .await?
    {
        let (hid, id, cause) = (i(&r, 0)?, i(&r, 1)?, s(&r, 2)?);
        let e = primary.entry(hid).or_insert((id, cause.clone()));
        if id < e.0 {
            *e = (id, cause);
        }
    }
    Ok(all(
        db,
        "SELECT id, area_code, status FROM household WHERE area_code >= ? AND area_code < ?",
        range(prefix),
    )
    .await?
    .iter()
    .map(|r| {
        let id = i(r, 0)?;
        Ok(Household {
            id,
            village: s(r, 1)?,
            status: s(r, 2)?,
            cause: primary.remove(&id).map(|(_, c)| c).unwrap_or_default(),
        })
    })
    .collect::<Result<_, sea_orm::DbErr>>()?)
}

async fn members(db: &impl ConnectionTrait, prefix: &str) -> AppResult<Vec<Member>> {
    Ok(all(
        db,
        "SELECT id, household_id, sex, birth_year, labour FROM member WHERE area_code >= ? AND area_code < ?",
        range(prefix),
    )
    .await?
    .iter()
    .map(|r| {
        Ok(Member {
            id: i(r, 0)?,
            household_id: i(r, 1)?,
            sex: s(r, 2)?,
            birth_year: i32_(r, 3)?,
            labour: os(r, 4)?,
        })
    })
    .collect::<Result<_, sea_orm::DbErr>>()?)
}

/// Learners linked to a member of these villages, and learners of these
/// villages linked to no household (they count in training figures only).
/// A learner counts in a village; one whose area is larger counts nowhere.
async fn learners(db: &impl ConnectionTrait, prefix: &str) -> AppResult<Vec<Learner>> {
    let sql = "SELECT u.id, u.member_id, m.area_code FROM member m JOIN app_user u ON u.member_id = m.id \
         WHERE m.area_code >= ? AND m.area_code < ? AND u.role = ? \
         UNION ALL \
         SELECT u.id, u.member_id, u.area_code FROM app_user u \
         WHERE u.member_id IS NULL AND u.role = ? AND u.area_code >= ? AND u.area_code < ?";
    let mut v = range(prefix);
    v.push("learner".into());
    v.push("learner".into());
    v.extend(range(prefix));
    let mut out = Vec::new();
    for r in all(db, sql, v).await? {
        let l = Learner {
            id: i(&r, 0)?,
            member_id: oi(&r, 1)?,
            village: s(&r, 2)?,
        };
        if is_village(&l.village) {
            out.push(l);
        }
    }
    Ok(out)
}

/// Rows of `sql` (with `{ids}` for the id list) for these learners, chunked.
async fn by_learner(
    db: &impl ConnectionTrait,
    sql: &str,
    ids: &[i64],
) -> AppResult<Vec<QueryResult>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        let v: Vec<Value> = chunk.iter().map(|id| (*id).into()).collect();
        let sql = sql.replace("{ids}", &marks(chunk.len()));
        out.extend(all(db, &sql, v).await?);
    }
    Ok(out)
}

async fn enrollments(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> AppResult<HashMap<i64, Vec<Enrollment>>> {
    let mut out: HashMap<i64, Vec<Enrollment>> = HashMap::new();
    let sql = "SELECT user_id, course_slug, state, enrolled_at, completed_at FROM enrollment WHERE user_id IN ({ids})";
    for r in by_learner(db, sql, ids).await? {
        out.entry(i(&r, 0)?).or_default().push(Enrollment {
            course: s(&r, 1)?,
            state: r.try_get_by_index::<EnrollmentState>(2)?,
            enrolled_at: t(&r, 3)?,
            completed_at: ot(&r, 4)?,
        });
    }
    Ok(out)
}

async fn evidence(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> AppResult<HashMap<i64, Vec<Evidence>>> {
    let mut out: HashMap<i64, Vec<Evidence>> = HashMap::new();
    let sql = "SELECT user_id, competence, source, score, level, at FROM skill_evidence WHERE user_id IN ({ids})";
    for r in by_learner(db, sql, ids).await? {
        out.entry(i(&r, 0)?).or_default().push(Evidence {
            competence: s(&r, 1)?,
            source: s(&r, 2)?,
            score: oi32(&r, 3)?,
            level: oi32(&r, 4)?,
            at: t(&r, 5)?,
        });
    }
    Ok(out)
}

async fn follow_ups(db: &impl ConnectionTrait, prefix: &str) -> AppResult<Vec<FollowUp>> {
    Ok(all(
        db,
        "SELECT household_id, member_id, months_after, surveyed_at, shop_active, orders_30d, sales_30d_fen \
         FROM follow_up WHERE area_code >= ? AND area_code < ?",
        range(prefix),
    )
    .await?
    .iter()
    .map(|r| {
        Ok(FollowUp {
            household_id: oi(r, 0)?,
            member_id: oi(r, 1)?,
            months_after: i32_(r, 2)?,
            surveyed_at: t(r, 3)?,
            active: super::active(
                r.try_get_by_index::<Option<bool>>(4)?,
                oi32(r, 5)?,
                oi(r, 6)?,
            ),
        })
    })
    .collect::<Result<_, sea_orm::DbErr>>()?)
}

/// The latest year's income per head of each household.
async fn income(db: &impl ConnectionTrait, prefix: &str) -> AppResult<HashMap<i64, i64>> {
    let mut latest: HashMap<i64, (i32, i64)> = HashMap::new();
    for r in all(
        db,
        "SELECT r.household_id, r.year, r.net_per_capita_fen FROM income_record r \
         JOIN household h ON h.id = r.household_id WHERE h.area_code >= ? AND h.area_code < ?",
        range(prefix),
    )
    .await?
    {
        let (hid, y, fen) = (i(&r, 0)?, i32_(&r, 1)?, i(&r, 2)?);
        let e = latest.entry(hid).or_insert((y, fen));
        if y > e.0 {
            *e = (y, fen);
        }
    }
    Ok(latest.into_iter().map(|(h, (_, fen))| (h, fen)).collect())
}
