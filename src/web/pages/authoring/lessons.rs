//! The lesson editor: add, reorder, edit in Markdown with a server-rendered preview.

use super::*;

pub async fn lesson_add(
    state: State,
    locale: Locale,
    user: CurrentUser,
    path: web::Path<String>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let slug = path.into_inner();
    let w = authoring::working(&state.db, &user.actor, &slug).await?;
    let f = Fields::parse(&body);
    let taken: Vec<String> = w.course.lessons.iter().map(|l| l.slug.clone()).collect();
    let mut result = forms::new_lesson(&f, &taken);
    if w.course.lessons.len() >= 99 {
        result = Err(Errors::from([(
            "lesson_slug".to_string(),
            "author.err.too_many".to_string(),
        )]));
    }
    match result {
        Ok((lesson, title)) => {
            authoring::edit(&state.db, &user.actor, &slug, "lesson added", |c| {
                edit::add_lesson(c, &lesson, &title);
                true
            })
            .await?;
            Ok(redirect(&format!("/teach/courses/{slug}/lessons/{lesson}")))
        }
        Err(errors) => {
            let mut v = meta_values(&w.course);
            v["lesson_slug"] = json!(f.get("lesson_slug"));
            v["lesson_title"] = json!(f.get("lesson_title"));
            course_page(
                &state,
                locale.0,
                &user,
                &w,
                v,
                &errors,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

pub async fn lesson_move(
    state: State,
    user: CurrentUser,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let (slug, lesson) = path.into_inner();
    let up = Fields::parse(&body).get("dir") == "up";
    authoring::edit(&state.db, &user.actor, &slug, "lesson moved", |c| {
        c.lessons.iter().any(|l| l.slug == lesson) && {
            edit::move_lesson(c, &lesson, up);
            true
        }
    })
    .await?;
    Ok(redirect(&format!("/teach/courses/{slug}")))
}

pub(super) fn lesson_values(c: &Course, slug: &str) -> Option<Value> {
    let l = c.lessons.iter().find(|l| l.slug == slug)?;
    let first = l
        .texts
        .get(c.default_language())
        .or_else(|| l.texts.values().next());
    let mut v = json!({
        "minutes": first.map_or(5, |t| t.minutes).to_string(),
        "competence": first.map(|t| t.competences.clone()).unwrap_or_default(),
    });
    for (lang, t) in &l.texts {
        v[format!("title.{lang}")] = json!(t.title);
        v[format!("body.{lang}")] = json!(t.body_md);
    }
    Some(v)
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn lesson_page(
    state: &AppContext,
    lang: &str,
    user: &CurrentUser,
    w: &Working,
    lesson: &str,
    values: Value,
    errors: &Errors,
    preview: Option<Vec<Value>>,
    flash: Option<String>,
    status: StatusCode,
) -> AppResult<HttpResponse> {
    let c = &w.course;
    let l = c
        .lessons
        .iter()
        .find(|l| l.slug == lesson)
        .ok_or(AppError::NotFound)?;
    let stem = l.stem();
    let problems: Vec<Problem> = authoring::check(&state.db, c)
        .await?
        .into_iter()
        .filter(|p| p.file.starts_with(&format!("lessons/{stem}.")))
        .collect();
    let langs: Vec<Value> = c
        .languages
        .iter()
        .map(|code| {
            json!({"code": code, "title": values.get(format!("title.{code}")).cloned().unwrap_or(json!("")),
                   "body": values.get(format!("body.{code}")).cloned().unwrap_or(json!("")),
                   "name": tr(state, lang, &format!("lang.{code}")),
                   "title_err": errors.get(&format!("title.{code}")).map(|m| tr(state, lang, m))})
        })
        .collect();
    let chosen: Vec<String> = match values.get("competence") {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => vec![],
    };
    let competences: Vec<Value> = competence_options(state, lang)
        .await?
        .into_iter()
        .filter(|o| {
            c.competences
                .iter()
                .any(|x| Some(x.as_str()) == o["code"].as_str())
        })
        .map(|mut o| {
            o["checked"] = json!(
                chosen
                    .iter()
                    .any(|x| Some(x.as_str()) == o["code"].as_str())
            );
            o
        })
        .collect();
    let minutes = values
        .get("minutes")
        .and_then(Value::as_str)
        .unwrap_or("5")
        .to_string();
    Page::new(state, lang, Some(user), "author.lesson")
        .set(
            "course",
            json!({"slug": c.slug, "title": pick(&c.title, lang, c)}),
        )
        .set("lesson", json!({"slug": l.slug, "stem": stem}))
        .set("langs", langs)
        .set("minutes", minutes)
        .set("errors", errors_view(state, lang, errors))
        .set("competences", competences)
        .set("preview", preview)
        .set("problems", problems_view(state, lang, c, &problems))
        .set("flash", flash)
        .render_status(state, "pages/teach_lesson", status)
}

pub async fn lesson_edit(
    state: State,
    locale: Locale,
    user: CurrentUser,
    path: web::Path<(String, String)>,
    q: web::Query<Flash>,
) -> AppResult<HttpResponse> {
    let (slug, lesson) = path.into_inner();
    let w = authoring::working(&state.db, &user.actor, &slug).await?;
    let values = lesson_values(&w.course, &lesson).ok_or(AppError::NotFound)?;
    let flash = q
        .saved
        .as_ref()
        .map(|_| tr(&state, locale.0, "author.saved"));
    lesson_page(
        &state,
        locale.0,
        &user,
        &w,
        &lesson,
        values,
        &Errors::new(),
        None,
        flash,
        StatusCode::OK,
    )
    .await
}

/// Saves a lesson, or (the preview button) shows it rendered without saving.
pub async fn lesson_save(
    state: State,
    locale: Locale,
    user: CurrentUser,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let (slug, lesson) = path.into_inner();
    let w = authoring::working(&state.db, &user.actor, &slug).await?;
    if !w.course.lessons.iter().any(|l| l.slug == lesson) {
        return Err(AppError::NotFound);
    }
    let f = Fields::parse(&body);
    let langs = w.course.languages.clone();
    if f.get("action") == "preview" {
        let prefix = format!("/c/{slug}/{}", w.row.version);
        let preview: Vec<Value> = langs
            .iter()
            .map(|code| {
                json!({"name": tr(&state, locale.0, &format!("lang.{code}")), "title": f.get(&format!("title.{code}")),
                       "html": render_markdown(&f.raw(&format!("body.{code}")), &prefix)})
            })
            .collect();
        return lesson_page(
            &state,
            locale.0,
            &user,
            &w,
            &lesson,
            f.values(),
            &Errors::new(),
            Some(preview),
            None,
            StatusCode::OK,
        )
        .await;
    }
    match forms::lesson(&f, &langs, &w.course.competences) {
        Ok(e) => {
            authoring::edit(&state.db, &user.actor, &slug, "lesson", |c| {
                edit::set_lesson(c, &lesson, &e)
            })
            .await?;
            Ok(redirect(&format!(
                "/teach/courses/{slug}/lessons/{lesson}?saved=1"
            )))
        }
        Err(errors) => {
            lesson_page(
                &state,
                locale.0,
                &user,
                &w,
                &lesson,
                f.values(),
                &errors,
                None,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}
