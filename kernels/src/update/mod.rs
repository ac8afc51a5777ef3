//! The streaming passes of an optimiser step over whole parameter and batch
//! arrays: the momentum update with its finiteness check
//! ([`Kernels::sgd_update`], [`Kernels::apply_velocity`], in `step.rs`) and
//! the reductions a trainer reads its progress from (f64 column sums and
//! squared distances, [`Kernels::all_finite`], in `reduce.rs`).
//!
//! These passes are memory-bound loops of a few adds and multiplies, so they
//! are written once as plain Rust over fixed groups of [`GROUP`] elements
//! and compiled per path by the `#[target_feature]` wrappers of the
//! dispatcher, where the compiler vectorises them for that instruction set.
//! Rust never contracts `a * b + c` into a fused multiply-add, and every
//! sum has a fixed order written into the code (per element, per column, or
//! into [`GROUP`] interleaved partial sums), so all paths give
//! bit-identical results by construction; the tests check it.

mod reduce;
mod step;

use crate::dispatch::{self, Job};
use crate::simd::Simd;
use crate::{Accumulate, Kernels, MatRef, check_len};

/// Elements per group: the interleaving of the squared-distance partial sums
/// (one AVX-512 vector of f32, two of f64).
pub(crate) const GROUP: usize = 16;

/// Coefficients of one gradient step with momentum (see
/// [`Kernels::sgd_update`]).
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

/// Declares a job of this module: its fields, its output and its body (the
/// same plain source on every path).
macro_rules! update_job {
    ($name:ident<$a:lifetime> { $($f:ident: $t:ty),* } -> $out:ty => $body:expr) => {
        struct $name<$a> {
            $($f: $t),*
        }
        impl Job for $name<'_> {
            type Output = $out;
            #[cfg(feature = "test-hooks")]
            const FAMILY: dispatch::Family = dispatch::Family::Update;

            #[inline(always)]
            fn run<S: Simd>(self) -> $out {
                let $name { $($f),* } = self;
                $body
            }
        }
    };
}

update_job!(SgdJob<'a> { sgd: Sgd, w: &'a mut [f32], velocity: &'a mut [f32], g: &'a [f32] }
    -> bool => step::sgd_update(sgd, w, velocity, g));
update_job!(ApplyVelocityJob<'a> { decay: f32, w: &'a mut [f32], velocity: &'a mut [f32] }
    -> bool => step::apply_velocity(decay, w, velocity));
update_job!(ColumnSumsJob<'a> { a: MatRef<'a>, acc: Accumulate, out: &'a mut [f64] }
    -> () => reduce::column_sums(a, acc, out));
update_job!(ColumnDistancesJob<'a> { a: MatRef<'a>, b: MatRef<'a>, out: &'a mut [f64] }
    -> () => reduce::column_squared_distances(a, b, out));
update_job!(AllFiniteJob<'a> { a: &'a [f32] } -> bool => reduce::all_finite(a));
update_job!(DistanceJob<'a> { a: &'a [f32], b: &'a [f32] }
    -> f64 => reduce::squared_distance(a, b));

impl Kernels {
    /// One gradient step with momentum and decay, in a single pass:
    /// `d ← m·d + s·g − λ·w` then `w ← w + d`, element by element, with
    /// m, s, λ from `sgd` (evaluated as `((m·d) + (s·g)) − (λ·w)`, no fused
    /// multiply-add). With an empty `velocity` it computes
    /// `w ← w + ((s·g) − (λ·w))`, which equals the momentum form for
    /// m = 0 and a zero velocity, without reading or writing one.
    ///
    /// Returns whether every updated `w` is finite, so a caller can detect
    /// divergence without another pass.
    ///
    /// ```
    /// use nrelu_rbm_kernels::{Kernels, Sgd};
    /// let mut w = [1.0f32, 2.0];
    /// let mut d = [0.5f32, 0.0];
    /// let sgd = Sgd { momentum: 0.5, scale: 0.1, decay: 0.0 };
    /// assert!(Kernels::active().sgd_update(sgd, &mut w, &mut d, &[10.0, -10.0]));
    /// assert_eq!(d, [1.25, -1.0]);
    /// assert_eq!(w, [2.25, 1.0]);
    /// ```
    ///
    /// # Panics
    /// If `g` is not as long as `w`, or `velocity` is neither empty nor as
    /// long as `w`, or `velocity` is empty while `sgd.momentum != 0`.
    pub fn sgd_update(self, sgd: Sgd, w: &mut [f32], velocity: &mut [f32], g: &[f32]) -> bool {
        check_len("g", g.len(), w.len());
        assert!(
            velocity.is_empty() || velocity.len() == w.len(),
            "velocity: length {} must be 0 or {}",
            velocity.len(),
            w.len()
        );
        assert!(
            velocity.len() == w.len() || sgd.momentum == 0.0,
            "sgd_update: momentum {} needs a velocity",
            sgd.momentum
        );
        dispatch::run(
            self.path,
            SgdJob {
                sgd,
                w,
                velocity,
                g,
            },
        )
    }

