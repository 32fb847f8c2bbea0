//! The learning event log. A batch is applied in one transaction: unknown ids
//! are stored and applied, known ids are reported as duplicates and change
//! nothing, invalid items are rejected one by one with a reason. Web pages
//! record through the same `record` function, so forms and API never disagree.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveEnum, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    QueryFilter, QuerySelect,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::content::{Cache, CourseInfo};
use super::{completion, grading, progress};
use crate::app::AppContext;
use crate::entities::learning_event::{self, EventKind};
use crate::entities::{enrollment, lesson_progress, quiz_attempt};
use crate::error::{AppError, AppResult};
use crate::policy::Actor;
use secrecy::ExposeSecret;

/// An event as a client sends it.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct EventIn {
    pub id: String,
    pub kind: String,
    #[serde(default)]
    pub course: Option<String>,
    #[serde(default)]
    pub lesson: Option<String>,
    #[serde(default)]
    pub occurred_at: Option<String>,
    #[serde(default)]
    pub payload: Option<serde_json::Value>,
    /// The learner the record was made by (a phone's outbox keeps it with
    /// each record): one that is not the signed-in learner is refused.
    #[serde(default)]
    pub learner: Option<i64>,
    /// For `lesson_finished`: the proof, written into the lesson page the
    /// server gave her, that it served her the lesson (see `served_proof`).
    /// Without it the lesson counts as finished only after a page view the
    /// server recorded.
    #[serde(default)]
    pub served: Option<String>,
}

/// The proof that the server served `lesson` of `course` to `user` (a lesson
/// page, seen online or fetched to be kept offline): an HMAC under the
/// server's key, so that a device cannot make it for a lesson it was not
/// given.
pub fn served_proof(key: &[u8], user: i64, course: &str, lesson: &str) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = match <Hmac<sha2::Sha256> as Mac>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC-SHA256 accepts keys of any length"),
    };
    mac.update(b"fuzhi lesson served\0");
    mac.update(&user.to_le_bytes());
    mac.update(course.as_bytes());
    mac.update(b"\0");
    mac.update(lesson.as_bytes());
    mac.finalize().into_bytes()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether the server saw `user` open `lesson`: a page view it recorded
/// itself (source `web`, never a client's report), or a valid proof that it
/// served her the page.
async fn opened_by_server(
    ctx: &AppContext,
    user: i64,
    course: &str,
    lesson: &str,
    served: Option<&str>,
) -> AppResult<bool> {
    let key = ctx.secrets.id_hmac.expose_secret().as_bytes();
    if let Some(proof) = served {
        let want = served_proof(key, user, course, lesson);
        if constant_eq(proof.trim().as_bytes(), want.as_bytes()) {
            return Ok(true);
        }
    }
    Ok(learning_event::Entity::find()
        .select_only()
        .column(learning_event::Column::Id)
        .filter(learning_event::Column::UserId.eq(user))
        .filter(learning_event::Column::Kind.eq(EventKind::LessonOpened))
        .filter(learning_event::Column::CourseSlug.eq(course))
        .filter(learning_event::Column::LessonSlug.eq(lesson))
        .filter(learning_event::Column::Source.eq(PAGE_VIEW))
        .into_tuple::<Uuid>()
        .one(&ctx.db)
        .await?
        .is_some())
}

fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

/// The source of the page views the server records itself.
const PAGE_VIEW: &str = "web";

#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Rejected {
    pub id: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Default, utoipa::ToSchema)]
pub struct Report {
    pub accepted: usize,
    pub duplicates: usize,
    pub rejected: Vec<Rejected>,
    /// Results of `quiz_submitted` events, by event id.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub graded: BTreeMap<String, grading::Graded>,
}

/// The kinds a learner's device may send; trainers record sign-offs and
/// attendance through their own services.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LearnerKind {
    LessonOpened,
    LessonFinished,
    AnswerGiven,
    QuizSubmitted,
}

