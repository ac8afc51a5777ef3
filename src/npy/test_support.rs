//! Test vectors shared by the writer's, the framing's and the reader's
//! tests: `.npy` bytes built by hand, the way numpy lays them out.

/// The full header (preamble included) that `numpy.save` writes: the
/// dict, `21 - len(str(shape[0]))` spaces of growth room, then spaces
/// up to `total - 1` bytes and '\n'. `total` is taken from numpy's
/// output, not computed, so the padding rule is tested independently.
pub(super) fn numpy_header(dict: &str, first_dim_digits: Option<usize>, total: usize) -> Vec<u8> {
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

/// Builds a v1.0 file from a header dict (padded to 64 bytes) and data.
pub(super) fn file_with(dict: &str, data: &[u8]) -> Vec<u8> {
    let total = (10 + dict.len() + 1).div_ceil(64) * 64;
    let mut out = numpy_header(dict, None, total);
    out.extend_from_slice(data);
    out
}
