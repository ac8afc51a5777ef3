//! `nrelu_rbm._core`: the extension module under the Python package
//! `nrelu_rbm`, a thin layer over the library's embedding API.
//!
//! Every entry point that does real work (training, features, scores)
//! releases the GIL while it runs, reads C-contiguous float32 input in
//! place (the Python layer hands over such arrays, converting only what is
//! not), turns the library's errors into `ValueError` with the error's
//! one-line message, and turns a panic into `RuntimeError` instead of
//! letting it cross into Python.

use nrelu_rbm::train::{Sampling, TrainConfig, Trainer, train};
use nrelu_rbm::units::{HiddenUnit, NreluMean};
use nrelu_rbm::{Rbm, RbmError, Standardization, VisibleUnit, model_io};
use numpy::ndarray::{Array1, Array2};
use numpy::{IntoPyArray, PyArray1, PyArray2, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use std::borrow::Cow;
use std::ops::ControlFlow;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

mod pll;

/// Why a call failed: the library said no, or a bug panicked.
enum Failure {
    Rbm(RbmError),
    Panic(String),
}

impl From<RbmError> for Failure {
    fn from(e: RbmError) -> Failure {
        Failure::Rbm(e)
    }
}

impl From<Failure> for PyErr {
    fn from(f: Failure) -> PyErr {
        match f {
            Failure::Rbm(e) => PyValueError::new_err(e.to_string()),
            Failure::Panic(msg) => PyRuntimeError::new_err(format!(
                "internal error in nrelu_rbm (a bug; please report it): {msg}"
            )),
        }
    }
}

/// Runs `f` with the panic caught.
fn guarded<T>(f: impl FnOnce() -> Result<T, Failure>) -> Result<T, Failure> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|p| {
        let msg = p
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".to_owned());
        Err(Failure::Panic(msg))
    })
}

/// Runs `f` without the GIL, with the panic caught.
fn detached<T: Send>(py: Python<'_>, f: impl FnOnce() -> Result<T, Failure> + Send) -> PyResult<T> {
    py.detach(|| guarded(f)).map_err(PyErr::from)
}

/// Runs `f` holding the GIL, with the panic caught (for quick calls).
fn attached<T>(f: impl FnOnce() -> Result<T, Failure>) -> PyResult<T> {
    guarded(f).map_err(PyErr::from)
}

/// The rows of a 2-D float32 array as one row-major slice, with its width.
fn rows<'a>(x: &'a PyReadonlyArray2<'_, f32>) -> PyResult<(&'a [f32], usize)> {
    let cols = x.shape()[1];
    let data = x
        .as_slice()
        .map_err(|_| PyValueError::new_err("the data must be a C-contiguous float32 array"))?;
    Ok((data, cols))
}

/// Checks that rows `cols` wide suit a layer of `want` units.
fn check_width(what: &'static str, cols: usize, want: usize) -> Result<(), Failure> {
    if cols != want {
        return Err(RbmError::ShapeMismatch {
            what,
            got: cols,
            want,
        }
        .into());
    }
    Ok(())
}

/// `"cd-K"` or `"pcd-K"` as a [`Sampling`].
fn parse_sampling(s: &str) -> Result<Sampling, Failure> {
    let bad = || RbmError::InvalidParameter {
        name: "sampling",
        value: s.to_owned(),
        expected: "expected cd-K or pcd-K with K >= 1 Gibbs steps, such as cd-1 or pcd-1",
    };
    let (kind, k) = s.split_once('-').ok_or_else(bad)?;
    let k: usize = k.parse().map_err(|_| bad())?;
    match kind {
        "cd" if k >= 1 => Ok(Sampling::Cd(k)),
        "pcd" if k >= 1 => Ok(Sampling::Pcd(k)),
        _ => Err(bad().into()),
    }
}

/// The training parameters the estimator passes down.
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
struct Params {
    batch_size: usize,
    learning_rate: f32,
    momentum: f32,
    weight_decay: f32,
    sampling: String,
    centering: Option<f32>,
    seed: u64,
    threads: usize,
}

impl Params {
    fn config(&self, epochs: usize) -> Result<TrainConfig, Failure> {
        let cfg = TrainConfig::default()
            .with_epochs(epochs)
            .with_batch_size(self.batch_size)
            .with_learning_rate(self.learning_rate)
            .with_momentum(self.momentum)
            .with_weight_decay(self.weight_decay)
            .with_sampling(parse_sampling(&self.sampling)?)
            .with_centering(self.centering)
            .with_seed(self.seed)
            .with_threads(self.threads);
        cfg.validate()?;
        Ok(cfg)
    }
}

/// An input map's `(mean, std)` as arrays.
type MapArrays<'py> = (Bound<'py, PyArray1<f32>>, Bound<'py, PyArray1<f32>>);

