//! The HTTP face: HTML pages for people and the JSON API under `/api/v1`.
//! Handlers stay thin: parse, authorize, call a domain service, render.

pub mod compress;
pub mod csrf;
pub mod error_pages;
pub mod errors;
pub mod extract;
pub mod limits;
pub mod middleware;
pub mod routes;
pub mod upload;

pub mod api;
pub mod pages;
