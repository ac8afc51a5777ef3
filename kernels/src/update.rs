//! The update family: the streaming passes of an optimiser step over whole
//! parameter and batch arrays — the momentum update with its finiteness
//! check, f64 column sums, and the f64 squared distance — and the
//! small-row product that finishes [`crate::Kernels::gemm_into_unpadded`]
//! (the last few rows of a product, which sgemm would pad to a whole tile).
//!
//! These passes are memory-bound loops of a few adds and multiplies, so they
//! are written once as plain Rust over fixed groups of [`GROUP`] elements
//! and compiled per path by the `#[target_feature]` wrappers of
//! [`crate::dispatch`], where the compiler vectorises them for that
//! instruction set. Rust never contracts `a * b + c` into a fused
//! multiply-add, and every sum has a fixed order written into the code (per
//! element, per column, or into [`GROUP`] interleaved partial sums), so all
//! paths give bit-identical results by construction; the tests check it.

use crate::simd::Simd;
use crate::{Accumulate, MatMut, MatRef};

/// Elements per group: the interleaving of the squared-distance partial sums
/// (one AVX-512 vector of f32, two of f64).
pub(crate) const GROUP: usize = 16;

/// Coefficients of one gradient step with momentum (see
/// [`crate::Kernels::sgd_update`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sgd {
    /// Momentum m: the share of the previous step kept in the velocity.
    pub momentum: f32,
    /// Scale s of the gradient (the learning rate, divided by the batch
    /// size for a summed gradient).
    pub scale: f32,
    /// Decay λ: the multiple of the current parameter subtracted (learning
    /// rate times L2 weight decay).
    pub decay: f32,
}

/// Work for the update family's dispatch point.
pub(crate) enum UpdateJob<'a> {
    /// `d ← m·d + s·g − λ·w; w ← w + d` (or, with no velocity,
    /// `w ← w + (s·g − λ·w)`); sets `finite` to whether every new `w` is.
    Sgd {
        sgd: Sgd,
        w: &'a mut [f32],
        velocity: &'a mut [f32],
        g: &'a [f32],
        finite: &'a mut bool,
    },
    /// `out[j] (= | += | −=) Σ_r a(r, j)` in f64, rows in order.
    ColumnSums {
        a: MatRef<'a>,
        acc: Accumulate,
        out: &'a mut [f64],
    },
    /// `out[j] = Σ_r (a(r, j) − b(r, j))²`: the difference in f32, its
    /// square and the sum in f64, rows in order.
    ColumnSquaredDistances {
        a: MatRef<'a>,
        b: MatRef<'a>,
        out: &'a mut [f64],
    },
    /// `d ← d − λ·w; w ← w + d`: the rest of a momentum step whose
    /// `m·d + s·g` the gradient product already wrote into `d`; sets
    /// `finite` to whether every new `w` is.
    ApplyVelocity {
        decay: f32,
        w: &'a mut [f32],
        velocity: &'a mut [f32],
        finite: &'a mut bool,
    },
    /// Whether every element of `a` is finite.
    AllFinite { a: &'a [f32], out: &'a mut bool },
    /// `Σ_i (a_i − b_i)²`: the difference in f32, its square and the sums in
    /// f64, accumulated into [`GROUP`] interleaved partial sums that are
    /// then added pairwise.
    SquaredDistance {
        a: &'a [f32],
        b: &'a [f32],
        out: &'a mut f64,
    },
    /// `C (= | += | −=) A·B` for a few rows of A (contiguous rows,
    /// `col_stride == 1`) and a B whose rows or columns are contiguous; see
    /// [`small_product`].
    SmallProduct {
        a: MatRef<'a>,
        b: MatRef<'a>,
        acc: Accumulate,
        c: MatMut<'a>,
    },
}

/// The update family body (the same source for every path; `S` is the
/// path's vector type, used by the small product).
#[inline(always)]
pub(crate) fn run<S: Simd>(job: UpdateJob<'_>) {
    match job {
        UpdateJob::Sgd {
            sgd,
            w,
            velocity,
            g,
            finite,
        } => *finite = sgd_update(sgd, w, velocity, g),
        UpdateJob::ColumnSums { a, acc, out } => column_sums(a, acc, out),
        UpdateJob::ColumnSquaredDistances { a, b, out } => column_squared_distances(a, b, out),
        UpdateJob::SquaredDistance { a, b, out } => *out = squared_distance(a, b),
        UpdateJob::ApplyVelocity {
            decay,
            w,
            velocity,
            finite,
        } => *finite = apply_velocity(decay, w, velocity),
        UpdateJob::AllFinite { a, out } => *out = all_finite(a),
        UpdateJob::SmallProduct { a, b, acc, c } => small_product::<S>(a, b, acc, c),
    }
}

