//! The registry's HTML forms and their conversion into the inputs of
//! `households::store` (`TryFrom`): whole numbers, years and ids parsed, yuan
//! read as fen, each bad field reported with the registry's own message.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::households::messages::{Msg, Problems};
use crate::households::rules::{self, Fen};
use crate::households::store::{
    FollowUpInput, HouseholdPatch, IncomeInput, MemberInput, NewHousehold,
};
use crate::households::vocab::{HouseholdKind, HouseholdStatus};

/// The trimmed value, `None` when blank.
fn opt(s: &Option<String>) -> Option<String> {
    rules::clean(s.as_deref())
}

/// Parses a non-blank field, recording its problem.
fn parse<T>(
    p: &mut Problems,
    field: &str,
    s: &Option<String>,
    f: impl FnOnce(&str) -> Result<T, Msg>,
) -> Option<T> {
    let s = opt(s)?;
    f(&s).map_err(|m| p.insert(field.into(), m)).ok()
}

fn whole(p: &mut Problems, field: &str, s: &Option<String>) -> Option<i32> {
    parse(p, field, s, rules::whole)
}

fn fen(p: &mut Problems, field: &str, s: &Option<String>) -> Option<i64> {
    parse(p, field, s, |s| Fen::parse_yuan(s).map(|f| f.0))
}

/// `Ok` when nothing was wrong.
fn done<T>(p: Problems, v: T) -> Result<T, Problems> {
    if p.is_empty() { Ok(v) } else { Err(p) }
}

/// The household form; `head_*` fields only when creating.
#[derive(Debug, Default, Deserialize)]
pub struct HouseholdForm {
    registry_no: Option<String>,
    area_code: Option<String>,
    village_group: Option<String>,
    kind: Option<String>,
    status: Option<String>,
    monitor_type: Option<String>,
    identified_year: Option<String>,
    exited_year: Option<String>,
    phone: Option<String>,
    address: Option<String>,
    primary_cause: Option<String>,
    other_cause_1: Option<String>,
    other_cause_2: Option<String>,
    head_name: Option<String>,
    head_id_number: Option<String>,
    head_ethnicity: Option<String>,
    head_education: Option<String>,
    head_health: Option<String>,
    head_labour: Option<String>,
}

impl HouseholdForm {
    /// A new household's form: the official's village, the usual kind and status.
    pub(super) fn blank(area_code: String) -> HouseholdForm {
        HouseholdForm {
            area_code: Some(area_code),
            kind: Some(HouseholdKind::OrdinaryPoor.code().into()),
            status: Some(HouseholdStatus::Registered.code().into()),
            ..Default::default()
        }
    }

    fn others(&self) -> Vec<String> {
        [opt(&self.other_cause_1), opt(&self.other_cause_2)]
            .into_iter()
            .flatten()
            .collect()
    }

    /// What the form shows again: never the identity number.
    pub(super) fn values(&self) -> Value {
        json!({
            "registry_no": self.registry_no, "area_code": self.area_code,
            "village_group": self.village_group, "kind": self.kind, "status": self.status,
            "monitor_type": self.monitor_type, "identified_year": self.identified_year,
            "exited_year": self.exited_year, "phone": self.phone, "address": self.address,
            "primary_cause": self.primary_cause, "other_cause_1": self.other_cause_1,
            "other_cause_2": self.other_cause_2, "head_name": self.head_name,
            "head_ethnicity": self.head_ethnicity, "head_education": self.head_education,
            "head_health": self.head_health, "head_labour": self.head_labour,
        })
    }
}

impl TryFrom<&HouseholdForm> for NewHousehold {
    type Error = Problems;

    fn try_from(f: &HouseholdForm) -> Result<NewHousehold, Problems> {
        let mut p = Problems::new();
        let new = NewHousehold {
            registry_no: f.registry_no.clone().unwrap_or_default(),
            area_code: f.area_code.clone().unwrap_or_default(),
            village_group: opt(&f.village_group),
            kind: opt(&f.kind),
            status: opt(&f.status),
            monitor_type: opt(&f.monitor_type),
            identified_year: whole(&mut p, "identified_year", &f.identified_year),
            exited_year: whole(&mut p, "exited_year", &f.exited_year),
            phone: opt(&f.phone),
            address: opt(&f.address),
            primary_cause: opt(&f.primary_cause),
            other_causes: f.others(),
            members: vec![MemberInput {
                name: f.head_name.clone().unwrap_or_default(),
                id_number: f.head_id_number.clone().unwrap_or_default(),
                relation: "head".into(),
                ethnicity: opt(&f.head_ethnicity),
                education: opt(&f.head_education),
                health: opt(&f.head_health),
                labour: opt(&f.head_labour),
                ..Default::default()
            }],
        };
        done(p, new)
    }
}

impl TryFrom<&HouseholdForm> for HouseholdPatch {
    type Error = Problems;

    /// A form sends every field: blank clears it.
    fn try_from(f: &HouseholdForm) -> Result<HouseholdPatch, Problems> {
        let mut p = Problems::new();
        let patch = HouseholdPatch {
            registry_no: f.registry_no.clone(),
            area_code: f.area_code.clone(),
            village_group: Some(opt(&f.village_group)),
            kind: opt(&f.kind),
            status: opt(&f.status),
            monitor_type: Some(opt(&f.monitor_type)),
            identified_year: Some(whole(&mut p, "identified_year", &f.identified_year)),
            exited_year: Some(whole(&mut p, "exited_year", &f.exited_year)),
            phone: Some(opt(&f.phone)),
            address: Some(opt(&f.address)),
            primary_cause: Some(opt(&f.primary_cause)),
            other_causes: Some(f.others()),
        };
        done(p, patch)
    }
}

