//! The checks in front of [`npyz`]: the preamble and header of a `.npy`
//! file are read and checked here (magic string, version, header length,
//! the dict's keys and a shape whose product fits in 64 bits) before npyz
//! interprets them, since npyz multiplies the dimensions unchecked.

use super::{MAGIC, NpyError};
use std::io::{self, Read};

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

/// `msg` on one line: the parser under `npyz` reports a syntax error over
/// several lines, with the header quoted and a caret under the problem,
/// which would break the one-line error messages of the readers.
pub(super) fn one_line(msg: &str) -> String {
    msg.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::npy::test_support::file_with;
    use crate::npy::{read, write_array, write_f32_1d};

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