/// A model and, between `partial_fit` calls, its trainer (momentum and
/// persistent chains carry over from one call to the next).
#[pyclass(module = "nrelu_rbm._core", name = "Model")]
struct Model {
    rbm: Rbm,
    trainer: Option<(TrainConfig, Trainer)>,
}

impl Model {
    fn wrap(rbm: Rbm) -> Model {
        Model { rbm, trainer: None }
    }
}

#[pymethods]
impl Model {
    /// A new model with weights from N(0, 0.01²) drawn from `seed`, its
    /// NReLU units (if any) read out by `nrelu_mean`.
    #[new]
    fn new(
        n_visible: usize,
        n_hidden: usize,
        visible: &str,
        hidden: &str,
        nrelu_mean: &str,
        seed: u64,
    ) -> PyResult<Model> {
        attached(|| {
            let visible: VisibleUnit = visible.parse()?;
            let hidden: HiddenUnit = hidden.parse().map_err(RbmError::from)?;
            let mean: NreluMean = nrelu_mean.parse().map_err(RbmError::from)?;
            let mut rbm = Rbm::new(n_visible, n_hidden, visible, hidden, seed)?;
            rbm.set_nrelu_mean(mean)?;
            Ok(Model::wrap(rbm))
        })
    }

    /// Reads a model file (`.safetensors`, as `rbm train` writes).
    #[staticmethod]
    fn load(path: PathBuf) -> PyResult<Model> {
        attached(|| Ok(Model::wrap(Rbm::load(&path)?)))
    }

    /// Writes the model file, atomically.
    fn save(&self, path: PathBuf) -> PyResult<()> {
        attached(|| Ok(self.rbm.save(&path)?))
    }

