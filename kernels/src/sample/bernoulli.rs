//! Bernoulli units: 1 with probability σ(x), else 0.

use super::chunk::{ChunkOp, Input, Src, U24, WordSource, below, by_rows, top24};
use super::uniform::UCHUNK;
use super::{Draw, per16};
use crate::math::exp::{self, exp_neg_loose};
use crate::math::logistic::{keep_nan, sigmoid_ratio};
use crate::simd::multi::Multi;
use crate::simd::{BLOCK, Simd};
use crate::{Kernels, Stream};

/// Bernoulli units at pre-activation x: `1` with probability σ(x) =
/// 1/(1+e^-x), else `0`; NaN → NaN.
///
/// ```
/// use nrelu_rbm_kernels::{Bernoulli, Stream};
/// let mut h = [0f32; 3];
/// Bernoulli.sample(&[-100.0, 0.0, 100.0], &mut h, &mut Stream::new(3, 0));
/// assert_eq!((h[0], h[2]), (0.0, 1.0));
/// assert!(h[1] == 0.0 || h[1] == 1.0);
/// ```
///
/// # Precision
/// The event is `u < σ(x)` for a 24-bit uniform u, tested without a
/// division as `u·den < num` for σ(x) = num/den: probabilities are resolved
/// to 2^-24, and the event differs from comparing with the rounded σ only
/// within one rounding of σ. A fast certified bracket decides most lanes
/// from a cheaper e^-x and sends the rest to that exact test, so the
/// outputs are the exact test's, bit for bit, on every path. Consumes one
/// block of 16 words per 16 outputs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Bernoulli;

impl Bernoulli {
    /// Samples at pre-activations `x` into `out` on
    /// [`crate::active_path`]; see [`Kernels::bernoulli`].
    ///
    /// # Panics
    /// If `x.len() != out.len()`.
    pub fn sample(&self, x: &[f32], out: &mut [f32], stream: &mut Stream) {
        Kernels::active().bernoulli(x, out, stream)
    }
}

struct BernoulliOp<'w, W>(&'w mut W);

/// Half the width of the Bernoulli bracket, in units of 2^-24: q below
/// 2^24 (1 - 2^-13) is surely a 1, above 2^24 (1 + 2^-13) surely a 0.
const BERNOULLI_MARGIN: f32 = 2048.0;
// The margin covers the error of the cheap e^-v plus 2^-21 for the exact
// side's `exp` (2^-22) and the roundings of both sides.
const _: () =
    assert!(exp::EXP_NEG_LOOSE_ERR + 1.0 / 2_097_152.0 < BERNOULLI_MARGIN as f64 / 16_777_216.0);

/// The Bernoulli decision the exact way, from the top 24 bits `k` of the
/// words (as floats): u = k·2^-24 < σ(v) = num/den, tested as u·den < num
/// (den >= 1): no division, and the event differs from comparing with the
/// rounded quotient only within one rounding of σ (2^-24 relative), far
/// below any statistical resolution. NaN in gives NaN out.
#[inline(always)]
fn bernoulli_exact<S: Simd>(v: S, k: S) -> S {
    let u = k.mul(S::splat(U24));
    let (num, den) = sigmoid_ratio(v);
    keep_nan(v, below(u.mul(den), num))
}

/// The certified fast Bernoulli decision, or `None` when a lane is too close
/// to call.
///
/// u < σ(v) is the same event as q = u (1 + e^-v) < 1. With e^-v from
/// [`exp_neg_loose`] (relative error below 9e-5) and k = 2^24 u, the
/// computed q = k + k·e^-v differs from 2^24 times the quantity
/// [`bernoulli_exact`] compares (on either side of v = 0) by a factor within
/// 1 ± 9.1e-5 (that error, the 2^-22 of the exact `exp`, and the roundings of
/// both sides). So q < 2^24 - 2048 (2^-13 = 1.22e-4 below) proves the exact
/// result 1, and q > 2^24 + 2048 proves 0. Everything else goes to the exact
/// computation: lanes within the margin (probability 2^-12·σ(v), at most
/// 2.4e-4 each), NaN
/// (q is NaN), and k = 0 (q = 0 or NaN, and for v < -87 the exact result
/// is 0 even there). The outputs are therefore the exact ones, bit for bit,
/// on every path.
#[inline(always)]
fn bernoulli_certain<S: Simd>(v: S, k: S) -> Option<S> {
    let q = k.mul_add_loose(exp_neg_loose(v), k);
    let one = q.between(0.5, 16_777_216.0 - BERNOULLI_MARGIN);
    let zero = S::splat(16_777_216.0 + BERNOULLI_MARGIN).lt(q);
    S::mask_all(S::mask_or(one, zero)).then(|| S::select(one, S::splat(1.0), S::zero()))
}

/// Bernoulli on the `T::LANES` elements at offset `h` with words `w`: the
/// certified fast decision where it is sure of every lane, the exact one
/// otherwise and on the scalar reference path (which so checks the others
/// bit for bit).
#[inline(always)]
fn bernoulli_vector<T: Simd, const C: usize>(
    io: &mut [f32; C],
    src: Src<'_, C>,
    h: usize,
    w: &[u32],
) {
    let v: T = src.load(io, h);
    let k = top24::<T>(T::load_words(w));
    let fast = if T::REFERENCE {
        None
    } else {
        bernoulli_certain(v, k)
    };
    match fast {
        Some(y) => y.store(&mut io[h..]),
        None => bernoulli_exact(v, k).store(&mut io[h..]),
    }
}

/// Vectors that the Bernoulli kernel decides together on the paths with
/// fewer than 16 lanes: their operations interleave (see [`Multi`]), and
/// one branch serves them all (a mask test costs a `movemask` there). The
/// AVX-512 path decides vector by vector: its mask test is one `kortestw`,
/// and holding four results until one branch measured slower there
/// (`docs/benchmarks.md`).
type BernoulliWide<S> = Multi<S, 4>;

/// Bernoulli on a whole chunk with its words `w`, `T::LANES` elements per
/// decision.
#[inline(always)]
fn bernoulli_chunk<T: Simd>(io: &mut [f32; UCHUNK], src: Src<'_, UCHUNK>, w: &[u32; UCHUNK]) {
    for h in (0..UCHUNK).step_by(T::LANES) {
        bernoulli_vector::<T, UCHUNK>(io, src, h, &w[h..]);
    }
}

impl<S: Simd, W: WordSource> ChunkOp<S, UCHUNK> for BernoulliOp<'_, W> {
    #[inline(always)]
    fn apply(&mut self, io: &mut [f32; UCHUNK], src: Src<'_, UCHUNK>, len: usize) {
        if len == UCHUNK {
            let w = self.0.take::<UCHUNK>();
            if S::LANES >= 16 {
                bernoulli_chunk::<S>(io, src, &w);
            } else {
                bernoulli_chunk::<BernoulliWide<S>>(io, src, &w);
            }
        } else {
            for g in (0..len).step_by(BLOCK) {
                let w = self.0.take::<BLOCK>();
                for h in (0..BLOCK).step_by(S::LANES) {
                    bernoulli_vector::<S, UCHUNK>(io, src, g + h, &w[h..]);
                }
            }
        }
    }
}

impl Draw for Bernoulli {
    #[inline(always)]
    fn blocks(self, rows: usize, row_len: usize) -> usize {
        per16(rows, row_len)
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
        by_rows::<S, _, _>(x, bias, out, row_len, &mut BernoulliOp(words))
    }
}
