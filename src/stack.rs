//! Deep stacks of RBMs (deep belief nets) trained greedily layer by layer,
//! and the intensity-equivariant NReLU recipe of Nair & Hinton (2010, §5).
//!
//! Layer `i + 1` is trained on the noise-free hidden means of layer `i`
//! (σ(x), K σ(x), the SSU mean or max(0, x)). Its visible units are
//! Bernoulli when the layer below has Bernoulli hidden units (means in
//! [0, 1]) and Gaussian otherwise (non-negative real features).
//!
//! # Intensity equivariance
//! Noise-free ReLU units with zero biases satisfy f(αv) = α f(v) for every
//! α > 0, through any number of layers, so the cosine between two feature
//! vectors does not change when an input's intensity is scaled: the
//! face-verification recipe of the paper. [`train_equivariant_stack`] trains
//! NReLU layers with both bias vectors held at zero, and [`Stack::transform`]
//! runs them noise-free; [`Stack::is_intensity_equivariant`] checks the
//! conditions and [`cosine_similarity`] compares features.
//!
//! # On disk
//! A stack is **one** safetensors file: layer `i` is stored under the
//! tensor-name prefix `layer{i}.` (`layer0.weights`, `layer0.visible_bias`,
//! ...; see `docs/model-format.md`), with the metadata key `layers` giving
//! the count and `kind` = `stack`.

use crate::error::{RbmError, Result, invalid};
use crate::model_io::ModelFile;
use crate::rbm::{Rbm, VisibleUnit};
use crate::train::{Progress, TrainConfig, TrainReport, train};
use crate::units::{HiddenUnit, NreluMean};
use std::ops::ControlFlow;
use std::path::Path;

/// A stack of RBMs; the hidden layer of each is the visible layer of the
/// next.
#[derive(Clone, Debug, PartialEq)]
pub struct Stack {
    layers: Vec<Rbm>,
}

/// The shape of one layer to train ([`LayerSpec::new`]; checked by
/// [`train_stack`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct LayerSpec {
    /// Hidden units of the layer.
    pub n_hidden: usize,
    /// Their type.
    pub hidden: HiddenUnit,
    /// The mean rule of NReLU units ([`NreluMean::Relu`] unless set with
    /// [`LayerSpec::with_nrelu_mean`]; checked against `hidden` by
    /// [`train_stack`]).
    pub nrelu_mean: NreluMean,
}

impl LayerSpec {
    /// A layer of `n_hidden` units of type `hidden` (NReLU units read out
    /// as max(0, x)).
    pub fn new(n_hidden: usize, hidden: HiddenUnit) -> LayerSpec {
        LayerSpec {
            n_hidden,
            hidden,
            nrelu_mean: NreluMean::Relu,
        }
    }

    /// The same layer with NReLU units read out by `mean` (see
    /// [`Rbm::set_nrelu_mean`]).
    pub fn with_nrelu_mean(self, mean: NreluMean) -> LayerSpec {
        LayerSpec {
            nrelu_mean: mean,
            ..self
        }
    }
}

impl Stack {
    /// A stack from trained layers: at least one, with matching widths; only
    /// the first layer may carry an input map.
    pub fn new(layers: Vec<Rbm>) -> Result<Stack> {
        if layers.is_empty() {
            return Err(invalid("layers", 0, "a stack needs at least one layer"));
        }
        for (i, pair) in layers.windows(2).enumerate() {
            if pair[0].n_hidden() != pair[1].n_visible() {
                return Err(RbmError::ShapeMismatch {
                    what: if i == 0 {
                        "layer 2's visible layer"
                    } else {
                        "a visible layer of the stack"
                    },
                    got: pair[1].n_visible(),
                    want: pair[0].n_hidden(),
                });
            }
            if pair[1].standardization().is_some() {
                return Err(invalid(
                    "layers",
                    i + 2,
                    "only the first layer may carry an input map",
                ));
            }
        }
        Ok(Stack { layers })
    }

    /// The layers, bottom first.
    pub fn layers(&self) -> &[Rbm] {
        &self.layers
    }

