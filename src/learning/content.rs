//! The published version of a course as learning needs it (lessons, quizzes
//! with their answer keys, tasks), loaded in a handful of queries and cached
//! per process until a course is published again.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::courses::QuizKind;
use crate::entities::course::CourseStatus;
use crate::entities::{competence, course, lesson, lesson_text, question, quiz, task};
use crate::error::AppResult;

#[derive(Debug, Clone)]
pub struct QuizInfo {
    pub row: quiz::Model,
    pub questions: Vec<question::Model>,
}

/// Where a course version's media file is served.
pub fn media_url(info: &CourseInfo, path: &str) -> String {
    format!("/c/{}/{}/{}", info.course.slug, info.course.version, path)
}

#[derive(Debug, Clone)]
pub struct CourseInfo {
    pub course: course::Model,
    pub lessons: Vec<lesson::Model>,
    /// Every lesson's text in every language (HTML rendered at import):
    /// immutable for a version, so a lesson page reads no text from the database.
    pub texts: Vec<lesson_text::Model>,
    /// The competences the course claims, with their titles.
    pub competences: Vec<competence::Model>,
    pub quizzes: Vec<QuizInfo>,
    pub tasks: Vec<task::Model>,
    /// Answers made once from this version and kept with it (a JSON view in
    /// one language, serialized and compressed): it is immutable, so they
    /// are too, and they go when a new version replaces it in the cache.
    pub memo: Memo,
}

/// Values computed once from an immutable course version, by key. The web
/// layer keeps its prepared answers here; a key names what a value shows
/// (`course:zh-CN`, `lesson:wifi:en`), so the keys are bounded by the
/// version's lessons and quizzes times the languages.
#[derive(Default)]
pub struct Memo(Mutex<HashMap<String, Arc<dyn Any + Send + Sync>>>);

impl Memo {
    /// The value under `key`, made by `make` the first time. Two requests
    /// may both make it; one keeps its value.
    pub fn get_or_try<T: Any + Send + Sync, E>(
        &self,
        key: &str,
        make: impl FnOnce() -> Result<T, E>,
    ) -> Result<Arc<T>, E> {
        let found = self.0.lock().ok().and_then(|m| m.get(key).cloned());
        if let Some(v) = found.and_then(|v| v.downcast::<T>().ok()) {
            return Ok(v);
        }
        let v = Arc::new(make()?);
        if let Ok(mut m) = self.0.lock() {
            m.insert(key.to_string(), v.clone());
        }
        Ok(v)
    }
}

/// A copy starts empty: what was memoized belongs to the original.
impl Clone for Memo {
    fn clone(&self) -> Self {
        Memo::default()
    }
}

impl std::fmt::Debug for Memo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.0.lock().map_or(0, |m| m.len());
        write!(f, "Memo({n} entries)")
    }
}

impl CourseInfo {
    /// A lesson's text in `lang`, else the course's default language, else
    /// any it has.
    pub fn text_of(&self, lesson_id: i64, lang: &str) -> Option<&lesson_text::Model> {
        let pick = |want: &str| {
            self.texts
                .iter()
                .find(|t| t.lesson_id == lesson_id && t.locale == want)
        };
        pick(lang)
            .or_else(|| pick(self.default_language()))
            .or_else(|| self.texts.iter().find(|t| t.lesson_id == lesson_id))
    }

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
        self.quizzes
            .iter()
            .filter(|q| q.row.kind == QuizKind::Lesson)
    }
    /// The check that follows a lesson, if it has one.
    pub fn check_of(&self, lesson: &str) -> Option<&QuizInfo> {
        self.lesson_checks()
            .find(|q| q.row.lesson_slug.as_deref() == Some(lesson))
    }
    /// The lessons before and after `lesson` in course order.
    pub fn neighbours(&self, lesson: &str) -> (Option<&lesson::Model>, Option<&lesson::Model>) {
        let Some(i) = self.lessons.iter().position(|l| l.slug == lesson) else {
            return (None, None);
        };
        (
            i.checked_sub(1).and_then(|j| self.lessons.get(j)),
            self.lessons.get(i + 1),
        )
    }
    /// The language texts fall back to: the first the course lists.
    pub fn default_language(&self) -> &str {
        default_language(&self.course)
    }
}

