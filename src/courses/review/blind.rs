//! What a learner scores on a test without reading it, by the best of the
//! rules a test-wise guesser follows, graded as the server grades
//! (`learning::grading::is_correct`, points per question, percent rounded
//! down).
//!
//! Modelled on what she sees: a quiz page shows the questions in the file's
//! order and each choice question's choices shuffled for her and her attempt
//! (`learning::shuffle`), in one language (hers, else the course's default).
//! So a rule about positions ("always the first") wins nothing on average,
//! and the rules left are about what shuffling keeps:
//!
//! - single: always the longest choice, or always the shortest (length in
//!   the language she reads);
//! - multiple: tick every choice, or tick the longest as many as are right
//!   (a prompt often says how many: "哪两项");
//! - true_false: always "true", or always "false";
//! - order: number the steps in the order shown, which is a random order:
//!   right once in n! attempts;
//! - number: nothing to guess from.
//!
//! Ties (two choices equally long) are broken by the shuffle, so a tie scores
//! its expected share. A learner keeps one rule per kind for the whole test
//! and reads one language; the best combination is the blind score.

use crate::courses::answer::is_correct;

use super::super::package::{Question, QuestionKind};
use super::text::{length, pick};

/// The best blind score of one test.
#[derive(Debug, Clone, PartialEq)]
pub struct Blind {
    /// Expected points of the best combination.
    pub points: f64,
    /// Points of the whole test.
    pub max: u32,
    /// The percent it earns, rounded down as grading does.
    pub percent: u32,
    /// The language the best combination reads in.
    pub language: String,
    /// The rules of the best combination that earn anything, in words.
    pub rules: Vec<&'static str>,
}

