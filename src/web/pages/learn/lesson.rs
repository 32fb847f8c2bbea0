//! The lesson page (recorded as a page view for a learner enrolled in the
//! course) and the form that marks a lesson finished.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use secrecy::ExposeSecret;

use super::{State, html_response};
use crate::accounts::Role;
use crate::app::AppContext;
use crate::catalog::view::{self, visible};
use crate::entities::course::CourseStatus;
use crate::error::AppResult;
use crate::learning::content::CourseInfo;
use crate::learning::events::{self, Event};
use crate::policy::Action;
use crate::web::extract::{CurrentUser, Locale};
use crate::web::pages::{Page, offline, redirect};

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
        && info.course.status == CourseStatus::Published
        && state
            .sessions
            .enrolled(&state.db, user.actor.id)
            .await?
            .contains(&slug);
    let low_data = offline::low_data(&req);
    let (voice, keep) = crate::web::pages::voice::choose(&req, state.settings.secure_cookies());
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
        events::page_view(&state.recorder(), &user.actor, info, &lesson).await?;
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
    let (playing, voice) = crate::web::pages::voice::playing(&view, voice);
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
    // The proof the lesson page carries that the server served it to her.
    let served = url::form_urlencoded::parse(&body)
        .find(|(k, _)| k == "served")
        .map(|(_, v)| v.into_owned());
    let finished = Event::lesson_finished(info.clone(), &lesson, served)?;
    events::record(&state.recorder(), &user.actor, finished).await?;
    Ok(redirect(
        &match (info.check_of(&lesson), info.neighbours(&lesson).1) {
            (Some(q), _) => format!("/courses/{slug}/quiz/{}", q.row.slug),
            (None, Some(n)) => format!("/courses/{slug}/lessons/{}", n.slug),
            (None, None) => format!("/courses/{slug}"),
        },
    ))
}
