//! Row validation and grouping into households. Every row is checked in full
//! and every problem kept; nothing stops at the first error.
//!
//! Household-level columns are parsed on every row into a borrowed
//! [`HouseholdFields`] (no allocation) and compared with the household's first
//! row; only a household's first row is copied into the plan.

use std::collections::HashMap;

use chrono::Datelike;

use super::columns::{Column, ColumnMap};
use super::fields::split_list;
use super::read::{Cells, Sink};
use super::{HashedId, HouseholdRow, ImportContext, ImportPlan, Income, MemberRow, RowError};
use crate::households::idcard::IdHasher;
use crate::households::messages::Msg;
use crate::households::rules::{self, Fen, MemberField, MemberFields, cause, phone, text, vocab};
use crate::households::vocab::{Cause, HouseholdKind, HouseholdStatus, MonitorType, Relation};

/// Set bits mark household columns that failed to parse on a row.
type BadMask = u32;

fn bit(col: Column) -> BadMask {
    1 << (col as u32)
}

/// The household-level cells of one row, parsed but borrowed.
struct HouseholdFields<'a> {
    registry_no: &'a str,
    area_code: &'a str,
    village_group: Option<&'a str>,
    kind: HouseholdKind,
    status: HouseholdStatus,
    monitor_type: Option<MonitorType>,
    identified_year: Option<i32>,
    exited_year: Option<i32>,
    phone: Option<&'a str>,
    primary_cause: Option<Cause>,
    other_causes: [Option<Cause>; 2],
    net_fen: Option<i64>,
    income_year: Option<i32>,
    bad: BadMask,
}

struct Draft {
    household: HouseholdRow,
    /// Columns that failed on the first row: later rows are not compared on them.
    bad: BadMask,
    heads: Vec<usize>,
    /// A row whose relation could not be read: "no head" would be a guess.
    relation_unknown: bool,
}

pub(super) struct Validator<'c> {
    ctx: &'c ImportContext<'c>,
    scope: &'c str,
    this_year: i32,
    hasher: IdHasher,
    map: Option<ColumnMap>,
    drafts: Vec<Draft>,
    by_registry: HashMap<String, usize>,
    ids: HashMap<[u8; 32], usize>,
    errors: Vec<RowError>,
}

/// One row being checked: reads cells and records errors against it.
struct RowCtx<'v, C: ?Sized> {
    row: usize,
    map: &'v ColumnMap,
    cells: &'v C,
    errors: &'v mut Vec<RowError>,
}

impl<'v, C: Cells + ?Sized> RowCtx<'v, C> {
    fn get(&self, col: Column) -> &'v str {
        let cells: &'v C = self.cells;
        self.map
            .index(col)
            .map(|i| cells.cell(i).trim())
            .unwrap_or("")
    }

    /// The trimmed cell, or None when blank.
    fn opt(&self, col: Column) -> Option<&'v str> {
        Some(self.get(col)).filter(|s| !s.is_empty())
    }

    fn err(&mut self, col: Column, message: Msg) {
        self.errors.push(RowError::new(
            self.row,
            self.map.name(col),
            message.english(),
        ));
    }

    /// Applies `parse` to a non-blank cell; an error is recorded and returns None.
    fn parse<T>(
        &mut self,
        col: Column,
        parse: impl FnOnce(&'v str) -> Result<T, Msg>,
    ) -> Option<T> {
        let s = self.opt(col)?;
        match parse(s) {
            Ok(v) => Some(v),
            Err(m) => {
                self.err(col, m);
                None
            }
        }
    }

    fn required(&mut self, col: Column) -> Option<&'v str> {
        let s = self.opt(col);
        if s.is_none() {
            self.err(col, rules::required());
        }
        s
    }
}

