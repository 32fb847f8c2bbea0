//! Running on a MariaDB Galera cluster: the schema fits Galera (a primary key
//! and InnoDB on every table), and three `fuzhi serve` processes, one per
//! node, lose no acknowledged event when a node is killed mid-run.

use sea_orm::{ConnectionTrait, Statement};

use crate::helpers::{Engine, Serve, Served, TestApp};

/// Every table of a migrated MariaDB database has a primary key and is
/// InnoDB: Galera replicates only InnoDB, and a row without a key cannot be
/// applied on the other nodes deterministically.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_table_has_a_primary_key_and_innodb() {
    let Some(app) = TestApp::spawn(Engine::MySql).await else {
        return;
    };
    let db = app.conn();
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT t.TABLE_NAME, t.ENGINE, \
               (SELECT COUNT(*) FROM information_schema.TABLE_CONSTRAINTS c \
                 WHERE c.TABLE_SCHEMA = t.TABLE_SCHEMA AND c.TABLE_NAME = t.TABLE_NAME \
                   AND c.CONSTRAINT_TYPE = 'PRIMARY KEY') \
             FROM information_schema.TABLES t \
             WHERE t.TABLE_SCHEMA = DATABASE() AND t.TABLE_TYPE = 'BASE TABLE' \
             ORDER BY t.TABLE_NAME",
        ))
        .await
        .unwrap();
    let mut bad = Vec::new();
    for r in &rows {
        let name: String = r.try_get_by_index(0).unwrap();
        let engine: String = r.try_get_by_index(1).unwrap();
        let keys: i64 = r.try_get_by_index(2).unwrap();
        if keys != 1 {
            bad.push(format!("{name}: no primary key"));
        }
        if !engine.eq_ignore_ascii_case("InnoDB") {
            bad.push(format!("{name}: engine {engine}"));
        }
    }
    assert!(
        rows.len() > 20,
        "the migrated database has only {} tables",
        rows.len()
    );
    assert!(bad.is_empty(), "tables that do not fit Galera: {bad:#?}");
    app.finish().await;
}

/// The cluster of `benches/galera/cluster`: its three SQL URLs, from
/// `FUZHI_TEST_GALERA_URLS` (comma-separated, as `.ci/test` sets it), or
/// started here when `FUZHI_TEST_GALERA=1`. None: the test is skipped.
fn cluster() -> Option<Vec<String>> {
    if let Ok(v) = std::env::var("FUZHI_TEST_GALERA_URLS")
        && !v.trim().is_empty()
    {
        let urls: Vec<String> = v.split(',').map(|s| s.trim().to_string()).collect();
        assert_eq!(
            urls.len(),
            3,
            "FUZHI_TEST_GALERA_URLS names three nodes: {v}"
        );
        return Some(urls);
    }
    if std::env::var("FUZHI_TEST_GALERA").as_deref() != Ok("1") {
        eprintln!(
            "SKIPPED: the Galera cluster test (set FUZHI_TEST_GALERA=1, or FUZHI_TEST_GALERA_URLS)"
        );
        return None;
    }
    script(&["start"]);
    let out = script(&["urls"]);
    Some(out.lines().map(str::to_string).collect())
}

