//! Household spreadsheet import, without a database: bytes in, either an
//! [`ImportPlan`] of validated households or every [`RowError`] in the file.
//!
//! One row per household member; rows with the same 户编号 form one household
//! and must agree on the household-level columns. Identity numbers are parsed,
//! checked, hashed and dropped: the plan and the errors carry only the HMAC and
//! the last four characters. Checking against identity numbers already in the
//! database is the caller's: [`ImportPlan::id_hmacs`] lists them with their rows
//! and [`ImportPlan::errors_for_existing`] turns the ones found into errors.

/// The largest import file accepted (a county's registry is a few MB).
pub const IMPORT_LIMIT: usize = 64 << 20;

mod columns;
mod fields;
mod read;
mod unpack;
mod validate;

pub use unpack::{
    MAX_CELL_CHARS, MAX_CELLS, MAX_PART_BYTES, MAX_ROWS, MAX_SHARED_BYTES, MAX_SHARED_STRINGS,
    MAX_TOTAL_BYTES,
};

use chrono::NaiveDate;

pub use columns::Column;

use super::vocab::{
    Cause, Health, HouseholdKind, HouseholdStatus, Labour, MonitorType, Relation, Sex,
};

/// What the uploaded bytes are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// Comma- (or tab-) separated text, UTF-8 with or without BOM, or GB18030.
    Csv,
    /// An Excel workbook (XLSX; XLS and ODS are read too); the first sheet is used.
    Xlsx,
}

impl FileKind {
    /// By content: a ZIP (XLSX, ODS) or OLE (XLS) signature is a workbook,
    /// anything else is read as CSV.
    pub fn sniff(bytes: &[u8]) -> FileKind {
        if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"\xD0\xCF\x11\xE0") {
            FileKind::Xlsx
        } else {
            FileKind::Csv
        }
    }
}

/// What the import may accept, decided by the caller.
pub struct ImportContext<'a> {
    /// The server's identity-number HMAC key.
    pub hmac_key: &'a [u8],
    /// The importer's area: a code prefix ("5301") or a full 12-digit area code.
    /// Empty means everywhere.
    pub scope: &'a str,
    /// Whether a 12-digit code is a known village.
    pub is_village: &'a (dyn Fn(&str) -> bool + Sync),
    /// Birth dates and years after this are impossible.
    pub today: NaiveDate,
    /// The yearly refresh: a member already registered may be named by the
    /// masked identity number an export shows (`**************002X`).
    pub update: bool,
}

impl<'a> ImportContext<'a> {
    pub fn new(
        hmac_key: &'a [u8],
        scope: &'a str,
        is_village: &'a (dyn Fn(&str) -> bool + Sync),
    ) -> ImportContext<'a> {
        ImportContext {
            hmac_key,
            scope,
            is_village,
            today: chrono::Local::now().date_naive(),
            update: false,
        }
    }
}

/// One problem, placed where a person can find and fix it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RowError {
    /// 1-based spreadsheet row, the header being row 1; 0 for the file as a whole.
    pub row: usize,
    /// The column's header as written in the file ("" for the whole row or file).
    pub field: String,
    pub message: String,
}

impl RowError {
    pub fn new(row: usize, field: impl Into<String>, message: impl Into<String>) -> RowError {
        RowError {
            row,
            field: field.into(),
            message: message.into(),
        }
    }
}

/// The last four characters of a masked identity number as an export shows
/// it (`**************002X`), or None for anything else.
pub fn masked_last4(cell: &str) -> Option<String> {
    let cell = cell.trim();
    let stars = cell.len().checked_sub(4)?;
    let (mask, last4) = cell.split_at_checked(stars)?;
    let ok = stars >= 4
        && mask.bytes().all(|b| b == b'*')
        && last4
            .bytes()
            .enumerate()
            .all(|(i, b)| b.is_ascii_digit() || (i == 3 && (b == b'X' || b == b'x')));
    ok.then(|| last4.to_ascii_uppercase())
}

/// A member's identity number as kept: keyed hash and last four characters.
/// In an update plan, a member named by a masked number has an empty `hmac`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct HashedId {
    /// HMAC-SHA256, lowercase hex.
    pub hmac: String,
    pub last4: String,
}

/// A household's income record for one year.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Income {
    pub year: i32,
    /// 年人均纯收入, in fen.
    pub net_per_capita_fen: i64,
}

/// A validated household. `Id` is [`HashedId`] in an import plan and
/// [`NationalId`](super::NationalId) in generated demo data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HouseholdRow<Id = HashedId> {
    /// The spreadsheet row of its first member.
    pub row: usize,
    /// 户编号: the number in the national system.
    pub registry_no: String,
    /// The village's 12-digit division code.
    pub area_code: String,
    pub village_group: Option<String>,
    pub kind: HouseholdKind,
    pub status: HouseholdStatus,
    pub monitor_type: Option<MonitorType>,
    pub identified_year: Option<i32>,
    pub exited_year: Option<i32>,
    pub phone: Option<String>,
    /// Absent only for a `not_poor` household.
    pub primary_cause: Option<Cause>,
    /// At most two, none equal to the primary.
    pub other_causes: Vec<Cause>,
    pub income: Option<Income>,
    pub members: Vec<MemberRow<Id>>,
}

