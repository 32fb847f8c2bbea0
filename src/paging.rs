//! Bounds of the `page` and `per_page` query fields of every list, checked as
//! the query is read: out of bounds is a 400 naming the field, so no list
//! computes an offset from a number it cannot hold.

use serde::{Deserialize, Deserializer, de::Error};

/// The highest page number a list accepts.
pub const MAX_PAGE: u64 = 1_000_000;
/// The most rows a page may hold.
pub const MAX_PER_PAGE: u64 = 200;

fn bounded<'de, D: Deserializer<'de>>(
    d: D,
    field: &str,
    max: u64,
) -> Result<Option<u64>, D::Error> {
    let v = Option::<u64>::deserialize(d)?;
    match v {
        Some(n) if !(1..=max).contains(&n) => Err(D::Error::custom(format!(
            "{field} must be a whole number from 1 to {max}"
        ))),
        _ => Ok(v),
    }
}

/// `#[serde(default, deserialize_with = "crate::paging::page")]`
pub fn page<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    bounded(d, "page", MAX_PAGE)
}

/// `#[serde(default, deserialize_with = "crate::paging::per_page")]`
pub fn per_page<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    bounded(d, "per_page", MAX_PER_PAGE)
}

/// The offset of a page, saturating (the bounds above keep it far from it).
pub fn offset(page: u64, per_page: u64) -> u64 {
    page.saturating_sub(1).saturating_mul(per_page)
}
