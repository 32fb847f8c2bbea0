//! The learner's pages: catalog, course, lesson, quiz, progress, certificates,
//! and course media. They work with JavaScript off and record learning through
//! the same event service as the API.

use std::collections::BTreeMap;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Page, offline, redirect};
use crate::accounts::Role;
use crate::app::AppContext;
use crate::catalog::view::{
    self, CourseSummary, ResultLine, list_courses, published_titles, visible,
};
use crate::error::{AppError, AppResult};
use crate::learning::content::{CourseInfo, QuizInfo, text};
use crate::learning::events::LearnerKind;
use crate::learning::grading::Graded;
use crate::learning::{certificates, enroll, events, gate, progress};
use crate::policy::Action;
use crate::reports::skills::level_of_score;
use crate::web::extract::{CurrentUser, Locale, MaybeUser};

type State = web::Data<AppContext>;

/// A catalog entry with the learner's state of the course.
#[derive(Serialize)]
struct Entry<'a> {
    #[serde(flatten)]
    course: CourseSummary,
    mine: Option<&'a progress::CourseProgress>,
}

/// The catalog by category, with the learner's state on each course.
pub async fn catalog(
    state: &AppContext,
    user: Option<&CurrentUser>,
    lang: &str,
) -> AppResult<serde_json::Value> {
    let drafts = user.is_some_and(|u| u.actor.may(Action::ViewDraftCourses));
    let rows = list_courses(&state.db, drafts).await?;
    let mine: BTreeMap<String, progress::CourseProgress> = match user {
        Some(u) if u.actor.role == Role::Learner => {
            progress::overview(&state.db, &state.content, u.actor.id)
                .await?
                .into_iter()
                .map(|p| (p.course.clone(), p))
                .collect()
        }
        _ => BTreeMap::new(),
    };
    let mut cats: BTreeMap<String, Vec<Entry>> = BTreeMap::new();
    for c in &rows {
        cats.entry(c.category.clone()).or_default().push(Entry {
            course: CourseSummary::of(c, lang),
            mine: mine.get(&c.slug),
        });
    }
    // IT basics first: they come before selling online.
    let mut cats: Vec<_> = cats.into_iter().collect();
    cats.sort_by_key(|(k, _)| (k != "it", k.clone()));
    Ok(json!(
        cats.into_iter()
            .map(|(k, v)| json!({"category": k, "courses": v}))
            .collect::<Vec<_>>()
    ))
}

pub async fn course_page(
    state: State,
    user: CurrentUser,
    locale: Locale,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let body = course_body(&state, &user, locale.0, &path).await?;
    Ok(html_response(body))
}

fn html_response(body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(body)
}

/// The course page's HTML for `user` (also measured for the offline list).
pub(crate) async fn course_body(
    state: &AppContext,
    user: &CurrentUser,
    lang: &'static str,
    slug: &str,
) -> AppResult<String> {
    let (info, mut detail) = view::course_view(state, &user.actor, slug, lang).await?;
    let st = progress::standing(&state.db, &state.content, user.actor.id, &info).await?;
    // The learner sees the trainer's sign-offs: the best level per task.
    for t in &mut detail.tasks {
        t.level = st.levels.get(&t.slug).map(|l| format!("teach.level{l}"));
    }
    for l in &mut detail.lessons {
        l.state = st
            .progress
            .as_ref()
            .and_then(|m| m.lessons.get(&l.slug))
            .cloned();
    }
    let (e, mine, missing) = (st.enrollment, st.progress, st.missing);
    // Where to go next while the course is under way: the first lesson, or
    // the one to continue with.
    let start = match (&e, &mine) {
        (Some(e), Some(m)) if e.state != "completed" && e.state != "withdrawn" => m
            .next_lesson
            .as_ref()
            .map(|n| json!({"slug": n, "first": m.lessons_finished == 0})),
        _ => None,
    };
    Page::new(state, lang, Some(user), "course.title")
        .set("title", &detail.summary.title)
        .set("c", detail)
        .set(
            "enrollment",
            e.map(|e| json!({"state": e.state, "pre_done": e.pre_done})),
        )
        .set("mine", mine)
        .set(
            "missing",
            missing.filter(|m| !m.is_empty()).map(|m| missing_json(&m)),
        )
        .set("start", start)
        .set("is_learner", user.actor.role == Role::Learner)
        .html(state, "pages/course")
}

