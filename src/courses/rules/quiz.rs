//! The rules of a quiz file: how many questions a test has, each question's
//! kind, choices and answer, and the competences the tests cover.

use std::collections::HashMap;

use super::{Ctx, once, pos, text};
use crate::courses::package::{Choice, Question, QuestionKind, Quiz, QuizKind};
use crate::courses::problem::{Sink, did_you_mean, list};
use crate::courses::raw::{RawQuestion, RawQuiz};

/// Fewest questions a pre-test or post-test has: two for every competence
/// of the course, and never fewer than four. A short course on one skill
/// publishes with four; the gain it measures still rests on more than one
/// item per competence.
pub fn test_minimum(competences: usize) -> usize {
    (2 * competences).max(4)
}

pub fn quiz(
    raw: &RawQuiz,
    slug: &str,
    kind: QuizKind,
    lesson_slug: Option<String>,
    ctx: &Ctx,
    sink: &mut Sink,
) -> Quiz {
    let title = raw
        .title
        .as_ref()
        .map(|t| text(sink, "title", t, &ctx.languages));
    let mut seen = HashMap::new();
    let mut questions = Vec::new();
    for q in &raw.question {
        once(sink, &mut seen, "question id", &q.get_ref().id);
        if let Some(q) = question(q.get_ref(), ctx, sink) {
            questions.push(q);
        }
    }
    let n = raw.question.len();
    match kind {
        QuizKind::Pre | QuizKind::Post => {
            let name = if kind == QuizKind::Pre {
                "pre-test"
            } else {
                "post-test"
            };
            let k = ctx.competences.as_ref().map_or(0, Vec::len);
            let min = test_minimum(k);
            if n < min {
                sink.file(format!(
                    "the {name} needs at least {min} questions, 2 for each of the course's {k} competences and never fewer than 4 (found {n})"
                ));
            }
            for c in &ctx.to_cover {
                if !raw
                    .question
                    .iter()
                    .any(|q| q.get_ref().competence.get_ref() == c)
                {
                    sink.file(format!(
                        "the {name} has no question on competence \"{c}\" (pre and post tests cover every competence of the course)"
                    ));
                }
            }
        }
        QuizKind::Lesson => {
            if !(2..=4).contains(&n) {
                sink.file(format!("a lesson check has 2 to 4 questions (found {n})"));
            }
        }
    }
    Quiz {
        slug: slug.to_string(),
        kind,
        lesson_slug,
        title,
        questions,
        source: None,
    }
}

