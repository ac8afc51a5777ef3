//! Binomial units: the sum of K Bernoulli(σ(x)) draws, K checked once.

use super::chunk::{ChunkOp, Input, Src, WordSource, below, by_rows, uniform};
use super::{Draw, per16};
use crate::math::logistic::{keep_nan, sigmoid};
use crate::simd::{BLOCK, Simd};
use crate::{Kernels, Stream};

/// Largest `K` a [`Binomial`] takes (counts stay exact in f32, and the cost
/// is K uniform draws per element).
pub const MAX_BINOMIAL_K: u32 = 1 << 16;

/// Binomial units at pre-activation x: the exact sum of K independent
/// Bernoulli(σ(x)) draws, K in `1..=`[`MAX_BINOMIAL_K`]; NaN → NaN.
///
/// K is checked once, by [`Binomial::new`]; a `Binomial` value always holds
/// a valid K, so sampling cannot fail.
///
/// ```
/// use nrelu_rbm_kernels::{Binomial, BinomialError, Stream};
/// let b = Binomial::new(6)?;
/// let mut h = [0f32; 3];
/// b.sample(&[-100.0, 0.0, 100.0], &mut h, &mut Stream::new(5, 0));
/// assert_eq!((h[0], h[2]), (0.0, 6.0));
/// assert!(Binomial::new(0).is_err());
/// # Ok::<(), BinomialError>(())
/// ```
///
/// # Precision
/// Each of the K draws is `u < σ(x)` for a 24-bit uniform u, with σ(x)
/// within 4 ulp: probabilities are resolved to 2^-24. Consumes K blocks of
/// 16 words per 16 outputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Binomial {
    k: u32,
}

/// Why a [`Binomial`] could not be made.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinomialError {
    /// K is outside `1..=`[`MAX_BINOMIAL_K`].
    KOutOfRange(u32),
}

impl std::fmt::Display for BinomialError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BinomialError::KOutOfRange(k) => {
                write!(f, "binomial K = {k} must be in 1..={MAX_BINOMIAL_K}")
            }
        }
    }
}

impl std::error::Error for BinomialError {}

impl Binomial {
    /// The largest K, [`MAX_BINOMIAL_K`].
    pub const MAX_K: u32 = MAX_BINOMIAL_K;

    /// Binomial(K) units, or an error unless `1 <= k <= MAX_BINOMIAL_K`.
    pub const fn new(k: u32) -> Result<Binomial, BinomialError> {
        if k >= 1 && k <= MAX_BINOMIAL_K {
            Ok(Binomial { k })
        } else {
            Err(BinomialError::KOutOfRange(k))
        }
    }

    /// Binomial(K) units for a `K` known when compiling, checked then: an
    /// out-of-range `K` does not compile. For `const` items, where
    /// [`Binomial::new`]'s `Result` cannot be unwrapped.
    ///
    /// ```
    /// use nrelu_rbm_kernels::Binomial;
    /// const B: Binomial = Binomial::of::<8>();
    /// assert_eq!(B.k(), 8);
    /// ```
    ///
    /// ```compile_fail
    /// let b = nrelu_rbm_kernels::Binomial::of::<0>();
    /// ```
    pub const fn of<const K: u32>() -> Binomial {
        const {
            assert!(
                K >= 1 && K <= MAX_BINOMIAL_K,
                "binomial K must be in 1..=MAX_BINOMIAL_K"
            )
        };
        Binomial { k: K }
    }

    /// The number of Bernoulli draws per unit, K.
    pub const fn k(self) -> u32 {
        self.k
    }

    /// Samples at pre-activations `x` into `out` on
    /// [`crate::active_path`]; see [`Kernels::binomial`].
    ///
    /// # Panics
    /// If `x.len() != out.len()`.
    pub fn sample(&self, x: &[f32], out: &mut [f32], stream: &mut Stream) {
        Kernels::active().binomial(*self, x, out, stream)
    }
}

struct BinomialOp<'w, W>(&'w mut W, u32);
impl<S: Simd, W: WordSource> ChunkOp<S, BLOCK> for BinomialOp<'_, W> {
    #[inline(always)]
    fn apply(&mut self, io: &mut [f32; BLOCK], src: Src<'_, BLOCK>, _len: usize) {
        let mut x = [S::zero(); BLOCK];
        let mut p = [S::zero(); BLOCK];
        let mut acc = [S::zero(); BLOCK];
        for (v, h) in (0..BLOCK).step_by(S::LANES).enumerate() {
            x[v] = src.load(io, h);
            p[v] = sigmoid(x[v]);
        }
        for _ in 0..self.1 {
            let w = self.0.take::<BLOCK>();
            for (v, h) in (0..BLOCK).step_by(S::LANES).enumerate() {
                let u = uniform::<S>(S::load_words(&w[h..]));
                acc[v] = acc[v].add(below(u, p[v]));
            }
        }
        for (v, h) in (0..BLOCK).step_by(S::LANES).enumerate() {
            keep_nan(x[v], acc[v]).store(&mut io[h..]);
        }
    }
}

impl Draw for Binomial {
    #[inline(always)]
    fn blocks(self, rows: usize, row_len: usize) -> usize {
        per16(rows, row_len) * self.k as usize
    }

    #[inline(always)]
    fn rows<S: Simd, W: WordSource>(
        self,
        x: Input<'_>,
        bias: &[f32],
        out: &mut [f32],
        row_len: usize,
        words: &mut W,
    ) {
        by_rows::<S, _, _>(x, bias, out, row_len, &mut BinomialOp(words, self.k))
    }
}
