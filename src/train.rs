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
            shuffle_order(t.k, &mut shuffle, &mut words, &mut order);
            let mut sq = 0f64;
            for batch in 0..batches {
                let r0 = batch * t.b;
                let rows = t.b.min(n - r0);
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
fn sq_in_gradient_region(sampling: Sampling) -> bool {
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

/// A layer pass: `mean = act(inp · W' + bias)`, plus samples.
struct Layer<'a> {
    w: MatRef<'a>,
    bias: &'a [f32],
    act: Activation,
    draw: Draw,
    /// Write `-mean` instead of `mean` (the negative hidden statistics, for
    /// the gradient product `[X; v⁻]ᵀ [h⁺; −h⁻]`).
    negate_mean: bool,
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
    k: Kernels,
    workers: Workers,
    cfg: TrainConfig,
    /// Rows per full batch.
    b: usize,
    v: usize,
    h: usize,
    visible: VisibleUnit,
    hidden: crate::units::HiddenUnit,
    streams: Vec<Stream>,
    /// The batch `X` (its first `rows` rows) followed at once by the
    /// negative visible statistics `v⁻` (the next `rows` rows): 2B × V, so
    /// that `[X; v⁻]ᵀ` is one matrix for the gradient product.
    xv: Vec<f32>,
    /// The positive hidden means `h⁺` (first `rows` rows) followed by the
    /// negated negative hidden means `−h⁻`: 2B × H.
    hh: Vec<f32>,
    /// Hidden samples driving the chain (B × H); persistent under PCD.
    hchain: Vec<f32>,
    /// Visible means of the intermediate Gibbs steps (B × V).
    vmean: Vec<f32>,
    /// Visible samples (B × V).
    vsamp: Vec<f32>,
    vel_w: Vec<f32>,
    /// Per visible unit, Σ over the batch of (x − v⁻)² (the CD-1
    /// reconstruction error, summed in the gradient region).
    sq_cols: Vec<f64>,
    vel_b: Vec<f32>,
    vel_c: Vec<f32>,
    grad_b: Vec<f64>,
    grad_c: Vec<f64>,
    chains_started: bool,
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
    pos: PassBalance,
    down: PassBalance,
    hid: PassBalance,
    grad: Balance,
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
            pos: PassBalance::new(workers),
            down: PassBalance::new(workers),
            hid: PassBalance::new(workers),
            grad: workers.balance(),
            eval_up: PassBalance::new(workers),
            eval_down: PassBalance::new(workers),
        }
    }
}

