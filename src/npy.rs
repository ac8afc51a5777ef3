//! Reading and writing NumPy `.npy` files of `f32`/`f64` arrays in C order.
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

use std::fs::File;
use std::io::{self, BufReader, Read, Write};
use std::marker::PhantomData;
use std::path::Path;

/// The magic string that starts every `.npy` file.
pub const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// The data offset (preamble plus header) is a multiple of this many bytes.
pub const ALIGN: usize = 64;

/// Characters numpy reserves for the first dimension in the header
/// (`numpy.lib.format.GROWTH_AXIS_MAX_DIGITS`), so that the header can be
/// rewritten in place when the array grows along that axis.
const GROWTH_AXIS_MAX_DIGITS: usize = 21;

/// Elements converted to bytes per `write_all` call: bounds the writer's
/// scratch buffer to 64 KiB of `f64`.
const SCRATCH_ELEMS: usize = 8192;

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
    /// The header is not a dict with exactly the keys `descr`,
    /// `fortran_order` and `shape`.
    #[error("malformed .npy header: {0}")]
    BadHeader(String),
    /// An element type other than `<f4` or `<f8`.
    #[error("unsupported dtype '{0}' (only '<f4' and '<f8' are read)")]
    UnsupportedDtype(String),
    /// The array is stored in Fortran (column-major) order.
    #[error("Fortran-order arrays are not supported")]
    FortranOrder,
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

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// An element type that `.npy` files here can hold: `f32` (`<f4`) or
/// `f64` (`<f8`), always little-endian.
pub trait Element: Copy + sealed::Sealed + 'static {
    /// The numpy type string, e.g. `<f4`.
    const DESCR: &'static str;
    /// Bytes per element.
    const SIZE: usize;
    /// Appends the little-endian bytes of `values` to `out`.
    fn extend_le(values: &[Self], out: &mut Vec<u8>);
    /// Decodes one element from exactly [`Self::SIZE`] little-endian bytes.
    fn from_le(bytes: &[u8]) -> Self;
}

impl Element for f32 {
    const DESCR: &'static str = "<f4";
    const SIZE: usize = 4;
    fn extend_le(values: &[f32], out: &mut Vec<u8>) {
        out.extend(values.iter().flat_map(|v| v.to_le_bytes()));
    }
    fn from_le(bytes: &[u8]) -> f32 {
        let mut b = [0; 4];
        b.copy_from_slice(bytes);
        f32::from_le_bytes(b)
    }
}

impl Element for f64 {
    const DESCR: &'static str = "<f8";
    const SIZE: usize = 8;
    fn extend_le(values: &[f64], out: &mut Vec<u8>) {
        out.extend(values.iter().flat_map(|v| v.to_le_bytes()));
    }
    fn from_le(bytes: &[u8]) -> f64 {
        let mut b = [0; 8];
        b.copy_from_slice(bytes);
        f64::from_le_bytes(b)
    }
}

/// The number of elements in `shape` (1 for the 0-d shape `[]`).
fn element_count(shape: &[usize]) -> Result<usize, NpyError> {
    shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .ok_or_else(|| NpyError::ShapeTooLarge(shape.to_vec()))
}

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

/// The element type of an array read from a `.npy` file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dtype {
    /// Little-endian `f32` (`<f4`).
    F32,
    /// Little-endian `f64` (`<f8`).
    F64,
}

impl Dtype {
    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            Dtype::F32 => 4,
            Dtype::F64 => 8,
        }
    }
}

/// A parsed `.npy` header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// The element type.
    pub dtype: Dtype,
    /// The dimensions, in C order (empty for a 0-d array).
    pub shape: Vec<usize>,
    /// Bytes from the start of the file to the data.
    pub data_offset: usize,
}

/// The data of an array read from a `.npy` file.
#[derive(Clone, Debug, PartialEq)]
pub enum NpyData {
    /// `<f4` elements.
    F32(Vec<f32>),
    /// `<f8` elements.
    F64(Vec<f64>),
}

