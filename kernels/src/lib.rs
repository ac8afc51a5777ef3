//! # nrelu-rbm-kernels
//!
//! Slices in, slices out: the numerical core of `nrelu-rbm`, with no RBM
//! concepts. It provides
//!
//! * **math**: [`sigmoid`], [`softplus`], [`relu`] and the noise-free unit
//!   means [`binomial_mean`] and [`ssu_mean`];
//! * **random streams**: [`Stream`], eight xoshiro256++ lanes stepped in
//!   SIMD, each bit-identical to `rand_xoshiro::Xoshiro256PlusPlus`;
//! * **samplers** from pre-activations: [`bernoulli`], [`nrelu`],
//!   [`binomial`], [`ssu`] (the exact stepped sigmoid unit), plus
//!   [`Stream::uniform`] and [`Stream::standard_normal`];
//! * **fused affine transforms** `Y = act(X·W + b)` ([`Kernels::affine`])
//!   on the crate's own AVX-512 product for mini-batches (no packing of the
//!   weights) or matrixmultiply's sgemm, with the same bits;
//! * **update passes** of an optimiser step: [`Kernels::sgd_update`]
//!   (momentum, decay and a finiteness check in one pass),
//!   [`Kernels::column_sums`] and [`Kernels::squared_distance`] in f64.
//!
//! Every kernel exists in four paths — AVX-512, AVX2+FMA, portable (`wide`)
//! and scalar — chosen **at run time** ([`active_path`]; force one with
//! `NRELU_RBM_KERNEL=scalar|portable|avx2|avx512`). All paths give
//! **bit-identical** results: the element-wise code avoids FMA and
//! approximate instructions, and random numbers are consumed in fixed
//! 16-word blocks whatever the vector width.
//!
//! ## The NReLU convention
//! [`nrelu`] samples `max(0, x + N(0, σ(x)))` where σ(x) = 1/(1+e^-x) is the
//! noise **variance**: the noise standard deviation is √σ(x) (Nair & Hinton,
//! ICML 2010).
//!
//! ```
//! use nrelu_rbm_kernels::{nrelu, sigmoid, Stream};
//! let x = [-2.0f32, 0.0, 3.5];
//! let mut p = [0.0; 3];
//! sigmoid(&x, &mut p);
//! assert!((p[1] - 0.5).abs() < 1e-7);
//!
//! let mut h = [0.0; 3];
//! nrelu(&x, &mut h, &mut Stream::new(7, 0));
//! assert!(h.iter().all(|&v| v >= 0.0));
//! ```
//!
//! ## Panics
//! A length mismatch between slices is a programmer error: every kernel
//! panics with a message naming the lengths.
#![deny(clippy::undocumented_unsafe_blocks)]
#![warn(missing_docs)]

mod affine;
mod body;
mod dispatch;
#[cfg(target_arch = "x86_64")]
mod gemm512;
mod math;
pub mod reference;
mod rng;
mod simd;
mod update;

pub use affine::{
    Accumulate, AffineShape, AffineStrategy, Epilogue, MatMut, MatRef, SGEMM_ROW_TILE, WeightLayout,
};
pub use dispatch::{Family, KERNEL_ENV, Path, active_path, forced_path, last_path};
pub use rng::Stream;
pub use update::Sgd;

use body::{Input, RandomOp};
use dispatch::RandomJob;

/// Largest `K` accepted by the binomial kernels (counts stay exact in f32,
/// and the cost is K uniform draws per element).
pub const MAX_BINOMIAL_K: u32 = 1 << 16;

/// A deterministic element-wise activation, applied to `x + bias`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    /// `x` (just the bias add).
    Identity,
    /// σ(x) = 1/(1+e^-x): the Bernoulli mean.
    Sigmoid,
    /// ln(1 + e^x).
    Softplus,
    /// max(0, x): the noise-free NReLU.
    Relu,
    /// K σ(x): the binomial(K) mean.
    BinomialMean(u32),
    /// Σ_{i>=1} σ(x - i + 0.5): the stepped sigmoid mean.
    SsuMean,
}

