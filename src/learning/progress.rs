//! Derived learner state: lesson progress, quiz attempts with skill evidence,
//! and the learner's own overview.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait,
    QueryFilter, QueryOrder,
};
use serde::Serialize;
use uuid::Uuid;

use super::content::CourseInfo;
use super::grading::{self, Graded};
use crate::courses::QuizKind;
use crate::entities::enrollment::EnrollmentState;
use crate::entities::lesson_progress::LessonState;
use crate::entities::{certificate, enrollment, lesson_progress, quiz_attempt, skill_evidence};
use crate::error::{AppError, AppResult};
use crate::policy::Actor;

async fn find_progress(
    db: &impl ConnectionTrait,
    user: i64,
    course: &str,
    lesson: &str,
) -> AppResult<Option<lesson_progress::Model>> {
    Ok(lesson_progress::Entity::find()
        .filter(lesson_progress::Column::UserId.eq(user))
        .filter(lesson_progress::Column::CourseSlug.eq(course))
        .filter(lesson_progress::Column::LessonSlug.eq(lesson))
        .one(db)
        .await?)
}

/// What a lesson event does to the learner's progress on that lesson.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Opened, with the seconds spent reading: the first opening is kept and
    /// the seconds add up.
    Opened { seconds: i32 },
    /// Finished: the first finish is kept.
    Finished,
}

/// What the lesson-progress rule reads and writes of a progress row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LessonRow {
    pub state: LessonState,
    pub first_opened_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub seconds: i32,
}

impl From<&lesson_progress::Model> for LessonRow {
    fn from(p: &lesson_progress::Model) -> LessonRow {
        LessonRow {
            state: p.state,
            first_opened_at: p.first_opened_at,
            finished_at: p.finished_at,
            seconds: p.seconds,
        }
    }
}

impl Step {
    /// The lesson-progress rule, the one both the event-by-event path
    /// (`lesson_step`) and the bulk path (`events::apply_bulk`) apply: the
    /// row after a lesson event at `at` (`before`: none yet). The earliest
    /// opening is kept and the seconds add up; the first finish is kept.
    pub fn apply(self, before: Option<&LessonRow>, at: DateTime<Utc>) -> LessonRow {
        match (before, self) {
            (Some(p), Step::Opened { seconds }) => LessonRow {
                first_opened_at: p.first_opened_at.min(at),
                seconds: p.seconds.saturating_add(seconds),
                ..p.clone()
            },
            (Some(p), Step::Finished) if p.state == LessonState::Finished => p.clone(),
            (Some(p), Step::Finished) => LessonRow {
                state: LessonState::Finished,
                finished_at: Some(at),
                ..p.clone()
            },
            (None, Step::Opened { seconds }) => LessonRow {
                state: LessonState::Opened,
                first_opened_at: at,
                finished_at: None,
                seconds,
            },
            (None, Step::Finished) => LessonRow {
                state: LessonState::Finished,
                first_opened_at: at,
                finished_at: Some(at),
                seconds: 0,
            },
        }
    }
}

/// Applies one lesson event to the learner's progress row (made on the
/// first event) by the rule of `Step::apply`.
pub async fn lesson_step(
    db: &impl ConnectionTrait,
    user: i64,
    course: &str,
    lesson: &str,
    at: DateTime<Utc>,
    step: Step,
) -> AppResult<()> {
    let found = find_progress(db, user, course, lesson).await?;
    let before = found.as_ref().map(LessonRow::from);
    let after = step.apply(before.as_ref(), at);
    match found {
        Some(_) if before.as_ref() == Some(&after) => {}
        Some(p) => {
            let mut am: lesson_progress::ActiveModel = p.into();
            am.state = Set(after.state);
            am.first_opened_at = Set(after.first_opened_at);
            am.finished_at = Set(after.finished_at);
            am.seconds = Set(after.seconds);
            am.update(db).await?;
        }
        None => {
            lesson_progress::ActiveModel {
                user_id: Set(user),
                course_slug: Set(course.into()),
                lesson_slug: Set(lesson.into()),
                state: Set(after.state),
                first_opened_at: Set(after.first_opened_at),
                finished_at: Set(after.finished_at),
                seconds: Set(after.seconds),
                ..Default::default()
            }
            .insert(db)
            .await?;
        }
    }
    Ok(())
}

