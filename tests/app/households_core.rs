//! The database-free household core: identity numbers, spreadsheet import in
//! every encoding and format, every error kind, synthetic data.

use std::collections::HashSet;

use chrono::NaiveDate;
use fuzhi::households::generate::{self, Synthetic};
use fuzhi::households::import::{self, FileKind, ImportContext, ImportPlan, RowError};
use fuzhi::households::{
    Cause, HouseholdKind, HouseholdStatus, IdHasher, NationalId, Relation, Sex,
};

const KEY: &[u8] = b"test hmac key";
const VILLAGES: &[&str] = &[
    "530102001201",
    "530102001202",
    "530102002201",
    "532301100201",
];

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 28).unwrap()
}

fn is_village(code: &str) -> bool {
    VILLAGES.contains(&code)
}

fn ctx() -> ImportContext<'static> {
    ImportContext {
        hmac_key: KEY,
        scope: "530102000000",
        is_village: &is_village,
        today: today(),
        update: false,
    }
}

fn id(birth: (i32, u32, u32), seq: u16) -> String {
    let date = NaiveDate::from_ymd_opt(birth.0, birth.1, birth.2).unwrap();
    NationalId::synthetic("530102", date, seq)
        .unwrap()
        .expose()
        .to_owned()
}

const HEADER: &str = "户编号,行政区划代码,村民小组,户类型,户状态,监测类型,识别年度,脱贫年度,联系电话,主要致贫原因,其他致贫原因,姓名,性别,身份证号,出生年份,民族,与户主关系,文化程度,在校状况,健康状况,劳动技能,务工月数,年人均纯收入(元),收入年度";

/// Two households, three members: a small valid file.
fn sample_csv() -> String {
    let rows = [
        format!(
            "H001,530102001201,3,一般贫困户,已脱贫,,2014,2019,13812345678,因病,缺技术、缺资金,张国强,男,{},1970,汉族,户主,初中,非在校生,长期慢性病,普通劳动力,6,8650.50,2025",
            id((1970, 3, 4), 11)
        ),
        format!(
            "H001,530102001201,3,一般贫困户,已脱贫,,2014,2019,13812345678,因病,缺技术、缺资金,李秀英,女,{},,彝族,配偶,小学,,健康,普通劳动力,0,8650.50,2025",
            id((1972, 12, 30), 22)
        ),
        format!(
            "H002,530102002201,1,dibao,monitored,unstable_exited,2015,2018,,07,,王芳,female,{},1950,苗族,head,,,disabled,lost,,,",
            id((1950, 1, 1), 4)
        ),
    ];
    format!("{HEADER}\n{}\n", rows.join("\n"))
}

fn parse_csv(text: &str) -> Result<ImportPlan, Vec<RowError>> {
    import::parse(text.as_bytes(), FileKind::Csv, &ctx())
}

/// The rows of a CSV written into an XLSX first sheet, numbers as numbers
/// where a person's Excel would have them.
fn csv_to_xlsx(text: &str) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes());
    for (r, record) in reader.records().enumerate() {
        for (c, cell) in record.unwrap().iter().enumerate() {
            let (r, c) = (r as u32, c as u16);
            match cell.parse::<f64>() {
                // 18-digit identity numbers do not fit a double: Excel users keep them as text.
                Ok(n) if cell.len() < 15 && !cell.starts_with('0') => {
                    sheet.write_number(r, c, n).map(|_| ())
                }
                _ => sheet.write_string(r, c, cell).map(|_| ()),
            }
            .unwrap();
        }
    }
    book.save_to_buffer().unwrap()
}

fn errors_of(text: &str) -> Vec<(usize, String, String)> {
    parse_csv(text)
        .unwrap_err()
        .into_iter()
        .map(|e| (e.row, e.field, e.message))
        .collect()
}

fn has(errors: &[(usize, String, String)], row: usize, field: &str, needle: &str) -> bool {
    errors
        .iter()
        .any(|(r, f, m)| *r == row && f == field && m.contains(needle))
}