/// A stochastic hidden-unit sampler, applied to the pre-activation `x + bias`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sampler {
    /// 1 with probability σ(x), else 0.
    Bernoulli,
    /// max(0, x + √σ(x)·z), z ~ N(0, 1): noise **variance** σ(x).
    Nrelu,
    /// Sum of K independent Bernoulli(σ(x)) draws.
    Binomial(u32),
    /// Σ_{i>=1} Bernoulli(σ(x - i + 0.5)): the exact stepped sigmoid unit.
    Ssu,
}

impl Sampler {
    /// Random blocks of 16 words consumed per 16 elements (normal-based
    /// samplers consume 2 blocks per 32 elements).
    pub fn blocks_per_16(self) -> usize {
        match self {
            Sampler::Bernoulli | Sampler::Nrelu => 1,
            Sampler::Binomial(k) => k as usize,
            Sampler::Ssu => math::SSU_BAND,
        }
    }
}

fn check_len(what: &str, got: usize, want: usize) {
    assert!(
        got == want,
        "{what}: length {got} does not match the output length {want}"
    );
}

fn check_bias(bias: &[f32], n: usize) {
    assert!(
        bias.is_empty() || bias.len() == n,
        "bias: length {} must be 0 or the output length {n}",
        bias.len()
    );
}

fn check_k(k: u32) {
    assert!(
        (1..=MAX_BINOMIAL_K).contains(&k),
        "binomial K = {k} must be in 1..={MAX_BINOMIAL_K}"
    );
}

/// Kernels bound to one [`Path`]. A `Kernels` value can only be made for a
/// path this CPU can run; [`Kernels::active`] is what the free functions use.
///
/// ```
/// use nrelu_rbm_kernels::{Kernels, Path};
/// let x = [0.25f32; 5];
/// let mut a = [0.0; 5];
/// let mut b = [0.0; 5];
/// Kernels::new(Path::Scalar).unwrap().softplus(&x, &mut a);
/// Kernels::active().softplus(&x, &mut b);
/// assert_eq!(a, b); // every path is bit-identical
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Kernels {
    path: Path,
}

impl Kernels {
    /// Kernels on `path`, or `None` if this CPU cannot run it.
    pub fn new(path: Path) -> Option<Kernels> {
        path.is_available().then_some(Kernels { path })
    }

    /// Kernels on [`active_path`].
    pub fn active() -> Kernels {
        Kernels {
            path: active_path(),
        }
    }

    /// The path these kernels run on.
    pub fn path(self) -> Path {
        self.path
    }

    fn map(self, act: Activation, x: &[f32], out: &mut [f32]) {
        check_len("x", x.len(), out.len());
        if let Activation::BinomialMean(k) = act {
            check_k(k);
        }
        dispatch::map(self.path, act, Input::Slice(x), &[], out);
    }

    /// `out[i] = σ(x[i])`. Accuracy: at most 4 ulp for every x >= -87
    /// (measured maximum 2.4 ulp, `docs/kernels.md`); exactly 0 for x < -87,
    /// where σ(x) < 1.65e-38 would be subnormal (flushed for speed);
    /// σ(+inf) = 1; NaN → NaN.
    ///
    /// # Panics
    /// If `x.len() != out.len()`.
    pub fn sigmoid(self, x: &[f32], out: &mut [f32]) {
        self.map(Activation::Sigmoid, x, out)
    }

    /// `out[i] = ln(1 + e^x[i])`. Accuracy: at most 4 ulp for every x >= -87
    /// (measured maximum 2.6 ulp); exactly 0 for x < -87 (flushed, as for
    /// [`Kernels::sigmoid`]); softplus(+inf) = +inf; NaN → NaN.
    ///
    /// # Panics
    /// If `x.len() != out.len()`.
    pub fn softplus(self, x: &[f32], out: &mut [f32]) {
        self.map(Activation::Softplus, x, out)
    }

    /// `out[i] = max(0, x[i])`, NaN → NaN: the noise-free NReLU mean.
    ///
    /// # Panics
    /// If `x.len() != out.len()`.
    pub fn relu(self, x: &[f32], out: &mut [f32]) {
        self.map(Activation::Relu, x, out)
    }

    /// `out[i] = K σ(x[i])`, the binomial(K) mean.
    ///
    /// # Panics
    /// If the lengths differ or K is not in `1..=MAX_BINOMIAL_K`.
    pub fn binomial_mean(self, k: u32, x: &[f32], out: &mut [f32]) {
        self.map(Activation::BinomialMean(k), x, out)
    }

