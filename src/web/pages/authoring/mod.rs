//! Trainer authoring pages under `/teach/courses`: the course list, a new
//! course, the course page (metadata, lessons in order, quizzes, tasks, the
//! checker's problems, publish and archive), and the lesson, quiz and task
//! editors. Thin: parse the form, call `catalog::authoring`, render. Bad
//! input re-renders the form (422) with each field's problem.

use std::collections::HashMap;

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use futures_util::future::LocalBoxFuture;
use serde::Deserialize;
use serde_json::{Value, json};

mod batch;
mod choices;
mod forms;
mod items;
mod lessons;
mod narration;
mod pictures;
mod preview;
mod problems;
mod publish;
mod quizzes;
mod tasks;
mod videos;
mod voices;

pub use batch::quiz_batch;
pub use items::{items_export, items_page};
pub use lessons::{lesson_add, lesson_edit, lesson_move, lesson_save};
pub use narration::{narration_remove, narration_upload};
pub use pictures::picture_upload;
pub use preview::preview;
pub use publish::{publish, publish_confirm};
pub use quizzes::{quiz_edit, quiz_save};
pub use tasks::{tasks_edit, tasks_save};
pub use videos::{captions_save, video_status, video_upload};
pub use voices::{question_audio_remove, question_audio_upload, track_add, track_remove};

use self::forms::{CHOICE_IDS, CourseForm, Errors, Fields, MetaForm, NewCourse};
use self::problems::problems_view;
use super::{Page, redirect};
use crate::app::AppContext;
use crate::catalog::authoring::{self, Working};
use crate::courses::edit::{self, Meta};
use crate::courses::{Course, Problem, Text, render_markdown};
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

/// The title of the lesson whose file stem (`01-wifi`) is `stem`, in the
/// page language (a trainer knows lessons by title, not by short name).
fn stem_title(c: &Course, stem: &str, lang: &str) -> Option<String> {
    let l = c.lessons.iter().find(|l| l.stem() == stem)?;
    l.texts
        .get(lang)
        .or_else(|| l.texts.get(c.default_language()))
        .or_else(|| l.texts.values().next())
        .map(|t| t.title.clone())
}

/// What a picture or video shows, as the trainer said it in the field `alt`
/// (spaces folded, no brackets that would break its Markdown), or the
/// locale key of why it is refused: `missing` when empty, too long over
/// 200 characters.
fn described(fields: &[(String, String)], missing: &'static str) -> Result<String, &'static str> {
    let alt = fields
        .iter()
        .find(|(k, _)| k == "alt")
        .map(|(_, v)| v.split_whitespace().collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
        .replace(['[', ']'], "");
    match alt.chars().count() {
        0 => Err(missing),
        201.. => Err("author.picture.long_alt"),
        _ => Ok(alt),
    }
}

/// Whether the caller (the editor's script) asks for JSON.
fn wants_json(req: &HttpRequest) -> bool {
    req.headers()
        .get(actix_web::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"))
}

/// Values of a form field that may repeat (checkboxes), as sent back.
fn chosen(v: &Value, key: &str) -> Vec<String> {
    match v.get(key) {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => vec![],
    }
}

/// The course being edited, who edits it and in which language: what every
/// editor page and every save starts from.
pub(super) struct Editor<'a> {
    state: &'a AppContext,
    lang: &'static str,
    user: &'a CurrentUser,
    w: Working,
}

/// What every editor page is given: the app, the reader's language and the
/// signed-in author.
pub struct Author {
    state: State,
    locale: Locale,
    user: CurrentUser,
}

impl FromRequest for Author {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let parts = <(State, Locale, CurrentUser)>::from_request(req, payload);
        Box::pin(async move {
            let (state, locale, user) = parts.await?;
            Ok(Author {
                state,
                locale,
                user,
            })
        })
    }
}

impl Author {
    /// The editor of a course this author may edit (403 / 404 otherwise).
    async fn editor(&self, slug: &str) -> AppResult<Editor<'_>> {
        Editor::open(&self.state, &self.locale, &self.user, slug).await
    }

    /// The editor and the fields of the form posted to it.
    async fn form(&self, slug: &str, body: &[u8]) -> AppResult<(Editor<'_>, Fields)> {
        Ok((self.editor(slug).await?, Fields::parse(body)))
    }
}

