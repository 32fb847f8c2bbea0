//! The rules for each kind of file: raw (spanned) TOML in, model out, every
//! broken rule reported at its line. Cross-file rules live in `load`.

use std::collections::HashMap;

use toml::Spanned;

use super::package::{
    Choice, Competence, Course, LANGUAGES, LessonText, Question, QuestionKind, Quiz, QuizKind,
    Skills, Task, Text,
};
use super::problem::{Sink, did_you_mean, line_of, list};
use super::raw::{RawCourse, RawFront, RawQuestion, RawQuiz, RawSkills, RawTasks};

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

const DIGCOMP: [&str; 21] = [
    "1.1", "1.2", "1.3", "2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "3.1", "3.2", "3.3", "3.4",
    "4.1", "4.2", "4.3", "4.4", "5.1", "5.2", "5.3", "5.4",
];

fn pos<T>(s: &Spanned<T>) -> usize {
    s.span().start
}

/// When a learner may take a course's post-test, as `course.toml` says in
/// `post_test = "…"`:
///
/// - `after_lessons` (the default, when the line is absent): once she has
///   finished every lesson. The post-test measures what the course taught,
///   so it is not a way round the lessons.
/// - `after_checks`: once every lesson is finished and every lesson check
///   passed.
/// - `any_time`: as soon as she is enrolled (a course whose post-test a
///   trainer gives in class, say).
///
/// Before then the post-test page lists what is left, with links, and a
/// submission is refused with that reason and nothing saved. The pre-test
/// is taken once: its first attempt is the before-score the gain is measured
/// from, and a second one is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PostTestRule {
    #[default]
    AfterLessons,
    AfterChecks,
    AnyTime,
}

impl PostTestRule {
    pub const ALL: [PostTestRule; 3] = [
        PostTestRule::AfterLessons,
        PostTestRule::AfterChecks,
        PostTestRule::AnyTime,
    ];

    pub fn name(self) -> &'static str {
        match self {
            PostTestRule::AfterLessons => "after_lessons",
            PostTestRule::AfterChecks => "after_checks",
            PostTestRule::AnyTime => "any_time",
        }
    }

    pub fn parse(s: &str) -> Option<PostTestRule> {
        PostTestRule::ALL.into_iter().find(|r| r.name() == s)
    }

    /// The rule a stored `course.toml` says (the default when it says none,
    /// or there is no file: a course made in the browser).
    pub fn of_source(course_toml: Option<&str>) -> PostTestRule {
        #[derive(serde::Deserialize)]
        struct Only {
            post_test: Option<String>,
        }
        course_toml
            .and_then(|t| toml::from_str::<Only>(t).ok())
            .and_then(|o| o.post_test)
            .and_then(|p| PostTestRule::parse(&p))
            .unwrap_or_default()
    }
}

/// Lowercase letters, digits and single dashes inside: `power-and-touch`.
pub fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// A slug checked at the edge (course, lesson and task names typed in a
/// form): a slug of at most 60 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slug(String);

impl Slug {
    pub const MAX_LEN: usize = 60;

