//! Models on disk, in the [safetensors] format.
//!
//! A model file holds three `F32` tensors, `weights` (shape `[V, H]`,
//! row-major: `weights[i, j]` joins visible unit `i` to hidden unit `j`),
//! `visible_bias` (`[V]`) and `hidden_bias` (`[H]`), plus `input_mean` and
//! `input_std` (`[V]`) when the model carries an input map
//! ([`Standardization`]): raw data `x` is fed to the model as
//! `z = (x − input_mean) / input_std`, column by column. The string
//! metadata (`__metadata__`) says how to read them:
//!
//! | key              | value                                               |
//! |------------------|-----------------------------------------------------|
//! | `format`         | `nrelu-rbm`                                         |
//! | `format_version` | `1`, or `2` if a layer's `nrelu_mean` is not `relu`    |
//! | `visible`        | `bernoulli` or `gaussian`                           |
//! | `hidden`         | `bernoulli`, `nrelu`, `ssu` or `binomial:K`         |
//! | `input_map`      | `none` or `standardize`                             |
//! | `nrelu_noise`    | `variance=sigmoid(x)` (only when `hidden` is `nrelu`) |
//! | `nrelu_mean`     | `ssu`, only for `nrelu` units read out by the SSU mean ([`NreluMean`]; absent means `relu`) |
//! | `data_crc32`     | CRC-32 of the data section, 8 lowercase hex digits  |
//!
//! [`load`] checks everything — the safetensors structure, every dtype,
//! shape and value, the metadata and the checksum — and reports the first
//! problem as [`RbmError::InvalidModel`] with a precise reason; no input
//! makes it panic. [`save`] writes atomically and deterministically: the
//! same model always gives the same bytes (the JSON header's keys are
//! sorted). `docs/model-format.md` describes the format in full.
//!
//! # Several layers in one file
//! Every name above can carry a prefix, so that a stack of RBMs fits in one
//! file: [`ModelFile::insert_layer`] with prefix `layer0.` writes
//! `layer0.weights`, ..., and the metadata `layer0.visible`, ...;
//! [`ModelFile::layer`] reads a layer back. A plain model is the layer with
//! the empty prefix, and [`save`]/[`load`] are thin wrappers over
//! [`ModelFile`].
//!
//! [safetensors]: https://github.com/huggingface/safetensors

use crate::error::{RbmError, Result, invalid, one_line};
use crate::fsutil::atomic_write;
use crate::rbm::{Rbm, Standardization, VisibleUnit};
use crate::units::{HiddenUnit, NreluMean};
use safetensors::tensor::{Dtype, SafeTensorError, SafeTensors, View};
use serde_json::Value;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

/// Value of the `format` metadata key.
pub const FORMAT: &str = "nrelu-rbm";
/// Value of the `format_version` metadata key of files whose every layer
/// reads as version 1 did (read by every version of this crate).
pub const FORMAT_VERSION: &str = "1";
/// Value of the `format_version` metadata key of files with a layer whose
/// `nrelu_mean` is not `relu`: a reader that predates the key must refuse
/// such a file rather than read its NReLU units as max(0, x).
pub const FORMAT_VERSION_NRELU_MEAN: &str = "2";
/// Value of the `nrelu_noise` key: NReLU units add Gaussian noise of
/// **variance** σ(x) to their input x (Nair & Hinton 2010).
pub const NRELU_NOISE: &str = "variance=sigmoid(x)";
/// `input_map` value of a model without an input map.
pub const INPUT_MAP_NONE: &str = "none";
/// `input_map` value of a model whose inputs are mapped by
/// `z = (x − input_mean) / input_std`.
pub const INPUT_MAP_STANDARDIZE: &str = "standardize";
/// The metadata key of the data checksum.
const CRC_KEY: &str = "data_crc32";
/// Keys that belong to the file, not to a layer.
const RESERVED_KEYS: [&str; 3] = ["format", "format_version", CRC_KEY];
/// Bytes of the little-endian header-length field.
const LEN_BYTES: usize = 8;
/// Shown as the file of errors about a [`ModelFile`] built in memory.
const IN_MEMORY: &str = "(model in memory)";

