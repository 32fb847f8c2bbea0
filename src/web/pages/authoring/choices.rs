//! What a question form offers to choose from: the question kinds, the
//! competences (with the chosen one marked), and which quizzes a course may
//! have.

use serde_json::{Value, json};

use super::forms::form_kind;
use super::tr;
use crate::app::AppContext;
use crate::courses::{Course, QuestionKind};

/// Whether `quiz` names a quiz this course has or may have.
pub(super) fn quiz_exists(c: &Course, quiz: &str) -> bool {
    quiz == "pre"
        || quiz == "post"
        || c.quizzes.iter().any(|q| q.slug == quiz)
        || c.lessons.iter().any(|l| l.stem() == quiz)
}

/// Competence options with the chosen one marked.
pub(super) fn selected(options: &[Value], code: &str) -> Vec<Value> {
    options
        .iter()
        .map(|o| {
            let mut o = o.clone();
            o["selected"] = json!(o["code"].as_str() == Some(code));
            o
        })
        .collect()
}

/// The kinds the form offers, in their order, with the chosen one marked.
pub(super) fn kind_options(state: &AppContext, lang: &str, chosen: QuestionKind) -> Vec<Value> {
    QuestionKind::all()
        .filter(|k| form_kind(*k))
        .map(|k| {
            let label = tr(state, lang, &format!("author.kind.{}", k.name()));
            json!({"value": k.name(), "label": label, "selected": k == chosen})
        })
        .collect()
}
