//! Authoring courses in the browser. A course being edited has one `draft`
//! version holding a whole package (rows below it, like any version); every
//! edit reads it back into the package model, changes it, and writes it again.
//! The draft is judged by the very rules `fuzhi courses check` applies to
//! files, and publishing goes through `import_course`, so the file and the
//! browser ways of authoring cannot disagree. Learners keep the published
//! version until the draft is published; their progress is keyed by slugs.

use std::collections::BTreeMap;
use std::path::PathBuf;

use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect,
};

use super::export::to_package;

use super::store::{Outcome, authorize, import_course, insert_version, next_version};
use crate::audit;
use crate::courses::{self, Competence, Course, Problem, Skills};
use crate::db::begin_write;
use crate::entities::course::CourseStatus;
use crate::entities::{competence, course};
use crate::error::{AppError, AppResult};
use crate::learning::content::Cache;
use crate::policy::{Action, Actor};

/// Statuses of versions a draft may start from (newest first wins).
const RELEASED: [CourseStatus; 3] = [
    CourseStatus::Published,
    CourseStatus::Archived,
    CourseStatus::Replaced,
];

/// The version being shown or edited, as a package.
pub struct Working {
    pub row: course::Model,
    pub course: Course,
    /// A draft exists (edits are waiting to be published).
    pub is_draft: bool,
    /// Learners can see a published version.
    pub published: Option<i32>,
    pub archived: bool,
}

/// One course in the trainer's list.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Summary {
    pub slug: String,
    pub title_json: String,
    pub languages: String,
    pub has_draft: bool,
    pub published: Option<i32>,
    pub archived: bool,
}

/// The courses the actor may author, in one query.
pub async fn list(db: &impl ConnectionTrait, actor: &Actor) -> AppResult<Vec<Summary>> {
    actor.require(Action::AuthorCourses)?;
    let rows: Vec<(String, i32, CourseStatus, Option<i64>, String, String)> =
        course::Entity::find()
            .select_only()
            .columns([
                course::Column::Slug,
                course::Column::Version,
                course::Column::Status,
                course::Column::AuthorId,
                course::Column::TitleJson,
                course::Column::Languages,
            ])
            .order_by_asc(course::Column::Slug)
            .order_by_asc(course::Column::Version)
            .into_tuple()
            .all(db)
            .await?;
    let mut out: Vec<Summary> = Vec::new();
    let mut owners: BTreeMap<String, Option<i64>> = BTreeMap::new();
    for (slug, version, status, author, title_json, languages) in rows {
        let owner = *owners.entry(slug.clone()).or_insert(author);
        if actor.require_course_author(owner).is_err() {
            continue;
        }
        if out.last().is_none_or(|s| s.slug != slug) {
            out.push(Summary {
                slug: slug.clone(),
                title_json: String::new(),
                languages: String::new(),
                has_draft: false,
                published: None,
                archived: false,
            });
        }
        if let Some(s) = out.last_mut() {
            s.title_json = title_json;
            s.languages = languages;
            match status {
                CourseStatus::Draft => s.has_draft = true,
                CourseStatus::Published => {
                    s.published = Some(version);
                    s.archived = false;
                }
                CourseStatus::Archived => s.archived = true,
                CourseStatus::Replaced => {}
            }
        }
    }
    Ok(out)
}

/// What the edit pages show: the draft, else the newest released version.
pub async fn working(db: &impl ConnectionTrait, actor: &Actor, slug: &str) -> AppResult<Working> {
    authorize(db, actor, slug).await?;
    let rows = course::Entity::find()
        .filter(course::Column::Slug.eq(slug))
        .order_by_desc(course::Column::Version)
        .all(db)
        .await?;
    let published = rows
        .iter()
        .find(|r| r.status == CourseStatus::Published)
        .map(|r| r.version);
    let archived = published.is_none() && rows.iter().any(|r| r.status == CourseStatus::Archived);
    let row = rows
        .iter()
        .find(|r| r.status == CourseStatus::Draft)
        .or_else(|| rows.iter().find(|r| RELEASED.contains(&r.status)))
        .cloned()
        .ok_or(AppError::NotFound)?;
    let course = to_package(db, &row).await?;
    Ok(Working {
        is_draft: row.status == CourseStatus::Draft,
        row,
        course,
        published,
        archived,
    })
}

