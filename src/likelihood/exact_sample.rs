//! Exact samples of an RBM whose smaller layer can be enumerated: that
//! layer is drawn from its exact marginal by inversion of the cumulative
//! distribution over all its states, and the caller draws the other layer
//! given it. Reverse AIS starts from such samples.

use super::{Enumerated, Enumeration};
use crate::kernels::Stream;
use crate::rbm::Rbm;
use rayon::prelude::*;

/// The exact marginal of the enumerated layer of an RBM, as a cumulative
/// distribution over its 2^m states in Gray-code order.
pub(crate) struct ExactSampler {
    /// The layer drawn.
    pub(crate) layer: Enumerated,
    /// Σ_{j ≤ i} p*(state j) with p* relative to the largest weight.
    cdf: Vec<f64>,
}

impl ExactSampler {
    /// The marginal of `layer` (which [`super::enumerable_layer`] allows),
    /// its log weights computed in 64 chunks (fewer for small layers) on the
    /// current rayon pool, or on the calling thread for `threads` 1; each
    /// weight is computed on its own, so the table does not depend on the
    /// threads.
    pub(crate) fn new(rbm: &Rbm, layer: Enumerated, threads: usize) -> ExactSampler {
        let states = Enumeration::new(rbm, layer);
        let total = 1usize << states.m;
        let per = total / total.min(64);
        let mut cdf = vec![0f64; total];
        let fill = |ci: usize, out: &mut [f64]| {
            let mut k = 0;
            states.visit(ci * per, per, |w| {
                out[k] = w;
                k += 1;
            });
        };
        if threads == 1 {
            cdf.chunks_mut(per)
                .enumerate()
                .for_each(|(ci, o)| fill(ci, o));
        } else {
            cdf.par_chunks_mut(per)
                .enumerate()
                .for_each(|(ci, o)| fill(ci, o));
        }
        let max = cdf.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let mut acc = 0f64;
        for c in &mut cdf {
            acc += (*c - max).exp();
            *c = acc;
        }
        ExactSampler { layer, cdf }
    }

    /// One state drawn from the marginal with a 53-bit uniform from
    /// `stream`: bit k of the result is unit k of the layer.
    pub(crate) fn draw(&self, stream: &mut Stream) -> usize {
        let mut w = [0u32; 2];
        stream.fill_words(&mut w);
        let bits = (u64::from(w[0]) | (u64::from(w[1]) << 32)) >> 11;
        let u = bits as f64 / (1u64 << 53) as f64;
        let target = u * self.cdf[self.cdf.len() - 1];
        let i = self
            .cdf
            .partition_point(|&c| c <= target)
            .min(self.cdf.len() - 1);
        i ^ (i >> 1)
    }
}
