//! Several questions in one form: up to `BATCH` blocks (prompt, choices and
//! the right one, or true/false, and the explanation), saved together or not
//! at all. A refused form comes back with every value kept and, at its top,
//! a summary naming each bad field by question number and field, each a
//! link to the field.

use super::choices::{kind_options, quiz_exists, selected};
use super::forms::QuestionForm;
use super::*;
use crate::courses::{Question, QuestionKind};

/// Most questions one form adds.
pub const BATCH: usize = 5;
/// The choices each block offers.
const CHOICES: [&str; 4] = ["a", "b", "c", "d"];
/// Fields a block has even when left blank (lists with a value chosen).
const DEFAULTED: [&str; 3] = ["kind", "competence", "points"];

/// How many blocks the form shows: a lesson check holds 2 to 4 questions.
fn blocks(quiz: &str) -> usize {
    if quiz == "pre" || quiz == "post" {
        BATCH
    } else {
        3
    }
}

/// The questions of the filled-in blocks with their new ids, or every
/// error keyed `q{n}.{field}` (`none` when no block was filled in).
fn parse(f: &Fields, c: &Course, existing: &[String]) -> Result<Vec<Question>, Errors> {
    let mut taken = existing.to_vec();
    let mut out = Vec::new();
    let mut errors = Errors::new();
    for n in 1..=BATCH {
        let mut sub = f.prefixed(&format!("q{n}."));
        if !sub.any_filled(&DEFAULTED) {
            continue;
        }
        if sub.get("points").is_empty() {
            sub.set("points", "1");
        }
        let id = (1..)
            .map(|i| format!("q{i}"))
            .find(|id| !taken.contains(id))
            .unwrap_or_default();
        let form = QuestionForm {
            form: super::forms::CourseForm {
                fields: &sub,
                course: c,
            },
            id: id.clone(),
        };
        match Question::try_from(form) {
            Ok(q) => {
                taken.push(id);
                out.push(q);
            }
            Err(e) => errors.extend(e.into_iter().map(|(k, v)| (format!("q{n}.{k}"), v))),
        }
    }
    if out.is_empty() && errors.is_empty() {
        errors.insert("none".into(), "author.batch.none".into());
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// The element id of a field of block `n` (`q2-choice-a-zh-CN`); the
/// choices and the right answer share their fieldset's.
fn anchor(n: &str, field: &str) -> String {
    let field = if field == "correct" { "choices" } else { field };
    format!("q{n}-{}", field.replace('.', "-"))
}

/// How a field of a block is named on the page.
fn label(state: &AppContext, lang: &str, field: &str) -> String {
    let t = |k: &str| tr(state, lang, k);
    let in_lang = |name: String, code: &str| {
        t("author.batch.in_lang")
            .replace("{field}", &name)
            .replace("{lang}", &t(&format!("lang.{code}")))
    };
    match field.split('.').collect::<Vec<_>>().as_slice() {
        ["prompt", code] => in_lang(t("author.batch.prompt"), code),
        ["explain", code] => in_lang(t("author.batch.explain"), code),
        ["choice", id, code] => in_lang(t("author.batch.choice").replace("{id}", id), code),
        ["choices"] => t("author.choices"),
        ["correct"] => t("author.batch.correct"),
        ["truth"] => t("author.truth"),
        ["kind"] => t("author.kind"),
        ["competence"] => t("author.competence"),
        ["points"] => t("author.points"),
        _ => field.to_string(),
    }
}

/// One line of the summary per bad field, in the form's order.
fn summary(state: &AppContext, lang: &str, c: &Course, errors: &Errors) -> Vec<Value> {
    errors
        .iter()
        .map(|(key, msg)| {
            let msg = tr(state, lang, msg);
            let Some((n, field)) = key.strip_prefix('q').and_then(|k| k.split_once('.')) else {
                let first = format!("prompt.{}", c.default_language());
                return json!({"href": format!("#{}", anchor("1", &first)), "text": msg});
            };
            let text = tr(state, lang, "author.batch.line")
                .replace("{n}", n)
                .replace("{field}", &label(state, lang, field))
                .replace("{message}", &msg);
            json!({"href": format!("#{}", anchor(n, field)), "text": text})
        })
        .collect()
}

/// One block of the form: its fields' names, ids, values and errors.
fn block(
    state: &AppContext,
    lang: &str,
    c: &Course,
    n: usize,
    f: &Fields,
    errors: &Errors,
    options: &[Value],
) -> Value {
    let ns = n.to_string();
    let v = f.prefixed(&format!("q{n}."));
    let err = |k: &str| errors.get(&format!("q{n}.{k}")).map(|m| tr(state, lang, m));
    let field = |k: String| {
        json!({"id": anchor(&ns, &k), "name": format!("q{n}.{k}"), "value": v.get(&k),
               "label": label(state, lang, &k), "err": err(&k)})
    };
    let langs = &c.languages;
    let prompts: Vec<Value> = langs.iter().map(|l| field(format!("prompt.{l}"))).collect();
    let explains: Vec<Value> = langs
        .iter()
        .map(|l| field(format!("explain.{l}")))
        .collect();
    let correct = v.all("correct");
    let choices: Vec<Value> = CHOICES
        .iter()
        .map(|id| {
            let texts: Vec<Value> = langs
                .iter()
                .map(|l| field(format!("choice.{id}.{l}")))
                .collect();
            json!({"id": id, "correct": correct.iter().any(|x| x == id), "texts": texts})
        })
        .collect();
    let kind = QuestionKind::parse(&v.get("kind")).unwrap_or(QuestionKind::Single);
    let competence = match v.get("competence") {
        x if x.is_empty() => c.competences.first().cloned().unwrap_or_default(),
        x => x,
    };
    json!({"n": n, "kinds": kind_options(state, lang, kind), "options": selected(options, &competence),
        "kind_err": err("kind"), "competence_err": err("competence"), "prompts": prompts,
        "explains": explains, "choices": choices, "choices_err": err("choices").or_else(|| err("correct")),
        "truth": v.get("truth"), "truth_err": err("truth")})
}

/// The form adding several questions to `quiz`, with what was sent and
/// what was wrong with it.
pub(super) fn batch_form(
    state: &AppContext,
    lang: &str,
    c: &Course,
    quiz: &str,
    sent: Option<(&Fields, &Errors)>,
    options: &[Value],
) -> Value {
    let blank = (Fields::parse(b""), Errors::new());
    let (f, errors) = sent.unwrap_or((&blank.0, &blank.1));
    let blocks: Vec<Value> = (1..=blocks(quiz))
        .map(|n| block(state, lang, c, n, f, errors, options))
        .collect();
    let summary = summary(state, lang, c, errors);
    json!({"blocks": blocks, "count": summary.len(), "summary": summary})
}

/// Adds the filled-in blocks' questions to the quiz, all or none.
pub async fn quiz_batch(
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
    let existing: Vec<String> = e
        .course()
        .quizzes
        .iter()
        .find(|q| q.slug == quiz)
        .map(|q| q.questions.iter().map(|x| x.id.clone()).collect())
        .unwrap_or_default();
    match parse(&f, e.course(), &existing) {
        Ok(questions) => {
            e.save("questions added", |c| {
                edit::quiz_mut(c, &quiz).is_some_and(|q| {
                    for x in questions.iter().cloned() {
                        edit::upsert_question(q, x);
                    }
                    true
                })
            })
            .await?;
            Ok(redirect(&format!(
                "/teach/courses/{slug}/quizzes/{quiz}?saved=1"
            )))
        }
        Err(errors) => {
            e.quiz_page_with(&quiz, Some((&f, &errors)), StatusCode::UNPROCESSABLE_ENTITY)
                .await
        }
    }
}