impl LearnerKind {
    pub const ALL: [LearnerKind; 4] = [
        LearnerKind::LessonOpened,
        LearnerKind::LessonFinished,
        LearnerKind::AnswerGiven,
        LearnerKind::QuizSubmitted,
    ];

    /// The kind as stored.
    pub fn kind(self) -> EventKind {
        match self {
            LearnerKind::LessonOpened => EventKind::LessonOpened,
            LearnerKind::LessonFinished => EventKind::LessonFinished,
            LearnerKind::AnswerGiven => EventKind::AnswerGiven,
            LearnerKind::QuizSubmitted => EventKind::QuizSubmitted,
        }
    }

    /// A kind's stored name, if a learner may send it.
    pub fn parse(name: &str) -> Option<LearnerKind> {
        match EventKind::try_from_value(&name.to_string()).ok()? {
            EventKind::LessonOpened => Some(LearnerKind::LessonOpened),
            EventKind::LessonFinished => Some(LearnerKind::LessonFinished),
            EventKind::AnswerGiven => Some(LearnerKind::AnswerGiven),
            EventKind::QuizSubmitted => Some(LearnerKind::QuizSubmitted),
            EventKind::TaskSigned | EventKind::ClassAttended => None,
        }
    }

    pub fn name(self) -> String {
        self.kind().to_value()
    }
}

pub(crate) struct Valid {
    id: Uuid,
    kind: LearnerKind,
    course: std::sync::Arc<CourseInfo>,
    lesson: Option<String>,
    at: DateTime<Utc>,
    payload: serde_json::Value,
}

/// The most events a batch may hold (the API answers 413 beyond).
pub const MAX_BATCH: usize = 500;

/// What applying one request's events gave: accepted, duplicates, the
/// graded quiz attempts by event id, and the attempts refused by the rules
/// of pre- and post-tests (see `gate`), which store nothing.
pub type Applied = (
    usize,
    usize,
    BTreeMap<String, grading::Graded>,
    Vec<Rejected>,
);

/// Validates a batch of a learner's events and applies the valid ones through
/// the process's writer (group commit: see `writer`); answers once they are
/// durable.
pub async fn ingest(
    ctx: &AppContext,
    learner: &Actor,
    source: &str,
    batch: Vec<EventIn>,
) -> AppResult<Report> {
    if batch.len() > MAX_BATCH {
        return Err(AppError::field(
            "events",
            format!("at most {MAX_BATCH} events a batch"),
        ));
    }
    let mut report = Report::default();
    let mut valid = Vec::new();
    let now = Utc::now();

    let enrolled = ctx.sessions.enrolled(&ctx.db, learner.id).await?;
    for e in batch {
        if let Some(by) = e.learner.filter(|by| *by != learner.id) {
            report.rejected.push(Rejected {
                id: e.id.clone(),
                reason: format!(
                    "learner: made by learner {by} on this device, not by the one signed in; it is kept for her own session"
                ),
            });
            continue;
        }
        match check(&ctx.db, &ctx.content, &e, now, &enrolled).await? {
            Ok(v)
                if v.kind == LearnerKind::LessonFinished
                    && !opened_by_server(
                        ctx,
                        learner.id,
                        &v.course.course.slug,
                        v.lesson.as_deref().unwrap_or_default(),
                        e.served.as_deref(),
                    )
                    .await? =>
            {
                report.rejected.push(Rejected {
                    id: e.id.clone(),
                    reason: format!(
                        "lesson: {:?} was never opened; a lesson counts as finished once its page was opened",
                        v.lesson.as_deref().unwrap_or_default()
                    ),
                })
            }
            Ok(v) => valid.push(v),
            Err(reason) => report.rejected.push(Rejected {
                id: e.id.clone(),
                reason,
            }),
        }
    }
    if valid.is_empty() {
        return Ok(report);
    }
    // The learner's daily budget, before the writer: every valid event
    // counts, with its payload as it would be stored (each at most 4 KB).
    // A client's batches are counted in the event log, one learner's batch
    // at a time in this process (the lock is held until the writer has
    // them), so batches sent together cannot all pass one reading; what the
    // server's own pages record is counted in memory, so a page view pays
    // for no query.
    let bytes: usize = valid.iter().map(|v| v.payload.to_string().len()).sum();
    let budget = super::limits::Budget::of(&ctx.settings);
    let lock;
    let _turn = match source {
        "demo" => None,
        "web" => {
            if let Some(why) = ctx.budgets.over_web(budget, learner.id, valid.len(), now) {
                return Err(AppError::OverBudget(why));
            }
            None
        }
        _ => {
            lock = ctx.budgets.lock_of(learner.id);
            let turn = lock.lock().await;
            if let Some(why) = super::limits::over_budget(
                &ctx.db,
                budget,
                learner.id,
                valid.len() as i64,
                bytes as i64,
                now,
            )
            .await?
            {
                return Err(AppError::OverBudget(why));
            }
            Some(turn)
        }
    };
    let (accepted, duplicates, graded, refused) =
        ctx.events.write(learner, source, valid, now).await?;
    report.accepted = accepted;
    report.duplicates = duplicates;
    report.graded = graded;
    report.rejected.extend(refused);
    Ok(report)
}

