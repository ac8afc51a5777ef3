//! The RBM model: parameters, unit types and inference.
//!
//! Energy, for visible states `v` (V units) and hidden states `h` (H units):
//!
//! * Bernoulli visible: `E(v, h) = −bᵀv − cᵀh − vᵀWh`;
//! * Gaussian visible, unit variance: `E(v, h) = ½‖v − b‖² − cᵀh − vᵀWh`.
//!
//! The hidden unit type (Bernoulli, binomial(K), stepped sigmoid, NReLU)
//! changes only how hidden states are sampled from their total input
//! `x = vᵀW + c`, not the energy or the learning rule (Nair & Hinton 2010).

use crate::error::{RbmError, Result, check_finite, invalid, rows_of};
use crate::kernels::{
    Accumulate, Activation, Epilogue, Kernels, MatMut, MatRef, Product, Sampler, Stream,
};
use crate::units::{HiddenUnit, NreluMean};
use std::fmt;
use std::path::Path;
use std::str::FromStr;

/// The visible unit type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum VisibleUnit {
    /// Binary units; data in [0, 1] is read as probabilities.
    Bernoulli,
    /// Linear units with unit-variance Gaussian noise, for data standardised
    /// to zero mean and unit variance. Reconstructions are noise-free (the
    /// top-down input plus bias) unless sampling is asked for.
    Gaussian,
}

impl VisibleUnit {
    /// The name used in model files and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            VisibleUnit::Bernoulli => "bernoulli",
            VisibleUnit::Gaussian => "gaussian",
        }
    }
}

impl fmt::Display for VisibleUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for VisibleUnit {
    type Err = RbmError;
    fn from_str(s: &str) -> Result<VisibleUnit> {
        match s {
            "bernoulli" => Ok(VisibleUnit::Bernoulli),
            "gaussian" => Ok(VisibleUnit::Gaussian),
            _ => Err(invalid("visible unit", s, "expected bernoulli or gaussian")),
        }
    }
}

/// The noise-free mean activation of a hidden unit type, NReLU units read
/// out by `nrelu_mean` (ignored for the other units).
pub(crate) fn hidden_mean_activation(unit: HiddenUnit, nrelu_mean: NreluMean) -> Activation {
    match (unit, nrelu_mean) {
        (HiddenUnit::Bernoulli, _) => Activation::Sigmoid,
        (HiddenUnit::Binomial(b), _) => Activation::BinomialMean(b),
        (HiddenUnit::Ssu, _) | (HiddenUnit::Nrelu, NreluMean::Ssu) => Activation::SsuMean,
        (HiddenUnit::Nrelu, NreluMean::Relu) => Activation::Relu,
    }
}

/// Refuses an NReLU mean other than [`NreluMean::Relu`] for other units.
pub(crate) fn check_nrelu_mean(hidden: HiddenUnit, mean: NreluMean) -> Result<()> {
    if hidden != HiddenUnit::Nrelu && mean != NreluMean::Relu {
        return Err(invalid(
            "NReLU mean",
            mean,
            "applies to nrelu hidden units only",
        ));
    }
    Ok(())
}

/// The sampler of a hidden unit type ([`HiddenUnit::sampler`]).
pub(crate) fn hidden_sampler(unit: HiddenUnit) -> Sampler {
    unit.sampler()
}

/// The noise-free mean activation of a visible unit type.
pub(crate) fn visible_mean_activation(unit: VisibleUnit) -> Activation {
    match unit {
        VisibleUnit::Bernoulli => Activation::Sigmoid,
        VisibleUnit::Gaussian => Activation::Identity,
    }
}

/// Per-column affine map applied to raw data before it reaches the visible
/// layer: `z = (x − mean) / std`. Built by [`Standardization::new`]
/// (checked) or [`Standardization::fit`].
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Standardization {
    /// Column means of the training data.
    pub(crate) mean: Vec<f32>,
    /// Column standard deviations (constant columns get 1).
    pub(crate) std: Vec<f32>,
}

