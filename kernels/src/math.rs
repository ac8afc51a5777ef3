//! Element-wise function bodies shared by every path: `exp`, `ln`, `log1p`,
//! `sigmoid`, `softplus`, `sin`/`cos` on a quarter turn, and the noise-free
//! unit means.
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
    // A NaN lane needs no select: `den` is NaN (see `exp_nonpos`), and so is
    // the quotient.
    let (num, den) = sigmoid_ratio(x);
    num.div(den)
}

/// σ(x) as the ratio `num / den` = `(x < 0 ? t : 1) / (1 + t)`, t = e^-|x|,
/// for callers that can compare against it without dividing.
#[inline(always)]
pub(crate) fn sigmoid_ratio<S: Simd>(x: S) -> (S, S) {
    let t = exp_nonpos(x.neg_abs());
    (
        S::select(x.lt(S::zero()), t, S::splat(1.0)),
        t.add(S::splat(1.0)),
    )
}

/// softplus(x) = ln(1 + e^x) = max(x, 0) + ln(1 + e^-|x|).
#[inline(always)]
pub(crate) fn softplus<S: Simd>(x: S) -> S {
    let t = exp_nonpos(x.neg_abs());
    let r = x.max(S::zero()).add(log1p_unit(t));
    keep_nan(x, r)
}

