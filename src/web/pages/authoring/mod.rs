//! Trainer authoring pages under `/teach/courses`: the course list, a new
//! course, the course page (metadata, lessons in order, quizzes, tasks, the
//! checker's problems, publish and archive), and the lesson, quiz and task
//! editors. Thin: parse the form, call `catalog::authoring`, render. Bad
//! input re-renders the form (422) with each field's problem.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

mod forms;
mod lessons;
mod problems;
mod quizzes;

pub use lessons::{lesson_add, lesson_edit, lesson_move, lesson_save};
pub use quizzes::{quiz_edit, quiz_save, tasks_edit, tasks_save};

use self::forms::{CHOICE_IDS, Errors, Fields};
use self::problems::problems_view;
use super::{Page, redirect};
use crate::app::AppContext;
use crate::catalog::authoring::{self, Working};
use crate::courses::edit::{self, Meta};
use crate::courses::{Course, Problem, QuestionKind, Text, render_markdown};
use crate::error::{AppError, AppResult};
use crate::learning::content::text;
use crate::policy::Action;
use crate::web::extract::{CurrentUser, Locale};

type State = web::Data<AppContext>;

fn tr(state: &AppContext, lang: &str, key: &str) -> String {
    state.views.tr(lang, key)
}

fn errors_view(state: &AppContext, lang: &str, errors: &Errors) -> Value {
    let mut m = serde_json::Map::new();
    for (k, v) in errors {
        m.insert(k.clone(), json!(tr(state, lang, v)));
    }
    Value::Object(m)
}

/// A localized text in the page language, else the course's first language.
fn pick(t: &Text, lang: &str, c: &Course) -> String {
    t.get(lang)
        .or_else(|| t.get(c.default_language()))
        .or_else(|| t.values().next())
        .cloned()
        .unwrap_or_default()
}

fn status_view(state: &AppContext, lang: &str, w: &Working) -> Value {
    let mut parts = Vec::new();
    if let Some(v) = w.published {
        parts.push(tr(state, lang, "author.state.published").replace("{v}", &v.to_string()));
    } else if w.archived {
        parts.push(tr(state, lang, "author.state.archived"));
    } else {
        parts.push(tr(state, lang, "author.state.unpublished"));
    }
    if w.is_draft {
        parts.push(tr(state, lang, "author.state.draft"));
    }
    json!(parts.join(" · "))
}

pub async fn courses_list(
    state: State,
    locale: Locale,
    user: CurrentUser,
    q: web::Query<Flash>,
) -> AppResult<HttpResponse> {
    let items = authoring::list(&state.db, &user.actor).await?;
    let lang = locale.0;
    let items: Vec<Value> = items
        .iter()
        .map(|s| {
            let def = s.languages.split(',').next().unwrap_or("zh-CN");
            let mut state_text = match (s.published, s.archived) {
                (Some(v), _) => {
                    tr(&state, lang, "author.state.published").replace("{v}", &v.to_string())
                }
                (None, true) => tr(&state, lang, "author.state.archived"),
                (None, false) => tr(&state, lang, "author.state.unpublished"),
            };
            if s.has_draft {
                state_text = format!("{state_text} · {}", tr(&state, lang, "author.state.draft"));
            }
            json!({"slug": s.slug, "title": text(&s.title_json, lang, def), "state": state_text})
        })
        .collect();
    Page::new(&state, lang, Some(&user), "author.title")
        .set("items", items)
        .set(
            "flash",
            q.archived
                .as_ref()
                .map(|_| tr(&state, lang, "author.archived")),
        )
        .render(&state, "pages/teach_courses")
}

async fn competence_options(state: &AppContext, lang: &str) -> AppResult<Vec<Value>> {
    let skills = authoring::skills(&state.db).await?;
    Ok(skills
        .competences
        .iter()
        .map(|c| {
            let title = c
                .title
                .get(lang)
                .or_else(|| c.title.get("zh-CN"))
                .cloned()
                .unwrap_or_default();
            json!({"code": c.code, "title": title})
        })
        .collect())
}

async fn known_competences(state: &AppContext) -> AppResult<Vec<String>> {
    Ok(authoring::skills(&state.db)
        .await?
        .competences
        .into_iter()
        .map(|c| c.code)
        .collect())
}