async fn check(
    db: &DatabaseConnection,
    cache: &Cache,
    e: &EventIn,
    now: DateTime<Utc>,
    enrolled: &std::collections::HashSet<String>,
) -> AppResult<Result<Valid, String>> {
    let Ok(id) = Uuid::parse_str(e.id.trim()) else {
        return Ok(Err("id: not a UUID".into()));
    };
    let Some(kind) = LearnerKind::parse(&e.kind) else {
        return Ok(Err(format!(
            "kind: {:?} is not one of {}",
            e.kind.chars().take(40).collect::<String>(),
            LearnerKind::ALL.map(LearnerKind::name).join(", ")
        )));
    };
    if let Err(why) = super::limits::check_shape(kind, e) {
        return Ok(Err(why));
    }
    let at = match e.occurred_at.as_deref() {
        None => now,
        Some(s) => match DateTime::parse_from_rfc3339(s) {
            Ok(t) => t.with_timezone(&Utc),
            Err(_) => return Ok(Err("occurred_at: not an RFC 3339 time".into())),
        },
    };
    if at > now + Duration::days(1) || at.timestamp() < 1_577_836_800 {
        return Ok(Err("occurred_at: outside the possible range".into()));
    }
    let Some(slug) = e.course.as_deref().filter(|s| !s.is_empty()) else {
        return Ok(Err("course: missing".into()));
    };
    let Some(mut course) = cache.published(db, slug).await? else {
        return Ok(Err(format!("course: {slug:?} is not a published course")));
    };
    if !enrolled.contains(slug) {
        return Ok(Err(format!("course: not enrolled in {slug:?}")));
    }
    let lesson = e.lesson.clone().filter(|l| !l.is_empty());
    let payload = e.payload.clone().unwrap_or(serde_json::Value::Null);
    // A lesson or quiz this process has not seen may be in a version
    // published since (by another process, or an import): load it before
    // refusing the event.
    let quiz_named = payload.get("quiz").and_then(|q| q.as_str());
    let unknown = match kind {
        LearnerKind::LessonOpened | LearnerKind::LessonFinished => lesson
            .as_deref()
            .is_some_and(|l| course.lesson(l).is_none()),
        LearnerKind::QuizSubmitted => quiz_named.is_some_and(|q| course.quiz(q).is_none()),
        LearnerKind::AnswerGiven => false,
    };
    if unknown && let Some(newer) = cache.newer(db, slug, &course).await? {
        course = newer;
    }
    match kind {
        LearnerKind::LessonOpened | LearnerKind::LessonFinished => match &lesson {
            Some(l) if course.lesson(l).is_some() => {}
            Some(l) => return Ok(Err(format!("lesson: {l:?} is not a lesson of {slug:?}"))),
            None => return Ok(Err("lesson: missing".into())),
        },
        LearnerKind::QuizSubmitted => {
            let quiz = payload
                .get("quiz")
                .and_then(|q| q.as_str())
                .unwrap_or_default();
            if course.quiz(quiz).is_none() {
                return Ok(Err(format!(
                    "payload.quiz: {quiz:?} is not a quiz of {slug:?}"
                )));
            }
            if serde_json::from_value::<BTreeMap<String, Vec<String>>>(
                payload.get("answers").cloned().unwrap_or_default(),
            )
            .is_err()
            {
                return Ok(Err(
                    "payload.answers: must map question ids to lists of answers".into(),
                ));
            }
        }
        LearnerKind::AnswerGiven => {}
    }
    Ok(Ok(Valid {
        id,
        kind,
        course,
        lesson,
        at,
        payload,
    }))
}