/// Saves `rbm` to `path` as a safetensors file (see the [module
/// docs](self)), atomically: the bytes go to a temporary file in the same
/// directory, which is synced and then renamed to `path`. On error nothing
/// is left behind and an existing file at `path` is untouched.
///
/// ```
/// use nrelu_rbm::{model_io, Rbm, VisibleUnit, units::HiddenUnit};
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("model.safetensors");
/// let rbm = Rbm::new(64, 16, VisibleUnit::Bernoulli, HiddenUnit::Nrelu, 1)?;
/// model_io::save(&rbm, &path)?;
/// assert_eq!(model_io::load(&path)?, rbm); // bit for bit
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`RbmError::Io`] if the file cannot be created, written, synced or
/// renamed (for example when its directory does not exist).
pub fn save(rbm: &Rbm, path: &Path) -> Result<()> {
    let mut file = ModelFile::new();
    file.insert_layer("", rbm)?;
    file.write(path)
}

/// Loads a model saved by [`save`] (or written by any tool following
/// `docs/model-format.md`), validating it completely.
///
/// ```
/// use nrelu_rbm::{model_io, Rbm, RbmError, Standardization, VisibleUnit};
/// use nrelu_rbm::units::HiddenUnit;
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("m.safetensors");
/// let mut rbm = Rbm::new(3, 2, VisibleUnit::Gaussian, HiddenUnit::binomial(4)?, 7)?;
/// rbm.set_standardization(Some(Standardization::new(
///     vec![0.5, 1.0, 2.0],
///     vec![1.0, 2.0, 4.0],
/// )?))?;
/// model_io::save(&rbm, &path)?;
/// let back = model_io::load(&path)?;
/// assert_eq!(back.hidden(), HiddenUnit::binomial(4)?);
/// assert_eq!(back.standardization(), rbm.standardization());
///
/// // A damaged file is an error, never a panic.
/// let bytes = std::fs::read(&path)?;
/// std::fs::write(&path, &bytes[..bytes.len() - 1])?;
/// assert!(matches!(model_io::load(&path), Err(RbmError::InvalidModel { .. })));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`RbmError::Io`] if the file cannot be read; [`RbmError::InvalidModel`]
/// naming the file and the problem if it is not a valid single-layer
/// model: not a safetensors file, truncated, checksum mismatch, wrong or
/// missing `format`/`format_version`, unknown unit names, a missing or
/// unexpected tensor, a dtype other than `F32`, inconsistent shapes, a
/// NaN or infinite value, or an `input_std` that is not positive.
pub fn load(path: &Path) -> Result<Rbm> {
    ModelFile::read(path)?.single_layer()
}

/// The bytes [`save`] writes for `rbm`.
///
/// # Errors
/// [`RbmError::InvalidModel`] only if the safetensors writer fails, which
/// a valid [`Rbm`] never makes it do.
pub fn to_bytes(rbm: &Rbm) -> Result<Vec<u8>> {
    let mut file = ModelFile::new();
    file.insert_layer("", rbm)?;
    file.to_bytes()
}

/// Parses the bytes of a model file, as [`load`] does; `path` is only used
/// in error messages.
///
/// # Errors
/// Those of [`load`], except [`RbmError::Io`].
pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<Rbm> {
    ModelFile::from_bytes(bytes, path)?.single_layer()
}

/// One tensor as stored: its dtype, shape and little-endian bytes (of
/// model files, and of training checkpoints).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct RawTensor {
    pub(crate) dtype: Dtype,
    pub(crate) shape: Vec<usize>,
    pub(crate) bytes: Vec<u8>,
}

impl RawTensor {
    fn f32(shape: Vec<usize>, values: &[f32]) -> RawTensor {
        RawTensor {
            dtype: Dtype::F32,
            shape,
            bytes: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        }
    }
}

impl View for &RawTensor {
    fn dtype(&self) -> Dtype {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.bytes)
    }
    fn data_len(&self) -> usize {
        self.bytes.len()
    }
}

