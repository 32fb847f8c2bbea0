//! Whole files in and out of the registry: writing a validated [`ImportPlan`]
//! in one transaction (all or nothing, batched inserts). Exports are in
//! `export`, the yearly refresh of existing households in `refresh`.
//!
//! The check for identity numbers and registry numbers already in the database
//! reads them in chunks of a few thousand (engines cap the parameters of one
//! statement), then turns the whole set into row errors at once.

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QuerySelect,
};
use serde::Serialize;
use serde_json::json;

use super::import::{self, FileKind, ImportContext, ImportPlan};
use super::messages::Msg;
use super::store::{self, Clash, ENTITY, member_model};
use crate::audit::{self, Action as Audit, Entry};
use crate::entities::{area, household, household_cause, income_record, member};
use crate::error::{AppError, AppResult, RowError};
use crate::policy::{Action, Actor};

/// Rows per INSERT: well under every engine's parameter limit.
const CHUNK: usize = 1000;
/// Values per `IN (…)` look-up.
const LOOKUP: usize = 5000;

/// What an import wrote.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct Imported {
    pub imported: usize,
    pub members: usize,
}

/// Where an import is, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Checking against the database: done, of total identity numbers.
    Check(u64, u64),
    /// Writing: households written, of total.
    Write(u64, u64),
}

/// The village codes under `prefix` (all when empty), for [`ImportContext`].
pub async fn villages(db: &impl ConnectionTrait, prefix: &str) -> AppResult<HashSet<String>> {
    let mut q = area::Entity::find()
        .select_only()
        .column(area::Column::Code)
        .filter(area::Column::Level.eq("village"));
    if !prefix.is_empty() {
        q = q.filter(area::Column::Code.starts_with(prefix));
    }
    Ok(q.into_tuple::<String>()
        .all(db)
        .await?
        .into_iter()
        .collect())
}

/// Parses a file for the actor (their area is the import's scope): the plan,
/// or every bad row as a 422.
pub async fn parse_for(
    db: &impl ConnectionTrait,
    actor: Option<&Actor>,
    scope: &str,
    key: &[u8],
    bytes: &[u8],
) -> AppResult<ImportPlan> {
    parse_mode(db, actor, scope, key, bytes, false).await
}

/// [`parse_for`] for a plain import, or (`update`) for the yearly refresh,
/// whose rows may name registered members by a masked identity number.
pub async fn parse_mode(
    db: &impl ConnectionTrait,
    actor: Option<&Actor>,
    scope: &str,
    key: &[u8],
    bytes: &[u8],
    update: bool,
) -> AppResult<ImportPlan> {
    if let Some(a) = actor {
        a.require(Action::EditHouseholds)?;
    }
    let known = villages(db, scope).await?;
    let is_village = move |c: &str| known.contains(c);
    let mut ctx = ImportContext::new(key, scope, &is_village);
    ctx.update = update;
    import::parse(bytes, FileKind::sniff(bytes), &ctx).map_err(import_error)
}

pub(crate) fn import_error(errors: Vec<import::RowError>) -> AppError {
    let n = errors.len();
    AppError::Import {
        message: Msg::new("hh.err.nothing_imported").with("n", n).english(),
        errors: errors
            .into_iter()
            .map(|e| RowError {
                row: e.row,
                field: e.field,
                message: e.message,
            })
            .collect(),
    }
}

/// Numbers held by other areas a non-admin may try in a day (imports, forms
/// and the API alike), before her imports are refused.
pub const CLASHES_PER_DAY: u64 = 100;
/// Up to this many such numbers in one import, each row is named; past it,
/// only how many.
pub const CLASH_ROWS_NAMED: usize = 5;

/// Imports every household of `plan` or none. Returns every row whose identity
/// number or registry number is already registered as a 422.
pub async fn import_plan(
    db: &DatabaseConnection,
    plan: &ImportPlan,
    actor: Option<&Actor>,
) -> AppResult<Imported> {
    import_plan_with(db, plan, actor, &mut |_| {}).await
}