/// Grades and stores one attempt (idempotent by `key`: a replay returns the
/// stored result), with per-competence skill evidence.
pub async fn record_attempt(
    db: &impl ConnectionTrait,
    learner: &Actor,
    course: &CourseInfo,
    quiz_slug: &str,
    answers: &BTreeMap<String, Vec<String>>,
    key: Uuid,
    at: DateTime<Utc>,
) -> AppResult<Graded> {
    let quiz = course.quiz(quiz_slug).ok_or(AppError::NotFound)?;
    if let Some(prev) = quiz_attempt::Entity::find()
        .filter(quiz_attempt::Column::AttemptKey.eq(key))
        .one(db)
        .await?
    {
        return serde_json::from_str(&prev.result_json).map_err(|e| AppError::Internal(e.into()));
    }
    // Skill evidence is sourced by the kind of quiz (its stored name).
    let kind = quiz.row.kind;
    // Only a first attempt is evidence of a skill (as for the post-test): a
    // lesson check may be retaken until passed, and a level reached by
    // retakes would say she mastered what her first try did not show.
    let first = quiz_attempt::Entity::find()
        .filter(quiz_attempt::Column::UserId.eq(learner.id))
        .filter(quiz_attempt::Column::CourseSlug.eq(&course.course.slug))
        .filter(quiz_attempt::Column::QuizSlug.eq(quiz_slug))
        .one(db)
        .await?
        .is_none();
    let seed = super::shuffle::seed_of(learner.id, key);
    let g = grading::Graded {
        seed: Some(seed),
        ..grading::grade(quiz, answers, course.course.pass_mark)
    };
    let slug = &course.course.slug;
    let attempt = quiz_attempt::ActiveModel {
        attempt_key: Set(key),
        user_id: Set(learner.id),
        course_slug: Set(slug.clone()),
        course_version: Set(course.course.version),
        quiz_slug: Set(quiz_slug.to_string()),
        kind: Set(kind),
        answers_json: Set(serde_json::to_string(answers).unwrap_or_default()),
        result_json: Set(serde_json::to_string(&g).unwrap_or_default()),
        score: Set(g.score),
        max_score: Set(g.max_score),
        passed: Set(g.passed),
        submitted_at: Set(at),
        choice_seed: Set(Some(seed)),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let now = Utc::now();
    let rows: Vec<skill_evidence::ActiveModel> = g
        .competences
        .iter()
        .map(|(code, score)| skill_evidence::ActiveModel {
            user_id: Set(learner.id),
            competence: Set(code.clone()),
            course_slug: Set(Some(slug.clone())),
            source: Set(kind.to_value()),
            score: Set(Some(*score)),
            level: Set(None),
            attempt_id: Set(Some(attempt.id)),
            signoff_id: Set(None),
            area_code: Set(learner.area.as_ref().map(|a| a.to_string())),
            at: Set(at),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        })
        .collect();
    if !rows.is_empty() && (first || kind != QuizKind::Lesson) {
        skill_evidence::Entity::insert_many(rows)
            .exec_without_returning(db)
            .await?;
    }
    if kind == QuizKind::Pre {
        super::enroll::mark_pre_done(db, learner.id, slug).await?;
    }
    Ok(g)
}

/// One course in a learner's overview.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CourseProgress {
    pub course: String,
    #[schema(value_type = String)]
    pub state: EnrollmentState,
    pub pre_done: bool,
    pub lessons_finished: usize,
    pub lessons_total: usize,
    pub percent: usize,
    pub pre_score: Option<i32>,
    pub post_score: Option<i32>,
    /// The lesson to continue with.
    pub next_lesson: Option<String>,
    #[schema(value_type = BTreeMap<String, String>)]
    pub lessons: BTreeMap<String, LessonState>,
    pub certificate: Option<String>,
}

