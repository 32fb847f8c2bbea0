//! Trainer pages: enroll learners of the area (one by one or as a cohort),
//! sign off practical tasks, and run classes with a phone-sized roster.

use std::collections::HashSet;

use actix_web::{HttpResponse, web};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Deserialize;
use serde_json::json;

use super::{Page, redirect};
use crate::accounts::users::{self, UserQuery};
use crate::app::AppContext;
use crate::entities::{attendance, class_session, task_signoff};
use crate::error::{AppError, AppResult};
use crate::learning::content::text;
use crate::learning::{classes, enroll, tasks};
use crate::policy::Action;
use crate::web::api::learning::list_courses;
use crate::web::extract::{CurrentUser, Locale};

type State = web::Data<AppContext>;

async fn course_options(state: &AppContext, lang: &str) -> AppResult<Vec<serde_json::Value>> {
    Ok(list_courses(&state.db, false)
        .await?
        .iter()
        .map(|c| {
            let def = c.languages.split(',').next().unwrap_or("zh-CN");
            json!({"slug": c.slug, "title": text(&c.title_json, lang, def)})
        })
        .collect())
}

#[derive(Deserialize)]
pub struct LearnersQuery {
    q: Option<String>,
    #[serde(default, deserialize_with = "crate::paging::page")]
    page: Option<u64>,
    done: Option<usize>,
}

pub async fn learners(
    state: State,
    locale: Locale,
    user: CurrentUser,
    q: web::Query<LearnersQuery>,
) -> AppResult<HttpResponse> {
    user.actor.require(Action::EnrollOthers)?;
    let query = UserQuery {
        q: q.q.clone(),
        role: Some("learner".into()),
        page: q.page,
        per_page: Some(100),
    };
    let (items, total) = users::list(&state.db, &user.actor, &query).await?;
    let (page, per_page) = users::page_params(q.page, Some(100));
    Page::new(&state, locale.0, Some(&user), "teach.learners")
        .set("items", items.iter().map(|u| json!({"id": u.id, "name": u.display_name, "login": u.login, "area": u.area_code})).collect::<Vec<_>>())
        .set("courses", course_options(&state, locale.0).await?)
        .set("pager", super::pager(page, per_page, total))
        .set("q", q.q.clone().unwrap_or_default())
        .set("flash", q.done.map(|n| state.views.tr(locale.0, "teach.enrolled").replace("{n}", &n.to_string())))
        .render(&state, "pages/teach_learners")
}

/// The cohort form: `course`, `cohort`, and one `user` field per ticked learner.
struct CohortForm {
    course: String,
    cohort: Option<String>,
    learners: Vec<i64>,
}

impl TryFrom<&[u8]> for CohortForm {
    type Error = AppError;

    fn try_from(body: &[u8]) -> AppResult<CohortForm> {
        let mut f = CohortForm {
            course: String::new(),
            cohort: None,
            learners: Vec::new(),
        };
        for (k, v) in url::form_urlencoded::parse(body) {
            match k.as_ref() {
                "course" => f.course = v.into_owned(),
                "cohort" => f.cohort = Some(v.into_owned()),
                "user" => f.learners.push(
                    v.parse::<i64>()
                        .map_err(|_| AppError::field("user", "not a learner id"))?,
                ),
                _ => {}
            }
        }
        if f.learners.is_empty() {
            return Err(AppError::field("user", "tick at least one learner"));
        }
        Ok(f)
    }
}

pub async fn enroll_cohort(
    state: State,
    user: CurrentUser,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    user.actor.require(Action::EnrollOthers)?;
    let f = CohortForm::try_from(&body[..])?;
    // All or none, as the API's cohort enrollment.
    enroll::enroll_many(
        &state.db,
        &state.content,
        &user.actor,
        &f.learners,
        &f.course,
        f.cohort.clone(),
    )
    .await?;
    state.sessions.refresh(&state.db).await?;
    Ok(redirect(&format!(
        "/teach/learners?done={}",
        f.learners.len()
    )))
}

#[derive(Deserialize)]
pub struct SignoffQuery {
    user: Option<i64>,
    course: Option<String>,
    saved: Option<String>,
}

