//! Grading on the server: the answer key never leaves it before submission.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::content::QuizInfo;
use crate::courses::QuizKind;
pub use crate::courses::answer::is_correct;

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct QuestionResult {
    pub id: String,
    pub correct: bool,
    pub points: i32,
    pub max: i32,
    pub competence: String,
    /// The right answer, revealed after submission of a lesson check (never
    /// for a pre- or post-test: their results list no questions).
    pub answer: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Graded {
    pub score: i32,
    pub max_score: i32,
    /// Percent, rounded down.
    pub percent: i32,
    pub passed: bool,
    /// Percent per competence.
    pub competences: BTreeMap<String, i32>,
    /// Each question, right or not, with its answer key; empty for a
    /// pre-test, whose questions come back in the post-test, and for a
    /// post-test, which may be taken again.
    pub questions: Vec<QuestionResult>,
    /// What ordered the choices of this attempt (see `shuffle`), so that a
    /// review shows them as she saw them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    /// What she answered, by question id.
    #[serde(default)]
    pub given: BTreeMap<String, Vec<String>>,
}

impl Graded {
    /// The result as a learner gets it for a quiz of `kind`. A pre-test's
    /// questions come back in the post-test, so its result keeps the score
    /// and the percent per competence (where she starts) but not which
    /// question was right or what the right answers are. A post-test's
    /// result is the same: it may be taken again, so neither its keys nor
    /// which question was right leave the server. Only a lesson check is
    /// reviewed question by question.
    pub fn for_learner(mut self, kind: QuizKind) -> Graded {
        match kind {
            QuizKind::Pre | QuizKind::Post => self.questions.clear(),
            QuizKind::Lesson => {}
        }
        self
    }
}

/// Grades answers (`question id → chosen ids or value`) against a quiz.
pub fn grade(quiz: &QuizInfo, answers: &BTreeMap<String, Vec<String>>, pass_mark: i32) -> Graded {
    let mut score = 0;
    let mut max = 0;
    let mut per: BTreeMap<String, (i32, i32)> = BTreeMap::new();
    let mut questions = Vec::new();
    for q in &quiz.questions {
        let key: Vec<String> = serde_json::from_str(&q.answer_json).unwrap_or_default();
        let tol = q.tolerance.as_deref().and_then(|t| t.parse().ok());
        let given = answers.get(&q.qid).cloned().unwrap_or_default();
        let ok = is_correct(q.kind, &key, &given, tol);
        let pts = if ok { q.points } else { 0 };
        score += pts;
        max += q.points;
        let e = per.entry(q.competence.clone()).or_default();
        e.0 += pts;
        e.1 += q.points;
        questions.push(QuestionResult {
            id: q.qid.clone(),
            correct: ok,
            points: pts,
            max: q.points,
            competence: q.competence.clone(),
            answer: key,
        });
    }
    let percent = if max > 0 { score * 100 / max } else { 0 };
    Graded {
        score,
        max_score: max,
        percent,
        passed: max > 0 && percent >= pass_mark,
        competences: per
            .into_iter()
            .map(|(k, (s, m))| (k, if m > 0 { s * 100 / m } else { 0 }))
            .collect(),
        questions,
        seed: None,
        given: answers.clone(),
    }
}
