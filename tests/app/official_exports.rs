//! What officials take out of the registry and bring back: the household
//! workbook (typed cells, widths, a frozen header, Chinese sheet names, the
//! import's columns), the yearly refresh in update mode (a report of what
//! changes, all or nothing), the report workbook, and the admin pages that
//! read as words: audit log, household history, area levels, learner CSV.

use std::io::Read;

use base64::Engine as _;
use calamine::{Data, Reader};
use fuzhi::households::import::Column;

use crate::engine_test;
use crate::helpers::{TestApp, VILLAGE_A, id_number_born};

/// Two households of three members, with incomes, in the import's columns.
fn registry_csv() -> String {
    let header: Vec<&str> = Column::ALL.iter().map(|c| c.zh()).collect();
    let (a, b, c) = (
        id_number_born(1970, 5, 6, 2),
        id_number_born(2001, 5, 6, 1),
        id_number_born(1965, 5, 6, 3),
    );
    let mut out = header.join(",");
    out.push('\n');
    for line in [
        format!(
            "OX-001,{VILLAGE_A},3,一般贫困户,已脱贫,,2014,2019,13800000000,因病,缺技术,李秀英,女,{a},1970,汉族,户主,初中,非在校生,长期慢性病,普通劳动力,6,8650.50,2024"
        ),
        format!(
            "OX-001,{VILLAGE_A},3,一般贫困户,已脱贫,,2014,2019,13800000000,因病,缺技术,王小明,男,{b},2001,汉族,子女,高中,非在校生,健康,普通劳动力,10,8650.50,2024"
        ),
        format!(
            "OX-002,{VILLAGE_A},5,低保户,未脱贫,,2016,,,因学,,张建国,男,{c},1965,彝族,户主,小学,非在校生,健康,普通劳动力,0,4200.00,2024"
        ),
    ] {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

async fn import_api(app: &TestApp, tok: &str, csv: &str) {
    let res = app
        .post_body(tok, "/api/v1/households/import", "text/csv", csv.to_owned())
        .await;
    assert_eq!(res.status().as_u16(), 200, "{}", res.text().await.unwrap());
}

async fn export(app: &TestApp, tok: &str, format: &str) -> Vec<u8> {
    let res = app
        .client
        .get(app.url(&format!("/api/v1/households/export?format={format}")))
        .bearer_auth(tok)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    res.bytes().await.unwrap().to_vec()
}

/// Posts a file to the import page in update mode: (status, page).
async fn update_preview(app: &TestApp, tok: &str, file: Vec<u8>, name: &str) -> (u16, String) {
    post_multipart(
        app,
        tok,
        "/office/households/import",
        &[
            ("mode", b"update".to_vec(), None),
            ("file", file, Some(name)),
        ],
    )
    .await
}

/// A multipart form: (name, content, file name).
async fn post_multipart(
    app: &TestApp,
    tok: &str,
    path: &str,
    parts: &[(&str, Vec<u8>, Option<&str>)],
) -> (u16, String) {
    let boundary = "officialexportsboundary7MA4YWxk";
    let mut body = Vec::new();
    for (name, content, file) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match file {
            Some(f) => body.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            ),
            None => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            ),
        }
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    let res = app
        .client
        .post(app.url(path))
        .bearer_auth(tok)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

/// `2026年12月7日 15:55` somewhere in `s`.
fn has_chinese_time(s: &str) -> bool {
    s.match_indices('年').any(|(i, _)| {
        let before = &s[..i];
        let year = before
            .chars()
            .rev()
            .take(4)
            .filter(char::is_ascii_digit)
            .count()
            == 4;
        let rest = &s[i + '年'.len_utf8()..];
        let Some((month, rest)) = rest.split_once('月') else {
            return false;
        };
        let Some((day, rest)) = rest.split_once('日') else {
            return false;
        };
        let digits =
            |x: &str| !x.is_empty() && x.len() <= 2 && x.bytes().all(|b| b.is_ascii_digit());
        let time: Vec<u8> = rest.bytes().take(6).collect();
        year && digits(month)
            && digits(day)
            && time.len() == 6
            && time[0] == b' '
            && time[3] == b':'
            && [1, 2, 4, 5].iter().all(|&k| time[k].is_ascii_digit())
    })
}

/// An RFC 3339 timestamp (`2026-12-07T15:55`) somewhere in `s`.
fn has_raw_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    b.windows(14).any(|w| {
        let d = |k: usize| w[k].is_ascii_digit();
        (0..4).all(d)
            && w[4] == b'-'
            && d(5)
            && d(6)
            && w[7] == b'-'
            && d(8)
            && d(9)
            && w[10] == b'T'
            && d(11)
            && d(12)
            && w[13] == b':'
    })
}