/// The contents of a model file: named tensors and string metadata, with
/// layers stored under name prefixes.
///
/// A file always carries `format` = [`FORMAT`] and `format_version` =
/// [`FORMAT_VERSION`] ([`FORMAT_VERSION_NRELU_MEAN`] once a layer with an
/// NReLU mean other than `relu` is inserted); the `data_crc32` checksum is added when the file is
/// written and checked (then dropped) when it is read.
///
/// ```
/// use nrelu_rbm::model_io::ModelFile;
/// use nrelu_rbm::{Rbm, VisibleUnit, units::HiddenUnit};
/// let bottom = Rbm::new(8, 4, VisibleUnit::Bernoulli, HiddenUnit::Nrelu, 1)?;
/// let top = Rbm::new(4, 2, VisibleUnit::Gaussian, HiddenUnit::Bernoulli, 2)?;
/// let mut file = ModelFile::new();
/// file.insert_layer("layer0.", &bottom)?;
/// file.insert_layer("layer1.", &top)?;
/// file.set_metadata("layers", "2")?;
/// let bytes = file.to_bytes()?;
///
/// let back = ModelFile::from_bytes(&bytes, "stack.safetensors".as_ref())?;
/// assert_eq!(back.layer("layer1.")?, top);
/// assert_eq!(back.metadata()["layer0.hidden"], "nrelu");
/// assert!(back.tensor_names().any(|n| n == "layer0.weights"));
/// # Ok::<(), nrelu_rbm::RbmError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ModelFile {
    metadata: BTreeMap<String, String>,
    tensors: BTreeMap<String, RawTensor>,
    /// The file it was read from, for error messages.
    source: PathBuf,
}

impl Default for ModelFile {
    fn default() -> Self {
        ModelFile::new()
    }
}

/// Checks a layer prefix: empty, or ASCII letters, digits, `_` and `-`
/// segments each followed by `.` (e.g. `layer0.`, `dbn.layer1.`).
fn check_prefix(prefix: &str) -> Result<()> {
    let ok = prefix.is_empty()
        || (prefix.ends_with('.')
            && prefix[..prefix.len() - 1].split('.').all(|seg| {
                !seg.is_empty()
                    && seg
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            }));
    if ok {
        Ok(())
    } else {
        Err(invalid(
            "prefix",
            prefix,
            "must be empty or dot-terminated names of letters, digits, '_' and '-' (e.g. 'layer0.')",
        ))
    }
}

/// The safetensors dtype's name as it appears in the header.
fn dtype_name(d: Dtype) -> String {
    format!("{d:?}")
}

impl ModelFile {
    /// An empty file (just `format` and `format_version`).
    pub fn new() -> ModelFile {
        let metadata = BTreeMap::from([
            ("format".to_owned(), FORMAT.to_owned()),
            ("format_version".to_owned(), FORMAT_VERSION.to_owned()),
        ]);
        ModelFile {
            metadata,
            tensors: BTreeMap::new(),
            source: PathBuf::from(IN_MEMORY),
        }
    }

