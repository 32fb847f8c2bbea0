//! `/api/v1/users`, `/api/v1/areas`, `/api/v1/audit`.

use actix_web::{HttpResponse, web};
use serde::Serialize;
use serde_json::json;

use crate::accounts::users::{self, NewUser, UserChange, UserQuery, UserView};
use crate::app::AppContext;
use crate::areas::{self, NewArea};
use crate::error::{AppError, AppResult};
use crate::policy::Action;
use crate::web::extract::CurrentUser;
use crate::web::pages::admin::{AreaQuery, AuditQuery, PasswordForm};
use crate::web::upload::Upload;

type State = web::Data<AppContext>;

/// A list answer: `{"items": [...], "total": n}`.
fn listing<T: Serialize>(items: &[T], total: u64) -> HttpResponse {
    HttpResponse::Ok().json(json!({"items": items, "total": total}))
}

/// Users the caller manages, by name or login (`q`) and role.
#[utoipa::path(get, path = "/api/v1/users", tag = "users", params(UserQuery),
    responses((status = 200, description = "A page of users", body = crate::web::api::shapes::Listing<UserView>)))]
pub async fn list(
    state: State,
    user: CurrentUser,
    q: web::Query<UserQuery>,
) -> AppResult<HttpResponse> {
    let (items, total) = users::list(&state.db, &user.actor, &q).await?;
    let items: Vec<UserView> = items.iter().map(UserView::from).collect();
    Ok(listing(&items, total))
}

/// Creates a user (admins: anyone; trainers and officials: learners of their area).
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body(content = NewUser, example = json!({
        "login": "13800000099", "display_name": "王小梅", "password": "135790", "pin": true,
        "role": "learner", "area_code": "530627102001"})),
    responses((status = 201, description = "Created", body = UserView)))]
pub async fn create(
    state: State,
    user: CurrentUser,
    body: web::Json<NewUser>,
) -> AppResult<HttpResponse> {
    let u = users::create_and_welcome(&state, &user.actor, &body).await?;
    Ok(HttpResponse::Created().json(UserView::from(&u)))
}

/// A user the caller manages.
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users",
    params(("id" = i64, Path, description = "User id")),
    responses((status = 200, description = "The user", body = UserView)))]
pub async fn get(state: State, user: CurrentUser, path: web::Path<i64>) -> AppResult<HttpResponse> {
    let u = users::get_managed(
        &state.db,
        &user.actor,
        path.into_inner(),
        Action::ManageUser,
    )
    .await?;
    Ok(HttpResponse::Ok().json(UserView::from(&u)))
}

/// Changes a user's name, email, role, area, member link or disables the account.
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users",
    params(("id" = i64, Path, description = "User id")), request_body = UserChange,
    responses((status = 200, description = "The changed user", body = UserView)))]
pub async fn update(
    state: State,
    user: CurrentUser,
    path: web::Path<i64>,
    body: web::Json<UserChange>,
) -> AppResult<HttpResponse> {
    let u = users::update(&state.db, &user.actor, path.into_inner(), &body).await?;
    state.sessions.refresh(&state.db).await?;
    Ok(HttpResponse::Ok().json(UserView::from(&u)))
}

/// Sets a user's password (or PIN); the user's tokens are revoked.
#[utoipa::path(post, path = "/api/v1/users/{id}/password", tag = "users",
    params(("id" = i64, Path, description = "User id")), request_body = PasswordForm,
    responses((status = 204, description = "Password set")))]
pub async fn set_password(
    state: State,
    user: CurrentUser,
    path: web::Path<i64>,
    body: web::Json<PasswordForm>,
) -> AppResult<HttpResponse> {
    users::reset_password(&state.db, &user.actor, path.into_inner(), &body.password).await?;
    state.sessions.refresh(&state.db).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(post, path = "/api/v1/users/import", tag = "users",
    request_body(content = String, content_type = "text/csv",
        description = "Learners as CSV with a header row: name, phone, pin and optionally area_code, member_id (a multipart form with the field `file` works too)",
        example = json!("name,phone,pin,area_code\n李小兰,13800000098,135790,530627102001\n")),
    responses((status = 200, description = "Every learner created", body = crate::web::api::shapes::Imported)))]
/// A CSV file as the body, or a form (see `Upload`).
pub async fn import(
    state: State,
    user: CurrentUser,
    upload: Upload<1>,
) -> crate::web::errors::WebResult<HttpResponse> {
    user.actor.require(Action::CreateLearner)?;
    let csv = upload.read().await?.unwrap_or_default();
    let created = users::import_learners(&state.db, &user.actor, &csv).await?;
    Ok(HttpResponse::Ok().json(json!({"imported": created, "errors": []})))
}

/// The children of an area (`parent`), or the top of the tree.
#[utoipa::path(get, path = "/api/v1/areas", tag = "users", params(AreaQuery),
    responses((status = 200, description = "Areas", body = crate::web::api::shapes::Listing<crate::web::api::shapes::StoredRow>)))]
pub async fn areas_list(
    state: State,
    _user: CurrentUser,
    q: web::Query<AreaQuery>,
) -> AppResult<HttpResponse> {
    let items = areas::children(&state.db, q.parent()).await?;
    Ok(listing(&items, items.len() as u64))
}

/// Adds an area (admins).
#[utoipa::path(post, path = "/api/v1/areas", tag = "users", request_body(content = NewArea, example = json!({
        "code": "530627102099", "name": "新农村", "level": "village", "parent_code": "530627102000"})),
    responses((status = 201, description = "The area as stored", body = crate::web::api::shapes::StoredRow)))]
pub async fn areas_create(
    state: State,
    user: CurrentUser,
    body: web::Json<NewArea>,
) -> AppResult<HttpResponse> {
    user.actor.require(Action::ManageAreas)?;
    let a = areas::create(&state.db, &body).await?;
    Ok(HttpResponse::Created().json(a))
}

/// The audit log (admins), newest first.
#[utoipa::path(get, path = "/api/v1/audit", tag = "users",
    params(
        ("action" = Option<String>, Query, description = "Only this action"),
        ("entity" = Option<String>, Query, description = "Only this kind of record"),
        ("entity_id" = Option<String>, Query, description = "Only this record"),
        ("actor_id" = Option<i64>, Query, description = "Only what this user did"),
        ("area_prefix" = Option<String>, Query, description = "Only records inside this area"),
        ("page" = Option<u64>, Query),
        ("per_page" = Option<u64>, Query),
    ),
    responses((status = 200, description = "A page of change events", body = crate::web::api::shapes::Listing<crate::web::api::shapes::StoredRow>)))]
pub async fn audit_list(
    state: State,
    user: CurrentUser,
    q: web::Query<AuditQuery>,
) -> AppResult<HttpResponse> {
    let res = q.list(&state.db, &user.actor).await?;
    Ok(HttpResponse::Ok().json(res))
}

pub async fn not_found() -> AppResult<HttpResponse> {
    Err(AppError::NotFound)
}
