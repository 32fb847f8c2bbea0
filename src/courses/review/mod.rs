//! Warnings about how well a package measures, beyond whether it is valid: a
//! choice question a learner can pass by a coin toss (two choices that are not
//! true/false), a course whose answer keys sit mostly in one place (a learner
//! who always picks "a" should not pass), and per competence how many pre- and
//! post-test questions the courses that claim it ask, so that a gain is
//! measured on more than one item. Valid packages may carry warnings; the
//! shipped one must carry none.
//!
//! Beyond those, `quality` judges each course's tests (what a learner who does
//! not read scores, keys that give themselves away by their length, true/false
//! answers that lean one way, silly choices, items shared between the tests
//! and the lesson checks): its errors fail `fuzhi courses check`, its
//! warnings join the others.

pub mod blind;
pub mod quality;
pub mod text;

use std::collections::BTreeMap;

use super::QuestionKind;
use super::load::LoadedCourse;
use super::package::{Quiz, QuizKind, Skills};
use super::problem::{Problem, list};
use quality::{Severity, TestScore};

/// Fewest pre-test (and post-test) questions a competence needs across the
/// courses that claim it.
pub const MIN_PER_COMPETENCE: usize = 4;

/// Fewest single-choice questions in a course before their key positions are
/// judged (a short course cannot spread them).
pub const KEY_SPREAD_FROM: usize = 6;

/// How many pre- and post-test questions ask about one competence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coverage {
    pub code: String,
    /// The courses that list it in course.toml.
    pub courses: Vec<String>,
    pub pre: usize,
    pub post: usize,
}

/// A course's test with its blind score (see `quality::TestScore`).
#[derive(Debug, Clone, PartialEq)]
pub struct Blind {
    /// The course's slug.
    pub course: String,
    pub score: TestScore,
}

/// What the review found: errors (a test that does not measure) and warnings
/// with file and line, each test's blind score against its pass mark, and
/// the coverage of every competence of the framework (and any a course
/// claims outside it).
#[derive(Debug, Clone, Default)]
pub struct Review {
    pub errors: Vec<Problem>,
    pub warnings: Vec<Problem>,
    pub blind: Vec<Blind>,
    pub coverage: Vec<Coverage>,
}

/// A video with no captions in the course's first language: a learner who
/// cannot hear it well (or is in a noisy room) gets nothing of its words.
fn uncaptioned(c: &LoadedCourse, warnings: &mut Vec<Problem>) {
    let lang = c.course.default_language();
    for m in c.course.media.iter().filter(|m| m.path.ends_with(".mp4")) {
        let Some(vtt) = super::media::captions_of(&m.path, lang) else {
            continue;
        };
        if !c.course.media.iter().any(|x| x.path == vtt) {
            warnings.push(Problem::new(
                &format!("{}/{}", c.dir, m.path),
                None,
                format!("warning: the video has no {lang} captions (add {vtt}, or type them in the lesson editor)"),
            ));
        }
    }
}

/// Reviews loaded courses against the framework.
pub fn review(skills: Option<&Skills>, courses: &[LoadedCourse]) -> Review {
    let mut warnings = Vec::new();
    let mut errors = Vec::new();
    let mut blind = Vec::new();
    for c in courses {
        for quiz in &c.course.quizzes {
            two_choices(&c.dir, quiz, &mut warnings);
        }
        key_positions(c, &mut warnings);
        uncaptioned(c, &mut warnings);
        let judged = quality::judge(&c.course);
        for f in judged.findings {
            let quiz = f
                .quiz
                .as_deref()
                .and_then(|s| c.course.quizzes.iter().find(|q| q.slug == s));
            let file = match quiz {
                Some(q) => quiz_file(&c.dir, q),
                None => format!("{}/quizzes", c.dir),
            };
            let line = quiz
                .zip(f.question.as_deref())
                .and_then(|(q, id)| line_of_question(q, id));
            let p = Problem::new(&file, line, f.message);
            match f.severity {
                Severity::Error => errors.push(p),
                Severity::Warning => warnings.push(p),
            }
        }
        blind.extend(judged.tests.into_iter().map(|score| Blind {
            course: c.course.slug.clone(),
            score,
        }));
    }
    let coverage = coverage(skills, courses);
    for cov in &coverage {
        if cov.courses.is_empty() {
            continue;
        }
        if cov.pre < MIN_PER_COMPETENCE || cov.post < MIN_PER_COMPETENCE {
            let file = courses
                .iter()
                .find(|c| c.course.slug == cov.courses[0])
                .map_or_else(String::new, |c| format!("{}/course.toml", c.dir));
            warnings.push(Problem::new(
                &file,
                None,
                format!(
                    "warning: competence \"{}\" has {} pre-test and {} post-test questions across {} (at least {MIN_PER_COMPETENCE} each, so a gain rests on more than one item)",
                    cov.code,
                    cov.pre,
                    cov.post,
                    list(&cov.courses)
                ),
            ));
        }
    }
    Review {
        errors,
        warnings,
        blind,
        coverage,
    }
}

