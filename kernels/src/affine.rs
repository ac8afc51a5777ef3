//! Fused batched affine transforms `Y = act(X·W + b)`.
//!
//! The product (the product family: the crate's own AVX-512 kernel on the
//! AVX-512 path, matrixmultiply's `sgemm` on the others, with the same
//! bits) runs on the first `batch / 16 · 16`
//! rows, and the small-row kernel of the update family on the rest, so that
//! no row tile is padded (see [`Kernels::gemm_into_unpadded`]). The bias
//! add, the activation and any sampling then run as one element-wise pass
//! per output row through this crate's dispatched kernels. Rows are always processed in order, each
//! drawing the blocks of its own (as [`Kernels::sample_rows`] does), so every
//! [`AffineStrategy`] consumes a [`Stream`] the same way and produces
//! bit-identical output.

use crate::{Activation, Kernels, Path, Sampler, Stream};

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

/// How the product and the element-wise work are scheduled. The product is
/// unpadded for the whole batch (rows below `batch / 16 · 16` through
/// sgemm, the rest through the small-row kernel, whichever block they fall
/// in), so all strategies give bit-identical results; they differ only in
/// speed, which the `affine` benchmark group compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AffineStrategy {
    /// One product, then a bias pass over `Y`, then an activation pass.
    Unfused,
    /// One product, then a single fused bias+activation(+sampling) pass.
    Epilogue,
    /// The product on blocks of this many rows, each followed at once by the
    /// fused pass while the block is still in cache.
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
        let rows_pass = |rows: &mut [f32], epilogue: &mut Epilogue<'_>| match epilogue {
            Epilogue::Activation(a) => {
                for row in rows.chunks_exact_mut(n_out) {
                    self.activate(*a, bias, row);
                }
            }
            // One call for all rows: the same bits as a call per row.
            Epilogue::Sample(s, stream) => self.sample_rows(*s, bias, rows, n_out, stream),
        };
        match strategy {
            AffineStrategy::Unfused => {
                self.product(shape, 0, shape.batch, x, w, out);
                if !bias.is_empty() {
                    for row in out.chunks_exact_mut(n_out) {
                        self.activate(Activation::Identity, bias, row);
                    }
                }
                match &mut epilogue {
                    Epilogue::Activation(a) => {
                        for row in out.chunks_exact_mut(n_out) {
                            self.activate(*a, &[], row);
                        }
                    }
                    Epilogue::Sample(s, stream) => self.sample_rows(*s, &[], out, n_out, stream),
                }
            }
            AffineStrategy::Epilogue => {
                self.product(shape, 0, shape.batch, x, w, out);
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
                    self.product(shape, r0, r1, x, w, out);
                    rows_pass(&mut out[r0 * n_out..r1 * n_out], &mut epilogue);
                    r0 = r1;
                }
            }
        }
    }

    /// The bare product `out = X·W` (no bias, no activation) as one call of
    /// the product family (padded row tiles included): the bound the fused kernels are measured
    /// against. The fused strategies compute the last `batch % 16` rows
    /// with the small-row kernel instead of a padded sgemm tile, so they can
    /// take less time than this bound, and their last rows may differ from
    /// it in the last bits.
    ///
    /// # Panics
    /// If `x`, `w` or `out` does not match `shape`.
    pub fn sgemm(self, shape: AffineShape, x: &[f32], w: &[f32], out: &mut [f32]) {
        check_shape(shape, x, w, out);
        let (a, b, c) = affine_views(shape, 0, shape.batch, x, w, out);
        sgemm_into(self.path, a, b, Accumulate::Overwrite, c);
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

    /// Columns `c0..c1` of the view.
    ///
    /// # Panics
    /// If `c0 > c1` or `c1 > cols`.
    pub fn cols_range(self, c0: usize, c1: usize) -> MatRef<'a> {
        self.transpose().rows_range(c0, c1).transpose()
    }

    pub(crate) fn check(&self, what: &str) {
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

/// A mutable row-major matrix view whose rows may be further apart than its
/// width: a block of columns of a larger matrix. Views made by splitting
/// one view never share an element, so they can be filled by different
/// threads at once; the borrow they come from lasts as long as any of them.
///
/// ```
/// use nrelu_rbm_kernels::{Accumulate, Kernels, MatMut, MatRef};
/// let a = [1.0f32, 2.0]; // 1 × 2
/// let b = [1.0f32, 0.0, 2.0, 0.0, 1.0, 3.0]; // 2 × 3
/// let mut c = [0.0f32; 3];
/// let (left, right) = MatMut::row_major(&mut c, 1, 3).split_at_col(1);
/// let (a, b) = (MatRef::row_major(&a, 1, 2), MatRef::row_major(&b, 2, 3));
/// let k = Kernels::active();
/// std::thread::scope(|s| {
///     s.spawn(|| k.gemm_into(a, b.cols_range(0, 1), Accumulate::Overwrite, left));
///     s.spawn(|| k.gemm_into(a, b.cols_range(1, 3), Accumulate::Overwrite, right));
/// });
/// assert_eq!(c, [1.0, 2.0, 8.0]);
/// ```
#[derive(Debug)]
pub struct MatMut<'a> {
    /// Element (i, j) is at `ptr + i·row_stride + j`. For a view with no
    /// elements the pointer may point just past (or, after splits of a
    /// zero-row view, beyond) its allocation; it is then never read.
    ptr: *mut f32,
    rows: usize,
    cols: usize,
    row_stride: usize,
    _borrow: std::marker::PhantomData<&'a mut [f32]>,
}