/// A validated member. Sex and birth year agree with the identity number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberRow<Id = HashedId> {
    pub row: usize,
    pub name: String,
    pub sex: Sex,
    pub birth_year: i32,
    pub ethnicity: Option<String>,
    pub relation: Relation,
    pub education: Option<String>,
    pub school_status: Option<String>,
    pub health: Option<Health>,
    pub labour: Option<Labour>,
    pub migrant_months: Option<i32>,
    pub id: Id,
}

impl<Id> MemberRow<Id> {
    /// The same member with another kind of identity.
    pub fn with_id<J>(self, id: J) -> MemberRow<J> {
        MemberRow {
            row: self.row,
            name: self.name,
            sex: self.sex,
            birth_year: self.birth_year,
            ethnicity: self.ethnicity,
            relation: self.relation,
            education: self.education,
            school_status: self.school_status,
            health: self.health,
            labour: self.labour,
            migrant_months: self.migrant_months,
            id,
        }
    }
}

impl MemberRow<super::NationalId> {
    /// The member as kept: the identity number replaced by its HMAC and last four.
    pub fn hashed(&self, hasher: &super::IdHasher) -> MemberRow {
        MemberRow {
            row: self.row,
            name: self.name.clone(),
            sex: self.sex,
            birth_year: self.birth_year,
            ethnicity: self.ethnicity.clone(),
            relation: self.relation,
            education: self.education.clone(),
            school_status: self.school_status.clone(),
            health: self.health,
            labour: self.labour,
            migrant_months: self.migrant_months,
            id: HashedId {
                hmac: hasher.hex(&self.id),
                last4: self.id.last4(),
            },
        }
    }
}

/// Every household of a file that passed validation, in first-row order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportPlan {
    pub households: Vec<HouseholdRow>,
    /// The identity-number column's header as written in the file.
    pub id_field: String,
    /// The columns the file has: an update leaves the others as they are.
    pub columns: Vec<Column>,
}

impl ImportPlan {
    pub fn member_count(&self) -> usize {
        self.households.iter().map(|h| h.members.len()).sum()
    }

    /// Every member's HMAC with its spreadsheet row, for one look-up of the
    /// numbers already registered.
    pub fn id_hmacs(&self) -> impl Iterator<Item = (&str, usize)> + '_ {
        self.households
            .iter()
            .flat_map(|h| h.members.iter())
            .filter(|m| !m.id.hmac.is_empty())
            .map(|m| (m.id.hmac.as_str(), m.row))
    }

    /// The members whose HMAC `exists` already, as errors on their rows.
    pub fn errors_for_existing(&self, exists: impl Fn(&str) -> bool) -> Vec<RowError> {
        self.households
            .iter()
            .flat_map(|h| h.members.iter())
            .filter(|m| !m.id.hmac.is_empty() && exists(&m.id.hmac))
            .map(|m| {
                RowError::new(
                    m.row,
                    self.id_field.clone(),
                    crate::households::messages::Msg::new("hh.err.id_registered")
                        .with("last4", &m.id.last4)
                        .english(),
                )
            })
            .collect()
    }
}

/// Parses and validates a whole file. Every row is checked; on any problem the
/// result is every error found, sorted by row.
pub fn parse(
    bytes: &[u8],
    kind: FileKind,
    ctx: &ImportContext<'_>,
) -> Result<ImportPlan, Vec<RowError>> {
    let mut validator = validate::Validator::new(ctx);
    read::read(bytes, kind, &mut validator)?;
    validator.finish()
}

/// The downloadable template: the Chinese header row and one example member.
pub fn template_csv() -> String {
    // A member in a village of Zhenxiong county (镇雄县 黑树镇).
    let example = [
        "5306271030001",
        "530627103001",
        "3",
        "一般贫困户",
        "已脱贫",
        "",
        "2014",
        "2019",
        "13800000000",
        "因病",
        "缺技术、缺资金",
        "李秀英",
        "女",
        "11010519491231002X",
        "1949",
        "汉族",
        "户主",
        "初中",
        "非在校生",
        "长期慢性病",
        "普通劳动力",
        "6",
        "8650.50",
        "2024",
    ];
    let mut out = String::from("\u{feff}");
    let header: Vec<&str> = Column::ALL.iter().map(|c| c.zh()).collect();
    out.push_str(&header.join(","));
    out.push_str("\r\n");
    out.push_str(&example.join(","));
    out.push_str("\r\n");
    out
}

/// The significant prefix of an area code: `530102000000` → `530102`.
pub fn significant_prefix(code: &str) -> &str {
    if code.len() != 12 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return code;
    }
    for len in [2, 4, 6, 9] {
        if code[len..].bytes().all(|b| b == b'0') {
            return &code[..len];
        }
    }
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_masked_number_gives_its_last_four() {
        assert_eq!(masked_last4("**************002X").as_deref(), Some("002X"));
        assert_eq!(masked_last4(" ****1234 ").as_deref(), Some("1234"));
        assert_eq!(masked_last4("**************002x").as_deref(), Some("002X"));
        assert_eq!(masked_last4("11010519491231002X"), None);
        assert_eq!(masked_last4("***1234"), None);
        assert_eq!(masked_last4("****12X4"), None);
        assert_eq!(masked_last4("****"), None);
        assert_eq!(masked_last4("身份****1234"), None);
    }
}
