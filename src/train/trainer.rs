//! The trainer: the buffers, worker threads and random streams of a run,
//! and one CD-k / PCD-k step on them (see the [parent module](super) for
//! the step's arithmetic and why its bits do not depend on the threads).
//! The step's Gibbs phases are in `phases`, its weight and bias updates in
//! `update`, and the reconstruction error of held rows in `evaluate`.

mod evaluate;
mod phases;
#[cfg(test)]
mod tests;
mod update;

use super::centering::{CENTERING_ROWS, Centering};
use super::checkpoint::Buf;
use super::pass::PassBalance;
use super::tempering::{self, Tempering};
use super::{ROW_BLOCK, Sampling, TrainConfig};
use crate::error::{RbmError, Result, check_finite, invalid};
use crate::kernels::{Kernels, Stream};
use crate::parallel::{Balance, Workers};
use crate::rbm::{Rbm, VisibleUnit};
use std::sync::atomic::{AtomicBool, Ordering};
use update::Rates;

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
    nrelu_mean: crate::units::NreluMean,
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
            nrelu_mean: rbm.nrelu_mean,
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
        let model = (
            rbm.n_visible,
            rbm.n_hidden,
            rbm.visible,
            rbm.hidden,
            rbm.nrelu_mean,
        );
        let own = (
            self.n_visible,
            self.n_hidden,
            self.visible,
            self.hidden,
            self.nrelu_mean,
        );
        if model != own {
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
}
