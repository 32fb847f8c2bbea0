//! `/office/dashboard`: the officials' dashboard for an area and a period —
//! headline figures, drill-down to child areas, cuts, the monthly trend,
//! skills gained, trained and not-yet-trained households side by side. Charts
//! are SVG made on the server; the page needs no JavaScript and prints.

use actix_web::{HttpResponse, web};
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::Page;
use crate::app::AppContext;
use crate::error::AppResult;
use crate::households::vocab::{Cause, Sex};
use crate::reports::export::{self, Table};
use crate::reports::figure::{Figure, Measure, Reading};
use crate::reports::figures::{self, Labels, Period, Summary};
use crate::reports::{suppress::Shown, svg};
use crate::views::Views;
use crate::web::extract::{CurrentUser, Locale};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// The area (12 digits); absent: the caller's.
    pub area: Option<String>,
    /// First month of the period (`2026-01`).
    pub from: Option<String>,
    /// Last month of the period (`2026-06`; default: this month).
    pub to: Option<String>,
}

/// Names of codes in a page's language, from the vocabularies and locale files.
pub struct PageLabels<'a> {
    pub views: &'a Views,
    pub lang: &'a str,
}

impl Labels for PageLabels<'_> {
    fn cause(&self, code: &str) -> String {
        match Cause::by_code(code) {
            Some(c) if self.lang == "zh-CN" => format!("{} {}", c.code, c.zh),
            Some(c) => format!("{} {}", c.code, c.en),
            None => code.to_string(),
        }
    }
    fn status(&self, code: &str) -> String {
        self.views.tr(self.lang, &format!("dash.status.{code}"))
    }
    fn sex(&self, code: &str) -> String {
        match Sex::parse(code) {
            Some(s) if self.lang == "zh-CN" => s.zh().to_string(),
            _ => code.to_string(),
        }
    }
    fn age(&self, band: &str) -> String {
        self.views
            .tr(self.lang, "dash.age_band")
            .replace("{band}", band)
    }
    fn unknown(&self) -> String {
        self.views.tr(self.lang, "dash.unknown")
    }
    fn whole_country(&self) -> String {
        self.views.tr(self.lang, "dash.country")
    }
}

/// The query string that keeps the area and the period.
pub fn query_string(area: &str, p: &Period) -> String {
    let mut pairs = vec![("area", area.to_string())];
    if let Some(f) = &p.from {
        pairs.push(("from", f.clone()));
    }
    pairs.push(("to", p.to.clone()));
    serde_urlencoded::to_string(pairs).unwrap_or_default()
}

/// The summary an actor may see, and its tables in a language.
pub async fn load(
    state: &AppContext,
    user: &CurrentUser,
    q: &ReportQuery,
    lang: &str,
) -> AppResult<(Summary, Vec<Table>, Period)> {
    let code = figures::target_area(&user.actor, q.area.as_deref())?;
    let period = Period::parse(q.from.as_deref(), q.to.as_deref(), Utc::now())?;
    let labels = PageLabels {
        views: &state.views,
        lang,
    };
    // Figures may lag a little: read from the replica when there is one.
    let mut s = figures::summary(state.reads(), &code, &period, lang, &labels).await?;
    s.replica_lag_secs = state.replica_lag_secs().await;
    let tr = |k: &str| state.views.tr(lang, k);
    let link = |c: &str| Some(format!("/office/dashboard?{}", query_string(c, &period)));
    let tables = export::tables(&s, &tr, &link);
    Ok((s, tables, period))
}

/// A tile: the figure, its name, what it divides (or is over) and a short
/// definition beside it. A hidden rate or mean shows "—" with an explanation,
/// not "<5" (which would read as "under 5 %").
fn kpi(label: String, value: &Shown, count: bool, detail: Option<String>, def: String) -> Value {
    json!({
        "label": label, "value": value.text(), "detail": detail, "def": def,
        "hidden_rate": value.is_small() && !count,
        "no_records": *value == Shown::NoRecords,
    })
}

/// What the gain tile rests on: the learners in its mean, and how many of
/// the learners enrolled took both tests (a hidden share shows "—").
fn gain_basis(s: &Summary, tr: &impl Fn(&str) -> String) -> Option<String> {
    let Reading::Mean { n, .. } = s.figures.get(Figure::GainMean) else {
        return None;
    };
    let Reading::Ratio(both) = s.figures.get(Figure::GainBoth) else {
        return None;
    };
    let share = if both.rate.is_small() {
        "—".to_string()
    } else {
        both.rate.text()
    };
    Some(
        tr("dash.gain_basis")
            .replace("{n}", &n.text())
            .replace("{both}", &both.numerator.text())
            .replace("{enrolled}", &both.denominator.text())
            .replace("{share}", &share),
    )
}

