//! The typed model of a course package, as loaded from files or authored in the
//! browser. `source` fields keep a file's exact text so export can write it back
//! byte for byte; `None` means "emit the canonical form".

use std::collections::BTreeMap;

use sea_orm::sea_query::StringLen;
use sea_orm::{ActiveEnum, DeriveActiveEnum, EnumIter, Iterable};

/// Localized text: language code (`zh-CN`, `en`) to text.
pub type Text = BTreeMap<String, String>;

/// The languages a package may use; the first is every course's fallback.
pub const LANGUAGES: [&str; 2] = ["zh-CN", "en"];

/// `courses/skills.toml`: the competence framework.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Skills {
    pub competences: Vec<Competence>,
    pub source: Option<String>,
}

impl Skills {
    pub fn get(&self, code: &str) -> Option<&Competence> {
        self.competences.iter().find(|c| c.code == code)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Competence {
    /// `it.connect`, `ec.shop`, …
    pub code: String,
    /// `it` | `ecommerce`
    pub area: String,
    /// DigComp 2.2 competence numbers, e.g. `1.1`.
    pub digcomp: Vec<String>,
    /// ITU ICT-skill activities (HH15 wording); may be empty.
    pub itu: Vec<String>,
    pub title: Text,
    /// What level 1 (with help) looks like.
    pub level1: Text,
    /// What level 2 (on own) looks like.
    pub level2: Text,
}

/// One course folder.
#[derive(Debug, Clone, PartialEq)]
pub struct Course {
    pub slug: String,
    /// `it` | `ecommerce`
    pub category: String,
    /// 1 beginner … 3 advanced
    pub level: u8,
    /// The first one is the default language.
    pub languages: Vec<String>,
    pub competences: Vec<String>,
    /// Percent, for lesson checks and the post-test.
    pub pass_mark: u8,
    pub hours: f64,
    /// When a learner may take the post-test.
    pub post_test: PostTestRule,
    pub title: Text,
    pub summary: Text,
    /// Ordered by number.
    pub lessons: Vec<Lesson>,
    /// `pre`, `post`, then lesson checks in lesson order.
    pub quizzes: Vec<Quiz>,
    pub tasks: Vec<Task>,
    pub media: Vec<Media>,
    /// Exact text of `course.toml`.
    pub source: Option<String>,
    /// Exact text of `tasks.toml` (absent file: `None` and no tasks).
    pub tasks_source: Option<String>,
}

impl Course {
    /// A course named `slug` with no details and no content yet.
    pub fn empty(slug: &str) -> Course {
        Course {
            slug: slug.to_string(),
            category: String::new(),
            level: 1,
            languages: Vec::new(),
            competences: Vec::new(),
            pass_mark: 80,
            hours: 1.0,
            post_test: Default::default(),
            title: Text::new(),
            summary: Text::new(),
            lessons: Vec::new(),
            quizzes: Vec::new(),
            tasks: Vec::new(),
            media: Vec::new(),
            source: None,
            tasks_source: None,
        }
    }

    /// The default language (first of `languages`).
    pub fn default_language(&self) -> &str {
        self.languages.first().map_or("zh-CN", String::as_str)
    }

    pub fn question_count(&self) -> usize {
        self.quizzes.iter().map(|q| q.questions.len()).sum()
    }

    /// Forgets every stored file text, so the writer emits canonical files (the
    /// state of a course authored in the browser).
    pub fn clear_sources(&mut self) {
        self.source = None;
        self.tasks_source = None;
        for lesson in &mut self.lessons {
            for text in lesson.texts.values_mut() {
                text.source = None;
            }
        }
        for quiz in &mut self.quizzes {
            quiz.source = None;
        }
    }
}

/// One lesson (all its language versions share number and slug).
#[derive(Debug, Clone, PartialEq)]
pub struct Lesson {
    /// Orders lessons (`01` in `01-power-and-touch.zh-CN.md`).
    pub number: u8,
    pub slug: String,
    /// Language code to that version.
    pub texts: BTreeMap<String, LessonText>,
}

impl Lesson {
    /// `01-power-and-touch`: the file stem without language.
    pub fn stem(&self) -> String {
        format!("{:02}-{}", self.number, self.slug)
    }
}

/// One language version of a lesson file.
#[derive(Debug, Clone, PartialEq)]
pub struct LessonText {
    pub title: String,
    pub minutes: u32,
    pub competences: Vec<String>,
    /// `media/…` narration, optional.
    pub audio: Option<String>,
    /// Recordings in spoken varieties with no written form here (镇雄话,
    /// 彝语, 苗语 …); only in the default language's file.
    pub tracks: Vec<Track>,
    /// The Markdown after the front matter, exactly as written.
    pub body_md: String,
    /// Exact text of the file.
    pub source: Option<String>,
}

/// One extra audio track of a lesson, in a spoken variety (courses/README.md,
/// "Dialect tracks").
#[derive(Debug, Clone, PartialEq)]
pub struct Track {
    /// A slug (`zhenxiong`, `yi`, `miao`): the learner's choice is kept by it.
    pub id: String,
    /// What the learner is shown; `zh-CN` at least.
    pub label: Text,
    /// `media/…`
    pub audio: String,
}

/// Which quiz of a course a quiz is. Stored as its lower-case name (the
/// `quiz.kind` and `quiz_attempt.kind` columns, the JSON of attempts).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum QuizKind {
    /// The pre-test (file `pre`).
    #[sea_orm(string_value = "pre")]
    Pre,
    /// The post-test (file `post`).
    #[sea_orm(string_value = "post")]
    Post,
    /// The check after one lesson (file named by the lesson).
    #[sea_orm(string_value = "lesson")]
    Lesson,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Quiz {
    /// The file stem: `pre`, `post` or the lesson's `01-power-and-touch`.
    pub slug: String,
    pub kind: QuizKind,
    /// For lesson checks: the lesson slug (`power-and-touch`).
    pub lesson_slug: Option<String>,
    pub title: Option<Text>,
    pub questions: Vec<Question>,
    /// Exact text of the quiz file.
    pub source: Option<String>,
}

/// How a question is asked and graded. Stored as its snake_case name (the
/// `question.kind` column and the `kind` of a quiz file): `single`,
/// `multiple`, `true_false`, `order`, `number`. A new kind is one variant
/// here; the compiler then lists what it needs (file rules, the authoring
/// form, grading in `learning::grading`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::N(16))",
    rename_all = "snake_case"
)]
#[serde(rename_all = "snake_case")]
pub enum QuestionKind {
    /// One choice is right.
    Single,
    /// Some choices are right; all of them and no other must be chosen.
    Multiple,
    /// The answer is `true` or `false`; no choices.
    TrueFalse,
    /// Every choice, put in the right order.
    Order,
    /// One number, within the question's tolerance; no choices.
    Number,
}

