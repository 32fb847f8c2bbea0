//! A submitted quiz, question by question, as the learner reviews it: right
//! or not, the right answer, the explanation and the choices she saw.

use serde::Serialize;

use super::shown_choices;
use crate::learning::content::{CourseInfo, QuizInfo, text};
use crate::learning::grading::Graded;

/// One question after submission: whether it was right, the right answer
/// (choice texts in order, joined by arrows), the explanation, and the
/// choices in the order she saw them with what she picked.
#[derive(Debug, Clone, Serialize)]
pub struct ResultLine {
    pub prompt: String,
    pub correct: bool,
    pub answer: String,
    pub explain: String,
    pub choices: Vec<ReviewChoice>,
}

/// A choice as the attempt showed it.
#[derive(Debug, Clone, Serialize)]
pub struct ReviewChoice {
    pub id: String,
    pub text: String,
    /// She picked it (for an order question: she put it in some place).
    pub chosen: bool,
    /// It is (part of) the right answer.
    pub right: bool,
}

impl ResultLine {
    /// The lines of a graded quiz in `lang`; an answer that is no choice
    /// (`true`, `false`, a number) is put into words by `word`.
    pub fn lines(
        info: &CourseInfo,
        quiz: &QuizInfo,
        g: &Graded,
        lang: &str,
        word: impl Fn(&str) -> String,
    ) -> Vec<ResultLine> {
        let def = info.default_language();
        quiz.questions
            .iter()
            .zip(g.questions.iter())
            .map(|(qu, r)| {
                let choices = shown_choices(qu, lang, def, g.seed);
                let given = g.given.get(&qu.qid).cloned().unwrap_or_default();
                let label = |id: &String| {
                    choices
                        .iter()
                        .find(|c| &c.id == id)
                        .map(|c| c.text.clone())
                        .unwrap_or_else(|| word(id))
                };
                ResultLine {
                    prompt: text(&qu.prompt_json, lang, def),
                    correct: r.correct,
                    answer: r.answer.iter().map(label).collect::<Vec<_>>().join(" → "),
                    explain: text(&qu.explain_json, lang, def),
                    choices: choices
                        .iter()
                        .map(|c| ReviewChoice {
                            id: c.id.clone(),
                            text: c.text.clone(),
                            chosen: given.contains(&c.id),
                            right: r.answer.contains(&c.id),
                        })
                        .collect(),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::view::QuizView;
    use crate::entities::question;
    use crate::learning::content::tests::sample;
    use crate::learning::grading::QuestionResult;
    use crate::learning::shuffle;

    fn a_question(qid: &str, kind: &str, choices: &str) -> question::Model {
        let now = chrono::Utc::now();
        question::Model {
            id: 1,
            quiz_id: 2,
            qid: qid.into(),
            position: 0,
            kind: crate::courses::QuestionKind::parse(kind).expect("a question kind"),
            competence: "c1".into(),
            points: 1,
            prompt_json: r#"{"zh-CN":"问","en":"Ask"}"#.into(),
            choices_json: choices.into(),
            answer_json: "[]".into(),
            tolerance: None,
            audio_json: None,
            explain_json: r#"{"zh-CN":"因为"}"#.into(),
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn results_name_the_right_choices_and_put_other_answers_into_words() {
        let mut c = sample();
        c.quizzes[1].questions = vec![
            a_question(
                "q1",
                "order",
                r#"[{"id":"a","text":{"en":"First"}},{"id":"b","text":{"en":"Then"}}]"#,
            ),
            a_question("q2", "true_false", "[]"),
        ];
        let result = |id: &str, correct: bool, answer: &[&str]| QuestionResult {
            id: id.into(),
            correct,
            points: i32::from(correct),
            max: 1,
            competence: "c1".into(),
            answer: answer.iter().map(|a| a.to_string()).collect(),
        };
        let g = Graded {
            score: 1,
            max_score: 2,
            percent: 50,
            passed: false,
            competences: Default::default(),
            questions: vec![
                result("q1", true, &["b", "a"]),
                result("q2", false, &["true"]),
            ],
            seed: None,
            given: Default::default(),
        };
        let lines = ResultLine::lines(&c, &c.quizzes[1], &g, "en", |w| format!("<{w}>"));
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].answer, "Then → First");
        assert!(lines[0].correct && !lines[1].correct);
        assert_eq!(lines[1].answer, "<true>");
        assert_eq!(
            (lines[1].prompt.as_str(), lines[1].explain.as_str()),
            ("Ask", "因为"),
            "the explanation falls back to the default language"
        );
    }

    #[test]
    fn a_review_shows_the_choices_in_the_order_the_attempt_showed_them() {
        let mut c = sample();
        c.quizzes[1].questions = vec![a_question(
            "q1",
            "single",
            r#"[{"id":"a","text":{"en":"A"}},{"id":"b","text":{"en":"B"}},{"id":"c","text":{"en":"C"}},{"id":"d","text":{"en":"D"}}]"#,
        )];
        let slug = c.quizzes[1].row.slug.clone();
        // A seed that does not keep the file's order.
        let seed = (0..100)
            .map(|k| shuffle::seed_of(k, uuid::Uuid::nil()))
            .find(|s| shuffle::order(*s, "q1", 4) != vec![0, 1, 2, 3])
            .unwrap();
        let shown: Vec<String> = QuizView::build(&c, &slug, "en", Some(seed))
            .unwrap()
            .questions[0]
            .choices
            .iter()
            .map(|x| x.id.clone())
            .collect();
        assert_ne!(shown, ["a", "b", "c", "d"]);
        let g = Graded {
            score: 0,
            max_score: 1,
            percent: 0,
            passed: false,
            competences: Default::default(),
            questions: vec![QuestionResult {
                id: "q1".into(),
                correct: false,
                points: 0,
                max: 1,
                competence: "c1".into(),
                answer: vec!["c".into()],
            }],
            seed: Some(seed),
            given: [("q1".to_string(), vec!["b".to_string()])].into(),
        };
        let lines = ResultLine::lines(&c, &c.quizzes[1], &g, "en", |w| w.to_string());
        let review: Vec<String> = lines[0].choices.iter().map(|x| x.id.clone()).collect();
        assert_eq!(review, shown, "the review keeps the order she saw");
        for x in &lines[0].choices {
            assert_eq!((x.chosen, x.right), (x.id == "b", x.id == "c"), "{}", x.id);
        }
    }
}