#[test]
fn a_valid_file_becomes_a_plan() {
    let plan = parse_csv(&sample_csv()).unwrap();
    assert_eq!(plan.households.len(), 2);
    assert_eq!(plan.member_count(), 3);
    let h = &plan.households[0];
    assert_eq!((h.row, h.registry_no.as_str()), (2, "H001"));
    assert_eq!(h.kind, HouseholdKind::OrdinaryPoor);
    assert_eq!(h.status, HouseholdStatus::Exited);
    assert_eq!(h.primary_cause.map(|c| c.code), Some("01"));
    let others: Vec<&str> = h.other_causes.iter().map(|c| c.code).collect();
    assert_eq!(others, ["07", "09"]);
    assert_eq!(h.income.unwrap().net_per_capita_fen, 865_050);
    let spouse = &h.members[1];
    assert_eq!(
        (spouse.row, spouse.relation, spouse.sex),
        (3, Relation::Spouse, Sex::Female)
    );
    assert_eq!(
        spouse.birth_year, 1972,
        "taken from the ID number when the cell is blank"
    );
    assert_eq!(
        spouse.id.hmac,
        NationalId::parse(&id((1972, 12, 30), 22))
            .unwrap()
            .hmac_hex(KEY)
    );
    assert_eq!(spouse.id.last4.len(), 4);
    let h2 = &plan.households[1];
    assert_eq!(h2.income, None);
    assert_eq!(h2.primary_cause, Cause::by_code("07"));
    // Nothing in the plan carries a whole identity number.
    let shown = format!("{plan:?}");
    assert!(!shown.contains(&id((1970, 3, 4), 11)));
}

#[test]
fn utf8_bom_gb18030_tab_and_xlsx_give_the_same_plan() {
    let text = sample_csv();
    let plain = parse_csv(&text).unwrap();
    let bom = import::parse(format!("\u{feff}{text}").as_bytes(), FileKind::Csv, &ctx()).unwrap();
    let (gbk, _, lossy) = encoding_rs::GB18030.encode(&text);
    assert!(!lossy);
    assert!(std::str::from_utf8(&gbk).is_err(), "really GB18030 bytes");
    let gb = import::parse(&gbk, FileKind::Csv, &ctx()).unwrap();
    let tabbed = text.replace(',', "\t");
    let tab = parse_csv(&tabbed).unwrap();
    let xlsx_bytes = csv_to_xlsx(&text);
    assert_eq!(FileKind::sniff(&xlsx_bytes), FileKind::Xlsx);
    assert_eq!(FileKind::sniff(text.as_bytes()), FileKind::Csv);
    let xlsx = import::parse(&xlsx_bytes, FileKind::Xlsx, &ctx()).unwrap();
    assert_eq!(plain, bom);
    assert_eq!(plain, gb);
    assert_eq!(plain, tab);
    assert_eq!(plain, xlsx);
}

#[test]
fn english_headers_in_any_case_and_order_are_accepted() {
    let text = format!(
        "Name,ID_Number, Relation ,REGISTRY_NO,area_code,primary_cause,unused column\n张三,{},户主,H9,530102001202,因学,x\n",
        id((1990, 5, 6), 1)
    );
    let plan = parse_csv(&text).unwrap();
    assert_eq!(plan.households[0].members[0].name, "张三");
    assert_eq!(plan.id_field, "ID_Number");
}

#[test]
fn file_level_problems_are_row_0_or_the_header() {
    let errs = import::parse(b"", FileKind::Csv, &ctx()).unwrap_err();
    assert_eq!(
        (errs[0].row, errs[0].message.as_str()),
        (0, "the file is empty")
    );
    let errs = import::parse(b"not a zip", FileKind::Xlsx, &ctx()).unwrap_err();
    assert_eq!(errs[0].row, 0);
    let errs = import::parse(b"\xff\xfe\xfd\x80\x80", FileKind::Csv, &ctx()).unwrap_err();
    assert_eq!(errs[0].row, 0);
    let errs = parse_csv("\n\n户编号,姓名\nH1,张三\n").unwrap_err();
    assert!(
        errs.iter()
            .all(|e| e.row == 3 && e.message.starts_with("missing column"))
    );
    assert_eq!(errs.len(), 3, "{errs:?}");
    let errs = parse_csv(&format!("{HEADER}\n")).unwrap_err();
    assert_eq!(errs[0].message, "no household rows below the header");
}

