//! Grading on the server: the answer key never leaves it before submission.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::content::QuizInfo;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct QuestionResult {
    pub id: String,
    pub correct: bool,
    pub points: i32,
    pub max: i32,
    pub competence: String,
    /// The right answer, revealed after submission.
    pub answer: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Graded {
    pub score: i32,
    pub max_score: i32,
    /// Percent, rounded down.
    pub percent: i32,
    pub passed: bool,
    /// Percent per competence.
    pub competences: BTreeMap<String, i32>,
    pub questions: Vec<QuestionResult>,
}

fn norm(v: &[String]) -> Vec<String> {
    v.iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

pub fn is_correct(kind: &str, key: &[String], given: &[String], tolerance: Option<f64>) -> bool {
    let given = norm(given);
    match kind {
        "multiple" => {
            let mut a = given.clone();
            let mut b = key.to_vec();
            a.sort();
            a.dedup();
            b.sort();
            a == b
        }
        "number" => match (
            given
                .first()
                .and_then(|g| g.replace(',', ".").parse::<f64>().ok()),
            key.first().and_then(|k| k.parse::<f64>().ok()),
        ) {
            (Some(g), Some(k)) => (g - k).abs() <= tolerance.unwrap_or(0.0) + 1e-9,
            _ => false,
        },
        // single, true_false, order: the same ids in the same order.
        _ => given == key,
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
        let ok = is_correct(&q.kind, &key, &given, tol);
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
    }
}
