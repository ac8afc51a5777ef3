//! The updates of a step: the weights in the gradient region (the
//! gradient product folded into the update, with momentum and decay), then
//! the biases by the same rule without decay.

use super::{Trainer, recon_error_in_gradient_region};
use crate::kernels::{Accumulate, MatMut, MatRef, Product, SGEMM_ROW_TILE};
use crate::rbm::Rbm;
use crate::train::TrainConfig;
use crate::train::centering::Centering;
use std::sync::atomic::{AtomicBool, Ordering};

/// The step sizes of one update: momentum m, decay ηλ and gradient scale
/// η/B for a batch of B rows.
#[derive(Clone, Copy)]
pub(super) struct Rates {
    momentum: f32,
    decay: f32,
    scale: f32,
}

impl Rates {
    pub(super) fn new(cfg: &TrainConfig, rows: usize) -> Rates {
        let lr = cfg.learning_rate;
        Rates {
            momentum: cfg.momentum,
            decay: lr * cfg.weight_decay,
            scale: lr / rows as f32,
        }
    }
}

impl Trainer {
    /// The gradient region: one parallel phase over parts of the visible
    /// units (rows of W). The gradient rows
    /// G = Xᵀh⁺ − v⁻ᵀh⁻ = [X; v⁻]ᵀ [h⁺; −h⁻] (one product with inner
    /// dimension 2B) go straight into the update through sgemm's α and β,
    /// so G is never stored:
    /// * without momentum, W ← (1 − ηλ)·W + (η/B)·G in the product, then a
    ///   finiteness check of the same rows;
    /// * with momentum, Δ ← m·Δ + (η/B)·G in the product, then
    ///   Δ ← Δ − ηλW, W ← W + Δ with the check, while the rows are hot;
    ///
    /// then the visible bias gradient of the same units (f64 column sums of
    /// X − v⁻) and, under CD-1, their reconstruction error. With a general
    /// α, sgemm rounds its whole tiles and its ragged edge tiles
    /// differently, so the parts are cut at multiples of 16 rows: every
    /// call then tiles its rows as the whole product would, and the bits
    /// do not depend on the thread count. Returns whether every weight is
    /// finite.
    ///
    /// With centring, `extra` rows below each half (`[−μ; −g_b]` and
    /// `[g_c; λ]`) join the product, which then gives the centred
    /// gradient (see `centering`).
    pub(super) fn update_weights(
        &mut self,
        weights: &mut [f32],
        rows: usize,
        extra: usize,
        rates: Rates,
    ) -> bool {
        let (nv, nh, k) = (self.n_visible, self.n_hidden, self.kernels);
        let Rates {
            momentum: m,
            decay,
            scale,
        } = rates;
        let bad = AtomicBool::new(false);
        let inner = 2 * rows + extra;
        let known_grads = self.centering.as_ref().map(Centering::bias_gradients);
        let visible_t = MatRef::row_major(&self.visible_stats[..inner * nv], inner, nv).transpose();
        let hidden = MatRef::row_major(&self.hidden_stats[..inner * nh], inner, nh);
        let hidden_stats = MatRef::row_major(&self.hidden_stats[..2 * rows * nh], 2 * rows, nh);
        let stats = &self.visible_stats[..2 * rows * nv];
        let (x, v_neg) = stats.split_at(rows * nv);
        let (x, v_neg) = (
            MatRef::row_major(x, rows, nv),
            MatRef::row_major(v_neg, rows, nv),
        );
        // Under CD-1 the reconstruction error is summed here too, per
        // visible unit (the first reconstruction is v⁻ itself); the other
        // samplings computed it right after the first reconstruction.
        let recon_error_here = recon_error_in_gradient_region(self.cfg.sampling);
        // The hidden bias gradient (f64 column sums of h⁺ − h⁻, which `hidden`
        // holds as [h⁺; −h⁻]) rides along with the last part, so the step
        // has one parallel region fewer; the region's balance gives that
        // part fewer rows of W to make up for it. Each column is one
        // sequential sum, so the bits do not depend on who computes it.
        self.workers.for_row_tiles(
            &self.balance.gradient,
            SGEMM_ROW_TILE,
            ([weights, &mut self.weight_velocity], nh),
            [&mut self.visible_bias_grad, &mut self.recon_error_cols],
            &mut self.hidden_bias_grad,
            |r0, w, vel, [grad_b, recon_cols], grad_c| {
                let r1 = r0 + grad_b.len();
                let a = visible_t.rows_range(r0, r1);
                let finite = if m == 0.0 {
                    k.product(
                        a,
                        hidden,
                        MatMut::row_major(w, r1 - r0, nh),
                        Product::scaled(scale, 1.0 - decay),
                    );
                    k.all_finite(w)
                } else {
                    k.product(
                        a,
                        hidden,
                        MatMut::row_major(vel, r1 - r0, nh),
                        Product::scaled(scale, m),
                    );
                    k.apply_velocity(decay, w, vel)
                };
                if !finite {
                    bad.store(true, Ordering::Relaxed);
                }
                // Each column is one sequential sum: any split, same bits.
                let (x, v_neg) = (x.cols_range(r0, r1), v_neg.cols_range(r0, r1));
                // With centring the bias gradients are already known
                // (`Centering::prepare` needed them for the product).
                if let Some((gb, _)) = known_grads {
                    grad_b.copy_from_slice(&gb[r0..r1]);
                } else {
                    k.column_sums(x, Accumulate::Overwrite, grad_b);
                    k.column_sums(v_neg, Accumulate::Subtract, grad_b);
                }
                if recon_error_here {
                    k.column_squared_distances(x, v_neg, recon_cols);
                }
                match (grad_c, known_grads) {
                    (Some(grad_c), Some((_, gc))) => grad_c.copy_from_slice(gc),
                    (Some(grad_c), None) => {
                        k.column_sums(hidden_stats, Accumulate::Overwrite, grad_c);
                    }
                    (None, _) => {}
                }
            },
        );
        !bad.load(Ordering::Relaxed)
    }

    /// The bias updates, by the weights' rule without decay:
    /// `Δ ← mΔ + (η/B)·g`, `b ← b + Δ`, with `g` the f64 gradient of the
    /// gradient region. Returns whether every bias is finite.
    pub(super) fn update_biases(&mut self, rbm: &mut Rbm, rates: Rates) -> bool {
        let visible = momentum_update(
            &mut rbm.visible_bias,
            &mut self.visible_bias_velocity,
            &self.visible_bias_grad,
            rates,
        );
        let hidden = momentum_update(
            &mut rbm.hidden_bias,
            &mut self.hidden_bias_velocity,
            &self.hidden_bias_grad,
            rates,
        );
        visible && hidden
    }
}

/// `Δ ← mΔ + (η/B)·g`, `value ← value + Δ` for each value with its
/// velocity `Δ` and f64 gradient `g`. Returns whether every value is
/// finite.
fn momentum_update(values: &mut [f32], velocity: &mut [f32], grad: &[f64], rates: Rates) -> bool {
    let mut finite = true;
    for (b, (d, &g)) in values.iter_mut().zip(velocity.iter_mut().zip(grad)) {
        *d = rates.momentum * *d + rates.scale * g as f32;
        *b += *d;
        finite &= b.is_finite();
    }
    finite
}
