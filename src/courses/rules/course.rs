//! The rules of course.toml (with the post-test rule it states), of a
//! lesson's front matter and of tasks.toml.

use std::collections::HashMap;

use super::{Ctx, is_slug, once, pos, text};
use crate::courses::package::{Course, LANGUAGES, LessonText, PostTestRule, Skills, Task};
use crate::courses::problem::{Sink, did_you_mean, list};
use crate::courses::raw::{RawCourse, RawFront, RawTasks};

/// course.toml. `skills` is the framework and its file as shown (when readable).
pub fn course(
    raw: &RawCourse,
    folder: &str,
    skills: Option<(&Skills, &str)>,
    sink: &mut Sink,
) -> Course {
    let slug = raw.slug.get_ref();
    if slug != folder {
        sink.at(
            pos(&raw.slug),
            format!("slug \"{slug}\" must equal the folder name \"{folder}\""),
        );
    } else if !is_slug(slug) {
        sink.at(
            pos(&raw.slug),
            format!("slug \"{slug}\" must be lowercase letters, digits and dashes"),
        );
    }
    let category = raw.category.get_ref();
    if category != "it" && category != "ecommerce" {
        sink.at(
            pos(&raw.category),
            format!("category \"{category}\" is not one of it, ecommerce"),
        );
    }
    let level = *raw.level.get_ref();
    if !(1..=3).contains(&level) {
        sink.at(pos(&raw.level), "level must be 1, 2 or 3");
    }
    let mut languages: Vec<String> = Vec::new();
    for l in raw.languages.get_ref() {
        let code = l.get_ref();
        if !LANGUAGES.contains(&code.as_str()) {
            let hint = did_you_mean(code, LANGUAGES);
            sink.at(
                pos(l),
                format!(
                    "language \"{code}\" is not one of {}{hint}",
                    list(&LANGUAGES)
                ),
            );
        } else if languages.contains(code) {
            sink.at(pos(l), format!("language \"{code}\" is listed twice"));
        } else {
            languages.push(code.clone());
        }
    }
    if raw.languages.get_ref().is_empty() {
        sink.at(pos(&raw.languages), "languages is empty (list zh-CN first)");
    }
    let mut competences: Vec<String> = Vec::new();
    if raw.competences.get_ref().is_empty() {
        sink.at(pos(&raw.competences), "competences is empty");
    }
    for c in raw.competences.get_ref() {
        let code = c.get_ref();
        if let Some((skills, skills_file)) = skills
            && skills.get(code).is_none()
        {
            let hint = did_you_mean(code, skills.competences.iter().map(|k| k.code.as_str()));
            sink.at(
                pos(c),
                format!("competence \"{code}\" is not in {skills_file}{hint}"),
            );
        }
        if competences.contains(code) {
            sink.at(pos(c), format!("competence \"{code}\" is listed twice"));
        } else {
            competences.push(code.clone());
        }
    }
    let pass_mark = *raw.pass_mark.get_ref();
    if !(1..=100).contains(&pass_mark) {
        sink.at(
            pos(&raw.pass_mark),
            "pass_mark must be a percent from 1 to 100",
        );
    }
    let hours = *raw.hours.get_ref();
    if !(hours.is_finite() && hours > 0.0 && hours <= 1000.0) {
        sink.at(
            pos(&raw.hours),
            "hours must be a number above 0 (e.g. 3 or 1.5)",
        );
    }
    let post_test = match &raw.post_test {
        None => PostTestRule::default(),
        Some(p) => PostTestRule::parse(p.get_ref()).unwrap_or_else(|| {
            let names = PostTestRule::ALL.map(PostTestRule::name);
            let hint = did_you_mean(p.get_ref(), names);
            sink.at(
                pos(p),
                format!(
                    "post_test \"{}\" is not one of {}{hint}",
                    p.get_ref(),
                    list(&names)
                ),
            );
            PostTestRule::default()
        }),
    };
    Course {
        category: category.clone(),
        post_test,
        level: u8::try_from(level).unwrap_or(0),
        languages: languages.clone(),
        competences,
        pass_mark: u8::try_from(pass_mark).unwrap_or(0),
        hours,
        title: text(sink, "title", &raw.title, &languages),
        summary: text(sink, "summary", &raw.summary, &languages),
        ..Course::empty(slug)
    }
}

