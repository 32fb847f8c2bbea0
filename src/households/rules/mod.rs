//! The rules of the registry, once: what a member, a household's fields, a
//! year, an amount of money or a phone number must be. The forms, the API and
//! the spreadsheet import all check through these functions, so a value is
//! refused with the same message (a [`Msg`]) wherever it was typed.
//!
//! Nothing here reads the database or knows the actor.
//!
//! Here the rules of single values; `member` holds the rules of a member.

mod member;

use chrono::NaiveDate;

use super::idcard::{IdError, NationalId};
use super::messages::Msg;
use super::vocab::Cause;

pub use member::{CheckedMember, MemberField, MemberFields, check_kept_member, check_member};

// ---- single values ---------------------------------------------------------------

pub fn required() -> Msg {
    Msg::new("hh.err.required")
}

/// Free text of at most `max` characters.
pub fn text(s: &str, max: usize) -> Result<&str, Msg> {
    let n = s.chars().count();
    if n > max {
        return Err(Msg::new("hh.err.too_long").with("n", n).with("max", max));
    }
    Ok(s)
}

/// The trimmed text, `None` when blank.
pub fn clean(s: Option<&str>) -> Option<String> {
    s.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// A whole number as typed ("6", or "6.0" from a spreadsheet).
pub fn whole(s: &str) -> Result<i32, Msg> {
    s.trim()
        .strip_suffix(".0")
        .unwrap_or(s.trim())
        .parse()
        .map_err(|_| Msg::new("hh.err.not_whole").with("value", s.trim()))
}

/// `n` within `min..=max`.
pub fn between<T: PartialOrd + std::fmt::Display>(n: T, min: T, max: T) -> Result<T, Msg> {
    if n < min || n > max {
        return Err(Msg::new("hh.err.not_between")
            .with("value", &n)
            .with("min", min)
            .with("max", max));
    }
    Ok(n)
}

/// A whole number as typed, within `min..=max`.
pub fn int_in(s: &str, min: i32, max: i32) -> Result<i32, Msg> {
    between(whole(s)?, min, max)
}

/// A year of the registry (identification, exit): 1980 to this year.
pub fn registry_year(y: i32, this_year: i32) -> Result<i32, Msg> {
    between(y, 1980, this_year)
}

/// A year of income: 2000 to this year.
pub fn income_year(y: i32, this_year: i32) -> Result<i32, Msg> {
    between(y, 2000, this_year)
}

/// The largest amount of one income part: 1,000,000,000 yuan.
pub const MAX_FEN: i64 = 100_000_000_000;

/// An amount of money in fen (分), parsed from yuan as typed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fen(pub i64);

impl Fen {
    /// Decimal yuan ("8650.5", "-120", "1,200.00") to fen, at most two decimals.
    pub fn parse_yuan(s: &str) -> Result<Fen, Msg> {
        let s = s.trim();
        let bad = || Msg::new("hh.err.not_yuan").with("value", s);
        let (negative, body) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s.strip_prefix('+').unwrap_or(s)),
        };
        let (whole, frac) = body.split_once('.').unwrap_or((body, ""));
        if whole.is_empty() && frac.is_empty() {
            return Err(bad());
        }
        let mut yuan: i64 = 0;
        for b in whole.bytes().filter(|b| *b != b',') {
            if !b.is_ascii_digit() {
                return Err(bad());
            }
            yuan = yuan
                .checked_mul(10)
                .and_then(|y| y.checked_add(i64::from(b - b'0')))
                .filter(|y| *y <= 1_000_000_000)
                .ok_or_else(|| Msg::new("hh.err.yuan_too_large").with("value", s))?;
        }
        if !frac.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        if frac.len() > 2 {
            return Err(Msg::new("hh.err.decimals").with("value", s));
        }
        let fen: i64 = frac
            .bytes()
            .zip([10, 1])
            .map(|(b, w)| i64::from(b - b'0') * w)
            .sum();
        let total = yuan * 100 + fen;
        Ok(Fen(if negative { -total } else { total }))
    }
}

/// Digits with an optional leading +, spaces and hyphens; 5 to 20 digits.
pub fn phone(s: &str) -> Result<&str, Msg> {
    let ok_chars = s
        .char_indices()
        .all(|(i, c)| c.is_ascii_digit() || c == ' ' || c == '-' || (c == '+' && i == 0));
    let digits = s.bytes().filter(u8::is_ascii_digit).count();
    if !ok_chars || !(5..=20).contains(&digits) {
        return Err(Msg::new("hh.err.phone").with("value", s));
    }
    Ok(s)
}

/// A value of a closed vocabulary, by code or Chinese label.
pub fn vocab<T>(s: &str, parse: fn(&str) -> Option<T>, expected: fn() -> String) -> Result<T, Msg> {
    parse(s).ok_or_else(|| {
        Msg::new("hh.err.unknown_value")
            .with("value", s.trim())
            .with("expected", expected())
    })
}

