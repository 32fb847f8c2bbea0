//! The HTTP face: HTML pages for people and the JSON API under `/api/v1`.
//! Handlers stay thin: parse, authorize, call a domain service, render.

pub mod csrf;
pub mod errors;
pub mod extract;
pub mod middleware;
pub mod routes;

pub mod api;
pub mod pages;

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::accounts::limiter::Limiter;
use crate::config::{Secrets, Settings};
use crate::views::Views;

/// Shared by every handler (`web::Data<AppState>`).
pub struct AppState {
    pub db: DatabaseConnection,
    pub settings: Settings,
    pub secrets: Secrets,
    pub views: Arc<Views>,
    /// Sign-in failure counts (per login, per client address).
    pub limiter: Limiter,
    /// Published course content, cached until the next publish.
    pub content: crate::learning::content::Cache,
}
