//! The `report_cell` rollup and the job that keeps it.
//!
//! A township's cells are computed from the registry and the learning tables
//! with a fixed number of queries (never one per person): every cut for the
//! township, and the `all` cut of each of its villages for the drill-down.
//! Every ancestor (county, prefecture, province, the whole country) is then
//! re-summed from its children's cells. A dashboard reads the cells of one
//! area and of its children: a few thousand rows at any level. A village's
//! own dashboard is computed live from its records (a village is small).
//!
//! `run_once` refreshes only the townships with a village touched since the
//! last run (found by indexed `updated_at` scans and the audit log's
//! deletions); once a day, and on the first run, it rebuilds everything, so
//! that what the change scan cannot see (a household moved to another
//! village, a learner unlinked) and the age bands of a new year are put right.
//! Rebuilding a township is idempotent, so overlapping windows cost time,
//! never correctness.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Datelike, Duration, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, QueryResult, Value};

use super::skills::{self, Evidence};
use super::{marks, stmt};
use crate::areas::{AreaCode, Level};
use crate::error::AppResult;

/// Code of the row that sums the whole country (the provinces' parent).
pub const ROOT: &str = "";

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

/// The labour force of DATA.md: men 16–60 and women 16–55, able to work
/// (labour capacity not recorded as lost or none).
pub fn in_labour_force(sex: &str, age: i32, labour: Option<&str>) -> bool {
    let top = if sex == "female" { 55 } else { 60 };
    (16..=top).contains(&age) && !matches!(labour, Some("lost") | Some("none"))
}

/// A follow-up shows a listed activity in the last 30 days: an active shop,
/// orders, or sales.
pub fn active(shop: Option<bool>, orders: Option<i32>, sales: Option<i64>) -> bool {
    shop == Some(true) || orders.unwrap_or(0) > 0 || sales.unwrap_or(0) > 0
}

pub fn month(t: DateTime<Utc>) -> String {
    format!("{:04}-{:02}", t.year(), t.month())
}

/// What a refresh did.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct Refreshed {
    pub full: bool,
    pub villages: usize,
    pub cells: usize,
}

// ---- cells ------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Key {
    village: String,
    cut_kind: &'static str,
    cut_value: String,
    month: String,
    metric: &'static str,
}

#[derive(Default)]
struct Cells(HashMap<Key, i64>);

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
    fn add(
        &mut self,
        village: &str,
        cut: (&'static str, &str),
        month: &str,
        metric: &'static str,
        v: i64,
    ) {
        if v == 0 {
            return;
        }
        *self
            .0
            .entry(Key {
                village: village.to_string(),
                cut_kind: cut.0,
                cut_value: cut.1.to_string(),
                month: month.to_string(),
                metric,
            })
            .or_insert(0) += v;
    }

    fn person(&mut self, d: &PersonDims, month: &str, metric: &'static str, v: i64) {
        for cut in [
            ("all", ""),
            ("cause", d.cause.as_str()),
            ("status", d.status.as_str()),
            ("sex", d.sex.as_str()),
            ("age", d.age.as_str()),
        ] {
            self.add(&d.village, cut, month, metric, v);
        }
    }

    fn household(&mut self, h: &Household, month: &str, metric: &'static str, v: i64) {
        for cut in [
            ("all", ""),
            ("cause", h.cause.as_str()),
            ("status", h.status.as_str()),
        ] {
            self.add(&h.village, cut, month, metric, v);
        }
    }
}

// ---- what a batch of villages reads ------------------------------------------

struct Household {
    id: i64,
    village: String,
    status: String,
    cause: String,
}

struct Member {
    id: i64,
    household_id: i64,
    sex: String,
    birth_year: i32,
    labour: Option<String>,
}

struct Learner {
    id: i64,
    member_id: Option<i64>,
    village: String,
}

struct Enrollment {
    user_id: i64,
    course: String,
    state: String,
    enrolled_at: DateTime<Utc>,
    completed_at: Option<DateTime<Utc>>,
}