    /// Stores `rbm` under `prefix`: tensors `{prefix}weights`,
    /// `{prefix}visible_bias`, `{prefix}hidden_bias` (and
    /// `{prefix}input_mean`, `{prefix}input_std` if it has an input map)
    /// and the metadata `{prefix}visible`, `{prefix}hidden`,
    /// `{prefix}input_map` (and `{prefix}nrelu_noise` for NReLU units, and
    /// `{prefix}nrelu_mean` if their [`NreluMean`] is not `relu`).
    ///
    /// # Errors
    /// [`RbmError::InvalidParameter`] if `prefix` is not empty or a
    /// dot-terminated name such as `layer0.`, or if the file already has a
    /// layer under it.
    pub fn insert_layer(&mut self, prefix: &str, rbm: &Rbm) -> Result<()> {
        check_prefix(prefix)?;
        let key = |name: &str| format!("{prefix}{name}");
        if self.tensors.contains_key(&key("weights")) || self.metadata.contains_key(&key("visible"))
        {
            return Err(invalid(
                "prefix",
                prefix,
                "the file already has a layer with this prefix",
            ));
        }
        let (v, h) = (rbm.n_visible(), rbm.n_hidden());
        let mut tensors = vec![
            ("weights", RawTensor::f32(vec![v, h], rbm.weights())),
            ("visible_bias", RawTensor::f32(vec![v], rbm.visible_bias())),
            ("hidden_bias", RawTensor::f32(vec![h], rbm.hidden_bias())),
        ];
        let map = match rbm.standardization() {
            None => INPUT_MAP_NONE,
            Some(s) => {
                tensors.push(("input_mean", RawTensor::f32(vec![v], &s.mean)));
                tensors.push(("input_std", RawTensor::f32(vec![v], &s.std)));
                INPUT_MAP_STANDARDIZE
            }
        };
        for (name, t) in tensors {
            self.tensors.insert(key(name), t);
        }
        self.metadata
            .insert(key("visible"), rbm.visible().to_string());
        self.metadata
            .insert(key("hidden"), rbm.hidden().to_string());
        self.metadata.insert(key("input_map"), map.to_owned());
        if rbm.hidden() == HiddenUnit::Nrelu {
            self.metadata
                .insert(key("nrelu_noise"), NRELU_NOISE.to_owned());
            // Written only for a rule other than the default, so that every
            // file a reader of version 1 reads correctly stays version 1,
            // byte for byte.
            if rbm.nrelu_mean() != NreluMean::Relu {
                self.metadata
                    .insert(key("nrelu_mean"), rbm.nrelu_mean().to_string());
                self.metadata.insert(
                    "format_version".to_owned(),
                    FORMAT_VERSION_NRELU_MEAN.to_owned(),
                );
            }
        }
        Ok(())
    }

    /// Sets a free-form metadata entry (for example a stack's `layers`).
    ///
    /// # Errors
    /// [`RbmError::InvalidParameter`] for the reserved keys `format`,
    /// `format_version` and `data_crc32`, or `__metadata__`.
    pub fn set_metadata(&mut self, key: &str, value: &str) -> Result<()> {
        if RESERVED_KEYS.contains(&key) || key == "__metadata__" {
            return Err(invalid(
                "metadata key",
                key,
                "is reserved for the file format",
            ));
        }
        self.metadata.insert(key.to_owned(), value.to_owned());
        Ok(())
    }

    /// The string metadata (without the checksum).
    pub fn metadata(&self) -> &BTreeMap<String, String> {
        &self.metadata
    }

    /// The tensor names, sorted.
    pub fn tensor_names(&self) -> impl Iterator<Item = &str> {
        self.tensors.keys().map(String::as_str)
    }

