//! A number that cannot be used because a household of another area has it.
//! The person who typed it is told only that it cannot be used here — not
//! that it is registered elsewhere, which would tell an official where a
//! person lives outside her area. The clash is written to the audit log
//! (`conflict`) under the smallest area covering both households, so the
//! officials of that area (and the admin) see it on their household list and
//! can find which record is wrong.

use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect,
};

use crate::audit::{self, Action as Audit, Entry};
use crate::entities::change_event;
use crate::error::AppResult;
use crate::households::messages::{RegistryError, RegistryResult};
use crate::policy::Actor;

/// What was refused, for the audit row.
#[derive(Debug, Clone)]
pub struct Clash {
    /// `id_number` or `registry_no`.
    pub kind: &'static str,
    /// The last four characters of the ID number, or the registry number.
    pub number: String,
    pub existing_household: i64,
    pub existing_area: String,
    /// The area the refused record was for.
    pub wanted_area: String,
}

/// The smallest area (12-digit code) holding both codes, if any.
pub fn covering_area(a: &str, b: &str) -> Option<String> {
    if a.len() != 12 || b.len() != 12 {
        return None;
    }
    [12, 9, 6, 4, 2]
        .into_iter()
        .find(|&n| a[..n] == b[..n])
        .map(|n| format!("{:0<12}", &a[..n]))
}

/// Writes one `conflict` audit row a clash (outside the refused write's
/// transaction, which is rolled back).
pub async fn record(
    db: &impl ConnectionTrait,
    actor: Option<&Actor>,
    clashes: &[Clash],
) -> AppResult<()> {
    // A file of a hundred thousand rows must not write as many rows here.
    for c in clashes.iter().take(1000) {
        audit::record(
            db,
            Audit::Conflict,
            Entry {
                actor_id: actor.map(|a| a.id),
                entity: super::ENTITY,
                entity_id: Some(c.existing_household.to_string()),
                area_code: covering_area(&c.existing_area, &c.wanted_area),
                after: Some(serde_json::json!({
                    "kind": c.kind, "number": c.number, "wanted_area": c.wanted_area,
                    "existing_area": c.existing_area, "household": c.existing_household,
                })),
                reason: Some(format!(
                    "{} {} was refused for a household of area {}: household {} of area {} has it",
                    if c.kind == "id_number" {
                        "ID number ending"
                    } else {
                        "registry number"
                    },
                    c.number,
                    c.wanted_area,
                    c.existing_household,
                    c.existing_area
                )),
                ..Default::default()
            },
        )
        .await?;
    }
    Ok(())
}

/// Numbers held by other areas this actor tried in the last day (one
/// `conflict` row each).
pub async fn clashes_today(db: &impl ConnectionTrait, actor: i64) -> AppResult<u64> {
    use sea_orm::PaginatorTrait;
    Ok(change_event::Entity::find()
        .filter(change_event::Column::ActorId.eq(actor))
        .filter(change_event::Column::Action.eq(Audit::Conflict.as_str()))
        .filter(change_event::Column::Entity.eq(super::ENTITY))
        .filter(change_event::Column::At.gt(chrono::Utc::now() - chrono::Duration::days(1)))
        .count(db)
        .await?)
}

/// Ends a write's transaction: commits what worked; for a clash with another
/// area, rolls back, records the clash and answers a plain conflict.
pub(super) async fn settle<T>(
    db: &DatabaseConnection,
    txn: DatabaseTransaction,
    actor: &Actor,
    result: RegistryResult<T>,
) -> RegistryResult<T> {
    match result {
        Ok(v) => {
            txn.commit().await?;
            Ok(v)
        }
        Err(RegistryError::Elsewhere(msg, clashes)) => {
            txn.rollback().await?;
            record(db, Some(actor), &clashes).await?;
            Err(RegistryError::Conflict(msg))
        }
        Err(e) => Err(e),
    }
}

/// The latest clashes an actor covers both sides of (all for the admin).
pub async fn visible_to(
    db: &impl ConnectionTrait,
    actor: &Actor,
    limit: u64,
) -> AppResult<Vec<change_event::Model>> {
    let mut q = change_event::Entity::find()
        .filter(change_event::Column::Action.eq(Audit::Conflict.as_str()))
        .filter(change_event::Column::Entity.eq(super::ENTITY));
    if let Some(prefix) = actor.scope_prefix() {
        q = q.filter(change_event::Column::AreaCode.starts_with(prefix));
    }
    Ok(q.order_by_desc(change_event::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::covering_area;

    #[test]
    fn the_smallest_area_holding_both() {
        assert_eq!(
            covering_area("530627102001", "530627103001").as_deref(),
            Some("530627000000")
        );
        assert_eq!(
            covering_area("530627102001", "530627102002").as_deref(),
            Some("530627102000")
        );
        assert_eq!(
            covering_area("530627102001", "530102001001").as_deref(),
            Some("530000000000")
        );
        assert_eq!(covering_area("530627102001", "110101001001"), None);
    }
}
