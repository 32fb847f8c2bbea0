//! Every background job of a serving process, started and stopped in one
//! place. A job is a name, an interval and one run (a step function its own
//! module owns and tests call directly); a job that must run in one process
//! only among those sharing the database runs under `crate::leader`. `stop`
//! lets each job finish the run under way, gives up leadership, and waits.

pub mod mail;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::app::AppContext;

pub use mail::{claim, deliver, outbox, retry, run_once};

/// The jobs of one process, running until [`Jobs::stop`].
pub struct Jobs {
    stop: watch::Sender<bool>,
    running: Vec<(&'static str, JoinHandle<()>)>,
}

impl Jobs {
    /// Starts what `serve` runs: reading other processes' session and course
    /// changes, forgetting old ones, the sign-in throttle's pruning, the site
    /// settings' refresh, the mail worker with the weekly digest (unless
    /// `mail.worker` is off) and the report rollup (led; unless
    /// `report_refresh_secs` is 0).
    pub fn start(ctx: Arc<AppContext>) -> anyhow::Result<Jobs> {
        let (stop, _) = watch::channel(false);
        let mut jobs = Jobs {
            stop,
            running: Vec::new(),
        };
        let c = ctx.clone();
        jobs.every("sessions", crate::accounts::sessions::POLL, move || {
            let c = c.clone();
            async move {
                if let Err(e) = c.sessions.refresh(&c.db).await {
                    tracing::warn!(error = %e, "reading session changes failed");
                }
                // Course versions travel the same way (`learning::content::Cache`).
                if let Err(e) = c.content.sync(&c.db).await {
                    tracing::warn!(error = %e, "reading the published course versions failed");
                }
            }
        });
        let c = ctx.clone();
        jobs.every("session-prune", Duration::from_secs(3600), move || {
            let c = c.clone();
            async move {
                if let Err(e) = crate::accounts::sessions::prune(&c.sessions, &c.db).await {
                    tracing::warn!(error = %e, "pruning session changes failed");
                }
            }
        });
        let c = ctx.clone();
        jobs.every(
            "throttle-prune",
            crate::accounts::limiter::PRUNE_EVERY,
            move || {
                let c = c.clone();
                async move {
                    match c.limiter.prune(&c.db).await {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(keys = n, "quiet sign-in throttle keys forgotten"),
                        Err(e) => tracing::warn!(error = %e, "sign-in throttle prune failed"),
                    }
                }
            },
        );
        let c = ctx.clone();
        jobs.every("site", crate::site::REFRESH, move || {
            let c = c.clone();
            async move {
                if let Err(e) = c.site.reload(&c.db, &c.settings.site).await {
                    tracing::warn!(error = %e, "site settings could not be read");
                }
            }
        });
        if ctx.settings.mail.worker {
            let transport = Arc::new(crate::mail::Transport::from_settings(&ctx.settings)?);
            let every = Duration::from_millis(ctx.settings.mail.poll_ms.max(100));
            let c = ctx.clone();
            jobs.every("mail", every, move || {
                let (c, transport) = (c.clone(), transport.clone());
                async move {
                    let now = Utc::now();
                    if let Err(e) = crate::reports::digest::queue_due(&c, now).await {
                        tracing::error!(error = %e, "weekly digest failed");
                    }
                    match run_once(&c, &transport, now).await {
                        Ok(n) if n > 0 => tracing::info!(sent = n, "mail sent"),
                        Ok(_) => {}
                        Err(e) => tracing::error!(error = %e, "mail worker step failed"),
                    }
                }
            });
        }
        if ctx.settings.report_refresh_secs > 0 {
            let db = ctx.db.clone();
            let handle = crate::leader::spawn_led(
                ctx.settings.database_url(),
                ctx.settings.data_dir.clone(),
                crate::reports::rollup::LEADER,
                Duration::from_secs(ctx.settings.report_refresh_secs),
                jobs.stop.subscribe(),
                move || {
                    let db = db.clone();
                    async move {
                        match crate::reports::rollup::run_once(&db).await {
                            Ok(r) if r.villages > 0 => tracing::info!(
                                full = r.full,
                                villages = r.villages,
                                cells = r.cells,
                                "report rollup refreshed"
                            ),
                            Ok(_) => {}
                            Err(e) => tracing::error!(error = %e, "report rollup refresh failed"),
                        }
                    }
                },
            );
            jobs.running.push(("report-rollup", handle));
        }
        Ok(jobs)
    }

    /// Runs `run` every `period` (the first run at once) until stopped.
    fn every<F, Fut>(&mut self, name: &'static str, period: Duration, mut run: F)
    where
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send,
    {
        let mut stop = self.stop.subscribe();
        let handle = tokio::spawn(async move {
            let mut tick = tokio::time::interval(period);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = tick.tick() => run().await,
                    _ = stop.changed() => break,
                }
            }
        });
        self.running.push((name, handle));
    }

    /// The names of the jobs running.
    pub fn names(&self) -> Vec<&'static str> {
        self.running.iter().map(|(n, _)| *n).collect()
    }

    /// Tells every job to stop after its run under way and waits for all.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for (name, handle) in self.running {
            if let Err(e) = handle.await {
                tracing::warn!(job = name, error = %e, "job ended abnormally");
            }
        }
    }
}
