//! An area's households as a CSV or XLSX file, in the import's columns so that
//! the file re-imports in update mode unchanged.
//!
//! Identity numbers leave only masked (`**************002X`, the last four
//! characters the registry keeps); an update import matches that member by
//! them. The health column is left out: it is sensitive, and an update
//! leaves a column the file does not have as it is. In the workbook, years,
//! months and incomes are numbers; registry numbers, area codes, phones and
//! identity numbers are text, so that their digits stay as written.

use std::collections::HashMap;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::json;

use super::import::Column;
use super::store::{ENTITY, area_prefix};
use super::vocab::{Cause, HouseholdKind, HouseholdStatus, Labour, MonitorType, Relation, Sex};
use crate::audit::{self, Action as Audit, Entry};
use crate::entities::{household, household_cause, income_record, member};
use crate::error::{AppError, AppResult};
use crate::policy::{Action, Actor};
use crate::spreadsheet::safe_record;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
}

impl Format {
    pub fn parse(s: Option<&str>) -> AppResult<Format> {
        match s.unwrap_or("csv").trim() {
            "" | "csv" => Ok(Format::Csv),
            "xlsx" => Ok(Format::Xlsx),
            other => Err(AppError::field(
                "format",
                format!("{other} is not csv or xlsx"),
            )),
        }
    }
}

/// The export's columns: the import's, without the health column.
pub const EXPORT_COLUMNS: [Column; Column::COUNT - 1] = {
    let mut out = [Column::RegistryNo; Column::COUNT - 1];
    let (mut i, mut j) = (0, 0);
    while i < Column::COUNT {
        if !matches!(Column::ALL[i], Column::Health) {
            out[j] = Column::ALL[i];
            j += 1;
        }
        i += 1;
    }
    out
};

/// The name of the workbook's sheet.
pub const SHEET_NAME: &str = "户成员信息";

/// One cell of the export.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Number(f64),
    /// An amount in yuan, two decimals.
    Yuan(f64),
    Blank,
}

impl Cell {
    fn text(s: impl Into<String>) -> Cell {
        let s = s.into();
        if s.is_empty() {
            Cell::Blank
        } else {
            Cell::Text(s)
        }
    }

    fn opt_text(s: &Option<String>) -> Cell {
        s.as_deref().map(Cell::text).unwrap_or(Cell::Blank)
    }

    fn year(n: Option<i32>) -> Cell {
        n.map(|n| Cell::Number(f64::from(n))).unwrap_or(Cell::Blank)
    }

    /// As written into a CSV file.
    pub fn as_csv(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Number(n) if n.fract() == 0.0 => format!("{n:.0}"),
            Cell::Number(n) => n.to_string(),
            Cell::Yuan(n) => format!("{n:.2}"),
            Cell::Blank => String::new(),
        }
    }
}

/// The width of each column in the workbook, in characters (a Chinese
/// character counts about two).
fn width(col: Column) -> f64 {
    match col {
        Column::RegistryNo | Column::AreaCode | Column::Phone => 16.0,
        Column::IdNumber => 22.0,
        Column::Kind | Column::Status | Column::MonitorType => 14.0,
        Column::PrimaryCause | Column::Education | Column::SchoolStatus | Column::Labour => 14.0,
        Column::OtherCauses => 22.0,
        Column::NetPerCapitaYuan => 18.0,
        Column::Name | Column::Relation | Column::Ethnicity => 10.0,
        Column::Sex => 6.0,
        _ => 10.0,
    }
}

/// A member's identity number as the export shows it.
pub fn masked_id(last4: Option<&str>) -> String {
    match last4 {
        Some(l) if !l.is_empty() => format!("**************{l}"),
        _ => String::new(),
    }
}

fn zh_of<T: Copy>(code: &str, parse: fn(&str) -> Option<T>, zh: fn(T) -> &'static str) -> String {
    parse(code).map(zh).unwrap_or(code).to_owned()
}

/// The household-level cells of every household, and its members' rows.
pub struct Export {
    pub rows: Vec<Vec<Cell>>,
    pub households: usize,
    pub prefix: String,
}