/// A lesson's front matter; `media` lists the course's media paths.
pub fn lesson_front(raw: &RawFront, ctx: &Ctx, media: &[String], sink: &mut Sink) -> LessonText {
    if raw.title.get_ref().trim().is_empty() {
        sink.at(pos(&raw.title), "title is empty");
    }
    let minutes = *raw.minutes.get_ref();
    if !(5..=10).contains(&minutes) {
        sink.at(
            pos(&raw.minutes),
            "minutes must be from 5 to 10 (split longer lessons)",
        );
    }
    if raw.competences.get_ref().is_empty() {
        sink.at(pos(&raw.competences), "competences is empty");
    }
    for c in raw.competences.get_ref() {
        ctx.competence(sink, "", c);
    }
    if let Some(audio) = &raw.audio
        && !media.contains(audio.get_ref())
    {
        sink.at(
            pos(audio),
            format!("audio \"{}\": no such file in media/", audio.get_ref()),
        );
    }
    LessonText {
        title: raw.title.get_ref().clone(),
        minutes: u32::try_from(minutes).unwrap_or(0),
        competences: raw
            .competences
            .get_ref()
            .iter()
            .map(|c| c.get_ref().clone())
            .collect(),
        audio: raw.audio.as_ref().map(|a| a.get_ref().clone()),
        tracks: crate::courses::voice::tracks(raw.tracks.as_ref(), media, sink),
        body_md: String::new(),
        source: None,
    }
}

pub fn tasks(raw: &RawTasks, ctx: &Ctx, sink: &mut Sink) -> Vec<Task> {
    if raw.task.is_empty() {
        sink.file("no [[task]] entries (delete the file if the course has no tasks)");
    }
    let mut seen = HashMap::new();
    let mut out = Vec::new();
    for t in &raw.task {
        let t = t.get_ref();
        let id = t.id.get_ref();
        if !is_slug(id) {
            sink.at(
                pos(&t.id),
                format!("task id \"{id}\" must be lowercase letters, digits and dashes"),
            );
        }
        once(sink, &mut seen, "task id", &t.id);
        let what = format!("task \"{id}\": ");
        ctx.competence(sink, &what, &t.competence);
        out.push(Task {
            id: id.clone(),
            competence: t.competence.get_ref().clone(),
            required: *t.required.get_ref(),
            title: text(sink, &format!("{what}title"), &t.title, &ctx.languages),
            evidence: text(
                sink,
                &format!("{what}evidence"),
                &t.evidence,
                &ctx.languages,
            ),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_post_test_rule_is_read_from_course_toml() {
        for r in PostTestRule::ALL {
            assert_eq!(PostTestRule::parse(r.name()), Some(r));
        }
        assert_eq!(PostTestRule::of_source(None), PostTestRule::AfterLessons);
        let toml = "slug = \"a\"\nhours = 2\n[title]\nzh-CN = \"x\"\n";
        assert_eq!(
            PostTestRule::of_source(Some(toml)),
            PostTestRule::AfterLessons
        );
        let toml = "slug = \"a\"\npost_test = \"any_time\"\n";
        assert_eq!(PostTestRule::of_source(Some(toml)), PostTestRule::AnyTime);
    }

    #[test]
    fn a_wrong_post_test_rule_is_reported_at_its_line() {
        let text = "slug = \"a\"\ncategory = \"it\"\nlevel = 1\nlanguages = [\"zh-CN\"]\n\
            competences = [\"it.x\"]\npass_mark = 80\nhours = 2\npost_test = \"after_lesson\"\n\
            title = { zh-CN = \"课\" }\nsummary = { zh-CN = \"说明\" }\n";
        let raw: RawCourse = toml::from_str(text).unwrap();
        let mut problems = Vec::new();
        let mut sink = Sink {
            file: "a/course.toml",
            text,
            line_offset: 0,
            problems: &mut problems,
        };
        let c = course(&raw, "a", None, &mut sink);
        assert_eq!(c.post_test, PostTestRule::AfterLessons);
        let shown: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        assert_eq!(shown.len(), 1, "{shown:?}");
        assert!(
            shown[0].starts_with("a/course.toml:8: post_test \"after_lesson\" is not one of"),
            "{shown:?}"
        );
        assert!(
            shown[0].contains("did you mean \"after_lessons\""),
            "{shown:?}"
        );
        let ok = text.replace("after_lesson\"", "any_time\"");
        let raw: RawCourse = toml::from_str(&ok).unwrap();
        let mut problems = Vec::new();
        let mut sink = Sink {
            file: "a/course.toml",
            text: &ok,
            line_offset: 0,
            problems: &mut problems,
        };
        assert_eq!(
            course(&raw, "a", None, &mut sink).post_test,
            PostTestRule::AnyTime
        );
        assert!(problems.is_empty(), "{problems:?}");
    }
}