/// What is missing, as the pages list it: only what is really left (a count
/// of nothing is no line), and whether only the trainer's sign-off is left.
fn missing_json(m: &crate::learning::completion::Missing) -> serde_json::Value {
    let n = |v: &Vec<String>| (!v.is_empty()).then_some(v.len());
    json!({
        "lessons": n(&m.lessons),
        "checks": n(&m.checks),
        "tasks": n(&m.tasks),
        "post_test": m.post_test,
        "waits_signoff": waits_signoff(m),
    })
}

/// The required tasks still to sign off when nothing else is left: the
/// certificate then waits on the trainer alone.
fn waits_signoff(m: &crate::learning::completion::Missing) -> Option<usize> {
    (m.lessons.is_empty() && m.checks.is_empty() && !m.post_test && !m.tasks.is_empty())
        .then_some(m.tasks.len())
}

pub async fn enroll_self(
    state: State,
    user: CurrentUser,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    user.actor.require(Action::Learn)?;
    enroll::enroll(
        &state.db,
        &state.content,
        &user.actor,
        &crate::accounts::users::find(&state.db, user.actor.id)
            .await?
            .ok_or(AppError::NotFound)?,
        &path,
        None,
    )
    .await?;
    state.sessions.refresh(&state.db).await?;
    Ok(redirect(&format!("/courses/{}", path.as_str())))
}

pub async fn skip_pre(
    state: State,
    user: CurrentUser,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    user.actor.require(Action::Learn)?;
    enroll::skip_pre(&state.db, user.actor.id, &path).await?;
    Ok(redirect(&format!("/courses/{}", path.as_str())))
}

pub async fn lesson_page(
    req: HttpRequest,
    state: State,
    user: CurrentUser,
    locale: Locale,
    path: web::Path<(String, String)>,
) -> AppResult<HttpResponse> {
    let (slug, lesson) = path.into_inner();
    // Everything from memory: the published version, the learner's courses.
    let info = view::visible(&state.db, &state.content, &user.actor, &slug).await?;
    let learning = user.actor.role == Role::Learner
        && info.course.status == "published"
        && state
            .sessions
            .enrolled(&state.db, user.actor.id)
            .await?
            .contains(&slug);
    let low_data = offline::low_data(&req);
    let (voice, keep) = super::voice::choose(&req, state.settings.secure_cookies());
    let body = lesson_body(
        &state,
        &user,
        locale.0,
        &info,
        &lesson,
        learning,
        (low_data, voice.as_deref()),
    )
    .await?;
    // A phone saving the course for later has not opened the lesson yet.
    if learning && !offline::is_saving(&req) {
        events::page_view(&state, &user.actor, info, &lesson).await?;
    }
    let mut res = html_response(body);
    res.headers_mut().insert(
        header::VARY,
        header::HeaderValue::from_static("save-data, cookie"),
    );
    if let Some(cookie) = keep {
        res.add_cookie(&cookie).ok();
    }
    Ok(res)
}

/// A lesson page's HTML for `user` (also measured for the offline list); in
/// low-data mode its pictures wait until tapped.
pub(crate) async fn lesson_body(
    state: &AppContext,
    user: &CurrentUser,
    lang: &'static str,
    info: &CourseInfo,
    lesson: &str,
    learning: bool,
    (low_data, voice): (bool, Option<&str>),
) -> AppResult<String> {
    let mut view = view::LessonView::build(info, lesson, lang)?;
    let (playing, voice) = super::voice::playing(&view, voice);
    let has_video = view.html.contains("<figure class=\"video\">");
    if low_data || has_video {
        let sizes = crate::learning::offline::media_sizes(&state.db, info).await?;
        if low_data {
            view.html = offline::defer_images(&state.views, lang, &view.html, &sizes)?;
        }
        if has_video {
            view.html = offline::video_choices(&state.views, lang, &view.html, &sizes, low_data)?;
        }
    }
    // Written into the "finished" form: the server gave her this lesson, so a
    // finish sent later (from the phone's outbox too) may count.
    let served = learning.then(|| {
        events::served_proof(
            state.secrets.id_hmac.expose_secret().as_bytes(),
            user.actor.id,
            &info.course.slug,
            lesson,
        )
    });
    Page::new(state, lang, Some(user), "course.title")
        .set("title", &view.title)
        .set("lesson", view)
        .set("served", served)
        .set("enrolled", learning)
        .set("low_data", low_data)
        .set("playing", playing)
        .set("voice", voice)
        .html(state, "pages/lesson")
}