impl<'c> Validator<'c> {
    pub(super) fn new(ctx: &'c ImportContext<'c>) -> Validator<'c> {
        Validator {
            ctx,
            scope: super::significant_prefix(ctx.scope),
            this_year: ctx.today.year(),
            hasher: IdHasher::new(ctx.hmac_key),
            map: None,
            drafts: Vec::new(),
            by_registry: HashMap::new(),
            ids: HashMap::new(),
            errors: Vec::new(),
        }
    }

    pub(super) fn finish(mut self) -> Result<ImportPlan, Vec<RowError>> {
        let Some(map) = self.map else {
            return Err(self.errors);
        };
        let relation = map.name(Column::Relation).to_owned();
        for d in &self.drafts {
            let row = d.household.row;
            let no = &d.household.registry_no;
            if d.heads.len() > 1 {
                let rows: Vec<String> = d.heads.iter().map(|r| r.to_string()).collect();
                let msg = Msg::new("hh.err.many_heads")
                    .with("registry", no)
                    .with("n", d.heads.len())
                    .with("rows", rows.join(", "))
                    .english();
                self.errors.push(RowError::new(row, relation.clone(), msg));
            } else if d.heads.is_empty() && !d.relation_unknown {
                let msg = Msg::new("hh.err.no_head").with("registry", no).english();
                self.errors.push(RowError::new(row, relation.clone(), msg));
            }
        }
        if self.drafts.is_empty() && self.errors.is_empty() {
            self.errors
                .push(RowError::new(2, "", Msg::new("hh.err.no_rows").english()));
        }
        if !self.errors.is_empty() {
            self.errors.sort_by_key(|e| e.row);
            return Err(self.errors);
        }
        Ok(ImportPlan {
            households: self.drafts.into_iter().map(|d| d.household).collect(),
            id_field: map.name(Column::IdNumber).to_owned(),
            columns: Column::ALL
                .into_iter()
                .filter(|c| map.index(*c).is_some())
                .collect(),
        })
    }

    fn household_fields<'v, C: Cells + ?Sized>(
        &self,
        r: &mut RowCtx<'v, C>,
    ) -> HouseholdFields<'v> {
        let year = self.this_year;
        let mut bad: BadMask = 0;
        let mut seen = r.errors.len();
        // Marks `col` bad when parsing it added an error.
        macro_rules! mark {
            ($col:expr) => {
                if r.errors.len() > seen {
                    bad |= bit($col);
                    seen = r.errors.len();
                }
            };
        }

        let registry_no = r.required(Column::RegistryNo).unwrap_or("");
        if let Err(m) = text(registry_no, 32) {
            r.err(Column::RegistryNo, m);
        }
        mark!(Column::RegistryNo);

        let area_code = r.required(Column::AreaCode).unwrap_or("");
        if !area_code.is_empty() {
            if area_code.len() != 12 || !area_code.bytes().all(|b| b.is_ascii_digit()) {
                r.err(
                    Column::AreaCode,
                    Msg::new("hh.err.area_digits").with("code", area_code),
                );
            } else if area_code.ends_with("000") {
                r.err(
                    Column::AreaCode,
                    Msg::new("hh.err.area_not_village").with("code", area_code),
                );
            } else if !area_code.starts_with(self.scope) || !(self.ctx.is_village)(area_code) {
                // The same words inside and outside the importer's scope, so that
                // an import cannot probe for villages elsewhere.
                r.err(
                    Column::AreaCode,
                    Msg::new("hh.err.unknown_area").with("code", area_code),
                );
            }
        }
        mark!(Column::AreaCode);

        let village_group = r.parse(Column::VillageGroup, |s| text(s, 16));
        mark!(Column::VillageGroup);
        let kind = r
            .parse(Column::Kind, |s| {
                vocab(s, HouseholdKind::parse, HouseholdKind::expected)
            })
            .unwrap_or(HouseholdKind::OrdinaryPoor);
        mark!(Column::Kind);
        let status = r
            .parse(Column::Status, |s| {
                vocab(s, HouseholdStatus::parse, HouseholdStatus::expected)
            })
            .unwrap_or(HouseholdStatus::Registered);
        mark!(Column::Status);
        let monitor_type = r.parse(Column::MonitorType, |s| {
            vocab(s, MonitorType::parse, MonitorType::expected)
        });
        if r.errors.len() == seen && monitor_type.is_none() && status == HouseholdStatus::Monitored
        {
            r.err(Column::MonitorType, rules::monitor_type_missing());
        }
        mark!(Column::MonitorType);
        let identified_year = r.parse(Column::IdentifiedYear, |s| {
            rules::whole(s).and_then(|y| rules::registry_year(y, year))
        });
        mark!(Column::IdentifiedYear);
        let exited_year = r.parse(Column::ExitedYear, |s| {
            rules::whole(s).and_then(|y| rules::registry_year(y, year))
        });
        if let Err(m) = rules::exit_after_identified(identified_year, exited_year) {
            r.err(Column::ExitedYear, m);
        }
        mark!(Column::ExitedYear);
        let phone = r.parse(Column::Phone, phone);
        mark!(Column::Phone);

        let primary_cause = r.parse(Column::PrimaryCause, cause);
        if primary_cause.is_none() && r.errors.len() == seen && kind != HouseholdKind::NotPoor {
            r.err(Column::PrimaryCause, rules::primary_cause_missing());
        }
        mark!(Column::PrimaryCause);

        let mut other_causes = [None; 2];
        if let Some(list) = r.opt(Column::OtherCauses) {
            let (found, problems) = rules::other_causes(primary_cause, split_list(list));
            for (slot, c) in other_causes.iter_mut().zip(found) {
                *slot = Some(c);
            }
            for m in problems {
                r.err(Column::OtherCauses, m);
            }
        }
        mark!(Column::OtherCauses);

        let net_fen = r.parse(Column::NetPerCapitaYuan, |s| {
            Fen::parse_yuan(s).map(|f| f.0)
        });
        mark!(Column::NetPerCapitaYuan);
        let income_year = r.parse(Column::IncomeYear, |s| {
            rules::whole(s).and_then(|y| rules::income_year(y, year))
        });
        let net_given = r.opt(Column::NetPerCapitaYuan).is_some();
        match (net_given, r.opt(Column::IncomeYear).is_some()) {
            (true, false) => r.err(Column::IncomeYear, Msg::new("hh.err.income_year_required")),
            (false, true) => r.err(Column::NetPerCapitaYuan, Msg::new("hh.err.income_required")),
            _ => {}
        }
        if r.errors.len() > seen {
            bad |= bit(Column::IncomeYear);
        }

        HouseholdFields {
            registry_no,
            area_code,
            village_group,
            kind,
            status,
            monitor_type,
            identified_year,
            exited_year,
            phone,
            primary_cause,
            other_causes,
            net_fen,
            income_year,
            bad,
        }
    }

    fn member<C: Cells + ?Sized>(&mut self, r: &mut RowCtx<'_, C>) -> Option<MemberRow> {
        // Years and months that are not whole numbers are the cell's problem;
        // every other rule is the registry's, in `rules::check_member`.
        let birth_year = r.parse(Column::BirthYear, |s| {
            rules::whole(s).map_err(|_| Msg::new("hh.err.not_year").with("value", s))
        });
        let migrant_months = r.parse(Column::MigrantMonths, rules::whole);
        let masked = r.opt(Column::IdNumber).and_then(super::masked_last4);
        let fields = MemberFields {
            name: r.opt(Column::Name),
            id_number: r.opt(Column::IdNumber),
            relation: r.opt(Column::Relation),
            sex: r.opt(Column::Sex),
            birth_year,
            ethnicity: r.opt(Column::Ethnicity),
            education: r.opt(Column::Education),
            school_status: r.opt(Column::SchoolStatus),
            health: r.opt(Column::Health),
            labour: r.opt(Column::Labour),
            migrant_months,
        };
        if let Some(last4) = masked {
            if !self.ctx.update {
                r.err(
                    Column::IdNumber,
                    Msg::new("hh.err.id_masked").with("last4", &last4),
                );
                return None;
            }
            // A registered member, matched by the refresh within its household.
            let (member, problems) = rules::check_kept_member(&fields, &last4, self.ctx.today);
            for (field, msg) in problems {
                r.err(column_of(field), msg);
            }
            let mut member = member?.with_id(HashedId {
                hmac: String::new(),
                last4,
            });
            member.row = r.row;
            return Some(member);
        }
        let checked = rules::check_member(&fields, self.ctx.today);
        for (field, msg) in checked.problems {
            r.err(column_of(field), msg);
        }
        let id = checked.id?;
        let digest = self.hasher.digest(&id);
        if let Some(first) = self.ids.get(&digest) {
            let msg = Msg::new("hh.err.id_twice_in_file")
                .with("last4", id.last4())
                .with("row", first);
            r.err(Column::IdNumber, msg);
            return None;
        }
        self.ids.insert(digest, r.row);
        let mut member = checked.member?.hashed(&self.hasher);
        member.row = r.row;
        Some(member)
    }
}

