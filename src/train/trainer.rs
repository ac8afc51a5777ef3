//! The trainer: the buffers, worker threads and random streams of a run,
//! and one CD-k / PCD-k step on them (see the [parent module](super) for
//! the step's arithmetic and why its bits do not depend on the threads).

use super::centering::{CENTERING_ROWS, Centering};
use super::checkpoint::Buf;
use super::pass::{Layer, Pass, PassBalance, PassContext};
use super::tempering::{self, Tempering};
use super::{ROW_BLOCK, Sampling, TrainConfig};
use crate::error::{RbmError, Result, check_finite, invalid};
use crate::kernels::{Accumulate, Kernels, MatMut, MatRef, Product, SGEMM_ROW_TILE, Stream};
use crate::parallel::{Balance, Workers};
use crate::rbm::{Rbm, VisibleUnit};
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether the step sums its reconstruction error in the gradient region
/// (CD-1, where the first reconstruction is the negative statistics `v⁻`
/// the region reads anyway) rather than right after the first
/// reconstruction (CD-k with k > 1, whose later Gibbs steps overwrite it).
fn recon_error_in_gradient_region(sampling: Sampling) -> bool {
    sampling == Sampling::Cd(1)
}

/// Where a step's mini-batch comes from.
#[derive(Clone, Copy)]
pub(super) enum Batch<'a> {
    /// Rows to check for finiteness and copy ([`Trainer::step`]).
    Check(&'a [f32]),
    /// Rows `order` of `data`, which was checked once ([`train`](super::train)).
    Gather(&'a [f32], &'a [u32]),
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
/// [`train`](super::train) drives a `Trainer` over shuffled mini-batches;
/// use it directly to run single steps (online learning, custom schedules,
/// benchmarks).
///
/// ```
/// use nrelu_rbm::{Rbm, VisibleUnit, units::HiddenUnit};
/// use nrelu_rbm::train::{TrainConfig, Trainer};
/// let mut rbm = Rbm::new(6, 3, VisibleUnit::Bernoulli, HiddenUnit::Ssu, 1)?;
/// let cfg = TrainConfig::default_for(VisibleUnit::Bernoulli).with_batch_size(2);
/// let mut trainer = Trainer::new(&rbm, &cfg)?;
/// let batch = [1., 1., 1., 0., 0., 0., 0., 0., 0., 1., 1., 1.];
/// let err = trainer.step(&mut rbm, &batch)?; // squared reconstruction error
/// assert!(err.is_finite());
/// # Ok::<(), nrelu_rbm::RbmError>(())
/// ```
pub struct Trainer {
    pub(super) kernels: Kernels,
    pub(super) workers: Workers,
    cfg: TrainConfig,
    /// Rows per full batch.
    pub(super) batch_rows: usize,
    n_visible: usize,
    n_hidden: usize,
    visible: VisibleUnit,
    hidden: crate::units::HiddenUnit,
    /// One random stream per block of [`ROW_BLOCK`] batch rows.
    streams: Vec<Stream>,
    /// The batch `X` (its first `rows` rows) followed at once by the
    /// negative visible statistics `v⁻` (the next `rows` rows), then room
    /// for centring's two rows: (2B + 2) × V, so that `[X; v⁻]ᵀ` is one
    /// matrix for the gradient product.
    visible_stats: Vec<f32>,
    /// The positive hidden means `h⁺` (first `rows` rows) followed by the
    /// negated negative hidden means `−h⁻`, then room for centring's two
    /// rows: (2B + 2) × H.
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
    /// The offsets of a centred run.
    centering: Option<Centering>,
    /// The tempered chains of a run with parallel tempering.
    pub(super) tempering: Option<Tempering>,
    /// Whether every parameter was finite after the last step.
    pub(super) finite: bool,
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
        tempering::check_units(cfg, rbm.visible, rbm.hidden)?;
        let workers = Workers::new(cfg.threads)?;
        let tempering = (cfg.tempering > 1)
            .then(|| Tempering::new(rbm, cfg.tempering, b, cfg.seed, cfg.swap_rule, &workers));
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
            visible_stats: vec![0.0; (2 * b + CENTERING_ROWS) * nv],
            hidden_stats: vec![0.0; (2 * b + CENTERING_ROWS) * nh],
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
            centering: cfg.centering.map(|rate| Centering::new(rate, nv, nh)),
            tempering,
            finite: true,
        })
    }

    /// Runs `f` on the trainer's worker threads, entered once, so that the
    /// [`step`](Trainer::step)s it makes do not each hand their work to the
    /// pool and wait to be woken again. [`train`](super::train) runs all its epochs this
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
    /// let cfg = TrainConfig::default_for(VisibleUnit::Bernoulli)
    ///     .with_batch_size(2)
    ///     .with_threads(2);
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
        self.check_model(rbm)?;
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

    /// Hands every piece of state that carries from one step to the next
    /// (and the scratch buffers, so that a restored trainer is the saved
    /// one in every bit) to `f`, under stable names: for checkpoints.
    pub(super) fn visit_state(
        &mut self,
        f: &mut dyn FnMut(&str, Buf<'_>) -> Result<()>,
    ) -> Result<()> {
        f("trainer.streams", Buf::Streams(&mut self.streams))?;
        f("trainer.visible_stats", Buf::F32(&mut self.visible_stats))?;
        f("trainer.hidden_stats", Buf::F32(&mut self.hidden_stats))?;
        f("trainer.hidden_chain", Buf::F32(&mut self.hidden_chain))?;
        f("trainer.visible_means", Buf::F32(&mut self.visible_means))?;
        f(
            "trainer.visible_samples",
            Buf::F32(&mut self.visible_samples),
        )?;
        f(
            "trainer.weight_velocity",
            Buf::F32(&mut self.weight_velocity),
        )?;
        f(
            "trainer.recon_error_cols",
            Buf::F64(&mut self.recon_error_cols),
        )?;
        f(
            "trainer.visible_bias_velocity",
            Buf::F32(&mut self.visible_bias_velocity),
        )?;
        f(
            "trainer.hidden_bias_velocity",
            Buf::F32(&mut self.hidden_bias_velocity),
        )?;
        f(
            "trainer.visible_bias_grad",
            Buf::F64(&mut self.visible_bias_grad),
        )?;
        f(
            "trainer.hidden_bias_grad",
            Buf::F64(&mut self.hidden_bias_grad),
        )?;
        f(
            "trainer.chains_started",
            Buf::Flag(&mut self.chains_started),
        )?;
        f("trainer.finite", Buf::Flag(&mut self.finite))?;
        if let Some(c) = &mut self.centering {
            c.visit_state(f)?;
        }
        if let Some(t) = &mut self.tempering {
            t.visit_state(f)?;
        }
        Ok(())
    }

    /// The options the trainer was made with.
    pub(super) fn config(&self) -> &TrainConfig {
        &self.cfg
    }

    /// Checks that `rbm` has the shape and units the trainer was made for.
    pub(super) fn check_model(&self, rbm: &Rbm) -> Result<()> {
        if (rbm.n_visible, rbm.n_hidden, rbm.visible, rbm.hidden)
            != (self.n_visible, self.n_hidden, self.visible, self.hidden)
        {
            return Err(invalid(
                "model",
                "another shape or unit type",
                "must be the model the trainer was made for",
            ));
        }
        Ok(())
    }

    /// One CD-k / PCD-k update on `rows` rows loaded from `batch`. Returns
    /// the summed squared error of the first reconstruction (CD), or `None`
    /// (and no update) when `Batch::Check` finds a value that is not
    /// finite.
    pub(super) fn step_rows(
        &mut self,
        rbm: &mut Rbm,
        rows: usize,
        batch: Batch<'_>,
    ) -> Option<f64> {
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
        let mut sq = if self.tempering.is_some() {
            self.tempered_negative_phase(rbm, rows);
            0.0
        } else {
            self.negative_phase(rbm, rows)
        };
        let rates = Rates::new(&self.cfg, rows);
        let extra = match &mut self.centering {
            Some(c) => {
                let (vs, hs) = (&mut self.visible_stats, &mut self.hidden_stats);
                c.prepare(self.kernels, vs, hs, rows, &rbm.weights);
                CENTERING_ROWS
            }
            None => 0,
        };
        let weights_finite = self.update_weights(&mut rbm.weights, rows, extra, rates);
        if recon_error_in_gradient_region(self.cfg.sampling) {
            // Column by column in order: the same sum for any split.
            sq = self.recon_error_cols.iter().sum();
        }
        // The biases are updated even when a weight is no longer finite:
        // a failed step leaves the model as the whole update made it.
        let biases_finite = !self.cfg.update_biases || self.update_biases(rbm, rates);
        // Centring moves the standard biases by the change of Wλ and Wᵀμ.
        let centred_finite = match &mut self.centering {
            Some(c) => c.finish(self.kernels, rbm),
            None => true,
        };
        self.finite = weights_finite && biases_finite && centred_finite;
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

    /// The negative phase under parallel tempering: k sweeps (each with its
    /// swaps) of the tempered chains, started at the first step from the
    /// data's hidden samples; `v⁻` and `−h⁻` from the β = 1 chain.
    fn tempered_negative_phase(&mut self, rbm: &Rbm, rows: usize) {
        let (nv, nh, k) = (self.n_visible, self.n_hidden, self.kernels);
        let t = self.tempering.as_mut().expect("tempering is on");
        if !t.started {
            t.start(&self.hidden_chain);
        }
        t.run(k, &self.workers, rbm, rows, self.cfg.sampling.k());
        let (_, v_neg) = halves(&mut self.visible_stats, rows, nv);
        let (_, h_neg) = halves(&mut self.hidden_stats, rows, nh);
        t.negative_statistics(k, self.hidden, rows, v_neg, h_neg);
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
    ///
    /// With centring, `extra` rows below each half (`[−μ; −g_b]` and
    /// `[g_c; λ]`) join the product, which then gives the centred
    /// gradient (see `centering`).
    fn update_weights(
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
    pub(super) fn evaluate(&mut self, rbm: &Rbm, data: &[f32], rows: usize) -> f64 {
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
        centering: Option<f32>,
        tempering: usize,
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
            centering: setup.centering,
            tempering: setup.tempering,
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
            HiddenUnit::binomial_of::<3>(),
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
                        centering: None,
                        tempering: 1,
                    });
                    // Centring, for every unit, sampling and update form.
                    setups.push(Setup {
                        unit,
                        sampling,
                        visible: VisibleUnit::Bernoulli,
                        momentum,
                        centering: Some(0.1),
                        tempering: 1,
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
            centering: None,
            tempering: 1,
        });
        setups.push(Setup {
            unit: HiddenUnit::Nrelu,
            sampling: Sampling::Pcd(2),
            visible: VisibleUnit::Gaussian,
            momentum: 0.5,
            centering: Some(0.05),
            tempering: 1,
        });
        // Parallel tempering, with and without centring.
        for unit in [HiddenUnit::Bernoulli, HiddenUnit::binomial_of::<3>()] {
            for (sampling, centering) in [(Sampling::Pcd(1), None), (Sampling::Pcd(2), Some(0.1))] {
                setups.push(Setup {
                    unit,
                    sampling,
                    visible: VisibleUnit::Bernoulli,
                    momentum: 0.0,
                    centering,
                    tempering: 3,
                });
            }
        }
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