pub async fn dashboard(
    state: web::Data<AppContext>,
    locale: Locale,
    user: CurrentUser,
    q: web::Query<ReportQuery>,
) -> AppResult<HttpResponse> {
    let lang = locale.0;
    let (s, tables, period) = load(&state, &user, &q, lang).await?;
    let tr = |k: &str| state.views.tr(lang, k);
    let kpis: Vec<Value> = s
        .figures
        .iter()
        .filter(|(f, _)| f.spec().tile)
        .map(|(f, r)| {
            let detail = match f {
                Figure::GainMean => gain_basis(&s, &tr),
                _ => r.detail(),
            };
            kpi(
                tr(&f.label_key()),
                r.shown(),
                matches!(f.spec().measure, Measure::Count(_)),
                detail,
                tr(&format!("dash.short.{}", f.id())),
            )
        })
        .collect();
    let children = svg::bars(
        &tr("dash.chart.children"),
        &s.by_child_area
            .iter()
            .map(|g| (g, g.figures.get(Figure::HouseholdsTrained).shown()))
            .filter(|(_, v)| v.value().is_some())
            .map(|(g, v)| {
                (
                    g.name.clone(),
                    Some(format!(
                        "/office/dashboard?{}",
                        query_string(&g.code, &period)
                    )),
                    v.clone(),
                )
            })
            .collect::<Vec<_>>(),
    );
    let causes = svg::bars(
        &tr("dash.chart.causes"),
        &s.by_cause
            .iter()
            .map(|g| (g, g.figures.get(Figure::HouseholdsReached).shown()))
            .filter(|(_, v)| v.value().is_some())
            .map(|(g, v)| (g.name.clone(), None, v.clone()))
            .collect::<Vec<_>>(),
    );
    let months: Vec<String> = s.trend.iter().map(|m| m.month.clone()).collect();
    let trend = svg::line(
        &tr("dash.chart.trend"),
        &months,
        &if months.is_empty() {
            vec![]
        } else {
            vec![
                (
                    tr("dash.enrollments"),
                    "enrol".to_string(),
                    s.trend.iter().map(|m| m.enrollments.clone()).collect(),
                ),
                (
                    tr("dash.completions"),
                    "done".to_string(),
                    s.trend.iter().map(|m| m.completions.clone()).collect(),
                ),
            ]
        },
    );
    let mut by_id = Map::new();
    for t in &tables {
        by_id.insert(
            t.id.to_string(),
            serde_json::to_value(t).unwrap_or(Value::Null),
        );
    }
    let up = s
        .area
        .parent
        .as_deref()
        .filter(|p| user.actor.in_scope(Some(p)))
        .map(|p| format!("/office/dashboard?{}", query_string(p, &period)))
        .or_else(|| {
            (user.actor.is_admin() && !s.area.code.is_empty())
                .then(|| format!("/office/dashboard?{}", query_string("", &period)))
        });
    // Courses whose tests a learner passes without reading, or whose items
    // repeat: the skills gained rest on them.
    let weak_tests =
        crate::reports::tests_review::marks(&state.db, &state.content, lang, &tr).await?;
    let definitions: Vec<Value> = Figure::all()
        .filter_map(|f| {
            let def = f.definition_key()?;
            Some(json!({"term": tr(&f.label_key()), "text": tr(&def)}))
        })
        .collect();
    Page::new(&state, lang, Some(&user), "dash.title")
        .set("wide", true)
        .set("area", &s.area)
        .set("period", &s.period)
        .set("as_of", s.as_of.map(|t| state.settings.local_time(t)))
        .set("live", s.live)
        .set(
            "replica_lag",
            s.replica_lag_secs.map(|l| format!("{:.0}", l.ceil())),
        )
        .set("qs", query_string(&s.area.code, &period))
        .set("up", up)
        .set("kpis", kpis)
        .set("no_records", s.no_records)
        .set("tables", Value::Object(by_id))
        .set("name_head", tr("dash.name"))
        .set(
            "charts",
            json!({"children": children, "causes": causes, "trend": trend}),
        )
        .set("definitions", definitions)
        .set("weak_tests", weak_tests)
        .render(&state, "pages/dashboard")
}
