//! The rules for each kind of file: raw (spanned) TOML in, model out, every
//! broken rule reported at its line. Cross-file rules live in `load`.
//!
//! Here what every rule family shares; the families are `skills`
//! (skills.toml), `course` (course.toml, a lesson's front matter, tasks.toml),
//! `quiz` (a quiz file) and `slug` (the names of courses, lessons and tasks).

mod course;
mod quiz;
mod skills;
mod slug;

use std::collections::HashMap;

use toml::Spanned;

use super::package::{LANGUAGES, Text};
use super::problem::{Sink, did_you_mean, line_of, list};

pub use course::{course, lesson_front, tasks};
pub use quiz::{quiz, test_minimum};
pub use skills::skills;
pub use slug::{Slug, is_slug};

/// What the rules for one course's files need to know.
pub struct Ctx {
    pub languages: Vec<String>,
    /// `None` when course.toml could not be read: competence checks are skipped.
    pub competences: Option<Vec<String>>,
    /// The course's competences known to skills.toml: pre and post tests must
    /// cover these (an unknown one is reported once, in course.toml).
    pub to_cover: Vec<String>,
    /// The course's media paths (`media/…`).
    pub media: Vec<String>,
}

impl Ctx {
    fn competence(&self, sink: &mut Sink, what: &str, c: &Spanned<String>) {
        let Some(known) = &self.competences else {
            return;
        };
        let code = c.get_ref();
        if !known.contains(code) {
            let hint = did_you_mean(code, known.iter().map(String::as_str));
            sink.at(
                pos(c),
                format!(
                    "{what}competence \"{code}\" is not one of the course's competences {}{hint}",
                    list(known)
                ),
            );
        }
    }
}

fn pos<T>(s: &Spanned<T>) -> usize {
    s.span().start
}

/// Checks one localized text has every language, and no other.
fn text(sink: &mut Sink, field: &str, t: &Spanned<Text>, langs: &[String]) -> Text {
    for lang in langs {
        match t.get_ref().get(lang) {
            None => sink.at(pos(t), format!("{field}: no {lang} text")),
            Some(v) if v.trim().is_empty() => {
                sink.at(pos(t), format!("{field}: the {lang} text is empty"));
            }
            Some(_) => {}
        }
    }
    for k in t.get_ref().keys() {
        if !langs.contains(k) {
            sink.at(
                pos(t),
                format!("{field}: language \"{k}\" is not one of {}", list(langs)),
            );
        }
    }
    t.get_ref().clone()
}

/// Reports a repeated id at its second use.
fn once(sink: &mut Sink, seen: &mut HashMap<String, usize>, what: &str, id: &Spanned<String>) {
    let line = line_of(sink.text, pos(id)) + sink.line_offset;
    if let Some(first) = seen.insert(id.get_ref().clone(), line) {
        sink.at(
            pos(id),
            format!(
                "{what} \"{}\" is used twice (also on line {first})",
                id.get_ref()
            ),
        );
    }
}

pub fn all_languages() -> Vec<String> {
    LANGUAGES.iter().map(|l| l.to_string()).collect()
}