impl Standardization {
    /// A map from explicit column means and standard deviations.
    ///
    /// ```
    /// use nrelu_rbm::Standardization;
    /// let map = Standardization::new(vec![0.5, 2.0], vec![1.0, 4.0])?;
    /// let mut rows = [1.5, 6.0];
    /// map.apply(&mut rows)?;
    /// assert_eq!(rows, [1.0, 1.0]);
    /// assert!(Standardization::new(vec![0.0], vec![0.0]).is_err());
    /// # Ok::<(), nrelu_rbm::RbmError>(())
    /// ```
    ///
    /// # Errors
    /// [`RbmError::ShapeMismatch`] if the lengths differ,
    /// [`RbmError::InvalidParameter`] if there are no columns or a standard
    /// deviation is not positive, [`RbmError::NonFinite`] for a NaN or
    /// infinite value.
    pub fn new(mean: Vec<f32>, std: Vec<f32>) -> Result<Standardization> {
        if mean.is_empty() {
            return Err(invalid("standardization", 0, "needs at least one column"));
        }
        if std.len() != mean.len() {
            return Err(RbmError::ShapeMismatch {
                what: "standardization std",
                got: std.len(),
                want: mean.len(),
            });
        }
        check_finite(&mean, mean.len())?;
        check_finite(&std, std.len())?;
        if std.iter().any(|&x| x <= 0.0) {
            return Err(invalid(
                "standardization",
                "std <= 0",
                "standard deviations must be positive",
            ));
        }
        Ok(Standardization { mean, std })
    }

    /// Fits column means and standard deviations (population, in f64) to
    /// `data` with `cols` columns. Columns with zero spread get std 1.
    pub fn fit(data: &[f32], cols: usize) -> Result<Standardization> {
        let rows = rows_of("data", data, cols)?;
        if rows == 0 {
            return Err(RbmError::EmptyData { rows, cols });
        }
        check_finite(data, cols)?;
        let mut mean = vec![0f64; cols];
        for row in data.chunks_exact(cols) {
            for (m, &x) in mean.iter_mut().zip(row) {
                *m += f64::from(x);
            }
        }
        mean.iter_mut().for_each(|m| *m /= rows as f64);
        let mut var = vec![0f64; cols];
        for row in data.chunks_exact(cols) {
            for ((v, &x), m) in var.iter_mut().zip(row).zip(&mean) {
                *v += (f64::from(x) - m).powi(2);
            }
        }
        let std = var
            .iter()
            .map(|v| {
                let s = (v / rows as f64).sqrt() as f32;
                if s > 1e-6 { s } else { 1.0 }
            })
            .collect();
        Ok(Standardization {
            mean: mean.into_iter().map(|m| m as f32).collect(),
            std,
        })
    }

    /// The column means.
    pub fn mean(&self) -> &[f32] {
        &self.mean
    }

    /// The column standard deviations (all positive).
    pub fn std(&self) -> &[f32] {
        &self.std
    }

    /// Number of columns.
    pub fn cols(&self) -> usize {
        self.mean.len()
    }

    /// Applies the map in place to rows of [`Standardization::cols`]
    /// columns.
    ///
    /// # Errors
    /// [`RbmError::Ragged`] if `data` is not whole rows.
    pub fn apply(&self, data: &mut [f32]) -> Result<()> {
        rows_of("data", data, self.mean.len())?;
        self.apply_rows(data);
        Ok(())
    }

    /// [`Standardization::apply`] on data known to be whole rows.
    pub(crate) fn apply_rows(&self, data: &mut [f32]) {
        for row in data.chunks_exact_mut(self.mean.len()) {
            for ((x, m), s) in row.iter_mut().zip(&self.mean).zip(&self.std) {
                *x = (*x - m) / s;
            }
        }
    }
}