/// [`import_plan`] reporting its progress.
pub async fn import_plan_with(
    db: &DatabaseConnection,
    plan: &ImportPlan,
    actor: Option<&Actor>,
    progress: &mut (dyn FnMut(Stage) + Send),
) -> AppResult<Imported> {
    if let Some(a) = actor {
        a.require(Action::EditHouseholds)?;
        // The parse already kept to the importer's area; this is the last word.
        for h in &plan.households {
            a.require_in(Action::EditHouseholds, Some(&h.area_code))?;
        }
    }
    // Each number another area holds is a probe of where a person lives:
    // a daily allowance, checked before any number is looked up.
    if let Some(a) = actor.filter(|a| !a.is_admin()) {
        let used = store::clashes_today(db, a.id).await?;
        if used >= CLASHES_PER_DAY {
            return Err(AppError::BadRequest(format!(
                "{used} numbers held by other areas were tried today (at most {CLASHES_PER_DAY}); \
                 ask an administrator (今天尝试的其他地区号码过多，请联系管理员)"
            )));
        }
    }
    let txn = crate::db::begin_write(db).await?;
    // A large import inserts into several indexes at random places; SQLite's
    // default 2 MB page cache would spill to the WAL on every chunk.
    crate::db::bulk_cache(&txn, true).await?;
    let mut clashes = Vec::new();
    let result = write_plan(&txn, plan, actor, &mut clashes, progress).await;
    crate::db::bulk_cache(&txn, false).await?;
    match result {
        Ok(done) => {
            txn.commit().await?;
            Ok(done)
        }
        Err(e) => {
            txn.rollback().await?;
            // Numbers another area holds: for the officials covering both,
            // and one row for the batch.
            store::record_clashes(db, actor, &clashes).await?;
            if clashes.is_empty() {
                return Err(e);
            }
            crate::audit::record(
                db,
                crate::audit::Action::Import,
                crate::audit::Entry {
                    actor_id: actor.map(|a| a.id),
                    entity: "household_import",
                    area_code: actor.and_then(|a| a.area.as_ref().map(|x| x.to_string())),
                    reason: Some(format!(
                        "a households import of {} households tried {} numbers held by other areas",
                        plan.households.len(),
                        clashes.len()
                    )),
                    ..Default::default()
                },
            )
            .await?;
            // More than a few: how many, not which rows.
            match e {
                AppError::Import {
                    message,
                    mut errors,
                } if clashes.len() > CLASH_ROWS_NAMED => {
                    errors.retain(|r| !r.message.contains("cannot be used here"));
                    errors.insert(
                        0,
                        RowError {
                            row: 0,
                            field: plan.id_field.clone(),
                            message: format!(
                                "{} ID or registry numbers cannot be used here; the officials of the wider area have been told ({} 个号码不能在此使用)",
                                clashes.len(),
                                clashes.len()
                            ),
                        },
                    );
                    Err(AppError::Import { message, errors })
                }
                e => Err(e),
            }
        }
    }
}

