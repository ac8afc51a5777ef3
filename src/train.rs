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
//!    ([`Kernels::gemm_scaled_into`]), so `G` is never stored: without
//!    momentum `W ← (1 − ηλ)W + (η/B)G` in the product, then a finiteness
//!    check; with momentum `Δ ← mΔ + (η/B)G` in the product, then
//!    `Δ ← Δ − ηλW; W ← W + Δ` with the check ([`Kernels::apply_velocity`]).
//!    The biases follow the same rule without decay.
//!
//! A CD-1 step is thus the work of five products, done as four calls, plus
//! element-wise passes fused into them. All buffers are allocated once,
//! before the first step.
//!
//! # Threads and reproducibility
//! The batch is cut into fixed blocks of [`ROW_BLOCK`] rows; block `i` draws
//! from its own stream `Stream::new(seed, i)` for the whole run. Threads take
//! contiguous runs of whole blocks for the element-wise work, blocks of
//! columns for the layer products and blocks of 16 rows of `W` for the
//! gradient; the products use the kernels' `gemm_into_unpadded` (the layer
//! passes, split by columns only) and `gemm_scaled_into` (the gradient with
//! the update folded in, split at multiples of 16 rows), whose bits do not
//! depend on those splits, and reductions run in a fixed order.
//! The same seed therefore gives **bit-identical weights for any thread
//! count** (tested).

use crate::error::{RbmError, Result, check_finite, invalid};
use crate::kernels::{
    Accumulate, Activation, Kernels, MatMut, MatRef, SGEMM_ROW_TILE, Sampler, Stream,
};
use crate::parallel::{Balance, Workers};
use crate::rbm::{
    Rbm, VisibleUnit, add_unit_noise, hidden_mean_activation, hidden_sampler,
    visible_mean_activation,
};
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// Rows per random-stream block (the unit of work split between threads).
pub const ROW_BLOCK: usize = 4;
/// Stream id of the per-epoch shuffle (block streams use ids 0, 1, ...).
const SHUFFLE_STREAM: u64 = 1 << 40;
/// Rows used for the end-of-epoch reconstruction error under PCD.
pub const PCD_EVAL_ROWS: usize = 1000;

/// How the negative phase is sampled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sampling {
    /// Contrastive divergence: k Gibbs steps from the data.
    Cd(usize),
    /// Persistent contrastive divergence: k Gibbs steps per update on
    /// persistent chains (one per batch row), started from the first batch.
    Pcd(usize),
}

impl Sampling {
    fn k(self) -> usize {
        match self {
            Sampling::Cd(k) | Sampling::Pcd(k) => k,
        }
    }
}

/// Training hyper-parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainConfig {
    /// Passes over the data.
    pub epochs: usize,
    /// Rows per mini-batch (the last batch of an epoch may be smaller).
    pub batch_size: usize,
    /// Learning rate η.
    pub learning_rate: f32,
    /// Momentum m in [0, 1).
    pub momentum: f32,
    /// L2 weight decay λ (on weights only).
    pub weight_decay: f32,
    /// CD-k or PCD-k.
    pub sampling: Sampling,
    /// Seed of every random stream of the run.
    pub seed: u64,
    /// Worker threads; 0 means all cores.
    pub threads: usize,
    /// Sample Gaussian visible units (add N(0, 1)) during Gibbs steps
    /// instead of using the noise-free reconstruction.
    pub sample_visible: bool,
    /// Learn the biases (the default). `false` holds both bias vectors at
    /// their current values — the intensity-equivariant recipe keeps them
    /// at zero.
    pub update_biases: bool,
}

impl TrainConfig {
    /// Defaults that train a sensible model of the UCI digits in seconds:
    /// 20 epochs, batch 100, CD-1, momentum 0.5, weight decay 1e-4, and a
    /// learning rate of 0.05 for Bernoulli visible units or 0.005 for
    /// Gaussian ones (Hinton's guide: Gaussian units need a rate one to two
    /// orders of magnitude smaller).
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
        }
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
        Ok(())
    }
}

/// What one epoch achieved.
#[derive(Clone, Debug, PartialEq)]
pub struct EpochStats {
    /// Epoch number, from 1.
    pub epoch: usize,
    /// Mean squared reconstruction error per visible unit. Under CD it is
    /// accumulated over the epoch's batches from the first (noise-free)
    /// reconstruction of each step, before that step's update; under PCD it
    /// is measured after the epoch on the first [`PCD_EVAL_ROWS`] rows.
    pub reconstruction_error: f64,
    /// Wall time of the epoch.
    pub seconds: f64,
}

/// Progress reported to the callback of [`train`].
#[derive(Clone, Debug)]
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
}

