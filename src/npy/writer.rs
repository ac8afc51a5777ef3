//! The `.npy` writer: the header exactly as `numpy.save` writes it
//! ([`header`]), and the streaming [`NpyWriter`] behind it.

use super::{ALIGN, Element, MAGIC, NpyError, element_count};
use std::io::Write;
use std::marker::PhantomData;

/// Characters numpy reserves for the first dimension in the header
/// (`numpy.lib.format.GROWTH_AXIS_MAX_DIGITS`), so that the header can be
/// rewritten in place when the array grows along that axis.
const GROWTH_AXIS_MAX_DIGITS: usize = 21;

/// Elements converted to bytes per `write_all` call: bounds the writer's
/// scratch buffer to 64 KiB of `f64`.
const SCRATCH_ELEMS: usize = 8192;

/// Python's `repr` of a tuple of integers: `()`, `(3,)`, `(2, 3)`.
fn shape_repr(shape: &[usize]) -> String {
    match shape {
        [] => "()".to_owned(),
        [n] => format!("({n},)"),
        _ => {
            let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
            format!("({})", dims.join(", "))
        }
    }
}

/// The preamble and header of a C-order array of `T` with `shape`: exactly
/// the bytes `numpy.save` writes before the data. Its length is a multiple
/// of [`ALIGN`].
///
/// ```
/// use nrelu_rbm::npy::header;
/// let h = header::<f32>(&[3])?;
/// assert_eq!(h.len(), 128);
/// assert_eq!(&h[..10], b"\x93NUMPY\x01\x00\x76\x00"); // v1.0, 118-byte header
/// assert!(h[10..].starts_with(b"{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }"));
/// assert!(h.ends_with(b" \n"));
/// # Ok::<(), nrelu_rbm::npy::NpyError>(())
/// ```
pub fn header<T: Element>(shape: &[usize]) -> Result<Vec<u8>, NpyError> {
    // Validate the shape, and its byte size, before writing anything.
    element_count(shape)?
        .checked_mul(T::SIZE)
        .ok_or_else(|| NpyError::ShapeTooLarge(shape.to_vec()))?;
    let shape_text = shape_repr(shape);
    let mut dict = format!(
        "{{'descr': '{}', 'fortran_order': False, 'shape': {shape_text}, }}",
        T::DESCR
    );
    if let Some(first) = shape.first() {
        let digits = first.to_string().len();
        dict.extend(std::iter::repeat_n(
            ' ',
            GROWTH_AXIS_MAX_DIGITS.saturating_sub(digits),
        ));
    }
    // numpy's `_wrap_header`: pad with 1..=64 spaces, then '\n', so that
    // magic + version + length field + header is a multiple of ALIGN; use
    // version 1.0 (u16 length) when the header fits, else 2.0 (u32).
    let hlen = dict.len() + 1;
    for (version, len_bytes) in [(1u8, 2usize), (2, 4)] {
        let prefix = MAGIC.len() + 2 + len_bytes;
        let padlen = ALIGN - (prefix + hlen) % ALIGN;
        let total = hlen + padlen;
        let len_field: Vec<u8> = match version {
            1 => match u16::try_from(total) {
                Ok(t) => t.to_le_bytes().to_vec(),
                Err(_) => continue,
            },
            _ => match u32::try_from(total) {
                Ok(t) => t.to_le_bytes().to_vec(),
                Err(_) => break,
            },
        };
        let mut out = Vec::with_capacity(prefix + total);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&[version, 0]);
        out.extend_from_slice(&len_field);
        out.extend_from_slice(dict.as_bytes());
        out.resize(prefix + total - 1, b' ');
        out.push(b'\n');
        return Ok(out);
    }
    Err(NpyError::HeaderTooLong(hlen))
}

/// A streaming `.npy` writer: the header is written by [`NpyWriter::new`],
/// elements are appended in C order by [`NpyWriter::write`] in chunks of
/// any size, and [`NpyWriter::finish`] checks that the shape was filled.
///
/// ```
/// use nrelu_rbm::npy::NpyWriter;
/// let mut w = NpyWriter::<_, f32>::new(Vec::new(), &[1000])?;
/// for chunk in (0..1000).map(|i| i as f32).collect::<Vec<_>>().chunks(64) {
///     w.write(chunk)?;
/// }
/// let bytes = w.finish()?;
/// assert_eq!(bytes.len(), 128 + 4000);
/// assert_eq!(&bytes[128 + 4..128 + 8], &1.0f32.to_le_bytes());
/// # Ok::<(), nrelu_rbm::npy::NpyError>(())
/// ```
#[derive(Debug)]
pub struct NpyWriter<W: Write, T: Element = f32> {
    inner: W,
    expected: usize,
    written: usize,
    scratch: Vec<u8>,
    element: PhantomData<T>,
}

