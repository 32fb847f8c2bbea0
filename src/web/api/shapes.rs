//! The shapes of answers that handlers build with `json!` (or that hold
//! stored rows), named so the OpenAPI document can describe them.

use serde::Serialize;
use utoipa::openapi::schema::ObjectBuilder;
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

/// A stored record as the database keeps it (its columns by name).
pub struct StoredRow;

impl PartialSchema for StoredRow {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .description(Some("A stored record: its columns by name"))
            .into()
    }
}

impl ToSchema for StoredRow {}

/// A list: `{"items": [...], "total": n}`.
#[derive(Serialize, ToSchema)]
pub struct Listing<T: ToSchema> {
    pub items: Vec<T>,
    pub total: u64,
}

/// The user in a sign-in answer.
#[derive(Serialize, ToSchema)]
pub struct SignedInUser {
    pub id: i64,
    pub role: crate::accounts::Role,
    pub display_name: String,
}

/// `POST /api/v1/auth/login`.
#[derive(Serialize, ToSchema)]
pub struct SignedIn {
    /// The bearer token.
    pub token: String,
    /// Seconds until the token expires.
    pub expires_in: i64,
    /// Wrong passwords tried for this account since its last sign-in.
    pub failed_attempts: u32,
    pub user: SignedInUser,
}

/// An import that stored every row (otherwise a 422 lists the bad rows).
#[derive(Serialize, ToSchema)]
pub struct Imported {
    pub imported: u64,
    /// Household imports: the members stored with the households.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub members: Option<u64>,
    /// Always empty here.
    pub errors: Vec<crate::error::RowError>,
}

/// Who was enrolled; `state` when a learner enrolled herself.
#[derive(Serialize, ToSchema)]
pub struct Enrolled {
    pub enrolled: Vec<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
}

/// A learner's enrollment after a change of state.
#[derive(Serialize, ToSchema)]
pub struct EnrollmentState {
    pub user_id: i64,
    pub course: String,
    pub state: String,
}

/// A task sign-off as stored.
#[derive(Serialize, ToSchema)]
pub struct SignedOff {
    pub id: i64,
    pub level: i32,
}

/// How many attendance marks changed.
#[derive(Serialize, ToSchema)]
pub struct Updated {
    pub updated: u64,
}
