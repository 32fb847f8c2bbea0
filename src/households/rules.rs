//! The rules of the registry, once: what a member, a household's fields, a
//! year, an amount of money or a phone number must be. The forms, the API and
//! the spreadsheet import all check through these functions, so a value is
//! refused with the same message (a [`Msg`]) wherever it was typed.
//!
//! Nothing here reads the database or knows the actor.

use chrono::{Datelike, NaiveDate};

use super::idcard::{IdError, NationalId};
use super::import::MemberRow;
use super::messages::Msg;
use super::vocab::{Cause, Health, Labour, Relation, Sex};

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

// ---- a member ---------------------------------------------------------------------

/// A member's fields, as the form, the JSON body or the spreadsheet row gives
/// them (blank cells as `None`).
#[derive(Clone, Copy, Debug, Default)]
pub struct MemberFields<'a> {
    pub name: Option<&'a str>,
    pub id_number: Option<&'a str>,
    pub relation: Option<&'a str>,
    pub sex: Option<&'a str>,
    pub birth_year: Option<i32>,
    pub ethnicity: Option<&'a str>,
    pub education: Option<&'a str>,
    pub school_status: Option<&'a str>,
    pub health: Option<&'a str>,
    pub labour: Option<&'a str>,
    pub migrant_months: Option<i32>,
}

/// Which member field a problem is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemberField {
    Name,
    IdNumber,
    Relation,
    Sex,
    BirthYear,
    Ethnicity,
    Education,
    SchoolStatus,
    Health,
    Labour,
    MigrantMonths,
}

impl MemberField {
    /// The field's name in forms and JSON bodies.
    pub fn name(self) -> &'static str {
        match self {
            MemberField::Name => "name",
            MemberField::IdNumber => "id_number",
            MemberField::Relation => "relation",
            MemberField::Sex => "sex",
            MemberField::BirthYear => "birth_year",
            MemberField::Ethnicity => "ethnicity",
            MemberField::Education => "education",
            MemberField::SchoolStatus => "school_status",
            MemberField::Health => "health",
            MemberField::Labour => "labour",
            MemberField::MigrantMonths => "migrant_months",
        }
    }
}

/// The outcome of checking a member: the member when every field is right,
/// the identity number whenever it alone is right (to find duplicates), and
/// every problem.
#[derive(Debug, Default)]
pub struct CheckedMember {
    pub member: Option<MemberRow<NationalId>>,
    pub id: Option<NationalId>,
    pub problems: Vec<(MemberField, Msg)>,
}

/// The trimmed text, `None` when blank.
fn present(v: Option<&str>) -> Option<&str> {
    v.map(str::trim).filter(|s| !s.is_empty())
}

/// Every rule of a member: name 1-64 characters, a valid identity number, a
/// known relation, sex and birth year (read from the identity number when
/// absent, agreeing with it when given; born 1900 to this year), known health
/// and labour, migrant months 0-12, short free texts.
pub fn check_member<'a>(m: &MemberFields<'a>, today: NaiveDate) -> CheckedMember {
    let (member, id, problems) = check_member_with(m, today, true);
    CheckedMember {
        member: member.and_then(|r| {
            let id = r.id.clone()?;
            Some(r.with_id(id))
        }),
        id,
        problems,
    }
}

type Checked = (
    Option<MemberRow<Option<NationalId>>>,
    Option<NationalId>,
    Vec<(MemberField, Msg)>,
);

/// A member already registered, named in a file by the masked identity
/// number an export shows: every rule of [`check_member`] but the identity
/// number's; sex and birth year then come from their own cells (required).
/// The member's `id` is the last four characters given.
pub fn check_kept_member(
    m: &MemberFields<'_>,
    last4: &str,
    today: NaiveDate,
) -> (Option<MemberRow<String>>, Vec<(MemberField, Msg)>) {
    let (member, _, mut problems) = check_member_with(m, today, false);
    let sex = present(m.sex).and_then(Sex::parse);
    if present(m.sex).is_none() {
        problems.push((MemberField::Sex, required()));
    }
    if m.birth_year.is_none() {
        problems.push((MemberField::BirthYear, required()));
    }
    let row = match (member, sex, m.birth_year) {
        (Some(r), Some(sex), Some(birth_year)) if problems.is_empty() => Some(MemberRow {
            sex,
            birth_year,
            ..r.with_id(last4.to_owned())
        }),
        _ => None,
    };
    (row, problems)
}