/// A course version's default language: the first it lists.
pub fn default_language(c: &course::Model) -> &str {
    c.languages.split(',').next().unwrap_or("zh-CN")
}

/// The published versions of every course, cached per process. A publish,
/// an import or an archive in any process reaches every other process
/// within `accounts::sessions::POLL` plus one query: the same poll that
/// carries session changes reads the ids of the published versions
/// (`sync`), and a change empties the cache. And a lesson or quiz a cached
/// version lacks is looked up in the newest published version before an
/// event naming it is refused (`newer`).
#[derive(Default)]
pub struct Cache {
    map: RwLock<HashMap<String, Arc<CourseInfo>>>,
    /// The ids of the published versions when last read.
    seen: Mutex<Option<Vec<i64>>>,
}

impl Cache {
    pub fn clear(&self) {
        if let Ok(mut m) = self.map.write() {
            m.clear();
        }
    }

    /// Reads which versions are published (one small query) and empties the
    /// cache when that changed since the last call. Whether it changed.
    pub async fn sync(&self, db: &impl ConnectionTrait) -> AppResult<bool> {
        use sea_orm::QuerySelect;
        let ids: Vec<i64> = course::Entity::find()
            .select_only()
            .column(course::Column::Id)
            .filter(course::Column::Status.eq(CourseStatus::Published))
            .order_by_asc(course::Column::Id)
            .into_tuple()
            .all(db)
            .await?;
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let changed = seen.as_ref().is_some_and(|s| *s != ids);
        *seen = Some(ids);
        drop(seen);
        if changed {
            tracing::info!(
                "a course version was published or archived; the course cache starts again"
            );
            self.clear();
        }
        Ok(changed)
    }

    /// The newest published version of `slug` when it is newer than the one
    /// cached (which it then replaces), else `None`.
    pub async fn newer(
        &self,
        db: &impl ConnectionTrait,
        slug: &str,
        than: &CourseInfo,
    ) -> AppResult<Option<Arc<CourseInfo>>> {
        let Some(row) = newest_published(db, slug).await? else {
            return Ok(None);
        };
        if row.id == than.course.id {
            return Ok(None);
        }
        let info = Arc::new(load(db, row).await?);
        if let Ok(mut m) = self.map.write() {
            m.insert(slug.to_string(), info.clone());
        }
        Ok(Some(info))
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
        let Some(row) = newest_published(db, slug).await? else {
            return Ok(None);
        };
        let info = Arc::new(load(db, row).await?);
        if let Ok(mut m) = self.map.write() {
            m.insert(slug.to_string(), info.clone());
        }
        Ok(Some(info))
    }
}

