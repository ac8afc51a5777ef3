//! Element-wise function bodies shared by every path: `exp`, `ln`, `log1p`,
//! `sigmoid`, `softplus`, `sin`/`cos` on a quarter turn, and the noise-free
//! unit means.
//!
//! All bodies are generic over [`Simd`] and use only the operations listed
//! there, without fused multiply-add, so the four paths agree bit for bit.
//! Polynomial coefficients are Cephes' single-precision minimax fits
//! (S. L. Moshier, *Cephes Math Library*, `expf.c`, `logf.c`, `sinf.c`).

use crate::simd::Simd;

/// log2(e) rounded to f32.
const LOG2E: f32 = std::f32::consts::LOG2_E;
/// ln 2 split for Cody–Waite range reduction: `LN2_HI` has 9 significant bits,
/// so `n * LN2_HI` is exact for the |n| <= 150 used here, and
/// `LN2_HI + LN2_LO` equals ln 2 to about 2^-37.
const LN2_HI: f32 = 0.693_359_4;
const LN2_LO: f32 = -2.121_944_4e-4;
/// exp overflows f32 above ln(f32::MAX) = 88.7228...; clamping there keeps
/// the exponent arithmetic in range and returns +inf through the scaling.
const EXP_HI: f32 = 88.722_84;
/// Below ln(2^-126) = -87.3365 e^x is subnormal. The kernels flush results
/// for x < -87 to 0 rather than compute them, because x86 cores take a
/// microcode assist of the order of 100 cycles for every vector operation
/// that produces a subnormal, which made whole kernels several times slower
/// on inputs that mix in a few large negative values. The margin to -87.3365
/// keeps every intermediate (the scaled polynomial e^r 2^n with
/// e^r >= 0.707) normal for all x >= -87.
const EXP_LO: f32 = -87.0;

/// e^x for every f32 x; error about 1 ulp for x >= -87, +inf above 88.72,
/// and 0 below -87 (where e^x < 1.65e-38): no operation inside produces a
/// subnormal. NaN in gives an unspecified value:
/// callers restore NaN with [`keep_nan`].
#[inline(always)]
pub(crate) fn exp<S: Simd>(x: S) -> S {
    let flush = x.lt(S::splat(EXP_LO));
    let x = x.max(S::splat(EXP_LO)).min(S::splat(EXP_HI));
    // n = round(x / ln 2); r = x - n ln 2 in [-ln2/2, ln2/2].
    let n = x.mul(S::splat(LOG2E)).round_small();
    let r = x.sub(n.mul(S::splat(LN2_HI))).sub(n.mul(S::splat(LN2_LO)));
    // e^r = 1 + r + r^2 * P(r), P a degree-5 minimax polynomial (Cephes expf).
    let mut p = S::splat(1.987_569_2e-4);
    p = p.mul(r).add(S::splat(1.398_199_9e-3));
    p = p.mul(r).add(S::splat(8.333_452e-3));
    p = p.mul(r).add(S::splat(4.166_579_6e-2));
    p = p.mul(r).add(S::splat(1.666_666_5e-1));
    p = p.mul(r).add(S::splat(0.5)); // Cephes: 5.0000001201e-1, which rounds to 0.5 in f32
    let er = p.mul(r.mul(r)).add(r).add(S::splat(1.0));
    S::select(flush, S::zero(), er.ldexp(n))
}

/// ln x for finite positive normal x (about 1 ulp; Cephes logf).
#[inline(always)]
pub(crate) fn ln<S: Simd>(x: S) -> S {
    let bits = x.to_bits();
    // x = m * 2^e with m in [1, 2).
    let e = S::i_sub(S::i_shr::<23>(bits), S::i_splat(127));
    let m = S::from_bits(S::i_or(
        S::i_and(bits, S::i_splat(0x007f_ffff)),
        S::i_splat(0x3f80_0000),
    ));
    let mut e = S::int_to_float(e);
    // Move m into [sqrt(1/2), sqrt(2)) so that f = m - 1 is small; both
    // `m * 0.5` and the subtraction are exact.
    let big = S::splat(std::f32::consts::SQRT_2).lt(m);
    let m = S::select(big, m.mul(S::splat(0.5)), m);
    e = S::select(big, e.add(S::splat(1.0)), e);
    let f = m.sub(S::splat(1.0));
    let z = f.mul(f);
    let mut y = S::splat(7.037_683_6e-2);
    y = y.mul(f).add(S::splat(-1.151_461e-1));
    y = y.mul(f).add(S::splat(1.167_699_9e-1));
    y = y.mul(f).add(S::splat(-1.242_014_1e-1));
    y = y.mul(f).add(S::splat(1.424_932_3e-1));
    y = y.mul(f).add(S::splat(-1.666_805_8e-1));
    y = y.mul(f).add(S::splat(2.000_071_4e-1));
    y = y.mul(f).add(S::splat(-2.499_999_4e-1));
    y = y.mul(f).add(S::splat(3.333_333e-1));
    y = y.mul(f).mul(z);
    y = y.add(e.mul(S::splat(LN2_LO)));
    y = y.sub(z.mul(S::splat(0.5)));
    f.add(y).add(e.mul(S::splat(LN2_HI)))
}