/// One row per error kind, each checked at its row and column.
#[test]
fn every_error_kind_is_reported_at_its_row_and_column() {
    let good = |no: &str, rel: &str, birth: (i32, u32, u32), seq: u16| {
        format!(
            "{no},530102001201,,,,,,,,因病,,某人,,{},,,{rel},,,,,,,",
            id(birth, seq)
        )
    };
    let rows = [
        /* 2 */ good("A", "户主", (1980, 1, 1), 1),
        /* 3 */
        format!(
            "A,530102001201,,,,,,,,因病,,某人,,{},,,配偶,,,,,,,",
            id((1980, 1, 1), 1)
        ),
        /* 4 */
        format!(
            "B,5301020012,,,,,,,,因病,,某人,,{},,,户主,,,,,,,",
            id((1981, 1, 1), 1)
        ),
        /* 5 */
        format!(
            "C,532301100201,,,,,,,,因病,,某人,,{},,,户主,,,,,,,",
            id((1982, 1, 1), 1)
        ),
        /* 6 */
        format!(
            "D,530102009999,,,,,,,,因病,,某人,,{},,,户主,,,,,,,",
            id((1983, 1, 1), 1)
        ),
        /* 7 */
        "E,530102001201,,,,,,,,因病,,某人,,110105199902300011,,,户主,,,,,,,".to_owned(),
        /* 8 */
        "F,530102001201,,,,,,,,因病,,某人,,110105194912310023,,,户主,,,,,,,".to_owned(),
        /* 9 */
        format!(
            "G,530102001201,,,,,,,,,,某人,,{},,,户主,,,,,,,",
            id((1984, 1, 1), 1)
        ),
        /* 10 */
        format!(
            "H,530102001201,,,,,,,,因穷,,某人,,{},,,户主,,,,,,,",
            id((1985, 1, 1), 1)
        ),
        /* 11 */
        format!(
            "I,530102001201,,,,,,,,01,02、03;04,某人,,{},,,户主,,,,,,,",
            id((1986, 1, 1), 1)
        ),
        /* 12 */
        format!(
            "J,530102001201,,,,,,,,01,,某人,,{},1899,,户主,,,,,,,",
            id((1987, 1, 1), 1)
        ),
        /* 13 */
        format!(
            "K,530102001201,,,,,,,,01,,某人,,{},1990,,户主,,,,,,,",
            id((1988, 1, 1), 1)
        ),
        /* 14 */
        format!(
            "L,530102001201,,,,,,,,01,,某人,,{},,,户主,,,,,十三,abc,",
            id((1989, 1, 1), 1)
        ),
        /* 15 */ ",,,,,,,,,01,,,,,,,,,,,,,,".to_owned() + "x",
        /* 16 */ good("M", "户主", (1990, 1, 1), 1),
        /* 17 */
        format!(
            "M,530102001202,,,,,,,,因病,,某人,,{},,,子女,,,,,,,",
            id((2010, 1, 1), 1)
        ),
        /* 18 */ good("N", "户主", (1991, 1, 1), 1),
        /* 19 */ good("N", "户主", (1992, 1, 1), 1),
        /* 20 */ good("P", "子女", (1993, 1, 1), 1),
        /* 21 */
        format!(
            "Q,530102001201,,,,,,,,因病,,某人,女,{},2030,,户主,,,,,,,",
            id((1994, 1, 1), 1)
        ),
        /* 22 */
        format!(
            "R,530102001201,,,monitored,,,,,因病,,某人,,{},,,户主,,,,,,,",
            id((1995, 1, 1), 1)
        ),
        /* 23 */
        format!(
            "S,530102001201,,,,,,,,因病,,某人,,{},,,户主,,,,,,1000,",
            id((1996, 1, 1), 1)
        ),
    ];
    let text = format!("{HEADER}\n{}\n", rows.join("\n"));
    let e = errors_of(&text);
    let expect = [
        (3, "身份证号", "also in row 2"),
        (4, "行政区划代码", "is not a 12-digit village code"),
        (5, "行政区划代码", "unknown area code 532301100201"),
        (6, "行政区划代码", "unknown area code 530102009999"),
        (7, "身份证号", "birth date 19990230 is not a real date"),
        (8, "身份证号", "check digit should be X, not 3"),
        (9, "主要致贫原因", "missing primary poverty cause"),
        (10, "主要致贫原因", "unknown poverty cause 因穷"),
        (11, "其他致贫原因", "at most two other causes, found 3"),
        (12, "出生年份", "birth year 1899 is impossible"),
        (
            13,
            "出生年份",
            "birth year 1990 disagrees with the ID number (1988)",
        ),
        (14, "务工月数", "十三 is not a whole number"),
        (14, "年人均纯收入(元)", "abc is not an amount in yuan"),
        (15, "户编号", "required"),
        (15, "行政区划代码", "required"),
        (15, "姓名", "required"),
        (15, "与户主关系", "required"),
        (15, "身份证号", "required"),
        (17, "行政区划代码", "differs from row 16"),
        (18, "与户主关系", "has 2 heads (rows 18, 19)"),
        (20, "与户主关系", "has no head"),
        (21, "性别", "sex 女 disagrees with the ID number (男)"),
        (21, "出生年份", "birth year 2030 is impossible"),
        (22, "监测类型", "required when the household is monitored"),
        (23, "收入年度", "required when an income is given"),
    ];
    for (row, field, needle) in expect {
        assert!(
            has(&e, row, field, needle),
            "missing ({row}, {field}, {needle}) in {e:#?}"
        );
    }
    // Nothing beyond what is expected: rows 2 and 16, 19 are fine in themselves.
    assert!(
        !e.iter().any(|(r, _, _)| *r == 2 || *r == 16 || *r == 19),
        "{e:#?}"
    );
    // Errors never repeat a whole identity number.
    for (_, _, m) in &e {
        assert!(!m.contains("110105"), "{m}");
    }
    let rows_in_order: Vec<usize> = e.iter().map(|(r, _, _)| *r).collect();
    assert!(rows_in_order.windows(2).all(|w| w[0] <= w[1]));
}

