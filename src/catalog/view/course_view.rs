//! A course as a person is shown it: its summary, competences, lessons,
//! quizzes and tasks, in one language.

use std::sync::Arc;

use serde::Serialize;

use super::{CourseSummary, list, visible};
use crate::app::AppContext;
use crate::courses::QuizKind;
use crate::entities::lesson_progress::LessonState;
use crate::error::AppResult;
use crate::learning::content::{CourseInfo, text};
use crate::policy::Actor;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CompetenceTitle {
    pub code: String,
    pub title: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LessonItem {
    pub slug: String,
    pub position: i32,
    pub minutes: i32,
    pub title: String,
    /// The lesson check that follows the lesson.
    pub check: Option<String>,
    /// The learner's state of the lesson (`opened`, `finished`), on her pages only.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub state: Option<LessonState>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QuizItem {
    pub slug: String,
    #[schema(value_type = String)]
    pub kind: QuizKind,
    pub lesson: Option<String>,
    pub questions: usize,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TaskItem {
    pub slug: String,
    pub competence: String,
    pub required: bool,
    pub title: String,
    pub evidence: String,
    /// The best level a trainer signed off (a translation key), on the learner's pages only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
}

/// A course with its lessons, quizzes and tasks, in one language.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CourseView {
    #[serde(flatten)]
    pub summary: CourseSummary,
    pub competence_titles: Vec<CompetenceTitle>,
    pub lessons: Vec<LessonItem>,
    pub quizzes: Vec<QuizItem>,
    pub tasks: Vec<TaskItem>,
}

impl CourseView {
    pub fn build(info: &CourseInfo, lang: &str) -> CourseView {
        let def = info.default_language();
        let codes = list(&info.course.competences);
        let comps = &info.competences;
        let titles = crate::catalog::store::lesson_titles(info, lang);
        CourseView {
            summary: CourseSummary::of(&info.course, lang),
            competence_titles: codes
                .into_iter()
                .map(|code| CompetenceTitle {
                    title: comps
                        .iter()
                        .find(|x| x.code == code)
                        .map(|x| text(&x.title_json, lang, def))
                        .unwrap_or_default(),
                    code,
                })
                .collect(),
            lessons: info
                .lessons
                .iter()
                .map(|l| LessonItem {
                    slug: l.slug.clone(),
                    position: l.position,
                    minutes: l.minutes,
                    title: titles.get(&l.slug).cloned().unwrap_or_default(),
                    check: info.check_of(&l.slug).map(|q| q.row.slug.clone()),
                    state: None,
                })
                .collect(),
            quizzes: info
                .quizzes
                .iter()
                .map(|q| QuizItem {
                    slug: q.row.slug.clone(),
                    kind: q.row.kind,
                    lesson: q.row.lesson_slug.clone(),
                    questions: q.questions.len(),
                })
                .collect(),
            tasks: info
                .tasks
                .iter()
                .map(|t| TaskItem {
                    slug: t.slug.clone(),
                    competence: t.competence.clone(),
                    required: t.required,
                    title: text(&t.title_json, lang, def),
                    evidence: text(&t.evidence_json, lang, def),
                    level: None,
                })
                .collect(),
        }
    }
}

/// The course `slug` as `actor` may see it (see [`visible`]), in `lang`.
pub async fn course_view(
    ctx: &AppContext,
    actor: &Actor,
    slug: &str,
    lang: &str,
) -> AppResult<(Arc<CourseInfo>, CourseView)> {
    let info = visible(&ctx.db, &ctx.content, actor, slug).await?;
    let view = CourseView::build(&info, lang);
    Ok((info, view))
}
