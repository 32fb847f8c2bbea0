//! The learner's pages: catalog, course, lesson, quiz, progress, certificates,
//! and course media. They work with JavaScript off and record learning through
//! the same event service as the API.

use std::collections::BTreeMap;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::Deserialize;
use serde_json::json;

use super::{Page, redirect};
use crate::entities::{course, course_media};
use crate::error::{AppError, AppResult};
use crate::learning::content::text;
use crate::learning::{certificates, completion, enroll, events, progress};
use crate::policy::Action;
use crate::app::AppContext;
use crate::web::api::learning::{course_detail, list_courses, public_question, visible};
use crate::web::extract::{CurrentUser, Locale, MaybeUser};

type State = web::Data<AppContext>;

/// The catalog by category, with the learner's state on each course.
pub async fn catalog(
    state: &AppContext,
    user: Option<&CurrentUser>,
    lang: &str,
) -> AppResult<serde_json::Value> {
    let drafts = user.is_some_and(|u| u.actor.may(Action::ViewDraftCourses));
    let rows = list_courses(&state.db, drafts).await?;
    let mine: BTreeMap<String, progress::CourseProgress> = match user {
        Some(u) if u.user.role == "learner" => {
            progress::overview(&state.db, &state.content, u.user.id)
                .await?
                .into_iter()
                .map(|p| (p.course.clone(), p))
                .collect()
        }
        _ => BTreeMap::new(),
    };
    let mut cats: BTreeMap<String, Vec<serde_json::Value>> = BTreeMap::new();
    for c in &rows {
        let mut v = crate::web::api::learning::course_json(c, lang);
        v["mine"] = json!(mine.get(&c.slug));
        cats.entry(c.category.clone()).or_default().push(v);
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
    let info = visible(&state, &user, &path).await?;
    let mut detail = course_detail(&state, &info, locale.0).await?;
    let e = enroll::find(&state.db, user.user.id, &info.course.slug).await?;
    let mine = if e.is_some() {
        progress::overview(&state.db, &state.content, user.user.id)
            .await?
            .into_iter()
            .find(|p| p.course == info.course.slug)
    } else {
        None
    };
    let missing = match &e {
        Some(_) => Some(completion::missing(&state.db, user.user.id, &info).await?),
        None => None,
    };
    // The learner sees the trainer's sign-offs: the best level per task.
    let signed: BTreeMap<String, i32> = crate::entities::task_signoff::Entity::find()
        .filter(crate::entities::task_signoff::Column::UserId.eq(user.user.id))
        .filter(crate::entities::task_signoff::Column::CourseSlug.eq(info.course.slug.as_str()))
        .all(&state.db)
        .await?
        .into_iter()
        .fold(BTreeMap::new(), |mut m, s| {
            let e = m.entry(s.task_slug).or_insert(s.level);
            *e = (*e).max(s.level);
            m
        });
    if let Some(tasks) = detail["tasks"].as_array_mut() {
        for t in tasks {
            let lvl = t["slug"].as_str().and_then(|s| signed.get(s)).copied();
            t["level"] = json!(lvl.map(|l| format!("teach.level{l}")));
        }
    }
    if let Some(lessons) = detail["lessons"].as_array_mut() {
        for l in lessons {
            let st = l["slug"]
                .as_str()
                .and_then(|s| mine.as_ref().and_then(|m| m.lessons.get(s)))
                .cloned();
            l["state"] = json!(st);
        }
    }
    Page::new(&state, locale.0, Some(&user), "course.title")
        .set("title", detail["title"].clone())
        .set("c", detail)
        .set(
            "enrollment",
            e.map(|e| json!({"state": e.state, "pre_done": e.pre_done})),
        )
        .set("mine", mine)
        .set("missing", missing.map(|m| json!({"lessons": m.lessons.len(), "checks": m.checks.len(), "tasks": m.tasks.len(), "post_test": m.post_test})))
        .set("is_learner", user.user.role == "learner")
        .render(&state, "pages/course")
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
        &user.user,
        &path,
        None,
    )
    .await?;
    Ok(redirect(&format!("/courses/{}", path.as_str())))
}