/// ln(1 + t) for t in [0, 1], with relative accuracy kept for tiny t by
/// Kahan's trick: with u = fl(1 + t), ln(1 + t) = ln(u) * t / (u - 1), where
/// u - 1 is exact (Sterbenz) and the quotient cancels the rounding of u.
#[inline(always)]
pub(crate) fn log1p_unit<S: Simd>(t: S) -> S {
    let u = t.add(S::splat(1.0));
    let d = u.sub(S::splat(1.0));
    let safe_d = S::select(d.eq(S::zero()), S::splat(1.0), d);
    S::select(d.eq(S::zero()), t, ln(u).mul(t.div(safe_d)))
}

/// Returns `x` in lanes where `x` is NaN and `y` elsewhere.
#[inline(always)]
pub(crate) fn keep_nan<S: Simd>(x: S, y: S) -> S {
    S::select(x.is_nan(), x, y)
}

/// σ(x) = 1 / (1 + e^-x), evaluated as 1/(1+t) or t/(1+t) with t = e^-|x|
/// so that no intermediate overflows and the small side keeps its relative
/// accuracy. σ(±inf) = 1 or 0 exactly; NaN propagates.
#[inline(always)]
pub(crate) fn sigmoid<S: Simd>(x: S) -> S {
    let (num, den) = sigmoid_ratio(x);
    keep_nan(x, num.div(den))
}

/// σ(x) as the ratio `num / den` = `(x < 0 ? t : 1) / (1 + t)`, t = e^-|x|,
/// for callers that can compare against it without dividing.
#[inline(always)]
pub(crate) fn sigmoid_ratio<S: Simd>(x: S) -> (S, S) {
    let t = exp(x.abs().neg());
    (
        S::select(x.lt(S::zero()), t, S::splat(1.0)),
        t.add(S::splat(1.0)),
    )
}

/// softplus(x) = ln(1 + e^x) = max(x, 0) + ln(1 + e^-|x|).
#[inline(always)]
pub(crate) fn softplus<S: Simd>(x: S) -> S {
    let t = exp(x.abs().neg());
    let r = x.max(S::zero()).add(log1p_unit(t));
    keep_nan(x, r)
}

/// max(x, 0) with NaN propagated.
#[inline(always)]
pub(crate) fn relu<S: Simd>(x: S) -> S {
    keep_nan(x, x.max(S::zero()))
}

/// sin and cos of θ for |θ| <= π/4 (Cephes sinf/cosf polynomials).
#[inline(always)]
pub(crate) fn sincos_octant<S: Simd>(t: S) -> (S, S) {
    let z = t.mul(t);
    let mut s = S::splat(-1.951_529_6e-4);
    s = s.mul(z).add(S::splat(8.332_161e-3));
    s = s.mul(z).add(S::splat(-1.666_665_5e-1));
    let sin = s.mul(z).mul(t).add(t);
    let mut c = S::splat(2.443_315_7e-5);
    c = c.mul(z).add(S::splat(-1.388_731_6e-3));
    c = c.mul(z).add(S::splat(4.166_664_6e-2));
    let cos = c.mul(z).mul(z).sub(z.mul(S::splat(0.5))).add(S::splat(1.0));
    (sin, cos)
}

/// Number of stepped-sigmoid copies sampled (or summed) around the input;
/// see [`ssu_band`].
pub(crate) const SSU_BAND: usize = 36;
/// Copies more than this far above the input are treated as always on.
const SSU_MARGIN: f32 = 17.0;
/// Inputs at or above this are returned unchanged by the SSU kernels: the
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

/// The noise-free stepped-sigmoid mean Σ_{i>=1} σ(x - i + 0.5), truncated to
/// the band of [`ssu_band`] (absolute truncation error < 5e-8), summed from
/// the smallest term up.
#[inline(always)]
pub(crate) fn ssu_mean<S: Simd>(x: S) -> S {
    let (below, a0) = ssu_band(x);
    let mut acc = S::zero();
    for d in (0..SSU_BAND).rev() {
        acc = acc.add(sigmoid(a0.sub(S::splat(d as f32))));
    }
    let r = below.add(acc);
    let r = S::select(x.lt(S::splat(SSU_BIG)), r, x);
    keep_nan(x, r)
}