    /// `out[i] = Σ_{j>=1} σ(x[i] - j + 0.5)`, the stepped sigmoid mean,
    /// summed over the 36 copies that are neither surely on nor surely off
    /// (absolute truncation error below 5e-8; see `docs/kernels.md`). For
    /// x >= 2^22 it returns x.
    ///
    /// # Panics
    /// If `x.len() != out.len()`.
    pub fn ssu_mean(self, x: &[f32], out: &mut [f32]) {
        self.map(Activation::SsuMean, x, out)
    }

    /// `inout[i] = act(inout[i] + bias[i])` in place; `bias` may be empty.
    ///
    /// # Panics
    /// If `bias` is neither empty nor as long as `inout`, or a binomial K is
    /// out of range.
    pub fn activate(self, act: Activation, bias: &[f32], inout: &mut [f32]) {
        check_bias(bias, inout.len());
        if let Activation::BinomialMean(k) = act {
            check_k(k);
        }
        dispatch::map(self.path, act, Input::InPlace, bias, inout);
    }

    /// `out[i] = act(x[i] + bias[i])`: [`Kernels::activate`] reading its
    /// input from `x` instead of `out` (the same bits as copying `x` into
    /// `out` and activating in place); `bias` may be empty.
    ///
    /// ```
    /// use nrelu_rbm_kernels::{Activation, Kernels};
    /// let k = Kernels::active();
    /// let mut out = [0.0f32; 3];
    /// k.activate_from(Activation::Relu, &[1.0, 1.0, 1.0], &[-2.0, 0.5, 3.0], &mut out);
    /// assert_eq!(out, [0.0, 1.5, 4.0]);
    /// ```
    ///
    /// # Panics
    /// If `x` is not as long as `out`, `bias` is neither empty nor as long
    /// as `out`, or a binomial K is out of range.
    pub fn activate_from(self, act: Activation, bias: &[f32], x: &[f32], out: &mut [f32]) {
        check_len("x", x.len(), out.len());
        check_bias(bias, out.len());
        if let Activation::BinomialMean(k) = act {
            check_k(k);
        }
        dispatch::map(self.path, act, Input::Slice(x), bias, out);
    }

    /// Fills `out` with raw random words: whole blocks of 16, the last one
    /// truncated (its unused words are discarded).
    pub fn fill_words(self, stream: &mut Stream, out: &mut [u32]) {
        let full = out.len() / Stream::BLOCK_WORDS * Stream::BLOCK_WORDS;
        let (head, tail) = out.split_at_mut(full);
        dispatch::random(self.path, RandomJob::Words(head), &mut stream.state);
        if !tail.is_empty() {
            let mut block = [0u32; Stream::BLOCK_WORDS];
            dispatch::random(self.path, RandomJob::Words(&mut block), &mut stream.state);
            tail.copy_from_slice(&block[..tail.len()]);
        }
    }

    fn random(self, op: RandomOp, x: Input<'_>, bias: &[f32], out: &mut [f32], s: &mut Stream) {
        let row_len = out.len();
        self.random_rows(op, x, bias, out, row_len, s)
    }

    fn random_rows(
        self,
        op: RandomOp,
        x: Input<'_>,
        bias: &[f32],
        out: &mut [f32],
        row_len: usize,
        s: &mut Stream,
    ) {
        if let RandomOp::Binomial(k) = op {
            check_k(k);
        }
        let job = RandomJob::Floats {
            op,
            x,
            bias,
            out,
            row_len,
        };
        dispatch::random(self.path, job, &mut s.state);
    }

    /// Uniform f32 in [0, 1): the top 24 bits of each word times 2^-24.
    pub fn uniform(self, stream: &mut Stream, out: &mut [f32]) {
        self.random(RandomOp::Uniform, Input::None, &[], out, stream)
    }

    /// Standard normal f32 by Box–Muller: for each group of 32 words,
    /// r = √(−2 ln u1) with u1 = (k + ½)·2^-31 from the top 31 bits of words
    /// 0..16, and angle 2π·u2 with u2 from the top 24 bits of words 16..32;
    /// outputs `r cos` then `r sin`. |z| <= 6.66 (the tail beyond has
    /// probability 2.7e-11 and is not produced).
    pub fn standard_normal(self, stream: &mut Stream, out: &mut [f32]) {
        self.random(RandomOp::Normal, Input::None, &[], out, stream)
    }

