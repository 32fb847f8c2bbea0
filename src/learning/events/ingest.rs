//! A learner's batch of events checked one by one (the kind, the time, the
//! course she is enrolled in, the lesson or quiz it names, the proof that a
//! finished lesson was served to her) and handed to the writer within her
//! daily budget.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect};
use secrecy::ExposeSecret;
use uuid::Uuid;

use super::{EventIn, LearnerKind, MAX_BATCH, PAGE_VIEW, Rejected, Report, Valid};
use crate::app::AppContext;
use crate::entities::learning_event::{self, EventKind};
use crate::error::{AppError, AppResult};
use crate::learning::content::Cache;
use crate::policy::Actor;

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
    let budget = crate::learning::limits::Budget::of(&ctx.settings);
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
            if let Some(why) = crate::learning::limits::over_budget(
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
    if let Err(why) = crate::learning::limits::check_shape(kind, e) {
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
