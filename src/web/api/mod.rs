//! The JSON API under `/api/v1` (API.md).

pub mod auth;
pub mod health;
pub mod households;
pub mod learning;
pub mod offline;
pub mod openapi;
pub mod reports;
pub mod users;
