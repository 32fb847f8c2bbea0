//! Bytes to rows of cells: CSV (UTF-8 with or without BOM, else GB18030) and
//! XLSX workbooks. Cells go to a [`Sink`] one row at a time, so a large file
//! is never copied into a table; rows and cells are counted as they stream
//! and the file is refused at the first one over [`MAX_ROWS`] or
//! [`MAX_CELLS`], before the sink keeps it. XLS and ODS are refused: calamine
//! reads them into a whole table, whose size cannot be bounded while reading.

use std::borrow::Cow;
use std::io::Cursor;

use calamine::Reader;

use super::columns::Column;
use super::unpack::{self, MAX_CELLS, MAX_ROWS, long_cell, too_many};
use super::{FileKind, RowError};
use crate::households::messages::Msg;

/// Identity numbers saved as numbers: an XLSX number cell, or the
/// "5.30627E+17" of a CSV saved from such a sheet. Their last digits are
/// already lost (a number keeps 15), and the leading zeros of household
/// numbers with them, so the file gets one message saying to set those
/// columns to text, not a wrong check digit on every row.
#[derive(Default)]
struct NumberCells {
    /// The identity number's column and the household number's.
    id: Option<usize>,
    registry: Option<usize>,
    /// Rows whose identity number was a number.
    rows: Vec<usize>,
    /// Whether a household number was a number too.
    registry_numeric: bool,
}

impl NumberCells {
    fn header<'a>(&mut self, cells: impl IntoIterator<Item = &'a str>) {
        for (i, h) in cells.into_iter().enumerate() {
            match Column::of_header(h) {
                Some(Column::IdNumber) if self.id.is_none() => self.id = Some(i),
                Some(Column::RegistryNo) if self.registry.is_none() => self.registry = Some(i),
                _ => {}
            }
        }
    }

    /// One cell of a data row; `numeric`: stored as a number.
    fn cell(&mut self, row: usize, col: usize, numeric: bool, text: &str) {
        let number = numeric || scientific(text);
        if Some(col) == self.id && number && self.rows.last() != Some(&row) {
            self.rows.push(row);
        } else if Some(col) == self.registry && number {
            self.registry_numeric = true;
        }
    }

    fn error(&self) -> Result<(), Vec<RowError>> {
        if self.rows.is_empty() {
            return Ok(());
        }
        let mut columns = vec![Column::IdNumber.zh()];
        if self.registry_numeric {
            columns.push(Column::RegistryNo.zh());
        }
        const LISTED: usize = 30;
        let mut rows: Vec<String> = self
            .rows
            .iter()
            .take(LISTED)
            .map(usize::to_string)
            .collect();
        if self.rows.len() > LISTED {
            rows.push(format!("… ({})", self.rows.len()));
        }
        let message = Msg::new("hh.err.numbers_not_text")
            .with("columns", columns.join("、"))
            .with("rows", rows.join(", "))
            .english();
        Err(vec![RowError::new(0, columns.join("、"), message)])
    }
}

/// "5.30627E+17": a number as Excel shows one too long for its cell.
fn scientific(s: &str) -> bool {
    let s = s.trim();
    let Some((mantissa, exp)) = s.split_once(['E', 'e']) else {
        return false;
    };
    let exp = exp.strip_prefix('+').unwrap_or(exp);
    !mantissa.is_empty()
        && mantissa.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && mantissa.bytes().next().is_some_and(|b| b.is_ascii_digit())
        && !exp.is_empty()
        && exp.bytes().all(|b| b.is_ascii_digit())
}

/// Read access to one row's cells; a missing cell reads as "".
pub(super) trait Cells {
    fn cell(&self, i: usize) -> &str;
}

impl Cells for csv::StringRecord {
    fn cell(&self, i: usize) -> &str {
        self.get(i).unwrap_or("")
    }
}

impl Cells for [String] {
    fn cell(&self, i: usize) -> &str {
        self.get(i).map(String::as_str).unwrap_or("")
    }
}

impl Cells for [Cow<'_, str>] {
    fn cell(&self, i: usize) -> &str {
        self.get(i).map(|c| c.as_ref()).unwrap_or("")
    }
}

/// Receives the header row, then every non-blank data row, with 1-based
/// spreadsheet row numbers.
pub(super) trait Sink {
    /// Returns false to stop reading (the header is unusable).
    fn header(&mut self, row: usize, cells: &[&str]) -> bool;
    /// Returns false to stop reading (enough errors were found).
    fn row<C: Cells + ?Sized>(&mut self, row: usize, cells: &C) -> bool;
}

/// Rows and cells read so far, against the bounds.
#[derive(Default)]
struct Count {
    rows: usize,
    cells: usize,
}

impl Count {
    /// Counts one more row; the refusal once over the bound.
    fn row(&mut self) -> Result<(), Vec<RowError>> {
        self.rows += 1;
        if self.rows > MAX_ROWS {
            return Err(file_error(too_many("rows", MAX_ROWS)));
        }
        Ok(())
    }