#[test]
fn one_bad_row_among_many_gives_exactly_that_row() {
    let data = generate::generate("530102", &[("530102001000", "甲镇")], 400, 7).unwrap();
    let village_set: HashSet<String> = data.villages.iter().map(|v| v.code.clone()).collect();
    let known = move |c: &str| village_set.contains(c);
    let ctx = ImportContext {
        hmac_key: KEY,
        scope: "530102",
        is_village: &known,
        today: today(),
        update: false,
    };
    let text = generate::import_csv(&data.households);
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let target = 700; // spreadsheet row 700 is line index 699
    let line = lines[target - 1].clone();
    let cells: Vec<&str> = line.split(',').collect();
    let broken_id = format!("{}0", &cells[13][..17]);
    let broken_id = if broken_id == cells[13] {
        format!("{}1", &cells[13][..17])
    } else {
        broken_id
    };
    lines[target - 1] = line.replace(cells[13], &broken_id);
    let errs = import::parse(lines.join("\n").as_bytes(), FileKind::Csv, &ctx).unwrap_err();
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert_eq!((errs[0].row, errs[0].field.as_str()), (target, "身份证号"));
    assert!(errs[0].message.starts_with("check digit should be"));
}

#[test]
fn existing_ids_map_back_to_rows() {
    let plan = parse_csv(&sample_csv()).unwrap();
    let all: Vec<(String, usize)> = plan.id_hmacs().map(|(h, r)| (h.to_owned(), r)).collect();
    assert_eq!(all.iter().map(|(_, r)| *r).collect::<Vec<_>>(), [2, 3, 4]);
    let in_db: HashSet<String> = [all[1].0.clone()].into();
    let errs = plan.errors_for_existing(|h| in_db.contains(h));
    assert_eq!(errs.len(), 1);
    assert_eq!((errs[0].row, errs[0].field.as_str()), (3, "身份证号"));
    assert!(errs[0].message.contains("already registered"));
}

