//! Reductions: f64 column sums, f64 squared distances, and the finiteness
//! test.

use super::GROUP;
use crate::{Accumulate, MatRef};

/// Whether all of `w` is finite, from the f32 sum of `w · 0` (±0 for finite
/// values, NaN for ±inf and NaN) in [`GROUP`] lanes: no branches, so the
/// loop vectorises.
#[inline(always)]
pub(super) fn nan_lanes(acc: &mut [f32; GROUP], w: &[f32; GROUP]) {
    for i in 0..GROUP {
        acc[i] += w[i] * 0.0;
    }
}

#[inline(always)]
pub(super) fn column_sums(a: MatRef<'_>, acc: Accumulate, out: &mut [f64]) {
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
pub(super) fn column_squared_distances(a: MatRef<'_>, b: MatRef<'_>, out: &mut [f64]) {
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
pub(super) fn all_finite(a: &[f32]) -> bool {
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
pub(super) fn squared_distance(a: &[f32], b: &[f32]) -> f64 {
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