pub async fn signoff_form(
    state: State,
    locale: Locale,
    user: CurrentUser,
    q: web::Query<SignoffQuery>,
) -> AppResult<HttpResponse> {
    user.actor.require(Action::SignOffTasks)?;
    let learner = match q.user {
        Some(id) => {
            Some(users::get_managed(&state.db, &user.actor, id, Action::SignOffTasks).await?)
        }
        None => None,
    };
    let course = q
        .course
        .clone()
        .unwrap_or_else(|| "smartphone-basics".into());
    let info = state.content.published(&state.db, &course).await?;
    let def = info
        .as_ref()
        .map(|i| {
            i.course
                .languages
                .split(',')
                .next()
                .unwrap_or("zh-CN")
                .to_string()
        })
        .unwrap_or_default();
    let task_list: Vec<_> = info
        .iter()
        .flat_map(|i| i.tasks.iter())
        .map(|t| json!({"slug": t.slug, "title": text(&t.title_json, locale.0, &def), "evidence": text(&t.evidence_json, locale.0, &def), "required": t.required}))
        .collect();
    let history: Vec<_> = match &learner {
        Some(l) => task_signoff::Entity::find()
            .filter(task_signoff::Column::UserId.eq(l.id))
            .order_by_desc(task_signoff::Column::Id)
            .all(&state.db)
            .await?
            .into_iter()
            .map(|s| json!({"course": s.course_slug, "task": s.task_slug, "level": s.level, "note": s.note, "at": s.at.format("%Y-%m-%d").to_string()}))
            .collect(),
        None => vec![],
    };
    Page::new(&state, locale.0, Some(&user), "teach.signoff")
        .set(
            "learner",
            learner.map(|l| json!({"id": l.id, "name": l.display_name, "login": l.login})),
        )
        .set("course", &course)
        .set("courses", course_options(&state, locale.0).await?)
        .set("tasks", task_list)
        .set("history", history)
        .set(
            "flash",
            q.saved
                .as_ref()
                .map(|_| state.views.tr(locale.0, "users.saved")),
        )
        .render(&state, "pages/teach_signoff")
}

#[derive(Deserialize)]
pub struct SignoffForm {
    user_id: i64,
    course: String,
    task: String,
    level: i32,
    note: Option<String>,
}

impl From<SignoffForm> for tasks::SignOff {
    fn from(f: SignoffForm) -> tasks::SignOff {
        tasks::SignOff {
            user_id: f.user_id,
            course: f.course,
            task: f.task,
            level: f.level,
            note: f.note,
        }
    }
}

pub async fn signoff_submit(
    state: State,
    user: CurrentUser,
    form: web::Form<SignoffForm>,
) -> AppResult<HttpResponse> {
    let s = tasks::SignOff::from(form.into_inner());
    tasks::sign_off(
        &state.db,
        &state.content,
        Some(&state.views),
        &state.settings.base_url(),
        &user.actor,
        &s,
    )
    .await?;
    Ok(redirect(&format!(
        "/teach/signoff?user={}&course={}&saved=1",
        s.user_id, s.course
    )))
}

pub async fn classes_page(
    state: State,
    locale: Locale,
    user: CurrentUser,
) -> AppResult<HttpResponse> {
    user.actor.require(Action::RunClasses)?;
    let mut q = class_session::Entity::find().order_by_desc(class_session::Column::HeldAt);
    if let Some(p) = user.actor.scope_prefix() {
        q = q.filter(class_session::Column::AreaCode.starts_with(p));
    }
    let items: Vec<_> = q
        .all(&state.db)
        .await?
        .into_iter()
        .take(100)
        .map(|s| json!({"id": s.id, "course": s.course_slug, "place": s.place, "held_at": s.held_at.format("%Y-%m-%d %H:%M").to_string()}))
        .collect();
    Page::new(&state, locale.0, Some(&user), "teach.classes")
        .set("items", items)
        .set("courses", course_options(&state, locale.0).await?)
        .set(
            "area",
            user.actor
                .area
                .as_ref()
                .map(|a| a.as_str().to_string())
                .unwrap_or_default(),
        )
        .render(&state, "pages/teach_classes")
}

