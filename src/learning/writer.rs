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
//! A retryable failure (a serialization or lock conflict, a Galera
//! certification failure at commit, a key another process stored meanwhile)
//! is tried again in the next batch after a short jittered pause, where ids
//! already stored count as duplicates: the replay is exact. A conflict that
//! outlasts the attempts is answered 503 with Retry-After.

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
        if let Some(attempt) = retry.iter().map(|j| j.attempt).max() {
            // A conflict (a Galera certification failure at commit, a
            // deadlock): the jobs go again after a jittered pause, so that the
            // writers of two processes that collided do not collide again.
            let pause = crate::db::backoff(attempt);
            tracing::warn!(
                requests = retry.len(),
                attempt,
                pause_ms = pause.as_millis() as u64,
                "event batch conflicted; trying it again"
            );
            tokio::time::sleep(pause).await;
        }
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
            Err(e) if conflict(&e) => {
                // MySQL/MariaDB roll the whole transaction back on a deadlock
                // or a Galera certification failure, savepoints included:
                // the whole batch goes again.
                one_by_one.splice(0..0, bulk);
                let _ = txn.rollback().await;
                return fail_or_retry(one_by_one, e);
            }
            Err(e) => {
                tracing::debug!(error = %e, "a batch is applied request by request");
                one_by_one.splice(0..0, bulk);
            }
        }
    }
    let mut jobs = one_by_one.into_iter();
    while let Some(job) = jobs.next() {
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
        let r = match r {
            Ok(applied) => sp.commit().await.map(|()| applied).map_err(AppError::from),
            Err(e) => {
                if !conflict(&e) {
                    let _ = sp.rollback().await;
                }
                Err(e)
            }
        };
        match r {
            Ok(applied) => done.push((job, applied)),
            Err(e) if conflict(&e) => {
                // The transaction is gone (see above): this job, the ones
                // not tried yet and the ones already applied go again.
                let _ = txn.rollback().await;
                let mut all: Vec<Job> = done.into_iter().map(|(j, _)| j).collect();
                all.push(job);
                all.extend(jobs);
                again.extend(fail_or_retry(all, e));
                return again;
            }
            Err(e) => again.extend(fail_or_retry(vec![job], e)),
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
                    let _ = job.reply.send(Err(AppError::Db(e.clone())));
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

/// A deadlock, a lock wait timeout, a serialization or certification failure:
/// on MySQL/MariaDB the transaction has been rolled back as a whole.
fn conflict(e: &AppError) -> bool {
    matches!(e, AppError::Db(d) if crate::db::is_retryable(d))
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
            // Every request of the batch gets the cause: a database error
            // keeps its kind (a conflict or an unreachable node is a 503).
            let err = match &e {
                Some(AppError::Db(d)) => AppError::Db(d.clone()),
                _ => e.take().unwrap_or_else(|| {
                    AppError::Internal(anyhow::anyhow!("the batch of this request failed"))
                }),
            };
            let _ = job.reply.send(Err(err));
        }
    }
    again
}