pub async fn skip_pre(
    state: State,
    user: CurrentUser,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    user.actor.require(Action::Learn)?;
    enroll::find(&state.db, user.user.id, &path)
        .await?
        .ok_or(AppError::NotFound)?;
    enroll::mark_pre_done(&state.db, user.user.id, &path).await?;
    Ok(redirect(&format!("/courses/{}", path.as_str())))
}

pub async fn lesson_page(
    state: State,
    user: CurrentUser,
    locale: Locale,
    path: web::Path<(String, String)>,
) -> AppResult<HttpResponse> {
    let (slug, lesson) = path.into_inner();
    let info = visible(&state, &user, &slug).await?;
    let l = info.lesson(&lesson).ok_or(AppError::NotFound)?;
    let t = crate::catalog::store::lesson_text(&state.db, &info, l, locale.0)
        .await?
        .ok_or(AppError::NotFound)?;
    let enrolled = enroll::find(&state.db, user.user.id, &slug)
        .await?
        .is_some();
    if enrolled && user.user.role == "learner" {
        events::record(
            &state,
            &user.actor,
            "lesson_opened",
            &slug,
            Some(&lesson),
            json!({}),
        )
        .await?;
    }
    let i = info
        .lessons
        .iter()
        .position(|x| x.slug == l.slug)
        .unwrap_or(0);
    let def = info
        .course
        .languages
        .split(',')
        .next()
        .unwrap_or("zh-CN")
        .to_string();
    let langs: Vec<&str> = info.course.languages.split(',').collect();
    Page::new(&state, locale.0, Some(&user), "course.title")
        .set("title", &t.title)
        .set("course", json!({"slug": slug, "title": text(&info.course.title_json, locale.0, &def)}))
        .set("lesson", json!({"slug": l.slug, "minutes": l.minutes, "n": i + 1, "of": info.lessons.len(), "html": t.body_html,
            "fallback": t.locale != locale.0, "audio": l.audio.as_ref().map(|a| format!("/c/{}/{}/{}", slug, info.course.version, a))}))
        .set("prev", i.checked_sub(1).and_then(|j| info.lessons.get(j)).map(|x| x.slug.clone()))
        .set("next", info.lessons.get(i + 1).map(|x| x.slug.clone()))
        .set("check", info.lesson_checks().find(|q| q.row.lesson_slug.as_deref() == Some(l.slug.as_str())).map(|q| q.row.slug.clone()))
        .set("enrolled", enrolled && user.user.role == "learner")
        .set("langs", langs)
        .render(&state, "pages/lesson")
}

pub async fn lesson_done(
    state: State,
    user: CurrentUser,
    path: web::Path<(String, String)>,
) -> AppResult<HttpResponse> {
    user.actor.require(Action::Learn)?;
    let (slug, lesson) = path.into_inner();
    let info = visible(&state, &user, &slug).await?;
    info.lesson(&lesson).ok_or(AppError::NotFound)?;
    events::record(
        &state,
        &user.actor,
        "lesson_finished",
        &slug,
        Some(&lesson),
        json!({}),
    )
    .await?;
    let check = info
        .lesson_checks()
        .find(|q| q.row.lesson_slug.as_deref() == Some(lesson.as_str()))
        .map(|q| q.row.slug.clone());
    let i = info
        .lessons
        .iter()
        .position(|x| x.slug == lesson)
        .unwrap_or(0);
    Ok(redirect(&match (check, info.lessons.get(i + 1)) {
        (Some(q), _) => format!("/courses/{slug}/quiz/{q}"),
        (None, Some(n)) => format!("/courses/{slug}/lessons/{}", n.slug),
        (None, None) => format!("/courses/{slug}"),
    }))
}

