//! Lesson videos from the phone. A recording sent from the lesson editor is
//! kept in the data folder (`uploads/`) and a `video_job` row is written;
//! a background task makes it into the lesson's video, its sound alone and
//! its poster ([`crate::courses::video`]), one recording at a time per
//! process, writing how far it is into the row (the editor's progress bar
//! reads it). Only when all three files are made and judged are they put
//! into the course's draft, with the video shown at the end of the lesson;
//! a recording that fails leaves the draft as it was and the row says why.
//! The recording is deleted either way. A job a stopped server left
//! unfinished is taken up again at the next start while its recording is
//! still there, and is marked failed otherwise.

use std::path::{Path, PathBuf};

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use tokio::sync::Semaphore;

use crate::entities::video_job::VideoState;
use crate::entities::{app_user, video_job};
use crate::error::{AppError, AppResult};
use crate::policy::Actor;

/// One recording is made at a time (ffmpeg takes the cores it is given).
static ENCODER: Semaphore = Semaphore::const_new(1);
/// Told each time a job ends (so a caller can wait for one without polling).
static ENDED: tokio::sync::Notify = tokio::sync::Notify::const_new();

/// Waits until the job has ended (done or failed) and gives it.
pub async fn ended(db: &DatabaseConnection, id: i64) -> AppResult<video_job::Model> {
    loop {
        let notified = ENDED.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let j = video_job::Entity::find_by_id(id)
            .one(db)
            .await?
            .ok_or(AppError::NotFound)?;
        if matches!(j.state, VideoState::Done | VideoState::Failed) {
            return Ok(j);
        }
        notified.await;
    }
}

/// The folder recordings wait in.
pub fn uploads_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("uploads")
}

/// Records a recording sent for a lesson (already in `source`, under the
/// data folder) and starts making it. The job's id.
pub async fn start(
    db: &DatabaseConnection,
    actor: &Actor,
    slug: &str,
    lesson: &str,
    alt: &str,
    source: &Path,
) -> AppResult<i64> {
    let row = video_job::ActiveModel {
        course_slug: Set(slug.to_string()),
        lesson: Set(lesson.to_string()),
        user_id: Set(actor.id),
        alt: Set(alt.to_string()),
        state: Set(VideoState::Queued),
        progress: Set(0),
        source: Set(source.to_string_lossy().to_string()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    tokio::spawn(run(db.clone(), row.id));
    Ok(row.id)
}

/// A job, when it is about this course.
pub async fn job(db: &DatabaseConnection, slug: &str, id: i64) -> AppResult<video_job::Model> {
    video_job::Entity::find_by_id(id)
        .filter(video_job::Column::CourseSlug.eq(slug))
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}

/// The latest jobs of a lesson, newest first (the editor lists them).
pub async fn of_lesson(
    db: &DatabaseConnection,
    slug: &str,
    lesson: &str,
) -> AppResult<Vec<video_job::Model>> {
    Ok(video_job::Entity::find()
        .filter(video_job::Column::CourseSlug.eq(slug))
        .filter(video_job::Column::Lesson.eq(lesson))
        .order_by_desc(video_job::Column::Id)
        .limit(5)
        .all(db)
        .await?)
}

/// Takes up the jobs a stopped server left (at start).
pub async fn resume(db: &DatabaseConnection) -> AppResult<()> {
    let open = video_job::Entity::find()
        .filter(video_job::Column::State.is_in([VideoState::Queued, VideoState::Running]))
        .all(db)
        .await?;
    for j in open {
        if Path::new(&j.source).exists() {
            tokio::spawn(run(db.clone(), j.id));
        } else {
            finish(db, j.id, Err("author.video.interrupted")).await;
        }
    }
    Ok(())
}

async fn set(db: &DatabaseConnection, id: i64, state: VideoState, progress: i32) {
    let change = video_job::ActiveModel {
        id: Set(id),
        state: Set(state),
        progress: Set(progress),
        ..Default::default()
    };
    if let Err(e) = change.update(db).await {
        tracing::warn!("video job {id}: {e}");
    }
}

async fn finish(db: &DatabaseConnection, id: i64, outcome: Result<String, &'static str>) {
    let mut change = video_job::ActiveModel {
        id: Set(id),
        ..Default::default()
    };
    match outcome {
        Ok(path) => {
            change.state = Set(VideoState::Done);
            change.progress = Set(1000);
            change.media_path = Set(Some(path));
        }
        Err(key) => {
            change.state = Set(VideoState::Failed);
            change.error = Set(Some(key.to_string()));
        }
    }
    if let Err(e) = change.update(db).await {
        tracing::warn!("video job {id}: {e}");
    }
    ENDED.notify_waiters();
}

async fn run(db: DatabaseConnection, id: i64) {
    let Ok(_turn) = ENCODER.acquire().await else {
        return;
    };
    let Ok(Some(j)) = video_job::Entity::find_by_id(id).one(&db).await else {
        return;
    };
    if !matches!(j.state, VideoState::Queued | VideoState::Running) {
        return;
    }
    set(&db, id, VideoState::Running, 0).await;
    let source = PathBuf::from(&j.source);
    let outcome = make_and_attach(&db, &j, &source).await;
    let _ = tokio::fs::remove_file(&source).await;
    finish(&db, id, outcome).await;
}

async fn make_and_attach(
    db: &DatabaseConnection,
    j: &video_job::Model,
    source: &Path,
) -> Result<String, &'static str> {
    let work = source.with_extension("work");
    tokio::fs::create_dir_all(&work)
        .await
        .map_err(|_| "author.video.failed")?;
    let (tx, mut rx) = tokio::sync::watch::channel(0u32);
    let making = crate::courses::video::make(source, &work, move |p| {
        let _ = tx.send(p);
    });
    // The row follows the work, a step of 2 % at a time.
    let report = async {
        let mut shown = 0u32;
        while rx.changed().await.is_ok() {
            let p = *rx.borrow();
            if p >= shown + 20 {
                shown = p;
                set(db, j.id, VideoState::Running, p as i32).await;
            }
        }
    };
    let (made, ()) = tokio::join!(making, report);
    let _ = tokio::fs::remove_dir_all(&work).await;
    let made = made?;
    let user = app_user::Entity::find_by_id(j.user_id)
        .one(db)
        .await
        .ok()
        .flatten()
        .ok_or("author.video.failed")?;
    let actor = crate::accounts::users::actor_of(&user);
    let mut placed = None;
    let files = (made.video, made.poster, made.audio);
    super::authoring::edit(db, &actor, &j.course_slug, "video", |c| {
        placed = crate::courses::edit::add_video(c, &j.lesson, &j.alt, files.clone());
        placed.is_some()
    })
    .await
    .map_err(|e| {
        tracing::warn!("video job {}: the draft could not take it: {e}", j.id);
        "author.video.no_draft"
    })?;
    placed.ok_or("author.video.no_draft")
}