pub async fn lesson_done(
    state: State,
    user: CurrentUser,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    user.actor.require(Action::Learn)?;
    let (slug, lesson) = path.into_inner();
    let info = visible(&state.db, &state.content, &user.actor, &slug).await?;
    info.lesson(&lesson).ok_or(AppError::NotFound)?;
    // The proof the lesson page carries that the server served it to her.
    let served = url::form_urlencoded::parse(&body)
        .find(|(k, _)| k == "served")
        .map(|(_, v)| v.into_owned());
    let finished = LearnerKind::LessonFinished;
    events::record(
        &state,
        &user.actor,
        finished,
        &slug,
        Some(&lesson),
        json!({}),
        served.as_deref(),
    )
    .await?;
    Ok(redirect(
        &match (info.check_of(&lesson), info.neighbours(&lesson).1) {
            (Some(q), _) => format!("/courses/{slug}/quiz/{}", q.row.slug),
            (None, Some(n)) => format!("/courses/{slug}/lessons/{}", n.slug),
            (None, None) => format!("/courses/{slug}"),
        },
    ))
}

pub async fn quiz_page(
    state: State,
    user: CurrentUser,
    locale: Locale,
    path: web::Path<(String, String)>,
) -> AppResult<HttpResponse> {
    let (slug, quiz) = path.into_inner();
    if user.actor.role == Role::Learner {
        let info = visible(&state.db, &state.content, &user.actor, &slug).await?;
        let q = info.quiz(&quiz).ok_or(AppError::NotFound)?;
        // Her starting point is recorded once: the page shows it, not a new attempt.
        if q.row.kind == "pre"
            && let Some(a) = gate::first_pre(&state.db, user.actor.id, &slug).await?
        {
            let g = stored_result(&a)?;
            return start_page(&state, &user, locale.0, &info, &g, None, StatusCode::OK);
        }
        if q.row.kind == "post"
            && let Some(r) = gate::post_test_closed(&state.db, user.actor.id, &info).await?
        {
            return closed_page(&state, &user, locale.0, &info, &r, None, StatusCode::OK);
        }
        // Taken again only as the retake rule says: the page says when.
        if q.row.kind == "post"
            && let Some(r) =
                gate::post_retake(&state.db, user.actor.id, &slug, chrono::Utc::now()).await?
        {
            return closed_page(&state, &user, locale.0, &info, &r, None, StatusCode::OK);
        }
    }
    Ok(html_response(
        quiz_body(&state, &user, locale.0, &slug, &quiz).await?,
    ))
}

/// A quiz page's HTML with a new attempt (also measured for the offline list).
pub(crate) async fn quiz_body(
    state: &AppContext,
    user: &CurrentUser,
    lang: &'static str,
    slug: &str,
    quiz: &str,
) -> AppResult<String> {
    // A new attempt each time the quiz is opened, each with its own order.
    let attempt = uuid::Uuid::new_v4();
    let view = view::quiz_view(state, &user.actor, slug, quiz, lang, attempt).await?;
    Page::new(state, lang, Some(user), &format!("quiz.{}", view.kind))
        .set("attempt_id", attempt.to_string())
        .set("retake_rule", retake_rule(state, lang))
        .set("quiz", view)
        .set("can_submit", user.actor.role == Role::Learner)
        .html(state, "pages/quiz")
}

/// A stored attempt's result, as the learner may see it.
fn stored_result(a: &crate::entities::quiz_attempt::Model) -> AppResult<Graded> {
    let g: Graded =
        serde_json::from_str(&a.result_json).map_err(|e| AppError::Internal(e.into()))?;
    Ok(g.for_learner(&a.kind))
}