/// One row a member, in household order.
pub async fn export_rows(
    db: &impl ConnectionTrait,
    actor: &Actor,
    area: Option<&str>,
) -> AppResult<Export> {
    actor.require(Action::ViewHouseholds)?;
    let prefix = area_prefix(actor, area)?;
    let households = household::Entity::find()
        .filter(household::Column::AreaCode.starts_with(&prefix))
        .order_by_asc(household::Column::AreaCode)
        .order_by_asc(household::Column::RegistryNo)
        .all(db)
        .await?;
    let in_area = || {
        sea_orm::sea_query::Query::select()
            .column(household::Column::Id)
            .from(household::Entity)
            .and_where(household::Column::AreaCode.starts_with(&prefix))
            .to_owned()
    };
    let mut members: HashMap<i64, Vec<member::Model>> = HashMap::new();
    for m in member::Entity::find()
        .filter(member::Column::AreaCode.starts_with(&prefix))
        .order_by_asc(member::Column::Id)
        .all(db)
        .await?
    {
        members.entry(m.household_id).or_default().push(m);
    }
    let mut causes: HashMap<i64, Vec<household_cause::Model>> = HashMap::new();
    for c in household_cause::Entity::find()
        .filter(household_cause::Column::HouseholdId.in_subquery(in_area()))
        .order_by_asc(household_cause::Column::Cause)
        .all(db)
        .await?
    {
        causes.entry(c.household_id).or_default().push(c);
    }
    let mut incomes: HashMap<i64, income_record::Model> = HashMap::new();
    for i in income_record::Entity::find()
        .filter(income_record::Column::HouseholdId.in_subquery(in_area()))
        .order_by_asc(income_record::Column::Year)
        .all(db)
        .await?
    {
        incomes.insert(i.household_id, i);
    }
    let cause_zh = |c: &str| Cause::by_code(c).map(|c| c.zh).unwrap_or(c).to_owned();
    let mut rows = Vec::new();
    for h in &households {
        let cs = causes.get(&h.id).map(Vec::as_slice).unwrap_or(&[]);
        let primary = cs.iter().find(|c| c.is_primary).map(|c| cause_zh(&c.cause));
        let others: Vec<String> = cs
            .iter()
            .filter(|c| !c.is_primary)
            .map(|c| cause_zh(&c.cause))
            .collect();
        let income = incomes.get(&h.id);
        for m in members.get(&h.id).map(Vec::as_slice).unwrap_or(&[]) {
            let cell = |col: Column| -> Cell {
                match col {
                    Column::RegistryNo => Cell::text(&h.registry_no),
                    Column::AreaCode => Cell::text(&h.area_code),
                    Column::VillageGroup => Cell::opt_text(&h.village_group),
                    Column::Kind => Cell::text(zh_of(
                        h.kind.code(),
                        HouseholdKind::parse,
                        HouseholdKind::zh,
                    )),
                    Column::Status => Cell::text(zh_of(
                        h.status.code(),
                        HouseholdStatus::parse,
                        HouseholdStatus::zh,
                    )),
                    Column::MonitorType => h
                        .monitor_type
                        .as_deref()
                        .map(|t| Cell::text(zh_of(t, MonitorType::parse, MonitorType::zh)))
                        .unwrap_or(Cell::Blank),
                    Column::IdentifiedYear => Cell::year(h.identified_year),
                    Column::ExitedYear => Cell::year(h.exited_year),
                    Column::Phone => Cell::opt_text(&h.phone),
                    Column::PrimaryCause => Cell::opt_text(&primary),
                    Column::OtherCauses => Cell::text(others.join("、")),
                    Column::Name => Cell::text(&m.name),
                    Column::Sex => Cell::text(zh_of(&m.sex, Sex::parse, Sex::zh)),
                    Column::IdNumber => Cell::text(masked_id(m.id_last4.as_deref())),
                    Column::BirthYear => Cell::year(Some(m.birth_year)),
                    Column::Ethnicity => Cell::opt_text(&m.ethnicity),
                    Column::Relation => {
                        Cell::text(zh_of(&m.relation, Relation::parse, Relation::zh))
                    }
                    Column::Education => Cell::opt_text(&m.education),
                    Column::SchoolStatus => Cell::opt_text(&m.school_status),
                    Column::Labour => m
                        .labour
                        .as_deref()
                        .map(|l| Cell::text(zh_of(l, Labour::parse, Labour::zh)))
                        .unwrap_or(Cell::Blank),
                    Column::MigrantMonths => Cell::year(m.migrant_months),
                    Column::NetPerCapitaYuan => income
                        .map(|i| Cell::Yuan(i.net_per_capita_fen as f64 / 100.0))
                        .unwrap_or(Cell::Blank),
                    Column::IncomeYear => Cell::year(income.map(|i| i.year)),
                    Column::Health => Cell::Blank,
                }
            };
            rows.push(EXPORT_COLUMNS.iter().map(|c| cell(*c)).collect());
        }
    }
    Ok(Export {
        rows,
        households: households.len(),
        prefix,
    })
}

