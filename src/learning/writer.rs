//! Group commit for progress. One writer task per process takes the checked
//! events of every request, applies as many as are waiting (up to
//! `MAX_EVENTS`) in one write transaction, and answers each request only
//! after that transaction is durable. Under load, the requests that arrive
//! while one batch commits form the next: one commit (one fsync on SQLite)
//! serves many learners, and no request waits for a timer when the server is
//! quiet.
//!
//! The lesson steps and answers of all the batch's requests (nearly every
//! event: a page view, a lesson read on the phone) are written together in a
//! constant number of statements (`events::apply_bulk`), inside one savepoint.
//! Should that fail, and for submitted quizzes (graded one by one), each
//! request's events are applied inside a savepoint of its own, so one
//! request that fails (a grading error, a key taken by another process in the
//! same instant) is rolled back and answered alone while the others commit.
//! A retryable failure (a serialization or lock conflict, a key another
//! process stored meanwhile) is tried again in the next batch, where ids
//! already stored count as duplicates: the replay is exact.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, TransactionTrait};
use tokio::sync::{mpsc, oneshot};

use super::events::{Applied, Part, Valid, apply, apply_bulk};
use crate::error::{AppError, AppResult};
use crate::policy::Actor;
use crate::views::Views;

/// Events one transaction holds at most.
pub const MAX_EVENTS: usize = 2_000;
/// Times a request's events are tried before its failure is answered.
const ATTEMPTS: u32 = 5;
/// Requests waiting at most; past it a request waits for room, so a burst
/// the database cannot absorb slows requests down instead of filling memory.
const QUEUE: usize = 8_192;

struct Job {
    learner: Actor,
    source: String,
    valid: Vec<Valid>,
    now: DateTime<Utc>,
    attempt: u32,
    reply: oneshot::Sender<AppResult<Applied>>,
}

/// The handle requests send to; cheap to clone.
#[derive(Clone)]
pub struct Writer {
    tx: mpsc::Sender<Job>,
}

fn stopped() -> AppError {
    AppError::Internal(anyhow::anyhow!("the event writer has stopped"))
}

impl Writer {
    /// Starts the writer task on the current runtime.
    pub fn spawn(db: DatabaseConnection, views: Arc<Views>, base_url: String) -> Writer {
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(run(db, views, base_url, rx));
        Writer { tx }
    }

    /// Applies one request's checked events; returns once they are durable.
    pub(crate) async fn write(
        &self,
        learner: &Actor,
        source: &str,
        valid: Vec<Valid>,
        now: DateTime<Utc>,
    ) -> AppResult<Applied> {
        let answer = self.submit(learner, source, valid, now).await?;
        answer.await.map_err(|_| stopped())?
    }

    /// Queues one request's checked events; the answer comes once they are
    /// durable (or have failed).
    pub(crate) async fn submit(
        &self,
        learner: &Actor,
        source: &str,
        valid: Vec<Valid>,
        now: DateTime<Utc>,
    ) -> AppResult<oneshot::Receiver<AppResult<Applied>>> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Job {
                learner: learner.clone(),
                source: source.to_string(),
                valid,
                now,
                attempt: 0,
                reply,
            })
            .await
            .map_err(|_| stopped())?;
        Ok(answer)
    }
}

async fn run(
    db: DatabaseConnection,
    views: Arc<Views>,
    base_url: String,
    mut rx: mpsc::Receiver<Job>,
) {
    let mut retry: Vec<Job> = Vec::new();
    loop {
        let mut batch = std::mem::take(&mut retry);
        if batch.is_empty() {
            match rx.recv().await {
                Some(j) => batch.push(j),
                None => return,
            }
        }
        let mut events: usize = batch.iter().map(|j| j.valid.len()).sum();
        while events < MAX_EVENTS {
            match rx.try_recv() {
                Ok(j) => {
                    events += j.valid.len();
                    batch.push(j);
                }
                Err(_) => break,
            }
        }
        retry = commit(&db, &views, &base_url, batch).await;
    }
}

/// Applies a batch in one transaction and answers its requests; gives back
/// the jobs to try again.
async fn commit(
    db: &DatabaseConnection,
    views: &Views,
    base_url: &str,
    batch: Vec<Job>,
) -> Vec<Job> {
    let txn = match crate::db::begin_write(db).await {
        Ok(t) => t,
        Err(e) => return fail_or_retry(batch, e.into()),
    };
    let mut done: Vec<(Job, Applied)> = Vec::with_capacity(batch.len());
    let mut again = Vec::new();
    let (bulk, mut one_by_one): (Vec<Job>, Vec<Job>) = batch
        .into_iter()
        .partition(|j| j.valid.iter().all(Valid::is_bulk));
    if !bulk.is_empty() {
        match bulk_savepoint(&txn, &bulk, views, base_url).await {
            Ok(applied) => done.extend(bulk.into_iter().zip(applied)),
            Err(e) => {
                tracing::debug!(error = %e, "a batch is applied request by request");
                one_by_one.splice(0..0, bulk);
            }
        }
    }
    for job in one_by_one {
        let sp = match txn.begin().await {
            Ok(sp) => sp,
            Err(e) => {
                again.extend(fail_or_retry(vec![job], e.into()));
                continue;
            }
        };
        let r = apply(
            &sp,
            &job.learner,
            &job.source,
            &job.valid,
            job.now,
            Some(views),
            base_url,
        )
        .await;
        match r {
            Ok(applied) => match sp.commit().await {
                Ok(()) => done.push((job, applied)),
                Err(e) => again.extend(fail_or_retry(vec![job], e.into())),
            },
            Err(e) => {
                let _ = sp.rollback().await;
                again.extend(fail_or_retry(vec![job], e));
            }
        }
    }
    match txn.commit().await {
        Ok(()) => {
            for (job, applied) in done {
                let _ = job.reply.send(Ok(applied));
            }
        }
        Err(e) => {
            let retryable = super::is_retryable(&e);
            for (mut job, _) in done {
                job.attempt += 1;
                if retryable && job.attempt < ATTEMPTS {
                    again.push(job);
                } else {
                    let _ = job
                        .reply
                        .send(Err(AppError::Db(sea_orm::DbErr::Custom(format!(
                            "commit failed: {e}"
                        )))));
                }
            }
        }
    }
    again
}

/// The bulk part of a batch in one savepoint: all of it, or none.
async fn bulk_savepoint(
    txn: &sea_orm::DatabaseTransaction,
    jobs: &[Job],
    views: &Views,
    base_url: &str,
) -> AppResult<Vec<Applied>> {
    let sp = txn.begin().await?;
    let parts: Vec<Part<'_>> = jobs
        .iter()
        .map(|j| Part {
            learner: &j.learner,
            source: &j.source,
            valid: &j.valid,
            now: j.now,
        })
        .collect();
    match apply_bulk(&sp, &parts, Some(views), base_url).await {
        Ok(applied) => {
            sp.commit().await?;
            Ok(applied)
        }
        Err(e) => {
            let _ = sp.rollback().await;
            Err(e)
        }
    }
}

fn fail_or_retry(jobs: Vec<Job>, e: AppError) -> Vec<Job> {
    let retryable = matches!(&e, AppError::Db(d) if super::is_retryable(d));
    let mut again = Vec::new();
    let mut e = Some(e);
    for mut job in jobs {
        job.attempt += 1;
        if retryable && job.attempt < ATTEMPTS {
            again.push(job);
        } else {
            let err = e.take().unwrap_or_else(|| {
                AppError::Internal(anyhow::anyhow!("the batch of this request failed"))
            });
            let _ = job.reply.send(Err(err));
        }
    }
    again
}
