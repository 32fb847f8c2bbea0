//! Publishing asks first: a page "确认发布？" lists what learners will see
//! (lessons in order with their titles, the checks and tests with their
//! numbers of questions, the tasks), or what still stops it, with a cancel.
//! Only the form of that page (`confirm=yes`) publishes.

use super::*;
use crate::catalog::store::Outcome;
use crate::courses::QuizKind;

impl Editor<'_> {
    /// What learners will see once the draft is published.
    fn outline(&self) -> Value {
        let (lang, c) = (self.lang, self.course());
        let count = |slug: &str| {
            c.quizzes
                .iter()
                .find(|q| q.slug == slug)
                .map_or(0, |q| q.questions.len())
        };
        let lessons: Vec<Value> = c
            .lessons
            .iter()
            .map(|l| {
                let t = l
                    .texts
                    .get(lang)
                    .or_else(|| l.texts.get(c.default_language()))
                    .or_else(|| l.texts.values().next());
                json!({"number": l.number, "title": t.map(|t| t.title.clone()).unwrap_or_default(),
                       "minutes": t.map_or(0, |t| t.minutes), "check": count(&l.stem())})
            })
            .collect();
        let tasks: Vec<Value> = c
            .tasks
            .iter()
            .map(|t| json!({"title": pick(&t.title, lang, c), "required": t.required}))
            .collect();
        let checks = c
            .quizzes
            .iter()
            .filter(|q| q.kind == QuizKind::Lesson)
            .count();
        json!({"lessons": lessons, "tasks": tasks, "pre": count("pre"), "post": count("post"),
               "checks": checks, "summary": pick(&c.summary, lang, c),
               "languages": c.languages.iter().map(|l| self.tr(&format!("lang.{l}"))).collect::<Vec<_>>()})
    }

    /// The confirmation page; `status` 422 after a refused publish.
    async fn confirm_page(
        &self,
        flash: Option<String>,
        status: StatusCode,
    ) -> AppResult<HttpResponse> {
        let (count, problems) = self.problems(|_| true).await?;
        let w = &self.w;
        let status_text = state_text(self.state, self.lang, w.published, w.archived, w.is_draft);
        self.page("author.publish_confirm")
            .set("state", status_text)
            .set("outline", self.outline())
            .set("problems", problems)
            .set("can_publish", count == 0)
            .set("flash", flash)
            .render_status(self.state, "pages/teach_publish", status)
    }
}

pub async fn publish_confirm(author: Author, path: web::Path<String>) -> AppResult<HttpResponse> {
    let e = author.editor(&path).await?;
    e.confirm_page(None, StatusCode::OK).await
}

/// Publishes only with the confirmation field; otherwise asks first.
pub async fn publish(
    author: Author,
    path: web::Path<String>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let slug = path.into_inner();
    if Fields::parse(&body).get("confirm") != "yes" {
        crate::catalog::store::authorize(&author.state.db, &author.user.actor, &slug).await?;
        return Ok(redirect(&format!("/teach/courses/{slug}/publish")));
    }
    match authoring::publish(
        &author.state.db,
        &author.state.content,
        &author.user.actor,
        &slug,
    )
    .await?
    {
        Ok(outcome) => {
            let (Outcome::Unchanged { version: v }
            | Outcome::Published { version: v }
            | Outcome::Draft { version: v }
            | Outcome::Kept { version: v, .. }) = outcome;
            Ok(redirect(&format!("/teach/courses/{slug}?published={v}")))
        }
        Err(_) => {
            let e = author.editor(&slug).await?;
            let flash = Some(e.tr("author.not_published"));
            e.confirm_page(flash, StatusCode::UNPROCESSABLE_ENTITY)
                .await
        }
    }
}