/// Trains `rbm` on `data` (rows of `rbm.n_visible()` values, already scaled
/// to [0, 1] for Bernoulli units or standardised for Gaussian ones).
///
/// `progress` is called after every batch and every epoch; returning
/// `ControlFlow::Break(())` stops training with [`RbmError::Cancelled`].
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
/// let mut cfg = TrainConfig::default_for(VisibleUnit::Bernoulli);
/// cfg.epochs = 30;
/// cfg.batch_size = 10;
/// cfg.learning_rate = 0.1;
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
    mut progress: impl FnMut(Progress<'_>) -> ControlFlow<()> + Send,
) -> Result<TrainReport> {
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
    let mut order: Vec<u32> = (0..n as u32).collect();
    let mut words = vec![0u32; 2 * n];
    let mut shuffle = Stream::new(cfg.seed, SHUFFLE_STREAM);
    let batches = n.div_ceil(batch);
    let mut report = TrainReport {
        epochs: Vec::with_capacity(cfg.epochs),
    };
    let mut snapshot = (
        rbm.weights.clone(),
        rbm.visible_bias.clone(),
        rbm.hidden_bias.clone(),
    );
    // The whole run enters the worker pool once: on two threads of the
    // reference machine a hand-off per step cost 20–165 µs (see
    // `Trainer::in_pool`), and the callback then runs on a pool thread.
    t.in_pool(|t| {
        for epoch in 1..=cfg.epochs {
            let start = Instant::now();
            shuffle_order(t.kernels, &mut shuffle, &mut words, &mut order);
            let mut sq = 0f64;
            for batch in 0..batches {
                let r0 = batch * t.batch_rows;
                let rows = t.batch_rows.min(n - r0);
                sq += t
                    .step_rows(rbm, rows, Batch::Gather(data, &order[r0..r0 + rows]))
                    .expect("the data was checked before training");
                if !t.finite {
                    rbm.weights.copy_from_slice(&snapshot.0);
                    rbm.visible_bias.copy_from_slice(&snapshot.1);
                    rbm.hidden_bias.copy_from_slice(&snapshot.2);
                    return Err(RbmError::Diverged {
                        epoch,
                        batch: batch + 1,
                        last_good_epoch: epoch - 1,
                    });
                }
                if progress(Progress::Batch {
                    epoch,
                    batch: batch + 1,
                    batches,
                })
                .is_break()
                {
                    return Err(RbmError::Cancelled { epoch: epoch - 1 });
                }
            }
            let reconstruction_error = match cfg.sampling {
                Sampling::Cd(_) => sq / (n * rbm.n_visible) as f64,
                Sampling::Pcd(_) => t.evaluate(rbm, data, n.min(PCD_EVAL_ROWS)),
            };
            snapshot.0.copy_from_slice(&rbm.weights);
            snapshot.1.copy_from_slice(&rbm.visible_bias);
            snapshot.2.copy_from_slice(&rbm.hidden_bias);
            report.epochs.push(EpochStats {
                epoch,
                reconstruction_error,
                seconds: start.elapsed().as_secs_f64(),
            });
            let stats = report.epochs.last().expect("just pushed");
            if progress(Progress::Epoch(stats)).is_break() {
                return Err(RbmError::Cancelled { epoch });
            }
        }
        Ok(report)
    })
}

/// Per-epoch statistics of a finished run.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainReport {
    /// One entry per epoch.
    pub epochs: Vec<EpochStats>,
}

/// What a layer pass samples besides the means.
#[derive(Clone, Copy)]
enum Draw {
    None,
    Hidden(Sampler),
    BernoulliVisible,
    GaussianVisible,
}

/// Whether the step sums its reconstruction error in the gradient region
/// (CD-1, where the first reconstruction is the negative statistics `v⁻`
/// the region reads anyway) rather than right after the first
/// reconstruction (CD-k with k > 1, whose later Gibbs steps overwrite it).
fn recon_error_in_gradient_region(sampling: Sampling) -> bool {
    sampling == Sampling::Cd(1)
}

/// Where a step's mini-batch comes from.
#[derive(Clone, Copy)]
enum Batch<'a> {
    /// Rows to check for finiteness and copy ([`Trainer::step`]).
    Check(&'a [f32]),
    /// Rows `order` of `data`, which was checked once ([`train`]).
    Gather(&'a [f32], &'a [u32]),
}

/// A layer pass: `mean = activation(input · weights + bias)`, plus samples.
#[derive(Clone, Copy)]
struct Layer<'a> {
    /// `W` (V × H) for a pass up, its transpose for a pass down.
    weights: MatRef<'a>,
    bias: &'a [f32],
    activation: Activation,
    draw: Draw,
    /// Write `-mean` instead of `mean` (the negative hidden statistics, for
    /// the gradient product `[X; v⁻]ᵀ [h⁺; −h⁻]`).
    negate_mean: bool,
}

