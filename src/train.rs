//! Training by contrastive divergence (CD-k) and persistent contrastive
//! divergence (PCD-k), with mini-batches, momentum and L2 weight decay.
//!
//! # One step
//! For a mini-batch `X` (B × V):
//! 1. **Positive phase**: `x⁺ = XW + c`; hidden means `h⁺ = mean(x⁺)` (σ,
//!    K σ, the SSU mean or max(0, ·)) and hidden samples from `x⁺`.
//! 2. **Negative phase**, k Gibbs steps from the hidden samples (CD) or from
//!    the persistent chains (PCD): visible `v = mean(hWᵀ + b)` (sampled for
//!    Bernoulli units at every step but the last CD step; Gaussian units stay
//!    noise-free unless `sample_visible`), then hidden pre-activations `vW + c`,
//!    their means `h⁻` and, if another step follows or the chains persist,
//!    their samples.
//! 3. **Gradient** `G = Xᵀh⁺ − v⁻ᵀh⁻`, computed as the single product
//!    `[X; v⁻]ᵀ [h⁺; −h⁻]` with inner dimension 2B: the buffers keep `v⁻`
//!    right below `X` and `−h⁻` right below `h⁺`, so no stacked copy is
//!    made. Bias gradients are the f64 column sums of `X − v⁻` and
//!    `h⁺ − h⁻` ([`Kernels::column_sums`]).
//! 4. **Update**, folded into that product through sgemm's α and β
//!    ([`Kernels::product`] with [`Product::scaled`](crate::kernels::Product::scaled)),
//!    so `G` is never stored: without
//!    momentum `W ← (1 − ηλ)W + (η/B)G` in the product, then a finiteness
//!    check; with momentum `Δ ← mΔ + (η/B)G` in the product, then
//!    `Δ ← Δ − ηλW; W ← W + Δ` with the check ([`Kernels::apply_velocity`]).
//!    The biases follow the same rule without decay.
//!
//! A CD-1 step is thus the work of five products, done as four calls, plus
//! element-wise passes fused into them. All buffers are allocated once,
//! before the first step.
//!
//! # Centring
//! With [`TrainConfig::with_centering`] the step follows the gradient of
//! the centred RBM (Melchior, Fischer & Wiskott, JMLR 2016, Algorithm 1),
//! whose offsets μ and λ track the data and hidden means. The model stays
//! in standard form throughout: two rows appended below each operand,
//! `[X; v⁻; −μ; −g_b]ᵀ [h⁺; −h⁻; g_c; λ]`, make the same single gradient
//! product give the centred gradient `G − μg_cᵀ − g_bλᵀ` (update folded in
//! as above), and the standard biases then follow the centred bias steps
//! through the change of `Wλ` and `Wᵀμ` (one pass over `W` before and one
//! after the update). See `centering.rs` for the derivation and why this
//! is the cheapest correct place for the conversion.
//!
//! # Parallel tempering
//! With [`TrainConfig::with_tempering`] K > 1 (PCD only), each persistent
//! chain is a ladder of K Gibbs chains at inverse temperatures linear from
//! 1 down to [`TEMPERING_BETA_MIN`] (Desjardins et al., AISTATS 2010);
//! neighbours swap their states after every sweep by the Metropolis rule,
//! and the negative phase reads the β = 1 chain. See `tempering.rs`.
//!
//! # Threads and reproducibility
//! The batch is cut into fixed blocks of [`ROW_BLOCK`] rows; block `i` draws
//! from its own stream `Stream::new(seed, i)` for the whole run. Threads take
//! contiguous runs of whole blocks for the element-wise work, blocks of
//! columns for the layer products and blocks of 16 rows of `W` for the
//! gradient; the products use the kernels' unpadded `Product::new` (the layer
//! passes, split by columns only) and `Product::scaled` (the gradient with
//! the update folded in, split at multiples of 16 rows), whose bits do not
//! depend on those splits, and reductions run in a fixed order.
//! The same seed therefore gives **bit-identical weights for any thread
//! count** (tested).