    /// The bytes of the model file.
    fn to_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let bytes = attached(|| Ok(model_io::to_bytes(&self.rbm)?))?;
        Ok(PyBytes::new(py, &bytes))
    }

    /// A model from the bytes of a model file.
    #[staticmethod]
    fn from_bytes(data: &[u8]) -> PyResult<Model> {
        attached(|| {
            Ok(Model::wrap(model_io::from_bytes(
                data,
                Path::new("<bytes>"),
            )?))
        })
    }

    /// Visible biases from the data's column means (Hinton's guide, §8).
    fn init_visible_bias(&mut self, py: Python<'_>, x: PyReadonlyArray2<'_, f32>) -> PyResult<()> {
        let (data, cols) = rows(&x)?;
        let rbm = &mut self.rbm;
        detached(py, || {
            check_width("X", cols, rbm.n_visible())?;
            let data = mapped(rbm, data)?;
            Ok(rbm.init_visible_bias_from(&data)?)
        })
    }

    /// Chooses the input map from the training data `x` and stores it in
    /// the model: `"standardize"` (zero mean, unit variance per column, as
    /// `rbm train` does for Gaussian visible units), `"range"` (for
    /// Bernoulli visible units: none if every value lies in [0, 1], else
    /// column j maps [min(0, min_j), max(1, max_j)] onto [0, 1], which
    /// leaves the columns already in [0, 1] as they are) or `"none"`.
    /// Returns whether the model now has a map.
    fn set_input_map(
        &mut self,
        py: Python<'_>,
        x: PyReadonlyArray2<'_, f32>,
        kind: &str,
    ) -> PyResult<bool> {
        let (data, cols) = rows(&x)?;
        let kind = kind.to_owned();
        let rbm = &mut self.rbm;
        detached(py, || {
            check_width("X", cols, rbm.n_visible())?;
            let map = match kind.as_str() {
                "none" => None,
                "standardize" => Some(Standardization::fit(data, cols)?),
                "range" => range_map(data, cols)?,
                _ => {
                    return Err(RbmError::InvalidParameter {
                        name: "input map",
                        value: kind.clone(),
                        expected: "expected none, standardize or range",
                    }
                    .into());
                }
            };
            rbm.set_standardization(map)?;
            Ok(rbm.standardization().is_some())
        })
    }

    /// Trains for `epochs` passes; returns the reconstruction error of each.
    fn fit(
        &mut self,
        py: Python<'_>,
        x: PyReadonlyArray2<'_, f32>,
        epochs: usize,
        params: Params,
    ) -> PyResult<Vec<f64>> {
        let (data, cols) = rows(&x)?;
        self.trainer = None;
        let rbm = &mut self.rbm;
        detached(py, || {
            check_width("X", cols, rbm.n_visible())?;
            let cfg = params.config(epochs)?;
            let data = mapped(rbm, data)?;
            let report = train(rbm, &data, &cfg, |_| ControlFlow::Continue(()))?;
            Ok(report
                .epochs
                .iter()
                .map(|e| e.reconstruction_error)
                .collect())
        })
    }

    /// One update per mini-batch of `x`, in order, by a trainer kept from
    /// one call to the next while the parameters stay the same. Returns
    /// the mean squared reconstruction error per value (0 under PCD).
    fn partial_fit(
        &mut self,
        py: Python<'_>,
        x: PyReadonlyArray2<'_, f32>,
        params: Params,
    ) -> PyResult<f64> {
        let (data, cols) = rows(&x)?;
        let Model { rbm, trainer } = self;
        detached(py, || {
            check_width("X", cols, rbm.n_visible())?;
            if data.is_empty() {
                return Err(RbmError::EmptyData { rows: 0, cols }.into());
            }
            let cfg = params.config(1)?;
            let data = mapped(rbm, data)?;
            if trainer.as_ref().is_none_or(|(old, _)| *old != cfg) {
                *trainer = Some((cfg.clone(), Trainer::new(rbm, &cfg)?));
            }
            let (_, t) = trainer.as_mut().expect("just set");
            let chunk = cfg.batch_size() * cols;
            let sq = t.in_pool(|t| {
                data.chunks(chunk)
                    .map(|batch| t.step(rbm, batch))
                    .sum::<Result<f64, RbmError>>()
            });
            match sq {
                Ok(sq) => Ok(sq / data.len() as f64),
                Err(e) => {
                    *trainer = None;
                    Err(e.into())
                }
            }
        })
    }

    /// Noise-free features: exactly `rbm transform`'s for the rows it
    /// accepts; the hidden means of the rows as they are otherwise.
    fn transform<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'py, f32>,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let (data, cols) = rows(&x)?;
        let n = x.shape()[0];
        let rbm = &self.rbm;
        let h = detached(py, || {
            check_width("X", cols, rbm.n_visible())?;
            match rbm.features(data) {
                // Values outside [0, 1] for Bernoulli visible units without
                // an input map, which `rbm transform` refuses: taken as
                // they are, as scikit-learn's BernoulliRBM does.
                Err(RbmError::OutOfRange { .. }) => Ok(hidden_means_blocked(rbm, data)?),
                other => Ok(other?),
            }
        })?;
        Ok(to_2d(py, h, n, self.rbm.n_hidden()))
    }

    /// The pseudo-log-likelihood of every row.
    fn score_samples<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'py, f32>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let (data, cols) = rows(&x)?;
        let rbm = &self.rbm;
        let s = detached(py, || {
            check_width("X", cols, rbm.n_visible())?;
            if data.is_empty() {
                return Err(RbmError::EmptyData { rows: 0, cols }.into());
            }
            Ok(pll::pseudo_log_likelihood_rows_of(
                rbm,
                &mapped(rbm, data)?,
            )?)
        })?;
        Ok(Array1::from(s).into_pyarray(py))
    }

    /// The library's average pseudo-log-likelihood of binary rows (to test
    /// `score_samples` against).
    fn library_pseudo_log_likelihood(
        &self,
        py: Python<'_>,
        x: PyReadonlyArray2<'_, f32>,
    ) -> PyResult<f64> {
        let (data, _) = rows(&x)?;
        let rbm = &self.rbm;
        detached(py, || {
            Ok(nrelu_rbm::likelihood::pseudo_log_likelihood(rbm, data)?)
        })
    }

    /// One Gibbs step v → h → v, the hidden samples drawn from `seed_h`,
    /// the visible ones from `seed_v`.
    fn gibbs<'py>(
        &self,
        py: Python<'py>,
        v: PyReadonlyArray2<'py, f32>,
        seed_h: u64,
        seed_v: u64,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let (data, cols) = rows(&v)?;
        let n = v.shape()[0];
        let rbm = &self.rbm;
        let out = detached(py, || {
            check_width("v", cols, rbm.n_visible())?;
            let h = rbm.hidden_samples(&mapped(rbm, data)?, seed_h)?;
            Ok(rbm.visible_samples(&h, seed_v)?)
        })?;
        Ok(to_2d(py, out, n, self.rbm.n_visible()))
    }

    /// `n` visible samples: from p(v | h = 0), then `steps` Gibbs steps,
    /// step `i` drawing from the seeds `seed + 2i + 1` and `seed + 2i + 2`.
    fn sample<'py>(
        &self,
        py: Python<'py>,
        n: usize,
        steps: usize,
        seed: u64,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let rbm = &self.rbm;
        let out = detached(py, || {
            if n == 0 {
                return Err(RbmError::EmptyData {
                    rows: 0,
                    cols: rbm.n_visible(),
                }
                .into());
            }
            let mut v = rbm.visible_samples(&vec![0.0; n * rbm.n_hidden()], seed)?;
            for i in 0..steps as u64 {
                let h = rbm.hidden_samples(&v, seed.wrapping_add(2 * i + 1))?;
                v = rbm.visible_samples(&h, seed.wrapping_add(2 * i + 2))?;
            }
            Ok(v)
        })?;
        Ok(to_2d(py, out, n, self.rbm.n_visible()))
    }

    /// Visible units.
    #[getter]
    fn n_visible(&self) -> usize {
        self.rbm.n_visible()
    }

    /// Hidden units.
    #[getter]
    fn n_hidden(&self) -> usize {
        self.rbm.n_hidden()
    }

    /// The visible unit type's name.
    #[getter]
    fn visible(&self) -> String {
        self.rbm.visible().to_string()
    }

    /// The hidden unit type's name.
    #[getter]
    fn hidden(&self) -> String {
        self.rbm.hidden().to_string()
    }

    /// The NReLU mean rule's name (`relu` for other hidden units).
    #[getter]
    fn nrelu_mean(&self) -> String {
        self.rbm.nrelu_mean().to_string()
    }

    /// The model's input map x → (x − mean) / std as `(mean, std)`, or
    /// `None` (a copy).
    #[getter]
    fn input_map<'py>(&self, py: Python<'py>) -> Option<MapArrays<'py>> {
        self.rbm.standardization().map(|s| {
            (
                Array1::from(s.mean().to_vec()).into_pyarray(py),
                Array1::from(s.std().to_vec()).into_pyarray(py),
            )
        })
    }

    /// The weights, visible × hidden (a copy).
    #[getter]
    fn weights<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray2<f32>> {
        to_2d(
            py,
            self.rbm.weights().to_vec(),
            self.rbm.n_visible(),
            self.rbm.n_hidden(),
        )
    }

    /// The visible biases (a copy).
    #[getter]
    fn visible_bias<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f32>> {
        Array1::from(self.rbm.visible_bias().to_vec()).into_pyarray(py)
    }

    /// The hidden biases (a copy).
    #[getter]
    fn hidden_bias<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f32>> {
        Array1::from(self.rbm.hidden_bias().to_vec()).into_pyarray(py)
    }
}

