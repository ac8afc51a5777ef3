//! The small-row product: `C (= | += | −=) A·B` for the few rows (1–15)
//! of an unpadded product that matrixmultiply would pad to a whole tile of
//! 16. Plain generic code over the path's vectors, the same bits on every
//! path.

use super::tuning::{DOT_COLS, DOT_LANES, SMALL_ROWS, TILE_VECS};
use super::{Accumulate, MatMut, MatRef};
use crate::dispatch::Job;
use crate::simd::Simd;

/// The small-row product as a dispatched job; see [`small_product`].
pub(super) struct SmallProduct<'a> {
    pub a: MatRef<'a>,
    pub b: MatRef<'a>,
    pub acc: Accumulate,
    pub c: MatMut<'a>,
}

impl Job for SmallProduct<'_> {
    type Output = ();
    #[cfg(feature = "test-hooks")]
    const FAMILY: crate::dispatch::Family = crate::dispatch::Family::Product;

    #[inline(always)]
    fn run<S: Simd>(self) {
        small_product::<S>(self.a, self.b, self.acc, self.c)
    }
}

/// `C (= | += | −=) A·B` without any padding, for the few rows (typically
/// 1–15) that an unpadded [`crate::Kernels::product`] does not give to
/// sgemm. Rows go in groups of [`SMALL_ROWS`] that share every load of B;
/// the vectors are the path's own (`S`), the accumulators stay in registers.
///
/// Each element of C is one fixed sum whatever the shape of the call and
/// the path:
/// * row-major B (`b.col_stride == 1`): `s = 0; s = s + a_k·b_kj` for k in
///   order (each lane of a vector, or the scalar loop for the last columns);
/// * B with contiguous columns (`b.row_stride == 1`): [`DOT_LANES`]
///   partial sums (term k goes to partial k mod 16, in order of k), added
///   pairwise 16 → 8 → 4 → 2 → 1;
///
/// then `c = s`, `c + s` or `c − s`. Every operation is one IEEE f32
/// operation (no fused multiply-add), so a split of the columns between
/// calls (or threads) does not change a bit, and every path gives the same
/// bits.
///
/// The caller guarantees `a.col_stride == 1`, `b.col_stride == 1 ||
/// b.row_stride == 1`, `a.cols == b.rows` and that `c` is `a.rows × b.cols`.
#[inline(always)]
fn small_product<S: Simd>(a: MatRef<'_>, b: MatRef<'_>, acc: Accumulate, mut c: MatMut<'_>) {
    debug_assert!(a.col_stride == 1 && (b.col_stride == 1 || b.row_stride == 1));
    debug_assert!(a.cols == b.rows && c.rows() == a.rows && c.cols() == b.cols);
    let mut r0 = 0;
    while r0 < a.rows {
        let g = (a.rows - r0).min(SMALL_ROWS);
        match g {
            4 => small_rows::<S, 4>(a, b, acc, &mut c, r0),
            3 => small_rows::<S, 3>(a, b, acc, &mut c, r0),
            2 => small_rows::<S, 2>(a, b, acc, &mut c, r0),
            _ => small_rows::<S, 1>(a, b, acc, &mut c, r0),
        }
        r0 += g;
    }
}

/// Rows `r0 .. r0 + R` of [`small_product`].
#[inline(always)]
fn small_rows<S: Simd, const R: usize>(
    a: MatRef<'_>,
    b: MatRef<'_>,
    acc: Accumulate,
    c: &mut MatMut<'_>,
    r0: usize,
) {
    let k = a.cols;
    let rows: [&[f32]; R] = std::array::from_fn(|i| &a.data[(r0 + i) * a.row_stride..][..k]);
    if b.col_stride == 1 {
        rows_times_rows::<S, R>(rows, b, acc, c, r0);
    } else {
        rows_dot_columns::<S, R>(rows, b, acc, c, r0);
    }
}

/// `c (= | += | −=) s` for one value.
#[inline(always)]
pub(crate) fn finish_one(acc: Accumulate, c: &mut f32, s: f32) {
    match acc {
        Accumulate::Overwrite => *c = s,
        Accumulate::Add => *c += s,
        Accumulate::Subtract => *c -= s,
    }
}

/// Row-major B: tiles of `TILE_VECS` vectors per row, then of one vector,
/// accumulated over all of k in registers (B read once per tile), then the
/// last columns (fewer than a vector) one by one with the same scalar
/// arithmetic.
// Index loops: each index addresses several arrays at once.
#[allow(clippy::needless_range_loop)]
#[inline(always)]
fn rows_times_rows<S: Simd, const R: usize>(
    rows: [&[f32]; R],
    b: MatRef<'_>,
    acc: Accumulate,
    c: &mut MatMut<'_>,
    r0: usize,
) {
    let j0 = tiles::<S, R, TILE_VECS>(rows, b, acc, c, r0, 0);
    let j0 = tiles::<S, R, 1>(rows, b, acc, c, r0, j0);
    let (k, n, rs) = (b.rows, b.cols, b.row_stride);
    for j in j0..n {
        let mut s = [0f32; R];
        for kk in 0..k {
            let bj = b.data[kk * rs + j];
            for r in 0..R {
                s[r] += rows[r][kk] * bj;
            }
        }
        for (r, &sr) in s.iter().enumerate() {
            finish_one(acc, &mut c.row_mut(r0 + r)[j], sr);
        }
    }
}