    /// Counts `n` more cells; the refusal once over the bound.
    fn cells(&mut self, n: usize) -> Result<(), Vec<RowError>> {
        self.cells += n;
        if self.cells > MAX_CELLS {
            return Err(file_error(too_many("cells", MAX_CELLS)));
        }
        Ok(())
    }
}

/// The first cell of a row longer than a cell may be, named by its column's
/// header (or its position).
fn first_long<'a>(
    row: usize,
    header: &[String],
    cells: impl Iterator<Item = &'a str>,
) -> Option<RowError> {
    cells.enumerate().find_map(|(i, c)| {
        let column = header
            .get(i)
            .filter(|h| !h.trim().is_empty())
            .cloned()
            .unwrap_or_else(|| format!("column {}", i + 1));
        long_cell(row, &column, c)
    })
}

/// A problem with the file as a whole is reported on row 0.
fn file_error(message: impl Into<String>) -> Vec<RowError> {
    vec![RowError::new(0, "", message)]
}

pub(super) fn read<S: Sink>(
    bytes: &[u8],
    kind: FileKind,
    sink: &mut S,
) -> Result<(), Vec<RowError>> {
    match kind {
        FileKind::Csv => read_csv(bytes, sink),
        FileKind::Xlsx => read_workbook(bytes, sink),
    }
}

/// UTF-8 (BOM stripped) when the bytes are valid UTF-8, else GB18030 — the
/// encoding Excel on a Chinese Windows writes "CSV" in.
pub(super) fn decode_text(bytes: &[u8]) -> Result<Cow<'_, str>, Vec<RowError>> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(s) = std::str::from_utf8(bytes) {
        return Ok(Cow::Borrowed(s));
    }
    let (text, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(bytes);
    if had_errors {
        return Err(file_error(
            "the file is neither UTF-8 nor GB18030 text; save it as CSV (UTF-8) or XLSX",
        ));
    }
    Ok(text)
}

/// The longest line a CSV may have, in bytes: every column at its longest
/// cell, in three-byte characters.
const MAX_LINE_BYTES: usize = MAX_COLUMNS * super::MAX_CELL_CHARS * 3;

/// Refuses, before the CSV reader parses a line into fields, a line with
/// more separators than `MAX_COLUMNS` or longer than `MAX_LINE_BYTES`: one
/// line of sixty million commas would otherwise become sixty million
/// fields in memory before any bound is checked. One pass over the bytes.
fn wide_lines(bytes: &[u8], delimiter: u8) -> Result<(), Vec<RowError>> {
    let (mut seps, mut len, mut line) = (0usize, 0usize, 1usize);
    for &b in bytes {
        if b == b'\n' {
            (seps, len) = (0, 0);
            line += 1;
            continue;
        }
        len += 1;
        if b == delimiter {
            seps += 1;
        }
        if seps >= MAX_COLUMNS || len > MAX_LINE_BYTES {
            return Err(vec![RowError::new(
                line,
                "",
                format!(
                    "this line has more than {MAX_COLUMNS} columns or {} MB / 此行超过 {MAX_COLUMNS} 列或 {} MB",
                    MAX_LINE_BYTES >> 20,
                    MAX_LINE_BYTES >> 20
                ),
            )]);
        }
    }
    Ok(())
}

fn read_csv<S: Sink>(bytes: &[u8], sink: &mut S) -> Result<(), Vec<RowError>> {
    let text = decode_text(bytes)?;
    let first_line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    // Some exports ("Unicode text", WPS) separate by tabs.
    let delimiter = if !first_line.contains(',') && first_line.contains('\t') {
        b'\t'
    } else {
        b','
    };
    wide_lines(text.as_bytes(), delimiter)?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let mut record = csv::StringRecord::new();
    let mut seen_header = false;
    let mut header: Vec<String> = Vec::new();
    let bytes = text.as_bytes();
    let (mut line, mut counted_to) = (1usize, 0usize);
    let mut count = Count::default();
    let mut numbers = NumberCells::default();
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                return Err(vec![RowError::new(
                    usize::try_from(line).unwrap_or(0),
                    "",
                    "this line is not valid CSV",
                )]);
            }
        }
        count.row()?;
        count.cells(record.len())?;
        if record.len() > MAX_COLUMNS {
            return Err(file_error(format!(
                "a row has more than {MAX_COLUMNS} columns / 一行超过 {MAX_COLUMNS} 列"
            )));
        }
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        // The line a record starts on is its row, blank lines included (csv's
        // own line count lags by one after CRLF, so count newlines here).
        let mut start = record
            .position()
            .and_then(|p| usize::try_from(p.byte()).ok())
            .unwrap_or(counted_to)
            .clamp(counted_to, bytes.len());
        while start < bytes.len() && matches!(bytes[start], b'\r' | b'\n') {
            start += 1;
        }
        line += bytes[counted_to..start]
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        counted_to = start;
        let row = line;
        if let Some(e) = first_long(row, &header, record.iter()) {
            return Err(vec![e]);
        }
        if seen_header {
            for (i, c) in record.iter().enumerate() {
                numbers.cell(row, i, false, c);
            }
            if !sink.row(row, &record) {
                return numbers.error();
            }
        } else {
            seen_header = true;
            header = record.iter().map(str::to_string).collect();
            numbers.header(record.iter());
            let cells: Vec<&str> = record.iter().collect();
            if !sink.header(row, &cells) {
                return Ok(());
            }
        }
    }
    if !seen_header {
        return Err(file_error("the file is empty"));
    }
    numbers.error()
}

