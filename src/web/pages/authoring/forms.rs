//! The authoring forms, parsed at the edge into the typed edits of
//! `courses::edit`. Every bad field is reported by name with a message key
//! (`author.err.*`) the page translates; nothing here touches the database.

use std::collections::BTreeMap;

use crate::courses::edit::{LessonEdit, Meta};
use crate::courses::{Choice, Question, QuestionKind, Task, Text, is_slug};

/// Field name → message key.
pub type Errors = BTreeMap<String, String>;

/// Choice ids offered on the question form, in order.
pub const CHOICE_IDS: [&str; 5] = ["a", "b", "c", "d", "e"];

/// A urlencoded form that may repeat a field (checkboxes).
pub struct Fields(Vec<(String, String)>);

impl Fields {
    pub fn parse(body: &[u8]) -> Fields {
        Fields(
            url::form_urlencoded::parse(body)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The first value (trimmed), or "".
    pub fn get(&self, key: &str) -> String {
        self.raw(key).trim().to_string()
    }

    /// The first value as sent (lesson bodies keep their spacing).
    pub fn raw(&self, key: &str) -> String {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    pub fn all(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect()
    }

    /// Every field as a JSON object (first value each, lists for repeats), to
    /// fill the form again after an error.
    pub fn values(&self) -> serde_json::Value {
        let mut m = serde_json::Map::new();
        for (k, v) in &self.0 {
            let list = self.0.iter().filter(|(x, _)| x == k).count() > 1;
            if list {
                if let Some(a) = m
                    .entry(k.clone())
                    .or_insert_with(|| serde_json::json!([]))
                    .as_array_mut()
                {
                    a.push(serde_json::json!(v));
                }
            } else {
                m.insert(k.clone(), serde_json::json!(v));
            }
        }
        serde_json::Value::Object(m)
    }

    /// Per-language text fields `prefix.LANG`; required ones must not be blank.
    fn text(&self, prefix: &str, langs: &[String], required: bool, errors: &mut Errors) -> Text {
        let mut t = Text::new();
        for lang in langs {
            let key = format!("{prefix}.{lang}");
            let v = self.get(&key);
            if v.is_empty() {
                if required {
                    errors.insert(key, "author.err.required".into());
                }
            } else {
                t.insert(lang.clone(), v);
            }
        }
        t
    }
}

fn number<T: std::str::FromStr + PartialOrd>(
    f: &Fields,
    key: &str,
    range: std::ops::RangeInclusive<T>,
    errors: &mut Errors,
) -> Option<T> {
    match f.get(key).parse::<T>() {
        Ok(v) if range.contains(&v) => Some(v),
        _ => {
            errors.insert(key.into(), format!("author.err.{key}"));
            None
        }
    }
}

/// The new-course slug: a course slug, not a page name.
pub fn course_slug(f: &Fields, errors: &mut Errors) -> String {
    let slug = f.get("slug");
    if !is_slug(&slug) || slug.len() > 60 || slug == "new" {
        errors.insert("slug".into(), "author.err.slug".into());
    }
    slug
}

/// Course metadata; `known` are the competence codes of the framework.
pub fn meta(f: &Fields, known: &[String]) -> Result<Meta, Errors> {
    let mut errors = Errors::new();
    let category = f.get("category");
    if category != "it" && category != "ecommerce" {
        errors.insert("category".into(), "author.err.category".into());
    }
    let level = number(f, "level", 1u8..=3, &mut errors);
    let pass_mark = number(f, "pass_mark", 1u8..=100, &mut errors);
    let hours = number(f, "hours", 0.1f64..=1000.0, &mut errors);
    let mut languages = vec!["zh-CN".to_string()];
    if !f.get("lang_en").is_empty() {
        languages.push("en".into());
    }
    let competences = f.all("competence");
    if competences.is_empty() {
        errors.insert("competence".into(), "author.err.competences".into());
    } else if competences.iter().any(|c| !known.contains(c)) {
        errors.insert("competence".into(), "author.err.competence".into());
    }
    let title = f.text("title", &languages, true, &mut errors);
    let summary = f.text("summary", &languages, true, &mut errors);
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Meta {
        category,
        level: level.unwrap_or(1),
        languages,
        competences,
        pass_mark: pass_mark.unwrap_or(80),
        hours: hours.unwrap_or(1.0),
        title,
        summary,
    })
}

/// A new lesson: slug (not used yet in the course) and default-language title.
pub fn new_lesson(f: &Fields, taken: &[String]) -> Result<(String, String), Errors> {
    let mut errors = Errors::new();
    let slug = f.get("lesson_slug");
    if !is_slug(&slug) || slug.len() > 60 {
        errors.insert("lesson_slug".into(), "author.err.slug".into());
    } else if taken.contains(&slug) {
        errors.insert("lesson_slug".into(), "author.err.lesson_taken".into());
    }
    let title = f.get("lesson_title");
    if title.is_empty() {
        errors.insert("lesson_title".into(), "author.err.required".into());
    }
    if errors.is_empty() {
        Ok((slug, title))
    } else {
        Err(errors)
    }
}

/// A lesson's text in every course language (the default one required).
pub fn lesson(
    f: &Fields,
    langs: &[String],
    course_competences: &[String],
) -> Result<LessonEdit, Errors> {
    let mut errors = Errors::new();
    let minutes = number(f, "minutes", 5u32..=10, &mut errors);
    let competences = f.all("competence");
    if competences.is_empty() {
        errors.insert("competence".into(), "author.err.competences".into());
    } else if competences.iter().any(|c| !course_competences.contains(c)) {
        errors.insert("competence".into(), "author.err.competence".into());
    }
    let mut texts = BTreeMap::new();
    for (i, lang) in langs.iter().enumerate() {
        let title = f.get(&format!("title.{lang}"));
        let body = f.raw(&format!("body.{lang}"));
        if i == 0 && title.is_empty() {
            errors.insert(format!("title.{lang}"), "author.err.required".into());
        }
        if i > 0 && title.is_empty() && !body.trim().is_empty() {
            errors.insert(format!("title.{lang}"), "author.err.required".into());
        }
        texts.insert(lang.clone(), (title, body));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(LessonEdit {
        minutes: minutes.unwrap_or(5),
        competences,
        texts,
    })
}

/// A single, multiple or true/false question. `id` is kept (or given).
pub fn question(
    f: &Fields,
    id: String,
    langs: &[String],
    course_competences: &[String],
) -> Result<Question, Errors> {
    let mut errors = Errors::new();
    let kind = match f.get("kind").as_str() {
        "single" => QuestionKind::Single,
        "multiple" => QuestionKind::Multiple,
        "true_false" => QuestionKind::TrueFalse,
        _ => {
            errors.insert("kind".into(), "author.err.kind".into());
            QuestionKind::Single
        }
    };
    let competence = f.get("competence");
    if !course_competences.contains(&competence) {
        errors.insert("competence".into(), "author.err.competence".into());
    }
    let points = number(f, "points", 1u32..=100, &mut errors);
    let prompt = f.text("prompt", langs, true, &mut errors);
    let explain = f.text("explain", langs, true, &mut errors);
    let mut choices = Vec::new();
    let mut answer = Vec::new();
    if kind == QuestionKind::TrueFalse {
        match f.get("truth").as_str() {
            t @ ("true" | "false") => answer.push(t.to_string()),
            _ => {
                errors.insert("truth".into(), "author.err.truth".into());
            }
        }
    } else {
        let correct = f.all("correct");
        for id in CHOICE_IDS {
            let mut text = Text::new();
            for lang in langs {
                let v = f.get(&format!("choice.{id}.{lang}"));
                if !v.is_empty() {
                    text.insert(lang.clone(), v);
                }
            }
            if text.is_empty() {
                continue;
            }
            for lang in langs {
                if !text.contains_key(lang) {
                    errors.insert(format!("choice.{id}.{lang}"), "author.err.required".into());
                }
            }
            if correct.iter().any(|c| c == id) {
                answer.push(id.to_string());
            }
            choices.push(Choice {
                id: id.to_string(),
                text,
            });
        }
        if choices.len() < 2 {
            errors.insert("choices".into(), "author.err.choices".into());
        } else if kind == QuestionKind::Single && answer.len() != 1 {
            errors.insert("correct".into(), "author.err.correct_one".into());
        } else if answer.is_empty() {
            errors.insert("correct".into(), "author.err.correct_some".into());
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Question {
        id,
        kind,
        competence,
        points: points.unwrap_or(1),
        prompt,
        choices,
        answer,
        tolerance: None,
        explain,
    })
}

/// A practical task; a new one names its id.
pub fn task(f: &Fields, langs: &[String], course_competences: &[String]) -> Result<Task, Errors> {
    let mut errors = Errors::new();
    let id = f.get("id");
    if !is_slug(&id) || id.len() > 60 {
        errors.insert("id".into(), "author.err.slug".into());
    }
    let competence = f.get("competence");
    if !course_competences.contains(&competence) {
        errors.insert("competence".into(), "author.err.competence".into());
    }
    let title = f.text("title", langs, true, &mut errors);
    let evidence = f.text("evidence", langs, true, &mut errors);
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Task {
        id,
        competence,
        required: !f.get("required").is_empty(),
        title,
        evidence,
    })
}
