//! Workbooks are ZIP files whose parts unpack to many times their packed
//! size: a 1 MB upload can hold a cell of 1 GiB of text. Before calamine
//! reads one, every part is unpacked here into nothing, 64 KiB at a time, and
//! measured: a part or the whole over its limit, or an XML text or tag longer
//! than any cell may be, rejects the file at once. Memory stays flat while
//! measuring, and what calamine then reads is bounded by these limits.
//!
//! Size is not the only bomb: a small file can hold millions of rows, cells
//! or shared strings, each cheap to pack and dear to keep. The same pass
//! counts the `<row>` and `<c>` elements of every sheet and the `<si>`
//! elements of the shared strings (which calamine holds in memory whole)
//! against [`MAX_ROWS`], [`MAX_CELLS`] and [`MAX_SHARED_STRINGS`].

use std::io::{Cursor, Read};

use super::RowError;

/// The most characters a cell may hold, in CSV files and workbooks alike.
pub const MAX_CELL_CHARS: usize = 2000;
/// The most bytes one part of a workbook may unpack to.
pub const MAX_PART_BYTES: u64 = 512 << 20;
/// The most bytes all parts together may unpack to.
pub const MAX_TOTAL_BYTES: u64 = 768 << 20;
/// The most rows a file may have, the header included: the 100,000-household
/// file of the benchmark has 343,617. What the largest accepted import costs
/// in memory is measured in the README ("Security").
pub const MAX_ROWS: usize = 350_000;
/// The most cells a sheet may have (the template has 24 columns).
pub const MAX_CELLS: usize = MAX_ROWS * 30;
/// The most shared strings a workbook may have, and the most bytes their part
/// may unpack to (calamine keeps them all in memory).
pub const MAX_SHARED_STRINGS: usize = 2_000_000;
pub const MAX_SHARED_BYTES: u64 = 128 << 20;
/// The most parts a workbook may have.
const MAX_PARTS: usize = 2000;
/// The longest run of XML text, or the longest tag, in bytes: a cell of
/// `MAX_CELL_CHARS` characters escaped at most six bytes a character, with room.
const MAX_XML_RUN: usize = MAX_CELL_CHARS * 6 + 4096;

fn refuse(message: String) -> Vec<RowError> {
    vec![RowError::new(0, "", message)]
}

/// Checks a ZIP-packed workbook (XLSX, ODS) against the limits above. Other
/// bytes (XLS is not packed) pass unchanged.
pub(super) fn check(bytes: &[u8]) -> Result<(), Vec<RowError>> {
    if !bytes.starts_with(b"PK") {
        return Ok(());
    }
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|_| refuse("not a readable XLSX workbook".into()))?;
    if zip.len() > MAX_PARTS {
        return Err(refuse(format!(
            "the workbook has {} parts; at most {MAX_PARTS} are read",
            zip.len()
        )));
    }
    let mut total = 0u64;
    let mut buf = vec![0u8; 64 << 10];
    for i in 0..zip.len() {
        let mut part = zip
            .by_index(i)
            .map_err(|_| refuse("not a readable XLSX workbook".into()))?;
        let name = part.name().to_string();
        let too_big = || {
            refuse(format!(
                "the workbook unpacks to more than {} MB (part {name}); split it into smaller files",
                MAX_PART_BYTES >> 20
            ))
        };
        // The declared size may lie; it is only a quick first refusal.
        if part.size() > MAX_PART_BYTES {
            return Err(too_big());
        }
        let is_xml = name.ends_with(".xml") || name.ends_with(".rels");
        let shared = name.to_ascii_lowercase().ends_with("sharedstrings.xml");
        let mut runs = XmlRuns::default();
        let mut size = 0u64;
        loop {
            let n = part
                .read(&mut buf)
                .map_err(|_| refuse(format!("part {name} of the workbook is damaged")))?;
            if n == 0 {
                break;
            }
            size += n as u64;
            total += n as u64;
            if size > MAX_PART_BYTES {
                return Err(too_big());
            }
            if total > MAX_TOTAL_BYTES {
                return Err(refuse(format!(
                    "the workbook unpacks to more than {} MB; split it into smaller files",
                    MAX_TOTAL_BYTES >> 20
                )));
            }
            if shared && size > MAX_SHARED_BYTES {
                return Err(refuse(format!(
                    "the workbook's shared strings unpack to more than {} MB; at most {} MB are read",
                    MAX_SHARED_BYTES >> 20,
                    MAX_SHARED_BYTES >> 20
                )));
            }
            if !runs.feed(&buf[..n], is_xml) {
                return Err(refuse(format!(
                    "a cell of the workbook holds more than {MAX_CELL_CHARS} characters (part {name})"
                )));
            }
            if let Some(bound) = runs.over() {
                return Err(refuse(bound));
            }
        }
    }
    Ok(())
}

/// The refusal naming the bound a file goes over (422, row 0).
pub(super) fn too_many(what: &str, bound: usize) -> String {
    format!(
        "the file has more than {bound} {what}; at most {bound} are read (split it into smaller files) / 文件超过 {bound} {}，请拆分为较小的文件",
        match what {
            "rows" => "行",
            "cells" => "个单元格",
            _ => "个共享字符串",
        }
    )
}

