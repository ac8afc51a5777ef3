//! Parallel tempering for PCD (Desjardins, Courville, Bengio, Vincent &
//! Delalleau, AISTATS 2010): each persistent chain becomes a ladder of K
//! chains at inverse temperatures `1 = β₁ > β₂ > … > β_K = β_min`, each a
//! Gibbs chain of the tempered model `p_β(v, h) ∝ exp(−β E(v, h))`. After
//! every sweep, neighbouring chains propose to swap their states (β₁↔β₂,
//! then β₂↔β₃, …, in that order for every persistent chain), accepted with
//! the Metropolis probability `min(1, exp((β_i − β_j)(E_i − E_j)))`. The
//! negative phase reads the β = 1 chain.
//!
//! # Ladder
//! Fixed, not adapted: `β_k = 1 − (k − 1)(1 − β_min)/(K − 1)` for
//! `k = 1..=K`, linear in β, with `β_min =` [`TEMPERING_BETA_MIN`].
//!
//! # Which models
//! A tempered chain needs the conditionals of `exp(−βE)`. For Bernoulli
//! visible units and Bernoulli or binomial hidden units the energy is
//! linear in every unit, so they are the ordinary conditionals of the
//! model with `βW, βb, βc`; the trainer samples a tempered chain through a
//! scaled copy of the model. Other units are refused: a Gaussian visible
//! unit would need its variance scaled too, a stepped sigmoid unit's
//! tempered law is not a stepped sigmoid of `βx`, and an NReLU unit has no
//! energy at all (it approximates the SSU model, whose tempering is the
//! case just refused).
//!
//! # Energies and reproducibility
//! The up pass of chain k writes the pre-activations `β_k(vW + c)`, which
//! give the energy `E(v, h) = −vᵀb − hᵀ(vW + c)` of the joint state without
//! another product. The sweeps are layer passes with per-chain, per-block
//! streams; the swaps run on the calling thread, row by row in order, from
//! one stream: the same bits for any thread count.

use super::checkpoint::Buf;
use super::pass::{Layer, Pass, PassBalance, PassContext};
use crate::error::Result;
use crate::kernels::{Activation, Kernels, Stream};
use crate::parallel::Workers;
use crate::rbm::{Rbm, VisibleUnit, hidden_mean_activation};
use crate::units::HiddenUnit;

/// The smallest inverse temperature of the ladder (its hottest chain).
pub const TEMPERING_BETA_MIN: f32 = 0.5;

/// The most tempered chains per persistent chain.
pub const MAX_TEMPERING: usize = 64;

/// Stream ids of the tempered chains' blocks start here (chain c, block i:
/// `TEMPERING_STREAMS + c·2^20 + i`).
const TEMPERING_STREAMS: u64 = 1 << 41;
/// Stream id of the swap decisions.
const SWAP_STREAM: u64 = (1 << 41) - 1;

/// How neighbouring tempered chains decide to swap. Only
/// [`SwapRule::Metropolis`] is correct; the others exist so that the
/// statistical tests can show they would catch them.
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SwapRule {
    /// `min(1, exp((β_i − β_j)(E_i − E_j)))`.
    Metropolis,
    /// Every proposed swap is accepted (wrong).
    Always,
    /// The Metropolis ratio with the wrong sign (wrong).
    WrongSign,
}

/// Refuses tempering (`cfg.tempering > 1`) for units it does not support
/// (see the module docs).
pub(crate) fn check_units(
    cfg: &super::TrainConfig,
    visible: VisibleUnit,
    hidden: HiddenUnit,
) -> crate::Result<()> {
    let supported = visible == VisibleUnit::Bernoulli
        && matches!(hidden, HiddenUnit::Bernoulli | HiddenUnit::Binomial(_));
    if cfg.tempering > 1 && !supported {
        return Err(crate::error::invalid(
            "pt",
            cfg.tempering,
            "needs Bernoulli visible units and Bernoulli or binomial hidden units",
        ));
    }
    Ok(())
}

/// The ladder `β_1 = 1 > … > β_K = β_min`, linear in β.
pub(super) fn ladder(chains: usize) -> Vec<f32> {
    if chains == 1 {
        return vec![1.0];
    }
    let span = 1.0 - f64::from(TEMPERING_BETA_MIN);
    (0..chains)
        .map(|k| (1.0 - k as f64 * span / (chains - 1) as f64) as f32)
        .collect()
}

