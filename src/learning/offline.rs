//! What a learner's phone keeps of a course to study without a connection:
//! the addresses of its pages (the course page, every lesson, every lesson
//! check) and of its media (pictures, narration, the lesson checks' audio,
//! a video's sound alone and poster; not the audio of the pre- and
//! post-test, taken online; a video only when the learner chooses it),
//! each with its size. It
//! reads course content only; the pages themselves are rendered by the web
//! layer, and answer keys never leave the server (quiz pages carry none).

use std::collections::BTreeMap;

use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter, QuerySelect,
};
use serde::Serialize;

use super::content::CourseInfo;
use crate::courses::QuizKind;
use crate::entities::course_media;
use crate::error::AppResult;
use crate::learning::content::media_url;

/// What an address of the list is, so that a phone can say what it keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    /// The course page.
    Course,
    Lesson,
    /// A lesson check (no answer key in it).
    Quiz,
    /// A picture or a narration of the course.
    Media,
}

/// One address to keep, with the size of its body in bytes as served
/// (before any transfer compression).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OfflineFile {
    pub url: String,
    pub kind: FileKind,
    pub bytes: u64,
}

/// Everything to keep of one course version.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OfflineList {
    pub course: String,
    pub version: i32,
    /// The sum of `bytes` over `files`.
    pub bytes: u64,
    pub files: Vec<OfflineFile>,
    /// The course's videos, with their sizes: in `files` only when the
    /// learner chose them (`?videos=1`), listed here either way.
    pub videos: Vec<OfflineFile>,
}

impl OfflineList {
    /// The list; the videos among `files` go in `files` only when `with_videos`.
    pub fn new(info: &CourseInfo, files: Vec<OfflineFile>, with_videos: bool) -> OfflineList {
        let videos: Vec<OfflineFile> = files.iter().filter(|f| is_video(&f.url)).cloned().collect();
        let files: Vec<OfflineFile> = files
            .into_iter()
            .filter(|f| with_videos || !is_video(&f.url))
            .collect();
        OfflineList {
            course: info.course.slug.clone(),
            version: info.course.version,
            bytes: files.iter().map(|f| f.bytes).sum(),
            files,
            videos,
        }
    }
}

/// Whether an address is a lesson video (never kept unless chosen).
pub fn is_video(url: &str) -> bool {
    url.ends_with(".mp4")
}

/// The pages of a course a learner keeps, in reading order: the course page,
/// then each lesson followed by its check. The caller renders and measures them.
pub fn pages(info: &CourseInfo) -> Vec<(FileKind, String)> {
    let slug = &info.course.slug;
    let mut out = vec![(FileKind::Course, format!("/courses/{slug}"))];
    for l in &info.lessons {
        out.push((
            FileKind::Lesson,
            format!("/courses/{slug}/lessons/{}", l.slug),
        ));
        if let Some(q) = info.check_of(&l.slug) {
            out.push((
                FileKind::Quiz,
                format!("/courses/{slug}/quiz/{}", q.row.slug),
            ));
        }
    }
    out
}

/// The `media/…` paths a quiz's questions name (prompt and choice audio, in
/// every language).
fn question_media(q: &super::content::QuizInfo) -> impl Iterator<Item = String> + '_ {
    q.questions.iter().flat_map(|row| {
        let mut out = Vec::new();
        let mut take = |v: &serde_json::Value| {
            if let Some(m) = v.as_object() {
                out.extend(m.values().filter_map(|p| p.as_str().map(str::to_string)));
            }
        };
        if let Some(a) = row.audio_json.as_deref()
            && let Ok(v) = serde_json::from_str::<serde_json::Value>(a)
        {
            take(&v);
        }
        if let Ok(serde_json::Value::Array(choices)) =
            serde_json::from_str::<serde_json::Value>(&row.choices_json)
        {
            for c in &choices {
                take(&c["audio"]);
            }
        }
        out
    })
}

/// Media only the pre- and post-test use: those tests are taken online, so
/// a phone saving the course for offline study does not download them.
pub fn online_only_media(info: &CourseInfo) -> std::collections::BTreeSet<String> {
    let offline: std::collections::BTreeSet<String> =
        info.lesson_checks().flat_map(question_media).collect();
    info.quizzes
        .iter()
        .filter(|q| q.row.kind != QuizKind::Lesson)
        .flat_map(question_media)
        .filter(|p| !offline.contains(p))
        .collect()
}

/// The media files of a course version by the address they are served at,
/// with their sizes, read without loading their content (less those only
/// the pre- and post-test play).
pub async fn media_sizes(
    db: &impl ConnectionTrait,
    info: &CourseInfo,
) -> AppResult<BTreeMap<String, u64>> {
    // Each engine's own spelling of "the length in bytes, as a 64-bit integer".
    // A file in the store has an empty `content` and its length in `size`.
    let length = match db.get_database_backend() {
        DatabaseBackend::Postgres => {
            "CASE WHEN file_key IS NULL THEN CAST(OCTET_LENGTH(content) AS BIGINT) ELSE size END"
        }
        DatabaseBackend::MySql => {
            "CASE WHEN file_key IS NULL THEN CAST(OCTET_LENGTH(content) AS SIGNED) ELSE size END"
        }
        _ => "CASE WHEN file_key IS NULL THEN LENGTH(content) ELSE size END",
    };
    let rows: Vec<(String, i64)> = course_media::Entity::find()
        .select_only()
        .column(course_media::Column::Path)
        .column_as(Expr::cust(length), "bytes")
        .filter(course_media::Column::CourseId.eq(info.course.id))
        .into_tuple()
        .all(db)
        .await?;
    let online = online_only_media(info);
    Ok(rows
        .into_iter()
        .filter(|(path, _)| !online.contains(path))
        .map(|(path, n)| (media_url(info, &path), n.max(0) as u64))
        .collect())
}
