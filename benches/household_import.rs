//! Household import benchmark: generate 100,000 synthetic households (about
//! 350,000 members), write them as an import CSV, parse it, and import it
//! through the store into a fresh SQLite database in one transaction.
//!
//! cargo bench --bench household_import
//! FUZHI_BENCH_HOUSEHOLDS=20000 cargo bench --bench household_import
//!
//! The target: the whole import (check and write) under 60 s in release mode.

use std::time::Instant;

use fuzhi::households::{bulk, generate, import};

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("FUZHI_BENCH_HOUSEHOLDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().unwrap();
    let t = Instant::now();
    let data = generate::generate("530627", &[], n, 1).unwrap();
    let csv_path = dir.path().join("households.csv");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&csv_path).unwrap());
    generate::write_import_csv(&data.households, &mut f).unwrap();
    drop(f);
    let bytes = std::fs::read(&csv_path).unwrap();
    println!(
        "generated {n} households, CSV {:.1} MB in {:.1} s",
        bytes.len() as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );

    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("bench.db").display()
    );
    let db = fuzhi::db::connect(&url, 2).await.unwrap();
    fuzhi::db::migrate(&db).await.unwrap();
    let areas = data.areas_csv("530627");
    fuzhi::areas::import_csv(&db, areas.as_bytes())
        .await
        .unwrap();

    let key = b"bench hmac key 0123456789abcdef";
    let t = Instant::now();
    let plan = bulk::parse_for(&db, None, "", key, &bytes)
        .await
        .unwrap_or_else(|e| panic!("parse: {e}"));
    let parsed = t.elapsed();
    let t2 = Instant::now();
    let done = bulk::import_plan(&db, &plan, None).await.unwrap();
    let written = t2.elapsed();
    println!(
        "sqlite: parsed {} rows in {:.1} s; checked and wrote {} households, {} members in {:.1} s; total {:.1} s",
        plan.member_count(),
        parsed.as_secs_f64(),
        done.imported,
        done.members,
        written.as_secs_f64(),
        t.elapsed().as_secs_f64()
    );
    assert_eq!(done.imported, n);
    let _ = import::FileKind::Csv;
}