    /// The file's bytes: safetensors as written by the reference
    /// implementation (tensors ordered by dtype then name, data right after
    /// the header), with the JSON header's keys sorted so that the bytes
    /// depend only on the contents, and the `data_crc32` checksum added.
    ///
    /// # Errors
    /// [`RbmError::InvalidModel`] if the safetensors writer fails (it does
    /// not for tensors built by [`ModelFile::insert_layer`]).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let fail = |reason: String| RbmError::InvalidModel {
            path: self.source.clone(),
            reason,
        };
        let metadata: HashMap<String, String> = self
            .metadata
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let raw = safetensors::serialize(self.tensors.iter(), Some(metadata))
            .map_err(|e| fail(format!("cannot serialize: {e}")))?;
        // The reference writer emits `__metadata__` from a HashMap, in a
        // different order every run: re-emit the header with sorted keys
        // (the data offsets are relative to the data, so they stay valid)
        // and add the checksum of the data.
        let n = header_len(&raw).ok_or_else(|| fail("serializer output too short".into()))?;
        let (header, data) = raw[LEN_BYTES..].split_at(n);
        let mut top: BTreeMap<String, Value> = serde_json::from_slice(header)
            .map_err(|e| fail(format!("cannot re-read the header: {e}")))?;
        let mut meta: BTreeMap<String, Value> = match top.remove("__metadata__") {
            Some(Value::Object(m)) => m.into_iter().collect(),
            _ => return Err(fail("serializer output lacks __metadata__".into())),
        };
        meta.insert(
            CRC_KEY.to_owned(),
            Value::String(format!("{:08x}", crc32fast::hash(data))),
        );
        top.insert("__metadata__".to_owned(), Value::Object(sorted(meta)));
        let top: BTreeMap<String, Value> =
            top.into_iter().map(|(k, v)| (k, deep_sort(v))).collect();
        let mut header =
            serde_json::to_vec(&top).map_err(|e| fail(format!("cannot write the header: {e}")))?;
        // Pad with spaces so that the data starts at a multiple of 8 bytes.
        header.resize(header.len().next_multiple_of(LEN_BYTES), b' ');
        let mut out = Vec::with_capacity(LEN_BYTES + header.len() + data.len());
        out.extend_from_slice(&(header.len() as u64).to_le_bytes());
        out.extend_from_slice(&header);
        out.extend_from_slice(data);
        // Self-check with the reference reader.
        SafeTensors::deserialize(&out)
            .map_err(|e| fail(format!("header rewrite broke the file: {e}")))?;
        Ok(out)
    }

    /// Parses and checks the safetensors structure, the `format` and
    /// `format_version` keys and the checksum (when present); the layers
    /// are checked when read with [`ModelFile::layer`]. `path` is only
    /// used in error messages.
    ///
    /// # Errors
    /// [`RbmError::InvalidModel`] naming `path` and the problem.
    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<ModelFile> {
        let bad = |reason: String| RbmError::InvalidModel {
            path: path.to_owned(),
            reason: one_line(reason),
        };
        let (n, meta) = SafeTensors::read_metadata(bytes).map_err(|e| bad(describe(&e, bytes)))?;
        // read_metadata checked that the header and every tensor's data lie
        // inside `bytes`, back to back, up to its end.
        let data = &bytes[LEN_BYTES + n..];
        let mut metadata: BTreeMap<String, String> = meta
            .metadata()
            .as_ref()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        if let Some(crc) = metadata.remove(CRC_KEY) {
            let actual = crc32fast::hash(data);
            let stored = u32::from_str_radix(&crc, 16)
                .ok()
                .filter(|_| crc.len() == 8)
                .ok_or_else(|| {
                    bad(format!(
                        "metadata '{CRC_KEY}' = '{crc}' is not 8 hexadecimal digits"
                    ))
                })?;
            if stored != actual {
                return Err(bad(format!(
                    "the tensor data is corrupted: its CRC-32 is {actual:08x} but the header says {crc}"
                )));
            }
        }
        match metadata.get("format").map(String::as_str) {
            Some(FORMAT) => {}
            Some(other) => {
                return Err(bad(format!(
                    "metadata 'format' is '{other}', expected '{FORMAT}'"
                )));
            }
            None => {
                return Err(bad(format!(
                    "metadata 'format' is missing: not an {FORMAT} model file"
                )));
            }
        }
        match metadata.get("format_version").map(String::as_str) {
            Some(FORMAT_VERSION | FORMAT_VERSION_NRELU_MEAN) => {}
            Some(other) => {
                return Err(bad(format!(
                    "format_version '{other}' is not supported (this program reads versions {FORMAT_VERSION} and {FORMAT_VERSION_NRELU_MEAN})"
                )));
            }
            None => return Err(bad("metadata 'format_version' is missing".into())),
        }
        let tensors = meta
            .tensors()
            .into_iter()
            .map(|(name, info)| {
                let (start, end) = info.data_offsets;
                let tensor = RawTensor {
                    dtype: info.dtype,
                    shape: info.shape.clone(),
                    bytes: data[start..end].to_vec(),
                };
                (name, tensor)
            })
            .collect();
        Ok(ModelFile {
            metadata,
            tensors,
            source: path.to_owned(),
        })
    }

    /// Writes the file atomically (see [`save`]).
    ///
    /// # Errors
    /// [`RbmError::Io`] if the file cannot be created, written, synced or
    /// renamed.
    pub fn write(&self, path: &Path) -> Result<()> {
        let bytes = self.to_bytes()?;
        atomic_write(path, |w| w.write_all(&bytes))
    }

    /// Reads and parses a file (see [`ModelFile::from_bytes`]).
    ///
    /// # Errors
    /// [`RbmError::Io`] if the file cannot be read, and those of
    /// [`ModelFile::from_bytes`].
    pub fn read(path: &Path) -> Result<ModelFile> {
        let bytes = fs::read(path).map_err(|source| RbmError::Io {
            path: path.to_owned(),
            source,
        })?;
        ModelFile::from_bytes(&bytes, path)
    }

    fn bad(&self, reason: String) -> RbmError {
        RbmError::InvalidModel {
            path: self.source.clone(),
            reason: one_line(reason),
        }
    }

    /// The metadata value of `key`, which must be present.
    fn required(&self, key: &str) -> Result<&str> {
        self.metadata
            .get(key)
            .map(String::as_str)
            .ok_or_else(|| self.bad(format!("metadata '{key}' is missing")))
    }

    /// The values of the F32 tensor `name`, whose shape must be `want`
    /// (described by `why` in errors) and whose values must be finite.
    fn f32_tensor(&self, name: &str, want: &[usize], why: &str) -> Result<Vec<f32>> {
        let t = self
            .tensors
            .get(name)
            .ok_or_else(|| self.bad(format!("tensor '{name}' is missing")))?;
        if t.dtype != Dtype::F32 {
            return Err(self.bad(format!(
                "tensor '{name}' has dtype {}, expected F32",
                dtype_name(t.dtype)
            )));
        }
        if t.shape != want {
            return Err(self.bad(format!(
                "tensor '{name}' has shape {:?}, expected {want:?} ({why})",
                t.shape
            )));
        }
        let values: Vec<f32> = t
            .bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        if let Some(i) = values.iter().position(|x| !x.is_finite()) {
            let at = match want {
                [_, cols] => format!("row {}, column {}", i / cols + 1, i % cols + 1),
                _ => format!("element {}", i + 1),
            };
            return Err(self.bad(format!(
                "tensor '{name}' has a non-finite value ({}) at {at} (from 1)",
                values[i]
            )));
        }
        Ok(values)
    }

    /// Reads and validates the layer stored under `prefix` (see
    /// [`ModelFile::insert_layer`]). Tensors and metadata of other
    /// prefixes are ignored.
    ///
    /// # Errors
    /// [`RbmError::InvalidModel`] naming the problem: missing or unknown
    /// metadata values, a missing tensor, a dtype other than `F32`,
    /// inconsistent shapes, non-finite values, `input_std <= 0`, or input
    /// map tensors that contradict `input_map`.
    pub fn layer(&self, prefix: &str) -> Result<Rbm> {
        check_prefix(prefix)?;
        let key = |name: &str| format!("{prefix}{name}");
        let (visible, hidden) = self.layer_units(prefix)?;
        let nrelu_mean = self.layer_nrelu_mean(prefix, hidden)?;
        let standardize = self.layer_standardizes(prefix)?;
        let weights_name = key("weights");
        let (v, h) = self.layer_shape(&weights_name)?;
        let weights = self.f32_tensor(&weights_name, &[v, h], "visible × hidden units")?;
        let from_w = format!("{v} visible units, from '{weights_name}'");
        let visible_bias = self.f32_tensor(&key("visible_bias"), &[v], &from_w)?;
        let hidden_bias = self.f32_tensor(
            &key("hidden_bias"),
            &[h],
            &format!("{h} hidden units, from '{weights_name}'"),
        )?;
        let standardization = if standardize {
            Some(self.layer_standardization(prefix, v, &from_w)?)
        } else {
            self.check_no_standardization(prefix)?;
            None
        };
        let mut rbm = Rbm::from_parts(
            visible,
            hidden,
            weights,
            visible_bias,
            hidden_bias,
            standardization,
        )
        .map_err(|e| self.bad(e.to_string()))?;
        // `layer_nrelu_mean` checked the rule against the units.
        rbm.nrelu_mean = nrelu_mean;
        Ok(rbm)
    }

    /// The mean rule of the NReLU layer under `prefix` (its `nrelu_mean`
    /// metadata; files without it are read as `relu`, the rule they were
    /// written under). Other units must not carry the key, and a rule other
    /// than `relu` needs `format_version` 2, which readers that predate the
    /// key refuse (they would read the units as max(0, x)).
    fn layer_nrelu_mean(&self, prefix: &str, hidden: HiddenUnit) -> Result<NreluMean> {
        let mean_key = format!("{prefix}nrelu_mean");
        let Some(name) = self.metadata.get(&mean_key) else {
            return Ok(NreluMean::Relu);
        };
        if hidden != HiddenUnit::Nrelu {
            return Err(self.bad(format!(
                "metadata '{mean_key}' = '{name}' is set, but the hidden units are {hidden}, not nrelu"
            )));
        }
        let mean: NreluMean = name
            .parse()
            .map_err(|e| self.bad(format!("metadata '{mean_key}': {e}")))?;
        let version = self.metadata.get("format_version").map(String::as_str);
        if mean != NreluMean::Relu && version != Some(FORMAT_VERSION_NRELU_MEAN) {
            return Err(self.bad(format!(
                "metadata '{mean_key}' = '{name}' needs format_version {FORMAT_VERSION_NRELU_MEAN} (a reader of version {FORMAT_VERSION} would take these units for max(0, x))"
            )));
        }
        Ok(mean)
    }

    /// The visible and hidden unit types of the layer under `prefix`; an
    /// NReLU layer must also state the noise convention this crate uses.
    fn layer_units(&self, prefix: &str) -> Result<(VisibleUnit, HiddenUnit)> {
        let key = |name: &str| format!("{prefix}{name}");
        let visible_key = key("visible");
        let visible: VisibleUnit = self.required(&visible_key)?.parse().map_err(|_| {
            self.bad(format!(
                "metadata '{visible_key}' = '{}' is not a visible unit (expected bernoulli or gaussian)",
                self.metadata[&visible_key]
            ))
        })?;
        let hidden_key = key("hidden");
        let hidden: HiddenUnit = self
            .required(&hidden_key)?
            .parse()
            .map_err(|e| self.bad(format!("metadata '{hidden_key}': {e}")))?;
        if hidden == HiddenUnit::Nrelu {
            let noise_key = key("nrelu_noise");
            let noise = self.required(&noise_key).map_err(|_| {
                self.bad(format!(
                    "metadata '{noise_key}' is missing: an nrelu model must state its noise convention ('{NRELU_NOISE}')"
                ))
            })?;
            if noise != NRELU_NOISE {
                return Err(self.bad(format!(
                    "metadata '{noise_key}' = '{noise}' is not supported (NReLU noise here has {NRELU_NOISE})"
                )));
            }
        }
        Ok((visible, hidden))
    }

    /// Whether the layer under `prefix` standardizes its input (its
    /// `input_map` metadata).
    fn layer_standardizes(&self, prefix: &str) -> Result<bool> {
        let map_key = format!("{prefix}input_map");
        match self.required(&map_key)? {
            INPUT_MAP_NONE => Ok(false),
            INPUT_MAP_STANDARDIZE => Ok(true),
            other => Err(self.bad(format!(
                "metadata '{map_key}' = '{other}' is unknown (expected {INPUT_MAP_NONE} or {INPUT_MAP_STANDARDIZE})"
            ))),
        }
    }

    /// The (visible, hidden) unit counts read from the shape of the weight
    /// tensor `weights_name`, both at least 1.
    fn layer_shape(&self, weights_name: &str) -> Result<(usize, usize)> {
        let w = self
            .tensors
            .get(weights_name)
            .ok_or_else(|| self.bad(format!("tensor '{weights_name}' is missing")))?;
        match w.shape[..] {
            [v, h] if v > 0 && h > 0 => Ok((v, h)),
            _ => Err(self.bad(format!(
                "tensor '{weights_name}' has shape {:?}, expected [visible units, hidden units], both at least 1",
                w.shape
            ))),
        }
    }

    /// The input standardization of the layer under `prefix`: `v` means
    /// and `v` positive standard deviations (`from_w` says where `v` came
    /// from, for errors).
    fn layer_standardization(
        &self,
        prefix: &str,
        v: usize,
        from_w: &str,
    ) -> Result<Standardization> {
        let (mean_name, std_name) = (format!("{prefix}input_mean"), format!("{prefix}input_std"));
        let mean = self.f32_tensor(&mean_name, &[v], from_w)?;
        let std = self.f32_tensor(&std_name, &[v], from_w)?;
        if let Some(i) = std.iter().position(|&s| s <= 0.0) {
            return Err(self.bad(format!(
                "tensor '{std_name}' has a non-positive standard deviation ({}) at element {} (from 1)",
                std[i],
                i + 1
            )));
        }
        Ok(Standardization { mean, std })
    }

    /// Checks that a layer under `prefix` whose `input_map` is
    /// `INPUT_MAP_NONE` carries no input map tensors.
    fn check_no_standardization(&self, prefix: &str) -> Result<()> {
        let map_key = format!("{prefix}input_map");
        for name in [format!("{prefix}input_mean"), format!("{prefix}input_std")] {
            if self.tensors.contains_key(&name) {
                return Err(self.bad(format!(
                    "tensor '{name}' is present but '{map_key}' is {INPUT_MAP_NONE}"
                )));
            }
        }
        Ok(())
    }

    /// The one layer of a plain model file: the empty prefix, and no
    /// tensor besides its own.
    pub(crate) fn single_layer(&self) -> Result<Rbm> {
        let rbm = self.layer("")?;
        let mut known = vec!["weights", "visible_bias", "hidden_bias"];
        if rbm.standardization().is_some() {
            known.extend(["input_mean", "input_std"]);
        }
        if let Some(extra) = self.tensor_names().find(|n| !known.contains(n)) {
            return Err(self.bad(format!(
                "unexpected tensor '{extra}' (a single-layer model has only {})",
                known.join(", ")
            )));
        }
        Ok(rbm)
    }
}