/// A restricted Boltzmann machine.
///
/// ```
/// use nrelu_rbm::{Rbm, VisibleUnit, units::HiddenUnit};
/// let rbm = Rbm::new(6, 4, VisibleUnit::Bernoulli, HiddenUnit::Nrelu, 1)?;
/// let v = [1.0, 0.0, 1.0, 1.0, 0.0, 0.0];
/// let h = rbm.hidden_means(&v)?; // max(0, vᵀW + c) for NReLU units
/// assert_eq!(h.len(), 4);
/// assert!(h.iter().all(|&x| x >= 0.0));
/// # Ok::<(), nrelu_rbm::RbmError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Rbm {
    pub(crate) visible: VisibleUnit,
    pub(crate) hidden: HiddenUnit,
    /// The mean rule of NReLU hidden units ([`NreluMean::Relu`] for the
    /// other units).
    pub(crate) nrelu_mean: NreluMean,
    pub(crate) n_visible: usize,
    pub(crate) n_hidden: usize,
    /// V × H, row-major.
    pub(crate) weights: Vec<f32>,
    pub(crate) visible_bias: Vec<f32>,
    pub(crate) hidden_bias: Vec<f32>,
    pub(crate) standardization: Option<Standardization>,
}

/// Standard deviation of the initial weights (Hinton, *A Practical Guide to
/// Training RBMs*, §8).
pub const INIT_WEIGHT_STD: f32 = 0.01;

impl Rbm {
    /// A new model with weights drawn from N(0, 0.01²) by the seeded stream
    /// `(seed, u64::MAX)` and zero biases.
    pub fn new(
        n_visible: usize,
        n_hidden: usize,
        visible: VisibleUnit,
        hidden: HiddenUnit,
        seed: u64,
    ) -> Result<Rbm> {
        if n_visible == 0 {
            return Err(invalid("visible units", 0, "must be at least 1"));
        }
        if n_hidden == 0 {
            return Err(invalid("hidden", 0, "must be at least 1 hidden unit"));
        }
        let len = n_visible
            .checked_mul(n_hidden)
            .filter(|&l| l <= 1 << 31)
            .ok_or_else(|| invalid("hidden", n_hidden, "V × H must be at most 2^31 weights"))?;
        let mut weights = vec![0.0; len];
        Stream::new(seed, u64::MAX).standard_normal(&mut weights);
        weights.iter_mut().for_each(|w| *w *= INIT_WEIGHT_STD);
        Ok(Rbm {
            visible,
            hidden,
            nrelu_mean: NreluMean::Relu,
            n_visible,
            n_hidden,
            weights,
            visible_bias: vec![0.0; n_visible],
            hidden_bias: vec![0.0; n_hidden],
            standardization: None,
        })
    }

    /// A model from explicit parameters, validated: `weights` is V × H
    /// row-major, all values finite.
    pub fn from_parts(
        visible: VisibleUnit,
        hidden: HiddenUnit,
        weights: Vec<f32>,
        visible_bias: Vec<f32>,
        hidden_bias: Vec<f32>,
        standardization: Option<Standardization>,
    ) -> Result<Rbm> {
        let (v, h) = (visible_bias.len(), hidden_bias.len());
        if v == 0 || h == 0 {
            return Err(invalid(
                "shape",
                format!("{v} × {h}"),
                "needs at least one unit per layer",
            ));
        }
        if weights.len() != v * h {
            return Err(RbmError::OutputSize {
                what: "weights",
                got: weights.len(),
                want: v * h,
            });
        }
        check_finite(&weights, h)?;
        check_finite(&visible_bias, v)?;
        check_finite(&hidden_bias, h)?;
        if let Some(s) = &standardization {
            if s.mean.len() != v || s.std.len() != v {
                return Err(RbmError::ShapeMismatch {
                    what: "standardization",
                    got: s.mean.len(),
                    want: v,
                });
            }
            check_finite(&s.mean, v)?;
            check_finite(&s.std, v)?;
            if s.std.iter().any(|&x| x <= 0.0) {
                return Err(invalid(
                    "standardization",
                    "std <= 0",
                    "standard deviations must be positive",
                ));
            }
        }
        Ok(Rbm {
            visible,
            hidden,
            nrelu_mean: NreluMean::Relu,
            n_visible: v,
            n_hidden: h,
            weights,
            visible_bias,
            hidden_bias,
            standardization,
        })
    }