/// The length of the current run of text between tags, or of the current
/// tag; and how many `row`, `c` and `si` elements opened so far (by local
/// name: a namespace prefix such as `x:row` counts too).
#[derive(Default)]
struct XmlRuns {
    run: usize,
    /// Inside a tag, before its name ended: the name's bytes so far (up to 8).
    name: Option<([u8; 8], usize)>,
    rows: usize,
    cells: usize,
    strings: usize,
}

impl XmlRuns {
    /// False once a run is longer than `MAX_XML_RUN` (checked in XML parts;
    /// elements are counted in every part, whatever its name says).
    fn feed(&mut self, chunk: &[u8], is_xml: bool) -> bool {
        for &b in chunk {
            if let Some((buf, len)) = self.name.as_mut() {
                if b.is_ascii_whitespace() || b == b'>' || b == b'/' {
                    let local = &buf[..(*len).min(8)];
                    let local = match local.iter().rposition(|&c| c == b':') {
                        Some(i) => &local[i + 1..],
                        None => local,
                    };
                    if *len <= 8 {
                        match local {
                            b"row" => self.rows += 1,
                            b"c" => self.cells += 1,
                            b"si" => self.strings += 1,
                            _ => {}
                        }
                    }
                    self.name = None;
                } else {
                    if *len < 8 {
                        buf[*len] = b;
                    }
                    *len += 1;
                }
            }
            if b == b'<' {
                self.name = Some(([0; 8], 0));
            }
            if b == b'<' || b == b'>' {
                self.run = 0;
            } else {
                self.run += 1;
                if is_xml && self.run > MAX_XML_RUN {
                    return false;
                }
            }
        }
        true
    }

    /// The bound this part goes over, if any (every XML part is counted,
    /// whatever its name: calamine finds parts case-insensitively, with
    /// either slash).
    fn over(&self) -> Option<String> {
        if self.rows > MAX_ROWS {
            Some(too_many("rows", MAX_ROWS))
        } else if self.cells > MAX_CELLS {
            Some(too_many("cells", MAX_CELLS))
        } else if self.strings > MAX_SHARED_STRINGS {
            Some(too_many("shared strings", MAX_SHARED_STRINGS))
        } else {
            None
        }
    }
}

/// The cell at `col` of `row` as an error when it is longer than a cell may be.
pub(super) fn long_cell(row: usize, column: &str, cell: &str) -> Option<RowError> {
    // Bytes first: cheap, and no cell of fewer bytes can have more characters.
    if cell.len() <= MAX_CELL_CHARS || cell.chars().count() <= MAX_CELL_CHARS {
        return None;
    }
    Some(RowError::new(
        row,
        column,
        format!(
            "the cell holds {} characters; at most {MAX_CELL_CHARS}",
            cell.chars().count()
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn zip_of(parts: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, data) in parts {
            w.start_file(*name, opts).unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    #[test]
    fn long_xml_text_is_refused_early() {
        let mut xml = b"<sst><si><t>".to_vec();
        xml.extend(std::iter::repeat_n(b'a', MAX_XML_RUN + 1));
        xml.extend_from_slice(b"</t></si></sst>");
        let bytes = zip_of(&[("xl/sharedStrings.xml", &xml)]);
        let e = check(&bytes).unwrap_err();
        assert!(e[0].message.contains("more than 2000 characters"), "{e:?}");
        let ok = zip_of(&[("xl/sharedStrings.xml", b"<sst><si><t>short</t></si></sst>")]);
        assert!(check(&ok).is_ok());
        // Binary parts are only measured.
        let bin = vec![b'x'; MAX_XML_RUN * 2];
        assert!(check(&zip_of(&[("xl/media/image1.png", &bin)])).is_ok());
    }

    #[test]
    fn rows_cells_and_shared_strings_are_counted_while_unpacking() {
        let rows = "<row r=\"1\"><c r=\"A1\"><v>1</v></c></row>".repeat(MAX_ROWS + 1);
        let sheet = format!("<worksheet><sheetData>{rows}</sheetData></worksheet>");
        let e = check(&zip_of(&[("xl/worksheets/sheet1.xml", sheet.as_bytes())])).unwrap_err();
        assert!(e[0].message.contains("350000 rows"), "{e:?}");
        // Prefixed names count too; <col> and <cols> are not cells.
        let mut runs = XmlRuns::default();
        assert!(runs.feed(
            b"<x:row><x:c/><col/><cols></cols><c>1</c><si><t>a</t></si></x:row>",
            true
        ));
        assert_eq!((runs.rows, runs.cells, runs.strings), (1, 2, 1));
        let sst = "<si><t>a</t></si>".repeat(MAX_SHARED_STRINGS + 1);
        let e = check(&zip_of(&[("xl/sharedStrings.xml", sst.as_bytes())])).unwrap_err();
        assert!(e[0].message.contains("shared strings"), "{e:?}");
    }
}
