//! `/api/v1/auth/*` and `/api/v1/me`.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use crate::accounts::signin;
use crate::accounts::users::UserView;
use crate::app::AppContext;
use crate::error::AppResult;
use crate::web::extract::CurrentUser;
use crate::web::pages::auth::client_ip;

#[derive(Deserialize)]
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

pub async fn login(
    req: HttpRequest,
    state: web::Data<AppContext>,
    body: web::Json<LoginBody>,
) -> AppResult<HttpResponse> {
    let s = signin::sign_in(
        &state.db,
        &state.limiter,
        &state.settings,
        &state.secrets.jwt,
        &body.login,
        &body.password,
        body.remember,
        &client_ip(&req),
    )
    .await?;
    Ok(HttpResponse::Ok().json(json!({
        "token": s.token,
        "expires_in": s.max_age.num_seconds(),
        "user": {"id": s.user.id, "role": s.user.role, "display_name": s.user.display_name},
    })))
}

#[derive(Deserialize)]
pub struct LogoutQuery {
    #[serde(default)]
    everywhere: bool,
}

pub async fn logout(
    state: web::Data<AppContext>,
    user: CurrentUser,
    q: web::Query<LogoutQuery>,
) -> AppResult<HttpResponse> {
    signin::sign_out(&state.db, &user.user, &user.claims, q.everywhere).await?;
    Ok(HttpResponse::NoContent().finish())
}

pub async fn me(user: CurrentUser) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(UserView::from(&user.user)))
}

#[derive(Deserialize)]
pub struct ResetRequestBody {
    login: String,
}

/// Always 202, whether or not the login exists.
pub async fn reset_request(
    state: web::Data<AppContext>,
    body: web::Json<ResetRequestBody>,
) -> AppResult<HttpResponse> {
    signin::request_reset(&state, &body.login).await?;
    Ok(HttpResponse::Accepted().finish())
}

#[derive(Deserialize)]
pub struct ResetBody {
    token: String,
    password: String,
}

pub async fn reset(
    state: web::Data<AppContext>,
    body: web::Json<ResetBody>,
) -> AppResult<HttpResponse> {
    signin::reset_password(&state.db, &state.secrets.jwt, &body.token, &body.password).await?;
    Ok(HttpResponse::NoContent().finish())
}
