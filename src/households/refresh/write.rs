//! Writing what an update import changes, inside the caller's transaction.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter,
};
use serde_json::json;

use super::Refresh;
use super::compute::compute;
use crate::audit::{self, Action as Audit, Entry};
use crate::entities::{household_cause, income_record};
use crate::error::{AppError, AppResult};
use crate::households::import::{Column, ImportPlan};
use crate::households::messages::Msg;
use crate::households::store::{self, ENTITY, member_model};
use crate::policy::Actor;

pub(super) async fn write(
    txn: &sea_orm::DatabaseTransaction,
    plan: &ImportPlan,
    actor: Option<&Actor>,
    digest: Option<&str>,
) -> AppResult<Refresh> {
    let computed = compute(txn, plan, actor).await?;
    if digest.is_some_and(|d| d != computed.refresh.digest) {
        return Err(AppError::Conflict(
            Msg::new("hh.err.refresh_stale").english(),
        ));
    }
    let has = |c: Column| plan.columns.contains(&c);
    let now = Utc::now();
    for m in &computed.matched {
        let before = store::snapshot(txn, &m.record).await?;
        let h = m.file;
        let mut am = m.record.clone().into_active_model();
        am.area_code = Set(h.area_code.clone());
        if has(Column::VillageGroup) {
            am.village_group = Set(h.village_group.clone());
        }
        if has(Column::Kind) {
            am.kind = Set(h.kind);
        }
        if has(Column::Status) {
            am.status = Set(h.status);
        }
        if has(Column::MonitorType) {
            am.monitor_type = Set(h.monitor_type.map(|t| t.code().to_owned()));
        }
        if has(Column::IdentifiedYear) {
            am.identified_year = Set(h.identified_year);
        }
        if has(Column::ExitedYear) {
            am.exited_year = Set(h.exited_year);
        }
        if has(Column::Phone) {
            am.phone = Set(h.phone.clone());
        }
        am.updated_at = Set(now);
        let record = am.update(txn).await?;
        let cause_changed = m.change.changes.iter().any(|c| {
            c.member.is_none()
                && (c.field == Column::PrimaryCause.zh() || c.field == Column::OtherCauses.zh())
        });
        if cause_changed {
            household_cause::Entity::delete_many()
                .filter(household_cause::Column::HouseholdId.eq(record.id))
                .exec(txn)
                .await?;
            for (c, primary) in h
                .primary_cause
                .iter()
                .map(|c| (c, true))
                .chain(h.other_causes.iter().map(|c| (c, false)))
            {
                household_cause::ActiveModel {
                    household_id: Set(record.id),
                    cause: Set(c.code.to_owned()),
                    is_primary: Set(primary),
                    created_at: Set(now),
                    updated_at: Set(now),
                    ..Default::default()
                }
                .insert(txn)
                .await?;
            }
        }
        if let Some(i) = h.income.filter(|_| has(Column::NetPerCapitaYuan)) {
            let found = income_record::Entity::find()
                .filter(income_record::Column::HouseholdId.eq(record.id))
                .filter(income_record::Column::Year.eq(i.year))
                .one(txn)
                .await?;
            match found {
                Some(r) if r.net_per_capita_fen != i.net_per_capita_fen => {
                    let mut am = r.into_active_model();
                    am.net_per_capita_fen = Set(i.net_per_capita_fen);
                    am.updated_at = Set(now);
                    am.update(txn).await?;
                }
                Some(_) => {}
                None => {
                    income_record::ActiveModel::net_only(
                        record.id,
                        i.year,
                        i.net_per_capita_fen,
                        now,
                    )
                    .insert(txn)
                    .await?;
                }
            }
        }
        for (r, f) in &m.members {
            let mut am = r.clone().into_active_model();
            am.area_code = Set(h.area_code.clone());
            am.name = Set(f.name.clone());
            if has(Column::Relation) {
                am.relation = Set(f.relation.code().to_owned());
            }
            if has(Column::Ethnicity) {
                am.ethnicity = Set(f.ethnicity.clone());
            }
            if has(Column::Education) {
                am.education = Set(f.education.clone());
            }
            if has(Column::SchoolStatus) {
                am.school_status = Set(f.school_status.clone());
            }
            if has(Column::Labour) {
                am.labour = Set(f.labour.map(|l| l.code().to_owned()));
            }
            if has(Column::MigrantMonths) {
                am.migrant_months = Set(f.migrant_months);
            }
            if has(Column::Health) {
                am.health = Set(f.health.map(|x| x.code().to_owned()));
            }
            am.updated_at = Set(now);
            am.update(txn).await?;
        }
        for f in &m.new_members {
            member_model(record.id, &h.area_code, f, now)
                .insert(txn)
                .await?;
        }
        let after = store::snapshot(txn, &record).await?;
        audit::record(
            txn,
            Audit::Update,
            Entry {
                actor_id: actor.map(|a| a.id),
                entity: ENTITY,
                entity_id: Some(record.id.to_string()),
                area_code: Some(record.area_code.clone()),
                before: Some(before),
                after: Some(after),
                reason: Some("import_update".into()),
                ..Default::default()
            },
        )
        .await?;
    }
    if !computed.new_households.is_empty() {
        let added = ImportPlan {
            households: computed.new_households.clone(),
            id_field: plan.id_field.clone(),
            columns: plan.columns.clone(),
        };
        let mut clashes = Vec::new();
        crate::households::bulk::write_plan(txn, &added, actor, &mut clashes, &mut |_| {}).await?;
    }
    let scope = actor.and_then(Actor::scope_prefix).unwrap_or_default();
    audit::record(
        txn,
        Audit::Import,
        Entry {
            actor_id: actor.map(|a| a.id),
            entity: ENTITY,
            area_code: Some(scope.clone()).filter(|s| !s.is_empty()),
            after: Some(json!({
                "mode": "update",
                "changed": computed.refresh.changed.len(),
                "added": computed.refresh.added.len(),
                "unchanged": computed.refresh.unchanged,
            })),
            ..Default::default()
        },
    )
    .await?;
    Ok(computed.refresh)
}
