//! The 18-character resident identity number (公民身份号码, GB 11643-1999).
//!
//! A parsed `NationalId` lives only in memory: what is stored is its keyed HMAC
//! (for exact look-up) and its last four characters (for display). `Debug`
//! masks it, and there is no `Display`, so it cannot slip into a log line.

use std::fmt;

use chrono::{Datelike, NaiveDate};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::vocab::Sex;

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK: [u8; 11] = *b"10X98765432";

/// Why a string is not a valid identity number. Messages never repeat the whole number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("must be 18 characters")]
    Length,
    #[error("the first 17 characters must be digits")]
    NotDigits,
    #[error("area code must not start with 0")]
    Area,
    #[error("birth date {0} is not a real date")]
    NotADate(String),
    #[error("birth date {0} is before 1900")]
    TooOld(String),
    #[error("birth date {0} is in the future")]
    Future(String),
    #[error("last character must be a digit or X")]
    CheckChar,
    #[error("check digit should be {expected}, not {found}")]
    CheckDigit { expected: char, found: char },
}

/// A valid identity number, uppercase `X`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct NationalId([u8; 18]);

impl NationalId {
    /// Parses and validates against today's date.
    pub fn parse(s: &str) -> Result<NationalId, IdError> {
        NationalId::parse_on(s, chrono::Local::now().date_naive())
    }

    /// Parses and validates with `today` as the latest possible birth date.
    pub fn parse_on(s: &str, today: NaiveDate) -> Result<NationalId, IdError> {
        let b = s.trim().as_bytes();
        let Ok(raw) = <[u8; 18]>::try_from(b) else {
            return Err(IdError::Length);
        };
        if !raw[..17].iter().all(u8::is_ascii_digit) {
            return Err(IdError::NotDigits);
        }
        if raw[0] == b'0' {
            return Err(IdError::Area);
        }
        let digits = |r: std::ops::Range<usize>| {
            raw[r]
                .iter()
                .fold(0u32, |n, d| n * 10 + u32::from(d - b'0'))
        };
        let date_text = || String::from_utf8_lossy(&raw[6..14]).into_owned();
        let (y, m, d) = (digits(6..10), digits(10..12), digits(12..14));
        let date = i32::try_from(y)
            .ok()
            .and_then(|y| NaiveDate::from_ymd_opt(y, m, d))
            .ok_or_else(|| IdError::NotADate(date_text()))?;
        if date.year() < 1900 {
            return Err(IdError::TooOld(date_text()));
        }
        if date > today {
            return Err(IdError::Future(date_text()));
        }
        let found = raw[17].to_ascii_uppercase();
        if !(found.is_ascii_digit() || found == b'X') {
            return Err(IdError::CheckChar);
        }
        let expected = check_char(&raw);
        if found != expected {
            return Err(IdError::CheckDigit {
                expected: char::from(expected),
                found: char::from(found),
            });
        }
        let mut id = raw;
        id[17] = found;
        Ok(NationalId(id))
    }

    /// Builds a valid number for tests and demo data: `area6` is 6 digits,
    /// `seq` below 1000 (odd = male).
    pub fn synthetic(area6: &str, birth: NaiveDate, seq: u16) -> Result<NationalId, IdError> {
        let area = area6.as_bytes();
        if area.len() != 6 || seq >= 1000 {
            return Err(IdError::Length);
        }
        if !area.iter().all(u8::is_ascii_digit) {
            return Err(IdError::NotDigits);
        }
        if area[0] == b'0' {
            return Err(IdError::Area);
        }
        let year = u32::try_from(birth.year()).map_err(|_| IdError::TooOld(String::new()))?;
        if !(1900..=9999).contains(&year) {
            return Err(IdError::TooOld(birth.format("%Y%m%d").to_string()));
        }
        let mut raw = [b'0'; 18];
        raw[..6].copy_from_slice(area);
        put_digits(&mut raw[6..10], year);
        put_digits(&mut raw[10..12], birth.month());
        put_digits(&mut raw[12..14], birth.day());
        put_digits(&mut raw[14..17], u32::from(seq));
        raw[17] = check_char(&raw);
        Ok(NationalId(raw))
    }

    /// The whole number in clear. Only for writing it where it belongs (a
    /// generated demo spreadsheet); never log it or store it.
    pub fn expose(&self) -> &str {
        // Always ASCII by construction.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The last four characters, for display (`…123X`).
    pub fn last4(&self) -> String {
        String::from_utf8_lossy(&self.0[14..]).into_owned()
    }

    pub fn birth_date(&self) -> NaiveDate {
        let n = |r: std::ops::Range<usize>| {
            self.0[r]
                .iter()
                .fold(0u32, |n, d| n * 10 + u32::from(d - b'0'))
        };
        // Validated on construction; the fallback is never taken.
        i32::try_from(n(6..10))
            .ok()
            .and_then(|y| NaiveDate::from_ymd_opt(y, n(10..12), n(12..14)))
            .unwrap_or_default()
    }

    pub fn birth_year(&self) -> i32 {
        self.birth_date().year()
    }

    /// The 17th character: odd for men, even for women.
    pub fn sex(&self) -> Sex {
        if (self.0[16] - b'0') % 2 == 1 {
            Sex::Male
        } else {
            Sex::Female
        }
    }

    /// HMAC-SHA256 under `key`, lowercase hex. For many numbers use [`IdHasher`].
    pub fn hmac_hex(&self, key: &[u8]) -> String {
        IdHasher::new(key).hex(self)
    }
}

impl fmt::Debug for NationalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NationalId(**************{})", self.last4())
    }
}

