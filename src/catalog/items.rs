//! Item analysis of a course's quizzes for the people who author it: each
//! learner's first attempt at each quiz, read from `quiz_attempt` (what she
//! gave and how it was graded), analysed by `item_stats`.
//!
//! A version's questions may differ from another's, so one version is
//! analysed at a time (the published one unless another is asked for), from
//! the first attempts made on it: a learner whose first attempt was on an
//! older version is not counted, since her later attempts are retakes.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::export::to_package;
use super::item_stats::{self, Answer, Attempt, Item, QuizStats};
use super::store::authorize;
use crate::courses::{Course, Quiz, QuizKind};
use crate::entities::course::CourseStatus;
use crate::entities::{course, quiz_attempt};
use crate::error::{AppError, AppResult};
use crate::learning::grading::Graded;
use crate::policy::Actor;

/// One quiz of the version, with its figures.
pub struct QuizAnalysis {
    pub quiz: Quiz,
    pub stats: QuizStats,
}

/// A version of the course and how many learners made their first attempt
/// at some quiz on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionCount {
    pub version: i32,
    pub learners: usize,
}

/// The item analysis of one course version.
pub struct Analysis {
    pub course: Course,
    pub version: i32,
    /// Versions with first attempts, newest first.
    pub versions: Vec<VersionCount>,
    /// Pre-test, post-test, then lesson checks in lesson order.
    pub quizzes: Vec<QuizAnalysis>,
}

/// Attempts read per query when loading their answers.
const CHUNK: usize = 500;

/// The analysis of `slug` (`version`, else the published version, else the
/// newest released one) for someone who may author it (403 / 404 otherwise).
pub async fn analyse(
    db: &impl ConnectionTrait,
    actor: &Actor,
    slug: &str,
    version: Option<i32>,
) -> AppResult<Analysis> {
    analyse_with(db, actor, slug, version, item_stats::MIN_FIRST_ATTEMPTS).await
}

/// [`analyse`] with another minimum of first attempts (tests).
pub async fn analyse_with(
    db: &impl ConnectionTrait,
    actor: &Actor,
    slug: &str,
    version: Option<i32>,
    min: usize,
) -> AppResult<Analysis> {
    authorize(db, actor, slug).await?;
    let rows = course::Entity::find()
        .filter(course::Column::Slug.eq(slug))
        .order_by_desc(course::Column::Version)
        .all(db)
        .await?;
    let row = match version {
        Some(v) => rows.iter().find(|r| r.version == v),
        None => rows
            .iter()
            .find(|r| r.status == CourseStatus::Published)
            .or_else(|| rows.iter().find(|r| r.status != CourseStatus::Draft))
            .or_else(|| rows.first()),
    }
    .ok_or(AppError::NotFound)?;
    let course = to_package(db, row).await?;

    // Every attempt's key facts, oldest first: the first per learner and quiz wins.
    let heads: Vec<(i64, i64, String, i32, DateTime<Utc>)> = quiz_attempt::Entity::find()
        .select_only()
        .columns([
            quiz_attempt::Column::Id,
            quiz_attempt::Column::UserId,
            quiz_attempt::Column::QuizSlug,
            quiz_attempt::Column::CourseVersion,
            quiz_attempt::Column::SubmittedAt,
        ])
        .filter(quiz_attempt::Column::CourseSlug.eq(slug))
        .into_tuple()
        .all(db)
        .await?;
    let firsts = first_attempts(heads);
    let mut per_version: BTreeMap<i32, std::collections::BTreeSet<i64>> = BTreeMap::new();
    for f in firsts.values() {
        per_version.entry(f.version).or_default().insert(f.user);
    }
    let versions = per_version
        .iter()
        .rev()
        .map(|(v, users)| VersionCount {
            version: *v,
            learners: users.len(),
        })
        .collect();
    let ids: Vec<i64> = firsts
        .values()
        .filter(|f| f.version == row.version)
        .map(|f| f.id)
        .collect();
    let mut by_quiz: HashMap<String, Vec<Attempt>> = HashMap::new();
    for chunk in ids.chunks(CHUNK) {
        let found = quiz_attempt::Entity::find()
            .filter(quiz_attempt::Column::Id.is_in(chunk.iter().copied()))
            .order_by_asc(quiz_attempt::Column::Id)
            .all(db)
            .await?;
        for a in found {
            by_quiz
                .entry(a.quiz_slug.clone())
                .or_default()
                .push(attempt_of(&a));
        }
    }
    let mut quizzes: Vec<QuizAnalysis> = course
        .quizzes
        .iter()
        .map(|q| {
            let items = items_of(q);
            let attempts = by_quiz.remove(&q.slug).unwrap_or_default();
            QuizAnalysis {
                stats: item_stats::analyse(&items, &attempts, min),
                quiz: q.clone(),
            }
        })
        .collect();
    quizzes.sort_by_key(|q| match q.quiz.kind {
        QuizKind::Pre => 0,
        QuizKind::Post => 1,
        QuizKind::Lesson => 2,
    });
    Ok(Analysis {
        version: row.version,
        versions,
        quizzes,
        course,
    })
}

/// The first attempt of one learner at one quiz.
struct First {
    id: i64,
    user: i64,
    version: i32,
    at: DateTime<Utc>,
}

/// The first attempt per learner and quiz, by submission time (then by id,
/// the order they were stored in).
fn first_attempts(
    heads: Vec<(i64, i64, String, i32, DateTime<Utc>)>,
) -> HashMap<(i64, String), First> {
    let mut out: HashMap<(i64, String), First> = HashMap::new();
    for (id, user, quiz, version, at) in heads {
        let f = First {
            id,
            user,
            version,
            at,
        };
        match out.get(&(user, quiz.clone())) {
            Some(old) if (old.at, old.id) <= (at, id) => {}
            _ => {
                out.insert((user, quiz), f);
            }
        }
    }
    out
}

/// The questions of a quiz as the analysis needs them.
pub fn items_of(q: &Quiz) -> Vec<Item> {
    q.questions
        .iter()
        .map(|x| Item {
            id: x.id.clone(),
            kind: x.kind,
            points: x.points as i32,
            choices: if x.kind == crate::courses::QuestionKind::TrueFalse {
                vec!["true".into(), "false".into()]
            } else {
                x.choices.iter().map(|c| c.id.clone()).collect()
            },
            key: x.answer.clone(),
        })
        .collect()
}

/// One stored attempt as answers per question: how it was graded (its
/// result) and what was given (the result's copy, else the answers column).
fn attempt_of(a: &quiz_attempt::Model) -> Attempt {
    let graded: Option<Graded> = serde_json::from_str(&a.result_json).ok();
    let mut given: BTreeMap<String, Vec<String>> =
        graded.as_ref().map(|g| g.given.clone()).unwrap_or_default();
    if given.is_empty() {
        given = serde_json::from_str(&a.answers_json).unwrap_or_default();
    }
    graded
        .map(|g| g.questions)
        .unwrap_or_default()
        .into_iter()
        .map(|r| {
            let answer = Answer {
                correct: r.correct,
                points: r.points,
                given: given.remove(&r.id).unwrap_or_default(),
            };
            (r.id, answer)
        })
        .collect()
}
