//! Sign-in, tokens, CSRF, rate limits, secrets kept out of logs and audit rows.

use sea_orm::EntityTrait;

use crate::engine_test;
use crate::helpers::{PASSWORD, TestApp, VILLAGE_A, client};

async fn api_login_returns_a_token_that_works(app: TestApp) {
    app.people().await;
    let res = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .json(&serde_json::json!({"login": "trainer1", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["user"]["role"], "trainer");
    let token = body["token"].as_str().unwrap().to_string();
    let me: serde_json::Value = app
        .client
        .get(app.url("/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["login"], "trainer1");
    assert_eq!(me["scope_area_code"], "530627102000");
    assert!(me.get("password_hash").is_none());

    // Wrong password: 401 with the API error shape.
    let res = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .json(&serde_json::json!({"login": "trainer1", "password": "nope-nope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthorized");
}
engine_test!(api_login_returns_a_token_that_works);

async fn bad_tokens_are_refused(app: TestApp) {
    let p = app.people().await;
    let secret = &app.state.secrets.jwt;
    use fuzhi::accounts::tokens::{Purpose, issue};
    let me = |t: String| {
        let c = app.client.clone();
        let url = app.url("/api/v1/me");
        async move {
            c.get(url)
                .bearer_auth(t)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    let good = app.token(p.trainer).await;
    assert_eq!(me(good.clone()).await, 200);
    // Forged: signed with another key.
    let forged = issue(
        &"another-secret-0123456789abcdef0123".to_string().into(),
        p.trainer,
        0,
        Purpose::Session,
        chrono::Duration::hours(1),
    );
    assert_eq!(me(forged).await, 401);
    // Tampered: a changed payload.
    let mut parts: Vec<String> = good.split('.').map(str::to_string).collect();
    parts[1] = parts[1].chars().rev().collect();
    assert_eq!(me(parts.join(".")).await, 401);
    // Expired.
    let expired = issue(
        secret,
        p.trainer,
        0,
        Purpose::Session,
        chrono::Duration::seconds(-10),
    );
    assert_eq!(me(expired).await, 401);
    // Wrong purpose: a reset token is not a session.
    let reset = issue(
        secret,
        p.trainer,
        0,
        Purpose::Reset,
        chrono::Duration::hours(1),
    );
    assert_eq!(me(reset).await, 401);
    // Revoked: this token only.
    let t1 = app.token(p.trainer).await;
    let t2 = app.token(p.trainer).await;
    let res = app
        .client
        .post(app.url("/api/v1/auth/logout"))
        .bearer_auth(&t1)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(me(t1).await, 401);
    assert_eq!(me(t2.clone()).await, 200);
    // Everywhere: every token of the user.
    let res = app
        .client
        .post(app.url("/api/v1/auth/logout?everywhere=true"))
        .bearer_auth(&t2)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(me(t2).await, 401);
    // A tampered cookie never authenticates a page.
    let c = client();
    let res = c
        .get(app.url("/admin/users"))
        .header(
            "cookie",
            format!("fz_session={}x", app.token(p.admin).await),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert!(
        res.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/login")
    );
    // A disabled user's token stops working at once.
    let t = app.token(p.learner).await;
    let admin = app.token(p.admin).await;
    let res = app
        .client
        .patch(app.url(&format!("/api/v1/users/{}", p.learner)))
        .bearer_auth(&admin)
        .json(&serde_json::json!({"disabled": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(me(t).await, 401);
}
engine_test!(bad_tokens_are_refused);

async fn html_sign_in_sets_a_safe_cookie_and_forms_need_csrf(app: TestApp) {
    app.people().await;
    let res = app.login_form("admin1", PASSWORD).await;
    assert_eq!(res.status(), 303);
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("fz_session="))
        .expect("session cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    let page = app.get("/admin/users/new").await;
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["cache-control"], "private, no-store");
    let html = page.text().await.unwrap();
    let csrf = crate::helpers::between(&html, "name=\"csrf\" value=\"", "\"").unwrap();
    let form = |csrf: Option<&str>, login: &str| {
        let mut f = vec![
            ("login", login.to_string()),
            ("display_name", "王小花".to_string()),
            ("password", "135790".to_string()),
            ("pin", "1".to_string()),
            ("role", "learner".to_string()),
            ("area_code", VILLAGE_A.to_string()),
        ];
        if let Some(c) = csrf {
            f.push(("csrf", c.to_string()));
        }
        f
    };
    let res = app
        .client
        .post(app.url("/admin/users"))
        .form(&form(None, "13711110001"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403, "no CSRF token");
    let res = app
        .client
        .post(app.url("/admin/users"))
        .form(&form(
            Some("0123456789abcdef0123456789abcdef"),
            "13711110001",
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403, "wrong CSRF token");
    let res = app
        .client
        .post(app.url("/admin/users"))
        .form(&form(Some(&csrf), "13711110001"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "right CSRF token");
    // Cookie-authenticated JSON needs the header too.
    let res = app
        .client
        .post(app.url("/api/v1/users"))
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    // A validation error names the field.
    let res = app
        .client
        .post(app.url("/admin/users?lang=en"))
        .form(&form(Some(&csrf), "12"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("11-digit mobile number"));
}
engine_test!(html_sign_in_sets_a_safe_cookie_and_forms_need_csrf);

async fn repeated_wrong_passwords_are_rate_limited(app: TestApp) {
    app.people().await;
    let login = |pw: &'static str| {
        let c = app.client.clone();
        let url = app.url("/api/v1/auth/login");
        async move {
            c.post(url)
                .json(&serde_json::json!({"login": "official1", "password": pw}))
                .send()
                .await
                .unwrap()
        }
    };
    let mut statuses = Vec::new();
    for _ in 0..20 {
        statuses.push(login("wrong-password").await.status().as_u16());
    }
    assert!(statuses[..10].iter().all(|s| *s == 401), "{statuses:?}");
    assert!(statuses[10..].iter().all(|s| *s == 429), "{statuses:?}");
    let res = login(PASSWORD).await;
    assert_eq!(
        res.status(),
        429,
        "the right password is refused while locked"
    );
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 0 && retry <= app.state.settings.login_window_secs);
    app.state.limiter.clock.advance(retry as i64 + 1);
    assert_eq!(
        login(PASSWORD).await.status(),
        200,
        "works after the window"
    );
    let log = crate::helpers::captured_log();
    assert!(log.contains("sign-in locked"), "a log line on lockout");
}
engine_test!(repeated_wrong_passwords_are_rate_limited);

async fn pins_are_limited_more_strictly(app: TestApp) {
    app.seed_areas().await;
    fuzhi::accounts::users::create(
        app.conn(),
        None,
        &fuzhi::accounts::users::NewUser {
            login: "13912340000".into(),
            display_name: "李四".into(),
            password: "482916".into(),
            pin: true,
            role: "learner".into(),
            area_code: Some(VILLAGE_A.into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let mut statuses = Vec::new();
    for _ in 0..7 {
        let res = app
            .client
            .post(app.url("/api/v1/auth/login"))
            .json(&serde_json::json!({"login": "13912340000", "password": "000000"}))
            .send()
            .await
            .unwrap();
        statuses.push(res.status().as_u16());
    }
    assert_eq!(statuses, vec![401, 401, 401, 401, 401, 429, 429]);
}
engine_test!(pins_are_limited_more_strictly);

async fn secrets_never_reach_logs_or_audit_rows(app: TestApp) {
    app.seed_areas().await;
    let unique = format!("Sekret-{}", uuid::Uuid::new_v4().simple());
    let admin = app.user("rootadmin", "admin", None).await;
    let token = app.token(admin).await;
    // Create a user with the unique password, sign in with it, fail with it, change it.
    let res = app
        .client
        .post(app.url("/api/v1/users"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"login": "secretive", "display_name": "S", "password": unique, "role": "official", "area_code": "530627000000"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let res = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .json(&serde_json::json!({"login": "secretive", "password": unique}))
        .send()
        .await
        .unwrap();
    let session: serde_json::Value = res.json().await.unwrap();
    let session = session["token"].as_str().unwrap().to_string();
    app.client
        .post(app.url("/api/v1/auth/login"))
        .json(&serde_json::json!({"login": "secretive", "password": format!("{unique}x")}))
        .send()
        .await
        .unwrap();
    app.client
        .get(app.url("/api/v1/me"))
        .bearer_auth(&session)
        .send()
        .await
        .unwrap();
    let log = crate::helpers::captured_log();
    assert!(!log.contains(&unique), "password in the log");
    assert!(!log.contains(&session), "token in the log");
    assert!(!log.contains(&token), "token in the log");
    let rows = fuzhi::entities::change_event::Entity::find()
        .all(app.conn())
        .await
        .unwrap();
    assert!(rows.len() >= 3, "sign-ins and the creation are audited");
    for r in rows {
        let all = format!("{:?}", r);
        assert!(
            !all.contains(&unique) && !all.contains(&session),
            "secret in audit row {all}"
        );
    }
    // Nor anywhere in the user table but as an argon2id hash.
    let u = fuzhi::accounts::users::find_by_login(app.conn(), "secretive")
        .await
        .unwrap()
        .unwrap();
    assert!(u.password_hash.starts_with("$argon2id$"));
}
engine_test!(secrets_never_reach_logs_or_audit_rows);

async fn audit_log_records_sign_ins_and_role_changes(app: TestApp) {
    let p = app.people().await;
    app.client
        .post(app.url("/api/v1/auth/login"))
        .json(&serde_json::json!({"login": "official1", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    app.client
        .post(app.url("/api/v1/auth/login"))
        .json(&serde_json::json!({"login": "official1", "password": "bad-bad-bad"}))
        .send()
        .await
        .unwrap();
    let admin = app.token(p.admin).await;
    let res = app
        .client
        .patch(app.url(&format!("/api/v1/users/{}", p.official)))
        .bearer_auth(&admin)
        .json(&serde_json::json!({"role": "trainer"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let list = |q: &str| {
        let c = app.client.clone();
        let url = app.url(&format!("/api/v1/audit?{q}"));
        let t = admin.clone();
        async move {
            c.get(url)
                .bearer_auth(t)
                .send()
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap()
        }
    };
    assert_eq!(list("action=sign_in").await["total"], 1);
    assert_eq!(list("action=sign_in_failed").await["total"], 1);
    let rc = list("action=role_change").await;
    assert_eq!(rc["total"], 1);
    assert!(
        rc["items"][0]["before_json"]
            .as_str()
            .unwrap()
            .contains("official")
    );
    assert!(
        rc["items"][0]["after_json"]
            .as_str()
            .unwrap()
            .contains("trainer")
    );
    // The old token of a user whose role changed no longer works.
    let page = app
        .client
        .get(app.url("/admin/audit?action=role_change"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("role_change"));
}
engine_test!(audit_log_records_sign_ins_and_role_changes);

async fn bulk_learners_are_all_or_nothing(app: TestApp) {
    let p = app.people().await;
    let t = app.token(p.trainer).await;
    let bad = "name,phone,pin,area_code\n张三,13600000001,135790,530627102001\n李四,12345,135790,530627102001\n王五,13600000003,111111,530627102001\n赵六,13600000001,135790,530627102001\n";
    let res = app
        .client
        .post(app.url("/api/v1/users/import"))
        .bearer_auth(&t)
        .body(bad)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let body: serde_json::Value = res.json().await.unwrap();
    let errs = body["error"]["errors"].as_array().unwrap();
    let rows: Vec<u64> = errs.iter().map(|e| e["row"].as_u64().unwrap()).collect();
    assert!(
        rows.contains(&3) && rows.contains(&4) && rows.contains(&5),
        "{body}"
    );
    assert!(
        fuzhi::accounts::users::find_by_login(app.conn(), "13600000001")
            .await
            .unwrap()
            .is_none(),
        "nothing written"
    );
    let good = "姓名,手机号,PIN\n张三,13600000001,135790\n";
    // The trainer serves a township, so the village is needed.
    let res = app
        .client
        .post(app.url("/api/v1/users/import"))
        .bearer_auth(&t)
        .body(good)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let good = "姓名,手机号,PIN,行政区划代码\n张三,13600000001,135790,530627102001\n李四,13600000002,246813,530627102002\n";
    let res = app
        .client
        .post(app.url("/api/v1/users/import"))
        .bearer_auth(&t)
        .body(good)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["imported"], 2);
}
engine_test!(bulk_learners_are_all_or_nothing);

/// The import page takes a chosen CSV file (multipart) or pasted text.
async fn bulk_learners_come_from_a_file_or_pasted_text(app: TestApp) {
    let p = app.people().await;
    let t = app.token(p.trainer).await;
    let file = "name,phone,pin,area_code\r\n张三,13600000011,135790,530627102001\r\n";
    let body = format!(
        "--XyZ\r\nContent-Disposition: form-data; name=\"csv\"\r\n\r\n\r\n\
         --XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\
         Content-Type: text/csv\r\n\r\n{file}\r\n--XyZ--\r\n"
    );
    let res = app
        .client
        .post(app.url("/admin/users/import"))
        .bearer_auth(&t)
        .header("content-type", "multipart/form-data; boundary=XyZ")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("已创建 1 个学员账号"));
    let pasted = "name,phone,pin,area_code\n李四,13600000012,246813,530627102001\n";
    let res = app
        .client
        .post(app.url("/admin/users/import"))
        .bearer_auth(&t)
        .form(&[("csv", pasted)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    for login in ["13600000011", "13600000012"] {
        assert!(
            fuzhi::accounts::users::find_by_login(app.conn(), login)
                .await
                .unwrap()
                .is_some(),
            "{login} created"
        );
    }
}
engine_test!(bulk_learners_come_from_a_file_or_pasted_text);

async fn areas_import_the_official_list(app: TestApp) {
    let data = std::fs::read(crate::helpers::repo_path("tests/fixtures/areas-yunnan.csv")).unwrap();
    let r = fuzhi::areas::import_csv(app.conn(), &data).await.unwrap();
    assert_eq!(r.added, 1607);
    let again = fuzhi::areas::import_csv(app.conn(), &data).await.unwrap();
    assert_eq!((again.added, again.unchanged), (0, 1607));
    let bad = "code,name,level,parent_code\n530627999001,好村,village,530627999000\n53062710200,短码,village,\n530627102050,错级,county,\n";
    match fuzhi::areas::import_csv(app.conn(), bad.as_bytes()).await {
        Err(fuzhi::error::AppError::Import { errors, .. }) => {
            let rows: Vec<usize> = errors.iter().map(|e| e.row).collect();
            assert_eq!(rows, vec![2, 3, 4], "{errors:?}");
            assert!(errors[0].message.contains("does not exist"));
        }
        other => panic!("expected an import error, got {other:?}"),
    }
    let kids = fuzhi::areas::children(app.conn(), Some("530627000000"))
        .await
        .unwrap();
    assert_eq!(kids.len(), 30);
}
engine_test!(areas_import_the_official_list);

#[test]
fn area_codes_know_their_level_and_parent() {
    use fuzhi::areas::{AreaCode, Level};
    let v = AreaCode::parse("530627102001").unwrap();
    assert_eq!(v.level(), Level::Village);
    assert_eq!(v.parent().unwrap().as_str(), "530627102000");
    assert_eq!(AreaCode::parse("530627000000").unwrap().prefix(), "530627");
    assert!(
        AreaCode::parse("530627102000")
            .unwrap()
            .contains("530627102001")
    );
    assert!(
        !AreaCode::parse("530627102000")
            .unwrap()
            .contains("530627103001")
    );
    assert!(AreaCode::parse("5306").is_err());
}

#[test]
fn cli_creates_the_first_admin_with_the_password_from_stdin() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let mut child =
        crate::helpers::binary::command(&["users", "create", "--role", "admin", "--login", "boss"])
            .current_dir(dir.path())
            .env("FUZHI_DATA_DIR", dir.path().join("data"))
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"a-long-password\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("created admin boss"));
    let out = crate::helpers::binary::command(&[
        "areas",
        "import",
        crate::helpers::repo_path("tests/fixtures/areas-yunnan.csv")
            .to_str()
            .unwrap(),
    ])
    .current_dir(dir.path())
    .env("FUZHI_DATA_DIR", dir.path().join("data"))
    .output()
    .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("1607 areas added"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
