//! What forms and JSON bodies give about a user (to create, change or find
//! them), and the checks those inputs share.

use serde::Deserialize;

/// What a form or JSON body gives to create a user.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct NewUser {
    pub login: String,
    pub display_name: String,
    #[serde(default)]
    pub email: Option<String>,
    pub password: String,
    /// The secret is a 6-digit PIN (learners).
    #[serde(default)]
    pub pin: bool,
    pub role: String,
    #[serde(default)]
    pub area_code: Option<String>,
    #[serde(default)]
    pub member_id: Option<i64>,
    #[serde(default)]
    pub locale: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct UserChange {
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub role: Option<String>,
    pub area_code: Option<String>,
    pub disabled: Option<bool>,
    pub member_id: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    /// Part of a login or display name.
    pub q: Option<String>,
    pub role: Option<String>,
    #[serde(default, deserialize_with = "crate::paging::page")]
    pub page: Option<u64>,
    #[serde(default, deserialize_with = "crate::paging::per_page")]
    pub per_page: Option<u64>,
}

pub fn page_params(page: Option<u64>, per_page: Option<u64>) -> (u64, u64) {
    (
        page.unwrap_or(1).max(1),
        per_page.unwrap_or(50).clamp(1, 200),
    )
}

/// A display name: trimmed, 1 to 100 characters.
pub(super) fn validate_display_name(n: &str) -> Result<&str, String> {
    let n = n.trim();
    if n.is_empty() || n.chars().count() > 100 {
        Err("must be 1 to 100 characters".into())
    } else {
        Ok(n)
    }
}

pub(super) fn validate_email(e: &Option<String>) -> Result<Option<String>, String> {
    match e.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(e) => {
            let ok = e.len() <= 254
                && e.split_once('@').is_some_and(|(a, b)| {
                    !a.is_empty() && b.contains('.') && !b.starts_with('.') && !b.ends_with('.')
                })
                && !e.chars().any(char::is_whitespace);
            if ok {
                Ok(Some(e.to_string()))
            } else {
                Err("is not an email address".into())
            }
        }
    }
}
