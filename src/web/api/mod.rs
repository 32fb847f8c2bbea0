//! The JSON API under `/api/v1`. Its contract is the OpenAPI document served at
//! `/api/v1/openapi.json` (`openapi`); what every operation shares (signing in,
//! the error body, lists, units) is in the README, "The JSON API".

pub mod auth;
pub mod health;
pub mod households;
pub mod learning;
pub mod offline;
pub mod openapi;
pub mod reports;
pub mod shapes;
pub mod users;
