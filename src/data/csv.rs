//! Delimited text through the `csv` crate: fields separated by
//! [`ReadOptions::delimiter`], `"`-quoted fields (`""` inside them is a
//! quote), whitespace around fields ignored, `\n` or `\r\n` line ends,
//! empty lines only at the end, and an optional header row.
//!
//! Errors name the line of the file (counted from 1, the header included)
//! and the column (from 1). The `csv` crate's own line count is not used:
//! it skips empty lines without a trace, so lines are counted here, from
//! the newlines the parser is fed.

use super::{Dataset, ElementType, ReadOptions, invalid_data, quote};
use crate::error::{RbmError, Result};
use std::collections::VecDeque;
use std::io::{self, Read};
use std::path::Path;

/// A reader that watches the bytes it passes on to the parser: it notes
/// the offset of every newline, so that the line of a record can be found
/// from the byte offset where the record ends, and the first empty (or
/// whitespace-only) line outside quotes, and where content follows it.
struct LineCounter<R> {
    inner: R,
    /// Bytes passed on so far.
    offset: u64,
    /// Offsets of the newlines passed on and not yet counted.
    pending: VecDeque<u64>,
    /// Newlines counted (all before the last offset asked about).
    counted: u64,
    /// The offset of the last newline counted.
    last_counted: Option<u64>,
    /// Inside a quoted field.
    in_quotes: bool,
    /// The current line (from 1) and whether it is blank so far.
    line: u64,
    line_blank: bool,
    /// The first blank line outside quotes.
    first_blank: Option<u64>,
    /// The offset of the first non-blank byte after it.
    content_after_blank: Option<u64>,
}

impl<R> LineCounter<R> {
    fn new(inner: R) -> LineCounter<R> {
        LineCounter {
            inner,
            offset: 0,
            pending: VecDeque::new(),
            counted: 0,
            last_counted: None,
            in_quotes: false,
            line: 1,
            line_blank: true,
            first_blank: None,
            content_after_blank: None,
        }
    }

    /// The line (from 1) of the last byte before `end`, the offset just
    /// after a record; offsets must be asked about in increasing order.
    fn last_line_before(&mut self, end: u64) -> u64 {
        while let Some(&nl) = self.pending.front().filter(|&&nl| nl < end) {
            self.pending.pop_front();
            self.counted += 1;
            self.last_counted = Some(nl);
        }
        // A record ended by '\n' ends on the line of that newline; one
        // ended by '\r' (of "\r\n") or by the end of input on the next.
        if end > 0 && self.last_counted == Some(end - 1) {
            self.counted
        } else {
            self.counted + 1
        }
    }

    /// The first blank line, if content follows it before `end`.
    fn blank_before(&self, end: u64) -> Option<u64> {
        self.content_after_blank
            .filter(|&c| c < end)
            .and(self.first_blank)
    }
}

impl<R: Read> Read for LineCounter<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        for (i, &b) in buf[..n].iter().enumerate() {
            let at = self.offset + i as u64;
            match b {
                b'\n' => {
                    self.pending.push_back(at);
                    if !self.in_quotes && self.line_blank && self.first_blank.is_none() {
                        self.first_blank = Some(self.line);
                    }
                    self.line += 1;
                    self.line_blank = true;
                }
                b' ' | b'\t' | b'\r' if !self.in_quotes => {}
                _ => {
                    if b == b'"' {
                        self.in_quotes = !self.in_quotes;
                    }
                    self.line_blank = false;
                    if self.first_blank.is_some() && self.content_after_blank.is_none() {
                        self.content_after_blank = Some(at);
                    }
                }
            }
        }
        self.offset += n as u64;
        Ok(n)
    }
}

/// Whether a record is an empty or blank line: one field, only
/// whitespace.
fn is_blank(record: &::csv::ByteRecord) -> bool {
    record.len() == 1 && record[0].iter().all(u8::is_ascii_whitespace)
}

/// Newlines inside a record's (quoted) fields: the lines it spans beyond
/// its first.
fn inner_newlines(record: &::csv::ByteRecord) -> u64 {
    record
        .iter()
        .map(|f| f.iter().filter(|&&b| b == b'\n').count() as u64)
        .sum()
}

/// The fields of `record` (on `line`) as trimmed text.
fn fields(record: &::csv::ByteRecord, line: u64, path: &Path) -> Result<Vec<String>> {
    record
        .iter()
        .map(|f| {
            std::str::from_utf8(f)
                .map(|s| s.trim().to_owned())
                .map_err(|_| invalid_data(path, format!("line {line} is not valid UTF-8 text")))
        })
        .collect()
}

