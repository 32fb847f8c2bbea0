//! Follow-up surveys of a household (or one member) 3, 6 or 12 months after
//! training: shop activity, orders, sales and work.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseConnection, EntityTrait};
use serde_json::json;

use super::inputs::FollowUpInput;
use super::list::find_in_scope;
use super::snapshots::log_record;
use crate::db::begin_write;
use crate::entities::{follow_up, member};
use crate::households::messages::{Msg, Problems, RegistryError, RegistryResult};
use crate::households::rules::{self, MAX_FEN, clean};
use crate::policy::{Action, Actor};

/// A date (`2026-05-01`, midnight UTC) or an RFC 3339 time.
fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|t| t.and_utc())
        })
}

/// When the survey was made: now when not given; never in the future.
fn surveyed_at(s: Option<&str>, now: DateTime<Utc>) -> Result<DateTime<Utc>, Msg> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(now),
        Some(s) => match parse_time(s) {
            Some(t) if t <= now + chrono::Duration::days(1) => Ok(t),
            Some(_) => Err(Msg::new("hh.err.future")),
            None => Err(Msg::new("hh.err.not_date").with("value", s)),
        },
    }
}

/// Records a follow-up survey of the household (or one of its members).
pub async fn record_follow_up(
    db: &DatabaseConnection,
    actor: &Actor,
    household_id: i64,
    f: &FollowUpInput,
) -> RegistryResult<follow_up::Model> {
    let txn = begin_write(db).await?;
    let h = find_in_scope(&txn, actor, household_id, Action::EditHouseholds).await?;
    let mut p = Problems::new();
    if ![3, 6, 12].contains(&f.months_after) {
        p.insert("months_after".into(), Msg::new("hh.err.months_after"));
    }
    let now = Utc::now();
    let at = surveyed_at(f.surveyed_at.as_deref(), now)
        .map_err(|m| p.insert("surveyed_at".into(), m))
        .unwrap_or(now);
    if let Some(o) = f.orders_30d
        && let Err(m) = rules::between(o, 0, 100_000)
    {
        p.insert("orders_30d".into(), m);
    }
    if f.sales_30d_fen.is_some_and(|o| !(0..=MAX_FEN).contains(&o)) {
        p.insert("sales_30d_fen".into(), Msg::new("hh.err.out_of_range"));
    }
    let work_status = clean(f.work_status.as_deref());
    let notes = clean(f.notes.as_deref());
    for (field, v, max) in [("work_status", &work_status, 24), ("notes", &notes, 2000)] {
        if let Some(v) = v
            && let Err(m) = rules::text(v, max)
        {
            p.insert(field.into(), m);
        }
    }
    if let Some(mid) = f.member_id {
        let ok = member::Entity::find_by_id(mid)
            .one(&txn)
            .await?
            .is_some_and(|m| m.household_id == h.id);
        if !ok {
            p.insert("member_id".into(), Msg::new("hh.err.not_member"));
        }
    }
    if !p.is_empty() {
        return Err(RegistryError::Invalid(p));
    }
    let saved = follow_up::ActiveModel {
        household_id: Set(Some(h.id)),
        member_id: Set(f.member_id),
        area_code: Set(h.area_code.clone()),
        surveyed_at: Set(at),
        months_after: Set(f.months_after),
        shop_active: Set(f.shop_active),
        orders_30d: Set(f.orders_30d),
        sales_30d_fen: Set(f.sales_30d_fen),
        work_status: Set(work_status),
        notes: Set(notes),
        surveyor_id: Set(Some(actor.id)),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let after = json!(saved);
    log_record(&txn, actor, &h, ("follow_up", "follow-up"), None, after).await?;
    txn.commit().await?;
    Ok(saved)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_survey_date() {
        let now = Utc::now();
        assert_eq!(surveyed_at(None, now), Ok(now));
        assert_eq!(
            surveyed_at(
                Some("2026-05-01"),
                now.max(parse_time("2026-05-02").unwrap())
            )
            .map(|t| t.to_rfc3339()),
            Ok("2026-05-01T00:00:00+00:00".into())
        );
        assert_eq!(
            surveyed_at(Some("2999-01-01"), now).unwrap_err().key,
            "hh.err.future"
        );
        assert_eq!(
            surveyed_at(Some("May"), now).unwrap_err().english(),
            "May is not a date"
        );
    }
}
