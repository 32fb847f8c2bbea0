//! `/api/v1/reports`: the dashboard's figures (`reports::Figure`) for an area
//! and a period (officials: their area and below; admins: anywhere), as JSON
//! or as a CSV or XLSX file of the dashboard's tables.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::app::AppContext;
use crate::error::{AppError, AppResult};
use crate::reports::export;
use crate::web::extract::{CurrentUser, Locale};
use crate::web::pages::dashboard::{ReportQuery, load};

type State = web::Data<AppContext>;

/// The dashboard's figures for an area and a period: the area's own, by child
/// area, cause, status, sex and age band, the monthly trend and the skills
/// gained (each figure defined in `src/reports/figure.rs`).
#[utoipa::path(get, path = "/api/v1/reports/summary", tag = "reports", params(ReportQuery),
    responses((status = 200, description = "The figures", body = Object)))]
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

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// The area (12 digits); absent: the caller's.
    pub area: Option<String>,
    /// First month of the period (`2026-01`).
    pub from: Option<String>,
    /// Last month of the period (`2026-06`; default: this month).
    pub to: Option<String>,
    /// `csv` (default) or `xlsx`.
    pub format: Option<String>,
}

/// The dashboard's tables as a CSV or XLSX file.
#[utoipa::path(get, path = "/api/v1/reports/export", tag = "reports", params(ExportQuery),
    responses((status = 200, description = "The file", content((String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))))]
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
            export::xlsx(&tables, &name_head, &state.views.tr(lang, "dash.code"))
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
