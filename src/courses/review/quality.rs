//! How well a course's tests measure, judged as a psychometrician would and
//! as a pure function of the course (files or the published version in the
//! database alike): what a learner scores without reading, whether the right
//! answer gives itself away by its length, whether true/false answers lean
//! one way, whether a choice is silly enough to rule out, and whether the
//! pre-test and post-test ask with items of their own.
//!
//! The rules and their thresholds (courses/README.md says them for authors):
//!
//! - **Blind score** (pre-test and post-test each; see `blind`): an error
//!   when it reaches the pass mark, a warning when it is less than
//!   [`BLIND_MARGIN`] points under it. A package without warnings therefore
//!   keeps every test's blind score at least 25 points under its pass mark.
//! - **Longest key**: an error when the right answer is the strictly longest
//!   choice in more than [`KEY_LONGEST_MAX`]% of a test's single-choice
//!   questions, in any language of the course (from [`KEY_LONGEST_FROM`]
//!   questions up; the lesson checks of a course count as one set).
//! - **True/false balance**: an error when more than [`TRUE_FALSE_MAX`]% of
//!   a test's true/false questions have the same answer (from
//!   [`TRUE_FALSE_FROM`] up; lesson checks as one set).
//! - **A silly choice** (pre-test and post-test): a warning when exactly one
//!   wrong choice of a single or multiple question is at most half as long as
//!   every other choice and shares no word with the question (in the default
//!   language).
//! - **Own items**: an error when a pre-test or post-test item is the same or
//!   nearly the same (`text::NEAR`) as a lesson-check item of the course, an
//!   item of the other test, or another item of its own test; its prompt or
//!   its prompt with its answer, in the default language.

use super::super::package::{Course, Question, QuestionKind, Quiz, QuizKind};
use super::blind::{Blind, simulate};
use super::text::{NEAR, has_options, key_text, length, normalise, pick, similarity, words};

/// Points a test's blind score must stay under its pass mark to carry no
/// warning.
pub const BLIND_MARGIN: u32 = 25;
/// Most single-choice questions of a test, in percent, whose key may be the
/// longest choice.
pub const KEY_LONGEST_MAX: usize = 40;
/// Fewest single-choice questions before the longest key is judged.
pub const KEY_LONGEST_FROM: usize = 5;
/// Most true/false questions of a test, in percent, with the same answer.
pub const TRUE_FALSE_MAX: usize = 65;
/// Fewest true/false questions before their balance is judged.
pub const TRUE_FALSE_FROM: usize = 6;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

/// The rule a finding breaks (a page names it in its own words).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rule {
    /// A learner who does not read scores too much.
    Blind,
    /// The key is the longest choice too often.
    LongestKey,
    /// True/false answers lean one way.
    TrueFalse,
    /// One wrong choice is easy to rule out.
    SillyChoice,
    /// An item repeats a lesson-check item or another test item.
    Repeat,
}

/// One thing wrong with how a course's tests measure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub rule: Rule,
    pub severity: Severity,
    /// The quiz it is about (its slug); `None` for the lesson checks together.
    pub quiz: Option<String>,
    /// The question it points at, when one.
    pub question: Option<String>,
    pub message: String,
}

/// A test's blind score against its pass mark.
#[derive(Debug, Clone, PartialEq)]
pub struct TestScore {
    /// `pre` or `post`.
    pub quiz: String,
    pub pass_mark: u32,
    pub blind: Blind,
}

impl TestScore {
    /// Points between the blind score and the pass mark (negative: a blind
    /// learner passes).
    pub fn margin(&self) -> i64 {
        i64::from(self.pass_mark) - i64::from(self.blind.percent)
    }
}

/// Everything judged about one course.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Judgement {
    pub findings: Vec<Finding>,
    /// The pre-test and post-test, in that order.
    pub tests: Vec<TestScore>,
}

impl Judgement {
    pub fn errors(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
    }
}

/// A set of questions judged together: one test, or a course's lesson checks.
struct Set<'a> {
    /// `pre-test`, `post-test`, `lesson checks`.
    name: &'static str,
    /// The quiz, when the set is one.
    quiz: Option<&'a Quiz>,
    /// Each question with the slug of its quiz.
    items: Vec<(&'a str, &'a Question)>,
}

impl Set<'_> {
    /// How a question is named in a message: `q3`, or `01-first q3` in the
    /// lesson checks.
    fn label(&self, quiz: &str, q: &Question) -> String {
        match self.quiz {
            Some(_) => q.id.clone(),
            None => format!("{quiz} {}", q.id),
        }
    }

    fn finding(
        &self,
        rule: Rule,
        severity: Severity,
        question: Option<&str>,
        message: String,
    ) -> Finding {
        Finding {
            rule,
            severity,
            quiz: self.quiz.map(|q| q.slug.clone()),
            question: question.map(str::to_string),
            message,
        }
    }
}

fn test_name(kind: QuizKind) -> &'static str {
    match kind {
        QuizKind::Pre => "pre-test",
        QuizKind::Post => "post-test",
        QuizKind::Lesson => "lesson check",
    }
}