impl<'a> Layer<'a> {
    /// The pass up, `act(vW + c)`, drawing hidden samples.
    fn up(rbm: &'a Rbm) -> Layer<'a> {
        Layer {
            weights: MatRef::row_major(&rbm.weights, rbm.n_visible, rbm.n_hidden),
            bias: &rbm.hidden_bias,
            activation: hidden_mean_activation(rbm.hidden),
            draw: Draw::Hidden(hidden_sampler(rbm.hidden)),
            negate_mean: false,
        }
    }

    /// The pass down, `act(hWᵀ + b)`, drawing visible samples.
    fn down(rbm: &'a Rbm) -> Layer<'a> {
        Layer {
            weights: MatRef::row_major(&rbm.weights, rbm.n_visible, rbm.n_hidden).transpose(),
            bias: &rbm.visible_bias,
            activation: visible_mean_activation(rbm.visible),
            draw: match rbm.visible {
                VisibleUnit::Bernoulli => Draw::BernoulliVisible,
                VisibleUnit::Gaussian => Draw::GaussianVisible,
            },
            negate_mean: false,
        }
    }

    /// The same pass with its samples drawn only if `draw` is true.
    fn drawing_if(self, draw: bool) -> Layer<'a> {
        Layer {
            draw: if draw { self.draw } else { Draw::None },
            ..self
        }
    }
}

/// What every layer pass of a trainer shares: the kernels, the worker
/// threads, the per-block random streams, and whether Gaussian visible
/// units are sampled.
struct PassContext<'a> {
    kernels: Kernels,
    workers: &'a Workers,
    streams: &'a mut [Stream],
    sample_visible: bool,
}

/// One layer pass: `rows` rows of `input` through `layer`, writing the
/// means into `means` and, if the layer draws, the samples into `samples`
/// (both `rows` rows of the layer's output width; the buffers may be
/// longer).
struct Pass<'a, 'l> {
    layer: &'a Layer<'l>,
    balance: &'a PassBalance,
    input: &'a [f32],
    rows: usize,
    means: &'a mut [f32],
    samples: &'a mut [f32],
}

/// The step sizes of one update: momentum m, decay ηλ and gradient scale
/// η/B for a batch of B rows.
#[derive(Clone, Copy)]
struct Rates {
    momentum: f32,
    decay: f32,
    scale: f32,
}

impl Rates {
    fn new(cfg: &TrainConfig, rows: usize) -> Rates {
        let lr = cfg.learning_rate;
        Rates {
            momentum: cfg.momentum,
            decay: lr * cfg.weight_decay,
            scale: lr / rows as f32,
        }
    }
}

/// The state of a training run: every buffer, the worker threads and the
/// per-block random streams, allocated once by [`Trainer::new`].
///
/// [`train`] drives a `Trainer` over shuffled mini-batches; use it directly
/// to run single steps (online learning, custom schedules, benchmarks).
///
/// ```
/// use nrelu_rbm::{Rbm, VisibleUnit, units::HiddenUnit};
/// use nrelu_rbm::train::{TrainConfig, Trainer};
/// let mut rbm = Rbm::new(6, 3, VisibleUnit::Bernoulli, HiddenUnit::Ssu, 1)?;
/// let cfg = TrainConfig { batch_size: 2, ..TrainConfig::default_for(VisibleUnit::Bernoulli) };
/// let mut trainer = Trainer::new(&rbm, &cfg)?;
/// let batch = [1., 1., 1., 0., 0., 0., 0., 0., 0., 1., 1., 1.];
/// let err = trainer.step(&mut rbm, &batch)?; // squared reconstruction error
/// assert!(err.is_finite());
/// # Ok::<(), nrelu_rbm::RbmError>(())
/// ```
pub struct Trainer {
    kernels: Kernels,
    workers: Workers,
    cfg: TrainConfig,
    /// Rows per full batch.
    batch_rows: usize,
    n_visible: usize,
    n_hidden: usize,
    visible: VisibleUnit,
    hidden: crate::units::HiddenUnit,
    /// One random stream per block of [`ROW_BLOCK`] batch rows.
    streams: Vec<Stream>,
    /// The batch `X` (its first `rows` rows) followed at once by the
    /// negative visible statistics `v⁻` (the next `rows` rows): 2B × V, so
    /// that `[X; v⁻]ᵀ` is one matrix for the gradient product.
    visible_stats: Vec<f32>,
    /// The positive hidden means `h⁺` (first `rows` rows) followed by the
    /// negated negative hidden means `−h⁻`: 2B × H.
    hidden_stats: Vec<f32>,
    /// Hidden samples driving the chain (B × H); persistent under PCD.
    hidden_chain: Vec<f32>,
    /// Visible means of the intermediate Gibbs steps (B × V).
    visible_means: Vec<f32>,
    /// Visible samples (B × V).
    visible_samples: Vec<f32>,
    /// The momentum term Δ of the weights (V × H).
    weight_velocity: Vec<f32>,
    /// Per visible unit, Σ over the batch of (x − v⁻)² (the CD-1
    /// reconstruction error, summed in the gradient region).
    recon_error_cols: Vec<f64>,
    visible_bias_velocity: Vec<f32>,
    hidden_bias_velocity: Vec<f32>,
    /// Column sums of `X − v⁻`.
    visible_bias_grad: Vec<f64>,
    /// Column sums of `h⁺ − h⁻`.
    hidden_bias_grad: Vec<f64>,
    chains_started: bool,
    /// Whether every parameter was finite after the last step.
    finite: bool,
    /// Where each parallel region cuts its work between the threads.
    balance: Balances,
}

