//! The yearly refresh: a whole file imported in update mode. Households are
//! matched by their 户编号; a matched household takes the file's values, one
//! not yet registered is added (as a plain import would), all or nothing.
//!
//! A member is matched inside her household by her identity number: the whole
//! number, or the masked one an export shows (its last four characters).
//! Members the file does not list are kept, as are the columns it does not
//! have (the export has no health column). [`plan`] computes what would change
//! without writing; [`apply`] writes it in one transaction and refuses when
//! the changes are no longer those the person saw ([`Refresh::digest`]).
mod compute;
mod write;

use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde::Serialize;

use super::import::ImportPlan;
use crate::error::AppResult;
use crate::policy::Actor;

/// One value that changes: the column's header, whose (a member's name, or
/// none for the household) and the values before and after, as shown.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FieldChange {
    pub field: &'static str,
    pub field_en: &'static str,
    pub member: Option<String>,
    pub old: String,
    pub new: String,
}

/// A registered household the file changes.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct HouseholdChange {
    pub registry_no: String,
    pub row: usize,
    pub changes: Vec<FieldChange>,
    /// Members the file adds to the household.
    pub members_added: Vec<String>,
}

/// What an update import does.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, Default)]
pub struct Refresh {
    pub changed: Vec<HouseholdChange>,
    /// 户编号 of the households the file adds.
    pub added: Vec<String>,
    pub unchanged: usize,
    /// Registered members of the file's households that the file does not list (kept).
    pub members_kept: usize,
    pub digest: String,
}

impl Refresh {
    pub fn is_empty(&self) -> bool {
        self.changed.is_empty() && self.added.is_empty()
    }
}

/// What the file would change, without writing; every problem as a row error.
pub async fn plan(
    db: &impl ConnectionTrait,
    import: &ImportPlan,
    actor: Option<&Actor>,
) -> AppResult<Refresh> {
    Ok(compute::compute(db, import, actor).await?.refresh)
}

/// Writes the file's changes in one transaction, when they are still those
/// of `digest` (the preview's); otherwise nothing, and a 409.
pub async fn apply(
    db: &DatabaseConnection,
    plan: &ImportPlan,
    actor: Option<&Actor>,
    digest: Option<&str>,
) -> AppResult<Refresh> {
    let txn = crate::db::begin_write(db).await?;
    let result = write::write(&txn, plan, actor, digest).await;
    match result {
        Ok(r) => {
            txn.commit().await?;
            Ok(r)
        }
        Err(e) => {
            txn.rollback().await?;
            Err(e)
        }
    }
}