#[test]
fn the_template_is_a_valid_import() {
    let template = import::template_csv();
    assert!(template.starts_with("\u{feff}户编号,行政区划代码"));
    // Its example member lives in a village of Zhenxiong county.
    let zhenxiong = ImportContext {
        scope: "530627000000",
        is_village: &|c: &str| c == "530627103001",
        ..ctx()
    };
    let plan = import::parse(template.as_bytes(), FileKind::Csv, &zhenxiong).unwrap();
    assert_eq!(plan.member_count(), 1);
}

fn sample_generation(seed: u64) -> Synthetic {
    let townships = [("530102001000", "华山街道"), ("530102002000", "护国街道")];
    generate::generate("530102000000", &townships, 300, seed).unwrap()
}

#[test]
fn generation_is_deterministic_and_plausible() {
    let a = sample_generation(42);
    assert_eq!(a, sample_generation(42));
    assert_ne!(a, sample_generation(43));
    assert!((20..=30).contains(&a.villages.len()));
    assert!(
        a.villages
            .iter()
            .all(|v| v.code.len() == 12 && v.code.starts_with(&v.township_code[..9]))
    );
    let members: usize = a.households.iter().map(|h| h.members.len()).sum();
    let mean = members as f64 / a.households.len() as f64;
    assert!((3.0..4.2).contains(&mean), "mean household size {mean}");
    assert!(
        a.households
            .iter()
            .all(|h| (1..=7).contains(&h.members.len()))
    );
    let exited = a
        .households
        .iter()
        .filter(|h| h.status == HouseholdStatus::Exited)
        .count();
    assert!(exited > a.households.len() / 2);
    let ethnic: HashSet<&str> = a
        .households
        .iter()
        .flat_map(|h| &h.members)
        .filter_map(|m| m.ethnicity.as_deref())
        .collect();
    assert!(ethnic.contains("汉族") && ethnic.contains("彝族") && ethnic.contains("苗族"));
    for h in &a.households {
        let net = h.income.unwrap().net_per_capita_fen;
        assert!((600_000..=2_000_000).contains(&net), "{net}");
        assert_eq!(
            h.members
                .iter()
                .filter(|m| m.relation == Relation::Head)
                .count(),
            1
        );
    }
}

#[test]
fn generate_then_csv_then_parse_round_trips() {
    let data = sample_generation(9);
    let village_set: HashSet<String> = data.villages.iter().map(|v| v.code.clone()).collect();
    let known = move |c: &str| village_set.contains(c);
    let ctx = ImportContext {
        hmac_key: KEY,
        scope: "530102",
        is_village: &known,
        today: today(),
        update: false,
    };
    let csv = generate::import_csv(&data.households);
    let plan = import::parse(csv.as_bytes(), FileKind::Csv, &ctx)
        .unwrap_or_else(|e| panic!("{:#?}", &e[..e.len().min(10)]));
    let hasher = IdHasher::new(KEY);
    let expected: Vec<_> = data
        .households
        .iter()
        .map(|h| generate::hashed(h, &hasher))
        .collect();
    assert_eq!(plan.households, expected);
    // And through XLSX too.
    let xlsx = import::parse(&csv_to_xlsx(&csv), FileKind::Xlsx, &ctx).unwrap();
    assert_eq!(xlsx.households, expected);
}

