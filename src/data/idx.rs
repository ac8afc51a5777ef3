//! IDX files, the format of the MNIST digits (LeCun et al.): a 4-byte
//! magic number — two zero bytes, a type code and the number of
//! dimensions —, one big-endian `u32` per dimension, then the elements in
//! C order, big-endian.
//!
//! `idx3-ubyte` (images: count × rows × columns of `uint8`) become one row
//! per image of rows × columns pixels; `idx1-ubyte` (labels: count of
//! `uint8`) become one column. The other IDX types (`int8`, `int16`,
//! `int32`, `float32`, `float64`) are read too.

use super::array;
use super::{Dataset, ReadOptions, invalid_data};
use crate::error::{RbmError, Result};
use std::io::Read;
use std::path::Path;

/// The most dimensions an IDX file may declare here (MNIST uses 1 and 3).
const MAX_DIMS: u8 = 4;

/// The type codes of IDX, their element size and name.
fn type_of(code: u8) -> Option<(usize, &'static str)> {
    match code {
        0x08 => Some((1, "uint8")),
        0x09 => Some((1, "int8")),
        0x0B => Some((2, "int16")),
        0x0C => Some((4, "int32")),
        0x0D => Some((4, "float32")),
        0x0E => Some((8, "float64")),
        _ => None,
    }
}

/// Whether `head` starts like an IDX file: two zero bytes, a known type
/// code and 1 to [`MAX_DIMS`] dimensions.
pub(crate) fn looks_like_idx(head: &[u8]) -> bool {
    matches!(head, [0, 0, code, dims, ..] if type_of(*code).is_some() && (1..=MAX_DIMS).contains(dims))
}

/// The number of dimensions a file name promises: 3 for `idx3`, 1 for
/// `idx1`, ...
fn dims_in_name(path: &Path) -> Option<u8> {
    let name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
    let at = name.find("idx")?;
    let digit = *name.as_bytes().get(at + 3)?;
    digit.is_ascii_digit().then(|| digit - b'0')
}

/// Reads an IDX file from `r`, which must end right after the data.
/// `path` is used in messages and to check the dimensions its name
/// promises.
///
/// # Errors
/// [`RbmError::InvalidData`] for a bad magic number, a dimension count
/// that differs from the name's (`idx3`: 3), an empty or too large shape,
/// data shorter or longer than the header says, or a NaN or infinite
/// float; [`RbmError::Io`] if reading fails.
pub(crate) fn read<R: Read>(mut r: R, path: &Path, opts: &ReadOptions) -> Result<Dataset> {
    let bad = |reason: String| invalid_data(path, reason);
    let mut magic = [0u8; 4];
    read_exact(&mut r, &mut magic, path, "its 4-byte magic number")?;
    let [z0, z1, code, ndims] = magic;
    if z0 != 0 || z1 != 0 {
        return Err(bad(format!(
            "not an IDX file: the magic number must start with two zero bytes, found {z0:02x} {z1:02x}"
        )));
    }
    let (size, type_name) = type_of(code).ok_or_else(|| {
        bad(format!(
            "unknown IDX type code 0x{code:02x} (known: 08 uint8, 09 int8, 0b int16, \
             0c int32, 0d float32, 0e float64)"
        ))
    })?;
    if !(1..=MAX_DIMS).contains(&ndims) {
        return Err(bad(format!(
            "the IDX header declares {ndims} dimensions (1 to {MAX_DIMS} are read)"
        )));
    }
    if let Some(want) = dims_in_name(path)
        && want != ndims
    {
        return Err(bad(format!(
            "the name says idx{want} but the header declares {ndims} dimension{}",
            if ndims == 1 { "" } else { "s" }
        )));
    }
    let mut shape = Vec::with_capacity(usize::from(ndims));
    for _ in 0..ndims {
        let mut b = [0u8; 4];
        read_exact(&mut r, &mut b, path, "its dimensions")?;
        shape.push(u64::from(u32::from_be_bytes(b)));
    }
    let (rows, cols) = array::rows_cols(&shape, true, path)?;
    let n = rows * cols;
    let at = |i| i;
    let (values, element) = match code {
        0x08 => array::decode(&mut r, (n, cols), path, u8::from_be_bytes, at)?,
        0x09 => array::decode(&mut r, (n, cols), path, i8::from_be_bytes, at)?,
        0x0B => array::decode(&mut r, (n, cols), path, i16::from_be_bytes, at)?,
        0x0C => array::decode(&mut r, (n, cols), path, i32::from_be_bytes, at)?,
        0x0D => array::decode(&mut r, (n, cols), path, f32::from_be_bytes, at)?,
        _ => array::decode(&mut r, (n, cols), path, f64::from_be_bytes, at)?,
    };
    let mut probe = [0u8; 1];
    if io_at(path, r.read(&mut probe))? != 0 {
        return Err(bad(format!(
            "unexpected bytes after the data: the header's shape {shape:?} of {type_name} \
             holds {} bytes",
            n * size
        )));
    }
    Dataset::with_labels(rows, cols, values, opts.labels_last_column, path)
        .map(|d| Dataset { element, ..d })
}

fn io_at<T>(path: &Path, r: std::io::Result<T>) -> Result<T> {
    r.map_err(|source| RbmError::Io {
        path: path.to_owned(),
        source,
    })
}

/// `read_exact`, with an end of input reported as a truncated `what`.
fn read_exact<R: Read>(r: &mut R, buf: &mut [u8], path: &Path, what: &str) -> Result<()> {
    r.read_exact(buf).map_err(|e| {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            invalid_data(
                path,
                format!("truncated IDX header: the file ends inside {what}"),
            )
        } else {
            RbmError::Io {
                path: path.to_owned(),
                source: e,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_promise_dimensions() {
        assert_eq!(dims_in_name(Path::new("train-images-idx3-ubyte")), Some(3));
        assert_eq!(
            dims_in_name(Path::new("t10k-labels.idx1-ubyte.gz")),
            Some(1)
        );
        assert_eq!(dims_in_name(Path::new("data.idx")), None);
        assert_eq!(dims_in_name(Path::new("x.csv")), None);
    }

    #[test]
    fn sniffing() {
        assert!(looks_like_idx(b"\0\0\x08\x03"));
        assert!(looks_like_idx(b"\0\0\x0e\x01"));
        assert!(!looks_like_idx(b"\0\0\x08\x00"));
        assert!(!looks_like_idx(b"\0\0\x08\x05"));
        assert!(!looks_like_idx(b"\0\x01\x08\x01"));
        assert!(!looks_like_idx(b"\0\0\x08"));
    }
}
