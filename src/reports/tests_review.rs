//! Published courses whose tests do not measure what a learner knows, judged
//! by the rules of `courses review` (`courses::review::quality`) on the
//! questions stored with the published version: skills gained rest on the
//! pre-test and post-test, so the dashboard marks a course whose tests break a
//! rule ("测试待改进"), with the reason. Only errors mark a course; the
//! judgement is kept with the immutable version, made once per process.

use std::convert::Infallible;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;

use crate::catalog::export::question_of;
use crate::courses::review::quality::{self, Judgement, Rule, Severity};
use crate::courses::{Course, Quiz};
use crate::entities::course;
use crate::error::AppResult;
use crate::learning::content::{Cache, CourseInfo, default_language, text};

/// The judgement of a published course version, from its stored questions.
pub fn judge(info: &CourseInfo) -> Judgement {
    let mut c = Course::empty(&info.course.slug);
    c.languages = info
        .course
        .languages
        .split(',')
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    c.pass_mark = info.course.pass_mark.clamp(0, 100) as u8;
    c.quizzes = info
        .quizzes
        .iter()
        .map(|q| Quiz {
            slug: q.row.slug.clone(),
            kind: q.row.kind,
            lesson_slug: q.row.lesson_slug.clone(),
            title: None,
            questions: q.questions.iter().cloned().map(question_of).collect(),
            source: None,
        })
        .collect();
    quality::judge(&c)
}

/// A course marked on the dashboard: its title and the reasons, in a language.
#[derive(Debug, Clone, Serialize)]
pub struct Mark {
    pub slug: String,
    pub title: String,
    pub reasons: Vec<String>,
}

/// The reasons `judged` marks its course, in words `tr` gives (keys
/// `dash.tests.*`); none when its tests break no rule.
pub fn reasons(judged: &Judgement, tr: &dyn Fn(&str) -> String) -> Vec<String> {
    let mut out: Vec<String> = judged
        .tests
        .iter()
        .filter(|t| t.blind.percent >= t.pass_mark)
        .map(|t| {
            tr("dash.tests.blind")
                .replace("{test}", &tr(&format!("dash.tests.{}", t.quiz)))
                .replace("{n}", &t.blind.percent.to_string())
                .replace("{pass}", &t.pass_mark.to_string())
        })
        .collect();
    let mut rules: Vec<Rule> = judged
        .errors()
        .map(|f| f.rule)
        .filter(|r| *r != Rule::Blind)
        .collect();
    rules.sort();
    rules.dedup();
    out.extend(rules.into_iter().map(|r| {
        tr(match r {
            Rule::LongestKey => "dash.tests.longest",
            Rule::TrueFalse => "dash.tests.true_false",
            Rule::Repeat => "dash.tests.repeat",
            // Not errors: never here.
            Rule::Blind | Rule::SillyChoice => "dash.tests.blind",
        })
    }));
    out
}

/// Every published course whose tests break a rule, by slug, in `lang`.
pub async fn marks(
    db: &impl ConnectionTrait,
    cache: &Cache,
    lang: &str,
    tr: &dyn Fn(&str) -> String,
) -> AppResult<Vec<Mark>> {
    let slugs: Vec<String> = course::Entity::find()
        .select_only()
        .column(course::Column::Slug)
        .filter(course::Column::Status.eq(course::CourseStatus::Published))
        .distinct()
        .order_by_asc(course::Column::Slug)
        .into_tuple()
        .all(db)
        .await?;
    let mut out = Vec::new();
    for slug in slugs {
        let Some(info) = cache.published(db, &slug).await? else {
            continue;
        };
        let judged = info
            .memo
            .get_or_try::<Judgement, Infallible>("tests-review", || Ok(judge(&info)))
            .unwrap_or_else(|never| match never {});
        if !judged
            .findings
            .iter()
            .any(|f| f.severity == Severity::Error)
        {
            continue;
        }
        out.push(Mark {
            title: text(
                &info.course.title_json,
                lang,
                default_language(&info.course),
            ),
            reasons: reasons(&judged, tr),
            slug,
        });
    }
    Ok(out)
}
