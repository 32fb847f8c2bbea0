//! The published version of a course as learning needs it (lessons, quizzes
//! with their answer keys, tasks), loaded in a handful of queries and cached
//! per process until a course is published again.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::entities::{course, lesson, question, quiz, task};
use crate::error::AppResult;

#[derive(Debug, Clone)]
pub struct QuizInfo {
    pub row: quiz::Model,
    pub questions: Vec<question::Model>,
}

#[derive(Debug, Clone)]
pub struct CourseInfo {
    pub course: course::Model,
    pub lessons: Vec<lesson::Model>,
    pub quizzes: Vec<QuizInfo>,
    pub tasks: Vec<task::Model>,
}

impl CourseInfo {
    pub fn lesson(&self, slug: &str) -> Option<&lesson::Model> {
        self.lessons.iter().find(|l| l.slug == slug)
    }
    pub fn quiz(&self, slug: &str) -> Option<&QuizInfo> {
        self.quizzes.iter().find(|q| q.row.slug == slug)
    }
    pub fn task(&self, slug: &str) -> Option<&task::Model> {
        self.tasks.iter().find(|t| t.slug == slug)
    }
    /// Lesson checks (quizzes of kind `lesson`).
    pub fn lesson_checks(&self) -> impl Iterator<Item = &QuizInfo> {
        self.quizzes.iter().filter(|q| q.row.kind == "lesson")
    }
}

#[derive(Default)]
pub struct Cache {
    map: RwLock<HashMap<String, Arc<CourseInfo>>>,
}

impl Cache {
    pub fn clear(&self) {
        if let Ok(mut m) = self.map.write() {
            m.clear();
        }
    }

    /// The published version of `slug`, or `None` when there is none.
    pub async fn published(
        &self,
        db: &impl ConnectionTrait,
        slug: &str,
    ) -> AppResult<Option<Arc<CourseInfo>>> {
        if let Some(c) = self.map.read().ok().and_then(|m| m.get(slug).cloned()) {
            return Ok(Some(c));
        }
        let Some(row) = course::Entity::find()
            .filter(course::Column::Slug.eq(slug))
            .filter(course::Column::Status.eq("published"))
            .order_by_desc(course::Column::Version)
            .one(db)
            .await?
        else {
            return Ok(None);
        };
        let info = Arc::new(load(db, row).await?);
        if let Ok(mut m) = self.map.write() {
            m.insert(slug.to_string(), info.clone());
        }
        Ok(Some(info))
    }
}

/// Loads one course version with everything below it (four queries).
pub async fn load(db: &impl ConnectionTrait, row: course::Model) -> AppResult<CourseInfo> {
    let lessons = lesson::Entity::find()
        .filter(lesson::Column::CourseId.eq(row.id))
        .order_by_asc(lesson::Column::Position)
        .all(db)
        .await?;
    let quizzes = quiz::Entity::find()
        .filter(quiz::Column::CourseId.eq(row.id))
        .order_by_asc(quiz::Column::Id)
        .all(db)
        .await?;
    let ids: Vec<i64> = quizzes.iter().map(|q| q.id).collect();
    let mut questions: HashMap<i64, Vec<question::Model>> = HashMap::new();
    if !ids.is_empty() {
        for q in question::Entity::find()
            .filter(question::Column::QuizId.is_in(ids))
            .order_by_asc(question::Column::Position)
            .all(db)
            .await?
        {
            questions.entry(q.quiz_id).or_default().push(q);
        }
    }
    let tasks = task::Entity::find()
        .filter(task::Column::CourseId.eq(row.id))
        .order_by_asc(task::Column::Position)
        .all(db)
        .await?;
    Ok(CourseInfo {
        quizzes: quizzes
            .into_iter()
            .map(|q| QuizInfo {
                questions: questions.remove(&q.id).unwrap_or_default(),
                row: q,
            })
            .collect(),
        course: row,
        lessons,
        tasks,
    })
}

/// Localized text stored as JSON: the wanted language, else the first given.
pub fn text(json: &str, lang: &str, fallback: &str) -> String {
    let map: std::collections::BTreeMap<String, String> =
        serde_json::from_str(json).unwrap_or_default();
    map.get(lang)
        .or_else(|| map.get(fallback))
        .or_else(|| map.values().next())
        .cloned()
        .unwrap_or_default()
}