/// Judges the tests of `course`.
pub fn judge(course: &Course) -> Judgement {
    let mut out = Judgement::default();
    let tests: Vec<&Quiz> = [QuizKind::Pre, QuizKind::Post]
        .into_iter()
        .filter_map(|k| course.quizzes.iter().find(|q| q.kind == k))
        .collect();
    let checks: Vec<&Quiz> = course
        .quizzes
        .iter()
        .filter(|q| q.kind == QuizKind::Lesson)
        .collect();
    let mut sets: Vec<Set> = tests
        .iter()
        .map(|q| Set {
            name: test_name(q.kind),
            quiz: Some(q),
            items: q.questions.iter().map(|x| (q.slug.as_str(), x)).collect(),
        })
        .collect();
    sets.push(Set {
        name: "lesson checks",
        quiz: None,
        items: checks
            .iter()
            .flat_map(|q| q.questions.iter().map(|x| (q.slug.as_str(), x)))
            .collect(),
    });
    let langs = &course.languages;
    let def = course.default_language();
    for set in &sets {
        key_longest(set, langs, def, &mut out.findings);
        true_false(set, &mut out.findings);
        let Some(quiz) = set.quiz else { continue };
        let score = TestScore {
            quiz: quiz.slug.clone(),
            pass_mark: u32::from(course.pass_mark),
            blind: simulate(&quiz.questions, langs),
        };
        blind_rule(set, &score, &mut out.findings);
        out.tests.push(score);
        for q in &quiz.questions {
            silly_choice(set, q, def, &mut out.findings);
        }
    }
    own_items(&tests, &checks, def, &mut out.findings);
    out
}

fn blind_rule(set: &Set, score: &TestScore, out: &mut Vec<Finding>) {
    let (pct, pass) = (score.blind.percent, score.pass_mark);
    let how = score.blind.describe();
    if pct >= pass {
        out.push(set.finding(
            Rule::Blind,
            Severity::Error,
            None,
            format!(
                "{}: a learner who does not read it scores {pct}% ({how}), and the pass mark is {pass}%: make wrong choices as long and as specific as the right one, and balance true and false",
                set.name
            ),
        ));
    } else if pct + BLIND_MARGIN > pass {
        out.push(set.finding(
            Rule::Blind,
            Severity::Warning,
            None,
            format!(
                "warning: {}: a learner who does not read it scores {pct}% ({how}), {} points under the pass mark {pass}%; keep it at least {BLIND_MARGIN} points under (at most {}%)",
                set.name,
                pass - pct,
                pass.saturating_sub(BLIND_MARGIN)
            ),
        ));
    }
}

fn key_longest(set: &Set, langs: &[String], def: &str, out: &mut Vec<Finding>) {
    let singles: Vec<&(&str, &Question)> = set
        .items
        .iter()
        .filter(|(_, q)| q.kind == QuestionKind::Single)
        .collect();
    let n = singles.len();
    if n < KEY_LONGEST_FROM {
        return;
    }
    for lang in langs {
        let longest: Vec<String> = singles
            .iter()
            .filter(|(_, q)| {
                let len = |id: &str| {
                    q.choices
                        .iter()
                        .find(|c| c.id == id)
                        .map(|c| length(pick(&c.text, lang, def)))
                };
                let Some(key) = q.answer.first().and_then(|a| len(a)) else {
                    return false;
                };
                q.choices
                    .iter()
                    .filter(|c| Some(&c.id) != q.answer.first())
                    .all(|c| length(pick(&c.text, lang, def)) < key)
            })
            .map(|(quiz, q)| set.label(quiz, q))
            .collect();
        if longest.len() * 100 > KEY_LONGEST_MAX * n {
            out.push(set.finding(
                Rule::LongestKey,
                Severity::Error,
                None,
                format!(
                    "{}: the right answer is the longest choice ({lang}) in {} of {n} single-choice questions ({}); at most {KEY_LONGEST_MAX}%: write wrong choices as long and as specific as the right one",
                    set.name,
                    longest.len(),
                    longest.join(", ")
                ),
            ));
        }
    }
}

fn true_false(set: &Set, out: &mut Vec<Finding>) {
    let tf: Vec<&(&str, &Question)> = set
        .items
        .iter()
        .filter(|(_, q)| q.kind == QuestionKind::TrueFalse)
        .collect();
    let n = tf.len();
    if n < TRUE_FALSE_FROM {
        return;
    }
    for answer in ["true", "false"] {
        let same: Vec<String> = tf
            .iter()
            .filter(|(_, q)| q.answer.first().is_some_and(|a| a == answer))
            .map(|(quiz, q)| set.label(quiz, q))
            .collect();
        if same.len() * 100 > TRUE_FALSE_MAX * n {
            out.push(set.finding(
                Rule::TrueFalse,
                Severity::Error,
                None,
                format!(
                    "{}: {} of {n} true/false questions are \"{answer}\" ({}); at most {TRUE_FALSE_MAX}% may have the same answer, or always answering \"{answer}\" pays",
                    set.name,
                    same.len(),
                    same.join(", ")
                ),
            ));
        }
    }
}