    /// Width of the input.
    pub fn n_visible(&self) -> usize {
        self.layers[0].n_visible()
    }

    /// Width of the top-level features.
    pub fn n_output(&self) -> usize {
        self.layers.last().expect("non-empty").n_hidden()
    }

    /// Noise-free features of rows of already input-mapped visible data:
    /// each layer's hidden means feed the next. For raw data, which the
    /// first layer's input map must be applied to, use [`Stack::features`].
    pub fn transform(&self, v: &[f32]) -> Result<Vec<f32>> {
        let mut x = self.layers[0].hidden_means(v)?;
        for layer in &self.layers[1..] {
            x = layer.hidden_means(&x)?;
        }
        Ok(x)
    }

    /// Whether the stack is exactly intensity-equivariant, f(αv) = α f(v)
    /// for α > 0: every layer has NReLU hidden units read out as max(0, x)
    /// ([`NreluMean::Relu`]), every hidden bias is zero, and the input map, if any, is
    /// a pure per-column scale (zero mean).
    pub fn is_intensity_equivariant(&self) -> bool {
        self.layers.iter().all(|l| {
            l.hidden() == HiddenUnit::Nrelu
                && l.nrelu_mean() == NreluMean::Relu
                && l.hidden_bias().iter().all(|&c| c == 0.0)
        }) && self.layers[0]
            .standardization()
            .is_none_or(|s| s.mean().iter().all(|&m| m == 0.0))
    }

    /// Writes the stack as one safetensors file (layer `i` under the prefix
    /// `layer{i}.`), atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        self.to_model_file()?.write(path)
    }

    /// The stack as a [`ModelFile`].
    pub fn to_model_file(&self) -> Result<ModelFile> {
        let mut f = ModelFile::new();
        for (i, l) in self.layers.iter().enumerate() {
            f.insert_layer(&format!("layer{i}."), l)?;
        }
        f.set_metadata("kind", "stack")?;
        f.set_metadata("layers", &self.layers.len().to_string())?;
        Ok(f)
    }

    /// Reads a stack written by [`Stack::save`] (or `rbm train --layers`);
    /// a single-model file is read, with all the checks of [`Rbm::load`],
    /// as a one-layer stack.
    ///
    /// # Errors
    /// [`RbmError::Io`] if the file cannot be read,
    /// [`RbmError::InvalidModel`] naming the problem if it is not a valid
    /// model or stack.
    pub fn load(path: &Path) -> Result<Stack> {
        let bytes = std::fs::read(path).map_err(|source| RbmError::Io {
            path: path.to_owned(),
            source,
        })?;
        Stack::from_bytes(&bytes, path)
    }

    /// Parses the bytes of a stack or single-model file, as [`Stack::load`]
    /// does; `path` is only used in error messages.
    ///
    /// # Errors
    /// Those of [`Stack::load`], except [`RbmError::Io`].
    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<Stack> {
        let file = ModelFile::from_bytes(bytes, path)?;
        if file.metadata().contains_key("layers") {
            Stack::from_model_file(&file, path)
        } else {
            Ok(Stack {
                layers: vec![file.single_layer()?],
            })
        }
    }

    /// The stack held by a [`ModelFile`] (or its single model).
    pub fn from_model_file(f: &ModelFile, path: &Path) -> Result<Stack> {
        let bad = |reason: String| RbmError::InvalidModel {
            path: path.to_path_buf(),
            reason,
        };
        match f.metadata().get("layers") {
            None => Ok(Stack {
                layers: vec![f.layer("")?],
            }),
            Some(n) => {
                let n: usize = n
                    .parse()
                    .ok()
                    .filter(|&n| (1..=1000).contains(&n))
                    .ok_or_else(|| {
                        bad(format!(
                            "metadata layers = {n:?} is not a count in 1..=1000"
                        ))
                    })?;
                let layers = (0..n)
                    .map(|i| f.layer(&format!("layer{i}.")))
                    .collect::<Result<Vec<_>>>()?;
                Stack::new(layers).map_err(|e| bad(e.to_string()))
            }
        }
    }
}