/// The value of the hidden input `name` of a page.
fn hidden(page: &str, name: &str) -> String {
    let at = page
        .find(&format!("name=\"{name}\" value=\""))
        .unwrap_or_else(|| panic!("no {name} in {page}"));
    let rest = &page[at + name.len() + 15..];
    // As a browser reads the attribute.
    rest[..rest.find('"').unwrap()]
        .replace("&#x3D;", "=")
        .replace("&#x2F;", "/")
        .replace("&#x27;", "'")
        .replace("&#x60;", "`")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

async fn confirm(app: &TestApp, tok: &str, preview: &str) -> (u16, String) {
    post_multipart(
        app,
        tok,
        "/office/households/import/confirm",
        &[
            ("file", hidden(preview, "file").into_bytes(), None),
            ("digest", hidden(preview, "digest").into_bytes(), None),
        ],
    )
    .await
}

fn sheet_xml(xlsx: &[u8]) -> String {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(xlsx)).unwrap();
    let mut xml = String::new();
    zip.by_name("xl/worksheets/sheet1.xml")
        .unwrap()
        .read_to_string(&mut xml)
        .unwrap();
    xml
}

async fn household_workbook_is_typed_and_reimports_unchanged(app: TestApp) {
    let p = app.people().await;
    let tok = app.token(p.official).await;
    import_api(&app, &tok, &registry_csv()).await;
    let xlsx = export(&app, &tok, "xlsx").await;

    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(xlsx.clone())).unwrap();
    assert_eq!(book.sheet_names(), vec!["户成员信息".to_string()]);
    let range = book.worksheet_range_at(0).unwrap().unwrap();
    let header: Vec<String> = range
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name} in {header:?}"))
    };
    // Every column an update needs, under the import's headers.
    for c in Column::ALL.iter().filter(|c| **c != Column::Health) {
        col(c.zh());
    }
    assert!(
        !header.iter().any(|h| h == Column::Health.zh()),
        "health stays out"
    );
    let row = range.rows().nth(1).unwrap();
    assert!(
        matches!(&row[col("户编号")], Data::String(s) if s == "OX-001"),
        "{:?}",
        row[col("户编号")]
    );
    assert!(matches!(&row[col("行政区划代码")], Data::String(s) if s == VILLAGE_A));
    assert!(matches!(&row[col("联系电话")], Data::String(s) if s == "13800000000"));
    let id = &row[col("身份证号")];
    assert!(
        matches!(id, Data::String(s) if s.starts_with("****") && s.len() == 18),
        "{id:?}"
    );
    assert_eq!(row[col("识别年度")], Data::Float(2014.0));
    assert_eq!(row[col("出生年份")], Data::Float(1970.0));
    assert_eq!(row[col("务工月数")], Data::Float(6.0));
    assert_eq!(row[col("年人均纯收入(元)")], Data::Float(8650.5));
    assert_eq!(row[col("收入年度")], Data::Float(2024.0));
    let xml = sheet_xml(&xlsx);
    assert!(xml.contains("state=\"frozen\""), "no frozen pane: {xml}");
    assert!(
        xml.contains("<col ") && xml.contains("width="),
        "no column widths"
    );

    // The file as exported, back in update mode: nothing changes.
    let csv_before = export(&app, &tok, "csv").await;
    crate::helpers::init_log();
    let (s, page) = update_preview(&app, &tok, xlsx.clone(), "households.xlsx").await;
    assert_eq!(s, 200, "{}", crate::helpers::captured_log());
    assert!(
        page.contains("修改 0 户，新增 0 户，2 户没有变化"),
        "{page}"
    );
    let (s, page) = confirm(&app, &tok, &page).await;
    assert_eq!(
        s,
        200,
        "{}",
        crate::helpers::captured_log()
            .lines()
            .filter(|l| l.contains("ERROR") || l.contains("WARN"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        page.contains("更新完成：修改 0 户，新增 0 户，2 户没有变化"),
        "{page}"
    );
    assert_eq!(export(&app, &tok, "csv").await, csv_before);
    // The CSV export re-imports unchanged too.
    let csv = export(&app, &tok, "csv").await;
    let (s, page) = update_preview(&app, &tok, csv, "households.csv").await;
    assert_eq!(s, 200, "{page}");
    assert!(
        page.contains("修改 0 户，新增 0 户，2 户没有变化"),
        "{page}"
    );
    app.finish().await;
}
engine_test!(household_workbook_is_typed_and_reimports_unchanged);

async fn update_mode_reports_changes_and_is_all_or_nothing(app: TestApp) {
    let p = app.people().await;
    let tok = app.token(p.official).await;
    import_api(&app, &tok, &registry_csv()).await;
    let before = String::from_utf8(export(&app, &tok, "csv").await).unwrap();
    // The yearly refresh: 王小明 worked 12 months, OX-002 exited in 2025,
    // and a new household.
    let mut lines: Vec<String> = before.lines().map(str::to_owned).collect();
    lines[2] = lines[2].replace(",10,8650.50,", ",12,8650.50,");
    let mut cells: Vec<&str> = lines[3].split(',').collect();
    assert_eq!(cells[0], "OX-002");
    cells[4] = "已脱贫";
    cells[7] = "2025";
    lines[3] = cells.join(",");
    lines.push(format!(
        "OX-003,{VILLAGE_A},1,一般贫困户,未脱贫,,2020,,,因残,,赵六,男,{},1980,汉族,户主,初中,非在校生,普通劳动力,3,5000,2024",
        id_number_born(1980, 5, 6, 9)
    ));
    let file = lines.join("\n").into_bytes();
    let (s, page) = update_preview(&app, &tok, file.clone(), "refresh.csv").await;
    assert_eq!(s, 200, "{page}");
    assert!(
        page.contains("修改 2 户，新增 1 户，0 户没有变化"),
        "{page}"
    );
    assert!(
        page.contains("王小明 · 务工月数</td><td>10</td><td>12</td>"),
        "{page}"
    );
    assert!(
        page.contains("脱贫年度</td><td></td><td>2025</td>"),
        "{page}"
    );
    // The preview wrote nothing.
    assert_eq!(
        String::from_utf8(export(&app, &tok, "csv").await).unwrap(),
        before
    );

    // A bad row: nothing of the file is written, the row and column named.
    let mut bad = lines.clone();
    bad[1] = bad[1].replace(",一般贫困户,", ",富裕户,");
    let (s, page) = update_preview(&app, &tok, bad.join("\n").into_bytes(), "bad.csv").await;
    assert_eq!(s, 422, "{page}");
    assert!(page.contains("<td>2</td><td>户类型</td>"), "{page}");
    // A confirm whose digest is not the file's preview is refused.
    let (s, done) = confirm(&app, &tok, &page_with(&file)).await;
    assert_eq!(s, 409, "{done}");
    assert_eq!(
        String::from_utf8(export(&app, &tok, "csv").await).unwrap(),
        before
    );

    let (s, done) = confirm(&app, &tok, &preview_of(&app, &tok, &file).await).await;
    assert_eq!(s, 200, "{done}");
    assert!(done.contains("更新完成：修改 2 户，新增 1 户"), "{done}");
    let after = String::from_utf8(export(&app, &tok, "csv").await).unwrap();
    assert!(
        after.contains(",王小明,男,") && after.contains(",12,8650.50,"),
        "{after}"
    );
    assert!(after.contains("OX-003"), "{after}");
    assert!(after.contains(",已脱贫,,2016,2025,"), "{after}");
    app.finish().await;
}
engine_test!(update_mode_reports_changes_and_is_all_or_nothing);

/// A confirm form carrying `file` with a digest that is not its preview's.
fn page_with(file: &[u8]) -> String {
    format!(
        "<input type=\"hidden\" name=\"file\" value=\"{}\"><input type=\"hidden\" name=\"digest\" value=\"{}\">",
        base64::engine::general_purpose::STANDARD.encode(file),
        "0".repeat(64)
    )
}

async fn preview_of(app: &TestApp, tok: &str, file: &[u8]) -> String {
    let (s, page) = update_preview(app, tok, file.to_vec(), "refresh.csv").await;
    assert_eq!(s, 200, "{page}");
    page
}

async fn report_workbook_speaks_chinese(app: TestApp) {
    let p = app.people().await;
    let admin = app.token(p.admin).await;
    fuzhi::reports::rollup::run_once(app.conn()).await.unwrap();
    let xlsx = app
        .client
        .get(app.url("/api/v1/reports/export?area=530627102000&format=xlsx"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(xlsx.status(), 200);
    let xlsx = xlsx.bytes().await.unwrap().to_vec();
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(xlsx)).unwrap();
    let names = book.sheet_names();
    assert!(!names.is_empty());
    for n in &names {
        assert!(
            n.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "sheet {n:?} is not Chinese: {names:?}"
        );
    }
    for n in names {
        let range = book.worksheet_range(&n).unwrap();
        let header: Vec<String> = range
            .rows()
            .next()
            .map(|r| r.iter().map(|c| c.to_string()).collect())
            .unwrap_or_default();
        assert!(!header.iter().any(|h| h == "key"), "{n}: {header:?}");
        assert!(
            header
                .iter()
                .all(|h| h.is_empty() || h.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))),
            "{n}: {header:?}"
        );
    }
    app.finish().await;
}
engine_test!(report_workbook_speaks_chinese);

