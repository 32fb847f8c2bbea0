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
//!
//! # The tables
//!
//! The import's column names in parentheses (`import::Column`); closed
//! vocabularies are the enums of `vocab`, stored by their English codes.
//!
//! - `household`: `registry_no` (户编号, the number in the national system;
//!   unique), `area_code` (行政区划代码, the 12-digit code of its village),
//!   `village_group` (村民小组), `kind` (户类型, `HouseholdKind`), `status`
//!   (户状态, `HouseholdStatus`, `registered` when not given), `monitor_type`
//!   (监测类型, required when the status is `monitored`), `identified_year`
//!   and `exited_year` (识别年度, 脱贫年度: 1980 to this year, exit not before
//!   identification), `phone` (联系电话), `address`.
//! - `household_cause`: its poverty causes (`vocab::Cause`): one primary
//!   (主要致贫原因, required unless the kind is `not_poor`) and at most two
//!   others (其他致贫原因). `poverty_cause` lists the codes.
//! - `member`: `name` (姓名), `sex` (性别) and `birth_year` (出生年份), read
//!   from the identity number or agreeing with it, `ethnicity` (民族),
//!   `relation` to the head (与户主关系, `Relation`), `education` (文化程度)
//!   and `school_status` (在校状况) as written, `health` (健康状况, `Health`;
//!   sensitive), `labour` (劳动技能, `Labour`: `lost` and `none` leave the
//!   labour force), `migrant_months` (务工月数, months of work away from
//!   home, 0–12), `id_hmac` and `id_last4` (身份证号, below), and `area_code`,
//!   its household's village.
//! - `income_record`: a household's income for one year, in fen: wage,
//!   business, transfer and property income, costs, and the net income per
//!   head (年人均纯收入; the parts less costs over the members when not
//!   given), with who verified it and when.
//! - `follow_up`: a survey of a household or a member 3, 6 or 12 months after
//!   training: shop active, orders and sales (fen) in the last 30 days, work
//!   status, notes, the surveyor.
//!
//! # Sensitive fields
//!
//! - The identity number is stored only as its HMAC-SHA256 under the server's
//!   key (`id_hmac_key`), unique, to find a member and refuse a duplicate,
//!   and as its last four characters, shown and exported as
//!   `**************002X`. An update import matches a member by either.
//! - Health is read only on request (`?health=1` on the household page,
//!   `?sensitive=true` in the API), only by officials of an area holding the
//!   household and admins; every such reading writes a `read_sensitive` change
//!   event naming the members. It is never exported and never in a snapshot.
//!
//! # Audit
//!
//! Every create, update and delete of a household, its members, incomes and
//! follow-ups, every import and export writes a `change_event` row (`audit`,
//! insert-only) with the actor and area; a change keeps before and after
//! snapshots (`store::snapshots`) holding identity numbers only as their last
//! four characters and no health. A number refused because another area holds
//! it leaves a `conflict` row, for the officials covering both.

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
pub mod vocab {
    //! The household form's vocabularies (kept in `crate::vocab::household`).
    pub use crate::vocab::household::*;
}

pub use idcard::{IdError, IdHasher, NationalId};
pub use messages::{Msg, RegistryError, RegistryResult};
pub use vocab::{
    Cause, Health, HouseholdKind, HouseholdStatus, Labour, MonitorType, Relation, Sex,
};
