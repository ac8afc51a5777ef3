//! Watching training: the validation measures of every epoch and early
//! stopping with the best model kept.
//!
//! After each epoch, with [`TrainConfig::with_validation`], [`train`]
//! measures on the held-out rows:
//!
//! * the **validation reconstruction error**: the mean squared error per
//!   visible unit of the noise-free reconstructions (hidden means, then
//!   visible means) of every validation row, the measure of
//!   [`Rbm::reconstruction_error`];
//! * the **free-energy gap** (Hinton, *A Practical Guide to Training
//!   Restricted Boltzmann Machines*, 2010, section 6): the mean free energy
//!   of the validation rows minus that of a fixed subset of the training
//!   rows of the same size. A model that does not overfit gives both sets
//!   about the same free energy; as it starts to overfit, the validation
//!   free energy rises above the training one, and a growing gap is the
//!   signal. (The free energies themselves cannot be compared across
//!   epochs: they move with log Z, which the gap cancels.)
//!
//! The training subset is chosen without randomness: rows ⌊i·N/n⌋ for
//! i = 0, …, n − 1 of the N training rows, n the number of validation rows
//! (all the training rows if there are fewer than n), evenly spread over
//! the file so that a file sorted by class is still covered.
//!
//! Free energies come from [`likelihood::free_energy`]. NReLU units have no
//! energy function; their free energy is that of the stepped sigmoid model
//! with the same parameters (the model NReLU units approximate, as
//! `rbm eval --as-ssu` evaluates it). Gaussian visible units contribute
//! ½‖v − b‖² (unit variance).
//!
//! With [`TrainConfig::with_patience`]`(n)`, training stops once the
//! validation reconstruction error has not improved (strictly decreased
//! below its best) for `n` epochs, and the model returned holds exactly the
//! parameters of the best epoch ([`TrainReport::best_epoch`]), whether or
//! not training stopped early.
//!
//! The callback of [`train`] sees each epoch's measures in
//! [`Progress::Epoch`] and, in [`Progress::Model`], the model itself, to
//! save or evaluate as training goes.
//!
//! ```
//! use nrelu_rbm::{Rbm, VisibleUnit, units::HiddenUnit};
//! use nrelu_rbm::train::{train, Progress, TrainConfig, Validation};
//! use std::ops::ControlFlow;
//! // Two patterns over 6 units; the validation rows are noisy copies.
//! let data: Vec<f32> = [[1., 1., 1., 0., 0., 0.], [0., 0., 0., 1., 1., 1.]]
//!     .iter().cycle().take(40).flatten().copied().collect();
//! let held_out = vec![1., 1., 0., 0., 0., 0., 0., 0., 0., 1., 1., 1.];
//! let cfg = TrainConfig::default()
//!     .with_epochs(50)
//!     .with_batch_size(10)
//!     .with_learning_rate(0.1)
//!     .with_validation(Validation::new(held_out, 6)?)
//!     .with_patience(5);
//! let mut rbm = Rbm::new(6, 3, VisibleUnit::Bernoulli, HiddenUnit::Nrelu, 7)?;
//! let mut best = f64::INFINITY;
//! let report = train(&mut rbm, &data, &cfg, |p| {
//!     if let Progress::Model { stats, rbm } = p {
//!         let v = stats.validation.as_ref().expect("validation rows were given");
//!         if v.reconstruction_error < best {
//!             best = v.reconstruction_error;
//!             // e.g. rbm.save(path) to keep a checkpoint
//!             assert_eq!(rbm.n_visible(), 6);
//!         }
//!         println!("epoch {}: gap {:+.3}", stats.epoch, v.free_energy_gap);
//!     }
//!     ControlFlow::Continue(())
//! })?;
//! // The model returned is the one of the best epoch.
//! let kept = report.best_epoch.expect("patience was set");
//! let stats = report.epochs[kept - 1].validation.as_ref().unwrap();
//! assert_eq!(stats.reconstruction_error, best);
//! # Ok::<(), nrelu_rbm::RbmError>(())
//! ```

#[cfg(doc)]
use super::{Progress, TrainReport, train};
use super::{Snapshot, TrainConfig, Trainer};
use crate::error::{Result, check_finite, invalid, rows_of};
use crate::likelihood;
use crate::rbm::Rbm;
use crate::units::HiddenUnit;
use std::sync::Arc;

/// Held-out rows to watch training with ([`TrainConfig::with_validation`]):
/// rows of as many values as the model has visible units, already mapped
/// like the training data. Cheap to clone (the rows are shared).
///
/// ```
/// use nrelu_rbm::train::Validation;
/// let v = Validation::new(vec![0.0, 1.0, 1.0, 0.0], 2)?;
/// assert_eq!((v.rows(), v.cols()), (2, 2));
/// assert!(Validation::new(vec![0.0, 1.0, 1.0], 2).is_err()); // ragged
/// assert!(Validation::new(vec![f32::NAN, 1.0], 2).is_err());
/// # Ok::<(), nrelu_rbm::RbmError>(())
/// ```
#[derive(Clone, PartialEq)]
pub struct Validation {
    data: Arc<[f32]>,
    cols: usize,
}

impl std::fmt::Debug for Validation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Validation({} rows × {} columns)",
            self.rows(),
            self.cols
        )
    }
}