/// Whole tiles of `V` vectors from column `j0` on; returns the first column
/// not done.
// Index loops: each index addresses several arrays at once.
#[allow(clippy::needless_range_loop)]
#[inline(always)]
fn tiles<S: Simd, const R: usize, const V: usize>(
    rows: [&[f32]; R],
    b: MatRef<'_>,
    acc: Accumulate,
    c: &mut MatMut<'_>,
    r0: usize,
    mut j0: usize,
) -> usize {
    let (k, n, rs) = (b.rows, b.cols, b.row_stride);
    let tile = V * S::LANES;
    while j0 + tile <= n {
        let mut s = [[S::zero(); V]; R];
        for kk in 0..k {
            let bt = &b.data[kk * rs + j0..][..tile];
            let bv: [S; V] = std::array::from_fn(|v| S::load(&bt[v * S::LANES..]));
            for r in 0..R {
                let av = S::splat(rows[r][kk]);
                for v in 0..V {
                    s[r][v] = s[r][v].add(av.mul(bv[v]));
                }
            }
        }
        for (r, sr) in s.iter().enumerate() {
            let row = &mut c.row_mut(r0 + r)[j0..j0 + tile];
            for (v, &sv) in sr.iter().enumerate() {
                let dst = &mut row[v * S::LANES..];
                let out = match acc {
                    Accumulate::Overwrite => sv,
                    Accumulate::Add => S::load(dst).add(sv),
                    Accumulate::Subtract => S::load(dst).sub(sv),
                };
                out.store(dst);
            }
        }
        j0 += tile;
    }
    j0
}

/// B with contiguous columns: dot products of the `R` rows with blocks of
/// [`DOT_COLS`] columns, each in [`DOT_LANES`] interleaved partial sums.
// Index loops: each index addresses several arrays at once.
#[allow(clippy::needless_range_loop)]
#[inline(always)]
fn rows_dot_columns<S: Simd, const R: usize>(
    rows: [&[f32]; R],
    b: MatRef<'_>,
    acc: Accumulate,
    c: &mut MatMut<'_>,
    r0: usize,
) {
    let (k, n, cs) = (b.rows, b.cols, b.col_stride);
    let col = |j: usize| &b.data[j * cs..][..k];
    let mut j = 0;
    while j < n {
        let q = (n - j).min(DOT_COLS);
        let mut s = [[0f32; DOT_COLS]; R];
        if q == DOT_COLS {
            dots::<S, R, DOT_COLS>(&rows, std::array::from_fn(|i| col(j + i)), &mut s);
        } else {
            for i in 0..q {
                let mut one = [[0f32; 1]; R];
                dots::<S, R, 1>(&rows, [col(j + i)], &mut one);
                for r in 0..R {
                    s[r][i] = one[r][0];
                }
            }
        }
        for (r, sr) in s.iter().enumerate() {
            let row = &mut c.row_mut(r0 + r)[j..j + q];
            for (cj, &sj) in row.iter_mut().zip(sr) {
                finish_one(acc, cj, sj);
            }
        }
        j += q;
    }
}

/// `out[r][q] = rows[r] · cols[q]` in [`DOT_LANES`] interleaved partial sums
/// (the same arithmetic for every `Q` and path, so neither the column
/// grouping nor the path changes a bit).
///
/// The partial sums live in `P = DOT_LANES / S::LANES` vectors per dot
/// product; `P` is a const parameter of [`dots_in`], chosen here from the
/// path's lane count, so that the accumulators are exactly as many vectors
/// as are used (an array sized for the scalar path's 16 was zeroed, 16 KB
/// on AVX-512, for every block of columns, and kept in memory).
#[inline(always)]
fn dots<S: Simd, const R: usize, const Q: usize>(
    rows: &[&[f32]; R],
    cols: [&[f32]; Q],
    out: &mut [[f32; Q]; R],
) {
    match DOT_LANES / S::LANES {
        1 => dots_in::<S, R, Q, 1>(rows, cols, out),
        2 => dots_in::<S, R, Q, 2>(rows, cols, out),
        4 => dots_in::<S, R, Q, 4>(rows, cols, out),
        8 => dots_in::<S, R, Q, 8>(rows, cols, out),
        16 => dots_in::<S, R, Q, 16>(rows, cols, out),
        _ => unreachable!("lane counts divide {DOT_LANES}"),
    }
}

/// [`dots`] with `P` vectors of partial sums per dot product.
// Index loops: each index addresses several arrays at once.
#[allow(clippy::needless_range_loop)]
#[inline(always)]
fn dots_in<S: Simd, const R: usize, const Q: usize, const P: usize>(
    rows: &[&[f32]; R],
    cols: [&[f32]; Q],
    out: &mut [[f32; Q]; R],
) {
    debug_assert_eq!(P * S::LANES, DOT_LANES);
    let k = rows[0].len();
    let full = k / DOT_LANES * DOT_LANES;
    // Partial i of a dot product is lane i % LANES of vector i / LANES.
    let mut s = [[[S::zero(); P]; Q]; R];
    for k0 in (0..full).step_by(DOT_LANES) {
        for v in 0..P {
            let at = k0 + v * S::LANES;
            let mut bq = [S::zero(); Q];
            for q in 0..Q {
                bq[q] = S::load(&cols[q][at..]);
            }
            for r in 0..R {
                let ar = S::load(&rows[r][at..]);
                for q in 0..Q {
                    s[r][q][v] = s[r][q][v].add(ar.mul(bq[q]));
                }
            }
        }
    }
    for r in 0..R {
        for q in 0..Q {
            let mut p = [0f32; DOT_LANES];
            for v in 0..P {
                s[r][q][v].store(&mut p[v * S::LANES..]);
            }
            for kk in full..k {
                p[kk - full] += rows[r][kk] * cols[q][kk];
            }
            let mut n = DOT_LANES;
            while n > 1 {
                n /= 2;
                for i in 0..n {
                    p[i] += p[i + n];
                }
            }
            out[r][q] = p[0];
        }
    }
}
