//! `/api/v1/auth/*` and `/api/v1/me`.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use crate::accounts::devices::DEVICE_COOKIE;
use crate::accounts::signin;
use crate::accounts::users::UserView;
use crate::app::AppContext;
use crate::error::AppResult;
use crate::web::errors::WebResult;
use crate::web::extract::CurrentUser;
use crate::web::pages::auth::{client_ip, device_cookie};

#[derive(Deserialize, utoipa::ToSchema)]
pub struct LoginBody {
    login: String,
    password: String,
    /// Learners on their own phone: a long session.
    #[serde(default = "yes")]
    remember: bool,
}

fn yes() -> bool {
    true
}

/// Signs in with a login and a password (or a learner's PIN).
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body(content = LoginBody,
        example = json!({"login": "13800000002", "password": "246810"})),
    responses((status = 200, description = "Signed in", body = crate::web::api::shapes::SignedIn)))]
pub async fn login(
    req: HttpRequest,
    state: web::Data<AppContext>,
    body: web::Json<LoginBody>,
) -> WebResult<HttpResponse> {
    let s = signin::sign_in(
        &state.db,
        &state.limiter,
        &state.settings,
        &state.secrets.jwt,
        &body.login,
        &body.password,
        body.remember,
        &client_ip(&req),
        req.cookie(DEVICE_COOKIE).as_ref().map(|c| c.value()),
    )
    .await?;
    Ok(HttpResponse::Ok()
        .cookie(device_cookie(&state, s.device))
        .json(json!({
            "token": s.token,
            "expires_in": s.max_age.num_seconds(),
            "failed_attempts": s.failed_attempts,
            "user": {"id": s.user.id, "role": s.user.role, "display_name": s.user.display_name},
        })))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogoutQuery {
    #[serde(default)]
    everywhere: bool,
}

/// Revokes this token, or every token of the user with `everywhere=true`.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", params(LogoutQuery),
    responses((status = 204, description = "Signed out")))]
pub async fn logout(
    state: web::Data<AppContext>,
    user: CurrentUser,
    q: web::Query<LogoutQuery>,
) -> AppResult<HttpResponse> {
    signin::sign_out(&state.db, &user.actor, &user.claims, q.everywhere).await?;
    state.sessions.refresh(&state.db).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The signed-in user.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth",
    responses((status = 200, description = "The signed-in user", body = UserView)))]
pub async fn me(state: web::Data<AppContext>, user: CurrentUser) -> AppResult<HttpResponse> {
    let row = crate::accounts::users::find(&state.db, user.actor.id)
        .await?
        .ok_or(crate::error::AppError::NotFound)?;
    Ok(HttpResponse::Ok().json(UserView::from(&row)))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ResetRequestBody {
    login: String,
}

#[utoipa::path(post, path = "/api/v1/auth/reset-request", tag = "auth", request_body(content = ResetRequestBody,
        example = json!({"login": "trainer.li"})),
    responses((status = 202, description = "A reset link is mailed when the account has an email")))]
/// Always 202, whether or not the login exists.
pub async fn reset_request(
    req: HttpRequest,
    state: web::Data<AppContext>,
    body: web::Json<ResetRequestBody>,
) -> AppResult<HttpResponse> {
    signin::request_reset(&state, &body.login, &client_ip(&req)).await?;
    Ok(HttpResponse::Accepted().finish())
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ResetBody {
    token: String,
    password: String,
}

/// Sets a new password with the token of a reset link; old tokens are revoked.
#[utoipa::path(post, path = "/api/v1/auth/reset", tag = "auth", request_body = ResetBody,
    responses((status = 204, description = "Password changed")))]
pub async fn reset(
    state: web::Data<AppContext>,
    body: web::Json<ResetBody>,
) -> AppResult<HttpResponse> {
    signin::reset_password(&state.db, &state.secrets.jwt, &body.token, &body.password).await?;
    state.sessions.refresh(&state.db).await?;
    Ok(HttpResponse::NoContent().finish())
}
