//! Matrix products `C (= | += | −= | = α·A·B + β·C)` on strided views, with
//! an optional fused epilogue `C = act(C + bias)` or a sample drawn at
//! `C + bias`: one entry, [`Kernels::product`], described by a
//! [`Product`].
//!
//! * `view.rs`: [`MatRef`] and [`MatMut`];
//! * `sgemm.rs`: the shape checks and the choice of kernel — the crate's
//!   own AVX-512 product (`avx512/`, no packing of `B`) on the AVX-512
//!   path for up to 256 rows, matrixmultiply's sgemm otherwise, with the
//!   same bits on a CPU with AVX-512;
//! * `small.rs`: the small-row product for the last `m % 16` rows of an
//!   unpadded product, which sgemm would pad to a whole tile;
//! * `tuning.rs`: the tuning constants, among them matrixmultiply's block
//!   of `k` that the AVX-512 product must match.
//!
//! The epilogue runs on each row of `C` through the crate's element-wise
//! and sampling kernels. Rows are always processed in order, each drawing
//! the blocks of its own (as [`Kernels::sample_rows`] does), so every
//! [`Schedule`] consumes a [`Stream`] the same way and produces
//! bit-identical output.

#[cfg(target_arch = "x86_64")]
mod avx512;
mod raw;
mod sgemm;
mod small;
mod tuning;
mod view;

pub use tuning::SGEMM_ROW_TILE;
pub use view::{MatMut, MatRef};

use crate::{Activation, Kernels, Sampler, Stream};

/// Whether a product (or [`Kernels::column_sums`]) overwrites or
/// accumulates into its output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accumulate {
    /// `C = A·B`.
    Overwrite,
    /// `C = C + A·B`.
    Add,
    /// `C = C − A·B`.
    Subtract,
}

/// What happens to each row of `C` after the product, at `C + bias`.
#[non_exhaustive]
#[derive(Debug)]
pub enum Epilogue<'s> {
    /// Nothing but the bias add, if there is a bias.
    None,
    /// A deterministic activation.
    Activation(Activation),
    /// Sampling from a stream (rows in order, one sampler call per row).
    Sample(Sampler, &'s mut Stream),
}

/// How the product and the epilogue are scheduled. All schedules give
/// bit-identical results; they differ only in speed, which the `affine`
/// benchmark group compares (`docs/benchmarks.md`).
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Schedule {
    /// One product, then a bias pass over `C`, then an activation pass.
    Unfused,
    /// One product, then a single fused bias+activation(+sampling) pass.
    Fused,
    /// The product on blocks of this many rows, each followed at once by the
    /// fused pass while the block is still in cache.
    RowBlocked(usize),
}

impl Schedule {
    /// The schedule a [`Product`] uses unless told otherwise: the fastest
    /// in the `affine` benchmark group.
    pub const DEFAULT: Schedule = Schedule::Fused;
}

/// How C receives the product.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Scale {
    Acc(Accumulate),
    Scaled { alpha: f32, beta: f32 },
}

/// The description of one [`Kernels::product`] call: how `C` receives
/// `A·B`, which rows are computed as whole sgemm tiles, and what follows.
///
/// ```
/// use nrelu_rbm_kernels::{Accumulate, Activation, Epilogue, Kernels, MatMut, MatRef, Product};
/// // C = relu(X·W + b) with X = [[1, 2]], W = [[1, 0, 1], [0, 1, 1]], b = [0, 0, -3].
/// let (x, w, b) = ([1.0f32, 2.0], [1.0f32, 0.0, 1.0, 0.0, 1.0, 1.0], [0.0f32, 0.0, -3.0]);
/// let mut y = [0.0f32; 3];
/// Kernels::active().product(
///     MatRef::row_major(&x, 1, 2),
///     MatRef::row_major(&w, 2, 3),
///     MatMut::row_major(&mut y, 1, 3),
///     Product::new(Accumulate::Overwrite).bias(&b).then(Epilogue::Activation(Activation::Relu)),
/// );
/// assert_eq!(y, [1.0, 2.0, 0.0]);
/// ```
#[derive(Debug)]
pub struct Product<'e> {
    scale: Scale,
    padded: bool,
    bias: &'e [f32],
    epilogue: Epilogue<'e>,
    schedule: Schedule,
}

