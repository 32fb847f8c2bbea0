//! The files as serde sees them: strict (`deny_unknown_fields`) and spanned, so
//! every later rule can point at a line. Converted into `package` types by `rules`.

use serde::Deserialize;
use toml::Spanned;

use super::package::Text;

type S<T> = Spanned<T>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSkills {
    #[serde(default)]
    pub competence: Vec<S<RawCompetence>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCompetence {
    pub code: S<String>,
    pub area: S<String>,
    pub digcomp: S<Vec<S<String>>>,
    pub itu: Vec<String>,
    pub title: S<Text>,
    pub level1: S<Text>,
    pub level2: S<Text>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCourse {
    pub slug: S<String>,
    pub category: S<String>,
    pub level: S<i64>,
    pub languages: S<Vec<S<String>>>,
    pub competences: S<Vec<S<String>>>,
    pub pass_mark: S<i64>,
    pub hours: S<f64>,
    /// When the post-test opens (see `package::PostTestRule`); absent: the default.
    #[serde(default)]
    pub post_test: Option<S<String>>,
    pub title: S<Text>,
    pub summary: S<Text>,
}

/// A lesson's front matter.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFront {
    pub title: S<String>,
    pub minutes: S<i64>,
    pub competences: S<Vec<S<String>>>,
    pub audio: Option<S<String>>,
    pub tracks: Option<S<Vec<S<RawTrack>>>>,
}

/// One dialect track of a lesson's front matter.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTrack {
    pub id: S<String>,
    pub label: S<Text>,
    pub audio: S<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawQuiz {
    pub title: Option<S<Text>>,
    #[serde(default)]
    pub question: Vec<S<RawQuestion>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawQuestion {
    pub id: S<String>,
    pub kind: S<String>,
    pub competence: S<String>,
    pub points: Option<S<i64>>,
    pub prompt: S<Text>,
    pub audio: Option<S<Text>>,
    pub choices: Option<S<Vec<S<RawChoice>>>>,
    pub answer: S<Vec<S<String>>>,
    pub tolerance: Option<S<f64>>,
    pub explain: S<Text>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawChoice {
    pub id: S<String>,
    pub text: S<Text>,
    pub audio: Option<S<Text>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTasks {
    #[serde(default)]
    pub task: Vec<S<RawTask>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTask {
    pub id: S<String>,
    pub competence: S<String>,
    pub required: S<bool>,
    pub title: S<Text>,
    pub evidence: S<Text>,
}
