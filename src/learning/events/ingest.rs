//! A client's batch of events parsed once into typed events (the kind, the
//! time, the lesson or quiz it names, the payload's shape), and the one way
//! typed events, a client's or a page's, reach the writer (`admit`): the
//! course she is enrolled in, the proof that a finished lesson was served to
//! her, her daily budget.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::{Act, Applied, Event, EventIn, LearnerKind, MAX_BATCH, PAGE_VIEW, Refused, Report};
use crate::entities::learning_event::{self, EventKind};
use crate::error::{AppError, AppResult};
use crate::learning::content::{Cache, CourseInfo};
use crate::policy::Actor;

/// What recording a learner's events needs of the process: narrow handles
/// the web layer takes from its context.
pub struct Recorder<'a> {
    pub db: &'a DatabaseConnection,
    pub content: &'a Cache,
    pub sessions: &'a crate::accounts::sessions::Sessions,
    pub writer: &'a crate::learning::writer::Writer,
    pub budgets: &'a crate::learning::limits::Budgets,
    pub budget: crate::learning::limits::Budget,
    /// The key of the proof that a lesson page was served (`served_proof`).
    pub served_key: &'a [u8],
    /// How long a page waits for its page view to commit (0: not at all).
    pub page_view_wait_ms: u64,
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
    rec: &Recorder<'_>,
    user: i64,
    course: &str,
    lesson: &str,
    served: Option<&str>,
) -> AppResult<bool> {
    if let Some(proof) = served {
        let want = served_proof(rec.served_key, user, course, lesson);
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
        .one(rec.db)
        .await?
        .is_some())
}

fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

/// Parses a client's batch of events (the API, a phone's offline outbox)
/// into typed events, once, and admits them (`admit`); answers once they are
/// durable.
pub async fn ingest(
    rec: &Recorder<'_>,
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
    let now = Utc::now();
    let mut parsed = Vec::with_capacity(batch.len());
    for e in batch {
        let event = match e.learner.filter(|by| *by != learner.id) {
            Some(by) => Err(Refused::invalid(
                "learner",
                format!(
                    "made by learner {by} on this device, not by the one signed in; it is kept for her own session"
                ),
            )),
            None => e.parse(rec.db, rec.content, now).await?,
        };
        parsed.push((e.id, event));
    }
    Ok(admit(rec, learner, source, parsed, now).await?.into())
}