impl<'e> Product<'e> {
    /// `C (= | += | −=) A·B` as `acc` says, unpadded, with no epilogue.
    ///
    /// Unpadded: the first `m / 16 · 16` rows go to sgemm as whole tiles
    /// of [`SGEMM_ROW_TILE`] rows, and the rest (at most 15) to a small-row
    /// product that computes each element as one fixed sum, the same on
    /// every path (`docs/kernels.md`, "Products"), instead of a padded
    /// tile of 16 rows. So the result does not depend on how the columns
    /// of B and C are split between calls, or on the path; it does depend
    /// on `m` (a row split moves rows between the two parts), so split
    /// rows only at multiples of 16. The small-row part needs contiguous
    /// rows of A and contiguous rows or columns of B; otherwise the whole
    /// product is [`Product::padded`].
    pub fn new(acc: Accumulate) -> Product<'e> {
        Product {
            scale: Scale::Acc(acc),
            padded: false,
            bias: &[],
            epilogue: Epilogue::None,
            schedule: Schedule::DEFAULT,
        }
    }

    /// `C = α·A·B + β·C` through sgemm, for folding a scaled update into
    /// the product (`W ← (1 − λ)·W + s·G` without a buffer for `G`). With
    /// β = 0, `C` is not read (NaN in it is overwritten). Always whole
    /// sgemm tiles ([`Product::padded`]).
    ///
    /// Bits: with α = ±1 and β ∈ {0, 1} ([`Product::new`]) every rounding
    /// is independent of the tiling, but matrixmultiply may round whole
    /// tiles of C and the ragged tiles at the edges of a call differently
    /// (its AVX-512 and AVX2+FMA kernels: `fma(α, AB, β·C)` against
    /// `β·C + α·AB`). So the result may depend on where each call's tiles
    /// fall: split a product between calls only at rows and columns that
    /// are multiples of [`SGEMM_ROW_TILE`] (16, a multiple of every
    /// micro-kernel's tile size), and every element is then computed the
    /// same way for any split. It does not depend on the kernel path: the
    /// AVX-512 path's own kernel reproduces matrixmultiply's roundings,
    /// ragged tiles included.
    ///
    /// ```
    /// use nrelu_rbm_kernels::{Kernels, MatMut, MatRef, Product};
    /// let a = [1.0f32, 2.0]; // 1 × 2
    /// let b = [3.0f32, 4.0]; // 2 × 1
    /// let mut c = [10.0f32];
    /// Kernels::active().product(
    ///     MatRef::row_major(&a, 1, 2),
    ///     MatRef::row_major(&b, 2, 1),
    ///     MatMut::row_major(&mut c, 1, 1),
    ///     Product::scaled(0.5, 0.5),
    /// );
    /// assert_eq!(c, [0.5 * 11.0 + 0.5 * 10.0]);
    /// ```
    pub fn scaled(alpha: f32, beta: f32) -> Product<'e> {
        Product {
            scale: Scale::Scaled { alpha, beta },
            padded: true,
            ..Product::new(Accumulate::Overwrite)
        }
    }

    /// Every row through sgemm, the last row tile padded to 16 rows: every
    /// element of `C` gets the same bits whichever way the rows of `A` or
    /// the columns of `B` (with the matching columns of `C`) are split
    /// between calls. This is the bare product the unpadded and fused
    /// forms are measured against.
    pub fn padded(self) -> Product<'e> {
        Product {
            padded: true,
            ..self
        }
    }

    /// Adds `bias` (one entry per column of `C`, or empty) to every row of
    /// `C` before the epilogue.
    pub fn bias(self, bias: &'e [f32]) -> Product<'e> {
        Product { bias, ..self }
    }

    /// What follows the product on every row of `C` (at `C + bias`).
    pub fn then(self, epilogue: Epilogue<'e>) -> Product<'e> {
        Product { epilogue, ..self }
    }

    /// How the product and the epilogue are interleaved (the same bits for
    /// every schedule).
    pub fn schedule(self, schedule: Schedule) -> Product<'e> {
        Product { schedule, ..self }
    }
}