/// The learned cuts (`parallel::Balance`) of a trainer's parallel regions,
/// one per region of a step (the layer passes of CD-k's later Gibbs steps
/// share those of the first) and of `evaluate`'s passes. Only speed
/// depends on them, never a bit of the results.
struct Balances {
    load: Balance,
    positive: PassBalance,
    down: PassBalance,
    negative_hidden: PassBalance,
    gradient: Balance,
    eval_up: PassBalance,
    eval_down: PassBalance,
}

/// The cuts of a layer pass: its product (with the means) by columns, and
/// its draws by row blocks.
struct PassBalance {
    product: Balance,
    draws: Balance,
}

impl PassBalance {
    fn new(workers: &Workers) -> PassBalance {
        PassBalance {
            product: workers.balance(),
            draws: workers.balance(),
        }
    }
}

impl Balances {
    fn new(workers: &Workers) -> Balances {
        Balances {
            load: workers.balance(),
            positive: PassBalance::new(workers),
            down: PassBalance::new(workers),
            negative_hidden: PassBalance::new(workers),
            gradient: workers.balance(),
            eval_up: PassBalance::new(workers),
            eval_down: PassBalance::new(workers),
        }
    }
}

/// The first `rows` rows of `buf` (rows `width` wide) and the `rows` rows
/// right below them: `[X; v⁻]` or `[h⁺; −h⁻]` as its two halves.
fn halves(buf: &mut [f32], rows: usize, width: usize) -> (&mut [f32], &mut [f32]) {
    buf[..2 * rows * width].split_at_mut(rows * width)
}

impl Trainer {
    /// Buffers for mini-batches of up to `cfg.batch_size` rows of `rbm`.
    /// Block `i` of every batch draws from `Stream::new(cfg.seed, i)`.
    pub fn new(rbm: &Rbm, cfg: &TrainConfig) -> Result<Trainer> {
        cfg.validate()?;
        let (nv, nh) = (rbm.n_visible, rbm.n_hidden);
        let b = cfg.batch_size;
        let blocks = b.div_ceil(ROW_BLOCK);
        let workers = Workers::new(cfg.threads)?;
        Ok(Trainer {
            kernels: Kernels::active(),
            balance: Balances::new(&workers),
            workers,
            cfg: cfg.clone(),
            batch_rows: b,
            n_visible: nv,
            n_hidden: nh,
            visible: rbm.visible,
            hidden: rbm.hidden,
            streams: (0..blocks as u64)
                .map(|i| Stream::new(cfg.seed, i))
                .collect(),
            visible_stats: vec![0.0; 2 * b * nv],
            hidden_stats: vec![0.0; 2 * b * nh],
            hidden_chain: vec![0.0; b * nh],
            visible_means: vec![0.0; b * nv],
            visible_samples: vec![0.0; b * nv],
            weight_velocity: vec![0.0; nv * nh],
            recon_error_cols: vec![0.0; nv],
            visible_bias_velocity: vec![0.0; nv],
            hidden_bias_velocity: vec![0.0; nh],
            visible_bias_grad: vec![0.0; nv],
            hidden_bias_grad: vec![0.0; nh],
            chains_started: false,
            finite: true,
        })
    }

    /// Runs `f` on the trainer's worker threads, entered once, so that the
    /// [`step`](Trainer::step)s it makes do not each hand their work to the
    /// pool and wait to be woken again. [`train`] runs all its epochs this
    /// way; call it for a loop of your own steps.
    ///
    /// With one thread (`threads: 1`) `f` simply runs on the calling thread.
    /// With more, it runs on a pool thread, which is why `f` and its result
    /// must be `Send`. A step called from outside the pool hands its work
    /// to a pool thread and waits to be woken again, which costs more than
    /// a join between pool threads; inside `in_pool` only the joins are
    /// paid (`docs/benchmarks.md` measures both ways). Results are the same
    /// bits either way.
    ///
    /// ```
    /// use nrelu_rbm::{Rbm, VisibleUnit, units::HiddenUnit};
    /// use nrelu_rbm::train::{TrainConfig, Trainer};
    /// let mut rbm = Rbm::new(6, 3, VisibleUnit::Bernoulli, HiddenUnit::Nrelu, 7)?;
    /// let mut cfg = TrainConfig::default_for(VisibleUnit::Bernoulli);
    /// cfg.batch_size = 2;
    /// cfg.threads = 2;
    /// let batch = [1., 1., 1., 0., 0., 0., 0., 0., 0., 1., 1., 1.];
    /// let mut trainer = Trainer::new(&rbm, &cfg)?;
    /// let errors = trainer.in_pool(|t| {
    ///     (0..10).map(|_| t.step(&mut rbm, &batch)).collect::<Result<Vec<f64>, _>>()
    /// })?;
    /// assert_eq!(errors.len(), 10);
    /// # Ok::<(), nrelu_rbm::RbmError>(())
    /// ```
    pub fn in_pool<R: Send>(&mut self, f: impl FnOnce(&mut Trainer) -> R + Send) -> R {
        crate::parallel::in_pool(self.workers.pool(), || f(self))
    }