impl Blind {
    /// The rules in words, e.g. `always the longest choice (zh-CN), always "true"`.
    pub fn describe(&self) -> String {
        if self.rules.is_empty() {
            return "no rule earns a point".to_string();
        }
        self.rules
            .iter()
            .map(|r| r.replace("{lang}", &self.language))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The expected share of the points of `q` a guess earns when it is one of
/// `answers`, each as likely.
fn share(q: &Question, answers: &[Vec<String>]) -> f64 {
    if answers.is_empty() {
        return 0.0;
    }
    let right = answers
        .iter()
        .filter(|a| is_correct(q.kind, &q.answer, a, q.tolerance))
        .count();
    right as f64 / answers.len() as f64
}

/// The ids of `q`'s choices with their lengths in `lang`.
fn lengths(q: &Question, lang: &str, def: &str) -> Vec<(String, usize)> {
    q.choices
        .iter()
        .map(|c| (c.id.clone(), length(pick(&c.text, lang, def))))
        .collect()
}

/// Single: the longest (or shortest) choice; a tie is one of the tied.
fn extreme(q: &Question, lang: &str, def: &str, longest: bool) -> f64 {
    let lens = lengths(q, lang, def);
    let best = if longest {
        lens.iter().map(|(_, n)| *n).max()
    } else {
        lens.iter().map(|(_, n)| *n).min()
    };
    let tied: Vec<Vec<String>> = lens
        .into_iter()
        .filter(|(_, n)| Some(*n) == best)
        .map(|(id, _)| vec![id])
        .collect();
    share(q, &tied)
}

/// Every way to take `r` of `items`.
fn subsets(items: &[String], r: usize) -> Vec<Vec<String>> {
    if r == 0 {
        return vec![Vec::new()];
    }
    if items.len() < r {
        return Vec::new();
    }
    let (first, rest) = (&items[0], &items[1..]);
    let mut out: Vec<Vec<String>> = subsets(rest, r - 1)
        .into_iter()
        .map(|mut s| {
            s.insert(0, first.clone());
            s
        })
        .collect();
    out.extend(subsets(rest, r));
    out
}

/// Multiple: the `k` longest choices, `k` the number of right ones; a tie at
/// the edge is any of the ways to fill the places left.
fn longest_k(q: &Question, lang: &str, def: &str) -> f64 {
    let mut key = q.answer.clone();
    key.sort();
    key.dedup();
    let k = key.len().min(q.choices.len());
    let mut lens = lengths(q, lang, def);
    lens.sort_by_key(|l| std::cmp::Reverse(l.1));
    let Some(edge) = k.checked_sub(1).and_then(|i| lens.get(i)).map(|(_, n)| *n) else {
        return share(q, &[Vec::new()]);
    };
    let sure: Vec<String> = lens
        .iter()
        .filter(|(_, n)| *n > edge)
        .map(|(id, _)| id.clone())
        .collect();
    let tied: Vec<String> = lens
        .iter()
        .filter(|(_, n)| *n == edge)
        .map(|(id, _)| id.clone())
        .collect();
    let picks: Vec<Vec<String>> = subsets(&tied, k - sure.len())
        .into_iter()
        .map(|s| sure.iter().cloned().chain(s).collect())
        .collect();
    share(q, &picks)
}

/// Order: the shown order is a shuffle; exactly one order is right.
fn shown_order(q: &Question) -> f64 {
    let right = is_correct(q.kind, &q.answer, &q.answer, q.tolerance);
    let n = q.choices.len().max(1);
    let orders: f64 = (1..=n).map(|i| i as f64).product();
    if right { 1.0 / orders } else { 0.0 }
}

/// One rule's expected points on the questions of `kind`.
fn earn(questions: &[Question], kind: QuestionKind, credit: impl Fn(&Question) -> f64) -> f64 {
    questions
        .iter()
        .filter(|q| q.kind == kind)
        .map(|q| f64::from(q.points) * credit(q))
        .sum()
}

/// The better of several rules: its points and its words.
fn best(rules: Vec<(f64, &'static str)>) -> (f64, Option<&'static str>) {
    rules.into_iter().fold(
        (0.0, None),
        |acc, (p, r)| if p > acc.0 { (p, Some(r)) } else { acc },
    )
}

/// The best blind score of `questions` (one test) for a learner reading one
/// of `languages` (the first is the course's default language).
pub fn simulate(questions: &[Question], languages: &[String]) -> Blind {
    let def = languages.first().map_or("zh-CN", String::as_str);
    let max: u32 = questions.iter().map(|q| q.points).sum();
    let tf = best(vec![
        (
            earn(questions, QuestionKind::TrueFalse, |q| {
                share(q, &[vec!["true".into()]])
            }),
            "always \"true\"",
        ),
        (
            earn(questions, QuestionKind::TrueFalse, |q| {
                share(q, &[vec!["false".into()]])
            }),
            "always \"false\"",
        ),
    ]);
    let order = best(vec![(
        earn(questions, QuestionKind::Order, shown_order),
        "every order as shown",
    )]);
    let mut out: Option<Blind> = None;
    let langs: Vec<&str> = if languages.is_empty() {
        vec![def]
    } else {
        languages.iter().map(String::as_str).collect()
    };
    for lang in langs {
        let single = best(vec![
            (
                earn(questions, QuestionKind::Single, |q| {
                    extreme(q, lang, def, true)
                }),
                "always the longest choice ({lang})",
            ),
            (
                earn(questions, QuestionKind::Single, |q| {
                    extreme(q, lang, def, false)
                }),
                "always the shortest choice ({lang})",
            ),
        ]);
        let multiple = best(vec![
            (
                earn(questions, QuestionKind::Multiple, |q| {
                    share(q, &[q.choices.iter().map(|c| c.id.clone()).collect()])
                }),
                "tick every choice",
            ),
            (
                earn(questions, QuestionKind::Multiple, |q| {
                    longest_k(q, lang, def)
                }),
                "tick the longest choices, as many as are right ({lang})",
            ),
        ]);
        let parts = [single, multiple, tf, order];
        let points: f64 = parts.iter().map(|p| p.0).sum();
        if out.as_ref().is_some_and(|o| o.points >= points) {
            continue;
        }
        let percent = if max == 0 {
            0
        } else {
            // Rounded down as grading does; the small margin keeps a sum of
            // thirds that is exactly whole from falling one short.
            (points * 100.0 / f64::from(max) + 1e-9).floor() as u32
        };
        out = Some(Blind {
            points,
            max,
            percent,
            language: lang.to_string(),
            rules: parts.iter().filter_map(|p| p.1).collect(),
        });
    }
    out.unwrap_or(Blind {
        points: 0.0,
        max,
        percent: 0,
        language: def.to_string(),
        rules: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::super::super::package::{Choice, Text};
    use super::*;

    fn t(zh: &str, en: &str) -> Text {
        [("zh-CN", zh), ("en", en)]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn q(kind: QuestionKind, choices: &[(&str, &str)], answer: &[&str]) -> Question {
        Question {
            id: "q".into(),
            kind,
            competence: "it.device".into(),
            points: 1,
            prompt: t("问", "Q"),
            audio: Default::default(),
            choices: choices
                .iter()
                .map(|(id, zh)| Choice {
                    id: id.to_string(),
                    text: t(zh, zh),
                    audio: Default::default(),
                })
                .collect(),
            answer: answer.iter().map(|s| s.to_string()).collect(),
            tolerance: None,
            explain: t("因为", "Because"),
        }
    }

    fn langs() -> Vec<String> {
        vec!["zh-CN".into(), "en".into()]
    }

    #[test]
    fn the_longest_key_and_one_truth_give_the_test_away() {
        let long = q(
            QuestionKind::Single,
            &[("a", "短"), ("b", "很长很长的答案"), ("c", "中等长")],
            &["b"],
        );
        let tf = q(QuestionKind::TrueFalse, &[], &["true"]);
        let num = q(QuestionKind::Number, &[], &["3"]);
        let b = simulate(&[long.clone(), long.clone(), tf, num], &langs());
        assert_eq!((b.points, b.max, b.percent), (3.0, 4, 75));
        assert_eq!(
            b.describe(),
            "always the longest choice (zh-CN), always \"true\""
        );
    }

    #[test]
    fn ties_score_their_expected_share_and_percent_rounds_down() {
        // Two choices equally longest, the key one of them: half a point.
        let tie = q(
            QuestionKind::Single,
            &[("a", "一二三"), ("b", "四五六"), ("c", "七")],
            &["a"],
        );
        let wrong = q(
            QuestionKind::Single,
            &[("a", "一"), ("b", "四五六"), ("c", "七八")],
            &["a"],
        );
        let b = simulate(&[tie, wrong.clone(), wrong], &langs());
        // Longest: 0.5 of 3; shortest: 2 of 3 → 66%.
        assert_eq!(b.percent, 66);
        assert_eq!(b.rules, ["always the shortest choice ({lang})"]);
    }

    #[test]
    fn multiple_order_and_number_questions() {
        let all = q(
            QuestionKind::Multiple,
            &[("a", "甲"), ("b", "乙"), ("c", "丙")],
            &["a", "b", "c"],
        );
        assert_eq!(simulate(&[all], &langs()).percent, 100);
        let two_longest = q(
            QuestionKind::Multiple,
            &[("a", "甲甲甲"), ("b", "乙"), ("c", "丙丙丙")],
            &["c", "a"],
        );
        let b = simulate(&[two_longest], &langs());
        assert_eq!(b.percent, 100);
        assert_eq!(
            b.describe(),
            "tick the longest choices, as many as are right (zh-CN)"
        );
        // A tie at the edge: one of the two ways is right.
        let edge = q(
            QuestionKind::Multiple,
            &[("a", "甲甲甲"), ("b", "乙乙"), ("c", "丙丙"), ("d", "丁")],
            &["a", "b"],
        );
        assert_eq!(simulate(&[edge], &langs()).points, 0.5);
        let order = q(
            QuestionKind::Order,
            &[("a", "一"), ("b", "二"), ("c", "三")],
            &["b", "a", "c"],
        );
        let b = simulate(&[order], &langs());
        assert!((b.points - 1.0 / 6.0).abs() < 1e-12);
        assert_eq!(b.percent, 16);
        assert_eq!(
            simulate(&[q(QuestionKind::Number, &[], &["3"])], &langs()).percent,
            0
        );
        assert_eq!(simulate(&[], &langs()).percent, 0);
    }

    #[test]
    fn each_language_is_read_on_its_own() {
        // The key is longest in English only.
        let mut item = q(
            QuestionKind::Single,
            &[("a", "长长长长"), ("b", "中中"), ("c", "短")],
            &["b"],
        );
        item.choices[0].text.insert("en".into(), "A".into());
        item.choices[1]
            .text
            .insert("en".into(), "The right one".into());
        item.choices[2].text.insert("en".into(), "Mid".into());
        let b = simulate(&[item.clone(), item], &langs());
        assert_eq!(b.percent, 100);
        assert_eq!(b.describe(), "always the longest choice (en)");
    }
}
