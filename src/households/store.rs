//! The household registry in the database: create, read, update and delete a
//! household with its members and poverty causes, incomes per year, follow-up
//! surveys, and the scoped, filtered list.
//!
//! Every write is checked against the actor's area and leaves a change event
//! whose snapshots carry an identity number only as its last four characters.
//! Health (sensitive) never enters a snapshot; reading it is logged as
//! `read_sensitive`. Bulk import and export are in `bulk`.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{NaiveDate, Utc};
use sea_orm::sea_query::{Expr, Query, SelectStatement};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, TryIntoModel,
};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Value, json};

use super::idcard::{IdHasher, NationalId};
use super::vocab::{
    Cause, Health, HouseholdKind, HouseholdStatus, Labour, MonitorType, Relation, Sex,
};
use crate::areas::AreaCode;
use crate::audit::{self, Action as Audit, Entry};
use crate::entities::{
    app_user, area, change_event, enrollment, follow_up, household, household_cause, income_record,
    member,
};
use crate::error::{AppError, AppResult};
use crate::policy::{Action, Actor};

pub const ENTITY: &str = "household";

// ---- inputs -------------------------------------------------------------------

/// A member as a form or JSON body gives it. Sex and birth year are read from
/// the identity number when absent, and must agree with it when given.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct MemberInput {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub id_number: String,
    #[serde(default)]
    pub relation: String,
    pub sex: Option<String>,
    pub birth_year: Option<i32>,
    pub ethnicity: Option<String>,
    pub education: Option<String>,
    pub school_status: Option<String>,
    pub health: Option<String>,
    pub labour: Option<String>,
    pub migrant_months: Option<i32>,
}

/// A new household with its members and causes.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewHousehold {
    #[serde(default)]
    pub registry_no: String,
    #[serde(default)]
    pub area_code: String,
    pub village_group: Option<String>,
    pub kind: Option<String>,
    pub status: Option<String>,
    pub monitor_type: Option<String>,
    pub identified_year: Option<i32>,
    pub exited_year: Option<i32>,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub primary_cause: Option<String>,
    #[serde(default)]
    pub other_causes: Vec<String>,
    #[serde(default)]
    pub members: Vec<MemberInput>,
}

/// Absent: unchanged; `null` (or an empty string): cleared.
fn double<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// A change to a household's own fields and causes (members have their own calls).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct HouseholdPatch {
    pub registry_no: Option<String>,
    pub area_code: Option<String>,
    #[serde(default, deserialize_with = "double")]
    pub village_group: Option<Option<String>>,
    pub kind: Option<String>,
    pub status: Option<String>,
    #[serde(default, deserialize_with = "double")]
    pub monitor_type: Option<Option<String>>,
    #[serde(default, deserialize_with = "double")]
    pub identified_year: Option<Option<i32>>,
    #[serde(default, deserialize_with = "double")]
    pub exited_year: Option<Option<i32>>,
    #[serde(default, deserialize_with = "double")]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "double")]
    pub address: Option<Option<String>>,
    #[serde(default, deserialize_with = "double")]
    pub primary_cause: Option<Option<String>>,
    pub other_causes: Option<Vec<String>>,
}

/// One year's income of a household, in fen. `net_per_capita_fen` is computed
/// from the parts and the member count when absent.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct IncomeInput {
    pub year: i32,
    #[serde(default)]
    pub wage_fen: i64,
    #[serde(default)]
    pub business_fen: i64,
    #[serde(default)]
    pub transfer_fen: i64,
    #[serde(default)]
    pub property_fen: i64,
    #[serde(default)]
    pub costs_fen: i64,
    pub net_per_capita_fen: Option<i64>,
    #[serde(default)]
    pub verified: bool,
}

/// A follow-up survey after training (3, 6 or 12 months).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct FollowUpInput {
    pub member_id: Option<i64>,
    /// A date (`2026-05-01`) or an RFC 3339 time; now when absent.
    pub surveyed_at: Option<String>,
    pub months_after: i32,
    pub shop_active: Option<bool>,
    pub orders_30d: Option<i32>,
    pub sales_30d_fen: Option<i64>,
    pub work_status: Option<String>,
    pub notes: Option<String>,
}

// ---- outputs ------------------------------------------------------------------

