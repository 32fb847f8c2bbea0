//! The household registry with a database: CRUD with audit snapshots,
//! duplicate identity numbers, all-or-nothing imports, area scope, sensitive
//! reads, exports, and that no whole identity number is ever stored or logged.

use fuzhi::households::generate;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::engine_test;
use crate::helpers::{People, TestApp, VILLAGE_A, VILLAGE_A2, VILLAGE_B, id_number_born};

fn body(no: &str, area: &str, ids: &[&str]) -> Value {
    let members: Vec<Value> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            json!({"name": format!("成员{i}"), "id_number": id,
                "relation": if i == 0 { "head" } else { "child" },
                "health": if i == 0 { "chronic" } else { "healthy" }})
        })
        .collect();
    json!({"registry_no": no, "area_code": area, "primary_cause": "07",
        "other_causes": ["09"], "members": members})
}

async fn events(app: &TestApp, action: &str) -> Vec<(Option<String>, Option<String>)> {
    let db = app.conn();
    db.query_all_raw(Statement::from_string(
        db.get_database_backend(),
        format!(
            "SELECT before_json, after_json FROM change_event WHERE entity = 'household' AND action = '{action}' ORDER BY id"
        ),
    ))
    .await
    .unwrap()
    .into_iter()
    .map(|r| {
        (
            r.try_get_by_index::<Option<String>>(0).unwrap(),
            r.try_get_by_index::<Option<String>>(1).unwrap(),
        )
    })
    .collect()
}

