//! Uniform f32 in [0, 1) from the top 24 bits of each word.

use super::chunk::{ChunkOp, Input, Src, WordSource, by_rows, uniform};
use super::{Draw, per16};
use crate::simd::{BLOCK, Simd};
use crate::{Kernels, Stream};

/// The uniform distribution on [0, 1): the top 24 bits `k` of each random
/// word, as `k · 2^-24`.
///
/// ```
/// use nrelu_rbm_kernels::{Stream, Uniform};
/// let mut u = [0f32; 100];
/// Uniform.fill(&mut Stream::new(1, 0), &mut u);
/// assert!(u.iter().all(|&v| (0.0..1.0).contains(&v)));
/// ```
///
/// # Precision
/// Every value is an exact multiple of 2^-24 in `[0, 1 - 2^-24]`, each
/// with probability 2^-24 (0 included, 1 never). Consumes one block of 16
/// words per 16 outputs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Uniform;

impl Uniform {
    /// Fills `out` from `stream` on [`crate::active_path`]; see
    /// [`Kernels::uniform`].
    pub fn fill(&self, stream: &mut Stream, out: &mut [f32]) {
        Kernels::active().uniform(stream, out)
    }
}

/// Elements per chunk of the uniform and Bernoulli kernels: four blocks, so
/// that four independent dependency chains are in flight.
pub(super) const UCHUNK: usize = 4 * BLOCK;

struct UniformOp<'w, W>(&'w mut W);
impl<S: Simd, W: WordSource> ChunkOp<S, UCHUNK> for UniformOp<'_, W> {
    #[inline(always)]
    fn apply(&mut self, io: &mut [f32; UCHUNK], _src: Src<'_, UCHUNK>, len: usize) {
        for g in (0..len).step_by(BLOCK) {
            let w = self.0.take::<BLOCK>();
            for h in (0..BLOCK).step_by(S::LANES) {
                uniform::<S>(S::load_words(&w[h..])).store(&mut io[g + h..]);
            }
        }
    }
}

impl Draw for Uniform {
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
        by_rows::<S, _, _>(x, bias, out, row_len, &mut UniformOp(words))
    }
}
