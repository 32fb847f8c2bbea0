//! Which practical tasks wait for a trainer's sign-off: a task is ready for a
//! learner once she has finished every lesson that teaches the task's
//! competence (every lesson of the course when none does), and no sign-off
//! at level 1 or more is recorded for it yet. A learner enrolled minutes ago
//! has nothing ready.

use std::collections::{HashMap, HashSet};

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::content::{Cache, CourseInfo};
use crate::entities::lesson_progress::LessonState;
use crate::entities::{enrollment, lesson_progress, task_signoff};
use crate::error::AppResult;

/// The slugs of the tasks of `course` ready for sign-off, in course order,
/// given the lessons the learner finished and the tasks already signed off.
pub fn ready_tasks(
    course: &CourseInfo,
    finished: &HashSet<String>,
    signed: &HashSet<String>,
) -> Vec<String> {
    course
        .tasks
        .iter()
        .filter(|t| !signed.contains(&t.slug))
        .filter(|t| {
            let mut teaching = course
                .lessons
                .iter()
                .filter(|l| l.competences.split(',').any(|c| c.trim() == t.competence))
                .peekable();
            if teaching.peek().is_some() {
                teaching.all(|l| finished.contains(&l.slug))
            } else {
                !course.lessons.is_empty()
                    && course.lessons.iter().all(|l| finished.contains(&l.slug))
            }
        })
        .map(|t| t.slug.clone())
        .collect()
}

/// For each enrolment (learner, course), the tasks ready for sign-off; an
/// enrolment with none is left out. Two queries, whatever the number.
pub async fn waiting(
    db: &impl ConnectionTrait,
    cache: &Cache,
    open: &[enrollment::Model],
) -> AppResult<Vec<(i64, String, Vec<String>)>> {
    let mut ids: Vec<i64> = open.iter().map(|e| e.user_id).collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let mut finished: HashMap<(i64, String), HashSet<String>> = HashMap::new();
    for p in lesson_progress::Entity::find()
        .filter(lesson_progress::Column::UserId.is_in(ids.iter().copied()))
        .filter(lesson_progress::Column::State.eq(LessonState::Finished))
        .all(db)
        .await?
    {
        finished
            .entry((p.user_id, p.course_slug))
            .or_default()
            .insert(p.lesson_slug);
    }
    let mut signed: HashMap<(i64, String), HashSet<String>> = HashMap::new();
    for s in task_signoff::Entity::find()
        .filter(task_signoff::Column::UserId.is_in(ids.iter().copied()))
        .filter(task_signoff::Column::Level.gte(1))
        .all(db)
        .await?
    {
        signed
            .entry((s.user_id, s.course_slug))
            .or_default()
            .insert(s.task_slug);
    }
    let empty = HashSet::new();
    let mut out = Vec::new();
    for e in open {
        let Some(info) = cache.published(db, &e.course_slug).await? else {
            continue;
        };
        let key = (e.user_id, e.course_slug.clone());
        let ready = ready_tasks(
            &info,
            finished.get(&key).unwrap_or(&empty),
            signed.get(&key).unwrap_or(&empty),
        );
        if !ready.is_empty() {
            out.push((e.user_id, e.course_slug.clone(), ready));
        }
    }
    Ok(out)
}