// SAFETY: a `MatMut` is an exclusive borrow of its elements, like
// `&mut [f32]` (which is `Send`); no two views share an element.
unsafe impl Send for MatMut<'_> {}

impl<'a> MatMut<'a> {
    /// A `rows × cols` row-major view of all of `data`.
    ///
    /// # Panics
    /// If `data.len() != rows · cols`.
    pub fn row_major(data: &'a mut [f32], rows: usize, cols: usize) -> MatMut<'a> {
        assert!(
            Some(data.len()) == rows.checked_mul(cols),
            "MatMut: length {} does not match {rows} × {cols}",
            data.len()
        );
        MatMut {
            ptr: data.as_mut_ptr(),
            rows,
            cols,
            row_stride: cols,
            _borrow: std::marker::PhantomData,
        }
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// A view of the same elements for a shorter borrow (to pass to
    /// [`Kernels::gemm_into`] and keep using `self` afterwards).
    pub fn reborrow(&mut self) -> MatMut<'_> {
        MatMut {
            ptr: self.ptr,
            rows: self.rows,
            cols: self.cols,
            row_stride: self.row_stride,
            _borrow: std::marker::PhantomData,
        }
    }

    /// Row `i` of the view (`cols` elements).
    ///
    /// ```
    /// use nrelu_rbm_kernels::MatMut;
    /// let mut c = [0.0f32; 6];
    /// let (_, mut right) = MatMut::row_major(&mut c, 2, 3).split_at_col(1);
    /// right.row_mut(1).copy_from_slice(&[7.0, 8.0]);
    /// assert_eq!(c, [0.0, 0.0, 0.0, 0.0, 7.0, 8.0]);
    /// ```
    ///
    /// # Panics
    /// If `i >= rows`.
    pub fn row_mut(&mut self, i: usize) -> &mut [f32] {
        assert!(i < self.rows, "row {i} of {}", self.rows);
        if self.cols == 0 {
            return &mut [];
        }
        // SAFETY: i < rows and cols > 0, so the cols elements from
        // ptr + i·row_stride are elements of this view, which lie inside the
        // exclusively borrowed allocation and belong to no other view
        // (MatMut invariant); the returned borrow of `self` keeps any other
        // access to them out while it lives.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.add(i * self.row_stride), self.cols) }
    }

    /// Columns `0..j` and `j..cols`.
    ///
    /// # Panics
    /// If `j > cols`.
    pub fn split_at_col(self, j: usize) -> (MatMut<'a>, MatMut<'a>) {
        assert!(j <= self.cols, "split at column {j} of {}", self.cols);
        let right = MatMut {
            // In bounds whenever the view has an element; otherwise never
            // dereferenced (wrapping arithmetic needs no unsafe).
            ptr: self.ptr.wrapping_add(j),
            cols: self.cols - j,
            ..self
        };
        (MatMut { cols: j, ..self }, right)
    }

    /// Rows `0..i` and `i..rows`.
    ///
    /// # Panics
    /// If `i > rows`.
    pub fn split_at_row(self, i: usize) -> (MatMut<'a>, MatMut<'a>) {
        assert!(i <= self.rows, "split at row {i} of {}", self.rows);
        let below = MatMut {
            ptr: self.ptr.wrapping_add(i * self.row_stride),
            rows: self.rows - i,
            ..self
        };
        (MatMut { rows: i, ..self }, below)
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
        let (m, n) = (a.rows, b.cols);
        assert!(
            Some(c.len()) == m.checked_mul(n),
            "gemm C: length {} does not match {m} × {n}",
            c.len()
        );
        self.gemm_into(a, b, acc, MatMut::row_major(c, m, n))
    }

    /// [`Kernels::gemm`] into a [`MatMut`] view, which may be a block of
    /// columns of a larger matrix. Every element of `C` gets the same bits
    /// whichever way the rows of `A` or the columns of `B` (with the matching
    /// columns of `C`) are split between calls, so a product can be split
    /// across threads either way.
    ///
    /// # Panics
    /// If the inner dimensions differ, a view does not fit in its slice, or
    /// `c` is not `a.rows × b.cols`.
    pub fn gemm_into(self, a: MatRef<'_>, b: MatRef<'_>, acc: Accumulate, c: MatMut<'_>) {
        sgemm_into(self.path, a, b, acc, c);
    }

    /// `C = α·A·B + β·C` through one sgemm call, for folding a scaled
    /// update into the product (`W ← (1 − λ)·W + s·G` without a buffer for
    /// `G`). With β = 0, `C` is not read (NaN in it is overwritten).
    ///
    /// Bits: unlike [`Kernels::gemm_into`], whose α = ±1 and β ∈ {0, 1}
    /// make every rounding independent of the tiling, matrixmultiply may
    /// round whole tiles of C and the ragged tiles at the edges of a call
    /// differently (its AVX-512 and AVX2+FMA kernels: `fma(α, AB, β·C)`
    /// against `β·C + α·AB`). So the result may depend on where each call's
    /// tiles fall: split a product between
    /// calls only at rows and columns that are multiples of
    /// [`SGEMM_ROW_TILE`] (16, a multiple of every micro-kernel's tile
    /// size), and every element is then computed the same way for any
    /// split. It does not depend on the kernel path: the AVX-512 path's own
    /// kernel reproduces matrixmultiply's roundings, ragged tiles included
    /// (`docs/kernels.md`, "Products").
    ///
    /// ```
    /// use nrelu_rbm_kernels::{Kernels, MatMut, MatRef};
    /// let a = [1.0f32, 2.0]; // 1 × 2
    /// let b = [3.0f32, 4.0]; // 2 × 1
    /// let mut c = [10.0f32];
    /// Kernels::active().gemm_scaled_into(
    ///     MatRef::row_major(&a, 1, 2),
    ///     MatRef::row_major(&b, 2, 1),
    ///     0.5,
    ///     0.5,
    ///     MatMut::row_major(&mut c, 1, 1),
    /// );
    /// assert_eq!(c, [0.5 * 11.0 + 0.5 * 10.0]);
    /// ```
    ///
    /// # Panics
    /// As [`Kernels::gemm_into`].
    pub fn gemm_scaled_into(
        self,
        a: MatRef<'_>,
        b: MatRef<'_>,
        alpha: f32,
        beta: f32,
        c: MatMut<'_>,
    ) {
        sgemm_scaled_into(self.path, a, b, alpha, beta, c);
    }

    /// [`Kernels::gemm_into`] without the padded last row tile: the first
    /// `a.rows / 16 · 16` rows go to sgemm, and the rest (at most 15) to a
    /// small-row product of the update family (plain code, no padding).
    ///
    /// sgemm computes C in tiles of 16 rows (the AVX-512 kernel of
    /// matrixmultiply), so a batch of 100 rows costs 112 rows of work. On
    /// the reference machine a 100 × 784 · 784 × 500 product took 880–920 µs
    /// through sgemm, 760–810 µs for its first 96 rows alone, and 800–860 µs
    /// through this method (`docs/kernels.md`, `docs/benchmarks.md`).
    ///
    /// Bits: the rows below `a.rows / 16 · 16` are computed exactly as
    /// [`Kernels::gemm_into`] computes them, and each of the others as one
    /// fixed sum (see `docs/kernels.md`), the same on every path. So the
    /// result does not depend on how the *columns* of B and C are split
    /// between calls, or on the path; it does depend on `a.rows` (a row
    /// split moves rows between the two parts), so split rows only at
    /// multiples of 16.
    ///
    /// The small-row part needs contiguous rows of A (`a.col_stride == 1`)
    /// and contiguous rows or columns of B; otherwise, or when `a.rows` is a
    /// multiple of 16, this is exactly [`Kernels::gemm_into`].
    ///
    /// ```
    /// use nrelu_rbm_kernels::{Accumulate, Kernels, MatMut, MatRef};
    /// let a: Vec<f32> = (0..18 * 3).map(|i| i as f32).collect(); // 18 × 3
    /// let b = [1.0f32, 0.0, 0.0, 1.0, 1.0, 1.0]; // 3 × 2
    /// let mut c = vec![0.0f32; 18 * 2];
    /// Kernels::active().gemm_into_unpadded(
    ///     MatRef::row_major(&a, 18, 3),
    ///     MatRef::row_major(&b, 3, 2),
    ///     Accumulate::Overwrite,
    ///     MatMut::row_major(&mut c, 18, 2),
    /// );
    /// assert_eq!(&c[34..], &[51.0 + 53.0, 52.0 + 53.0]); // row 17 is in the small part
    /// ```
    ///
    /// # Panics
    /// As [`Kernels::gemm_into`].
    pub fn gemm_into_unpadded(self, a: MatRef<'_>, b: MatRef<'_>, acc: Accumulate, c: MatMut<'_>) {
        check_gemm(a, b, &c);
        self.split_product(a, b, acc, c, a.rows / SGEMM_ROW_TILE * SGEMM_ROW_TILE);
    }
}

impl Kernels {
    /// Rows `r0..r1` of `out = X·W` for the fused strategies, unpadded as in
    /// [`Kernels::gemm_into_unpadded`] *for the whole batch*: rows below
    /// `batch / 16 · 16` through sgemm, the others through the small-row
    /// kernel, whichever block `r0..r1` is. So every strategy and row block
    /// gives the same bits (sgemm's are independent of row splits, and the
    /// small kernel's are per element). Shapes already checked.
    fn product(
        self,
        shape: AffineShape,
        r0: usize,
        r1: usize,
        x: &[f32],
        w: &[f32],
        out: &mut [f32],
    ) {
        let (a, b, c) = affine_views(shape, r0, r1, x, w, out);
        let split = (shape.batch / SGEMM_ROW_TILE * SGEMM_ROW_TILE).clamp(r0, r1);
        self.split_product(a, b, Accumulate::Overwrite, c, split - r0);
    }

