//! Staff pages in Chinese: what a refusal says comes from the locale files
//! (no English left over from the services), and error pages keep the
//! signed-in header and say when a place is outside the person's area.

use serde_json::json;

use crate::engine_test;
use crate::helpers::{COURSE, TestApp, VILLAGE_A, id_number};

/// Words in Latin letters a Chinese page may hold: codes, units and names.
const ALLOWED: &[&str] = &[
    "App", "PIN", "ID", "SC", "Excel", "WPS", "XLSX", "CSV", "UTF", "GB", "KB", "MB", "X",
];

/// The text of an HTML fragment, tags and entities left out.
fn text_of(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.split('&')
        .enumerate()
        .map(|(i, s)| {
            if i == 0 {
                s.to_string()
            } else {
                s.split_once(';').map_or(s, |(_, rest)| rest).to_string()
            }
        })
        .collect()
}

/// Runs of Latin letters not on the allow-list.
fn english_words(html: &str) -> Vec<String> {
    text_of(html)
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| !w.is_empty() && !ALLOWED.contains(w))
        .map(str::to_string)
        .collect()
}

/// What `<main>` holds.
fn main_of(html: &str) -> &str {
    let start = html.find("<main").expect("a main element");
    let end = html.rfind("</main>").expect("the end of main");
    &html[start..end]
}

const HEADER: &str = "户编号,行政区划代码,村民小组,户类型,户状态,监测类型,识别年度,脱贫年度,联系电话,主要致贫原因,其他致贫原因,姓名,性别,身份证号,出生年份,民族,与户主关系,文化程度,在校状况,健康状况,劳动技能,务工月数,年人均纯收入(元),收入年度";

/// The household import report, the new-learner form and enrolling nobody,
/// each refused on a zh-CN page: every word of the refusal is Chinese.
async fn staff_refusals_read_in_chinese(app: TestApp) {
    let p = app.people().await;
    app.import_course(COURSE).await;
    let tok = app.token(p.official).await;

    // The import report: a wrong check digit, a household kind that is not
    // one, a birth year in the future.
    let good = id_number(1980, 1);
    let check = good.chars().last().unwrap();
    let wrong = if check == '0' { '1' } else { '0' };
    let bad_check = format!("{}{wrong}", &good[..17]);
    let csv = format!(
        "{HEADER}\n\
         Z-1,{VILLAGE_A},3,贫困户,已脱贫,,2014,2019,,因病,,张三,男,{bad_check},1980,汉族,户主,初中,非在校生,健康,普通劳动力,0,,\n\
         Z-2,{VILLAGE_A},3,一般贫困户,已脱贫,,2014,2019,,因病,,李四,男,{},2031,汉族,户主,初中,非在校生,健康,普通劳动力,0,,\n",
        id_number(1981, 2)
    );
    let res = app
        .client
        .post(app.url("/office/households/import?lang=zh-CN"))
        .bearer_auth(&tok)
        .form(&[("csv", csv.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 422);
    let html = res.text().await.unwrap();
    let start = html
        .find("<div class=\"card err\"")
        .unwrap_or_else(|| panic!("an import report: {html}"));
    let report = &html[start..start + html[start..].find("</table>").unwrap()];
    for said in ["校验位应为", "未知的值 贫困户", "出生年份 2031"] {
        assert!(report.contains(said), "{said}: {report}");
    }
    let words = english_words(report);
    assert!(
        words.is_empty(),
        "English in the import report: {words:?}\n{report}"
    );

    // The new-learner form: a PIN of two digits, then a phone number taken.
    let (s, v) = app
        .post_json(
            "/api/v1/households",
            &tok,
            json!({"registry_no": "Z-9", "area_code": VILLAGE_A, "primary_cause": "07",
                "members": [{"name": "王五", "id_number": id_number(1985, 9), "relation": "head"}]}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let member = v["members"][0]["id"].as_i64().unwrap();
    for (phone, pin, said) in [
        ("13700000101", "12", "6 位数字"),
        ("13900000002", "135790", "已经有人使用"),
    ] {
        let res = app
            .client
            .post(app.url(&format!("/office/members/{member}/learner?lang=zh-CN")))
            .bearer_auth(&tok)
            .form(&[("phone", phone), ("pin", pin)])
            .send()
            .await
            .unwrap();
        assert!(res.status().is_client_error(), "{phone}");
        let html = res.text().await.unwrap();
        let main = main_of(&html);
        assert!(main.contains(said), "{said}: {main}");
        let words = english_words(main);
        assert!(
            words.is_empty(),
            "English on the learner form: {words:?}\n{main}"
        );
    }

    // Enrolling with no learner ticked.
    let trainer = app.token(p.trainer).await;
    let res = app
        .submit(
            &trainer,
            "/teach/learners/enroll?lang=zh-CN",
            &[("course", COURSE)],
        )
        .await;
    assert_eq!(res.status().as_u16(), 422);
    let html = res.text().await.unwrap();
    let main = main_of(&html);
    assert!(main.contains("请至少勾选一名学员"), "{main}");
    let words = english_words(main);
    assert!(
        words.is_empty(),
        "English on the error page: {words:?}\n{main}"
    );
    // The error page keeps the signed-in header.
    assert!(html.contains("href=\"/teach\""), "{html}");
    assert!(html.contains("action=\"/logout\""), "{html}");
}
engine_test!(staff_refusals_read_in_chinese);

/// An error page shows the header of the person signed in, and a place
/// outside her area says so (still 404: whether it exists is not told).
async fn error_pages_keep_the_signed_in_header_and_name_the_area(app: TestApp) {
    let p = app.people().await;
    let tok = app.token(p.official).await;
    for (path, lang, said) in [
        (
            "/office/dashboard?area=530627103000&lang=zh-CN",
            "zh-CN",
            "不在你的管辖范围",
        ),
        (
            "/office/dashboard?area=530627103000&lang=en",
            "en",
            "not in your area",
        ),
        ("/no-such-page?lang=zh-CN", "zh-CN", "不在你的管辖范围"),
    ] {
        let res = app
            .client
            .get(app.url(path))
            .bearer_auth(&tok)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 404, "{path}");
        let html = res.text().await.unwrap();
        assert!(html.contains(said), "{lang} {path}: {html}");
        assert!(
            html.contains("href=\"/office\""),
            "signed-in header: {html}"
        );
        assert!(html.contains("action=\"/logout\""), "{html}");
        assert!(!html.contains("href=\"/login\""), "{html}");
    }
    // Signed out: the plain page, with the way to sign in.
    let res = app
        .client
        .get(app.url("/no-such-page?lang=zh-CN"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 404);
    let html = res.text().await.unwrap();
    assert!(html.contains("找不到这个页面"), "{html}");
    assert!(!html.contains("管辖范围"), "{html}");
    assert!(html.contains("href=\"/login\""), "{html}");
}
engine_test!(error_pages_keep_the_signed_in_header_and_name_the_area);