/// Runs `benches/galera/cluster` with arguments; panics with its output on failure.
fn script(args: &[&str]) -> String {
    let out = std::process::Command::new(crate::helpers::repo_path("benches/galera/cluster"))
        .args(args)
        .output()
        .expect("run benches/galera/cluster");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "benches/galera/cluster {args:?} failed:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

fn with_db(url: &str, db: &str) -> String {
    let mut u = url::Url::parse(url).unwrap();
    u.set_path(&format!("/{db}"));
    u.to_string()
}

/// A fresh database on the cluster: its name, a connection of node 1 (which
/// created it; DDL replicates to all), its URL on each node, and a folder for
/// the servers' data and logs (kept when the test fails).
struct Fresh {
    name: String,
    admin: sea_orm::DatabaseConnection,
    urls: Vec<String>,
    dir: std::path::PathBuf,
}

async fn fresh(nodes: &[String], tag: &str) -> Fresh {
    let name = format!("fuzhi_{tag}_{}", uuid::Uuid::new_v4().simple());
    let admin = fuzhi::db::connect(&nodes[0], 2).await.unwrap();
    admin
        .execute_unprepared(&format!(
            "CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci"
        ))
        .await
        .unwrap();
    let urls = nodes.iter().map(|u| with_db(u, &name)).collect();
    let dir = crate::helpers::repo_path("target/galera-test").join(&name);
    std::fs::create_dir_all(&dir).unwrap();
    Fresh {
        name,
        admin,
        urls,
        dir,
    }
}

const JWT: &str = "galera-test-jwt-secret-0123456789abcdef0123";
const HMAC: &str = "galera-test-hmac-key-0123456789abcdef01234567";

async fn serve(db_url: &str, dir: &std::path::Path, n: usize) -> Served {
    serve_with(db_url, dir, n, 0).await
}

/// A server refreshing the report rollup every `refresh` seconds (0: never),
/// logging at `info` when it does (its leadership shows in the log), which
/// goes to `server{n}.log`.
async fn serve_with(db_url: &str, dir: &std::path::Path, n: usize, refresh: u64) -> Served {
    let data = dir.join(format!("server{n}"));
    std::fs::create_dir_all(&data).unwrap();
    Serve::new(db_url, &data)
        .env("FUZHI_JWT_SECRET", JWT)
        .env("FUZHI_ID_HMAC_KEY", HMAC)
        .env("FUZHI_REPORT_REFRESH_SECS", refresh.to_string())
        .env("FUZHI_DB_MAX_CONNECTIONS", "8")
        .env("FUZHI_LOG", if refresh > 0 { "info" } else { "warn" })
        .log_to(&dir.join(format!("server{n}.log")))
        .start()
        .await
}

/// A connection of one node that reads only after the node has applied every
/// write the cluster committed before the read (`wsrep_sync_wait`).
async fn causal(url: &str) -> sea_orm::DatabaseConnection {
    let db = fuzhi::db::connect(url, 1).await.unwrap();
    db.execute_unprepared("SET SESSION wsrep_sync_wait = 1")
        .await
        .unwrap();
    db
}

async fn strings(db: &sea_orm::DatabaseConnection, sql: &str) -> Vec<String> {
    db.query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get_by_index::<String>(0).unwrap())
        .collect()
}

/// Clients (tokio tasks) spread over the servers.
const CLIENTS: usize = 32;

