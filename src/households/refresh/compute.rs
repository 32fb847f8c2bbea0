//! What an update import would change: the file's households matched to
//! their records, every difference as old → new, every problem as a row error.

use std::collections::{HashMap, HashSet};

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use sha2::{Digest, Sha256};

use super::{FieldChange, HouseholdChange, Refresh};
use crate::entities::{household, household_cause, income_record, member};
use crate::error::AppResult;
use crate::households::import::{Column, HouseholdRow, ImportPlan, MemberRow, RowError};
use crate::households::messages::Msg;
use crate::policy::{Action, Actor};

/// A household of the file matched to its record, and what to write.
pub(super) struct Matched<'p> {
    pub file: &'p HouseholdRow,
    pub record: household::Model,
    /// (member record, file member) pairs.
    pub members: Vec<(member::Model, &'p MemberRow)>,
    pub new_members: Vec<&'p MemberRow>,
    pub change: HouseholdChange,
}

pub(super) struct Computed<'p> {
    pub refresh: Refresh,
    pub matched: Vec<Matched<'p>>,
    pub new_households: Vec<HouseholdRow>,
}

fn show_opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

fn yuan(fen: i64) -> String {
    format!("{:.2}", fen as f64 / 100.0)
}

fn causes_zh(codes: &[String]) -> String {
    let mut sorted: Vec<&String> = codes.iter().collect();
    sorted.sort();
    sorted
        .iter()
        .map(|c| crate::households::vocab::Cause::by_code(c).map_or(c.as_str(), |c| c.zh))
        .collect::<Vec<_>>()
        .join("、")
}

/// Notes a change of `col` when `old` and `new` differ.
fn diff(
    changes: &mut Vec<FieldChange>,
    col: Column,
    member: Option<&str>,
    old: String,
    new: String,
) {
    if old != new {
        let (zh, en) = col.headers();
        changes.push(FieldChange {
            field: zh,
            field_en: en,
            member: member.map(str::to_owned),
            old,
            new,
        });
    }
}