/// The pre-test's result as a starting point: the score, the competences she
/// already has and those to learn, and the lessons to put her effort in. No
/// answer and no explanation: the post-test asks the same questions.
fn start_page(
    state: &AppContext,
    user: &CurrentUser,
    lang: &str,
    info: &CourseInfo,
    g: &Graded,
    flash: Option<&str>,
    status: StatusCode,
) -> AppResult<HttpResponse> {
    let def = info.default_language();
    let codes: Vec<&str> = info
        .course
        .competences
        .split(',')
        .filter(|c| !c.is_empty())
        .collect();
    let title_of = |code: &str| {
        info.competences
            .iter()
            .find(|c| c.code == code)
            .map(|c| text(&c.title_json, lang, def))
            .unwrap_or_else(|| code.to_string())
    };
    // Known: at the level a post-test score of 80% or more shows.
    let known = |code: &str| {
        g.competences
            .get(code)
            .is_some_and(|s| level_of_score(*s) >= 2)
    };
    let skill = |code: &&str| json!({"title": title_of(code), "percent": g.competences.get(*code).copied().unwrap_or(0)});
    let has: Vec<_> = codes.iter().filter(|c| known(c)).map(skill).collect();
    let to_learn: Vec<_> = codes.iter().filter(|c| !known(c)).map(skill).collect();
    let titles = crate::catalog::store::lesson_titles(info, lang);
    let focus: Vec<_> = info
        .lessons
        .iter()
        .filter(|l| l.competences.split(',').any(|c| !c.is_empty() && !known(c)))
        .map(|l| json!({"slug": l.slug, "title": titles.get(&l.slug).cloned().unwrap_or_default()}))
        .collect();
    let first = focus
        .first()
        .and_then(|f| f["slug"].as_str().map(str::to_string))
        .or_else(|| info.lessons.first().map(|l| l.slug.clone()));
    Page::new(state, lang, Some(user), "quiz.start")
        .set(
            "course",
            json!({"slug": info.course.slug, "title": text(&info.course.title_json, lang, def)}),
        )
        .set("g", g)
        .set(
            "start",
            json!({"has": has, "to_learn": to_learn, "focus": focus, "first": first}),
        )
        .set("flash", flash)
        .render_status(state, "pages/quiz_result", status)
}

/// The post-test's retake rule, as the pages state it.
fn retake_rule(state: &AppContext, lang: &str) -> String {
    state
        .views
        .tr(lang, "quiz.retake_rule")
        .replace("{n}", &gate::POST_ATTEMPTS.to_string())
        .replace("{wait}", &gate::POST_RETAKE_WAIT_MINUTES.to_string())
}

/// The post-test before it opens: what is left first, with links; or, once
/// it was taken, why it cannot be taken again now.
fn closed_page(
    state: &AppContext,
    user: &CurrentUser,
    lang: &str,
    info: &CourseInfo,
    r: &gate::Refusal,
    flash: Option<&str>,
    status: StatusCode,
) -> AppResult<HttpResponse> {
    let def = info.default_language();
    let titles = crate::catalog::store::lesson_titles(info, lang);
    let (lessons, checks) = match r {
        gate::Refusal::PostClosed { left, .. } => (left.lessons.clone(), left.checks.clone()),
        _ => Default::default(),
    };
    // Why a retake is refused, in her language.
    let retake = match r {
        gate::Refusal::PostPassed => Some(state.views.tr(lang, "quiz.retake_passed")),
        gate::Refusal::PostUsedUp => Some(state.views.tr(lang, "quiz.retake_used")),
        gate::Refusal::PostWait { until } => Some(
            state
                .views
                .tr(lang, "quiz.retake_wait")
                .replace("{time}", &state.settings.local_time(*until)),
        ),
        gate::Refusal::PreTaken | gate::Refusal::PostClosed { .. } => None,
    };
    let item = |slug: &String| json!({"slug": slug, "title": titles.get(slug).cloned().unwrap_or_default()});
    let checks: Vec<_> = checks
        .iter()
        .filter_map(|c| info.quiz(c))
        .map(|q| {
            let lesson = q.row.lesson_slug.clone().unwrap_or_default();
            json!({"slug": q.row.slug, "title": titles.get(&lesson).cloned().unwrap_or_default()})
        })
        .collect();
    Page::new(state, lang, Some(user), "quiz.post")
        .set(
            "quiz",
            json!({"course": info.course.slug, "course_title": text(&info.course.title_json, lang, def), "slug": "post"}),
        )
        .set(
            "closed",
            json!({"lessons": lessons.iter().map(item).collect::<Vec<_>>(), "checks": checks, "retake": retake}),
        )
        .set("retake_rule", retake_rule(state, lang))
        .set("flash", flash)
        .render_status(state, "pages/quiz", status)
}