pub(crate) async fn apply(
    txn: &impl ConnectionTrait,
    learner: &Actor,
    source: &str,
    valid: &[Valid],
    now: DateTime<Utc>,
    views: Option<&crate::views::Views>,
    base_url: &str,
) -> AppResult<Applied> {
    let mut accepted = 0;
    let mut duplicates = 0;
    let mut graded = BTreeMap::new();
    let mut refused = Vec::new();
    let mut touched: Vec<std::sync::Arc<CourseInfo>> = Vec::new();
    // Ids already stored are duplicates. A concurrent writer that stores one
    // between this read and the insert makes the insert fail on the key, and
    // the whole batch is retried by the caller.
    let ids: Vec<Uuid> = valid.iter().map(|v| v.id).collect();
    let known: std::collections::HashSet<Uuid> = if ids.is_empty() {
        Default::default()
    } else {
        learning_event::Entity::find()
            .select_only()
            .column(learning_event::Column::Id)
            .filter(learning_event::Column::Id.is_in(ids))
            .into_tuple::<Uuid>()
            .all(txn)
            .await?
            .into_iter()
            .collect()
    };
    let mut seen = std::collections::HashSet::new();
    for v in valid {
        let course = v.course.clone();
        let slug = course.course.slug.clone();
        if known.contains(&v.id) || !seen.insert(v.id) {
            duplicates += 1;
            continue;
        }
        // A pre-test taken again, a post-test not open yet: refused, and
        // nothing stored (lessons finished earlier in the batch count).
        if v.kind == LearnerKind::QuizSubmitted
            && let Err(r) = super::gate::may_submit(txn, learner.id, &course, quiz_of(v)).await?
        {
            refused.push(Rejected {
                id: v.id.to_string(),
                reason: r.reason(),
            });
            continue;
        }
        learning_event::Entity::insert(learning_event::ActiveModel {
            id: Set(v.id),
            user_id: Set(learner.id),
            kind: Set(v.kind.kind()),
            course_slug: Set(Some(slug.clone())),
            lesson_slug: Set(v.lesson.clone()),
            payload: Set(v.payload.to_string()),
            occurred_at: Set(v.at),
            received_at: Set(now),
            source: Set(source.to_string()),
        })
        .exec_without_returning(txn)
        .await?;
        accepted += 1;
        let lesson = v.lesson.as_deref().unwrap_or_default();
        match v.kind {
            LearnerKind::LessonOpened => {
                let seconds = opened_seconds(&v.payload);
                let step = progress::Step::Opened { seconds };
                progress::lesson_step(txn, learner.id, &slug, lesson, v.at, step).await?;
            }
            LearnerKind::LessonFinished => {
                let step = progress::Step::Finished;
                progress::lesson_step(txn, learner.id, &slug, lesson, v.at, step).await?;
            }
            LearnerKind::QuizSubmitted => {
                let quiz = quiz_of(v);
                let answers: BTreeMap<String, Vec<String>> =
                    serde_json::from_value(v.payload.get("answers").cloned().unwrap_or_default())
                        .unwrap_or_default();
                let kind = course.quiz(quiz).map(|q| q.row.kind.as_str());
                // A post-test is taken online and counted by the server's
                // clock, so a device's clock cannot make a retake the first.
                let at = if kind == Some("post") { now } else { v.at };
                let g = progress::record_attempt(txn, learner, &course, quiz, &answers, v.id, at)
                    .await?;
                graded.insert(v.id.to_string(), g.for_learner(kind.unwrap_or_default()));
            }
            // Stored for the record; it changes no derived state.
            LearnerKind::AnswerGiven => {}
        }
        // Only a finished lesson or a submitted quiz can complete a course;
        // opening a lesson or answering along the way cannot.
        let may_complete = match v.kind {
            LearnerKind::LessonFinished | LearnerKind::QuizSubmitted => true,
            LearnerKind::LessonOpened | LearnerKind::AnswerGiven => false,
        };
        if may_complete && !touched.iter().any(|c| c.course.slug == slug) {
            touched.push(course);
        }
    }
    for course in touched {
        completion::check(txn, learner.id, &course, views, base_url).await?;
    }
    Ok((accepted, duplicates, graded, refused))
}

