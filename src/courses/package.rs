//! The typed model of a course package, as loaded from files or authored in the
//! browser. `source` fields keep a file's exact text so export can write it back
//! byte for byte; `None` means "emit the canonical form".

use std::collections::BTreeMap;

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
    /// The Markdown after the front matter, exactly as written.
    pub body_md: String,
    /// Exact text of the file.
    pub source: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuizKind {
    Pre,
    Post,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuestionKind {
    Single,
    Multiple,
    TrueFalse,
    Order,
    Number,
}

impl QuestionKind {
    pub fn parse(s: &str) -> Option<QuestionKind> {
        Some(match s {
            "single" => QuestionKind::Single,
            "multiple" => QuestionKind::Multiple,
            "true_false" => QuestionKind::TrueFalse,
            "order" => QuestionKind::Order,
            "number" => QuestionKind::Number,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            QuestionKind::Single => "single",
            QuestionKind::Multiple => "multiple",
            QuestionKind::TrueFalse => "true_false",
            QuestionKind::Order => "order",
            QuestionKind::Number => "number",
        }
    }

    /// Kinds that list choices (true/false and number questions have none).
    pub fn has_choices(self) -> bool {
        matches!(
            self,
            QuestionKind::Single | QuestionKind::Multiple | QuestionKind::Order
        )
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

/// A file in the course's `media/` folder.
#[derive(Debug, Clone, PartialEq)]
pub struct Media {
    /// `media/01-wifi-icon.svg`, as lessons refer to it.
    pub path: String,
    pub bytes: Vec<u8>,
}
