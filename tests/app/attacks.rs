//! Attacks on the running server and what stops each: a decompression bomb,
//! locking people out by wrong passwords, forged `X-Forwarded-For`, open
//! redirects, CSRF around a bearer header, formula injection in CSV, huge
//! page numbers, half-done bulk enrolment, probing another area's numbers,
//! cookies over plain HTTP and oversized bodies.

use std::io::{Read, Write};

use serde_json::{Value, json};

use fuzhi::config::Settings;

use crate::engine_test;
use crate::helpers::{Engine, PASSWORD, TestApp, VILLAGE_A, VILLAGE_B, between};

// ---- 1. decompression bomb --------------------------------------------------------

/// A valid one-member workbook whose shared strings are rewritten so that the
/// name cell unpacks to `name_bytes` bytes of text (packed, a few hundred KB).
fn bomb_xlsx(name_bytes: usize) -> Vec<u8> {
    let template = fuzhi::households::import::template_csv();
    let mut rows = template.trim_start_matches('\u{feff}').lines();
    let header: Vec<&str> = rows.next().unwrap().split(',').collect();
    let mut example: Vec<String> = rows
        .next()
        .unwrap()
        .split(',')
        .map(str::to_string)
        .collect();
    let name_col = header.iter().position(|h| *h == "姓名").unwrap();
    example[name_col] = "BOMBNAME".into();
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in header.iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    for (c, v) in example.iter().enumerate() {
        sheet.write_string(1, c as u16, v.as_str()).unwrap();
    }
    let plain = book.save_to_buffer().unwrap();

    let mut src = zip::ZipArchive::new(std::io::Cursor::new(plain)).unwrap();
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let mut replaced = false;
    for i in 0..src.len() {
        let mut part = src.by_index(i).unwrap();
        let name = part.name().to_string();
        let mut data = Vec::new();
        part.read_to_end(&mut data).unwrap();
        out.start_file(name.as_str(), opts).unwrap();
        let text = String::from_utf8_lossy(&data).into_owned();
        if let Some((before, after)) = text.split_once("BOMBNAME") {
            replaced = true;
            out.write_all(before.as_bytes()).unwrap();
            let chunk = vec![b'A'; 1 << 20];
            let mut left = name_bytes;
            while left > 0 {
                let n = left.min(chunk.len());
                out.write_all(&chunk[..n]).unwrap();
                left -= n;
            }
            out.write_all(after.as_bytes()).unwrap();
        } else {
            out.write_all(&data).unwrap();
        }
    }
    assert!(replaced, "the name cell was found in the workbook");
    out.finish().unwrap().into_inner()
}

async fn import_bytes(app: &TestApp, token: &str, bytes: Vec<u8>) -> (u16, Value) {
    app.import(
        token,
        "/api/v1/households/import",
        "application/octet-stream",
        bytes,
    )
    .await
}

async fn workbook_bomb_is_refused_early(app: TestApp) {
    app.seed_areas().await;
    let admin = app.user("admin1", "admin", None).await;
    let token = app.token(admin).await;
    // 256 MiB of text in one cell, packed into well under a megabyte.
    let bomb = bomb_xlsx(256 << 20);
    assert!(bomb.len() < 2 << 20, "packed: {} bytes", bomb.len());
    let (status, body) = import_bytes(&app, &token, bomb).await;
    assert_eq!(status, 422, "{body}");
    let message = body["error"]["errors"][0]["message"].as_str().unwrap_or("");
    assert!(
        message.contains("more than 2000 characters"),
        "a clear reason: {body}"
    );
    // A long cell in a CSV file is refused too, naming its row and column.
    let template = fuzhi::households::import::template_csv();
    let long = "汉".repeat(2500);
    let csv = template.replacen("汉族", &long, 1);
    let (status, body) = import_bytes(&app, &token, csv.into_bytes()).await;
    assert_eq!(status, 422, "{body}");
    let e = &body["error"]["errors"][0];
    assert_eq!(e["row"], 2, "{body}");
    assert_eq!(e["field"], "民族", "{body}");
    assert!(
        e["message"].as_str().unwrap().contains("at most 2000"),
        "{body}"
    );
    assert_eq!(app.count("household").await, 0);
}
engine_test!(workbook_bomb_is_refused_early);

// ---- 2. sign-in throttling ---------------------------------------------------------

async fn login_from(app: &TestApp, addr: &str, login: &str, password: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/auth/login"))
        .header("x-forwarded-for", addr)
        .json(&json!({"login": login, "password": password}))
        .send()
        .await
        .unwrap()
}