/// `data` through the model's input map (a copy), or as it is.
fn mapped<'a>(rbm: &Rbm, data: &'a [f32]) -> Result<Cow<'a, [f32]>, RbmError> {
    match rbm.standardization() {
        None => Ok(Cow::Borrowed(data)),
        Some(map) => {
            let mut copy = data.to_vec();
            map.apply(&mut copy)?;
            Ok(Cow::Owned(copy))
        }
    }
}

/// The `"range"` input map of [`Model::set_input_map`]: `None` when every
/// value lies in [0, 1].
fn range_map(data: &[f32], cols: usize) -> Result<Option<Standardization>, RbmError> {
    if data.is_empty() {
        return Err(RbmError::EmptyData { rows: 0, cols });
    }
    if let Some(i) = data.iter().position(|x| !x.is_finite()) {
        return Err(RbmError::NonFinite {
            row: i / cols + 1,
            col: i % cols + 1,
            value: data[i],
        });
    }
    if data.iter().all(|x| (0.0..=1.0).contains(x)) {
        return Ok(None);
    }
    let (mut lo, mut hi) = (vec![0f32; cols], vec![1f32; cols]);
    for row in data.chunks_exact(cols) {
        for ((l, h), &x) in lo.iter_mut().zip(&mut hi).zip(row) {
            *l = l.min(x);
            *h = h.max(x);
        }
    }
    let width = hi.iter().zip(&lo).map(|(h, l)| h - l).collect();
    Ok(Some(Standardization::new(lo, width)?))
}

/// The hidden means of `data` in blocks of 256 rows, as the library's
/// features are computed.
fn hidden_means_blocked(rbm: &Rbm, data: &[f32]) -> Result<Vec<f32>, RbmError> {
    let mut out = Vec::with_capacity(data.len() / rbm.n_visible() * rbm.n_hidden());
    for block in data.chunks(256 * rbm.n_visible()) {
        out.extend(rbm.hidden_means(block)?);
    }
    Ok(out)
}

/// A row-major vector as an `n × m` array, without a copy.
fn to_2d(py: Python<'_>, v: Vec<f32>, n: usize, m: usize) -> Bound<'_, PyArray2<f32>> {
    Array2::from_shape_vec((n, m), v)
        .expect("the library returns whole rows")
        .into_pyarray(py)
}

/// Panics, to test that a panic becomes an exception.
#[pyfunction]
fn _panic_for_test(py: Python<'_>) -> PyResult<()> {
    detached(py, || panic!("a deliberate panic"))
}

/// The extension module.
#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Model>()?;
    m.add("CENTERING_RATE", nrelu_rbm::train::DEFAULT_CENTERING_RATE)?;
    m.add_function(wrap_pyfunction!(_panic_for_test, m)?)?;
    Ok(())
}
