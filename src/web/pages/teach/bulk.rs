//! One practical task signed off for many learners on one page: the
//! learners of a class (those marked present ticked already) or the
//! learners of the trainer's area ready for a task of a course, a checkbox
//! each, "tick all", one level and note, one submit. Every learner's
//! sign-off is written as a single sign-off is, all of them or none.

use std::collections::{HashMap, HashSet};

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::Deserialize;
use serde_json::json;

use super::roster::{class_learners, class_view};
use super::{Page, State, course_titles, redirect, title_of, tr};
use crate::accounts::Role;
use crate::app::AppContext;
use crate::entities::enrollment::EnrollmentState;
use crate::entities::{app_user, class_session, enrollment, task_signoff};
use crate::error::{AppError, AppResult};
use crate::learning::content::text;
use crate::learning::{classes, ready, tasks};
use crate::policy::Action;
use crate::web::extract::{CurrentUser, Locale};

/// Where the list of learners comes from.
enum Source {
    /// The learners of a class.
    Class(class_session::Model),
    /// The learners of the trainer's area ready for a task of a course.
    Course(String),
}

impl Source {
    fn course(&self) -> &str {
        match self {
            Source::Class(s) => &s.course_slug,
            Source::Course(c) => c,
        }
    }

    /// The page's own address, with its query.
    fn href(&self, task: &str, extra: &str) -> String {
        let base = match self {
            Source::Class(s) => format!("/teach/classes/{}/signoff?task={task}", s.id),
            Source::Course(c) => format!("/teach/signoff/bulk?course={c}&task={task}"),
        };
        format!("{base}{extra}")
    }
}

#[derive(Deserialize)]
pub struct BulkQuery {
    course: Option<String>,
    task: Option<String>,
    /// Tick everyone listed.
    all: Option<String>,
    /// How many were signed off by the last submit.
    done: Option<usize>,
}

/// From a class: its learners, those who came ticked.
pub async fn class_page(
    state: State,
    locale: Locale,
    user: CurrentUser,
    path: web::Path<i64>,
    q: web::Query<BulkQuery>,
) -> AppResult<HttpResponse> {
    user.actor.require(Action::SignOffTasks)?;
    let s = classes::get(&state.db, &user.actor, path.into_inner()).await?;
    let view = View {
        task: q.task.clone(),
        all: q.all.is_some(),
        done: q.done,
        ..View::default()
    };
    render(&state, locale.0, &user, Source::Class(s), view).await
}

/// From a course (the "waiting for sign-off" to-do): the learners ready for
/// one of its tasks.
pub async fn course_page(
    state: State,
    locale: Locale,
    user: CurrentUser,
    q: web::Query<BulkQuery>,
) -> AppResult<HttpResponse> {
    user.actor.require(Action::SignOffTasks)?;
    let Some(course) = q.course.clone().filter(|c| !c.is_empty()) else {
        return Ok(redirect("/teach"));
    };
    let view = View {
        task: q.task.clone(),
        all: q.all.is_some(),
        done: q.done,
        ..View::default()
    };
    render(&state, locale.0, &user, Source::Course(course), view).await
}

/// What the page shows besides its learners.
#[derive(Default)]
struct View {
    task: Option<String>,
    all: bool,
    done: Option<usize>,
    error: Option<String>,
    /// The learners ticked in a refused submit (ticked again).
    ticked: Option<HashSet<i64>>,
    level: Option<i32>,
    note: Option<String>,
}

/// One learner of the list: id, name, village code, whether she is ticked
/// to start with, and what the list says of her.
struct Row {
    user: app_user::Model,
    ticked: bool,
    said: String,
}