pub(super) async fn compute<'p>(
    db: &impl ConnectionTrait,
    plan: &'p ImportPlan,
    actor: Option<&Actor>,
) -> AppResult<Computed<'p>> {
    if let Some(a) = actor {
        a.require(Action::EditHouseholds)?;
        for h in &plan.households {
            a.require_in(Action::EditHouseholds, Some(&h.area_code))?;
        }
    }
    let in_scope = |area: &str| actor.is_none_or(|a| a.in_scope(Some(area)));
    let has = |c: Column| plan.columns.contains(&c);
    let numbers: Vec<String> = plan
        .households
        .iter()
        .map(|h| h.registry_no.clone())
        .collect();
    let mut records: HashMap<String, household::Model> = HashMap::new();
    for chunk in numbers.chunks(5000) {
        for h in household::Entity::find()
            .filter(household::Column::RegistryNo.is_in(chunk.iter().cloned()))
            .all(db)
            .await?
        {
            records.insert(h.registry_no.clone(), h);
        }
    }
    let ids: Vec<i64> = records.values().map(|h| h.id).collect();
    let mut members: HashMap<i64, Vec<member::Model>> = HashMap::new();
    let mut causes: HashMap<i64, Vec<household_cause::Model>> = HashMap::new();
    let mut incomes: HashMap<(i64, i32), income_record::Model> = HashMap::new();
    for chunk in ids.chunks(5000) {
        for m in member::Entity::find()
            .filter(member::Column::HouseholdId.is_in(chunk.iter().copied()))
            .order_by_asc(member::Column::Id)
            .all(db)
            .await?
        {
            members.entry(m.household_id).or_default().push(m);
        }
        for c in household_cause::Entity::find()
            .filter(household_cause::Column::HouseholdId.is_in(chunk.iter().copied()))
            .all(db)
            .await?
        {
            causes.entry(c.household_id).or_default().push(c);
        }
        for i in income_record::Entity::find()
            .filter(income_record::Column::HouseholdId.is_in(chunk.iter().copied()))
            .all(db)
            .await?
        {
            incomes.insert((i.household_id, i.year), i);
        }
    }
    // Whole numbers of the file that are registered, and where.
    let hmacs: Vec<&str> = plan.id_hmacs().map(|(h, _)| h).collect();
    let mut taken: HashMap<String, i64> = HashMap::new();
    for chunk in hmacs.chunks(5000) {
        for m in member::Entity::find()
            .filter(member::Column::IdHmac.is_in(chunk.iter().copied()))
            .all(db)
            .await?
        {
            if let Some(h) = m.id_hmac.clone() {
                taken.insert(h, m.household_id);
            }
        }
    }
    let id_field = plan.id_field.clone();
    let mut errors: Vec<RowError> = Vec::new();
    let mut out = Computed {
        refresh: Refresh::default(),
        matched: Vec::new(),
        new_households: Vec::new(),
    };
    for h in &plan.households {
        let Some(rec) = records.get(&h.registry_no) else {
            if let Some(m) = h.members.iter().find(|m| m.id.hmac.is_empty()) {
                errors.push(RowError::new(
                    m.row,
                    id_field.clone(),
                    Msg::new("hh.err.id_masked")
                        .with("last4", &m.id.last4)
                        .english(),
                ));
            }
            out.new_households.push(h.clone());
            out.refresh.added.push(h.registry_no.clone());
            continue;
        };
        if !in_scope(&rec.area_code) {
            // The same words as a plain import's, so that no area is revealed.
            errors.push(RowError::new(
                h.row,
                Column::RegistryNo.zh(),
                Msg::new("hh.err.registry_elsewhere")
                    .with("registry", &h.registry_no)
                    .english(),
            ));
            continue;
        }
        let mut change = HouseholdChange {
            registry_no: h.registry_no.clone(),
            row: h.row,
            changes: Vec::new(),
            members_added: Vec::new(),
        };
        if has(Column::AreaCode) {
            diff(
                &mut change.changes,
                Column::AreaCode,
                None,
                rec.area_code.clone(),
                h.area_code.clone(),
            );
        }
        if has(Column::VillageGroup) {
            diff(
                &mut change.changes,
                Column::VillageGroup,
                None,
                show_opt(rec.village_group.as_ref()),
                show_opt(h.village_group.as_ref()),
            );
        }
        if has(Column::Kind) {
            diff(
                &mut change.changes,
                Column::Kind,
                None,
                rec.kind.zh().into(),
                h.kind.zh().into(),
            );
        }
        if has(Column::Status) {
            diff(
                &mut change.changes,
                Column::Status,
                None,
                rec.status.zh().into(),
                h.status.zh().into(),
            );
        }
        if has(Column::MonitorType) {
            let old = rec
                .monitor_type
                .as_deref()
                .and_then(crate::households::vocab::MonitorType::parse)
                .map(|t| t.zh().to_owned())
                .unwrap_or_else(|| show_opt(rec.monitor_type.as_ref()));
            diff(
                &mut change.changes,
                Column::MonitorType,
                None,
                old,
                show_opt(h.monitor_type.map(|t| t.zh())),
            );
        }
        if has(Column::IdentifiedYear) {
            diff(
                &mut change.changes,
                Column::IdentifiedYear,
                None,
                show_opt(rec.identified_year),
                show_opt(h.identified_year),
            );
        }
        if has(Column::ExitedYear) {
            diff(
                &mut change.changes,
                Column::ExitedYear,
                None,
                show_opt(rec.exited_year),
                show_opt(h.exited_year),
            );
        }
        if has(Column::Phone) {
            diff(
                &mut change.changes,
                Column::Phone,
                None,
                show_opt(rec.phone.as_ref()),
                show_opt(h.phone.as_ref()),
            );
        }
        let cs = causes.get(&rec.id).map(Vec::as_slice).unwrap_or(&[]);
        if has(Column::PrimaryCause) {
            let old: Vec<String> = cs
                .iter()
                .filter(|c| c.is_primary)
                .map(|c| c.cause.clone())
                .collect();
            let new: Vec<String> = h.primary_cause.iter().map(|c| c.code.into()).collect();
            diff(
                &mut change.changes,
                Column::PrimaryCause,
                None,
                causes_zh(&old),
                causes_zh(&new),
            );
        }
        if has(Column::OtherCauses) {
            let old: Vec<String> = cs
                .iter()
                .filter(|c| !c.is_primary)
                .map(|c| c.cause.clone())
                .collect();
            let new: Vec<String> = h.other_causes.iter().map(|c| c.code.into()).collect();
            diff(
                &mut change.changes,
                Column::OtherCauses,
                None,
                causes_zh(&old),
                causes_zh(&new),
            );
        }
        if let Some(i) = h.income.filter(|_| has(Column::NetPerCapitaYuan)) {
            let old = incomes
                .get(&(rec.id, i.year))
                .map(|r| yuan(r.net_per_capita_fen))
                .unwrap_or_default();
            diff(
                &mut change.changes,
                Column::NetPerCapitaYuan,
                None,
                old,
                yuan(i.net_per_capita_fen),
            );
        }
        // Members: by whole number, else by the last four characters.
        let registered = members.get(&rec.id).map(Vec::as_slice).unwrap_or(&[]);
        let mut used: HashSet<i64> = HashSet::new();
        let mut pairs = Vec::new();
        let mut new_members = Vec::new();
        for m in &h.members {
            let found = if m.id.hmac.is_empty() {
                let same: Vec<&member::Model> = registered
                    .iter()
                    .filter(|r| r.id_last4.as_deref() == Some(m.id.last4.as_str()))
                    .filter(|r| !used.contains(&r.id))
                    .collect();
                match same.as_slice() {
                    [one] => Some(*one),
                    [] => {
                        errors.push(RowError::new(
                            m.row,
                            id_field.clone(),
                            Msg::new("hh.err.masked_unknown")
                                .with("last4", &m.id.last4)
                                .with("registry", &h.registry_no)
                                .english(),
                        ));
                        continue;
                    }
                    many => many.iter().copied().find(|r| r.name == m.name).or_else(|| {
                        errors.push(RowError::new(
                            m.row,
                            id_field.clone(),
                            Msg::new("hh.err.masked_ambiguous")
                                .with("last4", &m.id.last4)
                                .english(),
                        ));
                        None
                    }),
                }
            } else {
                match taken.get(&m.id.hmac) {
                    Some(&hid) if hid == rec.id => registered
                        .iter()
                        .find(|r| r.id_hmac.as_deref() == Some(m.id.hmac.as_str())),
                    Some(_) => {
                        errors.push(RowError::new(
                            m.row,
                            id_field.clone(),
                            Msg::new("hh.err.id_elsewhere")
                                .with("last4", &m.id.last4)
                                .english(),
                        ));
                        continue;
                    }
                    None => None,
                }
            };
            let Some(r) = found else {
                if m.id.hmac.is_empty() {
                    continue;
                }
                change.members_added.push(m.name.clone());
                new_members.push(m);
                continue;
            };
            used.insert(r.id);
            if m.id.hmac.is_empty() {
                // Sex and birth year follow the registered number.
                if has(Column::Sex) && r.sex != m.sex.code() {
                    errors.push(RowError::new(
                        m.row,
                        Column::Sex.zh(),
                        Msg::new("hh.err.kept_fixed").english(),
                    ));
                }
                if has(Column::BirthYear) && r.birth_year != m.birth_year {
                    errors.push(RowError::new(
                        m.row,
                        Column::BirthYear.zh(),
                        Msg::new("hh.err.kept_fixed").english(),
                    ));
                }
            }
            pairs.push((r.clone(), m));
        }
        for (r, m) in &pairs {
            let who = Some(m.name.as_str());
            let vocab = |code: Option<&str>, zh: fn(&str) -> Option<&'static str>| {
                code.map(|c| zh(c).unwrap_or(c).to_owned())
                    .unwrap_or_default()
            };
            let relation_zh =
                |c: &str| crate::households::vocab::Relation::parse(c).map(|r| r.zh());
            let labour_zh = |c: &str| crate::households::vocab::Labour::parse(c).map(|r| r.zh());
            diff(
                &mut change.changes,
                Column::Name,
                who,
                r.name.clone(),
                m.name.clone(),
            );
            if has(Column::Relation) {
                diff(
                    &mut change.changes,
                    Column::Relation,
                    who,
                    vocab(Some(&r.relation), relation_zh),
                    m.relation.zh().into(),
                );
            }
            for (col, old, new) in [
                (Column::Ethnicity, &r.ethnicity, &m.ethnicity),
                (Column::Education, &r.education, &m.education),
                (Column::SchoolStatus, &r.school_status, &m.school_status),
            ] {
                if has(col) {
                    diff(
                        &mut change.changes,
                        col,
                        who,
                        show_opt(old.as_ref()),
                        show_opt(new.as_ref()),
                    );
                }
            }
            if has(Column::Labour) {
                diff(
                    &mut change.changes,
                    Column::Labour,
                    who,
                    vocab(r.labour.as_deref(), labour_zh),
                    show_opt(m.labour.map(|l| l.zh())),
                );
            }
            if has(Column::MigrantMonths) {
                diff(
                    &mut change.changes,
                    Column::MigrantMonths,
                    who,
                    show_opt(r.migrant_months),
                    show_opt(m.migrant_months),
                );
            }
            if has(Column::Health) && r.health.as_deref() != m.health.map(|x| x.code()) {
                // Sensitive: that it changes, not what it was.
                diff(
                    &mut change.changes,
                    Column::Health,
                    who,
                    "***".into(),
                    "******".into(),
                );
            }
        }
        out.refresh.members_kept += registered.len() - used.len();
        if change.changes.is_empty() && change.members_added.is_empty() {
            out.refresh.unchanged += 1;
            continue;
        }
        out.refresh.changed.push(change.clone());
        out.matched.push(Matched {
            file: h,
            record: rec.clone(),
            members: pairs,
            new_members,
            change,
        });
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.row);
        return Err(crate::households::bulk::import_error(errors));
    }
    let body = serde_json::to_vec(&(
        &out.refresh.changed,
        &out.refresh.added,
        out.refresh.unchanged,
    ))
    .unwrap_or_default();
    out.refresh.digest = hex::encode(Sha256::digest(&body));
    Ok(out)
}