/// The spreadsheet column of a member field.
fn column_of(f: MemberField) -> Column {
    match f {
        MemberField::Name => Column::Name,
        MemberField::IdNumber => Column::IdNumber,
        MemberField::Relation => Column::Relation,
        MemberField::Sex => Column::Sex,
        MemberField::BirthYear => Column::BirthYear,
        MemberField::Ethnicity => Column::Ethnicity,
        MemberField::Education => Column::Education,
        MemberField::SchoolStatus => Column::SchoolStatus,
        MemberField::Health => Column::Health,
        MemberField::Labour => Column::Labour,
        MemberField::MigrantMonths => Column::MigrantMonths,
    }
}

/// Reports each household column on which `f` differs from the household's first row.
fn compare<C: Cells + ?Sized>(r: &mut RowCtx<'_, C>, f: &HouseholdFields<'_>, d: &Draft) {
    let h = &d.household;
    let income_net = h.income.map(|i| i.net_per_capita_fen);
    let income_year = h.income.map(|i| i.year);
    let checks: [(Column, bool); 13] = [
        (Column::AreaCode, f.area_code != h.area_code),
        (
            Column::VillageGroup,
            f.village_group != h.village_group.as_deref(),
        ),
        (Column::Kind, f.kind != h.kind),
        (Column::Status, f.status != h.status),
        (Column::MonitorType, f.monitor_type != h.monitor_type),
        (
            Column::IdentifiedYear,
            f.identified_year != h.identified_year,
        ),
        (Column::ExitedYear, f.exited_year != h.exited_year),
        (Column::Phone, f.phone != h.phone.as_deref()),
        (Column::PrimaryCause, f.primary_cause != h.primary_cause),
        (
            Column::OtherCauses,
            !f.other_causes.iter().flatten().eq(h.other_causes.iter()),
        ),
        (Column::NetPerCapitaYuan, f.net_fen != income_net),
        (Column::IncomeYear, f.income_year != income_year),
        (Column::RegistryNo, false),
    ];
    for (col, differs) in checks {
        if differs && (f.bad | d.bad) & bit(col) == 0 {
            r.err(col, Msg::new("hh.err.differs").with("row", h.row));
        }
    }
}