/// The visible unit type of the layer above a layer with `below` hidden
/// units.
pub fn visible_above(below: HiddenUnit) -> VisibleUnit {
    match below {
        HiddenUnit::Bernoulli => VisibleUnit::Bernoulli,
        _ => VisibleUnit::Gaussian,
    }
}

/// Greedy layer-wise training: layer 0 on `data` (rows of `n_visible`
/// values, visible type `visible`), each next layer on the hidden means of
/// the one below. `configs` gives
/// one training configuration per layer; layer `i` is initialised with seed
/// `configs[i].seed`. `progress(i, p)` reports layer `i`'s progress.
///
/// The first layer's visible biases are initialised from the data
/// (`Rbm::init_visible_bias_from`) unless `configs[0].update_biases` is
/// false.
pub fn train_stack(
    data: &[f32],
    n_visible: usize,
    visible: VisibleUnit,
    specs: &[LayerSpec],
    configs: &[TrainConfig],
    mut progress: impl FnMut(usize, Progress<'_>) -> ControlFlow<()> + Send,
) -> Result<(Stack, Vec<TrainReport>)> {
    if specs.is_empty() || specs.len() != configs.len() {
        return Err(invalid(
            "layers",
            specs.len(),
            "needs at least one layer and one training configuration per layer",
        ));
    }
    // Every layer's rule before any layer trains.
    for spec in specs {
        crate::rbm::check_nrelu_mean(spec.hidden, spec.nrelu_mean)?;
    }
    let mut layers = Vec::with_capacity(specs.len());
    let mut reports = Vec::with_capacity(specs.len());
    let mut input: Option<Vec<f32>> = None;
    for (i, (spec, cfg)) in specs.iter().zip(configs).enumerate() {
        let x: &[f32] = input.as_deref().unwrap_or(data);
        let vis = if i == 0 {
            visible
        } else {
            visible_above(specs[i - 1].hidden)
        };
        let nv = if i == 0 {
            n_visible
        } else {
            specs[i - 1].n_hidden
        };
        let mut rbm = Rbm::new(nv, spec.n_hidden, vis, spec.hidden, cfg.seed)?;
        rbm.set_nrelu_mean(spec.nrelu_mean)?;
        if cfg.update_biases {
            rbm.init_visible_bias_from(x)?;
        }
        let report = train(&mut rbm, x, cfg, |p| progress(i, p))?;
        if i + 1 < specs.len() {
            input = Some(rbm.hidden_means(x)?);
        }
        layers.push(rbm);
        reports.push(report);
    }
    Ok((Stack::new(layers)?, reports))
}

/// Trains the intensity-equivariant recipe: NReLU layers of the given
/// widths whose biases are zero and held at zero (`update_biases = false`),
/// on data rows of `n_visible` values, to be run noise-free.
pub fn train_equivariant_stack(
    data: &[f32],
    n_visible: usize,
    widths: &[usize],
    configs: &[TrainConfig],
    progress: impl FnMut(usize, Progress<'_>) -> ControlFlow<()> + Send,
) -> Result<(Stack, Vec<TrainReport>)> {
    let specs: Vec<LayerSpec> = widths
        .iter()
        .map(|&n| LayerSpec::new(n, HiddenUnit::Nrelu))
        .collect();
    let configs: Vec<TrainConfig> = configs
        .iter()
        .map(|c| TrainConfig {
            update_biases: false,
            ..c.clone()
        })
        .collect();
    train_stack(
        data,
        n_visible,
        VisibleUnit::Gaussian,
        &specs,
        &configs,
        progress,
    )
}

/// cos∠(a, b) = a·b / (‖a‖ ‖b‖) in f64; 0 when either vector is zero.
///
/// ```
/// use nrelu_rbm::stack::cosine_similarity;
/// assert!((cosine_similarity(&[1.0, 0.0], &[2.0, 0.0]) - 1.0).abs() < 1e-15);
/// assert_eq!(cosine_similarity(&[1.0, 0.0], &[0.0, 3.0]), 0.0);
/// ```
pub fn cosine_similarity(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| f64::from(x) * f64::from(y))
        .sum();
    let na: f64 = a.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>().sqrt();
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na * nb)
    }
}
