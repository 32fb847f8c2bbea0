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

pub async fn list(
    state: State,
    user: CurrentUser,
    q: web::Query<UserQuery>,
) -> AppResult<HttpResponse> {
    let (items, total) = users::list(&state.db, &user.actor, &q).await?;
    let items: Vec<UserView> = items.iter().map(UserView::from).collect();
    Ok(listing(&items, total))
}

pub async fn create(
    state: State,
    user: CurrentUser,
    body: web::Json<NewUser>,
) -> AppResult<HttpResponse> {
    let u = users::create_and_welcome(&state, &user.actor, &body).await?;
    Ok(HttpResponse::Created().json(UserView::from(&u)))
}

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

/// A CSV file as the body, or a form (see `Upload`).
pub async fn import(state: State, user: CurrentUser, upload: Upload<1>) -> AppResult<HttpResponse> {
    let csv = upload.0.unwrap_or_default();
    let created = users::import_learners(&state.db, &user.actor, &csv).await?;
    Ok(HttpResponse::Ok().json(json!({"imported": created, "errors": []})))
}

pub async fn areas_list(
    state: State,
    _user: CurrentUser,
    q: web::Query<AreaQuery>,
) -> AppResult<HttpResponse> {
    let items = areas::children(&state.db, q.parent()).await?;
    Ok(listing(&items, items.len() as u64))
}

pub async fn areas_create(
    state: State,
    user: CurrentUser,
    body: web::Json<NewArea>,
) -> AppResult<HttpResponse> {
    let a = areas::create(&state.db, &user.actor, &body).await?;
    Ok(HttpResponse::Created().json(a))
}

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
