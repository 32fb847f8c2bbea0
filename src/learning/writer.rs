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
//! constant number of statements (`events::apply_bulk`); submitted quizzes
//! (graded one by one) are applied request by request. A request that refuses
//! itself (a grading error, no statement failed) is rolled back to its own
//! savepoint and answered alone. A statement that fails gives up the whole
//! transaction: after `SQLITE_FULL` or an I/O error SQLite may already have
//! rolled it back, so no savepoint is trusted, and the pool closes a
//! connection that comes back inside a transaction (`db::sqlite_settled`).
//! The requests that did not fail go again, each on its own, in a fresh
//! transaction; the one whose statement failed gets its error. A full disk or
//! an unreachable database is every request's answer (507, 503) and marks
//! the writer failing for `/healthz` until a batch commits again. A conflict
//! (a serialization or lock conflict, a Galera certification failure at
//! commit, a key another process stored meanwhile) is tried again in the
//! next batch after a short jittered pause, where ids already stored count
//! as duplicates: the replay is exact. A conflict that outlasts the attempts
//! is answered 503 with Retry-After; a connection lost during `COMMIT` is 503
//! "may have been saved".

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, TransactionTrait};
use tokio::sync::{mpsc, oneshot};

use super::events::{Applied, Event, Part, apply, apply_bulk};
use crate::error::{AppError, AppResult};
use crate::policy::Actor;

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
    valid: Vec<Event>,
    now: DateTime<Utc>,
    attempt: u32,
    /// Applied on its own (in a savepoint of its own), not with the bulk
    /// statements: a batch it was part of failed.
    solo: bool,
    reply: oneshot::Sender<AppResult<Applied>>,
}

impl Job {
    fn alone(mut self) -> Job {
        self.solo = true;
        self
    }
}

/// Whether the writer can commit: the last batch that failed because of the
/// database's state (a full disk, an unreachable server), until one commits
/// again. `/healthz` reports it.
#[derive(Default)]
pub struct WriterHealth {
    /// Why, since when, and when it last failed.
    failing: std::sync::Mutex<Option<(String, std::time::Instant, std::time::Instant)>>,
}

/// How long after the writer's last failed commit `/healthz` reports it
/// without trying a write of its own: long enough not to flap while a full
/// disk still refuses batches that a one-page probe would get through.
pub const HEALTH_QUIET: std::time::Duration = std::time::Duration::from_secs(10);

impl WriterHealth {
    fn note(&self, e: &AppError) {
        // The database's state, not a conflict: a full disk, an
        // unreachable server, a commit whose outcome is unknown.
        let unavailable = match e {
            AppError::CommitUncertain(_) => true,
            AppError::Db(d) => crate::db::is_unavailable(d),
            _ => false,
        };
        if (e.is_storage_full() || unavailable)
            && let Ok(mut f) = self.failing.lock()
        {
            let now = std::time::Instant::now();
            match f.as_mut() {
                Some((_, _, last)) => *last = now,
                None => *f = Some((e.public_message(), now, now)),
            }
        }
    }

    /// Why the writer cannot commit, for how many seconds, and whether it
    /// failed within `HEALTH_QUIET` (else a probe write may clear it).
    pub fn failing(&self) -> Option<(String, u64, bool)> {
        self.failing
            .lock()
            .ok()?
            .as_ref()
            .map(|(why, since, last)| {
                (
                    why.clone(),
                    since.elapsed().as_secs(),
                    last.elapsed() < HEALTH_QUIET,
                )
            })
    }

    /// A commit went through (a batch, or the health probe's write): the
    /// writer is healthy again.
    pub fn recovered(&self) {
        if let Ok(mut f) = self.failing.lock() {
            *f = None;
        }
    }
}

/// The handle requests send to; cheap to clone.
#[derive(Clone)]
pub struct Writer {
    tx: mpsc::Sender<Job>,
    health: Arc<WriterHealth>,
}

fn stopped() -> AppError {
    AppError::Internal(anyhow::anyhow!("the event writer has stopped"))
}

impl Writer {
    /// Starts the writer task on the current runtime.
    pub fn spawn(db: DatabaseConnection) -> Writer {
        let (tx, rx) = mpsc::channel(QUEUE);
        let health = Arc::new(WriterHealth::default());
        tokio::spawn(run(db, health.clone(), rx));
        Writer { tx, health }
    }

    /// Whether the writer can commit (see `WriterHealth`).
    pub fn health(&self) -> &WriterHealth {
        &self.health
    }

    /// Applies one request's checked events; returns once they are durable.
    pub(crate) async fn write(
        &self,
        learner: &Actor,
        source: &str,
        valid: Vec<Event>,
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
        valid: Vec<Event>,
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
                solo: false,
                reply,
            })
            .await
            .map_err(|_| stopped())?;
        Ok(answer)
    }
}

