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

/// A reader whose header bytes were read ahead: those bytes, then the
/// rest.
pub(crate) type Replayed<R> = io::Chain<io::Cursor<Vec<u8>>, R>;

/// The longest header [`open`] accepts, in bytes. numpy itself refuses
/// headers over 10,000 bytes unless told otherwise; the bound is wider so
/// that the writer's version-2.0 headers (over 65,535 bytes) read back, and
/// still keeps a corrupt length field from asking for gigabytes.
pub(crate) const MAX_HEADER_LEN: usize = 1 << 20;

/// Reads the preamble and header of a `.npy` file from `r` and hands them
/// to [`npyz`], which interprets the dtype, the order and the shape; `r` is
/// left at the start of the data, and the returned file reads the data from
/// it.
///
/// Before that, the header is checked here: the magic string, a format
/// version of 1.0, 2.0 or 3.0, a length of at most [`MAX_HEADER_LEN`], and a
/// Python dict with the keys `descr`, `fortran_order` and `shape` only,
/// whose `shape` is a tuple of non-negative integers whose
/// product (and every partial product) fits in 64 bits. npyz multiplies the
/// dimensions unchecked, so a hostile shape must not reach it.
///
/// # Errors
/// [`NpyError::BadMagic`], [`NpyError::UnsupportedVersion`],
/// [`NpyError::HeaderTooLong`], [`NpyError::ShapeTooLarge`] and
/// [`NpyError::BadHeader`] for a header this reader does not accept;
/// [`NpyError::Io`] if `r` fails or ends early.
pub(crate) fn open<R: Read>(mut r: R) -> Result<npyz::NpyFile<Replayed<R>>, NpyError> {
    let mut head = vec![0u8; 8];
    r.read_exact(&mut head)?;
    if &head[..6] != MAGIC {
        return Err(NpyError::BadMagic);
    }
    let len_bytes = match (head[6], head[7]) {
        (1, 0) => 2,
        (2, 0) | (3, 0) => 4,
        (major, minor) => return Err(NpyError::UnsupportedVersion(major, minor)),
    };
    let mut len = [0u8; 4];
    r.read_exact(&mut len[..len_bytes])?;
    head.extend_from_slice(&len[..len_bytes]);
    let hlen = u32::from_le_bytes(len) as usize;
    if hlen > MAX_HEADER_LEN {
        return Err(NpyError::HeaderTooLong(hlen));
    }
    let start = head.len();
    (&mut r).take(hlen as u64).read_to_end(&mut head)?;
    if head.len() != start + hlen {
        return Err(io::Error::from(io::ErrorKind::UnexpectedEof).into());
    }
    check_header(&head[start..])?;
    let file = npyz::NpyFile::new(io::Cursor::new(head).chain(r)).map_err(|e| match e.kind() {
        io::ErrorKind::InvalidData => NpyError::BadHeader(one_line(&e.to_string())),
        _ => NpyError::Io(e),
    })?;
    if file.uses_pickled_array() {
        return Err(NpyError::UnsupportedDtype(dtype_name(&file.dtype())));
    }
    Ok(file)
}

/// A dtype as numpy writes it in a header, without the quotes: `<i4`.
pub(crate) fn dtype_name(dtype: &npyz::DType) -> String {
    dtype.descr().trim_matches('\'').to_owned()
}

/// Checks that the header text is a dict with exactly the keys numpy
/// writes, whose `shape` is a tuple (or list) of non-negative integers with a product that fits in 64 bits,
/// also when the zero dimensions are left out.
fn check_header(text: &[u8]) -> Result<(), NpyError> {
    let bad = |what: &str| NpyError::BadHeader(what.to_owned());
    let text = std::str::from_utf8(text).map_err(|_| bad("the header is not UTF-8 text"))?;
    let value: py_literal::Value = text
        .trim_end()
        .parse()
        .map_err(|_| bad("the header is not a Python literal"))?;
    let py_literal::Value::Dict(entries) = value else {
        return Err(bad("the header is not a dict"));
    };
    // numpy refuses a header with other keys, and so do we.
    let mut keys: Vec<&str> = entries
        .iter()
        .map(|(k, _)| k.as_string().map_or("", String::as_str))
        .collect();
    keys.sort_unstable();
    if keys != ["descr", "fortran_order", "shape"] {
        return Err(bad(
            "the header's keys must be exactly 'descr', 'fortran_order' and 'shape'",
        ));
    }
    let shape = entries
        .iter()
        .find(|(k, _)| k.as_string().is_some_and(|k| k == "shape"))
        .map(|(_, v)| v)
        .ok_or_else(|| bad("the header has no 'shape'"))?;
    let dims = match shape {
        py_literal::Value::Tuple(d) | py_literal::Value::List(d) => d,
        _ => return Err(bad("'shape' is not a tuple")),
    };
    let mut dims_u64 = Vec::with_capacity(dims.len());
    for d in dims {
        let n = d
            .as_integer()
            .and_then(|n| u64::try_from(n).ok())
            .ok_or_else(|| bad("'shape' entries must be non-negative integers"))?;
        dims_u64.push(n);
    }
    let too_large = || {
        NpyError::ShapeTooLarge(
            dims_u64
                .iter()
                .map(|&d| usize::try_from(d).unwrap_or(usize::MAX))
                .collect(),
        )
    };
    dims_u64
        .iter()
        .filter(|&&d| d != 0)
        .try_fold(1u64, |n, &d| n.checked_mul(d))
        .ok_or_else(too_large)?;
    Ok(())
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

/// `msg` on one line: the parser under `npyz` reports a syntax error over
/// several lines, with the header quoted and a caret under the problem,
/// which would break the one-line error messages of the readers.
fn one_line(msg: &str) -> String {
    msg.split_whitespace().collect::<Vec<_>>().join(" ")
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
                "{'descr': '<i4', 'fortran_order': False, 'shape': (1,), }",
                |e| matches!(e, NpyError::UnsupportedDtype(d) if d == "<i4"),
            ),
            (
                "{'descr': '<f4', 'fortran_order': False, 'shape': (18446744073709551616,), }",
                |e| matches!(e, NpyError::BadHeader(_)),
            ),
            (
                "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 0), }",
                |e| matches!(e, NpyError::ShapeTooLarge(_)),
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

    #[test]
    fn a_newline_inside_the_header_is_refused_in_one_line() {
        // Found by fuzzing: a '\n' right after the dict passed the
        // literal check (trailing whitespace) but not npyz's parser, whose
        // message spans several lines.
        let mut bytes = write_array(Vec::new(), &[1, 2], &[1.0f32, 2.0]).unwrap();
        let at = bytes.iter().position(|&b| b == b'}').unwrap() + 1;
        bytes[at] = b'\n';
        let err = read(&bytes[..]).unwrap_err();
        assert!(matches!(err, NpyError::BadHeader(_)), "{err}");
        assert!(!err.to_string().contains('\n'), "{err}");
        assert_eq!(one_line("a\n  |\nb  c"), "a | b c");
    }

    #[test]
    fn a_lying_header_length_is_refused_before_reading() {
        let mut bytes = b"\x93NUMPY\x02\x00".to_vec();
        bytes.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(
            read(&bytes[..]),
            Err(NpyError::HeaderTooLong(n)) if n == u32::MAX as usize
        ));
    }
}