impl QuestionKind {
    pub fn parse(s: &str) -> Option<QuestionKind> {
        QuestionKind::iter().find(|k| k.to_value() == s)
    }

    /// Every kind, in declaration order.
    pub fn all() -> impl Iterator<Item = QuestionKind> {
        QuestionKind::iter()
    }

    /// The stored name (`true_false`).
    pub fn name(self) -> String {
        self.to_value()
    }

    /// Every stored name, in declaration order.
    pub fn names() -> Vec<String> {
        QuestionKind::iter().map(QuestionKind::name).collect()
    }

    /// Kinds that list choices (true/false and number questions have none).
    pub fn has_choices(self) -> bool {
        match self {
            QuestionKind::Single | QuestionKind::Multiple | QuestionKind::Order => true,
            QuestionKind::TrueFalse | QuestionKind::Number => false,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Question {
    /// Stable within the quiz (`q1`, `q2`, …): learner answers are keyed by it.
    pub id: String,
    pub kind: QuestionKind,
    pub competence: String,
    pub points: u32,
    pub prompt: Text,
    /// The prompt read aloud, per language (`media/…`); may be empty.
    pub audio: Text,
    pub choices: Vec<Choice>,
    /// Choice ids; `["true"]`/`["false"]`; or one number as text.
    pub answer: Vec<String>,
    /// For number questions: accepted distance from the answer.
    pub tolerance: Option<f64>,
    /// Why the right answer is right (shown after answering).
    pub explain: Text,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    pub id: String,
    pub text: Text,
    /// The choice read aloud, per language (`media/…`); may be empty.
    pub audio: Text,
}

/// A practical task a trainer signs off.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    pub id: String,
    pub competence: String,
    /// Required tasks must be signed off to complete the course.
    pub required: bool,
    pub title: Text,
    pub evidence: Text,
}

/// Every audio file the questions of `quizzes` name, prompts and choices.
pub fn quiz_audio(quizzes: &[Quiz]) -> impl Iterator<Item = &str> {
    quizzes.iter().flat_map(|q| &q.questions).flat_map(|q| {
        q.audio
            .values()
            .chain(q.choices.iter().flat_map(|c| c.audio.values()))
            .map(String::as_str)
    })
}

/// A file in the course's `media/` folder.
#[derive(Debug, Clone, PartialEq)]
pub struct Media {
    /// `media/01-wifi-icon.svg`, as lessons refer to it.
    pub path: String,
    pub bytes: Vec<u8>,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn question_kinds_keep_their_stored_names() {
        assert_eq!(
            QuestionKind::names(),
            ["single", "multiple", "true_false", "order", "number"]
        );
        for kind in QuestionKind::iter() {
            // The column, the files and the JSON of the API say the same name.
            let json = serde_json::to_value(kind).unwrap_or_default();
            assert_eq!(json.as_str(), Some(kind.name().as_str()));
            assert_eq!(QuestionKind::parse(&kind.name()), Some(kind));
        }
        assert_eq!(QuestionKind::parse("Single"), None);
    }
}
