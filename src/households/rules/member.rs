//! The rules of a household member: every field of the form, the JSON body
//! or the spreadsheet row, checked together and against the identity number.

use chrono::{Datelike, NaiveDate};

use super::{between, national_id, required, text, vocab};
use crate::households::idcard::NationalId;
use crate::households::import::MemberRow;
use crate::households::messages::Msg;
use crate::households::vocab::{Health, Labour, Relation, Sex};

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
