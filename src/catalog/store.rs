//! Writing course versions.

use std::collections::BTreeMap;

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, QueryOrder, TransactionTrait,
};
use sha2::{Digest, Sha256};

use crate::courses::{self, Course, Skills};
use crate::entities::course::CourseStatus;
use crate::entities::{
    competence, course, course_media, lesson, lesson_text, question, quiz, task,
};
use crate::error::{AppError, AppResult, RowError};
use crate::policy::{Action, Actor};

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

/// The exact bytes an export would write, hashed: unchanged content is skipped.
pub fn content_hash(c: &Course) -> String {
    let mut h = Sha256::new();
    h.update(
        c.source
            .clone()
            .unwrap_or_else(|| courses::emit_course_toml(c)),
    );
    for l in &c.lessons {
        for (lang, t) in &l.texts {
            h.update(format!("\0lesson\0{}\0{lang}\0", l.stem()));
            h.update(t.source.clone().unwrap_or_else(|| courses::emit_lesson(t)));
        }
    }
    for q in &c.quizzes {
        h.update(format!("\0quiz\0{}\0", q.slug));
        h.update(q.source.clone().unwrap_or_else(|| courses::emit_quiz(q)));
    }
    h.update("\0tasks\0");
    h.update(c.tasks_source.clone().unwrap_or_else(|| {
        if c.tasks.is_empty() {
            String::new()
        } else {
            courses::emit_tasks(&c.tasks)
        }
    }));
    for m in &c.media {
        h.update(format!("\0media\0{}\0", m.path));
        h.update(&m.bytes);
    }
    hex::encode(h.finalize())
}

pub fn mime_of(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or_default() {
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "webp" => "image/webp",
        "jpg" | "jpeg" => "image/jpeg",
        "opus" => "audio/ogg",
        "mp3" => "audio/mpeg",
        "m4a" => "audio/mp4",
        "mp4" => "video/mp4",
        "vtt" => "text/vtt; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Upserts the competence framework.
pub async fn import_skills(db: &impl ConnectionTrait, s: &Skills) -> AppResult<usize> {
    let now = Utc::now();
    let existing: BTreeMap<String, competence::Model> = competence::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.code.clone(), c))
        .collect();
    for (i, c) in s.competences.iter().enumerate() {
        let mut am = match existing.get(&c.code) {
            Some(m) => m.clone().into(),
            None => competence::ActiveModel {
                code: Set(c.code.clone()),
                created_at: Set(now),
                ..Default::default()
            },
        };
        am.area = Set(c.area.clone());
        am.title_json = Set(json(&c.title));
        am.level1_json = Set(json(&c.level1));
        am.level2_json = Set(json(&c.level2));
        am.digcomp = Set(c.digcomp.join(", "));
        am.itu = Set(json(&c.itu));
        am.position = Set(i as i32);
        am.updated_at = Set(now);
        am.save(db).await?;
    }
    Ok(s.competences.len())
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum Outcome {
    Unchanged {
        version: i32,
    },
    Published {
        version: i32,
    },
    Draft {
        version: i32,
    },
    /// The start-up import left the course alone: its newest version was
    /// published later by other means (`fuzhi courses import`, a publish in
    /// the browser), and the folder's files would move it back.
    Kept {
        version: i32,
        origin: String,
    },
}

/// Where a published version came from (stored in `course.origin`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The course folder `serve` imports when it starts.
    Startup,
    /// `fuzhi courses import`.
    Import,
    /// A publish in the browser.
    Authoring,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Startup => "startup",
            Origin::Import => "import",
            Origin::Authoring => "authoring",
        }
    }
}

/// Imports a course from files: a new published version unless the newest
/// version already has this content.
///
/// The start-up rule (`Origin::Startup`): the folder `serve` imports on
/// start is published only when the course has no version yet, or when its
/// newest version came from that folder too (the files changed, say with a
/// new release). A newest version from anywhere else (an import, a publish
/// in the browser, a version stored before origins were kept) is never
/// replaced by a restart: the outcome is `Kept`, and the log says how to
/// publish the files on purpose (`fuzhi courses import`).
pub async fn import_course(
    db: &(impl TransactionTrait<Transaction = sea_orm::DatabaseTransaction> + ConnectionTrait),
    c: &Course,
    author: Option<i64>,
    origin: Origin,
) -> AppResult<Outcome> {
    let hash = content_hash(c);
    let txn = crate::db::begin_write(db).await?;
    let latest = course::Entity::find()
        .filter(course::Column::Slug.eq(c.slug.as_str()))
        .filter(course::Column::Status.ne(CourseStatus::Draft))
        .order_by_desc(course::Column::Version)
        .one(&txn)
        .await?;
    if let Some(l) = &latest
        && l.content_hash.as_deref() == Some(hash.as_str())
        && l.status == CourseStatus::Published
    {
        txn.commit().await?;
        return Ok(Outcome::Unchanged { version: l.version });
    }
    if origin == Origin::Startup
        && let Some(l) = &latest
        && l.origin.as_deref() != Some(Origin::Startup.as_str())
    {
        txn.commit().await?;
        return Ok(Outcome::Kept {
            version: l.version,
            origin: l.origin.clone().unwrap_or_else(|| "unknown".into()),
        });
    }
    let version = next_version(&txn, &c.slug).await?;
    let row = insert_version(
        &txn,
        c,
        version,
        CourseStatus::Published,
        author,
        Some(hash),
    )
    .await?;
    course::ActiveModel {
        id: sea_orm::ActiveValue::Unchanged(row.id),
        origin: Set(Some(origin.as_str().to_string())),
        ..Default::default()
    }
    .update(&txn)
    .await?;
    supersede(&txn, &c.slug, version).await?;
    txn.commit().await?;
    Ok(Outcome::Published { version })
}

