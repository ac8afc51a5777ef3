//! The logistic family on every path: σ(x), its ratio form, softplus, relu
//! and the NReLU noise scale √(σ(x) R²), built on [`super::exp`].

use super::exp::{exp_core_short, exp_nonpos, log1p_unit};
use crate::simd::Simd;

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
    keep_nan(x, softplus_from(x, exp_nonpos(x.neg_abs())))
}

/// softplus(x) given t = e^-|x| (for callers that need t too); NaN lanes
/// are not restored.
#[inline(always)]
pub(crate) fn softplus_from<S: Simd>(x: S, t: S) -> S {
    x.max(S::zero()).add(log1p_unit(t))
}

/// max(x, 0) with NaN propagated.
#[inline(always)]
pub(crate) fn relu<S: Simd>(x: S) -> S {
    keep_nan(x, x.max(S::zero()))
}

/// √(σ(x) R²): the NReLU noise standard deviation √σ(x) times the
/// Box–Muller radius √R², with one square root for both factors (the
/// direction cos φ or sin φ multiplies it to give √σ(x) z).
///
/// Computed as √(R² / (1 + e^-x)) with -x clamped to [-60, 60]: no select
/// between the two sides of [`sigmoid_ratio`] is needed, because e^-x for
/// x >= -60 is at most e^60 = 1.1e26 (a normal float, and `exp_with`
/// covers it: its scaling works for |n| <= 126), and R² / (1 + e^60) stays a
/// normal float for every R² > 0 (R² >= 6e-8; subnormal results cost a
/// microcode assist per vector, see `exp::EXP_LO`). For x < -60 the standard
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
