//! The dashboard's tables as data, and as CSV and XLSX files. The page, the
//! CSV and the XLSX are all made from these tables, so they show the same
//! numbers (suppressed the same way).

use serde::Serialize;

use super::figure::{Figure, Measure};
use super::figures::{Group, Summary};
use super::suppress::{Kind, Shown};
use crate::spreadsheet::safe_record;

#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub key: String,
    pub label: String,
    pub href: Option<String>,
    pub cells: Vec<Shown>,
    /// The cells as the page shows them.
    pub texts: Vec<String>,
    /// Per cell: a hidden rate, mean or amount (not a count), which the page
    /// marks "—" with an explanation rather than "<5" (that would read as
    /// "under 5 %"). Exports keep "<5".
    pub marks: Vec<bool>,
    /// Why the row's figures read "—": an area with no household records
    /// imported.
    pub note: Option<String>,
}

/// Whether a figure is a rate or a mean (anything but a count).
fn not_count(f: Figure) -> bool {
    !matches!(f.spec().measure, Measure::Count(_))
}

#[derive(Debug, Clone, Serialize)]
pub struct Table {
    pub id: &'static str,
    pub title: String,
    pub head: Vec<String>,
    pub rows: Vec<Row>,
}

/// `rates`: per cell, whether it is a rate or a mean (not a count).
fn row(key: &str, label: &str, href: Option<String>, cells: Vec<Shown>, rates: &[bool]) -> Row {
    Row {
        marks: cells
            .iter()
            .enumerate()
            .map(|(i, c)| c.is_small() && rates.get(i).copied().unwrap_or(false))
            .collect(),
        key: key.to_string(),
        label: label.to_string(),
        href,
        texts: cells.iter().map(Shown::text).collect(),
        cells,
        note: None,
    }
}

fn cut_table(
    id: &'static str,
    title: String,
    groups: &[Group],
    household: bool,
    tr: &dyn Fn(&str) -> String,
    link: &dyn Fn(&str) -> Option<String>,
) -> Table {
    let cols = Figure::columns(household);
    let rates: Vec<bool> = cols.iter().map(|f| not_count(*f)).collect();
    let no_records = tr("dash.no_records");
    Table {
        id,
        title,
        head: cols.iter().map(|f| tr(&f.label_key())).collect(),
        rows: groups
            .iter()
            .map(|g| Row {
                note: g.no_records.then(|| no_records.clone()),
                ..row(
                    &g.code,
                    &g.name,
                    link(&g.code),
                    cols.iter()
                        .map(|f| g.figures.get(*f).shown().clone())
                        .collect(),
                    &rates,
                )
            })
            .collect(),
    }
}