pub async fn overview(
    db: &impl ConnectionTrait,
    cache: &super::content::Cache,
    user: i64,
) -> AppResult<Vec<CourseProgress>> {
    let enrollments = enrollment::Entity::find()
        .filter(enrollment::Column::UserId.eq(user))
        .order_by_desc(enrollment::Column::UpdatedAt)
        .all(db)
        .await?;
    let progress = lesson_progress::Entity::find()
        .filter(lesson_progress::Column::UserId.eq(user))
        .all(db)
        .await?;
    let attempts = quiz_attempt::Entity::find()
        .filter(quiz_attempt::Column::UserId.eq(user))
        .order_by_asc(quiz_attempt::Column::Id)
        .all(db)
        .await?;
    let certs = certificate::Entity::find()
        .filter(certificate::Column::UserId.eq(user))
        .all(db)
        .await?;
    let mut out = Vec::new();
    for e in enrollments {
        let Some(info) = cache.published(db, &e.course_slug).await? else {
            continue;
        };
        let lessons: BTreeMap<String, LessonState> = progress
            .iter()
            .filter(|p| p.course_slug == e.course_slug)
            .map(|p| (p.lesson_slug.clone(), p.state))
            .collect();
        let finished = info
            .lessons
            .iter()
            .filter(|l| lessons.get(&l.slug) == Some(&LessonState::Finished))
            .count();
        let pct = |kind: QuizKind, first: bool| {
            let mut it = attempts
                .iter()
                .filter(|a| a.course_slug == e.course_slug && a.kind == kind);
            let a = if first {
                it.next()
            } else {
                it.max_by_key(|a| (a.score * 100).checked_div(a.max_score).unwrap_or(0))
            };
            a.map(|a| (a.score * 100).checked_div(a.max_score).unwrap_or(0))
        };
        let next = info
            .lessons
            .iter()
            .find(|l| lessons.get(&l.slug) != Some(&LessonState::Finished))
            .map(|l| l.slug.clone());
        out.push(CourseProgress {
            course: e.course_slug.clone(),
            state: e.state,
            pre_done: e.pre_done,
            lessons_finished: finished,
            lessons_total: info.lessons.len(),
            percent: (finished * 100)
                .checked_div(info.lessons.len())
                .unwrap_or(0),
            pre_score: pct(QuizKind::Pre, true),
            post_score: pct(QuizKind::Post, false),
            next_lesson: next,
            lessons,
            certificate: certs
                .iter()
                .find(|c| c.course_slug == e.course_slug && c.revoked_at.is_none())
                .map(|c| c.code.clone()),
        });
    }
    Ok(out)
}

/// A learner's standing in one course, for the course page.
#[derive(Debug, Default)]
pub struct Standing {
    pub enrollment: Option<enrollment::Model>,
    /// Her progress, once enrolled.
    pub progress: Option<CourseProgress>,
    /// What she still lacks to complete it, once enrolled.
    pub missing: Option<super::completion::Missing>,
    /// The best level a trainer signed off, by task.
    pub levels: BTreeMap<String, i32>,
}

pub async fn standing(
    db: &impl ConnectionTrait,
    cache: &super::content::Cache,
    user: i64,
    course: &CourseInfo,
) -> AppResult<Standing> {
    let slug = &course.course.slug;
    let levels = super::tasks::best_levels(db, user, slug).await?;
    let Some(e) = super::enroll::find(db, user, slug).await? else {
        return Ok(Standing {
            levels,
            ..Default::default()
        });
    };
    Ok(Standing {
        enrollment: Some(e),
        progress: overview(db, cache, user)
            .await?
            .into_iter()
            .find(|p| &p.course == slug),
        missing: Some(super::completion::missing(db, user, course).await?),
        levels,
    })
}
