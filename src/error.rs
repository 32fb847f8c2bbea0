//! `AppError`: every failure a handler can return, each with its own status.
//!
//! The response body is the JSON shape of API.md. Outside `/api/` the
//! `web::errors` middleware turns it into an HTML page in the person's language.
//! Internal causes go to the log with the request id, never into the response.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

/// One bad row of an import: which row, which field, why.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RowError {
    pub row: usize,
    pub field: String,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    BadRequest(String),
    #[error("not signed in")]
    Unauthorized,
    #[error("not allowed")]
    Forbidden,
    #[error("the form has expired; reload the page and try again")]
    Csrf,
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    #[error("too large: {0}")]
    TooLarge(String),
    #[error("{message}")]
    Validation {
        message: String,
        fields: BTreeMap<String, String>,
    },
    #[error("{message}")]
    Import {
        message: String,
        errors: Vec<RowError>,
    },
    #[error("too many attempts; try again in {retry_after} s")]
    RateLimited { retry_after: u64 },
    #[error("database error: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error("internal error: {0:#}")]
    Internal(#[from] anyhow::Error),
}

pub type AppResult<T> = Result<T, AppError>;

/// The error body of API.md.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorBody {
    pub error: ErrorInfo,
}

#[derive(Debug, Clone, Serialize)]
pub struct ErrorInfo {
    pub code: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<RowError>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

impl AppError {
    /// A 422 for one field.
    pub fn field(field: &str, message: impl Into<String>) -> AppError {
        let message = message.into();
        let mut fields = BTreeMap::new();
        fields.insert(field.to_string(), message.clone());
        AppError::Validation {
            message: format!("{field}: {message}"),
            fields,
        }
    }

    /// A 422 for several fields at once.
    pub fn fields(fields: BTreeMap<String, String>) -> AppError {
        let message = fields
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join("; ");
        AppError::Validation { message, fields }
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::BadRequest(_) => "bad_request",
            AppError::Unauthorized => "unauthorized",
            AppError::Forbidden => "forbidden",
            AppError::Csrf => "csrf_failed",
            AppError::NotFound => "not_found",
            AppError::Conflict(_) => "conflict",
            AppError::TooLarge(_) => "too_large",
            AppError::Validation { .. } => "validation_failed",
            AppError::Import { .. } => "import_failed",
            AppError::RateLimited { .. } => "rate_limited",
            AppError::Db(_) | AppError::Internal(_) => "internal",
        }
    }

    pub fn info(&self) -> ErrorInfo {
        let (fields, errors, retry_after) = match self {
            AppError::Validation { fields, .. } => (fields.clone(), vec![], None),
            AppError::Import { errors, .. } => (BTreeMap::new(), errors.clone(), None),
            AppError::RateLimited { retry_after } => (BTreeMap::new(), vec![], Some(*retry_after)),
            _ => (BTreeMap::new(), vec![], None),
        };
        // Internal causes are logged, never shown.
        let message = match self {
            AppError::Db(_) | AppError::Internal(_) => "internal error".to_string(),
            _ => self.to_string(),
        };
        ErrorInfo {
            code: self.code(),
            message,
            fields,
            errors,
            retry_after,
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::Forbidden | AppError::Csrf => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Validation { .. } | AppError::Import { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Db(_) | AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            AppError::Db(e) => tracing::error!(error = %e, "database error"),
            AppError::Internal(e) => tracing::error!(error = %format!("{e:#}"), "internal error"),
            _ => {}
        }
        let info = self.info();
        let mut res = HttpResponse::build(self.status_code());
        if let AppError::RateLimited { retry_after } = self {
            res.insert_header(("Retry-After", retry_after.to_string()));
        }
        let mut res = res.json(ErrorBody {
            error: info.clone(),
        });
        res.extensions_mut().insert(info);
        res
    }
}