/// The answers of the quiz form: `q.<id>` (repeated for several choices) and,
/// for order questions, `order.<id>.<choice>` = position; and `attempt_id`.
fn quiz_form(quiz: &QuizInfo, body: &[u8]) -> (BTreeMap<String, Vec<String>>, Option<String>) {
    let mut answers: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut attempt_id = None;
    for (k, v) in url::form_urlencoded::parse(body) {
        if let Some(id) = k.strip_prefix("q.") {
            answers
                .entry(id.to_string())
                .or_default()
                .push(v.into_owned());
        } else if k == "attempt_id" {
            attempt_id = Some(v.into_owned());
        }
    }
    for qu in quiz
        .questions
        .iter()
        .filter(|x| x.kind == crate::courses::QuestionKind::Order)
    {
        let mut pos: Vec<(i64, String)> = url::form_urlencoded::parse(body)
            .filter_map(|(k, v)| {
                k.strip_prefix(&format!("order.{}.", qu.qid))
                    .map(|c| (v.parse().unwrap_or(99), c.to_string()))
            })
            .collect();
        if !pos.is_empty() {
            pos.sort();
            answers.insert(qu.qid.clone(), pos.into_iter().map(|(_, c)| c).collect());
        }
    }
    (answers, attempt_id)
}

