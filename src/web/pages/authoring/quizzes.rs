//! The quiz editor: one form per question, and one to add. The form writes
//! the kinds `forms::form_kind` lists; questions of other kinds (written in
//! files) are shown, not edited.

use super::choices::{kind_options, quiz_exists, selected};
use super::forms::{QuestionForm, form_kind};
use super::*;
use crate::courses::{Question, QuestionKind};

pub(super) fn question_values(q: &Question) -> Value {
    let mut v = json!({"id": q.id, "kind": q.kind.name(), "competence": q.competence,
        "points": q.points.to_string(), "correct": q.answer, "truth": q.answer.first().cloned().unwrap_or_default()});
    for (k, t) in [("prompt", &q.prompt), ("explain", &q.explain)] {
        for (lang, s) in t {
            v[format!("{k}.{lang}")] = json!(s);
        }
    }
    for c in &q.choices {
        for (lang, s) in &c.text {
            v[format!("choice.{}.{lang}", c.id)] = json!(s);
        }
    }
    v
}

/// One question form's data; `v` holds its values.
pub(super) fn question_form(
    state: &AppContext,
    lang: &str,
    c: &Course,
    v: &Value,
    errors: &Errors,
    editable: bool,
    options: &[Value],
) -> Value {
    let get = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let options = selected(options, &get("competence"));
    let correct = chosen(v, "correct");
    let langs: Vec<Value> = c.languages.iter().map(|code| json!({
        "code": code, "name": tr(state, lang, &format!("lang.{code}")),
        "prompt": get(&format!("prompt.{code}")), "explain": get(&format!("explain.{code}")),
        "prompt_err": errors.get(&format!("prompt.{code}")).map(|m| tr(state, lang, m)),
        "explain_err": errors.get(&format!("explain.{code}")).map(|m| tr(state, lang, m)),
    })).collect();
    let choices: Vec<Value> = CHOICE_IDS.iter().map(|id| json!({
        "id": id, "correct": correct.iter().any(|x| x == id),
        "texts": c.languages.iter().map(|code| json!({"code": code, "name": tr(state, lang, &format!("lang.{code}")),
            "text": get(&format!("choice.{id}.{code}")), "field": format!("choice.{id}.{code}"),
            "err": errors.get(&format!("choice.{id}.{code}")).map(|m| tr(state, lang, m))})).collect::<Vec<_>>(),
    })).collect();
    // A new question starts as a single-choice one.
    let kind = QuestionKind::parse(&get("kind")).unwrap_or(QuestionKind::Single);
    json!({"id": get("id"), "kind": kind.name(),
        "competence": get("competence"), "points": if get("points").is_empty() { "1".to_string() } else { get("points") },
        "truth": get("truth"), "langs": langs, "choices": choices, "editable": editable, "options": options,
        "kinds": kind_options(state, lang, kind),
        "errors": errors_view(state, lang, errors), "has_errors": !errors.is_empty()})
}

/// The question that failed to save: its id ("" for a new one), the values
/// as sent and the errors.
type Failed<'a> = (&'a str, Value, &'a Errors);