    /// The rest of a momentum step whose `m·d + s·g` is already in
    /// `velocity` (for example written there by [`Kernels::product`] with
    /// [`crate::Product::scaled`]`(s, m)`): `d ← d − λ·w; w ← w + d`, with
    /// `λ = decay`. Returns whether every new `w` is finite. The same
    /// source on every path, without fused multiply-adds, so the same bits.
    ///
    /// ```
    /// use nrelu_rbm_kernels::Kernels;
    /// let mut w = [1.0f32, 2.0];
    /// let mut d = [0.5f32, -0.5];
    /// assert!(Kernels::active().apply_velocity(0.25, &mut w, &mut d));
    /// assert_eq!(d, [0.25, -1.0]);
    /// assert_eq!(w, [1.25, 1.0]);
    /// ```
    ///
    /// # Panics
    /// If `velocity` is not as long as `w`.
    pub fn apply_velocity(self, decay: f32, w: &mut [f32], velocity: &mut [f32]) -> bool {
        check_len("velocity", velocity.len(), w.len());
        dispatch::run(self.path, ApplyVelocityJob { decay, w, velocity })
    }

    /// Column sums of the view `a` in f64, rows added in order:
    /// `out[j] (= | += | −=) Σ_r a(r, j)` as `acc` says. Every path gives
    /// the same bits (each column is one sequential sum), and so does any
    /// split of the columns between calls.
    ///
    /// ```
    /// use nrelu_rbm_kernels::{Accumulate, Kernels, MatRef};
    /// let mut s = [0.0f64; 2];
    /// let k = Kernels::active();
    /// k.column_sums(MatRef::row_major(&[1.0, 2.0, 3.0, 4.0], 2, 2), Accumulate::Overwrite, &mut s);
    /// k.column_sums(MatRef::row_major(&[0.5, 0.5], 1, 2), Accumulate::Subtract, &mut s);
    /// assert_eq!(s, [3.5, 5.5]);
    /// ```
    ///
    /// # Panics
    /// If `out.len() != a.cols` or the view does not fit in its slice.
    pub fn column_sums(self, a: MatRef<'_>, acc: Accumulate, out: &mut [f64]) {
        check_len("out", out.len(), a.cols);
        a.check("column_sums");
        dispatch::run(self.path, ColumnSumsJob { a, acc, out });
    }

    /// Column sums of squared differences in f64, rows added in order:
    /// `out[j] = Σ_r (a(r, j) − b(r, j))²`, the difference in f32 and its
    /// square and the sum in f64. Every path gives the same bits (each
    /// column is one sequential sum), and so does any split of the columns
    /// between calls; summing `out` in order gives a split-independent
    /// total.
    ///
    /// ```
    /// use nrelu_rbm_kernels::{Kernels, MatRef};
    /// let mut s = [0.0f64; 2];
    /// let a = MatRef::row_major(&[1.0, 2.0, 3.0, 4.0], 2, 2);
    /// let b = MatRef::row_major(&[0.0, 2.0, 1.0, 1.0], 2, 2);
    /// Kernels::active().column_squared_distances(a, b, &mut s);
    /// assert_eq!(s, [1.0 + 4.0, 0.0 + 9.0]);
    /// ```
    ///
    /// # Panics
    /// If `a` and `b` differ in shape, `out.len() != a.cols`, or a view does
    /// not fit in its slice.
    pub fn column_squared_distances(self, a: MatRef<'_>, b: MatRef<'_>, out: &mut [f64]) {
        assert!(
            (a.rows, a.cols) == (b.rows, b.cols),
            "column_squared_distances: a is {} × {} but b is {} × {}",
            a.rows,
            a.cols,
            b.rows,
            b.cols
        );
        check_len("out", out.len(), a.cols);
        a.check("column_squared_distances");
        b.check("column_squared_distances");
        dispatch::run(self.path, ColumnDistancesJob { a, b, out });
    }

    /// Whether every element of `a` is finite (no NaN, no ±inf), in one
    /// vectorised pass without branches (an f32 sum of `x · 0` in 16 lanes,
    /// which is NaN as soon as one `x` is not finite).
    ///
    /// ```
    /// use nrelu_rbm_kernels::Kernels;
    /// let k = Kernels::active();
    /// assert!(k.all_finite(&[1.0, -3e38, 0.0]));
    /// assert!(!k.all_finite(&[1.0, f32::NAN]));
    /// assert!(k.all_finite(&[]));
    /// ```
    pub fn all_finite(self, a: &[f32]) -> bool {
        dispatch::run(self.path, AllFiniteJob { a })
    }

    /// `Σ_i (a_i − b_i)²`: each difference in f32, its square and the sum in
    /// f64. The sum runs in 16 interleaved partial sums (element i goes to
    /// partial i mod 16), added pairwise at the end, on every path, so the
    /// result has the same bits everywhere.
    ///
    /// ```
    /// use nrelu_rbm_kernels::Kernels;
    /// let d = Kernels::active().squared_distance(&[1.0, 2.0, 3.0], &[1.0, 0.0, 0.0]);
    /// assert_eq!(d, 13.0);
    /// ```
    ///
    /// # Panics
    /// If `a.len() != b.len()`.
    pub fn squared_distance(self, a: &[f32], b: &[f32]) -> f64 {
        check_len("b", b.len(), a.len());
        dispatch::run(self.path, DistanceJob { a, b })
    }
}