struct FollowUp {
    household_id: Option<i64>,
    member_id: Option<i64>,
    months_after: i32,
    surveyed_at: DateTime<Utc>,
    active: bool,
}

fn s(r: &QueryResult, i: usize) -> Result<String, sea_orm::DbErr> {
    r.try_get_by_index::<String>(i)
}
fn os(r: &QueryResult, i: usize) -> Result<Option<String>, sea_orm::DbErr> {
    r.try_get_by_index::<Option<String>>(i)
}
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
fn t(r: &QueryResult, n: usize) -> Result<DateTime<Utc>, sea_orm::DbErr> {
    r.try_get_by_index::<DateTime<Utc>>(n)
}
fn ot(r: &QueryResult, n: usize) -> Result<Option<DateTime<Utc>>, sea_orm::DbErr> {
    r.try_get_by_index::<Option<DateTime<Utc>>>(n)
}

async fn all(
    db: &impl ConnectionTrait,
    sql: &str,
    values: Vec<Value>,
) -> AppResult<Vec<QueryResult>> {
    Ok(db
        .query_all_raw(stmt(db.get_database_backend(), sql, values))
        .await?)
}

/// Ids in chunks small enough for every engine's parameter limit.
const CHUNK: usize = 500;

/// The published courses' competences, by slug.
async fn course_competences(db: &impl ConnectionTrait) -> AppResult<HashMap<String, Vec<String>>> {
    let rows = all(
        db,
        "SELECT slug, competences FROM course WHERE status = ?",
        vec!["published".into()],
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

/// `[lo, hi)` of the codes that start with `prefix`: an index range, where
/// `LIKE` would not use one on SQLite. The bound is the next digit string of
/// the same length (`530627102` → `530627103`), which sorts right under any
/// collation, unlike punctuation.
fn range(prefix: &str) -> Vec<Value> {
    let mut next: Vec<u8> = prefix.bytes().collect();
    let mut i = next.len();
    loop {
        if i == 0 {
            // All nines: nothing sorts after it among digit codes.
            next = b"A".to_vec();
            break;
        }
        i -= 1;
        if next[i] == b'9' {
            next[i] = b'0';
        } else {
            next[i] += 1;
            break;
        }
    }
    vec![
        prefix.to_string().into(),
        String::from_utf8_lossy(&next).into_owned().into(),
    ]
}

/// Computes the village cells of every village whose code starts with
/// `prefix` (a township's nine digits, or one village's twelve).
async fn compute(
    db: &impl ConnectionTrait,
    prefix: &str,
    courses: &HashMap<String, Vec<String>>,
    year: i32,
) -> AppResult<Cells> {
    let mut cells = Cells::default();

    // A household's primary cause: the first (by id) of its causes marked
    // primary. Read in one join and picked here; a subquery per household
    // would be planned as a scan of the whole cause table per household on
    // PostgreSQL (the `ORDER BY id LIMIT 1` walks the primary key).
    let mut primary: HashMap<i64, (i64, String)> = HashMap::new();
    {
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
    }
    let households: Vec<Household> = all(
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
    .collect::<Result<_, sea_orm::DbErr>>()?;
    let hh_index: HashMap<i64, usize> = households
        .iter()
        .enumerate()
        .map(|(n, h)| (h.id, n))
        .collect();

    let members: Vec<Member> = all(
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
    .collect::<Result<_, sea_orm::DbErr>>()?;
    let member_index: HashMap<i64, usize> =
        members.iter().enumerate().map(|(n, m)| (m.id, n)).collect();

    // Learners linked to a member of these villages, and learners of these
    // villages linked to no household (they count in training figures only).
    let learners: Vec<Learner> = {
        let sql = String::from(
            "SELECT u.id, u.member_id, m.area_code FROM member m JOIN app_user u ON u.member_id = m.id \
             WHERE m.area_code >= ? AND m.area_code < ? AND u.role = ? \
             UNION ALL \
             SELECT u.id, u.member_id, u.area_code FROM app_user u \
             WHERE u.member_id IS NULL AND u.role = ? AND u.area_code >= ? AND u.area_code < ?",
        );
        let mut v = range(prefix);
        v.push("learner".into());
        v.push("learner".into());
        v.extend(range(prefix));
        all(db, &sql, v)
            .await?
            .iter()
            .map(|r| {
                Ok(Learner {
                    id: i(r, 0)?,
                    member_id: oi(r, 1)?,
                    village: s(r, 2)?,
                })
            })
            .collect::<Result<_, sea_orm::DbErr>>()?
    };

    let mut enrollments: HashMap<i64, Vec<Enrollment>> = HashMap::new();
    let mut evidence: HashMap<i64, Vec<Evidence>> = HashMap::new();
    // A learner counts in a village; one whose area is larger counts nowhere.
    let learners: Vec<Learner> = learners
        .into_iter()
        .filter(|l| is_village(&l.village))
        .collect();
    let ids: Vec<i64> = learners.iter().map(|l| l.id).collect();
    for chunk in ids.chunks(CHUNK) {
        let q = marks(chunk.len());
        let v: Vec<Value> = chunk.iter().map(|id| (*id).into()).collect();
        for r in all(
            db,
            &format!(
                "SELECT user_id, course_slug, state, enrolled_at, completed_at FROM enrollment WHERE user_id IN ({q})"
            ),
            v.clone(),
        )
        .await?
        {
            enrollments.entry(i(&r, 0)?).or_default().push(Enrollment {
                user_id: i(&r, 0)?,
                course: s(&r, 1)?,
                state: s(&r, 2)?,
                enrolled_at: t(&r, 3)?,
                completed_at: ot(&r, 4)?,
            });
        }
        for r in all(
            db,
            &format!(
                "SELECT user_id, competence, source, score, level, at FROM skill_evidence WHERE user_id IN ({q})"
            ),
            v,
        )
        .await?
        {
            evidence.entry(i(&r, 0)?).or_default().push(Evidence {
                competence: s(&r, 1)?,
                source: s(&r, 2)?,
                score: oi32(&r, 3)?,
                level: oi32(&r, 4)?,
                at: t(&r, 5)?,
            });
        }
    }

    let follow_ups: Vec<FollowUp> = all(
        db,
        &String::from(
            "SELECT household_id, member_id, months_after, surveyed_at, shop_active, orders_30d, sales_30d_fen \
             FROM follow_up WHERE area_code >= ? AND area_code < ?"
        ),
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
            active: active(
                r.try_get_by_index::<Option<bool>>(4)?,
                oi32(r, 5)?,
                oi(r, 6)?,
            ),
        })
    })
    .collect::<Result<_, sea_orm::DbErr>>()?;

    // The latest year's income per head of each household.
    let mut income: HashMap<i64, (i32, i64)> = HashMap::new();
    for r in all(
        db,
        &String::from(
            "SELECT r.household_id, r.year, r.net_per_capita_fen FROM income_record r \
             JOIN household h ON h.id = r.household_id WHERE h.area_code >= ? AND h.area_code < ?",
        ),
        range(prefix),
    )
    .await?
    {
        let (hid, y, fen) = (i(&r, 0)?, i32_(&r, 1)?, i(&r, 2)?);
        let e = income.entry(hid).or_insert((y, fen));
        if y > e.0 {
            *e = (y, fen);
        }
    }

    // ---- people and households ------------------------------------------------
    let dims_of = |m: &Member| -> PersonDims {
        let h = &households[hh_index[&m.household_id]];
        PersonDims {
            village: h.village.clone(),
            cause: h.cause.clone(),
            status: h.status.clone(),
            sex: m.sex.clone(),
            age: age_band(year - m.birth_year).to_string(),
        }
    };
    for h in &households {
        cells.household(h, "", "hh", 1);
    }
    for m in &members {
        if !hh_index.contains_key(&m.household_id) {
            continue;
        }
        let d = dims_of(m);
        cells.person(&d, "", "people", 1);
        if in_labour_force(&m.sex, year - m.birth_year, m.labour.as_deref()) {
            cells.person(&d, "", "lf", 1);
        }
    }

    // First enrollment and first completion per household, for reached/trained.
    let mut hh_first_enrol: HashMap<i64, DateTime<Utc>> = HashMap::new();
    let mut hh_first_done: HashMap<i64, DateTime<Utc>> = HashMap::new();
    // Learners (by member) who completed a course, for the behaviour figures.
    let mut completer_members: BTreeSet<i64> = BTreeSet::new();

    for l in &learners {
        let member = l
            .member_id
            .and_then(|m| member_index.get(&m))
            .map(|n| &members[*n])
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
        let ev = evidence.remove(&l.id).unwrap_or_default();
        let skills = skills::per_competence(&ev);
        let es = enrollments.remove(&l.id).unwrap_or_default();
        let mut first_enrol: Option<DateTime<Utc>> = None;
        let mut first_done: Option<DateTime<Utc>> = None;
        for e in &es {
            debug_assert_eq!(e.user_id, l.id);
            let m = month(e.enrolled_at);
            cells.person(&d, &m, "enrol", 1);
            match e.state.as_str() {
                "completed" => cells.person(&d, &m, "enrol_done", 1),
                "withdrawn" => cells.person(&d, &m, "enrol_wd", 1),
                _ => {}
            }
            first_enrol = Some(first_enrol.map_or(e.enrolled_at, |f| f.min(e.enrolled_at)));
            if let (Some(done), "completed") = (e.completed_at, e.state.as_str()) {
                let cm = month(done);
                cells.person(&d, &cm, "complete", 1);
                let comps = courses.get(&e.course).map(Vec::as_slice).unwrap_or(&[]);
                if skills::mastered(&skills, comps) {
                    cells.person(&d, &cm, "mastered", 1);
                }
                first_done = Some(first_done.map_or(done, |f| f.min(done)));
            }
        }
        if let Some(m) = member {
            if let Some(f) = first_enrol {
                if in_labour_force(&m.sex, year - m.birth_year, m.labour.as_deref()) {
                    cells.person(&d, &month(f), "lf_enrolled", 1);
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

        // Skills gained: the learner's baseline month buckets her gain.
        let tested_at = ev
            .iter()
            .filter(|e| e.source == "pre" || e.source == "post")
            .map(|e| e.at)
            .min();
        if let Some(at) = tested_at {
            let bm = month(at);
            cells.person(&d, &bm, "tested", 1);
            let both: Vec<&skills::Skill> = skills
                .values()
                .filter(|s| s.pre.is_some() && s.post.is_some())
                .collect();
            if !both.is_empty() {
                let n = both.len() as f64;
                let pre = both
                    .iter()
                    .map(|s| f64::from(s.pre.unwrap_or(0)))
                    .sum::<f64>()
                    / n;
                let post = both
                    .iter()
                    .map(|s| f64::from(s.post.unwrap_or(0)))
                    .sum::<f64>()
                    / n;
                cells.person(&d, &bm, "both", 1);
                cells.person(&d, &bm, "pre_sum", (pre * 100.0).round() as i64);
                cells.person(&d, &bm, "post_sum", (post * 100.0).round() as i64);
                if pre < 100.0 {
                    let g = (post - pre) / (100.0 - pre);
                    cells.person(&d, &bm, "g_n", 1);
                    cells.person(&d, &bm, "g_sum", (g * 10_000.0).round() as i64);
                }
            }
            for sk in skills.values() {
                let (Some(pre), Some(post), Some(pre_at)) = (sk.pre, sk.post, sk.pre_at) else {
                    continue;
                };
                let cut = ("competence", sk.competence.as_str());
                let pm = month(pre_at);
                cells.add(&d.village, cut, &pm, "c_pairs", 1);
                cells.add(&d.village, cut, &pm, "c_pre", i64::from(pre));
                cells.add(&d.village, cut, &pm, "c_post", i64::from(post));
                if let Some(g) = skills::gain(pre, post) {
                    cells.add(&d.village, cut, &pm, "c_g_n", 1);
                    cells.add(
                        &d.village,
                        cut,
                        &pm,
                        "c_g_sum",
                        (g * 10_000.0).round() as i64,
                    );
                }
                if sk.level >= 2 {
                    cells.add(&d.village, cut, &pm, "c_l2", 1);
                }
            }
        }
    }

    // Behaviour of followed-up completers at 3 and 6 months: each member's
    // latest survey at that horizon, bucketed by the survey's month.
    let mut latest: BTreeMap<(i64, i32), &FollowUp> = BTreeMap::new();
    for f in &follow_ups {
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
        let m = &members[member_index[&mid]];
        let d = dims_of(m);
        let sm = month(f.surveyed_at);
        let (n, a) = if horizon == 3 {
            ("fu3_n", "fu3_act")
        } else {
            ("fu6_n", "fu6_act")
        };
        cells.person(&d, &sm, n, 1);
        if f.active {
            cells.person(&d, &sm, a, 1);
        }
    }

    // Households: reached, trained, and the descriptive comparison of trained
    // and not-yet-trained households (income per head, follow-up activity).
    let mut hh_latest_fu: HashMap<i64, &FollowUp> = HashMap::new();
    for f in &follow_ups {
        let Some(hid) = f.household_id else { continue };
        let e = hh_latest_fu.entry(hid).or_insert(f);
        if f.surveyed_at > e.surveyed_at {
            *e = f;
        }
    }
    for h in &households {
        if let Some(f) = hh_first_enrol.get(&h.id) {
            cells.household(h, &month(*f), "hh_reached", 1);
        }
        let trained = hh_first_done.get(&h.id).map(|f| month(*f));
        if let Some(tm) = &trained {
            cells.household(h, tm, "hh_trained", 1);
        }
        if let Some((_, fen)) = income.get(&h.id) {
            cells.household(h, "", "inc_n", 1);
            cells.household(h, "", "inc_sum", *fen);
            if let Some(tm) = &trained {
                cells.household(h, tm, "inc_n_t", 1);
                cells.household(h, tm, "inc_sum_t", *fen);
            }
        }
        if let Some(f) = hh_latest_fu.get(&h.id) {
            cells.household(h, "", "hfu_n", 1);
            cells.household(h, "", "hfu_act", i64::from(f.active));
            if let Some(tm) = &trained {
                cells.household(h, tm, "hfu_n_t", 1);
                cells.household(h, tm, "hfu_act_t", i64::from(f.active));
            }
        }
    }
    Ok(cells)
}

// ---- writing ------------------------------------------------------------------

fn parent_of(code: &str) -> String {
    match AreaCode::parse(code) {
        Ok(c) => c
            .parent()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| ROOT.to_string()),
        Err(_) => "-".into(),
    }
}

fn level_of(code: &str) -> &'static str {
    if code == ROOT {
        return "all";
    }
    AreaCode::parse(code)
        .map(|c| c.level().as_str())
        .unwrap_or("village")
}

/// Writes a township's cells: every cut for the township itself, and the
/// `all` cut of each of its villages (the township's drill-down). A village's
/// own dashboard is computed live: a village is small, and keeping every cut
/// of every village would make the rollup as large as the data it sums.
async fn write_township(
    db: &impl ConnectionTrait,
    township: &str,
    cells: Cells,
) -> AppResult<usize> {
    let backend = db.get_database_backend();
    let prefix = &township[..9];
    // The township's row and its villages' rows: one index range.
    db.execute_raw(stmt(
        backend,
        "DELETE FROM report_cell WHERE area_code >= ? AND area_code < ?",
        range(prefix),
    ))
    .await?;
    let mut rows: BTreeMap<(String, &'static str, String, String, &'static str), i64> =
        BTreeMap::new();
    for (k, v) in cells.0 {
        if k.cut_kind == "all" {
            *rows
                .entry((
                    k.village.clone(),
                    k.cut_kind,
                    k.cut_value.clone(),
                    k.month.clone(),
                    k.metric,
                ))
                .or_insert(0) += v;
        }
        *rows
            .entry((
                township.to_string(),
                k.cut_kind,
                k.cut_value,
                k.month,
                k.metric,
            ))
            .or_insert(0) += v;
    }
    let now = Utc::now();
    let n = rows.len();
    let rows: Vec<_> = rows.into_iter().collect();
    const ROWS: usize = 1000;
    for chunk in rows.chunks(ROWS) {
        let one = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
        let sql = format!(
            "INSERT INTO report_cell (area_code, parent_code, level, cut_kind, cut_value, month, metric, value, created_at, updated_at) VALUES {}",
            vec![one; chunk.len()].join(", ")
        );
        let mut v: Vec<Value> = Vec::with_capacity(chunk.len() * 10);
        for ((area, kind, value_key, month, metric), value) in chunk {
            v.push(area.clone().into());
            v.push(parent_of(area).into());
            v.push(level_of(area).into());
            v.push((*kind).into());
            v.push(value_key.clone().into());
            v.push(month.clone().into());
            v.push((*metric).into());
            v.push((*value).into());
            v.push(now.into());
            v.push(now.into());
        }
        db.execute_raw(stmt(backend, &sql, v)).await?;
    }
    Ok(n)
}

/// Re-sums one area's cells from its children's.
async fn resum(db: &impl ConnectionTrait, code: &str) -> AppResult<()> {
    let backend = db.get_database_backend();
    let now = Utc::now();
    db.execute_raw(stmt(
        backend,
        "DELETE FROM report_cell WHERE area_code = ?",
        vec![code.into()],
    ))
    .await?;
    db.execute_raw(stmt(
        backend,
        "INSERT INTO report_cell (area_code, parent_code, level, cut_kind, cut_value, month, metric, value, created_at, updated_at) \
         SELECT ?, ?, ?, cut_kind, cut_value, month, metric, SUM(value), ?, ? \
         FROM report_cell WHERE parent_code = ? AND area_code <> ? \
         GROUP BY cut_kind, cut_value, month, metric",
        vec![
            code.into(),
            parent_of(code).into(),
            level_of(code).into(),
            now.into(),
            now.into(),
            code.into(),
            code.into(),
        ],
    ))
    .await?;
    Ok(())
}

/// Every ancestor of these townships above them, deepest level first.
fn ancestors(townships: &BTreeSet<String>) -> Vec<String> {
    let mut by_level: BTreeMap<usize, BTreeSet<String>> = BTreeMap::new();
    for t in townships {
        let mut code = t.clone();
        loop {
            let p = parent_of(&code);
            if p == "-" {
                break;
            }
            let depth = match p.as_str() {
                ROOT => 0,
                other => AreaCode::parse(other)
                    .map(|c| c.level().digits())
                    .unwrap_or(0),
            };
            by_level.entry(depth).or_default().insert(p.clone());
            if p == ROOT {
                break;
            }
            code = p;
        }
    }
    by_level
        .into_iter()
        .rev()
        .flat_map(|(_, s)| s.into_iter())
        .collect()
}

fn is_village(code: &str) -> bool {
    AreaCode::parse(code).is_ok_and(|c| c.level() == Level::Village)
}

/// The township (`ttttttttt000`) of a village.
fn township_of(village: &str) -> String {
    format!("{:0<12}", &village[..9])
}

/// A village's cells, computed now (for its own dashboard), as
/// `(cut_kind, cut_value, month, metric, value)`.
pub async fn village_cells(
    db: &impl ConnectionTrait,
    village: &str,
) -> AppResult<Vec<(String, String, String, String, i64)>> {
    if !is_village(village) {
        return Ok(vec![]);
    }
    let courses = course_competences(db).await?;
    let cells = compute(db, village, &courses, Utc::now().year()).await?;
    Ok(cells
        .0
        .into_iter()
        .filter(|(k, _)| k.village == village)
        .map(|(k, v)| {
            (
                k.cut_kind.to_string(),
                k.cut_value,
                k.month,
                k.metric.to_string(),
                v,
            )
        })
        .collect())
}

/// Rebuilds the cells of the townships of these villages, and of all their
/// ancestors.
pub async fn refresh_villages(
    db: &DatabaseConnection,
    villages: &BTreeSet<String>,
) -> AppResult<Refreshed> {
    refresh(db, villages, false).await
}

/// Tables the rollup reads from the registry and the learning records.
const SOURCES: [&str; 8] = [
    "household",
    "household_cause",
    "member",
    "app_user",
    "enrollment",
    "skill_evidence",
    "follow_up",
    "income_record",
];

/// Refreshes PostgreSQL's planner statistics of these tables (a sample, not
/// a scan). After a bulk import the statistics can still describe nearly
/// empty tables until autovacuum comes round, and plans made from them scan
/// whole tables once per township. The other engines need nothing.
async fn analyze(db: &DatabaseConnection, tables: &[&str]) -> AppResult<()> {
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        db.execute_unprepared(&format!("ANALYZE {}", tables.join(", ")))
            .await?;
    }
    Ok(())
}

async fn refresh(
    db: &DatabaseConnection,
    villages: &BTreeSet<String>,
    full: bool,
) -> AppResult<Refreshed> {
    let courses = course_competences(db).await?;
    let year = Utc::now().year();
    let townships: BTreeSet<String> = villages
        .iter()
        .filter(|v| is_village(v))
        .map(|v| township_of(v))
        .collect();
    let mut out = Refreshed {
        villages: villages.len(),
        ..Default::default()
    };
    // One township a transaction: short writes, bounded memory.
    for t in &townships {
        let txn = crate::db::begin_write(db).await?;
        let cells = compute(&txn, &t[..9], &courses, year).await?;
        out.cells += write_township(&txn, t, cells).await?;
        txn.commit().await?;
    }
    if full {
        // The township rows were just rewritten in bulk: fresh statistics
        // for the re-sums that read them by parent.
        analyze(db, &["report_cell"]).await?;
    }
    let txn = crate::db::begin_write(db).await?;
    for a in ancestors(&townships) {
        resum(&txn, &a).await?;
    }
    txn.commit().await?;
    Ok(out)
}

/// Rebuilds the whole rollup.
pub async fn rebuild(db: &DatabaseConnection) -> AppResult<Refreshed> {
    let started = Utc::now();
    let mut villages: BTreeSet<String> = BTreeSet::new();
    for r in all(
        db,
        "SELECT DISTINCT area_code FROM household \
         UNION SELECT DISTINCT area_code FROM app_user WHERE role = ? AND member_id IS NULL AND area_code IS NOT NULL \
         UNION SELECT DISTINCT area_code FROM report_cell WHERE level = ? OR level = ?",
        vec!["learner".into(), "village".into(), "township".into()],
    )
    .await?
    {
        match os(&r, 0)? {
            Some(c) if is_village(&c) => {
                villages.insert(c);
            }
            // A township in the rollup: refreshed too, so that one whose
            // households are all gone is emptied.
            Some(c) if AreaCode::parse(&c).is_ok_and(|a| a.level() == Level::Township) => {
                villages.insert(format!("{}001", &c[..9]));
            }
            _ => {}
        }
    }
    analyze(db, &SOURCES).await?;
    let mut out = refresh(db, &villages, true).await?;
    out.full = true;
    mark(db, started, true).await?;
    Ok(out)
}

async fn mark(db: &DatabaseConnection, at: DateTime<Utc>, full: bool) -> AppResult<()> {
    let backend = db.get_database_backend();
    let now = Utc::now();
    let have = all(db, "SELECT id FROM report_state", vec![]).await?;
    if have.is_empty() {
        db.execute_raw(stmt(
            backend,
            "INSERT INTO report_state (refreshed_at, full_at, created_at, updated_at) VALUES (?, ?, ?, ?)",
            vec![at.into(), at.into(), now.into(), now.into()],
        ))
        .await?;
    } else if full {
        db.execute_raw(stmt(
            backend,
            "UPDATE report_state SET refreshed_at = ?, full_at = ?, updated_at = ?",
            vec![at.into(), at.into(), now.into()],
        ))
        .await?;
    } else {
        db.execute_raw(stmt(
            backend,
            "UPDATE report_state SET refreshed_at = ?, updated_at = ?",
            vec![at.into(), now.into()],
        ))
        .await?;
    }
    Ok(())
}

/// When the rollup was last refreshed and last rebuilt in full.
pub async fn state(db: &impl ConnectionTrait) -> AppResult<Option<(DateTime<Utc>, DateTime<Utc>)>> {
    let rows = all(db, "SELECT refreshed_at, full_at FROM report_state", vec![]).await?;
    match rows.first() {
        Some(r) => Ok(Some((t(r, 0)?, t(r, 1)?))),
        None => Ok(None),
    }
}

/// Rows committed just before the previous run started may carry an earlier
/// time than its watermark; this margin takes them again.
const MARGIN_MINUTES: i64 = 10;

/// Villages with changes since `since`.
async fn changed_villages(
    db: &impl ConnectionTrait,
    since: DateTime<Utc>,
) -> AppResult<BTreeSet<String>> {
    let w: Value = since.into();
    let mut out = BTreeSet::new();
    let mut prefixes = BTreeSet::new();
    let queries: [(&str, usize); 6] = [
        (
            "SELECT DISTINCT area_code FROM household WHERE updated_at >= ?",
            1,
        ),
        (
            "SELECT DISTINCT area_code FROM member WHERE updated_at >= ?",
            1,
        ),
        (
            "SELECT DISTINCT area_code FROM follow_up WHERE updated_at >= ?",
            1,
        ),
        (
            "SELECT DISTINCT h.area_code FROM income_record r JOIN household h ON h.id = r.household_id WHERE r.updated_at >= ?",
            1,
        ),
        (
            "SELECT DISTINCT COALESCE(m.area_code, u.area_code) FROM app_user u LEFT JOIN member m ON m.id = u.member_id \
             WHERE u.role = 'learner' AND (u.updated_at >= ? \
             OR u.id IN (SELECT user_id FROM enrollment WHERE updated_at >= ?) \
             OR u.id IN (SELECT user_id FROM skill_evidence WHERE created_at >= ?))",
            3,
        ),
        (
            "SELECT DISTINCT area_code FROM change_event WHERE at >= ? AND action = 'delete' AND area_code IS NOT NULL",
            1,
        ),
    ];
    for (sql, n) in queries {
        for r in all(db, sql, vec![w.clone(); n]).await? {
            if let Some(c) = os(&r, 0)? {
                if is_village(&c) {
                    out.insert(c);
                } else if AreaCode::parse(&c).is_ok() {
                    prefixes.insert(c);
                }
            }
        }
    }
    // A deletion recorded against a larger area: every village of it we hold.
    for p in prefixes {
        let prefix = AreaCode::parse(&p)
            .map(|c| c.prefix().to_string())
            .unwrap_or(p);
        for r in all(
            db,
            "SELECT DISTINCT area_code FROM report_cell WHERE level = ? AND area_code LIKE ?",
            vec!["village".into(), format!("{prefix}%").into()],
        )
        .await?
        {
            out.insert(s(&r, 0)?);
        }
    }
    Ok(out)
}

/// One step of the refresh job: a full rebuild on the first run and once a
/// day, else only the villages that changed.
pub async fn run_once(db: &DatabaseConnection) -> AppResult<Refreshed> {
    let started = Utc::now();
    let Some((refreshed, full)) = state(db).await? else {
        return rebuild(db).await;
    };
    if full.date_naive() != started.date_naive() {
        return rebuild(db).await;
    }
    let villages = changed_villages(db, refreshed - Duration::minutes(MARGIN_MINUTES)).await?;
    let out = if villages.is_empty() {
        Refreshed::default()
    } else {
        refresh_villages(db, &villages).await?
    };
    mark(db, started, false).await?;
    Ok(out)
}

/// Runs the refresh job every `every` until the process ends.
pub fn spawn(db: DatabaseConnection, every: std::time::Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            match run_once(&db).await {
                Ok(r) if r.villages > 0 => {
                    tracing::info!(
                        full = r.full,
                        villages = r.villages,
                        cells = r.cells,
                        "report rollup refreshed"
                    )
                }
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "report rollup refresh failed"),
            }
        }
    });
}
