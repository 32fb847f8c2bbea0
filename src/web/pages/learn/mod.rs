//! The learner's pages: catalog, course, lesson, quiz, progress, certificates,
//! and course media. They work with JavaScript off and record learning through
//! the same event service as the API.
//!
//! Here the catalog and what the pages share; each page family has a file:
//! `course`, `lesson`, `quiz`, `me` (progress and certificates) and `media`.

mod course;
mod lesson;
mod me;
mod media;
mod quiz;

use std::collections::BTreeMap;

use actix_web::{HttpResponse, web};
use serde::Serialize;
use serde_json::json;

use crate::accounts::Role;
use crate::app::AppContext;
use crate::catalog::view::{CourseSummary, list_courses};
use crate::error::AppResult;
use crate::learning::progress;
use crate::policy::Action;
use crate::web::extract::CurrentUser;

pub(crate) use course::course_body;
pub use course::{course_page, enroll_self, skip_pre};
pub(crate) use lesson::lesson_body;
pub use lesson::{lesson_done, lesson_page};
pub use me::{CodeQuery, certificate_page, me, verify_form};
pub use media::media;
pub(crate) use quiz::quiz_body;
pub use quiz::{quiz_page, quiz_submit};

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

fn html_response(body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(body)
}