impl Validation {
    /// Validation rows: `data` holds whole rows of `cols` values, at least
    /// one row, all finite.
    ///
    /// # Errors
    /// [`RbmError::EmptyData`](crate::RbmError::EmptyData),
    /// [`RbmError::Ragged`](crate::RbmError::Ragged) or
    /// [`RbmError::NonFinite`](crate::RbmError::NonFinite).
    pub fn new(data: Vec<f32>, cols: usize) -> Result<Validation> {
        let rows = rows_of("validation data", &data, cols)?;
        if rows == 0 {
            return Err(crate::RbmError::EmptyData { rows, cols });
        }
        check_finite(&data, cols)?;
        Ok(Validation {
            data: data.into(),
            cols,
        })
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.data.len() / self.cols
    }

    /// Values per row.
    pub fn cols(&self) -> usize {
        self.cols
    }
}

/// The validation measures of one epoch ([`EpochStats::validation`]).
///
/// [`EpochStats::validation`]: super::EpochStats::validation
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ValidationStats {
    /// Mean squared error per visible unit of the noise-free
    /// reconstructions of the validation rows, after the epoch. It is the
    /// measure [`TrainConfig::with_patience`] watches.
    pub reconstruction_error: f64,
    /// Mean free energy of the validation rows.
    pub validation_free_energy: f64,
    /// Mean free energy of the fixed training subset (see the
    /// [module docs](self)).
    pub training_free_energy: f64,
    /// `validation_free_energy − training_free_energy`: grows as the model
    /// overfits.
    pub free_energy_gap: f64,
}

/// The watch over a run: the validation rows, the training subset, the
/// model whose free energy is measured and the best epoch so far.
pub(super) struct Watch<'a> {
    validation: &'a [f32],
    rows: usize,
    subset: Vec<f32>,
    /// The stepped sigmoid copy of an NReLU model (`None` for units with
    /// an energy of their own), refreshed each epoch.
    energy_model: Option<Rbm>,
    patience: Option<usize>,
    /// The best epoch, its validation error and (with patience) its
    /// parameters.
    best: Option<(usize, f64, Option<Snapshot>)>,
}

impl<'a> Watch<'a> {
    /// The watch `cfg` asks for over a run of `rbm` on `data` (`n` rows),
    /// or `None` without validation rows.
    pub(super) fn new(
        cfg: &'a TrainConfig,
        rbm: &Rbm,
        data: &[f32],
        n: usize,
    ) -> Result<Option<Watch<'a>>> {
        let Some(v) = &cfg.validation else {
            return Ok(None);
        };
        if v.cols != rbm.n_visible {
            return Err(invalid(
                "validation data",
                format!("{} columns", v.cols),
                "must have one column per visible unit of the model",
            ));
        }
        let nv = rbm.n_visible;
        let m = v.rows().min(n);
        let mut subset = Vec::with_capacity(m * nv);
        for i in 0..m {
            let r = i * n / m;
            subset.extend_from_slice(&data[r * nv..(r + 1) * nv]);
        }
        let energy_model = (rbm.hidden == HiddenUnit::Nrelu).then(|| Rbm {
            hidden: HiddenUnit::Ssu,
            nrelu_mean: crate::units::NreluMean::Relu,
            ..rbm.clone()
        });
        Ok(Some(Watch {
            validation: &v.data,
            rows: v.rows(),
            subset,
            energy_model,
            patience: cfg.patience,
            best: None,
        }))
    }

    /// The measures of `rbm` after an epoch, the reconstructions run
    /// through the trainer `t` (no allocation, the trainer's threads).
    pub(super) fn measure(&mut self, t: &mut Trainer, rbm: &Rbm) -> Result<ValidationStats> {
        let reconstruction_error = t.evaluate(rbm, self.validation, self.rows);
        let model = match &mut self.energy_model {
            Some(m) => {
                m.weights.copy_from_slice(&rbm.weights);
                m.visible_bias.copy_from_slice(&rbm.visible_bias);
                m.hidden_bias.copy_from_slice(&rbm.hidden_bias);
                &*m
            }
            None => rbm,
        };
        let mean = |f: Vec<f64>| f.iter().sum::<f64>() / f.len() as f64;
        let validation_free_energy = mean(likelihood::free_energy(model, self.validation)?);
        let training_free_energy = mean(likelihood::free_energy(model, &self.subset)?);
        Ok(ValidationStats {
            reconstruction_error,
            validation_free_energy,
            training_free_energy,
            free_energy_gap: validation_free_energy - training_free_energy,
        })
    }

    /// Records epoch `epoch` with validation measures `stats` and model
    /// `rbm`; returns whether patience has run out.
    pub(super) fn observe(&mut self, epoch: usize, stats: &ValidationStats, rbm: &Rbm) -> bool {
        let error = stats.reconstruction_error;
        let improved = match &self.best {
            None => true,
            Some((_, best, _)) => error < *best,
        };
        if improved {
            let snapshot = match (self.patience, self.best.take()) {
                (None, _) => None,
                (Some(_), Some((_, _, Some(mut s)))) => {
                    s.save(rbm);
                    Some(s)
                }
                (Some(_), _) => Some(Snapshot::of(rbm)),
            };
            self.best = Some((epoch, error, snapshot));
        }
        match (&self.best, self.patience) {
            (Some((best, _, _)), Some(p)) => epoch - best >= p,
            _ => false,
        }
    }

    /// With patience, puts the best epoch's parameters back into `rbm` and
    /// returns that epoch; `None` without patience.
    pub(super) fn keep_best(&self, rbm: &mut Rbm) -> Option<usize> {
        match &self.best {
            Some((epoch, _, Some(snapshot))) => {
                snapshot.restore(rbm);
                Some(*epoch)
            }
            _ => None,
        }
    }
}