async fn crud_with_masked_audit(app: TestApp) {
    let p: People = app.people().await;
    let tok = app.token(p.official).await;
    let (a, b) = (
        id_number_born(1980, 3, 14, 1),
        id_number_born(2005, 3, 14, 2),
    );
    let (s, v) = app
        .post_json(
            "/api/v1/households",
            &tok,
            body("HH-1", VILLAGE_A, &[&a, &b]),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let id = v["household"]["id"].as_i64().unwrap();
    assert_eq!(v["members"].as_array().unwrap().len(), 2);
    assert_eq!(v["primary_cause"], "07");
    assert!(v["members"][0].get("health").is_none(), "no health unasked");
    assert_eq!(v["members"][0]["id_last4"], &a[14..]);

    let res = app
        .client
        .patch(app.url(&format!("/api/v1/households/{id}")))
        .bearer_auth(&tok)
        .json(&json!({"status": "exited", "exited_year": 2020, "identified_year": 2015, "other_causes": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["household"]["status"], "exited");
    assert_eq!(v["other_causes"], json!([]));

    // Exactly one primary cause; at most two others.
    let (s, v) = app
        .post_json("/api/v1/households", &tok, {
            let mut b = body("HH-2", VILLAGE_A, &[&id_number_born(1970, 3, 14, 3)]);
            b["other_causes"] = json!(["01", "02", "03"]);
            b["primary_cause"] = Value::Null;
            b
        })
        .await;
    assert_eq!(s, 422);
    assert!(v["error"]["fields"]["primary_cause"].is_string(), "{v}");
    assert!(v["error"]["fields"]["other_causes"].is_string(), "{v}");

    let (s, _) = app
        .post_json(
            &format!("/api/v1/households/{id}/incomes"),
            &tok,
            json!({"year": 2024, "wage_fen": 1_000_000}),
        )
        .await;
    assert_eq!(s, 200);
    let (s, _) = app
        .post_json(
            &format!("/api/v1/households/{id}/follow-ups"),
            &tok,
            json!({"months_after": 6, "shop_active": true, "orders_30d": 4}),
        )
        .await;
    assert_eq!(s, 201);
    let (s, v) = app
        .get_json(&format!("/api/v1/households/{id}"), &tok)
        .await;
    assert_eq!(s, 200);
    assert_eq!(v["incomes"][0]["net_per_capita_fen"], 500_000);
    assert_eq!(v["follow_ups"][0]["orders_30d"], 4);
    let (s, v) = app
        .get_json(&format!("/api/v1/households/{id}/history"), &tok)
        .await;
    assert_eq!(s, 200);
    assert_eq!(v["total"], 4, "{v}");

    let res = app
        .client
        .delete(app.url(&format!("/api/v1/households/{id}")))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 204);
    let (s, _) = app
        .get_json(&format!("/api/v1/households/{id}"), &tok)
        .await;
    assert_eq!(s, 404);
    assert_eq!(app.count("member").await, 0);

    let created = events(&app, "create").await;
    assert_eq!(created.len(), 1);
    let after = created[0].1.clone().unwrap();
    assert!(after.contains(&a[14..]) && !after.contains(&a) && !after.contains(&b));
    assert!(!after.contains("chronic"), "no health in snapshots");
    let updated = events(&app, "update").await;
    let (before, after) = updated[0].clone();
    assert!(before.unwrap().contains("\"registered\""));
    assert!(after.unwrap().contains("\"exited\""));
    let deleted = events(&app, "delete").await;
    assert_eq!(deleted.len(), 1);
    let before = deleted[0].0.clone().unwrap();
    assert!(before.contains("HH-1") && !before.contains(&a));
    app.finish().await;
}
engine_test!(crud_with_masked_audit);

async fn duplicate_id_numbers_are_refused(app: TestApp) {
    let p = app.people().await;
    let (tok, admin) = (app.token(p.official).await, app.token(p.admin).await);
    let (x, y) = (
        id_number_born(1981, 3, 14, 5),
        id_number_born(1982, 3, 14, 6),
    );
    let (s, _) = app
        .post_json("/api/v1/households", &tok, body("IN-1", VILLAGE_A, &[&x]))
        .await;
    assert_eq!(s, 201);
    let (s, _) = app
        .post_json(
            "/api/v1/households",
            &admin,
            body("OUT-1", VILLAGE_B, &[&y]),
        )
        .await;
    assert_eq!(s, 201);
    let (s, v) = app
        .post_json("/api/v1/households", &tok, body("IN-2", VILLAGE_A2, &[&x]))
        .await;
    assert_eq!(s, 409);
    let m = v["error"]["message"].as_str().unwrap();
    assert!(m.contains("IN-1") && m.contains(&x[14..]), "{m}");
    let (s, v) = app
        .post_json("/api/v1/households", &tok, body("IN-3", VILLAGE_A2, &[&y]))
        .await;
    assert_eq!(s, 409);
    let m = v["error"]["message"].as_str().unwrap();
    // Another area's person: nothing said of where, or that she is registered.
    assert!(
        m.contains("cannot be used here") && !m.contains("registered") && !m.contains("OUT-1"),
        "{m}"
    );
    // Twice in one request.
    let (s, v) = app
        .post_json(
            "/api/v1/households",
            &tok,
            body(
                "IN-4",
                VILLAGE_A2,
                &[
                    &id_number_born(1990, 3, 14, 1),
                    &id_number_born(1990, 3, 14, 1),
                ],
            ),
        )
        .await;
    assert_eq!(s, 422, "{v}");
    assert_eq!(app.count("household").await, 2);
    app.finish().await;
}
engine_test!(duplicate_id_numbers_are_refused);

/// Generated households moved into two villages of township A.
fn generated(n: usize, seed: u64) -> (String, Vec<String>) {
    let mut data = generate::generate("530627", &[("530627102000", "泼机镇")], n, seed).unwrap();
    for (i, h) in data.households.iter_mut().enumerate() {
        h.area_code = if i % 2 == 0 { VILLAGE_A } else { VILLAGE_A2 }.to_owned();
    }
    let ids = data
        .households
        .iter()
        .flat_map(|h| h.members.iter().map(|m| m.id.expose().to_owned()))
        .collect();
    (generate::import_csv(&data.households), ids)
}

async fn import_csv(app: &TestApp, tok: &str, csv: &str) -> (u16, Value) {
    app.import(tok, "/api/v1/households/import", "text/csv", csv.to_owned())
        .await
}

async fn import_is_all_or_nothing(app: TestApp) {
    let p = app.people().await;
    let tok = app.token(p.official).await;
    let (csv, ids) = generated(30, 11);
    let mut lines: Vec<String> = csv.lines().map(str::to_owned).collect();
    let bad = lines.len() / 2;
    let victim = ids[bad - 1].clone();
    // Break the check digit of one member in the middle of the file.
    let broken = {
        let last = victim.chars().last().unwrap();
        let other = if last == '1' { '2' } else { '1' };
        format!("{}{other}", &victim[..17])
    };
    lines[bad] = lines[bad].replace(&victim, &broken);
    let (s, v) = import_csv(&app, &tok, &lines.join("\n")).await;
    assert_eq!(s, 422, "{v}");
    let errors = v["error"]["errors"].as_array().unwrap();
    assert!(errors.iter().all(|e| e["row"] == bad + 1), "{v}");
    assert!(errors.iter().any(|e| e["field"] == "身份证号"), "{v}");
    assert_eq!(app.count("household").await, 0);
    assert_eq!(app.count("member").await, 0);

    let (s, v) = import_csv(&app, &tok, &csv).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["imported"], 30);
    assert_eq!(v["members"], ids.len());
    assert_eq!(app.count("member").await as usize, ids.len());
    assert_eq!(events(&app, "import").await.len(), 1);
    // Again: every row is now a duplicate, and nothing changes.
    let (s, v) = import_csv(&app, &tok, &csv).await;
    assert_eq!(s, 422);
    assert_eq!(
        v["error"]["errors"].as_array().unwrap().len(),
        ids.len() + 30
    );
    assert_eq!(app.count("household").await, 30);

    // The list, its filters and pages.
    let (s, v) = app
        .get_json("/api/v1/households?per_page=7&page=2", &tok)
        .await;
    assert_eq!(s, 200);
    assert_eq!(
        (v["total"].as_u64(), v["items"].as_array().unwrap().len()),
        (Some(30), 7)
    );
    let (_, v) = app
        .get_json(&format!("/api/v1/households?area={VILLAGE_A}"), &tok)
        .await;
    assert_eq!(v["total"], 15);
    let (_, all) = app.get_json("/api/v1/households?per_page=200", &tok).await;
    let illness = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["primary_cause"] == "01")
        .count();
    let (_, v) = app.get_json("/api/v1/households?cause=01", &tok).await;
    assert_eq!(v["total"], illness);
    let (_, v) = app.get_json("/api/v1/households?trained=1", &tok).await;
    assert_eq!(v["total"], 0);
    let (_, v) = app.get_json("/api/v1/households?trained=0", &tok).await;
    assert_eq!(v["total"], 30);
    app.finish().await;
}
engine_test!(import_is_all_or_nothing);

