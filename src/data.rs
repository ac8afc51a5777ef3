//! Training data: numeric CSV files, 2-D `.npy` arrays, and the embedded
//! UCI handwritten digits.
//!
//! Every reader returns a [`Dataset`] (rows × columns of `f32`, row-major,
//! all finite, optionally with the last column split off as labels) or an
//! [`RbmError::InvalidData`] whose reason names the line or row and the
//! column of the problem.
//!
//! ```
//! use nrelu_rbm::data::Dataset;
//! let csv = "0, 0.5, 1\n1, 0.25, 0\n\n";
//! let d = Dataset::from_csv_reader(csv.as_bytes(), "x.csv".as_ref(), true)?;
//! assert_eq!((d.rows(), d.cols()), (2, 2));
//! assert_eq!(d.values(), [0.0, 0.5, 1.0, 0.25]);
//! assert_eq!(d.labels(), Some(&[1.0, 0.0][..]));
//!
//! let err = Dataset::from_csv_reader("a,b\n1,2\n".as_bytes(), "x.csv".as_ref(), false)
//!     .unwrap_err();
//! assert_eq!(
//!     err.to_string(),
//!     "invalid data x.csv: line 1, column 1: \"a\" is not a number (the CSV must have no header)"
//! );
//! # Ok::<(), nrelu_rbm::RbmError>(())
//! ```

use crate::error::{RbmError, Result};
use crate::npy::{self, NpyArray, NpyData, NpyError};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

/// The UCI digits, gzip-compressed CSV: 1797 rows of 64 pixels (0..=16)
/// and a label (0..=9).
const DIGITS_GZ: &[u8] = include_bytes!("../data/digits.csv.gz");

/// Rows of [`Dataset::digits`].
pub const DIGITS_ROWS: usize = 1797;
/// Pixels (columns) of [`Dataset::digits`]: 8 × 8 images.
pub const DIGITS_PIXELS: usize = 64;
/// The largest pixel value of [`Dataset::digits`] (pixels are 0..=16).
pub const DIGITS_MAX: f32 = 16.0;
/// Where the embedded digits come from, and their licence.
pub const DIGITS_ATTRIBUTION: &str = "E. Alpaydin and C. Kaynak, \"Optical Recognition of \
    Handwritten Digits\", UCI Machine Learning Repository (1998), CC BY 4.0";

/// A table of finite `f32` values, `rows × cols`, row-major, with optional
/// per-row labels. Built only by the readers, which check it; read it
/// through the getters.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Dataset {
    /// Number of rows (examples).
    pub(crate) rows: usize,
    /// Number of columns (features), labels excluded.
    pub(crate) cols: usize,
    /// `rows × cols` values, row-major.
    pub(crate) values: Vec<f32>,
    /// One label per row, if the data had a label column.
    pub(crate) labels: Option<Vec<f32>>,
}

/// Longest field text quoted in an error message.
const QUOTE_MAX: usize = 40;

/// `text` quoted for an error message, shortened if long.
fn quote(text: &str) -> String {
    if text.chars().count() <= QUOTE_MAX {
        format!("{text:?}")
    } else {
        let head: String = text.chars().take(QUOTE_MAX).collect();
        format!("{head:?}...")
    }
}

fn invalid_data(path: &Path, reason: String) -> RbmError {
    RbmError::InvalidData {
        path: path.to_owned(),
        reason,
    }
}

/// Why a finite-looking field or value is not a finite `f32`.
fn not_finite_reason(text: &str) -> &'static str {
    let lower = text.to_ascii_lowercase();
    if lower.contains("nan") || lower.contains("inf") {
        "is not finite"
    } else {
        "is out of the f32 range"
    }
}

impl Dataset {
    /// Number of rows (examples).
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns (features), labels excluded.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// The `rows × cols` values, row-major, all finite.
    pub fn values(&self) -> &[f32] {
        &self.values
    }

    /// One label per row, if the data had a label column.
    pub fn labels(&self) -> Option<&[f32]> {
        self.labels.as_deref()
    }

    /// The values, by value (to map them in place, for example).
    pub fn into_values(self) -> Vec<f32> {
        self.values
    }

