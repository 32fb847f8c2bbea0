//! One lesson as a learner reads it: its text in her language (else the
//! default one), its neighbours, its check and its narration; and where a
//! course version's media are served.

use serde::Serialize;

use crate::error::{AppError, AppResult};
use crate::learning::content::{CourseInfo, text};

pub use crate::learning::content::media_url;

/// One lesson as a learner reads it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LessonView {
    /// The course's slug.
    pub course: String,
    pub course_title: String,
    pub slug: String,
    pub position: i32,
    /// Its place in the course (from 1) and the number of lessons.
    pub number: usize,
    pub of: usize,
    pub minutes: i32,
    /// The language of the text shown.
    pub language: String,
    /// The text is in the course's default language, not the one asked for.
    pub fallback: bool,
    pub languages: Vec<String>,
    pub title: String,
    pub html: String,
    /// The narration, when the lesson has one.
    pub audio: Option<String>,
    /// Recordings in spoken varieties (镇雄话, 彝语 …), whatever the language shown.
    pub tracks: Vec<crate::catalog::voice::TrackView>,
    pub prev: Option<String>,
    pub next: Option<String>,
    /// The lesson check that follows the lesson.
    pub check: Option<String>,
}

impl LessonView {
    /// The lesson `slug` of `info` in `lang` (else the default language);
    /// not found when the course has no such lesson or it has no text.
    pub fn build(info: &CourseInfo, slug: &str, lang: &str) -> AppResult<LessonView> {
        let l = info.lesson(slug).ok_or(AppError::NotFound)?;
        let t = info.text_of(l.id, lang).ok_or(AppError::NotFound)?;
        let (prev, next) = info.neighbours(&l.slug);
        Ok(LessonView {
            course: info.course.slug.clone(),
            course_title: text(&info.course.title_json, lang, info.default_language()),
            slug: l.slug.clone(),
            position: l.position,
            number: info
                .lessons
                .iter()
                .position(|x| x.slug == l.slug)
                .map_or(1, |i| i + 1),
            of: info.lessons.len(),
            minutes: l.minutes,
            fallback: t.locale != lang,
            language: t.locale.clone(),
            languages: info
                .course
                .languages
                .split(',')
                .map(str::to_string)
                .collect(),
            title: t.title.clone(),
            html: titled(&t.title, &t.body_html),
            // The narration of the text shown, never another language's;
            // versions imported before narration was kept per language have
            // the default language's on the lesson.
            audio: t
                .audio
                .as_deref()
                .or_else(|| {
                    (t.locale == info.default_language())
                        .then_some(l.audio.as_deref())
                        .flatten()
                })
                .map(|a| media_url(info, a)),
            tracks: crate::catalog::voice::track_views(info, l.id, lang),
            prev: prev.map(|x| x.slug.clone()),
            next: next.map(|x| x.slug.clone()),
            check: info.check_of(&l.slug).map(|q| q.row.slug.clone()),
        })
    }
}

/// A lesson's HTML as a learner reads it: its title (the field a trainer
/// fills in) as the heading, then the body. A body that opens with its own
/// top heading (lessons written as files repeat the title there) has that
/// heading replaced, so the title is shown once and is always the field's.
pub fn titled(title: &str, body_html: &str) -> String {
    let body = body_html.trim_start();
    let rest = body
        .strip_prefix("<h1>")
        .and_then(|b| b.split_once("</h1>"))
        .map_or(body, |(_, rest)| rest.trim_start());
    if title.trim().is_empty() {
        return body_html.to_string();
    }
    format!("<h1>{}</h1>\n{rest}", handlebars::html_escape(title.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::learning::content::tests::sample;

    #[test]
    fn narration_is_served_from_the_course_version() {
        assert_eq!(
            media_url(&sample(), "media/one.opus"),
            "/c/phone/3/media/one.opus"
        );
    }

    #[test]
    fn a_lesson_shows_its_title_once() {
        // Written in the browser: no heading in the body.
        assert_eq!(
            titled("连 Wi-Fi", "<p>打开设置</p>\n"),
            "<h1>连 Wi-Fi</h1>\n<p>打开设置</p>\n"
        );
        // Written as a file: the body's own top heading gives way to the title.
        assert_eq!(
            titled("新题目", "<h1>旧题目</h1>\n<p>x</p>"),
            "<h1>新题目</h1>\n<p>x</p>"
        );
        assert_eq!(
            titled("<b>&", "<h2>a</h2>"),
            "<h1>&lt;b&gt;&amp;</h1>\n<h2>a</h2>"
        );
    }
}