/// Every table of a summary, titled and headed in the page's language.
/// `link` makes the drill-down link of a child area.
pub fn tables(
    s: &Summary,
    tr: &dyn Fn(&str) -> String,
    link: &dyn Fn(&str) -> Option<String>,
) -> Vec<Table> {
    let headline = Table {
        id: "figures",
        title: tr("dash.t.figures"),
        head: vec![
            tr("dash.value"),
            tr("dash.numerator"),
            tr("dash.denominator"),
        ],
        rows: s
            .figures
            .iter()
            .map(|(f, r)| {
                row(
                    f.id(),
                    &tr(&f.label_key()),
                    None,
                    r.cells(),
                    &[not_count(*f), false, false],
                )
            })
            .collect(),
    };
    let none = |_: &str| -> Option<String> { None };
    let mut out = vec![
        headline,
        cut_table(
            "by_child_area",
            tr("dash.t.children"),
            &s.by_child_area,
            true,
            tr,
            link,
        ),
        cut_table("by_cause", tr("dash.t.cause"), &s.by_cause, true, tr, &none),
        cut_table(
            "by_status",
            tr("dash.t.status"),
            &s.by_status,
            true,
            tr,
            &none,
        ),
        cut_table("by_sex", tr("dash.t.sex"), &s.by_sex, false, tr, &none),
        cut_table("by_age", tr("dash.t.age"), &s.by_age, false, tr, &none),
    ];
    out.push(Table {
        id: "trend",
        title: tr("dash.t.trend"),
        head: vec![tr("dash.enrollments"), tr("dash.completions")],
        rows: s
            .trend
            .iter()
            .map(|m| {
                row(
                    &m.month,
                    &m.month,
                    None,
                    vec![m.enrollments.clone(), m.completions.clone()],
                    &[],
                )
            })
            .collect(),
    });
    out.push(Table {
        id: "skills",
        title: tr("dash.t.skills"),
        head: vec![
            tr("dash.pairs"),
            tr("dash.gain_pre"),
            tr("dash.gain_post"),
            tr("dash.gain_mean"),
            tr("dash.level2"),
        ],
        rows: s
            .skills
            .iter()
            .map(|c| {
                row(
                    &c.competence,
                    &c.title,
                    None,
                    vec![
                        c.n.clone(),
                        c.mean_pre.clone(),
                        c.mean_post.clone(),
                        c.mean_gain.clone(),
                        c.level2.rate.clone(),
                    ],
                    &[false, true, true, true, true],
                )
            })
            .collect(),
    });
    let side = |key: &str, sd: &super::figures::Side| {
        row(
            key,
            &tr(&format!("dash.{key}")),
            None,
            vec![
                sd.households.clone(),
                sd.with_income.clone(),
                sd.income_per_head.clone(),
                sd.follow_up_active.denominator.clone(),
                sd.follow_up_active.rate.clone(),
            ],
            &[false, false, true, false, true],
        )
    };
    out.push(Table {
        id: "trained_vs_untrained",
        title: tr("dash.t.compare"),
        head: vec![
            tr("dash.households"),
            tr("dash.with_income"),
            tr("dash.income_per_head"),
            tr("dash.followed_up"),
            tr("dash.active_share"),
        ],
        rows: vec![
            side("trained", &s.trained_vs_untrained.trained),
            side("not_yet_trained", &s.trained_vs_untrained.not_yet_trained),
        ],
    });
    out
}