impl Editor<'_> {
    /// The quiz page with the several-questions form as sent (and refused).
    pub(super) async fn quiz_page_with(
        &self,
        quiz: &str,
        batch: Option<(&Fields, &Errors)>,
        status: StatusCode,
    ) -> AppResult<HttpResponse> {
        self.quiz_page(quiz, None, batch, None, status).await
    }

    async fn quiz_page(
        &self,
        quiz: &str,
        failed: Option<Failed<'_>>,
        batch: Option<(&Fields, &Errors)>,
        flash: Option<String>,
        status: StatusCode,
    ) -> AppResult<HttpResponse> {
        let (state, lang, c) = (self.state, self.lang, self.course());
        let competences = self.competences().await?;
        let questions = c
            .quizzes
            .iter()
            .find(|q| q.slug == quiz)
            .map(|q| q.questions.clone())
            .unwrap_or_default();
        let none = Errors::new();
        let form = |v: &Value, e: &Errors, editable: bool| {
            question_form(state, lang, c, v, e, editable, &competences)
        };
        let mut cards: Vec<Value> = questions
            .iter()
            .map(|q| {
                let editable = form_kind(q.kind);
                match &failed {
                    Some((id, v, e)) if *id == q.id => form(v, e, editable),
                    _ => form(&question_values(q), &none, editable),
                }
            })
            .collect();
        let version = self.w.row.version;
        for (f, q) in cards.iter_mut().zip(&questions) {
            f["title"] = json!(pick(&q.prompt, lang, c));
            f["audio"] = super::voices::question_audio_view(state, lang, c, version, q);
        }
        // A single new question sent without the several-questions form
        // comes back in its own form when refused.
        let new_form = match &failed {
            Some(("", v, e)) => Some(form(v, e, true)),
            _ => None,
        };
        let batch = super::batch::batch_form(state, lang, c, quiz, batch, &competences);
        let need = match quiz {
            "pre" | "post" => self.tr("author.quiz.need_test").replace(
                "{min}",
                &crate::courses::test_minimum(c.competences.len()).to_string(),
            ),
            _ => self.tr("author.quiz.need_check"),
        }
        .replace("{n}", &questions.len().to_string());
        let name = match quiz {
            "pre" => self.tr("author.quiz.pre"),
            "post" => self.tr("author.quiz.post"),
            other => format!(
                "{} · {}",
                self.tr("author.quiz.check"),
                super::stem_title(c, other, lang).unwrap_or_else(|| other.to_string())
            ),
        };
        let file = format!("quizzes/{quiz}.toml");
        let (_, problems) = self.problems(|f| f == file).await?;
        self.page("author.quiz")
            .set("quiz", json!({"slug": quiz, "name": name}))
            .set("questions", cards)
            .set("new_question", new_form)
            .set("batch", batch)
            .set("need", need)
            .set("problems", problems)
            .set("flash", flash)
            .render_status(state, "pages/teach_quiz", status)
    }
}

impl Editor<'_> {
    /// The quiz page again with a problem about one question's audio (422).
    pub(super) async fn quiz_refused(
        &self,
        quiz: &str,
        message: String,
    ) -> AppResult<HttpResponse> {
        self.quiz_page(
            quiz,
            None,
            None,
            Some(message),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await
    }
}

pub async fn quiz_edit(
    author: Author,
    path: web::Path<(String, String)>,
    q: web::Query<Flash>,
) -> AppResult<HttpResponse> {
    let (slug, quiz) = path.into_inner();
    let e = author.editor(&slug).await?;
    if !quiz_exists(e.course(), &quiz) {
        return Err(AppError::NotFound);
    }
    e.quiz_page(&quiz, None, None, e.saved(&q), StatusCode::OK)
        .await
}

/// Saves (or, with `action=delete`, deletes) one question.
pub async fn quiz_save(
    author: Author,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let (slug, quiz) = path.into_inner();
    let e = author.editor(&slug).await?;
    if !quiz_exists(e.course(), &quiz) {
        return Err(AppError::NotFound);
    }
    let f = Fields::parse(&body);
    let id = f.get("id");
    let done = format!("/teach/courses/{slug}/quizzes/{quiz}?saved=1");
    if f.get("action") == "delete" {
        e.save("question deleted", |c| {
            edit::quiz_mut(c, &quiz).is_some_and(|q| edit::delete_question(q, &id))
        })
        .await?;
        return Ok(redirect(&done));
    }
    let existing = e.course().quizzes.iter().find(|q| q.slug == quiz);
    if !id.is_empty() && !existing.is_some_and(|q| q.questions.iter().any(|x| x.id == id)) {
        return Err(AppError::NotFound);
    }
    let new_id = if id.is_empty() {
        existing.map_or_else(|| "q1".to_string(), edit::next_question_id)
    } else {
        id.clone()
    };
    let form = QuestionForm {
        form: e.form(&f),
        id: new_id,
    };
    match Question::try_from(form) {
        Ok(question) => {
            e.save("question", |c| {
                edit::quiz_mut(c, &quiz).is_some_and(|q| {
                    edit::upsert_question(q, question.clone());
                    true
                })
            })
            .await?;
            Ok(redirect(&done))
        }
        Err(errors) => {
            let failed = Some((id.as_str(), f.values(), &errors));
            e.quiz_page(&quiz, failed, None, None, StatusCode::UNPROCESSABLE_ENTITY)
                .await
        }
    }
}
