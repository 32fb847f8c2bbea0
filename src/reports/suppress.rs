//! Small-cell suppression: a figure that describes fewer than five people (or
//! households) is shown as "<5", never as the number, in pages, the API and
//! exports alike. A count is suppressed below five; a rate when its numerator
//! or its denominator is below five; a mean when it is over fewer than five.
//! Zero is suppressed too: "none" is as telling as "one" in a small village.

use serde::{Serialize, Serializer};

/// The smallest number of people a shown figure may describe.
pub const MIN_CELL: i64 = 5;

/// What a suppressed figure shows instead of its value.
pub const SMALL: &str = "<5";

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    Count,
    /// A share, 0–1; shown as a percent with one decimal.
    Rate,
    /// A normalized gain; two decimals.
    Gain,
    /// A mean score 0–100; one decimal.
    Score,
    /// Money in fen; shown in yuan with two decimals.
    Fen,
}

/// A figure as it may be shown.
#[derive(Debug, Clone, PartialEq)]
pub enum Shown {
    Value(Kind, f64),
    Small,
    /// Not defined here (nothing to divide by, or not a figure of this cut).
    Missing,
}

impl Shown {
    pub fn count(n: i64) -> Shown {
        if n < MIN_CELL {
            Shown::Small
        } else {
            Shown::Value(Kind::Count, n as f64)
        }
    }

    pub fn rate(num: i64, den: i64) -> Shown {
        if num < MIN_CELL || den < MIN_CELL {
            Shown::Small
        } else {
            Shown::Value(Kind::Rate, round(num as f64 / den as f64, 4))
        }
    }

    /// `sum / n` divided by `scale` (sums are kept as scaled integers).
    pub fn mean(kind: Kind, sum: i64, n: i64, scale: f64) -> Shown {
        if n < MIN_CELL {
            Shown::Small
        } else {
            let digits = match kind {
                Kind::Gain => 4,
                Kind::Fen => 0,
                _ => 2,
            };
            Shown::Value(kind, round(sum as f64 / n as f64 / scale, digits))
        }
    }

    pub fn is_small(&self) -> bool {
        matches!(self, Shown::Small)
    }

    /// The value, for charts (none when suppressed or missing).
    pub fn value(&self) -> Option<f64> {
        match self {
            Shown::Value(_, v) => Some(*v),
            _ => None,
        }
    }

    /// The text a page or a CSV file shows.
    pub fn text(&self) -> String {
        match self {
            Shown::Small => SMALL.into(),
            Shown::Missing => "—".into(),
            Shown::Value(k, v) => match k {
                Kind::Count => format!("{}", *v as i64),
                Kind::Rate => format!("{:.1}%", v * 100.0),
                Kind::Gain => format!("{v:.2}"),
                Kind::Score => format!("{v:.1}"),
                Kind::Fen => {
                    let fen = *v as i64;
                    let sign = if fen < 0 { "-" } else { "" };
                    let f = fen.unsigned_abs();
                    format!("{sign}{}.{:02}", f / 100, f % 100)
                }
            },
        }
    }
}

/// JSON: the number (a count as an integer, a rate as a fraction, money in
/// fen), "<5" when suppressed, null when missing.
impl Serialize for Shown {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Shown::Small => s.serialize_str(SMALL),
            Shown::Missing => s.serialize_none(),
            Shown::Value(Kind::Count | Kind::Fen, v) => s.serialize_i64(*v as i64),
            Shown::Value(_, v) => s.serialize_f64(*v),
        }
    }
}

fn round(v: f64, digits: i32) -> f64 {
    let p = 10f64.powi(digits);
    (v * p).round() / p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_cells_are_hidden() {
        assert_eq!(Shown::count(4).text(), "<5");
        assert_eq!(Shown::count(0).text(), "<5");
        assert_eq!(Shown::count(5).text(), "5");
        assert_eq!(Shown::rate(4, 100).text(), "<5");
        assert_eq!(Shown::rate(5, 4).text(), "<5");
        assert_eq!(Shown::rate(5, 8).text(), "62.5%");
        assert_eq!(Shown::mean(Kind::Gain, 25_000, 5, 10_000.0).text(), "0.50");
        assert_eq!(serde_json::to_string(&Shown::Small).unwrap(), "\"<5\"");
        assert_eq!(serde_json::to_string(&Shown::rate(5, 8)).unwrap(), "0.625");
    }
}
