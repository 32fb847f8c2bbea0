//! The quiz editor (single, multiple and true/false questions) and the
//! practical-task editor: one form per question or task, and one to add.

use super::*;

/// Whether `quiz` names a quiz this course has or may have.
pub(super) fn quiz_exists(c: &Course, quiz: &str) -> bool {
    quiz == "pre"
        || quiz == "post"
        || c.quizzes.iter().any(|q| q.slug == quiz)
        || c.lessons.iter().any(|l| l.stem() == quiz)
}

pub(super) fn question_values(q: &crate::courses::Question) -> Value {
    let mut v = json!({"id": q.id, "kind": q.kind.as_str(), "competence": q.competence,
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

/// Competence options with the chosen one marked.
pub(super) fn selected(options: &[Value], code: &str) -> Vec<Value> {
    options
        .iter()
        .map(|o| {
            let mut o = o.clone();
            o["selected"] = json!(o["code"].as_str() == Some(code));
            o
        })
        .collect()
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
    let correct: Vec<String> = match v.get("correct") {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => vec![],
    };
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
    let kind = get("kind");
    let kind_is = |k: &str, want: &str| k == want || (k.is_empty() && want == "single");
    json!({"id": get("id"), "kind": if kind.is_empty() { "single".to_string() } else { kind },
        "competence": get("competence"), "points": if get("points").is_empty() { "1".to_string() } else { get("points") },
        "truth": get("truth"), "langs": langs, "choices": choices, "editable": editable, "options": options,
        "single": kind_is(&get("kind"), "single"), "multiple": kind_is(&get("kind"), "multiple"), "true_false": kind_is(&get("kind"), "true_false"),
        "errors": errors_view(state, lang, errors), "has_errors": !errors.is_empty()})
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn quiz_page(
    state: &AppContext,
    lang: &str,
    user: &CurrentUser,
    w: &Working,
    quiz: &str,
    failed: Option<(&str, Value, &Errors)>,
    flash: Option<String>,
    status: StatusCode,
) -> AppResult<HttpResponse> {
    let c = &w.course;
    let competences: Vec<Value> = competence_options(state, lang)
        .await?
        .into_iter()
        .filter(|o| {
            c.competences
                .iter()
                .any(|x| Some(x.as_str()) == o["code"].as_str())
        })
        .collect();
    let questions = c
        .quizzes
        .iter()
        .find(|q| q.slug == quiz)
        .map(|q| q.questions.clone())
        .unwrap_or_default();
    let none = Errors::new();
    let mut cards: Vec<Value> = questions
        .iter()
        .map(|q| {
            let editable = !matches!(q.kind, QuestionKind::Order | QuestionKind::Number);
            match &failed {
                Some((id, v, e)) if *id == q.id => {
                    question_form(state, lang, c, v, e, editable, &competences)
                }
                _ => question_form(
                    state,
                    lang,
                    c,
                    &question_values(q),
                    &none,
                    editable,
                    &competences,
                ),
            }
        })
        .collect();
    for (f, q) in cards.iter_mut().zip(&questions) {
        f["title"] = json!(pick(&q.prompt, lang, c));
    }
    let blank = json!({"competence": c.competences.first().cloned().unwrap_or_default()});
    let new_form = match &failed {
        Some(("", v, e)) => question_form(state, lang, c, v, e, true, &competences),
        _ => question_form(state, lang, c, &blank, &none, true, &competences),
    };
    let name = match quiz {
        "pre" => tr(state, lang, "author.quiz.pre"),
        "post" => tr(state, lang, "author.quiz.post"),
        other => format!("{} {other}", tr(state, lang, "author.quiz.check")),
    };
    let problems: Vec<Problem> = authoring::check(&state.db, c)
        .await?
        .into_iter()
        .filter(|p| p.file == format!("quizzes/{quiz}.toml"))
        .collect();
    Page::new(state, lang, Some(user), "author.quiz")
        .set(
            "course",
            json!({"slug": c.slug, "title": pick(&c.title, lang, c)}),
        )
        .set("quiz", json!({"slug": quiz, "name": name}))
        .set("questions", cards)
        .set("new_question", new_form)
        .set("problems", problems_view(state, lang, c, &problems))
        .set("flash", flash)
        .render_status(state, "pages/teach_quiz", status)
}

pub async fn quiz_edit(
    state: State,
    locale: Locale,
    user: CurrentUser,
    path: web::Path<(String, String)>,
    q: web::Query<Flash>,
) -> AppResult<HttpResponse> {
    let (slug, quiz) = path.into_inner();
    let w = authoring::working(&state.db, &user.actor, &slug).await?;
    if !quiz_exists(&w.course, &quiz) {
        return Err(AppError::NotFound);
    }
    let flash = q
        .saved
        .as_ref()
        .map(|_| tr(&state, locale.0, "author.saved"));
    quiz_page(
        &state,
        locale.0,
        &user,
        &w,
        &quiz,
        None,
        flash,
        StatusCode::OK,
    )
    .await
}

/// Saves (or, with `action=delete`, deletes) one question.
pub async fn quiz_save(
    state: State,
    locale: Locale,
    user: CurrentUser,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let (slug, quiz) = path.into_inner();
    let w = authoring::working(&state.db, &user.actor, &slug).await?;
    if !quiz_exists(&w.course, &quiz) {
        return Err(AppError::NotFound);
    }
    let f = Fields::parse(&body);
    let id = f.get("id");
    let done = format!("/teach/courses/{slug}/quizzes/{quiz}?saved=1");
    if f.get("action") == "delete" {
        authoring::edit(&state.db, &user.actor, &slug, "question deleted", |c| {
            edit::quiz_mut(c, &quiz).is_some_and(|q| edit::delete_question(q, &id))
        })
        .await?;
        return Ok(redirect(&done));
    }
    let existing = w.course.quizzes.iter().find(|q| q.slug == quiz);
    if !id.is_empty() && !existing.is_some_and(|q| q.questions.iter().any(|x| x.id == id)) {
        return Err(AppError::NotFound);
    }
    let new_id = if id.is_empty() {
        existing.map_or_else(|| "q1".to_string(), edit::next_question_id)
    } else {
        id.clone()
    };
    match forms::question(&f, new_id, &w.course.languages, &w.course.competences) {
        Ok(question) => {
            authoring::edit(&state.db, &user.actor, &slug, "question", |c| {
                edit::quiz_mut(c, &quiz).is_some_and(|q| {
                    edit::upsert_question(q, question);
                    true
                })
            })
            .await?;
            Ok(redirect(&done))
        }
        Err(errors) => {
            quiz_page(
                &state,
                locale.0,
                &user,
                &w,
                &quiz,
                Some((id.as_str(), f.values(), &errors)),
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

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
    json!({"id": get("id"), "competence": get("competence"), "required": !get("required").is_empty(),
        "langs": langs, "is_new": is_new, "options": options, "errors": errors_view(state, lang, errors), "has_errors": !errors.is_empty()})
}

pub(super) fn task_values(t: &crate::courses::Task) -> Value {
    let mut v = json!({"id": t.id, "competence": t.competence, "required": if t.required { "1" } else { "" }});
    for (k, x) in [("title", &t.title), ("evidence", &t.evidence)] {
        for (lang, s) in x {
            v[format!("{k}.{lang}")] = json!(s);
        }
    }
    v
}

pub(super) async fn tasks_page(
    state: &AppContext,
    lang: &str,
    user: &CurrentUser,
    w: &Working,
    failed: Option<(bool, Value, &Errors)>,
    flash: Option<String>,
    status: StatusCode,
) -> AppResult<HttpResponse> {
    let c = &w.course;
    let none = Errors::new();
    let competences: Vec<Value> = competence_options(state, lang)
        .await?
        .into_iter()
        .filter(|o| {
            c.competences
                .iter()
                .any(|x| Some(x.as_str()) == o["code"].as_str())
        })
        .collect();
    let cards: Vec<Value> = c
        .tasks
        .iter()
        .map(|t| match &failed {
            Some((false, v, e)) if v.get("id").and_then(Value::as_str) == Some(t.id.as_str()) => {
                task_form(state, lang, c, v, e, false, &competences)
            }
            _ => task_form(state, lang, c, &task_values(t), &none, false, &competences),
        })
        .collect();
    let blank =
        json!({"competence": c.competences.first().cloned().unwrap_or_default(), "required": "1"});
    let new_form = match &failed {
        Some((true, v, e)) => task_form(state, lang, c, v, e, true, &competences),
        _ => task_form(state, lang, c, &blank, &none, true, &competences),
    };
    let problems: Vec<Problem> = authoring::check(&state.db, c)
        .await?
        .into_iter()
        .filter(|p| p.file == "tasks.toml")
        .collect();
    Page::new(state, lang, Some(user), "author.tasks")
        .set(
            "course",
            json!({"slug": c.slug, "title": pick(&c.title, lang, c)}),
        )
        .set("tasks", cards)
        .set("new_task", new_form)
        .set("problems", problems_view(state, lang, c, &problems))
        .set("flash", flash)
        .render_status(state, "pages/teach_tasks", status)
}

pub async fn tasks_edit(
    state: State,
    locale: Locale,
    user: CurrentUser,
    path: web::Path<String>,
    q: web::Query<Flash>,
) -> AppResult<HttpResponse> {
    let w = authoring::working(&state.db, &user.actor, &path).await?;
    let flash = q
        .saved
        .as_ref()
        .map(|_| tr(&state, locale.0, "author.saved"));
    tasks_page(&state, locale.0, &user, &w, None, flash, StatusCode::OK).await
}

/// Saves (or, with `action=delete`, deletes) one task; `new=1` adds one.
pub async fn tasks_save(
    state: State,
    locale: Locale,
    user: CurrentUser,
    path: web::Path<String>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let slug = path.into_inner();
    let w = authoring::working(&state.db, &user.actor, &slug).await?;
    let f = Fields::parse(&body);
    let id = f.get("id");
    let is_new = !f.get("new").is_empty();
    let exists = w.course.tasks.iter().any(|t| t.id == id);
    let done = format!("/teach/courses/{slug}/tasks?saved=1");
    if f.get("action") == "delete" {
        authoring::edit(&state.db, &user.actor, &slug, "task deleted", |c| {
            edit::delete_task(c, &id)
        })
        .await?;
        return Ok(redirect(&done));
    }
    if !is_new && !exists {
        return Err(AppError::NotFound);
    }
    let mut result = forms::task(&f, &w.course.languages, &w.course.competences);
    if is_new && exists {
        result = Err(Errors::from([(
            "id".to_string(),
            "author.err.task_taken".to_string(),
        )]));
    }
    match result {
        Ok(task) => {
            authoring::edit(&state.db, &user.actor, &slug, "task", |c| {
                edit::upsert_task(c, task);
                true
            })
            .await?;
            Ok(redirect(&done))
        }
        Err(errors) => {
            tasks_page(
                &state,
                locale.0,
                &user,
                &w,
                Some((is_new, f.values(), &errors)),
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}