async fn officials_stay_in_their_township(app: TestApp) {
    let p = app.people().await;
    let (tok, admin) = (app.token(p.official).await, app.token(p.admin).await);
    let (s, v) = app
        .post_json(
            "/api/v1/households",
            &admin,
            body("B-1", VILLAGE_B, &[&id_number_born(1975, 3, 14, 9)]),
        )
        .await;
    assert_eq!(s, 201);
    let out = v["household"]["id"].as_i64().unwrap();
    let (_, v) = app.get_json("/api/v1/households", &tok).await;
    assert_eq!(v["total"], 0);
    for path in [
        format!("/api/v1/households?area={VILLAGE_B}"),
        format!("/api/v1/households/{out}"),
        format!("/api/v1/households/{out}/history"),
        format!("/api/v1/households/export?area={VILLAGE_B}"),
        "/api/v1/households?area=530627103000".to_string(),
    ] {
        let (s, _) = app.get_json(&path, &tok).await;
        assert_eq!(s, 404, "{path}");
    }
    let res = app
        .client
        .get(app.url(&format!("/office/households/{out}")))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 404);
    let (s, _) = app
        .post_json(
            "/api/v1/households",
            &tok,
            body("B-2", VILLAGE_B, &[&id_number_born(1976, 3, 14, 9)]),
        )
        .await;
    assert_eq!(s, 404);
    let mut data = generate::generate("530627", &[("530627103000", "黑树镇")], 3, 5).unwrap();
    for h in &mut data.households {
        h.area_code = VILLAGE_B.into();
    }
    let (s, v) = import_csv(&app, &tok, &generate::import_csv(&data.households)).await;
    assert_eq!(s, 422);
    assert!(
        v["error"]["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("unknown area code")
    );
    assert_eq!(app.count("household").await, 1);
    // Trainers and learners are refused outright.
    for who in [p.trainer, p.learner] {
        let (s, _) = app
            .get_json("/api/v1/households", &app.token(who).await)
            .await;
        assert_eq!(s, 403);
    }
    app.finish().await;
}
engine_test!(officials_stay_in_their_township);

