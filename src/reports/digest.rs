//! The weekly digest to officials: their area's enrollments, completions and
//! households reached in the past week. Queued once per official and ISO week
//! (the outbox itself records that it was queued). The counts come from
//! `reports::figures`, the one place report figures are defined; the mail
//! worker (`jobs`) queues it as it runs.

use chrono::{DateTime, Datelike, Utc};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;

use crate::app::AppContext;
use crate::entities::{app_user, mail_outbox};
use crate::error::AppResult;

/// Queues the digest for every official with an email who has not had this week's.
pub async fn queue_due(state: &AppContext, now: DateTime<Utc>) -> AppResult<usize> {
    let db = &state.db;
    let start = week_start(now);
    let since = now - chrono::Duration::days(7);
    let officials = app_user::Entity::find()
        .filter(app_user::Column::Role.eq("official"))
        .filter(app_user::Column::Email.is_not_null())
        .filter(app_user::Column::DisabledAt.is_null())
        .all(db)
        .await?;
    let mut queued = 0;
    for o in officials {
        let (Some(email), Some(area)) = (o.email.clone(), o.area_code.clone()) else {
            continue;
        };
        let already = mail_outbox::Entity::find()
            .filter(mail_outbox::Column::Template.eq("digest"))
            .filter(mail_outbox::Column::ToAddr.eq(email.as_str()))
            .filter(mail_outbox::Column::CreatedAt.gte(start))
            .count(db)
            .await?;
        if already > 0 {
            continue;
        }
        let prefix = crate::areas::AreaCode::parse(&area)
            .map(|a| a.prefix().to_string())
            .unwrap_or(area.clone());
        let (enrolled, completed, households) =
            crate::reports::figures::week_counts(db, &prefix, since).await?;
        let area_name = crate::areas::find(db, &area)
            .await?
            .map(|a| a.name)
            .unwrap_or(area.clone());
        crate::mail::queue(
            db,
            &state.views,
            &email,
            "digest",
            &o.locale,
            &json!({
                "name": o.display_name, "area": area_name,
                "enrolled": enrolled, "completed": completed, "households": households,
                "from": since.format("%Y-%m-%d").to_string(), "to": now.format("%Y-%m-%d").to_string(),
                "link": format!("{}/office", state.settings.base_url()),
            }),
        )
        .await?;
        queued += 1;
    }
    Ok(queued)
}

/// Monday 00:00 UTC of the week containing `t`.
pub fn week_start(t: DateTime<Utc>) -> DateTime<Utc> {
    let d = t.date_naive() - chrono::Duration::days(t.weekday().num_days_from_monday() as i64);
    d.and_hms_opt(0, 0, 0).map(|n| n.and_utc()).unwrap_or(t)
}
