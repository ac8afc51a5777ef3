//! Centring (Melchior, Fischer & Wiskott, JMLR 2016, Algorithm 1): the
//! gradient of the model with energy
//! `E(v, h) = −(v − μ)ᵀb' − c'ᵀ(h − λ) − (v − μ)ᵀW(h − λ)`, whose offsets
//! μ (the data mean) and λ (the hidden mean) follow sliding averages.
//!
//! # The design: standard parameters throughout
//! The centred model with parameters `(W, b', c')` and offsets `(μ, λ)` is
//! the standard model `(W, b' − Wλ, c' − Wᵀμ)`: the same conditionals, so
//! the same Gibbs chains. The trainer therefore keeps the model in
//! **standard** form at every moment (every layer pass, every snapshot,
//! every reader sees ordinary parameters) and holds only the offsets.
//! Moving an offset is then free: Algorithm 1's reparametrisation
//! `b' ← b' + WΔλ`, `c' ← c' + WᵀΔμ` leaves the standard parameters as
//! they are. A step:
//! 1. the phases run on the standard model as without centring;
//! 2. the batch's column sums give the bias gradients `g_b = Σ(x − v⁻)`,
//!    `g_c = Σ(h⁺ − h⁻)` and the batch means; the offsets move:
//!    `μ ← (1 − ν)μ + ν·mean(X)`, `λ ← (1 − ν)λ + ν·mean(h⁺)` (at the first
//!    step they start at those means);
//! 3. the centred weight gradient is
//!    `Σ(x − μ)(h⁺ − λ)ᵀ − Σ(v⁻ − μ)(h⁻ − λ)ᵀ = G − μg_cᵀ − g_bλᵀ`, with
//!    `G = [X; v⁻]ᵀ[h⁺; −h⁻]` the plain one. Two rows appended below each
//!    operand, `[X; v⁻; −μ; −g_b]ᵀ[h⁺; −h⁻; g_c; λ]`, make it the same
//!    single product with inner dimension 2B + 2 and the update folded in
//!    as before (momentum, decay), so no extra pass over `W` is made for
//!    the gradient;
//! 4. the centred biases take the plain bias steps `Δb'`, `Δc'`
//!    (the bias gradients of the centred energy are the plain ones), and
//!    the standard biases follow exactly:
//!    `b ← b + Δb' − (W_new − W_old)λ`, `c ← c + Δc' − (W_new − W_old)ᵀμ`,
//!    from `Wλ` and `Wᵀμ` before and after the update: four one-row
//!    products (`λᵀWᵀ`, `μᵀW`), each a single read of `W`, where a layer
//!    product does B rows of work per element of `W`.
//!
//! The alternatives cost more: holding centred biases between steps would
//! need `Wλ` and `Wᵀμ` anyway to hand back a standard model after every
//! step (and would go stale if the caller changed the model), and a
//! rank-2 correction pass `W −= s(μg_cᵀ + g_bλᵀ)` would read and write all
//! of `W` once more, where the appended rows only lengthen the product's
//! inner dimension from 2B to 2B + 2.
//!
//! Every part is a serial sum in a fixed order or a product whose bits do
//! not depend on the threads, so centred training keeps bit-identical
//! results for any thread count.

use super::checkpoint::Buf;
use crate::error::Result;
use crate::kernels::{Accumulate, Kernels, MatMut, MatRef, Product};
use crate::rbm::Rbm;

/// The default rate ν of the offsets' sliding averages: the value used
/// by Melchior, Fischer & Wiskott (2016) for their sliding offsets.
pub const DEFAULT_CENTERING_RATE: f32 = 0.01;

/// Rows appended below `[X; v⁻]` and `[h⁺; −h⁻]` by centring.
pub(super) const CENTERING_ROWS: usize = 2;

