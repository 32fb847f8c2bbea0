//! The household registry (建档立卡): identity numbers, the vocabularies of the
//! national form, spreadsheet import and synthetic demo data.
//!
//! `idcard`, `vocab`, `rules` (every rule of a member or a household, once),
//! `messages` (what the registry says, as locale keys), `import` and
//! `generate` are database-free: they turn bytes into validated rows and back.
//! `store` (one household at a time),
//! `bulk` (import and export of whole files) and `link` (learners to members)
//! write the database, check the actor's area and keep the audit log. No part
//! may keep an identity number in clear beyond the call that parses it — only
//! its HMAC and last four characters leave this module.

pub mod bulk;
pub mod export;
pub mod generate;
pub mod idcard;
pub mod import;
pub mod link;
pub mod messages;
pub mod refresh;
pub mod rules;
pub mod store;
pub mod vocab;

pub use idcard::{IdError, IdHasher, NationalId};
pub use messages::{Msg, RegistryError, RegistryResult};
pub use vocab::{
    Cause, Health, HouseholdKind, HouseholdStatus, Labour, MonitorType, Relation, Sex,
};