pub async fn next_version(db: &impl ConnectionTrait, slug: &str) -> AppResult<i32> {
    Ok(course::Entity::find()
        .filter(course::Column::Slug.eq(slug))
        .order_by_desc(course::Column::Version)
        .one(db)
        .await?
        .map_or(1, |c| c.version + 1))
}

/// Older published versions become `replaced` once `version` is published.
pub async fn supersede(db: &impl ConnectionTrait, slug: &str, version: i32) -> AppResult<()> {
    course::Entity::update_many()
        .col_expr(course::Column::Status, Expr::value(CourseStatus::Replaced))
        .filter(course::Column::Slug.eq(slug))
        .filter(course::Column::Status.eq(CourseStatus::Published))
        .filter(course::Column::Version.ne(version))
        .exec(db)
        .await?;
    Ok(())
}

/// Writes one version of a course with everything below it.
pub async fn insert_version(
    db: &impl ConnectionTrait,
    c: &Course,
    version: i32,
    status: CourseStatus,
    author: Option<i64>,
    hash: Option<String>,
) -> AppResult<course::Model> {
    let now = Utc::now();
    let row = course::ActiveModel {
        slug: Set(c.slug.clone()),
        version: Set(version),
        status: Set(status),
        category: Set(c.category.clone()),
        level: Set(c.level as i32),
        languages: Set(c.languages.join(",")),
        title_json: Set(json(&c.title)),
        summary_json: Set(json(&c.summary)),
        pass_mark: Set(c.pass_mark as i32),
        hours_tenths: Set((c.hours * 10.0).round() as i32),
        competences: Set(c.competences.join(",")),
        content_hash: Set(Some(hash.unwrap_or_else(|| content_hash(c)))),
        source_course: Set(c.source.clone()),
        source_tasks: Set(c.tasks_source.clone()),
        author_id: Set(author),
        published_at: Set((status == CourseStatus::Published).then_some(now)),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let prefix = format!("/c/{}/{}", c.slug, version);
    let media: Vec<String> = c.media.iter().map(|m| m.path.clone()).collect();
    let default_lang = c.default_language().to_string();
    for l in &c.lessons {
        let main = l
            .texts
            .get(&default_lang)
            .or_else(|| l.texts.values().next());
        let lrow = lesson::ActiveModel {
            course_id: Set(row.id),
            slug: Set(l.slug.clone()),
            position: Set(l.number as i32),
            minutes: Set(main.map_or(0, |t| t.minutes as i32)),
            audio: Set(main.and_then(|t| t.audio.clone())),
            competences: Set(main.map(|t| t.competences.join(",")).unwrap_or_default()),
            ..Default::default()
        }
        .insert(db)
        .await?;
        for (lang, t) in &l.texts {
            lesson_text::ActiveModel {
                lesson_id: Set(lrow.id),
                locale: Set(lang.clone()),
                title: Set(t.title.chars().take(200).collect()),
                body_md: Set(t.body_md.clone()),
                body_html: Set(courses::render_markdown(&t.body_md, &prefix, &media)),
                source: Set(t.source.clone()),
                audio: Set(t.audio.clone()),
                tracks_json: Set(crate::catalog::voice::tracks_json(&t.tracks)),
                ..Default::default()
            }
            .insert(db)
            .await?;
        }
    }
    for q in &c.quizzes {
        let qrow = quiz::ActiveModel {
            course_id: Set(row.id),
            slug: Set(q.slug.clone()),
            kind: Set(q.kind),
            lesson_slug: Set(q.lesson_slug.clone()),
            title_json: Set(json(&q.title)),
            source: Set(q.source.clone()),
            ..Default::default()
        }
        .insert(db)
        .await?;
        let rows: Vec<question::ActiveModel> = q
            .questions
            .iter()
            .enumerate()
            .map(|(i, qu)| question::ActiveModel {
                quiz_id: Set(qrow.id),
                qid: Set(qu.id.clone()),
                position: Set(i as i32),
                kind: Set(qu.kind),
                competence: Set(qu.competence.clone()),
                points: Set(qu.points as i32),
                prompt_json: Set(json(&qu.prompt)),
                choices_json: Set(json(
                    &qu.choices
                        .iter()
                        .map(crate::catalog::voice::choice_json)
                        .collect::<Vec<_>>(),
                )),
                answer_json: Set(json(&qu.answer)),
                tolerance: Set(qu.tolerance.map(|t| t.to_string())),
                explain_json: Set(json(&qu.explain)),
                audio_json: Set((!qu.audio.is_empty()).then(|| json(&qu.audio))),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            })
            .collect();
        if !rows.is_empty() {
            question::Entity::insert_many(rows)
                .exec_without_returning(db)
                .await?;
        }
    }
    for (i, t) in c.tasks.iter().enumerate() {
        task::ActiveModel {
            course_id: Set(row.id),
            slug: Set(t.id.clone()),
            position: Set(i as i32),
            competence: Set(t.competence.clone()),
            required: Set(t.required),
            title_json: Set(json(&t.title)),
            evidence_json: Set(json(&t.evidence)),
            ..Default::default()
        }
        .insert(db)
        .await?;
    }
    for m in &c.media {
        let (content, file_key) = if super::files::kept_as_file(&m.path) {
            let bytes = m.bytes.clone();
            let name = tokio::task::spawn_blocking(move || super::files::put(&bytes))
                .await
                .map_err(|e| AppError::Internal(anyhow::anyhow!("file store: {e}")))?
                .map_err(|e| AppError::Internal(anyhow::anyhow!("file store: {e}")))?;
            (Vec::new(), Some(name))
        } else {
            (m.bytes.clone(), None)
        };
        course_media::ActiveModel {
            course_id: Set(row.id),
            path: Set(m.path.clone()),
            mime: Set(mime_of(&m.path).into()),
            etag: Set(hex::encode(&Sha256::digest(&m.bytes)[..12])),
            content: Set(content),
            file_key: Set(file_key),
            size: Set(m.bytes.len() as i64),
            ..Default::default()
        }
        .insert(db)
        .await?;
    }
    Ok(row)
}

/// What an import of a folder did.
#[derive(Debug, Default, serde::Serialize)]
pub struct FolderReport {
    pub competences: usize,
    pub courses: Vec<(String, Outcome)>,
}

/// Checks and imports a whole folder: nothing is imported when any file has a problem.
pub async fn import_dir(
    db: &DatabaseConnection,
    dir: &std::path::Path,
    origin: Origin,
) -> AppResult<FolderReport> {
    let (skills, loaded, problems) = courses::load_dir(dir);
    if !problems.is_empty() {
        return Err(AppError::Import {
            message: format!(
                "{} problems in {}; nothing was imported",
                problems.len(),
                dir.display()
            ),
            errors: problems
                .iter()
                .enumerate()
                .map(|(i, p)| RowError {
                    row: i + 1,
                    field: p.file.clone(),
                    message: p.to_string(),
                })
                .collect(),
        });
    }
    let mut report = FolderReport::default();
    if let Some(s) = &skills {
        report.competences = import_skills(db, s).await?;
    }
    for l in &loaded {
        let outcome = import_course(db, &l.course, None, origin).await?;
        report.courses.push((l.course.slug.clone(), outcome));
    }
    Ok(report)
}

/// Lesson titles of a course version in one language (with fallback).
pub fn lesson_titles(
    info: &crate::learning::content::CourseInfo,
    lang: &str,
) -> BTreeMap<String, String> {
    info.lessons
        .iter()
        .filter_map(|l| {
            info.text_of(l.id, lang)
                .map(|t| (l.slug.clone(), t.title.clone()))
        })
        .collect()
}

/// One media file of a course version (`file` below `media/`). The media of
/// a draft is only for those who may edit the course (`viewer`, 404 for
/// anyone else); `true` with the file when it is a draft's.
pub async fn media(
    db: &impl ConnectionTrait,
    viewer: Option<&crate::policy::Actor>,
    slug: &str,
    version: i32,
    file: &str,
) -> AppResult<(course_media::Model, bool)> {
    let c = course::Entity::find()
        .filter(course::Column::Slug.eq(slug))
        .filter(course::Column::Version.eq(version))
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let draft = c.status == CourseStatus::Draft;
    if draft {
        let actor = viewer.ok_or(AppError::NotFound)?;
        // A learner, an official or another trainer: as if it did not exist.
        authorize(db, actor, slug)
            .await
            .map_err(|_| AppError::NotFound)?;
    }
    let m = course_media::Entity::find()
        .filter(course_media::Column::CourseId.eq(c.id))
        .filter(course_media::Column::Path.eq(format!("media/{file}")))
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((m, draft))
}

/// Who started the course (author of its first version); `None` inside: a
/// course imported from files. Outer `None`: no such course.
pub(super) async fn owner(db: &impl ConnectionTrait, slug: &str) -> AppResult<Option<Option<i64>>> {
    Ok(course::Entity::find()
        .filter(course::Column::Slug.eq(slug))
        .order_by_asc(course::Column::Version)
        .one(db)
        .await?
        .map(|r| r.author_id))
}

/// The actor may author `slug` (403 for the role, 404 for an unknown or
/// someone else's course).
pub async fn authorize(db: &impl ConnectionTrait, actor: &Actor, slug: &str) -> AppResult<()> {
    actor.require(Action::AuthorCourses)?;
    let owner = owner(db, slug).await?.ok_or(AppError::NotFound)?;
    actor.require_course_author(owner)
}
