//! What a signed-in person is shown of a course version: the catalog entry,
//! the course with its lessons and tasks, one lesson (with its neighbours, its
//! check, its narration and the default-language fallback) and one quiz
//! without its answer key. Built once here: the API serializes these views and
//! the pages render them, so the two can never disagree.
//!
//! Here the catalog and the courses a person may see; each view has a file:
//! `course_view`, `lesson`, `quiz` and `results` (a submitted quiz, question by
//! question).

mod course_view;
mod lesson;
mod quiz;
mod results;

use std::collections::BTreeMap;
use std::sync::Arc;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Serialize;

use crate::entities::course::{self, CourseStatus};
use crate::error::{AppError, AppResult};
use crate::learning::content::{Cache, CourseInfo, default_language, text};
use crate::policy::{Action, Actor};

pub use course_view::{CompetenceTitle, CourseView, LessonItem, QuizItem, TaskItem, course_view};
pub use lesson::{LessonView, media_url, titled};
pub use quiz::{PublicChoice, PublicQuestion, QuizView, choices, quiz_view, shown_choices};
pub use results::{ResultLine, ReviewChoice};

/// Published courses, plus drafts when `drafts` (trainers and admins); one
/// row a slug and status, the newest.
pub async fn list_courses(
    db: &impl ConnectionTrait,
    drafts: bool,
) -> AppResult<Vec<course::Model>> {
    let mut statuses = vec![CourseStatus::Published];
    if drafts {
        statuses.push(CourseStatus::Draft);
    }
    let rows = course::Entity::find()
        .filter(course::Column::Status.is_in(statuses))
        .order_by_asc(course::Column::Category)
        .order_by_asc(course::Column::Level)
        .order_by_asc(course::Column::Slug)
        .order_by_desc(course::Column::Version)
        .all(db)
        .await?;
    let mut seen = std::collections::HashSet::new();
    Ok(rows
        .into_iter()
        .filter(|r| seen.insert((r.slug.clone(), r.status)))
        .collect())
}

/// The title of every published course in one language, by slug.
pub async fn published_titles(
    db: &impl ConnectionTrait,
    lang: &str,
) -> AppResult<BTreeMap<String, String>> {
    Ok(course::Entity::find()
        .filter(course::Column::Status.eq(CourseStatus::Published))
        .all(db)
        .await?
        .into_iter()
        .map(|c| {
            let title = text(&c.title_json, lang, default_language(&c));
            (c.slug, title)
        })
        .collect())
}

/// The course a person may see: published, or the newest draft for those who
/// may see drafts.
pub async fn visible(
    db: &impl ConnectionTrait,
    cache: &Cache,
    actor: &Actor,
    slug: &str,
) -> AppResult<Arc<CourseInfo>> {
    if let Some(c) = cache.published(db, slug).await? {
        return Ok(c);
    }
    if actor.may(Action::ViewDraftCourses)
        && let Some(row) = super::export::latest(db, slug, &[CourseStatus::Draft]).await?
    {
        return Ok(Arc::new(crate::learning::content::load(db, row).await?));
    }
    Err(AppError::NotFound)
}

fn list(s: &str) -> Vec<String> {
    s.split(',')
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

/// A course in the catalog, in one language.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CourseSummary {
    pub slug: String,
    pub version: i32,
    #[schema(value_type = String)]
    pub status: CourseStatus,
    pub category: String,
    pub level: i32,
    pub languages: Vec<String>,
    pub title: String,
    pub summary: String,
    pub hours: f64,
    pub pass_mark: i32,
    pub competences: Vec<String>,
}

impl CourseSummary {
    pub fn of(c: &course::Model, lang: &str) -> CourseSummary {
        let def = default_language(c);
        CourseSummary {
            slug: c.slug.clone(),
            version: c.version,
            status: c.status,
            category: c.category.clone(),
            level: c.level,
            languages: c.languages.split(',').map(str::to_string).collect(),
            title: text(&c.title_json, lang, def),
            summary: text(&c.summary_json, lang, def),
            hours: c.hours_tenths as f64 / 10.0,
            pass_mark: c.pass_mark,
            competences: list(&c.competences),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::learning::content::tests::sample;

    #[test]
    fn a_summary_is_in_the_wanted_language_with_fallback() {
        let c = sample();
        let en = CourseSummary::of(&c.course, "en");
        assert_eq!((en.title.as_str(), en.summary.as_str()), ("Phone", "入门"));
        assert_eq!(en.languages, vec!["zh-CN", "en"]);
        assert_eq!(en.competences, vec!["c1", "c2"], "empty codes are dropped");
        assert_eq!(en.hours, 1.5);
    }
}
