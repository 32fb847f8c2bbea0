//! Fault: the database kills the server's connections again and again while
//! learners post events (PostgreSQL `pg_terminate_backend`, what a restart,
//! a failover or an operator does; MariaDB `KILL CONNECTION`), so that some
//! die during `COMMIT`. Every answer is 200 or 503 with Retry-After (never
//! 500), a 503 after a lost commit says the events may have been saved, and
//! no acknowledged event is lost.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};

use super::{Load, assert_none_lost, learners};
use crate::helpers::{Engine, TestApp};

async fn connections_killed_during_commit(engine: Engine) {
    let Some(app) = TestApp::spawn(engine).await else {
        return;
    };
    let (people, lessons) = learners(&app, 8).await;
    let dir = tempfile::tempdir().unwrap();
    let server = app.binary(dir.path()).await;
    let load = Load::start(&server.addr, &people, &lessons);
    assert!(load.until(60, |l| l.acked() >= 200).await);

    // Kill every connection of the server to its database, every 30 ms,
    // for 3 seconds.
    let admin = Database::connect(app.db.server()).await.unwrap();
    let name = app.db.db_name().to_string();
    let stop = Arc::new(AtomicBool::new(false));
    let killed = Arc::new(AtomicUsize::new(0));
    let killer = {
        let (stop, killed) = (stop.clone(), killed.clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let n = match engine {
                    Engine::Postgres => admin
                        .query_all_raw(Statement::from_string(
                            DbBackend::Postgres,
                            format!(
                                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                                 WHERE datname = '{name}' AND pid <> pg_backend_pid()"
                            ),
                        ))
                        .await
                        .map_or(0, |r| r.len()),
                    _ => {
                        let ids: Vec<i64> = admin
                            .query_all_raw(Statement::from_string(
                                DbBackend::MySql,
                                format!(
                                    "SELECT CAST(id AS SIGNED) FROM information_schema.processlist WHERE db = '{name}'"
                                ),
                            ))
                            .await
                            .map(|rows| {
                                rows.iter()
                                    .filter_map(|r| r.try_get_by_index::<i64>(0).ok())
                                    .collect()
                            })
                            .unwrap_or_default();
                        for id in &ids {
                            let _ = admin
                                .execute_unprepared(&format!("KILL CONNECTION {id}"))
                                .await;
                        }
                        ids.len()
                    }
                };
                killed.fetch_add(n, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(30)).await;
            }
        })
    };
    let during = load.acked();
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop.store(true, Ordering::Relaxed);
    killer.await.unwrap();
    let after_kills = load.acked();
    // Once the kills stop, events are accepted again.
    assert!(
        load.until(20, |l| l.acked() >= after_kills + 200).await,
        "no recovery after the kills: {:?}",
        load.statuses.lock().unwrap()
    );
    let (acked, statuses, codes) = load.stop().await;
    eprintln!(
        "fault: connections killed ({}): {} killed, {} events acknowledged during the kills, \
         answers other than 200 {statuses:?}, codes {codes:?}",
        engine.name(),
        killed.load(Ordering::Relaxed),
        after_kills - during
    );
    assert!(killed.load(Ordering::Relaxed) > 0, "nothing was killed");
    assert!(
        statuses.keys().all(|s| *s == 503),
        "a killed connection is a 503, never a 500: {statuses:?}"
    );
    assert!(
        codes
            .keys()
            .all(|c| ["unavailable", "maybe_saved", "busy"].contains(&c.as_str())),
        "{codes:?}"
    );
    drop(server);
    assert_none_lost(
        &format!("connections killed ({})", engine.name()),
        app.conn(),
        &acked,
    )
    .await;
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn connections_killed_during_commit_postgres() {
    connections_killed_during_commit(Engine::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn connections_killed_during_commit_mysql() {
    connections_killed_during_commit(Engine::MySql).await;
}
