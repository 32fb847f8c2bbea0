//! Marks of authority people look for on an official site: the organiser,
//! its contact and the ICP filing number in every page's footer (set by an
//! admin, nothing when unset), the organiser, seal, signature line and a
//! Chinese date on certificates, and a privacy notice; and pages that fit a
//! 390 px phone with every tap target at least 44 px tall.

use sea_orm::{ActiveModelTrait, ActiveValue::Set};
use serde_json::json;

use crate::engine_test;
use crate::helpers::{COURSE, TestApp};
use crate::support::Browser;

const ORGANISER: &str = "镇雄县乡村振兴局";
const ICP: &str = "滇ICP备2026000001号-1";
const SEAL_SVG: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100"><circle cx="50" cy="50" r="45" fill="none" stroke="#c00" stroke-width="5"/></svg>"##;

fn footer(page: &str) -> String {
    crate::helpers::between(page, "<footer>", "</footer>").expect("a footer")
}

async fn footer_shows_the_organiser_and_icp_once_the_admin_sets_them(app: TestApp) {
    let p = app.people().await;
    let admin = app.token(p.admin).await;
    let learner = app.token(p.learner).await;
    // Unset: no organiser, address, contact or ICP number, only the privacy link.
    let home = app.get("/?lang=zh-CN").await.text().await.unwrap();
    let f = footer(&home);
    assert!(f.contains("href=\"/privacy\""), "{f}");
    for absent in ["主办单位", "ICP", "beian.miit.gov.cn", "联系方式", "地址"] {
        assert!(!f.contains(absent), "{absent} shown while unset: {f}");
    }
    // Only an admin may set them.
    let (s, _, _) = app
        .post_form(
            &app.token(p.official).await,
            "/admin/settings",
            &[("organiser", "x")],
        )
        .await;
    assert_eq!(s, 403);
    // A malformed ICP number is refused, naming the field.
    let (s, _, page) = app
        .post_form(
            &admin,
            "/admin/settings",
            &[("organiser", ORGANISER), ("icp", "12345")],
        )
        .await;
    assert_eq!(s, 422, "{page}");
    assert!(
        page.contains("id=\"icp-err\"") && page.contains("滇ICP备"),
        "{page}"
    );
    let (s, _, _) = app
        .post_form(
            &admin,
            "/admin/settings",
            &[
                ("organiser", ORGANISER),
                ("address", "云南省昭通市镇雄县乌峰街道"),
                ("contact", "0870-6621234"),
                ("icp", ICP),
            ],
        )
        .await;
    assert_eq!(s, 303);
    let (_, settings) = app.page(&admin, "/admin/settings?lang=zh-CN").await;
    assert!(settings.contains(&format!("value=\"{ICP}\"")), "{settings}");
    for (who, path) in [
        (None, "/?lang=zh-CN"),
        (Some(&learner), "/me?lang=zh-CN"),
        (None, "/login?lang=en"),
    ] {
        let page = match who {
            Some(t) => app.page(t, path).await.1,
            None => app.get(path).await.text().await.unwrap(),
        };
        let f = footer(&page);
        assert!(f.contains(ORGANISER), "{path}: {f}");
        assert!(
            f.contains("云南省昭通市镇雄县乌峰街道") && f.contains("0870-6621234"),
            "{f}"
        );
        assert!(
            f.contains(&format!(
                "href=\"https://beian.miit.gov.cn/\" rel=\"noopener\">{ICP}</a>"
            )),
            "{path}: {f}"
        );
    }
    let en = footer(&app.get("/login?lang=en").await.text().await.unwrap());
    assert!(
        en.contains("Organiser") && en.contains("Privacy notice"),
        "{en}"
    );
    // Emptied again, nothing shows (the stored empty value wins).
    let (s, _, _) = app
        .post_form(&admin, "/admin/settings", &[("organiser", ""), ("icp", "")])
        .await;
    assert_eq!(s, 303);
    let f = footer(&app.get("/?lang=zh-CN").await.text().await.unwrap());
    assert!(!f.contains(ORGANISER) && !f.contains("ICP"), "{f}");
    // Each save is in the audit log.
    assert!(
        app.count("change_event WHERE entity = 'site_setting'")
            .await
            >= 2
    );
}
engine_test!(footer_shows_the_organiser_and_icp_once_the_admin_sets_them);