    /// Loads a model saved by [`Rbm::save`] (or `rbm train`), validating
    /// it completely; see [`crate::model_io::load`].
    ///
    /// # Errors
    /// [`RbmError::Io`] if the file cannot be read,
    /// [`RbmError::InvalidModel`] naming the problem if it is not a valid
    /// single-layer model (a stack file is read by [`crate::Stack::load`]).
    pub fn load(path: &Path) -> Result<Rbm> {
        crate::model_io::load(path)
    }

    /// Saves the model as a safetensors file, atomically and
    /// deterministically; see [`crate::model_io::save`].
    ///
    /// # Errors
    /// [`RbmError::Io`] if the file cannot be created, written, synced or
    /// renamed.
    pub fn save(&self, path: &Path) -> Result<()> {
        crate::model_io::save(self, path)
    }

    /// Number of visible units V.
    pub fn n_visible(&self) -> usize {
        self.n_visible
    }
    /// Number of hidden units H.
    pub fn n_hidden(&self) -> usize {
        self.n_hidden
    }
    /// The visible unit type.
    pub fn visible(&self) -> VisibleUnit {
        self.visible
    }
    /// The hidden unit type.
    pub fn hidden(&self) -> HiddenUnit {
        self.hidden
    }
    /// The mean rule of the NReLU hidden units ([`NreluMean::Relu`], the
    /// default, for every other unit type).
    pub fn nrelu_mean(&self) -> NreluMean {
        self.nrelu_mean
    }
    /// Sets the mean rule of NReLU hidden units: the value the learning
    /// rule uses as the hidden statistic and [`Rbm::hidden_means`] returns.
    /// It is saved with the model.
    ///
    /// ```
    /// use nrelu_rbm::{Rbm, VisibleUnit, units::{HiddenUnit, NreluMean}};
    /// let mut rbm = Rbm::new(3, 2, VisibleUnit::Bernoulli, HiddenUnit::Nrelu, 1)?;
    /// let relu = rbm.hidden_means(&[0.0; 3])?;
    /// assert_eq!(relu, [0.0, 0.0]); // max(0, 0)
    /// rbm.set_nrelu_mean(NreluMean::Ssu)?;
    /// let ssu = rbm.hidden_means(&[0.0; 3])?;
    /// // Σ σ(−i + ½) over i ≥ 1 = 0.68257, close to softplus(0) = ln 2.
    /// assert!(ssu.iter().all(|&h| (h - 0.68257).abs() < 1e-5));
    ///
    /// let mut binary = Rbm::new(3, 2, VisibleUnit::Bernoulli, HiddenUnit::Bernoulli, 1)?;
    /// assert!(binary.set_nrelu_mean(NreluMean::Ssu).is_err());
    /// # Ok::<(), nrelu_rbm::RbmError>(())
    /// ```
    ///
    /// # Errors
    /// [`RbmError::InvalidParameter`] for a rule other than
    /// [`NreluMean::Relu`] on a model whose hidden units are not NReLU.
    pub fn set_nrelu_mean(&mut self, mean: NreluMean) -> Result<()> {
        check_nrelu_mean(self.hidden, mean)?;
        self.nrelu_mean = mean;
        Ok(())
    }
    /// Weights, V × H row-major.
    pub fn weights(&self) -> &[f32] {
        &self.weights
    }
    /// Visible biases b.
    pub fn visible_bias(&self) -> &[f32] {
        &self.visible_bias
    }
    /// Hidden biases c.
    pub fn hidden_bias(&self) -> &[f32] {
        &self.hidden_bias
    }
    /// The input map applied to raw data by [`Rbm::features`], if any.
    pub fn standardization(&self) -> Option<&Standardization> {
        self.standardization.as_ref()
    }
    /// Sets the input standardisation (its width must be
    /// [`Rbm::n_visible`]).
    ///
    /// # Errors
    /// [`RbmError::ShapeMismatch`] for a map of another width.
    pub fn set_standardization(&mut self, s: Option<Standardization>) -> Result<()> {
        if let Some(s) = &s
            && (s.mean.len() != self.n_visible || s.std.len() != self.n_visible)
        {
            return Err(RbmError::ShapeMismatch {
                what: "standardization",
                got: s.mean.len(),
                want: self.n_visible,
            });
        }
        self.standardization = s;
        Ok(())
    }

