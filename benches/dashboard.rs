//! Dashboard benchmark: a county with 100,000 households (about 350,000
//! members) and about 2,000,000 learning events, bulk-written; then the
//! rollup is rebuilt and the county dashboard and a township drill-down are
//! requested over HTTP, as an official of the county would.
//!
//! cargo bench --bench dashboard
//! FUZHI_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench --bench dashboard
//! FUZHI_BENCH_HOUSEHOLDS=20000 FUZHI_BENCH_RUNS=20 cargo bench --bench dashboard
//!
//! FUZHI_BENCH_SKIP_SQLITE=1 runs PostgreSQL only; FUZHI_BENCH_KEEP_DB=1 keeps
//! the PostgreSQL database for a look at its plans.
//!
//! The target: each page under 300 ms at the 95th percentile.

use std::time::{Duration, Instant};

use fuzhi::config::{MailSettings, Settings};
use fuzhi::households::{bulk, generate};
use fuzhi::{Application, StartOptions};
use sea_orm::ConnectionTrait;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn pct(mut v: Vec<Duration>, p: f64) -> f64 {
    v.sort();
    let i = ((v.len() as f64 * p).ceil() as usize).clamp(1, v.len()) - 1;
    v[i].as_secs_f64() * 1000.0
}

async fn run(engine: &str, url: &str, dir: &std::path::Path) {
    let n = env("FUZHI_BENCH_HOUSEHOLDS", 100_000);
    let per_enrollment = env("FUZHI_BENCH_EVENTS_PER_ENROLLMENT", 25);
    let runs = env("FUZHI_BENCH_RUNS", 50);
    let db = fuzhi::db::connect(url, 4).await.unwrap();
    fuzhi::db::migrate(&db).await.unwrap();

    // Areas and households, through the registry's own bulk import.
    let t = Instant::now();
    let data = generate::generate("530627", &[], n, 1).unwrap();
    let areas = data.areas_csv("530627");
    fuzhi::areas::import_csv(&db, areas.as_bytes())
        .await
        .unwrap();
    let mut csv = Vec::new();
    generate::write_import_csv(&data.households, &mut csv).unwrap();
    let key = b"bench hmac key 0123456789abcdef";
    let plan = bulk::parse_for(&db, None, "", key, &csv).await.unwrap();
    let done = bulk::import_plan(&db, &plan, None).await.unwrap();
    println!(
        "{engine}: {} households, {} members, {} villages in {:.1} s",
        done.imported,
        done.members,
        data.villages.len(),
        t.elapsed().as_secs_f64()
    );

    // Courses, then the training history, written in bulk.
    fuzhi::catalog::store::import_dir(
        &db,
        &std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("courses"),
        fuzhi::catalog::store::Origin::Import,
    )
    .await
    .unwrap();
    let t = Instant::now();
    let made = fuzhi::demo::history::generate(
        &db,
        &fuzhi::demo::history::Plan {
            prefix: "530627".into(),
            learner_share: 0.75,
            events_per_enrollment: per_enrollment,
            seed: 7,
            now: chrono::Utc::now(),
            login_prefix: "bench-".into(),
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$bm90LWEtcmVhbC1zYWx0$bm90LWEtcmVhbC1oYXNoLW5vdC1hLXJlYWwtaGFzaA"
                .into(),
            focus: None,
        },
    )
    .await
    .unwrap();
    println!(
        "{engine}: {} learners, {} enrollments, {} events, {} evidence, {} follow-ups, {} incomes in {:.1} s",
        made.learners,
        made.enrollments,
        made.events,
        made.evidence,
        made.follow_ups,
        made.incomes,
        t.elapsed().as_secs_f64()
    );

    let t = Instant::now();
    let r = fuzhi::reports::rollup::rebuild(&db).await.unwrap();
    let cells = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) FROM report_cell",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<i64>(0)
        .unwrap();
    println!(
        "{engine}: rollup rebuilt ({} villages, {cells} cells) in {:.1} s",
        r.villages,
        t.elapsed().as_secs_f64()
    );
    db.close().await.ok();

    // The app, and an official of the county.
    let settings = Settings {
        database_url: Some(url.to_string()),
        data_dir: dir.join(engine),
        addr: "127.0.0.1:0".into(),
        courses_dir: None,
        db_max_connections: 8,
        report_refresh_secs: 0,
        mail: MailSettings {
            worker: false,
            ..Default::default()
        },
        ..Settings::default()
    };
    let app = Application::build(settings, StartOptions::default())
        .await
        .unwrap();
    let base = format!("http://{}", app.addr());
    let state = app.state();
    tokio::spawn(app.run());
    let official = fuzhi::accounts::users::create(
        &state.db,
        None,
        &fuzhi::accounts::users::NewUser {
            login: "county-official".into(),
            display_name: "县办".into(),
            password: "bench-password-1".into(),
            role: "official".into(),
            area_code: Some("530627000000".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let token = fuzhi::accounts::tokens::issue(
        &state.secrets.jwt,
        official.id,
        official.token_version,
        fuzhi::accounts::tokens::Purpose::Session,
        chrono::Duration::hours(1),
    );
    let client = reqwest::Client::new();
    let township = format!("{:0<12}", data.villages[0].township_code);
    for (what, path) in [
        (
            "county dashboard",
            "/office/dashboard?area=530627000000".to_string(),
        ),
        (
            "township drill-down",
            format!("/office/dashboard?area={township}"),
        ),
        (
            "county summary API",
            "/api/v1/reports/summary?area=530627000000".to_string(),
        ),
    ] {
        let mut times = Vec::new();
        let mut bytes = 0;
        for i in 0..runs + 3 {
            let t = Instant::now();
            let res = client
                .get(format!("{base}{path}"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200, "{path}");
            bytes = res.bytes().await.unwrap().len();
            if i >= 3 {
                times.push(t.elapsed());
            }
        }
        println!(
            "{engine}: {what}: p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms over {runs} requests ({} KB)",
            pct(times.clone(), 0.5),
            pct(times.clone(), 0.95),
            pct(times, 1.0),
            bytes / 1024
        );
    }
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("bench.db").display()
    );
    if std::env::var_os("FUZHI_BENCH_SKIP_SQLITE").is_none() {
        run("sqlite", &url, dir.path()).await;
    }
    if let Ok(server) = std::env::var("FUZHI_BENCH_POSTGRES_URL") {
        let name = format!("fuzhi_bench_{}", uuid::Uuid::new_v4().simple());
        let admin = sea_orm::Database::connect(&server).await.unwrap();
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        let mut u = url::Url::parse(&server).unwrap();
        u.set_path(&format!("/{name}"));
        run("postgres", u.as_str(), dir.path()).await;
        if std::env::var_os("FUZHI_BENCH_KEEP_DB").is_some() {
            println!("postgres: kept database {name}");
        } else {
            admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await
                .ok();
        }
    }
}
