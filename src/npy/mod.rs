//! Writing NumPy `.npy` files of `f32`/`f64` arrays in C order, and
//! reading floating-point ones back.
//!
//! The [format] is a 10-byte preamble — the magic string `\x93NUMPY`, the
//! format version (1, 0) and a little-endian `u16` header length — then an
//! ASCII header holding a Python dict literal, padded with spaces and ended
//! by `\n` so that the data starts at a multiple of 64 bytes, then the raw
//! little-endian data in C (row-major) order.
//!
//! The writer reproduces `numpy.save` **byte for byte** for C-order `<f4`
//! and `<f8` arrays: same key order, same tuple formatting, the same 21
//! characters of spare room that numpy leaves after the first dimension (so
//! that a header can be grown in place), and version 2.0 only when a header
//! does not fit in 65,535 bytes.
//!
//! Writing is streaming: [`NpyWriter`] takes the shape up front and then
//! accepts the elements in chunks of any size, so an array need never be
//! held in memory. Give it a buffered writer (`std::io::BufWriter`) if the
//! chunks are small.
//!
//! Reading ([`read`], [`read_file`]) goes through the [`npyz`] crate, which
//! interprets the header (any byte order, C or Fortran order); the header's
//! framing and shape are checked here first (see [`NpyError`]). Data sets
//! of every element type are read by [`crate::data`].
//!
//! ```
//! use nrelu_rbm::npy::{self, NpyWriter};
//! // A 2 x 3 array, written one row at a time.
//! let mut w = NpyWriter::<_, f32>::new(Vec::new(), &[2, 3])?;
//! w.write(&[1.0, 2.0, 3.0])?;
//! w.write(&[4.0, 5.0, 6.0])?;
//! let bytes = w.finish()?;
//! assert_eq!(&bytes[..8], b"\x93NUMPY\x01\x00");
//! assert_eq!(bytes.len(), 128 + 6 * 4); // 128-byte preamble + header
//!
//! let a = npy::read(&bytes[..])?;
//! assert_eq!(a.shape, [2, 3]);
//! assert_eq!(a.as_f32(), Some(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0][..]));
//! # Ok::<(), nrelu_rbm::npy::NpyError>(())
//! ```
//!
//! [format]: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
//!
//! The parts: [`Element`] (the element types), the writer ([`header`],
//! [`NpyWriter`]), the header checks in front of npyz, and the reader
//! ([`read`], [`NpyArray`]).

use std::io;

mod element;
mod framing;
mod reader;
#[cfg(test)]
mod test_support;
mod writer;

pub use element::Element;
pub(crate) use framing::{dtype_name, open};
pub(crate) use reader::to_c_order;
pub use reader::{NpyArray, NpyData, read, read_file};
pub use writer::{NpyWriter, header, write_array, write_f32_1d};

/// The magic string that starts every `.npy` file.
pub const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// The data offset (preamble plus header) is a multiple of this many bytes.
pub const ALIGN: usize = 64;

/// What can go wrong reading or writing a `.npy` file.
#[derive(Debug, thiserror::Error)]
pub enum NpyError {
    /// The underlying reader or writer failed.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The product of the dimensions, or the byte size, overflows `usize`.
    #[error("array shape {0:?} is too large")]
    ShapeTooLarge(Vec<usize>),
    /// The header would exceed the 4 GiB limit of format version 2.0.
    #[error("array header of {0} bytes is too long")]
    HeaderTooLong(usize),
    /// A chunk would take the writer past the number of elements the shape
    /// holds (nothing from that chunk was written).
    #[error("too many elements: the shape holds {expected}, got {got}")]
    TooManyElements {
        /// Elements in the shape.
        expected: usize,
        /// Elements written before the chunk plus the chunk's length.
        got: usize,
    },
    /// [`NpyWriter::finish`] was called before the array was complete.
    #[error("incomplete array: the shape holds {expected} elements, {written} were written")]
    Incomplete {
        /// Elements in the shape.
        expected: usize,
        /// Elements written.
        written: usize,
    },
    /// The input does not start with [`MAGIC`].
    #[error("not a .npy file (bad magic string)")]
    BadMagic,
    /// A format version other than 1.0, 2.0 or 3.0.
    #[error("unsupported .npy format version {0}.{1}")]
    UnsupportedVersion(u8, u8),
    /// The header is not a dict with the keys `descr`, `fortran_order`
    /// and `shape` that numpy writes.
    #[error("malformed .npy header: {0}")]
    BadHeader(String),
    /// An element type the reader does not take: [`read`] takes `float32`
    /// and `float64`; data sets also take `bool` and every integer type.
    #[error("unsupported dtype '{0}'")]
    UnsupportedDtype(String),
    /// The data ends before the shape is filled.
    #[error("truncated data: expected {expected} bytes, found {found}")]
    Truncated {
        /// Data bytes the header promises.
        expected: usize,
        /// Data bytes present.
        found: usize,
    },
    /// A file has bytes after the array's data.
    #[error("unexpected data after the array")]
    TrailingData,
}

/// The number of elements in `shape` (1 for the 0-d shape `[]`).
fn element_count(shape: &[usize]) -> Result<usize, NpyError> {
    shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .ok_or_else(|| NpyError::ShapeTooLarge(shape.to_vec()))
}
