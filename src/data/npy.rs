//! `.npy` arrays and `.npz` archives of them as data sets, through the
//! `npyz` crate (header, dtype, byte order, element decoding) and the `zip`
//! crate (the archive). `crate::npy::open` checks the header's framing and
//! shape first.
//!
//! Element types: `bool`, every integer type, `float32` and `float64`, in
//! either byte order; C or Fortran order. The array must be 2-D.

use super::array::{self, Element};
use super::{Dataset, ElementType, ReadOptions, invalid_data};
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
    let shape = (rows, cols, fortran);
    let (values, element) = match (t.type_char(), t.size_field()) {
        (TypeChar::Bool, 1) => elements::<bool, _>(file, shape, path)?,
        (TypeChar::Uint, 1) => elements::<u8, _>(file, shape, path)?,
        (TypeChar::Uint, 2) => elements::<u16, _>(file, shape, path)?,
        (TypeChar::Uint, 4) => elements::<u32, _>(file, shape, path)?,
        (TypeChar::Uint, 8) => elements::<u64, _>(file, shape, path)?,
        (TypeChar::Int, 1) => elements::<i8, _>(file, shape, path)?,
        (TypeChar::Int, 2) => elements::<i16, _>(file, shape, path)?,
        (TypeChar::Int, 4) => elements::<i32, _>(file, shape, path)?,
        (TypeChar::Int, 8) => elements::<i64, _>(file, shape, path)?,
        (TypeChar::Float, 4) => elements::<f32, _>(file, shape, path)?,
        (TypeChar::Float, 8) => elements::<f64, _>(file, shape, path)?,
        _ => return Err(unsupported(&dtype, path)),
    };
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

/// Reads the `rows × cols` elements of `file` as `T` and converts them to
/// finite `f32` in C order (`fortran`: the file holds them column by
/// column).
fn elements<T, R>(
    file: npyz::NpyFile<R>,
    (rows, cols, fortran): (usize, usize, bool),
    path: &Path,
) -> Result<(Vec<f32>, ElementType)>
where
    T: Element + npyz::Deserialize,
    R: Read,
{
    let n = rows * cols;
    let size = std::mem::size_of::<T>();
    let reader = file
        .data::<T>()
        .map_err(|e| invalid_data(path, format!("unsupported dtype: {e}")))?;
    // Grow as the data arrives: a header cannot make us allocate more than
    // the input holds.
    let mut values = Vec::with_capacity(n.min(1 << 20));
    for (k, x) in reader.enumerate() {
        let x = match x {
            Ok(x) => x,
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                return Err(invalid_data(
                    path,
                    format!(
                        "truncated data: expected {} bytes; the data ends inside element {} of {n}",
                        n * size,
                        k + 1
                    ),
                ));
            }
            Err(e) if e.kind() == io::ErrorKind::InvalidData => {
                return Err(invalid_data(path, format!("element {}: {e}", k + 1)));
            }
            Err(source) => {
                return Err(RbmError::Io {
                    path: path.to_owned(),
                    source,
                });
            }
        };
        // The C-order position of the k-th stored element.
        let i = if fortran {
            (k % rows) * cols + k / rows
        } else {
            k
        };
        values.push(array::checked(x, i, cols, path)?);
    }
    let values = crate::npy::to_c_order(values, &[rows, cols], fortran);
    Ok((values, T::TYPE))
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
    let member_path = PathBuf::from(format!("{}:{name}", path.display()));
    let entry = zip
        .by_name(&npyz::npz::file_name_from_array_name(&name))
        .map_err(|e| invalid_data(&member_path, format!("cannot read the array: {e}")))?;
    read(io::BufReader::new(entry), &member_path, opts)
}