pub async fn quiz_submit(
    state: State,
    user: CurrentUser,
    locale: Locale,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    user.actor.require(Action::Learn)?;
    let (slug, quiz) = path.into_inner();
    let info = visible(&state.db, &state.content, &user.actor, &slug).await?;
    let q = info.quiz(&quiz).ok_or(AppError::NotFound)?;
    let (answers, attempt_id) = quiz_form(q, &body);
    let id = attempt_id
        .filter(|a| uuid::Uuid::parse_str(a).is_ok())
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let lang = locale.0;
    let refused = |key: &str| state.views.tr(lang, key);
    // The same attempt sent twice (a double tap) is not a second attempt.
    let again = match uuid::Uuid::parse_str(&id) {
        Ok(key) => crate::entities::quiz_attempt::Entity::find()
            .filter(crate::entities::quiz_attempt::Column::AttemptKey.eq(key))
            .filter(crate::entities::quiz_attempt::Column::UserId.eq(user.actor.id))
            .one(&state.db)
            .await?
            .is_some(),
        Err(_) => false,
    };
    if !again {
        match gate::may_submit(&state.db, user.actor.id, &info, &quiz).await? {
            Ok(()) => {}
            Err(gate::Refusal::PreTaken) => {
                let a = gate::first_pre(&state.db, user.actor.id, &slug)
                    .await?
                    .ok_or(AppError::NotFound)?;
                let msg = refused("quiz.pre_taken");
                let g = stored_result(&a)?;
                return start_page(
                    &state,
                    &user,
                    lang,
                    &info,
                    &g,
                    Some(&msg),
                    StatusCode::CONFLICT,
                );
            }
            Err(r) => {
                let msg = refused(if r.is_retake() {
                    "quiz.retake_refused"
                } else {
                    "quiz.post_closed"
                });
                return closed_page(
                    &state,
                    &user,
                    lang,
                    &info,
                    &r,
                    Some(&msg),
                    StatusCode::CONFLICT,
                );
            }
        }
    }
    // Questions left blank: she confirms first (a pre-test is taken once,
    // a post-test a few times), unless this is her confirmation.
    let blank = q
        .questions
        .iter()
        .filter(|x| {
            answers
                .get(&x.qid)
                .is_none_or(|v| v.iter().all(|a| a.trim().is_empty()))
        })
        .count();
    let confirmed = url::form_urlencoded::parse(&body).any(|(k, v)| k == "blank_ok" && v == "1");
    if !again && blank > 0 && !confirmed {
        let fields: Vec<_> = url::form_urlencoded::parse(&body)
            .filter(|(k, _)| k != "csrf" && k != "blank_ok")
            .map(|(k, v)| json!({"k": k, "v": v}))
            .collect();
        let def = info.default_language();
        return Page::new(&state, lang, Some(&user), &format!("quiz.{}", q.row.kind))
            .set(
                "quiz",
                json!({"course": slug, "course_title": text(&info.course.title_json, lang, def), "slug": q.row.slug, "kind": q.row.kind}),
            )
            .set("blank", json!({"count": blank, "fields": fields}))
            .render(&state, "pages/quiz");
    }
    let g = events::submit_quiz(&state, &user.actor, "web", &slug, &quiz, &answers, &id)
        .await?
        .map_err(|rej| AppError::BadRequest(rej.reason))?;
    if q.row.kind == "pre" {
        return start_page(&state, &user, lang, &info, &g, None, StatusCode::OK);
    }
    let def = info.default_language();
    let results = ResultLine::lines(&info, q, &g, lang, |word| {
        state.views.tr(lang, &format!("quiz.{word}"))
    });
    let cert = certificates::code_of(&state.db, user.actor.id, &slug).await?;
    let next = q
        .row
        .lesson_slug
        .as_deref()
        .and_then(|ls| info.neighbours(ls).1)
        .map(|x| x.slug.clone());
    // The last lesson check passed: the final test, when it is open to her.
    let post_open = next.is_none()
        && q.row.kind == "lesson"
        && info.quiz("post").is_some()
        && gate::post_test_closed(&state.db, user.actor.id, &info)
            .await?
            .is_none()
        && gate::post_retake(&state.db, user.actor.id, &slug, chrono::Utc::now())
            .await?
            .is_none();
    Page::new(&state, lang, Some(&user), "quiz.result")
        .set(
            "course",
            json!({"slug": slug, "title": text(&info.course.title_json, lang, def)}),
        )
        .set("quiz", json!({"slug": q.row.slug, "kind": q.row.kind}))
        .set("retake_rule", retake_rule(&state, lang))
        .set("g", &g)
        .set("results", results)
        .set("certificate", cert)
        .set("next", next)
        .set("post_open", post_open)
        .render(&state, "pages/quiz_result")
}

pub async fn me(
    req: HttpRequest,
    state: State,
    user: CurrentUser,
    locale: Locale,
) -> AppResult<HttpResponse> {
    let items = progress::overview(&state.db, &state.content, user.actor.id).await?;
    let titles = published_titles(&state.db, locale.0).await?;
    // A course waiting only for the trainer's sign-off says so.
    let mut waiting = BTreeMap::new();
    for p in &items {
        if p.certificate.is_some() || p.state == "completed" || p.state == "withdrawn" {
            continue;
        }
        if let Some(info) = state.content.published(&state.db, &p.course).await? {
            let m = crate::learning::completion::missing(&state.db, user.actor.id, &info).await?;
            if let Some(n) = waits_signoff(&m) {
                waiting.insert(p.course.clone(), n);
            }
        }
    }
    let items: Vec<_> = items
        .into_iter()
        .map(|p| {
            let mut v = json!(p);
            v["waits_signoff"] = json!(waiting.get(&p.course));
            v["title"] = json!(titles.get(&p.course).cloned().unwrap_or(p.course.clone()));
            // 0% is a score too (a starting point), shown as such.
            let label = |s: Option<i32>| s.map_or("—".to_string(), |s| format!("{s}%"));
            v["pre_label"] = json!(label(p.pre_score));
            v["post_label"] = json!(label(p.post_score));
            v
        })
        .collect();
    Page::new(&state, locale.0, Some(&user), "me.title")
        .set("items", items)
        .set("low_data", offline::low_data_chosen(&req))
        .set("save_data", offline::save_data_header(&req))
        .render(&state, "pages/me")
}

