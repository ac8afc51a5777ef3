//! The exponential and logarithm family on every path: `exp`, `ln`,
//! `log1p`, the Box–Muller radius, `sin`/`cos` on a quarter turn, and the
//! loose `e^-v` of the certified Bernoulli bracket.
//!
//! All bodies are generic over [`Simd`] and use only the operations listed
//! there, without fused multiply-add, so the four paths agree bit for bit;
//! the one exception, [`exp_neg_loose`], is only read through a certified
//! bracket (see its docs).
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

/// Below ln(2^-126) = -87.3365 e^x is subnormal. The kernels flush results
/// for x < -87 to 0 rather than compute them, because x86 cores take a
/// microcode assist of the order of 100 cycles for every vector operation
/// that produces a subnormal, which made whole kernels several times slower
/// on inputs that mix in a few large negative values. The margin to -87.3365
/// keeps every intermediate (the scaled polynomial e^r 2^n with
/// e^r >= 0.707) normal for all x >= -87.
const EXP_LO: f32 = -87.0;

/// e^x for x <= 0 (the only arguments the kernels need: every caller
/// passes -|x| or -|x|/2); error below 1 ulp plus the final rounding for
/// x >= -87, and exactly 0 below -87 (where e^x < 1.65e-38): no operation
/// inside produces a subnormal. NaN in gives NaN out (the lower clamp
/// keeps a NaN operand), though callers that must return the input's own
/// NaN restore it with [`keep_nan`].
#[inline(always)]
pub(crate) fn exp_nonpos<S: Simd>(x: S) -> S {
    let flush = x.lt(S::splat(EXP_LO));
    // No upper clamp: x <= 0. `max(c, x)` returns `x` when it is NaN, so
    // NaN lanes stay NaN through the polynomial and the scaling.
    S::select(flush, S::zero(), exp_core(S::splat(EXP_LO).max(x)))
}

/// e^x for x in [-87, 0] (no clamping, no flushing; see [`exp_nonpos`]).
#[inline(always)]
fn exp_core<S: Simd>(x: S) -> S {
    // e^r = 1 + r + r^2 P(r) with P the degree-4 relative-error minimax fit
    // of (e^r - 1 - r)/r^2 on [-ln2/2, ln2/2] (Remez, f64, coefficients
    // rounded to f32): approximation error 3.1e-9 relative (0.05 ulp), so
    // Cephes' degree-5 P was one multiply-add more than f32 needs.
    exp_with(
        x,
        &[
            1.381_459_9e-3,
            8.368_717e-3,
            4.166_839e-2,
            1.666_652_1e-1,
            4.999_999_4e-1,
        ],
    )
}

/// e^x for x in [-87, 0] as 2^n (1 + r + r^2 P(r)), where n = round(x / ln 2),
/// r = x - n ln 2 in [-ln2/2, ln2/2] (Cody–Waite) and P has the
/// coefficients `p`, highest degree first (Horner, no FMA).
#[inline(always)]
fn exp_with<S: Simd, const D: usize>(x: S, p: &[f32; D]) -> S {
    let n = x.mul(S::splat(LOG2E)).round_small();
    let r = x.sub(n.mul(S::splat(LN2_HI))).sub(n.mul(S::splat(LN2_LO)));
    let mut acc = S::splat(p[0]);
    for &c in &p[1..] {
        acc = acc.mul(r).add(S::splat(c));
    }
    let er = acc.mul(r.mul(r)).add(r).add(S::splat(1.0));
    er.ldexp(n)
}

/// `x = 2^k m` with `m` in `[sqrt(1/2), sqrt(2))`, for finite positive
/// normal `x`; returns `(k as float, m)`. Integer operations only: biasing the
/// bits by those of sqrt(1/2) makes the exponent field carry exactly when the
/// significand of `x` exceeds that of f32 sqrt(2), so `m` is the same value
/// as Cephes' compare-and-halve reduction gives (and exact).
#[inline(always)]
fn ln_reduce<S: Simd>(x: S) -> (S, S) {
    let bits = x.to_bits();
    // 0x3f35_04f4 is one above the bits of f32 sqrt(1/2) = 0x3f35_04f3.
    let k = S::i_sra::<23>(S::i_sub(bits, S::i_splat(0x3f35_04f4)));
    let m = S::from_bits(S::i_sub(bits, S::i_shl::<23>(k)));
    (S::int_to_float(k), m)
}