pub async fn quiz_page(
    state: State,
    user: CurrentUser,
    locale: Locale,
    path: web::Path<(String, String)>,
) -> AppResult<HttpResponse> {
    let (slug, quiz) = path.into_inner();
    let info = visible(&state, &user, &slug).await?;
    let q = info.quiz(&quiz).ok_or(AppError::NotFound)?;
    let def = info
        .course
        .languages
        .split(',')
        .next()
        .unwrap_or("zh-CN")
        .to_string();
    Page::new(
        &state,
        locale.0,
        Some(&user),
        &format!("quiz.{}", q.row.kind),
    )
    .set(
        "course",
        json!({"slug": slug, "title": text(&info.course.title_json, locale.0, &def)}),
    )
    .set(
        "quiz",
        json!({"slug": q.row.slug, "kind": q.row.kind, "pass_mark": info.course.pass_mark}),
    )
    .set(
        "questions",
        q.questions
            .iter()
            .map(|x| public_question(x, locale.0, &def))
            .collect::<Vec<_>>(),
    )
    .set("attempt_id", uuid::Uuid::new_v4().to_string())
    .set("can_submit", user.user.role == "learner")
    .render(&state, "pages/quiz")
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
    let info = visible(&state, &user, &slug).await?;
    let q = info.quiz(&quiz).ok_or(AppError::NotFound)?;
    // Form fields: `q.<id>` (repeated for several choices), `attempt_id`.
    let mut answers: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut attempt_id = None;
    for (k, v) in url::form_urlencoded::parse(&body) {
        if let Some(id) = k.strip_prefix("q.") {
            answers
                .entry(id.to_string())
                .or_default()
                .push(v.into_owned());
        } else if k == "attempt_id" {
            attempt_id = Some(v.into_owned());
        }
    }
    // Order questions: `order.<id>.<choice>` = position.
    for qu in q
        .questions
        .iter()
        .filter(|x| x.kind == crate::courses::QuestionKind::Order)
    {
        let mut pos: Vec<(i64, String)> = url::form_urlencoded::parse(&body)
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
    let id = attempt_id
        .filter(|a| uuid::Uuid::parse_str(a).is_ok())
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let e = events::EventIn {
        id: id.clone(),
        kind: "quiz_submitted".into(),
        course: Some(slug.clone()),
        lesson: None,
        occurred_at: None,
        payload: Some(json!({"quiz": quiz, "answers": answers})),
    };
    let r = events::ingest(
        &state.db,
        &state.content,
        Some(&state.views),
        &state.settings.base_url(),
        &user.actor,
        "web",
        vec![e],
    )
    .await?;
    if let Some(rej) = r.rejected.first() {
        return Err(AppError::BadRequest(rej.reason.clone()));
    }
    let g = match r.graded.into_values().next() {
        Some(g) => g,
        None => {
            let a = crate::entities::quiz_attempt::Entity::find()
                .filter(
                    crate::entities::quiz_attempt::Column::AttemptKey
                        .eq(uuid::Uuid::parse_str(&id).map_err(|_| AppError::NotFound)?),
                )
                .one(&state.db)
                .await?
                .ok_or(AppError::NotFound)?;
            serde_json::from_str(&a.result_json).map_err(|e| AppError::Internal(e.into()))?
        }
    };
    let def = info
        .course
        .languages
        .split(',')
        .next()
        .unwrap_or("zh-CN")
        .to_string();
    let results: Vec<_> = q
        .questions
        .iter()
        .zip(g.questions.iter())
        .map(|(qu, r)| {
            let choices: Vec<serde_json::Value> =
                serde_json::from_str(&qu.choices_json).unwrap_or_default();
            let label = |id: &str| {
                choices
                    .iter()
                    .find(|c| c["id"] == id)
                    .map(|c| text(&c["text"].to_string(), locale.0, &def))
                    .unwrap_or_else(|| state.views.tr(locale.0, &format!("quiz.{id}")))
            };
            json!({"prompt": text(&qu.prompt_json, locale.0, &def), "correct": r.correct,
                "answer": r.answer.iter().map(|a| label(a)).collect::<Vec<_>>().join(" → "),
                "explain": text(&qu.explain_json, locale.0, &def)})
        })
        .collect();
    if q.row.kind == "pre" {
        enroll::mark_pre_done(&state.db, user.user.id, &slug).await?;
    }
    let cert = crate::entities::certificate::Entity::find()
        .filter(crate::entities::certificate::Column::UserId.eq(user.user.id))
        .filter(crate::entities::certificate::Column::CourseSlug.eq(slug.as_str()))
        .one(&state.db)
        .await?
        .map(|c| c.code);
    let next = q.row.lesson_slug.as_deref().and_then(|ls| {
        let i = info.lessons.iter().position(|x| x.slug == ls)?;
        info.lessons.get(i + 1).map(|x| x.slug.clone())
    });
    Page::new(&state, locale.0, Some(&user), "quiz.result")
        .set(
            "course",
            json!({"slug": slug, "title": text(&info.course.title_json, locale.0, &def)}),
        )
        .set("quiz", json!({"slug": q.row.slug, "kind": q.row.kind}))
        .set("g", &g)
        .set("results", results)
        .set("certificate", cert)
        .set("next", next)
        .render(&state, "pages/quiz_result")
}

pub async fn me(state: State, user: CurrentUser, locale: Locale) -> AppResult<HttpResponse> {
    let items = progress::overview(&state.db, &state.content, user.user.id).await?;
    let titles: BTreeMap<String, String> = course::Entity::find()
        .filter(course::Column::Status.eq("published"))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|c| {
            let def = c.languages.split(',').next().unwrap_or("zh-CN").to_string();
            (c.slug.clone(), text(&c.title_json, locale.0, &def))
        })
        .collect();
    let items: Vec<_> = items
        .into_iter()
        .map(|p| {
            let mut v = json!(p);
            v["title"] = json!(titles.get(&p.course).cloned().unwrap_or(p.course.clone()));
            v
        })
        .collect();
    Page::new(&state, locale.0, Some(&user), "me.title")
        .set("items", items)
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
    let title = v
        .course_title
        .get(locale.0)
        .or_else(|| v.course_title.get("zh-CN"))
        .cloned()
        .unwrap_or(json!(v.course));
    Page::new(&state, locale.0, user.0.as_ref(), "cert.title")
        .set("v", &v)
        .set("course_title", title)
        .set("qr", qr)
        .set("link", link)
        .render(&state, "pages/certificate")
}

/// Course media: immutable per version, so cached for a year, with an ETag.
pub async fn media(
    req: HttpRequest,
    state: State,
    path: web::Path<(String, i32, String)>,
) -> AppResult<HttpResponse> {
    let (slug, version, file) = path.into_inner();
    let c = course::Entity::find()
        .filter(course::Column::Slug.eq(slug.as_str()))
        .filter(course::Column::Version.eq(version))
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound)?;
    let m = course_media::Entity::find()
        .filter(course_media::Column::CourseId.eq(c.id))
        .filter(course_media::Column::Path.eq(format!("media/{file}")))
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound)?;
    let etag = format!("\"{}\"", m.etag);
    let cache = "public, max-age=31536000, immutable";
    if req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        == Some(etag.as_str())
    {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .insert_header((header::CACHE_CONTROL, cache))
            .finish());
    }
    let mut res = HttpResponse::Ok();
    res.insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, cache))
        .content_type(m.mime.as_str());
    if m.mime == "image/svg+xml" {
        // An SVG opened on its own runs no script and loads nothing.
        res.insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; sandbox",
        ));
    }
    Ok(res.body(m.content))
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