impl<W: Write, T: Element> NpyWriter<W, T> {
    /// Writes the header of a C-order array of `T` with `shape` to `inner`.
    ///
    /// # Errors
    /// [`NpyError::ShapeTooLarge`] or [`NpyError::HeaderTooLong`] for an
    /// impossible shape (nothing is written), [`NpyError::Io`] if `inner`
    /// fails.
    pub fn new(mut inner: W, shape: &[usize]) -> Result<Self, NpyError> {
        let head = header::<T>(shape)?;
        inner.write_all(&head)?;
        Ok(NpyWriter {
            inner,
            expected: element_count(shape)?,
            written: 0,
            scratch: Vec::new(),
            element: PhantomData,
        })
    }

    /// Appends `chunk` (the next elements in C order).
    ///
    /// # Errors
    /// [`NpyError::TooManyElements`] if the chunk does not fit in what is
    /// left of the shape (nothing is written), [`NpyError::Io`] if the
    /// underlying writer fails.
    pub fn write(&mut self, chunk: &[T]) -> Result<(), NpyError> {
        let got = self.written.saturating_add(chunk.len());
        if got > self.expected {
            return Err(NpyError::TooManyElements {
                expected: self.expected,
                got,
            });
        }
        for part in chunk.chunks(SCRATCH_ELEMS) {
            self.scratch.clear();
            T::extend_le(part, &mut self.scratch);
            self.inner.write_all(&self.scratch)?;
            self.written += part.len();
        }
        Ok(())
    }

    /// Elements still to be written.
    pub fn remaining(&self) -> usize {
        self.expected - self.written
    }

    /// Checks that the array is complete, flushes, and returns the
    /// underlying writer.
    ///
    /// # Errors
    /// [`NpyError::Incomplete`] if elements are missing, [`NpyError::Io`] if
    /// the flush fails.
    pub fn finish(mut self) -> Result<W, NpyError> {
        if self.written != self.expected {
            return Err(NpyError::Incomplete {
                expected: self.expected,
                written: self.written,
            });
        }
        self.inner.flush()?;
        Ok(self.inner)
    }
}

/// Writes `data` as a 1-D `<f4` array and returns the (flushed) writer.
///
/// ```
/// let bytes = nrelu_rbm::npy::write_f32_1d(Vec::new(), &[0.5, -2.0])?;
/// assert_eq!(bytes.len(), 128 + 8);
/// assert_eq!(&bytes[128..132], &0.5f32.to_le_bytes());
/// # Ok::<(), nrelu_rbm::npy::NpyError>(())
/// ```
///
/// # Errors
/// [`NpyError::Io`] if `w` fails.
pub fn write_f32_1d<W: Write>(w: W, data: &[f32]) -> Result<W, NpyError> {
    write_array(w, &[data.len()], data)
}

