//! The practical-task editor: one form per task, and one to add.

use super::choices::selected;
use super::*;
use crate::courses::Task;

pub(super) fn task_form(
    state: &AppContext,
    lang: &str,
    c: &Course,
    v: &Value,
    errors: &Errors,
    is_new: bool,
    options: &[Value],
) -> Value {
    let get = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let options = selected(options, &get("competence"));
    let langs: Vec<Value> = c.languages.iter().map(|code| json!({
        "code": code, "name": tr(state, lang, &format!("lang.{code}")),
        "title": get(&format!("title.{code}")), "evidence": get(&format!("evidence.{code}")),
        "title_err": errors.get(&format!("title.{code}")).map(|m| tr(state, lang, m)),
        "evidence_err": errors.get(&format!("evidence.{code}")).map(|m| tr(state, lang, m)),
    })).collect();
    let heading = c
        .languages
        .iter()
        .map(|l| get(&format!("title.{l}")))
        .find(|t| !t.is_empty())
        .unwrap_or_else(|| get("id"));
    json!({"id": get("id"), "heading": heading, "competence": get("competence"), "required": !get("required").is_empty(),
        "langs": langs, "is_new": is_new, "options": options, "errors": errors_view(state, lang, errors), "has_errors": !errors.is_empty()})
}

pub(super) fn task_values(t: &Task) -> Value {
    let mut v = json!({"id": t.id, "competence": t.competence, "required": if t.required { "1" } else { "" }});
    for (k, x) in [("title", &t.title), ("evidence", &t.evidence)] {
        for (lang, s) in x {
            v[format!("{k}.{lang}")] = json!(s);
        }
    }
    v
}

/// The task that failed to save: whether it is the new one, the values as
/// sent and the errors.
type Failed<'a> = (bool, Value, &'a Errors);

impl Editor<'_> {
    async fn tasks_page(
        &self,
        failed: Option<Failed<'_>>,
        flash: Option<String>,
        status: StatusCode,
    ) -> AppResult<HttpResponse> {
        let (state, lang, c) = (self.state, self.lang, self.course());
        let none = Errors::new();
        let competences = self.competences().await?;
        let form = |v: &Value, e: &Errors, is_new: bool| {
            task_form(state, lang, c, v, e, is_new, &competences)
        };
        let cards: Vec<Value> = c
            .tasks
            .iter()
            .map(|t| match &failed {
                Some((false, v, e))
                    if v.get("id").and_then(Value::as_str) == Some(t.id.as_str()) =>
                {
                    form(v, e, false)
                }
                _ => form(&task_values(t), &none, false),
            })
            .collect();
        let blank = json!({"competence": c.competences.first().cloned().unwrap_or_default(), "required": "1"});
        let new_form = match &failed {
            Some((true, v, e)) => form(v, e, true),
            _ => form(&blank, &none, true),
        };
        let (_, problems) = self.problems(|f| f == "tasks.toml").await?;
        self.page("author.tasks")
            .set("tasks", cards)
            .set("new_task", new_form)
            .set("problems", problems)
            .set("flash", flash)
            .render_status(state, "pages/teach_tasks", status)
    }
}

pub async fn tasks_edit(
    author: Author,
    path: web::Path<String>,
    q: web::Query<Flash>,
) -> AppResult<HttpResponse> {
    let e = author.editor(&path).await?;
    e.tasks_page(None, e.saved(&q), StatusCode::OK).await
}

/// Saves (or, with `action=delete`, deletes) one task; `new=1` adds one.
pub async fn tasks_save(
    author: Author,
    path: web::Path<String>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let (e, mut f) = author.form(&path, &body).await?;
    let is_new = !f.get("new").is_empty();
    // A new task with no id typed (it sits under "More"): one is made from its title.
    if is_new && f.get("id").is_empty() {
        let c = e.course();
        let title = f.get(&format!("title.{}", c.default_language()));
        let taken: Vec<&str> = c.tasks.iter().map(|t| t.id.as_str()).collect();
        f.set(
            "id",
            &edit::derive_slug(&title, "task", c.tasks.len() + 1, &taken),
        );
    }
    let id = f.get("id");
    let exists = e.course().tasks.iter().any(|t| t.id == id);
    let done = format!("/teach/courses/{}/tasks?saved=1", e.slug());
    if f.get("action") == "delete" {
        e.save("task deleted", |c| edit::delete_task(c, &id))
            .await?;
        return Ok(redirect(&done));
    }
    if !is_new && !exists {
        return Err(AppError::NotFound);
    }
    let result = if is_new && exists {
        Err(Errors::from([(
            "id".to_string(),
            "author.err.task_taken".to_string(),
        )]))
    } else {
        Task::try_from(e.form(&f))
    };
    match result {
        Ok(task) => {
            e.save("task", |c| {
                edit::upsert_task(c, task.clone());
                true
            })
            .await?;
            Ok(redirect(&done))
        }
        Err(errors) => {
            let failed = Some((is_new, f.values(), &errors));
            e.tasks_page(failed, None, StatusCode::UNPROCESSABLE_ENTITY)
                .await
        }
    }
}
