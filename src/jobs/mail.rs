//! The mail outbox sender: claims due mail, sends it and records the outcome.
//! `run_once` is one step, which tests call directly instead of waiting;
//! the job runner (`jobs::Jobs`) runs it on a timer inside `serve`, with the
//! weekly digest.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, LockBehavior, LockType};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect,
};

use crate::app::AppContext;
use crate::entities::mail_outbox::{self, MailState};
use crate::error::AppResult;
use crate::mail::{Message, Transport, backoff, lease_end};

const BATCH: u64 = 20;

fn due(now: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(mail_outbox::Column::State.eq(MailState::Queued))
        .add(mail_outbox::Column::NextAttemptAt.lte(now))
        .add(
            Condition::any()
                .add(mail_outbox::Column::ClaimedUntil.is_null())
                .add(mail_outbox::Column::ClaimedUntil.lt(now)),
        )
}

/// Claims due mail for this worker. PostgreSQL and MariaDB lock the rows with
/// `FOR UPDATE SKIP LOCKED` so that several processes never take the same row;
/// SQLite has one writer at a time, and the conditional update makes a claim
/// that lost a race simply not happen.
pub async fn claim(state: &AppContext, now: DateTime<Utc>) -> AppResult<Vec<mail_outbox::Model>> {
    let db = &state.db;
    if db.get_database_backend() == DatabaseBackend::Sqlite {
        // One writer at a time: each conditional update is its own atomic claim.
        let rows = mail_outbox::Entity::find()
            .filter(due(now))
            .order_by_asc(mail_outbox::Column::Id)
            .limit(BATCH)
            .all(db)
            .await?;
        return take(db, rows, now).await;
    }
    let txn = crate::db::begin_write(db).await?;
    let rows = mail_outbox::Entity::find()
        .filter(due(now))
        .order_by_asc(mail_outbox::Column::Id)
        .limit(BATCH)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .all(&txn)
        .await?;
    let claimed = take(&txn, rows, now).await?;
    txn.commit().await?;
    Ok(claimed)
}

async fn take(
    db: &impl ConnectionTrait,
    rows: Vec<mail_outbox::Model>,
    now: DateTime<Utc>,
) -> AppResult<Vec<mail_outbox::Model>> {
    let mut claimed = Vec::new();
    for r in rows {
        let res = mail_outbox::Entity::update_many()
            .col_expr(
                mail_outbox::Column::ClaimedUntil,
                Expr::value(lease_end(now)),
            )
            .filter(mail_outbox::Column::Id.eq(r.id))
            .filter(due(now))
            .exec(db)
            .await?;
        if res.rows_affected == 1 {
            claimed.push(r);
        }
    }
    Ok(claimed)
}

/// Sends what was claimed (a typed message rendered first, with the
/// templates and the site's address) and records each outcome.
pub async fn deliver(
    state: &AppContext,
    transport: &Transport,
    rows: Vec<mail_outbox::Model>,
    now: DateTime<Utc>,
) -> AppResult<usize> {
    let host = url::Url::parse(&state.settings.base_url())
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| "fuzhi.local".into());
    let max = state.settings.mail.max_attempts.max(1);
    let mut sent = 0;
    let base_url = state.settings.base_url();
    for row in rows {
        let mut am = mail_outbox::ActiveModel {
            id: Set(row.id),
            claimed_until: Set(None),
            updated_at: Set(Utc::now()),
            ..Default::default()
        };
        // A typed message is rendered now, and kept as it was sent.
        let (row, outcome) = match Message::of_row(&row) {
            None => {
                let outcome = transport.send(&state.settings.mail.from, &row, &host).await;
                (row, outcome)
            }
            Some(m) => match m.render(&state.views, &base_url) {
                Ok(r) => {
                    let row = mail_outbox::Model {
                        subject: r.subject,
                        text_body: r.text,
                        html_body: r.html,
                        ..row
                    };
                    am.subject = Set(row.subject.clone());
                    am.text_body = Set(row.text_body.clone());
                    am.html_body = Set(row.html_body.clone());
                    let outcome = transport.send(&state.settings.mail.from, &row, &host).await;
                    (row, outcome)
                }
                Err(e) => (row, Err(format!("cannot render the mail: {e}"))),
            },
        };
        match outcome {
            Ok(()) => {
                am.state = Set(MailState::Sent);
                am.sent_at = Set(Some(Utc::now()));
                am.attempts = Set(row.attempts + 1);
                am.last_error = Set(None);
                sent += 1;
            }
            Err(e) => {
                let attempts = row.attempts + 1;
                tracing::warn!(mail_id = row.id, attempts, error = %e, "mail not sent");
                am.attempts = Set(attempts);
                am.last_error = Set(Some(e.chars().take(500).collect()));
                if attempts >= max {
                    am.state = Set(MailState::Failed);
                } else {
                    am.next_attempt_at = Set(now + backoff(attempts));
                }
            }
        }
        mail_outbox::Entity::update(am).exec(&state.db).await?;
    }
    Ok(sent)
}

/// One step of the mail worker: claim, send, record. Returns how many were sent.
pub async fn run_once(
    state: &AppContext,
    transport: &Transport,
    now: DateTime<Utc>,
) -> AppResult<usize> {
    let rows = claim(state, now).await?;
    if rows.is_empty() {
        return Ok(0);
    }
    deliver(state, transport, rows, now).await
}

/// Puts a failed mail back in the queue (admin "retry").
pub async fn retry(db: &impl ConnectionTrait, id: i64) -> AppResult<bool> {
    let res = mail_outbox::Entity::update_many()
        .col_expr(mail_outbox::Column::State, Expr::value(MailState::Queued))
        .col_expr(mail_outbox::Column::Attempts, Expr::value(0))
        .col_expr(mail_outbox::Column::NextAttemptAt, Expr::value(Utc::now()))
        .col_expr(
            mail_outbox::Column::ClaimedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(mail_outbox::Column::Id.eq(id))
        .filter(mail_outbox::Column::State.eq(MailState::Failed))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// One page of the outbox in `state`, newest
/// first, and how many mails are in that state.
pub async fn outbox(
    db: &impl ConnectionTrait,
    state: MailState,
    page: u64,
    per_page: u64,
) -> AppResult<(Vec<mail_outbox::Model>, u64)> {
    use sea_orm::PaginatorTrait;
    let query = mail_outbox::Entity::find().filter(mail_outbox::Column::State.eq(state));
    let total = query.clone().count(db).await?;
    let items = query
        .order_by_desc(mail_outbox::Column::Id)
        .offset(crate::paging::offset(page, per_page))
        .limit(per_page)
        .all(db)
        .await?;
    Ok((items, total))
}