/// [`working`] read from one snapshot: a page shows the draft as one save
/// left it, never half of a save committed while it reads.
pub async fn working_now(db: &DatabaseConnection, actor: &Actor, slug: &str) -> AppResult<Working> {
    let txn = crate::db::begin_snapshot(db).await?;
    let w = working(&txn, actor, slug).await;
    txn.rollback().await?;
    w
}

/// Holds the course's rows until this transaction ends, so that two changes
/// of one course (two tabs, a publish, a video finished in the background)
/// run one after the other, each on what the other saved. On SQLite the
/// write transaction already excludes every other writer.
async fn hold(txn: &DatabaseTransaction, slug: &str) -> AppResult<()> {
    if !crate::db::is_sqlite(txn) {
        course::Entity::find()
            .filter(course::Column::Slug.eq(slug))
            .lock_exclusive()
            .all(txn)
            .await?;
    }
    Ok(())
}

/// The draft to change: the existing one, or a new copy of the newest
/// released version (learners keep seeing that one).
async fn open(db: &impl ConnectionTrait, actor: &Actor, slug: &str) -> AppResult<Working> {
    let w = working(db, actor, slug).await?;
    if w.is_draft {
        return Ok(w);
    }
    let version = next_version(db, slug).await?;
    let row = insert_version(
        db,
        &w.course,
        version,
        CourseStatus::Draft,
        Some(actor.id),
        None,
    )
    .await?;
    Ok(Working {
        row,
        is_draft: true,
        ..w
    })
}

/// Applies `change` to the draft of `slug` and saves it (one transaction).
/// `change` returns `false` when its target is missing (a 404). A save that
/// meets another change of the same course (a write conflict or a deadlock
/// on PostgreSQL or MariaDB, SQLite's writer still taken) is tried again
/// from a fresh read, so `change` may run more than once.
pub async fn edit(
    db: &DatabaseConnection,
    actor: &Actor,
    slug: &str,
    what: &str,
    change: impl FnMut(&mut Course) -> bool,
) -> AppResult<()> {
    let change = std::sync::Mutex::new(change);
    let gate = turn_of(slug);
    let _turn = gate.lock().await;
    crate::db::retrying("course save", || edit_once(db, actor, slug, what, &change)).await
}

/// The turn of one course's saves in this process. A save waits for it
/// before it takes a pooled connection, so that saves queued behind one
/// another (two tabs, a finished video) do not hold the pool while the
/// course's rows are held; other processes are kept in order by the row
/// lock (`hold`).
fn turn_of(slug: &str) -> std::sync::Arc<tokio::sync::Mutex<()>> {
    use std::collections::HashMap;
    use std::sync::{Arc, LazyLock, Mutex};
    static TURNS: LazyLock<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>> =
        LazyLock::new(Default::default);
    TURNS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(slug.to_string())
        .or_default()
        .clone()
}

