use std::time::Duration;

use actix_web::{HttpResponse, web};
use sea_orm::ConnectionTrait;
use serde_json::json;

use crate::app::AppContext;

/// The longest `/healthz` takes: a monitor asks again rather than wait.
const HEALTH_DEADLINE: Duration = Duration::from_secs(1);

/// `GET /healthz`: 200 when the database answers and the event writer can
/// commit, 503 with the reason otherwise, always within a second. The writer
/// is failing from a commit that failed on the database's state (a full
/// disk, an unreachable server) until a batch commits again; when it has not
/// failed for `learning::writer::HEALTH_QUIET` (no events came), each call tries one small
/// write transaction, and once that commits the writer is healthy again.
pub async fn healthz(state: web::Data<AppContext>) -> HttpResponse {
    let unavailable = |db: &str, reason: String| {
        HttpResponse::ServiceUnavailable()
            .insert_header(("Retry-After", "1"))
            .json(json!({"status": "error", "db": db, "reason": reason}))
    };
    match tokio::time::timeout(HEALTH_DEADLINE, state.db.execute_unprepared("SELECT 1")).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => {
            tracing::error!(error = %e, "health check: database unavailable");
            return unavailable(
                "unavailable",
                crate::error::AppError::Db(e).public_message(),
            );
        }
        Err(_) => {
            return unavailable(
                "unavailable",
                "the database did not answer within a second".to_string(),
            );
        }
    }
    let writer = state.events.health();
    if let Some((why, secs, recent)) = writer.failing() {
        let probe = if recent {
            None
        } else {
            Some(tokio::time::timeout(HEALTH_DEADLINE, crate::db::probe_write(&state.db)).await)
        };
        match probe {
            Some(Ok(Ok(()))) => writer.recovered(),
            outcome => {
                if let Some(Ok(Err(e))) = outcome {
                    tracing::warn!(error = %e, "health check: a write still fails");
                }
                return unavailable(
                    "cannot_write",
                    format!("the event writer cannot commit (for {secs} s): {why}"),
                );
            }
        }
    }
    HttpResponse::Ok().json(json!({"status": "ok", "db": "ok"}))
}
