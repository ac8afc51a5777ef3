//! Checkpoints: everything a training run needs to continue bit for bit —
//! the model, the trainer's buffers (momentum, persistent and tempered
//! chains, centring offsets) and random streams, the position in the run
//! (epoch, mini-batch, the shuffled order and the shuffle stream) and the
//! options that would change the run
//! (the file format is described on [`Checkpoint`]).

use crate::error::{RbmError, Result};
use crate::kernels::Stream;
use crate::model_io::RawTensor;
use safetensors::tensor::{Dtype, SafeTensors};
use std::collections::{BTreeMap, HashMap};

/// Value of the `format` metadata key of a checkpoint.
const FORMAT: &str = "nrelu-rbm-checkpoint";
/// The only `format_version` written and read.
const FORMAT_VERSION: &str = "1";
/// Metadata key of the checksum.
const CHECKSUM_KEY: &str = "checksum";
/// Prefix of the metadata keys holding the run's options.
const OPTION_PREFIX: &str = "option.";

/// One piece of state, borrowed for saving or restoring.
pub(super) enum Buf<'a> {
    F32(&'a mut [f32]),
    F64(&'a mut [f64]),
    U32(&'a mut [u32]),
    U64(&'a mut [u64]),
    Streams(&'a mut [Stream]),
    Flag(&'a mut bool),
}

/// The saved state of a training run, from [`Trainer::checkpoint`](super::Trainer::checkpoint)
/// or [`train_resumable`](super::train_resumable), written with
/// [`Checkpoint::to_bytes`] and read back with [`Checkpoint::from_bytes`].
///
/// # Format
/// A safetensors file whose metadata holds `format` =
/// `nrelu-rbm-checkpoint`, `format_version` = `1`, one `option.NAME` key
/// per option that would change the run, and `checksum`: the 64-bit
/// FNV-1a hash (hexadecimal) of every other metadata pair and every tensor
/// (name and little-endian bytes, in name order). Tensors are
/// one-dimensional: `F32`, `F64`, `U32`, `U64` (random stream states, four
/// xoshiro256++ words per lane) or `U8` (flags, and the model itself as the
/// bytes of a model file, see `model_io`). [`Checkpoint::from_bytes`]
/// refuses a file that is not such a file, is truncated, or whose checksum
/// does not match, with [`RbmError::InvalidCheckpoint`]; it never panics.
///
/// ```
/// use nrelu_rbm::{Rbm, VisibleUnit, units::HiddenUnit};
/// use nrelu_rbm::train::{Checkpoint, Sampling, TrainConfig, Trainer};
/// let mut rbm = Rbm::new(6, 3, VisibleUnit::Bernoulli, HiddenUnit::Nrelu, 1)?;
/// let cfg = TrainConfig::default().with_batch_size(2).with_sampling(Sampling::Pcd(1));
/// let batch = [1., 1., 1., 0., 0., 0., 0., 0., 0., 1., 1., 1.];
/// let mut trainer = Trainer::new(&rbm, &cfg)?;
/// trainer.step(&mut rbm, &batch)?;
/// let bytes = trainer.checkpoint(&rbm)?.to_bytes()?;
///
/// // Later, or in another process: the same steps give the same bits.
/// let mut again = Rbm::new(6, 3, VisibleUnit::Bernoulli, HiddenUnit::Nrelu, 9)?;
/// let mut resumed = Trainer::new(&again, &cfg)?;
/// resumed.restore(&mut again, &Checkpoint::from_bytes(&bytes)?)?;
/// trainer.step(&mut rbm, &batch)?;
/// resumed.step(&mut again, &batch)?;
/// assert_eq!(rbm, again);
/// # Ok::<(), nrelu_rbm::RbmError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Checkpoint {
    options: BTreeMap<String, String>,
    /// One-dimensional tensors, by name.
    tensors: BTreeMap<String, RawTensor>,
}

fn bad(reason: impl Into<String>) -> RbmError {
    RbmError::InvalidCheckpoint {
        reason: reason.into(),
    }
}

/// 64-bit FNV-1a, continued from `h`.
pub(super) fn fnv1a(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The FNV-1a offset basis.
pub(super) const FNV_START: u64 = 0xcbf2_9ce4_8422_2325;

fn le_bytes<T, const N: usize>(values: &[T], f: impl Fn(&T) -> [u8; N]) -> Vec<u8> {
    values.iter().flat_map(f).collect()
}

impl Checkpoint {
    pub(super) fn new() -> Checkpoint {
        Checkpoint {
            options: BTreeMap::new(),
            tensors: BTreeMap::new(),
        }
    }

    /// Records the value of an option that would change the run.
    pub(super) fn set_option(&mut self, name: &str, value: String) {
        self.options.insert(name.to_owned(), value);
    }

    /// The recorded options, by name.
    pub(super) fn options(&self) -> &BTreeMap<String, String> {
        &self.options
    }

    /// Stores raw bytes (the model file).
    pub(super) fn put_bytes(&mut self, name: &str, bytes: Vec<u8>) {
        let t = RawTensor {
            dtype: Dtype::U8,
            shape: vec![bytes.len()],
            bytes,
        };
        self.tensors.insert(name.to_owned(), t);
    }

    /// The raw bytes stored under `name`.
    pub(super) fn bytes(&self, name: &str) -> Result<&[u8]> {
        self.tensor(name, Dtype::U8).map(|t| t.bytes.as_slice())
    }

    fn tensor(&self, name: &str, dtype: Dtype) -> Result<&RawTensor> {
        let t = self
            .tensors
            .get(name)
            .ok_or_else(|| bad(format!("tensor '{name}' is missing")))?;
        if t.dtype != dtype {
            return Err(bad(format!(
                "tensor '{name}' is {:?}, expected {dtype:?}",
                t.dtype
            )));
        }
        Ok(t)
    }

    /// Stores `buf` under `name`.
    pub(super) fn put(&mut self, name: &str, buf: Buf<'_>) {
        let (dtype, bytes) = match buf {
            Buf::F32(v) => (Dtype::F32, le_bytes(v, |x| x.to_le_bytes())),
            Buf::F64(v) => (Dtype::F64, le_bytes(v, |x| x.to_le_bytes())),
            Buf::U32(v) => (Dtype::U32, le_bytes(v, |x| x.to_le_bytes())),
            Buf::U64(v) => (Dtype::U64, le_bytes(v, |x| x.to_le_bytes())),
            Buf::Flag(b) => (Dtype::U8, vec![u8::from(*b)]),
            Buf::Streams(s) => {
                let words: Vec<u64> = s
                    .iter()
                    .flat_map(|s| s.lane_states().into_iter().flatten())
                    .collect();
                (Dtype::U64, le_bytes(&words, |x| x.to_le_bytes()))
            }
        };
        let size = match dtype {
            Dtype::F64 | Dtype::U64 => 8,
            Dtype::F32 | Dtype::U32 => 4,
            _ => 1,
        };
        let shape = vec![bytes.len() / size];
        self.tensors.insert(
            name.to_owned(),
            RawTensor {
                dtype,
                shape,
                bytes,
            },
        );
    }

    /// Fills `buf` from the tensor `name`, which must have its type and
    /// length.
    pub(super) fn take(&self, name: &str, buf: Buf<'_>) -> Result<()> {
        let wrong_len = |got: usize, want: usize| {
            bad(format!(
                "tensor '{name}' has {got} bytes, expected {want} (another model, batch or option?)"
            ))
        };
        macro_rules! fill {
            ($dst:expr, $dtype:expr, $t:ty, $n:literal) => {{
                let t = self.tensor(name, $dtype)?;
                if t.bytes.len() != $dst.len() * $n {
                    return Err(wrong_len(t.bytes.len(), $dst.len() * $n));
                }
                for (d, c) in $dst.iter_mut().zip(t.bytes.chunks_exact($n)) {
                    let mut a = [0u8; $n];
                    a.copy_from_slice(c);
                    *d = <$t>::from_le_bytes(a);
                }
            }};
        }
        match buf {
            Buf::F32(v) => fill!(v, Dtype::F32, f32, 4),
            Buf::F64(v) => fill!(v, Dtype::F64, f64, 8),
            Buf::U32(v) => fill!(v, Dtype::U32, u32, 4),
            Buf::U64(v) => fill!(v, Dtype::U64, u64, 8),
            Buf::Flag(b) => {
                let t = self.tensor(name, Dtype::U8)?;
                *b = match t.bytes.as_slice() {
                    [0] => false,
                    [1] => true,
                    _ => return Err(bad(format!("tensor '{name}' is not a flag"))),
                };
            }
            Buf::Streams(s) => {
                let template = Stream::new(0, 0).lane_states();
                let per = template.len() * 4;
                let mut words = vec![0u64; s.len() * per];
                fill!(words, Dtype::U64, u64, 8);
                for (stream, w) in s.iter_mut().zip(words.chunks_exact(per)) {
                    let mut lanes = template;
                    for (lane, w) in lanes.iter_mut().zip(w.chunks_exact(4)) {
                        lane.copy_from_slice(w);
                        if lane.iter().all(|&x| x == 0) {
                            return Err(bad(format!(
                                "tensor '{name}' holds an all-zero random state"
                            )));
                        }
                    }
                    *stream = Stream::from_lane_states(lanes);
                }
            }
        }
        Ok(())
    }

    /// The checksum of everything but the checksum itself.
    fn checksum(&self) -> u64 {
        let mut h = FNV_START;
        for (k, v) in &self.options {
            for part in [OPTION_PREFIX, k, "=", v, "\n"] {
                h = fnv1a(h, part.as_bytes());
            }
        }
        for (name, t) in &self.tensors {
            h = fnv1a(h, name.as_bytes());
            h = fnv1a(h, format!("{:?}", t.dtype).as_bytes());
            h = fnv1a(h, &(t.bytes.len() as u64).to_le_bytes());
            h = fnv1a(h, &t.bytes);
        }
        h
    }

    /// The checkpoint as the bytes of a safetensors file (see the
    /// [`Checkpoint`]).
    ///
    /// # Errors
    /// [`RbmError::InvalidCheckpoint`] if the safetensors writer fails.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut meta: HashMap<String, String> = self
            .options
            .iter()
            .map(|(k, v)| (format!("{OPTION_PREFIX}{k}"), v.clone()))
            .collect();
        meta.insert("format".into(), FORMAT.into());
        meta.insert("format_version".into(), FORMAT_VERSION.into());
        meta.insert(CHECKSUM_KEY.into(), format!("{:016x}", self.checksum()));
        safetensors::serialize(self.tensors.iter(), Some(meta))
            .map_err(|e| bad(format!("cannot serialize: {e}")))
    }

    /// Reads a checkpoint written by [`Checkpoint::to_bytes`], checking
    /// its structure, format and checksum. Never panics.
    ///
    /// # Errors
    /// [`RbmError::InvalidCheckpoint`] naming the problem: not a
    /// safetensors file, truncated, another format or version, or a
    /// checksum that does not match (a corrupted file).
    pub fn from_bytes(bytes: &[u8]) -> Result<Checkpoint> {
        let (_, meta) = SafeTensors::read_metadata(bytes).map_err(|e| {
            bad(format!(
                "not a complete safetensors file ({} bytes; truncated or corrupted?): {e}",
                bytes.len()
            ))
        })?;
        let st = SafeTensors::deserialize(bytes)
            .map_err(|e| bad(format!("not a valid safetensors file: {e}")))?;
        let mut metadata = meta.metadata().clone().unwrap_or_default();
        match metadata.remove("format").as_deref() {
            Some(FORMAT) => {}
            Some(other) => return Err(bad(format!("format is '{other}', expected '{FORMAT}'"))),
            None => return Err(bad("not an nrelu-rbm checkpoint (no 'format' key)")),
        }
        match metadata.remove("format_version").as_deref() {
            Some(FORMAT_VERSION) => {}
            other => {
                return Err(bad(format!(
                    "format_version {other:?} is not supported (this program reads {FORMAT_VERSION})"
                )));
            }
        }
        let stored = metadata
            .remove(CHECKSUM_KEY)
            .ok_or_else(|| bad("the checksum is missing"))?;
        let stored = u64::from_str_radix(&stored, 16)
            .ok()
            .filter(|_| stored.len() == 16)
            .ok_or_else(|| bad(format!("checksum '{stored}' is not 16 hexadecimal digits")))?;
        let mut ck = Checkpoint::new();
        for (k, v) in metadata {
            let Some(name) = k.strip_prefix(OPTION_PREFIX) else {
                return Err(bad(format!("unknown metadata key '{k}'")));
            };
            ck.options.insert(name.to_owned(), v);
        }
        for (name, view) in st.tensors() {
            if view.shape().len() != 1 {
                return Err(bad(format!("tensor '{name}' is not one-dimensional")));
            }
            let t = RawTensor {
                dtype: view.dtype(),
                shape: vec![view.shape()[0]],
                bytes: view.data().to_vec(),
            };
            ck.tensors.insert(name, t);
        }
        let actual = ck.checksum();
        if actual != stored {
            return Err(bad(format!(
                "the file is corrupted: its checksum is {actual:016x} but the header says {stored:016x}"
            )));
        }
        Ok(ck)
    }
}