async fn edit_once(
    db: &DatabaseConnection,
    actor: &Actor,
    slug: &str,
    what: &str,
    change: &std::sync::Mutex<impl FnMut(&mut Course) -> bool>,
) -> AppResult<()> {
    let txn = begin_write(db).await?;
    hold(&txn, slug).await?;
    let mut w = open(&txn, actor, slug).await?;
    let changed = (change.lock().unwrap_or_else(|e| e.into_inner()))(&mut w.course);
    if !changed {
        return Err(AppError::NotFound);
    }
    // A deleted question or lesson takes its audio with it.
    crate::courses::edit_audio::prune(&mut w.course);
    delete_version(&txn, w.row.id).await?;
    insert_version(
        &txn,
        &w.course,
        w.row.version,
        CourseStatus::Draft,
        w.row.author_id,
        None,
    )
    .await?;
    log(
        &txn,
        actor,
        audit::Action::Update,
        slug,
        Some(serde_json::json!({"draft": w.row.version, "changed": what})),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The audit entry of one change to a course.
async fn log(
    db: &impl ConnectionTrait,
    actor: &Actor,
    action: audit::Action,
    slug: &str,
    after: Option<serde_json::Value>,
) -> AppResult<()> {
    audit::record(
        db,
        action,
        audit::Entry {
            actor_id: Some(actor.id),
            entity: "course",
            entity_id: Some(slug.to_string()),
            after,
            ..Default::default()
        },
    )
    .await
}

/// Ends a change to what learners see: audits it, commits, and drops the
/// cached views so the next request reads the new state.
async fn release(
    txn: DatabaseTransaction,
    cache: &Cache,
    actor: &Actor,
    slug: &str,
    change: serde_json::Value,
) -> AppResult<()> {
    log(&txn, actor, audit::Action::Update, slug, Some(change)).await?;
    txn.commit().await?;
    cache.clear();
    Ok(())
}

/// Removes one version with everything below it: lessons and their texts,
/// media, quizzes and their questions, tasks all go by the cascading
/// foreign keys of the schema (on every engine; SQLite connections turn
/// them on).
async fn delete_version(db: &impl ConnectionTrait, id: i64) -> AppResult<()> {
    course::Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}

/// A slug is free when no version of any course uses it.
pub async fn slug_taken(db: &impl ConnectionTrait, slug: &str) -> AppResult<bool> {
    Ok(super::store::owner(db, slug).await?.is_some())
}

/// Starts a course: version 1, a draft, written by the actor.
pub async fn create(db: &DatabaseConnection, actor: &Actor, c: &Course) -> AppResult<()> {
    actor.require(Action::AuthorCourses)?;
    let txn = begin_write(db).await?;
    if slug_taken(&txn, &c.slug).await? {
        return Err(AppError::field("slug", "author.err.slug_taken"));
    }
    insert_version(&txn, c, 1, CourseStatus::Draft, Some(actor.id), None).await?;
    log(&txn, actor, audit::Action::Create, &c.slug, None).await?;
    txn.commit().await?;
    Ok(())
}

/// The competence framework as stored (imported from `skills.toml`).
pub async fn skills(db: &impl ConnectionTrait) -> AppResult<Skills> {
    let rows = competence::Entity::find()
        .order_by_asc(competence::Column::Position)
        .all(db)
        .await?;
    let text = |s: &str| serde_json::from_str(s).unwrap_or_default();
    Ok(Skills {
        competences: rows
            .into_iter()
            .map(|r| Competence {
                digcomp: r
                    .digcomp
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect(),
                itu: serde_json::from_str(&r.itu).unwrap_or_default(),
                title: text(&r.title_json),
                level1: text(&r.level1_json),
                level2: text(&r.level2_json),
                code: r.code,
                area: r.area,
            })
            .collect(),
        source: None,
    })
}

/// Every problem `fuzhi courses check` would report for this package, with
/// paths relative to the course folder (`lessons/01-x.zh-CN.md`).
pub async fn check(db: &impl ConnectionTrait, c: &Course) -> AppResult<Vec<Problem>> {
    let skills = skills(db).await?;
    let c = c.clone();
    tokio::task::spawn_blocking(move || check_files(&c, &skills))
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("checker stopped: {e}")))?
}

fn check_files(c: &Course, skills: &Skills) -> AppResult<Vec<Problem>> {
    let root = std::env::temp_dir().join(format!("fuzhi-check-{}", uuid::Uuid::new_v4().simple()));
    let dir: PathBuf = root.join(&c.slug);
    let written = courses::write_course(c, &dir);
    let result = written.map(|()| courses::load_course(&dir, Some((skills, "skills.toml"))).1);
    let _ = std::fs::remove_dir_all(&root);
    let mut problems = result
        .map_err(|e| AppError::Internal(anyhow::anyhow!("cannot write a check copy: {e}")))?;
    let prefix = format!("{}/", dir.display().to_string().replace('\\', "/"));
    for p in &mut problems {
        p.file = p
            .file
            .strip_prefix(&prefix)
            .unwrap_or(if p.file.ends_with(&c.slug) {
                ""
            } else {
                &p.file
            })
            .to_string();
    }
    // As `fuzhi courses check`: once the package is valid, a test that does
    // not measure (a blind learner passes, the key is the longest choice,
    // true/false leans one way, an item repeats another) is a problem too.
    if problems.is_empty() {
        problems.extend(measure_problems(c));
    }
    problems.sort();
    Ok(problems)
}