    /// Bernoulli units: `out[i] = 1` with probability `σ(x[i])`, else 0
    /// (`u < σ(x)` with a 24-bit uniform u, so probabilities are resolved to
    /// 2^-24). NaN → NaN.
    ///
    /// # Panics
    /// If `x.len() != out.len()`.
    pub fn bernoulli(self, x: &[f32], out: &mut [f32], stream: &mut Stream) {
        check_len("x", x.len(), out.len());
        self.random(RandomOp::Bernoulli, Input::Slice(x), &[], out, stream)
    }

    /// Noisy rectified linear units: `out[i] = max(0, x + √σ(x)·z)` with
    /// z ~ N(0, 1) from [`Kernels::standard_normal`]'s construction. The
    /// noise **variance** is σ(x) (standard deviation √σ(x)), as in Nair &
    /// Hinton (2010). NaN → NaN; +inf → +inf; -inf → 0.
    ///
    /// # Panics
    /// If `x.len() != out.len()`.
    pub fn nrelu(self, x: &[f32], out: &mut [f32], stream: &mut Stream) {
        check_len("x", x.len(), out.len());
        self.random(RandomOp::Nrelu, Input::Slice(x), &[], out, stream)
    }

    /// Binomial units: the exact sum of K independent Bernoulli(σ(x)) draws.
    /// Costs K uniforms per element.
    ///
    /// # Panics
    /// If the lengths differ or K is not in `1..=MAX_BINOMIAL_K`.
    pub fn binomial(self, k: u32, x: &[f32], out: &mut [f32], stream: &mut Stream) {
        check_len("x", x.len(), out.len());
        self.random(RandomOp::Binomial(k), Input::Slice(x), &[], out, stream)
    }

    /// Exact stepped sigmoid units: Σ_{j>=1} Bernoulli(σ(x - j + 0.5)).
    ///
    /// The 36 copies around x are sampled; the copies below them (each on
    /// with probability > 1 - 1.6e-8) count as on and those above are
    /// dropped. Both neglected sets have total probability of a wrong state
    /// below 2.5e-8, so the law is exact to within 5e-8 in total variation,
    /// for any x (x = 200 samples copies 183..218 and adds 182). For
    /// x >= 2^22, where f32 cannot hold unit steps, it returns x.
    ///
    /// # Panics
    /// If `x.len() != out.len()`.
    pub fn ssu(self, x: &[f32], out: &mut [f32], stream: &mut Stream) {
        check_len("x", x.len(), out.len());
        self.random(RandomOp::Ssu, Input::Slice(x), &[], out, stream)
    }

    /// Samples `sampler` in place at pre-activations `inout + bias`; `bias`
    /// may be empty.
    ///
    /// # Panics
    /// If `bias` is neither empty nor as long as `inout`, or a binomial K is
    /// out of range.
    pub fn sample(self, sampler: Sampler, bias: &[f32], inout: &mut [f32], stream: &mut Stream) {
        check_bias(bias, inout.len());
        self.random(sampler.into(), Input::InPlace, bias, inout, stream)
    }