pub async fn course_new(
    state: State,
    locale: Locale,
    user: CurrentUser,
) -> AppResult<HttpResponse> {
    user.actor.require(Action::AuthorCourses)?;
    let options = competence_options(&state, locale.0).await?;
    let v = json!({"category": "it", "level": "1", "pass_mark": "80", "hours": "2"});
    Page::new(&state, locale.0, Some(&user), "author.new")
        .set(
            "form",
            meta_form(&state, locale.0, &v, &Errors::new(), &options),
        )
        .set("errors", json!({}))
        .render(&state, "pages/teach_course_new")
}

pub async fn course_create(
    state: State,
    locale: Locale,
    user: CurrentUser,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    user.actor.require(Action::AuthorCourses)?;
    let f = Fields::parse(&body);
    let known = known_competences(&state).await?;
    let mut errors = Errors::new();
    let slug = forms::course_slug(&f, &mut errors);
    let result = match forms::meta(&f, &known) {
        Ok(m) if errors.is_empty() => {
            let c = edit::new_course(&slug, &m);
            match authoring::create(&state.db, &user.actor, &c).await {
                Ok(()) => return Ok(redirect(&format!("/teach/courses/{slug}"))),
                Err(AppError::Validation { fields, .. }) => fields,
                Err(e) => return Err(e),
            }
        }
        Ok(_) => errors,
        Err(mut more) => {
            more.append(&mut errors);
            more
        }
    };
    let options = competence_options(&state, locale.0).await?;
    Page::new(&state, locale.0, Some(&user), "author.new")
        .set(
            "form",
            meta_form(&state, locale.0, &f.values(), &result, &options),
        )
        .set("errors", errors_view(&state, locale.0, &result))
        .render_status(
            &state,
            "pages/teach_course_new",
            StatusCode::UNPROCESSABLE_ENTITY,
        )
}

#[derive(Deserialize)]
pub struct Flash {
    saved: Option<String>,
    published: Option<String>,
    archived: Option<String>,
}

/// The course-details form, complete (strict templates), from values as sent.
fn meta_form(
    state: &AppContext,
    lang: &str,
    v: &Value,
    errors: &Errors,
    options: &[Value],
) -> Value {
    let get = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let chosen: Vec<String> = match v.get("competence") {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => vec![],
    };
    let err = |k: &str| errors.get(k).map(|m| tr(state, lang, m));
    let langs: Vec<Value> = ["zh-CN", "en"]
        .iter()
        .map(|code| {
            json!({"code": code, "name": tr(state, lang, &format!("lang.{code}")),
                "title": get(&format!("title.{code}")), "summary": get(&format!("summary.{code}")),
                "title_err": err(&format!("title.{code}")), "summary_err": err(&format!("summary.{code}"))})
        })
        .collect();
    let competences: Vec<Value> = options
        .iter()
        .map(|o| {
            let code = o["code"].as_str().unwrap_or_default();
            json!({"code": code, "title": o["title"], "checked": chosen.iter().any(|c| c == code)})
        })
        .collect();
    json!({"slug": get("slug"), "category": get("category"), "level": get("level"),
        "pass_mark": get("pass_mark"), "hours": get("hours"), "lang_en": !get("lang_en").is_empty(),
        "langs": langs, "competences": competences,
        "lesson_slug": get("lesson_slug"), "lesson_title": get("lesson_title")})
}

fn meta_values(c: &Course) -> Value {
    let mut v = json!({
        "category": c.category, "level": c.level.to_string(), "pass_mark": c.pass_mark.to_string(),
        "hours": c.hours.to_string(), "lang_en": if c.languages.iter().any(|l| l == "en") { "1" } else { "" },
        "competence": c.competences,
    });
    for (k, t) in [("title", &c.title), ("summary", &c.summary)] {
        for (lang, s) in t {
            v[format!("{k}.{lang}")] = json!(s);
        }
    }
    v
}

