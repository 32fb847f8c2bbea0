//! Workbooks are ZIP files whose parts unpack to many times their packed
//! size: a 1 MB upload can hold a cell of 1 GiB of text. Before calamine
//! reads one, every part is unpacked here into nothing, 64 KiB at a time, and
//! measured: a part or the whole over its limit, or an XML text or tag longer
//! than any cell may be, rejects the file at once. Memory stays flat while
//! measuring, and what calamine then reads is bounded by these limits.

use std::io::{Cursor, Read};

use super::RowError;

/// The most characters a cell may hold, in CSV files and workbooks alike.
pub const MAX_CELL_CHARS: usize = 2000;
/// The most bytes one part of a workbook may unpack to.
pub const MAX_PART_BYTES: u64 = 512 << 20;
/// The most bytes all parts together may unpack to.
pub const MAX_TOTAL_BYTES: u64 = 768 << 20;
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
            if is_xml && !runs.feed(&buf[..n]) {
                return Err(refuse(format!(
                    "a cell of the workbook holds more than {MAX_CELL_CHARS} characters (part {name})"
                )));
            }
        }
    }
    Ok(())
}

/// The length of the current run of text between tags, or of the current tag.
#[derive(Default)]
struct XmlRuns {
    run: usize,
}

impl XmlRuns {
    /// False once a run is longer than `MAX_XML_RUN`.
    fn feed(&mut self, chunk: &[u8]) -> bool {
        for &b in chunk {
            if b == b'<' || b == b'>' {
                self.run = 0;
            } else {
                self.run += 1;
                if self.run > MAX_XML_RUN {
                    return false;
                }
            }
        }
        true
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
}