fn quiz_file(dir: &str, quiz: &Quiz) -> String {
    format!("{dir}/quizzes/{}.toml", quiz.slug)
}

/// The line of question `id` in a quiz file's text, when it has one.
fn line_of_question(quiz: &Quiz, id: &str) -> Option<usize> {
    let wanted = format!("id = \"{id}\"");
    let text = quiz.source.as_deref()?;
    let mut in_question = false;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line == "[[question]]" {
            in_question = true;
        } else if in_question && line == wanted {
            return Some(n + 1);
        } else if line.starts_with("id =") {
            in_question = false;
        }
    }
    None
}

fn two_choices(dir: &str, quiz: &Quiz, out: &mut Vec<Problem>) {
    for q in &quiz.questions {
        let choosy = matches!(
            q.kind,
            QuestionKind::Single | QuestionKind::Multiple | QuestionKind::Order
        );
        if choosy && q.choices.len() == 2 {
            out.push(Problem::new(
                &quiz_file(dir, quiz),
                line_of_question(quiz, &q.id),
                format!(
                    "warning: question \"{}\" has only two choices (half can pass by guessing): make it true_false or give at least three plausible choices",
                    q.id
                ),
            ));
        }
    }
}

fn key_positions(c: &LoadedCourse, out: &mut Vec<Problem>) {
    // Position (from 1) of the key of every single-choice question.
    let mut at: BTreeMap<usize, usize> = BTreeMap::new();
    let mut n = 0;
    for q in c.course.quizzes.iter().flat_map(|q| &q.questions) {
        if q.kind != QuestionKind::Single {
            continue;
        }
        let Some(i) = q
            .answer
            .first()
            .and_then(|a| q.choices.iter().position(|x| &x.id == a))
        else {
            continue;
        };
        *at.entry(i + 1).or_default() += 1;
        n += 1;
    }
    if n < KEY_SPREAD_FROM {
        return;
    }
    if let Some((pos, most)) = at.iter().max_by_key(|(_, k)| **k)
        && most * 2 > n
    {
        let spread: Vec<String> = at.iter().map(|(p, k)| format!("{p}: {k}")).collect();
        out.push(Problem::new(
            &format!("{}/course.toml", c.dir),
            None,
            format!(
                "warning: the right answer is choice {pos} in {most} of {n} single-choice questions (by position: {}); spread the keys over the positions",
                list(&spread)
            ),
        ));
    }
}

/// Pre- and post-test questions per competence, counted in the courses that
/// claim it; every competence of the framework is listed, in its order.
pub fn coverage(skills: Option<&Skills>, courses: &[LoadedCourse]) -> Vec<Coverage> {
    let mut codes: Vec<String> = skills
        .map(|s| s.competences.iter().map(|c| c.code.clone()).collect())
        .unwrap_or_default();
    for c in courses {
        for code in &c.course.competences {
            if !codes.contains(code) {
                codes.push(code.clone());
            }
        }
    }
    codes
        .into_iter()
        .map(|code| {
            let claiming: Vec<&LoadedCourse> = courses
                .iter()
                .filter(|c| c.course.competences.contains(&code))
                .collect();
            let count = |kind: QuizKind| {
                claiming
                    .iter()
                    .flat_map(|c| &c.course.quizzes)
                    .filter(|q| q.kind == kind)
                    .flat_map(|q| &q.questions)
                    .filter(|q| q.competence == code)
                    .count()
            };
            Coverage {
                pre: count(QuizKind::Pre),
                post: count(QuizKind::Post),
                courses: claiming.iter().map(|c| c.course.slug.clone()).collect(),
                code,
            }
        })
        .collect()
}
