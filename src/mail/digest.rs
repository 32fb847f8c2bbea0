//! The weekly digest to officials: their area's enrollments, completions and
//! households reached in the past week. Queued once per official and ISO week
//! (the outbox itself records that it was queued).

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect};
use serde_json::json;

use crate::entities::{app_user, enrollment, mail_outbox};
use crate::error::AppResult;
use crate::jobs::week_start;
use crate::web::AppState;

/// Queues the digest for every official with an email who has not had this week's.
pub async fn queue_due(state: &AppState, now: DateTime<Utc>) -> AppResult<usize> {
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
        let in_area = enrollment::Column::AreaCode.starts_with(&prefix);
        let enrolled = enrollment::Entity::find()
            .filter(in_area.clone())
            .filter(enrollment::Column::EnrolledAt.gte(since))
            .count(db)
            .await?;
        let completed = enrollment::Entity::find()
            .filter(in_area.clone())
            .filter(enrollment::Column::CompletedAt.gte(since))
            .count(db)
            .await?;
        let households: Vec<Option<i64>> = enrollment::Entity::find()
            .select_only()
            .column(enrollment::Column::HouseholdId)
            .distinct()
            .filter(in_area)
            .filter(enrollment::Column::EnrolledAt.gte(since))
            .filter(enrollment::Column::HouseholdId.is_not_null())
            .into_tuple()
            .all(db)
            .await?;
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
                "enrolled": enrolled, "completed": completed, "households": households.len(),
                "from": since.format("%Y-%m-%d").to_string(), "to": now.format("%Y-%m-%d").to_string(),
                "link": format!("{}/office", state.settings.base_url()),
            }),
        )
        .await?;
        queued += 1;
    }
    Ok(queued)
}