fn silly_choice(set: &Set, q: &Question, def: &str, out: &mut Vec<Finding>) {
    if !has_options(q.kind) || q.choices.len() < 3 {
        return;
    }
    let stem = words(pick(&q.prompt, def, def));
    let silly: Vec<&str> = q
        .choices
        .iter()
        .filter(|c| !q.answer.contains(&c.id))
        .filter(|c| {
            let mine = pick(&c.text, def, def);
            let shortest_other = q
                .choices
                .iter()
                .filter(|o| o.id != c.id)
                .map(|o| length(pick(&o.text, def, def)))
                .min()
                .unwrap_or(0);
            length(mine) * 2 <= shortest_other && words(mine).is_disjoint(&stem)
        })
        .map(|c| c.id.as_str())
        .collect();
    if let [id] = silly[..] {
        let shown = q
            .choices
            .iter()
            .find(|c| c.id == id)
            .map_or("", |c| pick(&c.text, def, def));
        out.push(set.finding(
            Rule::SillyChoice,
            Severity::Warning,
            Some(&q.id),
            format!(
                "warning: question \"{}\": choice \"{id}\" ({shown}) is far shorter than the others and shares no word with the question, so it is easy to rule out without knowing the subject: make it a mistake a villager really makes",
                q.id
            ),
        ));
    }
}

/// A question's prompt, and its prompt with its answer, normalised.
fn forms(q: &Question, def: &str) -> (Vec<char>, Vec<char>) {
    let prompt = pick(&q.prompt, def, def);
    (
        normalise(prompt),
        normalise(&format!("{prompt}{}", key_text(q, def, def))),
    )
}

/// How alike two items are, when nearly the same: the percent and what was
/// compared.
fn alike(a: &(Vec<char>, Vec<char>), b: &(Vec<char>, Vec<char>)) -> Option<(u32, &'static str)> {
    let prompts = similarity(&a.0, &b.0);
    let whole = similarity(&a.1, &b.1);
    let pct = |x: f64| (x * 100.0 + 1e-9).floor() as u32;
    if prompts >= NEAR && prompts >= whole {
        Some((pct(prompts), "prompts"))
    } else if whole >= NEAR {
        Some((pct(whole), "prompts with their answers"))
    } else {
        None
    }
}

fn own_items(tests: &[&Quiz], checks: &[&Quiz], def: &str, out: &mut Vec<Finding>) {
    let form = |quiz: &Quiz| -> Vec<_> { quiz.questions.iter().map(|q| forms(q, def)).collect() };
    let push = |out: &mut Vec<Finding>, quiz: &Quiz, q: &Question, what: String| {
        out.push(Finding {
            rule: Rule::Repeat,
            severity: Severity::Error,
            quiz: Some(quiz.slug.clone()),
            question: Some(q.id.clone()),
            message: what,
        });
    };
    let check_forms: Vec<(&Quiz, Vec<_>)> = checks.iter().map(|c| (*c, form(c))).collect();
    for (t, test) in tests.iter().enumerate() {
        let mine = form(test);
        let name = test_name(test.kind);
        let before = tests
            .get(..t)
            .and_then(|b| b.first())
            .map(|f| (*f, form(f)));
        for (i, q) in test.questions.iter().enumerate() {
            // Inside the test: the later of two is named.
            for (j, other) in test.questions.iter().enumerate().take(i) {
                if let Some((pct, what)) = alike(&mine[i], &mine[j]) {
                    push(
                        out,
                        test,
                        q,
                        format!(
                            "question \"{}\" nearly repeats question \"{}\" of the same {name} ({what} {pct}% alike): ask each thing once, or ask something else",
                            q.id, other.id
                        ),
                    );
                }
            }
            // The post-test against the pre-test.
            if let Some((first, theirs)) = &before {
                for (j, other) in first.questions.iter().enumerate() {
                    if let Some((pct, what)) = alike(&mine[i], &theirs[j]) {
                        push(
                            out,
                            test,
                            q,
                            format!(
                                "question \"{}\" nearly repeats question \"{}\" of the {} (quizzes/{}.toml) ({what} {pct}% alike): the pre-test and post-test ask the same skills with different items",
                                q.id,
                                other.id,
                                test_name(first.kind),
                                first.slug
                            ),
                        );
                    }
                }
            }
            for (check, theirs) in &check_forms {
                for (j, other) in check.questions.iter().enumerate() {
                    if let Some((pct, what)) = alike(&mine[i], &theirs[j]) {
                        push(
                            out,
                            test,
                            q,
                            format!(
                                "question \"{}\" nearly repeats question \"{}\" of the lesson check quizzes/{}.toml ({what} {pct}% alike): a learner has seen its answer there; ask the {name} with items of its own",
                                q.id, other.id, check.slug
                            ),
                        );
                    }
                }
            }
        }
    }
}