async fn reading_health_is_audited(app: TestApp) {
    let p = app.people().await;
    let tok = app.token(p.official).await;
    let (_, v) = app
        .post_json(
            "/api/v1/households",
            &tok,
            body("S-1", VILLAGE_A, &[&id_number_born(1960, 3, 14, 4)]),
        )
        .await;
    let id = v["household"]["id"].as_i64().unwrap();
    let (_, v) = app
        .get_json(&format!("/api/v1/households/{id}"), &tok)
        .await;
    assert!(v["members"][0].get("health").is_none());
    assert!(events(&app, "read_sensitive").await.is_empty());
    let (s, v) = app
        .get_json(&format!("/api/v1/households/{id}?sensitive=true"), &tok)
        .await;
    assert_eq!(s, 200);
    assert_eq!(v["members"][0]["health"], "chronic");
    assert_eq!(events(&app, "read_sensitive").await.len(), 1);
    let page = |q: &'static str| {
        let tok = tok.clone();
        let url = app.url(&format!("/office/households/{id}{q}"));
        let client = app.client.clone();
        async move {
            client
                .get(url)
                .bearer_auth(tok)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    let plain = page("").await;
    assert!(plain.contains("S-1") && !plain.contains("\">长期慢性病</td>"));
    assert_eq!(events(&app, "read_sensitive").await.len(), 1);
    let shown = page("?health=1").await;
    assert!(shown.contains("\">长期慢性病</td>"), "{shown}");
    let ev = events(&app, "read_sensitive").await;
    assert_eq!(ev.len(), 2);
    assert!(!ev[1].1.clone().unwrap().contains("chronic"));
    app.finish().await;
}
engine_test!(reading_health_is_audited);

/// Every text cell of every table.
async fn all_text(app: &TestApp) -> String {
    let db = app.conn();
    let sql = match db.get_database_backend() {
        sea_orm::DatabaseBackend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table'".to_string()
        }
        sea_orm::DatabaseBackend::Postgres => {
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'"
                .to_string()
        }
        _ => "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()"
            .to_string(),
    };
    let tables: Vec<String> = db
        .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.try_get_by_index::<String>(0).unwrap())
        .collect();
    assert!(tables.iter().any(|t| t == "member"));
    let mut out = String::new();
    for t in tables {
        let rows = db
            .query_all_raw(Statement::from_string(
                db.get_database_backend(),
                format!("SELECT * FROM {t}"),
            ))
            .await
            .unwrap();
        for r in rows {
            for i in 0..40 {
                if let Ok(Some(s)) = r.try_get_by_index::<Option<String>>(i) {
                    out.push_str(&s);
                    out.push('\n');
                }
            }
        }
    }
    out
}