impl Trainer {
    /// Buffers for mini-batches of up to `cfg.batch_size` rows of `rbm`.
    /// Block `i` of every batch draws from `Stream::new(cfg.seed, i)`.
    pub fn new(rbm: &Rbm, cfg: &TrainConfig) -> Result<Trainer> {
        cfg.validate()?;
        let (v, h) = (rbm.n_visible, rbm.n_hidden);
        let b = cfg.batch_size;
        let blocks = b.div_ceil(ROW_BLOCK);
        let workers = Workers::new(cfg.threads)?;
        Ok(Trainer {
            k: Kernels::active(),
            balance: Balances::new(&workers),
            workers,
            cfg: cfg.clone(),
            b,
            v,
            h,
            visible: rbm.visible,
            hidden: rbm.hidden,
            streams: (0..blocks as u64)
                .map(|i| Stream::new(cfg.seed, i))
                .collect(),
            xv: vec![0.0; 2 * b * v],
            hh: vec![0.0; 2 * b * h],
            hchain: vec![0.0; b * h],
            vmean: vec![0.0; b * v],
            vsamp: vec![0.0; b * v],
            vel_w: vec![0.0; v * h],
            sq_cols: vec![0.0; v],
            vel_b: vec![0.0; v],
            vel_c: vec![0.0; h],
            grad_b: vec![0.0; v],
            grad_c: vec![0.0; h],
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
    /// must be `Send`. On the 2-core reference machine a single region
    /// handed to the pool from outside cost 20–165 µs; over whole blocks of
    /// 200 two-thread 784 × 500 steps at batch 100, steps inside one
    /// `in_pool` call ran at 1.69–1.78× one thread and steps called one by
    /// one at 1.61–1.75×, in the same runs (within the host's noise;
    /// `docs/benchmarks.md`). Results are the same bits either way.
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
            != (self.v, self.h, self.visible, self.hidden)
        {
            return Err(invalid(
                "model",
                "another shape or unit type",
                "must be the model the trainer was made for",
            ));
        }
        let rows = rbm.check_input_shape("batch", batch, self.v)?;
        if rows > self.b {
            return Err(RbmError::ShapeMismatch {
                what: "batch rows",
                got: rows,
                want: self.b,
            });
        }
        let Some(sq) = self.step_rows(rbm, rows, Batch::Check(batch)) else {
            // A part of the batch is not finite: the serial check names
            // the first bad value.
            check_finite(batch, self.v)?;
            return Err(invalid("batch", "a value", "must be finite"));
        };
        if !self.finite {
            return Err(RbmError::StepDiverged);
        }
        Ok(sq)
    }

    /// One pass of `rows` rows of `inp` (width `in_w`) through `layer`,
    /// writing means (width `out_w`) and, if asked, samples.
    #[allow(clippy::too_many_arguments)]
    fn pass(
        k: Kernels,
        workers: &Workers,
        bal: &PassBalance,
        streams: &mut [Stream],
        sample_visible: bool,
        layer: &Layer<'_>,
        inp: &[f32],
        rows: usize,
        mean: &mut [f32],
        samp: &mut [f32],
    ) {
        let (in_w, out_w) = (layer.w.rows, layer.w.cols);
        let draws = !matches!(layer.draw, Draw::None);
        let inp = MatRef::row_major(&inp[..rows * in_w], rows, in_w);
        // The product, split by columns: each thread reads only its block
        // of the weights (matrixmultiply packs it; the AVX-512 kernel reads
        // it in place), and every row stays in one call (a row split made
        // matrixmultiply repack all the weights per thread and left ragged
        // row tiles on each; with the AVX-512 kernel it measured no better,
        // see docs/benchmarks.md, session 5). The call gives the product
        // whole 16-row tiles only and computes the last `rows % 16` rows
        // with the small-row kernel's arithmetic (a batch of 100 would
        // otherwise cost 112 rows of work); either part has the same bits
        // for any column split.
        //
        // The means are element-wise, so they are computed in the same
        // parallel region, on the block the thread has just written: in
        // place without samples; with samples the product goes to `samp`
        // (the pre-activations the samplers need) and the means from there
        // to `mean`, which leaves the sampling region below only the draws
        // (no copy of the pre-activations, and no pass over columns another
        // thread wrote). Negated means (`layer.negate_mean`) are negated
        // there too. Element-wise work, so the same bits for any split.
        let mean_block = |j0: usize, j1: usize, pre: Option<&[f32]>, out: &mut [f32]| {
            let bias = &layer.bias[j0..j1];
            match pre {
                Some(pre) => k.activate_from(layer.act, bias, pre, out),
                None => k.activate(layer.act, bias, out),
            }
            if layer.negate_mean {
                for a in out.iter_mut() {
                    *a = -*a;
                }
            }
        };
        // Columns j0.. of the product into `c`; returns the end column.
        let product = |j0: usize, c: MatMut<'_>| {
            let j1 = j0 + c.cols();
            k.gemm_into_unpadded(inp, layer.w.cols_range(j0, j1), Accumulate::Overwrite, c);
            j1
        };
        let c = MatMut::row_major(&mut mean[..rows * out_w], rows, out_w);
        if !draws {
            workers.for_col_tiles(&bal.product, c, |j0, mut c| {
                let j1 = product(j0, c.reborrow());
                for r in 0..c.rows() {
                    mean_block(j0, j1, None, c.row_mut(r));
                }
            });
            return;
        }
        let d = MatMut::row_major(&mut samp[..rows * out_w], rows, out_w);
        workers.for_col_tiles2(&bal.product, d, c, |j0, mut pre, mut c| {
            let j1 = product(j0, pre.reborrow());
            for r in 0..c.rows() {
                mean_block(j0, j1, Some(pre.row_mut(r)), c.row_mut(r));
            }
        });
        // The draws, split by row blocks with their streams, in place on
        // the pre-activations.
        workers.for_block_streams(
            &bal.draws,
            ROW_BLOCK,
            (&mut samp[..rows * out_w], out_w),
            streams,
            |s, streams| {
                let rows_per_block = ROW_BLOCK * out_w;
                for (bi, s) in s.chunks_mut(rows_per_block).enumerate() {
                    let stream = &mut streams[bi];
                    // Samples of the whole block in one kernel call (the
                    // same bits as one call per row).
                    match layer.draw {
                        Draw::Hidden(sampler) => {
                            k.sample_rows(sampler, layer.bias, s, out_w, stream)
                        }
                        Draw::BernoulliVisible => {
                            k.sample_rows(Sampler::Bernoulli, layer.bias, s, out_w, stream)
                        }
                        Draw::GaussianVisible => {
                            for row in s.chunks_mut(out_w) {
                                k.activate(Activation::Identity, layer.bias, row);
                                if sample_visible {
                                    add_unit_noise(row, stream);
                                }
                            }
                        }
                        Draw::None => unreachable!("passes without samples returned above"),
                    }
                }
            },
        );
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
    /// long enough to be parked, and waking them delayed the first product
    /// by about 30 µs on the reference machine). Returns whether every
    /// value is finite (always true for `Batch::Gather`, whose data was
    /// checked once).
    fn load_batch(&mut self, rows: usize, batch: Batch<'_>) -> bool {
        let (v, k) = (self.v, self.k);
        let bad = AtomicBool::new(false);
        self.workers.for_row_blocks(
            &self.balance.load,
            ROW_BLOCK,
            v,
            &mut self.xv[..rows * v],
            |r0, dst| match batch {
                Batch::Check(src) => {
                    let src = &src[r0 * v..r0 * v + dst.len()];
                    if !k.all_finite(src) {
                        bad.store(true, Ordering::Relaxed);
                    }
                    dst.copy_from_slice(src);
                }
                Batch::Gather(data, order) => {
                    for (dst, &src) in dst.chunks_exact_mut(v).zip(&order[r0..]) {
                        let s = src as usize * v;
                        dst.copy_from_slice(&data[s..s + v]);
                    }
                }
            },
        );
        !bad.load(Ordering::Relaxed)
    }

    fn step_rows_in_pool(&mut self, rbm: &mut Rbm, rows: usize) -> f64 {
        let (v, h, k) = (self.v, self.h, self.k);
        let sampling = self.cfg.sampling;
        let w = MatRef::row_major(&rbm.weights, v, h);
        let up_mean = hidden_mean_activation(rbm.hidden);
        let sampler = hidden_sampler(rbm.hidden);
        let up = Layer {
            w,
            bias: &rbm.hidden_bias,
            act: up_mean,
            draw: Draw::Hidden(sampler),
            negate_mean: false,
        };
        let visible_draw = match rbm.visible {
            VisibleUnit::Bernoulli => Draw::BernoulliVisible,
            VisibleUnit::Gaussian => Draw::GaussianVisible,
        };
        let sv = self.cfg.sample_visible;
        // `[X; v⁻]` and `[h⁺; h⁻]`, each `rows` rows on top of `rows` rows.
        let (x, vneg) = self.xv[..2 * rows * v].split_at_mut(rows * v);
        let (hpos, hneg) = self.hh[..2 * rows * h].split_at_mut(rows * h);

        // Positive phase. Under PCD the chains keep their own samples, so the
        // data's hidden samples are only needed to start them.
        let pcd = matches!(sampling, Sampling::Pcd(_));
        let need_pos_samples = !pcd || !self.chains_started;
        let pos_layer = Layer {
            draw: if need_pos_samples {
                up.draw
            } else {
                Draw::None
            },
            ..up
        };
        Self::pass(
            k,
            &self.workers,
            &self.balance.pos,
            &mut self.streams,
            sv,
            &pos_layer,
            x,
            rows,
            hpos,
            &mut self.hchain,
        );
        self.chains_started = true;

        // Negative phase: k Gibbs steps from `hchain`. The last step writes
        // the negative visible statistics straight into `vneg`: the noise-
        // free means under CD, the samples (the chains' states) under PCD.
        let steps = sampling.k();
        let mut sq = 0.0;
        for t in 1..=steps {
            let last = t == steps;
            let down = Layer {
                w: w.transpose(),
                bias: &rbm.visible_bias,
                act: visible_mean_activation(rbm.visible),
                draw: if last && !pcd {
                    Draw::None
                } else {
                    visible_draw
                },
                negate_mean: false,
            };
            let (mean, samp): (&mut [f32], &mut [f32]) = match (last, pcd) {
                (true, false) => (&mut *vneg, &mut self.vsamp),
                (true, true) => (&mut self.vmean, &mut *vneg),
                (false, _) => (&mut self.vmean, &mut self.vsamp),
            };
            Self::pass(
                k,
                &self.workers,
                &self.balance.down,
                &mut self.streams,
                sv,
                &down,
                &self.hchain,
                rows,
                mean,
                samp,
            );
            if t == 1 && !pcd && !sq_in_gradient_region(sampling) {
                let recon = if last {
                    &*vneg
                } else {
                    &self.vmean[..rows * v]
                };
                sq = k.squared_distance(x, recon);
            }
            // Visible states for the next hidden pass and the statistics:
            // means at the end of CD, samples otherwise (and for PCD chains).
            let vstate: &[f32] = if last { vneg } else { &self.vsamp };
            // The last hidden means enter the gradient negated.
            let hid = Layer {
                draw: if last && !pcd { Draw::None } else { up.draw },
                negate_mean: last,
                ..up
            };
            Self::pass(
                k,
                &self.workers,
                &self.balance.hid,
                &mut self.streams,
                sv,
                &hid,
                vstate,
                rows,
                hneg,
                &mut self.hchain,
            );
        }

        // One parallel phase over parts of the visible units (rows of W):
        // the gradient rows G = Xᵀh⁺ − v⁻ᵀh⁻ = [X; v⁻]ᵀ [h⁺; −h⁻] (one product
        // with inner dimension 2B) go straight into the update through
        // sgemm's α and β, so G is never stored:
        // * without momentum, W ← (1 − λ)·W + s·G in the product, then a
        //   finiteness check of the same rows;
        // * with momentum, Δ ← m·Δ + s·G in the product, then
        //   Δ ← Δ − λW, W ← W + Δ with the check, while the rows are hot;
        // then the visible bias gradient of the same units (f64 column sums
        // of X − v⁻). With a general α, sgemm rounds its whole tiles and its
        // ragged edge tiles differently, so the parts are cut at multiples
        // of 16 rows: every call then tiles its rows as the whole product
        // would, and the bits do not depend on the thread count.
        let lr = self.cfg.learning_rate;
        let (m, decay, scale) = (
            self.cfg.momentum,
            lr * self.cfg.weight_decay,
            lr / rows as f32,
        );
        let bad = AtomicBool::new(false);
        let xvt = MatRef::row_major(&self.xv[..2 * rows * v], 2 * rows, v).transpose();
        let hh = MatRef::row_major(&self.hh[..2 * rows * h], 2 * rows, h);
        let (x, vneg) = self.xv[..2 * rows * v].split_at(rows * v);
        let (xs, vs) = (
            MatRef::row_major(x, rows, v),
            MatRef::row_major(vneg, rows, v),
        );
        // Under CD-1 the reconstruction error is summed here too, per
        // visible unit (the first reconstruction is v⁻ itself); the other
        // samplings computed it right after the first reconstruction.
        let sq_here = sq_in_gradient_region(sampling);
        // The hidden bias gradient (f64 column sums of h⁺ − h⁻, which `hh`
        // holds as [h⁺; −h⁻]) rides along with the last part, so the step
        // has one parallel region fewer; the region's balance gives that
        // part fewer rows of W to make up for it. Each column is one
        // sequential sum, so the bits do not depend on who computes it.
        self.workers.for_row_tiles_2f64(
            &self.balance.grad,
            SGEMM_ROW_TILE,
            h,
            [&mut rbm.weights, &mut self.vel_w],
            [&mut self.grad_b, &mut self.sq_cols],
            &mut self.grad_c,
            |r0, w, vel, [gb, sqc], grad_c| {
                let r1 = r0 + gb.len();
                let a = xvt.rows_range(r0, r1);
                let finite = if m == 0.0 {
                    k.gemm_scaled_into(a, hh, scale, 1.0 - decay, MatMut::row_major(w, r1 - r0, h));
                    k.all_finite(w)
                } else {
                    k.gemm_scaled_into(a, hh, scale, m, MatMut::row_major(vel, r1 - r0, h));
                    k.apply_velocity(decay, w, vel)
                };
                if !finite {
                    bad.store(true, Ordering::Relaxed);
                }
                // Each column is one sequential sum: any split, same bits.
                k.column_sums(xs.cols_range(r0, r1), Accumulate::Overwrite, gb);
                k.column_sums(vs.cols_range(r0, r1), Accumulate::Subtract, gb);
                if sq_here {
                    k.column_squared_distances(xs.cols_range(r0, r1), vs.cols_range(r0, r1), sqc);
                }
                if let Some(grad_c) = grad_c {
                    k.column_sums(hh, Accumulate::Overwrite, grad_c);
                }
            },
        );
        if sq_here {
            // Column by column in order: the same sum for any split.
            sq = self.sq_cols.iter().sum();
        }
        let mut ok = !bad.load(Ordering::Relaxed);
        if !self.cfg.update_biases {
            self.finite = ok;
            return sq;
        }
        for (b, (d, &g)) in rbm
            .visible_bias
            .iter_mut()
            .zip(self.vel_b.iter_mut().zip(&self.grad_b))
        {
            *d = m * *d + scale * g as f32;
            *b += *d;
            ok &= b.is_finite();
        }
        for (c, (d, &g)) in rbm
            .hidden_bias
            .iter_mut()
            .zip(self.vel_c.iter_mut().zip(&self.grad_c))
        {
            *d = m * *d + scale * g as f32;
            *c += *d;
            ok &= c.is_finite();
        }
        self.finite = ok;
        sq
    }

    /// Mean squared error of noise-free reconstructions of the first `rows`
    /// rows of `data`, through the trainer's buffers (no allocation).
    fn evaluate(&mut self, rbm: &Rbm, data: &[f32], rows: usize) -> f64 {
        let (v, h, k) = (self.v, self.h, self.k);
        let w = MatRef::row_major(&rbm.weights, v, h);
        let up = Layer {
            w,
            bias: &rbm.hidden_bias,
            act: hidden_mean_activation(rbm.hidden),
            draw: Draw::None,
            negate_mean: false,
        };
        let down = Layer {
            w: w.transpose(),
            bias: &rbm.visible_bias,
            act: visible_mean_activation(rbm.visible),
            draw: Draw::None,
            negate_mean: false,
        };
        let mut sq = 0.0;
        let mut r0 = 0;
        while r0 < rows {
            let r = self.b.min(rows - r0);
            let x = &data[r0 * v..(r0 + r) * v];
            Self::pass(
                k,
                &self.workers,
                &self.balance.eval_up,
                &mut self.streams,
                false,
                &up,
                x,
                r,
                &mut self.hh,
                &mut self.hchain,
            );
            Self::pass(
                k,
                &self.workers,
                &self.balance.eval_down,
                &mut self.streams,
                false,
                &down,
                &self.hh,
                r,
                &mut self.vmean,
                &mut self.vsamp,
            );
            sq += k.squared_distance(x, &self.vmean[..r * v]);
            r0 += r;
        }
        sq / (rows * v) as f64
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
                    pos,
                    down,
                    hid,
                    grad,
                    ..
                } = &t.balance;
                for bal in [load, grad] {
                    bal.scramble(&mut s);
                }
                for p in [pos, down, hid] {
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
