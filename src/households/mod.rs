//! The household registry (建档立卡): identity numbers, the vocabularies of the
//! national form, spreadsheet import and synthetic demo data.
//!
//! This part is database-free: it turns bytes into validated rows and back. It
//! must never keep an identity number in clear beyond the call that parses it —
//! only its HMAC and last four characters leave this module.

pub mod generate;
pub mod idcard;
pub mod import;
pub mod vocab;

pub use idcard::{IdError, IdHasher, NationalId};
pub use vocab::{
    Cause, Health, HouseholdKind, HouseholdStatus, Labour, MonitorType, Relation, Sex,
};