/// A poverty cause by code, Chinese or English name.
pub fn cause(s: &str) -> Result<Cause, Msg> {
    Cause::parse(s).ok_or_else(|| Msg::new("hh.err.unknown_cause").with("value", s.trim()))
}

/// The other causes (at most two, none twice, none the primary): the causes
/// read and one message per problem.
pub fn other_causes<'a>(
    primary: Option<Cause>,
    list: impl IntoIterator<Item = &'a str>,
) -> (Vec<Cause>, Vec<Msg>) {
    let (mut found, mut problems, mut count) = (Vec::new(), Vec::new(), 0);
    for part in list.into_iter().map(str::trim).filter(|s| !s.is_empty()) {
        count += 1;
        match cause(part) {
            Err(m) => problems.push(m),
            Ok(c) if Some(c) == primary || found.contains(&c) => {
                problems.push(Msg::new("hh.err.cause_twice").with("cause", c.zh));
            }
            Ok(c) => found.push(c),
        }
    }
    if count > 2 {
        problems.push(Msg::new("hh.err.too_many_causes").with("n", count));
    }
    found.truncate(2);
    (found, problems)
}

pub fn primary_cause_missing() -> Msg {
    Msg::new("hh.err.primary_missing")
}

pub fn monitor_type_missing() -> Msg {
    Msg::new("hh.err.monitor_required")
}

/// The exit year is not before the identification year.
pub fn exit_after_identified(identified: Option<i32>, exited: Option<i32>) -> Result<(), Msg> {
    match (identified, exited) {
        (Some(i), Some(e)) if e < i => Err(Msg::new("hh.err.exit_before")
            .with("exited", e)
            .with("identified", i)),
        _ => Ok(()),
    }
}

/// The identity number, checked against `today`.
pub fn national_id(s: &str, today: NaiveDate) -> Result<NationalId, Msg> {
    NationalId::parse_on(s, today).map_err(|e| id_problem(&e))
}

/// What is wrong with an identity number, as a message.
pub fn id_problem(e: &IdError) -> Msg {
    match e {
        IdError::Length => Msg::new("hh.err.id_length"),
        IdError::NotDigits => Msg::new("hh.err.id_digits"),
        IdError::Area => Msg::new("hh.err.id_area"),
        IdError::NotADate(d) => Msg::new("hh.err.id_date").with("date", d),
        IdError::TooOld(d) => Msg::new("hh.err.id_too_old").with("date", d),
        IdError::Future(d) => Msg::new("hh.err.id_future").with("date", d),
        IdError::CheckChar => Msg::new("hh.err.id_check_char"),
        IdError::CheckDigit { expected, found } => Msg::new("hh.err.id_check_digit")
            .with("expected", expected)
            .with("found", found),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_yuan_to_fen() {
        let fen = |s| Fen::parse_yuan(s).map(|f| f.0);
        assert_eq!(fen("8650.5"), Ok(865_050));
        assert_eq!(fen("8650.05"), Ok(865_005));
        assert_eq!(fen("12000"), Ok(1_200_000));
        assert_eq!(fen("1,200.00"), Ok(120_000));
        assert_eq!(fen("-35.1"), Ok(-3_510));
        assert_eq!(fen(".5"), Ok(50));
        assert_eq!(fen("12.345").unwrap_err().key, "hh.err.decimals");
        assert!(fen("abc").is_err());
        assert!(fen("1e5").is_err());
        assert!(fen(".").is_err());
        assert!(fen("-").is_err());
        assert_eq!(
            fen("99999999999999999999").unwrap_err().key,
            "hh.err.yuan_too_large"
        );
    }

    #[test]
    fn checks_numbers_and_text() {
        assert_eq!(int_in("2019", 2000, 2025), Ok(2019));
        assert_eq!(int_in("6.0", 0, 12), Ok(6));
        assert_eq!(
            int_in("13", 0, 12).unwrap_err().english(),
            "13 is not between 0 and 12"
        );
        assert_eq!(
            int_in("six", 0, 12).unwrap_err().english(),
            "six is not a whole number"
        );
        assert!(text("张三", 2).is_ok());
        assert!(text("张三丰", 2).is_err());
        assert!(phone("+86 138-0000-0000").is_ok());
        assert!(phone("call me").is_err());
        assert!(exit_after_identified(Some(2015), Some(2014)).is_err());
        assert!(exit_after_identified(Some(2015), None).is_ok());
    }

    #[test]
    fn checks_other_causes() {
        let primary = Cause::parse("01");
        let (found, problems) = other_causes(primary, ["07", "09"]);
        assert_eq!(found.len(), 2);
        assert!(problems.is_empty());
        let (_, problems) = other_causes(primary, ["01", "因穷", "07", "09"]);
        let keys: Vec<_> = problems.iter().map(|m| m.key).collect();
        assert_eq!(
            keys,
            [
                "hh.err.cause_twice",
                "hh.err.unknown_cause",
                "hh.err.too_many_causes"
            ]
        );
    }
}
