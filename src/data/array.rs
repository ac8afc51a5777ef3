//! Arrays (`.npy`, `.npz`, IDX) as tables: the shape as rows × columns,
//! and each element as a finite `f32`.

use super::{ElementType, invalid_data};
use crate::error::{RbmError, Result};
use std::io::Read;
use std::path::Path;

/// Elements decoded per read: bounds the byte buffer to 64 KiB of
/// `float64`.
const CHUNK: usize = 8192;

/// Rows and columns of an array of `shape`. A 2-D array is rows ×
/// columns; with `flatten` (IDX image files), an array of more dimensions
/// is rows × the product of the others (each 28 × 28 image becomes a row of
/// 784 pixels) and a 1-D array is one column.
///
/// # Errors
/// [`crate::RbmError::InvalidData`] for another number of dimensions, an
/// empty array, or a size that does not fit in memory.
pub(crate) fn rows_cols(shape: &[u64], flatten: bool, path: &Path) -> Result<(usize, usize)> {
    let bad = |reason: String| invalid_data(path, reason);
    let too_large = || bad(format!("the array of shape {shape:?} is too large"));
    let (r, c) = match shape {
        [r, c] => (*r, *c),
        [n] if flatten => (*n, 1),
        [r, rest @ ..] if flatten && !rest.is_empty() => {
            let c = rest
                .iter()
                .try_fold(1u64, |a, &d| a.checked_mul(d))
                .ok_or_else(too_large)?;
            (*r, c)
        }
        [n] => {
            return Err(bad(format!(
                "a 1-D array of shape ({n},): expected a 2-D array (rows × columns); \
                 reshape it to ({n}, 1) or (1, {n})"
            )));
        }
        _ => {
            return Err(bad(format!(
                "a {}-D array of shape {shape:?}: expected a 2-D array (rows × columns)",
                shape.len(),
            )));
        }
    };
    if r == 0 || c == 0 {
        return Err(if shape.len() == 2 {
            bad(format!("the array of shape ({r}, {c}) is empty"))
        } else {
            bad(format!("the array of shape {shape:?} is empty"))
        });
    }
    let rows = usize::try_from(r).map_err(|_| too_large())?;
    let cols = usize::try_from(c).map_err(|_| too_large())?;
    // The f32 buffer's byte size must fit too.
    rows.checked_mul(cols)
        .and_then(|n| n.checked_mul(4))
        .ok_or_else(too_large)?;
    Ok((rows, cols))
}

/// An element type read from an array file, and its conversion to `f32`.
pub(crate) trait Element: Copy {
    /// The type's [`ElementType`].
    const TYPE: ElementType;
    /// The value as `f32`, or why it cannot be one: NaN, infinite, or a
    /// `float64` beyond the `f32` range. Integers are rounded to the nearest
    /// `f32` (exact up to 2^24 in magnitude).
    fn to_f32(self) -> std::result::Result<f32, String>;
}

macro_rules! integer_element {
    ($($t:ty => $e:ident),*) => {$(
        impl Element for $t {
            const TYPE: ElementType = ElementType::$e;
            #[inline]
            fn to_f32(self) -> std::result::Result<f32, String> {
                Ok(self as f32)
            }
        }
    )*};
}

integer_element!(u8 => U8, u16 => U16, u32 => U32, u64 => U64, i8 => I8, i16 => I16, i32 => I32, i64 => I64);

/// A `bool` as stored: one byte, which must be 0 or 1.
#[derive(Clone, Copy)]
pub(crate) struct StoredBool(pub(crate) u8);

impl StoredBool {
    pub(crate) fn from_bytes(b: [u8; 1]) -> StoredBool {
        StoredBool(b[0])
    }
}

impl Element for StoredBool {
    const TYPE: ElementType = ElementType::Bool;
    #[inline]
    fn to_f32(self) -> std::result::Result<f32, String> {
        match self.0 {
            0 | 1 => Ok(f32::from(self.0)),
            b => Err(format!("{b} is not a bool (0 or 1)")),
        }
    }
}

impl Element for f32 {
    const TYPE: ElementType = ElementType::F32;
    #[inline]
    fn to_f32(self) -> std::result::Result<f32, String> {
        if self.is_finite() {
            Ok(self)
        } else {
            Err(format!("{self} is not finite"))
        }
    }
}

impl Element for f64 {
    const TYPE: ElementType = ElementType::F64;
    #[inline]
    fn to_f32(self) -> std::result::Result<f32, String> {
        let y = self as f32;
        if y.is_finite() {
            Ok(y)
        } else if self.is_finite() {
            Err(format!("{self:e} is out of the f32 range"))
        } else {
            Err(format!("{self} is not finite"))
        }
    }
}

/// `x` as `f32`, or an error naming row and column of the `i`-th element
/// (C order) of a table of `cols` columns.
#[inline]
pub(crate) fn checked<T: Element>(x: T, i: usize, cols: usize, path: &Path) -> Result<f32> {
    x.to_f32().map_err(|why| {
        invalid_data(
            path,
            format!("row {}, column {}: {why}", i / cols + 1, i % cols + 1),
        )
    })
}

/// Reads `n` elements of `N` bytes from `r`, [`CHUNK`] at a time, decodes
/// each with `from_bytes` and converts it to a finite `f32`. `position`
/// maps the index of an element in the stream to its index in C order
/// (for messages); `cols` is the table's width. Returns the values and
/// `T`'s element type.
///
/// # Errors
/// [`RbmError::InvalidData`] for a value that is not a finite `f32` (its
/// row and column) or data shorter than `n` elements; [`RbmError::Io`] if
/// reading fails.
pub(crate) fn decode<T: Element, const N: usize>(
    r: &mut impl Read,
    (n, cols): (usize, usize),
    path: &Path,
    from_bytes: fn([u8; N]) -> T,
    position: impl Fn(usize) -> usize,
) -> Result<(Vec<f32>, ElementType)> {
    // Grow as the data arrives: a header cannot make us allocate more than
    // the input holds.
    let mut values = Vec::with_capacity(n.min(1 << 20));
    let mut buf = vec![0u8; CHUNK * N];
    while values.len() < n {
        let want = (n - values.len()).min(CHUNK) * N;
        let got = read_full(r, &mut buf[..want], path)?;
        for b in buf[..got - got % N].chunks_exact(N) {
            let mut a = [0u8; N];
            a.copy_from_slice(b);
            let x = from_bytes(a);
            let v = match x.to_f32() {
                Ok(v) => v,
                Err(_) => checked(x, position(values.len()), cols, path)?,
            };
            values.push(v);
        }
        if got < want {
            return Err(invalid_data(
                path,
                format!(
                    "truncated data: the header promises {} bytes, found {}",
                    n * N,
                    values.len() * N + got % N
                ),
            ));
        }
    }
    Ok((values, T::TYPE))
}

/// Reads until `buf` is full or the input ends; the bytes read.
fn read_full(r: &mut impl Read, buf: &mut [u8], path: &Path) -> Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(k) => got += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(source) => {
                return Err(RbmError::Io {
                    path: path.to_owned(),
                    source,
                });
            }
        }
    }
    Ok(got)
}