/// A keyed HMAC prepared once and cloned per number, so hashing a large import
/// costs two compression rounds a row instead of four.
#[derive(Clone)]
pub struct IdHasher(Hmac<Sha256>);

impl IdHasher {
    pub fn new(key: &[u8]) -> IdHasher {
        match <Hmac<Sha256> as Mac>::new_from_slice(key) {
            Ok(mac) => IdHasher(mac),
            // HMAC is defined for keys of every length; hmac never returns this.
            Err(_) => unreachable!("HMAC-SHA256 accepts keys of any length"),
        }
    }

    pub fn digest(&self, id: &NationalId) -> [u8; 32] {
        let mut mac = self.0.clone();
        mac.update(&id.0);
        mac.finalize().into_bytes().into()
    }

    pub fn hex(&self, id: &NationalId) -> String {
        hex::encode(self.digest(id))
    }
}

fn check_char(raw: &[u8; 18]) -> u8 {
    let sum: u32 = raw[..17]
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    CHECK[(sum % 11) as usize]
}

fn put_digits(out: &mut [u8], mut n: u32) {
    for slot in out.iter_mut().rev() {
        *slot = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 6, 1).unwrap()
    }

    #[test]
    fn accepts_known_valid_numbers() {
        // The GB 11643-1999 worked example.
        let id = NationalId::parse_on("11010519491231002X", today()).unwrap();
        assert_eq!(id.birth_year(), 1949);
        assert_eq!(id.sex(), Sex::Female);
        assert_eq!(id.last4(), "002X");
        let lower = NationalId::parse_on("11010519491231002x", today()).unwrap();
        assert_eq!(lower, id);
        assert_eq!(lower.expose(), "11010519491231002X");
        let man = NationalId::parse_on(" 440524188001010014 ", today());
        assert_eq!(man, Err(IdError::TooOld("18800101".into())));
    }

    #[test]
    fn reports_why_a_number_is_wrong() {
        let p = |s: &str| NationalId::parse_on(s, today()).unwrap_err().to_string();
        assert_eq!(p("1101051949123100"), "must be 18 characters");
        assert_eq!(p("11010519491231002X1"), "must be 18 characters");
        assert_eq!(
            p("１１０１０５１９４９１２３１００２Ｘ"),
            "must be 18 characters"
        );
        assert_eq!(
            p("1101051949123100AX"),
            "the first 17 characters must be digits"
        );
        assert_eq!(p("01010519491231002X"), "area code must not start with 0");
        assert_eq!(
            p("110105199902300011"),
            "birth date 19990230 is not a real date"
        );
        assert_eq!(
            p("110105199913450011"),
            "birth date 19991345 is not a real date"
        );
        assert_eq!(
            p("110105203001010011"),
            "birth date 20300101 is in the future"
        );
        assert_eq!(
            p("11010519491231002Y"),
            "last character must be a digit or X"
        );
        assert_eq!(p("110105194912310023"), "check digit should be X, not 3");
    }

    #[test]
    fn synthetic_numbers_are_valid() {
        let birth = NaiveDate::from_ymd_opt(1988, 2, 29).unwrap();
        for seq in [0, 1, 2, 17, 998, 999] {
            let id = NationalId::synthetic("530102", birth, seq).unwrap();
            assert_eq!(NationalId::parse_on(id.expose(), today()).unwrap(), id);
            assert_eq!(id.birth_date(), birth);
            assert_eq!(id.sex() == Sex::Male, seq % 2 == 1);
        }
        assert!(NationalId::synthetic("53010", birth, 1).is_err());
        assert!(NationalId::synthetic("530102", birth, 1000).is_err());
    }

    #[test]
    fn debug_masks_all_but_the_last_four() {
        let id = NationalId::parse_on("11010519491231002X", today()).unwrap();
        let shown = format!("{id:?} {:?}", Some(&id));
        assert!(!shown.contains("110105"), "{shown}");
        assert!(!shown.contains("19491231"), "{shown}");
        assert!(shown.contains("002X"));
    }

    #[test]
    fn hmac_is_keyed_and_stable() {
        let id = NationalId::parse_on("11010519491231002X", today()).unwrap();
        let a = id.hmac_hex(b"key one");
        assert_eq!(a.len(), 64);
        assert_eq!(a, IdHasher::new(b"key one").hex(&id));
        assert_ne!(a, id.hmac_hex(b"key two"));
    }
}
