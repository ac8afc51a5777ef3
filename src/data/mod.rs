//! Training data: CSV files, `.npy` and `.npz` arrays, MNIST's IDX files,
//! any of them gzip-compressed or on standard input, and the embedded UCI
//! handwritten digits.
//!
//! Every reader returns a [`Dataset`] (rows × columns of `f32`, row-major,
//! all finite, optionally with the last column split off as labels, and the
//! element type the file stored) or an [`RbmError::InvalidData`] whose
//! reason names the line or row and the column of the problem.
//!
//! One reader per format: `csv` (through the `csv` crate), `npy` (`.npy` and `.npz`, through the `npyz` and `zip` crates), `idx`
//! (MNIST's `idx3-ubyte`/`idx1-ubyte`); `source` opens a file or standard
//! input, undoes gzip and chooses the format. What each accepts is listed in
//! `docs/cli.md` ("Data files").
//!
//! ```
//! use nrelu_rbm::data::Dataset;
//! let csv = "0, 0.5, 1\n1, 0.25, 0\n\n";
//! let d = Dataset::from_csv_reader(csv.as_bytes(), "x.csv".as_ref(), true)?;
//! assert_eq!((d.rows(), d.cols()), (2, 2));
//! assert_eq!(d.values(), [0.0, 0.5, 1.0, 0.25]);
//! assert_eq!(d.labels(), Some(&[1.0, 0.0][..]));
//!
//! // A first row with a field that is not a number is a header.
//! let d = Dataset::from_csv_reader("a,b\n1,2\n".as_bytes(), "x.csv".as_ref(), false)?;
//! assert_eq!((d.rows(), d.cols()), (1, 2));
//!
//! let err = Dataset::from_csv_reader("a,b\n1,x\n".as_bytes(), "x.csv".as_ref(), false)
//!     .unwrap_err();
//! assert_eq!(
//!     err.to_string(),
//!     "invalid data x.csv: line 2, column 2: \"x\" is not a number"
//! );
//! # Ok::<(), nrelu_rbm::RbmError>(())
//! ```

mod array;
mod csv;
mod idx;
mod npy;
mod source;

pub use source::{Format, ReadOptions, STDIN};

use crate::error::{RbmError, Result};
use crate::npy::{NpyArray, NpyData};
use std::io::{BufRead, BufReader};
use std::path::Path;

/// The UCI digits, gzip-compressed CSV: 1797 rows of 64 pixels (0..=16)
/// and a label (0..=9).
const DIGITS_GZ: &[u8] = include_bytes!("../../data/digits.csv.gz");

/// Rows of [`Dataset::digits`].
pub const DIGITS_ROWS: usize = 1797;
/// Pixels (columns) of [`Dataset::digits`]: 8 × 8 images.
pub const DIGITS_PIXELS: usize = 64;
/// The largest pixel value of [`Dataset::digits`] (pixels are 0..=16).
pub const DIGITS_MAX: f32 = 16.0;
/// Where the embedded digits come from, and their licence.
pub const DIGITS_ATTRIBUTION: &str = "E. Alpaydin and C. Kaynak, \"Optical Recognition of \
    Handwritten Digits\", UCI Machine Learning Repository (1998), CC BY 4.0";

/// The element type a data file stored, before its values became `f32`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ElementType {
    /// Decimal numbers written as text (CSV).
    Text,
    /// `bool`: false and true become 0 and 1.
    Bool,
    /// `uint8`.
    U8,
    /// `uint16`.
    U16,
    /// `uint32`.
    U32,
    /// `uint64`.
    U64,
    /// `int8`.
    I8,
    /// `int16`.
    I16,
    /// `int32`.
    I32,
    /// `int64`.
    I64,
    /// `float32`.
    F32,
    /// `float64`.
    F64,
}

impl ElementType {
    /// numpy's name of the type (`uint8`, `float32`, ...), or `text`.
    pub fn name(self) -> &'static str {
        match self {
            ElementType::Text => "text",
            ElementType::Bool => "bool",
            ElementType::U8 => "uint8",
            ElementType::U16 => "uint16",
            ElementType::U32 => "uint32",
            ElementType::U64 => "uint64",
            ElementType::I8 => "int8",
            ElementType::I16 => "int16",
            ElementType::I32 => "int32",
            ElementType::I64 => "int64",
            ElementType::F32 => "float32",
            ElementType::F64 => "float64",
        }
    }

    /// Whether the type is an integer type (`bool` is not).
    pub fn is_integer(self) -> bool {
        matches!(
            self,
            ElementType::U8
                | ElementType::U16
                | ElementType::U32
                | ElementType::U64
                | ElementType::I8
                | ElementType::I16
                | ElementType::I32
                | ElementType::I64
        )
    }
}

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
    /// What the file stored.
    pub(crate) element: ElementType,
    /// The names of a CSV file's header row, if it had one.
    pub(crate) header: Option<Vec<String>>,
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