async fn render(
    state: &AppContext,
    lang: &str,
    user: &CurrentUser,
    source: Source,
    v: View,
) -> AppResult<HttpResponse> {
    let slug = source.course().to_string();
    let info = state
        .content
        .published(&state.db, &slug)
        .await?
        .ok_or(AppError::NotFound)?;
    let def = info.course.languages.split(',').next().unwrap_or("zh-CN");
    let (header, mut rows, ready_by_task) = match &source {
        Source::Class(s) => {
            let said = |m: Option<(bool, bool)>| {
                let k = match m {
                    Some((true, _)) => "teach.present",
                    Some((false, true)) => "teach.excused",
                    Some(_) => "teach.absent",
                    None => "teach.unmarked",
                };
                tr(state, lang, k)
            };
            let rows: Vec<Row> = class_learners(state, s)
                .await?
                .into_iter()
                .map(|l| Row {
                    ticked: l.mark.is_some_and(|m| m.0),
                    said: said(l.mark),
                    user: l.user,
                })
                .collect();
            (class_view(state, lang, s).await?, rows, None)
        }
        Source::Course(c) => {
            let mut q = enrollment::Entity::find()
                .filter(enrollment::Column::CourseSlug.eq(c.as_str()))
                .filter(
                    enrollment::Column::State
                        .is_in([EnrollmentState::Enrolled, EnrollmentState::Paused]),
                );
            if let Some(p) = user.actor.scope_prefix() {
                q = q.filter(enrollment::Column::AreaCode.starts_with(p));
            }
            let open = q.all(&state.db).await?;
            let waiting = ready::waiting(&state.db, &state.content, &open).await?;
            let mut by_task: HashMap<String, Vec<i64>> = HashMap::new();
            for (learner, _, ts) in waiting {
                for t in ts {
                    by_task.entry(t).or_default().push(learner);
                }
            }
            let titles = course_titles(state, lang).await?;
            (
                json!({"course": title_of(&titles, c)}),
                vec![],
                Some(by_task),
            )
        }
    };
    // The task: the one asked for, else the first with learners ready.
    let task = v
        .task
        .as_deref()
        .and_then(|t| info.task(t))
        .or_else(|| {
            ready_by_task.as_ref().and_then(|by| {
                info.tasks
                    .iter()
                    .find(|t| by.get(&t.slug).is_some_and(|l| !l.is_empty()))
            })
        })
        .or(info.tasks.first());
    if let (Some(by), Some(t)) = (&ready_by_task, task) {
        let ids = by.get(&t.slug).cloned().unwrap_or_default();
        if !ids.is_empty() {
            let ready_text = tr(state, lang, "teach.ready");
            let mut people = app_user::Entity::find()
                .filter(app_user::Column::Id.is_in(ids))
                .all(&state.db)
                .await?;
            people.sort_by(|a, b| a.display_name.cmp(&b.display_name).then(a.id.cmp(&b.id)));
            rows = people
                .into_iter()
                .map(|u| Row {
                    user: u,
                    ticked: false,
                    said: ready_text.clone(),
                })
                .collect();
        }
    }
    // The level each learner has for the task already.
    let given: HashMap<i64, i32> = match task {
        Some(t) if !rows.is_empty() => {
            let mut m = HashMap::new();
            for s in task_signoff::Entity::find()
                .filter(task_signoff::Column::UserId.is_in(rows.iter().map(|r| r.user.id)))
                .filter(task_signoff::Column::CourseSlug.eq(slug.as_str()))
                .filter(task_signoff::Column::TaskSlug.eq(t.slug.as_str()))
                .all(&state.db)
                .await?
            {
                let e = m.entry(s.user_id).or_insert(s.level);
                *e = (*e).max(s.level);
            }
            m
        }
        _ => HashMap::new(),
    };
    let codes: Vec<String> = rows
        .iter()
        .filter_map(|r| r.user.area_code.clone())
        .collect();
    let places = crate::areas::names(&state.db, &codes).await?;
    let learners: Vec<_> = rows
        .iter()
        .map(|r| {
            let ticked = match &v.ticked {
                Some(t) => t.contains(&r.user.id),
                None => v.all || r.ticked,
            };
            let given = given.get(&r.user.id).map(|l| {
                tr(state, lang, "teach.given")
                    .replace("{level}", &tr(state, lang, &format!("teach.level{l}")))
            });
            json!({"id": r.user.id, "name": r.user.display_name, "said": r.said,
                   "village": r.user.area_code.as_ref().and_then(|c| places.get(c)),
                   "ticked": ticked, "given": given})
        })
        .collect();
    let tasks: Vec<_> = info
        .tasks
        .iter()
        .map(|t| {
            json!({"slug": t.slug, "title": text(&t.title_json, lang, def),
                   "selected": task.is_some_and(|c| c.slug == t.slug)})
        })
        .collect();
    let task_view = task.map(|t| {
        json!({"slug": t.slug, "title": text(&t.title_json, lang, def),
               "evidence": text(&t.evidence_json, lang, def)})
    });
    let flash = v.done.map(|n| {
        tr(state, lang, "teach.bulk_done")
            .replace("{n}", &n.to_string())
            .replace(
                "{task}",
                &task
                    .map(|t| text(&t.title_json, lang, def))
                    .unwrap_or_default(),
            )
    });
    let (class_id, back) = match &source {
        Source::Class(s) => (Some(s.id), format!("/teach/classes/{}", s.id)),
        Source::Course(_) => (None, "/teach".to_string()),
    };
    let status = if v.error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Page::new(state, lang, Some(user), "teach.bulk_title")
        .set("head", header)
        .set("class_id", class_id)
        .set("course", &slug)
        .set("back", back)
        .set("tasks", tasks)
        .set("task", task_view)
        .set("learners", learners)
        .set("flash", flash)
        .set("error", v.error)
        .set("l2", v.level == Some(2))
        .set("l1", v.level == Some(1))
        .set("l0", v.level == Some(0))
        .set("note", v.note)
        .render_status(state, "pages/teach_bulk_signoff", status)
}

