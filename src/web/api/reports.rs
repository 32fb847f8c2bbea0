//! `/api/v1/reports`: the figures of DATA.md for an area and a period
//! (officials: their area and below; admins: anywhere), as JSON or as a
//! CSV or XLSX file of the dashboard's tables.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::app::AppContext;
use crate::error::{AppError, AppResult};
use crate::reports::export;
use crate::web::extract::{CurrentUser, Locale};
use crate::web::pages::dashboard::{ReportQuery, load};

type State = web::Data<AppContext>;

pub async fn summary(
    state: State,
    locale: Locale,
    user: CurrentUser,
    q: web::Query<ReportQuery>,
) -> AppResult<HttpResponse> {
    let (s, _, _) = load(&state, &user, &q, locale.0).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "private, no-store"))
        .json(s))
}

#[derive(Debug, Deserialize)]
pub struct ExportQuery {
    pub area: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub format: Option<String>,
}

pub async fn export(
    state: State,
    locale: Locale,
    user: CurrentUser,
    q: web::Query<ExportQuery>,
) -> AppResult<HttpResponse> {
    let lang = locale.0;
    let format = q.format.as_deref().unwrap_or("csv");
    if format != "csv" && format != "xlsx" {
        return Err(AppError::field("format", "must be csv or xlsx"));
    }
    let rq = ReportQuery {
        area: q.area.clone(),
        from: q.from.clone(),
        to: q.to.clone(),
    };
    let (s, tables, period) = load(&state, &user, &rq, lang).await?;
    let name_head = state.views.tr(lang, "dash.name");
    let code = if s.area.code.is_empty() {
        "all"
    } else {
        s.area.code.as_str()
    };
    let file = format!("report-{code}-{}.{format}", period.to);
    let (body, mime) = if format == "csv" {
        (
            export::csv(&tables, &name_head)
                .map_err(|e| AppError::Internal(anyhow::anyhow!("csv: {e}")))?,
            "text/csv; charset=utf-8",
        )
    } else {
        (
            export::xlsx(&tables, &name_head)
                .map_err(|e| AppError::Internal(anyhow::anyhow!("xlsx: {e}")))?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    };
    Ok(HttpResponse::Ok()
        .content_type(mime)
        .insert_header(("Cache-Control", "private, no-store"))
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"{file}\""),
        ))
        .body(body))
}