/// The quiz a `quiz_submitted` event names (checked to exist by `check`).
fn quiz_of(v: &Valid) -> &str {
    v.payload
        .get("quiz")
        .and_then(|q| q.as_str())
        .unwrap_or_default()
}

/// One request's events as the writer hands them to `apply_bulk`.
pub(crate) struct Part<'a> {
    pub learner: &'a Actor,
    pub source: &'a str,
    pub valid: &'a [Valid],
    pub now: DateTime<Utc>,
}

impl Valid {
    /// Events whose whole effect `apply_bulk` writes: lesson steps and
    /// answers (a submitted quiz is graded one by one).
    pub(crate) fn is_bulk(&self) -> bool {
        !matches!(self.kind, LearnerKind::QuizSubmitted)
    }
}

/// Rows a multi-row statement holds at most (well under every engine's limit
/// of bound parameters).
const ROWS_A_STATEMENT: usize = 200;

/// What a batch's lesson events do to one lesson's progress row.
#[derive(Default)]
struct Delta {
    first_at: Option<DateTime<Utc>>,
    opened_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
    seconds: i32,
}

/// Applies many requests' lesson events and answers at once, in a constant
/// number of statements (the known ids, the events, the progress rows read
/// and written; then the completion check of each learner who finished a
/// lesson), with the same result as `apply` on each part in turn. Every
/// event must be `is_bulk`. The caller's transaction must hold the write lock
/// (SQLite) or gets the progress rows locked here (`FOR UPDATE`); a progress
/// row another process makes meanwhile fails the insert on its key, and the
/// caller tries again.
pub(crate) async fn apply_bulk(
    txn: &impl ConnectionTrait,
    parts: &[Part<'_>],
    views: Option<&crate::views::Views>,
    base_url: &str,
) -> AppResult<Vec<Applied>> {
    use sea_orm::sea_query::{Expr, OnConflict};
    let ids: Vec<Uuid> = parts
        .iter()
        .flat_map(|p| p.valid.iter().map(|v| v.id))
        .collect();
    let mut known = std::collections::HashSet::new();
    for chunk in ids.chunks(ROWS_A_STATEMENT * 4) {
        known.extend(
            learning_event::Entity::find()
                .select_only()
                .column(learning_event::Column::Id)
                .filter(learning_event::Column::Id.is_in(chunk.to_vec()))
                .into_tuple::<Uuid>()
                .all(txn)
                .await?,
        );
    }
    let mut out = Vec::with_capacity(parts.len());
    let mut rows = Vec::new();
    let mut deltas: BTreeMap<(i64, String, String), Delta> = BTreeMap::new();
    let mut finished: Vec<(i64, std::sync::Arc<CourseInfo>)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for p in parts {
        let (mut accepted, mut duplicates) = (0, 0);
        for v in p.valid {
            debug_assert!(v.is_bulk());
            if known.contains(&v.id) || !seen.insert(v.id) {
                duplicates += 1;
                continue;
            }
            accepted += 1;
            let slug = &v.course.course.slug;
            rows.push(learning_event::ActiveModel {
                id: Set(v.id),
                user_id: Set(p.learner.id),
                kind: Set(v.kind.kind()),
                course_slug: Set(Some(slug.clone())),
                lesson_slug: Set(v.lesson.clone()),
                payload: Set(v.payload.to_string()),
                occurred_at: Set(v.at),
                received_at: Set(p.now),
                source: Set(p.source.to_string()),
            });
            let lesson = v.lesson.clone().unwrap_or_default();
            let key = (p.learner.id, slug.clone(), lesson);
            match v.kind {
                LearnerKind::LessonOpened => {
                    let d = deltas.entry(key).or_default();
                    d.first_at = Some(d.first_at.map_or(v.at, |t| t.min(v.at)));
                    d.opened_at = Some(d.opened_at.map_or(v.at, |t| t.min(v.at)));
                    d.seconds = d.seconds.saturating_add(opened_seconds(&v.payload));
                }
                LearnerKind::LessonFinished => {
                    let d = deltas.entry(key).or_default();
                    d.first_at = Some(d.first_at.map_or(v.at, |t| t.min(v.at)));
                    d.finished_at = Some(d.finished_at.map_or(v.at, |t| t.min(v.at)));
                    if !finished
                        .iter()
                        .any(|(u, c)| *u == p.learner.id && c.course.slug == *slug)
                    {
                        finished.push((p.learner.id, v.course.clone()));
                    }
                }
                LearnerKind::AnswerGiven | LearnerKind::QuizSubmitted => {}
            }
        }
        out.push((accepted, duplicates, BTreeMap::new(), Vec::new()));
    }
    for chunk in rows.chunks(ROWS_A_STATEMENT) {
        learning_event::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(txn)
            .await?;
    }
    // The progress rows the batch touches, read (and locked) in one query a chunk.
    let keys: Vec<&(i64, String, String)> = deltas.keys().collect();
    let mut existing: BTreeMap<(i64, String, String), lesson_progress::Model> = BTreeMap::new();
    let lock = txn.get_database_backend() != sea_orm::DatabaseBackend::Sqlite;
    for chunk in keys.chunks(ROWS_A_STATEMENT) {
        // `(user_id, course_slug, lesson_slug) IN ((…), …)`: one row-value
        // list, which every engine matches against the key's index (a long
        // OR of ANDs costs PostgreSQL a plan per branch).
        use lesson_progress::Column as C;
        use sea_orm::sea_query::ExprTrait;
        let key = Expr::tuple([
            Expr::col(C::UserId),
            Expr::col(C::CourseSlug),
            Expr::col(C::LessonSlug),
        ]);
        let wanted = chunk
            .iter()
            .map(|(u, c, l)| (*u, c.clone(), l.clone()))
            .collect::<Vec<_>>();
        let mut q = lesson_progress::Entity::find().filter(key.in_tuples(wanted));
        if lock {
            q = q.lock_exclusive();
        }
        for r in q.all(txn).await? {
            existing.insert((r.user_id, r.course_slug.clone(), r.lesson_slug.clone()), r);
        }
    }
    let stamp = Utc::now();
    let (mut fresh, mut changed) = (Vec::new(), Vec::new());
    for (key, d) in deltas {
        let before = existing.remove(&key);
        let (user, course, lesson) = key;
        let mut row = lesson_progress::ActiveModel {
            user_id: Set(user),
            course_slug: Set(course),
            lesson_slug: Set(lesson),
            updated_at: Set(stamp),
            ..Default::default()
        };
        match before {
            // As `progress::lesson_step`: the first opening is kept, the
            // seconds add up, the first finish is kept.
            Some(p) => {
                let first = d
                    .opened_at
                    .map_or(p.first_opened_at, |t| t.min(p.first_opened_at));
                let finish = d.finished_at.filter(|_| p.state != "finished");
                let seconds = p.seconds.saturating_add(d.seconds);
                if first == p.first_opened_at && finish.is_none() && seconds == p.seconds {
                    continue;
                }
                row.state = Set(if finish.is_some() {
                    "finished".to_string()
                } else {
                    p.state.clone()
                });
                row.first_opened_at = Set(first);
                row.finished_at = Set(finish.or(p.finished_at));
                row.seconds = Set(seconds);
                row.created_at = Set(p.created_at);
                changed.push(row);
            }
            None => {
                let state = if d.finished_at.is_some() {
                    "finished"
                } else {
                    "opened"
                };
                row.state = Set(state.to_string());
                row.first_opened_at = Set(d.first_at.unwrap_or(stamp));
                row.finished_at = Set(d.finished_at);
                row.seconds = Set(d.seconds);
                row.created_at = Set(stamp);
                fresh.push(row);
            }
        }
    }
    // New rows are plain inserts, so that one made meanwhile by another
    // process fails on its key instead of being overwritten.
    for chunk in fresh.chunks(ROWS_A_STATEMENT) {
        lesson_progress::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(txn)
            .await?;
    }
    for chunk in changed.chunks(ROWS_A_STATEMENT) {
        use lesson_progress::Column as C;
        lesson_progress::Entity::insert_many(chunk.to_vec())
            .on_conflict(
                OnConflict::columns([C::UserId, C::CourseSlug, C::LessonSlug])
                    .update_columns([
                        C::State,
                        C::FirstOpenedAt,
                        C::FinishedAt,
                        C::Seconds,
                        C::UpdatedAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(txn)
            .await?;
    }
    for (user, course) in finished {
        completion::check(txn, user, &course, views, base_url).await?;
    }
    Ok(out)
}

/// The reading time a `lesson_opened` carries, bounded to an hour.
fn opened_seconds(payload: &serde_json::Value) -> i32 {
    payload
        .get("seconds")
        .and_then(|s| s.as_i64())
        .unwrap_or(0)
        .clamp(0, 3600) as i32
}

/// Records one event from a page (same path as the API).
pub async fn record(
    ctx: &AppContext,
    learner: &Actor,
    kind: LearnerKind,
    course: &str,
    lesson: Option<&str>,
    payload: serde_json::Value,
    served: Option<&str>,
) -> AppResult<Report> {
    let e = EventIn {
        id: Uuid::new_v4().to_string(),
        kind: kind.name(),
        course: Some(course.into()),
        lesson: lesson.map(str::to_string),
        occurred_at: None,
        payload: Some(payload),
        learner: None,
        served: served.map(str::to_string),
    };
    let r = ingest(ctx, learner, "web", vec![e]).await?;
    if let Some(rej) = r.rejected.first() {
        return Err(AppError::BadRequest(rej.reason.clone()));
    }
    Ok(r)
}

/// Records that `learner` opened `lesson` of `course` (a lesson page she is
/// enrolled in, already checked by the page) through the writer. By default
/// (`page_view_wait_ms` = 0) the page does not wait: the view commits with
/// the writer's next batch, milliseconds later, long before the learner's
/// next click. With a wait set, the page waits for the commit at most that
/// long. A page view is not acknowledged to anyone, so one still queued when
/// the process dies is the only kind of event that can be lost.
pub async fn page_view(
    ctx: &AppContext,
    learner: &Actor,
    course: std::sync::Arc<CourseInfo>,
    lesson: &str,
) -> AppResult<()> {
    let now = Utc::now();
    // Past the day's budget the page is still shown, without a record:
    // reloading a page thousands of times cannot fill the disk.
    if let Some(why) =
        ctx.budgets
            .over_web(super::limits::Budget::of(&ctx.settings), learner.id, 1, now)
    {
        tracing::debug!(learner = learner.id, why, "a page view was not recorded");
        return Ok(());
    }
    let v = Valid {
        id: Uuid::new_v4(),
        kind: LearnerKind::LessonOpened,
        course,
        lesson: Some(lesson.to_string()),
        at: now,
        payload: serde_json::json!({}),
    };
    let answer = ctx.events.submit(learner, PAGE_VIEW, vec![v], now).await?;
    if ctx.settings.page_view_wait_ms == 0 {
        return Ok(());
    }
    let wait = std::time::Duration::from_millis(ctx.settings.page_view_wait_ms);
    match tokio::time::timeout(wait, answer).await {
        Ok(Ok(Err(e))) => tracing::warn!(error = %e, "a page view was not recorded"),
        Ok(_) => {}
        Err(_) => tracing::debug!("a page view commits after its page"),
    }
    Ok(())
}

/// A learner's answers to one quiz, recorded as a `quiz_submitted` event with
/// the attempt's id: the result, or the stored result when this attempt was
/// submitted before, or why the submission was rejected.
pub async fn submit_quiz(
    ctx: &AppContext,
    learner: &Actor,
    source: &str,
    course: &str,
    quiz: &str,
    answers: &BTreeMap<String, Vec<String>>,
    attempt_id: &str,
) -> AppResult<Result<grading::Graded, Rejected>> {
    let e = EventIn {
        id: attempt_id.to_string(),
        kind: LearnerKind::QuizSubmitted.name(),
        course: Some(course.into()),
        lesson: None,
        occurred_at: None,
        payload: Some(serde_json::json!({"quiz": quiz, "answers": answers})),
        learner: None,
        served: None,
    };
    let r = ingest(ctx, learner, source, vec![e]).await?;
    if let Some(rej) = r.rejected.into_iter().next() {
        return Ok(Err(rej));
    }
    if let Some(g) = r.graded.into_values().next() {
        return Ok(Ok(g));
    }
    // A duplicate: the stored result of the same attempt.
    let key = Uuid::parse_str(attempt_id.trim()).map_err(|_| AppError::NotFound)?;
    // Hers only: another learner's attempt id shows nothing of it.
    let a = quiz_attempt::Entity::find()
        .filter(quiz_attempt::Column::AttemptKey.eq(key))
        .filter(quiz_attempt::Column::UserId.eq(learner.id))
        .one(&ctx.db)
        .await?
        .ok_or(AppError::NotFound)?;
    let g: grading::Graded =
        serde_json::from_str(&a.result_json).map_err(|e| AppError::Internal(e.into()))?;
    Ok(Ok(g.for_learner(&a.kind)))
}

/// Count of the enrollments of one learner (for tests and pages).
pub async fn enrollment_count(db: &impl ConnectionTrait, user_id: i64) -> AppResult<usize> {
    Ok(enrollment::Entity::find()
        .filter(enrollment::Column::UserId.eq(user_id))
        .all(db)
        .await?
        .len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learners_send_only_their_own_kinds() {
        for k in LearnerKind::ALL {
            assert_eq!(LearnerKind::parse(&k.name()), Some(k));
        }
        assert_eq!(LearnerKind::QuizSubmitted.name(), "quiz_submitted");
        assert_eq!(LearnerKind::LessonOpened.name(), "lesson_opened");
        assert_eq!(LearnerKind::parse("task_signed"), None);
        assert_eq!(LearnerKind::parse("class_attended"), None);
        assert_eq!(LearnerKind::parse("lesson_read"), None);
    }

    #[test]
    fn stored_names_are_unchanged() {
        use sea_orm::Iterable;
        let names: Vec<String> = EventKind::iter().map(|k| k.to_value()).collect();
        assert_eq!(
            names,
            [
                "lesson_opened",
                "lesson_finished",
                "answer_given",
                "quiz_submitted",
                "task_signed",
                "class_attended"
            ]
        );
    }
}
