//! The exact stepped sigmoid unit.

use super::chunk::{ChunkOp, Input, Src, WordSource, below, by_rows, uniform};
use super::{Draw, per16};
use crate::math::logistic::{keep_nan, sigmoid};
use crate::math::ssu::{SSU_BAND, SSU_BIG, ssu_band};
use crate::simd::{BLOCK, Simd};
use crate::{Kernels, Stream};

/// Exact stepped sigmoid units at pre-activation x:
/// Σ_{j>=1} Bernoulli(σ(x − j + ½)), the sum of infinitely many tied binary
/// units with offsets −½, −1½, … (Nair & Hinton, 2010), whose mean
/// [`crate::Activation::SsuMean`] computes.
///
/// ```
/// use nrelu_rbm_kernels::{Ssu, Stream};
/// let mut h = [0f32; 2];
/// Ssu.sample(&[-30.0, 200.0], &mut h, &mut Stream::new(4, 0));
/// assert_eq!(h[0], 0.0);
/// assert!((h[1] - 200.0).abs() < 20.0);
/// ```
///
/// # Precision
/// The 36 copies around x are sampled (each as [`crate::Bernoulli`] does,
/// to 2^-24); the copies below them (each on with a probability above
/// 1 − 1.6e-8) count as on and those above are dropped. Both neglected
/// sets have total probability of a wrong state below 2.5e-8, so the law
/// is exact to within 5e-8 in total variation, for any x. For x >= 2^22,
/// where f32 cannot hold unit steps, it returns x. Consumes 36 blocks of 16
/// words per 16 outputs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ssu;

impl Ssu {
    /// Samples at pre-activations `x` into `out` on
    /// [`crate::active_path`]; see [`Kernels::ssu`].
    ///
    /// # Panics
    /// If `x.len() != out.len()`.
    pub fn sample(&self, x: &[f32], out: &mut [f32], stream: &mut Stream) {
        Kernels::active().ssu(x, out, stream)
    }
}

struct SsuOp<'w, W>(&'w mut W);
impl<S: Simd, W: WordSource> ChunkOp<S, BLOCK> for SsuOp<'_, W> {
    #[inline(always)]
    fn apply(&mut self, io: &mut [f32; BLOCK], src: Src<'_, BLOCK>, _len: usize) {
        let mut x = [S::zero(); BLOCK];
        let mut a0 = [S::zero(); BLOCK];
        let mut acc = [S::zero(); BLOCK];
        for (v, h) in (0..BLOCK).step_by(S::LANES).enumerate() {
            x[v] = src.load(io, h);
            let (below_band, a) = ssu_band(x[v]);
            acc[v] = below_band;
            a0[v] = a;
        }
        for d in 0..SSU_BAND {
            let w = self.0.take::<BLOCK>();
            let shift = S::splat(d as f32);
            for (v, h) in (0..BLOCK).step_by(S::LANES).enumerate() {
                let u = uniform::<S>(S::load_words(&w[h..]));
                acc[v] = acc[v].add(below(u, sigmoid(a0[v].sub(shift))));
            }
        }
        for (v, h) in (0..BLOCK).step_by(S::LANES).enumerate() {
            let xv = x[v];
            let r = S::select(xv.lt(S::splat(SSU_BIG)), acc[v], xv);
            keep_nan(xv, r).store(&mut io[h..]);
        }
    }
}

impl Draw for Ssu {
    #[inline(always)]
    fn blocks(self, rows: usize, row_len: usize) -> usize {
        per16(rows, row_len) * SSU_BAND
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
        by_rows::<S, _, _>(x, bias, out, row_len, &mut SsuOp(words))
    }
}
