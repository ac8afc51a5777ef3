//! Fused batched affine transforms `Y = act(X·W + b)`.
//!
//! The product is matrixmultiply's `sgemm` (its own run-time dispatch picks
//! the AVX-512, FMA or fallback micro-kernel). The bias add, the activation
//! and any sampling then run as one element-wise pass per output row through
//! this crate's dispatched kernels. Rows are always processed in order, one
//! kernel call per row, so every [`AffineStrategy`] consumes a [`Stream`] the
//! same way and produces bit-identical output.

use crate::{Activation, Kernels, Sampler, Stream};

/// How the weight slice is laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WeightLayout {
    /// `w` is `n_in × n_out`, row-major: `Y = X·W`.
    InOut,
    /// `w` is `n_out × n_in`, row-major, and is read transposed in place:
    /// `Y = X·Wᵀ`.
    OutIn,
}

/// Shapes of an affine transform: `X` is `batch × n_in` row-major, `Y` is
/// `batch × n_out` row-major.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AffineShape {
    /// Rows of `X` and `Y`.
    pub batch: usize,
    /// Columns of `X`.
    pub n_in: usize,
    /// Columns of `Y`.
    pub n_out: usize,
    /// Layout of `w`.
    pub layout: WeightLayout,
}

/// What happens to `X·W + b`.
#[derive(Debug)]
pub enum Epilogue<'s> {
    /// A deterministic activation.
    Activation(Activation),
    /// Sampling from a stream (rows in order, one sampler call per row).
    Sample(Sampler, &'s mut Stream),
}

/// How the product and the element-wise work are scheduled. All strategies
/// give bit-identical results; they differ only in speed, which the `affine`
/// benchmark group compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AffineStrategy {
    /// One sgemm, then a bias pass over `Y`, then an activation pass.
    Unfused,
    /// One sgemm, then a single fused bias+activation(+sampling) pass.
    Epilogue,
    /// sgemm on blocks of this many rows, each followed at once by the fused
    /// pass while the block is still in cache.
    RowBlocked(usize),
}

impl AffineStrategy {
    /// The strategy [`Kernels::affine`] uses: the fastest in the `affine`
    /// benchmark group on the reference machine (see `docs/benchmarks.md`).
    pub const DEFAULT: AffineStrategy = AffineStrategy::Epilogue;
}

impl Kernels {
    /// `out = act(X·W + bias)` with the default [`AffineStrategy`].
    ///
    /// `bias` has `n_out` entries or is empty (no bias).
    ///
    /// ```
    /// use nrelu_rbm_kernels::{Activation, AffineShape, Epilogue, Kernels, WeightLayout};
    /// // X = [[1, 2]], W = [[1, 0, 1], [0, 1, 1]], b = [0, 0, -3]
    /// let shape = AffineShape { batch: 1, n_in: 2, n_out: 3, layout: WeightLayout::InOut };
    /// let mut y = [0.0f32; 3];
    /// Kernels::active().affine(shape, &[1.0, 2.0], &[1.0, 0.0, 1.0, 0.0, 1.0, 1.0],
    ///     &[0.0, 0.0, -3.0], Epilogue::Activation(Activation::Relu), &mut y);
    /// assert_eq!(y, [1.0, 2.0, 0.0]);
    /// ```
    ///
    /// # Panics
    /// If `x`, `w`, `bias` or `out` does not match `shape`.
    pub fn affine(
        self,
        shape: AffineShape,
        x: &[f32],
        w: &[f32],
        bias: &[f32],
        epilogue: Epilogue<'_>,
        out: &mut [f32],
    ) {
        self.affine_with(AffineStrategy::DEFAULT, shape, x, w, bias, epilogue, out)
    }

