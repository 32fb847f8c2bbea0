//! Failures as HTTP sees them. A domain `AppError` gets its status here;
//! `WebError` adds the cases only HTTP has (not signed in, CSRF, rate limited,
//! body too large). Both answer with the error body (`ErrorBody`; README,
//! "The JSON API"); outside `/api/` the `error_pages` middleware turns that
//! into an HTML page in the person's language.

use std::collections::BTreeMap;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::error::{AppError, RowError};

/// A failure of a request: a domain error, or one only HTTP has.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error(transparent)]
    App(#[from] AppError),
    #[error("not signed in")]
    Unauthorized,
    #[error("the form has expired; reload the page and try again")]
    Csrf,
    #[error("too many attempts; try again in {retry_after} s")]
    RateLimited { retry_after: u64 },
    #[error("too large: {0}")]
    TooLarge(String),
    /// The body did not arrive within the deadlines of `web::limits`.
    #[error("the request body did not arrive in time; send it again")]
    SlowBody,
}

/// Whether a body could not be read because it came too slowly (`web::limits`).
fn too_slow(e: &actix_web::error::PayloadError) -> bool {
    matches!(e, actix_web::error::PayloadError::Io(io) if io.kind() == std::io::ErrorKind::TimedOut)
}

pub type WebResult<T> = Result<T, WebError>;

impl From<sea_orm::DbErr> for WebError {
    fn from(e: sea_orm::DbErr) -> Self {
        WebError::App(e.into())
    }
}

impl From<crate::accounts::signin::SignInError> for WebError {
    fn from(e: crate::accounts::signin::SignInError) -> Self {
        use crate::accounts::signin::SignInError;
        match e {
            SignInError::Refused => WebError::Unauthorized,
            SignInError::Locked { retry_after } => WebError::RateLimited { retry_after },
            SignInError::Failed(e) => WebError::App(e),
        }
    }
}

/// A JSON body that cannot be read: 413 when it is over the limit, else 400.
pub fn json_error(err: actix_web::error::JsonPayloadError) -> WebError {
    use actix_web::error::JsonPayloadError as E;
    match err {
        E::Overflow { limit } | E::OverflowKnownLength { limit, .. } => {
            WebError::TooLarge(format!("the JSON body is over {limit} bytes"))
        }
        E::Payload(p) if too_slow(&p) => WebError::SlowBody,
        other => AppError::BadRequest(format!("invalid JSON: {other}")).into(),
    }
}

/// A form body that cannot be read: 413 when it is over the limit, else 400.
pub fn form_error(err: actix_web::error::UrlencodedError) -> WebError {
    use actix_web::error::UrlencodedError as E;
    match err {
        E::Overflow { limit, .. } => WebError::TooLarge(format!("the form is over {limit} bytes")),
        E::Payload(p) if too_slow(&p) => WebError::SlowBody,
        other => AppError::BadRequest(format!("invalid form: {other}")).into(),
    }
}

impl From<anyhow::Error> for WebError {
    fn from(e: anyhow::Error) -> Self {
        WebError::App(e.into())
    }
}

/// The body of every 4xx and 5xx answer under `/api/` (README, "The JSON
/// API").
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorInfo,
}

/// What went wrong: a stable `code`, a message to show, and where it applies.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ErrorInfo {
    /// `bad_request`, `unauthorized`, `forbidden`, `not_found`, `conflict`,
    /// `validation_failed`, `import_failed`, `too_large`, `rate_limited`, …
    #[schema(value_type = String)]
    pub code: &'static str,
    pub message: String,
    /// Invalid fields and why, by field name.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, String>,
    /// Bad rows of an import.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<RowError>,
    /// Seconds to wait (429, 503).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

impl ErrorInfo {
    pub fn of(e: &AppError) -> ErrorInfo {
        let fields = match e {
            AppError::Validation { fields, .. } => fields.clone(),
            _ => BTreeMap::new(),
        };
        ErrorInfo {
            code: e.code(),
            message: e.public_message(),
            fields,
            errors: e.rows().to_vec(),
            retry_after: match e {
                AppError::OverBudget(_) => Some(RETRY_AFTER_BUDGET),
                e if e.is_storage_full() => Some(RETRY_AFTER_STORAGE),
                _ => e.is_unavailable_now().then_some(RETRY_AFTER_BUSY),
            },
        }
    }
}

/// Seconds a client waits before sending again a request answered 503
/// because the database was busy or unreachable.
pub const RETRY_AFTER_BUSY: u64 = 1;

/// Seconds a client waits before sending again a request answered 507
/// because the server's disk was full.
pub const RETRY_AFTER_STORAGE: u64 = 30;