/// Three `fuzhi serve` processes, one per node of a 3-node Galera cluster;
/// 32 clients post events over all three while one database node is killed
/// and restarted. Every acknowledged event is then on every node, the
/// derived state agrees across nodes, and the dashboard reads the same
/// through each server.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_servers_on_a_galera_cluster_lose_no_acknowledged_event() {
    use std::collections::BTreeSet;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, Instant};

    let Some(nodes) = cluster() else {
        return;
    };
    // Events acknowledged in each phase: before the kill, while node 2 is
    // down, and after it has rejoined.
    let phase: usize = std::env::var("FUZHI_TEST_GALERA_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(600);
    let started = Instant::now();

    let Fresh {
        name,
        admin,
        urls,
        dir,
    } = fresh(&nodes, "g").await;
    eprintln!("galera: server logs in {}", dir.display());

    // Server 1 migrates and imports the shipped courses; then 2 and 3 start.
    let mut servers = vec![serve(&urls[0], &dir, 1).await];
    for (n, url) in urls.iter().enumerate().skip(1) {
        servers.push(serve(url, &dir, n + 1).await);
    }
    let bases: Arc<Vec<String>> = Arc::new(servers.iter().map(|s| s.addr.clone()).collect());

    // People, through node 1: the areas, 32 learners in one village, an
    // official of its township.
    let db1 = causal(&urls[0]).await;
    fuzhi::areas::import_csv(&db1, fuzhi::demo::AREAS.as_bytes())
        .await
        .unwrap();
    let user = |login: String, role: &'static str, area: &'static str| {
        let db1 = db1.clone();
        async move {
            let u = fuzhi::accounts::users::create(
                &db1,
                None,
                &fuzhi::accounts::users::NewUser {
                    login,
                    display_name: format!("{role} galera"),
                    password: crate::helpers::PASSWORD.into(),
                    role: role.into(),
                    area_code: Some(area.into()),
                    ..Default::default()
                },
            )
            .await
            .expect("create user");
            let token = fuzhi::accounts::tokens::issue(
                &JWT.to_string().into(),
                u.id,
                u.token_version,
                fuzhi::accounts::tokens::Purpose::Session,
                chrono::Duration::hours(2),
            );
            (u.id, token)
        }
    };
    let (_, official) = user(
        "official.galera".into(),
        "official",
        crate::helpers::TOWNSHIP_A,
    )
    .await;
    let mut learners = Vec::new();
    for i in 0..CLIENTS {
        learners.push(
            user(
                format!("1390000{i:04}"),
                "learner",
                crate::helpers::VILLAGE_A,
            )
            .await,
        );
    }
    let lessons: Vec<String> = crate::helpers::shipped()
        .1
        .iter()
        .find(|c| c.course.slug == crate::helpers::COURSE)
        .unwrap()
        .course
        .lessons
        .iter()
        .map(|l| l.slug.clone())
        .collect();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    // Each learner enrols herself, through her own server.
    for (i, (_, token)) in learners.iter().enumerate() {
        let res = client
            .post(format!(
                "{}/api/v1/courses/{}/enroll",
                bases[i % 3],
                crate::helpers::COURSE
            ))
            .bearer_auth(token)
            .json(&serde_json::json!({}))
            .send()
            .await
            .unwrap();
        let status = res.status();
        assert!(
            status.is_success(),
            "enrol {i}: {status} {}",
            res.text().await.unwrap()
        );
    }

    // The clients: each posts one event a request to its own server; on an
    // error (its node is down, a 503) it sends the same event to the next
    // server. Only an answer that counts the event (accepted, or a
    // duplicate of an earlier try that did commit) acknowledges it.
    let acked = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    // Set once node 2 is back: clients return to their own server.
    let rejoined = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut tasks = Vec::new();
    for (i, (_, token)) in learners.iter().enumerate() {
        let (client, bases, token, lessons) = (
            client.clone(),
            bases.clone(),
            token.clone(),
            lessons.clone(),
        );
        let (acked, failures, stop, rejoined) = (
            acked.clone(),
            failures.clone(),
            stop.clone(),
            rejoined.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            let mut server = i % 3;
            let mut k = 0;
            let mut home_again = false;
            while !stop.load(Ordering::Relaxed) {
                k += 1;
                if !home_again && rejoined.load(Ordering::Relaxed) {
                    home_again = true;
                    server = i % 3;
                }
                let id = uuid::Uuid::new_v4();
                let lesson = &lessons[(i + k) % lessons.len()];
                // Lesson steps a phone reports (a finish needs the lesson
                // page's proof, which these clients do not load).
                let kind = "lesson_opened";
                let body = serde_json::json!([{"id": id.to_string(), "kind": kind,
                    "course": crate::helpers::COURSE, "lesson": lesson}]);
                let mut tries = 0;
                loop {
                    tries += 1;
                    assert!(tries <= 600, "client {i}: event {id} never acknowledged");
                    let res = client
                        .post(format!("{}/api/v1/events", bases[server]))
                        .bearer_auth(&token)
                        .json(&body)
                        .send()
                        .await;
                    let counted = match res {
                        Ok(r) if r.status().is_success() => {
                            let v: serde_json::Value = r.json().await.unwrap_or_default();
                            assert!(
                                v["rejected"].as_array().is_none_or(|a| a.is_empty()),
                                "client {i}: {v}"
                            );
                            v["accepted"].as_u64().unwrap_or(0)
                                + v["duplicates"].as_u64().unwrap_or(0)
                                == 1
                        }
                        Ok(r) => {
                            // Never a 500: a node down or a conflict is a 503.
                            let status = r.status().as_u16();
                            let text = r.text().await.unwrap_or_default();
                            assert!(
                                status == 503 || status == 502,
                                "client {i} on server {server}: {status} {text}"
                            );
                            false
                        }
                        Err(_) => false,
                    };
                    if counted {
                        break;
                    }
                    failures.fetch_add(1, Ordering::Relaxed);
                    server = (server + 1) % 3;
                    // Paces the retries while a node is away (bounded above).
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                mine.push(id);
                acked.fetch_add(1, Ordering::Relaxed);
            }
            mine
        }));
    }

    // Mid-run: node 2's mariadbd is killed, the clients go on over the other
    // two while it is down, then it restarts and rejoins (IST or SST).
    let wait_for = |goal: usize| {
        let acked = acked.clone();
        async move {
            let deadline = Instant::now() + Duration::from_secs(240);
            while acked.load(Ordering::Relaxed) < goal {
                assert!(
                    Instant::now() < deadline,
                    "the clients stalled at {} events",
                    acked.load(Ordering::Relaxed)
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    wait_for(phase).await;
    let at_kill = acked.load(Ordering::Relaxed);
    tokio::task::spawn_blocking(|| script(&["kill", "2"]))
        .await
        .unwrap();
    wait_for(at_kill + phase).await;
    let at_restart = acked.load(Ordering::Relaxed);
    tokio::task::spawn_blocking(|| script(&["restart", "2"]))
        .await
        .unwrap();
    let after_restart = acked.load(Ordering::Relaxed);
    rejoined.store(true, Ordering::Relaxed);
    wait_for(after_restart + phase).await;
    stop.store(true, Ordering::Relaxed);

    let mut acknowledged = BTreeSet::new();
    for t in tasks {
        acknowledged.extend(t.await.unwrap());
    }
    let total = acknowledged.len();
    assert_eq!(total, acked.load(Ordering::Relaxed));
    eprintln!(
        "galera: {total} events acknowledged in {:.1} s; node 2 killed at {at_kill}, restarted at {at_restart}, synced at {after_restart}; {} failed tries retried elsewhere",
        started.elapsed().as_secs_f64(),
        failures.load(Ordering::Relaxed)
    );
    assert!(
        at_restart > at_kill,
        "no event was acknowledged while node 2 was down"
    );

    // Every acknowledged event is on every node; the nodes agree.
    let mut per_node = Vec::new();
    for url in &urls {
        let db = causal(url).await;
        let ids: BTreeSet<uuid::Uuid> =
            strings(&db, "SELECT CAST(HEX(id) AS CHAR) FROM learning_event")
                .await
                .iter()
                .map(|h| uuid::Uuid::parse_str(h).unwrap())
                .collect();
        let missing: Vec<_> = acknowledged.difference(&ids).take(5).collect();
        assert!(
            missing.is_empty(),
            "{url}: {} acknowledged events missing, e.g. {missing:?}",
            acknowledged.difference(&ids).count()
        );
        let progress = strings(
            &db,
            "SELECT CONCAT(user_id, ' ', course_slug, ' ', lesson_slug, ' ', state) FROM lesson_progress ORDER BY user_id, course_slug, lesson_slug",
        )
        .await;
        let enrollments = strings(
            &db,
            "SELECT CONCAT(user_id, ' ', course_slug, ' ', state) FROM enrollment ORDER BY user_id, course_slug",
        )
        .await;
        per_node.push((ids, progress, enrollments));
        db.close().await.ok();
    }
    let (ids1, progress1, enrol1) = &per_node[0];
    assert!(!progress1.is_empty() && enrol1.len() == CLIENTS);
    for (n, (ids, progress, enrollments)) in per_node.iter().enumerate().skip(1) {
        assert_eq!(ids, ids1, "node {} has other events than node 1", n + 1);
        assert_eq!(
            progress,
            progress1,
            "node {} has other lesson progress",
            n + 1
        );
        assert_eq!(enrollments, enrol1, "node {} has other enrolments", n + 1);
    }

    // The dashboard: the rollup refreshed through node 1, then read as the
    // official through each server: the same figures.
    fuzhi::reports::rollup::run_once(&db1).await.unwrap();
    let mut summaries = Vec::new();
    for (n, base) in bases.iter().enumerate() {
        // A causal read on this server's node: it has applied the rollup.
        let db = causal(&urls[n]).await;
        strings(&db, "SELECT CAST(COUNT(*) AS CHAR) FROM enrollment").await;
        db.close().await.ok();
        let res = client
            .get(format!(
                "{base}/api/v1/reports/summary?area={}",
                crate::helpers::TOWNSHIP_A
            ))
            .bearer_auth(&official)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "summary through server {}", n + 1);
        summaries.push(res.json::<serde_json::Value>().await.unwrap());
    }
    let text = summaries[0].to_string();
    assert!(
        text.contains(&CLIENTS.to_string()),
        "the summary does not count the 32 learners: {text}"
    );
    assert_eq!(summaries[1], summaries[0], "server 2's dashboard differs");
    assert_eq!(summaries[2], summaries[0], "server 3's dashboard differs");

    drop(servers);
    db1.close().await.ok();
    admin
        .execute_unprepared(&format!("DROP DATABASE {name}"))
        .await
        .unwrap();
    std::fs::remove_dir_all(&dir).ok();
}

/// `db::is_retryable` on the errors real servers send: a deadlock between two
/// transactions (MariaDB 1213 / SQLSTATE 40001, PostgreSQL 40P01), a lock
/// wait timeout (MariaDB 1205), a serialization failure (PostgreSQL 40001);
/// and not on a duplicate key.
async fn real_conflicts_are_retryable(app: TestApp) {
    use sea_orm::TransactionTrait;
    if app.db.engine == Engine::Sqlite {
        return;
    }
    let db = app.conn().clone();
    let backend = db.get_database_backend();
    let pg = backend == sea_orm::DatabaseBackend::Postgres;
    db.execute_unprepared("CREATE TABLE conflict_probe (id INT PRIMARY KEY, n INT NOT NULL)")
        .await
        .unwrap();
    db.execute_unprepared("INSERT INTO conflict_probe (id, n) VALUES (1, 0), (2, 0)")
        .await
        .unwrap();
    let set = |id: i32| format!("UPDATE conflict_probe SET n = n + 1 WHERE id = {id}");

    // A deadlock: A holds row 1 and wants row 2, B holds row 2 and wants row 1.
    let a = db.begin().await.unwrap();
    let b = db.begin().await.unwrap();
    a.execute_unprepared(&set(1)).await.unwrap();
    b.execute_unprepared(&set(2)).await.unwrap();
    let a_wants = tokio::spawn(async move {
        let r = a.execute_unprepared(&set(2)).await.map(|_| ());
        (a, r)
    });
    // B's request closes the cycle; the server aborts one of the two.
    let rb = b.execute_unprepared(&set(1)).await.map(|_| ());
    let (a, ra) = a_wants.await.unwrap();
    let err = match (ra, rb) {
        (Err(e), Ok(())) | (Ok(()), Err(e)) => e,
        other => panic!("expected one deadlock, got {other:?}"),
    };
    assert!(fuzhi::db::is_retryable(&err), "a deadlock: {err}");
    a.rollback().await.ok();
    b.rollback().await.ok();

    if pg {
        // A serialization failure: two serializable transactions that each
        // read what the other writes.
        let iso = "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE";
        let a = db.begin().await.unwrap();
        let b = db.begin().await.unwrap();
        a.execute_unprepared(iso).await.unwrap();
        b.execute_unprepared(iso).await.unwrap();
        a.execute_unprepared("SELECT SUM(n) FROM conflict_probe")
            .await
            .unwrap();
        b.execute_unprepared("SELECT SUM(n) FROM conflict_probe")
            .await
            .unwrap();
        a.execute_unprepared(&set(1)).await.unwrap();
        b.execute_unprepared(&set(2)).await.unwrap();
        a.commit().await.unwrap();
        let err = b.commit().await.expect_err("a serialization failure");
        assert!(
            fuzhi::db::is_retryable(&err),
            "a serialization failure: {err}"
        );
    } else {
        // A lock wait timeout (1205).
        let a = db.begin().await.unwrap();
        let b = db.begin().await.unwrap();
        b.execute_unprepared("SET SESSION innodb_lock_wait_timeout = 1")
            .await
            .unwrap();
        a.execute_unprepared(&set(1)).await.unwrap();
        let err = b
            .execute_unprepared(&set(1))
            .await
            .expect_err("a lock wait timeout");
        assert!(fuzhi::db::is_retryable(&err), "a lock wait timeout: {err}");
        a.rollback().await.ok();
        b.rollback().await.ok();
    }

    // A duplicate key is not cured by running the same transaction again.
    let err = db
        .execute_unprepared("INSERT INTO conflict_probe (id, n) VALUES (1, 0)")
        .await
        .expect_err("a duplicate key");
    assert!(!fuzhi::db::is_retryable(&err), "a duplicate key: {err}");
}
crate::engine_test!(real_conflicts_are_retryable);

/// Three servers on the three nodes refresh the rollup every second: one of
/// them leads at a time (the lease row replicates; `GET_LOCK` would not), so
/// the job runs about once a second in all, not three times.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_servers_on_three_nodes_have_one_rollup_leader() {
    use std::time::{Duration, Instant};
    let Some(nodes) = cluster() else {
        return;
    };
    let Fresh {
        name,
        admin,
        urls,
        dir,
    } = fresh(&nodes, "l").await;
    let mut servers = vec![serve_with(&urls[0], &dir, 1, 1).await];
    for (n, url) in urls.iter().enumerate().skip(1) {
        servers.push(serve_with(url, &dir, n + 1, 1).await);
    }
    let db = causal(&urls[0]).await;
    let runs = || async { fuzhi::reports::rollup::runs(&db).await.unwrap() };
    let deadline = Instant::now() + Duration::from_secs(60);
    while runs().await < 1 {
        assert!(
            Instant::now() < deadline,
            "no server ran the rollup in 60 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (r0, t0) = (runs().await, Instant::now());
    let span = Duration::from_secs(6);
    while t0.elapsed() < span {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (done, secs) = (runs().await - r0, t0.elapsed().as_secs_f64());
    eprintln!("galera: {done} rollup runs in {secs:.1} s with 3 servers on 3 nodes");
    let leaders = (1..=3)
        .filter(|n| {
            std::fs::read_to_string(dir.join(format!("server{n}.log")))
                .unwrap_or_default()
                .contains("became leader")
        })
        .count();
    // A lease that a loaded machine failed to renew in time may pass to
    // another server (that one then leads alone): the runs say whether two
    // ever ran the job side by side.
    eprintln!("galera: {leaders} server(s) led in turn");
    assert!(leaders >= 1, "no server led");
    assert!(
        done as f64 <= secs + 1.0,
        "{done} runs in {secs:.1} s: more than one server runs the job"
    );
    assert!(done >= 2, "{done} runs in {secs:.1} s: the leader stopped");
    drop(servers);
    admin
        .execute_unprepared(&format!("DROP DATABASE {name}"))
        .await
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
