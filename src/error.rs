//! `AppError`: every way a domain service can fail, in the domain's words
//! (not found, forbidden, invalid fields, bad import rows, conflict, the
//! database). It knows nothing of HTTP: `web::errors` gives each
//! variant its status and body, and owns the cases only HTTP has (not signed
//! in, CSRF, rate limited, body too large). Internal causes go to the log with
//! the request id, never into a response.

use std::collections::BTreeMap;

use serde::Serialize;

/// One bad row of an import: which row, which field, why.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct RowError {
    pub row: usize,
    pub field: String,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    BadRequest(String),
    #[error("not allowed")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    /// A budget is spent (events a day, …): the message names the limit.
    #[error("{0}")]
    OverBudget(String),
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
    #[error("database error: {0}")]
    Db(#[from] sea_orm::DbErr),
    /// The connection was lost while a `COMMIT` was under way: the write may
    /// or may not be stored. Answered 503; sending the same request again is
    /// safe where the request is idempotent (events carry their own ids).
    #[error("commit outcome unknown: {0}")]
    CommitUncertain(sea_orm::DbErr),
    #[error("internal error: {0:#}")]
    Internal(#[from] anyhow::Error),
}

pub type AppResult<T> = Result<T, AppError>;

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

    /// The stable `code` of the error body (`web::errors::ErrorBody`).
    pub fn code(&self) -> &'static str {
        match self {
            AppError::BadRequest(_) => "bad_request",
            AppError::Forbidden => "forbidden",
            AppError::NotFound => "not_found",
            AppError::Conflict(_) => "conflict",
            AppError::OverBudget(_) => "over_budget",
            AppError::Validation { .. } => "validation_failed",
            AppError::Import { .. } => "import_failed",
            AppError::CommitUncertain(_) => "maybe_saved",
            AppError::Db(e) if crate::db::is_storage(e) => "storage_full",
            AppError::Db(e) if self.is_unavailable_now() => {
                if crate::db::is_retryable(e) || crate::db::is_busy(e) {
                    "busy"
                } else {
                    "unavailable"
                }
            }
            AppError::Db(_) | AppError::Internal(_) => "internal",
        }
    }

    /// What the person may read: internal causes are logged, never shown.
    pub fn public_message(&self) -> String {
        match self {
            AppError::CommitUncertain(_) => {
                "the connection to the database was lost while saving: this may have been saved; \
                 sending the same events again is safe"
                    .to_string()
            }
            AppError::Db(e) if crate::db::is_storage(e) => {
                "the server's disk is full (or cannot be written): nothing was saved; \
                 the operator must free space, then try again"
                    .to_string()
            }
            AppError::Db(e) if crate::db::is_retryable(e) || crate::db::is_busy(e) => {
                "the database is busy with other writes; nothing was saved, try again in a moment"
                    .to_string()
            }
            AppError::Db(_) if self.is_unavailable_now() => {
                "the database cannot be reached now; what you sent may not have been saved: try again in a moment"
                    .to_string()
            }
            AppError::Db(_) | AppError::Internal(_) => "internal error".to_string(),
            _ => self.to_string(),
        }
    }

    /// A database failure that is over soon: a write conflict still there
    /// after the retries (a deadlock, a Galera certification failure) or a
    /// database node that cannot be reached. Answered 503 with Retry-After,
    /// never 500: the client should send the same request again.
    pub fn is_unavailable_now(&self) -> bool {
        match self {
            AppError::CommitUncertain(_) => true,
            AppError::Db(e) => matches!(
                crate::db::fault(e),
                crate::db::Fault::Conflict | crate::db::Fault::Busy | crate::db::Fault::Unavailable
            ),
            _ => false,
        }
    }

    /// The database could not write to its disk (full, or a write failed):
    /// answered 507 with a message an operator understands.
    pub fn is_storage_full(&self) -> bool {
        matches!(self, AppError::Db(e) if crate::db::is_storage(e))
    }

    /// The bad rows of an import, if this is one.
    pub fn rows(&self) -> &[RowError] {
        match self {
            AppError::Import { errors, .. } => errors,
            _ => &[],
        }
    }
}

/// A write conflict or a busy SQLite writer: the transaction may be tried
/// again (`db::retrying`).
impl crate::db::Retryable for AppError {
    fn retryable(&self) -> bool {
        matches!(self, AppError::Db(e) if e.retryable())
    }
}
