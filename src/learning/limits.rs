//! How much one learner's device may send: a daily budget of events and
//! stored bytes (the shape of each event is `events::shape`). Checked on
//! the request path, before anything reaches the writer: a batch that would
//! take the learner over her budget is refused whole (429 naming the limit).
//!
//! The budget is counted from the event log (events received in the last 24
//! hours), so it holds across restarts and processes; batches in flight at
//! the same moment may each pass, so the overshoot is at most one batch per
//! concurrent request.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};

use crate::error::AppResult;

/// The most events a learner may send in 24 hours (a busy day offline is a
/// few hundred).
pub const EVENTS_A_DAY: i64 = 2000;
/// The most payload bytes a learner may store in 24 hours.
pub const BYTES_A_DAY: i64 = 1 << 20;

/// A learner's daily budget (settings `events_per_learner_per_day`,
/// `event_bytes_per_learner_per_day`; defaults `EVENTS_A_DAY`, `BYTES_A_DAY`).
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    pub events: i64,
    pub bytes: i64,
}

impl Budget {
    pub fn of(s: &crate::config::Settings) -> Budget {
        Budget {
            events: s.events_per_learner_per_day,
            bytes: s.event_bytes_per_learner_per_day,
        }
    }
}

/// What this process keeps of the learners' budgets: one lock a learner,
/// which takes her client batches through the budget check and into the
/// writer one at a time, and the count of the day's page records.
#[derive(Default)]
pub struct Budgets {
    locks: std::sync::Mutex<std::collections::HashMap<i64, std::sync::Arc<tokio::sync::Mutex<()>>>>,
    web: std::sync::Mutex<(i64, std::collections::HashMap<i64, i64>)>,
}

impl Budgets {
    /// The learner's lock (see `Budgets`).
    pub fn lock_of(&self, learner: i64) -> std::sync::Arc<tokio::sync::Mutex<()>> {
        let mut m = self.locks.lock().unwrap_or_else(|e| e.into_inner());
        if m.len() > 10_000 {
            // Forget the locks nobody holds or waits for.
            m.retain(|_, l| std::sync::Arc::strong_count(l) > 1);
        }
        m.entry(learner).or_default().clone()
    }

    /// Why `events` more records the server's own pages make for a learner
    /// would take her over the day's count, if they would: counted in
    /// memory per day (UTC), so that a page view costs no query, and
    /// reloading a page thousands of times cannot fill the disk.
    pub fn over_web(
        &self,
        budget: Budget,
        learner: i64,
        events: usize,
        now: DateTime<Utc>,
    ) -> Option<String> {
        let day = now.timestamp().div_euclid(86_400);
        let mut g = self.web.lock().unwrap_or_else(|e| e.into_inner());
        if g.0 != day {
            *g = (day, std::collections::HashMap::new());
        }
        let n = g.1.entry(learner).or_default();
        if *n + events as i64 > budget.events {
            return Some(format!(
                "at most {} page records a day per learner / 每位学员每天最多 {} 条页面记录",
                budget.events, budget.events
            ));
        }
        *n += events as i64;
        None
    }
}

/// Why a batch of `events` events and `bytes` payload bytes would take the
/// learner over her daily budget, if it would.
pub async fn over_budget(
    db: &impl ConnectionTrait,
    budget: Budget,
    learner: i64,
    events: i64,
    bytes: i64,
    now: DateTime<Utc>,
) -> AppResult<Option<String>> {
    let (events_a_day, bytes_a_day) = (budget.events, budget.bytes);
    let since = now - Duration::hours(24);
    let backend = db.get_database_backend();
    let sql = match backend {
        DatabaseBackend::Postgres => {
            "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(OCTET_LENGTH(payload)), 0) AS BIGINT) AS b \
             FROM learning_event WHERE user_id = $1 AND received_at >= $2"
        }
        DatabaseBackend::MySql => {
            "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(LENGTH(payload)), 0) AS SIGNED) AS b \
             FROM learning_event WHERE user_id = ? AND received_at >= ?"
        }
        _ => {
            "SELECT COUNT(*) AS n, COALESCE(SUM(LENGTH(CAST(payload AS BLOB))), 0) AS b \
             FROM learning_event WHERE user_id = ? AND received_at >= ?"
        }
    };
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [learner.into(), since.into()],
        ))
        .await?;
    let (n, b) = match row {
        Some(r) => (
            r.try_get::<i64>("", "n").unwrap_or(0),
            r.try_get::<i64>("", "b").unwrap_or(0),
        ),
        None => (0, 0),
    };
    Ok(if n + events > events_a_day {
        Some(format!(
            "at most {events_a_day} events a day per learner: {n} were received in the last 24 hours / 每位学员每天最多 {events_a_day} 条记录"
        ))
    } else if b + bytes > bytes_a_day {
        Some(format!(
            "at most {} KB of event data a day per learner: {} KB were received in the last 24 hours / 每位学员每天最多 {} KB 记录数据",
            bytes_a_day >> 10,
            b >> 10,
            bytes_a_day >> 10
        ))
    } else {
        None
    })
}