/// The little-endian header length at the start of a safetensors buffer,
/// if the buffer holds that many header bytes.
fn header_len(bytes: &[u8]) -> Option<usize> {
    let len: [u8; LEN_BYTES] = bytes.get(..LEN_BYTES)?.try_into().ok()?;
    let n = usize::try_from(u64::from_le_bytes(len)).ok()?;
    (bytes.len() - LEN_BYTES >= n).then_some(n)
}

/// A JSON object with its keys in sorted order (also when serde_json keeps
/// insertion order).
fn sorted(m: BTreeMap<String, Value>) -> serde_json::Map<String, Value> {
    m.into_iter().collect()
}

/// `v` with the keys of every nested object sorted.
fn deep_sort(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(sorted(
            m.into_iter().map(|(k, v)| (k, deep_sort(v))).collect(),
        )),
        other => other,
    }
}

/// A readable reason for a safetensors parse error of `bytes`.
fn describe(e: &SafeTensorError, bytes: &[u8]) -> String {
    let len = bytes.len();
    let mut s = String::new();
    let _ = match e {
        SafeTensorError::HeaderTooSmall => write!(
            s,
            "not a safetensors file: {len} bytes is too short for the 8-byte header length"
        ),
        SafeTensorError::InvalidHeaderLength | SafeTensorError::HeaderTooLarge => {
            let n = bytes
                .get(..LEN_BYTES)
                .and_then(|b| b.try_into().ok())
                .map_or(0, u64::from_le_bytes);
            write!(
                s,
                "not a safetensors file, or truncated: the header length field says {n} bytes but the file has {len}"
            )
        }
        SafeTensorError::InvalidHeader(_) => {
            write!(
                s,
                "the safetensors header is not valid UTF-8 (corrupted file?)"
            )
        }
        SafeTensorError::InvalidHeaderDeserialization(err) => {
            write!(s, "the safetensors header is not valid: {err}")
        }
        SafeTensorError::MetadataIncompleteBuffer => write!(
            s,
            "the tensor data does not fill the file exactly (truncated or corrupted file)"
        ),
        SafeTensorError::InvalidOffset(name) => {
            write!(s, "tensor '{name}' has invalid data offsets")
        }
        SafeTensorError::TensorInvalidInfo => {
            write!(s, "a tensor's data size does not match its shape and dtype")
        }
        other => write!(s, "not a valid safetensors file: {other}"),
    };
    s
}
