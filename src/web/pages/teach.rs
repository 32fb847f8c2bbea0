//! Trainer pages: enroll learners of the area (one by one or as a cohort),
//! sign off practical tasks, and run classes with a phone-sized roster.

use std::collections::{BTreeMap, HashMap, HashSet};

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Deserialize;
use serde_json::json;

use super::{Page, redirect};
use crate::accounts::users::{self, UserQuery};
use crate::app::AppContext;
use crate::entities::{
    app_user, area, attendance, class_session, enrollment, lesson_progress, task_signoff,
};
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

fn tr(state: &AppContext, lang: &str, key: &str) -> String {
    state.views.tr(lang, key)
}

/// Published course titles by slug in the page's language (one query).
async fn course_titles(state: &AppContext, lang: &str) -> AppResult<BTreeMap<String, String>> {
    crate::catalog::view::published_titles(&state.db, lang).await
}

fn title_of(titles: &BTreeMap<String, String>, slug: &str) -> String {
    titles
        .get(slug)
        .cloned()
        .unwrap_or_else(|| slug.to_string())
}

/// The number of lessons of each published course (from the content cache).
async fn lesson_counts(
    state: &AppContext,
    slugs: impl IntoIterator<Item = String>,
) -> AppResult<HashMap<String, usize>> {
    let mut out = HashMap::new();
    for slug in slugs {
        if let std::collections::hash_map::Entry::Vacant(v) = out.entry(slug) {
            let n = state
                .content
                .published(&state.db, v.key())
                .await?
                .map_or(0, |i| i.lessons.len());
            v.insert(n);
        }
    }
    Ok(out)
}

/// What learners did: lessons finished per learner and course, and when
/// each last studied (one query for all of them).
#[derive(Default)]
struct Activity {
    finished: HashMap<(i64, String), usize>,
    last: HashMap<i64, DateTime<Utc>>,
}

async fn activity(state: &AppContext, ids: &[i64]) -> AppResult<Activity> {
    let mut a = Activity::default();
    if ids.is_empty() {
        return Ok(a);
    }
    let rows: Vec<(i64, String, String, DateTime<Utc>)> = lesson_progress::Entity::find()
        .select_only()
        .column(lesson_progress::Column::UserId)
        .column(lesson_progress::Column::CourseSlug)
        .column(lesson_progress::Column::State)
        .column(lesson_progress::Column::UpdatedAt)
        .filter(lesson_progress::Column::UserId.is_in(ids.iter().copied()))
        .into_tuple()
        .all(&state.db)
        .await?;
    for (user, course, st, at) in rows {
        if st == "finished" {
            *a.finished.entry((user, course)).or_default() += 1;
        }
        let last = a.last.entry(user).or_insert(at);
        if at > *last {
            *last = at;
        }
    }
    Ok(a)
}

/// One line per course each learner is enrolled in: "course: 3/8 lessons".
async fn progress_lines(
    state: &AppContext,
    lang: &str,
    ids: &[i64],
) -> AppResult<HashMap<i64, Vec<String>>> {
    let mut out: HashMap<i64, Vec<String>> = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let enrolled = enrollment::Entity::find()
        .filter(enrollment::Column::UserId.is_in(ids.iter().copied()))
        .filter(enrollment::Column::State.ne("withdrawn"))
        .order_by_asc(enrollment::Column::Id)
        .all(&state.db)
        .await?;
    let act = activity(state, ids).await?;
    let titles = course_titles(state, lang).await?;
    let totals = lesson_counts(state, enrolled.iter().map(|e| e.course_slug.clone())).await?;
    for e in enrolled {
        let course = title_of(&titles, &e.course_slug);
        let line = if e.state == "completed" {
            tr(state, lang, "teach.completed").replace("{course}", &course)
        } else {
            let done = act
                .finished
                .get(&(e.user_id, e.course_slug.clone()))
                .copied()
                .unwrap_or(0);
            let total = totals.get(&e.course_slug).copied().unwrap_or(0);
            tr(state, lang, "teach.lessons_done")
                .replace("{course}", &course)
                .replace("{done}", &done.to_string())
                .replace("{total}", &total.to_string())
        };
        out.entry(e.user_id).or_default().push(line);
    }
    Ok(out)
}