/// The identity number required (`with_id`) or not looked at.
fn check_member_with<'a>(m: &MemberFields<'a>, today: NaiveDate, with_id: bool) -> Checked {
    use MemberField as F;
    let mut problems = Vec::new();
    let mut need = |field: F, v: Option<&'a str>| {
        let v = present(v);
        if v.is_none() {
            problems.push((field, required()));
        }
        v
    };
    let name = need(F::Name, m.name);
    let relation = need(F::Relation, m.relation);
    let id_number = if with_id {
        need(F::IdNumber, m.id_number)
    } else {
        None
    };
    let mut check = |field: F, r: Result<(), Msg>| {
        if let Err(msg) = r {
            problems.push((field, msg));
        }
    };
    let name = name.and_then(|n| {
        text(n, 64)
            .map(str::to_owned)
            .map_err(|e| check(F::Name, Err(e)))
            .ok()
    });
    let relation = relation.and_then(|r| {
        vocab(r, Relation::parse, Relation::expected)
            .map_err(|e| check(F::Relation, Err(e)))
            .ok()
    });
    let id = id_number.and_then(|s| {
        national_id(s, today)
            .map_err(|e| check(F::IdNumber, Err(e)))
            .ok()
    });
    let opt = present;
    let sex = opt(m.sex).and_then(|s| {
        vocab(s, Sex::parse, Sex::expected)
            .map_err(|e| check(F::Sex, Err(e)))
            .ok()
    });
    if let (Some(given), Some(id)) = (sex, &id)
        && given != id.sex()
    {
        check(
            F::Sex,
            Err(Msg::new("hh.err.sex_disagrees")
                .with("given", given.zh())
                .with("id", id.sex().zh())),
        );
    }
    if let Some(y) = m.birth_year {
        if !(1900..=today.year()).contains(&y) {
            check(
                F::BirthYear,
                Err(Msg::new("hh.err.birth_year_impossible").with("year", y)),
            );
        } else if let Some(id) = &id
            && y != id.birth_year()
        {
            check(
                F::BirthYear,
                Err(Msg::new("hh.err.birth_year_disagrees")
                    .with("given", y)
                    .with("id", id.birth_year())),
            );
        }
    }
    let mut short = |field: F, v: Option<&str>, max: usize| {
        let v = opt(v)?;
        text(v, max)
            .map(str::to_owned)
            .map_err(|e| check(field, Err(e)))
            .ok()
    };
    let ethnicity = short(F::Ethnicity, m.ethnicity, 32);
    let education = short(F::Education, m.education, 24);
    let school_status = short(F::SchoolStatus, m.school_status, 24);
    let health = opt(m.health).and_then(|s| {
        vocab(s, Health::parse, Health::expected)
            .map_err(|e| check(F::Health, Err(e)))
            .ok()
    });
    let labour = opt(m.labour).and_then(|s| {
        vocab(s, Labour::parse, Labour::expected)
            .map_err(|e| check(F::Labour, Err(e)))
            .ok()
    });
    let migrant_months = m.migrant_months.and_then(|n| {
        between(n, 0, 12)
            .map_err(|e| check(F::MigrantMonths, Err(e)))
            .ok()
    });
    let member = match (name, relation, &id) {
        (Some(name), Some(relation), id) if problems.is_empty() && (id.is_some() || !with_id) => {
            Some(MemberRow {
                row: 0,
                name,
                // Without an identity number the caller sets both.
                sex: id.as_ref().map_or(Sex::Female, NationalId::sex),
                birth_year: id.as_ref().map_or(0, NationalId::birth_year),
                ethnicity,
                relation,
                education,
                school_status,
                health,
                labour,
                migrant_months,
                id: id.clone(),
            })
        }
        _ => None,
    };
    (member, id, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 6, 1).unwrap()
    }

    fn id(year: u16) -> String {
        NationalId::synthetic(
            "530627",
            NaiveDate::from_ymd_opt(i32::from(year), 3, 4).unwrap(),
            11,
        )
        .unwrap()
        .expose()
        .to_owned()
    }

    #[test]
    fn a_kept_member_takes_sex_and_birth_year_from_her_cells() {
        let fields = MemberFields {
            name: Some("李秀英"),
            relation: Some("户主"),
            sex: Some("女"),
            birth_year: Some(1949),
            labour: Some("普通劳动力"),
            ..Default::default()
        };
        let (m, problems) = check_kept_member(&fields, "002X", today());
        assert!(problems.is_empty(), "{problems:?}");
        let m = m.unwrap();
        assert_eq!(
            (m.sex, m.birth_year, m.id.as_str()),
            (Sex::Female, 1949, "002X")
        );
        let (m, problems) = check_kept_member(
            &MemberFields {
                sex: None,
                ..fields
            },
            "002X",
            today(),
        );
        assert!(m.is_none());
        assert_eq!(problems[0].0, MemberField::Sex);
    }

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

    #[test]
    fn a_member_agrees_with_the_identity_number() {
        let number = id(1970);
        let ok = check_member(
            &MemberFields {
                name: Some("张三"),
                id_number: Some(&number),
                relation: Some("户主"),
                migrant_months: Some(6),
                ..Default::default()
            },
            today(),
        );
        let m = ok.member.expect("valid");
        assert_eq!((m.birth_year, m.relation), (1970, Relation::Head));

        let bad = check_member(
            &MemberFields {
                name: Some(" "),
                id_number: Some(&number),
                relation: Some("head"),
                sex: Some(if m.sex == Sex::Male { "女" } else { "男" }),
                birth_year: Some(1971),
                migrant_months: Some(13),
                ..Default::default()
            },
            today(),
        );
        assert!(bad.member.is_none() && bad.id.is_some());
        let fields: Vec<_> = bad.problems.iter().map(|(f, _)| *f).collect();
        assert_eq!(
            fields,
            [
                MemberField::Name,
                MemberField::Sex,
                MemberField::BirthYear,
                MemberField::MigrantMonths
            ]
        );
        let too_old = check_member(
            &MemberFields {
                birth_year: Some(1899),
                ..Default::default()
            },
            today(),
        );
        assert!(
            too_old
                .problems
                .iter()
                .any(|(f, m)| *f == MemberField::BirthYear
                    && m.english().starts_with("birth year 1899 is impossible"))
        );
    }
}