    /// [`Kernels::affine`] with an explicit strategy.
    ///
    /// # Panics
    /// As [`Kernels::affine`], and for `RowBlocked(0)`.
    #[allow(clippy::too_many_arguments)]
    pub fn affine_with(
        self,
        strategy: AffineStrategy,
        shape: AffineShape,
        x: &[f32],
        w: &[f32],
        bias: &[f32],
        mut epilogue: Epilogue<'_>,
        out: &mut [f32],
    ) {
        check_shape(shape, x, w, out);
        assert!(
            bias.is_empty() || bias.len() == shape.n_out,
            "bias: length {} must be 0 or n_out = {}",
            bias.len(),
            shape.n_out
        );
        let n_out = shape.n_out;
        if n_out == 0 || shape.batch == 0 {
            return;
        }
        let rows_pass = |rows: &mut [f32], epilogue: &mut Epilogue<'_>| {
            for row in rows.chunks_exact_mut(n_out) {
                match epilogue {
                    Epilogue::Activation(a) => self.activate(*a, bias, row),
                    Epilogue::Sample(s, stream) => self.sample(*s, bias, row, stream),
                }
            }
        };
        match strategy {
            AffineStrategy::Unfused => {
                product(shape, 0, shape.batch, x, w, out);
                if !bias.is_empty() {
                    for row in out.chunks_exact_mut(n_out) {
                        self.activate(Activation::Identity, bias, row);
                    }
                }
                for row in out.chunks_exact_mut(n_out) {
                    match &mut epilogue {
                        Epilogue::Activation(a) => self.activate(*a, &[], row),
                        Epilogue::Sample(s, stream) => self.sample(*s, &[], row, stream),
                    }
                }
            }
            AffineStrategy::Epilogue => {
                product(shape, 0, shape.batch, x, w, out);
                rows_pass(out, &mut epilogue);
            }
            AffineStrategy::RowBlocked(block) => {
                assert!(
                    block > 0,
                    "RowBlocked(0): a row block needs at least one row"
                );
                let mut r0 = 0;
                while r0 < shape.batch {
                    let r1 = (r0 + block).min(shape.batch);
                    product(shape, r0, r1, x, w, out);
                    rows_pass(&mut out[r0 * n_out..r1 * n_out], &mut epilogue);
                    r0 = r1;
                }
            }
        }
    }

    /// The bare product `out = X·W` (no bias, no activation): the bound the
    /// fused kernels are measured against.
    ///
    /// # Panics
    /// If `x`, `w` or `out` does not match `shape`.
    pub fn sgemm(self, shape: AffineShape, x: &[f32], w: &[f32], out: &mut [f32]) {
        check_shape(shape, x, w, out);
        product(shape, 0, shape.batch, x, w, out);
    }
}

/// A read-only strided matrix view: element `(i, j)` is
/// `data[i * row_stride + j * col_stride]`.
///
/// ```
/// use nrelu_rbm_kernels::MatRef;
/// let a = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0]; // 2 × 3, row-major
/// let t = MatRef::row_major(&a, 2, 3).transpose(); // 3 × 2 view, no copy
/// assert_eq!((t.rows, t.cols), (3, 2));
/// ```
#[derive(Clone, Copy, Debug)]
pub struct MatRef<'a> {
    /// The elements.
    pub data: &'a [f32],
    /// Number of rows.
    pub rows: usize,
    /// Number of columns.
    pub cols: usize,
    /// Distance between rows, in elements.
    pub row_stride: usize,
    /// Distance between columns, in elements.
    pub col_stride: usize,
}

impl<'a> MatRef<'a> {
    /// A `rows × cols` row-major view.
    pub fn row_major(data: &'a [f32], rows: usize, cols: usize) -> MatRef<'a> {
        MatRef {
            data,
            rows,
            cols,
            row_stride: cols,
            col_stride: 1,
        }
    }

    /// The transposed view (swaps shape and strides; no copy).
    pub fn transpose(self) -> MatRef<'a> {
        MatRef {
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
            ..self
        }
    }

    /// Rows `r0..r1` of the view.
    ///
    /// # Panics
    /// If `r0 > r1` or `r1 > rows`.
    pub fn rows_range(self, r0: usize, r1: usize) -> MatRef<'a> {
        assert!(
            r0 <= r1 && r1 <= self.rows,
            "rows {r0}..{r1} out of 0..{}",
            self.rows
        );
        let start = if r0 == r1 { 0 } else { r0 * self.row_stride };
        MatRef {
            data: &self.data[start.min(self.data.len())..],
            rows: r1 - r0,
            ..self
        }
    }

    fn check(&self, what: &str) {
        if self.rows == 0 || self.cols == 0 {
            return;
        }
        let last = (self.rows - 1).checked_mul(self.row_stride).and_then(|a| {
            (self.cols - 1)
                .checked_mul(self.col_stride)
                .and_then(|b| a.checked_add(b))
        });
        assert!(
            last.is_some_and(|l| l < self.data.len()),
            "{what}: a {} × {} view with strides ({}, {}) does not fit in {} elements",
            self.rows,
            self.cols,
            self.row_stride,
            self.col_stride,
            self.data.len()
        );
    }
}