async fn no_whole_id_number_is_stored_logged_or_exported(app: TestApp) {
    let p = app.people().await;
    let tok = app.token(p.official).await;
    let (csv, ids) = generated(25, 3);
    let (s, _) = import_csv(&app, &tok, &csv).await;
    assert_eq!(s, 200);
    let extra = id_number_born(1999, 3, 14, 7);
    let (s, v) = app
        .post_json(
            "/api/v1/households",
            &tok,
            body("X-1", VILLAGE_A, &[&extra]),
        )
        .await;
    assert_eq!(s, 201);
    let id = v["household"]["id"].as_i64().unwrap();
    // A refused duplicate and a look-up by ID number leave no trace either.
    let (s, _) = app
        .post_json(
            "/api/v1/households",
            &tok,
            body("X-2", VILLAGE_A, &[&extra]),
        )
        .await;
    assert_eq!(s, 409);
    let res = app
        .client
        .post(app.url("/office/members/search"))
        .bearer_auth(&tok)
        .form(&[("id_number", extra.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert!(res.text().await.unwrap().contains("X-1"));
    app.get_json(&format!("/api/v1/households/{id}?sensitive=true"), &tok)
        .await;

    let csv_res = app
        .client
        .get(app.url("/api/v1/households/export?format=csv"))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap();
    assert_eq!(csv_res.status().as_u16(), 200);
    let exported = csv_res.text().await.unwrap();
    assert!(exported.contains("X-1"));
    assert_eq!(exported.lines().count(), 1 + ids.len() + 1);
    let xlsx = app
        .client
        .get(app.url(&format!(
            "/api/v1/households/export?format=xlsx&area={VILLAGE_A}"
        )))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    use calamine::Reader;
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(xlsx.to_vec())).unwrap();
    let range = book.worksheet_range_at(0).unwrap().unwrap();
    let mut cells = String::new();
    for row in range.rows() {
        for c in row {
            cells.push_str(&c.to_string());
            cells.push('\n');
        }
    }
    assert!(cells.contains("X-1") && cells.contains(&extra[14..]));
    assert_eq!(events(&app, "export").await.len(), 2);

    let stored = all_text(&app).await;
    // The scan does read the registry: the household and the last four characters are there.
    assert!(stored.contains("X-1") && stored.contains(&extra[14..]));
    let log = crate::helpers::captured_log();
    for full in ids.iter().chain([&extra]) {
        assert!(
            !stored.contains(full.as_str()),
            "stored in clear: …{}",
            &full[14..]
        );
        assert!(
            !log.contains(full.as_str()),
            "logged in clear: …{}",
            &full[14..]
        );
        assert!(!exported.contains(full.as_str()));
        assert!(!cells.contains(full.as_str()));
    }
    app.finish().await;
}
engine_test!(no_whole_id_number_is_stored_logged_or_exported);

async fn learners_link_to_members(app: TestApp) {
    let p = app.people().await;
    let tok = app.token(p.official).await;
    let (_, v) = app
        .post_json(
            "/api/v1/households",
            &tok,
            body(
                "L-1",
                VILLAGE_A,
                &[
                    &id_number_born(1985, 3, 14, 1),
                    &id_number_born(2001, 3, 14, 2),
                ],
            ),
        )
        .await;
    let members = v["members"].as_array().unwrap().clone();
    let (m0, m1) = (
        members[0]["id"].as_i64().unwrap(),
        members[1]["id"].as_i64().unwrap(),
    );
    let trainer = app.token(p.trainer).await;
    let res = app
        .client
        .get(app.url("/office/members?name=成员0&birth_year=1985"))
        .bearer_auth(&trainer)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert!(res.text().await.unwrap().contains("L-1"));
    // Linking is an official's act: the trainer finds, the
    // official links.
    let res = app
        .client
        .post(app.url(&format!("/office/members/{m0}/link")))
        .bearer_auth(&trainer)
        .form(&[("login", "13900000002")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 403);
    let res = app
        .client
        .post(app.url(&format!("/office/members/{m0}/link")))
        .bearer_auth(&tok)
        .form(&[("login", "13900000002")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 303);
    let u = fuzhi::accounts::users::find(app.conn(), p.learner_in)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(u.member_id, Some(m0));
    // A learner of township B cannot be linked by an official of A.
    let res = app
        .client
        .post(app.url(&format!("/office/members/{m1}/link")))
        .bearer_auth(&tok)
        .form(&[("login", "13900000003")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 404);
    let res = app
        .client
        .post(app.url(&format!("/office/members/{m1}/learner")))
        .bearer_auth(&tok)
        .form(&[("phone", "13700000999"), ("pin", "135790")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 303);
    let u = fuzhi::accounts::users::find_by_login(app.conn(), "13700000999")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (u.member_id, u.display_name.as_str(), u.area_code.as_deref()),
        (Some(m1), "成员1", Some(VILLAGE_A))
    );
    app.finish().await;
}
engine_test!(learners_link_to_members);

/// The household pages read on a phone and in people's terms: the member
/// table turns into cards (every cell labelled, the remove action a button
/// in reach), the history shows local times with their offset, areas are
/// names (codes only in titles), and the list's area filter is a picker of
/// the official's areas, never a code to type.
async fn household_pages_read_on_a_phone_in_names(app: TestApp) {
    let p = app.people().await;
    let tok = app.token(p.official).await;
    let mut household = body(
        "P-1",
        VILLAGE_A,
        &[
            &id_number_born(1985, 3, 14, 1),
            &id_number_born(2001, 3, 14, 2),
        ],
    );
    // "ordinary" is a kind of labour (普通劳动力) and a household status
    // (一般户): each column is labelled from its own vocabulary.
    household["members"][0]["labour"] = json!("ordinary");
    household["members"][1]["labour"] = json!("skilled");
    let (s, v) = app.post_json("/api/v1/households", &tok, household).await;
    assert_eq!(s, 201, "{v}");
    let id = v["household"]["id"].as_i64().unwrap();
    let get = |path: String| {
        let (app, tok) = (&app, &tok);
        async move {
            let res = app
                .client
                .get(app.url(&path))
                .bearer_auth(tok)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status().as_u16(), 200, "{path}");
            res.text().await.unwrap()
        }
    };
    let page = get(format!("/office/households/{id}?lang=zh-CN")).await;
    let table = crate::helpers::between(&page, "<table class=\"cards flow\">", "</table>")
        .expect("the member table is a table.cards");
    let body = table.split("<tbody>").nth(1).unwrap();
    let tds = body.matches("<td").count();
    assert!(tds >= 2 * 8, "{table}");
    assert_eq!(
        body.matches("<td data-label=\"").count(),
        tds,
        "every cell labelled: {table}"
    );
    assert!(
        body.contains("data-label=\"操作\"><a class=\"btn secondary\" href=\"/office/households/"),
        "{table}"
    );
    assert_eq!(body.matches("移除成员").count(), 2);
    assert!(
        body.contains("data-label=\"劳动技能\">普通劳动力</td>"),
        "{table}"
    );
    assert!(
        body.contains("data-label=\"劳动技能\">技能劳动力</td>"),
        "{table}"
    );
    assert!(!body.contains("一般户"), "{table}");
    // The village by name; its code is no text people read.
    assert!(
        page.contains(&format!("<span title=\"{VILLAGE_A}\">新街村</span>")),
        "{page}"
    );
    assert!(
        !page
            .replace(&format!("\"{VILLAGE_A}\""), "")
            .contains(VILLAGE_A),
        "{page}"
    );

    // History: local time as people write it.
    let history = get(format!("/office/households/{id}/history")).await;
    let local = chrono::Utc::now() + chrono::Duration::hours(8);
    assert!(
        history.contains(&local.format("%Y年%-m月%-d日").to_string()),
        "{history}"
    );
    assert!(history.contains("<table class=\"cards\">"));

    // The list: names, a picker of the official's areas (township › village).
    let list = get("/office/households?lang=zh-CN".into()).await;
    assert!(!list.contains("<input id=\"area\""), "{list}");
    let picker =
        crate::helpers::between(&list, "<select id=\"area\" name=\"area\">", "</select>").unwrap();
    assert!(
        picker.contains(&format!(
            "<option value=\"{VILLAGE_A}\">泼机镇 › 新街村</option>"
        )),
        "{picker}"
    );
    assert!(
        !picker.contains("黑树镇"),
        "only the official's areas: {picker}"
    );
    let text_only: String = list.split('"').step_by(2).collect();
    assert!(!text_only.contains(VILLAGE_A), "a code people read: {list}");
    assert!(list.contains("新街村"));
    let chosen = get(format!("/office/households?area={VILLAGE_A}")).await;
    assert!(
        chosen.contains(&format!("<option value=\"{VILLAGE_A}\" selected>")),
        "{chosen}"
    );
    // A new household's village is picked by name too.
    let form = get("/office/households/new?lang=zh-CN".into()).await;
    let villages = crate::helpers::between(
        &form,
        "<select id=\"area_code\" name=\"area_code\" required>",
        "</select>",
    )
    .expect("a village picker");
    assert!(
        villages.contains(&format!(
            "<option value=\"{VILLAGE_A}\">泼机镇 › 新街村</option>"
        )),
        "{villages}"
    );
    assert!(
        !villages.contains(">泼机镇<"),
        "a household belongs to a village: {villages}"
    );
    // An empty result says so and offers a way back.
    let none = get("/office/households?q=nobody".into()).await;
    assert!(none.contains("<div class=\"empty\">"), "{none}");
}
engine_test!(household_pages_read_on_a_phone_in_names);

/// `/office` is the official's own page: coverage of her area, households the
/// training never reached (and the list of them), recent certificates,
/// follow-up visits due, her tools, and no way into admin's pages.
async fn the_office_page_shows_what_needs_doing(app: TestApp) {
    use fuzhi::entities::{certificate, enrollment};
    use sea_orm::{ActiveModelTrait, ActiveValue::Set};
    let p = app.people().await;
    let tok = app.token(p.official).await;
    let get = |path: &'static str| {
        let (app, tok) = (&app, &tok);
        async move {
            let res = app
                .client
                .get(app.url(path))
                .bearer_auth(tok)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status().as_u16(), 200, "{path}");
            res.text().await.unwrap()
        }
    };
    // Nothing registered yet: a friendly empty state with the next step.
    let empty = get("/office?lang=en").await;
    assert!(empty.contains("<div class=\"empty\">"), "{empty}");
    assert!(
        empty.contains("href=\"/office/households/import\""),
        "{empty}"
    );

    let mut members = vec![];
    for (no, seq) in [("O-1", 1u16), ("O-2", 3), ("O-3", 5)] {
        let (s, v) = app
            .post_json(
                "/api/v1/households",
                &tok,
                body(
                    no,
                    VILLAGE_A,
                    &[
                        &id_number_born(1985, 3, 14, seq),
                        &id_number_born(2001, 3, 14, seq + 1),
                    ],
                ),
            )
            .await;
        assert_eq!(s, 201, "{v}");
        members.push((
            v["household"]["id"].as_i64().unwrap(),
            v["members"][0]["id"].as_i64().unwrap(),
        ));
    }
    // A learner of O-1 completed a course four months ago (no visit yet) and
    // got a certificate last week.
    let learner = fuzhi::accounts::users::find(app.conn(), p.learner_in)
        .await
        .unwrap()
        .unwrap();
    let mut u: fuzhi::entities::app_user::ActiveModel = learner.into();
    u.member_id = Set(Some(members[0].1));
    u.update(app.conn()).await.unwrap();
    let now = chrono::Utc::now();
    enrollment::ActiveModel {
        user_id: Set(p.learner_in),
        course_slug: Set("smartphone-basics".into()),
        state: Set(fuzhi::entities::enrollment::EnrollmentState::Completed),
        area_code: Set(Some(VILLAGE_A2.into())),
        household_id: Set(Some(members[0].0)),
        pre_done: Set(true),
        enrolled_at: Set(now - chrono::Duration::days(150)),
        completed_at: Set(Some(now - chrono::Duration::days(120))),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(app.conn())
    .await
    .unwrap();
    certificate::ActiveModel {
        code: Set("OFFICE-TEST-1".into()),
        user_id: Set(p.learner_in),
        course_slug: Set("smartphone-basics".into()),
        course_version: Set(1),
        holder_name: Set("成员0".into()),
        issued_at: Set(now - chrono::Duration::days(7)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(app.conn())
    .await
    .unwrap();

    let html = get("/office?lang=en").await;
    let tiles = crate::helpers::between(&html, "<section class=\"tiles\"", "</section>").unwrap();
    assert!(
        tiles.contains("<b>3</b> <span>Households</span>"),
        "{tiles}"
    );
    assert!(
        tiles.contains("<b>1</b> <span>Households trained</span>"),
        "{tiles}"
    );
    assert!(tiles.contains("<b>33.3%</b>"), "{tiles}");
    assert!(
        tiles.contains("<b>2</b> <span>Never reached</span>"),
        "{tiles}"
    );
    assert!(html.contains("<ul class=\"todo\">"), "{html}");
    assert!(
        html.contains("href=\"/office/households?reached=0\""),
        "{html}"
    );
    assert!(html.contains("Make 1 follow-up visits"), "{html}");
    assert!(
        html.contains(&format!(
            "href=\"/office/households/{}?member={}#follow-up\">成员0</a>",
            members[0].0, members[0].1
        )),
        "{html}"
    );
    assert!(
        html.contains("<td data-label=\"Name\">成员0</td>"),
        "{html}"
    );
    for tool in [
        "/office/dashboard",
        "/office/households\"",
        "/office/households/import",
        "/office/members",
        "/admin/users\"",
    ] {
        assert!(html.contains(&format!("href=\"{tool}")), "{tool}: {html}");
    }
    let admin_links: Vec<&str> = html
        .split("href=\"/admin")
        .skip(1)
        .map(|s| s.split('"').next().unwrap())
        .collect();
    assert_eq!(
        admin_links,
        ["/users"],
        "only the learner accounts tool: {html}"
    );

    // The link lists exactly the households never reached.
    let never = get("/office/households?reached=0").await;
    assert!(
        !never.contains(">O-1<") && never.contains(">O-2<") && never.contains(">O-3<"),
        "{never}"
    );
    let reached = get("/office/households?reached=1").await;
    assert!(
        reached.contains(">O-1<") && !reached.contains(">O-2<"),
        "{reached}"
    );

    // A trainer has her own start page.
    let trainer = app.token(p.trainer).await;
    let res = app
        .client
        .get(app.url("/office"))
        .bearer_auth(&trainer)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 303);
}
engine_test!(the_office_page_shows_what_needs_doing);

/// The demo data adds up, over the whole data set: a learner account linked
/// to a household member carries that member's name, and only members able
/// to train (working age, able to work) hold skills or signed-off tasks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_people_are_coherent() {
    use chrono::Datelike;
    let app = TestApp::spawn_with(crate::helpers::Engine::Sqlite, |s| {
        s.courses_dir = Some(crate::helpers::repo_path("courses"));
    })
    .await
    .unwrap();
    fuzhi::demo::seed(&app.state).await.unwrap();
    let db = app.conn();
    let rows = |sql: &'static str| async move {
        db.query_all_raw(Statement::from_string(db.get_database_backend(), sql))
            .await
            .unwrap()
    };
    let linked = rows(
        "SELECT u.login, u.display_name, m.name FROM app_user u JOIN member m ON m.id = u.member_id",
    )
    .await;
    assert!(linked.len() > 50, "{}", linked.len());
    for r in &linked {
        let (login, shown, name): (String, String, String) = (
            r.try_get_by_index(0).unwrap(),
            r.try_get_by_index(1).unwrap(),
            r.try_get_by_index(2).unwrap(),
        );
        assert_eq!(
            shown, name,
            "{login} is linked to {name} but called {shown}"
        );
    }
    let year = chrono::Utc::now().year();
    for (what, sql) in [
        (
            "skill evidence",
            "SELECT DISTINCT m.id, m.sex, m.birth_year, m.labour FROM skill_evidence e \
             JOIN app_user u ON u.id = e.user_id JOIN member m ON m.id = u.member_id",
        ),
        (
            "a signed-off task",
            "SELECT DISTINCT m.id, m.sex, m.birth_year, m.labour FROM task_signoff t \
             JOIN app_user u ON u.id = t.user_id JOIN member m ON m.id = u.member_id",
        ),
        (
            "an enrollment",
            "SELECT DISTINCT m.id, m.sex, m.birth_year, m.labour FROM enrollment e \
             JOIN app_user u ON u.id = e.user_id JOIN member m ON m.id = u.member_id",
        ),
    ] {
        let found = rows(sql).await;
        assert!(!found.is_empty(), "no member with {what}");
        for r in found {
            let (id, sex, born, labour): (i64, String, i32, Option<String>) = (
                r.try_get_by_index(0).unwrap(),
                r.try_get_by_index(1).unwrap(),
                r.try_get_by_index(2).unwrap(),
                r.try_get_by_index(3).unwrap(),
            );
            let age = year - born;
            let working_age = (16..=if sex == "female" { 55 } else { 60 }).contains(&age);
            let able = matches!(labour.as_deref(), Some("ordinary" | "skilled"));
            assert!(
                working_age && able,
                "member {id} ({sex}, {age}, {labour:?}) holds {what}"
            );
        }
    }
}