    /// [`Kernels::sample`] on each row of `row_len` elements of `inout`, in
    /// order, with `bias` (empty or one row long) added to every row: the
    /// same bits and the same stream consumption as one `sample` call per
    /// row, in one dispatched call.
    ///
    /// ```
    /// use nrelu_rbm_kernels::{Kernels, Sampler, Stream};
    /// let k = Kernels::active();
    /// let bias = [0.5f32, -0.5, 0.0];
    /// let mut a = [1.0f32, 2.0, 3.0, -1.0, -2.0, -3.0];
    /// let mut b = a;
    /// k.sample_rows(Sampler::Nrelu, &bias, &mut a, 3, &mut Stream::new(5, 0));
    /// let mut s = Stream::new(5, 0);
    /// for row in b.chunks_exact_mut(3) {
    ///     k.sample(Sampler::Nrelu, &bias, row, &mut s);
    /// }
    /// assert_eq!(a, b);
    /// ```
    ///
    /// # Panics
    /// If `row_len` is 0 while `inout` is not empty, `row_len` does not
    /// divide `inout.len()`, `bias` is neither empty nor `row_len` long, or a
    /// binomial K is out of range.
    pub fn sample_rows(
        self,
        sampler: Sampler,
        bias: &[f32],
        inout: &mut [f32],
        row_len: usize,
        stream: &mut Stream,
    ) {
        if inout.is_empty() {
            return;
        }
        assert!(
            row_len > 0 && inout.len().is_multiple_of(row_len),
            "sample_rows: {} elements are not whole rows of {row_len}",
            inout.len()
        );
        check_bias(bias, row_len);
        self.random_rows(sampler.into(), Input::InPlace, bias, inout, row_len, stream)
    }

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
        let mut finite = true;
        dispatch::update(
            self.path,
            update::UpdateJob::Sgd {
                sgd,
                w,
                velocity,
                g,
                finite: &mut finite,
            },
        );
        finite
    }

    /// The rest of a momentum step whose `m·d + s·g` is already in
    /// `velocity` (for example written there by
    /// [`Kernels::gemm_scaled_into`] with α = s, β = m):
    /// `d ← d − λ·w; w ← w + d`, with `λ = decay`. Returns whether every
    /// new `w` is finite. The same source on every path, without fused
    /// multiply-adds, so the same bits.
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
        let mut finite = true;
        dispatch::update(
            self.path,
            update::UpdateJob::ApplyVelocity {
                decay,
                w,
                velocity,
                finite: &mut finite,
            },
        );
        finite
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
        dispatch::update(self.path, update::UpdateJob::ColumnSums { a, acc, out });
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
        dispatch::update(
            self.path,
            update::UpdateJob::ColumnSquaredDistances { a, b, out },
        );
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
        let mut out = true;
        dispatch::update(self.path, update::UpdateJob::AllFinite { a, out: &mut out });
        out
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
        let mut out = 0.0;
        dispatch::update(
            self.path,
            update::UpdateJob::SquaredDistance {
                a,
                b,
                out: &mut out,
            },
        );
        out
    }
}

macro_rules! free_fns {
    ($($(#[$doc:meta])* $name:ident($($arg:ident: $ty:ty),*);)*) => {$(
        $(#[$doc])*
        ///
        /// Runs on [`active_path`]; see the [`Kernels`] method of the same
        /// name for accuracy and panics.
        pub fn $name($($arg: $ty),*) {
            Kernels::active().$name($($arg),*)
        }
    )*};
}

free_fns! {
    /// `out[i] = σ(x[i])`.
    sigmoid(x: &[f32], out: &mut [f32]);
    /// `out[i] = ln(1 + e^x[i])`.
    softplus(x: &[f32], out: &mut [f32]);
    /// `out[i] = max(0, x[i])`.
    relu(x: &[f32], out: &mut [f32]);
    /// `out[i] = K σ(x[i])`.
    binomial_mean(k: u32, x: &[f32], out: &mut [f32]);
    /// `out[i] = Σ_{j>=1} σ(x[i] - j + 0.5)`.
    ssu_mean(x: &[f32], out: &mut [f32]);
    /// Bernoulli(σ(x)) samples.
    bernoulli(x: &[f32], out: &mut [f32], stream: &mut Stream);
    /// NReLU samples `max(0, x + N(0, σ(x)))`: noise **variance** σ(x).
    nrelu(x: &[f32], out: &mut [f32], stream: &mut Stream);
    /// Binomial(K, σ(x)) samples.
    binomial(k: u32, x: &[f32], out: &mut [f32], stream: &mut Stream);
    /// Exact stepped sigmoid unit samples.
    ssu(x: &[f32], out: &mut [f32], stream: &mut Stream);
}

impl Stream {
    /// Uniform f32 in [0, 1) on [`active_path`]; see [`Kernels::uniform`].
    pub fn uniform(&mut self, out: &mut [f32]) {
        Kernels::active().uniform(self, out)
    }

    /// Standard normal f32 on [`active_path`]; see
    /// [`Kernels::standard_normal`].
    pub fn standard_normal(&mut self, out: &mut [f32]) {
        Kernels::active().standard_normal(self, out)
    }

    /// Raw words on [`active_path`]; see [`Kernels::fill_words`].
    pub fn fill_words(&mut self, out: &mut [u32]) {
        Kernels::active().fill_words(self, out)
    }
}