/// Whether [`Kernels::gemm`] overwrites or accumulates into `C`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accumulate {
    /// `C = A·B`.
    Overwrite,
    /// `C = C + A·B`.
    Add,
    /// `C = C − A·B`.
    Subtract,
}

impl Kernels {
    /// General product on strided views: `C (= | += | −=) A·B`, with `C`
    /// row-major `a.rows × b.cols` in `c`.
    ///
    /// Only α = ±1 and β ∈ {0, 1} are offered, on purpose: with them every
    /// element of `C` is computed with the same roundings whichever way the
    /// rows of `A` are split between calls, so callers can split a product
    /// across threads and still get bit-identical results.
    ///
    /// # Panics
    /// If the inner dimensions differ, a view does not fit in its slice, or
    /// `c.len() != a.rows * b.cols`.
    pub fn gemm(self, a: MatRef<'_>, b: MatRef<'_>, acc: Accumulate, c: &mut [f32]) {
        assert!(
            a.cols == b.rows,
            "gemm: A is {} × {} but B is {} × {}",
            a.rows,
            a.cols,
            b.rows,
            b.cols
        );
        a.check("gemm A");
        b.check("gemm B");
        let (m, k, n) = (a.rows, a.cols, b.cols);
        assert!(
            Some(c.len()) == m.checked_mul(n),
            "gemm C: length {} does not match {m} × {n}",
            c.len()
        );
        if m == 0 || n == 0 {
            return;
        }
        if k == 0 {
            if acc == Accumulate::Overwrite {
                c.fill(0.0);
            }
            return;
        }
        let (alpha, beta) = match acc {
            Accumulate::Overwrite => (1.0, 0.0),
            Accumulate::Add => (1.0, 1.0),
            Accumulate::Subtract => (-1.0, 1.0),
        };
        // SAFETY: `check` proved that every element (i, j) of A (m × k) and
        // B (k × n) addressed through its strides lies inside its slice, and
        // `c` is exactly m × n row-major (rsc = n, csc = 1) and exclusively
        // borrowed. Strides fit in isize because they index within slices.
        unsafe {
            matrixmultiply::sgemm(
                m,
                k,
                n,
                alpha,
                a.data.as_ptr(),
                a.row_stride as isize,
                a.col_stride as isize,
                b.data.as_ptr(),
                b.row_stride as isize,
                b.col_stride as isize,
                beta,
                c.as_mut_ptr(),
                n as isize,
                1,
            );
        }
    }
}

fn check_shape(shape: AffineShape, x: &[f32], w: &[f32], out: &[f32]) {
    let AffineShape {
        batch, n_in, n_out, ..
    } = shape;
    let want = |what: &str, got: usize, r: usize, c: usize| {
        assert!(
            Some(got) == r.checked_mul(c),
            "{what}: length {got} does not match {r} × {c}"
        );
    };
    want("x", x.len(), batch, n_in);
    want("w", w.len(), n_in, n_out);
    want("out", out.len(), batch, n_out);
}

/// Rows `r0..r1` of `out = X·W` through matrixmultiply (shapes already
/// checked by the caller).
fn product(shape: AffineShape, r0: usize, r1: usize, x: &[f32], w: &[f32], out: &mut [f32]) {
    let AffineShape {
        n_in,
        n_out,
        layout,
        ..
    } = shape;
    let rows = r1 - r0;
    let out = &mut out[r0 * n_out..r1 * n_out];
    let x = &x[r0 * n_in..r1 * n_in];
    if n_in == 0 {
        out.fill(0.0);
        return;
    }
    let (rsb, csb) = match layout {
        WeightLayout::InOut => (n_out as isize, 1),
        WeightLayout::OutIn => (1, n_in as isize),
    };
    // SAFETY: `x` is rows × n_in row-major (rsa = n_in, csa = 1), `w` holds
    // n_in × n_out elements addressed as (k, j) ↦ k·rsb + j·csb, which for
    // either layout stays below n_in·n_out = w.len() (checked by
    // `check_shape`), and `out` is rows × n_out row-major and exclusively
    // borrowed. beta = 0, so `out` is only written.
    unsafe {
        matrixmultiply::sgemm(
            rows,
            n_in,
            n_out,
            1.0,
            x.as_ptr(),
            n_in as isize,
            1,
            w.as_ptr(),
            rsb,
            csb,
            0.0,
            out.as_mut_ptr(),
            n_out as isize,
            1,
        );
    }
}