/// Whether a first row is a header: one of its fields is neither empty nor
/// a number.
fn is_header(fields: &[String]) -> bool {
    fields
        .iter()
        .any(|f| !f.is_empty() && f.parse::<f32>().is_err())
}

/// Parses CSV from `reader` (see the [module docs](self)); `path` is only
/// used in messages.
///
/// # Errors
/// [`RbmError::InvalidData`] naming the line and column of the first
/// problem; [`RbmError::Io`] if reading fails.
pub(crate) fn read<R: Read>(reader: R, path: &Path, opts: &ReadOptions) -> Result<Dataset> {
    let bad = |reason: String| invalid_data(path, reason);
    let counter = LineCounter::new(reader);
    let mut csv = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(opts.delimiter)
        .from_reader(counter);
    let mut record = ::csv::ByteRecord::new();
    let mut values = Vec::new();
    let (mut rows, mut cols, mut width_line) = (0usize, 0usize, 0u64);
    let mut header: Option<Vec<String>> = None;
    loop {
        let more = csv
            .read_byte_record(&mut record)
            .map_err(|e| csv_error(e, path))?;
        if !more {
            break;
        }
        if is_blank(&record) {
            continue;
        }
        let end = csv.position().byte();
        let counter = csv.get_mut();
        if let Some(blank) = counter.blank_before(end) {
            return Err(bad(format!(
                "line {blank} is empty (empty lines are only allowed at the end)"
            )));
        }
        let line = counter.last_line_before(end) - inner_newlines(&record);
        let text = fields(&record, line, path)?;
        if rows == 0 && header.is_none() && (opts.header || is_header(&text)) {
            cols = text.len();
            width_line = line;
            header = Some(text);
            continue;
        }
        let row_word = if header.is_some() { "line" } else { "row" };
        for (col0, field) in text.iter().enumerate() {
            let col = col0 + 1;
            if field.is_empty() {
                return Err(bad(format!("line {line}, column {col}: empty field")));
            }
            let value: f32 = field.parse().map_err(|_| {
                bad(format!(
                    "line {line}, column {col}: {} is not a number",
                    quote(field)
                ))
            })?;
            if !value.is_finite() {
                return Err(bad(format!(
                    "{row_word} {line}, column {col}: {} {}",
                    quote(field),
                    not_finite_reason(field)
                )));
            }
            values.push(value);
        }
        if rows == 0 && header.is_none() {
            cols = text.len();
            width_line = line;
        } else if text.len() != cols {
            return Err(bad(format!(
                "line {line} has {} columns, but line {width_line} has {cols}",
                text.len()
            )));
        }
        rows += 1;
    }
    if rows == 0 {
        let what = if header.is_some() {
            "no data: the file has a header but no rows"
        } else {
            "no data: the file has no rows"
        };
        return Err(bad(what.to_owned()));
    }
    Dataset::with_labels(rows, cols, values, opts.labels_last_column, path).map(|d| Dataset {
        element: ElementType::Text,
        header,
        ..d
    })
}

/// Why a field that parsed as a number is not a finite `f32`.
fn not_finite_reason(text: &str) -> &'static str {
    let lower = text.to_ascii_lowercase();
    if lower.contains("nan") || lower.contains("inf") {
        "is not finite"
    } else {
        "is out of the f32 range"
    }
}