fn question(q: &RawQuestion, ctx: &Ctx, sink: &mut Sink) -> Option<Question> {
    let id = q.id.get_ref();
    let what = format!("question \"{id}\": ");
    if id.trim().is_empty() {
        sink.at(pos(&q.id), "question id is empty");
    }
    ctx.competence(sink, &what, &q.competence);
    let points = q.points.as_ref().map_or(1, |p| *p.get_ref());
    if let Some(p) = &q.points
        && !(1..=100).contains(&points)
    {
        sink.at(pos(p), format!("{what}points must be from 1 to 100"));
    }
    let prompt = text(sink, &format!("{what}prompt"), &q.prompt, &ctx.languages);
    let explain = text(sink, &format!("{what}explain"), &q.explain, &ctx.languages);
    let audio = crate::courses::voice::audio(q.audio.as_ref(), &what, ctx, sink);
    let mut choices = Vec::new();
    let mut seen = HashMap::new();
    for c in q.choices.iter().flat_map(|c| c.get_ref()) {
        let c = c.get_ref();
        once(sink, &mut seen, &format!("{what}choice id"), &c.id);
        let label = format!("{what}choice \"{}\"", c.id.get_ref());
        choices.push(Choice {
            id: c.id.get_ref().clone(),
            text: text(sink, &label, &c.text, &ctx.languages),
            audio: crate::courses::voice::audio(c.audio.as_ref(), &format!("{label}: "), ctx, sink),
        });
    }
    let Some(kind) = QuestionKind::parse(q.kind.get_ref()) else {
        let k = q.kind.get_ref();
        let kinds = QuestionKind::names();
        let hint = did_you_mean(k, kinds.iter().map(String::as_str));
        sink.at(
            pos(&q.kind),
            format!("{what}kind \"{k}\" is not one of {}{hint}", list(&kinds)),
        );
        return None;
    };
    let name = kind.name();
    match (&q.choices, kind.has_choices()) {
        (Some(c), false) => sink.at(pos(c), format!("{what}a {name} question has no choices")),
        (None, true) => sink.at(
            pos(&q.answer),
            format!("{what}a {name} question needs choices"),
        ),
        (Some(c), true) if c.get_ref().len() < 2 => {
            sink.at(
                pos(c),
                format!("{what}a {name} question needs at least 2 choices"),
            );
        }
        _ => {}
    }
    answer(q, kind, &what, &choices, sink);
    if let Some(t) = &q.tolerance {
        let v = *t.get_ref();
        if kind != QuestionKind::Number {
            sink.at(
                pos(t),
                format!("{what}tolerance is only for number questions"),
            );
        } else if !(v.is_finite() && v >= 0.0) {
            sink.at(pos(t), format!("{what}tolerance must be 0 or more"));
        }
    }
    Some(Question {
        id: id.clone(),
        kind,
        competence: q.competence.get_ref().clone(),
        points: u32::try_from(points).unwrap_or(1),
        prompt,
        audio,
        choices,
        answer: q
            .answer
            .get_ref()
            .iter()
            .map(|a| a.get_ref().clone())
            .collect(),
        tolerance: q.tolerance.as_ref().map(|t| *t.get_ref()),
        explain,
    })
}

/// The answer must fit the kind (and the choices).
fn answer(q: &RawQuestion, kind: QuestionKind, what: &str, choices: &[Choice], sink: &mut Sink) {
    let answers = q.answer.get_ref();
    let ids: Vec<&str> = choices.iter().map(|c| c.id.as_str()).collect();
    let count = answers.len();
    let at = pos(&q.answer);
    match kind {
        QuestionKind::Single | QuestionKind::TrueFalse | QuestionKind::Number => {
            if count != 1 {
                sink.at(
                    at,
                    format!(
                        "{what}a {} question has exactly one answer (found {count})",
                        kind.name()
                    ),
                );
                return;
            }
        }
        QuestionKind::Multiple => {
            if count == 0 {
                sink.at(
                    at,
                    format!("{what}a multiple question needs at least one answer"),
                );
                return;
            }
        }
        // Checked below: every choice once.
        QuestionKind::Order => {}
    }
    let mut given: Vec<&str> = Vec::new();
    for a in answers {
        let v = a.get_ref().as_str();
        match kind {
            QuestionKind::TrueFalse if v != "true" && v != "false" => sink.at(
                pos(a),
                format!("{what}answer \"{v}\" must be \"true\" or \"false\""),
            ),
            QuestionKind::Number if !v.trim().parse::<f64>().is_ok_and(f64::is_finite) => {
                sink.at(pos(a), format!("{what}answer \"{v}\" is not a number"));
            }
            QuestionKind::Single | QuestionKind::Multiple | QuestionKind::Order
                if !ids.contains(&v) && !ids.is_empty() =>
            {
                sink.at(
                    pos(a),
                    format!(
                        "{what}answer \"{v}\" is not one of the choices {}",
                        list(&ids)
                    ),
                );
            }
            _ if given.contains(&v) => {
                sink.at(pos(a), format!("{what}answer \"{v}\" is given twice"));
            }
            _ => {}
        }
        given.push(v);
    }
    if kind == QuestionKind::Order {
        let missing: Vec<&str> = ids.iter().copied().filter(|i| !given.contains(i)).collect();
        if !missing.is_empty() {
            sink.at(
                at,
                format!(
                    "{what}an order answer lists every choice once (missing {})",
                    list(&missing)
                ),
            );
        }
    }
}
