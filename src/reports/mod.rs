//! Reports for officials: the dashboard's figures for an area and a period
//! (each defined, and how it is counted, in `figure`), cut by child area,
//! poverty cause, household status, sex and age band, with small-cell
//! suppression, charts and exports.
//!
//! Owns the `report_cell` rollup (kept by `rollup`, read by `figures`), its
//! metrics (`metric`) and the registry of figures (`figure`). Never
//! decides who may see an area (that is `policy`) and never writes to the
//! registry or the learning tables.

pub mod digest;
pub mod export;
pub mod figure;
pub mod figures;
pub mod metric;
pub mod period;
pub mod rollup;
pub mod skills;
pub mod suppress;
pub mod svg;
pub mod tests_review;
pub mod today;

pub(crate) use crate::db::{marks, stmt};
