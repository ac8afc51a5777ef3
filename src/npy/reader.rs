//! The `.npy` reader of floating-point arrays ([`read`], [`read_file`]):
//! the header goes through [`super::framing`], the data comes back in C
//! order ([`NpyArray`]).

use super::framing::{dtype_name, one_line, open};
use super::{NpyError, element_count};
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

/// The data of an array read by [`read`].
#[derive(Clone, Debug, PartialEq)]
pub enum NpyData {
    /// `float32` elements.
    F32(Vec<f32>),
    /// `float64` elements.
    F64(Vec<f64>),
}

/// A floating-point array read by [`read`].
#[derive(Clone, Debug, PartialEq)]
pub struct NpyArray {
    /// The dimensions (empty for a 0-d array).
    pub shape: Vec<usize>,
    /// The elements in C (row-major) order, whatever the file's order.
    pub data: NpyData,
}

impl NpyArray {
    /// The number of elements.
    pub fn len(&self) -> usize {
        match &self.data {
            NpyData::F32(v) => v.len(),
            NpyData::F64(v) => v.len(),
        }
    }

    /// Whether the array has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The elements if they are `f32`.
    pub fn as_f32(&self) -> Option<&[f32]> {
        match &self.data {
            NpyData::F32(v) => Some(v),
            NpyData::F64(_) => None,
        }
    }

    /// The elements if they are `f64`.
    pub fn as_f64(&self) -> Option<&[f64]> {
        match &self.data {
            NpyData::F64(v) => Some(v),
            NpyData::F32(_) => None,
        }
    }
}

/// Reads one `float32` or `float64` array (either byte order, C or Fortran
/// order) from `r`, stopping right after its data; the elements come back in
/// C order. For data sets of any element type, see
/// [`Dataset::load`](crate::data::Dataset::load).
///
/// # Errors
/// Those of the header checks (see [`NpyError`]),
/// [`NpyError::UnsupportedDtype`] for another element type, and
/// [`NpyError::Truncated`] if the data is shorter than the shape says.
pub fn read<R: Read>(r: R) -> Result<NpyArray, NpyError> {
    let file = open(r)?;
    let shape: Vec<usize> = file
        .shape()
        .iter()
        .map(|&d| usize::try_from(d))
        .collect::<Result<_, _>>()
        .map_err(|_| NpyError::ShapeTooLarge(vec![usize::MAX]))?;
    let n = element_count(&shape)?;
    let fortran = file.order() == npyz::Order::Fortran;
    let descr = dtype_name(&file.dtype());
    let data = match &file.dtype() {
        npyz::DType::Plain(t) if t.type_char() == npyz::TypeChar::Float && t.size_field() == 4 => {
            NpyData::F32(to_c_order(read_all::<f32, _>(file, n, 4)?, &shape, fortran))
        }
        npyz::DType::Plain(t) if t.type_char() == npyz::TypeChar::Float && t.size_field() == 8 => {
            NpyData::F64(to_c_order(read_all::<f64, _>(file, n, 8)?, &shape, fortran))
        }
        _ => return Err(NpyError::UnsupportedDtype(descr)),
    };
    Ok(NpyArray { shape, data })
}

/// Reads the `n` elements of `size` bytes of `file`; a short read is
/// [`NpyError::Truncated`].
fn read_all<T: npyz::Deserialize, R: Read>(
    file: npyz::NpyFile<R>,
    n: usize,
    size: usize,
) -> Result<Vec<T>, NpyError> {
    let header = file.header().clone();
    let expected = n.saturating_mul(size);
    // Read through `take` so that a lying header cannot make us allocate
    // more than the input actually holds.
    let mut bytes = Vec::new();
    file.into_inner()
        .take(expected as u64)
        .read_to_end(&mut bytes)?;
    if bytes.len() != expected {
        return Err(NpyError::Truncated {
            expected,
            found: bytes.len(),
        });
    }
    npyz::NpyFile::with_header(header, &bytes[..])
        .into_vec::<T>()
        .map_err(|e| NpyError::BadHeader(one_line(&e.to_string())))
}

