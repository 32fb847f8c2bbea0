//! "以学员身份预览": the whole draft as learners will read it once
//! published: the course page, every lesson in order with its title and
//! body, its check, the tasks and the two tests, built by the very views
//! the learner pages use (`catalog::view`) from the stored draft, read-only,
//! for the course's authors only.

use super::*;
use crate::catalog::view::{CourseView, LessonView, QuizView};

pub async fn preview(author: Author, path: web::Path<String>) -> AppResult<HttpResponse> {
    let e = author.editor(&path).await?;
    let lang = e.lang;
    let info = crate::learning::content::load(&e.state.db, e.w.row.clone()).await?;
    let course = CourseView::build(&info, lang);
    let quiz = |slug: &str| QuizView::build(&info, slug, lang, None).ok();
    let lessons: Vec<Value> = course
        .lessons
        .iter()
        .map(|l| {
            // A lesson with no text yet is listed by its title alone.
            let page = LessonView::build(&info, &l.slug, lang).ok();
            let check = l.check.as_deref().and_then(quiz);
            json!({"slug": l.slug, "title": l.title, "minutes": l.minutes,
                   "n": page.as_ref().map(|p| p.number), "of": info.lessons.len(),
                   "html": page.map(|p| p.html), "check": check})
        })
        .collect();
    let (pre, post) = (quiz("pre"), quiz("post"));
    e.page("author.preview_learner")
        .set("c", &course)
        .set("lessons", lessons)
        .set("pre_n", pre.as_ref().map_or(0, |q| q.questions.len()))
        .set("post_n", post.as_ref().map_or(0, |q| q.questions.len()))
        .set("pre", pre)
        .set("post", post)
        .render(e.state, "pages/teach_preview")
}