/// An array read from a `.npy` file.
#[derive(Clone, Debug, PartialEq)]
pub struct NpyArray {
    /// The dimensions, in C order (empty for a 0-d array).
    pub shape: Vec<usize>,
    /// The elements in C order.
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

/// Reads the preamble and header, leaving `r` at the start of the data.
///
/// Accepts format versions 1.0, 2.0 and 3.0, C order, and the dtypes
/// `<f4` and `<f8`; the header may list its keys in any order, with either
/// quote style.
///
/// # Errors
/// [`NpyError::BadMagic`], [`NpyError::UnsupportedVersion`],
/// [`NpyError::BadHeader`], [`NpyError::UnsupportedDtype`],
/// [`NpyError::FortranOrder`] for input this reader does not accept;
/// [`NpyError::Io`] if `r` fails or ends early.
pub fn read_header<R: Read>(r: &mut R) -> Result<Header, NpyError> {
    let mut pre = [0u8; 8];
    r.read_exact(&mut pre)?;
    if &pre[..6] != MAGIC {
        return Err(NpyError::BadMagic);
    }
    let (major, minor) = (pre[6], pre[7]);
    let (hlen, prefix) = match (major, minor) {
        (1, 0) => {
            let mut b = [0u8; 2];
            r.read_exact(&mut b)?;
            (usize::from(u16::from_le_bytes(b)), 10)
        }
        (2, 0) | (3, 0) => {
            let mut b = [0u8; 4];
            r.read_exact(&mut b)?;
            let len = usize::try_from(u32::from_le_bytes(b))
                .map_err(|_| NpyError::BadHeader("header length does not fit in memory".into()))?;
            (len, 12)
        }
        _ => return Err(NpyError::UnsupportedVersion(major, minor)),
    };
    let mut text = Vec::new();
    r.take(hlen as u64).read_to_end(&mut text)?;
    if text.len() != hlen {
        return Err(io::Error::from(io::ErrorKind::UnexpectedEof).into());
    }
    let text = std::str::from_utf8(&text)
        .map_err(|_| NpyError::BadHeader("header is not valid text".into()))?;
    let (descr, fortran, shape) = parse_dict(text)?;
    if fortran {
        return Err(NpyError::FortranOrder);
    }
    let dtype = match descr.as_str() {
        "<f4" => Dtype::F32,
        "<f8" => Dtype::F64,
        _ => return Err(NpyError::UnsupportedDtype(descr)),
    };
    element_count(&shape)?
        .checked_mul(dtype.size())
        .ok_or_else(|| NpyError::ShapeTooLarge(shape.clone()))?;
    Ok(Header {
        dtype,
        shape,
        data_offset: prefix + hlen,
    })
}

/// Reads one array from `r`, stopping right after its data.
///
/// # Errors
/// Those of [`read_header`], and [`NpyError::Truncated`] if the data is
/// shorter than the shape says.
pub fn read<R: Read>(mut r: R) -> Result<NpyArray, NpyError> {
    let header = read_header(&mut r)?;
    let size = header.dtype.size();
    // read_header checked that this product does not overflow.
    let expected = element_count(&header.shape)? * size;
    // Read through `take` so that a lying header cannot make us allocate
    // more than the input actually holds.
    let mut bytes = Vec::new();
    r.take(expected as u64).read_to_end(&mut bytes)?;
    if bytes.len() != expected {
        return Err(NpyError::Truncated {
            expected,
            found: bytes.len(),
        });
    }
    let data = match header.dtype {
        Dtype::F32 => NpyData::F32(bytes.chunks_exact(size).map(f32::from_le).collect()),
        Dtype::F64 => NpyData::F64(bytes.chunks_exact(size).map(f64::from_le).collect()),
    };
    Ok(NpyArray {
        shape: header.shape,
        data,
    })
}

/// Reads the `.npy` file at `path`, which must hold exactly one array.
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

/// A value in the header dict.
enum Value {
    Str(String),
    Bool(bool),
    Tuple(Vec<usize>),
}

/// A minimal parser for the Python literal numpy writes as the header:
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }` plus
/// trailing spaces and newline.
struct DictParser<'a> {
    rest: &'a str,
}

impl DictParser<'_> {
    fn bad(&self, what: &str) -> NpyError {
        NpyError::BadHeader(what.to_owned())
    }

    fn skip_ws(&mut self) {
        self.rest = self.rest.trim_start_matches([' ', '\t', '\n', '\r']);
    }

    fn eat(&mut self, c: char) -> bool {
        self.skip_ws();
        match self.rest.strip_prefix(c) {
            Some(rest) => {
                self.rest = rest;
                true
            }
            None => false,
        }
    }

    fn string(&mut self) -> Result<String, NpyError> {
        self.skip_ws();
        let quote = match self.rest.chars().next() {
            Some(q @ ('\'' | '"')) => q,
            _ => return Err(self.bad("expected a quoted string")),
        };
        let body = &self.rest[1..];
        let end = body
            .find(quote)
            .ok_or_else(|| self.bad("unterminated string"))?;
        let s = &body[..end];
        if s.contains('\\') {
            return Err(self.bad("escapes in strings are not supported"));
        }
        self.rest = &body[end + 1..];
        Ok(s.to_owned())
    }

    fn integer(&mut self) -> Result<usize, NpyError> {
        self.skip_ws();
        let end = self
            .rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(self.rest.len());
        let digits = &self.rest[..end];
        let n = digits
            .parse()
            .map_err(|_| self.bad("shape entries must be non-negative integers"))?;
        self.rest = &self.rest[end..];
        Ok(n)
    }

    fn tuple(&mut self) -> Result<Vec<usize>, NpyError> {
        // '(' already eaten. Python needs a trailing comma in a 1-tuple.
        let mut dims = Vec::new();
        let mut trailing_comma = false;
        while !self.eat(')') {
            dims.push(self.integer()?);
            trailing_comma = self.eat(',');
            if !trailing_comma {
                if !self.eat(')') {
                    return Err(self.bad("expected ',' or ')' in shape"));
                }
                break;
            }
        }
        if dims.len() == 1 && !trailing_comma {
            return Err(self.bad("shape is not a tuple"));
        }
        Ok(dims)
    }

    fn value(&mut self) -> Result<Value, NpyError> {
        self.skip_ws();
        for (word, b) in [("True", true), ("False", false)] {
            if let Some(rest) = self.rest.strip_prefix(word) {
                self.rest = rest;
                return Ok(Value::Bool(b));
            }
        }
        if self.eat('(') {
            return self.tuple().map(Value::Tuple);
        }
        self.string().map(Value::Str)
    }
}

/// Parses the header dict into (descr, fortran_order, shape).
fn parse_dict(text: &str) -> Result<(String, bool, Vec<usize>), NpyError> {
    let mut p = DictParser { rest: text };
    if !p.eat('{') {
        return Err(p.bad("header is not a dict"));
    }
    let (mut descr, mut fortran, mut shape) = (None, None, None);
    while !p.eat('}') {
        let key = p.string()?;
        if !p.eat(':') {
            return Err(p.bad("expected ':' after a key"));
        }
        match (key.as_str(), p.value()?) {
            ("descr", Value::Str(s)) => descr = Some(s),
            ("fortran_order", Value::Bool(b)) => fortran = Some(b),
            ("shape", Value::Tuple(t)) => shape = Some(t),
            ("descr" | "fortran_order" | "shape", _) => {
                return Err(p.bad(&format!("wrong type for '{key}'")));
            }
            _ => return Err(p.bad(&format!("unexpected key '{key}'"))),
        }
        if !p.eat(',') {
            if !p.eat('}') {
                return Err(p.bad("expected ',' or '}'"));
            }
            break;
        }
    }
    p.skip_ws();
    if !p.rest.is_empty() {
        return Err(p.bad("unexpected text after the dict"));
    }
    match (descr, fortran, shape) {
        (Some(d), Some(f), Some(s)) => Ok((d, f, s)),
        _ => Err(p.bad("missing one of 'descr', 'fortran_order', 'shape'")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The full header (preamble included) that `numpy.save` writes: the
    /// dict, `21 - len(str(shape[0]))` spaces of growth room, then spaces
    /// up to `total - 1` bytes and '\n'. `total` is taken from numpy's
    /// output, not computed, so the padding rule is tested independently.
    fn numpy_header(dict: &str, first_dim_digits: Option<usize>, total: usize) -> Vec<u8> {
        let mut out = b"\x93NUMPY\x01\x00".to_vec();
        out.extend_from_slice(&((total - 10) as u16).to_le_bytes());
        out.extend_from_slice(dict.as_bytes());
        if let Some(d) = first_dim_digits {
            out.extend(std::iter::repeat_n(b' ', 21 - d));
        }
        assert!(out.len() < total, "test vector too long");
        out.resize(total - 1, b' ');
        out.push(b'\n');
        out
    }

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

    /// Builds a v1.0 file from a header dict (padded to 64 bytes) and data.
    fn file_with(dict: &str, data: &[u8]) -> Vec<u8> {
        let total = (10 + dict.len() + 1).div_ceil(64) * 64;
        let mut out = numpy_header(dict, None, total);
        out.extend_from_slice(data);
        out
    }

    #[test]
    fn reader_accepts_other_key_orders_and_quotes() {
        let bytes = file_with(
            r#"{"shape": (2,1), "fortran_order": False, "descr": "<f4"}"#,
            &[0, 0, 128, 63, 0, 0, 0, 64],
        );
        let a = read(&bytes[..]).unwrap();
        assert_eq!(a.shape, [2, 1]);
        assert_eq!(a.as_f32(), Some(&[1.0, 2.0][..]));
    }

    #[test]
    fn reader_rejects_what_it_does_not_support() {
        type IsExpected = fn(&NpyError) -> bool;
        let cases: [(&str, IsExpected); 9] = [
            (
                "{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }",
                |e| matches!(e, NpyError::UnsupportedDtype(d) if d == ">f4"),
            ),
            (
                "{'descr': '<i4', 'fortran_order': False, 'shape': (1,), }",
                |e| matches!(e, NpyError::UnsupportedDtype(_)),
            ),
            (
                "{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }",
                |e| matches!(e, NpyError::FortranOrder),
            ),
            (
                "{'descr': '<f4', 'fortran_order': False, 'shape': (1), }",
                |e| matches!(e, NpyError::BadHeader(_)),
            ),
            ("{'descr': '<f4', 'fortran_order': False}", |e| {
                matches!(e, NpyError::BadHeader(_))
            }),
            (
                "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }",
                |e| matches!(e, NpyError::BadHeader(_)),
            ),
            (
                "{'descr': '<f4', 'fortran_order': 0, 'shape': (1,), }",
                |e| matches!(e, NpyError::BadHeader(_)),
            ),
            (
                "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}",
                |e| matches!(e, NpyError::BadHeader(_)),
            ),
            (
                "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), } x",
                |e| matches!(e, NpyError::BadHeader(_)),
            ),
        ];
        for (dict, ok) in cases {
            let err = read(&file_with(dict, &[0; 4])[..]).unwrap_err();
            assert!(ok(&err), "{dict}: {err}");
        }

        let good = write_f32_1d(Vec::new(), &[1.0, 2.0]).unwrap();
        let mut bad_magic = good.clone();
        bad_magic[1] = b'X';
        assert!(matches!(read(&bad_magic[..]), Err(NpyError::BadMagic)));
        let mut bad_version = good.clone();
        bad_version[6] = 9;
        assert!(matches!(
            read(&bad_version[..]),
            Err(NpyError::UnsupportedVersion(9, 0))
        ));
        assert!(matches!(
            read(&good[..good.len() - 1]),
            Err(NpyError::Truncated {
                expected: 8,
                found: 7
            })
        ));
        assert!(matches!(read(&good[..50]), Err(NpyError::Io(_))));
        // A header that promises a huge array must not allocate it.
        let huge = file_with(
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000,), }",
            &[0; 4],
        );
        assert!(matches!(read(&huge[..]), Err(NpyError::Truncated { .. })));
    }

    #[test]
    fn read_header_reports_the_data_offset() {
        let bytes = write_f32_1d(Vec::new(), &[1.0; 5]).unwrap();
        let h = read_header(&mut &bytes[..]).unwrap();
        assert_eq!(
            h,
            Header {
                dtype: Dtype::F32,
                shape: vec![5],
                data_offset: 128
            }
        );
    }
}
