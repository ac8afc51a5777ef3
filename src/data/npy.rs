//! `.npy` arrays and `.npz` archives of them as data sets, through the
//! `npyz` crate (header, dtype, byte order, order) and the `zip` crate (the
//! archive); the elements are decoded here in bulk. `crate::npy::open` checks the header's framing and
//! shape first.
//!
//! Element types: `bool`, every integer type, `float32` and `float64`, in
//! either byte order; C or Fortran order. The array must be 2-D.

use super::array::{self, StoredBool};
use super::{Dataset, ReadOptions, invalid_data};
use crate::error::{RbmError, Result};
use crate::npy::NpyError;
use npyz::{DType, TypeChar};
use std::io::{self, Read, Seek};
use std::path::{Path, PathBuf};

/// The element types read, for messages.
const TYPES_READ: &str = "bool, int8..int64, uint8..uint64, float32 and float64 are read";

/// Reads one `.npy` array from `r`, which must end right after the data.
/// `path` is only used in messages.
///
/// # Errors
/// [`RbmError::InvalidData`] for a file that is not such an array;
/// [`RbmError::Io`] if reading fails.
pub(crate) fn read<R: Read>(mut r: R, path: &Path, opts: &ReadOptions) -> Result<Dataset> {
    let d = read_array(&mut r, path, opts)?;
    let mut probe = [0u8; 1];
    if read_io(r.read(&mut probe), path)? != 0 {
        return Err(invalid_data(
            path,
            "unexpected bytes after the array's data".to_owned(),
        ));
    }
    Ok(d)
}

/// An I/O error on `path` as [`RbmError::Io`].
fn read_io<T>(r: io::Result<T>, path: &Path) -> Result<T> {
    r.map_err(|source| RbmError::Io {
        path: path.to_owned(),
        source,
    })
}

/// Reads one array from `r`, leaving `r` right after its data.
fn read_array<R: Read>(r: R, path: &Path, opts: &ReadOptions) -> Result<Dataset> {
    let file = crate::npy::open(r).map_err(|e| npy_error(e, path))?;
    let (rows, cols) = array::rows_cols(file.shape(), false, path)?;
    let fortran = file.order() == npyz::Order::Fortran;
    let dtype = file.dtype();
    let DType::Plain(t) = &dtype else {
        return Err(unsupported(&dtype, path));
    };
    let (kind, size, endian) = (t.type_char(), t.size_field(), t.endianness());
    let big = endian == npyz::Endianness::Big;
    // npyz has read the header and says what the elements are; they are
    // decoded here in bulk, which is several times faster than one call
    // per element.
    let mut r = file.into_inner();
    let n = (rows * cols, cols);
    // The C-order index of the k-th stored element.
    let at = move |k: usize| {
        if fortran {
            (k % rows) * cols + k / rows
        } else {
            k
        }
    };
    macro_rules! read_as {
        ($t:ty) => {
            array::decode(
                &mut r,
                n,
                path,
                if big {
                    <$t>::from_be_bytes
                } else {
                    <$t>::from_le_bytes
                },
                at,
            )?
        };
    }
    let (values, element) = match (kind, size) {
        (TypeChar::Bool, 1) => array::decode(&mut r, n, path, StoredBool::from_bytes, at)?,
        (TypeChar::Uint, 1) => read_as!(u8),
        (TypeChar::Uint, 2) => read_as!(u16),
        (TypeChar::Uint, 4) => read_as!(u32),
        (TypeChar::Uint, 8) => read_as!(u64),
        (TypeChar::Int, 1) => read_as!(i8),
        (TypeChar::Int, 2) => read_as!(i16),
        (TypeChar::Int, 4) => read_as!(i32),
        (TypeChar::Int, 8) => read_as!(i64),
        (TypeChar::Float, 4) => read_as!(f32),
        (TypeChar::Float, 8) => read_as!(f64),
        _ => return Err(unsupported(&dtype, path)),
    };
    let values = crate::npy::to_c_order(values, &[rows, cols], fortran);
    Dataset::with_labels(rows, cols, values, opts.labels_last_column, path)
        .map(|d| Dataset { element, ..d })
}

fn unsupported(dtype: &DType, path: &Path) -> RbmError {
    invalid_data(
        path,
        format!(
            "unsupported dtype '{}' ({TYPES_READ})",
            crate::npy::dtype_name(dtype)
        ),
    )
}

/// The header errors of [`crate::npy::open`] as one-line messages.
fn npy_error(e: NpyError, path: &Path) -> RbmError {
    match e {
        NpyError::Io(e) if e.kind() == io::ErrorKind::UnexpectedEof => invalid_data(
            path,
            "not a .npy file, or its header is truncated".to_owned(),
        ),
        NpyError::Io(source) => RbmError::Io {
            path: path.to_owned(),
            source,
        },
        NpyError::UnsupportedDtype(d) => {
            invalid_data(path, format!("unsupported dtype '{d}' ({TYPES_READ})"))
        }
        other => invalid_data(path, other.to_string()),
    }
}

/// Reads the array `member` of the `.npz` archive `r` (`path` in
/// messages), or its only array when `member` is `None`.
///
/// # Errors
/// [`RbmError::InvalidData`] for an archive that cannot be read, a
/// missing member, no member named when the archive holds several (the
/// message lists them), or an invalid array.
pub(crate) fn read_npz<R: Read + Seek>(
    r: R,
    path: &Path,
    member: Option<&str>,
    opts: &ReadOptions,
) -> Result<Dataset> {
    let mut zip = zip::ZipArchive::new(r).map_err(|e| {
        invalid_data(
            path,
            format!("not a .npz file (a zip archive of .npy files): {e}"),
        )
    })?;
    let mut names: Vec<String> = Vec::new();
    for entry in zip.file_names() {
        let entry = entry.map_err(|e| invalid_data(path, format!("a bad entry name: {e}")))?;
        if let Some(name) = npyz::npz::array_name_from_file_name(&entry) {
            names.push(name.to_owned());
        }
    }
    let mut sorted = names.clone();
    sorted.sort();
    let list = sorted.join(", ");
    let name = match (member, names.as_slice()) {
        (Some(m), _) if names.iter().any(|n| n == m) => m.to_owned(),
        (Some(m), _) => {
            return Err(invalid_data(
                path,
                format!("the archive has no array '{m}' (it holds: {list})"),
            ));
        }
        (None, [only]) => only.clone(),
        (None, []) => return Err(invalid_data(path, "the archive holds no array".to_owned())),
        (None, _) => {
            return Err(invalid_data(
                path,
                format!(
                    "the archive holds {} arrays ({list}): name one as {}:NAME",
                    names.len(),
                    path.display()
                ),
            ));
        }
    };
    let member_path = PathBuf::from(format!(
        "{}:{}",
        path.display(),
        crate::error::one_line(name.clone())
    ));
    let entry = zip
        .by_name(&npyz::npz::file_name_from_array_name(&name))
        .map_err(|e| invalid_data(&member_path, format!("cannot read the array: {e}")))?;
    read(io::BufReader::new(entry), &member_path, opts)
}
