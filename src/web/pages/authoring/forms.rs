//! The authoring forms, parsed at the edge (`TryFrom`) into the typed edits
//! of `courses::edit` and the package model. Every bad field is reported by name with a message key
//! (`author.err.*`) the page translates; nothing here touches the database.

use std::collections::BTreeMap;

use crate::courses::edit::{LessonEdit, Meta};
use crate::courses::{Choice, Course, Question, QuestionKind, Slug, Task, Text};

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

    /// Sets a field (its first value, or a new one).
    pub fn set(&mut self, key: &str, value: &str) {
        match self.0.iter_mut().find(|(k, _)| k == key) {
            Some((_, v)) => *v = value.to_string(),
            None => self.0.push((key.to_string(), value.to_string())),
        }
    }

    /// The fields whose names start with `prefix`, without it (one
    /// question of a form that adds several: `q2.prompt.zh-CN`).
    pub fn prefixed(&self, prefix: &str) -> Fields {
        Fields(
            self.0
                .iter()
                .filter_map(|(k, v)| Some((k.strip_prefix(prefix)?.to_string(), v.clone())))
                .collect(),
        )
    }

    /// Whether any field but those named in `except` has a value.
    pub fn any_filled(&self, except: &[&str]) -> bool {
        self.0
            .iter()
            .any(|(k, v)| !except.contains(&k.as_str()) && !v.trim().is_empty())
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

/// A slug field (`Slug`), or its error.
fn slug(f: &Fields, key: &str, errors: &mut Errors) -> Option<Slug> {
    let s = Slug::parse(&f.get(key));
    if s.is_none() {
        errors.insert(key.into(), "author.err.slug".into());
    }
    s
}

/// Competence codes that must be among `allowed` (at least one).
fn competences(f: &Fields, allowed: &[String], errors: &mut Errors) -> Vec<String> {
    let competences = f.all("competence");
    if competences.is_empty() {
        errors.insert("competence".into(), "author.err.competences".into());
    } else if competences.iter().any(|c| !allowed.contains(c)) {
        errors.insert("competence".into(), "author.err.competence".into());
    }
    competences
}

/// One competence code among `allowed`.
fn competence(f: &Fields, allowed: &[String], errors: &mut Errors) -> String {
    let competence = f.get("competence");
    if !allowed.contains(&competence) {
        errors.insert("competence".into(), "author.err.competence".into());
    }
    competence
}

fn done<T>(value: Option<T>, errors: Errors) -> Result<T, Errors> {
    match value {
        Some(v) if errors.is_empty() => Ok(v),
        _ => Err(errors),
    }
}

/// The course-details form; `known` are the competence codes of the framework.
pub struct MetaForm<'a> {
    pub fields: &'a Fields,
    pub known: &'a [String],
}

impl TryFrom<MetaForm<'_>> for Meta {
    type Error = Errors;

    fn try_from(form: MetaForm<'_>) -> Result<Meta, Errors> {
        let f = form.fields;
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
        let competences = competences(f, form.known, &mut errors);
        let title = f.text("title", &languages, true, &mut errors);
        let summary = f.text("summary", &languages, true, &mut errors);
        let meta = match (level, pass_mark, hours) {
            (Some(level), Some(pass_mark), Some(hours)) => Some(Meta {
                category,
                level,
                languages,
                competences,
                pass_mark,
                hours,
                title,
                summary,
            }),
            _ => None,
        };
        done(meta, errors)
    }
}

/// A new course: its slug (not a page name) and its details.
pub struct NewCourse {
    pub slug: Slug,
    pub meta: Meta,
}

impl TryFrom<MetaForm<'_>> for NewCourse {
    type Error = Errors;

    fn try_from(form: MetaForm<'_>) -> Result<NewCourse, Errors> {
        let mut errors = Errors::new();
        let slug = slug(form.fields, "slug", &mut errors).filter(|s| s.as_str() != "new");
        if slug.is_none() {
            errors.insert("slug".into(), "author.err.slug".into());
        }
        let meta = Meta::try_from(form).map_err(|mut more| errors.append(&mut more));
        done(slug.zip(meta.ok()), errors).map(|(slug, meta)| NewCourse { slug, meta })
    }
}

/// A form of the editor, judged against the course it changes (its
/// languages and competences).
pub struct CourseForm<'a> {
    pub fields: &'a Fields,
    pub course: &'a Course,
}

/// A new lesson: slug (not used yet in the course) and default-language title.
pub struct NewLesson {
    pub slug: Slug,
    pub title: String,
}