/// The course page, with the form values and errors to show.
#[allow(clippy::too_many_arguments)]
async fn course_page(
    state: &AppContext,
    lang: &str,
    user: &CurrentUser,
    w: &Working,
    values: Value,
    errors: &Errors,
    flash: Option<String>,
    status: StatusCode,
) -> AppResult<HttpResponse> {
    let c = &w.course;
    let problems = authoring::check(&state.db, c).await?;
    let lessons: Vec<Value> = c
        .lessons
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let title = l
                .texts
                .get(lang)
                .or_else(|| l.texts.get(c.default_language()))
                .or_else(|| l.texts.values().next())
                .map(|t| t.title.clone())
                .unwrap_or_default();
            let check = l.stem();
            json!({"slug": l.slug, "number": l.number, "title": title, "first": i == 0,
                   "last": i + 1 == c.lessons.len(), "check": check,
                   "has_check": c.quizzes.iter().any(|q| q.slug == check)})
        })
        .collect();
    let options = competence_options(state, lang).await?;
    Page::new(state, lang, Some(user), "author.edit")
        .set(
            "course",
            json!({"slug": c.slug, "title": pick(&c.title, lang, c), "version": w.row.version}),
        )
        .set("state", status_view(state, lang, w))
        .set("form", meta_form(state, lang, &values, errors, &options))
        .set("errors", errors_view(state, lang, errors))
        .set("lessons", lessons)
        .set("problems", problems_view(state, lang, c, &problems))
        .set("can_publish", problems.is_empty())
        .set("flash", flash)
        .render_status(state, "pages/teach_course", status)
}

pub async fn course_edit(
    state: State,
    locale: Locale,
    user: CurrentUser,
    path: web::Path<String>,
    q: web::Query<Flash>,
) -> AppResult<HttpResponse> {
    let w = authoring::working(&state.db, &user.actor, &path).await?;
    let lang = locale.0;
    let flash = if let Some(v) = &q.published {
        Some(tr(&state, lang, "author.published").replace("{v}", v))
    } else {
        q.saved.as_ref().map(|_| tr(&state, lang, "author.saved"))
    };
    course_page(
        &state,
        lang,
        &user,
        &w,
        meta_values(&w.course),
        &Errors::new(),
        flash,
        StatusCode::OK,
    )
    .await
}

pub async fn course_update(
    state: State,
    locale: Locale,
    user: CurrentUser,
    path: web::Path<String>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let slug = path.into_inner();
    authoring::authorize(&state.db, &user.actor, &slug).await?;
    let f = Fields::parse(&body);
    let known = known_competences(&state).await?;
    match forms::meta(&f, &known) {
        Ok(m) => {
            let m: Meta = m;
            authoring::edit(&state.db, &user.actor, &slug, "course", |c| {
                edit::set_meta(c, &m);
                true
            })
            .await?;
            Ok(redirect(&format!("/teach/courses/{slug}?saved=1")))
        }
        Err(errors) => {
            let w = authoring::working(&state.db, &user.actor, &slug).await?;
            course_page(
                &state,
                locale.0,
                &user,
                &w,
                f.values(),
                &errors,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

pub async fn publish(
    state: State,
    locale: Locale,
    user: CurrentUser,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let slug = path.into_inner();
    match authoring::publish(&state.db, &state.content, &user.actor, &slug).await? {
        Ok(outcome) => {
            let v = match outcome {
                crate::catalog::store::Outcome::Unchanged { version }
                | crate::catalog::store::Outcome::Published { version }
                | crate::catalog::store::Outcome::Draft { version } => version,
            };
            Ok(redirect(&format!("/teach/courses/{slug}?published={v}")))
        }
        Err(_) => {
            let w = authoring::working(&state.db, &user.actor, &slug).await?;
            let flash = Some(tr(&state, locale.0, "author.not_published"));
            course_page(
                &state,
                locale.0,
                &user,
                &w,
                meta_values(&w.course),
                &Errors::new(),
                flash,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

pub async fn archive_confirm(
    state: State,
    locale: Locale,
    user: CurrentUser,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let w = authoring::working(&state.db, &user.actor, &path).await?;
    let c = &w.course;
    Page::new(&state, locale.0, Some(&user), "author.archive")
        .set(
            "course",
            json!({"slug": c.slug, "title": pick(&c.title, locale.0, c)}),
        )
        .render(&state, "pages/teach_archive")
}

/// Archives only with the confirmation field; otherwise asks first.
pub async fn archive(
    state: State,
    user: CurrentUser,
    path: web::Path<String>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let slug = path.into_inner();
    authoring::authorize(&state.db, &user.actor, &slug).await?;
    if Fields::parse(&body).get("confirm") != "yes" {
        return Ok(redirect(&format!("/teach/courses/{slug}/archive")));
    }
    authoring::archive(&state.db, &state.content, &user.actor, &slug).await?;
    Ok(redirect(&format!("/teach/courses?archived={slug}")))
}
