//! Trainer pages: enroll learners of the area (one by one or as a cohort),
//! sign off practical tasks (one learner, or a class at once), and run
//! classes with a phone-sized roster and printable login slips.

mod bulk;
mod home;
mod learners;
mod roster;
mod slips;

pub use bulk::{class_page as bulk_class, course_page as bulk_course, submit as bulk_submit};
pub use home::home;
pub use learners::{enroll_cohort, learners, learners_post};
pub use roster::{roster, roster_save};
pub use slips::slips;

use std::collections::{BTreeMap, HashMap, HashSet};

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Deserialize;
use serde_json::json;

use super::{Page, redirect};
use crate::accounts::users;
use crate::app::AppContext;
use crate::catalog::view::list_courses;
use crate::entities::enrollment::EnrollmentState;
use crate::entities::lesson_progress::LessonState;
use crate::entities::{area, class_session, enrollment, lesson_progress, task_signoff};
use crate::error::AppResult;
use crate::learning::content::text;
use crate::learning::{classes, tasks};
use crate::policy::Action;
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
    let rows: Vec<(i64, String, LessonState, DateTime<Utc>)> = lesson_progress::Entity::find()
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
        if st == LessonState::Finished {
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
        .filter(enrollment::Column::State.ne(EnrollmentState::Withdrawn))
        .order_by_asc(enrollment::Column::Id)
        .all(&state.db)
        .await?;
    let act = activity(state, ids).await?;
    let titles = course_titles(state, lang).await?;
    let totals = lesson_counts(state, enrolled.iter().map(|e| e.course_slug.clone())).await?;
    for e in enrolled {
        let course = title_of(&titles, &e.course_slug);
        let line = if e.state == EnrollmentState::Completed {
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

/// The townships and villages of the user's area (a class's place, a
/// learner's village), each village grouped under its township, `selected`
/// chosen (two queries at most).
pub async fn area_groups(
    state: &AppContext,
    lang: &str,
    user: &CurrentUser,
    selected: Option<&str>,
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
    let own = selected;
    let mut groups: BTreeMap<String, Vec<serde_json::Value>> = BTreeMap::new();
    for (code, name) in &townships {
        let whole = tr(state, lang, "teach.whole_township").replace("{name}", name);
        groups
            .entry(code.clone())
            .or_default()
            .push(json!({"code": code, "name": whole, "selected": own == Some(code.as_str())}));
    }
    for a in rows.iter().filter(|a| a.level == "village") {
        let parent = a.parent_code.clone().unwrap_or_default();
        groups.entry(parent).or_default().push(
            json!({"code": a.code, "name": a.name, "selected": own == Some(a.code.as_str())}),
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
        .filter(enrollment::Column::State.ne(EnrollmentState::Withdrawn))
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
    tasks::sign_off(&state.db, &state.content, &user.actor, &s).await?;
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
        .set(
            "areas",
            area_groups(
                &state,
                lang,
                &user,
                user.actor.area.as_ref().map(|a| a.as_str()),
            )
            .await?,
        )
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