impl TryFrom<CourseForm<'_>> for NewLesson {
    type Error = Errors;

    fn try_from(form: CourseForm<'_>) -> Result<NewLesson, Errors> {
        let f = form.fields;
        let mut errors = Errors::new();
        if form.course.lessons.len() >= 99 {
            errors.insert("lesson_slug".into(), "author.err.too_many".into());
            return Err(errors);
        }
        let slug = slug(f, "lesson_slug", &mut errors);
        if let Some(s) = &slug
            && form.course.lessons.iter().any(|l| l.slug == s.as_str())
        {
            errors.insert("lesson_slug".into(), "author.err.lesson_taken".into());
        }
        let title = f.get("lesson_title");
        if title.is_empty() {
            errors.insert("lesson_title".into(), "author.err.required".into());
        }
        done(slug, errors).map(|slug| NewLesson { slug, title })
    }
}

/// A lesson's text in every course language (the default one required).
impl TryFrom<CourseForm<'_>> for LessonEdit {
    type Error = Errors;

    fn try_from(form: CourseForm<'_>) -> Result<LessonEdit, Errors> {
        let f = form.fields;
        let mut errors = Errors::new();
        let minutes = number(f, "minutes", 5u32..=10, &mut errors);
        let competences = competences(f, &form.course.competences, &mut errors);
        let mut texts = BTreeMap::new();
        for (i, lang) in form.course.languages.iter().enumerate() {
            let title = f.get(&format!("title.{lang}"));
            let body = f.raw(&format!("body.{lang}"));
            if title.is_empty() && (i == 0 || !body.trim().is_empty()) {
                errors.insert(format!("title.{lang}"), "author.err.required".into());
            }
            texts.insert(lang.clone(), (title, body));
        }
        done(minutes, errors).map(|minutes| LessonEdit {
            minutes,
            competences,
            texts,
        })
    }
}

/// The question form; `id` is the question's (kept, or given to a new one).
pub struct QuestionForm<'a> {
    pub form: CourseForm<'a>,
    pub id: String,
}

/// The kinds the question form offers; the others are written in files.
pub fn form_kind(kind: QuestionKind) -> bool {
    match kind {
        QuestionKind::Single | QuestionKind::Multiple | QuestionKind::TrueFalse => true,
        QuestionKind::Order | QuestionKind::Number => false,
    }
}

impl TryFrom<QuestionForm<'_>> for Question {
    type Error = Errors;

    fn try_from(q: QuestionForm<'_>) -> Result<Question, Errors> {
        let (f, c) = (q.form.fields, q.form.course);
        let langs = &c.languages;
        let mut errors = Errors::new();
        let kind = QuestionKind::parse(&f.get("kind")).filter(|k| form_kind(*k));
        if kind.is_none() {
            errors.insert("kind".into(), "author.err.kind".into());
        }
        let competence = competence(f, &c.competences, &mut errors);
        let points = number(f, "points", 1u32..=100, &mut errors);
        let prompt = f.text("prompt", langs, true, &mut errors);
        let explain = f.text("explain", langs, true, &mut errors);
        let (choices, answer) = match kind {
            Some(QuestionKind::TrueFalse) => (Vec::new(), truth(f, &mut errors)),
            Some(k @ (QuestionKind::Single | QuestionKind::Multiple)) => {
                choices(f, langs, k == QuestionKind::Single, &mut errors)
            }
            Some(QuestionKind::Order | QuestionKind::Number) | None => (Vec::new(), Vec::new()),
        };
        done(kind.zip(points), errors).map(|(kind, points)| Question {
            id: q.id,
            kind,
            competence,
            points,
            prompt,
            audio: Text::new(),
            choices,
            answer,
            tolerance: None,
            explain,
        })
    }
}

/// The answer of a true/false question.
fn truth(f: &Fields, errors: &mut Errors) -> Vec<String> {
    match f.get("truth").as_str() {
        t @ ("true" | "false") => vec![t.to_string()],
        _ => {
            errors.insert("truth".into(), "author.err.truth".into());
            Vec::new()
        }
    }
}

/// The filled-in choices and the ticked ones (exactly one when `one`).
fn choices(
    f: &Fields,
    langs: &[String],
    one: bool,
    errors: &mut Errors,
) -> (Vec<Choice>, Vec<String>) {
    let correct = f.all("correct");
    let mut choices = Vec::new();
    let mut answer = Vec::new();
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
            audio: Text::new(),
        });
    }
    if choices.len() < 2 {
        errors.insert("choices".into(), "author.err.choices".into());
    } else if one && answer.len() != 1 {
        errors.insert("correct".into(), "author.err.correct_one".into());
    } else if answer.is_empty() {
        errors.insert("correct".into(), "author.err.correct_some".into());
    }
    (choices, answer)
}

