//! Starting and answering: health, errors, security headers, migrations on
//! every engine, start-up failures and the demo server.

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, Statement};

use crate::engine_test;
use crate::helpers::{Serve, TestApp, binary};

async fn healthz_answers_ok(app: TestApp) {
    let res = app.get("/healthz").await;
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["db"], "ok");
}
engine_test!(healthz_answers_ok);

async fn errors_are_json_under_api_and_html_elsewhere(app: TestApp) {
    let res = app.get("/api/v1/no-such-thing").await;
    assert_eq!(res.status(), 404);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("json")
    );
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");

    let res = app.get("/no-such-page?lang=en").await;
    assert_eq!(res.status(), 404);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("text/html")
    );
    let text = res.text().await.unwrap();
    assert!(text.contains("This page was not found"), "{text}");

    // A fresh client: `?lang=en` above set a cookie that would take precedence.
    let res = crate::helpers::client()
        .get(app.url("/no-such-page"))
        .header("accept-language", "zh-CN,zh;q=0.9,en;q=0.8")
        .send()
        .await
        .unwrap();
    assert!(res.text().await.unwrap().contains("找不到这个页面"));
}
engine_test!(errors_are_json_under_api_and_html_elsewhere);

async fn every_response_has_security_headers_and_a_request_id(app: TestApp) {
    for path in ["/", "/healthz", "/api/v1/none"] {
        let res = app.get(path).await;
        let h = res.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}");
        assert!(!csp.contains("script-src 'unsafe-inline'"), "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert!(h.contains_key("referrer-policy"));
        assert_eq!(h["x-request-id"].to_str().unwrap().len(), 16);
    }
}
engine_test!(every_response_has_security_headers_and_a_request_id);

async fn migrations_go_down_and_up_again(app: TestApp) {
    let db = app.conn();
    let count_tables = || async {
        let sql = match db.get_database_backend() {
            sea_orm::DatabaseBackend::Sqlite => {
                "SELECT COUNT(*) AS n FROM sqlite_master WHERE type='table' AND name IN ('household','learning_event','mail_outbox','app_user')"
            }
            _ => {
                "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_name IN ('household','learning_event','mail_outbox','app_user') AND table_schema NOT IN ('information_schema','pg_catalog') AND (table_schema = DATABASE() OR table_schema = 'public')"
            }
        };
        let sql = if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            sql.replace(
                "(table_schema = DATABASE() OR table_schema = 'public')",
                "table_schema = 'public'",
            )
        } else {
            sql.to_string()
        };
        let row = db
            .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
            .await
            .unwrap()
            .unwrap();
        row.try_get_by_index::<i64>(0).unwrap()
    };
    assert_eq!(count_tables().await, 4);
    Migrator::down(db, None).await.expect("down");
    assert_eq!(count_tables().await, 0);
    Migrator::up(db, None).await.expect("up again");
    assert_eq!(count_tables().await, 4);
    // The poverty-cause codes of the national form are seeded by the migration.
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) FROM poverty_cause",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.try_get_by_index::<i64>(0).unwrap(), 12);
}
engine_test!(migrations_go_down_and_up_again);

#[tokio::test]
async fn a_second_start_on_the_same_data_works() {
    let db = crate::helpers::TestDb::create(crate::helpers::Engine::Sqlite)
        .await
        .unwrap();
    for _ in 0..2 {
        let app = fuzhi::Application::build(db.settings(), Default::default())
            .await
            .expect("start");
        drop(app);
    }
}

/// Runs the real binary with a bad `DATABASE_URL` and checks it ends with one
/// clear line, a non-zero exit code and no panic.
fn start_with(url: &str) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let out = binary::command(&["migrate", "status"])
        .current_dir(dir.path())
        .env("DATABASE_URL", url)
        .env("FUZHI_DATA_DIR", dir.path().join("data"))
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_bad_database_url_ends_start_up_with_one_clear_line() {
    let cases = [
        ("oracle://x/y", "unsupported scheme"),
        ("postgres://nobody@127.0.0.1:1/nothing", "cannot connect"),
        (
            "sqlite:///proc/fuzhi/no.db?mode=rwc",
            "cannot use the SQLite file",
        ),
    ];
    for (url, expect) in cases {
        let (code, stderr) = start_with(url);
        assert_ne!(code, 0, "{url}");
        assert!(stderr.contains(expect), "{url}: {stderr}");
        assert!(!stderr.contains("panicked"), "{url}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{url}: {stderr}");
    }
}

/// `serve --demo` seeds areas, people, enrollments, progress and certificates,
/// and a second run adds nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_data_is_complete_and_idempotent() {
    let app = TestApp::spawn_with(crate::helpers::Engine::Sqlite, |s| {
        s.courses_dir = Some(crate::helpers::repo_path("courses"));
    })
    .await
    .unwrap();
    fuzhi::demo::seed(&app.state).await.unwrap();
    let tables = [
        "area",
        "app_user",
        "enrollment",
        "learning_event",
        "lesson_progress",
        "quiz_attempt",
        "task_signoff",
        "certificate",
        "course",
    ];
    let mut first = Vec::new();
    for t in tables {
        first.push(app.count(t).await);
    }
    assert!(first[1] >= 20, "users: {first:?}");
    assert!(
        first[2] >= 9 && first[7] >= 3,
        "enrollments and certificates: {first:?}"
    );
    assert_eq!(first[8], 12, "all shipped courses imported");
    fuzhi::demo::seed(&app.state).await.unwrap();
    let mut second = Vec::new();
    for t in tables {
        second.push(app.count(t).await);
    }
    assert_eq!(first, second);
    // The demo admin can sign in with the password the README gives.
    let res = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .json(&serde_json::json!({"login": "admin", "password": "fuzhi-admin-2026"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .json(&serde_json::json!({"login": "13800000001", "password": "246810"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

/// `serve --demo` started from a folder inside the checkout finds the shipped
/// courses, and says where it listens and who can sign in once it answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_demo_from_a_subfolder_finds_the_courses_and_prints_the_logins() {
    let data = tempfile::tempdir().unwrap();
    let server = Serve::new("", data.path())
        .env_remove("DATABASE_URL")
        .env_remove("FUZHI_REPORT_REFRESH_SECS")
        .arg("--demo")
        .current_dir(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/src/web"
        )))
        .start()
        .await;
    assert!(
        server
            .until_logged("PIN", std::time::Duration::from_secs(60))
            .await,
        "no logins printed: {}",
        server.log()
    );
    let text = server.log();
    let addr = server.addr.clone();
    for login in [
        "admin",
        "gov.zhenxiong",
        "trainer.li",
        "13800000001",
        "246810",
    ] {
        assert!(text.contains(login), "{login} missing from: {text}");
    }
    let client = reqwest::Client::new();
    let signed_in: serde_json::Value = client
        .post(format!("{addr}/api/v1/auth/login"))
        .json(&serde_json::json!({"login": "13800000001", "password": "246810"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = signed_in["token"].as_str().unwrap_or_default().to_string();
    let page = client
        .get(format!("{addr}/api/v1/courses/smartphone-basics"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = page.status();
    let body = page.text().await.unwrap();
    drop(server);
    assert!(status.is_success(), "{status}: {body}");
    assert!(body.contains("智能手机入门"), "{body}");
}
