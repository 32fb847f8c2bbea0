//! `/api/v1/households`: the registry for officials (their area) and admins.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use crate::app::AppContext;
use crate::error::{AppError, AppResult};
use crate::households::export::{self as hh_export, Format};
use crate::households::store::{
    self, FollowUpInput, HouseholdPatch, IncomeInput, ListQuery, NewHousehold,
};
use crate::households::{bulk, refresh};
use crate::policy::Action;
use crate::web::extract::CurrentUser;
use crate::web::upload::Upload;

type State = web::Data<AppContext>;

/// Households in the caller's area, filtered.
#[utoipa::path(get, path = "/api/v1/households", tag = "households", params(ListQuery),
    responses((status = 200, description = "A page of households", body = crate::web::api::shapes::Listing<store::Summary>)))]
pub async fn list(
    state: State,
    user: CurrentUser,
    q: web::Query<ListQuery>,
) -> AppResult<HttpResponse> {
    let page = store::list(&state.db, &user.actor, &q).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// A new household with its members and causes.
#[utoipa::path(post, path = "/api/v1/households", tag = "households", request_body(content = NewHousehold, example = json!({
        "registry_no": "5306271020010099", "area_code": "530627102001", "kind": "ordinary_poor",
        "primary_cause": "07", "other_causes": ["09"], "members": [
            {"name": "张建国", "id_number": "530627198503121238", "relation": "head", "health": "healthy"},
            {"name": "张小花", "id_number": "530627201006052248", "relation": "child"}]})),
    responses((status = 201, description = "The household as stored", body = store::Detail)))]
pub async fn create(
    state: State,
    user: CurrentUser,
    body: web::Json<NewHousehold>,
) -> AppResult<HttpResponse> {
    let h = store::create(&state.db, &user.actor, state.id_key(), &body).await?;
    let detail = store::get(&state.db, &user.actor, h.id, false).await?;
    Ok(HttpResponse::Created().json(detail))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GetQuery {
    /// `true`: include members' health (written to the audit log).
    sensitive: Option<bool>,
}

/// One household with its members, incomes and follow-ups (the read is audited).
#[utoipa::path(get, path = "/api/v1/households/{id}", tag = "households", params(("id" = i64, Path, description = "Household id"), GetQuery),
    responses((status = 200, description = "The household", body = store::Detail)))]
pub async fn get(
    state: State,
    user: CurrentUser,
    path: web::Path<i64>,
    q: web::Query<GetQuery>,
) -> AppResult<HttpResponse> {
    let d = store::get(
        &state.db,
        &user.actor,
        path.into_inner(),
        q.sensitive.unwrap_or(false),
    )
    .await?;
    Ok(HttpResponse::Ok().json(d))
}

/// Changes a household's own fields and causes (audited).
#[utoipa::path(patch, path = "/api/v1/households/{id}", tag = "households", params(("id" = i64, Path, description = "Household id")),
    request_body(content = HouseholdPatch, example = json!({"phone": "13912345678", "other_causes": []})),
    responses((status = 200, description = "The household as changed", body = store::Detail)))]
pub async fn update(
    state: State,
    user: CurrentUser,
    path: web::Path<i64>,
    body: web::Json<HouseholdPatch>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    store::update(&state.db, &user.actor, id, &body).await?;
    let detail = store::get(&state.db, &user.actor, id, false).await?;
    Ok(HttpResponse::Ok().json(detail))
}

/// Deletes a household with its members (audited).
#[utoipa::path(delete, path = "/api/v1/households/{id}", tag = "households", params(("id" = i64, Path, description = "Household id")),
    responses((status = 204, description = "Deleted")))]
pub async fn delete(
    state: State,
    user: CurrentUser,
    path: web::Path<i64>,
) -> AppResult<HttpResponse> {
    store::delete(&state.db, &user.actor, path.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    #[serde(default, deserialize_with = "crate::paging::page")]
    page: Option<u64>,
    #[serde(default, deserialize_with = "crate::paging::per_page")]
    per_page: Option<u64>,
}

/// A household's change events, newest first.
#[utoipa::path(get, path = "/api/v1/households/{id}/history", tag = "households", params(("id" = i64, Path, description = "Household id"), PageQuery),
    responses((status = 200, description = "A page of change events", body = crate::web::api::shapes::Listing<crate::web::api::shapes::StoredRow>)))]
pub async fn history(
    state: State,
    user: CurrentUser,
    path: web::Path<i64>,
    q: web::Query<PageQuery>,
) -> AppResult<HttpResponse> {
    let page = q.page.unwrap_or(1).max(1);
    let per_page = q.per_page.unwrap_or(50).clamp(1, 200);
    let h = store::history(&state.db, &user.actor, path.into_inner(), page, per_page).await?;
    Ok(HttpResponse::Ok().json(h))
}

/// Records a follow-up survey after training.
#[utoipa::path(post, path = "/api/v1/households/{id}/follow-ups", tag = "households", params(("id" = i64, Path, description = "Household id")),
    request_body(content = FollowUpInput,
        example = json!({"months_after": 6, "shop_active": true, "orders_30d": 4, "sales_30d_fen": 120000})),
    responses((status = 201, description = "The survey as stored", body = crate::web::api::shapes::StoredRow)))]