use crate::error::{RbmError, Result, invalid};
use crate::kernels::{Kernels, Stream};
use crate::rbm::{Rbm, VisibleUnit};
use std::ops::ControlFlow;
use std::time::Instant;

/// Rows per random-stream block (the unit of work split between threads).
pub const ROW_BLOCK: usize = 4;
/// Stream id of the per-epoch shuffle (block streams use ids 0, 1, ...).
const SHUFFLE_STREAM: u64 = 1 << 40;
/// Rows used for the end-of-epoch reconstruction error under PCD.
pub const PCD_EVAL_ROWS: usize = 1000;

/// How the negative phase is sampled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Sampling {
    /// Contrastive divergence: k Gibbs steps from the data.
    Cd(usize),
    /// Persistent contrastive divergence: k Gibbs steps per update on
    /// persistent chains (one per batch row), started from the first batch.
    Pcd(usize),
}

impl Sampling {
    /// The number of Gibbs steps k per update.
    pub fn k(self) -> usize {
        match self {
            Sampling::Cd(k) | Sampling::Pcd(k) => k,
        }
    }
}

/// Training hyper-parameters, built from [`TrainConfig::default`] (or
/// [`TrainConfig::default_for`] a visible unit type) and the `with_*`
/// setters, read through the getters of the same names. [`train`] and
/// [`Trainer::new`] check them ([`TrainConfig::validate`]).
///
/// ```
/// use nrelu_rbm::train::{Sampling, TrainConfig};
/// let cfg = TrainConfig::default()
///     .with_epochs(10)
///     .with_learning_rate(0.01)
///     .with_sampling(Sampling::Pcd(1))
///     .with_threads(1);
/// assert_eq!((cfg.epochs(), cfg.batch_size(), cfg.threads()), (10, 100, 1));
/// assert!(cfg.validate().is_ok());
/// assert!(cfg.with_momentum(1.5).validate().is_err());
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct TrainConfig {
    /// Passes over the data.
    pub(crate) epochs: usize,
    /// Rows per mini-batch (the last batch of an epoch may be smaller).
    pub(crate) batch_size: usize,
    /// Learning rate η.
    pub(crate) learning_rate: f32,
    /// Momentum m in [0, 1).
    pub(crate) momentum: f32,
    /// L2 weight decay λ (on weights only).
    pub(crate) weight_decay: f32,
    /// CD-k or PCD-k.
    pub(crate) sampling: Sampling,
    /// Seed of every random stream of the run.
    pub(crate) seed: u64,
    /// Worker threads; 0 means all cores.
    pub(crate) threads: usize,
    /// Sample Gaussian visible units (add N(0, 1)) during Gibbs steps
    /// instead of using the noise-free reconstruction.
    pub(crate) sample_visible: bool,
    /// Learn the biases (the default). `false` holds both bias vectors at
    /// their current values — the intensity-equivariant recipe keeps them
    /// at zero.
    pub(crate) update_biases: bool,
    /// Held-out rows measured after every epoch ([`watch`]).
    pub(crate) validation: Option<Validation>,
    /// Stop once the validation reconstruction error has not improved for
    /// this many epochs, keeping the best model ([`watch`]).
    pub(crate) patience: Option<usize>,
    /// Centring: the rate ν of the offsets' sliding averages, or `None`
    /// (the default) for the plain gradient.
    pub(crate) centering: Option<f32>,
    /// Parallel tempering: tempered chains per persistent chain (1, the
    /// default, is plain PCD).
    pub(crate) tempering: usize,
    /// The swap rule of the tempered chains (Metropolis unless a test asks
    /// for a wrong one).
    pub(crate) swap_rule: SwapRule,
}

impl Default for TrainConfig {
    /// [`TrainConfig::default_for`] Bernoulli visible units.
    fn default() -> TrainConfig {
        TrainConfig::default_for(VisibleUnit::Bernoulli)
    }
}

