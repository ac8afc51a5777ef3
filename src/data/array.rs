//! Arrays (`.npy`, `.npz`, IDX) as tables: the shape as rows × columns,
//! and each element as a finite `f32`.

use super::{ElementType, invalid_data};
use crate::error::Result;
use std::path::Path;

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
            fn to_f32(self) -> std::result::Result<f32, String> {
                Ok(self as f32)
            }
        }
    )*};
}

integer_element!(u8 => U8, u16 => U16, u32 => U32, u64 => U64, i8 => I8, i16 => I16, i32 => I32, i64 => I64);

impl Element for bool {
    const TYPE: ElementType = ElementType::Bool;
    fn to_f32(self) -> std::result::Result<f32, String> {
        Ok(f32::from(u8::from(self)))
    }
}

impl Element for f32 {
    const TYPE: ElementType = ElementType::F32;
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
pub(crate) fn checked<T: Element>(x: T, i: usize, cols: usize, path: &Path) -> Result<f32> {
    x.to_f32().map_err(|why| {
        invalid_data(
            path,
            format!("row {}, column {}: {why}", i / cols + 1, i % cols + 1),
        )
    })
}