    /// One CD-k / PCD-k update of `rbm` on `batch` (1 to `batch_size` rows
    /// of visible states). Returns the summed squared error of the batch's
    /// first reconstruction under CD (0 under PCD).
    ///
    /// Input errors leave `rbm` and the trainer unchanged. They are checked
    /// in this order: the model's shape and units, an empty or ragged
    /// batch, more rows than `batch_size`, then values that are not finite
    /// ([`RbmError::NonFinite`] names the first one's row and column; that
    /// check runs in parallel with loading the batch).
    ///
    /// On non-finite parameters it returns [`RbmError::StepDiverged`] and
    /// leaves `rbm` as the failed update made it.
    pub fn step(&mut self, rbm: &mut Rbm, batch: &[f32]) -> Result<f64> {
        if (rbm.n_visible, rbm.n_hidden, rbm.visible, rbm.hidden)
            != (self.n_visible, self.n_hidden, self.visible, self.hidden)
        {
            return Err(invalid(
                "model",
                "another shape or unit type",
                "must be the model the trainer was made for",
            ));
        }
        let rows = rbm.check_input_shape("batch", batch, self.n_visible)?;
        if rows > self.batch_rows {
            return Err(RbmError::ShapeMismatch {
                what: "batch rows",
                got: rows,
                want: self.batch_rows,
            });
        }
        let Some(sq) = self.step_rows(rbm, rows, Batch::Check(batch)) else {
            // A part of the batch is not finite: the serial check names
            // the first bad value.
            check_finite(batch, self.n_visible)?;
            return Err(invalid("batch", "a value", "must be finite"));
        };
        if !self.finite {
            return Err(RbmError::StepDiverged);
        }
        Ok(sq)
    }

    /// One CD-k / PCD-k update on `rows` rows loaded from `batch`. Returns
    /// the summed squared error of the first reconstruction (CD), or `None`
    /// (and no update) when `Batch::Check` finds a value that is not
    /// finite.
    fn step_rows(&mut self, rbm: &mut Rbm, rows: usize, batch: Batch<'_>) -> Option<f64> {
        // The whole step runs inside the pool: its parallel regions are then
        // joins between pool threads (see `parallel::in_pool`).
        crate::parallel::in_pool(self.workers.pool(), || {
            self.load_batch(rows, batch)
                .then(|| self.step_rows_in_pool(rbm, rows))
        })
    }

    /// Loads the batch into the first `rows` rows of `[X; v⁻]` in one
    /// parallel region (a serial copy would leave the other threads idle
    /// long enough to be parked, and waking them would delay the first
    /// product). Returns whether every value is finite (always true for
    /// `Batch::Gather`, whose data was checked once).
    fn load_batch(&mut self, rows: usize, batch: Batch<'_>) -> bool {
        let (nv, k) = (self.n_visible, self.kernels);
        let bad = AtomicBool::new(false);
        self.workers.for_row_blocks(
            &self.balance.load,
            ROW_BLOCK,
            nv,
            &mut self.visible_stats[..rows * nv],
            |r0, dst| match batch {
                Batch::Check(src) => {
                    let src = &src[r0 * nv..r0 * nv + dst.len()];
                    if !k.all_finite(src) {
                        bad.store(true, Ordering::Relaxed);
                    }
                    dst.copy_from_slice(src);
                }
                Batch::Gather(data, order) => {
                    for (dst, &src) in dst.chunks_exact_mut(nv).zip(&order[r0..]) {
                        let s = src as usize * nv;
                        dst.copy_from_slice(&data[s..s + nv]);
                    }
                }
            },
        );
        !bad.load(Ordering::Relaxed)
    }

    /// The update on the `rows` rows of `X` already loaded, inside the
    /// pool: the two phases, the weights, then the biases. Returns the
    /// summed squared error of the first reconstruction (CD; 0 under PCD).
    fn step_rows_in_pool(&mut self, rbm: &mut Rbm, rows: usize) -> f64 {
        self.positive_phase(rbm, rows);
        let mut sq = self.negative_phase(rbm, rows);
        let rates = Rates::new(&self.cfg, rows);
        let weights_finite = self.update_weights(&mut rbm.weights, rows, rates);
        if recon_error_in_gradient_region(self.cfg.sampling) {
            // Column by column in order: the same sum for any split.
            sq = self.recon_error_cols.iter().sum();
        }
        // The biases are updated even when a weight is no longer finite:
        // a failed step leaves the model as the whole update made it.
        let biases_finite = !self.cfg.update_biases || self.update_biases(rbm, rates);
        self.finite = weights_finite && biases_finite;
        sq
    }