/// The newest published version of `slug`, if it has one.
async fn newest_published(
    db: &impl ConnectionTrait,
    slug: &str,
) -> AppResult<Option<course::Model>> {
    Ok(course::Entity::find()
        .filter(course::Column::Slug.eq(slug))
        .filter(course::Column::Status.eq(CourseStatus::Published))
        .order_by_desc(course::Column::Version)
        .one(db)
        .await?)
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
    let lesson_ids: Vec<i64> = lessons.iter().map(|l| l.id).collect();
    let texts = if lesson_ids.is_empty() {
        Vec::new()
    } else {
        lesson_text::Entity::find()
            .filter(lesson_text::Column::LessonId.is_in(lesson_ids))
            .all(db)
            .await?
    };
    let codes: Vec<String> = row
        .competences
        .split(',')
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .collect();
    let competences = if codes.is_empty() {
        Vec::new()
    } else {
        competence::Entity::find()
            .filter(competence::Column::Code.is_in(codes))
            .all(db)
            .await?
    };
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
        texts,
        competences,
        tasks,
        memo: Memo::default(),
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A course of three lessons; the second has a check, and there is a post-test.
    pub(crate) fn sample() -> CourseInfo {
        let now = chrono::Utc::now();
        let lesson = |id: i64, slug: &str| lesson::Model {
            id,
            course_id: 1,
            slug: slug.into(),
            position: id as i32,
            minutes: 10,
            audio: (id == 1).then(|| "media/one.opus".to_string()),
            competences: String::new(),
            created_at: now,
            updated_at: now,
        };
        let quiz = |id: i64, slug: &str, kind: QuizKind, lesson: Option<&str>| QuizInfo {
            row: quiz::Model {
                id,
                course_id: 1,
                slug: slug.into(),
                kind,
                lesson_slug: lesson.map(str::to_string),
                title_json: "null".into(),
                source: None,
                created_at: now,
                updated_at: now,
            },
            questions: vec![],
        };
        CourseInfo {
            course: course::Model {
                id: 1,
                slug: "phone".into(),
                version: 3,
                status: CourseStatus::Published,
                category: "it".into(),
                level: 1,
                languages: "zh-CN,en".into(),
                title_json: r#"{"zh-CN":"手机","en":"Phone"}"#.into(),
                summary_json: r#"{"zh-CN":"入门"}"#.into(),
                pass_mark: 60,
                hours_tenths: 15,
                competences: "c1,,c2".into(),
                content_hash: None,
                source_course: None,
                source_tasks: None,
                author_id: None,
                origin: None,
                published_at: None,
                created_at: now,
                updated_at: now,
            },
            lessons: vec![lesson(1, "one"), lesson(2, "two"), lesson(3, "three")],
            texts: vec![],
            competences: vec![],
            quizzes: vec![
                quiz(1, "post", QuizKind::Post, None),
                quiz(2, "02-two", QuizKind::Lesson, Some("two")),
                quiz(3, "stray", QuizKind::Post, Some("one")),
            ],
            tasks: vec![],
            memo: Memo::default(),
        }
    }

    #[test]
    fn a_lesson_check_is_a_lesson_quiz_naming_the_lesson() {
        let c = sample();
        assert_eq!(
            c.check_of("two").map(|q| q.row.slug.as_str()),
            Some("02-two")
        );
        assert!(
            c.check_of("one").is_none(),
            "a post-test is no lesson check"
        );
        assert!(c.check_of("three").is_none());
    }

    #[test]
    fn neighbours_follow_course_order() {
        let c = sample();
        let slugs = |(p, n): (Option<&lesson::Model>, Option<&lesson::Model>)| {
            (p.map(|l| l.slug.clone()), n.map(|l| l.slug.clone()))
        };
        assert_eq!(slugs(c.neighbours("one")), (None, Some("two".into())));
        assert_eq!(
            slugs(c.neighbours("two")),
            (Some("one".into()), Some("three".into()))
        );
        assert_eq!(slugs(c.neighbours("three")), (Some("two".into()), None));
        assert_eq!(slugs(c.neighbours("nope")), (None, None));
    }

    #[test]
    fn the_default_language_is_the_first_listed() {
        let mut c = sample();
        assert_eq!(c.default_language(), "zh-CN");
        c.course.languages = "en".into();
        assert_eq!(c.default_language(), "en");
    }

    #[test]
    fn text_falls_back_to_the_default_then_any_language() {
        let j = r#"{"zh-CN":"手机","en":"Phone"}"#;
        assert_eq!(text(j, "en", "zh-CN"), "Phone");
        assert_eq!(text(j, "fr", "zh-CN"), "手机");
        assert_eq!(text(r#"{"en":"Phone"}"#, "fr", "zh-CN"), "Phone");
        assert_eq!(text("not json", "en", "zh-CN"), "");
    }
}