/// The area's households as a file, and the export written to the audit log.
pub async fn export(
    db: &impl ConnectionTrait,
    actor: &Actor,
    area: Option<&str>,
    format: Format,
) -> AppResult<Vec<u8>> {
    let ex = export_rows(db, actor, area).await?;
    let bytes = match format {
        Format::Csv => csv_bytes(&ex.rows).map_err(AppError::Internal)?,
        Format::Xlsx => xlsx(&ex.rows).map_err(|e| AppError::Internal(e.into()))?,
    };
    audit::record(
        db,
        Audit::Export,
        Entry {
            actor_id: Some(actor.id),
            entity: ENTITY,
            area_code: Some(ex.prefix.clone()).filter(|p| !p.is_empty()),
            after: Some(json!({
                "area": ex.prefix,
                "format": if format == Format::Csv { "csv" } else { "xlsx" },
                "households": ex.households,
                "members": ex.rows.len(),
            })),
            ..Default::default()
        },
    )
    .await?;
    Ok(bytes)
}

fn csv_bytes(rows: &[Vec<Cell>]) -> anyhow::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::from("\u{feff}".as_bytes()));
    w.write_record(EXPORT_COLUMNS.iter().map(|c| c.zh()))?;
    for r in rows {
        let cells: Vec<String> = r.iter().map(Cell::as_csv).collect();
        w.write_record(safe_record(&cells).iter().map(|c| c.as_bytes()))?;
    }
    w.flush()?;
    w.into_inner().map_err(|e| anyhow::anyhow!("csv: {e}"))
}

fn xlsx(rows: &[Vec<Cell>]) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format as Style, FormatAlign, Workbook};
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name(SHEET_NAME)?;
    let bold = Style::new().set_bold().set_align(FormatAlign::Center);
    // Text cells keep their digits; "@" also keeps a value typed in later as text.
    let text = Style::new().set_num_format("@");
    let money = Style::new().set_num_format("0.00");
    for (c, col) in EXPORT_COLUMNS.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, col.zh(), &bold)?;
        sheet.set_column_width(c as u16, width(*col))?;
    }
    sheet.set_freeze_panes(1, 0)?;
    for (r, row) in rows.iter().enumerate() {
        let r = r as u32 + 1;
        for (c, v) in row.iter().enumerate() {
            let c = c as u16;
            match v {
                Cell::Text(s) => {
                    sheet.write_string_with_format(r, c, s, &text)?;
                }
                Cell::Yuan(n) => {
                    sheet.write_number_with_format(r, c, *n, &money)?;
                }
                Cell::Number(n) => {
                    sheet.write_number(r, c, *n)?;
                }
                Cell::Blank => {}
            }
        }
    }
    if !rows.is_empty() {
        sheet.autofilter(0, 0, rows.len() as u32, EXPORT_COLUMNS.len() as u16 - 1)?;
    }
    book.save_to_buffer()
}