impl<'a> Editor<'a> {
    /// Loads the course the user may author (403 / 404 otherwise).
    async fn open(
        state: &'a AppContext,
        locale: &Locale,
        user: &'a CurrentUser,
        slug: &str,
    ) -> AppResult<Editor<'a>> {
        let w = authoring::working_now(&state.db, &user.actor, slug).await?;
        Ok(Editor {
            state,
            lang: locale.0,
            user,
            w,
        })
    }

    fn course(&self) -> &Course {
        &self.w.course
    }

    fn slug(&self) -> &str {
        &self.w.course.slug
    }

    fn tr(&self, key: &str) -> String {
        tr(self.state, self.lang, key)
    }

    fn errors(&self, errors: &Errors) -> Value {
        errors_view(self.state, self.lang, errors)
    }

    /// The "saved" notice after a save redirected back.
    fn saved(&self, q: &Flash) -> Option<String> {
        q.saved.as_ref().map(|_| self.tr("author.saved"))
    }

    /// A form of this editor, to parse.
    fn form<'f>(&'f self, fields: &'f Fields) -> CourseForm<'f> {
        CourseForm {
            fields,
            course: self.course(),
        }
    }

    /// Applies one change to the draft (see `authoring::edit`).
    async fn save(&self, what: &str, change: impl FnMut(&mut Course) -> bool) -> AppResult<()> {
        authoring::edit(&self.state.db, &self.user.actor, self.slug(), what, change).await
    }

    /// A page about this course (its slug, title and version set).
    fn page(&self, title_key: &str) -> Page {
        let c = self.course();
        Page::new(self.state, self.lang, Some(self.user), title_key).set(
            "course",
            json!({"slug": c.slug, "title": pick(&c.title, self.lang, c), "version": self.w.row.version}),
        )
    }

    /// The checker's problems in the files `keep` selects, placed for the page.
    async fn problems(&self, keep: impl Fn(&str) -> bool) -> AppResult<(usize, Vec<Value>)> {
        let c = self.course();
        let problems: Vec<Problem> = authoring::check(&self.state.db, c)
            .await?
            .into_iter()
            .filter(|p| keep(&p.file))
            .collect();
        // Competences are named by their titles in the page's language.
        let titles: HashMap<String, String> = competence_options(self.state, self.lang)
            .await?
            .into_iter()
            .filter_map(|o| {
                Some((
                    o["code"].as_str()?.to_string(),
                    o["title"].as_str()?.to_string(),
                ))
            })
            .collect();
        Ok((
            problems.len(),
            problems_view(self.state, self.lang, c, &problems, &titles),
        ))
    }

    /// The competences of the course, as options of a form.
    async fn competences(&self) -> AppResult<Vec<Value>> {
        let c = self.course();
        Ok(competence_options(self.state, self.lang)
            .await?
            .into_iter()
            .filter(|o| {
                c.competences
                    .iter()
                    .any(|x| Some(x.as_str()) == o["code"].as_str())
            })
            .collect())
    }
}