/// CSV (UTF-8 with a byte-order mark, for Excel): each table in turn, every
/// line starting with the table's id; a header line `table, key, name, …`.
/// Cells that would run as a formula are written as text (`spreadsheet`).
pub fn csv(tables: &[Table], name_head: &str) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(Vec::from("\u{feff}".as_bytes()));
    for t in tables {
        let mut head = vec![t.id.to_string(), "key".into(), name_head.to_string()];
        head.extend(t.head.iter().cloned());
        w.write_record(safe_record(&head).iter().map(|c| c.as_bytes()))?;
        for r in &t.rows {
            let mut rec = vec![t.id.to_string(), r.key.clone(), r.label.clone()];
            rec.extend(r.texts.iter().cloned());
            w.write_record(safe_record(&rec).iter().map(|c| c.as_bytes()))?;
        }
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

/// A sheet name Excel accepts: the table's title without `[]:*?/\`, at most
/// 31 characters, unique in the book (`id` when the title is empty).
fn sheet_name(title: &str, id: &str, taken: &mut Vec<String>) -> String {
    let clean: String = title
        .chars()
        .filter(|c| !matches!(c, '[' | ']' | ':' | '*' | '?' | '/' | '\\'))
        .take(28)
        .collect();
    let base = if clean.trim().is_empty() {
        id.to_string()
    } else {
        clean.trim().trim_matches('\'').to_string()
    };
    let mut name = base.clone();
    let mut n = 2;
    while taken.iter().any(|t| t.eq_ignore_ascii_case(&name)) {
        name = format!("{base}{n}");
        n += 1;
    }
    taken.push(name.clone());
    name
}

/// XLSX: one sheet a table, named by its title in the page's language; the
/// row's name first, numbers as numbers (rates as percents), "<5" as text,
/// and the row's code (an area's division code) last under `code_head`.
pub fn xlsx(
    tables: &[Table],
    name_head: &str,
    code_head: &str,
) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let pct = Format::new().set_num_format("0.0%");
    let dec = Format::new().set_num_format("0.00");
    let text = Format::new().set_num_format("@");
    let mut taken = Vec::new();
    for t in tables {
        let sheet = book.add_worksheet();
        sheet.set_name(sheet_name(&t.title, t.id, &mut taken))?;
        sheet.write_string_with_format(0, 0, t.title.as_str(), &bold)?;
        sheet.write_string_with_format(1, 0, name_head, &bold)?;
        for (c, h) in t.head.iter().enumerate() {
            sheet.write_string_with_format(1, c as u16 + 1, h.as_str(), &bold)?;
            sheet.set_column_width(c as u16 + 1, 14)?;
        }
        let code_col = t.head.len() as u16 + 1;
        let codes = t.rows.iter().any(|r| is_code(&r.key));
        if codes {
            sheet.write_string_with_format(1, code_col, code_head, &bold)?;
            sheet.set_column_width(code_col, 16)?;
        }
        for (i, r) in t.rows.iter().enumerate() {
            let y = i as u32 + 2;
            sheet.write_string(y, 0, r.label.as_str())?;
            for (c, v) in r.cells.iter().enumerate() {
                let x = c as u16 + 1;
                match v {
                    Shown::Value(Kind::Rate, f) => {
                        sheet.write_number_with_format(y, x, *f, &pct)?;
                    }
                    Shown::Value(Kind::Fen, f) => {
                        sheet.write_number_with_format(y, x, *f / 100.0, &dec)?;
                    }
                    Shown::Value(_, f) => {
                        sheet.write_number(y, x, *f)?;
                    }
                    other => {
                        sheet.write_string(y, x, other.text())?;
                    }
                }
            }
            if codes && is_code(&r.key) {
                sheet.write_string_with_format(y, code_col, r.key.as_str(), &text)?;
            }
        }
        sheet.set_column_width(0, 20)?;
        sheet.set_freeze_panes(2, 1)?;
    }
    book.save_to_buffer()
}

/// A division code (all digits), as opposed to a figure's internal name.
fn is_code(key: &str) -> bool {
    !key.is_empty() && key.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;
    use crate::reports::figure::Figures;
    use crate::reports::figures::{AreaRef, Comparison};
    use crate::reports::metric::Sums;
    use crate::reports::period::Period;
    use crate::views::{LOCALES, Views};

    fn empty_summary() -> Summary {
        Summary {
            area: AreaRef {
                code: String::new(),
                name: String::new(),
                level: "all".into(),
                parent: None,
            },
            period: Period {
                from: None,
                to: "2026-12".into(),
            },
            as_of: None,
            live: false,
            replica_lag_secs: None,
            figures: Figures::from_sums(&Sums::default(), true),
            no_records: false,
            by_child_area: vec![],
            by_cause: vec![],
            by_status: vec![],
            by_sex: vec![],
            by_age: vec![],
            trend: vec![],
            skills: vec![],
            trained_vs_untrained: Comparison::from_sums(&Sums::default()),
        }
    }

    /// Every figure's label and definition, and every label the tables and
    /// exports ask for, is in each locale file.
    #[test]
    fn every_figure_and_table_label_is_translated() {
        let views = Views::load(None).unwrap();
        let mut keys: Vec<String> = Figure::all()
            .flat_map(|f| [Some(f.label_key()), f.definition_key()])
            .flatten()
            .collect();
        let asked = RefCell::new(Vec::new());
        let tr = |k: &str| {
            asked.borrow_mut().push(k.to_string());
            k.to_string()
        };
        let tables = tables(&empty_summary(), &tr, &|_| None);
        assert_eq!(tables[0].rows.len(), Figure::all().count());
        keys.extend(asked.into_inner());
        for lang in LOCALES {
            let catalog = &views.catalog()[*lang];
            let missing: Vec<&String> = keys.iter().filter(|k| !catalog.contains_key(*k)).collect();
            assert!(missing.is_empty(), "{lang} lacks {missing:?}");
        }
    }
}
