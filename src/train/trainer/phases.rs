//! The Gibbs phases of a step: the positive phase from the batch, then
//! the negative phase (k Gibbs steps of the chains, or sweeps of the
//! tempered chains under parallel tempering) that writes the negative
//! statistics `v⁻` and `−h⁻` next to the positive ones.

use super::{Trainer, halves, recon_error_in_gradient_region};
use crate::kernels::{Kernels, Stream};
use crate::parallel::Workers;
use crate::rbm::Rbm;
use crate::train::pass::{Layer, Pass, PassContext};
use crate::train::{Sampling, TrainConfig};

/// What the layer passes of a step share: the trainer's kernels, worker
/// threads and random streams, with Gaussian visible units sampled if the
/// run says so. (A function of the fields rather than a method, so that
/// the pass can borrow the trainer's buffers beside it.)
fn step_context<'a>(
    kernels: Kernels,
    workers: &'a Workers,
    streams: &'a mut [Stream],
    cfg: &TrainConfig,
) -> PassContext<'a> {
    PassContext {
        kernels,
        workers,
        streams,
        sample_visible: cfg.sample_visible,
    }
}

impl Trainer {
    /// The positive phase: the hidden means `h⁺` of the batch into the top
    /// half of `[h⁺; −h⁻]`, and hidden samples into the chain. Under PCD
    /// the chains keep their own samples, so the data's hidden samples are
    /// only drawn to start them.
    pub(super) fn positive_phase(&mut self, rbm: &Rbm, rows: usize) {
        let pcd = matches!(self.cfg.sampling, Sampling::Pcd(_));
        let layer = Layer::up(rbm).drawing_if(!pcd || !self.chains_started);
        let (x, _) = halves(&mut self.visible_stats, rows, self.n_visible);
        let (h_pos, _) = halves(&mut self.hidden_stats, rows, self.n_hidden);
        let mut ctx = step_context(self.kernels, &self.workers, &mut self.streams, &self.cfg);
        ctx.run(Pass {
            layer: &layer,
            balance: &self.balance.positive,
            input: x,
            rows,
            means: h_pos,
            samples: &mut self.hidden_chain,
        });
        self.chains_started = true;
    }

    /// The negative phase: k Gibbs steps from the hidden chain. The last
    /// step writes the negative statistics: `v⁻` straight into the bottom
    /// half of `[X; v⁻]` (the noise-free means under CD, the samples, the
    /// chains' states, under PCD) and `−h⁻` into the bottom half of
    /// `[h⁺; −h⁻]`. Returns the squared error of the first reconstruction
    /// when it is summed here (CD-k with k > 1), else 0.
    pub(super) fn negative_phase(&mut self, rbm: &Rbm, rows: usize) -> f64 {
        let sampling = self.cfg.sampling;
        let pcd = matches!(sampling, Sampling::Pcd(_));
        let steps = sampling.k();
        let mut sq = 0.0;
        for t in 1..=steps {
            let last = t == steps;
            self.reconstruct(rbm, rows, last);
            if t == 1 && !pcd && !recon_error_in_gradient_region(sampling) {
                sq = self.first_recon_error(rows, last);
            }
            self.negative_hidden_pass(rbm, rows, last);
        }
        sq
    }

    /// The negative phase under parallel tempering: k sweeps (each with its
    /// swaps) of the tempered chains, started at the first step from the
    /// data's hidden samples; `v⁻` and `−h⁻` from the β = 1 chain.
    pub(super) fn tempered_negative_phase(&mut self, rbm: &Rbm, rows: usize) {
        let (nv, nh, k) = (self.n_visible, self.n_hidden, self.kernels);
        let t = self.tempering.as_mut().expect("tempering is on");
        if !t.started {
            t.start(&self.hidden_chain);
        }
        t.run(k, &self.workers, rbm, rows, self.cfg.sampling.k());
        let (_, v_neg) = halves(&mut self.visible_stats, rows, nv);
        let (_, h_neg) = halves(&mut self.hidden_stats, rows, nh);
        t.negative_statistics(k, rbm, rows, v_neg, h_neg);
    }

    /// The pass down of one Gibbs step, from the hidden chain: the visible
    /// means and samples of the intermediate steps, or at the `last` step
    /// `v⁻` (the means under CD, which draws nothing then; the samples
    /// under PCD).
    fn reconstruct(&mut self, rbm: &Rbm, rows: usize, last: bool) {
        let pcd = matches!(self.cfg.sampling, Sampling::Pcd(_));
        let layer = Layer::down(rbm).drawing_if(!last || pcd);
        let (_, v_neg) = halves(&mut self.visible_stats, rows, self.n_visible);
        let (means, samples): (&mut [f32], &mut [f32]) = match (last, pcd) {
            (true, false) => (v_neg, &mut self.visible_samples),
            (true, true) => (&mut self.visible_means, v_neg),
            (false, _) => (&mut self.visible_means, &mut self.visible_samples),
        };
        let mut ctx = step_context(self.kernels, &self.workers, &mut self.streams, &self.cfg);
        ctx.run(Pass {
            layer: &layer,
            balance: &self.balance.down,
            input: &self.hidden_chain,
            rows,
            means,
            samples,
        });
    }

    /// The squared distance between the batch and its first, noise-free
    /// reconstruction (in `v⁻` if that step was the `last`).
    fn first_recon_error(&self, rows: usize, last: bool) -> f64 {
        let nv = self.n_visible;
        let (x, v_neg) = self.visible_stats[..2 * rows * nv].split_at(rows * nv);
        let recon = if last {
            v_neg
        } else {
            &self.visible_means[..rows * nv]
        };
        self.kernels.squared_distance(x, recon)
    }

    /// The pass up of one Gibbs step, from the visible states (the means
    /// `v⁻` at the end of CD, samples otherwise and for PCD chains): hidden
    /// means negated into the bottom half of `[h⁺; −h⁻]` (where the last
    /// step's are `−h⁻`) and, if another step follows or the chains
    /// persist, hidden samples into the chain.
    fn negative_hidden_pass(&mut self, rbm: &Rbm, rows: usize, last: bool) {
        let pcd = matches!(self.cfg.sampling, Sampling::Pcd(_));
        let layer = Layer::up(rbm)
            .drawing_if(!last || pcd)
            .negating_means_if(last);
        let nv = self.n_visible;
        let v_state: &[f32] = if last {
            &self.visible_stats[rows * nv..2 * rows * nv]
        } else {
            &self.visible_samples
        };
        let (_, h_neg) = halves(&mut self.hidden_stats, rows, self.n_hidden);
        let mut ctx = step_context(self.kernels, &self.workers, &mut self.streams, &self.cfg);
        ctx.run(Pass {
            layer: &layer,
            balance: &self.balance.negative_hidden,
            input: v_state,
            rows,
            means: h_neg,
            samples: &mut self.hidden_chain,
        });
    }
}
