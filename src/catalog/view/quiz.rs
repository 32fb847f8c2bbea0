//! A quiz as a learner takes it: its questions without the answer key, their
//! choices in the order her attempt shows them.

use serde::Serialize;

use super::{media_url, visible};
use crate::app::AppContext;
use crate::entities::question;
use crate::error::{AppError, AppResult};
use crate::learning::content::{CourseInfo, text};
use crate::learning::shuffle;
use crate::policy::Actor;

/// One quiz of a course `actor` may see, in `lang`.
pub async fn quiz_view(
    ctx: &AppContext,
    actor: &Actor,
    course: &str,
    quiz: &str,
    lang: &str,
    attempt: uuid::Uuid,
) -> AppResult<QuizView> {
    let info = visible(&ctx.db, &ctx.content, actor, course).await?;
    let seed = shuffle::seed_of(actor.id, attempt);
    let mut v = QuizView::build(&info, quiz, lang, Some(seed))?;
    v.attempt_id = Some(attempt.to_string());
    Ok(v)
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PublicChoice {
    pub id: String,
    pub text: String,
    /// The choice read aloud (in the language of its text), when it has audio.
    pub audio: Option<String>,
}

/// A question as a learner sees it: no answer key, no explanation.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PublicQuestion {
    pub id: String,
    #[schema(value_type = String)]
    pub kind: crate::courses::QuestionKind,
    pub competence: String,
    pub points: i32,
    pub prompt: String,
    /// The prompt read aloud (in the language of its text), when it has audio.
    pub audio: Option<String>,
    pub choices: Vec<PublicChoice>,
}

/// A question's choices in one language, by id.
pub fn choices(q: &question::Model, lang: &str, def: &str) -> Vec<PublicChoice> {
    serde_json::from_str::<Vec<serde_json::Value>>(&q.choices_json)
        .unwrap_or_default()
        .iter()
        .map(|c| PublicChoice {
            id: c["id"].as_str().unwrap_or_default().to_string(),
            text: text(&c["text"].to_string(), lang, def),
            audio: crate::catalog::voice::audio_for(&c["audio"], &c["text"], lang, def),
        })
        .collect()
}

/// A question's choices in one language, in the order an attempt with
/// `seed` shows them (the file's order without a seed).
pub fn shown_choices(
    q: &question::Model,
    lang: &str,
    def: &str,
    seed: Option<i64>,
) -> Vec<PublicChoice> {
    shuffle::arrange(choices(q, lang, def), seed, &q.qid, q.kind)
}

impl PublicQuestion {
    pub fn of(q: &question::Model, lang: &str, def: &str, seed: Option<i64>) -> PublicQuestion {
        PublicQuestion {
            id: q.qid.clone(),
            kind: q.kind,
            competence: q.competence.clone(),
            points: q.points,
            prompt: text(&q.prompt_json, lang, def),
            audio: crate::catalog::voice::prompt_audio(q, lang, def),
            choices: shown_choices(q, lang, def, seed),
        }
    }
}

/// A quiz as a learner takes it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QuizView {
    /// The course's slug.
    pub course: String,
    pub course_title: String,
    pub slug: String,
    #[schema(value_type = String)]
    pub kind: crate::courses::QuizKind,
    /// The lesson the quiz checks, for a lesson check.
    pub lesson: Option<String>,
    pub pass_mark: i32,
    /// The attempt these questions are shown for: submit the answers with it,
    /// so the attempt is stored with the order of choices she saw.
    pub attempt_id: Option<String>,
    pub questions: Vec<PublicQuestion>,
}

impl QuizView {
    /// The quiz `slug` of `info` in `lang`, its choices in the order of
    /// `seed`; not found when there is none.
    pub fn build(
        info: &CourseInfo,
        slug: &str,
        lang: &str,
        seed: Option<i64>,
    ) -> AppResult<QuizView> {
        let q = info.quiz(slug).ok_or(AppError::NotFound)?;
        let def = info.default_language();
        Ok(QuizView {
            course: info.course.slug.clone(),
            course_title: text(&info.course.title_json, lang, def),
            slug: q.row.slug.clone(),
            kind: q.row.kind,
            lesson: q.row.lesson_slug.clone(),
            pass_mark: info.course.pass_mark,
            attempt_id: None,
            questions: q
                .questions
                .iter()
                .map(|x| {
                    // Audio is served with the course version, like narration.
                    let mut q = PublicQuestion::of(x, lang, def, seed);
                    let url = |a: &mut Option<String>| *a = a.take().map(|a| media_url(info, &a));
                    url(&mut q.audio);
                    q.choices.iter_mut().for_each(|c| url(&mut c.audio));
                    q
                })
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::learning::content::tests::sample;

    #[test]
    fn a_quiz_view_has_no_answer_key() {
        let c = sample();
        let v = QuizView::build(&c, "02-two", "en", None).unwrap();
        assert_eq!(
            (v.course.as_str(), v.course_title.as_str(), v.pass_mark),
            ("phone", "Phone", 60)
        );
        assert_eq!(v.lesson.as_deref(), Some("two"));
        let json = serde_json::to_string(&v).unwrap();
        assert!(!json.contains("answer") && !json.contains("explain"));
        assert!(matches!(
            QuizView::build(&c, "nope", "en", Some(1)),
            Err(AppError::NotFound)
        ));
    }
}
