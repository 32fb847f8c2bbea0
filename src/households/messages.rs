//! What the registry says when it refuses something: a locale key of
//! `templates/locales/*.toml` (`hh.err.*`) with its placeholders, so pages show
//! it in the person's language. The API, the spreadsheet import and the command
//! line use the English text of the same catalog.

use std::collections::BTreeMap;

use crate::error::AppError;

pub use crate::localize::Msg;

/// Field name → what is wrong with it.
pub type Problems = BTreeMap<String, Msg>;

/// Why a registry call did not happen.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// Some fields are wrong (422).
    #[error("{}", english_fields(.0).into_iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join("; "))]
    Invalid(Problems),
    /// The change clashes with a stored record (409).
    #[error("{0}")]
    Conflict(Msg),
    /// The change clashes with a record of another area (409, the message
    /// naming nothing of it); the clashes are recorded once the write is
    /// rolled back (`store::conflicts`).
    #[error("{0}")]
    Elsewhere(Msg, Vec<crate::households::store::Clash>),
    /// Not found, forbidden, or the database.
    #[error(transparent)]
    Other(#[from] AppError),
}

pub type RegistryResult<T> = Result<T, RegistryError>;

impl RegistryError {
    pub fn field(field: &str, msg: Msg) -> RegistryError {
        RegistryError::Invalid(BTreeMap::from([(field.to_owned(), msg)]))
    }
}

impl From<sea_orm::DbErr> for RegistryError {
    fn from(e: sea_orm::DbErr) -> RegistryError {
        RegistryError::Other(AppError::Db(e))
    }
}

fn english_fields(p: &Problems) -> BTreeMap<String, String> {
    p.iter().map(|(k, v)| (k.clone(), v.english())).collect()
}

impl From<RegistryError> for AppError {
    fn from(e: RegistryError) -> AppError {
        match e {
            RegistryError::Invalid(p) => AppError::fields(english_fields(&p)),
            RegistryError::Conflict(m) | RegistryError::Elsewhere(m, _) => {
                AppError::Conflict(m.english())
            }
            RegistryError::Other(e) => e,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn fills_placeholders_from_the_english_catalog() {
        let m = Msg::new("hh.err.not_between")
            .with("value", 13)
            .with("min", 0)
            .with("max", 12);
        assert_eq!(m.english(), "13 is not between 0 and 12");
        assert_eq!(Msg::new("no.such.key").english(), "no.such.key");
        assert_eq!(
            m.fill("{value} 不在 {min} 到 {max} 之间"),
            "13 不在 0 到 12 之间",
            "a translation fills the same placeholders"
        );
    }

    #[test]
    fn every_registry_key_has_both_languages() {
        let zh: HashMap<String, String> =
            toml::from_str(include_str!("../../templates/locales/zh-CN.toml")).unwrap();
        let keys: Vec<&String> = crate::localize::ENGLISH
            .keys()
            .filter(|k| k.starts_with("hh.err."))
            .collect();
        assert!(keys.len() > 20, "{keys:?}");
        for k in keys {
            assert!(zh.contains_key(k), "{k} has no Chinese text");
        }
    }

    #[test]
    fn converts_to_the_api_error() {
        let e: AppError = RegistryError::field("year", Msg::new("hh.err.required")).into();
        match e {
            AppError::Validation { fields, .. } => assert_eq!(fields["year"], "required"),
            other => panic!("{other:?}"),
        }
    }
}
