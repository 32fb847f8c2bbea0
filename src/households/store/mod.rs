//! The household registry in the database, one household at a time.
//!
//! - `inputs`: the bodies the calls take and the views they give back;
//! - `validate`: those bodies checked with `households::rules`;
//! - `records`: create, read, change and delete a household with its causes;
//! - `members`: add and remove a member, the stored row of a validated member;
//! - `incomes`, `follow_ups`: a year's income, a survey after training;
//! - `snapshots`: what the audit log keeps of a household, and its history;
//! - `list`: the scoped, filtered list, and one household within scope;
//! - `conflicts`: numbers refused because another area's household has them.
//!
//! Every write opens its own write transaction, checks the actor's area and
//! leaves a change event whose snapshots carry an identity number only as its
//! last four characters. Health (sensitive) never enters a snapshot; reading it
//! is logged as `read_sensitive`. Bulk import and export are in `bulk`.

mod conflicts;
mod follow_ups;
mod incomes;
mod inputs;
mod list;
mod members;
mod records;
mod snapshots;
mod validate;

pub use conflicts::{
    Clash, clashes_today, covering_area, record as record_clashes, visible_to as clashes_visible_to,
};
pub use follow_ups::record_follow_up;
pub use incomes::record_income;
pub use inputs::{
    Detail, FollowUpInput, HouseholdPatch, IncomeInput, LinkedLearner, ListQuery, MemberInput,
    MemberView, NewHousehold, Page, Summary,
};
pub use list::{area_prefix, find_in_scope, list, reached_households, trained_households};
pub use members::{add_member, find_member, member_model, remove_member};
pub use records::{create, delete, get, update};
pub use snapshots::{history, snapshot, snapshot_of};

use super::idcard::IdHasher;

/// The `entity` of the registry's change events.
pub const ENTITY: &str = "household";

pub(crate) fn hasher(key: &[u8]) -> IdHasher {
    IdHasher::new(key)
}