async fn the_certificate_shows_organiser_seal_signature_and_a_chinese_date(app: TestApp) {
    let p = app.people().await;
    app.import_course(COURSE).await;
    let code = fuzhi::learning::certificates::new_code();
    // 23:55 UTC is the next morning in Yunnan.
    let issued = chrono::DateTime::parse_from_rfc3339("2026-12-06T23:55:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    fuzhi::entities::certificate::ActiveModel {
        code: Set(code.clone()),
        user_id: Set(p.learner),
        course_slug: Set(COURSE.into()),
        course_version: Set(1),
        holder_name: Set("杨秀英".into()),
        issued_at: Set(issued),
        ..Default::default()
    }
    .insert(app.conn())
    .await
    .unwrap();
    // Unset: no organiser and no seal, but the signature line and the date.
    let page = app
        .get(&format!("/certificates/{code}?lang=zh-CN"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        !page.contains("class=\"seal\"") && !page.contains("主办单位</dt>"),
        "{page}"
    );
    assert!(page.contains("负责人签字"), "{page}");
    assert!(
        page.contains("2026年12月7日") && !page.contains("UTC+08:00"),
        "{page}"
    );

    let admin = app.token(p.admin).await;
    let (s, _, _) = app
        .post_form(
            &admin,
            "/admin/settings",
            &[("organiser", ORGANISER), ("icp", ICP)],
        )
        .await;
    assert_eq!(s, 303);
    let (s, body) = app
        .upload(
            &admin,
            "/admin/settings/seal",
            &[],
            "seal.svg",
            SEAL_SVG.as_bytes(),
        )
        .await;
    assert_eq!(s, 303, "{body}");
    let page = app
        .get(&format!("/certificates/{code}?lang=zh-CN"))
        .await
        .text()
        .await
        .unwrap();
    let cert = crate::helpers::between(&page, "<div class=\"cert card\">", "<div class=\"qr\">")
        .expect("the certificate");
    assert!(
        cert.contains(&format!("<dt>主办单位</dt><dd>{ORGANISER}</dd>")),
        "{cert}"
    );
    assert!(
        cert.contains("<p class=\"org\">镇雄县乡村振兴局</p>"),
        "{cert}"
    );
    assert!(
        cert.contains("<img class=\"seal\" src=\"/site/seal?v"),
        "{cert}"
    );
    assert!(cert.contains("alt=\"主办单位印章\""), "{cert}");
    assert!(
        cert.contains("负责人签字") && cert.contains("class=\"line\""),
        "{cert}"
    );
    assert!(cert.contains("<p>2026年12月7日</p>"), "{cert}");
    let en = app
        .get(&format!("/certificates/{code}?lang=en"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        en.contains("7 December 2026") && en.contains("Signed"),
        "{en}"
    );
    assert!(en.contains("<dt>Organiser</dt>"), "{en}");
    // The seal is served like course media: its type, nothing that runs.
    let seal = app.get("/site/seal").await;
    assert_eq!(seal.status(), 200);
    let h = seal.headers();
    assert_eq!(h["content-type"], "image/svg+xml");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(
        h["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("sandbox")
    );
    assert_eq!(seal.bytes().await.unwrap(), SEAL_SVG.as_bytes());
}
engine_test!(the_certificate_shows_organiser_seal_signature_and_a_chinese_date);

async fn the_seal_upload_refuses_what_is_not_a_png_or_svg(app: TestApp) {
    let p = app.people().await;
    let admin = app.token(p.admin).await;
    let mut fake_png = b"\x89PNG\r\n\x1a\n".to_vec();
    fake_png.extend_from_slice(b"<html><script>alert(1)</script></html>");
    let mut big = b"<svg xmlns=\"http://www.w3.org/2000/svg\">".to_vec();
    big.extend(std::iter::repeat_n(b' ', 210 * 1024));
    big.extend_from_slice(b"</svg>");
    for (name, bytes, why) in [
        (
            "seal.png",
            b"<html><body>hello</body></html>".to_vec(),
            "PNG 或 SVG",
        ),
        ("seal.png", fake_png, "PNG 或 SVG"),
        (
            "seal.svg",
            br#"<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>"#.to_vec(),
            "PNG 或 SVG",
        ),
        ("seal.svg", big, "200 KB"),
    ] {
        let (s, page) = app
            .upload(&admin, "/admin/settings/seal", &[], name, &bytes)
            .await;
        assert_eq!(s, 422, "{name}: {page}");
        let err = crate::helpers::between(&page, "id=\"seal-err\" role=\"alert\">", "</p>")
            .expect("the field's error");
        assert!(err.contains(why), "{err}");
    }
    assert_eq!(
        app.get("/site/seal").await.status(),
        404,
        "nothing was kept"
    );
    assert_eq!(app.count("site_file").await, 0);
    // Not an admin: refused before the file is read.
    let (s, _) = app
        .upload(
            &app.token(p.trainer).await,
            "/admin/settings/seal",
            &[],
            "seal.svg",
            SEAL_SVG.as_bytes(),
        )
        .await;
    assert_eq!(s, 403);
    // A real PNG (1 × 1) is kept and served as one.
    let png: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\0\0\0\x0dIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\0\x05\0\x01\xff\x89\x99=\x1d\0\0\0\0IEND\xaeB`\x82";
    let (s, body) = app
        .upload(&admin, "/admin/settings/seal", &[], "seal.png", png)
        .await;
    assert_eq!(s, 303, "{body}");
    let seal = app.get("/site/seal").await;
    assert_eq!(seal.headers()["content-type"], "image/png");
    // Removing it asks first, then the certificate has none.
    let (s, confirm) = app
        .page(&admin, "/admin/settings/seal/remove?lang=zh-CN")
        .await;
    assert_eq!(s, 200);
    assert!(confirm.contains("确定删除这个印章吗"), "{confirm}");
    let r = app
        .client
        .post(app.url("/admin/settings/seal/remove"))
        .bearer_auth(&admin)
        .form(&[("confirm", "yes")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(app.get("/site/seal").await.status(), 404);
}
engine_test!(the_seal_upload_refuses_what_is_not_a_png_or_svg);

async fn the_privacy_notice_says_what_is_kept_in_both_languages(app: TestApp) {
    let p = app.people().await;
    let zh = app.get("/privacy?lang=zh-CN").await;
    assert_eq!(zh.status(), 200);
    let zh = zh.text().await.unwrap();
    for w in [
        "<h1>隐私说明</h1>",
        "平台保存哪些信息",
        "建档立卡户",
        "学习记录",
        "身份证号不保存完整号码",
        "健康和残疾状况默认隐藏",
        "操作日志",
        "谁能看到",
        "保存多久",
        "有问题找谁",
        "也可以问你的培训员",
    ] {
        assert!(zh.contains(w), "{w} missing: {zh}");
    }
    let en = app.get("/privacy?lang=en").await.text().await.unwrap();
    for w in [
        "<h1>Privacy notice</h1>",
        "What is kept",
        "learning records",
        "No whole ID number is stored",
        "Health and disability are hidden by default",
        "audit log",
        "Who sees it",
        "How long it is kept",
        "Whom to ask",
    ] {
        assert!(en.contains(w), "{w} missing: {en}");
    }
    // The organiser's contact, once set, is whom to ask.
    let admin = app.token(p.admin).await;
    app.post_form(
        &admin,
        "/admin/settings",
        &[("organiser", ORGANISER), ("contact", "0870-6621234")],
    )
    .await;
    let zh = app.get("/privacy?lang=zh-CN").await.text().await.unwrap();
    let contact = crate::helpers::between(&zh, "id=\"contact\">", "</section>").unwrap();
    assert!(
        contact.contains("也可以联系主办单位")
            && contact.contains(ORGANISER)
            && contact.contains("0870-6621234"),
        "{contact}"
    );
}
engine_test!(the_privacy_notice_says_what_is_kept_in_both_languages);

/// What a page at the browser's width gets wrong: elements reaching past
/// the right edge, links, buttons and summaries under 44 px tall (prose
/// links in a lesson excepted), content clipped in a box, and header cells
/// of card tables left on screen.
const MEASURE: &str = "
const w = document.documentElement.clientWidth;
const name = e => e.tagName + (e.className ? '.' + e.className : '') + ' ' + (e.textContent || '').trim().slice(0, 24);
const over = [], small = [], clipped = [];
for (const e of document.querySelectorAll('body *')) {
  const r = e.getBoundingClientRect();
  if (r.width === 0 || r.height === 0 || e.closest('.skip')) continue;
  if (r.right > w + 1 || r.left < -1) over.push(name(e) + ' ' + Math.round(r.left) + '..' + Math.round(r.right));
}
for (const e of document.querySelectorAll('a, button, summary, input[type=submit]')) {
  const r = e.getBoundingClientRect();
  if (r.width === 0 || r.height === 0 || e.closest('.skip') || e.closest('.lesson')) continue;
  if (r.height < 44) small.push(name(e) + ' ' + Math.round(r.height) + 'px');
}
for (const e of document.querySelectorAll('main table, main .scroll')) {
  if (e.scrollWidth > e.clientWidth + 1) clipped.push(name(e) + ' ' + e.scrollWidth + '>' + e.clientWidth);
}
// A header cell shows unless a box around it inside the table is shrunk
// to a pixel (the visually hidden thead of a card table).
const shown = e => {
  for (let a = e; a && a.tagName !== 'TABLE'; a = a.parentElement) {
    const r = a.getBoundingClientRect();
    if (r.width <= 1 || r.height <= 1) return false;
  }
  return true;
};
const strips = [...document.querySelectorAll('table.cards th')].filter(shown).map(name);
return {over, small, clipped, strips, fits: document.documentElement.scrollWidth <= w};";

async fn measure(b: &Browser, path: &str) -> serde_json::Value {
    let v = b.client.execute(MEASURE, vec![]).await.unwrap();
    for k in ["over", "small", "clipped", "strips"] {
        assert_eq!(v[k], json!([]), "{path}: {k}: {v}");
    }
    assert_eq!(v["fits"], json!(true), "{path}: wider than the phone");
    v
}

async fn sign_in(app: &TestApp, login: &str, password: &str) -> Browser {
    let b = Browser::start(true).await;
    b.client.set_window_size(390, 844).await.unwrap();
    b.goto(&app.url("/login?lang=zh-CN")).await;
    b.fill("#login", login).await;
    b.fill("#password", password).await;
    b.click("button[type=submit]").await;
    b.wait_signed_in().await;
    b
}

/// At 390 px the household list, a household page with its income and
/// follow-up tables, the trainer's card tables, the catalog, a course page,
/// a lesson and a certificate (Chinese and English) fit the screen, keep every column on it, show no header
/// strips, and every link and button is at least 44 px tall; household
/// cards use the phone's width and a page holds 20 of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phone_pages_fit_390_px_with_44_px_tap_targets() {
    let app = TestApp::spawn_with(crate::helpers::Engine::Sqlite, |s| {
        s.courses_dir = Some(crate::helpers::repo_path("courses"));
    })
    .await
    .unwrap();
    fuzhi::demo::seed(&app.state).await.unwrap();
    let staff = fuzhi::demo::STAFF_PASSWORD;
    // The household with the most follow-up visits, given an income row.
    use sea_orm::ConnectionTrait;
    let row = app
        .conn()
        .query_one_raw(sea_orm::Statement::from_string(
            app.conn().get_database_backend(),
            "SELECT household_id FROM follow_up GROUP BY household_id ORDER BY COUNT(*) DESC LIMIT 1",
        ))
        .await
        .unwrap()
        .unwrap();
    let household: i64 = row.try_get_by_index(0).unwrap();
    let row = app
        .conn()
        .query_one_raw(sea_orm::Statement::from_string(
            app.conn().get_database_backend(),
            "SELECT code FROM certificate ORDER BY id LIMIT 1",
        ))
        .await
        .unwrap()
        .unwrap();
    let certificate: String = row.try_get_by_index(0).unwrap();
    let official = fuzhi::accounts::users::find_by_login(app.conn(), "gov.zhenxiong")
        .await
        .unwrap()
        .unwrap()
        .id;
    let t = app.token(official).await;
    let r = app
        .client
        .post(app.url(&format!("/office/households/{household}/incomes")))
        .bearer_auth(&t)
        .form(&[
            ("year", "2025"),
            ("wage", "123456.78"),
            ("business", "23456.78"),
            ("transfer", "3456.78"),
            ("property", "456.78"),
            ("costs", "12345.67"),
            ("net_per_capita", "34567.89"),
            ("verified", "1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);

    let b = sign_in(&app, "gov.zhenxiong", staff).await;
    b.goto(&app.url("/office/households?lang=zh-CN")).await;
    b.wait_text("建档立卡户").await;
    measure(&b, "/office/households").await;
    let cards = b
        .client
        .execute(
            "const main = document.querySelector('main');
             const cs = getComputedStyle(main);
             const inner = main.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
             return [inner, [...document.querySelectorAll('table.cards tbody tr')]
               .map(tr => { const r = tr.getBoundingClientRect(); return [r.width, r.height]; })];",
            vec![],
        )
        .await
        .unwrap();
    let inner = cards[0].as_f64().unwrap();
    let sizes: Vec<(f64, f64)> = serde_json::from_value(cards[1].clone()).unwrap();
    assert_eq!(sizes.len(), 20, "20 households a page on a phone");
    for (w, h) in &sizes {
        assert!(*w >= inner - 1.0, "a card {w} px wide in {inner} px");
        assert!(*h <= 160.0, "a household card {h} px tall: {sizes:?}");
    }
    b.goto(&app.url(&format!("/office/households/{household}?lang=zh-CN")))
        .await;
    b.wait_text("培训后回访").await;
    measure(&b, "household page").await;
    // Every column of the income and follow-up tables is on screen, labelled.
    let cells = b
        .client
        .execute(
            "return ['incomes', 'follow-ups'].map(id => [...document.querySelectorAll('#' + id + ' tbody tr:first-child td')]
               .filter(td => td.getBoundingClientRect().height > 0)
               .map(td => td.dataset.label));",
            vec![],
        )
        .await
        .unwrap();
    let incomes: Vec<String> = serde_json::from_value(cells[0].clone()).unwrap();
    assert_eq!(incomes.len(), 8, "every income column shows: {incomes:?}");
    assert!(incomes.contains(&"已核实".to_string()), "{incomes:?}");
    let visits: Vec<String> = serde_json::from_value(cells[1].clone()).unwrap();
    assert!(visits.len() >= 5, "{visits:?}");
    // Opened forms fit too.
    b.client
        .execute(
            "document.querySelectorAll('details').forEach(d => d.open = true);",
            vec![],
        )
        .await
        .unwrap();
    measure(&b, "household page, forms open").await;
    b.close().await;

    let b = sign_in(&app, "trainer.li", staff).await;
    for path in ["/teach/classes?lang=zh-CN", "/teach/learners?lang=zh-CN"] {
        b.goto(&app.url(path)).await;
        b.wait_text("扶智").await;
        measure(&b, path).await;
    }
    b.close().await;

    let b = sign_in(&app, "13800000001", fuzhi::demo::LEARNER_PIN).await;
    let lesson = app.first_lesson(COURSE).await;
    for path in [
        "/?lang=zh-CN".to_string(),
        format!("/courses/{COURSE}?lang=zh-CN"),
        format!("/courses/{COURSE}/lessons/{lesson}?lang=zh-CN"),
        "/privacy?lang=zh-CN".to_string(),
        format!("/certificates/{certificate}?lang=zh-CN"),
        format!("/certificates/{certificate}?lang=en"),
    ] {
        b.goto(&app.url(&path)).await;
        b.wait_text(if path.ends_with("=en") {
            "Privacy notice"
        } else {
            "隐私说明"
        })
        .await;
        measure(&b, &path).await;
    }
    b.close().await;
}