    /// Reads a `.csv` or `.npy` file, chosen by the extension (in any
    /// letter case); see [`Dataset::read_csv`] and [`Dataset::read_npy`].
    ///
    /// # Errors
    /// [`RbmError::InvalidData`] for another extension or invalid contents,
    /// [`RbmError::Io`] if the file cannot be opened or read.
    pub fn load(path: &Path, labels_last_column: bool) -> Result<Dataset> {
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase());
        match ext.as_deref() {
            Some("csv") => Dataset::read_csv(path, labels_last_column),
            Some("npy") => Dataset::read_npy(path, labels_last_column),
            _ => Err(invalid_data(
                path,
                "unknown file type: the name must end in .csv or .npy".to_owned(),
            )),
        }
    }

    /// Reads a numeric CSV file without header; see
    /// [`Dataset::from_csv_reader`].
    ///
    /// # Errors
    /// [`RbmError::Io`] if the file cannot be opened or read, and those of
    /// [`Dataset::from_csv_reader`].
    pub fn read_csv(path: &Path, labels_last_column: bool) -> Result<Dataset> {
        let file = File::open(path).map_err(|source| RbmError::Io {
            path: path.to_owned(),
            source,
        })?;
        Dataset::from_csv_reader(BufReader::new(file), path, labels_last_column)
    }

    /// Parses numeric CSV: one row per line, fields separated by commas,
    /// whitespace around fields allowed, `\n` or `\r\n` line ends, empty
    /// lines allowed only at the end, no header, no quoting. Every field
    /// must be a finite `f32` (`1`, `-0.5`, `2e-3`, ...) and every line
    /// must have as many fields as the first. With `labels_last_column`,
    /// the last column goes to [`Dataset::labels`]. `path` is only used in
    /// error messages.
    ///
    /// # Errors
    /// [`RbmError::InvalidData`] naming the line (the row: there is no
    /// header) and column of the first problem: a field that is not a
    /// number (a header line, a trailing comma, quotes), NaN or infinity,
    /// a line with another number of fields, an empty line before the end,
    /// a line that is not UTF-8, no rows at all, or fewer than two columns
    /// with `labels_last_column`. [`RbmError::Io`] if reading fails.
    pub fn from_csv_reader<R: BufRead>(
        mut reader: R,
        path: &Path,
        labels_last_column: bool,
    ) -> Result<Dataset> {
        let bad = |reason: String| invalid_data(path, reason);
        let mut values = Vec::new();
        let mut cols = 0;
        let mut rows = 0;
        let mut line = Vec::new();
        let mut first_blank = None;
        for line_no in 1.. {
            line.clear();
            let n = reader
                .read_until(b'\n', &mut line)
                .map_err(|source| RbmError::Io {
                    path: path.to_owned(),
                    source,
                })?;
            if n == 0 {
                break;
            }
            let text = std::str::from_utf8(&line)
                .map_err(|_| bad(format!("line {line_no} is not valid UTF-8 text")))?;
            if text.trim().is_empty() {
                first_blank.get_or_insert(line_no);
                continue;
            }
            if let Some(blank) = first_blank {
                return Err(bad(format!(
                    "line {blank} is empty (empty lines are only allowed at the end)"
                )));
            }
            let start = values.len();
            for (col0, field) in text.split(',').enumerate() {
                let (field, col) = (field.trim(), col0 + 1);
                if field.is_empty() {
                    return Err(bad(format!("line {line_no}, column {col}: empty field")));
                }
                let value: f32 = field.parse().map_err(|_| {
                    let hint = if line_no == 1 {
                        " (the CSV must have no header)"
                    } else {
                        ""
                    };
                    bad(format!(
                        "line {line_no}, column {col}: {} is not a number{hint}",
                        quote(field)
                    ))
                })?;
                if !value.is_finite() {
                    return Err(bad(format!(
                        "row {line_no}, column {col}: {} {}",
                        quote(field),
                        not_finite_reason(field)
                    )));
                }
                values.push(value);
            }
            let width = values.len() - start;
            if rows == 0 {
                cols = width;
            } else if width != cols {
                return Err(bad(format!(
                    "line {line_no} has {width} columns, but line 1 has {cols}"
                )));
            }
            rows += 1;
        }
        if rows == 0 {
            return Err(bad("no data: the file has no rows".to_owned()));
        }
        Dataset::with_labels(rows, cols, values, labels_last_column, path)
    }

    /// Reads a 2-D `.npy` array of `float32` or `float64` in C order (as
    /// `numpy.save` writes by default); see [`Dataset::from_npy`].
    ///
    /// # Errors
    /// [`RbmError::Io`] if the file cannot be opened or read;
    /// [`RbmError::InvalidData`] if it is not such an array, is truncated
    /// or has trailing bytes, and those of [`Dataset::from_npy`].
    pub fn read_npy(path: &Path, labels_last_column: bool) -> Result<Dataset> {
        let io_err = |source| RbmError::Io {
            path: path.to_owned(),
            source,
        };
        let mut reader = BufReader::new(File::open(path).map_err(io_err)?);
        let array = npy::read(&mut reader).map_err(|e| match e {
            NpyError::Io(e) if e.kind() == io::ErrorKind::UnexpectedEof => invalid_data(
                path,
                "not a .npy file, or its header is truncated".to_owned(),
            ),
            NpyError::Io(e) => io_err(e),
            NpyError::FortranOrder => invalid_data(
                path,
                "the array is in Fortran order; save a C-order array \
                 (numpy.ascontiguousarray)"
                    .to_owned(),
            ),
            other => invalid_data(path, other.to_string()),
        })?;
        let mut probe = [0u8; 1];
        if reader.read(&mut probe).map_err(io_err)? != 0 {
            return Err(invalid_data(
                path,
                "unexpected bytes after the array's data".to_owned(),
            ));
        }
        Dataset::from_npy(array, path, labels_last_column)
    }

    /// Converts a parsed `.npy` array: it must be 2-D (rows × columns)
    /// with at least one row and column; `float64` values are converted to
    /// `f32`. With `labels_last_column`, the last column goes to
    /// [`Dataset::labels`]. `path` is only used in error messages.
    ///
    /// ```
    /// use nrelu_rbm::{data::Dataset, npy};
    /// let bytes = npy::write_array(Vec::new(), &[2, 2], &[1.0f64, 2.0, 3.0, 4.0])?;
    /// let d = Dataset::from_npy(npy::read(&bytes[..])?, "a.npy".as_ref(), false)?;
    /// assert_eq!((d.rows(), d.cols(), d.values()), (2, 2, &[1.0, 2.0, 3.0, 4.0][..]));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`RbmError::InvalidData`] for another number of dimensions, an
    /// empty array, a NaN or infinite value or a `float64` value beyond the
    /// `f32` range (naming its row and column), or fewer than two columns
    /// with `labels_last_column`.
    pub fn from_npy(array: NpyArray, path: &Path, labels_last_column: bool) -> Result<Dataset> {
        let bad = |reason: String| invalid_data(path, reason);
        let (rows, cols) = match array.shape[..] {
            [r, c] if r > 0 && c > 0 => (r, c),
            [r, c] => return Err(bad(format!("the array of shape ({r}, {c}) is empty"))),
            [n] => {
                return Err(bad(format!(
                    "a 1-D array of shape ({n},): expected a 2-D array (rows × columns); \
                     reshape it to ({n}, 1) or (1, {n})"
                )));
            }
            _ => {
                return Err(bad(format!(
                    "a {}-D array of shape {:?}: expected a 2-D array (rows × columns)",
                    array.shape.len(),
                    array.shape
                )));
            }
        };
        let at = |i: usize| format!("row {}, column {}", i / cols + 1, i % cols + 1);
        let values: Vec<f32> = match array.data {
            NpyData::F32(v) => {
                if let Some(i) = v.iter().position(|x| !x.is_finite()) {
                    return Err(bad(format!("{}: {} is not finite", at(i), v[i])));
                }
                v
            }
            NpyData::F64(v) => {
                let mut out = Vec::with_capacity(v.len());
                for (i, &x) in v.iter().enumerate() {
                    let y = x as f32;
                    if !y.is_finite() {
                        let what = if x.is_finite() {
                            format!("{x:e} is out of the f32 range")
                        } else {
                            format!("{x} is not finite")
                        };
                        return Err(bad(format!("{}: {what}", at(i))));
                    }
                    out.push(y);
                }
                out
            }
        };
        Dataset::with_labels(rows, cols, values, labels_last_column, path)
    }

    /// Splits off the last column as labels if asked.
    fn with_labels(
        rows: usize,
        cols: usize,
        values: Vec<f32>,
        labels_last_column: bool,
        path: &Path,
    ) -> Result<Dataset> {
        if !labels_last_column {
            return Ok(Dataset {
                rows,
                cols,
                values,
                labels: None,
            });
        }
        if cols < 2 {
            return Err(invalid_data(
                path,
                format!(
                    "the labels are the last column, so at least 2 columns are needed, found {cols}"
                ),
            ));
        }
        let mut features = Vec::with_capacity(rows * (cols - 1));
        let mut labels = Vec::with_capacity(rows);
        for row in values.chunks_exact(cols) {
            features.extend_from_slice(&row[..cols - 1]);
            labels.push(row[cols - 1]);
        }
        Ok(Dataset {
            rows,
            cols: cols - 1,
            values: features,
            labels: Some(labels),
        })
    }

    /// The UCI handwritten digits, embedded in the library: 1797 rows of
    /// 8 × 8 = 64 pixel values in 0..=16 (integers, as `f32`), with the
    /// digit 0..=9 of each row as its label.
    ///
    /// Source: E. Alpaydin and C. Kaynak, "Optical Recognition of
    /// Handwritten Digits", UCI Machine Learning Repository (1998),
    /// <https://doi.org/10.24432/C50P49>, licensed CC BY 4.0 (the test
    /// part of the data set, also shipped by scikit-learn as
    /// `load_digits`). See `data/README.md`.
    ///
    /// ```
    /// use nrelu_rbm::data::{Dataset, DIGITS_MAX};
    /// let d = Dataset::digits();
    /// assert_eq!((d.rows(), d.cols()), (1797, 64));
    /// assert!(d.values().iter().all(|&p| (0.0..=DIGITS_MAX).contains(&p)));
    /// let labels = d.labels().unwrap();
    /// assert_eq!(labels[..3], [0.0, 1.0, 2.0]);
    /// ```
    pub fn digits() -> Dataset {
        let reader = BufReader::new(flate2::read::GzDecoder::new(DIGITS_GZ));
        // The bytes are fixed at compile time and tested to parse.
        Dataset::from_csv_reader(reader, Path::new("(embedded digits)"), true)
            .expect("the embedded digits are valid CSV")
    }

    /// Checks that every value lies in [0, 1], as Bernoulli visible units
    /// need. `path` is only used in the error message.
    ///
    /// # Errors
    /// [`RbmError::InvalidData`] naming the row and column (from 1) of the
    /// first value outside [0, 1].
    pub fn check_unit_interval(&self, path: &Path) -> Result<()> {
        match self.values.iter().position(|x| !(0.0..=1.0).contains(x)) {
            None => Ok(()),
            Some(i) => Err(invalid_data(
                path,
                format!(
                    "row {}, column {}: {} is outside [0, 1] (Bernoulli visible units need \
                     values in [0, 1]: rescale the data, or use Gaussian visible units)",
                    i / self.cols + 1,
                    i % self.cols + 1,
                    self.values[i]
                ),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv(text: &str, labels: bool) -> Result<Dataset> {
        Dataset::from_csv_reader(text.as_bytes(), Path::new("t.csv"), labels)
    }

    fn reason(text: &str) -> String {
        match csv(text, false) {
            Err(RbmError::InvalidData { reason, .. }) => reason,
            other => panic!("{text:?}: {other:?}"),
        }
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
        assert!(reason("\"1\",2\n").contains("is not a number"));
        let long = "y".repeat(100);
        assert!(reason(&long).len() < 120);
        let bytes = b"1,2\n\xff,3\n";
        let err = Dataset::from_csv_reader(&bytes[..], Path::new("t.csv"), false).unwrap_err();
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
    fn embedded_digits_parse() {
        let d = Dataset::digits();
        assert_eq!((d.rows, d.cols), (DIGITS_ROWS, DIGITS_PIXELS));
        assert_eq!(d.values.len(), DIGITS_ROWS * DIGITS_PIXELS);
    }

    #[test]
    fn unit_interval_check_names_row_and_column() {
        let d = csv("0,1\n0.5,1.5\n", false).unwrap();
        let err = d
            .check_unit_interval(Path::new("t.csv"))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("invalid data t.csv: row 2, column 2: 1.5 is outside [0, 1]"),
            "{err}"
        );
        assert!(
            csv("0,1\n", false)
                .unwrap()
                .check_unit_interval(Path::new("x"))
                .is_ok()
        );
    }
}