async fn admin_pages_read_as_words(app: TestApp) {
    let p = app.people().await;
    let (tok, admin) = (app.token(p.official).await, app.token(p.admin).await);
    import_api(&app, &tok, &registry_csv()).await;
    export(&app, &tok, "xlsx").await;
    let (_, v) = app.get_json("/api/v1/households?per_page=10", &tok).await;
    let id = v["items"][0]["id"].as_i64().unwrap();
    let (s, _) = app
        .get_json(&format!("/api/v1/households/{id}?sensitive=true"), &tok)
        .await;
    assert_eq!(s, 200);

    let (s, audit) = app.page(&admin, "/admin/audit").await;
    assert_eq!(s, 200);
    assert!(has_chinese_time(&audit), "{audit}");
    assert!(!has_raw_timestamp(&audit), "a raw timestamp: {audit}");
    for code in [
        ">read_sensitive<",
        ">import<",
        ">export<",
        ">household<",
        "{&quot;",
        "{\"",
    ] {
        assert!(!audit.contains(code), "{code} in {audit}");
    }
    assert!(
        audit.contains("official official1"),
        "no actor name: {audit}"
    );
    assert!(audit.contains("· 干部"), "no role: {audit}");
    assert!(
        audit.contains("导出") && audit.contains("查看敏感信息"),
        "{audit}"
    );
    assert!(audit.contains("户数：2"), "detail not in lines: {audit}");
    assert!(
        audit.contains("角色：干部") && audit.contains("已停用：否"),
        "{audit}"
    );

    let res = app
        .client
        .patch(app.url(&format!("/api/v1/households/{id}")))
        .bearer_auth(&tok)
        .json(&serde_json::json!({"phone": "13900000000"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let (s, hist) = app
        .page(&tok, &format!("/office/households/{id}/history?lang=zh-CN"))
        .await;
    assert_eq!(s, 200);
    assert!(has_chinese_time(&hist), "{hist}");
    assert!(
        !hist.contains(">read_sensitive<") && !hist.contains(">update<"),
        "{hist}"
    );
    assert!(
        hist.contains("查看敏感信息") && hist.contains("修改"),
        "{hist}"
    );
    assert!(hist.contains("official official1"), "{hist}");
    assert!(!hist.contains("{&quot;"), "JSON in {hist}");
    assert!(
        hist.contains("联系电话：13800000000 → 13900000000"),
        "{hist}"
    );
    assert!(hist.contains("查看的字段：健康状况"), "{hist}");

    let (s, areas) = app.page(&admin, "/admin/areas").await;
    assert_eq!(s, 200);
    assert!(areas.contains("<td>省</td>"), "{areas}");
    let (_, areas) = app.page(&admin, "/admin/areas?parent=530627102000").await;
    assert!(
        areas.contains("<td>村</td>") && areas.contains("乡（镇）"),
        "{areas}"
    );
    assert!(!areas.contains("<td>village</td>"), "{areas}");

    let (s, form) = app.page(&admin, "/admin/users/import").await;
    assert_eq!(s, 200);
    assert!(form.contains("姓名,手机号,PIN码,行政区划代码"), "{form}");
    let res = app
        .client
        .post(app.url("/admin/users/import"))
        .bearer_auth(&admin)
        .form(&[(
            "csv",
            format!("姓名,手机号,PIN码,行政区划代码\n杨秀英,13800000101,246810,{VILLAGE_A}\n"),
        )])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert!(res.text().await.unwrap().contains("已创建 1 个学员账号"));
    // The same page in English: the locale's words.
    let (_, en) = app.page(&admin, "/admin/audit?lang=en").await;
    assert!(
        en.contains("Viewed sensitive data") && en.contains("Exported"),
        "{en}"
    );
    assert!(en.contains("Households: 2"), "{en}");
    app.finish().await;
}
engine_test!(admin_pages_read_as_words);

async fn api_update_mode_previews_then_writes(app: TestApp) {
    let p = app.people().await;
    let tok = app.token(p.official).await;
    import_api(&app, &tok, &registry_csv()).await;
    let csv = String::from_utf8(export(&app, &tok, "csv").await).unwrap();
    let changed = csv.replacen(",4200.00,2024", ",4800.00,2025", 1);
    let post = |path: String, body: String| {
        let req = app
            .client
            .post(app.url(&path))
            .bearer_auth(&tok)
            .header("content-type", "text/csv")
            .body(body);
        async move {
            let res = req.send().await.unwrap();
            let s = res.status().as_u16();
            (s, res.json::<serde_json::Value>().await.unwrap())
        }
    };
    let (s, v) = post(
        "/api/v1/households/import?mode=update".into(),
        changed.clone(),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["written"], false);
    let change = &v["report"]["changed"][0];
    assert_eq!(change["registry_no"], "OX-002", "{v}");
    let fields: Vec<&str> = change["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["field"].as_str().unwrap())
        .collect();
    assert!(fields.contains(&"年人均纯收入(元)"), "{v}");
    assert_eq!(v["report"]["unchanged"], 1);
    let digest = v["report"]["digest"].as_str().unwrap().to_owned();
    assert_eq!(
        String::from_utf8(export(&app, &tok, "csv").await).unwrap(),
        csv
    );
    // A bad row: nothing, the row and the column named.
    let bad = changed.replacen(",一般贫困户,", ",富裕户,", 1);
    let (s, v) = post("/api/v1/households/import?mode=update".into(), bad).await;
    assert_eq!(s, 422, "{v}");
    assert_eq!(v["error"]["errors"][0]["row"], 2, "{v}");
    assert_eq!(v["error"]["errors"][0]["field"], "户类型", "{v}");
    let (s, v) = post(
        format!("/api/v1/households/import?mode=update&digest={digest}"),
        changed,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["written"], true);
    let after = String::from_utf8(export(&app, &tok, "csv").await).unwrap();
    assert!(after.contains(",4800.00,2025"), "{after}");
    app.finish().await;
}
engine_test!(api_update_mode_previews_then_writes);