/// Admits a learner's typed events (each with the id to report it under):
/// the course must be one she is enrolled in, a finished lesson one the
/// server saw her open; then, within her daily budget, the writer applies
/// them (group commit: see `writer`), checking the rules of pre- and
/// post-tests in its transaction. Answers once they are durable.
pub(crate) async fn admit(
    rec: &Recorder<'_>,
    learner: &Actor,
    source: &str,
    events: Vec<(String, Result<Event, Refused>)>,
    now: DateTime<Utc>,
) -> AppResult<Applied> {
    let mut refused = Vec::new();
    let mut valid = Vec::new();
    let enrolled = rec.sessions.enrolled(rec.db, learner.id).await?;
    for (id, event) in events {
        let v = match event {
            Ok(v) => v,
            Err(r) => {
                refused.push((id, r));
                continue;
            }
        };
        let slug = &v.course.course.slug;
        if !enrolled.contains(slug) {
            refused.push((
                id,
                Refused::invalid("course", format!("not enrolled in {slug:?}")),
            ));
            continue;
        }
        if let Act::LessonFinished { served } = &v.act
            && !opened_by_server(rec, learner.id, slug, v.lesson_slug(), served.as_deref()).await?
        {
            let lesson = v.lesson_slug().to_string();
            refused.push((id, Refused::NotOpened { lesson }));
            continue;
        }
        valid.push(v);
    }
    if valid.is_empty() {
        return Ok(Applied {
            refused,
            ..Default::default()
        });
    }
    // The learner's daily budget, before the writer: every valid event
    // counts, with its payload as it would be stored (each at most 4 KB).
    // A client's batches are counted in the event log, one learner's batch
    // at a time in this process (the lock is held until the writer has
    // them), so batches sent together cannot all pass one reading; what the
    // server's own pages record is counted in memory, so a page view pays
    // for no query.
    let bytes: usize = valid.iter().map(|v| v.payload.to_string().len()).sum();
    let lock;
    let _turn = match source {
        "demo" => None,
        "web" => {
            if let Some(why) = rec
                .budgets
                .over_web(rec.budget, learner.id, valid.len(), now)
            {
                return Err(AppError::OverBudget(why));
            }
            None
        }
        _ => {
            lock = rec.budgets.lock_of(learner.id);
            let turn = lock.lock().await;
            if let Some(why) = crate::learning::limits::over_budget(
                rec.db,
                rec.budget,
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
    let mut applied = rec.writer.write(learner, source, valid, now).await?;
    refused.append(&mut applied.refused);
    applied.refused = refused;
    Ok(applied)
}

/// The published course `slug`, in a version that has the lesson or quiz an
/// event names: one this process has not seen may be in a version published
/// since (by another process, or an import), loaded before the event is
/// refused.
pub(crate) async fn course_naming(
    db: &DatabaseConnection,
    cache: &Cache,
    slug: &str,
    lesson: Option<&str>,
    quiz: Option<&str>,
) -> AppResult<Result<Arc<CourseInfo>, Refused>> {
    let Some(mut course) = cache.published(db, slug).await? else {
        return Ok(Err(Refused::not_found(
            "course",
            format!("{slug:?} is not a published course"),
        )));
    };
    let unknown = lesson.is_some_and(|l| course.lesson(l).is_none())
        || quiz.is_some_and(|q| course.quiz(q).is_none());
    if unknown && let Some(newer) = cache.newer(db, slug, &course).await? {
        course = newer;
    }
    Ok(Ok(course))
}

impl EventIn {
    /// The typed event this one is, checked against the published course
    /// (the kind, the time, the lesson or quiz it names, the payload's
    /// shape), or why it is refused.
    async fn parse(
        &self,
        db: &DatabaseConnection,
        cache: &Cache,
        now: DateTime<Utc>,
    ) -> AppResult<Result<Event, Refused>> {
        let Ok(id) = Uuid::parse_str(self.id.trim()) else {
            return Ok(Err(Refused::invalid("id", "not a UUID")));
        };
        let Some(kind) = LearnerKind::parse(&self.kind) else {
            return Ok(Err(Refused::invalid(
                "kind",
                format!(
                    "{:?} is not one of {}",
                    self.kind.chars().take(40).collect::<String>(),
                    LearnerKind::ALL.map(LearnerKind::name).join(", ")
                ),
            )));
        };
        let payload = self.payload.clone().unwrap_or(serde_json::Value::Null);
        if let Err(r) = super::shape::check_shape(
            kind,
            self.course.as_deref(),
            self.lesson.as_deref(),
            &payload,
        ) {
            return Ok(Err(r));
        }
        let at = match self.occurred_at.as_deref() {
            None => now,
            Some(s) => match DateTime::parse_from_rfc3339(s) {
                Ok(t) => t.with_timezone(&Utc),
                Err(_) => return Ok(Err(Refused::invalid("occurred_at", "not an RFC 3339 time"))),
            },
        };
        if at > now + Duration::days(1) || at.timestamp() < 1_577_836_800 {
            return Ok(Err(Refused::invalid(
                "occurred_at",
                "outside the possible range",
            )));
        }
        let Some(slug) = self.course.as_deref().filter(|s| !s.is_empty()) else {
            return Ok(Err(Refused::invalid("course", "missing")));
        };
        let lesson = self.lesson.clone().filter(|l| !l.is_empty());
        let quiz = payload.get("quiz").and_then(|q| q.as_str());
        let (names_lesson, names_quiz) = match kind {
            LearnerKind::LessonOpened | LearnerKind::LessonFinished => (lesson.as_deref(), None),
            LearnerKind::QuizSubmitted => (None, quiz),
            LearnerKind::AnswerGiven => (None, None),
        };
        let course = match course_naming(db, cache, slug, names_lesson, names_quiz).await? {
            Ok(c) => c,
            Err(r) => return Ok(Err(r)),
        };
        let act = match kind {
            LearnerKind::LessonOpened | LearnerKind::LessonFinished => {
                match &lesson {
                    Some(l) if course.lesson(l).is_some() => {}
                    Some(l) => return Ok(Err(super::not_a_lesson(l, slug))),
                    None => return Ok(Err(Refused::invalid("lesson", "missing"))),
                }
                if kind == LearnerKind::LessonOpened {
                    Act::LessonOpened {
                        seconds: super::opened_seconds(&payload),
                    }
                } else {
                    Act::LessonFinished {
                        served: self.served.clone(),
                    }
                }
            }
            LearnerKind::QuizSubmitted => {
                let quiz = quiz.unwrap_or_default();
                if course.quiz(quiz).is_none() {
                    return Ok(Err(super::not_a_quiz(quiz, slug)));
                }
                let Ok(answers) = serde_json::from_value::<BTreeMap<String, Vec<String>>>(
                    payload.get("answers").cloned().unwrap_or_default(),
                ) else {
                    return Ok(Err(Refused::invalid(
                        "payload.answers",
                        "must map question ids to lists of answers",
                    )));
                };
                Act::QuizSubmitted {
                    quiz: quiz.to_string(),
                    answers,
                }
            }
            LearnerKind::AnswerGiven => Act::AnswerGiven,
        };
        Ok(Ok(Event {
            id,
            course,
            lesson,
            at,
            act,
            payload,
        }))
    }
}
