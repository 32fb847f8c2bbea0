//! How a user is shown: to others (never the hash), to the audit log, and
//! to the policy as an actor.

use serde::Serialize;
use serde_json::json;

use crate::accounts::Role;
use crate::areas::AreaCode;
use crate::entities::app_user;
use crate::policy::Actor;

/// A user as shown to others: never the password hash.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserView {
    pub id: i64,
    pub login: String,
    pub display_name: String,
    pub email: Option<String>,
    pub role: Role,
    pub area_code: Option<String>,
    pub scope_area_code: Option<String>,
    pub member_id: Option<i64>,
    pub locale: String,
    pub disabled: bool,
    pub pin: bool,
    pub created_at: String,
}

impl From<&app_user::Model> for UserView {
    fn from(u: &app_user::Model) -> Self {
        UserView {
            id: u.id,
            login: u.login.clone(),
            display_name: u.display_name.clone(),
            email: u.email.clone(),
            role: u.role,
            area_code: u.area_code.clone(),
            scope_area_code: if u.role == Role::Learner {
                None
            } else {
                u.area_code.clone()
            },
            member_id: u.member_id,
            locale: u.locale.clone(),
            disabled: u.disabled_at.is_some(),
            pin: u.pin,
            created_at: u.created_at.to_rfc3339(),
        }
    }
}

/// The audit snapshot of a user: no hash, no secret.
pub fn snapshot(u: &app_user::Model) -> serde_json::Value {
    json!({
        "login": u.login, "display_name": u.display_name, "email": u.email,
        "role": u.role, "area_code": u.area_code, "member_id": u.member_id,
        "disabled": u.disabled_at.is_some(),
    })
}

pub fn actor_of(u: &app_user::Model) -> Actor {
    Actor {
        id: u.id,
        role: u.role,
        login: u.login.clone(),
        display_name: u.display_name.clone(),
        area: u.area_code.as_deref().and_then(|c| AreaCode::parse(c).ok()),
        member_id: u.member_id,
        locale: u.locale.clone(),
    }
}
