//! The household as the audit log keeps it, and the change events it leaves:
//! identity numbers only as their last four characters, never health.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

use super::ENTITY;
use super::inputs::Page;
use crate::audit::{self, Action as Audit, Entry};
use crate::entities::{change_event, household, household_cause, member};
use crate::error::AppResult;
use crate::policy::{Action, Actor};

/// The household with its causes and members, as stored now.
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

/// The members of a household, in the order they were added.
pub(super) async fn members_of(
    db: &impl ConnectionTrait,
    household_id: i64,
) -> AppResult<Vec<member::Model>> {
    Ok(member::Entity::find()
        .filter(member::Column::HouseholdId.eq(household_id))
        .order_by_asc(member::Column::Id)
        .all(db)
        .await?)
}

/// Writes a change event of the household.
pub(super) async fn log(
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

/// Logs a change of the household's members: the members before (`before`,
/// as read before the change) and as stored now.
pub(super) async fn log_members(
    db: &impl ConnectionTrait,
    actor: &Actor,
    h: &household::Model,
    before: &[member::Model],
    reason: &str,
) -> AppResult<()> {
    let members_only =
        |v: Value| json!({"members": v.get("members").cloned().unwrap_or(Value::Null)});
    let before = snapshot_of(h, &[], before);
    let after = snapshot(db, h).await?;
    log(
        db,
        actor,
        Audit::Update,
        h,
        Some(members_only(before)),
        Some(members_only(after)),
        Some(reason),
    )
    .await
}

/// Audits a change to one record kept beside the household (its income for a
/// year, a follow-up survey): before and after as `{key: record}`.
pub(super) async fn log_record(
    db: &impl ConnectionTrait,
    actor: &Actor,
    h: &household::Model,
    (key, reason): (&str, &str),
    before: Option<Value>,
    after: Value,
) -> AppResult<()> {
    let keyed = |v: Value| json!({ key: v });
    log(
        db,
        actor,
        Audit::Update,
        h,
        before.map(keyed),
        Some(keyed(after)),
        Some(reason),
    )
    .await
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
    let h = super::list::find_in_scope(db, actor, id, Action::ViewHouseholds).await?;
    let filter = audit::Filter {
        entity: Some(ENTITY.to_owned()),
        entity_id: Some(h.id.to_string()),
        ..Default::default()
    };
    let found = audit::list(db, &filter, page, per_page).await?;
    Ok(Page {
        items: found.items,
        total: found.total,
    })
}