/// `cargo test --release -- --ignored import_is_fast --nocapture`
#[test]
#[ignore = "timing; run in release mode"]
fn import_is_fast() {
    let start = std::time::Instant::now();
    let townships: Vec<(String, String)> = (1..=12)
        .map(|i| (format!("530102{i:03}000"), format!("乡{i}")))
        .collect();
    let townships: Vec<(&str, &str)> = townships
        .iter()
        .map(|(c, n)| (c.as_str(), n.as_str()))
        .collect();
    let data = generate::generate("530102", &townships, 100_000, 1).unwrap();
    let csv = generate::import_csv(&data.households);
    let generated = start.elapsed();
    let village_set: HashSet<String> = data.villages.iter().map(|v| v.code.clone()).collect();
    let known = move |c: &str| village_set.contains(c);
    let ctx = ImportContext {
        hmac_key: KEY,
        scope: "530102",
        is_village: &known,
        today: today(),
        update: false,
    };
    let start = std::time::Instant::now();
    let plan = import::parse(csv.as_bytes(), FileKind::Csv, &ctx).unwrap();
    let parsed = start.elapsed();
    println!(
        "generated {} households / {} members ({} MB CSV) in {generated:?}; parsed and validated in {parsed:?}",
        plan.households.len(),
        plan.member_count(),
        csv.len() / 1_000_000
    );
    assert!(parsed.as_secs() < 5);
}

/// Excel and WPS keep a column of digits as numbers unless it is set to
/// text: an 18-digit identity number loses its last digits (5.30102E+17)
/// and a household number its leading zeros. The file gets one message
/// that says to set the columns to text, in both languages, with the rows,
/// not a wrong check digit on every row.
#[test]
fn id_numbers_saved_as_numbers_get_one_message_for_the_file() {
    let mut lines = vec![HEADER.to_string()];
    for n in 1..=40u16 {
        lines.push(format!(
            "{n:04},530102001201,3,一般贫困户,已脱贫,,2014,2019,,因病,,户主{n},男,{},1970,汉族,户主,初中,非在校生,健康,普通劳动力,0,8650.50,2025",
            id((1970, 3, 4), n)
        ));
    }
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (r, line) in lines.iter().enumerate() {
        for (c, cell) in line.split(',').enumerate() {
            let (row, col) = (r as u32, c as u16);
            let digits = cell.trim_end_matches('X');
            if r > 0 && !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
                sheet
                    .write_number(row, col, digits.parse::<f64>().unwrap())
                    .unwrap();
            } else {
                sheet.write_string(row, col, cell).unwrap();
            }
        }
    }
    let xlsx = book.save_to_buffer().unwrap();
    let errors = import::parse(&xlsx, FileKind::Xlsx, &ctx()).unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    let e = &errors[0];
    assert_eq!(e.row, 0, "a message for the whole file: {e:?}");
    assert_eq!(e.field, "身份证号、户编号");
    assert!(e.message.contains("saved as numbers"), "{}", e.message);
    assert!(e.message.contains("Text"), "{}", e.message);
    assert!(
        e.message.contains("Rows affected: 2, 3, 4,"),
        "{}",
        e.message
    );
    let views = fuzhi::views::Views::load(None).unwrap();
    let zh = views.localize("zh-CN", &e.message);
    assert!(zh.starts_with("身份证号、户编号列被存成了数字"), "{zh}");
    assert!(zh.contains("设为文本"), "{zh}");
    assert!(zh.contains("涉及的行：2, 3, 4,"), "{zh}");

    // The same sheet saved as CSV holds what Excel showed: 5.30102E+17.
    let csv: Vec<String> = lines
        .iter()
        .enumerate()
        .map(|(r, l)| {
            if r == 0 {
                return l.clone();
            }
            let mut cells: Vec<&str> = l.split(',').collect();
            cells[13] = "5.30102E+17";
            cells.join(",")
        })
        .collect();
    let errors = parse_csv(&(csv.join("\n") + "\n")).unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(errors[0].message.contains("saved as numbers"));
    assert_eq!(errors[0].field, "身份证号");
}
