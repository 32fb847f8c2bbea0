//! What a signed-in person is shown of a course version: the catalog entry,
//! the course with its lessons and tasks, one lesson (with its neighbours, its
//! check, its narration and the default-language fallback) and one quiz
//! without its answer key. Built once here: the API serializes these views and
//! the pages render them, so the two can never disagree.

use std::collections::BTreeMap;
use std::sync::Arc;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Serialize;

use crate::app::AppContext;
use crate::entities::{course, question};
use crate::error::{AppError, AppResult};
use crate::learning::content::{Cache, CourseInfo, QuizInfo, default_language, text};
use crate::learning::grading::Graded;
use crate::learning::shuffle;
use crate::policy::{Action, Actor};

/// Published courses, plus drafts when `drafts` (trainers and admins); one
/// row a slug and status, the newest.
pub async fn list_courses(
    db: &impl ConnectionTrait,
    drafts: bool,
) -> AppResult<Vec<course::Model>> {
    let mut statuses = vec!["published"];
    if drafts {
        statuses.push("draft");
    }
    let rows = course::Entity::find()
        .filter(course::Column::Status.is_in(statuses))
        .order_by_asc(course::Column::Category)
        .order_by_asc(course::Column::Level)
        .order_by_asc(course::Column::Slug)
        .order_by_desc(course::Column::Version)
        .all(db)
        .await?;
    let mut seen = std::collections::HashSet::new();
    Ok(rows
        .into_iter()
        .filter(|r| seen.insert((r.slug.clone(), r.status.clone())))
        .collect())
}

/// The title of every published course in one language, by slug.
pub async fn published_titles(
    db: &impl ConnectionTrait,
    lang: &str,
) -> AppResult<BTreeMap<String, String>> {
    Ok(course::Entity::find()
        .filter(course::Column::Status.eq("published"))
        .all(db)
        .await?
        .into_iter()
        .map(|c| {
            let title = text(&c.title_json, lang, default_language(&c));
            (c.slug, title)
        })
        .collect())
}

/// The course a person may see: published, or the newest draft for those who
/// may see drafts.
pub async fn visible(
    db: &impl ConnectionTrait,
    cache: &Cache,
    actor: &Actor,
    slug: &str,
) -> AppResult<Arc<CourseInfo>> {
    if let Some(c) = cache.published(db, slug).await? {
        return Ok(c);
    }
    if actor.may(Action::ViewDraftCourses)
        && let Some(row) = super::export::latest(db, slug, &["draft"]).await?
    {
        return Ok(Arc::new(crate::learning::content::load(db, row).await?));
    }
    Err(AppError::NotFound)
}

fn list(s: &str) -> Vec<String> {
    s.split(',')
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

/// A course in the catalog, in one language.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CourseSummary {
    pub slug: String,
    pub version: i32,
    pub status: String,
    pub category: String,
    pub level: i32,
    pub languages: Vec<String>,
    pub title: String,
    pub summary: String,
    pub hours: f64,
    pub pass_mark: i32,
    pub competences: Vec<String>,
}

impl CourseSummary {
    pub fn of(c: &course::Model, lang: &str) -> CourseSummary {
        let def = default_language(c);
        CourseSummary {
            slug: c.slug.clone(),
            version: c.version,
            status: c.status.clone(),
            category: c.category.clone(),
            level: c.level,
            languages: c.languages.split(',').map(str::to_string).collect(),
            title: text(&c.title_json, lang, def),
            summary: text(&c.summary_json, lang, def),
            hours: c.hours_tenths as f64 / 10.0,
            pass_mark: c.pass_mark,
            competences: list(&c.competences),
        }
    }
}

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
    pub state: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QuizItem {
    pub slug: String,
    pub kind: String,
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
        let titles = super::store::lesson_titles(info, lang);
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
                    kind: q.row.kind.clone(),
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

/// Where a course version's media file is served.
pub fn media_url(info: &CourseInfo, path: &str) -> String {
    format!("/c/{}/{}/{}", info.course.slug, info.course.version, path)
}

/// One lesson as a learner reads it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LessonView {
    /// The course's slug.
    pub course: String,
    pub course_title: String,
    pub slug: String,
    pub position: i32,
    /// Its place in the course (from 1) and the number of lessons.
    pub number: usize,
    pub of: usize,
    pub minutes: i32,
    /// The language of the text shown.
    pub language: String,
    /// The text is in the course's default language, not the one asked for.
    pub fallback: bool,
    pub languages: Vec<String>,
    pub title: String,
    pub html: String,
    /// The narration, when the lesson has one.
    pub audio: Option<String>,
    /// Recordings in spoken varieties (镇雄话, 彝语 …), whatever the language shown.
    pub tracks: Vec<super::voice::TrackView>,
    pub prev: Option<String>,
    pub next: Option<String>,
    /// The lesson check that follows the lesson.
    pub check: Option<String>,
}

