//! The JSON API under `/api/v1` (API.md).

pub mod health;

use actix_web::{HttpResponse, web};

use crate::error::AppError;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.default_service(web::to(|| async {
        Err::<HttpResponse, _>(AppError::NotFound)
    }));
}
