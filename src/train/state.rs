//! Saving and restoring a trainer, and the position of a whole run, as a
//! [`Checkpoint`].

use super::checkpoint::{Buf, Checkpoint, FNV_START, fnv1a};
use super::{Sampling, Snapshot, TrainConfig, Trainer};
use crate::error::{RbmError, Result};
use crate::kernels::Stream;
use crate::model_io;
use crate::rbm::Rbm;
use crate::units::HiddenUnit;
use std::path::Path;

/// Name of the model's tensor (the bytes of a model file).
const MODEL: &str = "model";

/// The options of `cfg` that change a trainer's steps, named as on the
/// command line. The thread count is not one: it changes no bit.
fn step_options(cfg: &TrainConfig) -> Vec<(&'static str, String)> {
    let sampling = match cfg.sampling {
        Sampling::Cd(k) => format!("CD-{k}"),
        Sampling::Pcd(k) => format!("PCD-{k}"),
    };
    vec![
        ("batch", cfg.batch_size.to_string()),
        ("lr", cfg.learning_rate.to_string()),
        ("momentum", cfg.momentum.to_string()),
        ("weight-decay", cfg.weight_decay.to_string()),
        ("sampling", sampling),
        ("seed", cfg.seed.to_string()),
        ("sample-visible", cfg.sample_visible.to_string()),
        ("update-biases", cfg.update_biases.to_string()),
        ("centering", format!("{:?}", cfg.centering)),
        ("pt", cfg.tempering.to_string()),
        ("swap-rule", format!("{:?}", cfg.swap_rule)),
    ]
}