impl LessonView {
    /// The lesson `slug` of `info` in `lang` (else the default language);
    /// not found when the course has no such lesson or it has no text.
    pub fn build(info: &CourseInfo, slug: &str, lang: &str) -> AppResult<LessonView> {
        let l = info.lesson(slug).ok_or(AppError::NotFound)?;
        let t = info.text_of(l.id, lang).ok_or(AppError::NotFound)?;
        let (prev, next) = info.neighbours(&l.slug);
        Ok(LessonView {
            course: info.course.slug.clone(),
            course_title: text(&info.course.title_json, lang, info.default_language()),
            slug: l.slug.clone(),
            position: l.position,
            number: info
                .lessons
                .iter()
                .position(|x| x.slug == l.slug)
                .map_or(1, |i| i + 1),
            of: info.lessons.len(),
            minutes: l.minutes,
            fallback: t.locale != lang,
            language: t.locale.clone(),
            languages: info
                .course
                .languages
                .split(',')
                .map(str::to_string)
                .collect(),
            title: t.title.clone(),
            html: titled(&t.title, &t.body_html),
            // The narration of the text shown, never another language's;
            // versions imported before narration was kept per language have
            // the default language's on the lesson.
            audio: t
                .audio
                .as_deref()
                .or_else(|| {
                    (t.locale == info.default_language())
                        .then_some(l.audio.as_deref())
                        .flatten()
                })
                .map(|a| media_url(info, a)),
            tracks: super::voice::track_views(info, l.id, lang),
            prev: prev.map(|x| x.slug.clone()),
            next: next.map(|x| x.slug.clone()),
            check: info.check_of(&l.slug).map(|q| q.row.slug.clone()),
        })
    }
}

/// A lesson's HTML as a learner reads it: its title (the field a trainer
/// fills in) as the heading, then the body. A body that opens with its own
/// top heading (lessons written as files repeat the title there) has that
/// heading replaced, so the title is shown once and is always the field's.
pub fn titled(title: &str, body_html: &str) -> String {
    let body = body_html.trim_start();
    let rest = body
        .strip_prefix("<h1>")
        .and_then(|b| b.split_once("</h1>"))
        .map_or(body, |(_, rest)| rest.trim_start());
    if title.trim().is_empty() {
        return body_html.to_string();
    }
    format!("<h1>{}</h1>\n{rest}", handlebars::html_escape(title.trim()))
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
            audio: super::voice::audio_for(&c["audio"], &c["text"], lang, def),
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
            audio: super::voice::prompt_audio(q, lang, def),
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
    pub kind: String,
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
            kind: q.row.kind.clone(),
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
    use crate::learning::content::tests::sample;
    use crate::learning::grading::QuestionResult;

    #[test]
    fn narration_is_served_from_the_course_version() {
        assert_eq!(
            media_url(&sample(), "media/one.opus"),
            "/c/phone/3/media/one.opus"
        );
    }

    #[test]
    fn a_summary_is_in_the_wanted_language_with_fallback() {
        let c = sample();
        let en = CourseSummary::of(&c.course, "en");
        assert_eq!((en.title.as_str(), en.summary.as_str()), ("Phone", "入门"));
        assert_eq!(en.languages, vec!["zh-CN", "en"]);
        assert_eq!(en.competences, vec!["c1", "c2"], "empty codes are dropped");
        assert_eq!(en.hours, 1.5);
    }

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

    #[test]
    fn a_lesson_shows_its_title_once() {
        // Written in the browser: no heading in the body.
        assert_eq!(
            titled("连 Wi-Fi", "<p>打开设置</p>\n"),
            "<h1>连 Wi-Fi</h1>\n<p>打开设置</p>\n"
        );
        // Written as a file: the body's own top heading gives way to the title.
        assert_eq!(
            titled("新题目", "<h1>旧题目</h1>\n<p>x</p>"),
            "<h1>新题目</h1>\n<p>x</p>"
        );
        assert_eq!(
            titled("<b>&", "<h2>a</h2>"),
            "<h1>&lt;b&gt;&amp;</h1>\n<h2>a</h2>"
        );
    }
}