pub async fn certificate_page(
    state: State,
    user: MaybeUser,
    locale: Locale,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let v = certificates::verify(&state.db, &path).await?;
    let link = format!("{}/certificates/{}", state.settings.base_url(), v.code);
    let qr = qrcode::QrCode::new(link.as_bytes())
        .map(|q| {
            q.render::<qrcode::render::svg::Color>()
                .min_dimensions(160, 160)
                .build()
        })
        .unwrap_or_default();
    let lang = locale.0;
    let in_lang = |t: &serde_json::Value| {
        t.get(lang)
            .or_else(|| t.get("zh-CN"))
            .and_then(|x| x.as_str())
            .map(str::to_string)
    };
    let title = in_lang(&v.course_title).unwrap_or(v.course.clone());
    let competences: Vec<String> = v
        .competences
        .iter()
        .map(|c| in_lang(&c.title).unwrap_or(c.code.clone()))
        .collect();
    let platform = state.views.tr(lang, "cert.platform");
    let issuer = match &v.issuer_area {
        Some(area) => format!("{area} · {platform}"),
        None => platform,
    };
    // 4 or 1.5, not 4.0.
    let hours = format!("{}", (v.hours * 10.0).round() / 10.0);
    Page::new(&state, lang, user.0.as_ref(), "cert.title")
        .set("v", &v)
        .set("course_title", title)
        .set("competences", competences)
        .set("issuer", issuer)
        .set("hours", hours)
        .set("issued", state.settings.local_date(v.issued, lang))
        .set("qr", qr)
        .set("link", link)
        .render(&state, "pages/certificate")
}

/// The policy of every media answer: nothing runs, nothing loads.
const MEDIA_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; sandbox";

/// Course media: immutable per version, so cached for a year, with an ETag.
pub async fn media(
    req: HttpRequest,
    state: State,
    user: MaybeUser,
    path: web::Path<(String, i32, String)>,
) -> AppResult<HttpResponse> {
    let (slug, version, file) = path.into_inner();
    let viewer = user.0.as_ref().map(|u| &u.actor);
    let (m, draft) = crate::catalog::store::media(&state.db, viewer, &slug, version, &file).await?;
    let etag = format!("\"{}\"", m.etag);
    // A draft's media changes under the same version and is not public.
    let cache = if draft {
        "private, no-store"
    } else {
        "public, max-age=31536000, immutable"
    };
    if req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        == Some(etag.as_str())
    {
        // The same policy as the file's own answer: a cache that merges a
        // 304's headers into what it keeps must not lose the sandbox.
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .insert_header((header::CACHE_CONTROL, cache))
            .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .insert_header((header::CONTENT_SECURITY_POLICY, MEDIA_CSP))
            .finish());
    }
    let len = if m.file_key.is_some() {
        m.size.max(0) as usize
    } else {
        m.content.len()
    };
    // A range applies only to the version the client holds (`If-Range`).
    let if_range_ok = req
        .headers()
        .get(header::IF_RANGE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v == etag);
    let range = req
        .headers()
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .filter(|_| if_range_ok)
        .map(|v| byte_range(v, len));
    let mut res = match range {
        Some(Some(Ok((start, end)))) => {
            let mut r = HttpResponse::PartialContent();
            r.insert_header((header::CONTENT_RANGE, format!("bytes {start}-{end}/{len}")));
            r
        }
        Some(Some(Err(()))) => {
            return Ok(HttpResponse::RangeNotSatisfiable()
                .insert_header((header::CONTENT_RANGE, format!("bytes */{len}")))
                .insert_header((header::ACCEPT_RANGES, "bytes"))
                .insert_header((header::ETAG, etag))
                .finish());
        }
        // No range, or one this server does not serve (several ranges, other
        // units): the whole file, as RFC 9110 allows.
        _ => HttpResponse::Ok(),
    };
    res.insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, cache))
        .insert_header((header::ACCEPT_RANGES, "bytes"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CONTENT_DISPOSITION, "inline"))
        .content_type(m.mime.as_str());
    // A media file opened on its own (an SVG above all) runs no script and
    // loads nothing; a page that plays or shows it is not concerned.
    res.insert_header((header::CONTENT_SECURITY_POLICY, MEDIA_CSP));
    let (start, end) = match range {
        Some(Some(Ok(r))) => r,
        _ => (0, (len as u64).saturating_sub(1)),
    };
    if let Some(name) = &m.file_key {
        // A video from the file store: streamed, never held whole.
        return Ok(res.body(stored_file(name, start, end, len).await?));
    }
    Ok(match range {
        Some(Some(Ok(_))) => {
            res.body(web::Bytes::from(m.content).slice(start as usize..=end as usize))
        }
        _ => res.body(m.content),
    })
}

