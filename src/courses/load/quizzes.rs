//! The quizzes/ folder of a course: the pre-test, the post-test and a check
//! for a lesson, each checked by the quiz rules.

use std::collections::BTreeMap;
use std::path::Path;

use super::files::{entries, file_name, parse, read_text, show, sink};
use super::lessons::lesson_stem;
use crate::courses::package::{Lesson, Quiz, QuizKind};
use crate::courses::problem::Problem;
use crate::courses::raw::RawQuiz;
use crate::courses::rules::{self, Ctx};

pub(super) fn load_quizzes(
    dir: &Path,
    lessons: &[Lesson],
    ctx: &Ctx,
    problems: &mut Vec<Problem>,
) -> Vec<Quiz> {
    let mut quizzes: Vec<Quiz> = Vec::new();
    let mut pre_post: BTreeMap<&str, bool> = BTreeMap::from([("pre", false), ("post", false)]);
    for entry in entries(dir, problems) {
        let file = show(&entry);
        let name = file_name(&entry);
        let stem = name.strip_suffix(".toml").unwrap_or("");
        let (kind, lesson_slug) = match stem {
            "pre" => (QuizKind::Pre, None),
            "post" => (QuizKind::Post, None),
            _ => match lesson_stem(stem) {
                Some((n, slug)) if lessons.iter().any(|l| l.number == n && l.slug == slug) => {
                    (QuizKind::Lesson, Some(slug))
                }
                _ => {
                    problems.push(Problem::new(
                        &file,
                        None,
                        "a quiz is pre.toml, post.toml or named like its lesson (e.g. 01-power-and-touch.toml)",
                    ));
                    continue;
                }
            },
        };
        if let Some(seen) = pre_post.get_mut(stem) {
            *seen = true;
        }
        let Some(text) = read_text(&entry, &file, problems) else {
            continue;
        };
        let Some(raw) = parse::<RawQuiz>(&file, &text, 0, problems) else {
            continue;
        };
        let mut sink = sink(&file, &text, 0, problems);
        let mut quiz = rules::quiz(&raw, stem, kind, lesson_slug, ctx, &mut sink);
        quiz.source = Some(text);
        quizzes.push(quiz);
    }
    for (stem, seen) in pre_post {
        if !seen {
            let what = if stem == "pre" {
                "pre-test"
            } else {
                "post-test"
            };
            problems.push(Problem::new(
                &show(&dir.join(format!("{stem}.toml"))),
                None,
                format!("missing: every course needs a {what}"),
            ));
        }
    }
    // pre, post, then lesson checks in lesson order
    quizzes.sort_by_key(|q| match q.kind {
        QuizKind::Pre => (0, String::new()),
        QuizKind::Post => (1, String::new()),
        QuizKind::Lesson => (2, q.slug.clone()),
    });
    quizzes
}