    /// The positive phase: the hidden means `h⁺` of the batch into the top
    /// half of `[h⁺; −h⁻]`, and hidden samples into the chain. Under PCD
    /// the chains keep their own samples, so the data's hidden samples are
    /// only drawn to start them.
    fn positive_phase(&mut self, rbm: &Rbm, rows: usize) {
        let pcd = matches!(self.cfg.sampling, Sampling::Pcd(_));
        let layer = Layer::up(rbm).drawing_if(!pcd || !self.chains_started);
        let (x, _) = halves(&mut self.visible_stats, rows, self.n_visible);
        let (h_pos, _) = halves(&mut self.hidden_stats, rows, self.n_hidden);
        let mut ctx = PassContext {
            kernels: self.kernels,
            workers: &self.workers,
            streams: &mut self.streams,
            sample_visible: self.cfg.sample_visible,
        };
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
    fn negative_phase(&mut self, rbm: &Rbm, rows: usize) -> f64 {
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
        let mut ctx = PassContext {
            kernels: self.kernels,
            workers: &self.workers,
            streams: &mut self.streams,
            sample_visible: self.cfg.sample_visible,
        };
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
        let layer = Layer {
            negate_mean: last,
            ..Layer::up(rbm).drawing_if(!last || pcd)
        };
        let nv = self.n_visible;
        let v_state: &[f32] = if last {
            &self.visible_stats[rows * nv..2 * rows * nv]
        } else {
            &self.visible_samples
        };
        let (_, h_neg) = halves(&mut self.hidden_stats, rows, self.n_hidden);
        let mut ctx = PassContext {
            kernels: self.kernels,
            workers: &self.workers,
            streams: &mut self.streams,
            sample_visible: self.cfg.sample_visible,
        };
        ctx.run(Pass {
            layer: &layer,
            balance: &self.balance.negative_hidden,
            input: v_state,
            rows,
            means: h_neg,
            samples: &mut self.hidden_chain,
        });
    }

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
    fn update_weights(&mut self, weights: &mut [f32], rows: usize, rates: Rates) -> bool {
        let (nv, nh, k) = (self.n_visible, self.n_hidden, self.kernels);
        let Rates {
            momentum: m,
            decay,
            scale,
        } = rates;
        let bad = AtomicBool::new(false);
        let stats = &self.visible_stats[..2 * rows * nv];
        let visible_t = MatRef::row_major(stats, 2 * rows, nv).transpose();
        let hidden = MatRef::row_major(&self.hidden_stats[..2 * rows * nh], 2 * rows, nh);
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
            nh,
            [weights, &mut self.weight_velocity],
            [&mut self.visible_bias_grad, &mut self.recon_error_cols],
            &mut self.hidden_bias_grad,
            |r0, w, vel, [grad_b, recon_cols], grad_c| {
                let r1 = r0 + grad_b.len();
                let a = visible_t.rows_range(r0, r1);
                let finite = if m == 0.0 {
                    k.gemm_scaled_into(
                        a,
                        hidden,
                        scale,
                        1.0 - decay,
                        MatMut::row_major(w, r1 - r0, nh),
                    );
                    k.all_finite(w)
                } else {
                    k.gemm_scaled_into(a, hidden, scale, m, MatMut::row_major(vel, r1 - r0, nh));
                    k.apply_velocity(decay, w, vel)
                };
                if !finite {
                    bad.store(true, Ordering::Relaxed);
                }
                // Each column is one sequential sum: any split, same bits.
                let (x, v_neg) = (x.cols_range(r0, r1), v_neg.cols_range(r0, r1));
                k.column_sums(x, Accumulate::Overwrite, grad_b);
                k.column_sums(v_neg, Accumulate::Subtract, grad_b);
                if recon_error_here {
                    k.column_squared_distances(x, v_neg, recon_cols);
                }
                if let Some(grad_c) = grad_c {
                    k.column_sums(hidden, Accumulate::Overwrite, grad_c);
                }
            },
        );
        !bad.load(Ordering::Relaxed)
    }