    /// Rows `0..split` of `C (= | += | −=) A·B` through sgemm and the rest
    /// through the small-row kernel of the update family. Everything goes to
    /// sgemm when there is no rest, the product is empty, or the views are
    /// outside the small kernel's contract (A with contiguous rows, B with
    /// contiguous rows or columns). Shapes already checked.
    fn split_product(
        self,
        a: MatRef<'_>,
        b: MatRef<'_>,
        acc: Accumulate,
        c: MatMut<'_>,
        split: usize,
    ) {
        let small_ok = a.col_stride == 1 && (b.col_stride == 1 || b.row_stride == 1);
        if split >= a.rows || a.cols == 0 || b.cols == 0 || !small_ok {
            return sgemm_into(self.path, a, b, acc, c);
        }
        #[cfg(target_arch = "x86_64")]
        if split > 0 && a.rows - split < SGEMM_ROW_TILE {
            let (alpha, beta) = acc.alpha_beta();
            let job = product_job(a.rows_range(0, split), b, alpha, beta, &c);
            let tail = crate::gemm512::Tail {
                a: a.data.as_ptr().wrapping_add(split * a.row_stride),
                rsa: a.row_stride as isize,
                rows: a.rows - split,
                c: c.ptr.wrapping_add(split * c.row_stride),
                rsc: c.row_stride,
                acc,
                // As the small-row kernel chooses (`update::small_rows`).
                dots: b.col_stride != 1,
            };
            // SAFETY: the shapes were checked by the caller (`check_gemm`:
            // every element of A and B addressed through the strides is
            // inside its slice); rows 0..split of A and C form the product
            // (m, k, n > 0 here), rows split.. of A (contiguous rows,
            // `small_ok`) and of C the tail, with 1 ≤ tail rows ≤ 15; C is
            // an exclusive view (MatMut invariant), so nothing overlaps.
            if unsafe { crate::dispatch::product_with_tail(self.path, job, tail) } {
                return;
            }
        }
        let (top, bottom) = c.split_at_row(split);
        if split > 0 {
            sgemm_into(self.path, a.rows_range(0, split), b, acc, top);
        }
        crate::dispatch::update(
            self.path,
            crate::update::UpdateJob::SmallProduct {
                a: a.rows_range(split, a.rows),
                b,
                acc,
                c: bottom,
            },
        );
    }
}

/// Rows `r0..r1` of the affine product as gemm views: `X` (row-major), `W`
/// in its layout (read transposed in place for `OutIn`) and the output
/// rows. Shapes already checked.
fn affine_views<'a>(
    shape: AffineShape,
    r0: usize,
    r1: usize,
    x: &'a [f32],
    w: &'a [f32],
    out: &'a mut [f32],
) -> (MatRef<'a>, MatRef<'a>, MatMut<'a>) {
    let AffineShape {
        batch,
        n_in,
        n_out,
        layout,
    } = shape;
    let a = MatRef::row_major(x, batch, n_in).rows_range(r0, r1);
    let b = match layout {
        WeightLayout::InOut => MatRef::row_major(w, n_in, n_out),
        WeightLayout::OutIn => MatRef::row_major(w, n_out, n_in).transpose(),
    };
    let c = MatMut::row_major(&mut out[r0 * n_out..r1 * n_out], r1 - r0, n_out);
    (a, b, c)
}