/// Where a course stands for learners, and whether edits wait to be published.
fn state_text(
    state: &AppContext,
    lang: &str,
    published: Option<i32>,
    archived: bool,
    draft: bool,
) -> String {
    let mut text = match (published, archived) {
        (Some(v), _) => tr(state, lang, "author.state.published").replace("{v}", &v.to_string()),
        (None, true) => tr(state, lang, "author.state.archived"),
        (None, false) => tr(state, lang, "author.state.unpublished"),
    };
    if draft {
        text = format!("{text} · {}", tr(state, lang, "author.state.draft"));
    }
    text
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
            let state_text = state_text(&state, lang, s.published, s.archived, s.has_draft);
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

/// The new-course page, with the values and errors to show.
async fn new_course_page(
    state: &AppContext,
    lang: &str,
    user: &CurrentUser,
    values: &Value,
    errors: &Errors,
    status: StatusCode,
) -> AppResult<HttpResponse> {
    let options = competence_options(state, lang).await?;
    Page::new(state, lang, Some(user), "author.new")
        .set("form", meta_form(state, lang, values, errors, &options))
        .set("errors", errors_view(state, lang, errors))
        .render_status(state, "pages/teach_course_new", status)
}

pub async fn course_new(
    state: State,
    locale: Locale,
    user: CurrentUser,
) -> AppResult<HttpResponse> {
    user.actor.require(Action::AuthorCourses)?;
    let v = json!({"category": "it", "level": "1", "pass_mark": "80", "hours": "2"});
    new_course_page(&state, locale.0, &user, &v, &Errors::new(), StatusCode::OK).await
}

pub async fn course_create(
    state: State,
    locale: Locale,
    user: CurrentUser,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    user.actor.require(Action::AuthorCourses)?;
    let mut f = Fields::parse(&body);
    // No slug typed: it is made from the title (pinyin for Chinese).
    if f.get("slug").is_empty()
        && let Some(s) = ["title.zh-CN", "title.en"]
            .iter()
            .find_map(|k| crate::courses::Slug::from_title(&f.get(k)))
    {
        f.set("slug", s.as_str());
    }
    let known = known_competences(&state).await?;
    let errors = match NewCourse::try_from(MetaForm {
        fields: &f,
        known: &known,
    }) {
        Ok(new) => {
            let c = edit::new_course(new.slug.as_str(), &new.meta);
            match authoring::create(&state.db, &user.actor, &c).await {
                Ok(()) => return Ok(redirect(&format!("/teach/courses/{}", c.slug))),
                Err(AppError::Validation { fields, .. }) => fields,
                Err(e) => return Err(e),
            }
        }
        Err(errors) => errors,
    };
    let status = StatusCode::UNPROCESSABLE_ENTITY;
    new_course_page(&state, locale.0, &user, &f.values(), &errors, status).await
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
    let chosen = chosen(v, "competence");
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

impl Editor<'_> {
    /// The course page, with the form values and errors to show.
    async fn course_page(
        &self,
        values: Value,
        errors: &Errors,
        flash: Option<String>,
        status: StatusCode,
    ) -> AppResult<HttpResponse> {
        let (state, lang, w, c) = (self.state, self.lang, &self.w, self.course());
        let (count, problems) = self.problems(|_| true).await?;
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
        let status_text = state_text(state, lang, w.published, w.archived, w.is_draft);
        self.page("author.edit")
            .set("state", status_text)
            .set("form", meta_form(state, lang, &values, errors, &options))
            .set("errors", self.errors(errors))
            .set("lessons", lessons)
            .set("problems", problems)
            .set("can_publish", count == 0)
            .set(
                "test_min",
                crate::courses::test_minimum(c.competences.len()),
            )
            .set("flash", flash)
            .render_status(state, "pages/teach_course", status)
    }

    /// The course page as stored, with a notice (after a refused publish: 422).
    async fn course_page_as_stored(
        &self,
        flash: Option<String>,
        status: StatusCode,
    ) -> AppResult<HttpResponse> {
        let values = meta_values(self.course());
        self.course_page(values, &Errors::new(), flash, status)
            .await
    }
}

pub async fn course_edit(
    author: Author,
    path: web::Path<String>,
    q: web::Query<Flash>,
) -> AppResult<HttpResponse> {
    let e = author.editor(&path).await?;
    let flash = match &q.published {
        Some(v) => Some(e.tr("author.published").replace("{v}", v)),
        None => e.saved(&q),
    };
    e.course_page_as_stored(flash, StatusCode::OK).await
}

pub async fn course_update(
    author: Author,
    path: web::Path<String>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let (e, f) = author.form(&path, &body).await?;
    let known = known_competences(&author.state).await?;
    match Meta::try_from(MetaForm {
        fields: &f,
        known: &known,
    }) {
        Ok(m) => {
            e.save("course", |c| {
                edit::set_meta(c, &m);
                true
            })
            .await?;
            Ok(redirect(&format!("/teach/courses/{}?saved=1", e.slug())))
        }
        Err(errors) => {
            e.course_page(f.values(), &errors, None, StatusCode::UNPROCESSABLE_ENTITY)
                .await
        }
    }
}

pub async fn archive_confirm(author: Author, path: web::Path<String>) -> AppResult<HttpResponse> {
    let e = author.editor(&path).await?;
    e.page("author.archive")
        .render(&author.state, "pages/teach_archive")
}

/// Archives only with the confirmation field; otherwise asks first.
pub async fn archive(
    state: State,
    user: CurrentUser,
    path: web::Path<String>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let slug = path.into_inner();
    if Fields::parse(&body).get("confirm") != "yes" {
        crate::catalog::store::authorize(&state.db, &user.actor, &slug).await?;
        return Ok(redirect(&format!("/teach/courses/{slug}/archive")));
    }
    authoring::archive(&state.db, &state.content, &user.actor, &slug).await?;
    Ok(redirect(&format!("/teach/courses?archived={slug}")))
}