/// A practical task; a new one names its id.
impl TryFrom<CourseForm<'_>> for Task {
    type Error = Errors;

    fn try_from(form: CourseForm<'_>) -> Result<Task, Errors> {
        let (f, c) = (form.fields, form.course);
        let mut errors = Errors::new();
        let id = slug(f, "id", &mut errors);
        let competence = competence(f, &c.competences, &mut errors);
        let title = f.text("title", &c.languages, true, &mut errors);
        let evidence = f.text("evidence", &c.languages, true, &mut errors);
        done(id, errors).map(|id| Task {
            id: id.into(),
            competence,
            required: !f.get("required").is_empty(),
            title,
            evidence,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::courses::edit;

    fn fields(s: &str) -> Fields {
        Fields::parse(s.as_bytes())
    }

    fn course() -> Course {
        let mut c = Course::empty("c");
        c.languages = vec!["zh-CN".into()];
        c.competences = vec!["it.connect".into()];
        edit::add_lesson(&mut c, "wifi", "无线网");
        c
    }

    #[test]
    fn meta_reports_every_bad_field() {
        let known = ["it.connect".to_string()];
        let f = fields("category=x&level=4&pass_mark=80&hours=2&competence=it.other");
        let errors = Meta::try_from(MetaForm {
            fields: &f,
            known: &known,
        })
        .unwrap_err();
        let keys: Vec<&str> = errors.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "category",
                "competence",
                "level",
                "summary.zh-CN",
                "title.zh-CN"
            ]
        );
        let f = fields(
            "slug=phone&category=it&level=2&pass_mark=70&hours=1.5&competence=it.connect&title.zh-CN=T&summary.zh-CN=S",
        );
        let new = NewCourse::try_from(MetaForm {
            fields: &f,
            known: &known,
        })
        .unwrap();
        assert_eq!(new.slug.as_str(), "phone");
        assert_eq!((new.meta.level, new.meta.pass_mark), (2, 70));
        let f = fields(
            "slug=new&category=it&level=2&pass_mark=70&hours=1&competence=it.connect&title.zh-CN=T&summary.zh-CN=S",
        );
        let errors = NewCourse::try_from(MetaForm {
            fields: &f,
            known: &known,
        })
        .err()
        .unwrap_or_default();
        assert_eq!(
            errors.get("slug").map(String::as_str),
            Some("author.err.slug")
        );
    }

    #[test]
    fn a_lesson_slug_is_new_in_the_course() {
        let c = course();
        let f = fields("lesson_slug=wifi&lesson_title=x");
        let errors = NewLesson::try_from(CourseForm {
            fields: &f,
            course: &c,
        })
        .err()
        .unwrap_or_default();
        assert_eq!(
            errors.get("lesson_slug").map(String::as_str),
            Some("author.err.lesson_taken")
        );
        let f = fields("lesson_slug=apps&lesson_title=x");
        let ok = NewLesson::try_from(CourseForm {
            fields: &f,
            course: &c,
        });
        assert!(ok.is_ok_and(|l| l.slug.as_str() == "apps"));
    }

    #[test]
    fn every_kind_of_the_form_has_a_name_in_every_language() {
        for (file, text) in [
            (
                "zh-CN",
                include_str!("../../../../templates/locales/zh-CN.toml"),
            ),
            ("en", include_str!("../../../../templates/locales/en.toml")),
        ] {
            let table: toml::Table = text.parse().unwrap_or_default();
            for kind in QuestionKind::all().filter(|k| form_kind(*k)) {
                let key = format!("author.kind.{}", kind.name());
                assert!(table.contains_key(&key), "{file}: no {key}");
            }
        }
    }

    #[test]
    fn questions_by_kind() {
        let c = course();
        let parse = |s: &str| {
            let f = fields(s);
            Question::try_from(QuestionForm {
                form: CourseForm {
                    fields: &f,
                    course: &c,
                },
                id: "q1".into(),
            })
        };
        let base = "competence=it.connect&points=1&prompt.zh-CN=P&explain.zh-CN=E";
        let q = parse(&format!("kind=true_false&truth=false&{base}")).unwrap();
        assert_eq!(
            (q.kind, q.answer),
            (QuestionKind::TrueFalse, vec!["false".to_string()])
        );
        let q = parse(&format!(
            "kind=multiple&choice.a.zh-CN=A&choice.b.zh-CN=B&correct=a&correct=b&{base}"
        ))
        .unwrap();
        assert_eq!(q.answer, ["a", "b"]);
        let errors = parse(&format!(
            "kind=single&choice.a.zh-CN=A&choice.b.zh-CN=B&correct=a&correct=b&{base}"
        ))
        .unwrap_err();
        assert_eq!(
            errors.get("correct").map(String::as_str),
            Some("author.err.correct_one")
        );
        // Kinds written only in files are not accepted from the form.
        let errors = parse(&format!("kind=number&{base}")).unwrap_err();
        assert!(errors.contains_key("kind"));
    }
}