    /// Sets the visible biases from the data's column means: log(p/(1−p))
    /// with p clamped to [1e-3, 1 − 1e-3] for Bernoulli units (Hinton's
    /// guide, §8), the column mean for Gaussian units.
    pub fn init_visible_bias_from(&mut self, data: &[f32]) -> Result<()> {
        let rows = self.check_input("data", data, self.n_visible)?;
        let mut mean = vec![0f64; self.n_visible];
        for row in data.chunks_exact(self.n_visible) {
            for (m, &x) in mean.iter_mut().zip(row) {
                *m += f64::from(x);
            }
        }
        for (b, m) in self.visible_bias.iter_mut().zip(mean) {
            let m = m / rows as f64;
            *b = match self.visible {
                VisibleUnit::Bernoulli => {
                    let p = m.clamp(1e-3, 1.0 - 1e-3);
                    (p / (1.0 - p)).ln() as f32
                }
                VisibleUnit::Gaussian => m as f32,
            };
        }
        Ok(())
    }

    /// Checks a batch for a layer of `width` units: whole rows, at least one,
    /// all finite. Returns the number of rows.
    pub(crate) fn check_input(
        &self,
        what: &'static str,
        data: &[f32],
        width: usize,
    ) -> Result<usize> {
        let rows = self.check_input_shape(what, data, width)?;
        check_finite(data, width)?;
        Ok(rows)
    }

    /// [`Rbm::check_input`] without the finiteness check: not empty, and
    /// whole rows of `width`. Returns the number of rows.
    pub(crate) fn check_input_shape(
        &self,
        what: &'static str,
        data: &[f32],
        width: usize,
    ) -> Result<usize> {
        if data.is_empty() {
            return Err(RbmError::EmptyData {
                rows: 0,
                cols: width,
            });
        }
        if !data.len().is_multiple_of(width) {
            return Err(RbmError::Ragged {
                what,
                got: data.len(),
                width,
            });
        }
        Ok(data.len() / width)
    }

    fn up(&self, v: &[f32], epilogue: Epilogue<'_>, out: &mut [f32], rows: usize) {
        let (nv, nh) = (self.n_visible, self.n_hidden);
        Kernels::active().product(
            MatRef::row_major(v, rows, nv),
            MatRef::row_major(&self.weights, nv, nh),
            MatMut::row_major(out, rows, nh),
            Product::new(Accumulate::Overwrite)
                .bias(&self.hidden_bias)
                .then(epilogue),
        );
    }

    fn down(&self, h: &[f32], epilogue: Epilogue<'_>, out: &mut [f32], rows: usize) {
        let (nv, nh) = (self.n_visible, self.n_hidden);
        Kernels::active().product(
            MatRef::row_major(h, rows, nh),
            MatRef::row_major(&self.weights, nv, nh).transpose(),
            MatMut::row_major(out, rows, nv),
            Product::new(Accumulate::Overwrite)
                .bias(&self.visible_bias)
                .then(epilogue),
        );
    }

