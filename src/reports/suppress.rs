//! Small-cell suppression: a figure that describes fewer than five people (or
//! households) is shown as "<5", never as the number, in pages, the API and
//! exports alike. A count is suppressed below five; a rate when its numerator
//! or its denominator is below five; a mean when it is over fewer than five.
//! Zero is suppressed too: "none" is as telling as "one" in a small village.
//!
//! Complementary suppression: the rows of a table often add up to a total
//! shown beside them (villages to their township, causes, sexes, age bands
//! and months to the area's figure). One hidden row among shown ones would
//! be the total minus the others, so `complementary` hides further rows (the
//! smallest first, shown as "*") until no hidden row can be worked out from
//! the total and the rows shown: each keeps a range of possible values.

use serde::{Serialize, Serializer};

/// The smallest number of people a shown figure may describe.
pub const MIN_CELL: i64 = 5;

/// What a suppressed figure shows instead of its value.
pub const SMALL: &str = "<5";

/// What a figure of five or more shows when it is hidden so that a "<5" in
/// the same table cannot be worked out by subtraction.
pub const WITHHELD: &str = "*";

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
    /// Five or more, hidden to protect a small figure of the same table
    /// (complementary suppression).
    Withheld,
    /// Not defined here (nothing to divide by, or not a figure of this cut).
    Missing,
    /// Nothing to count: the area has no household records imported. Not a
    /// small cell (there is nobody to protect), and shown as "—" with that
    /// explanation rather than "<5", which would read as "a few".
    NoRecords,
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

    /// Hidden: under five, or withheld to protect one that is.
    pub fn is_small(&self) -> bool {
        matches!(self, Shown::Small | Shown::Withheld)
    }

    /// Hidden to protect another (`Withheld`) unless already hidden or missing.
    pub fn withhold(&self) -> Shown {
        match self {
            Shown::Value(..) => Shown::Withheld,
            other => other.clone(),
        }
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
            Shown::Withheld => WITHHELD.into(),
            Shown::Missing | Shown::NoRecords => "—".into(),
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
            Shown::Withheld => s.serialize_str(WITHHELD),
            Shown::Missing | Shown::NoRecords => s.serialize_none(),
            Shown::Value(Kind::Count | Kind::Fen, v) => s.serialize_i64(*v as i64),
            Shown::Value(_, v) => s.serialize_f64(*v),
        }
    }
}

/// How a cell of a line is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hide {
    Shown,
    /// Under five ("<5").
    Small,
    /// Five or more, hidden to protect a small one ("*").
    Withheld,
}

/// What someone who knows the rule learns of a hidden cell: it lies in
/// `[lo, hi]`.
const OPEN: i64 = i64::MAX / 4;

fn bounds(h: Hide) -> (i64, i64) {
    match h {
        Hide::Small => (0, MIN_CELL - 1),
        _ => (MIN_CELL, OPEN),
    }
}

/// The range each hidden cell of `line` keeps for someone who knows the
/// total and every shown cell (and that a "<5" is 0–4 and a "*" 5 or more):
/// (index, lowest, highest).
pub fn ranges(values: &[i64], hide: &[Hide], total: i64) -> Vec<(usize, i64, i64)> {
    let hidden: Vec<usize> = (0..values.len())
        .filter(|&i| hide[i] != Hide::Shown)
        .collect();
    let shown: i64 = (0..values.len())
        .filter(|&i| hide[i] == Hide::Shown)
        .map(|i| values[i])
        .sum();
    let rest = total - shown;
    hidden
        .iter()
        .map(|&i| {
            let (lo, hi) = bounds(hide[i]);
            let (mut others_lo, mut others_hi) = (0i64, 0i64);
            for &j in hidden.iter().filter(|&&j| j != i) {
                let (l, h) = bounds(hide[j]);
                others_lo = others_lo.saturating_add(l);
                others_hi = others_hi.saturating_add(h);
            }
            (
                i,
                lo.max(rest.saturating_sub(others_hi)),
                hi.min(rest.saturating_sub(others_lo)),
            )
        })
        .collect()
}