/// A member as shown. `health` only when the caller asked for and may see it.
#[derive(Debug, Clone, Serialize)]
pub struct MemberView {
    pub id: i64,
    pub name: String,
    pub sex: String,
    pub birth_year: i32,
    pub ethnicity: Option<String>,
    pub relation: String,
    pub education: Option<String>,
    pub school_status: Option<String>,
    pub labour: Option<String>,
    pub migrant_months: Option<i32>,
    pub id_last4: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health: Option<String>,
    /// The learner account linked to this member, if any.
    pub learner: Option<LinkedLearner>,
    /// The linked learner completed a course.
    pub trained: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct LinkedLearner {
    pub id: i64,
    pub login: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Detail {
    pub household: household::Model,
    pub area_name: Option<String>,
    pub primary_cause: Option<String>,
    pub other_causes: Vec<String>,
    pub members: Vec<MemberView>,
    pub incomes: Vec<income_record::Model>,
    pub follow_ups: Vec<follow_up::Model>,
    /// Whether `members[].health` is filled.
    pub sensitive: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub id: i64,
    pub registry_no: String,
    pub area_code: String,
    pub area_name: Option<String>,
    pub kind: String,
    pub status: String,
    pub primary_cause: Option<String>,
    pub head: Option<String>,
    pub members: usize,
    pub trained: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ListQuery {
    pub area: Option<String>,
    pub status: Option<String>,
    pub cause: Option<String>,
    /// `1`/`true`: with a member who completed a course; `0`/`false`: without.
    pub trained: Option<String>,
    /// Registry number prefix or a member's name.
    pub q: Option<String>,
    pub page: Option<u64>,
    pub per_page: Option<u64>,
}

impl ListQuery {
    pub fn page_params(&self) -> (u64, u64) {
        (
            self.page.unwrap_or(1).max(1),
            self.per_page.unwrap_or(50).clamp(1, 200),
        )
    }
}

// ---- small helpers --------------------------------------------------------------

fn clean(s: Option<&str>) -> Option<String> {
    s.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn max_len(errs: &mut BTreeMap<String, String>, field: &str, v: &Option<String>, max: usize) {
    if let Some(v) = v
        && v.chars().count() > max
    {
        errs.insert(field.into(), format!("at most {max} characters"));
    }
}

/// A vocabulary value by code or Chinese label, as its stored code.
fn vocab<T: Copy>(
    errs: &mut BTreeMap<String, String>,
    field: &str,
    v: Option<&str>,
    parse: fn(&str) -> Option<T>,
    expected: fn() -> String,
) -> Option<T> {
    let v = v.map(str::trim).filter(|s| !s.is_empty())?;
    match parse(v) {
        Some(t) => Some(t),
        None => {
            errs.insert(
                field.into(),
                format!(
                    "unknown value {v}; use one of {expected}",
                    expected = expected()
                ),
            );
            None
        }
    }
}

fn this_year() -> i32 {
    use chrono::Datelike;
    Utc::now().year()
}

pub(crate) fn hasher(key: &[u8]) -> IdHasher {
    IdHasher::new(key)
}

/// `area` is an existing village inside the actor's area: 404 outside it (as
/// if it did not exist), 422 when it is not a village.
async fn check_village(
    db: &impl ConnectionTrait,
    actor: &Actor,
    code: &str,
    errs: &mut BTreeMap<String, String>,
) -> AppResult<()> {
    let code = code.trim();
    match AreaCode::parse(code) {
        Err(e) => {
            errs.insert("area_code".into(), e);
        }
        Ok(a) => {
            actor.require_in(Action::EditHouseholds, Some(a.as_str()))?;
            let found = area::Entity::find()
                .filter(area::Column::Code.eq(a.as_str()))
                .one(db)
                .await?;
            if found.is_none_or(|f| f.level != "village") {
                errs.insert(
                    "area_code".into(),
                    format!("{code} is not a known village code"),
                );
            }
        }
    }
    Ok(())
}

/// The household's fields after validation, ready to store.
struct Fields {
    registry_no: String,
    area_code: String,
    village_group: Option<String>,
    kind: HouseholdKind,
    status: HouseholdStatus,
    monitor_type: Option<MonitorType>,
    identified_year: Option<i32>,
    exited_year: Option<i32>,
    phone: Option<String>,
    address: Option<String>,
    primary: Option<Cause>,
    others: Vec<Cause>,
}

/// Every rule of the household's own fields; errors keyed by field.
#[allow(clippy::too_many_arguments)]
fn validate_fields(
    errs: &mut BTreeMap<String, String>,
    registry_no: &str,
    area_code: &str,
    village_group: Option<String>,
    kind: Option<&str>,
    status: Option<&str>,
    monitor_type: Option<&str>,
    identified_year: Option<i32>,
    exited_year: Option<i32>,
    phone: Option<String>,
    address: Option<String>,
    primary: Option<&str>,
    others: &[String],
) -> Option<Fields> {
    let registry_no = registry_no.trim().to_owned();
    if registry_no.is_empty() || registry_no.chars().count() > 32 {
        errs.insert("registry_no".into(), "must be 1 to 32 characters".into());
    }
    max_len(errs, "village_group", &village_group, 16);
    max_len(errs, "address", &address, 200);
    if let Some(p) = &phone {
        let digits = p.bytes().filter(u8::is_ascii_digit).count();
        let ok = p
            .char_indices()
            .all(|(i, c)| c.is_ascii_digit() || c == ' ' || c == '-' || (c == '+' && i == 0));
        if !ok || !(5..=20).contains(&digits) {
            errs.insert("phone".into(), format!("{p} is not a phone number"));
        }
    }
    let kind = if kind.map(str::trim).is_none_or(str::is_empty) {
        Some(HouseholdKind::OrdinaryPoor)
    } else {
        vocab(
            errs,
            "kind",
            kind,
            HouseholdKind::parse,
            HouseholdKind::expected,
        )
    };
    let status = if status.map(str::trim).is_none_or(str::is_empty) {
        Some(HouseholdStatus::Registered)
    } else {
        vocab(
            errs,
            "status",
            status,
            HouseholdStatus::parse,
            HouseholdStatus::expected,
        )
    };
    let monitor_type = vocab(
        errs,
        "monitor_type",
        monitor_type,
        MonitorType::parse,
        MonitorType::expected,
    );
    if status == Some(HouseholdStatus::Monitored) && monitor_type.is_none() {
        errs.entry("monitor_type".into())
            .or_insert_with(|| "required when the household is monitored (监测户)".into());
    }
    let year = this_year();
    for (field, y) in [
        ("identified_year", identified_year),
        ("exited_year", exited_year),
    ] {
        if let Some(y) = y
            && !(1980..=year).contains(&y)
        {
            errs.insert(
                field.into(),
                format!("year {y} is not between 1980 and {year}"),
            );
        }
    }
    if let (Some(i), Some(e)) = (identified_year, exited_year)
        && e < i
    {
        errs.insert(
            "exited_year".into(),
            format!("exit year {e} is before the identification year {i}"),
        );
    }
    let primary = match primary.map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(p) => match Cause::parse(p) {
            Some(c) => Some(c),
            None => {
                errs.insert(
                    "primary_cause".into(),
                    format!("unknown poverty cause {p}; use a code 01-11 or 99"),
                );
                None
            }
        },
    };
    if primary.is_none() && kind != Some(HouseholdKind::NotPoor) {
        errs.entry("primary_cause".into())
            .or_insert_with(|| "exactly one primary poverty cause is required".into());
    }
    let mut other = Vec::new();
    for o in others.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        match Cause::parse(o) {
            None => {
                errs.insert(
                    "other_causes".into(),
                    format!("unknown poverty cause {o}; use a code 01-11 or 99"),
                );
            }
            Some(c) if Some(c) == primary || other.contains(&c) => {
                errs.insert(
                    "other_causes".into(),
                    format!("cause {} is listed twice", c.zh),
                );
            }
            Some(c) => other.push(c),
        }
    }
    if other.len() > 2 {
        errs.insert(
            "other_causes".into(),
            format!("at most two other causes, found {}", other.len()),
        );
    }
    Some(Fields {
        registry_no,
        area_code: area_code.trim().to_owned(),
        village_group,
        kind: kind?,
        status: status?,
        monitor_type,
        identified_year,
        exited_year,
        phone,
        address,
        primary,
        others: other,
    })
}

/// A member after validation: the identity number reduced to HMAC and last four.
struct ValidMember {
    name: String,
    sex: Sex,
    birth_year: i32,
    ethnicity: Option<String>,
    relation: Relation,
    education: Option<String>,
    school_status: Option<String>,
    health: Option<Health>,
    labour: Option<Labour>,
    migrant_months: Option<i32>,
    hmac: String,
    last4: String,
}

fn validate_member(
    errs: &mut BTreeMap<String, String>,
    prefix: &str,
    m: &MemberInput,
    hasher: &IdHasher,
) -> Option<ValidMember> {
    let f = |name: &str| format!("{prefix}{name}");
    let before = errs.len();
    let name = m.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 64 {
        errs.insert(f("name"), "must be 1 to 64 characters".into());
    }
    let id = match NationalId::parse(&m.id_number) {
        Ok(id) => Some(id),
        Err(e) => {
            errs.insert(f("id_number"), format!("not a valid ID number: {e}"));
            None
        }
    };
    let relation = if m.relation.trim().is_empty() {
        errs.insert(f("relation"), "required".into());
        None
    } else {
        vocab(
            errs,
            &f("relation"),
            Some(m.relation.as_str()),
            Relation::parse,
            Relation::expected,
        )
    };
    let sex = vocab(errs, &f("sex"), m.sex.as_deref(), Sex::parse, Sex::expected);
    let health = vocab(
        errs,
        &f("health"),
        m.health.as_deref(),
        Health::parse,
        Health::expected,
    );
    let labour = vocab(
        errs,
        &f("labour"),
        m.labour.as_deref(),
        Labour::parse,
        Labour::expected,
    );
    if let Some(mm) = m.migrant_months
        && !(0..=12).contains(&mm)
    {
        errs.insert(f("migrant_months"), "must be between 0 and 12".into());
    }
    let ethnicity = clean(m.ethnicity.as_deref());
    let education = clean(m.education.as_deref());
    let school_status = clean(m.school_status.as_deref());
    max_len(errs, &f("ethnicity"), &ethnicity, 32);
    max_len(errs, &f("education"), &education, 24);
    max_len(errs, &f("school_status"), &school_status, 24);
    let id = id?;
    if let Some(s) = sex
        && s != id.sex()
    {
        errs.insert(f("sex"), "does not agree with the ID number".into());
    }
    if let Some(y) = m.birth_year
        && y != id.birth_year()
    {
        errs.insert(f("birth_year"), "does not agree with the ID number".into());
    }
    if errs.len() > before {
        return None;
    }
    Some(ValidMember {
        name,
        sex: id.sex(),
        birth_year: id.birth_year(),
        ethnicity,
        relation: relation?,
        education,
        school_status,
        health,
        labour,
        migrant_months: m.migrant_months,
        hmac: hasher.hex(&id),
        last4: id.last4(),
    })
}

/// Refuses identity numbers already registered: naming the household when it
/// is inside the actor's area, a plain "already registered" otherwise.
async fn check_ids_free(
    db: &impl ConnectionTrait,
    actor: &Actor,
    members: &[(String, &ValidMember)],
) -> AppResult<()> {
    if members.is_empty() {
        return Ok(());
    }
    let hmacs: Vec<String> = members.iter().map(|(_, m)| m.hmac.clone()).collect();
    let found = member::Entity::find()
        .filter(member::Column::IdHmac.is_in(hmacs))
        .all(db)
        .await?;
    let Some(existing) = found.first() else {
        return Ok(());
    };
    let last4 = existing.id_last4.clone().unwrap_or_default();
    let message = if actor.in_scope(Some(&existing.area_code)) {
        let no = household::Entity::find_by_id(existing.household_id)
            .one(db)
            .await?
            .map(|h| h.registry_no)
            .unwrap_or_default();
        format!("ID number ending {last4} is already registered in household {no}")
    } else {
        format!("ID number ending {last4} is already registered")
    };
    Err(AppError::Conflict(message))
}

/// Refuses a registry number in use by another household.
async fn check_registry_free(
    db: &impl ConnectionTrait,
    actor: &Actor,
    registry_no: &str,
    except: Option<i64>,
) -> AppResult<()> {
    let mut q = household::Entity::find().filter(household::Column::RegistryNo.eq(registry_no));
    if let Some(id) = except {
        q = q.filter(household::Column::Id.ne(id));
    }
    if let Some(h) = q.one(db).await? {
        return Err(AppError::Conflict(if actor.in_scope(Some(&h.area_code)) {
            format!(
                "registry number {registry_no} is already used by household {}",
                h.id
            )
        } else {
            format!("registry number {registry_no} is already registered")
        }));
    }
    Ok(())
}

fn member_model(household_id: i64, area_code: &str, m: &ValidMember) -> member::ActiveModel {
    member::ActiveModel {
        household_id: Set(household_id),
        area_code: Set(area_code.to_owned()),
        name: Set(m.name.clone()),
        sex: Set(m.sex.code().to_owned()),
        birth_year: Set(m.birth_year),
        ethnicity: Set(m.ethnicity.clone()),
        relation: Set(m.relation.code().to_owned()),
        education: Set(m.education.clone()),
        school_status: Set(m.school_status.clone()),
        health: Set(m.health.map(|h| h.code().to_owned())),
        labour: Set(m.labour.map(|l| l.code().to_owned())),
        migrant_months: Set(m.migrant_months),
        id_hmac: Set(Some(m.hmac.clone())),
        id_last4: Set(Some(m.last4.clone())),
        ..Default::default()
    }
}

async fn replace_causes(
    db: &impl ConnectionTrait,
    household_id: i64,
    primary: Option<Cause>,
    others: &[Cause],
) -> AppResult<()> {
    household_cause::Entity::delete_many()
        .filter(household_cause::Column::HouseholdId.eq(household_id))
        .exec(db)
        .await?;
    let now = Utc::now();
    let rows: Vec<household_cause::ActiveModel> = primary
        .iter()
        .map(|c| (c, true))
        .chain(others.iter().map(|c| (c, false)))
        .map(|(c, p)| household_cause::ActiveModel {
            household_id: Set(household_id),
            cause: Set(c.code.to_owned()),
            is_primary: Set(p),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        })
        .collect();
    if !rows.is_empty() {
        household_cause::Entity::insert_many(rows)
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

// ---- snapshots ------------------------------------------------------------------

/// The household as the audit log keeps it: identity numbers as last four
/// characters only, no health.
pub async fn snapshot(db: &impl ConnectionTrait, h: &household::Model) -> AppResult<Value> {
    let causes = household_cause::Entity::find()
        .filter(household_cause::Column::HouseholdId.eq(h.id))
        .order_by_desc(household_cause::Column::IsPrimary)
        .order_by_asc(household_cause::Column::Cause)
        .all(db)
        .await?;
    let members = members_of(db, h.id).await?;
    Ok(snapshot_of(h, &causes, &members))
}

pub fn snapshot_of(
    h: &household::Model,
    causes: &[household_cause::Model],
    members: &[member::Model],
) -> Value {
    json!({
        "id": h.id,
        "registry_no": h.registry_no,
        "area_code": h.area_code,
        "village_group": h.village_group,
        "kind": h.kind,
        "status": h.status,
        "monitor_type": h.monitor_type,
        "identified_year": h.identified_year,
        "exited_year": h.exited_year,
        "phone": h.phone,
        "address": h.address,
        "primary_cause": causes.iter().find(|c| c.is_primary).map(|c| &c.cause),
        "other_causes": causes.iter().filter(|c| !c.is_primary).map(|c| &c.cause).collect::<Vec<_>>(),
        "members": members.iter().map(|m| json!({
            "id": m.id, "name": m.name, "sex": m.sex, "birth_year": m.birth_year,
            "relation": m.relation, "ethnicity": m.ethnicity, "education": m.education,
            "school_status": m.school_status, "labour": m.labour,
            "migrant_months": m.migrant_months, "id_last4": m.id_last4,
        })).collect::<Vec<_>>(),
    })
}

async fn members_of(db: &impl ConnectionTrait, household_id: i64) -> AppResult<Vec<member::Model>> {
    Ok(member::Entity::find()
        .filter(member::Column::HouseholdId.eq(household_id))
        .order_by_asc(member::Column::Id)
        .all(db)
        .await?)
}

async fn log(
    db: &impl ConnectionTrait,
    actor: &Actor,
    action: Audit,
    h: &household::Model,
    before: Option<Value>,
    after: Option<Value>,
    reason: Option<&str>,
) -> AppResult<()> {
    audit::record(
        db,
        action,
        Entry {
            actor_id: Some(actor.id),
            entity: ENTITY,
            entity_id: Some(h.id.to_string()),
            area_code: Some(h.area_code.clone()),
            before,
            after,
            reason: reason.map(str::to_owned),
            ..Default::default()
        },
    )
    .await
}

// ---- create, read, update, delete -------------------------------------------------

/// Creates a household with its members (at least one, exactly one head) and
/// causes (exactly one primary unless not poor, at most two others).
pub async fn create(
    db: &impl ConnectionTrait,
    actor: &Actor,
    key: &[u8],
    new: &NewHousehold,
) -> AppResult<household::Model> {
    actor.require(Action::EditHouseholds)?;
    let mut errs = BTreeMap::new();
    check_village(db, actor, &new.area_code, &mut errs).await?;
    let fields = validate_fields(
        &mut errs,
        &new.registry_no,
        &new.area_code,
        clean(new.village_group.as_deref()),
        new.kind.as_deref(),
        new.status.as_deref(),
        new.monitor_type.as_deref(),
        new.identified_year,
        new.exited_year,
        clean(new.phone.as_deref()),
        clean(new.address.as_deref()),
        new.primary_cause.as_deref(),
        &new.other_causes,
    );
    let hasher = hasher(key);
    let mut members = Vec::new();
    if new.members.is_empty() {
        errs.insert(
            "members".into(),
            "a household needs at least one member".into(),
        );
    }
    for (i, m) in new.members.iter().enumerate() {
        if let Some(v) = validate_member(&mut errs, &format!("members[{i}]."), m, &hasher) {
            members.push((format!("members[{i}].id_number"), v));
        }
    }
    let heads = members
        .iter()
        .filter(|(_, m)| m.relation == Relation::Head)
        .count();
    if !new.members.is_empty() && members.len() == new.members.len() && heads != 1 {
        errs.insert(
            "members".into(),
            format!("exactly one member must be the head (户主), found {heads}"),
        );
    }
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, (field, m)) in members.iter().enumerate() {
        if let Some(j) = seen.insert(&m.hmac, i) {
            errs.insert(field.clone(), format!("the same ID number as members[{j}]"));
        }
    }
    if !errs.is_empty() {
        return Err(AppError::fields(errs));
    }
    let f = fields.ok_or_else(|| AppError::field("household", "invalid"))?;
    check_registry_free(db, actor, &f.registry_no, None).await?;
    let refs: Vec<(String, &ValidMember)> = members.iter().map(|(k, m)| (k.clone(), m)).collect();
    check_ids_free(db, actor, &refs).await?;
    let h = household::ActiveModel {
        registry_no: Set(f.registry_no.clone()),
        area_code: Set(f.area_code.clone()),
        village_group: Set(f.village_group.clone()),
        kind: Set(f.kind.code().to_owned()),
        status: Set(f.status.code().to_owned()),
        monitor_type: Set(f.monitor_type.map(|m| m.code().to_owned())),
        identified_year: Set(f.identified_year),
        exited_year: Set(f.exited_year),
        phone: Set(f.phone.clone()),
        address: Set(f.address.clone()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    replace_causes(db, h.id, f.primary, &f.others).await?;
    for (_, m) in &members {
        member_model(h.id, &h.area_code, m).insert(db).await?;
    }
    let after = snapshot(db, &h).await?;
    log(db, actor, Audit::Create, &h, None, Some(after), None).await?;
    Ok(h)
}

/// The household, 404 when missing or outside the actor's area.
pub async fn find_in_scope(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: i64,
    action: Action,
) -> AppResult<household::Model> {
    actor.require(action)?;
    let h = household::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    actor.require_in(action, Some(&h.area_code))?;
    Ok(h)
}

/// The household with members, causes, incomes and follow-ups. With
/// `sensitive`, members' health is included and the reading is logged.
pub async fn get(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: i64,
    sensitive: bool,
) -> AppResult<Detail> {
    let h = find_in_scope(db, actor, id, Action::ViewHouseholds).await?;
    if sensitive {
        actor.require_in(Action::ViewSensitive, Some(&h.area_code))?;
    }
    let causes = household_cause::Entity::find()
        .filter(household_cause::Column::HouseholdId.eq(h.id))
        .order_by_asc(household_cause::Column::Cause)
        .all(db)
        .await?;
    let members = members_of(db, h.id).await?;
    let ids: Vec<i64> = members.iter().map(|m| m.id).collect();
    let learners = learners_of(db, &ids).await?;
    let trained = trained_users(db, learners.values().map(|l| l.id).collect()).await?;
    let incomes = income_record::Entity::find()
        .filter(income_record::Column::HouseholdId.eq(h.id))
        .order_by_desc(income_record::Column::Year)
        .all(db)
        .await?;
    let follow_ups = follow_up::Entity::find()
        .filter(follow_up::Column::HouseholdId.eq(h.id))
        .order_by_desc(follow_up::Column::SurveyedAt)
        .all(db)
        .await?;
    let area_name = crate::areas::find(db, &h.area_code).await?.map(|a| a.name);
    if sensitive {
        audit::record(
            db,
            Audit::ReadSensitive,
            Entry {
                actor_id: Some(actor.id),
                entity: ENTITY,
                entity_id: Some(h.id.to_string()),
                area_code: Some(h.area_code.clone()),
                after: Some(json!({"fields": ["health"], "members": ids})),
                ..Default::default()
            },
        )
        .await?;
    }
    let members = members
        .into_iter()
        .map(|m| {
            let learner = learners.get(&m.id).cloned();
            let trained = learner.as_ref().is_some_and(|l| trained.contains(&l.id));
            MemberView {
                id: m.id,
                name: m.name,
                sex: m.sex,
                birth_year: m.birth_year,
                ethnicity: m.ethnicity,
                relation: m.relation,
                education: m.education,
                school_status: m.school_status,
                labour: m.labour,
                migrant_months: m.migrant_months,
                id_last4: m.id_last4,
                health: if sensitive { m.health } else { None },
                learner,
                trained,
            }
        })
        .collect();
    Ok(Detail {
        area_name,
        primary_cause: causes
            .iter()
            .find(|c| c.is_primary)
            .map(|c| c.cause.clone()),
        other_causes: causes
            .iter()
            .filter(|c| !c.is_primary)
            .map(|c| c.cause.clone())
            .collect(),
        household: h,
        members,
        incomes,
        follow_ups,
        sensitive,
    })
}

async fn learners_of(
    db: &impl ConnectionTrait,
    member_ids: &[i64],
) -> AppResult<HashMap<i64, LinkedLearner>> {
    if member_ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(app_user::Entity::find()
        .filter(app_user::Column::MemberId.is_in(member_ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .filter_map(|u| {
            u.member_id.map(|m| {
                (
                    m,
                    LinkedLearner {
                        id: u.id,
                        login: u.login,
                    },
                )
            })
        })
        .collect())
}

async fn trained_users(db: &impl ConnectionTrait, user_ids: Vec<i64>) -> AppResult<HashSet<i64>> {
    if user_ids.is_empty() {
        return Ok(HashSet::new());
    }
    Ok(enrollment::Entity::find()
        .filter(enrollment::Column::UserId.is_in(user_ids))
        .filter(enrollment::Column::State.eq("completed"))
        .all(db)
        .await?
        .into_iter()
        .map(|e| e.user_id)
        .collect())
}

/// Changes a household's own fields and causes.
pub async fn update(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: i64,
    p: &HouseholdPatch,
) -> AppResult<household::Model> {
    let h = find_in_scope(db, actor, id, Action::EditHouseholds).await?;
    let before = snapshot(db, &h).await?;
    let causes = household_cause::Entity::find()
        .filter(household_cause::Column::HouseholdId.eq(h.id))
        .all(db)
        .await?;
    let cur_primary = causes
        .iter()
        .find(|c| c.is_primary)
        .map(|c| c.cause.clone());
    let cur_others: Vec<String> = causes
        .iter()
        .filter(|c| !c.is_primary)
        .map(|c| c.cause.clone())
        .collect();
    let pick = |new: &Option<Option<String>>, cur: &Option<String>| match new {
        None => cur.clone(),
        Some(v) => clean(v.as_deref()),
    };
    let pick_i = |new: &Option<Option<i32>>, cur: Option<i32>| match new {
        None => cur,
        Some(v) => *v,
    };
    let mut errs = BTreeMap::new();
    let area_code = p.area_code.clone().unwrap_or_else(|| h.area_code.clone());
    if area_code.trim() != h.area_code {
        check_village(db, actor, &area_code, &mut errs).await?;
    }
    let monitor = pick(&p.monitor_type, &h.monitor_type);
    let primary = pick(&p.primary_cause, &cur_primary);
    let fields = validate_fields(
        &mut errs,
        p.registry_no.as_deref().unwrap_or(&h.registry_no),
        &area_code,
        pick(&p.village_group, &h.village_group),
        Some(p.kind.as_deref().unwrap_or(&h.kind)),
        Some(p.status.as_deref().unwrap_or(&h.status)),
        monitor.as_deref(),
        pick_i(&p.identified_year, h.identified_year),
        pick_i(&p.exited_year, h.exited_year),
        pick(&p.phone, &h.phone),
        pick(&p.address, &h.address),
        primary.as_deref(),
        p.other_causes.as_ref().unwrap_or(&cur_others),
    );
    if !errs.is_empty() {
        return Err(AppError::fields(errs));
    }
    let f = fields.ok_or_else(|| AppError::field("household", "invalid"))?;
    if f.registry_no != h.registry_no {
        check_registry_free(db, actor, &f.registry_no, Some(h.id)).await?;
    }
    let mut am: household::ActiveModel = h.clone().into();
    am.registry_no = Set(f.registry_no);
    am.area_code = Set(f.area_code.clone());
    am.village_group = Set(f.village_group);
    am.kind = Set(f.kind.code().to_owned());
    am.status = Set(f.status.code().to_owned());
    am.monitor_type = Set(f.monitor_type.map(|m| m.code().to_owned()));
    am.identified_year = Set(f.identified_year);
    am.exited_year = Set(f.exited_year);
    am.phone = Set(f.phone);
    am.address = Set(f.address);
    let after = am.update(db).await?;
    replace_causes(db, after.id, f.primary, &f.others).await?;
    if f.area_code != h.area_code {
        // Members and follow-ups carry the village for scoped queries.
        member::Entity::update_many()
            .col_expr(member::Column::AreaCode, Expr::value(f.area_code.clone()))
            .filter(member::Column::HouseholdId.eq(h.id))
            .exec(db)
            .await?;
        follow_up::Entity::update_many()
            .col_expr(
                follow_up::Column::AreaCode,
                Expr::value(f.area_code.clone()),
            )
            .filter(follow_up::Column::HouseholdId.eq(h.id))
            .exec(db)
            .await?;
    }
    let snap = snapshot(db, &after).await?;
    log(
        db,
        actor,
        Audit::Update,
        &after,
        Some(before),
        Some(snap),
        None,
    )
    .await?;
    Ok(after)
}

/// Deletes a household; its members, causes, incomes and follow-ups go with it
/// and linked learner accounts lose their link.
pub async fn delete(db: &impl ConnectionTrait, actor: &Actor, id: i64) -> AppResult<()> {
    let h = find_in_scope(db, actor, id, Action::EditHouseholds).await?;
    let before = snapshot(db, &h).await?;
    let ids: Vec<i64> = members_of(db, h.id).await?.iter().map(|m| m.id).collect();
    unlink_members(db, &ids).await?;
    // Explicit, not only by cascade: MySQL and SQLite without foreign keys agree.
    household_cause::Entity::delete_many()
        .filter(household_cause::Column::HouseholdId.eq(h.id))
        .exec(db)
        .await?;
    income_record::Entity::delete_many()
        .filter(income_record::Column::HouseholdId.eq(h.id))
        .exec(db)
        .await?;
    follow_up::Entity::delete_many()
        .filter(follow_up::Column::HouseholdId.eq(h.id))
        .exec(db)
        .await?;
    member::Entity::delete_many()
        .filter(member::Column::HouseholdId.eq(h.id))
        .exec(db)
        .await?;
    household::Entity::delete_by_id(h.id).exec(db).await?;
    log(db, actor, Audit::Delete, &h, Some(before), None, None).await?;
    Ok(())
}

async fn unlink_members(db: &impl ConnectionTrait, member_ids: &[i64]) -> AppResult<()> {
    if member_ids.is_empty() {
        return Ok(());
    }
    let linked = app_user::Entity::find()
        .filter(app_user::Column::MemberId.is_in(member_ids.iter().copied()))
        .all(db)
        .await?;
    app_user::Entity::update_many()
        .col_expr(app_user::Column::MemberId, Expr::value(Option::<i64>::None))
        .filter(app_user::Column::MemberId.is_in(member_ids.iter().copied()))
        .exec(db)
        .await?;
    for u in linked {
        crate::accounts::sessions::note_user(db, u.id).await?;
    }
    follow_up::Entity::delete_many()
        .filter(follow_up::Column::MemberId.is_in(member_ids.iter().copied()))
        .exec(db)
        .await?;
    Ok(())
}

/// Adds a member to a household.
pub async fn add_member(
    db: &impl ConnectionTrait,
    actor: &Actor,
    key: &[u8],
    household_id: i64,
    m: &MemberInput,
) -> AppResult<member::Model> {
    let h = find_in_scope(db, actor, household_id, Action::EditHouseholds).await?;
    let mut errs = BTreeMap::new();
    let v = validate_member(&mut errs, "", m, &hasher(key));
    let existing = members_of(db, h.id).await?;
    if let Some(v) = &v
        && v.relation == Relation::Head
        && existing.iter().any(|e| e.relation == Relation::Head.code())
    {
        errs.insert(
            "relation".into(),
            "the household already has a head (户主)".into(),
        );
    }
    if !errs.is_empty() {
        return Err(AppError::fields(errs));
    }
    let v = v.ok_or_else(|| AppError::field("member", "invalid"))?;
    check_ids_free(db, actor, &[("id_number".into(), &v)]).await?;
    let before = snapshot_of(&h, &[], &existing);
    let created = member_model(h.id, &h.area_code, &v).insert(db).await?;
    let after = snapshot(db, &h).await?;
    log(
        db,
        actor,
        Audit::Update,
        &h,
        Some(members_only(before)),
        Some(members_only(after)),
        Some("add member"),
    )
    .await?;
    Ok(created)
}

fn members_only(v: Value) -> Value {
    json!({"members": v.get("members").cloned().unwrap_or(Value::Null)})
}

/// The member of this household, 404 otherwise.
pub async fn find_member(
    db: &impl ConnectionTrait,
    actor: &Actor,
    household_id: i64,
    member_id: i64,
    action: Action,
) -> AppResult<(household::Model, member::Model)> {
    let h = find_in_scope(db, actor, household_id, action).await?;
    let m = member::Entity::find_by_id(member_id)
        .one(db)
        .await?
        .filter(|m| m.household_id == h.id)
        .ok_or(AppError::NotFound)?;
    Ok((h, m))
}

/// Removes a member; a linked learner account keeps working without the link.
pub async fn remove_member(
    db: &impl ConnectionTrait,
    actor: &Actor,
    household_id: i64,
    member_id: i64,
) -> AppResult<()> {
    let (h, m) = find_member(db, actor, household_id, member_id, Action::EditHouseholds).await?;
    let existing = members_of(db, h.id).await?;
    if existing.len() <= 1 {
        return Err(AppError::Conflict(
            "the last member cannot be removed; delete the household instead".into(),
        ));
    }
    let before = snapshot_of(&h, &[], &existing);
    unlink_members(db, &[m.id]).await?;
    member::Entity::delete_by_id(m.id).exec(db).await?;
    let after = snapshot(db, &h).await?;
    log(
        db,
        actor,
        Audit::Update,
        &h,
        Some(members_only(before)),
        Some(members_only(after)),
        Some("remove member"),
    )
    .await?;
    Ok(())
}

/// Records (or replaces) a household's income for a year.
pub async fn record_income(
    db: &impl ConnectionTrait,
    actor: &Actor,
    household_id: i64,
    i: &IncomeInput,
) -> AppResult<income_record::Model> {
    let h = find_in_scope(db, actor, household_id, Action::EditHouseholds).await?;
    let mut errs = BTreeMap::new();
    let year = this_year();
    if !(2000..=year).contains(&i.year) {
        errs.insert("year".into(), format!("must be between 2000 and {year}"));
    }
    for (f, v) in [
        ("wage_fen", i.wage_fen),
        ("business_fen", i.business_fen),
        ("transfer_fen", i.transfer_fen),
        ("property_fen", i.property_fen),
        ("costs_fen", i.costs_fen),
    ] {
        if !(0..=100_000_000_000).contains(&v) {
            errs.insert(f.into(), "must be between 0 and 1,000,000,000 yuan".into());
        }
    }
    if let Some(n) = i.net_per_capita_fen
        && !(-100_000_000_000..=100_000_000_000).contains(&n)
    {
        errs.insert("net_per_capita_fen".into(), "out of range".into());
    }
    if !errs.is_empty() {
        return Err(AppError::fields(errs));
    }
    let people = member::Entity::find()
        .filter(member::Column::HouseholdId.eq(h.id))
        .count(db)
        .await?
        .max(1) as i64;
    let net = i.net_per_capita_fen.unwrap_or(
        (i.wage_fen + i.business_fen + i.transfer_fen + i.property_fen - i.costs_fen) / people,
    );
    let existing = income_record::Entity::find()
        .filter(income_record::Column::HouseholdId.eq(h.id))
        .filter(income_record::Column::Year.eq(i.year))
        .one(db)
        .await?;
    let before = existing.as_ref().map(|e| json!(e));
    let mut am = match existing {
        Some(e) => e.into(),
        None => income_record::ActiveModel {
            household_id: Set(h.id),
            year: Set(i.year),
            ..Default::default()
        },
    };
    am.wage_fen = Set(i.wage_fen);
    am.business_fen = Set(i.business_fen);
    am.transfer_fen = Set(i.transfer_fen);
    am.property_fen = Set(i.property_fen);
    am.costs_fen = Set(i.costs_fen);
    am.net_per_capita_fen = Set(net);
    am.verified_by = Set(i.verified.then_some(actor.id));
    am.verified_at = Set(i.verified.then(Utc::now));
    let saved = am.save(db).await?;
    let saved: income_record::Model = saved.try_into_model()?;
    log(
        db,
        actor,
        Audit::Update,
        &h,
        before.map(|b| json!({"income": b})),
        Some(json!({"income": saved})),
        Some("income"),
    )
    .await?;
    Ok(saved)
}

fn parse_time(s: &str) -> Option<chrono::DateTime<Utc>> {
    let s = s.trim();
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|t| t.and_utc())
        })
}

/// Records a follow-up survey of the household (or one of its members).
pub async fn record_follow_up(
    db: &impl ConnectionTrait,
    actor: &Actor,
    household_id: i64,
    f: &FollowUpInput,
) -> AppResult<follow_up::Model> {
    let h = find_in_scope(db, actor, household_id, Action::EditHouseholds).await?;
    let mut errs = BTreeMap::new();
    if ![3, 6, 12].contains(&f.months_after) {
        errs.insert("months_after".into(), "must be 3, 6 or 12".into());
    }
    let surveyed_at = match f
        .surveyed_at
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => Some(Utc::now()),
        Some(s) => match parse_time(s) {
            Some(t) if t <= Utc::now() + chrono::Duration::days(1) => Some(t),
            Some(_) => {
                errs.insert("surveyed_at".into(), "is in the future".into());
                None
            }
            None => {
                errs.insert("surveyed_at".into(), format!("{s} is not a date"));
                None
            }
        },
    };
    if f.orders_30d.is_some_and(|o| !(0..=100_000).contains(&o)) {
        errs.insert("orders_30d".into(), "must be between 0 and 100000".into());
    }
    if f.sales_30d_fen
        .is_some_and(|o| !(0..=100_000_000_000).contains(&o))
    {
        errs.insert("sales_30d_fen".into(), "out of range".into());
    }
    let work_status = clean(f.work_status.as_deref());
    max_len(&mut errs, "work_status", &work_status, 24);
    let notes = clean(f.notes.as_deref());
    max_len(&mut errs, "notes", &notes, 2000);
    if let Some(mid) = f.member_id {
        let ok = member::Entity::find_by_id(mid)
            .one(db)
            .await?
            .is_some_and(|m| m.household_id == h.id);
        if !ok {
            errs.insert("member_id".into(), "not a member of this household".into());
        }
    }
    if !errs.is_empty() {
        return Err(AppError::fields(errs));
    }
    let saved = follow_up::ActiveModel {
        household_id: Set(Some(h.id)),
        member_id: Set(f.member_id),
        area_code: Set(h.area_code.clone()),
        surveyed_at: Set(surveyed_at.unwrap_or_else(Utc::now)),
        months_after: Set(f.months_after),
        shop_active: Set(f.shop_active),
        orders_30d: Set(f.orders_30d),
        sales_30d_fen: Set(f.sales_30d_fen),
        work_status: Set(work_status),
        notes: Set(notes),
        surveyor_id: Set(Some(actor.id)),
        ..Default::default()
    }
    .insert(db)
    .await?;
    log(
        db,
        actor,
        Audit::Update,
        &h,
        None,
        Some(json!({"follow_up": saved})),
        Some("follow-up"),
    )
    .await?;
    Ok(saved)
}

/// The change events of one household, newest first.
pub async fn history(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: i64,
    page: u64,
    per_page: u64,
) -> AppResult<Page<change_event::Model>> {
    // A deleted household has no area to check: history is of existing ones.
    let h = find_in_scope(db, actor, id, Action::ViewHouseholds).await?;
    let q = change_event::Entity::find()
        .filter(change_event::Column::Entity.eq(ENTITY))
        .filter(change_event::Column::EntityId.eq(h.id.to_string()));
    let total = q.clone().count(db).await?;
    let items = q
        .order_by_desc(change_event::Column::Id)
        .offset(page.saturating_sub(1) * per_page)
        .limit(per_page)
        .all(db)
        .await?;
    Ok(Page { items, total })
}

// ---- the list -------------------------------------------------------------------

/// The area prefix a list or export covers: the requested area when it lies
/// inside the actor's (404 otherwise), else the actor's whole area.
pub fn area_prefix(actor: &Actor, area: Option<&str>) -> AppResult<String> {
    let scope = actor.scope_prefix();
    match area.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(scope.unwrap_or_default()),
        Some(a) => {
            let code = AreaCode::parse(a).map_err(|e| AppError::field("area", e))?;
            let p = code.prefix().to_owned();
            match scope {
                Some(s) if !p.starts_with(&s) => Err(AppError::NotFound),
                _ => Ok(p),
            }
        }
    }
}

/// Ids of households with a linked learner who completed a course.
fn trained_households() -> SelectStatement {
    use sea_orm::sea_query::ExprTrait;
    Query::select()
        .column((member::Entity, member::Column::HouseholdId))
        .from(member::Entity)
        .inner_join(
            app_user::Entity,
            Expr::col((app_user::Entity, app_user::Column::MemberId))
                .equals((member::Entity, member::Column::Id)),
        )
        .inner_join(
            enrollment::Entity,
            Expr::col((enrollment::Entity, enrollment::Column::UserId))
                .equals((app_user::Entity, app_user::Column::Id)),
        )
        .and_where(Expr::col((enrollment::Entity, enrollment::Column::State)).eq("completed"))
        .to_owned()
}

fn yes_no(s: Option<&str>) -> AppResult<Option<bool>> {
    match s.map(str::trim).unwrap_or("") {
        "" => Ok(None),
        "1" | "true" | "yes" => Ok(Some(true)),
        "0" | "false" | "no" => Ok(Some(false)),
        other => Err(AppError::field(
            "trained",
            format!("{other} is not yes or no"),
        )),
    }
}

pub async fn list(
    db: &impl ConnectionTrait,
    actor: &Actor,
    f: &ListQuery,
) -> AppResult<Page<Summary>> {
    actor.require(Action::ViewHouseholds)?;
    let prefix = area_prefix(actor, f.area.as_deref())?;
    let mut q = household::Entity::find();
    if !prefix.is_empty() {
        q = q.filter(household::Column::AreaCode.starts_with(&prefix));
    }
    if let Some(s) = f.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let st = HouseholdStatus::parse(s)
            .ok_or_else(|| AppError::field("status", format!("unknown status {s}")))?;
        q = q.filter(household::Column::Status.eq(st.code()));
    }
    if let Some(c) = f.cause.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let cause = Cause::parse(c)
            .ok_or_else(|| AppError::field("cause", format!("unknown cause {c}")))?;
        q = q.filter(
            household::Column::Id.in_subquery(
                Query::select()
                    .column(household_cause::Column::HouseholdId)
                    .from(household_cause::Entity)
                    .and_where(household_cause::Column::IsPrimary.eq(true))
                    .and_where(household_cause::Column::Cause.eq(cause.code))
                    .to_owned(),
            ),
        );
    }
    match yes_no(f.trained.as_deref())? {
        Some(true) => q = q.filter(household::Column::Id.in_subquery(trained_households())),
        Some(false) => q = q.filter(household::Column::Id.not_in_subquery(trained_households())),
        None => {}
    }
    if let Some(text) = f.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        q = q.filter(
            sea_orm::Condition::any()
                .add(household::Column::RegistryNo.starts_with(text))
                .add(
                    household::Column::Id.in_subquery(
                        Query::select()
                            .column(member::Column::HouseholdId)
                            .from(member::Entity)
                            .and_where(member::Column::Name.eq(text))
                            .to_owned(),
                    ),
                ),
        );
    }
    let (page, per_page) = f.page_params();
    let total = q.clone().count(db).await?;
    let rows = q
        .order_by_asc(household::Column::AreaCode)
        .order_by_asc(household::Column::RegistryNo)
        .offset((page - 1) * per_page)
        .limit(per_page)
        .all(db)
        .await?;
    let items = summarize(db, rows).await?;
    Ok(Page { items, total })
}