/// Rows per tile of matrixmultiply's AVX-512 sgemm kernel (its AVX2 kernel
/// uses 8, a divisor): [`Kernels::gemm_into_unpadded`] gives sgemm whole
/// tiles only, so callers that split such a product by rows must split at
/// multiples of this to keep the same bits.
pub const SGEMM_ROW_TILE: usize = 16;

/// The shape checks of [`Kernels::gemm_into`].
fn check_gemm(a: MatRef<'_>, b: MatRef<'_>, c: &MatMut<'_>) {
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
    let (m, n) = (a.rows, b.cols);
    assert!(
        (c.rows, c.cols) == (m, n),
        "gemm C: a {} × {} view does not match {m} × {n}",
        c.rows,
        c.cols
    );
}

impl Accumulate {
    /// (α, β) of `C = α·A·B + β·C`.
    fn alpha_beta(self) -> (f32, f32) {
        match self {
            Accumulate::Overwrite => (1.0, 0.0),
            Accumulate::Add => (1.0, 1.0),
            Accumulate::Subtract => (-1.0, 1.0),
        }
    }
}

/// The raw parts of `C = α·A·B + β·C` for the product family's dispatch
/// point (the first `a.rows` rows of `c`).
fn product_job(
    a: MatRef<'_>,
    b: MatRef<'_>,
    alpha: f32,
    beta: f32,
    c: &MatMut<'_>,
) -> crate::dispatch::ProductJob {
    let strided = |v: MatRef<'_>| crate::dispatch::Strided {
        ptr: v.data.as_ptr(),
        rs: v.row_stride as isize,
        cs: v.col_stride as isize,
    };
    crate::dispatch::ProductJob {
        m: a.rows,
        k: a.cols,
        n: b.cols,
        alpha,
        a: strided(a),
        b: strided(b),
        beta,
        c: c.ptr,
        rsc: c.row_stride,
    }
}