/// Whether no hidden cell of a line can be told from the total and the
/// shown cells (each keeps at least two possible values).
pub fn safe(values: &[i64], hide: &[Hide], total: i64) -> bool {
    ranges(values, hide, total)
        .into_iter()
        .all(|(_, lo, hi)| lo < hi)
}

/// Which cells of a line to hide: `values` add up to `total` (the caller
/// adds a cell for any remainder), which is shown where the line is. Cells
/// under five are `Small`; then the smallest shown ones are `Withheld` until
/// `safe` holds. A total under five is hidden itself, and so is every cell.
/// The second value is false when even hiding every cell leaves one that can
/// be told (all hidden cells pinned, as two 4s under a total of 8): then the
/// total must not be shown either.
pub fn complementary(values: &[i64], total: i64) -> (Vec<Hide>, bool) {
    complementary_known(values, &vec![false; values.len()], total)
}

/// `complementary` where the cells marked `known` are shown whatever their
/// value (an area with no records, whose zero is shown as such): they are
/// never hidden, and the other hidden cells are protected knowing them.
pub fn complementary_known(values: &[i64], known: &[bool], total: i64) -> (Vec<Hide>, bool) {
    let mut hide: Vec<Hide> = values
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            if known.get(i).copied().unwrap_or(false) {
                Hide::Shown
            } else if v < MIN_CELL {
                Hide::Small
            } else {
                Hide::Shown
            }
        })
        .collect();
    if total < MIN_CELL || hide.iter().all(|h| *h == Hide::Shown) {
        return (hide, true);
    }
    while !safe(values, &hide, total) {
        let next = (0..values.len())
            .filter(|&i| hide[i] == Hide::Shown && !known.get(i).copied().unwrap_or(false))
            .min_by_key(|&i| values[i]);
        match next {
            Some(i) => hide[i] = Hide::Withheld,
            None => return (hide, false),
        }
    }
    (hide, true)
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
        assert_eq!(serde_json::to_string(&Shown::Withheld).unwrap(), "\"*\"");
    }

    #[test]
    fn a_lone_small_cell_gets_a_companion() {
        use Hide::*;
        // 3 + 12 + 20 = 35: the 12 goes with the 3.
        assert_eq!(
            complementary(&[3, 12, 20], 35),
            (vec![Small, Withheld, Shown], true)
        );
        // 0 + 5 = 5: "*" would be exactly 5 and "<5" exactly 0; both go.
        assert_eq!(
            complementary(&[0, 5, 9], 14),
            (vec![Small, Withheld, Withheld], true)
        );
        // Two small cells whose sum says nothing exact stay as they are.
        assert_eq!(
            complementary(&[1, 2, 30], 33),
            (vec![Small, Small, Shown], true)
        );
        // Two zeros under a shown total would be told: one more goes.
        assert_eq!(
            complementary(&[0, 0, 30, 40], 70),
            (vec![Small, Small, Withheld, Shown], true)
        );
        // Two 4s under a total of 8: nothing left to hide; the total must go.
        assert!(!complementary(&[4, 4], 8).1);
        // A small total hides itself: nothing to subtract from.
        assert_eq!(complementary(&[1, 2], 3), (vec![Small, Small], true));
        assert_eq!(complementary(&[6, 7], 13), (vec![Shown, Shown], true));
        // An area with no records shows its zero: the lone 3 beside it now
        // needs a companion, and the zero itself is never hidden.
        assert_eq!(
            complementary(&[0, 3, 20], 23),
            (vec![Small, Small, Shown], true)
        );
        assert_eq!(
            complementary_known(&[0, 3, 20], &[true, false, false], 23),
            (vec![Shown, Small, Withheld], true)
        );
    }
}
