//! Where data comes from and in which format: a file or standard input,
//! gzip undone, the format chosen by option, name or content.

use super::{Dataset, csv, idx, invalid_data, npy};
use crate::error::{RbmError, Result};
use std::fs::File;
use std::io::{self, BufReader, Cursor, Read};
use std::path::{Path, PathBuf};

/// The data path that means standard input (and, for outputs, standard
/// output).
pub const STDIN: &str = "-";

/// How the name of standard input appears in messages.
const STDIN_NAME: &str = "(standard input)";

/// Bytes looked at to recognise a format.
const SNIFF: usize = 16;

/// The `.npy` magic string.
const NPY_MAGIC: &[u8] = b"\x93NUMPY";
/// A zip archive's first local file header (or, for an empty archive, its
/// end record).
const ZIP_MAGIC: [&[u8]; 2] = [b"PK\x03\x04", b"PK\x05\x06"];
/// gzip's magic bytes.
const GZIP_MAGIC: &[u8] = b"\x1f\x8b";

/// A data file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// Delimited text with an optional header row.
    Csv,
    /// A NumPy `.npy` array.
    Npy,
    /// A NumPy `.npz` archive of arrays.
    Npz,
    /// An IDX file (MNIST's `idx3-ubyte` images, `idx1-ubyte` labels).
    Idx,
}

impl Format {
    /// The name used by `--format`: `csv`, `npy`, `npz` or `idx`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Npy => "npy",
            Format::Npz => "npz",
            Format::Idx => "idx",
        }
    }
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Format, String> {
        match s.to_ascii_lowercase().as_str() {
            "csv" => Ok(Format::Csv),
            "npy" => Ok(Format::Npy),
            "npz" => Ok(Format::Npz),
            "idx" => Ok(Format::Idx),
            _ => Err("expected npy, npz, csv or idx".to_owned()),
        }
    }
}

/// How to read a data file: see [`Dataset::read`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReadOptions {
    /// Split the last column off as labels.
    pub labels_last_column: bool,
    /// The format; `None`: from the name, else from the content.
    pub format: Option<Format>,
    /// CSV: the first row is a header, whatever it holds (otherwise it is
    /// one when a field is neither empty nor a number).
    pub header: bool,
    /// CSV: the field delimiter, an ASCII byte (default `,`).
    pub delimiter: u8,
}

impl Default for ReadOptions {
    fn default() -> ReadOptions {
        ReadOptions {
            labels_last_column: false,
            format: None,
            header: false,
            delimiter: b',',
        }
    }
}

impl ReadOptions {
    /// The defaults: no labels, the format from the name or content, the
    /// header row detected, comma-delimited.
    pub fn new() -> ReadOptions {
        ReadOptions::default()
    }

    /// Sets [`ReadOptions::labels_last_column`].
    #[must_use]
    pub fn with_labels_last_column(self, labels_last_column: bool) -> ReadOptions {
        ReadOptions {
            labels_last_column,
            ..self
        }
    }

    /// Sets [`ReadOptions::format`].
    #[must_use]
    pub fn with_format(self, format: Format) -> ReadOptions {
        ReadOptions {
            format: Some(format),
            ..self
        }
    }

    /// Sets [`ReadOptions::header`].
    #[must_use]
    pub fn with_header(self, header: bool) -> ReadOptions {
        ReadOptions { header, ..self }
    }

    /// Sets [`ReadOptions::delimiter`].
    #[must_use]
    pub fn with_delimiter(self, delimiter: u8) -> ReadOptions {
        ReadOptions { delimiter, ..self }
    }
}

/// A data path split into the file (or `-`) and the `.npz` member after a
/// colon, if any: `x.npz:train` names the array `train` of `x.npz`. A path
/// that names an existing file is never split.
fn split_member(spec: &Path) -> (PathBuf, Option<String>) {
    let text = spec.to_string_lossy();
    if spec.as_os_str() != STDIN && spec.is_file() {
        return (spec.to_owned(), None);
    }
    if let Some((file, member)) = text.rsplit_once(':') {
        let lower = file.to_ascii_lowercase();
        if (lower.ends_with(".npz") || lower.ends_with(".npz.gz") || file == STDIN)
            && !member.is_empty()
        {
            return (PathBuf::from(file), Some(member.to_owned()));
        }
    }
    (spec.to_owned(), None)
}

