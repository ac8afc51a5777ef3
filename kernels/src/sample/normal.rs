//! Standard normal f32 by the Box–Muller transform.

use super::chunk::{ChunkOp, Input, Src, WordSource, by_rows};
use super::{Draw, per32};
use crate::math::exp::{box_muller_r2, sincos_octant};
use crate::simd::{BLOCK, Simd};
use crate::{Kernels, Stream};

/// The standard normal distribution N(0, 1), by Box–Muller: for each group
/// of 32 words, r = √(−2 ln u1) with u1 = (k + ½)·2^-31 from the top 31
/// bits of words 0..16, and the angle from words 16..32; outputs `r cos`
/// then `r sin`.
///
/// ```
/// use nrelu_rbm_kernels::{StandardNormal, Stream};
/// let mut z = [0f32; 1000];
/// StandardNormal.fill(&mut Stream::new(2, 0), &mut z);
/// let mean = z.iter().map(|&v| f64::from(v)).sum::<f64>() / 1000.0;
/// assert!(mean.abs() < 0.2);
/// ```
///
/// # Precision
/// r² = −2 ln u1 to a relative error below 1e-6, sin and cos of the angle
/// below 2e-7; u1 is never 0, so |z| <= 6.66 (the tail beyond has
/// probability 2.7e-11 and is not produced). Consumes two blocks of 16
/// words per 32 outputs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StandardNormal;

impl StandardNormal {
    /// Fills `out` from `stream` on [`crate::active_path`]; see
    /// [`Kernels::standard_normal`].
    pub fn fill(&self, stream: &mut Stream, out: &mut [f32]) {
        Kernels::active().standard_normal(stream, out)
    }
}

/// The Box–Muller radius squared R² = -2 ln u1, with u1 = (k + 1/2) 2^-31
/// from the top 31 bits k of `w1` (so u1 is in (0, 1], never 0).
#[inline(always)]
pub(super) fn radius2<S: Simd>(w1: S::Int) -> S {
    box_muller_r2(S::i_shr::<1>(w1))
}

/// The Box–Muller direction (cos φ, sin φ) from `w2`.
///
/// φ is uniform on the whole turn as a uniform θ in (-π/4, π/4) followed by
/// a uniform element of the symmetry group of the square: θ = (2j + 1) π/2^26
/// from the low 24 bits of `w2` read as a signed j, and bits 31, 30 and 29
/// of `w2` swap the pair (cos θ, sin θ) and flip the sign of its first and
/// second member. The eight symmetries map the sector (-π/4, π/4) onto the
/// four quarter turns twice each, so φ is uniform. Swapping and flipping are
/// bit operations: no quadrant selects.
#[inline(always)]
pub(super) fn direction<S: Simd>(w2: S::Int) -> (S, S) {
    // 2j + 1 for the signed low 24 bits j: odd, |2j + 1| < 2^24 (exact).
    let odd = S::i_sra::<7>(S::i_or(S::i_shl::<8>(w2), S::i_splat(0x80)));
    let theta = S::int_to_float(odd).mul(S::splat(std::f32::consts::FRAC_PI_4 / 16_777_216.0));
    let (s, c) = sincos_octant(theta);
    let sign = S::i_splat(i32::MIN);
    let (cb, sb) = (c.to_bits(), s.to_bits());
    let swap = S::i_and(S::i_xor(cb, sb), S::i_sra::<31>(w2));
    let a = S::i_xor(S::i_xor(cb, swap), S::i_and(S::i_shl::<1>(w2), sign));
    let b = S::i_xor(S::i_xor(sb, swap), S::i_and(S::i_shl::<2>(w2), sign));
    (S::from_bits(a), S::from_bits(b))
}

/// Box–Muller on one vector of words from each half of a 32-word group:
/// the two normals r cos φ and r sin φ of every lane, r = √R².
#[inline(always)]
fn box_muller<S: Simd>(w1: S::Int, w2: S::Int) -> (S, S) {
    let r = radius2::<S>(w1).sqrt();
    let (a, b) = direction::<S>(w2);
    (r.mul(a), r.mul(b))
}

/// Box–Muller on 32 words: the normals of word pair (j, 16 + j) go to
/// `out[j]` and `out[16 + j]`.
#[inline(always)]
fn normal_group<S: Simd>(w: &[u32; 2 * BLOCK], out: &mut [f32; 2 * BLOCK]) {
    for h in (0..BLOCK).step_by(S::LANES) {
        let (z1, z2) = box_muller::<S>(S::load_words(&w[h..]), S::load_words(&w[BLOCK + h..]));
        z1.store(&mut out[h..]);
        z2.store(&mut out[BLOCK + h..]);
    }
}

/// Elements per chunk of the normal and NReLU kernels: two Box–Muller groups.
const NCHUNK: usize = 4 * BLOCK;

struct NormalOp<'w, W>(&'w mut W);
impl<S: Simd, W: WordSource> ChunkOp<S, NCHUNK> for NormalOp<'_, W> {
    #[inline(always)]
    fn apply(&mut self, io: &mut [f32; NCHUNK], _src: Src<'_, NCHUNK>, len: usize) {
        for g in (0..len).step_by(2 * BLOCK) {
            let out: &mut [f32; 2 * BLOCK] =
                (&mut io[g..g + 2 * BLOCK]).try_into().expect("one group");
            normal_group::<S>(&self.0.take::<{ 2 * BLOCK }>(), out);
        }
    }
}

impl Draw for StandardNormal {
    #[inline(always)]
    fn blocks(self, rows: usize, row_len: usize) -> usize {
        per32(rows, row_len)
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
        by_rows::<S, _, _>(x, bias, out, row_len, &mut NormalOp(words))
    }
}