/// Whether all of `w` is finite, from the f32 sum of `w · 0` (±0 for finite
/// values, NaN for ±inf and NaN) in [`GROUP`] lanes: no branches, so the
/// loop vectorises.
#[inline(always)]
fn nan_lanes(acc: &mut [f32; GROUP], w: &[f32; GROUP]) {
    for i in 0..GROUP {
        acc[i] += w[i] * 0.0;
    }
}

#[inline(always)]
fn apply_velocity(l: f32, w: &mut [f32], velocity: &mut [f32]) -> bool {
    let mut acc = [0f32; GROUP];
    let full = w.len() / GROUP * GROUP;
    let (wh, wt) = w.split_at_mut(full);
    let (dh, dt) = velocity.split_at_mut(full);
    for (w, d) in wh.chunks_exact_mut(GROUP).zip(dh.chunks_exact_mut(GROUP)) {
        // Local copies, as in `sgd_update`, so that the loop vectorises.
        let mut wl: [f32; GROUP] = (&*w).try_into().expect("whole group");
        let mut dl: [f32; GROUP] = (&*d).try_into().expect("whole group");
        for i in 0..GROUP {
            dl[i] -= l * wl[i];
            wl[i] += dl[i];
        }
        nan_lanes(&mut acc, &wl);
        w.copy_from_slice(&wl);
        d.copy_from_slice(&dl);
    }
    for (w, d) in wt.iter_mut().zip(dt.iter_mut()) {
        *d -= l * *w;
        *w += *d;
        acc[0] += *w * 0.0;
    }
    acc.iter().all(|a| *a == 0.0)
}

#[inline(always)]
fn sgd_update(sgd: Sgd, w: &mut [f32], velocity: &mut [f32], g: &[f32]) -> bool {
    let Sgd {
        momentum: m,
        scale: s,
        decay: l,
    } = sgd;
    let mut acc = [0f32; GROUP];
    let full = w.len() / GROUP * GROUP;
    if velocity.is_empty() {
        let (wh, wt) = w.split_at_mut(full);
        let (gh, gt) = g.split_at(full);
        for (w, g) in wh.chunks_exact_mut(GROUP).zip(gh.chunks_exact(GROUP)) {
            // Local copies: the compiler cannot prove that slices from the
            // job do not overlap, and without that it will not vectorise.
            let mut wl: [f32; GROUP] = (&*w).try_into().expect("whole group");
            let gl: [f32; GROUP] = g.try_into().expect("whole group");
            for i in 0..GROUP {
                wl[i] += s * gl[i] - l * wl[i];
            }
            nan_lanes(&mut acc, &wl);
            w.copy_from_slice(&wl);
        }
        for (w, &g) in wt.iter_mut().zip(gt) {
            *w += s * g - l * *w;
            acc[0] += *w * 0.0;
        }
    } else {
        let (wh, wt) = w.split_at_mut(full);
        let (dh, dt) = velocity.split_at_mut(full);
        let (gh, gt) = g.split_at(full);
        for ((w, d), g) in wh
            .chunks_exact_mut(GROUP)
            .zip(dh.chunks_exact_mut(GROUP))
            .zip(gh.chunks_exact(GROUP))
        {
            let mut wl: [f32; GROUP] = (&*w).try_into().expect("whole group");
            let mut dl: [f32; GROUP] = (&*d).try_into().expect("whole group");
            let gl: [f32; GROUP] = g.try_into().expect("whole group");
            for i in 0..GROUP {
                dl[i] = m * dl[i] + s * gl[i] - l * wl[i];
                wl[i] += dl[i];
            }
            nan_lanes(&mut acc, &wl);
            w.copy_from_slice(&wl);
            d.copy_from_slice(&dl);
        }
        for ((w, d), &g) in wt.iter_mut().zip(dt.iter_mut()).zip(gt) {
            *d = m * *d + s * g - l * *w;
            *w += *d;
            acc[0] += *w * 0.0;
        }
    }
    acc.iter().all(|a| *a == 0.0)
}