/// The errors of `courses::review::quality` for this course, placed at the
/// quiz they are about (the lesson checks together: `quizzes`).
fn measure_problems(c: &Course) -> Vec<Problem> {
    courses::review::quality::judge(c)
        .errors()
        .map(|f| {
            let file = match &f.quiz {
                Some(q) => format!("quizzes/{q}.toml"),
                None => "quizzes".to_string(),
            };
            Problem::new(&file, None, f.message.clone())
        })
        .collect()
}

/// Publishes the draft: refused (with the checker's problems) while it has
/// any; otherwise it becomes the published version through the file import
/// path, and the learners' content cache forgets the old one.
pub async fn publish(
    db: &DatabaseConnection,
    cache: &Cache,
    actor: &Actor,
    slug: &str,
) -> AppResult<Result<Outcome, Vec<Problem>>> {
    let w = working_now(db, actor, slug).await?;
    let problems = check(db, &w.course).await?;
    if !problems.is_empty() {
        return Ok(Err(problems));
    }
    let gate = turn_of(slug);
    let _turn = gate.lock().await;
    let outcome = crate::db::retrying("course publish", || {
        publish_checked(db, cache, actor, slug, &w)
    })
    .await?;
    Ok(Ok(outcome))
}

/// The write half of [`publish`]: `w` is the draft that was checked.
async fn publish_checked(
    db: &DatabaseConnection,
    cache: &Cache,
    actor: &Actor,
    slug: &str,
    w: &Working,
) -> AppResult<Outcome> {
    let txn = begin_write(db).await?;
    hold(&txn, slug).await?;
    // What was checked is what is published: a change saved since then
    // (another tab, a video finished meanwhile) is checked first.
    let now = working(&txn, actor, slug).await?;
    if now.row.id != w.row.id
        || super::store::content_hash(&now.course) != super::store::content_hash(&w.course)
    {
        return Err(AppError::Conflict(
            "course: the draft changed while it was being published; publish again".into(),
        ));
    }
    let released = course::Entity::find()
        .filter(course::Column::Slug.eq(slug))
        .filter(course::Column::Status.ne(CourseStatus::Draft))
        .one(&txn)
        .await?
        .is_some();
    if w.is_draft {
        delete_version(&txn, w.row.id).await?;
    }
    // The first version keeps the course's starter as its author (and owner).
    let author = if released {
        Some(actor.id)
    } else {
        w.row.author_id
    };
    let outcome = import_course(
        &txn,
        &w.course,
        author,
        crate::catalog::store::Origin::Authoring,
    )
    .await?;
    let change = serde_json::json!({"published": outcome});
    release(txn, cache, actor, slug, change).await?;
    Ok(outcome)
}

/// Takes the course away from learners (its draft, if any, stays). Learner
/// records keep their course slug; publishing again brings it back.
pub async fn archive(
    db: &DatabaseConnection,
    cache: &Cache,
    actor: &Actor,
    slug: &str,
) -> AppResult<()> {
    authorize(db, actor, slug).await?;
    let txn = begin_write(db).await?;
    course::Entity::update_many()
        .col_expr(course::Column::Status, Expr::value(CourseStatus::Archived))
        .filter(course::Column::Slug.eq(slug))
        .filter(course::Column::Status.eq(CourseStatus::Published))
        .exec(&txn)
        .await?;
    release(
        txn,
        cache,
        actor,
        slug,
        serde_json::json!({"archived": true}),
    )
    .await
}