pub(crate) async fn write_plan(
    txn: &sea_orm::DatabaseTransaction,
    plan: &ImportPlan,
    actor: Option<&Actor>,
    clashes: &mut Vec<Clash>,
    progress: &mut (dyn FnMut(Stage) + Send),
) -> AppResult<Imported> {
    let in_scope = |area: &str| actor.is_none_or(|a| a.in_scope(Some(area)));
    let ids: Vec<&str> = plan.id_hmacs().map(|(h, _)| h).collect();
    let total_ids = ids.len() as u64;
    // HMAC → (area, household) of the member who has it.
    let mut taken: HashMap<String, (String, i64)> = HashMap::new();
    for (i, chunk) in ids.chunks(LOOKUP).enumerate() {
        let found: Vec<(Option<String>, String, i64)> = member::Entity::find()
            .select_only()
            .column(member::Column::IdHmac)
            .column(member::Column::AreaCode)
            .column(member::Column::HouseholdId)
            .filter(member::Column::IdHmac.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(txn)
            .await?;
        taken.extend(
            found
                .into_iter()
                .filter_map(|(h, area, id)| h.map(|h| (h, (area, id)))),
        );
        progress(Stage::Check(
            ((i + 1) * LOOKUP).min(ids.len()) as u64,
            total_ids,
        ));
    }
    let mut errors: Vec<import::RowError> =
        plan.errors_for_existing(|h| taken.get(h).is_some_and(|(area, _)| in_scope(area)));
    // Another area's: the row says only that the number cannot be used here.
    for h in &plan.households {
        for m in &h.members {
            let Some((area, id)) = taken.get(&m.id.hmac).filter(|(a, _)| !in_scope(a)) else {
                continue;
            };
            errors.push(import::RowError::new(
                m.row,
                plan.id_field.clone(),
                Msg::new("hh.err.id_elsewhere")
                    .with("last4", &m.id.last4)
                    .english(),
            ));
            clashes.push(Clash {
                kind: "id_number",
                number: m.id.last4.clone(),
                existing_household: *id,
                existing_area: area.clone(),
                wanted_area: h.area_code.clone(),
            });
        }
    }
    let numbers: Vec<&str> = plan
        .households
        .iter()
        .map(|h| h.registry_no.as_str())
        .collect();
    let mut used: HashMap<String, (String, i64)> = HashMap::new();
    for chunk in numbers.chunks(LOOKUP) {
        let found: Vec<(String, String, i64)> = household::Entity::find()
            .select_only()
            .column(household::Column::RegistryNo)
            .column(household::Column::AreaCode)
            .column(household::Column::Id)
            .filter(household::Column::RegistryNo.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(txn)
            .await?;
        used.extend(found.into_iter().map(|(no, area, id)| (no, (area, id))));
    }
    for h in &plan.households {
        let Some((area, id)) = used.get(&h.registry_no) else {
            continue;
        };
        let message = if in_scope(area) {
            Msg::new("hh.err.registry_registered")
                .with("registry", &h.registry_no)
                .english()
        } else {
            clashes.push(Clash {
                kind: "registry_no",
                number: h.registry_no.clone(),
                existing_household: *id,
                existing_area: area.clone(),
                wanted_area: h.area_code.clone(),
            });
            Msg::new("hh.err.registry_elsewhere")
                .with("registry", &h.registry_no)
                .english()
        };
        errors.push(import::RowError::new(
            h.row,
            import::Column::RegistryNo.zh(),
            message,
        ));
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.row);
        return Err(import_error(errors));
    }
    let now = Utc::now();
    let total = plan.households.len() as u64;
    let mut written = 0u64;
    let mut member_count = 0usize;
    for chunk in plan.households.chunks(CHUNK) {
        let rows: Vec<household::ActiveModel> = chunk
            .iter()
            .map(|h| household::ActiveModel {
                registry_no: Set(h.registry_no.clone()),
                area_code: Set(h.area_code.clone()),
                village_group: Set(h.village_group.clone()),
                kind: Set(h.kind),
                status: Set(h.status),
                monitor_type: Set(h.monitor_type.map(|m| m.code().to_owned())),
                identified_year: Set(h.identified_year),
                exited_year: Set(h.exited_year),
                phone: Set(h.phone.clone()),
                address: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            })
            .collect();
        household::Entity::insert_many(rows)
            .exec_without_returning(txn)
            .await?;
        let ids: HashMap<String, i64> = household::Entity::find()
            .select_only()
            .column(household::Column::RegistryNo)
            .column(household::Column::Id)
            .filter(
                household::Column::RegistryNo.is_in(chunk.iter().map(|h| h.registry_no.clone())),
            )
            .into_tuple::<(String, i64)>()
            .all(txn)
            .await?
            .into_iter()
            .collect();
        let mut members = Vec::new();
        let mut causes = Vec::new();
        let mut incomes = Vec::new();
        for h in chunk {
            let Some(&id) = ids.get(&h.registry_no) else {
                return Err(AppError::Internal(anyhow::anyhow!(
                    "household {} vanished during import",
                    h.registry_no
                )));
            };
            for (c, primary) in h
                .primary_cause
                .iter()
                .map(|c| (c, true))
                .chain(h.other_causes.iter().map(|c| (c, false)))
            {
                causes.push(household_cause::ActiveModel {
                    household_id: Set(id),
                    cause: Set(c.code.to_owned()),
                    is_primary: Set(primary),
                    created_at: Set(now),
                    updated_at: Set(now),
                    ..Default::default()
                });
            }
            if let Some(i) = h.income {
                incomes.push(income_record::ActiveModel::net_only(
                    id,
                    i.year,
                    i.net_per_capita_fen,
                    now,
                ));
            }
            for m in &h.members {
                members.push(member_model(id, &h.area_code, m, now));
            }
        }
        member_count += members.len();
        for part in chunked(members) {
            member::Entity::insert_many(part)
                .exec_without_returning(txn)
                .await?;
        }
        for part in chunked(causes) {
            household_cause::Entity::insert_many(part)
                .exec_without_returning(txn)
                .await?;
        }
        for part in chunked(incomes) {
            income_record::Entity::insert_many(part)
                .exec_without_returning(txn)
                .await?;
        }
        written += chunk.len() as u64;
        progress(Stage::Write(written, total));
    }
    let scope = actor.and_then(Actor::scope_prefix).unwrap_or_default();
    audit::record(
        txn,
        Audit::Import,
        Entry {
            actor_id: actor.map(|a| a.id),
            entity: ENTITY,
            entity_id: None,
            area_code: Some(scope.clone()).filter(|s| !s.is_empty()),
            after: Some(json!({
                "households": plan.households.len(),
                "members": member_count,
                "scope": scope,
            })),
            ..Default::default()
        },
    )
    .await?;
    Ok(Imported {
        imported: plan.households.len(),
        members: member_count,
    })
}

fn chunked<T>(v: Vec<T>) -> Vec<Vec<T>> {
    let mut out = Vec::new();
    let mut it = v.into_iter().peekable();
    while it.peek().is_some() {
        out.push(it.by_ref().take(CHUNK).collect());
    }
    out
}