/// The product of [`Kernels::gemm_into`], with its shape checks.
fn sgemm_into(path: Path, a: MatRef<'_>, b: MatRef<'_>, acc: Accumulate, c: MatMut<'_>) {
    let (alpha, beta) = acc.alpha_beta();
    sgemm_scaled_into(path, a, b, alpha, beta, c);
}

/// `C = α·A·B + β·C` through the product family's dispatch point (C not
/// read when β = 0).
fn sgemm_scaled_into(
    path: Path,
    a: MatRef<'_>,
    b: MatRef<'_>,
    alpha: f32,
    beta: f32,
    c: MatMut<'_>,
) {
    check_gemm(a, b, &c);
    let (m, k, n) = (a.rows, a.cols, b.cols);
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        // A·B is zero: C = β·C, and 0 when β = 0 (C not read).
        let mut c = c;
        for i in 0..m {
            let row = c.row_mut(i);
            if beta == 0.0 {
                row.fill(0.0);
            } else if beta != 1.0 {
                row.iter_mut().for_each(|v| *v *= beta);
            }
        }
        return;
    }
    let job = product_job(a, b, alpha, beta, &c);
    // SAFETY: `check_gemm` above (`MatRef::check`) proved that every
    // element (i, j) of A (m × k) and B (k × n) addressed through its
    // strides lies inside its slice; `c` is an m × n view (row stride
    // `row_stride`, columns adjacent) of an exclusively borrowed allocation
    // that holds every one of its elements (MatMut invariant), so it
    // overlaps neither input. Strides fit in isize because they index
    // within allocations. m, k, n > 0 (checked above).
    unsafe { crate::dispatch::product(path, job) };
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