/// An [`RbmError::InvalidData`] on `path`; control characters quoted from
/// the file (a member name, say) are escaped so that it stays one line.
fn invalid_data(path: &Path, reason: String) -> RbmError {
    RbmError::InvalidData {
        path: path.to_owned(),
        reason: crate::error::one_line(reason),
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

    /// The element type the file stored ([`ElementType::Text`] for CSV).
    pub fn element_type(&self) -> ElementType {
        self.element
    }

    /// The names of the CSV header row, if the file had one.
    pub fn header(&self) -> Option<&[String]> {
        self.header.as_deref()
    }

    /// The values, by value (to map them in place, for example).
    pub fn into_values(self) -> Vec<f32> {
        self.values
    }

    /// Reads a data file with the default [`ReadOptions`] (the format from
    /// the name, else from the content; a CSV header row detected; comma
    /// delimiter); see [`Dataset::read`].
    ///
    /// # Errors
    /// Those of [`Dataset::read`].
    pub fn load(path: &Path, labels_last_column: bool) -> Result<Dataset> {
        let opts = ReadOptions::new().with_labels_last_column(labels_last_column);
        Dataset::read(path, &opts)
    }

    /// Reads the data that `spec` names: a file, `-` for standard input,
    /// or `FILE.npz:NAME` for one array of an `.npz` archive. A gzip
    /// stream is decompressed first. The format is
    /// [`ReadOptions::with_format`]'s, else the file name's (`.csv`,
    /// `.npy`, `.npz`, `.idx*` or `*-ubyte`, before an optional `.gz`), else
    /// the content's (the `.npy` magic string, a zip archive, an IDX
    /// header; anything else is CSV). `docs/cli.md` lists what each format
    /// accepts.
    ///
    /// ```
    /// use nrelu_rbm::data::{Dataset, ElementType, ReadOptions};
    /// let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("x.tsv");
    /// std::fs::write(&path, "id\tsize\n1\t0.5\n2\t0.25\n")?;
    /// let opts = ReadOptions::new().with_delimiter(b'\t');
    /// let d = Dataset::read(&path, &opts)?;
    /// assert_eq!((d.rows(), d.cols(), d.values()), (2, 2, &[1.0, 0.5, 2.0, 0.25][..]));
    /// assert_eq!(d.element_type(), ElementType::Text);
    /// assert_eq!(d.header(), Some(&["id".to_owned(), "size".to_owned()][..]));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`RbmError::Io`] if the file cannot be opened or read;
    /// [`RbmError::InvalidData`] naming the problem (and where known its
    /// line or row and column) for contents that are not valid data of the
    /// format.
    pub fn read(spec: &Path, opts: &ReadOptions) -> Result<Dataset> {
        source::read(spec, opts)
    }

    /// Reads data held in memory: `bytes` is the whole content of a file
    /// named `spec`, read exactly as [`Dataset::read`] reads that file
    /// (gzip undone, the format from the options, the name or the
    /// content; `FILE.npz:NAME` selects an array), without opening
    /// anything. No input makes it panic.
    ///
    /// ```
    /// use nrelu_rbm::data::{Dataset, ReadOptions};
    /// let opts = ReadOptions::new();
    /// let d = Dataset::from_bytes(b"1,2\n3,4\n", "x.csv".as_ref(), &opts)?;
    /// assert_eq!(d.values(), [1.0, 2.0, 3.0, 4.0]);
    /// let err = Dataset::from_bytes(b"\x93NUMPY\x01", "x.npy".as_ref(), &opts).unwrap_err();
    /// assert!(!err.to_string().contains('\n'));
    /// # Ok::<(), nrelu_rbm::RbmError>(())
    /// ```
    ///
    /// # Errors
    /// Those of [`Dataset::read`].
    pub fn from_bytes(bytes: &[u8], spec: &Path, opts: &ReadOptions) -> Result<Dataset> {
        source::read_bytes(bytes, spec, opts)
    }

    /// Reads a CSV file (see [`Dataset::from_csv_reader`]).
    ///
    /// # Errors
    /// [`RbmError::Io`] if the file cannot be opened or read, and those of
    /// [`Dataset::from_csv_reader`].
    pub fn read_csv(path: &Path, labels_last_column: bool) -> Result<Dataset> {
        let opts = ReadOptions::new()
            .with_labels_last_column(labels_last_column)
            .with_format(Format::Csv);
        Dataset::read(path, &opts)
    }

    /// Parses numeric CSV with the default options: comma-separated
    /// fields, `"`-quoted fields allowed, whitespace around fields allowed,
    /// `\n` or `\r\n` line ends, empty lines allowed only at the end. The
    /// first row is a header when one of its fields is neither empty nor a
    /// number. Every other field must be a finite `f32` (`1`, `-0.5`,
    /// `2e-3`, ...) and every row must have as many fields as the first.
    /// With `labels_last_column`, the last column goes to
    /// [`Dataset::labels`]. `path` is only used in error messages.
    ///
    /// # Errors
    /// [`RbmError::InvalidData`] naming the line and column of the first
    /// problem: a field that is not a number, NaN or infinity, a line with
    /// another number of fields, an empty line before the end, a line that
    /// is not UTF-8, no rows at all, or fewer than two columns with
    /// `labels_last_column`. [`RbmError::Io`] if reading fails.
    pub fn from_csv_reader<R: BufRead>(
        reader: R,
        path: &Path,
        labels_last_column: bool,
    ) -> Result<Dataset> {
        let opts = ReadOptions::new().with_labels_last_column(labels_last_column);
        csv::read(reader, path, &opts)
    }

    /// Reads a `.npy` file (see [`Dataset::read`]).
    ///
    /// # Errors
    /// Those of [`Dataset::read`].
    pub fn read_npy(path: &Path, labels_last_column: bool) -> Result<Dataset> {
        let opts = ReadOptions::new()
            .with_labels_last_column(labels_last_column)
            .with_format(Format::Npy);
        Dataset::read(path, &opts)
    }

    /// Converts a floating-point array read by [`crate::npy::read`]: it
    /// must be 2-D (rows × columns) with at least one row and column;
    /// `float64` values are converted to `f32`. With `labels_last_column`,
    /// the last column goes to [`Dataset::labels`]. `path` is only used in
    /// error messages.
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
        let shape: Vec<u64> = array.shape.iter().map(|&d| d as u64).collect();
        let (rows, cols) = array::rows_cols(&shape, false, path)?;
        let mut values = Vec::with_capacity(rows * cols);
        let element = match array.data {
            NpyData::F32(v) => {
                for (i, x) in v.into_iter().enumerate() {
                    values.push(array::checked(x, i, cols, path)?);
                }
                ElementType::F32
            }
            NpyData::F64(v) => {
                for (i, x) in v.into_iter().enumerate() {
                    values.push(array::checked(x, i, cols, path)?);
                }
                ElementType::F64
            }
        };
        Dataset::with_labels(rows, cols, values, labels_last_column, path)
            .map(|d| Dataset { element, ..d })
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
                element: ElementType::Text,
                header: None,
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
            element: ElementType::Text,
            header: None,
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
                     values in [0, 1]: rescale the data{}, or use Gaussian visible units)",
                    i / self.cols + 1,
                    i % self.cols + 1,
                    self.values[i],
                    if self.element.is_integer() {
                        format!(
                            " (it is {}: rbm train --scale S divides it by S)",
                            self.element.name()
                        )
                    } else {
                        String::new()
                    }
                ),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_digits_parse() {
        let d = Dataset::digits();
        assert_eq!((d.rows, d.cols), (DIGITS_ROWS, DIGITS_PIXELS));
        assert_eq!(d.values.len(), DIGITS_ROWS * DIGITS_PIXELS);
        assert_eq!(d.element, ElementType::Text);
        assert_eq!(d.header, None);
    }

    #[test]
    fn unit_interval_check_names_row_and_column() {
        let csv = |text: &str| {
            Dataset::from_csv_reader(text.as_bytes(), Path::new("t.csv"), false).unwrap()
        };
        let err = csv("0,1\n0.5,1.5\n")
            .check_unit_interval(Path::new("t.csv"))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("invalid data t.csv: row 2, column 2: 1.5 is outside [0, 1]"),
            "{err}"
        );
        assert!(csv("0,1\n").check_unit_interval(Path::new("x")).is_ok());
        let mut ints = csv("0,255\n");
        ints.element = ElementType::U8;
        let err = ints
            .check_unit_interval(Path::new("x"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("it is uint8: rbm train --scale S"), "{err}");
    }

    #[test]
    fn element_type_names() {
        assert_eq!(ElementType::U8.name(), "uint8");
        assert_eq!(ElementType::I64.name(), "int64");
        assert!(ElementType::U16.is_integer());
        assert!(!ElementType::Bool.is_integer());
        assert!(!ElementType::F32.is_integer());
    }
}