/// Puts `data`, stored in Fortran (column-major) order if `fortran`, in C
/// (row-major) order.
pub(crate) fn to_c_order<T: Copy>(data: Vec<T>, shape: &[usize], fortran: bool) -> Vec<T> {
    if !fortran || shape.iter().filter(|&&d| d > 1).count() < 2 {
        return data;
    }
    // C strides of each axis; walk the Fortran-order index (first axis
    // fastest) and place each element at its C offset.
    let mut c_stride = vec![1usize; shape.len()];
    for k in (0..shape.len().saturating_sub(1)).rev() {
        c_stride[k] = c_stride[k + 1] * shape[k + 1];
    }
    let mut out = data.clone();
    let mut index = vec![0usize; shape.len()];
    let mut offset = 0usize;
    for &x in &data {
        out[offset] = x;
        for k in 0..shape.len() {
            index[k] += 1;
            offset += c_stride[k];
            if index[k] < shape[k] {
                break;
            }
            offset -= c_stride[k] * shape[k];
            index[k] = 0;
        }
    }
    out
}

/// Reads the `.npy` file at `path`, which must hold exactly one array; see
/// [`read`].
///
/// # Errors
/// Those of [`read`], and [`NpyError::TrailingData`] if the file continues
/// after the array.
pub fn read_file(path: impl AsRef<Path>) -> Result<NpyArray, NpyError> {
    let mut r = BufReader::new(File::open(path)?);
    let array = read(&mut r)?;
    let mut probe = [0u8; 1];
    if r.read(&mut probe)? != 0 {
        return Err(NpyError::TrailingData);
    }
    Ok(array)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::npy::test_support::file_with;
    use crate::npy::{write_array, write_f32_1d};

    #[test]
    fn round_trips_f32_and_f64() {
        let a: Vec<f32> = (0..300).map(|i| (i as f32).sin()).collect();
        let bytes = write_array(Vec::new(), &[20, 15], &a).unwrap();
        let back = read(&bytes[..]).unwrap();
        assert_eq!(back.shape, [20, 15]);
        assert_eq!(back.as_f32(), Some(&a[..]));
        assert_eq!(back.as_f64(), None);

        let b: Vec<f64> = (0..7).map(|i| 1.0 / (i as f64 + 1.0)).collect();
        let bytes = write_array(Vec::new(), &[7], &b).unwrap();
        let back = read(&bytes[..]).unwrap();
        assert_eq!(back.shape, [7]);
        assert_eq!(back.as_f64(), Some(&b[..]));

        let empty = read(&write_f32_1d(Vec::new(), &[]).unwrap()[..]).unwrap();
        assert_eq!(empty.shape, [0]);
        assert!(empty.is_empty());
    }

    #[test]
    fn round_trips_through_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.npy");
        let f = std::io::BufWriter::new(File::create(&path).unwrap());
        write_f32_1d(f, &[1.0, 2.0, 3.0]).unwrap();
        let a = read_file(&path).unwrap();
        assert_eq!(a.as_f32(), Some(&[1.0, 2.0, 3.0][..]));

        let mut bytes = std::fs::read(&path).unwrap();
        bytes.push(0);
        std::fs::write(&path, &bytes).unwrap();
        assert!(matches!(read_file(&path), Err(NpyError::TrailingData)));
    }

    #[test]
    fn reads_big_endian_and_fortran_order() {
        // [[1, 2, 3], [4, 5, 6]] stored big-endian, column by column.
        let data: Vec<u8> = [1.0f32, 4.0, 2.0, 5.0, 3.0, 6.0]
            .iter()
            .flat_map(|v| v.to_be_bytes())
            .collect();
        let bytes = file_with(
            "{'descr': '>f4', 'fortran_order': True, 'shape': (2, 3), }",
            &data,
        );
        let a = read(&bytes[..]).unwrap();
        assert_eq!(a.shape, [2, 3]);
        assert_eq!(a.as_f32(), Some(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0][..]));
    }

    #[test]
    fn fortran_to_c_order_in_three_dimensions() {
        // Element (i, j, k) of a 2 x 3 x 4 array holds 100 i + 10 j + k.
        let shape = [2usize, 3, 4];
        let mut fortran = Vec::new();
        for k in 0..4 {
            for j in 0..3 {
                for i in 0..2 {
                    fortran.push(100 * i + 10 * j + k);
                }
            }
        }
        let c = to_c_order(fortran, &shape, true);
        let want: Vec<usize> = (0..2)
            .flat_map(|i| (0..3).flat_map(move |j| (0..4).map(move |k| 100 * i + 10 * j + k)))
            .collect();
        assert_eq!(c, want);
    }
}