/// max(x, 0) with NaN propagated.
#[inline(always)]
pub(crate) fn relu<S: Simd>(x: S) -> S {
    keep_nan(x, x.max(S::zero()))
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

/// √(σ(x) R²): the NReLU noise standard deviation √σ(x) times the
/// Box–Muller radius √R², with one square root for both factors (the
/// direction cos φ or sin φ multiplies it to give √σ(x) z).
///
/// Computed as √(R² / (1 + e^-x)) with -x clamped to [-60, 60]: no select
/// between the two sides of [`sigmoid_ratio`] is needed, because e^-x for
/// x >= -60 is at most e^60 = 1.1e26 (a normal float, and [`exp_with`]
/// covers it: its scaling works for |n| <= 126), and R² / (1 + e^60) stays a
/// normal float for every R² > 0 (R² >= 6e-8; subnormal results cost a
/// microcode assist per vector, see `EXP_LO`). For x < -60 the standard
/// deviation is therefore √σ(-60) = 9.4e-14 instead of a smaller value,
/// which cannot change a sample: x + √σ z < -60 + 7e-13 < 0 either way
/// (|z| < 6.7). For x > 60, 1 + e^-x rounds to 1 either way. Relative error
/// against the exact √(σ(x) R²) for |x| <= 60: below 2^-20 (three
/// roundings and the exp error; tested below). NaN in gives a finite value
/// (see the body).
#[inline(always)]
pub(crate) fn nrelu_noise_scale<S: Simd>(x: S, r2: S) -> S {
    // `max(v, c)` returns `c` when `v` is NaN: a NaN x gets a finite scale,
    // so the caller's `x + scale·dir` meets only one NaN (the input's) and
    // returns it on every path; with two NaN operands the result's sign and
    // payload would depend on the compiler's operand order.
    let minus_x = S::from_bits(S::i_xor(x.to_bits(), S::i_splat(i32::MIN)));
    let e = exp_core_short(minus_x.max(S::splat(-60.0)).min(S::splat(60.0)));
    r2.div(e.add(S::splat(1.0))).sqrt()
}

/// e^x for x in [-87, 60] to about 3.8e-7 relative (3 ulp): [`exp_core`]
/// with a degree-3 P (least-squares fit of (e^r - 1 - r)/r^2 on
/// [-ln2/2, ln2/2] reweighted towards minimax relative error, f64,
/// coefficients rounded to f32), one multiply-add shorter, for the NReLU
/// noise scale, whose stated bound (2^-20) it meets with room to spare.
#[inline(always)]
fn exp_core_short<S: Simd>(x: S) -> S {
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
/// outside that range (see the Bernoulli sampler in `body.rs`).
#[inline(always)]
pub(crate) fn exp_neg_loose<S: Simd>(v: S) -> S {
    v.mul(S::splat(-LOG2E)).exp2_cubic_loose(&EXP2_LOOSE)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference;
    use crate::simd::scalar::Scalar;

    /// Every f32 in [lo, hi] with a step of `every` bit patterns, both signs.
    fn sweep(hi: f32, every: u32) -> impl Iterator<Item = f32> {
        (0..=hi.to_bits())
            .step_by(every as usize)
            .map(f32::from_bits)
            .flat_map(|v| [v, -v])
    }

    #[test]
    fn nrelu_noise_scale_is_within_2_pow_minus_20() {
        let bound = 2f64.powi(-20);
        let mut worst = (0f64, 0f32, 0f32);
        for r2 in [1.0f32, 6e-8, 0.37, 2.0, 13.5, 44.36] {
            for x in sweep(60.0, 97).chain([0.0, -0.0, 60.0, -60.0]) {
                let got = nrelu_noise_scale(Scalar(x), Scalar(r2)).0;
                let want = (reference::sigmoid(f64::from(x)) * f64::from(r2)).sqrt();
                let rel = (f64::from(got) - want).abs() / want;
                if rel > worst.0 {
                    worst = (rel, x, r2);
                }
            }
        }
        println!("nrelu_noise_scale worst {worst:?}");
        assert!(worst.0 <= bound, "worst {worst:?}");
        // Beyond |x| = 60: clamped, still exact enough to leave samples
        // unchanged, and never a subnormal.
        for x in [60.5f32, 88.0, 1e30, f32::INFINITY] {
            assert_eq!(nrelu_noise_scale(Scalar(x), Scalar(4.0)).0, 2.0);
            let lo = nrelu_noise_scale(Scalar(-x), Scalar(6e-8)).0;
            assert!(lo.is_normal() && lo < 1e-16, "{x}: {lo}");
        }
        assert_eq!(nrelu_noise_scale(Scalar(3.0), Scalar(0.0)).0, 0.0);
    }

    /// [`exp_neg_loose`] on every element of `v` (whole vectors), on `S`.
    #[inline(always)]
    fn exp_neg_loose_on<S: Simd>(v: &[f32]) -> Vec<f32> {
        let mut out = vec![0.0; v.len()];
        for (o, x) in out.chunks_exact_mut(S::LANES).zip(v.chunks_exact(S::LANES)) {
            exp_neg_loose(S::load(x)).store(o);
        }
        out
    }

    /// The paths whose arithmetic differs for `exp_neg_loose` (fused
    /// multiply-adds, `vreduceps`/`vscalefps`), as far as this CPU has them.
    fn exp_neg_loose_everywhere(v: &[f32]) -> Vec<(&'static str, Vec<f32>)> {
        let mut all = vec![("scalar", exp_neg_loose_on::<Scalar>(v))];
        all.push((
            "portable",
            exp_neg_loose_on::<crate::simd::portable::Portable>(v),
        ));
        #[cfg(target_arch = "x86_64")]
        {
            use crate::dispatch::Path;
            #[target_feature(enable = "avx2,fma")]
            fn avx2(v: &[f32]) -> Vec<f32> {
                exp_neg_loose_on::<crate::simd::avx2::Avx2>(v)
            }
            #[target_feature(enable = "avx512f,avx512dq")]
            fn avx512(v: &[f32]) -> Vec<f32> {
                exp_neg_loose_on::<crate::simd::avx512::Avx512>(v)
            }
            if Path::Avx2.is_available() {
                // SAFETY: the CPU has AVX2 and FMA (checked just above).
                all.push(("avx2", unsafe { avx2(v) }));
            }
            if Path::Avx512.is_available() {
                // SAFETY: the CPU has AVX-512F and AVX-512DQ (checked just
                // above).
                all.push(("avx512", unsafe { avx512(v) }));
            }
        }
        all
    }

    #[test]
    fn exp_neg_loose_is_within_its_bound_on_every_path() {
        // Every 331st f32 of [-88.7, 59.9] (both signs up to 59.9), whole
        // vectors of 16.
        let mut v: Vec<f32> = sweep(88.7, 331)
            .filter(|&x| x <= 59.9)
            .chain([0.0, -88.7, 59.9, 1e-30, -1e-30])
            .collect();
        v.resize(v.len().div_ceil(16) * 16, 0.0);
        for (path, got) in exp_neg_loose_everywhere(&v) {
            let mut worst = (0f64, 0f32);
            for (&x, &e) in v.iter().zip(&got) {
                let want = (-f64::from(x)).exp();
                let rel = (f64::from(e) - want).abs() / want;
                if rel > worst.0 {
                    worst = (rel, x);
                }
            }
            println!("exp_neg_loose on {path}: worst {worst:?}");
            assert!(worst.0 <= EXP_NEG_LOOSE_ERR, "{path}: worst {worst:?}");
        }
        // The bracket it feeds has room for this error, the exact exp's
        // 2^-22 and the roundings of both sides (see `body.rs`).
        assert!(EXP_NEG_LOOSE_ERR + 2f64.powi(-21) < 2f64.powi(-13));
    }

    #[test]
    fn exp_neg_loose_outside_its_range_keeps_the_brackets_sound() {
        // v > 59.9: an overestimate that is still far below 2^-24 (so
        // u (1 + e) rounds to u); v < -88.7: at least 2^127 or +inf; NaN
        // stays NaN.
        let mut v = vec![59.95f32, 60.0, 88.0, 104.0, 1e30, f32::INFINITY];
        let lo = [-88.75f32, -89.0, -100.0, -1e30, f32::NEG_INFINITY];
        v.extend(lo);
        v.extend([f32::NAN; 5]);
        for (path, got) in exp_neg_loose_everywhere(&v) {
            for (&x, &e) in v.iter().zip(&got) {
                if x.is_nan() {
                    assert!(e.is_nan(), "{path}: {x} -> {e}");
                } else if x > 0.0 {
                    assert!((0.0..1e-25).contains(&e), "{path}: {x} -> {e}");
                } else {
                    assert!(e >= 2f32.powi(127) || e.is_nan(), "{path}: {x} -> {e}");
                }
            }
        }
    }

    #[test]
    fn box_muller_r2_is_within_1e_6_relative() {
        // Dense in k, plus every k near both ends (u1 -> 0 and u1 -> 1).
        let ks = (0..1u32 << 31)
            .step_by(211)
            .chain(0..100_000)
            .chain((1u32 << 31) - 100_000..1u32 << 31);
        let mut worst = (0f64, 0u32);
        for k in ks {
            let got = box_muller_r2::<Scalar>(k as i32).0;
            // u1 as the kernel forms it: fl(fl(k) + 1/2) 2^-31.
            let u1 = f64::from(k as f32 + 0.5) / 2f64.powi(31);
            let want = -2.0 * u1.ln();
            let rel = if want == 0.0 {
                f64::from(got).abs()
            } else {
                (f64::from(got) - want).abs() / want
            };
            if rel > worst.0 {
                worst = (rel, k);
            }
        }
        assert!(worst.0 <= 1e-6, "worst {worst:?}");
    }

    #[test]
    fn sincos_octant_is_within_2e_7_relative() {
        let mut worst = 0f64;
        for i in -1_000_000..=1_000_000 {
            let t = i as f32 * (std::f32::consts::FRAC_PI_4 / 1_000_000.0);
            let (s, c) = sincos_octant(Scalar(t));
            let (ws, wc) = f64::from(t).sin_cos();
            if ws != 0.0 {
                worst = worst.max((f64::from(s.0) - ws).abs() / ws.abs());
            }
            worst = worst.max((f64::from(c.0) - wc).abs() / wc);
        }
        assert!(worst <= 2e-7 + 2.0 * 2f64.powi(-24), "worst {worst:e}");
    }
}