    /// Noise-free hidden activations for rows of visible states: σ(x),
    /// K σ(x), the SSU mean Σσ(x − i + ½), or for NReLU max(0, x) (or the
    /// SSU mean, see [`Rbm::set_nrelu_mean`]), with x = vᵀW + c. The rows
    /// are taken as they are: the model's input map is not applied (use
    /// [`Rbm::features`] for raw data).
    pub fn hidden_means(&self, v: &[f32]) -> Result<Vec<f32>> {
        let rows = self.check_input("visible data", v, self.n_visible)?;
        let mut out = vec![0.0; rows * self.n_hidden];
        self.hidden_means_into(v, &mut out, rows);
        Ok(out)
    }

    /// The hidden means of `rows` checked rows `v` into `out`.
    pub(crate) fn hidden_means_into(&self, v: &[f32], out: &mut [f32], rows: usize) {
        self.up(
            v,
            Epilogue::Activation(hidden_mean_activation(self.hidden, self.nrelu_mean)),
            out,
            rows,
        );
    }

    /// Hidden samples for rows of visible states, from the stream
    /// `(seed, 0)`; NReLU noise has variance σ(x).
    pub fn hidden_samples(&self, v: &[f32], seed: u64) -> Result<Vec<f32>> {
        let rows = self.check_input("visible data", v, self.n_visible)?;
        let mut out = vec![0.0; rows * self.n_hidden];
        let mut s = Stream::new(seed, 0);
        self.up(
            v,
            Epilogue::Sample(hidden_sampler(self.hidden), &mut s),
            &mut out,
            rows,
        );
        Ok(out)
    }

    /// Noise-free visible reconstructions for rows of hidden states:
    /// σ(Wh + b) for Bernoulli units, Wh + b for Gaussian units.
    pub fn visible_means(&self, h: &[f32]) -> Result<Vec<f32>> {
        let rows = self.check_input("hidden data", h, self.n_hidden)?;
        let mut out = vec![0.0; rows * self.n_visible];
        self.down(
            h,
            Epilogue::Activation(visible_mean_activation(self.visible)),
            &mut out,
            rows,
        );
        Ok(out)
    }

    /// Visible samples for rows of hidden states, from the stream
    /// `(seed, 0)`: Bernoulli(σ(Wh + b)), or Wh + b + N(0, 1) for Gaussian
    /// units.
    pub fn visible_samples(&self, h: &[f32], seed: u64) -> Result<Vec<f32>> {
        let rows = self.check_input("hidden data", h, self.n_hidden)?;
        let mut out = vec![0.0; rows * self.n_visible];
        let mut s = Stream::new(seed, 0);
        match self.visible {
            VisibleUnit::Bernoulli => self.down(
                h,
                Epilogue::Sample(Sampler::Bernoulli, &mut s),
                &mut out,
                rows,
            ),
            VisibleUnit::Gaussian => {
                self.down(
                    h,
                    Epilogue::Activation(Activation::Identity),
                    &mut out,
                    rows,
                );
                add_unit_noise(&mut out, &mut s);
            }
        }
        Ok(out)
    }

    /// Mean squared reconstruction error per visible unit: the data against
    /// the noise-free visible means given the noise-free hidden means.
    pub fn reconstruction_error(&self, v: &[f32]) -> Result<f64> {
        let h = self.hidden_means(v)?;
        let r = self.visible_means(&h)?;
        Ok(Kernels::active().squared_distance(v, &r) / v.len() as f64)
    }
}

/// Adds N(0, 1) noise row by row (in place) from `stream`.
pub(crate) fn add_unit_noise(out: &mut [f32], stream: &mut Stream) {
    let mut z = [0.0f32; 256];
    for chunk in out.chunks_mut(256) {
        let z = &mut z[..chunk.len()];
        stream.standard_normal(z);
        chunk.iter_mut().zip(z.iter()).for_each(|(o, n)| *o += n);
    }
}