fn read_workbook<S: Sink>(bytes: &[u8], sink: &mut S) -> Result<(), Vec<RowError>> {
    const ONLY: &str = "only XLSX and CSV files are read: save the sheet as XLSX or CSV / 只接受 XLSX 或 CSV 文件，请另存为 XLSX 或 CSV";
    if !bytes.starts_with(b"PK") {
        return Err(file_error(ONLY));
    }
    unpack::check(bytes)?;
    // XLSX is read cell by cell: a sheet of a hundred thousand households is
    // never held as a whole table.
    let mut xlsx = calamine::Xlsx::new(Cursor::new(bytes)).map_err(|_| file_error(ONLY))?;
    read_xlsx(&mut xlsx, sink)
}

fn read_xlsx<S: Sink>(
    xlsx: &mut calamine::Xlsx<Cursor<&[u8]>>,
    sink: &mut S,
) -> Result<(), Vec<RowError>> {
    let Some(first) = xlsx.sheet_names().first().cloned() else {
        return Err(file_error("the workbook has no sheet"));
    };
    let unreadable = |_| file_error("the first sheet cannot be read");
    let mut reader = xlsx.worksheet_cells_reader(&first).map_err(unreadable)?;
    let mut rows = Rows::default();
    let mut cells: Vec<String> = Vec::new();
    let mut current: Option<u32> = None;
    let mut count = Count::default();
    while let Some(cell) = reader.next_cell().map_err(unreadable)? {
        let (r, c) = cell.get_position();
        count.cells(1)?;
        if current != Some(r) {
            count.row()?;
            if let Some(done) = current
                && !rows.take(done as usize + 1, &cells, sink)?
            {
                return rows.numbers.error();
            }
            cells.clear();
            current = Some(r);
        }
        let c = c as usize;
        if c >= MAX_COLUMNS {
            return Err(vec![RowError::new(
                r as usize + 1,
                "",
                format!("the row has more than {MAX_COLUMNS} columns"),
            )]);
        }
        if cells.len() <= c {
            cells.resize(c + 1, String::new());
        }
        let value = cell.get_value();
        cells[c] = cell_ref_text(value).into_owned();
        if rows.seen_header {
            use calamine::DataRef as D;
            let numeric = matches!(value, D::Int(_) | D::Float(_));
            rows.numbers.cell(r as usize + 1, c, numeric, &cells[c]);
        }
    }
    if let Some(done) = current
        && !rows.take(done as usize + 1, &cells, sink)?
    {
        return rows.numbers.error();
    }
    if !rows.seen_header {
        return Err(file_error("the first sheet is empty"));
    }
    rows.numbers.error()
}

/// The most columns a row may have (the template has 24).
const MAX_COLUMNS: usize = 1000;

/// Rows of a streamed sheet in turn: the header, then the data rows.
#[derive(Default)]
struct Rows {
    seen_header: bool,
    header: Vec<String>,
    numbers: NumberCells,
}

impl Rows {
    /// Hands one row on; false when the sink wants no more.
    fn take<S: Sink>(
        &mut self,
        row: usize,
        cells: &[String],
        sink: &mut S,
    ) -> Result<bool, Vec<RowError>> {
        if cells.iter().all(|c| c.trim().is_empty()) {
            return Ok(true);
        }
        if let Some(e) = first_long(row, &self.header, cells.iter().map(String::as_str)) {
            return Err(vec![e]);
        }
        if self.seen_header {
            return Ok(sink.row(row, cells));
        }
        self.seen_header = true;
        self.header = cells.to_vec();
        self.numbers.header(cells.iter().map(String::as_str));
        let header: Vec<&str> = cells.iter().map(String::as_str).collect();
        Ok(sink.header(row, &header))
    }
}

/// [`cell_text`] for a streamed cell.
fn cell_ref_text<'a>(cell: &'a calamine::DataRef<'_>) -> Cow<'a, str> {
    use calamine::DataRef as D;
    match cell {
        D::SharedString(s) => Cow::Borrowed(s),
        D::String(s) | D::DateTimeIso(s) | D::DurationIso(s) => Cow::Borrowed(s),
        D::Empty => Cow::Borrowed(""),
        D::Int(n) => Cow::Owned(n.to_string()),
        D::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => Cow::Owned(format!("{f:.0}")),
        D::Float(f) => Cow::Owned(f.to_string()),
        D::Bool(b) => Cow::Borrowed(if *b { "TRUE" } else { "FALSE" }),
        D::DateTime(d) => Cow::Owned(d.to_string()),
        D::Error(_) => Cow::Borrowed("#ERROR"),
    }
}