/// Writes `data` as a C-order array of `shape` and returns the (flushed)
/// writer.
///
/// # Errors
/// [`NpyError::TooManyElements`] or [`NpyError::Incomplete`] if
/// `data.len()` is not the product of `shape`, [`NpyError::Io`] if `w`
/// fails.
pub fn write_array<W: Write, T: Element>(w: W, shape: &[usize], data: &[T]) -> Result<W, NpyError> {
    let expected = element_count(shape)?;
    if data.len() > expected {
        return Err(NpyError::TooManyElements {
            expected,
            got: data.len(),
        });
    }
    let mut writer = NpyWriter::<W, T>::new(w, shape)?;
    writer.write(data)?;
    writer.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::npy::read;
    use crate::npy::test_support::numpy_header;

    #[test]
    fn header_matches_numpy_save_byte_for_byte() {
        // Vectors from numpy 2.4.6: np.save(f, np.zeros(shape, dtype)).
        let ones13 = "1, ".repeat(13);
        let edge_small =
            format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({ones13}10), }}");
        let edge_big =
            format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({ones13}100), }}");
        let mut shape_small = vec![1usize; 13];
        shape_small.push(10);
        let mut shape_big = vec![1usize; 13];
        shape_big.push(100);
        let cases: Vec<(Vec<usize>, &str, Option<usize>, usize)> = vec![
            (
                vec![3],
                "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }",
                Some(1),
                128,
            ),
            (
                vec![0],
                "{'descr': '<f4', 'fortran_order': False, 'shape': (0,), }",
                Some(1),
                128,
            ),
            (
                vec![10_000_000],
                "{'descr': '<f4', 'fortran_order': False, 'shape': (10000000,), }",
                Some(8),
                128,
            ),
            (
                vec![2, 3],
                "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
                Some(1),
                128,
            ),
            (
                vec![],
                "{'descr': '<f4', 'fortran_order': False, 'shape': (), }",
                None,
                128,
            ),
            // numpy pads with 1..=64 spaces, never 0: exactly 1 space here...
            (shape_small, &edge_small, Some(1), 128),
            // ...and a whole extra 64 bytes where 0 would have fitted.
            (shape_big, &edge_big, Some(1), 192),
        ];
        for (shape, dict, digits, total) in cases {
            let h = header::<f32>(&shape).unwrap();
            assert_eq!(h, numpy_header(dict, digits, total), "{shape:?}");
        }
        let h = header::<f64>(&[7, 5]).unwrap();
        let want = "{'descr': '<f8', 'fortran_order': False, 'shape': (7, 5), }";
        assert_eq!(h, numpy_header(want, Some(1), 128));
    }

    #[test]
    fn header_layout_invariants() {
        let shapes: [&[usize]; 7] = [
            &[],
            &[0],
            &[1],
            &[65_536],
            &[usize::MAX / 4],
            &[3, 4],
            &[1; 40],
        ];
        for shape in shapes {
            let h = header::<f32>(shape).unwrap();
            assert_eq!(&h[..6], MAGIC);
            assert_eq!(&h[6..8], &[1, 0], "version 1.0");
            let hlen = usize::from(u16::from_le_bytes([h[8], h[9]]));
            assert_eq!(h.len(), 10 + hlen);
            assert_eq!(h.len() % ALIGN, 0, "{shape:?}");
            assert_eq!(h.last(), Some(&b'\n'));
            let text = std::str::from_utf8(&h[10..]).unwrap();
            assert!(text.is_ascii());
            assert_eq!(text.matches('\n').count(), 1);
            assert!(text.trim_end().ends_with('}'));
            // numpy pads with at least one space before the newline.
            assert!(text.ends_with(" \n"));
        }
    }

    #[test]
    fn header_too_long_for_v1_uses_v2() {
        // 30,000 dims of 1 make a ~90 KB dict, beyond the u16 length of
        // version 1.0: numpy switches to version 2.0, and so do we.
        let shape = vec![1usize; 30_000];
        let h = header::<f32>(&shape).unwrap();
        assert_eq!(&h[6..8], &[2, 0]);
        let hlen = u32::from_le_bytes([h[8], h[9], h[10], h[11]]) as usize;
        assert_eq!(h.len(), 12 + hlen);
        assert_eq!(h.len() % ALIGN, 0);
        let a = read(&[h.as_slice(), &1f32.to_le_bytes()].concat()[..]).unwrap();
        assert_eq!(a.shape.len(), 30_000);
        assert_eq!(a.as_f32(), Some(&[1.0][..]));
    }

    #[test]
    fn data_is_little_endian_after_the_header() {
        let data = [1.0f32, -0.0, f32::MIN_POSITIVE, f32::NAN, f32::INFINITY];
        let bytes = write_f32_1d(Vec::new(), &data).unwrap();
        assert_eq!(bytes.len(), 128 + 20);
        assert_eq!(&bytes[128..132], &[0x00, 0x00, 0x80, 0x3f]); // 1.0
        assert_eq!(&bytes[132..136], &[0x00, 0x00, 0x00, 0x80]); // -0.0
        for (i, v) in data.iter().enumerate() {
            let at = 128 + 4 * i;
            assert_eq!(&bytes[at..at + 4], &v.to_le_bytes());
        }
    }

    #[test]
    fn chunked_writes_equal_one_write() {
        let data: Vec<f32> = (0..50_000).map(|i| i as f32 * 0.25).collect();
        let whole = write_f32_1d(Vec::new(), &data).unwrap();
        let mut w = NpyWriter::<_, f32>::new(Vec::new(), &[data.len()]).unwrap();
        for chunk in data.chunks(777) {
            w.write(chunk).unwrap();
        }
        w.write(&[]).unwrap();
        assert_eq!(w.remaining(), 0);
        assert_eq!(w.finish().unwrap(), whole);
    }

    #[test]
    fn writer_enforces_the_shape() {
        let mut w = NpyWriter::<_, f32>::new(Vec::new(), &[2, 2]).unwrap();
        w.write(&[1.0, 2.0, 3.0]).unwrap();
        assert!(matches!(
            w.write(&[4.0, 5.0]),
            Err(NpyError::TooManyElements {
                expected: 4,
                got: 5
            })
        ));
        assert_eq!(w.remaining(), 1);
        assert!(matches!(
            w.finish(),
            Err(NpyError::Incomplete {
                expected: 4,
                written: 3
            })
        ));
        assert!(matches!(
            write_array(Vec::new(), &[3], &[1.0f32; 4]),
            Err(NpyError::TooManyElements { .. })
        ));
        assert!(matches!(
            header::<f64>(&[usize::MAX, 2]),
            Err(NpyError::ShapeTooLarge(_))
        ));
        assert!(matches!(
            header::<f64>(&[usize::MAX / 4]),
            Err(NpyError::ShapeTooLarge(_))
        ));
    }
}