/// Seconds a client waits after a daily budget was spent (an hour: the
/// budget counts the last 24 hours, so some of it frees up as time passes).
pub const RETRY_AFTER_BUDGET: u64 = 3600;

fn app_status(e: &AppError) -> StatusCode {
    match e {
        AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
        AppError::Forbidden => StatusCode::FORBIDDEN,
        AppError::NotFound => StatusCode::NOT_FOUND,
        AppError::Conflict(_) => StatusCode::CONFLICT,
        AppError::OverBudget(_) => StatusCode::TOO_MANY_REQUESTS,
        AppError::Validation { .. } | AppError::Import { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        e if e.is_unavailable_now() => StatusCode::SERVICE_UNAVAILABLE,
        e if e.is_storage_full() => StatusCode::INSUFFICIENT_STORAGE,
        AppError::Db(_) | AppError::CommitUncertain(_) | AppError::Internal(_) => {
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}

/// The JSON body, with the info kept for `html_errors`.
fn respond(status: StatusCode, info: ErrorInfo) -> HttpResponse {
    let mut res = HttpResponse::build(status);
    if let Some(ra) = info.retry_after {
        res.insert_header((header::RETRY_AFTER, ra.to_string()));
    }
    let mut res = res.json(ErrorBody {
        error: info.clone(),
    });
    res.extensions_mut().insert(info);
    res
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        app_status(self)
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            AppError::Db(e) if self.is_unavailable_now() => {
                tracing::warn!(error = %e, "database busy or unreachable; answered 503")
            }
            AppError::CommitUncertain(e) => {
                tracing::warn!(error = %e, "connection lost during COMMIT; answered 503")
            }
            AppError::Db(e) if self.is_storage_full() => {
                tracing::error!(error = %e, "the database cannot write to its disk; answered 507")
            }
            AppError::Db(e) => tracing::error!(error = %e, "database error"),
            AppError::Internal(e) => tracing::error!(error = %format!("{e:#}"), "internal error"),
            _ => {}
        }
        respond(self.status_code(), ErrorInfo::of(self))
    }
}

impl WebError {
    fn code(&self) -> &'static str {
        match self {
            WebError::App(e) => e.code(),
            WebError::Unauthorized => "unauthorized",
            WebError::Csrf => "csrf_failed",
            WebError::RateLimited { .. } => "rate_limited",
            WebError::TooLarge(_) => "too_large",
            WebError::SlowBody => "too_slow",
        }
    }
}

impl ResponseError for WebError {
    fn status_code(&self) -> StatusCode {
        match self {
            WebError::App(e) => app_status(e),
            WebError::Unauthorized => StatusCode::UNAUTHORIZED,
            WebError::Csrf => StatusCode::FORBIDDEN,
            WebError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            WebError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            WebError::SlowBody => StatusCode::REQUEST_TIMEOUT,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let WebError::App(e) = self {
            return e.error_response();
        }
        let info = ErrorInfo {
            code: self.code(),
            message: self.to_string(),
            fields: BTreeMap::new(),
            errors: vec![],
            retry_after: match self {
                WebError::RateLimited { retry_after } => Some(*retry_after),
                _ => None,
            },
        };
        respond(self.status_code(), info)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_conflict_that_outlasts_the_retries_is_a_503_with_retry_after_never_a_500() {
        let e = AppError::Db(sea_orm::DbErr::Custom(
            "error returned from database: 1213 (40001): Deadlock found when trying to get lock; try restarting transaction".into(),
        ));
        assert_eq!(e.status_code(), StatusCode::SERVICE_UNAVAILABLE);
        let res = e.error_response();
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            res.headers().get(header::RETRY_AFTER).unwrap(),
            &RETRY_AFTER_BUSY.to_string()
        );
        let info = res.extensions().get::<ErrorInfo>().cloned().unwrap();
        assert_eq!(info.code, "busy");
        assert!(info.message.contains("try again"), "{}", info.message);
        assert_eq!(info.retry_after, Some(RETRY_AFTER_BUSY));
        // Through WebError too (the API handlers' error type).
        let w = WebError::App(e);
        assert_eq!(w.status_code(), StatusCode::SERVICE_UNAVAILABLE);
        // An unreachable database node: 503 as well.
        let down = AppError::Db(sea_orm::DbErr::ConnectionAcquire(
            sea_orm::error::ConnAcquireErr::Timeout,
        ));
        assert_eq!(down.status_code(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(down.code(), "unavailable");
        // Any other database failure stays a 500 with no cause shown.
        let other = AppError::Db(sea_orm::DbErr::Custom("syntax error near FROM".into()));
        assert_eq!(other.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(other.public_message(), "internal error");
    }
}
