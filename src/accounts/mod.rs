//! People who sign in: learners, trainers, officials and admins; their
//! passwords or PINs, session tokens and sign-in limits. Owns `app_user`.
//! Never decides permissions (that is `policy`) and never logs or audits a
//! password, PIN or token.

pub mod devices;
pub mod limiter;
pub mod password;
pub mod sessions;
pub mod signin;
pub mod tokens;
pub mod users;

use serde::Serialize;

pub use crate::vocab::Role;

/// A sign-in name: a mainland mobile number (11 digits starting with 1) or a
/// username of 3-32 letters, digits, `.`, `_` or `-`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Login(String);

impl Login {
    pub fn parse(s: &str) -> Result<Login, String> {
        let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        let s = if compact.chars().all(|c| c.is_ascii_digit() || c == '-') {
            compact.replace('-', "")
        } else {
            compact.to_lowercase()
        };
        let is_phone = s.len() == 11 && s.starts_with('1') && s.bytes().all(|b| b.is_ascii_digit());
        let is_name = (3..=32).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
            && s.bytes().next().is_some_and(|b| b.is_ascii_alphabetic());
        if is_phone || is_name {
            Ok(Login(s))
        } else {
            Err("must be an 11-digit mobile number or a username of 3-32 letters and digits starting with a letter".into())
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// A mobile number (learners sign in with one and a PIN).
    pub fn is_phone(&self) -> bool {
        self.0.len() == 11 && self.0.bytes().all(|b| b.is_ascii_digit())
    }
    /// For log lines: enough to tell attempts apart, not the whole phone number.
    pub fn masked(&self) -> String {
        mask_login(&self.0)
    }
}

pub fn mask_login(s: &str) -> String {
    let n = s.chars().count();
    if n <= 4 {
        return "***".into();
    }
    let head: String = s.chars().take(3).collect();
    let tail: String = s.chars().skip(n - 2).collect();
    format!("{head}***{tail}")
}