    pub fn parse(s: &str) -> Option<Slug> {
        (is_slug(s) && s.len() <= Slug::MAX_LEN).then(|| Slug(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A slug proposed from a title: Chinese characters as toneless pinyin
    /// (ü as v), Latin letters and digits kept in lowercase, one hyphen
    /// between words, at most `MAX_LEN` characters cut at a word's end.
    /// `None` when the title has nothing to spell.
    pub fn from_title(title: &str) -> Option<Slug> {
        use pinyin::ToPinyin;
        let mut words: Vec<String> = Vec::new();
        let mut word = String::new();
        for ch in title.chars() {
            if ch.is_ascii_alphanumeric() {
                word.push(ch.to_ascii_lowercase());
                continue;
            }
            if !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            if let Some(p) = ch.to_pinyin() {
                let spelled: String = p
                    .plain()
                    .chars()
                    .map(|c| if c == 'ü' { 'v' } else { c })
                    .filter(|c| c.is_ascii_lowercase())
                    .collect();
                if !spelled.is_empty() {
                    words.push(spelled);
                }
            }
        }
        if !word.is_empty() {
            words.push(word);
        }
        let mut out = String::new();
        for w in words {
            let w = &w[..w.len().min(Slug::MAX_LEN)];
            let extra = if out.is_empty() { w.len() } else { w.len() + 1 };
            if out.len() + extra > Slug::MAX_LEN {
                break;
            }
            if !out.is_empty() {
                out.push('-');
            }
            out.push_str(w);
        }
        Slug::parse(&out)
    }
}

impl From<Slug> for String {
    fn from(s: Slug) -> String {
        s.0
    }
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

pub fn skills(raw: &RawSkills, source: &str, sink: &mut Sink) -> Skills {
    let langs = all_languages();
    let mut seen = HashMap::new();
    if raw.competence.is_empty() {
        sink.file("no [[competence]] entries");
    }
    let mut competences = Vec::new();
    for c in &raw.competence {
        let c = c.get_ref();
        let code = c.code.get_ref();
        let want_area = match code.split_once('.') {
            Some(("it", rest)) if is_slug(rest) => Some("it"),
            Some(("ec", rest)) if is_slug(rest) => Some("ecommerce"),
            _ => None,
        };
        match want_area {
            None => sink.at(
                pos(&c.code),
                format!("competence code \"{code}\" must look like it.name or ec.name (lowercase)"),
            ),
            Some(area) if area != c.area.get_ref() => sink.at(
                pos(&c.area),
                format!("competence \"{code}\": area must be \"{area}\" for this code"),
            ),
            Some(_) => {}
        }
        once(sink, &mut seen, "competence code", &c.code);
        if c.digcomp.get_ref().is_empty() {
            sink.at(
                pos(&c.digcomp),
                format!("competence \"{code}\": digcomp lists no DigComp number"),
            );
        }
        for d in c.digcomp.get_ref() {
            if !DIGCOMP.contains(&d.get_ref().as_str()) {
                sink.at(
                    pos(d),
                    format!(
                        "competence \"{code}\": digcomp \"{}\" is not a DigComp 2.2 competence (1.1 .. 5.4)",
                        d.get_ref()
                    ),
                );
            }
        }
        let prefix = format!("competence \"{code}\": ");
        competences.push(Competence {
            code: code.clone(),
            area: c.area.get_ref().clone(),
            digcomp: c
                .digcomp
                .get_ref()
                .iter()
                .map(|d| d.get_ref().clone())
                .collect(),
            itu: c.itu.clone(),
            title: text(sink, &format!("{prefix}title"), &c.title, &langs),
            level1: text(sink, &format!("{prefix}level1"), &c.level1, &langs),
            level2: text(sink, &format!("{prefix}level2"), &c.level2, &langs),
        });
    }
    Skills {
        competences,
        source: Some(source.to_string()),
    }
}

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
        tracks: super::voice::tracks(raw.tracks.as_ref(), media, sink),
        body_md: String::new(),
        source: None,
    }
}

/// Fewest questions a pre-test or post-test has: two for every competence
/// of the course, and never fewer than four. A short course on one skill
/// publishes with four; the gain it measures still rests on more than one
/// item per competence.
pub fn test_minimum(competences: usize) -> usize {
    (2 * competences).max(4)
}

pub fn quiz(
    raw: &RawQuiz,
    slug: &str,
    kind: QuizKind,
    lesson_slug: Option<String>,
    ctx: &Ctx,
    sink: &mut Sink,
) -> Quiz {
    let title = raw
        .title
        .as_ref()
        .map(|t| text(sink, "title", t, &ctx.languages));
    let mut seen = HashMap::new();
    let mut questions = Vec::new();
    for q in &raw.question {
        once(sink, &mut seen, "question id", &q.get_ref().id);
        if let Some(q) = question(q.get_ref(), ctx, sink) {
            questions.push(q);
        }
    }
    let n = raw.question.len();
    match kind {
        QuizKind::Pre | QuizKind::Post => {
            let name = if kind == QuizKind::Pre {
                "pre-test"
            } else {
                "post-test"
            };
            let k = ctx.competences.as_ref().map_or(0, Vec::len);
            let min = test_minimum(k);
            if n < min {
                sink.file(format!(
                    "the {name} needs at least {min} questions, 2 for each of the course's {k} competences and never fewer than 4 (found {n})"
                ));
            }
            for c in &ctx.to_cover {
                if !raw
                    .question
                    .iter()
                    .any(|q| q.get_ref().competence.get_ref() == c)
                {
                    sink.file(format!(
                        "the {name} has no question on competence \"{c}\" (pre and post tests cover every competence of the course)"
                    ));
                }
            }
        }
        QuizKind::Lesson => {
            if !(2..=4).contains(&n) {
                sink.file(format!("a lesson check has 2 to 4 questions (found {n})"));
            }
        }
    }
    Quiz {
        slug: slug.to_string(),
        kind,
        lesson_slug,
        title,
        questions,
        source: None,
    }
}

fn question(q: &RawQuestion, ctx: &Ctx, sink: &mut Sink) -> Option<Question> {
    let id = q.id.get_ref();
    let what = format!("question \"{id}\": ");
    if id.trim().is_empty() {
        sink.at(pos(&q.id), "question id is empty");
    }
    ctx.competence(sink, &what, &q.competence);
    let points = q.points.as_ref().map_or(1, |p| *p.get_ref());
    if let Some(p) = &q.points
        && !(1..=100).contains(&points)
    {
        sink.at(pos(p), format!("{what}points must be from 1 to 100"));
    }
    let prompt = text(sink, &format!("{what}prompt"), &q.prompt, &ctx.languages);
    let explain = text(sink, &format!("{what}explain"), &q.explain, &ctx.languages);
    let audio = super::voice::audio(q.audio.as_ref(), &what, ctx, sink);
    let mut choices = Vec::new();
    let mut seen = HashMap::new();
    for c in q.choices.iter().flat_map(|c| c.get_ref()) {
        let c = c.get_ref();
        once(sink, &mut seen, &format!("{what}choice id"), &c.id);
        let label = format!("{what}choice \"{}\"", c.id.get_ref());
        choices.push(Choice {
            id: c.id.get_ref().clone(),
            text: text(sink, &label, &c.text, &ctx.languages),
            audio: super::voice::audio(c.audio.as_ref(), &format!("{label}: "), ctx, sink),
        });
    }
    let Some(kind) = QuestionKind::parse(q.kind.get_ref()) else {
        let k = q.kind.get_ref();
        let kinds = QuestionKind::names();
        let hint = did_you_mean(k, kinds.iter().map(String::as_str));
        sink.at(
            pos(&q.kind),
            format!("{what}kind \"{k}\" is not one of {}{hint}", list(&kinds)),
        );
        return None;
    };
    let name = kind.name();
    match (&q.choices, kind.has_choices()) {
        (Some(c), false) => sink.at(pos(c), format!("{what}a {name} question has no choices")),
        (None, true) => sink.at(
            pos(&q.answer),
            format!("{what}a {name} question needs choices"),
        ),
        (Some(c), true) if c.get_ref().len() < 2 => {
            sink.at(
                pos(c),
                format!("{what}a {name} question needs at least 2 choices"),
            );
        }
        _ => {}
    }
    answer(q, kind, &what, &choices, sink);
    if let Some(t) = &q.tolerance {
        let v = *t.get_ref();
        if kind != QuestionKind::Number {
            sink.at(
                pos(t),
                format!("{what}tolerance is only for number questions"),
            );
        } else if !(v.is_finite() && v >= 0.0) {
            sink.at(pos(t), format!("{what}tolerance must be 0 or more"));
        }
    }
    Some(Question {
        id: id.clone(),
        kind,
        competence: q.competence.get_ref().clone(),
        points: u32::try_from(points).unwrap_or(1),
        prompt,
        audio,
        choices,
        answer: q
            .answer
            .get_ref()
            .iter()
            .map(|a| a.get_ref().clone())
            .collect(),
        tolerance: q.tolerance.as_ref().map(|t| *t.get_ref()),
        explain,
    })
}

/// The answer must fit the kind (and the choices).
fn answer(q: &RawQuestion, kind: QuestionKind, what: &str, choices: &[Choice], sink: &mut Sink) {
    let answers = q.answer.get_ref();
    let ids: Vec<&str> = choices.iter().map(|c| c.id.as_str()).collect();
    let count = answers.len();
    let at = pos(&q.answer);
    match kind {
        QuestionKind::Single | QuestionKind::TrueFalse | QuestionKind::Number => {
            if count != 1 {
                sink.at(
                    at,
                    format!(
                        "{what}a {} question has exactly one answer (found {count})",
                        kind.name()
                    ),
                );
                return;
            }
        }
        QuestionKind::Multiple => {
            if count == 0 {
                sink.at(
                    at,
                    format!("{what}a multiple question needs at least one answer"),
                );
                return;
            }
        }
        // Checked below: every choice once.
        QuestionKind::Order => {}
    }
    let mut given: Vec<&str> = Vec::new();
    for a in answers {
        let v = a.get_ref().as_str();
        match kind {
            QuestionKind::TrueFalse if v != "true" && v != "false" => sink.at(
                pos(a),
                format!("{what}answer \"{v}\" must be \"true\" or \"false\""),
            ),
            QuestionKind::Number if !v.trim().parse::<f64>().is_ok_and(f64::is_finite) => {
                sink.at(pos(a), format!("{what}answer \"{v}\" is not a number"));
            }
            QuestionKind::Single | QuestionKind::Multiple | QuestionKind::Order
                if !ids.contains(&v) && !ids.is_empty() =>
            {
                sink.at(
                    pos(a),
                    format!(
                        "{what}answer \"{v}\" is not one of the choices {}",
                        list(&ids)
                    ),
                );
            }
            _ if given.contains(&v) => {
                sink.at(pos(a), format!("{what}answer \"{v}\" is given twice"));
            }
            _ => {}
        }
        given.push(v);
    }
    if kind == QuestionKind::Order {
        let missing: Vec<&str> = ids.iter().copied().filter(|i| !given.contains(i)).collect();
        if !missing.is_empty() {
            sink.at(
                at,
                format!(
                    "{what}an order answer lists every choice once (missing {})",
                    list(&missing)
                ),
            );
        }
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

    #[test]
    fn slugs() {
        assert!(Slug::parse("power-and-touch").is_some());
        assert!(Slug::parse("a1").is_some());
        for bad in ["", "-a", "a-", "a--b", "A", "a b", "课"] {
            assert!(Slug::parse(bad).is_none(), "{bad}");
        }
        assert!(Slug::parse(&"a".repeat(60)).is_some());
        assert!(Slug::parse(&"a".repeat(61)).is_none());
    }

    #[test]
    fn a_slug_is_proposed_from_a_title() {
        let from = |t: &str| Slug::from_title(t).map(String::from);
        assert_eq!(from("网店拍照").as_deref(), Some("wang-dian-pai-zhao"));
        // Latin words and digits kept, punctuation and spaces are one hyphen.
        assert_eq!(
            from("  用 WeChat 卖茶（第2课）！ ").as_deref(),
            Some("yong-wechat-mai-cha-di-2-ke")
        );
        assert_eq!(from("绿茶").as_deref(), Some("lv-cha"));
        assert_eq!(from("Sell Tea Online").as_deref(), Some("sell-tea-online"));
        // Cut at a word's end, never longer than a slug may be.
        let long = from(&"网店拍照".repeat(10)).unwrap();
        assert!(
            long.len() <= Slug::MAX_LEN && !long.ends_with('-'),
            "{long}"
        );
        assert!(long.starts_with("wang-dian-pai-zhao-wang-"));
        assert!(Slug::parse(&long).is_some());
        assert_eq!(from(&"a".repeat(80)).map(|s| s.len()), Some(60));
        for nothing in ["", "  ", "！？", "😀"] {
            assert_eq!(from(nothing), None, "{nothing}");
        }
    }
}
