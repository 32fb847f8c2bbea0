//! Trainer authoring pages under `/teach/courses`: the course list, a new
//! course, the course page (metadata, lessons in order, quizzes, tasks, the
//! checker's problems, publish and archive), and the lesson, quiz and task
//! editors. Thin: parse the form, call `catalog::authoring`, render. Bad
//! input re-renders the form (422) with each field's problem.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::authoring_form::{self as form, CHOICE_IDS, Errors, Fields};
use super::{Page, redirect};
use crate::catalog::authoring::{self, Working};
use crate::courses::edit::{self, Meta};
use crate::courses::{Course, Problem, QuestionKind, Text, render_markdown};
use crate::error::{AppError, AppResult};
use crate::learning::content::text;
use crate::policy::Action;
use crate::web::AppState;
use crate::web::extract::{CurrentUser, Locale};

type State = web::Data<AppState>;

fn tr(state: &AppState, lang: &str, key: &str) -> String {
    state.views.tr(lang, key)
}

fn errors_view(state: &AppState, lang: &str, errors: &Errors) -> Value {
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

/// Where in the course a checker problem sits, for a trainer who never sees files.
fn problems_view(state: &AppState, lang: &str, c: &Course, problems: &[Problem]) -> Vec<Value> {
    let base = format!("/teach/courses/{}", c.slug);
    problems
        .iter()
        .map(|p| {
            let file = p.file.as_str();
            let (part, link) = if let Some(name) = file.strip_prefix("lessons/") {
                let stem = name.split('.').next().unwrap_or(name);
                let slug = stem.split_once('-').map_or(stem, |(_, s)| s);
                let lang_of = name.split('.').nth(1).unwrap_or("");
                (
                    format!(
                        "{} {stem} ({lang_of})",
                        tr(state, lang, "author.part.lesson")
                    ),
                    format!("{base}/lessons/{slug}"),
                )
            } else if let Some(name) = file.strip_prefix("quizzes/") {
                let stem = name.trim_end_matches(".toml");
                let part = match stem {
                    "pre" => tr(state, lang, "author.quiz.pre"),
                    "post" => tr(state, lang, "author.quiz.post"),
                    _ => format!("{} {stem}", tr(state, lang, "author.quiz.check")),
                };
                (part, format!("{base}/quizzes/{stem}"))
            } else if file.starts_with("media/") {
                (
                    format!("{} {file}", tr(state, lang, "author.part.media")),
                    base.clone(),
                )
            } else if file == "tasks.toml" {
                (tr(state, lang, "author.tasks"), format!("{base}/tasks"))
            } else if file == "lessons" {
                (tr(state, lang, "author.lessons"), base.clone())
            } else {
                (tr(state, lang, "author.part.course"), base.clone())
            };
            json!({"part": part, "link": link, "message": p.message})
        })
        .collect()
}

fn status_view(state: &AppState, lang: &str, w: &Working) -> Value {
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

async fn competence_options(state: &AppState, lang: &str) -> AppResult<Vec<Value>> {
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

async fn known_competences(state: &AppState) -> AppResult<Vec<String>> {
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
    let slug = form::course_slug(&f, &mut errors);
    let result = match form::meta(&f, &known) {
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
fn meta_form(state: &AppState, lang: &str, v: &Value, errors: &Errors, options: &[Value]) -> Value {
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
    state: &AppState,
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
    match form::meta(&f, &known) {
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

pub async fn lesson_add(
    state: State,
    locale: Locale,
    user: CurrentUser,
    path: web::Path<String>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let slug = path.into_inner();
    let w = authoring::working(&state.db, &user.actor, &slug).await?;
    let f = Fields::parse(&body);
    let taken: Vec<String> = w.course.lessons.iter().map(|l| l.slug.clone()).collect();
    let mut result = form::new_lesson(&f, &taken);
    if w.course.lessons.len() >= 99 {
        result = Err(Errors::from([(
            "lesson_slug".to_string(),
            "author.err.too_many".to_string(),
        )]));
    }
    match result {
        Ok((lesson, title)) => {
            authoring::edit(&state.db, &user.actor, &slug, "lesson added", |c| {
                edit::add_lesson(c, &lesson, &title);
                true
            })
            .await?;
            Ok(redirect(&format!("/teach/courses/{slug}/lessons/{lesson}")))
        }
        Err(errors) => {
            let mut v = meta_values(&w.course);
            v["lesson_slug"] = json!(f.get("lesson_slug"));
            v["lesson_title"] = json!(f.get("lesson_title"));
            course_page(
                &state,
                locale.0,
                &user,
                &w,
                v,
                &errors,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

pub async fn lesson_move(
    state: State,
    user: CurrentUser,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let (slug, lesson) = path.into_inner();
    let up = Fields::parse(&body).get("dir") == "up";
    authoring::edit(&state.db, &user.actor, &slug, "lesson moved", |c| {
        c.lessons.iter().any(|l| l.slug == lesson) && {
            edit::move_lesson(c, &lesson, up);
            true
        }
    })
    .await?;
    Ok(redirect(&format!("/teach/courses/{slug}")))
}

fn lesson_values(c: &Course, slug: &str) -> Option<Value> {
    let l = c.lessons.iter().find(|l| l.slug == slug)?;
    let first = l
        .texts
        .get(c.default_language())
        .or_else(|| l.texts.values().next());
    let mut v = json!({
        "minutes": first.map_or(5, |t| t.minutes).to_string(),
        "competence": first.map(|t| t.competences.clone()).unwrap_or_default(),
    });
    for (lang, t) in &l.texts {
        v[format!("title.{lang}")] = json!(t.title);
        v[format!("body.{lang}")] = json!(t.body_md);
    }
    Some(v)
}

#[allow(clippy::too_many_arguments)]
async fn lesson_page(
    state: &AppState,
    lang: &str,
    user: &CurrentUser,
    w: &Working,
    lesson: &str,
    values: Value,
    errors: &Errors,
    preview: Option<Vec<Value>>,
    flash: Option<String>,
    status: StatusCode,
) -> AppResult<HttpResponse> {
    let c = &w.course;
    let l = c
        .lessons
        .iter()
        .find(|l| l.slug == lesson)
        .ok_or(AppError::NotFound)?;
    let stem = l.stem();
    let problems: Vec<Problem> = authoring::check(&state.db, c)
        .await?
        .into_iter()
        .filter(|p| p.file.starts_with(&format!("lessons/{stem}.")))
        .collect();
    let langs: Vec<Value> = c
        .languages
        .iter()
        .map(|code| {
            json!({"code": code, "title": values.get(format!("title.{code}")).cloned().unwrap_or(json!("")),
                   "body": values.get(format!("body.{code}")).cloned().unwrap_or(json!("")),
                   "name": tr(state, lang, &format!("lang.{code}")),
                   "title_err": errors.get(&format!("title.{code}")).map(|m| tr(state, lang, m))})
        })
        .collect();
    let chosen: Vec<String> = match values.get("competence") {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => vec![],
    };
    let competences: Vec<Value> = competence_options(state, lang)
        .await?
        .into_iter()
        .filter(|o| {
            c.competences
                .iter()
                .any(|x| Some(x.as_str()) == o["code"].as_str())
        })
        .map(|mut o| {
            o["checked"] = json!(
                chosen
                    .iter()
                    .any(|x| Some(x.as_str()) == o["code"].as_str())
            );
            o
        })
        .collect();
    let minutes = values
        .get("minutes")
        .and_then(Value::as_str)
        .unwrap_or("5")
        .to_string();
    Page::new(state, lang, Some(user), "author.lesson")
        .set(
            "course",
            json!({"slug": c.slug, "title": pick(&c.title, lang, c)}),
        )
        .set("lesson", json!({"slug": l.slug, "stem": stem}))
        .set("langs", langs)
        .set("minutes", minutes)
        .set("errors", errors_view(state, lang, errors))
        .set("competences", competences)
        .set("preview", preview)
        .set("problems", problems_view(state, lang, c, &problems))
        .set("flash", flash)
        .render_status(state, "pages/teach_lesson", status)
}

pub async fn lesson_edit(
    state: State,
    locale: Locale,
    user: CurrentUser,
    path: web::Path<(String, String)>,
    q: web::Query<Flash>,
) -> AppResult<HttpResponse> {
    let (slug, lesson) = path.into_inner();
    let w = authoring::working(&state.db, &user.actor, &slug).await?;
    let values = lesson_values(&w.course, &lesson).ok_or(AppError::NotFound)?;
    let flash = q
        .saved
        .as_ref()
        .map(|_| tr(&state, locale.0, "author.saved"));
    lesson_page(
        &state,
        locale.0,
        &user,
        &w,
        &lesson,
        values,
        &Errors::new(),
        None,
        flash,
        StatusCode::OK,
    )
    .await
}

/// Saves a lesson, or (the preview button) shows it rendered without saving.
pub async fn lesson_save(
    state: State,
    locale: Locale,
    user: CurrentUser,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let (slug, lesson) = path.into_inner();
    let w = authoring::working(&state.db, &user.actor, &slug).await?;
    if !w.course.lessons.iter().any(|l| l.slug == lesson) {
        return Err(AppError::NotFound);
    }
    let f = Fields::parse(&body);
    let langs = w.course.languages.clone();
    if f.get("action") == "preview" {
        let prefix = format!("/c/{slug}/{}", w.row.version);
        let preview: Vec<Value> = langs
            .iter()
            .map(|code| {
                json!({"name": tr(&state, locale.0, &format!("lang.{code}")), "title": f.get(&format!("title.{code}")),
                       "html": render_markdown(&f.raw(&format!("body.{code}")), &prefix)})
            })
            .collect();
        return lesson_page(
            &state,
            locale.0,
            &user,
            &w,
            &lesson,
            f.values(),
            &Errors::new(),
            Some(preview),
            None,
            StatusCode::OK,
        )
        .await;
    }
    match form::lesson(&f, &langs, &w.course.competences) {
        Ok(e) => {
            authoring::edit(&state.db, &user.actor, &slug, "lesson", |c| {
                edit::set_lesson(c, &lesson, &e)
            })
            .await?;
            Ok(redirect(&format!(
                "/teach/courses/{slug}/lessons/{lesson}?saved=1"
            )))
        }
        Err(errors) => {
            lesson_page(
                &state,
                locale.0,
                &user,
                &w,
                &lesson,
                f.values(),
                &errors,
                None,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

/// Whether `quiz` names a quiz this course has or may have.
fn quiz_exists(c: &Course, quiz: &str) -> bool {
    quiz == "pre"
        || quiz == "post"
        || c.quizzes.iter().any(|q| q.slug == quiz)
        || c.lessons.iter().any(|l| l.stem() == quiz)
}

fn question_values(q: &crate::courses::Question) -> Value {
    let mut v = json!({"id": q.id, "kind": q.kind.as_str(), "competence": q.competence,
        "points": q.points.to_string(), "correct": q.answer, "truth": q.answer.first().cloned().unwrap_or_default()});
    for (k, t) in [("prompt", &q.prompt), ("explain", &q.explain)] {
        for (lang, s) in t {
            v[format!("{k}.{lang}")] = json!(s);
        }
    }
    for c in &q.choices {
        for (lang, s) in &c.text {
            v[format!("choice.{}.{lang}", c.id)] = json!(s);
        }
    }
    v
}

/// Competence options with the chosen one marked.
fn selected(options: &[Value], code: &str) -> Vec<Value> {
    options
        .iter()
        .map(|o| {
            let mut o = o.clone();
            o["selected"] = json!(o["code"].as_str() == Some(code));
            o
        })
        .collect()
}

/// One question form's data; `v` holds its values.
fn question_form(
    state: &AppState,
    lang: &str,
    c: &Course,
    v: &Value,
    errors: &Errors,
    editable: bool,
    options: &[Value],
) -> Value {
    let get = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let options = selected(options, &get("competence"));
    let correct: Vec<String> = match v.get("correct") {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => vec![],
    };
    let langs: Vec<Value> = c.languages.iter().map(|code| json!({
        "code": code, "name": tr(state, lang, &format!("lang.{code}")),
        "prompt": get(&format!("prompt.{code}")), "explain": get(&format!("explain.{code}")),
        "prompt_err": errors.get(&format!("prompt.{code}")).map(|m| tr(state, lang, m)),
        "explain_err": errors.get(&format!("explain.{code}")).map(|m| tr(state, lang, m)),
    })).collect();
    let choices: Vec<Value> = CHOICE_IDS.iter().map(|id| json!({
        "id": id, "correct": correct.iter().any(|x| x == id),
        "texts": c.languages.iter().map(|code| json!({"code": code, "name": tr(state, lang, &format!("lang.{code}")),
            "text": get(&format!("choice.{id}.{code}")), "field": format!("choice.{id}.{code}"),
            "err": errors.get(&format!("choice.{id}.{code}")).map(|m| tr(state, lang, m))})).collect::<Vec<_>>(),
    })).collect();
    let kind = get("kind");
    let kind_is = |k: &str, want: &str| k == want || (k.is_empty() && want == "single");
    json!({"id": get("id"), "kind": if kind.is_empty() { "single".to_string() } else { kind },
        "competence": get("competence"), "points": if get("points").is_empty() { "1".to_string() } else { get("points") },
        "truth": get("truth"), "langs": langs, "choices": choices, "editable": editable, "options": options,
        "single": kind_is(&get("kind"), "single"), "multiple": kind_is(&get("kind"), "multiple"), "true_false": kind_is(&get("kind"), "true_false"),
        "errors": errors_view(state, lang, errors), "has_errors": !errors.is_empty()})
}

#[allow(clippy::too_many_arguments)]
async fn quiz_page(
    state: &AppState,
    lang: &str,
    user: &CurrentUser,
    w: &Working,
    quiz: &str,
    failed: Option<(&str, Value, &Errors)>,
    flash: Option<String>,
    status: StatusCode,
) -> AppResult<HttpResponse> {
    let c = &w.course;
    let competences: Vec<Value> = competence_options(state, lang)
        .await?
        .into_iter()
        .filter(|o| {
            c.competences
                .iter()
                .any(|x| Some(x.as_str()) == o["code"].as_str())
        })
        .collect();
    let questions = c
        .quizzes
        .iter()
        .find(|q| q.slug == quiz)
        .map(|q| q.questions.clone())
        .unwrap_or_default();
    let none = Errors::new();
    let mut forms: Vec<Value> = questions
        .iter()
        .map(|q| {
            let editable = !matches!(q.kind, QuestionKind::Order | QuestionKind::Number);
            match &failed {
                Some((id, v, e)) if *id == q.id => {
                    question_form(state, lang, c, v, e, editable, &competences)
                }
                _ => question_form(
                    state,
                    lang,
                    c,
                    &question_values(q),
                    &none,
                    editable,
                    &competences,
                ),
            }
        })
        .collect();
    for (f, q) in forms.iter_mut().zip(&questions) {
        f["title"] = json!(pick(&q.prompt, lang, c));
    }
    let blank = json!({"competence": c.competences.first().cloned().unwrap_or_default()});
    let new_form = match &failed {
        Some(("", v, e)) => question_form(state, lang, c, v, e, true, &competences),
        _ => question_form(state, lang, c, &blank, &none, true, &competences),
    };
    let name = match quiz {
        "pre" => tr(state, lang, "author.quiz.pre"),
        "post" => tr(state, lang, "author.quiz.post"),
        other => format!("{} {other}", tr(state, lang, "author.quiz.check")),
    };
    let problems: Vec<Problem> = authoring::check(&state.db, c)
        .await?
        .into_iter()
        .filter(|p| p.file == format!("quizzes/{quiz}.toml"))
        .collect();
    Page::new(state, lang, Some(user), "author.quiz")
        .set(
            "course",
            json!({"slug": c.slug, "title": pick(&c.title, lang, c)}),
        )
        .set("quiz", json!({"slug": quiz, "name": name}))
        .set("questions", forms)
        .set("new_question", new_form)
        .set("problems", problems_view(state, lang, c, &problems))
        .set("flash", flash)
        .render_status(state, "pages/teach_quiz", status)
}

pub async fn quiz_edit(
    state: State,
    locale: Locale,
    user: CurrentUser,
    path: web::Path<(String, String)>,
    q: web::Query<Flash>,
) -> AppResult<HttpResponse> {
    let (slug, quiz) = path.into_inner();
    let w = authoring::working(&state.db, &user.actor, &slug).await?;
    if !quiz_exists(&w.course, &quiz) {
        return Err(AppError::NotFound);
    }
    let flash = q
        .saved
        .as_ref()
        .map(|_| tr(&state, locale.0, "author.saved"));
    quiz_page(
        &state,
        locale.0,
        &user,
        &w,
        &quiz,
        None,
        flash,
        StatusCode::OK,
    )
    .await
}

/// Saves (or, with `action=delete`, deletes) one question.
pub async fn quiz_save(
    state: State,
    locale: Locale,
    user: CurrentUser,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let (slug, quiz) = path.into_inner();
    let w = authoring::working(&state.db, &user.actor, &slug).await?;
    if !quiz_exists(&w.course, &quiz) {
        return Err(AppError::NotFound);
    }
    let f = Fields::parse(&body);
    let id = f.get("id");
    let done = format!("/teach/courses/{slug}/quizzes/{quiz}?saved=1");
    if f.get("action") == "delete" {
        authoring::edit(&state.db, &user.actor, &slug, "question deleted", |c| {
            edit::quiz_mut(c, &quiz).is_some_and(|q| edit::delete_question(q, &id))
        })
        .await?;
        return Ok(redirect(&done));
    }
    let existing = w.course.quizzes.iter().find(|q| q.slug == quiz);
    if !id.is_empty() && !existing.is_some_and(|q| q.questions.iter().any(|x| x.id == id)) {
        return Err(AppError::NotFound);
    }
    let new_id = if id.is_empty() {
        existing.map_or_else(|| "q1".to_string(), edit::next_question_id)
    } else {
        id.clone()
    };
    match form::question(&f, new_id, &w.course.languages, &w.course.competences) {
        Ok(question) => {
            authoring::edit(&state.db, &user.actor, &slug, "question", |c| {
                edit::quiz_mut(c, &quiz).is_some_and(|q| {
                    edit::upsert_question(q, question);
                    true
                })
            })
            .await?;
            Ok(redirect(&done))
        }
        Err(errors) => {
            quiz_page(
                &state,
                locale.0,
                &user,
                &w,
                &quiz,
                Some((id.as_str(), f.values(), &errors)),
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

fn task_form(
    state: &AppState,
    lang: &str,
    c: &Course,
    v: &Value,
    errors: &Errors,
    is_new: bool,
    options: &[Value],
) -> Value {
    let get = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let options = selected(options, &get("competence"));
    let langs: Vec<Value> = c.languages.iter().map(|code| json!({
        "code": code, "name": tr(state, lang, &format!("lang.{code}")),
        "title": get(&format!("title.{code}")), "evidence": get(&format!("evidence.{code}")),
        "title_err": errors.get(&format!("title.{code}")).map(|m| tr(state, lang, m)),
        "evidence_err": errors.get(&format!("evidence.{code}")).map(|m| tr(state, lang, m)),
    })).collect();
    json!({"id": get("id"), "competence": get("competence"), "required": !get("required").is_empty(),
        "langs": langs, "is_new": is_new, "options": options, "errors": errors_view(state, lang, errors), "has_errors": !errors.is_empty()})
}

fn task_values(t: &crate::courses::Task) -> Value {
    let mut v = json!({"id": t.id, "competence": t.competence, "required": if t.required { "1" } else { "" }});
    for (k, x) in [("title", &t.title), ("evidence", &t.evidence)] {
        for (lang, s) in x {
            v[format!("{k}.{lang}")] = json!(s);
        }
    }
    v
}

async fn tasks_page(
    state: &AppState,
    lang: &str,
    user: &CurrentUser,
    w: &Working,
    failed: Option<(bool, Value, &Errors)>,
    flash: Option<String>,
    status: StatusCode,
) -> AppResult<HttpResponse> {
    let c = &w.course;
    let none = Errors::new();
    let competences: Vec<Value> = competence_options(state, lang)
        .await?
        .into_iter()
        .filter(|o| {
            c.competences
                .iter()
                .any(|x| Some(x.as_str()) == o["code"].as_str())
        })
        .collect();
    let forms: Vec<Value> = c
        .tasks
        .iter()
        .map(|t| match &failed {
            Some((false, v, e)) if v.get("id").and_then(Value::as_str) == Some(t.id.as_str()) => {
                task_form(state, lang, c, v, e, false, &competences)
            }
            _ => task_form(state, lang, c, &task_values(t), &none, false, &competences),
        })
        .collect();
    let blank =
        json!({"competence": c.competences.first().cloned().unwrap_or_default(), "required": "1"});
    let new_form = match &failed {
        Some((true, v, e)) => task_form(state, lang, c, v, e, true, &competences),
        _ => task_form(state, lang, c, &blank, &none, true, &competences),
    };
    let problems: Vec<Problem> = authoring::check(&state.db, c)
        .await?
        .into_iter()
        .filter(|p| p.file == "tasks.toml")
        .collect();
    Page::new(state, lang, Some(user), "author.tasks")
        .set(
            "course",
            json!({"slug": c.slug, "title": pick(&c.title, lang, c)}),
        )
        .set("tasks", forms)
        .set("new_task", new_form)
        .set("problems", problems_view(state, lang, c, &problems))
        .set("flash", flash)
        .render_status(state, "pages/teach_tasks", status)
}

pub async fn tasks_edit(
    state: State,
    locale: Locale,
    user: CurrentUser,
    path: web::Path<String>,
    q: web::Query<Flash>,
) -> AppResult<HttpResponse> {
    let w = authoring::working(&state.db, &user.actor, &path).await?;
    let flash = q
        .saved
        .as_ref()
        .map(|_| tr(&state, locale.0, "author.saved"));
    tasks_page(&state, locale.0, &user, &w, None, flash, StatusCode::OK).await
}

/// Saves (or, with `action=delete`, deletes) one task; `new=1` adds one.
pub async fn tasks_save(
    state: State,
    locale: Locale,
    user: CurrentUser,
    path: web::Path<String>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let slug = path.into_inner();
    let w = authoring::working(&state.db, &user.actor, &slug).await?;
    let f = Fields::parse(&body);
    let id = f.get("id");
    let is_new = !f.get("new").is_empty();
    let exists = w.course.tasks.iter().any(|t| t.id == id);
    let done = format!("/teach/courses/{slug}/tasks?saved=1");
    if f.get("action") == "delete" {
        authoring::edit(&state.db, &user.actor, &slug, "task deleted", |c| {
            edit::delete_task(c, &id)
        })
        .await?;
        return Ok(redirect(&done));
    }
    if !is_new && !exists {
        return Err(AppError::NotFound);
    }
    let mut result = form::task(&f, &w.course.languages, &w.course.competences);
    if is_new && exists {
        result = Err(Errors::from([(
            "id".to_string(),
            "author.err.task_taken".to_string(),
        )]));
    }
    match result {
        Ok(task) => {
            authoring::edit(&state.db, &user.actor, &slug, "task", |c| {
                edit::upsert_task(c, task);
                true
            })
            .await?;
            Ok(redirect(&done))
        }
        Err(errors) => {
            tasks_page(
                &state,
                locale.0,
                &user,
                &w,
                Some((is_new, f.values(), &errors)),
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
