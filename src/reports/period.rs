//! The period of a report: whole months, `from` to `to` inclusive. Cells are
//! dated by month ("YYYY-MM"), so a period is two month strings compared as
//! text.

use chrono::{DateTime, Datelike, Utc};
use serde::Serialize;

use crate::error::{AppError, AppResult};

/// A period of whole months, `from` to `to` inclusive ("YYYY-MM").
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Period {
    pub from: Option<String>,
    pub to: String,
}

/// The month ("YYYY-MM") a time falls in.
pub fn month(t: DateTime<Utc>) -> String {
    format!("{:04}-{:02}", t.year(), t.month())
}

fn parse_month(field: &str, s: &str) -> AppResult<String> {
    let s = s.trim();
    // ASCII first: the checks below slice by bytes.
    let ok = s.is_ascii()
        && s.len() >= 7
        && s[..4].bytes().all(|b| b.is_ascii_digit())
        && &s[4..5] == "-"
        && s[5..7].parse::<u32>().is_ok_and(|m| (1..=12).contains(&m));
    if !ok {
        return Err(AppError::field(
            field,
            "must be a month (2026-03) or a date (2026-03-15)",
        ));
    }
    Ok(s[..7].to_string())
}

impl Period {
    /// From query values; `to` defaults to this month, `from` to the beginning.
    pub fn parse(from: Option<&str>, to: Option<&str>, now: DateTime<Utc>) -> AppResult<Period> {
        let from = match from.map(str::trim).filter(|s| !s.is_empty()) {
            Some(f) => Some(parse_month("from", f)?),
            None => None,
        };
        let to = match to.map(str::trim).filter(|s| !s.is_empty()) {
            Some(t) => parse_month("to", t)?,
            None => month(now),
        };
        if from.as_ref().is_some_and(|f| *f > to) {
            return Err(AppError::field(
                "from",
                "must not be after the end of the period",
            ));
        }
        Ok(Period { from, to })
    }

    /// Whether `month` lies in the period.
    pub fn flow(&self, month: &str) -> bool {
        month <= self.to.as_str() && self.from.as_deref().is_none_or(|f| month >= f)
    }

    /// Whether `month` lies before the period's end.
    pub fn stock(&self, month: &str) -> bool {
        month <= self.to.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_period_is_read_from_months_or_dates() {
        let now = Utc.with_ymd_and_hms(2026, 4, 9, 0, 0, 0).unwrap();
        let p = Period::parse(Some("2026-02-15"), None, now).unwrap();
        assert_eq!(p.from.as_deref(), Some("2026-02"));
        assert_eq!(p.to, "2026-04");
        assert!(p.flow("2026-02") && p.flow("2026-04") && !p.flow("2026-01"));
        assert!(p.stock("2025-12") && !p.stock("2026-05"));
        assert!(Period::parse(Some("2026-13"), None, now).is_err());
        assert!(Period::parse(Some("2026-05"), Some("2026-04"), now).is_err());
    }

    #[test]
    fn a_month_with_other_characters_is_refused_not_a_panic() {
        let now = Utc.with_ymd_and_hms(2026, 4, 9, 0, 0, 0).unwrap();
        for bad in [
            "00\u{800}\u{80}",
            "0\u{80}\u{10000}",
            "二〇二六年三月",
            "2026-\u{e9}3",
        ] {
            assert!(Period::parse(Some(bad), None, now).is_err(), "{bad:?}");
            assert!(Period::parse(None, Some(bad), now).is_err(), "{bad:?}");
        }
    }
}