/// The offsets of a centred run and the scratch of its extra arithmetic.
pub(super) struct Centering {
    rate: f64,
    started: bool,
    /// μ, the visible offset (f64 state, f32 copy for the products).
    mu: Vec<f64>,
    mu32: Vec<f32>,
    /// λ, the hidden offset.
    lambda: Vec<f64>,
    lambda32: Vec<f32>,
    /// Column sums of `X`, `v⁻`, `h⁺`, `−h⁻`.
    sums: [Vec<f64>; 4],
    /// The bias gradients `g_b = Σ(x − v⁻)` and `g_c = Σ(h⁺ − h⁻)`.
    grad_b: Vec<f64>,
    grad_c: Vec<f64>,
    /// `Wλ` (V) and `Wᵀμ` (H) before the update.
    w_lambda: Vec<f32>,
    wt_mu: Vec<f32>,
    /// The same after the update.
    w_lambda_new: Vec<f32>,
    wt_mu_new: Vec<f32>,
}

impl Centering {
    pub(super) fn new(rate: f32, nv: usize, nh: usize) -> Centering {
        Centering {
            rate: f64::from(rate),
            started: false,
            mu: vec![0.0; nv],
            mu32: vec![0.0; nv],
            lambda: vec![0.0; nh],
            lambda32: vec![0.0; nh],
            sums: [vec![0.0; nv], vec![0.0; nv], vec![0.0; nh], vec![0.0; nh]],
            grad_b: vec![0.0; nv],
            grad_c: vec![0.0; nh],
            w_lambda: vec![0.0; nv],
            wt_mu: vec![0.0; nh],
            w_lambda_new: vec![0.0; nv],
            wt_mu_new: vec![0.0; nh],
        }
    }