/// One tempered chain per persistent chain (rows of its buffers).
struct Chain {
    beta: f32,
    /// Visible states (B × V).
    v: Vec<f32>,
    /// Hidden states (B × H).
    h: Vec<f32>,
    /// Unscaled hidden pre-activations `vW + c` of the current `v` (B × H).
    a: Vec<f32>,
    /// Visible means of the down pass (B × V, scratch).
    v_means: Vec<f32>,
    streams: Vec<Stream>,
}

/// The tempered chains of a trainer, their swap stream and counters.
pub(super) struct Tempering {
    chains: Vec<Chain>,
    /// The models with βW, βb, βc of the chains after the first (β = 1
    /// reads the model itself).
    scaled: Vec<Rbm>,
    rule: SwapRule,
    swap_stream: Stream,
    uniforms: Vec<f32>,
    energies: Vec<f64>,
    accepted: Vec<u64>,
    proposed: Vec<u64>,
    zero_bias: Vec<f32>,
    down: PassBalance,
    up: PassBalance,
    pub(super) started: bool,
}

impl Tempering {
    /// `chains` tempered chains for `batch` persistent chains of `rbm`.
    pub(super) fn new(
        rbm: &Rbm,
        chains: usize,
        batch: usize,
        seed: u64,
        rule: SwapRule,
        workers: &Workers,
    ) -> Tempering {
        let (nv, nh) = (rbm.n_visible, rbm.n_hidden);
        let blocks = batch.div_ceil(super::ROW_BLOCK) as u64;
        let chains: Vec<Chain> = ladder(chains)
            .into_iter()
            .enumerate()
            .map(|(c, beta)| Chain {
                beta,
                v: vec![0.0; batch * nv],
                h: vec![0.0; batch * nh],
                a: vec![0.0; batch * nh],
                v_means: vec![0.0; batch * nv],
                streams: (0..blocks)
                    .map(|i| Stream::new(seed, TEMPERING_STREAMS + ((c as u64) << 20) + i))
                    .collect(),
            })
            .collect();
        let pairs = chains.len() - 1;
        Tempering {
            scaled: vec![rbm.clone(); pairs],
            uniforms: vec![0.0; batch * pairs],
            energies: vec![0.0; chains.len()],
            accepted: vec![0; pairs],
            proposed: vec![0; pairs],
            chains,
            rule,
            swap_stream: Stream::new(seed, SWAP_STREAM),
            zero_bias: vec![0.0; nh],
            down: PassBalance::new(workers),
            up: PassBalance::new(workers),
            started: false,
        }
    }