impl Kernels {
    /// The matrix product `C (= | += | −= | = α·A·B + β·C)` with `A` and `B`
    /// strided views and `C` a row-major view (possibly a block of columns
    /// of a larger matrix), followed by the epilogue of `how`; see
    /// [`Product`] for the forms and their bits.
    ///
    /// # Panics
    /// If the inner dimensions differ, a view does not fit in its slice,
    /// `c` is not `a.rows × b.cols`, the bias is neither empty nor
    /// `b.cols` long, or the schedule is `RowBlocked(0)`.
    pub fn product(self, a: MatRef<'_>, b: MatRef<'_>, c: MatMut<'_>, how: Product<'_>) {
        sgemm::check_gemm(a, b, &c);
        let Product {
            scale,
            padded,
            bias,
            mut epilogue,
            schedule,
        } = how;
        let (m, n) = (a.rows, b.cols);
        assert!(
            bias.is_empty() || bias.len() == n,
            "bias: length {} must be 0 or the {n} columns of C",
            bias.len()
        );
        let split = if padded || matches!(scale, Scale::Scaled { .. }) {
            m
        } else {
            sgemm::unpadded_split(m)
        };
        let has_epilogue = !bias.is_empty() || !matches!(epilogue, Epilogue::None);
        if !has_epilogue {
            return self.product_rows(a, b, c, scale, split);
        }
        if m == 0 || n == 0 {
            return;
        }
        let mut c = c;
        match schedule {
            Schedule::Unfused => {
                self.product_rows(a, b, c.reborrow(), scale, split);
                if !bias.is_empty() {
                    for r in 0..m {
                        self.activate(Activation::Identity, bias, c.row_mut(r));
                    }
                }
                self.epilogue_rows(&mut c, 0, m, &[], &mut epilogue);
            }
            Schedule::Fused => {
                self.product_rows(a, b, c.reborrow(), scale, split);
                self.epilogue_rows(&mut c, 0, m, bias, &mut epilogue);
            }
            Schedule::RowBlocked(block) => {
                assert!(
                    block > 0,
                    "RowBlocked(0): a row block needs at least one row"
                );
                let mut r0 = 0;
                while r0 < m {
                    let r1 = (r0 + block).min(m);
                    let (_, below) = c.reborrow().split_at_row(r0);
                    let (rows, _) = below.split_at_row(r1 - r0);
                    let local = split.clamp(r0, r1) - r0;
                    self.product_rows(a.rows_range(r0, r1), b, rows, scale, local);
                    self.epilogue_rows(&mut c, r0, r1, bias, &mut epilogue);
                    r0 = r1;
                }
            }
        }
    }

    /// The product of rows `0..split` as whole sgemm tiles and the rest
    /// unpadded (`split = a.rows` for all of it padded). Shapes checked.
    fn product_rows(self, a: MatRef<'_>, b: MatRef<'_>, c: MatMut<'_>, scale: Scale, split: usize) {
        match scale {
            Scale::Acc(acc) => sgemm::split(self.path, a, b, acc, c, split),
            Scale::Scaled { alpha, beta } => sgemm::scaled(self.path, a, b, alpha, beta, c),
        }
    }

    /// The epilogue at rows `r0..r1` of `c` (`bias` empty or one row long).
    fn epilogue_rows(
        self,
        c: &mut MatMut<'_>,
        r0: usize,
        r1: usize,
        bias: &[f32],
        epilogue: &mut Epilogue<'_>,
    ) {
        match epilogue {
            Epilogue::None if bias.is_empty() => {}
            Epilogue::None => {
                for r in r0..r1 {
                    self.activate(Activation::Identity, bias, c.row_mut(r));
                }
            }
            Epilogue::Activation(act) => {
                for r in r0..r1 {
                    self.activate(*act, bias, c.row_mut(r));
                }
            }
            Epilogue::Sample(sampler, stream) => {
                let n = c.cols;
                match c.rows_slice_mut(r0, r1) {
                    // One call for all rows: the same bits as a call per row.
                    Some(rows) => self.sample_rows(*sampler, bias, rows, n, stream),
                    None => {
                        for r in r0..r1 {
                            self.sample(*sampler, bias, c.row_mut(r), stream);
                        }
                    }
                }
            }
        }
    }
}
