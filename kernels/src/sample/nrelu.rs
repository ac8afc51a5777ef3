//! Noisy rectified linear units (Nair & Hinton, 2010).

use super::chunk::{ChunkOp, Input, Src, WordSource, by_rows};
use super::normal::{direction, radius2};
use super::{Draw, per32};
use crate::math::logistic::nrelu_noise_scale;
use crate::simd::multi::Multi;
use crate::simd::{BLOCK, Simd};
use crate::{Kernels, Stream};

/// Noisy rectified linear units at pre-activation x:
/// `max(0, x + √σ(x)·z)` with z ~ N(0, 1).
///
/// **The noise variance is σ(x)** = 1/(1+e^-x) (standard deviation
/// √σ(x)), the convention of Nair & Hinton (ICML 2010): the noise of the
/// sum of infinitely many tied binary units with offsets −½, −1½, … .
/// NaN → NaN; +inf → +inf; −inf → 0.
///
/// ```
/// use nrelu_rbm_kernels::{Nrelu, Stream};
/// let mut h = [0f32; 3];
/// Nrelu.sample(&[-50.0, 0.0, 3.5], &mut h, &mut Stream::new(7, 0));
/// assert_eq!(h[0], 0.0);
/// assert!(h.iter().all(|&v| v >= 0.0));
/// ```
///
/// # Precision
/// z is [`crate::StandardNormal`]'s construction; the scale √σ(x) and the
/// Box–Muller radius come from one square root of σ(x)·r², within 2^-20
/// relative for |x| <= 60 (beyond, σ is clamped at σ(±60), which cannot
/// change a sample). Consumes two blocks of 16 words per 32 outputs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Nrelu;

impl Nrelu {
    /// Samples at pre-activations `x` into `out` on
    /// [`crate::active_path`]; see [`Kernels::nrelu`].
    ///
    /// # Panics
    /// If `x.len() != out.len()`.
    pub fn sample(&self, x: &[f32], out: &mut [f32], stream: &mut Stream) {
        Kernels::active().nrelu(x, out, stream)
    }
}

/// One NReLU output max(0, x + √σ(x) z) for the normal z = √R² `dir`,
/// computed as x + √(σ(x) R²) `dir` (one square root for both factors), NaN
/// propagated.
#[inline(always)]
fn nrelu_one<S: Simd>(x: S, r2: S, dir: S) -> S {
    // For a NaN x the scale is finite, so y is x's own NaN (quieted) on
    // every path, and `max(0, y)` returns y when it is NaN: no select is
    // needed. Adding 0 turns the -0 that `max(0, -0)` returns into +0.
    let y = x.add(nrelu_noise_scale(x, r2).mul(dir));
    S::zero().max(y).add(S::zero())
}

/// Box–Muller groups per chunk of the NReLU kernel.
const NGROUPS: usize = 2;
/// Elements per chunk of the NReLU kernel.
const NRCHUNK: usize = NGROUPS * 2 * BLOCK;

struct NreluOp<'w, W>(&'w mut W);
impl<S: Simd, W: WordSource> ChunkOp<S, NRCHUNK> for NreluOp<'_, W> {
    #[inline(always)]
    fn apply(&mut self, io: &mut [f32; NRCHUNK], src: Src<'_, NRCHUNK>, len: usize) {
        // The normals stay in registers: each Box–Muller pair is used at
        // once by the two outputs it belongs to (j and 16 + j of a group).
        if len > NRCHUNK - 2 * BLOCK {
            // Every group of the chunk holds data (a short last chunk too,
            // when its last group is partly filled: its padding lanes are
            // computed from zeros and discarded), so the chunk takes all its
            // words at once and runs the groups interleaved.
            let w = self.0.take::<NRCHUNK>();
            for h in (0..BLOCK).step_by(S::LANES) {
                let mut w1 = [S::i_splat(0); NGROUPS];
                let mut w2 = [S::i_splat(0); NGROUPS];
                let mut x1 = [S::zero(); NGROUPS];
                let mut x2 = [S::zero(); NGROUPS];
                for g in 0..NGROUPS {
                    w1[g] = S::load_words(&w[2 * BLOCK * g + h..]);
                    w2[g] = S::load_words(&w[2 * BLOCK * g + BLOCK + h..]);
                    x1[g] = src.load(io, 2 * BLOCK * g + h);
                    x2[g] = src.load(io, 2 * BLOCK * g + BLOCK + h);
                }
                let r2 = radius2::<Multi<S, NGROUPS>>(w1);
                let (a, b) = direction::<Multi<S, NGROUPS>>(w2);
                let y1 = nrelu_one(Multi(x1), r2, a);
                let y2 = nrelu_one(Multi(x2), r2, b);
                for g in 0..NGROUPS {
                    y1.0[g].store(&mut io[2 * BLOCK * g + h..]);
                    y2.0[g].store(&mut io[2 * BLOCK * g + BLOCK + h..]);
                }
            }
            return;
        }
        for g in (0..len).step_by(2 * BLOCK) {
            let w = self.0.take::<{ 2 * BLOCK }>();
            for h in (g..g + BLOCK).step_by(S::LANES) {
                let r2 = radius2::<S>(S::load_words(&w[h - g..]));
                let (a, b) = direction::<S>(S::load_words(&w[BLOCK + h - g..]));
                let x1: S = src.load(io, h);
                let x2: S = src.load(io, BLOCK + h);
                nrelu_one(x1, r2, a).store(&mut io[h..]);
                nrelu_one(x2, r2, b).store(&mut io[BLOCK + h..]);
            }
        }
    }
}

impl Draw for Nrelu {
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
        by_rows::<S, _, _>(x, bias, out, row_len, &mut NreluOp(words))
    }
}
