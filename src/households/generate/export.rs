//! Generated households written out: as an import CSV (same columns and
//! labels an official's spreadsheet has) and as an import would hash them.

use std::io;

use crate::households::idcard::{IdHasher, NationalId};
use crate::households::import::{Column, HashedId, HouseholdRow};

/// The household as an import would see it: identity numbers hashed with `hasher`.
pub fn hashed(h: &HouseholdRow<NationalId>, hasher: &IdHasher) -> HouseholdRow<HashedId> {
    HouseholdRow {
        row: h.row,
        registry_no: h.registry_no.clone(),
        area_code: h.area_code.clone(),
        village_group: h.village_group.clone(),
        kind: h.kind,
        status: h.status,
        monitor_type: h.monitor_type,
        identified_year: h.identified_year,
        exited_year: h.exited_year,
        phone: h.phone.clone(),
        primary_cause: h.primary_cause,
        other_causes: h.other_causes.clone(),
        income: h.income,
        members: h.members.iter().map(|m| m.hashed(hasher)).collect(),
    }
}

/// Writes households as an import CSV (UTF-8 with BOM, Chinese headers, one
/// row per member), in the order their row numbers say.
pub fn write_import_csv(
    households: &[HouseholdRow<NationalId>],
    out: &mut impl io::Write,
) -> io::Result<()> {
    let mut buf = String::from("\u{feff}");
    let header: Vec<&str> = Column::ALL.iter().map(|c| c.zh()).collect();
    buf.push_str(&header.join(","));
    buf.push_str("\r\n");
    for h in households {
        append_household(&mut buf, h);
        if buf.len() > 1 << 16 {
            out.write_all(buf.as_bytes())?;
            buf.clear();
        }
    }
    out.write_all(buf.as_bytes())
}

/// [`write_import_csv`] into a string.
pub fn import_csv(households: &[HouseholdRow<NationalId>]) -> String {
    let mut bytes = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = write_import_csv(households, &mut bytes);
    String::from_utf8(bytes).unwrap_or_default()
}

fn append_household(out: &mut String, h: &HouseholdRow<NationalId>) {
    let year = |y: Option<i32>| y.map(|y| y.to_string()).unwrap_or_default();
    let others: Vec<&str> = h.other_causes.iter().map(|c| c.zh).collect();
    let (net, income_year) = match h.income {
        Some(i) => (yuan(i.net_per_capita_fen), i.year.to_string()),
        None => (String::new(), String::new()),
    };
    for m in &h.members {
        let cells: [&str; Column::COUNT] = [
            &h.registry_no,
            &h.area_code,
            h.village_group.as_deref().unwrap_or(""),
            h.kind.zh(),
            h.status.zh(),
            h.monitor_type.map(|t| t.zh()).unwrap_or(""),
            &year(h.identified_year),
            &year(h.exited_year),
            h.phone.as_deref().unwrap_or(""),
            h.primary_cause.map(|c| c.zh).unwrap_or(""),
            &others.join("、"),
            &m.name,
            m.sex.zh(),
            m.id.expose(),
            &m.birth_year.to_string(),
            m.ethnicity.as_deref().unwrap_or(""),
            m.relation.zh(),
            m.education.as_deref().unwrap_or(""),
            m.school_status.as_deref().unwrap_or(""),
            m.health.map(|x| x.zh()).unwrap_or(""),
            m.labour.map(|x| x.zh()).unwrap_or(""),
            &year(m.migrant_months),
            &net,
            &income_year,
        ];
        for (k, cell) in cells.iter().enumerate() {
            if k > 0 {
                out.push(',');
            }
            if cell.contains([',', '"', '\n', '\r']) {
                out.push('"');
                out.push_str(&cell.replace('"', "\"\""));
                out.push('"');
            } else {
                out.push_str(cell);
            }
        }
        out.push_str("\r\n");
    }
}

/// Fen as decimal yuan: 865050 → "8650.50".
fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    format!(
        "{sign}{}.{:02}",
        fen.unsigned_abs() / 100,
        fen.unsigned_abs() % 100
    )
}