    /// Hands the offsets and buffers to `f` (see `Trainer::visit_state`).
    pub(super) fn visit_state(
        &mut self,
        f: &mut dyn FnMut(&str, Buf<'_>) -> Result<()>,
    ) -> Result<()> {
        f("centering.started", Buf::Flag(&mut self.started))?;
        f("centering.mu", Buf::F64(&mut self.mu))?;
        f("centering.mu32", Buf::F32(&mut self.mu32))?;
        f("centering.lambda", Buf::F64(&mut self.lambda))?;
        f("centering.lambda32", Buf::F32(&mut self.lambda32))?;
        for (i, s) in self.sums.iter_mut().enumerate() {
            f(&format!("centering.sums{i}"), Buf::F64(s))?;
        }
        f("centering.grad_b", Buf::F64(&mut self.grad_b))?;
        f("centering.grad_c", Buf::F64(&mut self.grad_c))?;
        f("centering.w_lambda", Buf::F32(&mut self.w_lambda))?;
        f("centering.wt_mu", Buf::F32(&mut self.wt_mu))?;
        f("centering.w_lambda_new", Buf::F32(&mut self.w_lambda_new))?;
        f("centering.wt_mu_new", Buf::F32(&mut self.wt_mu_new))
    }

    /// Steps 2 and 3 of a centred step (see the module docs), before the
    /// gradient product: moves the offsets with the batch means, writes the
    /// rows `[−μ; −g_b]` below `[X; v⁻]` and `[g_c; λ]` below `[h⁺; −h⁻]`
    /// (both buffers hold `2·rows + CENTERING_ROWS` rows), and records `Wλ`
    /// and `Wᵀμ` of the weights before the update.
    pub(super) fn prepare(
        &mut self,
        k: Kernels,
        visible_stats: &mut [f32],
        hidden_stats: &mut [f32],
        rows: usize,
        weights: &[f32],
    ) {
        let (nv, nh) = (self.mu.len(), self.lambda.len());
        let [sx, sv, sh, sn] = &mut self.sums;
        let vis = |r: usize| MatRef::row_major(&visible_stats[r * nv..(r + rows) * nv], rows, nv);
        k.column_sums(vis(0), Accumulate::Overwrite, sx);
        k.column_sums(vis(rows), Accumulate::Overwrite, sv);
        let hid = |r: usize| MatRef::row_major(&hidden_stats[r * nh..(r + rows) * nh], rows, nh);
        k.column_sums(hid(0), Accumulate::Overwrite, sh);
        k.column_sums(hid(rows), Accumulate::Overwrite, sn);
        let (nu, inv) = (self.rate, 1.0 / rows as f64);
        let keep = if self.started { 1.0 - nu } else { 0.0 };
        let step = if self.started { nu } else { 1.0 };
        self.started = true;
        for (m, &s) in self.mu.iter_mut().zip(sx.iter()) {
            *m = keep * *m + step * s * inv;
        }
        for (l, &s) in self.lambda.iter_mut().zip(sh.iter()) {
            *l = keep * *l + step * s * inv;
        }
        for (d, &m) in self.mu32.iter_mut().zip(&self.mu) {
            *d = m as f32;
        }
        for (d, &l) in self.lambda32.iter_mut().zip(&self.lambda) {
            *d = l as f32;
        }
        // [−μ; −g_b] below [X; v⁻], [g_c; λ] below [h⁺; −h⁻].
        let extra_v = &mut visible_stats[2 * rows * nv..(2 * rows + CENTERING_ROWS) * nv];
        let (neg_mu, neg_gb) = extra_v.split_at_mut(nv);
        for (i, (a, b)) in neg_mu.iter_mut().zip(neg_gb.iter_mut()).enumerate() {
            self.grad_b[i] = sx[i] - sv[i];
            *a = -self.mu32[i];
            *b = -(self.grad_b[i] as f32);
        }
        let extra_h = &mut hidden_stats[2 * rows * nh..(2 * rows + CENTERING_ROWS) * nh];
        let (gc, lam) = extra_h.split_at_mut(nh);
        for (j, (a, b)) in gc.iter_mut().zip(lam.iter_mut()).enumerate() {
            self.grad_c[j] = sh[j] + sn[j];
            *a = self.grad_c[j] as f32;
            *b = self.lambda32[j];
        }
        self.products(k, weights, false);
    }

    /// The bias gradients `(g_b, g_c)` of the last [`Centering::prepare`],
    /// which the gradient region then need not sum again.
    pub(super) fn bias_gradients(&self) -> (&[f64], &[f64]) {
        (&self.grad_b, &self.grad_c)
    }

    /// `Wλ` and `Wᵀμ` of `weights` into the "before" (`after == false`) or
    /// "after" buffers: two one-row products, `λᵀWᵀ` and `μᵀW`, on the
    /// calling thread (the kernels' small-row path: no packing of `W`, the
    /// same bits for any thread count and kernel path).
    fn products(&mut self, k: Kernels, weights: &[f32], after: bool) {
        let (nv, nh) = (self.mu.len(), self.lambda.len());
        let w = MatRef::row_major(weights, nv, nh);
        let (wl, wtm) = if after {
            (&mut self.w_lambda_new, &mut self.wt_mu_new)
        } else {
            (&mut self.w_lambda, &mut self.wt_mu)
        };
        k.product(
            MatRef::row_major(&self.lambda32, 1, nh),
            w.transpose(),
            MatMut::row_major(wl, 1, nv),
            Product::new(Accumulate::Overwrite),
        );
        k.product(
            MatRef::row_major(&self.mu32, 1, nv),
            w,
            MatMut::row_major(wtm, 1, nh),
            Product::new(Accumulate::Overwrite),
        );
    }

    /// Step 4, after the update of the weights and the (centred) bias
    /// steps: moves the standard biases of `rbm` by `−(W_new − W_old)λ`
    /// and `−(W_new − W_old)ᵀμ`. Returns whether every bias is finite.
    pub(super) fn finish(&mut self, k: Kernels, rbm: &mut Rbm) -> bool {
        self.products(k, &rbm.weights, true);
        let mut finite = true;
        for ((b, &new), &old) in rbm
            .visible_bias
            .iter_mut()
            .zip(&self.w_lambda_new)
            .zip(&self.w_lambda)
        {
            *b -= new - old;
            finite &= b.is_finite();
        }
        for ((c, &new), &old) in rbm
            .hidden_bias
            .iter_mut()
            .zip(&self.wt_mu_new)
            .zip(&self.wt_mu)
        {
            *c -= new - old;
            finite &= c.is_finite();
        }
        finite
    }
}