async fn run(db: DatabaseConnection, health: Arc<WriterHealth>, mut rx: mpsc::Receiver<Job>) {
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
        retry = commit(&db, &health, batch).await;
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

/// How a batch's transaction ended when it could not commit.
enum Abandon {
    /// A statement failed: the transaction is given up as a whole (after an
    /// error SQLite may already have rolled it back, and a savepoint rollback
    /// cannot be trusted).
    Statement(AppError),
    /// A savepoint could not be opened, released or rolled back.
    Savepoint(AppError),
}

/// Applies a batch in one transaction and answers its requests; gives back
/// the jobs to try again.
///
/// Nothing is answered as stored before `COMMIT` returned. A failed statement
/// gives up the whole transaction (never just its savepoint: after
/// `SQLITE_FULL` or an I/O error SQLite may have rolled it all back), and the
/// connection goes back to the pool, which closes it unless it is cleanly
/// outside any transaction (`db::sqlite_settled`). The requests that did not
/// fail go again in a fresh transaction; the one whose statement failed is
/// answered with its error, unless the error is the database's state (disk
/// full, unreachable: every request gets it) or a conflict (all go again).
async fn commit(db: &DatabaseConnection, health: &WriterHealth, batch: Vec<Job>) -> Vec<Job> {
    let txn = match crate::db::begin_write(db).await {
        Ok(t) => t,
        Err(e) => {
            let e = AppError::from(e);
            health.note(&e);
            return fail_or_retry(batch, e);
        }
    };
    let (bulk, solo): (Vec<Job>, Vec<Job>) = batch
        .into_iter()
        .partition(|j| !j.solo && j.valid.iter().all(Event::is_bulk));
    let mut done: Vec<(Job, Applied)> = Vec::with_capacity(bulk.len() + solo.len());
    let mut refused: Vec<(Job, AppError)> = Vec::new();
    let mut queue: Vec<Job> = solo;
    if !bulk.is_empty() {
        match bulk_savepoint(&txn, &bulk).await {
            Ok(applied) => done.extend(bulk.into_iter().zip(applied)),
            Err(Abandon::Statement(error)) => {
                // Not any one request's fault: each goes again on its own.
                drop(txn);
                let mut all: Vec<Job> = bulk;
                for j in &mut all {
                    j.solo = true;
                }
                all.extend(queue);
                return abandoned(health, all, None, error);
            }
            Err(Abandon::Savepoint(error)) => {
                drop(txn);
                let mut all = bulk;
                all.extend(queue);
                return abandoned(health, all, None, error);
            }
        }
    }
    let mut jobs = std::mem::take(&mut queue).into_iter();
    while let Some(job) = jobs.next() {
        match one_savepoint(&txn, &job).await {
            Ok(Ok(applied)) => done.push((job, applied)),
            // The request's own refusal (a grading error), rolled back to
            // its savepoint, which SQLite confirmed: the others go on.
            Ok(Err(e)) => refused.push((job, e)),
            Err(abandon) => {
                drop(txn);
                let mut all: Vec<Job> = done.into_iter().map(|(j, _)| j).collect();
                all.extend(refused.into_iter().map(|(j, _)| j));
                let culprit = all.len();
                all.push(job);
                all.extend(jobs);
                let (error, culprit) = match abandon {
                    Abandon::Statement(error) => (error, Some(culprit)),
                    Abandon::Savepoint(error) => (error, None),
                };
                return abandoned(health, all, culprit, error);
            }
        }
    }
    match txn.commit().await {
        Ok(()) => {
            health.recovered();
            for (job, applied) in done {
                let _ = job.reply.send(Ok(applied));
            }
            for (job, e) in refused {
                let _ = job.reply.send(Err(e));
            }
            Vec::new()
        }
        Err(e) => {
            let fault = crate::db::fault(&e);
            let e = if fault == crate::db::Fault::Unavailable {
                // The connection went during COMMIT: the server may have
                // stored the batch. Ids make a resend exact.
                AppError::CommitUncertain(e)
            } else {
                AppError::Db(e)
            };
            health.note(&e);
            let mut all: Vec<Job> = done.into_iter().map(|(j, _)| j).collect();
            all.extend(refused.into_iter().map(|(j, _)| j));
            fail_or_retry(all, e)
        }
    }
}

/// Sorts the jobs of a transaction given up after `error`: the database's
/// state (disk full, unreachable) is every request's answer; a conflict sends
/// all again; otherwise the request whose statement failed is answered (or
/// goes again, for a key another writer stored first) and the others go
/// again on their own, without spending an attempt.
fn abandoned(
    health: &WriterHealth,
    jobs: Vec<Job>,
    culprit: Option<usize>,
    error: AppError,
) -> Vec<Job> {
    use crate::db::Fault;
    let fault = match &error {
        AppError::Db(d) => crate::db::fault(d),
        AppError::CommitUncertain(_) => Fault::Unavailable,
        _ => Fault::Other,
    };
    tracing::warn!(error = %error, requests = jobs.len(), "an event batch was given up");
    match (fault, culprit) {
        (Fault::Storage | Fault::Unavailable, _) => {
            health.note(&error);
            fail_or_retry(jobs, error)
        }
        (Fault::Conflict | Fault::Busy, _) => fail_or_retry(jobs, error),
        (Fault::Duplicate | Fault::Other, None) => {
            let jobs = jobs.into_iter().map(Job::alone).collect();
            fail_or_retry_as(jobs, error, true)
        }
        (Fault::Duplicate | Fault::Other, Some(i)) => {
            let mut again = Vec::with_capacity(jobs.len());
            let mut error = Some(error);
            for (k, job) in jobs.into_iter().enumerate() {
                let job = job.alone();
                match error.take_if(|_| k == i) {
                    Some(e) => {
                        again.extend(fail_or_retry_as(vec![job], e, fault == Fault::Duplicate))
                    }
                    None => again.push(job),
                }
            }
            again
        }
    }
}

/// One request's events inside a savepoint of their own. `Ok(Err(_))`: the
/// request refused itself (no statement failed) and its savepoint was rolled
/// back cleanly; `Err(_)`: the transaction must be given up.
async fn one_savepoint(
    txn: &sea_orm::DatabaseTransaction,
    job: &Job,
) -> Result<AppResult<Applied>, Abandon> {
    let sp = txn
        .begin()
        .await
        .map_err(|e| Abandon::Savepoint(e.into()))?;
    let r = apply(&sp, &job.learner, &job.source, &job.valid, job.now).await;
    match r {
        Ok(applied) => {
            sp.commit()
                .await
                .map_err(|e| Abandon::Savepoint(e.into()))?;
            Ok(Ok(applied))
        }
        Err(e @ AppError::Db(_)) | Err(e @ AppError::CommitUncertain(_)) => {
            drop(sp);
            Err(Abandon::Statement(e))
        }
        Err(e) => {
            sp.rollback()
                .await
                .map_err(|e| Abandon::Savepoint(e.into()))?;
            Ok(Err(e))
        }
    }
}

/// The bulk part of a batch in one savepoint: all of it, or the transaction
/// is given up.
async fn bulk_savepoint(
    txn: &sea_orm::DatabaseTransaction,
    jobs: &[Job],
) -> Result<Vec<Applied>, Abandon> {
    let sp = txn
        .begin()
        .await
        .map_err(|e| Abandon::Savepoint(e.into()))?;
    let parts: Vec<Part<'_>> = jobs
        .iter()
        .map(|j| Part {
            learner: &j.learner,
            source: &j.source,
            valid: &j.valid,
            now: j.now,
        })
        .collect();
    match apply_bulk(&sp, &parts).await {
        Ok(applied) => {
            sp.commit()
                .await
                .map_err(|e| Abandon::Savepoint(e.into()))?;
            Ok(applied)
        }
        Err(error) => {
            drop(sp);
            Err(Abandon::Statement(error))
        }
    }
}

/// Answers the jobs with `e`, or gives them back to go again when the
/// database says the same request is worth trying again (a replay is exact:
/// `db::is_retryable_replay`).
fn fail_or_retry(jobs: Vec<Job>, e: AppError) -> Vec<Job> {
    let retry = matches!(&e, AppError::Db(d) if crate::db::is_retryable_replay(d));
    fail_or_retry_as(jobs, e, retry)
}

fn fail_or_retry_as(jobs: Vec<Job>, e: AppError, retry: bool) -> Vec<Job> {
    let mut again = Vec::new();
    let mut e = Some(e);
    for mut job in jobs {
        job.attempt += 1;
        if retry && job.attempt < ATTEMPTS {
            again.push(job);
        } else {
            // Every request of the batch gets the cause: a database error
            // keeps its kind (a conflict or an unreachable node is a 503, a
            // full disk 507).
            let err = match &e {
                Some(AppError::Db(d)) => AppError::Db(d.clone()),
                Some(AppError::CommitUncertain(d)) => AppError::CommitUncertain(d.clone()),
                _ => e.take().unwrap_or_else(|| {
                    AppError::Internal(anyhow::anyhow!("the batch of this request failed"))
                }),
            };
            let _ = job.reply.send(Err(err));
        }
    }
    again
}
