//! Item analysis of one quiz, as a trainer reads it to improve her
//! questions: pure arithmetic over each learner's first attempt (loading
//! those attempts is `items`).
//!
//! For each question:
//!
//! - **facility** p: the share of first attempts that got it right (0–1).
//! - **discrimination**: the corrected point-biserial correlation between
//!   the question (1 right, 0 not) and the *rest* of the test, that is the
//!   attempt's score without this question's points (so the question does not
//!   correlate with itself):
//!
//!   r = (M₁ − M₀) ÷ s × √(p × (1 − p))
//!
//!   where M₁ is the mean rest score of those who got it right, M₀ of those
//!   who did not, and s the standard deviation of the rest scores over all N
//!   attempts (divided by N, not N − 1). It is Pearson's r of the two
//!   columns. It has no value when everyone (or no one) got the question
//!   right, or when every rest score is the same.
//! - how many picked each choice (single, multiple and true/false questions;
//!   with a multiple question one learner may pick several), and how many gave
//!   no answer.
//! - flags: too easy (p > 0.9), too hard (p < 0.2), negative discrimination
//!   (r < 0), weak discrimination (0 ≤ r < 0.2), a wrong choice nobody picked.
//!
//! A quiz shows no figures below [`MIN_FIRST_ATTEMPTS`] first attempts:
//! with fewer, one learner moves every figure.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::courses::QuestionKind;

/// First attempts a quiz needs before its figures are shown.
pub const MIN_FIRST_ATTEMPTS: usize = 20;

/// Above this facility a question is too easy.
pub const TOO_EASY: f64 = 0.9;
/// Below this facility a question is too hard.
pub const TOO_HARD: f64 = 0.2;
/// Below this discrimination a question tells strong and weak learners apart poorly.
pub const WEAK: f64 = 0.2;

/// One question as the analysis needs it.
#[derive(Debug, Clone)]
pub struct Item {
    pub id: String,
    pub kind: QuestionKind,
    pub points: i32,
    /// Choice ids in the order written (`true`, `false` for true/false).
    pub choices: Vec<String>,
    /// The right choice ids (or value).
    pub key: Vec<String>,
}

impl Item {
    /// Whether picks are counted per choice: the kinds where a learner picks
    /// among choices (in an order question every choice is used).
    pub fn counts_choices(&self) -> bool {
        matches!(
            self.kind,
            QuestionKind::Single | QuestionKind::Multiple | QuestionKind::TrueFalse
        )
    }
}

/// What one first attempt did with one question.
#[derive(Debug, Clone, Default)]
pub struct Answer {
    pub correct: bool,
    /// Points scored on it (0 when wrong).
    pub points: i32,
    /// What she gave (choice ids or a value); empty: no answer.
    pub given: Vec<String>,
}

/// One learner's first attempt: her answer to each question, by question id.
pub type Attempt = BTreeMap<String, Answer>;

/// Why a question deserves a look.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "flag", content = "choice", rename_all = "snake_case")]
pub enum Flag {
    TooEasy,
    TooHard,
    NegativeDiscrimination,
    WeakDiscrimination,
    /// A wrong choice nobody picked (its id).
    UnusedDistractor(String),
}

impl Flag {
    /// The locale key of its label (`items.flag.<name>`).
    pub fn key(&self) -> &'static str {
        match self {
            Flag::TooEasy => "items.flag.too_easy",
            Flag::TooHard => "items.flag.too_hard",
            Flag::NegativeDiscrimination => "items.flag.negative",
            Flag::WeakDiscrimination => "items.flag.weak",
            Flag::UnusedDistractor(_) => "items.flag.unused",
        }
    }
}

/// How often one choice was picked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChoiceCount {
    pub id: String,
    pub right: bool,
    pub count: usize,
    /// count ÷ N.
    pub share: f64,
}

/// The figures of one question.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemStats {
    pub id: String,
    pub facility: f64,
    pub discrimination: Option<f64>,
    /// Per choice, in the order written; empty for kinds without picks.
    pub choices: Vec<ChoiceCount>,
    pub no_answer: usize,
    pub flags: Vec<Flag>,
}

/// The analysis of one quiz.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuizStats {
    /// First attempts counted.
    pub n: usize,
    /// First attempts still needed before figures are shown (0: shown).
    pub needed: usize,
    /// Mean score of the first attempts, in points (none when hidden).
    pub mean_score: Option<f64>,
    /// Per question, in the quiz's order; empty while hidden.
    pub items: Vec<ItemStats>,
}