/// The format a file name asks for (after taking off `.gz`), if any.
fn format_of_name(path: &Path) -> Option<Format> {
    let name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    let ext = Path::new(name)
        .extension()
        .map(|e| e.to_string_lossy().into_owned())
        .unwrap_or_default();
    match ext.as_str() {
        "csv" => Some(Format::Csv),
        "npy" => Some(Format::Npy),
        "npz" => Some(Format::Npz),
        _ if ext.starts_with("idx") || name.ends_with("-ubyte") => Some(Format::Idx),
        _ => None,
    }
}

/// The format the first bytes of the content show: the `.npy` magic
/// string, a zip archive (`.npz`), an IDX header (two zero bytes, a known
/// type code, 1 to 4 dimensions), else CSV.
fn format_of_content(head: &[u8]) -> Format {
    if head.starts_with(NPY_MAGIC) {
        Format::Npy
    } else if ZIP_MAGIC.iter().any(|m| head.starts_with(m)) {
        Format::Npz
    } else if idx::looks_like_idx(head) {
        Format::Idx
    } else {
        Format::Csv
    }
}

/// A stream whose first bytes were read ahead: those bytes, then the rest.
type Replayed<R> = io::Chain<Cursor<Vec<u8>>, R>;

/// The first [`SNIFF`] bytes of `r` (fewer if it ends), and a reader that
/// gives them again followed by the rest.
fn peek<R: Read>(mut r: R, path: &Path) -> Result<(Vec<u8>, Replayed<R>)> {
    let mut head = Vec::with_capacity(SNIFF);
    io_at(path, (&mut r).take(SNIFF as u64).read_to_end(&mut head))?;
    Ok((head.clone(), Cursor::new(head).chain(r)))
}

fn io_at<T>(path: &Path, r: io::Result<T>) -> Result<T> {
    r.map_err(|source| RbmError::Io {
        path: path.to_owned(),
        source,
    })
}

/// Reads `spec` (see [`Dataset::read`]).
pub(crate) fn read(spec: &Path, opts: &ReadOptions) -> Result<Dataset> {
    let (file, member) = split_member(spec);
    let stdin = file.as_os_str() == STDIN;
    let name = if stdin {
        PathBuf::from(STDIN_NAME)
    } else {
        file.clone()
    };
    let raw: Box<dyn Read> = if stdin {
        Box::new(io::stdin().lock())
    } else {
        Box::new(io_at(&name, File::open(&file))?)
    };
    // A plain `.npz` file is read in place, by seeking; standard input is
    // held in memory.
    let reopen = (!stdin).then_some(file.as_path());
    let name_format = (!stdin).then(|| format_of_name(&file)).flatten();
    read_stream(raw, &name, reopen, name_format, member.as_deref(), opts)
}

/// Reads the data file whose whole content is `bytes`, as [`read`] reads a
/// file named `spec` (its name chooses the format and may name an `.npz`
/// member as `FILE.npz:NAME`; no file is opened).
pub(crate) fn read_bytes(bytes: &[u8], spec: &Path, opts: &ReadOptions) -> Result<Dataset> {
    let (file, member) = split_member(spec);
    let name_format = format_of_name(&file);
    read_stream(
        Box::new(bytes),
        &file,
        None,
        name_format,
        member.as_deref(),
        opts,
    )
}

