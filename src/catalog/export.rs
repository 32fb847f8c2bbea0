//! Reading a course version back into the package model (for export and for
//! editing in the browser).

use std::collections::BTreeMap;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::courses::{Choice, Course, Lesson, LessonText, Media, Question, Quiz, Task, Text};
use crate::entities::course::CourseStatus;
use crate::entities::{course, course_media, lesson_text, question};
use crate::error::{AppError, AppResult};

fn text(s: &str) -> Text {
    serde_json::from_str(s).unwrap_or_default()
}

fn list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

/// A stored question as the package model has it.
pub fn question_of(qu: question::Model) -> Question {
    Question {
        id: qu.qid,
        kind: qu.kind,
        competence: qu.competence,
        points: qu.points.max(0) as u32,
        prompt: text(&qu.prompt_json),
        audio: qu.audio_json.as_deref().map(text).unwrap_or_default(),
        choices: serde_json::from_str::<Vec<serde_json::Value>>(&qu.choices_json)
            .unwrap_or_default()
            .into_iter()
            .map(|c| Choice {
                id: c["id"].as_str().unwrap_or_default().to_string(),
                text: serde_json::from_value(c["text"].clone()).unwrap_or_default(),
                audio: serde_json::from_value(c["audio"].clone()).unwrap_or_default(),
            })
            .collect(),
        answer: serde_json::from_str(&qu.answer_json).unwrap_or_default(),
        tolerance: qu.tolerance.and_then(|t| t.parse().ok()),
        explain: text(&qu.explain_json),
    }
}

/// The newest version of `slug` with the given statuses (newest first).
pub async fn latest(
    db: &impl ConnectionTrait,
    slug: &str,
    statuses: &[CourseStatus],
) -> AppResult<Option<course::Model>> {
    Ok(course::Entity::find()
        .filter(course::Column::Slug.eq(slug))
        .filter(course::Column::Status.is_in(statuses.iter().copied()))
        .order_by_desc(course::Column::Version)
        .one(db)
        .await?)
}

/// The media rows' files: their bytes, or the file store's for a video.
async fn load_media(rows: Vec<course_media::Model>) -> AppResult<Vec<Media>> {
    tokio::task::spawn_blocking(move || {
        rows.into_iter()
            .map(|m| {
                let bytes = match &m.file_key {
                    Some(name) => super::files::get(name).map_err(|e| {
                        AppError::Internal(anyhow::anyhow!("file store, {}: {e}", m.path))
                    })?,
                    None => m.content,
                };
                Ok(Media {
                    path: m.path,
                    bytes,
                })
            })
            .collect()
    })
    .await
    .map_err(|e| AppError::Internal(anyhow::anyhow!("file store: {e}")))?
}

/// A course version as a package: what learning loads (lessons, quizzes,
/// tasks) plus every language's text and the media.
pub async fn to_package(db: &impl ConnectionTrait, row: &course::Model) -> AppResult<Course> {
    let info = crate::learning::content::load(db, row.clone()).await?;
    let ids: Vec<i64> = info.lessons.iter().map(|l| l.id).collect();
    let mut texts: BTreeMap<i64, BTreeMap<String, lesson_text::Model>> = BTreeMap::new();
    if !ids.is_empty() {
        for t in lesson_text::Entity::find()
            .filter(lesson_text::Column::LessonId.is_in(ids))
            .all(db)
            .await?
        {
            texts
                .entry(t.lesson_id)
                .or_default()
                .insert(t.locale.clone(), t);
        }
    }
    let media = course_media::Entity::find()
        .filter(course_media::Column::CourseId.eq(row.id))
        .order_by_asc(course_media::Column::Path)
        .all(db)
        .await?;
    let languages = list(&row.languages);
    let default_lang = languages.first().cloned().unwrap_or_default();
    let crate::learning::content::CourseInfo {
        lessons,
        quizzes,
        tasks,
        ..
    } = info;
    Ok(Course {
        slug: row.slug.clone(),
        category: row.category.clone(),
        level: row.level.clamp(0, 255) as u8,
        languages,
        competences: list(&row.competences),
        pass_mark: row.pass_mark.clamp(0, 100) as u8,
        hours: row.hours_tenths as f64 / 10.0,
        title: text(&row.title_json),
        summary: text(&row.summary_json),
        lessons: lessons
            .iter()
            .map(|l| Lesson {
                number: l.position.clamp(0, 99) as u8,
                slug: l.slug.clone(),
                texts: texts
                    .remove(&l.id)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(lang, t)| {
                        let default = lang == default_lang;
                        (
                            lang,
                            LessonText {
                                title: t.title,
                                minutes: l.minutes.max(0) as u32,
                                competences: list(&l.competences),
                                // Versions imported before narration was kept per
                                // language have it on the lesson, for the default language.
                                audio: t
                                    .audio
                                    .or_else(|| default.then(|| l.audio.clone()).flatten()),
                                tracks: super::voice::tracks_of(t.tracks_json.as_deref()),
                                body_md: t.body_md,
                                source: t.source,
                            },
                        )
                    })
                    .collect(),
            })
            .collect(),
        quizzes: quizzes
            .into_iter()
            .map(
                |crate::learning::content::QuizInfo { row: q, questions }| Quiz {
                    slug: q.slug.clone(),
                    kind: q.kind,
                    lesson_slug: q.lesson_slug.clone(),
                    title: serde_json::from_str(&q.title_json).unwrap_or(None),
                    questions: questions.into_iter().map(question_of).collect(),
                    source: q.source,
                },
            )
            .collect(),
        tasks: tasks
            .into_iter()
            .map(|t| Task {
                id: t.slug,
                competence: t.competence,
                required: t.required,
                title: text(&t.title_json),
                evidence: text(&t.evidence_json),
            })
            .collect(),
        media: load_media(media).await?,
        post_test: crate::courses::PostTestRule::of_source(row.source_course.as_deref()),
        source: row.source_course.clone(),
        tasks_source: row.source_tasks.clone(),
    })
}

/// Writes the newest published (or, failing that, draft) version of `slug` into `dir`.
pub async fn export(db: &impl ConnectionTrait, slug: &str, dir: &std::path::Path) -> AppResult<()> {
    let row = match latest(db, slug, &[CourseStatus::Published]).await? {
        Some(r) => r,
        None => latest(
            db,
            slug,
            &[
                CourseStatus::Draft,
                CourseStatus::Archived,
                CourseStatus::Replaced,
            ],
        )
        .await?
        .ok_or(AppError::NotFound)?,
    };
    let c = to_package(db, &row).await?;
    crate::courses::write_course(&c, dir)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("cannot write {}: {e}", dir.display())))
}