/// ln x for finite positive normal x (about 1 ulp; Cephes logf).
#[inline(always)]
pub(crate) fn ln<S: Simd>(x: S) -> S {
    let (e, m) = ln_reduce(x);
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

/// The Box–Muller radius squared R² = -2 ln u1 for u1 = (k + 1/2) 2^-31,
/// where `k31` holds 31-bit integers k (so u1 is in (0, 1], never 0).
///
/// ln uses the reduction of [`ln`] and ln(1 + f) = f + f² P(f) with P the
/// degree-6 relative-error minimax fit on [sqrt(1/2) - 1, sqrt(2) - 1]
/// (Remez, f64; 1.8e-7 before rounding), and a single product e·ln 2: the
/// relative error of R² is below 1e-6 (so that of R = √R² below 5e-7),
/// tested against f64 on a dense sample of k. The factor 2^-31 is folded
/// into the exponent: fl(k + 1/2) 2^-31 is exactly the u1 a multiply would
/// give.
#[inline(always)]
pub(crate) fn box_muller_r2<S: Simd>(k31: S::Int) -> S {
    let (e, m) = ln_reduce(S::int_to_float(k31).add(S::splat(0.5)));
    let e = e.sub(S::splat(31.0));
    let f = m.sub(S::splat(1.0));
    let mut p = S::splat(-1.008_237_9e-1);
    p = p.mul(f).add(S::splat(1.618_05e-1));
    p = p.mul(f).add(S::splat(-1.724_322_4e-1));
    p = p.mul(f).add(S::splat(1.990_688_3e-1));
    p = p.mul(f).add(S::splat(-2.497_122_9e-1));
    p = p.mul(f).add(S::splat(3.333_471_4e-1));
    p = p.mul(f).add(S::splat(-5.000_032e-1));
    let ln = p
        .mul(f.mul(f))
        .add(f)
        .add(e.mul(S::splat(std::f32::consts::LN_2)));
    ln.mul(S::splat(-2.0))
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

/// sin and cos of θ for |θ| <= π/4, for the Box–Muller transform: sin is
/// Cephes' sinf polynomial (about 1 ulp), cos = 1 - θ²/2 + θ⁴ (c0 + c1 θ²)
/// with the relative-error minimax pair (Remez, f64), one term shorter than
/// Cephes' cosf and in Horner form: relative error below 2e-7 before
/// rounding.
#[inline(always)]
pub(crate) fn sincos_octant<S: Simd>(t: S) -> (S, S) {
    let z = t.mul(t);
    let mut s = S::splat(-1.951_529_6e-4);
    s = s.mul(z).add(S::splat(8.332_161e-3));
    s = s.mul(z).add(S::splat(-1.666_665_5e-1));
    let sin = s.mul(z).mul(t).add(t);
    let mut c = S::splat(-1.366_123_2e-3);
    c = c.mul(z).add(S::splat(4.166_199_6e-2));
    c = c.mul(z).add(S::splat(-0.5));
    let cos = c.mul(z).add(S::splat(1.0));
    (sin, cos)
}

/// e^x for x in [-87, 60] to about 3.8e-7 relative (3 ulp): [`exp_core`]
/// with a degree-3 P (least-squares fit of (e^r - 1 - r)/r^2 on
/// [-ln2/2, ln2/2] reweighted towards minimax relative error, f64,
/// coefficients rounded to f32), one multiply-add shorter, for the NReLU
/// noise scale, whose stated bound (2^-20) it meets with room to spare.
#[inline(always)]
pub(crate) fn exp_core_short<S: Simd>(x: S) -> S {
    exp_with(
        x,
        &[8.341_267e-3, 4.183_359_4e-2, 1.666_677_4e-1, 4.999_975e-1],
    )
}

/// Coefficients, lowest degree first, of the degree-3 relative-error
/// minimax fit of 2^f on [0, 1) (Remez, f64; 7.480e-5 with the
/// coefficients rounded to f32) used by [`exp_neg_loose`].
const EXP2_LOOSE: [f32; 4] = [0.999_925_2, 0.695_833_56, 0.226_067_16, 0.078_024_52];

/// The relative error bound of [`exp_neg_loose`] on v in [-88.7, 59.9], on every
/// path (fused or unfused multiply-adds): the fit's 7.48e-5, the rounding
/// of z = v·log2(e) (|z| <= 130, so up to 1.1e-5 in 2^z) and a few f32
/// roundings. Tested on a dense sweep of v below.
pub(crate) const EXP_NEG_LOOSE_ERR: f64 = 9.0e-5;

/// e^-v to within [`EXP_NEG_LOOSE_ERR`] (relative) for v in [-88.7, 59.9],
/// in seven operations on AVX-512: 2^z for z = -v·log2(e) by
/// [`Simd::exp2_cubic_loose`] with the cubic [`EXP2_LOOSE`], so **its bits
/// differ between paths**.
///
/// Outside that range it is an overestimate of e^-v, e^-59.96 at most
/// 1 + 9e-5 times (z is clamped to -86.5), for v > 59.9, and +inf or a
/// finite underestimate (at least 2^127) for v < -88.7; NaN in gives NaN
/// out. Only for certified brackets, which read it with a
/// margin wider than its error and are correct for every value it takes
/// outside that range (see `sample/bernoulli.rs`).
#[inline(always)]
pub(crate) fn exp_neg_loose<S: Simd>(v: S) -> S {
    v.mul(S::splat(-LOG2E)).exp2_cubic_loose(&EXP2_LOOSE)
}