/// Analyses `attempts` (one per learner: her first) of a quiz made of
/// `items`; nothing but the count below `min` attempts. A question missing
/// from an attempt counts as not answered.
pub fn analyse(items: &[Item], attempts: &[Attempt], min: usize) -> QuizStats {
    let n = attempts.len();
    if n < min || n == 0 {
        return QuizStats {
            n,
            needed: min.max(1) - n,
            mean_score: None,
            items: Vec::new(),
        };
    }
    let totals: Vec<i32> = attempts
        .iter()
        .map(|a| a.values().map(|x| x.points).sum())
        .collect();
    let mean_score = f64::from(totals.iter().sum::<i32>()) / n as f64;
    let none = Answer::default();
    let items = items
        .iter()
        .map(|item| {
            let answers: Vec<&Answer> = attempts
                .iter()
                .map(|a| a.get(&item.id).unwrap_or(&none))
                .collect();
            let right: Vec<bool> = answers.iter().map(|a| a.correct).collect();
            let rest: Vec<f64> = answers
                .iter()
                .zip(&totals)
                .map(|(a, t)| f64::from(t - a.points))
                .collect();
            let facility = right.iter().filter(|r| **r).count() as f64 / n as f64;
            let discrimination = point_biserial(&right, &rest);
            let choices: Vec<ChoiceCount> = if item.counts_choices() {
                item.choices
                    .iter()
                    .map(|c| {
                        let count = answers
                            .iter()
                            .filter(|a| a.given.iter().any(|g| g.trim() == c))
                            .count();
                        ChoiceCount {
                            id: c.clone(),
                            right: item.key.contains(c),
                            count,
                            share: count as f64 / n as f64,
                        }
                    })
                    .collect()
            } else {
                Vec::new()
            };
            let no_answer = answers
                .iter()
                .filter(|a| a.given.iter().all(|g| g.trim().is_empty()))
                .count();
            ItemStats {
                id: item.id.clone(),
                flags: flags(facility, discrimination, &choices),
                facility,
                discrimination,
                choices,
                no_answer,
            }
        })
        .collect();
    QuizStats {
        n,
        needed: 0,
        mean_score: Some(mean_score),
        items,
    }
}

/// The corrected point-biserial correlation (see the module's comment):
/// `right[i]` whether attempt i got the question, `rest[i]` its score
/// without the question. `None` when either column does not vary.
pub fn point_biserial(right: &[bool], rest: &[f64]) -> Option<f64> {
    let n = right.len();
    if n == 0 || n != rest.len() {
        return None;
    }
    let n1 = right.iter().filter(|r| **r).count();
    if n1 == 0 || n1 == n {
        return None;
    }
    let nf = n as f64;
    let mean = rest.iter().sum::<f64>() / nf;
    let var = rest.iter().map(|y| (y - mean).powi(2)).sum::<f64>() / nf;
    if var <= f64::EPSILON {
        return None;
    }
    let mean_of = |want: bool| {
        let (sum, k) = right
            .iter()
            .zip(rest)
            .filter(|(r, _)| **r == want)
            .fold((0.0, 0usize), |(s, k), (_, y)| (s + y, k + 1));
        sum / k as f64
    };
    let p = n1 as f64 / nf;
    Some((mean_of(true) - mean_of(false)) / var.sqrt() * (p * (1.0 - p)).sqrt())
}

/// The flags a question's figures raise.
pub fn flags(facility: f64, discrimination: Option<f64>, choices: &[ChoiceCount]) -> Vec<Flag> {
    let mut out = Vec::new();
    if facility > TOO_EASY {
        out.push(Flag::TooEasy);
    }
    if facility < TOO_HARD {
        out.push(Flag::TooHard);
    }
    match discrimination {
        Some(r) if r < 0.0 => out.push(Flag::NegativeDiscrimination),
        Some(r) if r < WEAK => out.push(Flag::WeakDiscrimination),
        _ => {}
    }
    for c in choices {
        if !c.right && c.count == 0 {
            out.push(Flag::UnusedDistractor(c.id.clone()));
        }
    }
    out
}

#[cfg(test)]
#[path = "item_stats_tests.rs"]
mod tests;