/// Days between `at` and now, for "n days ago".
fn days_since(at: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    (now - at).num_days().max(0)
}

fn ago(state: &AppContext, lang: &str, days: i64) -> String {
    if days == 0 {
        tr(state, lang, "teach.today")
    } else {
        tr(state, lang, "teach.days_ago").replace("{days}", &days.to_string())
    }
}

/// The townships and villages a trainer may hold a class in, each village
/// grouped under its township (two queries at most).
async fn area_groups(
    state: &AppContext,
    lang: &str,
    user: &CurrentUser,
) -> AppResult<Vec<serde_json::Value>> {
    let mut q = area::Entity::find()
        .filter(area::Column::Level.is_in(["township", "village"]))
        .order_by_asc(area::Column::Code);
    if let Some(p) = user.actor.scope_prefix() {
        q = q.filter(area::Column::Code.starts_with(p));
    }
    let rows = q.all(&state.db).await?;
    let mut townships: BTreeMap<String, String> = rows
        .iter()
        .filter(|a| a.level == "township")
        .map(|a| (a.code.clone(), a.name.clone()))
        .collect();
    // A village trainer's township is outside the scope: only its name is needed.
    let missing: Vec<String> = rows
        .iter()
        .filter_map(|a| a.parent_code.clone())
        .filter(|p| !townships.contains_key(p))
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let names = crate::areas::names(&state.db, &missing).await?;
    let own = user.actor.area.as_ref().map(|a| a.as_str().to_string());
    let mut groups: BTreeMap<String, Vec<serde_json::Value>> = BTreeMap::new();
    for (code, name) in &townships {
        let whole = tr(state, lang, "teach.whole_township").replace("{name}", name);
        groups.entry(code.clone()).or_default().push(
            json!({"code": code, "name": whole, "selected": own.as_deref() == Some(code.as_str())}),
        );
    }
    for a in rows.iter().filter(|a| a.level == "village") {
        let parent = a.parent_code.clone().unwrap_or_default();
        groups.entry(parent).or_default().push(
            json!({"code": a.code, "name": a.name, "selected": own.as_deref() == Some(a.code.as_str())}),
        );
    }
    townships.extend(names);
    Ok(groups
        .into_iter()
        .map(|(code, options)| {
            json!({"label": townships.get(&code).cloned().unwrap_or_default(), "options": options})
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

/// Learners per page of the trainer's list.
const LEARNERS_PER_PAGE: u64 = 50;

pub async fn learners(
    state: State,
    locale: Locale,
    user: CurrentUser,
    q: web::Query<LearnersQuery>,
) -> AppResult<HttpResponse> {
    user.actor.require(Action::EnrollOthers)?;
    let lang = locale.0;
    let query = UserQuery {
        q: q.q.clone(),
        role: Some("learner".into()),
        page: q.page,
        per_page: Some(LEARNERS_PER_PAGE),
    };
    let (items, total) = users::list(&state.db, &user.actor, &query).await?;
    let (page, per_page) = users::page_params(q.page, Some(LEARNERS_PER_PAGE));
    let ids: Vec<i64> = items.iter().map(|u| u.id).collect();
    let codes: Vec<String> = items.iter().filter_map(|u| u.area_code.clone()).collect();
    let places = crate::areas::names(&state.db, &codes).await?;
    let mut progress = progress_lines(&state, lang, &ids).await?;
    let rows: Vec<_> = items
        .iter()
        .map(|u| {
            let village = u.area_code.as_ref().and_then(|c| places.get(c)).cloned();
            json!({"id": u.id, "name": u.display_name, "login": u.login, "village": village,
                   "progress": progress.remove(&u.id).unwrap_or_default()})
        })
        .collect();
    Page::new(&state, lang, Some(&user), "teach.learners")
        .set("items", rows)
        .set("courses", course_options(&state, lang).await?)
        .set("pager", super::pager(page, per_page, total))
        .set("q", q.q.clone().unwrap_or_default())
        .set(
            "flash",
            q.done
                .map(|n| tr(&state, lang, "teach.enrolled").replace("{n}", &n.to_string())),
        )
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
            return Err(AppError::field(
                "user",
                crate::households::messages::Msg::new("teach.err.tick_learner").english(),
            ));
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
    let lang = locale.0;
    let page = Page::new(&state, lang, Some(&user), "teach.signoff").set(
        "flash",
        q.saved.as_ref().map(|_| tr(&state, lang, "users.saved")),
    );
    let Some(id) = q.user else {
        return page.render(&state, "pages/teach_signoff");
    };
    let learner = users::get_managed(&state.db, &user.actor, id, Action::SignOffTasks).await?;
    // Only the courses the learner is enrolled in are offered.
    let mine: HashSet<String> = enrollment::Entity::find()
        .filter(enrollment::Column::UserId.eq(learner.id))
        .filter(enrollment::Column::State.ne("withdrawn"))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|e| e.course_slug)
        .collect();
    let courses: Vec<_> = course_options(&state, lang)
        .await?
        .into_iter()
        .filter(|c| c["slug"].as_str().is_some_and(|s| mine.contains(s)))
        .collect();
    let course = q.course.clone().filter(|c| mine.contains(c)).or_else(|| {
        courses
            .first()
            .and_then(|c| c["slug"].as_str())
            .map(str::to_string)
    });
    let signoffs = task_signoff::Entity::find()
        .filter(task_signoff::Column::UserId.eq(learner.id))
        .order_by_desc(task_signoff::Column::Id)
        .all(&state.db)
        .await?;
    // The level given last for each task (the newest row comes first).
    let mut given: HashMap<(&str, &str), i32> = HashMap::new();
    for s in &signoffs {
        given
            .entry((s.course_slug.as_str(), s.task_slug.as_str()))
            .or_insert(s.level);
    }
    let level_text = |l: i32| tr(&state, lang, &format!("teach.level{l}"));
    // Task titles of every course in the history and of the chosen one.
    let mut task_titles: HashMap<(String, String), String> = HashMap::new();
    let mut task_list = Vec::new();
    let slugs: HashSet<&str> = signoffs
        .iter()
        .map(|s| s.course_slug.as_str())
        .chain(course.as_deref())
        .collect();
    for slug in slugs {
        let Some(info) = state.content.published(&state.db, slug).await? else {
            continue;
        };
        let def = info.course.languages.split(',').next().unwrap_or("zh-CN");
        for t in &info.tasks {
            let title = text(&t.title_json, lang, def);
            task_titles.insert((slug.to_string(), t.slug.clone()), title.clone());
            if Some(slug) == course.as_deref() {
                let level = given.get(&(slug, t.slug.as_str())).copied();
                task_list.push(json!({"slug": t.slug, "title": title,
                    "evidence": text(&t.evidence_json, lang, def), "required": t.required,
                    "given": level.map(|l| tr(&state, lang, "teach.given").replace("{level}", &level_text(l))),
                    "l2": level == Some(2), "l1": level == Some(1), "l0": level == Some(0)}));
            }
        }
    }
    let titles = course_titles(&state, lang).await?;
    let history: Vec<_> = signoffs
        .iter()
        .map(|s| {
            let task = task_titles
                .get(&(s.course_slug.clone(), s.task_slug.clone()))
                .cloned()
                .unwrap_or_else(|| s.task_slug.clone());
            json!({"course": title_of(&titles, &s.course_slug), "task": task,
                   "level": level_text(s.level), "note": s.note, "at": s.at.format("%Y-%m-%d").to_string()})
        })
        .collect();
    page.set(
        "learner",
        json!({"id": learner.id, "name": learner.display_name, "login": learner.login}),
    )
    .set("course", course)
    .set("courses", courses)
    .set("tasks", task_list)
    .set("history", history)
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
    let lang = locale.0;
    let mut q = class_session::Entity::find().order_by_desc(class_session::Column::HeldAt);
    if let Some(p) = user.actor.scope_prefix() {
        q = q.filter(class_session::Column::AreaCode.starts_with(p));
    }
    let sessions: Vec<_> = q.limit(100).all(&state.db).await?;
    let items = session_views(&state, lang, &sessions).await?;
    Page::new(&state, lang, Some(&user), "teach.classes")
        .set("items", items)
        .set("courses", course_options(&state, lang).await?)
        .set("areas", area_groups(&state, lang, &user).await?)
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

/// Sessions as shown in lists: time, place, village and course by name.
async fn session_views(
    state: &AppContext,
    lang: &str,
    sessions: &[class_session::Model],
) -> AppResult<Vec<serde_json::Value>> {
    let titles = course_titles(state, lang).await?;
    let codes: Vec<String> = sessions.iter().map(|s| s.area_code.clone()).collect();
    let places = crate::areas::names(&state.db, &codes).await?;
    Ok(sessions
        .iter()
        .map(|s| {
            json!({"id": s.id, "course": title_of(&titles, &s.course_slug), "place": s.place,
                   "village": places.get(&s.area_code),
                   "held_at": s.held_at.format("%Y-%m-%d %H:%M").to_string()})
        })
        .collect())
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

#[derive(Deserialize)]
pub struct RosterQuery {
    saved: Option<String>,
}

pub async fn roster(
    state: State,
    locale: Locale,
    user: CurrentUser,
    path: web::Path<i64>,
    q: web::Query<RosterQuery>,
) -> AppResult<HttpResponse> {
    let s = classes::get(&state.db, &user.actor, path.into_inner()).await?;
    let (page, rows) = roster_page(&state, locale.0, &user, &s).await?;
    let flash = q.saved.as_ref().map(|_| {
        let count = |k: &str| rows.iter().filter(|r| r["state"] == k).count().to_string();
        tr(&state, locale.0, "teach.roll_saved")
            .replace("{n}", &count("present"))
            .replace("{m}", &count("excused"))
    });
    page.set("flash", flash)
        .render(&state, "pages/teach_roster")
}

/// The roster page of a session, and its rows (id, name, state).
async fn roster_page(
    state: &AppContext,
    lang: &str,
    user: &CurrentUser,
    s: &class_session::Model,
) -> AppResult<(Page, Vec<serde_json::Value>)> {
    let marks: HashMap<i64, (bool, bool)> = attendance::Entity::find()
        .filter(attendance::Column::SessionId.eq(s.id))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|a| (a.user_id, (a.attended, a.excused)))
        .collect();
    // Everyone enrolled in the course in the session's area, plus anyone already on the roster.
    let enrolled = enrollment::Entity::find()
        .filter(enrollment::Column::CourseSlug.eq(s.course_slug.as_str()))
        .filter(
            enrollment::Column::AreaCode.starts_with(
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
    let people = app_user::Entity::find()
        .filter(app_user::Column::Id.is_in(ids))
        .order_by_asc(app_user::Column::DisplayName)
        .all(&state.db)
        .await?;
    let rows: Vec<_> = people
        .iter()
        .map(|u| {
            let st = match marks.get(&u.id).copied() {
                Some((true, _)) => "present",
                Some((false, true)) => "excused",
                _ => "absent",
            };
            json!({"id": u.id, "name": u.display_name, "state": st,
                   "present": st == "present", "excused": st == "excused", "absent": st == "absent"})
        })
        .collect();
    let titles = course_titles(state, lang).await?;
    let village = crate::areas::names(&state.db, std::slice::from_ref(&s.area_code)).await?;
    let page = Page::new(state, lang, Some(user), "teach.roster")
        .set(
            "s",
            json!({"id": s.id, "course": title_of(&titles, &s.course_slug), "place": s.place,
                         "village": village.get(&s.area_code),
                         "held_at": s.held_at.format("%Y-%m-%d %H:%M").to_string()}),
        )
        .set("rows", &rows);
    Ok((page, rows))
}

/// The roster form: one `mark-{id}` choice (present, excused or absent) per
/// learner, `listed` for everyone on the page; the older `present` and
/// `excused` fields (one per ticked learner) are read too. Ids that are not
/// numbers are ignored.
struct RosterForm {
    marks: Vec<classes::Mark>,
    /// Learners marked both present and excused.
    both: Vec<i64>,
}

impl From<&[u8]> for RosterForm {
    fn from(body: &[u8]) -> RosterForm {
        let mut listed = Vec::new();
        let mut present = HashSet::new();
        let mut excused = HashSet::new();
        for (k, v) in url::form_urlencoded::parse(body) {
            let (key, id) = match k.strip_prefix("mark-") {
                Some(id) => (v.as_ref(), id.parse::<i64>().ok()),
                None => (k.as_ref(), v.parse::<i64>().ok()),
            };
            let Some(id) = id else { continue };
            if k.starts_with("mark-") || key == "listed" {
                listed.push(id);
            }
            match key {
                "present" => {
                    present.insert(id);
                }
                "excused" => {
                    excused.insert(id);
                }
                _ => {}
            }
        }
        let mut seen = HashSet::new();
        listed.retain(|id| seen.insert(*id));
        let both = listed
            .iter()
            .copied()
            .filter(|u| present.contains(u) && excused.contains(u))
            .collect();
        RosterForm {
            marks: listed
                .into_iter()
                .map(|u| classes::Mark {
                    user_id: u,
                    attended: present.contains(&u),
                    excused: excused.contains(&u),
                })
                .collect(),
            both,
        }
    }
}

pub async fn roster_save(
    state: State,
    locale: Locale,
    user: CurrentUser,
    path: web::Path<i64>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let form = RosterForm::from(&body[..]);
    if !form.both.is_empty() {
        // Nothing is saved: the page names who was marked twice.
        let s = classes::get(&state.db, &user.actor, id).await?;
        let (page, rows) = roster_page(&state, locale.0, &user, &s).await?;
        let names: Vec<String> = form
            .both
            .iter()
            .map(|u| {
                rows.iter()
                    .find(|r| r["id"] == *u)
                    .and_then(|r| r["name"].as_str())
                    .map_or_else(|| format!("#{u}"), str::to_string)
            })
            .collect();
        let sep = if locale.0 == "en" { ", " } else { "、" };
        let error = tr(&state, locale.0, "teach.both_marked").replace("{name}", &names.join(sep));
        return page.set("error", error).render_status(
            &state,
            "pages/teach_roster",
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    classes::mark(&state.db, &user.actor, id, &form.marks).await?;
    Ok(redirect(&format!("/teach/classes/{id}?saved=1")))
}

/// How long without a lesson before a learner counts as stalled.
const STALLED_DAYS: i64 = 14;

/// The trainer's own start page: what needs doing today.
pub async fn home(state: State, locale: Locale, user: CurrentUser) -> AppResult<HttpResponse> {
    user.actor.require(Action::RunClasses)?;
    let lang = locale.0;
    let now = Utc::now();
    let scope = user.actor.scope_prefix();
    // Next classes in the trainer's area, from this morning on.
    let mut q = class_session::Entity::find()
        .filter(class_session::Column::HeldAt.gte(now - chrono::Duration::hours(12)))
        .order_by_asc(class_session::Column::HeldAt);
    if let Some(p) = &scope {
        q = q.filter(class_session::Column::AreaCode.starts_with(p.as_str()));
    }
    let next = q.limit(5).all(&state.db).await?;
    let classes = session_views(&state, lang, &next).await?;

    // Learners of the area with a course under way.
    let mut q = enrollment::Entity::find()
        .filter(enrollment::Column::State.is_in(["enrolled", "paused"]))
        .order_by_asc(enrollment::Column::Id);
    if let Some(p) = &scope {
        q = q.filter(enrollment::Column::AreaCode.starts_with(p.as_str()));
    }
    let open = q.all(&state.db).await?;
    let mut ids: Vec<i64> = open.iter().map(|e| e.user_id).collect();
    ids.sort();
    ids.dedup();
    let titles = course_titles(&state, lang).await?;

    // Practical tasks not signed off yet, per course.
    let signed: HashSet<(i64, String, String)> = if ids.is_empty() {
        HashSet::new()
    } else {
        task_signoff::Entity::find()
            .filter(task_signoff::Column::UserId.is_in(ids.iter().copied()))
            .all(&state.db)
            .await?
            .into_iter()
            .map(|s| (s.user_id, s.course_slug, s.task_slug))
            .collect()
    };
    let mut waiting: BTreeMap<String, (usize, Vec<i64>)> = BTreeMap::new();
    for e in &open {
        let Some(info) = state.content.published(&state.db, &e.course_slug).await? else {
            continue;
        };
        let left = info
            .tasks
            .iter()
            .filter(|t| !signed.contains(&(e.user_id, e.course_slug.clone(), t.slug.clone())))
            .count();
        if left > 0 {
            let w = waiting.entry(e.course_slug.clone()).or_default();
            w.0 += left;
            w.1.push(e.user_id);
        }
    }
    let waiting: Vec<_> = waiting
        .into_iter()
        .map(|(slug, (n, learners))| {
            let course = title_of(&titles, &slug);
            json!({"text": tr(&state, lang, "teach.waiting_n")
                        .replace("{course}", &course)
                        .replace("{n}", &n.to_string())
                        .replace("{m}", &learners.len().to_string()),
                   "link": format!("/teach/signoff?user={}&course={slug}", learners[0])})
        })
        .collect();

    // Who studied lately, and who has stalled.
    let act = activity(&state, &ids).await?;
    let people: HashMap<i64, String> = if ids.is_empty() {
        HashMap::new()
    } else {
        app_user::Entity::find()
            .filter(app_user::Column::Id.is_in(ids.iter().copied()))
            .all(&state.db)
            .await?
            .into_iter()
            .map(|u| (u.id, u.display_name))
            .collect()
    };
    let mut recent: Vec<(i64, DateTime<Utc>)> = act
        .last
        .iter()
        .filter(|(_, at)| days_since(**at, now) < 7)
        .map(|(u, at)| (*u, *at))
        .collect();
    recent.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let recent: Vec<_> = recent
        .into_iter()
        .take(5)
        .map(|(u, at)| {
            json!({"id": u, "name": people.get(&u), "when": ago(&state, lang, days_since(at, now))})
        })
        .collect();
    let mut stalled: Vec<(i64, Option<DateTime<Utc>>, DateTime<Utc>)> = Vec::new();
    for e in open.iter().filter(|e| e.state == "enrolled") {
        if stalled.iter().any(|s| s.0 == e.user_id) {
            continue;
        }
        let last = act.last.get(&e.user_id).copied();
        let since = last.unwrap_or(e.enrolled_at);
        if days_since(since, now) >= STALLED_DAYS {
            stalled.push((e.user_id, last, since));
        }
    }
    stalled.sort_by(|a, b| a.2.cmp(&b.2).then(a.0.cmp(&b.0)));
    let stalled_total = stalled.len();
    let stalled: Vec<_> = stalled
        .into_iter()
        .take(5)
        .map(|(u, last, since)| {
            let why = match last {
                Some(_) => tr(&state, lang, "teach.stalled_since")
                    .replace("{days}", &days_since(since, now).to_string()),
                None => tr(&state, lang, "teach.never_started"),
            };
            json!({"id": u, "name": people.get(&u), "why": why})
        })
        .collect();
    Page::new(&state, lang, Some(&user), "teach.home")
        .set("classes", classes)
        .set("waiting", waiting)
        .set("recent", recent)
        .set("stalled", stalled)
        .set("stalled_more", stalled_total > 5)
        .set("learners", ids.len())
        .render(&state, "pages/teach_home")
}