#[inline(always)]
fn column_sums(a: MatRef<'_>, acc: Accumulate, out: &mut [f64]) {
    if acc == Accumulate::Overwrite {
        out.fill(0.0);
    }
    if a.rows == 0 || a.cols == 0 {
        return;
    }
    let sign = if acc == Accumulate::Subtract {
        -1.0
    } else {
        1.0
    };
    let (width, rs) = (a.cols, a.row_stride);
    if a.col_stride != 1 {
        for r in 0..a.rows {
            for (j, o) in out.iter_mut().enumerate() {
                *o += sign * f64::from(a.data[r * rs + j * a.col_stride]);
            }
        }
        return;
    }
    // Row by row, each row added to all of `out`: the rows stream in order
    // and `out` (8 bytes per column) stays in L1. (Walking groups of 16
    // columns down all the rows instead read the matrix with a stride of a
    // whole row; and a row loop over local 16-element arrays was compiled
    // into gathers. This plain loop vectorises.) Either way each column is
    // the same sequential sum.
    for r in 0..a.rows {
        let row = &a.data[r * rs..r * rs + width];
        for (o, &x) in out.iter_mut().zip(row) {
            // Exact: negation commutes with conversion and rounding.
            *o += sign * f64::from(x);
        }
    }
}

#[inline(always)]
fn column_squared_distances(a: MatRef<'_>, b: MatRef<'_>, out: &mut [f64]) {
    out.fill(0.0);
    if a.rows == 0 || a.cols == 0 {
        return;
    }
    let width = a.cols;
    let sq = |x: f32, y: f32| {
        let d = f64::from(x - y);
        d * d
    };
    if a.col_stride != 1 || b.col_stride != 1 {
        for r in 0..a.rows {
            for (j, o) in out.iter_mut().enumerate() {
                *o += sq(
                    a.data[r * a.row_stride + j * a.col_stride],
                    b.data[r * b.row_stride + j * b.col_stride],
                );
            }
        }
        return;
    }
    // As `column_sums`: row by row, a plain loop over the columns.
    for r in 0..a.rows {
        let ra = &a.data[r * a.row_stride..r * a.row_stride + width];
        let rb = &b.data[r * b.row_stride..r * b.row_stride + width];
        for ((o, &x), &y) in out.iter_mut().zip(ra).zip(rb) {
            *o += sq(x, y);
        }
    }
}

#[inline(always)]
fn all_finite(a: &[f32]) -> bool {
    let mut acc = [0f32; GROUP];
    let full = a.len() / GROUP * GROUP;
    for x in a[..full].chunks_exact(GROUP) {
        let x: [f32; GROUP] = x.try_into().expect("whole group");
        nan_lanes(&mut acc, &x);
    }
    for &x in &a[full..] {
        acc[0] += x * 0.0;
    }
    acc.iter().all(|a| *a == 0.0)
}

#[inline(always)]
fn squared_distance(a: &[f32], b: &[f32]) -> f64 {
    let mut acc = [0f64; GROUP];
    let full = a.len() / GROUP * GROUP;
    for (x, y) in a[..full]
        .chunks_exact(GROUP)
        .zip(b[..full].chunks_exact(GROUP))
    {
        let x: [f32; GROUP] = x.try_into().expect("whole group");
        let y: [f32; GROUP] = y.try_into().expect("whole group");
        for i in 0..GROUP {
            let d = f64::from(x[i] - y[i]);
            acc[i] += d * d;
        }
    }
    for ((s, &x), &y) in acc.iter_mut().zip(&a[full..]).zip(&b[full..]) {
        let d = f64::from(x - y);
        *s += d * d;
    }
    // Pairwise: 16 → 8 → 4 → 2 → 1.
    let mut n = GROUP;
    while n > 1 {
        n /= 2;
        for i in 0..n {
            acc[i] += acc[i + n];
        }
    }
    acc[0]
}

// ---------------------------------------------------------- small product

/// Rows of A that share each load of B in [`small_product`].
const SMALL_ROWS: usize = 4;
/// Vectors per row in a tile of the row-major-B loop (a tile is
/// `TILE_VECS · S::LANES` columns; the columns left over go in tiles of one
/// vector).
const TILE_VECS: usize = 4;
/// Interleaved partial sums per dot product when B's columns are
/// contiguous (a transposed view such as Wᵀ).
const DOT_LANES: usize = 16;
/// Columns of C per block of dot products.
const DOT_COLS: usize = 4;

/// `C (= | += | −=) A·B` without any padding, for the few rows (typically
/// 1–15) that [`crate::Kernels::gemm_into_unpadded`] does not give to
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
