//! The stepped sigmoid unit's band of copies and its noise-free mean.

use super::exp::exp_nonpos;
use super::logistic::{keep_nan, softplus_from};
use crate::simd::Simd;

/// Number of stepped-sigmoid copies sampled around the input; see
/// [`ssu_band`].
pub(crate) const SSU_BAND: usize = 36;

/// Copies more than this far above the input are treated as always on.
const SSU_MARGIN: f32 = 17.0;

/// Inputs at or above this are returned unchanged by the SSU sampler: the
/// f32 grid there is 0.5 or coarser, so a unit-spaced count is meaningless.
pub(crate) const SSU_BIG: f32 = 4_194_304.0; // 2^22

/// The band of stepped-sigmoid copies that are neither surely on nor surely
/// off. Copy i >= 1 has total input a_i = x - i + 0.5 and is on with
/// probability σ(a_i). With c = x + 0.5, the first copy of the band is
/// i0 = max(1, floor(c) - 17), so a_{i0} = c - i0 < 18 and the band covers
/// i0 .. i0 + 35, where a > -19. Returns `(i0 - 1, c - i0)`: the count of
/// copies below the band (each on with probability > 1 - 1.6e-8, total
/// off-probability < 2.5e-8) and a_{i0}. Copies above the band have total
/// on-probability < 2.5e-8. Only valid for c < [`SSU_BIG`].
#[inline(always)]
pub(crate) fn ssu_band<S: Simd>(x: S) -> (S, S) {
    let c = x.add(S::splat(0.5));
    let fl = c.min(S::splat(SSU_BIG)).floor_small();
    let i0 = fl.sub(S::splat(SSU_MARGIN)).max(S::splat(1.0));
    (i0.sub(S::splat(1.0)), c.sub(i0))
}

/// P's coefficients of w¹ … w⁷ (P(0) = 0), lowest degree first, rounded to
/// f32: the monomial coefficients of Σ_{k=1}^{7} c_k q_k(w) (see
/// [`ssu_mean`]). The first, Σ_k c_k, is e^½ / (e − 1) − 1 to 1e-10.
const SSU_MEAN_P: [f32; 7] = [
    -0.040_482_625,
    -0.006_424_302_7,
    -0.002_765_411_5,
    -0.001_881_234_3,
    -0.006_740_748,
    0.027_522_68,
    -0.083_323_16,
];

/// Below this input [`ssu_mean`] returns its leading term t (1 + P'(0)).
const SSU_TAIL_X: f32 = -80.0;

/// A floor on w inside the polynomial: below w(±80) ≈ 1.8e-35, so it changes
/// no lane with |x| <= 80, and it keeps P(w) w normal (near -4e-37) in the
/// lanes beyond, whose result does not use it. Subnormal intermediates
/// would cost a microcode assist per vector (see `exp::EXP_LO`).
const SSU_W_MIN: f32 = 1e-35;

/// The noise-free stepped-sigmoid mean Σ_{i>=1} σ(x - i + 0.5), in closed
/// form: softplus(x) + P(w), with w = σ(x) (1 - σ(x)) = t / (1 + t)² and
/// t = e^-|x| (shared with softplus).
///
/// The sum is the midpoint rule, on unit steps, for ∫_{-∞}^{x} σ =
/// softplus(x). By Euler–Maclaurin the difference is Σ_k c_k σ^(2k-1)(x)
/// with c_k = B_{2k}(½) / (2k)! (c_1 = -1/24), and every odd derivative of
/// σ is a polynomial q_k(w) of degree k, since it is even in x:
/// q_1 = w and q_{k+1} = w²(1 - 4w) q_k'' + w(1 - 6w) q_k'. The series is asymptotic; its
/// first seven terms leave at most 3.8e-8 absolute (measured against the
/// direct sum in f64 over x in [-87, 40]; the floor of the series is set by
/// the periodic remainder, of the order of e^(-2π²) ≈ 2.7e-9 times the
/// terms' growth). As x → -∞ every term is proportional to e^x and the
/// series converges, so relative accuracy holds down to x = -87; below
/// -80 the result is the leading term t (1 + P'(0)) = t e^½ / (e − 1),
/// whose relative error is of the order of t, and below -87 (where
/// [`exp_nonpos`] flushes t) it is 0. One exponential, two divisions (one
/// in [`log1p_unit`](super::exp::log1p_unit)), one logarithm and a degree-7 polynomial, instead of
/// a sum of [`SSU_BAND`] sigmoids; the tests check 1e-6 relative plus 5e-8
/// absolute against the direct sum, and 1e-6 relative alone on [-45, -10].
/// Multiplies and adds are separate, so every path gives the same bits.
/// For x > 87, t = 0 and the result is x itself (the sum equals x to f32
/// precision); ±∞ give +∞ and 0, NaN propagates.
#[inline(always)]
pub(crate) fn ssu_mean<S: Simd>(x: S) -> S {
    let t = exp_nonpos(x.neg_abs());
    let u = t.add(S::splat(1.0));
    let w = t.div(u.mul(u)).max(S::splat(SSU_W_MIN));
    let mut p = S::splat(SSU_MEAN_P[SSU_MEAN_P.len() - 1]);
    for &c in SSU_MEAN_P[..SSU_MEAN_P.len() - 1].iter().rev() {
        p = p.mul(w).add(S::splat(c));
    }
    let softplus = softplus_from(x, t);
    let tail = t.mul(S::splat(1.0 + SSU_MEAN_P[0]));
    let r = S::select(x.lt(S::splat(SSU_TAIL_X)), tail, softplus.add(p.mul(w)));
    keep_nan(x, r)
}
