//! Several `fuzhi serve` processes on one database, as behind a load balancer
//! (PostgreSQL and MariaDB; SQLite serves one machine and is left out): the
//! real binary, started two or three times on a fresh test database.
//!
//! - a sign-in lockout reached through one process holds on the others;
//! - the report rollup runs once per interval across the processes, not once
//!   per process, and a killed leader's job moves to another process within
//!   the bound the README states;
//! - with a PostgreSQL streaming replica for reads (a second cluster started
//!   here with `pg_basebackup`), the dashboard figures read through the
//!   replica catch up with a write on the primary, while a learner's own
//!   progress, read right after she records it, comes from the primary even
//!   with the replica's replay paused.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fuzhi::{Application, StartOptions};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::json;

use crate::engine_test;
use crate::helpers::{COURSE, Engine, PASSWORD, Served, TestApp, TestDb, client, init_log};

/// Starts `fuzhi serve` on the test's database (a data folder of its own),
/// refreshing the rollup every `refresh_secs` (0: never), logging at `info`;
/// returns once it answers.
async fn serve(app: &TestApp, dir: &Path, refresh_secs: u64) -> Served {
    let dir = dir.join(format!("proc-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    app.db
        .serve(&app.db.url, &dir)
        .env("FUZHI_COURSES_DIR", "")
        .env("FUZHI_REPORT_REFRESH_SECS", refresh_secs.to_string())
        .env("FUZHI_LOG", "info,sqlx=warn,sea_orm=warn")
        .env("NO_COLOR", "1")
        .start()
        .await
}

/// Waits for `cond`, checking every 50 ms, at most `limit`; whether it held.
async fn poll<F, Fut>(limit: Duration, mut cond: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    loop {
        if cond().await {
            return true;
        }
        if start.elapsed() > limit {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn login(c: &reqwest::Client, url: String, password: &str) -> reqwest::Response {
    c.post(url)
        .json(&json!({"login": "official1", "password": password}))
        .send()
        .await
        .unwrap()
}

async fn a_lockout_through_one_process_holds_on_another(app: TestApp) {
    app.people().await;
    let dir = tempfile::tempdir().unwrap();
    let a = serve(&app, dir.path(), 0).await;
    let b = serve(&app, dir.path(), 0).await;
    let c = reqwest::Client::new();
    let limit = app.state.settings.login_max_failures;
    // Wrong passwords alternate between the two processes: they count together.
    for i in 0..limit {
        let p = if i % 2 == 0 { &a } else { &b };
        let r = login(&c, p.url("/api/v1/auth/login"), "wrong-password").await;
        assert_eq!(r.status(), 401, "failure {i}");
    }
    // The tenth failure, half of them through each process, locked the pair
    // everywhere: even the right password is refused by both, and by a third.
    for url in [
        a.url("/api/v1/auth/login"),
        b.url("/api/v1/auth/login"),
        app.url("/api/v1/auth/login"),
    ] {
        let r = login(&c, url.clone(), PASSWORD).await;
        assert_eq!(r.status(), 429, "{url} refuses while locked");
        let retry: u64 = r.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            retry > 0 && retry <= app.state.settings.login_window_secs,
            "{retry}"
        );
    }
    // One lockout, audited once.
    let locked = app
        .count("change_event WHERE action = 'sign_in_locked'")
        .await;
    assert_eq!(locked, 1);
    // Another login from the same address is not concerned.
    let r = c
        .post(b.url("/api/v1/auth/login"))
        .json(&json!({"login": "trainer1", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // A quiet day later the keys are forgotten by the periodic delete.
    let keys = app.count("signin_throttle").await;
    assert!(keys >= 1);
    app.state
        .limiter
        .clock
        .advance(fuzhi::accounts::limiter::MAX_LOCK_SECS + 1);
    assert_eq!(
        app.state.limiter.prune(app.conn()).await.unwrap(),
        keys as u64
    );
    assert_eq!(app.count("signin_throttle").await, 0);
}
engine_test!(
    a_lockout_through_one_process_holds_on_another,
    on = [postgres, mysql]
);

/// How many times the rollup job has run, read from the database.
async fn runs(db: &DatabaseConnection) -> i64 {
    fuzhi::reports::rollup::runs(db).await.unwrap()
}

async fn the_rollup_runs_once_per_interval_and_moves_when_its_leader_is_killed(app: TestApp) {
    app.people().await;
    let dir = tempfile::tempdir().unwrap();
    // Every process refreshes every second, if it leads.
    let interval = Duration::from_secs(1);
    let mut procs: Vec<Served> = Vec::new();
    for _ in 0..3 {
        procs.push(serve(&app, dir.path(), 1).await);
    }
    let db = app.conn();
    let ps = &procs;
    assert!(
        poll(Duration::from_secs(30), || async move {
            runs(db).await >= 1 && ps.iter().any(|p| p.logged("became leader"))
        })
        .await,
        "no process led the rollup: {} runs; logs: {:?}",
        runs(db).await,
        procs.iter().map(|p| p.log()).collect::<Vec<_>>()
    );
    // Count the runs over several intervals.
    let r0 = runs(db).await;
    let t0 = Instant::now();
    let span = Duration::from_secs(6);
    poll(span + Duration::from_secs(1), || async move {
        t0.elapsed() >= span
    })
    .await;
    let done = runs(db).await - r0;
    let secs = t0.elapsed().as_secs_f64();
    eprintln!("{done} rollup runs in {secs:.1} s with 3 processes, 1 s interval");
    assert!(
        done as f64 <= secs + 1.0,
        "{done} runs in {secs:.1} s: more than one process runs the job"
    );
    assert!(
        done as f64 >= secs / 2.0 - 1.0,
        "{done} runs in {secs:.1} s: the leader stopped"
    );
    let leaders: Vec<usize> = (0..procs.len())
        .filter(|i| procs[*i].logged("became leader"))
        .collect();
    assert_eq!(leaders.len(), 1, "exactly one process led");

    // SIGKILL the leader: another takes over at its next try.
    let old = leaders[0];
    procs[old].kill();
    let killed = Instant::now();
    let before = runs(db).await;
    let procs = &procs;
    let moved = poll(Duration::from_secs(15), || async move {
        runs(db).await > before
            && procs
                .iter()
                .enumerate()
                .any(|(i, p)| i != old && p.logged("became leader"))
    })
    .await;
    let handover = killed.elapsed();
    eprintln!("the rollup moved to another process {handover:?} after the leader was killed");
    assert!(moved, "no process took the rollup over after the kill");
    // The stated bound (one retry interval, or a lease's end and the next
    // try), plus the run itself and the checks of a loaded test machine.
    let bound = fuzhi::leader::handover_bound(&app.db.url, interval);
    assert!(
        handover <= bound + Duration::from_secs(3),
        "handover took {handover:?}"
    );
    let new_leaders = (0..procs.len())
        .filter(|i| *i != old && procs[*i].logged("became leader"))
        .count();
    assert_eq!(new_leaders, 1, "exactly one process took over");
}
engine_test!(
    the_rollup_runs_once_per_interval_and_moves_when_its_leader_is_killed,
    on = [postgres, mysql]
);

/// A PostgreSQL hot standby of the test server, started from a base backup
/// in a temporary folder; stopped (fast shutdown) and removed when dropped.
struct Replica {
    child: Child,
    port: u16,
    user: String,
    _dir: tempfile::TempDir,
}

/// The newest PostgreSQL server binaries.
fn pg_bin() -> PathBuf {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| d.flatten().map(|e| e.path().join("bin")).collect())
        .unwrap_or_default();
    dirs.retain(|d| d.join("postgres").exists() && d.join("pg_basebackup").exists());
    dirs.sort_by_key(|d| {
        d.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    dirs.pop()
        .expect("the replica test needs the PostgreSQL server binaries (pg_basebackup, postgres) in /usr/lib/postgresql/*/bin")
}

/// The uid and gid of the `postgres` account, when this runs as root
/// (PostgreSQL refuses to run as root).
fn postgres_ids() -> Option<(u32, u32)> {
    let me = Command::new("id").arg("-u").output().ok()?;
    if String::from_utf8_lossy(&me.stdout).trim() != "0" {
        return None;
    }
    let id = |flag: &str| -> u32 {
        let o = Command::new("id")
            .args([flag, "postgres"])
            .output()
            .expect("id postgres");
        String::from_utf8_lossy(&o.stdout)
            .trim()
            .parse()
            .expect("running as root, the replica needs a postgres account")
    };
    Some((id("-u"), id("-g")))
}

fn as_postgres(cmd: &mut Command, ids: Option<(u32, u32)>) -> &mut Command {
    use std::os::unix::process::CommandExt;
    if let Some((uid, gid)) = ids {
        cmd.uid(uid).gid(gid);
    }
    cmd
}

impl Replica {
    async fn start(server: &str) -> Replica {
        let u = url::Url::parse(server).expect("FUZHI_TEST_POSTGRES_URL");
        let host = u.host_str().unwrap_or("127.0.0.1").to_string();
        let port = u.port().unwrap_or(5432);
        let user = if u.username().is_empty() {
            "postgres".to_string()
        } else {
            u.username().to_string()
        };
        // A standby needs these at least as high as its primary's.
        let primary = Database::connect(server).await.expect("primary");
        let mut settings = Vec::new();
        for name in [
            "max_connections",
            "max_worker_processes",
            "max_wal_senders",
            "max_prepared_transactions",
            "max_locks_per_transaction",
        ] {
            let row = primary
                .query_one_raw(sea_orm::Statement::from_string(
                    sea_orm::DbBackend::Postgres,
                    format!("SELECT current_setting('{name}')"),
                ))
                .await
                .unwrap()
                .unwrap();
            let v: String = row.try_get_by_index(0).unwrap();
            settings.push(format!("{name}={v}"));
        }
        primary.close().await.ok();

        let ids = postgres_ids();
        let bin = pg_bin();
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir(&data).unwrap();
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
            std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o700)).unwrap();
            if let Some((uid, gid)) = ids {
                std::os::unix::fs::chown(&data, Some(uid), Some(gid)).unwrap();
            }
        }
        let out = as_postgres(&mut Command::new(bin.join("pg_basebackup")), ids)
            .args(["-h", &host, "-p", &port.to_string(), "-U", &user, "-D"])
            .arg(&data)
            .args(["-R", "-X", "stream", "-c", "fast"])
            .output()
            .expect("run pg_basebackup");
        assert!(
            out.status.success(),
            "pg_basebackup of {host}:{port} failed: {}\n(the server must allow replication \
             connections from this user: a line `host replication all 127.0.0.1/32 trust` \
             in its pg_hba.conf, then SELECT pg_reload_conf())",
            String::from_utf8_lossy(&out.stderr)
        );
        // Debian keeps the configuration outside the data folder: give the
        // copy its own.
        for (name, text) in [
            ("postgresql.conf", ""),
            (
                "pg_hba.conf",
                "local all all trust\nhost all all 127.0.0.1/32 trust\n",
            ),
            ("pg_ident.conf", ""),
        ] {
            let p = data.join(name);
            std::fs::write(&p, text).unwrap();
            if let Some((uid, gid)) = ids {
                std::os::unix::fs::chown(&p, Some(uid), Some(gid)).unwrap();
            }
        }
        let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let rport = free.local_addr().unwrap().port();
        drop(free);
        let log = std::fs::File::create(dir.path().join("replica.log")).unwrap();
        let mut cmd = Command::new(bin.join("postgres"));
        as_postgres(&mut cmd, ids)
            .arg("-D")
            .arg(&data)
            .args(["-p", &rport.to_string(), "-k"])
            .arg(&data)
            .args(["-c", "listen_addresses=127.0.0.1"]);
        for s in &settings {
            cmd.args(["-c", s]);
        }
        let child = cmd
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start the replica");
        let replica = Replica {
            child,
            port: rport,
            user,
            _dir: dir,
        };
        let admin = replica.url("postgres");
        let ready = poll(Duration::from_secs(60), || {
            let admin = admin.clone();
            async move {
                match Database::connect(&admin).await {
                    Ok(c) => {
                        let ok = c.execute_unprepared("SELECT 1").await.is_ok();
                        c.close().await.ok();
                        ok
                    }
                    Err(_) => false,
                }
            }
        })
        .await;
        assert!(
            ready,
            "the replica did not accept connections in 60 s: {}",
            std::fs::read_to_string(replica._dir.path().join("replica.log")).unwrap_or_default()
        );
        replica
    }

    fn url(&self, database: &str) -> String {
        format!(
            "postgres://{}@127.0.0.1:{}/{database}",
            self.user, self.port
        )
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        // SIGINT: PostgreSQL's fast shutdown.
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

async fn sql(db: &DatabaseConnection, q: &str) {
    db.execute_unprepared(q).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replica_reads_catch_up_and_own_progress_reads_the_primary() {
    if !Engine::Postgres.asked_for() {
        eprintln!(
            "SKIPPED replica_reads_catch_up_and_own_progress_reads_the_primary: \
             FUZHI_TEST_ENGINES does not ask for postgres"
        );
        return;
    }
    let server = Engine::Postgres
        .server_url()
        .expect("postgres is asked for: FUZHI_TEST_POSTGRES_URL must name its server");
    init_log();
    let replica = Replica::start(&server).await;
    let db = TestDb::create(Engine::Postgres).await.unwrap();
    let name = url::Url::parse(&db.url).unwrap().path()[1..].to_string();
    let read_url = replica.url(&name);
    // The new database reaches the replica through the WAL.
    assert!(
        poll(Duration::from_secs(30), || {
            let read_url = read_url.clone();
            async move { Database::connect(&read_url).await.is_ok() }
        })
        .await,
        "the test database never reached the replica"
    );
    let url = db.url.clone();
    let result = tokio::spawn(replica_body(db, read_url.clone(), replica.url("postgres"))).await;
    crate::helpers::drop_by_url(Engine::Postgres, &url).await;
    drop(replica);
    if let Err(e) = result {
        std::panic::resume_unwind(e.into_panic());
    }
}

async fn replica_body(db: TestDb, read_url: String, replica_admin: String) {
    let mut settings = db.settings();
    settings.read_database_url = Some(read_url);
    let built = Application::build(settings, StartOptions::default())
        .await
        .expect("build the app with a replica");
    let addr = format!("http://{}", built.addr());
    let state = built.state();
    tokio::spawn(built.run());
    let app = TestApp {
        addr,
        state,
        client: client(),
        db,
    };
    assert!(app.state.replica.is_some());
    let people = app.people().await;
    app.import_course(COURSE).await;
    let learner = app.token(people.learner).await;
    let official = app.token(people.official).await;
    let (s, _) = app.enroll(&learner, COURSE).await;
    assert!(s < 300, "enroll: {s}");

    let primary_as_of = |app: &TestApp| {
        let db = app.conn().clone();
        async move {
            let (refreshed, _) = fuzhi::reports::rollup::state(&db).await.unwrap().unwrap();
            serde_json::to_value(refreshed).unwrap()
        }
    };
    let summary = |app: &TestApp| {
        let c = app.client.clone();
        let url = app.url("/api/v1/reports/summary");
        let t = official.clone();
        async move {
            let r = c.get(url).bearer_auth(t).send().await.unwrap();
            assert_eq!(r.status(), 200);
            r.json::<serde_json::Value>().await.unwrap()
        }
    };

    // A write on the primary (a rollup refresh) reaches the dashboard read
    // through the replica once it has caught up.
    fuzhi::reports::rollup::run_once(app.conn()).await.unwrap();
    let first = primary_as_of(&app).await;
    let started = Instant::now();
    assert!(
        poll(Duration::from_secs(30), || {
            let f = summary(&app);
            let want = first.clone();
            async move { f.await["as_of"] == want }
        })
        .await,
        "the replica never showed the refresh"
    );
    eprintln!("the replica showed a refresh after {:?}", started.elapsed());
    let s = summary(&app).await;
    assert!(
        s["replica_lag_secs"].as_f64().is_some(),
        "the summary says how far behind its source is: {s}"
    );

    // Pause the replica's replay: what it serves stops moving.
    let standby = Database::connect(&replica_admin).await.unwrap();
    sql(&standby, "SELECT pg_wal_replay_pause()").await;

    // The learner's own progress, read right after she records it, is the
    // primary's: correct at once.
    let lesson = app.first_lesson(COURSE).await;
    let (s, r) = app
        .post_json(
            "/api/v1/events",
            &learner,
            json!([{"id": uuid::Uuid::new_v4().to_string(), "kind": "lesson_finished",
                    "course": COURSE, "lesson": lesson,
                    "served": app.served(people.learner, COURSE, &lesson)}]),
        )
        .await;
    assert_eq!((s, r["accepted"].as_u64()), (200, Some(1)), "{r}");
    let (_, prog) = app.get_json("/api/v1/me/progress", &learner).await;
    assert_eq!(prog["items"][0]["lessons_finished"], 1, "{prog}");
    assert_eq!(prog["items"][0]["lessons"][&lesson], "finished", "{prog}");
    let page = app
        .client
        .get(app.url(&format!("/courses/{COURSE}?lang=en")))
        .bearer_auth(&learner)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);

    // Another refresh on the primary: the dashboard, read through the paused
    // replica, still shows the first one (it does read the replica), and says
    // it is read from a replica.
    fuzhi::reports::rollup::run_once(app.conn()).await.unwrap();
    let second = primary_as_of(&app).await;
    assert_ne!(first, second);
    assert_eq!(summary(&app).await["as_of"], first);
    let html = app
        .client
        .get(app.url("/office/dashboard?lang=en"))
        .bearer_auth(&official)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("read from a replica"),
        "the page names its source"
    );

    // Resumed, the replica catches up and the dashboard with it.
    sql(&standby, "SELECT pg_wal_replay_resume()").await;
    let resumed = Instant::now();
    assert!(
        poll(Duration::from_secs(30), || {
            let f = summary(&app);
            let want = second.clone();
            async move { f.await["as_of"] == want }
        })
        .await,
        "the replica never caught up after its replay resumed"
    );
    eprintln!("caught up {:?} after the replay resumed", resumed.elapsed());
    standby.close().await.ok();
}