pub async fn follow_up(
    state: State,
    user: CurrentUser,
    path: web::Path<i64>,
    body: web::Json<FollowUpInput>,
) -> AppResult<HttpResponse> {
    let f = store::record_follow_up(&state.db, &user.actor, path.into_inner(), &body).await?;
    Ok(HttpResponse::Created().json(f))
}

/// Records a year's income of a household, in fen.
#[utoipa::path(post, path = "/api/v1/households/{id}/incomes", tag = "households", params(("id" = i64, Path, description = "Household id")),
    request_body(content = IncomeInput, example = json!({"year": 2025, "wage_fen": 1200000, "business_fen": 300000})),
    responses((status = 200, description = "The income as stored", body = crate::web::api::shapes::StoredRow)))]
pub async fn income(
    state: State,
    user: CurrentUser,
    path: web::Path<i64>,
    body: web::Json<IncomeInput>,
) -> AppResult<HttpResponse> {
    let i = store::record_income(&state.db, &user.actor, path.into_inner(), &body).await?;
    Ok(HttpResponse::Ok().json(i))
}

/// How a file is imported.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// `create` (default): new households only. `update`: the yearly refresh,
    /// registered households matched by 户编号 and updated, new ones added.
    pub mode: Option<String>,
    /// Update mode: the `digest` of the report a call without it returned;
    /// the changes are written only when they are still those (else 409).
    /// Without it nothing is written.
    pub digest: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/households/import", tag = "households", params(ImportQuery),
    request_body(description = "The registry as CSV or XLSX (sniffed), or a multipart form with the field `file`",
        content((String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
    responses((status = 200, description = "Every household imported; in update mode the report of what changes (written only with `digest`)", body = crate::web::api::shapes::Imported)))]
/// CSV or XLSX body (sniffed): all households or none.
pub async fn import(
    state: State,
    user: CurrentUser,
    q: web::Query<ImportQuery>,
    upload: Upload<{ crate::households::import::IMPORT_LIMIT >> 20 }>,
) -> crate::web::errors::WebResult<HttpResponse> {
    user.actor.require(Action::EditHouseholds)?;
    let update = match q.mode.as_deref().unwrap_or("create") {
        "" | "create" => false,
        "update" => true,
        other => {
            return Err(AppError::field("mode", format!("{other} is not create or update")).into());
        }
    };
    let bytes = upload
        .read()
        .await?
        .ok_or_else(|| AppError::field("file", "no file was sent"))?;
    let scope = user.actor.scope_prefix().unwrap_or_default();
    let plan = bulk::parse_mode(
        &state.db,
        Some(&user.actor),
        &scope,
        state.id_key(),
        &bytes,
        update,
    )
    .await?;
    if update {
        let report = match q.digest.as_deref() {
            None => refresh::plan(&state.db, &plan, Some(&user.actor)).await?,
            Some(d) => refresh::apply(&state.db, &plan, Some(&user.actor), Some(d)).await?,
        };
        return Ok(HttpResponse::Ok().json(json!({
            "written": q.digest.is_some(),
            "report": report,
            "errors": [],
        })));
    }
    let done = bulk::import_plan(&state.db, &plan, Some(&user.actor)).await?;
    Ok(HttpResponse::Ok()
        .json(json!({"imported": done.imported, "members": done.members, "errors": []})))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// Only this area (inside the caller's).
    pub area: Option<String>,
    /// `csv` (default) or `xlsx`.
    pub format: Option<String>,
}

/// The caller's households as a CSV or XLSX file (the import's columns).
#[utoipa::path(get, path = "/api/v1/households/export", tag = "households", params(ExportQuery),
    responses((status = 200, description = "The file", content((String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))))]
pub async fn export(
    state: State,
    user: CurrentUser,
    q: web::Query<ExportQuery>,
) -> AppResult<HttpResponse> {
    export_response(&state, &user, &q).await
}

pub async fn export_response(
    state: &AppContext,
    user: &CurrentUser,
    q: &ExportQuery,
) -> AppResult<HttpResponse> {
    let format = Format::parse(q.format.as_deref())?;
    let bytes = hh_export::export(&state.db, &user.actor, q.area.as_deref(), format).await?;
    let stamp = chrono::Utc::now().format("%Y%m%d");
    let (ctype, ext) = match format {
        Format::Csv => ("text/csv; charset=utf-8", "csv"),
        Format::Xlsx => (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
    };
    Ok(HttpResponse::Ok()
        .content_type(ctype)
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"households-{stamp}.{ext}\""),
        ))
        .insert_header(("Cache-Control", "private, no-store"))
        .body(bytes))
}

/// The import template: Chinese headers and one example row.
#[utoipa::path(get, path = "/api/v1/households/template.csv", tag = "households",
    responses((status = 200, description = "The template", content_type = "text/csv", body = String)))]
pub async fn template(user: CurrentUser) -> AppResult<HttpResponse> {
    user.actor.require(Action::ViewHouseholds)?;
    let body = crate::households::import::template_csv();
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            "attachment; filename=\"households-template.csv\"",
        ))
        .body(body))
}