/// Bytes `start..=end` of a file in the store, as a body read in chunks.
async fn stored_file(
    name: &str,
    start: u64,
    end: u64,
    len: usize,
) -> AppResult<
    actix_web::body::SizedStream<tokio_util::io::ReaderStream<tokio::io::Take<tokio::fs::File>>>,
> {
    use tokio::io::{AsyncReadExt, AsyncSeekExt};
    let path = crate::catalog::files::open_path(name)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("file store: {e}")))?;
    let mut f = tokio::fs::File::open(&path)
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("file store, {name}: {e}")))?;
    let n = if len == 0 { 0 } else { end - start + 1 };
    f.seek(std::io::SeekFrom::Start(start))
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("file store, {name}: {e}")))?;
    Ok(actix_web::body::SizedStream::new(
        n,
        tokio_util::io::ReaderStream::with_capacity(f.take(n), 64 * 1024),
    ))
}

/// The one byte range of a `Range` header over a body of `len` bytes, as
/// first and last byte: `None` when the header is not a single byte range
/// (served whole), `Err` when it cannot be satisfied (416).
fn byte_range(header: &str, len: usize) -> Option<Result<(u64, u64), ()>> {
    let spec = header.trim().strip_prefix("bytes=")?.trim();
    if spec.contains(',') {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (a, b) = (a.trim(), b.trim());
    let len = len as u64;
    let range = if a.is_empty() {
        // `-n`: the last n bytes.
        let n: u64 = b.parse().ok()?;
        if n == 0 || len == 0 {
            return Some(Err(()));
        }
        (len.saturating_sub(n), len - 1)
    } else {
        let start: u64 = a.parse().ok()?;
        let end: u64 = if b.is_empty() {
            len.saturating_sub(1)
        } else {
            let end: u64 = b.parse().ok()?;
            if end < start {
                return None;
            }
            end.min(len.saturating_sub(1))
        };
        if start >= len {
            return Some(Err(()));
        }
        (start, end)
    };
    Some(Ok(range))
}

#[cfg(test)]
mod range_tests {
    use super::byte_range;

    #[test]
    fn byte_ranges_as_rfc_9110_reads_them() {
        assert_eq!(byte_range("bytes=0-9", 100), Some(Ok((0, 9))));
        assert_eq!(byte_range("bytes=90-", 100), Some(Ok((90, 99))));
        assert_eq!(byte_range("bytes=-10", 100), Some(Ok((90, 99))));
        assert_eq!(byte_range("bytes=-500", 100), Some(Ok((0, 99))));
        assert_eq!(byte_range("bytes=50-500", 100), Some(Ok((50, 99))));
        assert_eq!(byte_range("bytes=100-", 100), Some(Err(())));
        assert_eq!(byte_range("bytes=-0", 100), Some(Err(())));
        assert_eq!(byte_range("bytes=0-1,5-6", 100), None);
        assert_eq!(byte_range("items=0-1", 100), None);
        assert_eq!(byte_range("bytes=9-3", 100), None);
        assert_eq!(byte_range("bytes=x-3", 100), None);
    }
}

#[derive(Deserialize)]
pub struct CodeQuery {
    code: Option<String>,
}

pub async fn verify_form(
    state: State,
    user: MaybeUser,
    locale: Locale,
    q: web::Query<CodeQuery>,
) -> AppResult<HttpResponse> {
    if let Some(c) = q.code.as_deref().filter(|c| !c.trim().is_empty()) {
        return Ok(redirect(&format!(
            "/certificates/{}",
            certificates::normalize(c)
        )));
    }
    Page::new(&state, locale.0, user.0.as_ref(), "cert.verify").render(&state, "pages/verify")
}