#[derive(Deserialize)]
pub struct MemberForm {
    name: Option<String>,
    id_number: Option<String>,
    relation: Option<String>,
    ethnicity: Option<String>,
    education: Option<String>,
    school_status: Option<String>,
    health: Option<String>,
    labour: Option<String>,
    migrant_months: Option<String>,
}

impl TryFrom<MemberForm> for MemberInput {
    type Error = Problems;

    fn try_from(f: MemberForm) -> Result<MemberInput, Problems> {
        let mut p = Problems::new();
        let m = MemberInput {
            migrant_months: whole(&mut p, "migrant_months", &f.migrant_months),
            ethnicity: opt(&f.ethnicity),
            education: opt(&f.education),
            school_status: opt(&f.school_status),
            health: opt(&f.health),
            labour: opt(&f.labour),
            name: f.name.unwrap_or_default(),
            id_number: f.id_number.unwrap_or_default(),
            relation: f.relation.unwrap_or_default(),
            ..Default::default()
        };
        done(p, m)
    }
}

/// A year's income in yuan as typed.
#[derive(Deserialize)]
pub struct IncomeForm {
    year: Option<String>,
    wage: Option<String>,
    business: Option<String>,
    transfer: Option<String>,
    property: Option<String>,
    costs: Option<String>,
    net_per_capita: Option<String>,
    verified: Option<String>,
}

impl TryFrom<IncomeForm> for IncomeInput {
    type Error = Problems;

    fn try_from(f: IncomeForm) -> Result<IncomeInput, Problems> {
        let mut p = Problems::new();
        let i = IncomeInput {
            year: whole(&mut p, "year", &f.year).unwrap_or(0),
            wage_fen: fen(&mut p, "wage", &f.wage).unwrap_or(0),
            business_fen: fen(&mut p, "business", &f.business).unwrap_or(0),
            transfer_fen: fen(&mut p, "transfer", &f.transfer).unwrap_or(0),
            property_fen: fen(&mut p, "property", &f.property).unwrap_or(0),
            costs_fen: fen(&mut p, "costs", &f.costs).unwrap_or(0),
            net_per_capita_fen: fen(&mut p, "net_per_capita", &f.net_per_capita),
            verified: f.verified.is_some(),
        };
        done(p, i)
    }
}

#[derive(Deserialize)]
pub struct FollowUpForm {
    member_id: Option<String>,
    surveyed_at: Option<String>,
    months_after: Option<String>,
    shop_active: Option<String>,
    orders_30d: Option<String>,
    sales_30d: Option<String>,
    work_status: Option<String>,
    notes: Option<String>,
}

impl TryFrom<FollowUpForm> for FollowUpInput {
    type Error = Problems;

    fn try_from(f: FollowUpForm) -> Result<FollowUpInput, Problems> {
        let mut p = Problems::new();
        // The page's form asks for a member or, explicitly, the whole
        // household ("household"); left on "choose" (blank) it is refused. A
        // form without the field is about the whole household, as the API.
        let member_id = match f.member_id.as_deref().map(str::trim) {
            Some("household") | None => None,
            Some("") => {
                p.insert("member_id".into(), Msg::new("hh.err.required"));
                None
            }
            Some(_) => parse(&mut p, "member_id", &f.member_id, |s| {
                s.parse::<i64>()
                    .map_err(|_| Msg::new("hh.err.not_whole").with("value", s))
            }),
        };
        let input = FollowUpInput {
            member_id,
            surveyed_at: opt(&f.surveyed_at),
            months_after: whole(&mut p, "months_after", &f.months_after).unwrap_or(0),
            shop_active: match opt(&f.shop_active).as_deref() {
                Some("yes") => Some(true),
                Some("no") => Some(false),
                _ => None,
            },
            orders_30d: whole(&mut p, "orders_30d", &f.orders_30d),
            sales_30d_fen: fen(&mut p, "sales_30d", &f.sales_30d),
            work_status: opt(&f.work_status),
            notes: opt(&f.notes),
        };
        done(p, input)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_income_form_is_read_in_fen() {
        let f = IncomeForm {
            year: Some("2024".into()),
            wage: Some("1200.50".into()),
            business: None,
            transfer: Some(" ".into()),
            property: None,
            costs: Some("3".into()),
            net_per_capita: None,
            verified: Some("on".into()),
        };
        let i = IncomeInput::try_from(f).unwrap();
        assert_eq!((i.year, i.wage_fen, i.costs_fen), (2024, 120_050, 300));
        assert_eq!(i.net_per_capita_fen, None);
        assert!(i.verified);
    }

    #[test]
    fn bad_numbers_are_reported_by_field() {
        let f = FollowUpForm {
            member_id: Some("x".into()),
            surveyed_at: None,
            months_after: Some("six".into()),
            shop_active: Some("yes".into()),
            orders_30d: None,
            sales_30d: Some("1.234".into()),
            work_status: None,
            notes: None,
        };
        let p = FollowUpInput::try_from(f).unwrap_err();
        assert_eq!(
            p.keys().collect::<Vec<_>>(),
            ["member_id", "months_after", "sales_30d"]
        );
        assert_eq!(p["months_after"].english(), "six is not a whole number");
    }
}