/// Reads the data stream `raw` called `name` in messages: undoes gzip,
/// chooses the format (`opts`', else `name_format`, else the content's)
/// and reads it. An `.npz` archive is reopened from the file `reopen` when
/// it is not compressed, else held in memory.
fn read_stream(
    raw: Box<dyn Read + '_>,
    name: &Path,
    reopen: Option<&Path>,
    name_format: Option<Format>,
    member: Option<&str>,
    opts: &ReadOptions,
) -> Result<Dataset> {
    let name = name.to_path_buf();
    let (head, rest) = peek(raw, &name)?;
    let gzipped = head.starts_with(GZIP_MAGIC);
    let (head, body): (Vec<u8>, Box<dyn Read + '_>) = if gzipped {
        let (head, body) = peek(flate2::read::MultiGzDecoder::new(rest), &name)?;
        (head, Box::new(body))
    } else {
        (head, Box::new(rest))
    };
    let format = opts
        .format
        .or(name_format)
        .unwrap_or_else(|| format_of_content(&head));
    if member.is_some() && format != Format::Npz {
        return Err(invalid_data(
            &name,
            format!(
                "':NAME' selects an array of an .npz archive, but this is read as {}",
                format.name()
            ),
        ));
    }
    match format {
        Format::Csv => csv::read(BufReader::with_capacity(1 << 16, body), &name, opts),
        Format::Npy => {
            if head.len() >= NPY_MAGIC.len() && !head.starts_with(NPY_MAGIC) {
                return Err(invalid_data(
                    &name,
                    "not a .npy file (bad magic string)".to_owned(),
                ));
            }
            npy::read(BufReader::with_capacity(1 << 16, body), &name, opts)
        }
        Format::Idx => idx::read(BufReader::with_capacity(1 << 16, body), &name, opts),
        Format::Npz => {
            if let Some(file) = reopen.filter(|_| !gzipped) {
                // A plain file: the archive is read in place.
                drop(body);
                let f = io_at(&name, File::open(file))?;
                return npy::read_npz(BufReader::new(f), &name, member, opts);
            }
            // A zip archive is read from its end: hold the stream in memory.
            let mut bytes = Vec::new();
            io_at(&name, { body }.read_to_end(&mut bytes))?;
            npy::read_npz(Cursor::new(bytes), &name, member, opts)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_from_names() {
        let f = |s: &str| format_of_name(Path::new(s));
        assert_eq!(f("a.csv"), Some(Format::Csv));
        assert_eq!(f("A.NPY"), Some(Format::Npy));
        assert_eq!(f("x.npz"), Some(Format::Npz));
        assert_eq!(f("train-images-idx3-ubyte"), Some(Format::Idx));
        assert_eq!(f("train-images-idx3-ubyte.gz"), Some(Format::Idx));
        assert_eq!(f("t10k-labels.idx1-ubyte"), Some(Format::Idx));
        assert_eq!(f("x.csv.gz"), Some(Format::Csv));
        assert_eq!(f("x.txt"), None);
        assert_eq!(f("noext"), None);
    }

    #[test]
    fn formats_from_content() {
        assert_eq!(format_of_content(b"\x93NUMPY\x01\x00"), Format::Npy);
        assert_eq!(format_of_content(b"PK\x03\x04rest"), Format::Npz);
        assert_eq!(format_of_content(b"\0\0\x08\x03\0\0\0\x01"), Format::Idx);
        assert_eq!(format_of_content(b"1,2,3\n"), Format::Csv);
        assert_eq!(format_of_content(b""), Format::Csv);
        // Two zero bytes and an unknown type code are not IDX.
        assert_eq!(format_of_content(b"\0\0\x07\x01"), Format::Csv);
    }

    #[test]
    fn npz_members_split_off() {
        let s = |p: &str| split_member(Path::new(p));
        assert_eq!(
            s("x.npz:train"),
            (PathBuf::from("x.npz"), Some("train".into()))
        );
        assert_eq!(s("-:a"), (PathBuf::from("-"), Some("a".into())));
        assert_eq!(s("x.npz"), (PathBuf::from("x.npz"), None));
        assert_eq!(s("C:data.csv"), (PathBuf::from("C:data.csv"), None));
        assert_eq!(s("x.npz:"), (PathBuf::from("x.npz:"), None));
    }

    #[test]
    fn format_names_parse() {
        for f in [Format::Csv, Format::Npy, Format::Npz, Format::Idx] {
            assert_eq!(f.name().parse::<Format>(), Ok(f));
        }
        assert!("tsv".parse::<Format>().is_err());
    }
}
