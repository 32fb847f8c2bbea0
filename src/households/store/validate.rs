//! A form's or a JSON body's household and members, checked with the rules of
//! `households::rules` into values ready to store; every problem keyed by its
//! field (`members[0].id_number` for a member of a new household).

use chrono::{Datelike, Utc};

use super::inputs::MemberInput;
use crate::households::idcard::IdHasher;
use crate::households::import::MemberRow;
use crate::households::messages::{Msg, Problems};
use crate::households::rules::{self, MemberFields};
use crate::households::vocab::{Cause, HouseholdKind, HouseholdStatus, MonitorType};

pub(super) fn this_year() -> i32 {
    Utc::now().year()
}

fn max_len(p: &mut Problems, field: &str, v: &Option<String>, max: usize) {
    if let Some(v) = v
        && let Err(m) = rules::text(v, max)
    {
        p.insert(field.into(), m);
    }
}

/// A vocabulary value by code or Chinese label; `None` when blank.
fn vocab<T>(
    p: &mut Problems,
    field: &str,
    v: Option<&str>,
    parse: fn(&str) -> Option<T>,
    expected: fn() -> String,
) -> Option<T> {
    let v = v.map(str::trim).filter(|s| !s.is_empty())?;
    rules::vocab(v, parse, expected)
        .map_err(|m| p.insert(field.into(), m))
        .ok()
}

/// The household's own fields as given (after `clean` of free texts).
pub(super) struct FieldsInput<'a> {
    pub registry_no: &'a str,
    pub area_code: &'a str,
    pub village_group: Option<String>,
    pub kind: Option<&'a str>,
    pub status: Option<&'a str>,
    pub monitor_type: Option<&'a str>,
    pub identified_year: Option<i32>,
    pub exited_year: Option<i32>,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub primary: Option<&'a str>,
    pub others: &'a [String],
}

/// The household's fields after validation, ready to store.
pub(super) struct Fields {
    pub registry_no: String,
    pub area_code: String,
    pub village_group: Option<String>,
    pub kind: HouseholdKind,
    pub status: HouseholdStatus,
    pub monitor_type: Option<MonitorType>,
    pub identified_year: Option<i32>,
    pub exited_year: Option<i32>,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub primary: Option<Cause>,
    pub others: Vec<Cause>,
}

/// Every rule of the household's own fields.
pub(super) fn fields(p: &mut Problems, f: FieldsInput<'_>) -> Option<Fields> {
    let registry_no = f.registry_no.trim().to_owned();
    if registry_no.is_empty() || registry_no.chars().count() > 32 {
        p.insert("registry_no".into(), Msg::new("hh.err.registry_no"));
    }
    max_len(p, "village_group", &f.village_group, 16);
    max_len(p, "address", &f.address, 200);
    if let Some(ph) = &f.phone
        && let Err(m) = rules::phone(ph)
    {
        p.insert("phone".into(), m);
    }
    let kind = if f.kind.map(str::trim).is_none_or(str::is_empty) {
        Some(HouseholdKind::OrdinaryPoor)
    } else {
        vocab(
            p,
            "kind",
            f.kind,
            HouseholdKind::parse,
            HouseholdKind::expected,
        )
    };
    let status = if f.status.map(str::trim).is_none_or(str::is_empty) {
        Some(HouseholdStatus::Registered)
    } else {
        vocab(
            p,
            "status",
            f.status,
            HouseholdStatus::parse,
            HouseholdStatus::expected,
        )
    };
    let monitor_type = vocab(
        p,
        "monitor_type",
        f.monitor_type,
        MonitorType::parse,
        MonitorType::expected,
    );
    if status == Some(HouseholdStatus::Monitored) && monitor_type.is_none() {
        p.entry("monitor_type".into())
            .or_insert_with(rules::monitor_type_missing);
    }
    let year = this_year();
    for (field, y) in [
        ("identified_year", f.identified_year),
        ("exited_year", f.exited_year),
    ] {
        if let Some(y) = y
            && let Err(m) = rules::registry_year(y, year)
        {
            p.insert(field.into(), m);
        }
    }
    if let Err(m) = rules::exit_after_identified(f.identified_year, f.exited_year) {
        p.insert("exited_year".into(), m);
    }
    let primary = match f.primary.map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(c) => rules::cause(c)
            .map_err(|m| p.insert("primary_cause".into(), m))
            .ok(),
    };
    if primary.is_none() && kind != Some(HouseholdKind::NotPoor) {
        p.entry("primary_cause".into())
            .or_insert_with(rules::primary_cause_missing);
    }
    let (others, problems) = rules::other_causes(primary, f.others.iter().map(String::as_str));
    if let Some(m) = problems.into_iter().last() {
        p.insert("other_causes".into(), m);
    }
    Some(Fields {
        registry_no,
        area_code: f.area_code.trim().to_owned(),
        village_group: f.village_group,
        kind: kind?,
        status: status?,
        monitor_type,
        identified_year: f.identified_year,
        exited_year: f.exited_year,
        phone: f.phone,
        address: f.address,
        primary,
        others,
    })
}

/// A member by the rules of `rules::check_member`, the identity number reduced
/// to its HMAC and last four characters. Problems are keyed `{prefix}{field}`.
pub(super) fn member(
    p: &mut Problems,
    prefix: &str,
    m: &MemberInput,
    hasher: &IdHasher,
) -> Option<MemberRow> {
    let checked = rules::check_member(
        &MemberFields {
            name: Some(&m.name),
            id_number: Some(&m.id_number),
            relation: Some(&m.relation),
            sex: m.sex.as_deref(),
            birth_year: m.birth_year,
            ethnicity: m.ethnicity.as_deref(),
            education: m.education.as_deref(),
            school_status: m.school_status.as_deref(),
            health: m.health.as_deref(),
            labour: m.labour.as_deref(),
            migrant_months: m.migrant_months,
        },
        chrono::Local::now().date_naive(),
    );
    for (field, msg) in checked.problems {
        p.insert(format!("{prefix}{}", field.name()), msg);
    }
    checked.member.map(|row| row.hashed(hasher))
}