/// The bulk form: `task`, `level`, `note`, `course` (or `class`), and one
/// `user` per ticked learner.
#[derive(Default)]
struct BulkForm {
    class: Option<i64>,
    course: String,
    task: String,
    level: Option<i32>,
    note: Option<String>,
    learners: Vec<i64>,
}

impl From<&[u8]> for BulkForm {
    fn from(body: &[u8]) -> BulkForm {
        let mut f = BulkForm::default();
        for (k, v) in url::form_urlencoded::parse(body) {
            match k.as_ref() {
                "class" => f.class = v.parse().ok(),
                "course" => f.course = v.into_owned(),
                "task" => f.task = v.into_owned(),
                "level" => f.level = v.parse().ok(),
                "note" => f.note = Some(v.into_owned()),
                "user" => f.learners.extend(v.parse::<i64>().ok()),
                _ => {}
            }
        }
        let mut seen = HashSet::new();
        f.learners.retain(|id| seen.insert(*id));
        f
    }
}

pub async fn submit(
    state: State,
    locale: Locale,
    user: CurrentUser,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    user.actor.require(Action::SignOffTasks)?;
    let lang = locale.0;
    let f = BulkForm::from(&body[..]);
    let source = match f.class {
        Some(id) => Source::Class(classes::get(&state.db, &user.actor, id).await?),
        None => Source::Course(f.course.clone()),
    };
    let course = source.course().to_string();
    let refuse = |key: &str, names: &[String]| {
        let sep = if lang == "en" { ", " } else { "、" };
        tr(&state, lang, key).replace("{names}", &names.join(sep))
    };
    let mut error = None;
    if f.learners.is_empty() {
        error = Some(tr(&state, lang, "teach.err.tick_learner"));
    } else if !matches!(f.level, Some(0..=2)) {
        error = Some(tr(&state, lang, "teach.err.pick_level"));
    }
    let info = state.content.published(&state.db, &course).await?;
    if error.is_none() && info.as_ref().and_then(|i| i.task(&f.task)).is_none() {
        error = Some(tr(&state, lang, "teach.err.pick_task"));
    }
    if error.is_none() {
        // Each learner must be one the trainer may sign off (404 otherwise,
        // as for one learner), and enrolled in the course.
        let people = app_user::Entity::find()
            .filter(app_user::Column::Id.is_in(f.learners.iter().copied()))
            .all(&state.db)
            .await?;
        if people.len() != f.learners.len() {
            return Err(AppError::NotFound);
        }
        for p in &people {
            user.actor
                .require_user(Action::SignOffTasks, p.id, p.role, p.area_code.as_deref())?;
            if p.role != Role::Learner {
                return Err(AppError::NotFound);
            }
        }
        let enrolled: HashSet<i64> = enrollment::Entity::find()
            .filter(enrollment::Column::UserId.is_in(f.learners.iter().copied()))
            .filter(enrollment::Column::CourseSlug.eq(course.as_str()))
            .filter(enrollment::Column::State.ne(EnrollmentState::Withdrawn))
            .all(&state.db)
            .await?
            .into_iter()
            .map(|e| e.user_id)
            .collect();
        let mut outside: Vec<String> = people
            .iter()
            .filter(|p| !enrolled.contains(&p.id))
            .map(|p| p.display_name.clone())
            .collect();
        outside.sort();
        if !outside.is_empty() {
            error = Some(refuse("teach.err.not_enrolled", &outside));
        }
    }
    if error.is_none() {
        let s = tasks::SignOff {
            user_id: 0,
            course: course.clone(),
            task: f.task.clone(),
            level: f.level.unwrap_or_default(),
            note: f.note.clone(),
        };
        match tasks::sign_off_many(&state.db, &state.content, &user.actor, &f.learners, &s).await {
            Ok(rows) => {
                return Ok(redirect(
                    &source.href(&f.task, &format!("&done={}", rows.len())),
                ));
            }
            Err(AppError::Validation { message, .. }) => {
                error = Some(tr(&state, lang, "teach.err.bulk_refused").replace("{why}", &message));
            }
            Err(e) => return Err(e),
        }
    }
    let view = View {
        task: Some(f.task.clone()),
        error,
        ticked: Some(f.learners.iter().copied().collect()),
        level: f.level,
        note: f.note.clone(),
        ..View::default()
    };
    render(&state, lang, &user, source, view).await
}