#[derive(Deserialize)]
pub struct ClassForm {
    course: String,
    place: String,
    held_at: String,
    area_code: Option<String>,
}

impl From<ClassForm> for classes::NewSession {
    fn from(f: ClassForm) -> classes::NewSession {
        classes::NewSession {
            course: f.course,
            place: f.place,
            held_at: f.held_at,
            area_code: f.area_code,
            expected: vec![],
        }
    }
}

pub async fn class_create(
    state: State,
    user: CurrentUser,
    form: web::Form<ClassForm>,
) -> AppResult<HttpResponse> {
    let new = classes::NewSession::from(form.into_inner());
    let s = classes::create(&state.db, &state.content, &user.actor, &new).await?;
    Ok(redirect(&format!("/teach/classes/{}", s.id)))
}

pub async fn roster(
    state: State,
    locale: Locale,
    user: CurrentUser,
    path: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let s = classes::get(&state.db, &user.actor, path.into_inner()).await?;
    let marks: std::collections::HashMap<i64, (bool, bool)> = attendance::Entity::find()
        .filter(attendance::Column::SessionId.eq(s.id))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|a| (a.user_id, (a.attended, a.excused)))
        .collect();
    // Everyone enrolled in the course in the session's area, plus anyone already on the roster.
    let enrolled = crate::entities::enrollment::Entity::find()
        .filter(crate::entities::enrollment::Column::CourseSlug.eq(s.course_slug.as_str()))
        .filter(
            crate::entities::enrollment::Column::AreaCode.starts_with(
                crate::areas::AreaCode::parse(&s.area_code)
                    .map(|a| a.prefix().to_string())
                    .unwrap_or(s.area_code.clone()),
            ),
        )
        .all(&state.db)
        .await?;
    let mut ids: Vec<i64> = enrolled
        .iter()
        .map(|e| e.user_id)
        .chain(marks.keys().copied())
        .collect();
    ids.sort();
    ids.dedup();
    let people = crate::entities::app_user::Entity::find()
        .filter(crate::entities::app_user::Column::Id.is_in(ids))
        .order_by_asc(crate::entities::app_user::Column::DisplayName)
        .all(&state.db)
        .await?;
    let rows: Vec<_> = people
        .iter()
        .map(|u| {
            let (a, e) = marks.get(&u.id).copied().unwrap_or((false, false));
            json!({"id": u.id, "name": u.display_name, "attended": a, "excused": e})
        })
        .collect();
    Page::new(&state, locale.0, Some(&user), "teach.roster")
        .set("s", json!({"id": s.id, "course": s.course_slug, "place": s.place, "held_at": s.held_at.format("%Y-%m-%d %H:%M").to_string()}))
        .set("rows", rows)
        .render(&state, "pages/teach_roster")
}

/// The roster form: `present` and `excused` for each ticked learner,
/// `listed` for everyone on the page (ids that are not numbers are ignored).
struct RosterForm(Vec<classes::Mark>);

impl From<&[u8]> for RosterForm {
    fn from(body: &[u8]) -> RosterForm {
        let mut listed = Vec::new();
        let mut present = HashSet::new();
        let mut excused = HashSet::new();
        for (k, v) in url::form_urlencoded::parse(body) {
            let n = v.parse::<i64>().ok();
            match (k.as_ref(), n) {
                ("listed", Some(n)) => listed.push(n),
                ("present", Some(n)) => {
                    present.insert(n);
                }
                ("excused", Some(n)) => {
                    excused.insert(n);
                }
                _ => {}
            }
        }
        RosterForm(
            listed
                .into_iter()
                .map(|u| classes::Mark {
                    user_id: u,
                    attended: present.contains(&u),
                    excused: excused.contains(&u),
                })
                .collect(),
        )
    }
}

pub async fn roster_save(
    state: State,
    user: CurrentUser,
    path: web::Path<i64>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let RosterForm(marks) = RosterForm::from(&body[..]);
    classes::mark(&state.db, &user.actor, id, &marks).await?;
    Ok(redirect(&format!("/teach/classes/{id}")))
}
