//! The stepped sigmoid unit's band of copies and its noise-free mean.

use super::logistic::{keep_nan, sigmoid};
use crate::simd::Simd;

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