/// A `csv` crate error: I/O failures as [`RbmError::Io`].
fn csv_error(e: ::csv::Error, path: &Path) -> RbmError {
    match e.into_kind() {
        ::csv::ErrorKind::Io(source) => RbmError::Io {
            path: path.to_owned(),
            source,
        },
        other => invalid_data(path, format!("{other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv(text: &str, labels: bool) -> Result<Dataset> {
        let opts = ReadOptions::new().with_labels_last_column(labels);
        read(text.as_bytes(), Path::new("t.csv"), &opts)
    }

    fn reason_with(text: &str, opts: &ReadOptions) -> String {
        match read(text.as_bytes(), Path::new("t.csv"), opts) {
            Err(RbmError::InvalidData { reason, .. }) => reason,
            other => panic!("{text:?}: {other:?}"),
        }
    }

    fn reason(text: &str) -> String {
        reason_with(text, &ReadOptions::new())
    }

    #[test]
    fn csv_edge_cases() {
        let d = csv(" 1 ,\t2\r\n3,4\r\n\r\n  \n", false).unwrap();
        assert_eq!((d.rows, d.cols, d.values), (2, 2, vec![1.0, 2.0, 3.0, 4.0]));
        let d = csv("1e-3,-2.5,+7", false).unwrap();
        assert_eq!(d.values, [1e-3, -2.5, 7.0]);
        assert_eq!(
            reason("1,2\n\n3,4\n"),
            "line 2 is empty (empty lines are only allowed at the end)"
        );
        assert_eq!(
            reason("1,2\r\n\r\n3,4\r\n"),
            "line 2 is empty (empty lines are only allowed at the end)"
        );
        assert_eq!(
            reason("1,2\n  \n3,4\n"),
            "line 2 is empty (empty lines are only allowed at the end)"
        );
        assert_eq!(
            reason("\n1,2\n"),
            "line 1 is empty (empty lines are only allowed at the end)"
        );
        assert_eq!(reason("1,2,\n"), "line 1, column 3: empty field");
        assert_eq!(
            reason("1,2\n3,x\n"),
            "line 2, column 2: \"x\" is not a number"
        );
        assert_eq!(
            reason("1,2\n3,inf\n"),
            "row 2, column 2: \"inf\" is not finite"
        );
        assert_eq!(
            reason("1e39\n"),
            "row 1, column 1: \"1e39\" is out of the f32 range"
        );
        assert_eq!(reason(""), "no data: the file has no rows");
        assert_eq!(reason("\n\n"), "no data: the file has no rows");
        let long = format!("1\n{}", "y".repeat(100));
        assert!(reason(&long).len() < 120);
        let bytes = b"1,2\n\xff,3\n";
        let err = read(&bytes[..], Path::new("t.csv"), &ReadOptions::new()).unwrap_err();
        assert!(
            err.to_string().contains("line 2 is not valid UTF-8"),
            "{err}"
        );
        assert!(
            csv("1\n2\n", true)
                .unwrap_err()
                .to_string()
                .contains("at least 2 columns")
        );
    }

    #[test]
    fn quoted_fields() {
        let d = csv("\"1\",2\n\" 3 \",\"4\"\n", false).unwrap();
        assert_eq!(d.values, [1.0, 2.0, 3.0, 4.0]);
        // A quoted header name may hold the delimiter and a newline; the
        // lines after it are still counted right.
        let text = "\"a,b\",\"c\nd\"\n1,2\n3,x\n";
        let d = csv("\"a,b\",\"c\nd\"\n1,2\n", false).unwrap();
        assert_eq!(d.header, Some(vec!["a,b".to_owned(), "c\nd".to_owned()]));
        assert_eq!(reason(text), "line 4, column 2: \"x\" is not a number");
    }

    #[test]
    fn header_rows() {
        let d = csv("pixel0,pixel1\n0,1\n2,3\n", false).unwrap();
        assert_eq!((d.rows, d.cols), (2, 2));
        assert_eq!(
            d.header,
            Some(vec!["pixel0".to_owned(), "pixel1".to_owned()])
        );
        // One name is enough; empty fields alone are not a header.
        assert_eq!(csv("1,2,label\n0,1,2\n", false).unwrap().rows, 1);
        assert_eq!(reason("1,,3\n"), "line 1, column 2: empty field");
        // Positions count the header's line; a width is compared with it.
        assert_eq!(
            reason("a,b\n1,2\n3,4,5\n"),
            "line 3 has 3 columns, but line 1 has 2"
        );
        assert_eq!(
            reason("a,b\n1,2\n3,nan\n"),
            "line 3, column 2: \"nan\" is not finite"
        );
        assert_eq!(
            reason("a,b\n"),
            "no data: the file has a header but no rows"
        );
        // A header of numbers is only one when asked for.
        let forced = ReadOptions::new().with_header(true);
        let d = read(&b"0,1\n5,6\n"[..], Path::new("t.csv"), &forced).unwrap();
        assert_eq!((d.rows, d.values.clone()), (1, vec![5.0, 6.0]));
        assert_eq!(csv("0,1\n5,6\n", false).unwrap().rows, 2);
    }

    #[test]
    fn delimiters() {
        let semi = ReadOptions::new().with_delimiter(b';');
        let d = read(&b"x;y\n1,5;2\n"[..], Path::new("t.csv"), &semi);
        // "1,5" is not a number: a decimal comma is not read.
        assert!(d.is_err());
        let d = read(&b"x;y\n1.5;2\n"[..], Path::new("t.csv"), &semi).unwrap();
        assert_eq!(d.values, [1.5, 2.0]);
        let tab = ReadOptions::new().with_delimiter(b'\t');
        let d = read(&b"1\t2\n3\t4\n"[..], Path::new("t.csv"), &tab).unwrap();
        assert_eq!(d.values, [1.0, 2.0, 3.0, 4.0]);
        assert_eq!(
            reason_with("1\t2\n3\tz\n", &tab),
            "line 2, column 2: \"z\" is not a number"
        );
    }
}
