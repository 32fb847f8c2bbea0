//! Many requests' lesson events and answers applied at once, in a constant
//! number of statements, with the same result as applying them one by one.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
};
use uuid::Uuid;

use super::{Applied, LearnerKind, Valid, opened_seconds};
use crate::entities::lesson_progress::LessonState;
use crate::entities::{learning_event, lesson_progress};
use crate::error::AppResult;
use crate::learning::completion;
use crate::learning::content::CourseInfo;
use crate::policy::Actor;

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
                let finish = d.finished_at.filter(|_| p.state != LessonState::Finished);
                let seconds = p.seconds.saturating_add(d.seconds);
                if first == p.first_opened_at && finish.is_none() && seconds == p.seconds {
                    continue;
                }
                row.state = Set(if finish.is_some() {
                    LessonState::Finished
                } else {
                    p.state
                });
                row.first_opened_at = Set(first);
                row.finished_at = Set(finish.or(p.finished_at));
                row.seconds = Set(seconds);
                row.created_at = Set(p.created_at);
                changed.push(row);
            }
            None => {
                let state = if d.finished_at.is_some() {
                    LessonState::Finished
                } else {
                    LessonState::Opened
                };
                row.state = Set(state);
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