    /// Hands the chains, their streams and the swap counters to `f` (see
    /// `Trainer::visit_state`). The scaled models are rebuilt from the
    /// model at every step, so they are not state.
    pub(super) fn visit_state(
        &mut self,
        f: &mut dyn FnMut(&str, Buf<'_>) -> Result<()>,
    ) -> Result<()> {
        for (i, c) in self.chains.iter_mut().enumerate() {
            f(&format!("tempering.chain{i}.v"), Buf::F32(&mut c.v))?;
            f(&format!("tempering.chain{i}.h"), Buf::F32(&mut c.h))?;
            f(&format!("tempering.chain{i}.a"), Buf::F32(&mut c.a))?;
            f(
                &format!("tempering.chain{i}.v_means"),
                Buf::F32(&mut c.v_means),
            )?;
            f(
                &format!("tempering.chain{i}.streams"),
                Buf::Streams(&mut c.streams),
            )?;
        }
        f(
            "tempering.swap_stream",
            Buf::Streams(std::slice::from_mut(&mut self.swap_stream)),
        )?;
        f("tempering.uniforms", Buf::F32(&mut self.uniforms))?;
        f("tempering.energies", Buf::F64(&mut self.energies))?;
        f("tempering.accepted", Buf::U64(&mut self.accepted))?;
        f("tempering.proposed", Buf::U64(&mut self.proposed))?;
        f("tempering.started", Buf::Flag(&mut self.started))
    }

    /// Starts every chain's hidden state at `h` (up to the first
    /// `batch` rows).
    pub(super) fn start(&mut self, h: &[f32]) {
        for c in &mut self.chains {
            let len = h.len().min(c.h.len());
            c.h[..len].copy_from_slice(&h[..len]);
        }
        self.started = true;
    }

    /// Fractions of accepted swaps per neighbouring pair since the last
    /// call, and resets the counts.
    pub(super) fn take_acceptance(&mut self) -> Vec<f64> {
        let out = self
            .accepted
            .iter()
            .zip(&self.proposed)
            .map(|(&a, &p)| if p == 0 { 0.0 } else { a as f64 / p as f64 })
            .collect();
        self.accepted.fill(0);
        self.proposed.fill(0);
        out
    }

    /// `sweeps` sweeps of every chain on the first `rows` persistent chains
    /// with `rbm`'s parameters, each followed by the swaps.
    pub(super) fn run(
        &mut self,
        kernels: Kernels,
        workers: &Workers,
        rbm: &Rbm,
        rows: usize,
        sweeps: usize,
    ) {
        for (m, c) in self.scaled.iter_mut().zip(&self.chains[1..]) {
            scale_model(m, rbm, c.beta);
        }
        for _ in 0..sweeps {
            for (i, c) in self.chains.iter_mut().enumerate() {
                let model = if i == 0 { rbm } else { &self.scaled[i - 1] };
                sweep(kernels, workers, (&self.down, &self.up), model, c, rows);
            }
            self.swaps(kernels, rbm, rows);
        }
    }

    /// The neighbouring swaps of every row, in order, from the swap stream.
    fn swaps(&mut self, kernels: Kernels, rbm: &Rbm, rows: usize) {
        let pairs = self.chains.len() - 1;
        let (nv, nh) = (rbm.n_visible, rbm.n_hidden);
        let u = &mut self.uniforms[..rows * pairs];
        kernels.uniform(&mut self.swap_stream, u);
        for r in 0..rows {
            for (c, e) in self.chains.iter().zip(self.energies.iter_mut()) {
                *e = energy(
                    rbm,
                    &c.v[r * nv..(r + 1) * nv],
                    &c.h[r * nh..],
                    &c.a[r * nh..],
                );
            }
            for p in 0..pairs {
                let (bi, bj) = (self.chains[p].beta, self.chains[p + 1].beta);
                let delta = f64::from(bi - bj) * (self.energies[p] - self.energies[p + 1]);
                let accept = match self.rule {
                    SwapRule::Metropolis => metropolis(delta, u[r * pairs + p]),
                    SwapRule::WrongSign => metropolis(-delta, u[r * pairs + p]),
                    SwapRule::Always => true,
                };
                self.proposed[p] += 1;
                if accept {
                    self.accepted[p] += 1;
                    self.energies.swap(p, p + 1);
                    let (lo, hi) = self.chains.split_at_mut(p + 1);
                    swap_rows(&mut lo[p], &mut hi[0], r, nv, nh);
                }
            }
        }
    }

    /// The β = 1 chain's visible states and hidden states (`rows` rows).
    pub(super) fn cold(&self, rows: usize, nv: usize, nh: usize) -> (&[f32], &[f32]) {
        let c = &self.chains[0];
        (&c.v[..rows * nv], &c.h[..rows * nh])
    }

    /// The negative statistics from the β = 1 chain: its visible states
    /// into `v_neg` and its negated hidden means (`rbm`'s mean activation)
    /// into `neg_h`.
    pub(super) fn negative_statistics(
        &self,
        kernels: Kernels,
        rbm: &Rbm,
        rows: usize,
        v_neg: &mut [f32],
        neg_h: &mut [f32],
    ) {
        let c = &self.chains[0];
        let nh = self.zero_bias.len();
        v_neg.copy_from_slice(&c.v[..v_neg.len()]);
        let act = hidden_mean_activation(rbm.hidden, rbm.nrelu_mean);
        for (a, out) in c.a[..rows * nh]
            .chunks_exact(nh)
            .zip(neg_h.chunks_exact_mut(nh))
        {
            kernels.activate_from(act, &self.zero_bias, a, out);
            for x in out.iter_mut() {
                *x = -*x;
            }
        }
    }
}

/// Metropolis acceptance of a log-ratio `delta` with a uniform `u`.
fn metropolis(delta: f64, u: f32) -> bool {
    delta >= 0.0 || f64::from(u) < delta.exp()
}

/// `E(v, h) = −vᵀb − hᵀa` with `a = vW + c` (the first H values of `a`).
fn energy(rbm: &Rbm, v: &[f32], h: &[f32], a: &[f32]) -> f64 {
    let nh = rbm.n_hidden;
    let vb: f64 = v
        .iter()
        .zip(&rbm.visible_bias)
        .map(|(&x, &b)| f64::from(x) * f64::from(b))
        .sum();
    let ha: f64 = h[..nh]
        .iter()
        .zip(&a[..nh])
        .map(|(&x, &y)| f64::from(x) * f64::from(y))
        .sum();
    -vb - ha
}

/// Swaps row `r` of the states of two chains.
fn swap_rows(x: &mut Chain, y: &mut Chain, r: usize, nv: usize, nh: usize) {
    x.v[r * nv..(r + 1) * nv].swap_with_slice(&mut y.v[r * nv..(r + 1) * nv]);
    x.h[r * nh..(r + 1) * nh].swap_with_slice(&mut y.h[r * nh..(r + 1) * nh]);
    x.a[r * nh..(r + 1) * nh].swap_with_slice(&mut y.a[r * nh..(r + 1) * nh]);
}

/// `model ← β·rbm` (weights and both biases).
fn scale_model(model: &mut Rbm, rbm: &Rbm, beta: f32) {
    for (dst, src) in [
        (&mut model.weights, &rbm.weights),
        (&mut model.visible_bias, &rbm.visible_bias),
        (&mut model.hidden_bias, &rbm.hidden_bias),
    ] {
        for (d, &s) in dst.iter_mut().zip(src) {
            *d = beta * s;
        }
    }
}

/// One Gibbs sweep of chain `c` through `model` (its tempered model):
/// `v ~ p(v | h)`, then the pre-activations `a = vW + c` and `h ~ p(h | v)`.
fn sweep(
    kernels: Kernels,
    workers: &Workers,
    (down, up): (&PassBalance, &PassBalance),
    model: &Rbm,
    c: &mut Chain,
    rows: usize,
) {
    let mut ctx = PassContext {
        kernels,
        workers,
        streams: &mut c.streams,
        sample_visible: false,
    };
    ctx.run(Pass {
        layer: &Layer::down(model),
        balance: down,
        input: &c.h,
        rows,
        means: &mut c.v_means,
        samples: &mut c.v,
    });
    ctx.run(Pass {
        layer: &Layer::up(model).with_activation(Activation::Identity),
        balance: up,
        input: &c.v,
        rows,
        means: &mut c.a,
        samples: &mut c.h,
    });
    if c.beta != 1.0 {
        let inv = 1.0 / c.beta;
        let n = rows * model.n_hidden;
        for x in &mut c.a[..n] {
            *x *= inv;
        }
    }
}

impl super::Trainer {
    /// Runs `sweeps` sweeps of parallel tempering (each: one Gibbs sweep of
    /// every tempered chain, then the neighbouring swaps) on the trainer's
    /// `batch_size` persistent chains with `rbm`'s parameters held fixed,
    /// and returns the β = 1 chains' visible and hidden states (row-major,
    /// `batch_size` rows each). Nothing is learned. Chains that no
    /// training step has started start from all-zero hidden states. The
    /// states are the same bits for any thread count.
    ///
    /// Needs a trainer made with [`TrainConfig::with_tempering`] K > 1
    /// and `rbm` of its shape and units.
    ///
    /// ```
    /// use nrelu_rbm::{Rbm, VisibleUnit, units::HiddenUnit};
    /// use nrelu_rbm::train::{Sampling, TrainConfig, Trainer};
    /// let rbm = Rbm::new(4, 3, VisibleUnit::Bernoulli, HiddenUnit::Bernoulli, 1)?;
    /// let cfg = TrainConfig::default()
    ///     .with_sampling(Sampling::Pcd(1))
    ///     .with_tempering(4)
    ///     .with_batch_size(10);
    /// let mut t = Trainer::new(&rbm, &cfg)?;
    /// let (v, h) = t.sample_tempered(&rbm, 20)?;
    /// assert_eq!((v.len(), h.len()), (40, 30));
    /// assert_eq!(t.take_swap_acceptance().len(), 3);
    /// # Ok::<(), nrelu_rbm::RbmError>(())
    /// ```
    ///
    /// [`TrainConfig::with_tempering`]: super::TrainConfig::with_tempering
    pub fn sample_tempered(&mut self, rbm: &Rbm, sweeps: usize) -> crate::Result<(&[f32], &[f32])> {
        self.check_model(rbm)?;
        let (rows, nv, nh, k) = (self.batch_rows, rbm.n_visible, rbm.n_hidden, self.kernels);
        let Some(t) = self.tempering.as_mut() else {
            return Err(crate::error::invalid(
                "pt",
                1,
                "sampling needs a trainer with tempering (K > 1)",
            ));
        };
        t.started = true;
        crate::parallel::in_pool(self.workers.pool(), || {
            t.run(k, &self.workers, rbm, rows, sweeps)
        });
        Ok(t.cold(rows, nv, nh))
    }

    /// The fractions of proposed swaps accepted per neighbouring pair of
    /// tempered chains (β₁↔β₂, …) since the last call, which resets the
    /// counts ([`train`](super::train) calls it at the end of every epoch
    /// for [`EpochStats::swap_acceptance`](super::EpochStats)); empty
    /// without tempering.
    pub fn take_swap_acceptance(&mut self) -> Vec<f64> {
        self.tempering
            .as_mut()
            .map_or_else(Vec::new, Tempering::take_acceptance)
    }
}
