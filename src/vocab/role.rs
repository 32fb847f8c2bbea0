//! The roles of the people who sign in.

use sea_orm::entity::prelude::StringLen;
use serde::{Deserialize, Serialize};

/// Who a person is to fuzhi; stored in `app_user.role` as its lower-case name.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    sea_orm::EnumIter,
    sea_orm::DeriveActiveEnum,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::N(16))",
    rename_all = "lowercase"
)]
pub enum Role {
    Learner,
    Trainer,
    Official,
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Learner, Role::Trainer, Role::Official, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Learner => "learner",
            Role::Trainer => "trainer",
            Role::Official => "official",
            Role::Admin => "admin",
        }
    }
    pub fn parse(s: &str) -> Option<Role> {
        Some(match s.trim() {
            "learner" => Role::Learner,
            "trainer" => Role::Trainer,
            "official" => Role::Official,
            "admin" => Role::Admin,
            _ => return None,
        })
    }
    pub fn is_staff(self) -> bool {
        self != Role::Learner
    }
}