/// An app behind a reverse proxy on 127.0.0.1 (the test client's address).
fn behind_proxy(s: &mut Settings) {
    s.trusted_proxies = vec!["127.0.0.1".into()];
    // Above the ten of one login, and quick to reach.
    s.login_max_failures_per_address = 12;
}

async fn a_stranger_cannot_lock_the_owner_out(app: TestApp) {
    app.people().await;
    // The owner signed in on her own computer before: it keeps a device cookie.
    let own = crate::helpers::client();
    let first = own
        .post(app.url("/api/v1/auth/login"))
        .header("x-forwarded-for", "198.51.100.7")
        .json(&json!({"login": "admin1", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 200);
    let attacker = "203.0.113.5";
    let mut statuses = Vec::new();
    for _ in 0..25 {
        statuses.push(
            login_from(&app, attacker, "admin1", "wrong-password")
                .await
                .status()
                .as_u16(),
        );
    }
    assert!(statuses[..10].iter().all(|s| *s == 401), "{statuses:?}");
    assert!(statuses[10..].iter().all(|s| *s == 429), "{statuses:?}");
    // Strangers wait, the right password included (from any address)...
    assert_eq!(
        login_from(&app, attacker, "admin1", PASSWORD)
            .await
            .status(),
        429
    );
    assert_eq!(
        login_from(&app, "198.51.100.9", "admin1", PASSWORD)
            .await
            .status(),
        429
    );
    // ...the owner, on a device she signed in on before, does not.
    assert_eq!(
        own.post(app.url("/api/v1/auth/login"))
            .header("x-forwarded-for", "198.51.100.7")
            .json(&json!({"login": "admin1", "password": PASSWORD}))
            .send()
            .await
            .unwrap()
            .status(),
        200,
        "the right password from the owner's device works during the attack"
    );
    // Ten wrong passwords audited, one notice, nothing for the refused tries.
    assert_eq!(app.audit_count("sign_in_failed").await, 10);
    assert_eq!(app.audit_count("sign_in_locked").await, 1);

    // The next wait of the account is longer (backoff).
    let first: u64 = login_from(&app, attacker, "admin1", "wrong-password")
        .await
        .headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    app.state.limiter.clock.advance(first as i64 + 1);
    assert_eq!(
        login_from(&app, attacker, "admin1", "wrong-password")
            .await
            .status(),
        401
    );
    let second: u64 = login_from(&app, attacker, "admin1", "wrong-password")
        .await
        .headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        second > first,
        "second wait {second} s is longer than the first {first} s"
    );
    assert_eq!(app.audit_count("sign_in_failed").await, 11);
}
engine_test!(
    a_stranger_cannot_lock_the_owner_out,
    settings = behind_proxy,
    on = [sqlite]
);

async fn one_address_is_limited_across_logins(app: TestApp) {
    app.people().await;
    let limit = app.state.settings.login_max_failures_per_address;
    let addr = "203.0.113.9";
    // Spread over many logins, so that no (login, address) pair locks first.
    for i in 0..limit {
        let s = login_from(&app, addr, &format!("nobody{i:03}"), "wrong-password")
            .await
            .status();
        assert_eq!(s, 401, "attempt {i}");
    }
    // Locked: one guess for an account, then it waits, whatever the login...
    for (i, want) in [(0, 401), (1, 429), (2, 429)] {
        assert_eq!(
            login_from(&app, addr, "official1", &format!("wrong-{i}"))
                .await
                .status(),
            want,
            "guess {i} from the locked address"
        );
    }
    // ...but the right password of an account with no recent failures is
    // never refused (a village behind one address).
    assert_eq!(
        login_from(&app, addr, "trainer1", PASSWORD).await.status(),
        200,
        "the right credentials from the locked address"
    );
}
engine_test!(
    one_address_is_limited_across_logins,
    settings = behind_proxy,
    on = [sqlite]
);

async fn forwarded_for_is_ignored_without_a_trusted_proxy(app: TestApp) {
    app.people().await;
    assert!(
        app.state.settings.trusted_proxies.is_empty(),
        "off by default"
    );
    for i in 0..10 {
        // A new forged address each time: all the same peer.
        login_from(
            &app,
            &format!("203.0.113.{i}"),
            "official1",
            "wrong-password",
        )
        .await;
    }
    assert_eq!(
        login_from(&app, "198.51.100.7", "official1", PASSWORD)
            .await
            .status(),
        429,
        "a forged X-Forwarded-For does not escape the limit"
    );
}
engine_test!(forwarded_for_is_ignored_without_a_trusted_proxy);

// ---- 3. open redirect ---------------------------------------------------------------

async fn sign_in_with_next(
    app: &TestApp,
    client: &reqwest::Client,
    next: &str,
) -> reqwest::Response {
    let page = client
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let pre = between(&page, "name=\"csrf\" value=\"", "\"").unwrap();
    client
        .post(app.url("/login"))
        .form(&[
            ("csrf", pre.as_str()),
            ("login", "official1"),
            ("password", PASSWORD),
            ("next", next),
        ])
        .send()
        .await
        .unwrap()
}

async fn next_only_goes_to_this_site(app: TestApp) {
    app.people().await;
    for (next, expected) in [
        ("/\t/evil.example/x", "/"),
        ("/\r/evil", "/"),
        ("/\n/evil.example", "/"),
        ("//evil.example/x", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example/", "/"),
        ("/office/households?page=2", "/office/households?page=2"),
        ("/courses/村", "/courses/%E6%9D%91"),
    ] {
        let client = crate::helpers::client();
        let res = sign_in_with_next(&app, &client, next).await;
        assert_eq!(res.status(), 303, "next={next:?}");
        assert_eq!(res.headers()["location"], expected, "next={next:?}");
        // Signed in, the sign-in page sends the person on the same way.
        let res = client
            .get(app.url("/login"))
            .query(&[("next", next)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303, "next={next:?}");
        assert_eq!(res.headers()["location"], expected, "next={next:?}");
    }
}
engine_test!(next_only_goes_to_this_site);

// ---- 4. CSRF and the Authorization header ----------------------------------------------

async fn csrf_is_skipped_only_for_a_valid_bearer_token(app: TestApp) {
    let p = app.people().await;
    assert_eq!(app.login_form("admin1", PASSWORD).await.status(), 303);
    let new_user = |login: &str| {
        json!({"login": login, "display_name": "王", "password": "135790", "pin": true,
            "role": "learner", "area_code": VILLAGE_A})
    };
    // The cookie authenticates; a header that is no bearer token changes nothing.
    for header in ["x", "Basic YWRtaW46YWRtaW4=", "Bearer not-a-token"] {
        let res = app
            .client
            .post(app.url("/api/v1/users"))
            .header("authorization", header)
            .json(&new_user("13711110009"))
            .send()
            .await
            .unwrap();
        assert!(
            [401, 403].contains(&res.status().as_u16()),
            "Authorization: {header} → {}",
            res.status()
        );
    }
    assert_eq!(app.count("app_user").await, 6, "nobody was created");
    // A valid bearer token needs no CSRF token.
    let token = app.token(p.admin).await;
    let res = app
        .client
        .post(app.url("/api/v1/users"))
        .bearer_auth(&token)
        .json(&new_user("13711110009"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
}
engine_test!(csrf_is_skipped_only_for_a_valid_bearer_token);

// ---- 5. formula injection in CSV -----------------------------------------------------------

async fn csv_exports_cannot_run_formulas(app: TestApp) {
    let p = app.people().await;
    let token = app.token(p.official).await;
    let id = fuzhi::households::NationalId::synthetic(
        "530627",
        chrono::NaiveDate::from_ymd_opt(1980, 1, 2).unwrap(),
        7,
    )
    .unwrap()
    .expose()
    .to_owned();
    let evil = "=HYPERLINK(\"http://evil.example\",\"x\")";
    let (s, v) = app
        .post_json(
            "/api/v1/households",
            &token,
            json!({"registry_no": "F-1", "area_code": VILLAGE_A, "village_group": "@SUM(1+1)", "primary_cause": "07",
                "members": [{"name": evil, "id_number": id, "relation": "head"}]}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let csv = app
        .client
        .get(app.url("/api/v1/households/export?format=csv"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(csv.trim_start_matches('\u{feff}').as_bytes());
    let cells: Vec<String> = reader
        .records()
        .flat_map(|r| r.unwrap().iter().map(str::to_string).collect::<Vec<_>>())
        .collect();
    assert!(cells.contains(&format!("'{evil}")), "{csv}");
    assert!(cells.contains(&"'@SUM(1+1)".to_string()), "{csv}");
    for c in &cells {
        assert!(
            !c.starts_with(['=', '+', '@', '\t', '\r']),
            "a cell a spreadsheet would run: {c:?}"
        );
    }
    // The dashboard's CSV too (an area named like a formula).
    let admin = app.token(p.admin).await;
    let (s, v) = app
        .post_json(
            "/api/v1/areas",
            &admin,
            json!({"code": "530627102009", "name": "=1+2", "level": "village", "parent_code": "530627102000"}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    fuzhi::reports::rollup::run_once(app.conn()).await.unwrap();
    let report = app
        .client
        .get(app.url("/api/v1/reports/export?format=csv&area=530627102000"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(report.status(), 200);
    let report = report.text().await.unwrap();
    assert!(report.contains("'=1+2"), "{report}");
    assert!(!report.contains(",=1+2"), "{report}");
}
engine_test!(csv_exports_cannot_run_formulas);

// ---- 6. page numbers -----------------------------------------------------------------------

async fn huge_page_numbers_are_a_bad_request(app: TestApp) {
    let p = app.people().await;
    let admin = app.token(p.admin).await;
    let official = app.token(p.official).await;
    let trainer = app.token(p.trainer).await;
    let huge = "9223372036854775807";
    for (path, token) in [
        (format!("/api/v1/households?page={huge}"), &official),
        ("/api/v1/households?per_page=1000".to_string(), &official),
        ("/api/v1/households?page=0".to_string(), &official),
        (format!("/api/v1/users?page={huge}"), &admin),
        (format!("/api/v1/audit?page={huge}"), &admin),
        (format!("/api/v1/audit?per_page={huge}"), &admin),
        (format!("/office/households?page={huge}"), &official),
        (format!("/admin/users?page={huge}"), &admin),
        (format!("/admin/audit?page={huge}"), &admin),
        (format!("/admin/mail?page={huge}"), &admin),
        (format!("/teach/learners?page={huge}"), &trainer),
    ] {
        let res = app
            .client
            .get(app.url(&path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400, "{path}");
        let body = res.text().await.unwrap();
        // Named in the page's language: "page" in the API's English, 页码 on
        // a Chinese page.
        assert!(
            body.contains("page") || body.contains("页码"),
            "{path}: the field is named: {body}"
        );
    }
    // The bounds themselves are fine.
    let (s, _) = app
        .get_json("/api/v1/households?page=1000000&per_page=200", &official)
        .await;
    assert_eq!(s, 200);
    let log = crate::helpers::captured_log();
    assert!(!log.contains("panicked"), "no panic in the log");
}
engine_test!(huge_page_numbers_are_a_bad_request);

// ---- 7. bulk enrollment ----------------------------------------------------------------------

async fn bulk_enrollment_is_all_or_nothing(app: TestApp) {
    let p = app.people().await;
    app.import_course(crate::helpers::COURSE).await;
    let trainer = app.token(p.trainer).await;
    let path = format!("/api/v1/courses/{}/enroll", crate::helpers::COURSE);
    let (s, v) = app
        .post_json(
            &path,
            &trainer,
            json!({"user_ids": [p.learner, p.learner_in, p.learner_out]}),
        )
        .await;
    assert_eq!(s, 404, "one learner outside the trainer's area: {v}");
    assert_eq!(app.count("enrollment").await, 0, "nobody was enrolled");
    let (s, v) = app
        .post_json(
            &path,
            &trainer,
            json!({"user_ids": [p.learner, p.learner_in]}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(app.count("enrollment").await, 2);
}
engine_test!(bulk_enrollment_is_all_or_nothing);

// ---- 8. another area's numbers -------------------------------------------------------------

async fn another_areas_numbers_are_not_revealed(app: TestApp) {
    let p = app.people().await;
    let county = app.user("county1", "official", Some("530627000000")).await;
    let (official, admin) = (app.token(p.official).await, app.token(p.admin).await);
    // The template's example person lives in township B, entered by the admin.
    let template = fuzhi::households::import::template_csv();
    let example: Vec<&str> = template.lines().nth(1).unwrap().split(',').collect();
    let id = example[13];
    let (s, v) = app
        .post_json(
            "/api/v1/households",
            &admin,
            json!({"registry_no": "OUT-7", "area_code": VILLAGE_B, "primary_cause": "07",
                "members": [{"name": "李秀英", "id_number": id, "relation": "head"}]}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    // The township A official types the same ID number, then the same registry number.
    let (s, v) = app
        .post_json(
            "/api/v1/households",
            &official,
            json!({"registry_no": "IN-7", "area_code": VILLAGE_A, "primary_cause": "07",
                "members": [{"name": "李秀英", "id_number": id, "relation": "head"}]}),
        )
        .await;
    assert_eq!(s, 409, "{v}");
    let m = v["error"]["message"].as_str().unwrap();
    assert!(m.contains("cannot be used here"), "{m}");
    assert!(!m.contains("registered") && !m.contains("OUT-7"), "{m}");
    let other = fuzhi::households::NationalId::synthetic(
        "530627",
        chrono::NaiveDate::from_ymd_opt(1990, 5, 5).unwrap(),
        3,
    )
    .unwrap()
    .expose()
    .to_owned();
    let (s, v) = app
        .post_json(
            "/api/v1/households",
            &official,
            json!({"registry_no": "OUT-7", "area_code": VILLAGE_A, "primary_cause": "07",
                "members": [{"name": "张三", "id_number": other, "relation": "head"}]}),
        )
        .await;
    assert_eq!(s, 409, "{v}");
    let m = v["error"]["message"].as_str().unwrap();
    assert!(
        m.contains("cannot be used here") && !m.contains("registered"),
        "{m}"
    );
    // And in a file: the row says the same.
    let csv = template
        .replacen("5306271030001", "IN-8", 1)
        .replacen("530627103001", VILLAGE_A, 1);
    let (s, v) = import_bytes(&app, &official, csv.into_bytes()).await;
    assert_eq!(s, 422, "{v}");
    let m = v["error"]["errors"][0]["message"].as_str().unwrap();
    assert!(
        m.contains("cannot be used here") && !m.contains("registered"),
        "{v}"
    );
    assert_eq!(app.count("household").await, 1, "nothing written");

    // Each clash is recorded under the county, which covers both townships.
    let (s, audit) = app.get_json("/api/v1/audit?action=conflict", &admin).await;
    assert_eq!(s, 200);
    assert_eq!(audit["total"], 3, "{audit}");
    assert_eq!(audit["items"][0]["area_code"], "530627000000");
    // The county official sees them on her household list; the township official does not.
    let county = app.token(county).await;
    let page = app
        .client
        .get(app.url("/office/households?lang=en"))
        .bearer_auth(&county)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("id=\"conflicts\""), "{page}");
    assert!(page.contains("OUT-7") && page.contains(VILLAGE_B), "{page}");
    let page = app
        .client
        .get(app.url("/office/households?lang=en"))
        .bearer_auth(&official)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!page.contains("id=\"conflicts\""));
}
engine_test!(another_areas_numbers_are_not_revealed);

// ---- 9. HTTPS and body sizes ------------------------------------------------------------------

async fn https_means_secure_cookies_and_hsts(engine: Engine) {
    let Some(app) = TestApp::spawn_with(engine, |s| {
        s.base_url = Some("https://fuzhi.example".into());
    })
    .await
    else {
        return;
    };
    app.people().await;
    // No cookie store: a Secure cookie would not come back over plain HTTP.
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = plain.get(app.url("/login")).send().await.unwrap();
    assert!(
        res.headers()["strict-transport-security"]
            .to_str()
            .unwrap()
            .contains("max-age=")
    );
    let pre_cookie = res.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(pre_cookie.contains("Secure"), "{pre_cookie}");
    let page = res.text().await.unwrap();
    let pre = between(&page, "name=\"csrf\" value=\"", "\"").unwrap();
    let res = plain
        .post(app.url("/login"))
        .header("cookie", format!("fz_pre={pre}"))
        .form(&[
            ("csrf", pre.as_str()),
            ("login", "admin1"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let session = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("fz_session="))
        .unwrap();
    assert!(
        session.contains("Secure") && session.contains("HttpOnly"),
        "{session}"
    );
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_means_secure_cookies_and_hsts_sqlite() {
    https_means_secure_cookies_and_hsts(Engine::Sqlite).await
}

async fn plain_http_has_no_hsts_and_big_json_is_413(app: TestApp) {
    let p = app.people().await;
    let res = app.get("/login").await;
    assert!(res.headers().get("strict-transport-security").is_none());
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(!cookie.contains("Secure"), "{cookie}");
    let token = app.token(p.official).await;
    let big = json!({"registry_no": "X", "address": "x".repeat(5 << 20)});
    let res = app
        .client
        .post(app.url("/api/v1/households"))
        .bearer_auth(&token)
        .json(&big)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "too_large");
    // A malformed body is still a 400.
    let res = app
        .client
        .post(app.url("/api/v1/households"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
}
engine_test!(plain_http_has_no_hsts_and_big_json_is_413);