    /// The bias updates, by the weights' rule without decay:
    /// `Δ ← mΔ + (η/B)·g`, `b ← b + Δ`, with `g` the f64 gradient of the
    /// gradient region. Returns whether every bias is finite.
    fn update_biases(&mut self, rbm: &mut Rbm, rates: Rates) -> bool {
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

    /// Mean squared error of noise-free reconstructions of the first `rows`
    /// rows of `data`, through the trainer's buffers (no allocation).
    fn evaluate(&mut self, rbm: &Rbm, data: &[f32], rows: usize) -> f64 {
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

impl PassContext<'_> {
    /// Runs `pass`. The product is split by columns: each thread reads
    /// only its block of the weights (matrixmultiply packs it; the AVX-512
    /// kernel reads it in place), and every row stays in one call (a row
    /// split made matrixmultiply repack all the weights per thread and
    /// left ragged row tiles on each; see docs/benchmarks.md). The call
    /// gives the product whole 16-row tiles only and computes the last
    /// `rows % 16` rows with the small-row kernel's arithmetic (a batch of
    /// 100 would otherwise cost 112 rows of work); either part has the same
    /// bits for any column split.
    ///
    /// The means are element-wise, so they are computed in the same
    /// parallel region, on the block the thread has just written: in place
    /// without samples; with samples the product goes to `samples` (the
    /// pre-activations the samplers need) and the means from there to
    /// `means`, which leaves the sampling region only the draws (no copy of
    /// the pre-activations, and no pass over columns another thread
    /// wrote). Negated means (`layer.negate_mean`) are negated there too.
    /// Element-wise work, so the same bits for any split.
    fn run(&mut self, pass: Pass<'_, '_>) {
        let Pass {
            layer,
            balance,
            input,
            rows,
            means,
            samples,
        } = pass;
        let (in_w, out_w) = (layer.weights.rows, layer.weights.cols);
        let input = MatRef::row_major(&input[..rows * in_w], rows, in_w);
        let means = MatMut::row_major(&mut means[..rows * out_w], rows, out_w);
        if matches!(layer.draw, Draw::None) {
            self.product_and_means(layer, &balance.product, input, means);
            return;
        }
        let pre = MatMut::row_major(&mut samples[..rows * out_w], rows, out_w);
        self.product_means_and_preactivations(layer, &balance.product, input, pre, means);
        self.draw(layer, &balance.draws, &mut samples[..rows * out_w]);
    }

    /// `means = act(input · W + bias)` (negated if the layer says so), in
    /// place, split by column tiles.
    fn product_and_means(
        &self,
        layer: &Layer<'_>,
        bal: &Balance,
        input: MatRef<'_>,
        means: MatMut<'_>,
    ) {
        let k = self.kernels;
        self.workers.for_col_tiles(bal, means, |j0, mut c| {
            let j1 = layer_product(k, layer, input, j0, c.reborrow());
            for r in 0..c.rows() {
                layer_means(k, layer, j0, j1, None, c.row_mut(r));
            }
        });
    }

    /// The pre-activations `input · W` into `pre` and the means computed
    /// from them into `means`, split by the same column tiles of both.
    fn product_means_and_preactivations(
        &self,
        layer: &Layer<'_>,
        bal: &Balance,
        input: MatRef<'_>,
        pre: MatMut<'_>,
        means: MatMut<'_>,
    ) {
        let k = self.kernels;
        self.workers
            .for_col_tiles_pair(bal, pre, means, |j0, mut pre, mut c| {
                let j1 = layer_product(k, layer, input, j0, pre.reborrow());
                for r in 0..c.rows() {
                    layer_means(k, layer, j0, j1, Some(pre.row_mut(r)), c.row_mut(r));
                }
            });
    }

    /// The draws of the layer, in place on the pre-activations `pre`, split
    /// by row blocks with their streams.
    fn draw(&mut self, layer: &Layer<'_>, bal: &Balance, pre: &mut [f32]) {
        let (k, sample_visible) = (self.kernels, self.sample_visible);
        let out_w = layer.weights.cols;
        self.workers
            .for_block_streams(bal, ROW_BLOCK, (pre, out_w), self.streams, |s, streams| {
                for (bi, block) in s.chunks_mut(ROW_BLOCK * out_w).enumerate() {
                    draw_block(k, layer, sample_visible, block, &mut streams[bi]);
                }
            });
    }
}

/// Columns `j0..` of `input · layer.weights` into `c`, unpadded; returns
/// the end column.
fn layer_product(
    k: Kernels,
    layer: &Layer<'_>,
    input: MatRef<'_>,
    j0: usize,
    c: MatMut<'_>,
) -> usize {
    let j1 = j0 + c.cols();
    k.gemm_into_unpadded(
        input,
        layer.weights.cols_range(j0, j1),
        Accumulate::Overwrite,
        c,
    );
    j1
}

/// The means of columns `j0..j1` of one row into `out`: from `pre` when
/// given, else in place on `out`; negated if the layer says so.
fn layer_means(
    k: Kernels,
    layer: &Layer<'_>,
    j0: usize,
    j1: usize,
    pre: Option<&[f32]>,
    out: &mut [f32],
) {
    let bias = &layer.bias[j0..j1];
    match pre {
        Some(pre) => k.activate_from(layer.activation, bias, pre, out),
        None => k.activate(layer.activation, bias, out),
    }
    if layer.negate_mean {
        for a in out.iter_mut() {
            *a = -*a;
        }
    }
}

/// The samples of one block of rows, in place on its pre-activations, from
/// the block's stream: all rows in one kernel call (the same bits as one
/// call per row), or row by row for Gaussian visible units.
fn draw_block(
    k: Kernels,
    layer: &Layer<'_>,
    sample_visible: bool,
    block: &mut [f32],
    stream: &mut Stream,
) {
    let out_w = layer.weights.cols;
    match layer.draw {
        Draw::Hidden(sampler) => k.sample_rows(sampler, layer.bias, block, out_w, stream),
        Draw::BernoulliVisible => {
            k.sample_rows(Sampler::Bernoulli, layer.bias, block, out_w, stream)
        }
        Draw::GaussianVisible => {
            for row in block.chunks_mut(out_w) {
                k.activate(Activation::Identity, layer.bias, row);
                if sample_visible {
                    add_unit_noise(row, stream);
                }
            }
        }
        Draw::None => unreachable!("passes without samples draw nothing"),
    }
}

/// Fisher–Yates with 64-bit multiply-shift indices (bias below n/2^64).
fn shuffle_order(k: Kernels, stream: &mut Stream, words: &mut [u32], order: &mut [u32]) {
    k.fill_words(stream, words);
    for i in (1..order.len()).rev() {
        let r = u64::from(words[2 * i]) | (u64::from(words[2 * i + 1]) << 32);
        let j = ((u128::from(r) * (i as u128 + 1)) >> 64) as usize;
        order.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::HiddenUnit;

    /// One way of training for the scrambled-cut test.
    #[derive(Clone, Copy, Debug)]
    struct Setup {
        unit: HiddenUnit,
        sampling: Sampling,
        visible: VisibleUnit,
        momentum: f32,
    }

    /// Trains 8 steps of `setup` on `threads` threads; with a seed, every
    /// region's cut is scrambled before each step (anywhere, not just where
    /// the balance would put it).
    fn scrambled(setup: Setup, threads: usize, seed: Option<u64>) -> Rbm {
        let (v, h, b) = (40, 37, 21);
        let mut rbm = Rbm::new(v, h, setup.visible, setup.unit, 3).unwrap();
        let gaussian = setup.visible == VisibleUnit::Gaussian;
        let cfg = TrainConfig {
            batch_size: b,
            learning_rate: if gaussian { 0.005 } else { 0.05 },
            momentum: setup.momentum,
            sampling: setup.sampling,
            threads,
            sample_visible: gaussian,
            ..TrainConfig::default_for(setup.visible)
        };
        let data: Vec<f32> = (0..4 * b * v)
            .map(|i| {
                let on = (i * 7919) % 13 < 5;
                match (gaussian, on) {
                    (false, on) => on as u8 as f32,
                    (true, on) => (i % 7) as f32 * 0.3 - if on { 0.2 } else { 0.9 },
                }
            })
            .collect();
        let mut t = Trainer::new(&rbm, &cfg).unwrap();
        let mut s = seed.unwrap_or(0);
        for batch in data.chunks(b * v).cycle().take(8) {
            if seed.is_some() {
                let Balances {
                    load,
                    positive,
                    down,
                    negative_hidden,
                    gradient,
                    ..
                } = &t.balance;
                for bal in [load, gradient] {
                    bal.scramble(&mut s);
                }
                for p in [positive, down, negative_hidden] {
                    p.product.scramble(&mut s);
                    p.draws.scramble(&mut s);
                }
            }
            t.step(&mut rbm, batch).unwrap();
        }
        rbm
    }

    fn bits(m: &Rbm) -> Vec<u32> {
        m.weights()
            .iter()
            .chain(m.visible_bias())
            .chain(m.hidden_bias())
            .map(|x| x.to_bits())
            .collect()
    }

    #[test]
    fn cuts_anywhere_give_the_same_bits_as_one_thread() {
        let units = [
            HiddenUnit::Bernoulli,
            HiddenUnit::Nrelu,
            HiddenUnit::Ssu,
            HiddenUnit::Binomial(3),
        ];
        let mut setups = Vec::new();
        for unit in units {
            for sampling in [Sampling::Cd(1), Sampling::Cd(2), Sampling::Pcd(1)] {
                // Momentum 0.5 and 0: the two ways the update is folded
                // into the gradient product.
                for momentum in [0.5, 0.0] {
                    setups.push(Setup {
                        unit,
                        sampling,
                        visible: VisibleUnit::Bernoulli,
                        momentum,
                    });
                }
            }
        }
        // Sampled Gaussian visible units: the other draw of a down pass.
        setups.push(Setup {
            unit: HiddenUnit::Nrelu,
            sampling: Sampling::Cd(2),
            visible: VisibleUnit::Gaussian,
            momentum: 0.5,
        });
        for setup in setups {
            let one = bits(&scrambled(setup, 1, None));
            for (threads, seed) in [(2, 1), (2, 2), (3, 3)] {
                let many = bits(&scrambled(setup, threads, Some(seed)));
                assert!(
                    one == many,
                    "{setup:?}: {threads} threads with scrambled cuts differ"
                );
            }
        }
    }
}
