//! The trainer's evaluation: the reconstruction error of held rows,
//! through the trainer's buffers.

use super::Trainer;
use crate::rbm::Rbm;
use crate::train::pass::{Layer, Pass, PassContext};

impl Trainer {
    /// Mean squared error of noise-free reconstructions of the first `rows`
    /// rows of `data`, through the trainer's buffers (no allocation).
    pub(in crate::train) fn evaluate(&mut self, rbm: &Rbm, data: &[f32], rows: usize) -> f64 {
        let nv = self.n_visible;
        let up = Layer::up(rbm).drawing_if(false);
        let down = Layer::down(rbm).drawing_if(false);
        let mut ctx = PassContext {
            kernels: self.kernels,
            workers: &self.workers,
            streams: &mut self.streams,
            sample_visible: false,
        };
        let mut sq = 0.0;
        let mut r0 = 0;
        while r0 < rows {
            let r = self.batch_rows.min(rows - r0);
            let x = &data[r0 * nv..(r0 + r) * nv];
            ctx.run(Pass {
                layer: &up,
                balance: &self.balance.eval_up,
                input: x,
                rows: r,
                means: &mut self.hidden_stats,
                samples: &mut self.hidden_chain,
            });
            ctx.run(Pass {
                layer: &down,
                balance: &self.balance.eval_down,
                input: &self.hidden_stats,
                rows: r,
                means: &mut self.visible_means,
                samples: &mut self.visible_samples,
            });
            sq += ctx
                .kernels
                .squared_distance(x, &self.visible_means[..r * nv]);
            r0 += r;
        }
        sq / (rows * nv) as f64
    }
}
