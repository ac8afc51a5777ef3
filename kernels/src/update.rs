//! The update family: the streaming passes of an optimiser step over whole
//! parameter and batch arrays — the momentum update with its finiteness
//! check, f64 column sums, and the f64 squared distance.
//!
//! These passes are memory-bound loops of a few adds and multiplies, so they
//! are written once as plain Rust over fixed groups of [`GROUP`] elements
//! and compiled per path by the `#[target_feature]` wrappers of
//! [`crate::dispatch`], where the compiler vectorises them for that
//! instruction set. Rust never contracts `a * b + c` into a fused
//! multiply-add, and every sum has a fixed order written into the code (per
//! element, per column, or into [`GROUP`] interleaved partial sums), so all
//! paths give bit-identical results by construction; the tests check it.

use crate::{Accumulate, MatRef};

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
}

/// The update family body (the same source for every path).
#[inline(always)]
pub(crate) fn run(job: UpdateJob<'_>) {
    match job {
        UpdateJob::Sgd {
            sgd,
            w,
            velocity,
            g,
            finite,
        } => *finite = sgd_update(sgd, w, velocity, g),
        UpdateJob::ColumnSums { a, acc, out } => column_sums(a, acc, out),
        UpdateJob::SquaredDistance { a, b, out } => *out = squared_distance(a, b),
        UpdateJob::AllFinite { a, out } => *out = all_finite(a),
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
    // Columns in groups held in local accumulators across all rows (one
    // pass over `out` per group, not per row), then the remaining columns.
    let row = |r: usize| &a.data[r * rs..r * rs + width];
    let full = width / GROUP * GROUP;
    for c0 in (0..full).step_by(GROUP) {
        let mut s: [f64; GROUP] = out[c0..c0 + GROUP].try_into().expect("whole group");
        for r in 0..a.rows {
            let x: [f32; GROUP] = row(r)[c0..c0 + GROUP].try_into().expect("whole group");
            for i in 0..GROUP {
                // Exact: negation commutes with conversion and rounding.
                s[i] += sign * f64::from(x[i]);
            }
        }
        out[c0..c0 + GROUP].copy_from_slice(&s);
    }
    for r in 0..a.rows {
        for (o, &x) in out[full..].iter_mut().zip(&row(r)[full..]) {
            *o += sign * f64::from(x);
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
