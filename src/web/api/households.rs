//! `/api/v1/households`: the registry for officials (their area) and admins.

use actix_web::{HttpResponse, web};
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::json;

use crate::app::AppContext;
use crate::error::{AppError, AppResult};
use crate::households::bulk::{self, Format};
use crate::households::store::{
    self, FollowUpInput, HouseholdPatch, IncomeInput, ListQuery, NewHousehold,
};
use crate::policy::Action;
use crate::web::extract::CurrentUser;
use crate::web::upload::Upload;

type State = web::Data<AppContext>;

/// The largest import file accepted (a county's registry is a few MB).
pub const IMPORT_LIMIT: usize = 64 << 20;

pub fn key(state: &AppContext) -> &[u8] {
    state.secrets.id_hmac.expose_secret().as_bytes()
}

pub async fn list(
    state: State,
    user: CurrentUser,
    q: web::Query<ListQuery>,
) -> AppResult<HttpResponse> {
    let page = store::list(&state.db, &user.actor, &q).await?;
    Ok(HttpResponse::Ok().json(page))
}

pub async fn create(
    state: State,
    user: CurrentUser,
    body: web::Json<NewHousehold>,
) -> AppResult<HttpResponse> {
    let h = store::create(&state.db, &user.actor, key(&state), &body).await?;
    let detail = store::get(&state.db, &user.actor, h.id, false).await?;
    Ok(HttpResponse::Created().json(detail))
}

#[derive(Deserialize)]
pub struct GetQuery {
    /// `true`: include members' health (written to the audit log).
    sensitive: Option<bool>,
}

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

pub async fn delete(
    state: State,
    user: CurrentUser,
    path: web::Path<i64>,
) -> AppResult<HttpResponse> {
    store::delete(&state.db, &user.actor, path.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize)]
pub struct PageQuery {
    #[serde(default, deserialize_with = "crate::paging::page")]
    page: Option<u64>,
    #[serde(default, deserialize_with = "crate::paging::per_page")]
    per_page: Option<u64>,
}

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

pub async fn follow_up(
    state: State,
    user: CurrentUser,
    path: web::Path<i64>,
    body: web::Json<FollowUpInput>,
) -> AppResult<HttpResponse> {
    let f = store::record_follow_up(&state.db, &user.actor, path.into_inner(), &body).await?;
    Ok(HttpResponse::Created().json(f))
}

pub async fn income(
    state: State,
    user: CurrentUser,
    path: web::Path<i64>,
    body: web::Json<IncomeInput>,
) -> AppResult<HttpResponse> {
    let i = store::record_income(&state.db, &user.actor, path.into_inner(), &body).await?;
    Ok(HttpResponse::Ok().json(i))
}

/// CSV or XLSX body (sniffed): all households or none.
pub async fn import(
    state: State,
    user: CurrentUser,
    upload: Upload<{ IMPORT_LIMIT >> 20 }>,
) -> AppResult<HttpResponse> {
    user.actor.require(Action::EditHouseholds)?;
    let bytes = upload
        .0
        .ok_or_else(|| AppError::field("file", "no file was sent"))?;
    let scope = user.actor.scope_prefix().unwrap_or_default();
    let plan = bulk::parse_for(&state.db, Some(&user.actor), &scope, key(&state), &bytes).await?;
    let done = bulk::import_plan(&state.db, &plan, Some(&user.actor)).await?;
    Ok(HttpResponse::Ok()
        .json(json!({"imported": done.imported, "members": done.members, "errors": []})))
}

#[derive(Deserialize)]
pub struct ExportQuery {
    pub area: Option<String>,
    pub format: Option<String>,
}

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
    let bytes = bulk::export(&state.db, &user.actor, q.area.as_deref(), format).await?;
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