/// A getter and a builder-style setter per field.
macro_rules! accessors {
    ($($(#[$doc:meta])* $field:ident, $with:ident: $ty:ty;)*) => {
        impl TrainConfig {
            $(
                $(#[$doc])*
                pub fn $field(&self) -> $ty {
                    self.$field
                }

                #[doc = concat!("Sets [`TrainConfig::", stringify!($field), "`]; checked by [`TrainConfig::validate`].")]
                #[must_use]
                pub fn $with(mut self, value: $ty) -> TrainConfig {
                    self.$field = value;
                    self
                }
            )*
        }
    };
}

accessors! {
    /// Passes over the data (at least 1).
    epochs, with_epochs: usize;
    /// Rows per mini-batch (at least 1; the last batch of an epoch may be
    /// smaller, and a batch larger than the data is cut to the data).
    batch_size, with_batch_size: usize;
    /// Learning rate η (finite, > 0).
    learning_rate, with_learning_rate: f32;
    /// Momentum m in [0, 1).
    momentum, with_momentum: f32;
    /// L2 weight decay λ on the weights only (finite, >= 0).
    weight_decay, with_weight_decay: f32;
    /// CD-k or PCD-k (k >= 1).
    sampling, with_sampling: Sampling;
    /// Seed of every random stream of the run (and, in
    /// [`crate::stack::train_stack`], of the layer's initial weights).
    seed, with_seed: u64;
    /// Worker threads of the trainer's own pool, built once per
    /// [`Trainer`]; 1 runs on the calling thread without a pool, 0 means
    /// all cores. The result does not depend on it.
    threads, with_threads: usize;
    /// Whether Gaussian visible units are sampled (N(0, 1) added) during
    /// Gibbs steps instead of using the noise-free reconstruction.
    sample_visible, with_sample_visible: bool;
    /// Whether the biases are learned (the default); `false` holds both
    /// bias vectors at their current values, as the intensity-equivariant
    /// recipe does.
    update_biases, with_update_biases: bool;
    /// Centring ([Melchior, Fischer & Wiskott 2016](crate::train#centring)):
    /// `Some(ν)`, the rate in (0, 1] of the sliding averages that track
    /// the data mean μ and the hidden mean λ (use
    /// [`DEFAULT_CENTERING_RATE`] if unsure), or `None` (the default) for
    /// the plain gradient. Needs learned biases. The model always holds
    /// standard parameters.
    centering, with_centering: Option<f32>;
    /// Parallel tempering ([Desjardins et al. 2010](crate::train#parallel-tempering)):
    /// K tempered chains per persistent chain, the negative phase taken
    /// from the β = 1 chain; 1 (the default) is plain PCD. K > 1 needs
    /// PCD, Bernoulli visible units and Bernoulli or binomial hidden
    /// units.
    tempering, with_tempering: usize;
}

impl TrainConfig {
    /// Defaults that train a sensible model of the UCI digits in seconds:
    /// 20 epochs, batch 100, CD-1, momentum 0.5, weight decay 1e-4, and a
    /// learning rate of 0.05 for Bernoulli visible units or 0.005 for
    /// Gaussian ones (Hinton's guide: Gaussian units need a rate one to two
    /// orders of magnitude smaller); seed 0, all cores, noise-free Gaussian
    /// reconstructions, biases learned.
    pub fn default_for(visible: VisibleUnit) -> TrainConfig {
        TrainConfig {
            epochs: 20,
            batch_size: 100,
            learning_rate: match visible {
                VisibleUnit::Bernoulli => 0.05,
                VisibleUnit::Gaussian => 0.005,
            },
            momentum: 0.5,
            weight_decay: 1e-4,
            sampling: Sampling::Cd(1),
            seed: 0,
            threads: 0,
            sample_visible: false,
            update_biases: true,
            validation: None,
            patience: None,
            centering: None,
            tempering: 1,
            swap_rule: SwapRule::Metropolis,
        }
    }

    /// The validation rows measured after every epoch, if any (see
    /// [`TrainConfig::with_validation`]).
    pub fn validation(&self) -> Option<&Validation> {
        self.validation.as_ref()
    }

    /// Measures `rows` after every epoch, into [`EpochStats::validation`]:
    /// the validation reconstruction error and the free-energy gap between
    /// the training and the validation data (see [`watch`]). Off by
    /// default; [`train`] checks that the rows are as wide as the model.
    #[must_use]
    pub fn with_validation(mut self, rows: Validation) -> TrainConfig {
        self.validation = Some(rows);
        self
    }

    /// The early-stopping patience in epochs, if set (see
    /// [`TrainConfig::with_patience`]).
    pub fn patience(&self) -> Option<usize> {
        self.patience
    }

    /// Stops training once the validation reconstruction error has not
    /// improved for `epochs` epochs (at least 1), and returns the model of
    /// the best epoch, bit for bit ([`TrainReport::best_epoch`]), whether
    /// or not training stopped early. Needs
    /// [`TrainConfig::with_validation`]; [`TrainConfig::validate`] checks
    /// both.
    #[must_use]
    pub fn with_patience(mut self, epochs: usize) -> TrainConfig {
        self.patience = Some(epochs);
        self
    }

    /// Replaces the Metropolis swap rule of parallel tempering by a
    /// deliberately wrong one, so that the statistical tests can show
    /// they reject it. Not for training.
    #[doc(hidden)]
    #[must_use]
    pub fn with_swap_rule(mut self, rule: SwapRule) -> TrainConfig {
        self.swap_rule = rule;
        self
    }

    /// Checks every parameter, naming the first bad one.
    pub fn validate(&self) -> Result<()> {
        if self.epochs == 0 {
            return Err(invalid("epochs", self.epochs, "must be at least 1"));
        }
        if self.batch_size == 0 {
            return Err(invalid("batch", self.batch_size, "must be at least 1"));
        }
        if self.sampling.k() == 0 {
            let name = if matches!(self.sampling, Sampling::Cd(_)) {
                "cd"
            } else {
                "pcd"
            };
            return Err(invalid(name, 0, "needs at least one Gibbs step"));
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return Err(invalid("lr", self.learning_rate, "must be finite and > 0"));
        }
        if !(self.momentum.is_finite() && (0.0..1.0).contains(&self.momentum)) {
            return Err(invalid("momentum", self.momentum, "must be in [0, 1)"));
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return Err(invalid(
                "weight-decay",
                self.weight_decay,
                "must be finite and >= 0",
            ));
        }
        if let Some(rate) = self.centering {
            if !(rate.is_finite() && rate > 0.0 && rate <= 1.0) {
                return Err(invalid("centering", rate, "must be a rate in (0, 1]"));
            }
            if !self.update_biases {
                return Err(invalid(
                    "centering",
                    rate,
                    "needs learned biases (the offsets move them)",
                ));
            }
        }
        if self.tempering == 0 {
            return Err(invalid("pt", 0, "needs at least one chain"));
        }
        if self.tempering > MAX_TEMPERING {
            return Err(invalid("pt", self.tempering, "must be at most 64 chains"));
        }
        if self.tempering > 1 && !matches!(self.sampling, Sampling::Pcd(_)) {
            return Err(invalid(
                "pt",
                self.tempering,
                "needs persistent chains (--pcd K)",
            ));
        }
        match self.patience {
            Some(0) => return Err(invalid("patience", 0, "must be at least 1")),
            Some(p) if self.validation.is_none() => {
                return Err(invalid(
                    "patience",
                    p,
                    "needs validation rows (TrainConfig::with_validation)",
                ));
            }
            _ => {}
        }
        Ok(())
    }
}

/// What one epoch achieved.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct EpochStats {
    /// Epoch number, from 1.
    pub epoch: usize,
    /// Mean squared reconstruction error per visible unit. Under CD it is
    /// accumulated over the epoch's batches from the first (noise-free)
    /// reconstruction of each step, before that step's update; under PCD it
    /// is measured after the epoch on the first [`PCD_EVAL_ROWS`] rows.
    pub reconstruction_error: f64,
    /// Wall time of the epoch (the validation measures excluded).
    pub seconds: f64,
    /// The validation measures after the epoch, with
    /// [`TrainConfig::with_validation`].
    pub validation: Option<ValidationStats>,
    /// Per neighbouring pair of tempered chains (β₁↔β₂, …), the fraction of proposed swaps accepted over the epoch; empty without tempering.
    pub swap_acceptance: Vec<f64>,
}

/// Progress reported to the callback of [`train`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Progress<'a> {
    /// A mini-batch finished.
    Batch {
        /// Epoch, from 1.
        epoch: usize,
        /// Batch within the epoch, from 1.
        batch: usize,
        /// Batches per epoch.
        batches: usize,
    },
    /// An epoch finished.
    Epoch(&'a EpochStats),
    /// The model after an epoch, sent right after [`Progress::Epoch`] of
    /// the same epoch: to evaluate, plot or save the parameters as training
    /// goes. Match this variant instead of `Epoch` when the callback needs
    /// the model too.
    Model {
        /// The statistics just sent with [`Progress::Epoch`].
        stats: &'a EpochStats,
        /// The model after the epoch's last update.
        rbm: &'a Rbm,
    },
}

/// Trains `rbm` on `data` (rows of `rbm.n_visible()` values, already scaled
/// to [0, 1] for Bernoulli units or standardised for Gaussian ones).
///
/// `progress` is called after every batch ([`Progress::Batch`]) and twice
/// after every epoch ([`Progress::Epoch`] with the epoch's statistics,
/// then [`Progress::Model`] with the same statistics and the model);
/// returning `ControlFlow::Break(())` stops training with
/// [`RbmError::Cancelled`].
///
/// With [`TrainConfig::with_validation`] every epoch's statistics carry the
/// validation measures, and with [`TrainConfig::with_patience`] training
/// may stop before `cfg.epochs` and returns the best epoch's model (see
/// [`watch`]).
///
/// With more than one thread the whole run, callbacks included, runs on one
/// of the trainer's worker threads ([`Trainer::in_pool`]), which is why
/// `progress` must be `Send`: keep thread-locals and UI handles that are
/// not `Send` out of it (send messages to them instead).
///
/// If the weights become non-finite, training stops with
/// [`RbmError::Diverged`] and `rbm` is restored to the last completed epoch.
///
/// ```
/// use nrelu_rbm::{Rbm, VisibleUnit, units::HiddenUnit};
/// use nrelu_rbm::train::{train, TrainConfig, Sampling};
/// // Two repeated patterns over 6 binary units.
/// let data: Vec<f32> = [[1., 1., 1., 0., 0., 0.], [0., 0., 0., 1., 1., 1.]]
///     .iter().cycle().take(40).flatten().copied().collect();
/// let mut rbm = Rbm::new(6, 3, VisibleUnit::Bernoulli, HiddenUnit::Nrelu, 7)?;
/// let cfg = TrainConfig::default()
///     .with_epochs(30)
///     .with_batch_size(10)
///     .with_learning_rate(0.1);
/// let report = train(&mut rbm, &data, &cfg, |_| std::ops::ControlFlow::Continue(()))?;
/// let first = report.epochs[0].reconstruction_error;
/// let last = report.epochs.last().unwrap().reconstruction_error;
/// assert!(last < first);
/// # Ok::<(), nrelu_rbm::RbmError>(())
/// ```
pub fn train(
    rbm: &mut Rbm,
    data: &[f32],
    cfg: &TrainConfig,
    progress: impl FnMut(Progress<'_>) -> ControlFlow<()> + Send,
) -> Result<TrainReport> {
    let hooks = Hooks {
        save_when: |_: &Progress<'_>| false,
        save: |_: Checkpoint| Ok(()),
        progress,
    };
    run_training(rbm, data, cfg, None, hooks)
}

/// [`train`] that saves [`Checkpoint`]s as it goes and can continue from
/// one, with a final model bit-identical to an uninterrupted run's.
///
/// After every mini-batch ([`Progress::Batch`]) and every epoch
/// ([`Progress::Model`]), before `progress` sees it, `save_when` is asked
/// whether to save; if so, `save` receives the whole state of the run at
/// that point (write it with [`Checkpoint::to_bytes`]). With `resume`,
/// training continues from such a checkpoint: `rbm` receives its model and
/// the run goes on from the mini-batch after it. A cancelled run
/// ([`RbmError::Cancelled`]) can thus be resumed from the checkpoint saved
/// at the mini-batch where `progress` returned `Break`.
///
/// # Errors
/// Those of [`train`]; [`RbmError::CheckpointMismatch`] if `cfg`, the
/// data or `rbm`'s shape differ from the checkpoint's in a way that would
/// change the run (the thread count may differ);
/// [`RbmError::InvalidParameter`] with patience (not supported with
/// checkpoints); the errors of `save`, which stop training.
///
/// ```
/// use nrelu_rbm::{Rbm, RbmError, VisibleUnit, units::HiddenUnit};
/// use nrelu_rbm::train::{train, train_resumable, Checkpoint, Progress, TrainConfig};
/// use std::ops::ControlFlow;
/// let data: Vec<f32> = [[1., 1., 0.], [0., 1., 1.]].iter().cycle().take(20).flatten().copied().collect();
/// let new = || Rbm::new(3, 2, VisibleUnit::Bernoulli, HiddenUnit::Nrelu, 7);
/// let cfg = TrainConfig::default().with_epochs(4).with_batch_size(4);
/// let mut whole = new()?;
/// train(&mut whole, &data, &cfg, |_| ControlFlow::Continue(()))?;
///
/// // Stop after epoch 2, keeping its checkpoint's bytes.
/// let mut saved = Vec::new();
/// let mut part = new()?;
/// let stop = |p: &Progress<'_>| matches!(p, Progress::Model { stats, .. } if stats.epoch == 2);
/// let r = train_resumable(&mut part, &data, &cfg, None, stop,
///     |ck| { saved = ck.to_bytes()?; Ok(()) },
///     |p| if stop(&p) { ControlFlow::Break(()) } else { ControlFlow::Continue(()) });
/// assert!(matches!(r, Err(RbmError::Cancelled { epoch: 2 })));
///
/// let ck = Checkpoint::from_bytes(&saved)?;
/// let mut resumed = new()?;
/// train_resumable(&mut resumed, &data, &cfg, Some(&ck), |_| false, |_| Ok(()),
///     |_| ControlFlow::Continue(()))?;
/// assert_eq!(resumed, whole);
/// # Ok::<(), nrelu_rbm::RbmError>(())
/// ```
pub fn train_resumable(
    rbm: &mut Rbm,
    data: &[f32],
    cfg: &TrainConfig,
    resume: Option<&Checkpoint>,
    save_when: impl FnMut(&Progress<'_>) -> bool + Send,
    save: impl FnMut(Checkpoint) -> Result<()> + Send,
    progress: impl FnMut(Progress<'_>) -> ControlFlow<()> + Send,
) -> Result<TrainReport> {
    if let Some(p) = cfg.patience {
        return Err(invalid(
            "patience",
            p,
            "cannot be combined with checkpoints",
        ));
    }
    let hooks = Hooks {
        save_when,
        save,
        progress,
    };
    run_training(rbm, data, cfg, Some(resume), hooks)
}

/// The callbacks of a run: whether to save a checkpoint, where to, and
/// the progress.
struct Hooks<W, S, P> {
    save_when: W,
    save: S,
    progress: P,
}

impl<W, S, P> Hooks<W, S, P>
where
    W: FnMut(&Progress<'_>) -> bool,
    S: FnMut(Checkpoint) -> Result<()>,
    P: FnMut(Progress<'_>) -> ControlFlow<()>,
{
    /// Saves the run if `save_when` asks for it at `p`.
    fn maybe_save(
        &mut self,
        p: &Progress<'_>,
        run: &mut Run,
        t: &mut Trainer,
        rbm: &Rbm,
    ) -> Result<()> {
        if (self.save_when)(p) {
            (self.save)(run.checkpoint(t, rbm)?)?;
        }
        Ok(())
    }
}

/// The loop of [`train`] and [`train_resumable`]; `checkpoints` is
/// `Some(resume)` for the latter.
fn run_training<W, S, P>(
    rbm: &mut Rbm,
    data: &[f32],
    cfg: &TrainConfig,
    checkpoints: Option<Option<&Checkpoint>>,
    mut hooks: Hooks<W, S, P>,
) -> Result<TrainReport>
where
    W: FnMut(&Progress<'_>) -> bool + Send,
    S: FnMut(Checkpoint) -> Result<()> + Send,
    P: FnMut(Progress<'_>) -> ControlFlow<()> + Send,
{
    cfg.validate()?;
    let n = rbm.check_input("training data", data, rbm.n_visible)?;
    if n > u32::MAX as usize {
        return Err(invalid("rows", n, "at most 2^32 - 1 training rows"));
    }
    let batch = cfg.batch_size.min(n);
    let mut t = Trainer::new(
        rbm,
        &TrainConfig {
            batch_size: batch,
            ..cfg.clone()
        },
    )?;
    let mut run = Run::new(cfg, data, n, Snapshot::of(rbm), checkpoints.is_some());
    if let Some(Some(ck)) = checkpoints {
        run.resume(&mut t, rbm, ck)?;
    }
    let mut watch = Watch::new(cfg, rbm, data, n)?;
    let mut report = TrainReport {
        epochs: Vec::with_capacity(cfg.epochs),
        best_epoch: None,
    };
    // The whole run enters the worker pool once: handing each step to the
    // pool costs far more than the joins inside it (see `Trainer::in_pool`
    // and docs/benchmarks.md), and the callback then runs on a pool thread.
    t.in_pool(|t| {
        for epoch in run.epochs_done + 1..=cfg.epochs {
            let start = Instant::now();
            if run.batches_done == 0 {
                shuffle_order(t.kernels, &mut run.shuffle, &mut run.words, &mut run.order);
                run.sq = 0.0;
            }
            let sq = run_epoch(t, rbm, data, &mut run, epoch, &mut hooks)?;
            let reconstruction_error = match cfg.sampling {
                Sampling::Cd(_) => sq / (n * rbm.n_visible) as f64,
                Sampling::Pcd(_) => t.evaluate(rbm, data, n.min(PCD_EVAL_ROWS)),
            };
            run.last_good.save(rbm);
            (run.epochs_done, run.batches_done, run.sq) = (epoch, 0, 0.0);
            let seconds = start.elapsed().as_secs_f64();
            let validation = match &mut watch {
                Some(w) => Some(w.measure(t, rbm)?),
                None => None,
            };
            report.epochs.push(EpochStats {
                epoch,
                reconstruction_error,
                seconds,
                validation,
                swap_acceptance: t.take_swap_acceptance(),
            });
            let stats = report.epochs.last().expect("just pushed");
            hooks.maybe_save(&Progress::Model { stats, rbm }, &mut run, t, rbm)?;
            if (hooks.progress)(Progress::Epoch(stats)).is_break()
                || (hooks.progress)(Progress::Model { stats, rbm }).is_break()
            {
                return Err(RbmError::Cancelled { epoch });
            }
            if let (Some(w), Some(v)) = (&mut watch, &stats.validation)
                && w.observe(epoch, v, rbm)
            {
                break;
            }
        }
        report.best_epoch = watch.as_ref().and_then(|w| w.keep_best(rbm));
        Ok(report)
    })
}

/// The parameters of a model at the end of its last finite epoch, put
/// back if a later step diverges.
struct Snapshot {
    weights: Vec<f32>,
    visible_bias: Vec<f32>,
    hidden_bias: Vec<f32>,
}

impl Snapshot {
    fn of(rbm: &Rbm) -> Snapshot {
        Snapshot {
            weights: rbm.weights.clone(),
            visible_bias: rbm.visible_bias.clone(),
            hidden_bias: rbm.hidden_bias.clone(),
        }
    }

    fn save(&mut self, rbm: &Rbm) {
        self.weights.copy_from_slice(&rbm.weights);
        self.visible_bias.copy_from_slice(&rbm.visible_bias);
        self.hidden_bias.copy_from_slice(&rbm.hidden_bias);
    }

    fn restore(&self, rbm: &mut Rbm) {
        rbm.weights.copy_from_slice(&self.weights);
        rbm.visible_bias.copy_from_slice(&self.visible_bias);
        rbm.hidden_bias.copy_from_slice(&self.hidden_bias);
    }
}

/// Runs epoch `epoch` (from 1) from mini-batch `run.batches_done`: one
/// step per mini-batch of `data` rows taken in `run.order`, reporting each
/// batch to the hooks. Returns the summed squared reconstruction error of
/// the epoch's steps. On divergence `rbm` is put back to `run.last_good`
/// before the error returns.
fn run_epoch<W, S, P>(
    t: &mut Trainer,
    rbm: &mut Rbm,
    data: &[f32],
    run: &mut Run,
    epoch: usize,
    hooks: &mut Hooks<W, S, P>,
) -> Result<f64>
where
    W: FnMut(&Progress<'_>) -> bool,
    S: FnMut(Checkpoint) -> Result<()>,
    P: FnMut(Progress<'_>) -> ControlFlow<()>,
{
    let n = run.order.len();
    let batches = n.div_ceil(t.batch_rows);
    for batch in run.batches_done..batches {
        let r0 = batch * t.batch_rows;
        let rows = t.batch_rows.min(n - r0);
        run.sq += t
            .step_rows(rbm, rows, Batch::Gather(data, &run.order[r0..r0 + rows]))
            .expect("the data was checked before training");
        run.batches_done = batch + 1;
        if !t.finite {
            run.last_good.restore(rbm);
            return Err(RbmError::Diverged {
                epoch,
                batch: batch + 1,
                last_good_epoch: epoch - 1,
            });
        }
        let p = Progress::Batch {
            epoch,
            batch: batch + 1,
            batches,
        };
        hooks.maybe_save(&p, run, t, rbm)?;
        if (hooks.progress)(p).is_break() {
            return Err(RbmError::Cancelled { epoch: epoch - 1 });
        }
    }
    Ok(run.sq)
}

/// Per-epoch statistics of a finished run.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct TrainReport {
    /// One entry per epoch run (fewer than [`TrainConfig::epochs`] when
    /// patience stopped training early).
    pub epochs: Vec<EpochStats>,
    /// With [`TrainConfig::with_patience`], the epoch whose parameters the
    /// returned model holds: the one with the lowest validation
    /// reconstruction error (the first of equals). `None` without patience.
    pub best_epoch: Option<usize>,
}

mod centering;
mod checkpoint;
mod pass;
mod state;
mod tempering;
mod trainer;
pub mod watch;

pub use centering::DEFAULT_CENTERING_RATE;
pub use checkpoint::Checkpoint;
use state::Run;
#[doc(hidden)]
pub use tempering::SwapRule;
#[cfg(feature = "cli")]
pub(crate) use tempering::check_units as check_tempering_units;
pub use tempering::{MAX_TEMPERING, TEMPERING_BETA_MIN};
use trainer::Batch;
pub use trainer::Trainer;
use watch::Watch;
pub use watch::{Validation, ValidationStats};

/// Fisher–Yates with 64-bit multiply-shift indices (bias below n/2^64).
fn shuffle_order(k: Kernels, stream: &mut Stream, words: &mut [u32], order: &mut [u32]) {
    k.fill_words(stream, words);
    for i in (1..order.len()).rev() {
        let r = u64::from(words[2 * i]) | (u64::from(words[2 * i + 1]) << 32);
        let j = ((u128::from(r) * (i as u128 + 1)) >> 64) as usize;
        order.swap(i, j);
    }
}
