//! The dashboard's tables as data, and as CSV and XLSX files. The page, the
//! CSV and the XLSX are all made from these tables, so they show the same
//! numbers (suppressed the same way).

use serde::Serialize;

use super::figures::{Figures, Group, Summary};
use super::suppress::{Kind, Shown};

#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub key: String,
    pub label: String,
    pub href: Option<String>,
    pub cells: Vec<Shown>,
    /// The cells as the page shows them.
    pub texts: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Table {
    pub id: &'static str,
    pub title: String,
    pub head: Vec<String>,
    pub rows: Vec<Row>,
}

/// Household columns of the cut tables (not for sex and age cuts).
const HH_COLS: &[&str] = &["households", "households_reached", "households_trained"];
/// Person columns of every cut table.
const PERSON_COLS: &[&str] = &[
    "labour_force",
    "coverage",
    "enrollments",
    "completion_rate",
    "withdrawn",
    "mastery",
    "gain_mean",
    "gain_n",
    "behaviour_3m",
    "behaviour_6m",
];

fn cell(f: &Figures, col: &str) -> Shown {
    match col {
        "households" => f.households.clone(),
        "households_reached" => f.households_reached.rate.clone(),
        "households_trained" => f.households_trained.rate.clone(),
        "labour_force" => f.labour_force.clone(),
        "coverage" => f.coverage.rate.clone(),
        "enrollments" => f.enrollments.clone(),
        "completion_rate" => f.completion_rate.rate.clone(),
        "withdrawn" => f.withdrawn.clone(),
        "completions" => f.completions.clone(),
        "mastery" => f.mastery.rate.clone(),
        "gain_mean" => f.gain.mean.clone(),
        "gain_n" => f.gain.n.clone(),
        "behaviour_3m" => f.behaviour_3m.rate.clone(),
        "behaviour_6m" => f.behaviour_6m.rate.clone(),
        _ => Shown::Missing,
    }
}

fn row(key: &str, label: &str, href: Option<String>, cells: Vec<Shown>) -> Row {
    Row {
        key: key.to_string(),
        label: label.to_string(),
        href,
        texts: cells.iter().map(Shown::text).collect(),
        cells,
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
    let cols: Vec<&str> = if household {
        HH_COLS.iter().chain(PERSON_COLS).copied().collect()
    } else {
        PERSON_COLS.to_vec()
    };
    Table {
        id,
        title,
        head: cols.iter().map(|c| tr(&format!("dash.{c}"))).collect(),
        rows: groups
            .iter()
            .map(|g| {
                row(
                    &g.code,
                    &g.name,
                    link(&g.code),
                    cols.iter().map(|c| cell(&g.figures, c)).collect(),
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
    let f = &s.figures;
    let ratio = |key: &str, r: &super::figures::Ratio| {
        row(
            key,
            &tr(&format!("dash.{key}")),
            None,
            vec![r.rate.clone(), r.numerator.clone(), r.denominator.clone()],
        )
    };
    let one = |key: &str, v: &Shown| {
        row(
            key,
            &tr(&format!("dash.{key}")),
            None,
            vec![v.clone(), Shown::Missing, Shown::Missing],
        )
    };
    let headline = Table {
        id: "figures",
        title: tr("dash.t.figures"),
        head: vec![
            tr("dash.value"),
            tr("dash.numerator"),
            tr("dash.denominator"),
        ],
        rows: vec![
            one("households", &f.households),
            one("labour_force", &f.labour_force),
            ratio("coverage", &f.coverage),
            one("enrollments", &f.enrollments),
            ratio("completion_rate", &f.completion_rate),
            one("withdrawn", &f.withdrawn),
            one("completions", &f.completions),
            ratio("households_reached", &f.households_reached),
            ratio("households_trained", &f.households_trained),
            ratio("mastery", &f.mastery),
            one("gain_mean", &f.gain.mean),
            one("gain_n", &f.gain.n),
            one("gain_pre", &f.gain.mean_pre),
            one("gain_post", &f.gain.mean_post),
            ratio("gain_both", &f.gain.share_both_tests),
            ratio("behaviour_3m", &f.behaviour_3m),
            ratio("behaviour_6m", &f.behaviour_6m),
        ],
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
pub fn csv(tables: &[Table], name_head: &str) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(Vec::from("\u{feff}".as_bytes()));
    for t in tables {
        let mut head = vec![t.id.to_string(), "key".into(), name_head.to_string()];
        head.extend(t.head.iter().cloned());
        w.write_record(&head)?;
        for r in &t.rows {
            let mut rec = vec![t.id.to_string(), r.key.clone(), r.label.clone()];
            rec.extend(r.texts.iter().cloned());
            w.write_record(&rec)?;
        }
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

/// XLSX: one sheet a table; numbers as numbers (rates as percents), "<5" as text.
pub fn xlsx(tables: &[Table], name_head: &str) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let pct = Format::new().set_num_format("0.0%");
    let dec = Format::new().set_num_format("0.00");
    for t in tables {
        let sheet = book.add_worksheet();
        sheet.set_name(t.id)?;
        sheet.write_string_with_format(0, 0, t.title.as_str(), &bold)?;
        sheet.write_string_with_format(1, 0, "key", &bold)?;
        sheet.write_string_with_format(1, 1, name_head, &bold)?;
        for (c, h) in t.head.iter().enumerate() {
            sheet.write_string_with_format(1, c as u16 + 2, h.as_str(), &bold)?;
        }
        for (i, r) in t.rows.iter().enumerate() {
            let y = i as u32 + 2;
            sheet.write_string(y, 0, r.key.as_str())?;
            sheet.write_string(y, 1, r.label.as_str())?;
            for (c, v) in r.cells.iter().enumerate() {
                let x = c as u16 + 2;
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
        }
        sheet.set_column_width(1, 18)?;
    }
    book.save_to_buffer()
}