/// Refuses `ck` unless it holds every option of `want` with the same
/// value, naming the first that differs.
fn check_options(ck: &Checkpoint, want: &[(&'static str, String)]) -> Result<()> {
    for (name, now) in want {
        match ck.options().get(*name) {
            Some(then) if then == now => {}
            then => {
                return Err(RbmError::CheckpointMismatch {
                    option: name,
                    checkpoint: then.cloned().unwrap_or_else(|| "nothing".into()),
                    now: now.clone(),
                });
            }
        }
    }
    Ok(())
}

impl Trainer {
    /// Saves the trainer's whole state with `rbm`, the model it trains: the
    /// momentum, the persistent (and tempered) chains, the centring
    /// offsets, every random stream and the options that change a step.
    /// [`Trainer::restore`] puts it back, after which the same steps give
    /// the same bits as if the trainer had never stopped.
    ///
    /// # Errors
    /// [`RbmError::InvalidParameter`] if `rbm` is not the model the trainer
    /// was made for (another shape or unit types).
    pub fn checkpoint(&mut self, rbm: &Rbm) -> Result<Checkpoint> {
        self.check_model(rbm)?;
        let mut ck = Checkpoint::new();
        for (name, value) in step_options(self.config()) {
            ck.set_option(name, value);
        }
        ck.put_bytes(MODEL, model_io::to_bytes(rbm)?);
        self.visit_state(&mut |name, buf| {
            ck.put(name, buf);
            Ok(())
        })?;
        Ok(ck)
    }

    /// Restores the state saved by [`Trainer::checkpoint`] into this
    /// trainer and `rbm` (which receives the saved model).
    ///
    /// # Errors
    /// [`RbmError::CheckpointMismatch`] naming the first option of the
    /// trainer's configuration that differs from the checkpoint's (the
    /// thread count may differ), [`RbmError::InvalidCheckpoint`] if a piece
    /// of state is missing or has another size, and an error if the model
    /// has another shape or unit types than the trainer's. On error the
    /// trainer and `rbm` are unchanged.
    pub fn restore(&mut self, rbm: &mut Rbm, ck: &Checkpoint) -> Result<()> {
        check_options(ck, &step_options(self.config()))?;
        let model =
            model_io::from_bytes(ck.bytes(MODEL)?, Path::new("checkpoint")).map_err(|e| {
                RbmError::InvalidCheckpoint {
                    reason: format!("its model: {e}"),
                }
            })?;
        self.check_model(rbm)?;
        if self.check_model(&model).is_err() {
            let shape = |m: &Rbm| {
                let mean = match m.hidden {
                    HiddenUnit::Nrelu => format!(" (mean {})", m.nrelu_mean),
                    _ => String::new(),
                };
                format!(
                    "{} {} visible -> {} {} hidden units{mean}",
                    m.n_visible,
                    m.visible.name(),
                    m.n_hidden,
                    m.hidden
                )
            };
            return Err(RbmError::CheckpointMismatch {
                option: "model",
                checkpoint: shape(&model),
                now: shape(rbm),
            });
        }
        // A dry run first, into scratch buffers, so that a bad piece of
        // state leaves the trainer unchanged.
        self.visit_state(&mut |name, buf| dry_take(ck, name, buf))?;
        self.visit_state(&mut |name, buf| ck.take(name, buf))?;
        *rbm = model;
        Ok(())
    }
}

/// Checks that `ck` can fill a buffer like `buf`, without touching it.
fn dry_take(ck: &Checkpoint, name: &str, buf: Buf<'_>) -> Result<()> {
    match buf {
        Buf::F32(v) => ck.take(name, Buf::F32(&mut vec![0.0; v.len()])),
        Buf::F64(v) => ck.take(name, Buf::F64(&mut vec![0.0; v.len()])),
        Buf::U32(v) => ck.take(name, Buf::U32(&mut vec![0; v.len()])),
        Buf::U64(v) => ck.take(name, Buf::U64(&mut vec![0; v.len()])),
        Buf::Flag(_) => ck.take(name, Buf::Flag(&mut false)),
        Buf::Streams(s) => ck.take(name, Buf::Streams(&mut vec![Stream::new(0, 0); s.len()])),
    }
}

/// Where a run of [`train`](super::train) stands between two mini-batches.
pub(super) struct Run {
    /// The order of the rows in the current (or, between epochs, the last)
    /// epoch.
    pub(super) order: Vec<u32>,
    /// Random words of the shuffle (scratch).
    pub(super) words: Vec<u32>,
    pub(super) shuffle: Stream,
    /// The model after the last completed epoch.
    pub(super) last_good: Snapshot,
    /// Completed epochs.
    pub(super) epochs_done: usize,
    /// Completed mini-batches of epoch `epochs_done + 1`; 0 between
    /// epochs (that epoch's rows are not shuffled yet).
    pub(super) batches_done: usize,
    /// The summed squared reconstruction error of those mini-batches.
    pub(super) sq: f64,
    /// The options of the run, with the data's fingerprint, when it
    /// writes or reads checkpoints.
    pub(super) options: Vec<(&'static str, String)>,
}

/// The rows' count and a 64-bit FNV-1a hash of their bits.
fn data_fingerprint(data: &[f32], rows: usize) -> String {
    let mut h = FNV_START;
    for x in data {
        h = fnv1a(h, &x.to_bits().to_le_bytes());
    }
    format!("{rows} rows, fingerprint {h:016x}")
}

impl Run {
    /// A run from the start; `checkpoints` says whether it will write or
    /// read any (only then is the data fingerprinted).
    pub(super) fn new(
        cfg: &TrainConfig,
        data: &[f32],
        rows: usize,
        last_good: Snapshot,
        checkpoints: bool,
    ) -> Run {
        let options = if checkpoints {
            vec![
                ("epochs", cfg.epochs.to_string()),
                ("data", data_fingerprint(data, rows)),
            ]
        } else {
            Vec::new()
        };
        Run {
            order: (0..rows as u32).collect(),
            words: vec![0u32; 2 * rows],
            shuffle: Stream::new(cfg.seed, super::SHUFFLE_STREAM),
            last_good,
            epochs_done: 0,
            batches_done: 0,
            sq: 0.0,
            options,
        }
    }

    /// The whole state of the run: the trainer's, the model's and the
    /// position.
    pub(super) fn checkpoint(&mut self, t: &mut Trainer, rbm: &Rbm) -> Result<Checkpoint> {
        let mut ck = t.checkpoint(rbm)?;
        for (name, value) in &self.options {
            ck.set_option(name, value.clone());
        }
        self.visit(&mut |name, buf| {
            ck.put(name, buf);
            Ok(())
        })?;
        Ok(ck)
    }

    /// Continues from `ck`: the trainer, the model and the position.
    pub(super) fn resume(&mut self, t: &mut Trainer, rbm: &mut Rbm, ck: &Checkpoint) -> Result<()> {
        check_options(ck, &self.options)?;
        self.visit(&mut |name, buf| dry_take(ck, name, buf))?;
        let mut order = vec![0u32; self.order.len()];
        ck.take("run.order", Buf::U32(&mut order))?;
        let mut seen = vec![false; order.len()];
        for &i in &order {
            match seen.get_mut(i as usize) {
                Some(s) if !*s => *s = true,
                _ => {
                    return Err(RbmError::InvalidCheckpoint {
                        reason: "the row order is not a permutation".into(),
                    });
                }
            }
        }
        t.restore(rbm, ck)?;
        self.visit(&mut |name, buf| ck.take(name, buf))
    }

    fn visit(&mut self, f: &mut dyn FnMut(&str, Buf<'_>) -> Result<()>) -> Result<()> {
        let mut position = [self.epochs_done as u64, self.batches_done as u64];
        let mut sq = [self.sq];
        f("run.position", Buf::U64(&mut position))?;
        f("run.sq", Buf::F64(&mut sq))?;
        f("run.order", Buf::U32(&mut self.order))?;
        f(
            "run.shuffle",
            Buf::Streams(std::slice::from_mut(&mut self.shuffle)),
        )?;
        let s = &mut self.last_good;
        f("run.last_good.weights", Buf::F32(&mut s.weights))?;
        f("run.last_good.visible_bias", Buf::F32(&mut s.visible_bias))?;
        f("run.last_good.hidden_bias", Buf::F32(&mut s.hidden_bias))?;
        let too_big = |_| RbmError::InvalidCheckpoint {
            reason: "the run position does not fit this machine".into(),
        };
        self.epochs_done = usize::try_from(position[0]).map_err(too_big)?;
        self.batches_done = usize::try_from(position[1]).map_err(too_big)?;
        self.sq = sq[0];
        Ok(())
    }
}