impl Sink for Validator<'_> {
    fn header(&mut self, row: usize, cells: &[&str]) -> bool {
        match ColumnMap::from_headers(cells.iter().copied(), row) {
            Ok(map) => {
                self.map = Some(map);
                true
            }
            Err(errors) => {
                self.errors = errors;
                false
            }
        }
    }

    fn row<C: Cells + ?Sized>(&mut self, row: usize, cells: &C) -> bool {
        let Some(map) = self.map.take() else {
            return false;
        };
        let mut errors = std::mem::take(&mut self.errors);
        let mut r = RowCtx {
            row,
            map: &map,
            cells,
            errors: &mut errors,
        };
        let fields = self.household_fields(&mut r);
        let member = self.member(&mut r);
        let relation = Relation::parse(r.get(Column::Relation));
        if !fields.registry_no.is_empty() && fields.bad & bit(Column::RegistryNo) == 0 {
            let index = match self.by_registry.get(fields.registry_no) {
                Some(&i) => {
                    compare(&mut r, &fields, &self.drafts[i]);
                    i
                }
                None => {
                    self.drafts.push(new_draft(row, &fields));
                    self.by_registry
                        .insert(fields.registry_no.to_owned(), self.drafts.len() - 1);
                    self.drafts.len() - 1
                }
            };
            let d = &mut self.drafts[index];
            match relation {
                Some(Relation::Head) => d.heads.push(row),
                Some(_) => {}
                None => d.relation_unknown = true,
            }
            if let Some(m) = member {
                d.household.members.push(m);
            }
        }
        self.errors = errors;
        self.map = Some(map);
        if self.errors.len() >= MAX_ERRORS {
            // Enough to fix first; the rest of the file is neither read nor kept.
            self.errors.truncate(MAX_ERRORS);
            self.errors.push(RowError::new(
                row,
                "",
                format!(
                    "more than {MAX_ERRORS} problems: the file was checked up to this row / 问题超过 {MAX_ERRORS} 个，文件只检查到这一行"
                ),
            ));
            return false;
        }
        true
    }
}

/// The most problems reported for one file; reading stops there.
pub(super) const MAX_ERRORS: usize = 1000;

fn new_draft(row: usize, f: &HouseholdFields<'_>) -> Draft {
    let income = match (f.net_fen, f.income_year) {
        (Some(net_per_capita_fen), Some(year)) => Some(Income {
            year,
            net_per_capita_fen,
        }),
        _ => None,
    };
    Draft {
        household: HouseholdRow {
            row,
            registry_no: f.registry_no.to_owned(),
            area_code: f.area_code.to_owned(),
            village_group: f.village_group.map(str::to_owned),
            kind: f.kind,
            status: f.status,
            monitor_type: f.monitor_type,
            identified_year: f.identified_year,
            exited_year: f.exited_year,
            phone: f.phone.map(str::to_owned),
            primary_cause: f.primary_cause,
            other_causes: f.other_causes.iter().flatten().copied().collect(),
            income,
            members: Vec::new(),
        },
        bad: f.bad,
        heads: Vec::new(),
        relation_unknown: false,
    }
}