async fn summarize(
    db: &impl ConnectionTrait,
    rows: Vec<household::Model>,
) -> AppResult<Vec<Summary>> {
    let ids: Vec<i64> = rows.iter().map(|h| h.id).collect();
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let members = member::Entity::find()
        .filter(member::Column::HouseholdId.is_in(ids.clone()))
        .all(db)
        .await?;
    let primaries: HashMap<i64, String> = household_cause::Entity::find()
        .filter(household_cause::Column::HouseholdId.is_in(ids.clone()))
        .filter(household_cause::Column::IsPrimary.eq(true))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.household_id, c.cause))
        .collect();
    use sea_orm::sea_query::ExprTrait;
    let mut trained_q = trained_households();
    trained_q
        .and_where(Expr::col((member::Entity, member::Column::HouseholdId)).is_in(ids.clone()));
    let trained: HashSet<i64> = {
        let stmt = db.get_database_backend().build(&trained_q);
        db.query_all_raw(stmt)
            .await?
            .into_iter()
            .filter_map(|r| r.try_get_by_index::<i64>(0).ok())
            .collect()
    };
    let codes: Vec<String> = rows.iter().map(|h| h.area_code.clone()).collect();
    let names = crate::areas::names(db, &codes).await?;
    Ok(rows
        .into_iter()
        .map(|h| {
            let mine: Vec<&member::Model> =
                members.iter().filter(|m| m.household_id == h.id).collect();
            Summary {
                id: h.id,
                area_name: names.get(&h.area_code).cloned(),
                primary_cause: primaries.get(&h.id).cloned(),
                head: mine
                    .iter()
                    .find(|m| m.relation == Relation::Head.code())
                    .map(|m| m.name.clone()),
                members: mine.len(),
                trained: trained.contains(&h.id),
                registry_no: h.registry_no,
                area_code: h.area_code,
                kind: h.kind,
                status: h.status,
            }
        })
        .collect())
}
