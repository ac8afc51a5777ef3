//! Structure-aware fuzzing of every reader, shared by the test
//! `tests/fuzz_readers.rs` (a fixed number of cases in CI) and the probe
//! `benches/probes/fuzz_readers.rs` (as many as asked, with progress).
//!
//! Each case builds a valid file with the crate's own writers or a
//! hand-built header ([`valid`]), applies a few structural mutations
//! ([`Mutation`]): byte flips, truncation, insertion, header fields and
//! dimensions replaced by hostile ones, non-finite payloads, duplicate
//! `.npz` member names, damaged gzip), then feeds the bytes to the
//! reader's byte-level entry point under `catch_unwind` ([`check`]). The
//! properties: no panic; a refusal is one line; an accepted file has
//! finite values and a consistent shape.

#![allow(dead_code)]

use nrelu_rbm::data::{Dataset, Format, ReadOptions};
use nrelu_rbm::stack::{Stack, visible_above};
use nrelu_rbm::train::{Checkpoint, Sampling, TrainConfig, Trainer};
use nrelu_rbm::units::HiddenUnit;
use nrelu_rbm::{Rbm, Standardization, VisibleUnit, model_io, npy};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

/// The readers fuzzed, each with its byte-level entry point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reader {
    /// `model_io::from_bytes`.
    Model,
    /// `Stack::from_bytes`.
    Stack,
    /// `npy::read` (floating-point arrays of any shape).
    Npy,
    /// `Dataset::from_bytes` on `x.npy`.
    NpyData,
    /// `Dataset::from_bytes` on `x.npz` (and `x.npz:b`).
    Npz,
    /// `Dataset::from_bytes` on `x.csv`.
    Csv,
    /// `Dataset::from_bytes` on `x-idx3-ubyte` / an unnamed IDX file.
    Idx,
    /// `Dataset::from_bytes` on gzip-compressed files of every data format,
    /// with the format sniffed from the content.
    Gzip,
    /// `Checkpoint::from_bytes`, then `Trainer::restore` of what it accepts.
    Checkpoint,
}

/// Every reader.
pub const READERS: [Reader; 9] = [
    Reader::Model,
    Reader::Stack,
    Reader::Npy,
    Reader::NpyData,
    Reader::Npz,
    Reader::Csv,
    Reader::Idx,
    Reader::Gzip,
    Reader::Checkpoint,
];

/// The parameters a valid file is built from: small sizes and a seed for
/// its contents.
#[derive(Clone, Debug)]
pub struct Seed {
    rows: usize,
    cols: usize,
    kind: u8,
    seed: u64,
}

fn seed_strategy() -> impl Strategy<Value = Seed> {
    (1usize..5, 1usize..5, any::<u8>(), any::<u64>()).prop_map(|(rows, cols, kind, seed)| Seed {
        rows,
        cols,
        kind,
        seed,
    })
}

/// Hostile values for header fields and payloads.
const DTYPES: [&str; 16] = [
    "<f4", ">f4", "<f8", ">f8", "|u1", "<u2", ">i2", "<i4", "<i8", ">u8", "|b1", "<f2", "<c8",
    "|O", "<U3", "|V4",
];
const DIMS: [&str; 10] = [
    "0",
    "1",
    "3",
    "-1",
    "4294967296",
    "18446744073709551615",
    "18446744073709551616",
    "1000000000000",
    "9223372036854775807",
    "2**64",
];

/// A structural mutation of a file's bytes.
#[derive(Clone, Debug)]
pub enum Mutation {
    /// XOR one byte (index modulo the length) with a non-zero mask.
    Flip(usize, u8),
    /// Cut the file to this many bytes (modulo the length + 1).
    Truncate(usize),
    /// Insert bytes at an index.
    Insert(usize, Vec<u8>),
    /// Remove a run of bytes.
    Delete(usize, usize),
    /// Overwrite 4 or 8 bytes at an index with an extreme integer or a
    /// non-finite float, in either byte order.
    Extreme(usize, u8),
    /// Replace the first occurrence of a header token (a dtype, a
    /// dimension, a metadata value, a member name) by a hostile one.
    Token(u8, u8),
    /// Rename every `b.npy` to `a.npy`, local headers and central
    /// directory alike: an `.npz` archive with a duplicate member name.
    Duplicate,
}

fn mutation_strategy() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => (any::<usize>(), 1u8..).prop_map(|(i, m)| Mutation::Flip(i, m)),
        2 => any::<usize>().prop_map(Mutation::Truncate),
        1 => (any::<usize>(), prop::collection::vec(any::<u8>(), 1..9))
            .prop_map(|(i, b)| Mutation::Insert(i, b)),
        1 => (any::<usize>(), 1usize..17).prop_map(|(i, n)| Mutation::Delete(i, n)),
        2 => (any::<usize>(), any::<u8>()).prop_map(|(i, k)| Mutation::Extreme(i, k)),
        3 => (any::<u8>(), any::<u8>()).prop_map(|(a, b)| Mutation::Token(a, b)),
        1 => Just(Mutation::Duplicate),
    ]
}

/// A case: which reader, the valid file it starts from, and the
/// mutations (none: the valid file itself must be accepted).
pub fn case_strategy(reader: Reader) -> impl Strategy<Value = (Seed, Vec<Mutation>)> {
    (
        seed_strategy(),
        prop::collection::vec(mutation_strategy(), 0..4),
    )
        .prop_map(move |(s, m)| {
            let _ = reader;
            (s, m)
        })
}

/// A deterministic stream of numbers from a seed (splitmix64).
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn value(&mut self) -> f32 {
        (self.next() % 2001) as f32 / 1000.0 - 1.0
    }
}

fn hidden_of(k: u8) -> HiddenUnit {
    match k % 4 {
        0 => HiddenUnit::Bernoulli,
        1 => HiddenUnit::Nrelu,
        2 => HiddenUnit::Ssu,
        _ => HiddenUnit::binomial(u32::from(k % 7) + 1).unwrap(),
    }
}

fn rbm_of(v: usize, h: usize, visible: VisibleUnit, k: u8, seed: u64) -> Rbm {
    let mut rbm = Rbm::new(v, h, visible, hidden_of(k), seed).unwrap();
    if k & 0x10 != 0 {
        let mut m = Mix(seed);
        let mean = (0..v).map(|_| m.value()).collect();
        let std = (0..v).map(|_| m.value().abs() + 0.5).collect();
        rbm.set_standardization(Some(Standardization::new(mean, std).unwrap()))
            .unwrap();
    }
    rbm
}

/// The trainer settings of the checkpoints fuzzed: PCD-1 with momentum, so
/// that every kind of state (model, velocities, chains, streams) is in the
/// file.
fn checkpoint_config() -> TrainConfig {
    TrainConfig::default()
        .with_batch_size(4)
        .with_sampling(Sampling::Pcd(1))
        .with_momentum(0.5)
        .with_threads(1)
}

/// A trainer's checkpoint after two steps on a 5 × 3 model of `s`'s units.
fn checkpoint_bytes(s: &Seed) -> Vec<u8> {
    let mut rbm = rbm_of(5, 3, VisibleUnit::Bernoulli, s.kind & 0x0f, s.seed);
    let mut trainer = Trainer::new(&rbm, &checkpoint_config()).unwrap();
    let mut m = Mix(s.seed);
    let batch: Vec<f32> = (0..20).map(|_| f32::from(m.value() > 0.0)).collect();
    for _ in 0..2 {
        trainer.step(&mut rbm, &batch).unwrap();
    }
    trainer.checkpoint(&rbm).unwrap().to_bytes().unwrap()
}

/// A hand-built `.npy` file: header dict fields as given, then `data`.
pub fn npy_with(descr: &str, fortran: bool, shape: &str, data: &[u8]) -> Vec<u8> {
    let f = if fortran { "True" } else { "False" };
    let dict = format!("{{'descr': '{descr}', 'fortran_order': {f}, 'shape': {shape}, }}");
    let total = (10 + dict.len() + 1).div_ceil(64) * 64;
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&((total - 10) as u16).to_le_bytes());
    out.extend_from_slice(dict.as_bytes());
    out.resize(total - 1, b' ');
    out.push(b'\n');
    out.extend_from_slice(data);
    out
}

fn table(s: &Seed) -> Vec<f32> {
    let mut m = Mix(s.seed);
    (0..s.rows * s.cols).map(|_| m.value()).collect()
}

fn npy_bytes(s: &Seed) -> Vec<u8> {
    let t = table(s);
    match s.kind % 4 {
        0 => npy::write_array(Vec::new(), &[s.rows, s.cols], &t).unwrap(),
        1 => {
            let d: Vec<f64> = t.iter().map(|&x| f64::from(x)).collect();
            npy::write_array(Vec::new(), &[s.rows, s.cols], &d).unwrap()
        }
        2 => {
            // Big-endian, Fortran order.
            let mut data = Vec::new();
            for j in 0..s.cols {
                for i in 0..s.rows {
                    data.extend_from_slice(&t[i * s.cols + j].to_be_bytes());
                }
            }
            let shape = format!("({}, {})", s.rows, s.cols);
            npy_with(">f4", true, &shape, &data)
        }
        _ => {
            // uint8.
            let data: Vec<u8> = t.iter().map(|&x| (x * 100.0 + 100.0) as u8).collect();
            npy_with("|u1", false, &format!("({}, {})", s.rows, s.cols), &data)
        }
    }
}

fn npz_bytes(s: &Seed) -> Vec<u8> {
    use zip::write::SimpleFileOptions;
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let method = if s.kind & 1 == 0 {
        zip::CompressionMethod::Stored
    } else {
        zip::CompressionMethod::Deflated
    };
    let opts = SimpleFileOptions::default().compression_method(method);
    let members = 1 + usize::from(s.kind & 2 != 0);
    for (k, name) in ["a.npy", "b.npy"].iter().take(members).enumerate() {
        z.start_file(*name, opts).unwrap();
        let s2 = Seed {
            seed: s.seed ^ k as u64,
            ..s.clone()
        };
        z.write_all(&npy_bytes(&s2)).unwrap();
    }
    z.finish().unwrap().into_inner()
}

fn csv_bytes(s: &Seed) -> Vec<u8> {
    let t = table(s);
    let mut out = String::new();
    if s.kind & 1 != 0 {
        let names: Vec<String> = (0..s.cols).map(|j| format!("c{j}")).collect();
        out.push_str(&names.join(","));
        out.push('\n');
    }
    for row in t.chunks(s.cols) {
        let f: Vec<String> = row.iter().map(|x| x.to_string()).collect();
        out.push_str(&f.join(if s.kind & 2 != 0 { ", " } else { "," }));
        out.push_str(if s.kind & 4 != 0 { "\r\n" } else { "\n" });
    }
    out.into_bytes()
}

fn idx_bytes(s: &Seed) -> Vec<u8> {
    let t = table(s);
    let (code, size): (u8, usize) = [
        (0x08, 1),
        (0x09, 1),
        (0x0B, 2),
        (0x0C, 4),
        (0x0D, 4),
        (0x0E, 8),
    ][usize::from(s.kind) % 6];
    let dims: Vec<u32> = if s.kind & 0x40 != 0 {
        vec![(s.rows * s.cols) as u32]
    } else {
        vec![s.rows as u32, s.cols as u32, 1]
    };
    let mut out = vec![0, 0, code, dims.len() as u8];
    for d in &dims {
        out.extend_from_slice(&d.to_be_bytes());
    }
    for &x in &t {
        match size {
            1 => out.push((x * 100.0 + 100.0) as u8),
            2 => out.extend_from_slice(&((x * 1000.0) as i16).to_be_bytes()),
            4 if code == 0x0C => out.extend_from_slice(&((x * 1e6) as i32).to_be_bytes()),
            4 => out.extend_from_slice(&x.to_be_bytes()),
            _ => out.extend_from_slice(&f64::from(x).to_be_bytes()),
        }
    }
    out
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// The valid file a case starts from.
pub fn valid(reader: Reader, s: &Seed) -> Vec<u8> {
    match reader {
        Reader::Model => {
            let visible = if s.kind & 0x20 != 0 {
                VisibleUnit::Gaussian
            } else {
                VisibleUnit::Bernoulli
            };
            model_io::to_bytes(&rbm_of(s.rows, s.cols, visible, s.kind, s.seed)).unwrap()
        }
        Reader::Stack => {
            let n = 1 + usize::from(s.kind % 3);
            let mut layers = Vec::new();
            let mut v = s.rows;
            let mut visible = VisibleUnit::Bernoulli;
            for i in 0..n {
                let h = 1 + (s.seed as usize >> (4 * i)) % 4;
                // Only the first layer may carry an input map.
                let k = if i == 0 {
                    s.kind
                } else {
                    s.kind.wrapping_add(i as u8) & !0x10
                };
                let rbm = rbm_of(v, h, visible, k, s.seed ^ i as u64);
                visible = visible_above(rbm.hidden());
                v = h;
                layers.push(rbm);
            }
            let stack = Stack::new(layers).unwrap();
            stack.to_model_file().unwrap().to_bytes().unwrap()
        }
        // npy::read takes floating-point arrays only.
        Reader::Npy => npy_bytes(&Seed {
            kind: s.kind % 3,
            ..s.clone()
        }),
        Reader::NpyData => npy_bytes(s),
        Reader::Npz => npz_bytes(s),
        Reader::Csv => csv_bytes(s),
        Reader::Idx => idx_bytes(s),
        Reader::Gzip => gzip(&match s.kind % 4 {
            0 => npy_bytes(s),
            1 => npz_bytes(s),
            2 => csv_bytes(s),
            _ => idx_bytes(s),
        }),
        Reader::Checkpoint => checkpoint_bytes(s),
    }
}

/// Header tokens a [`Mutation::Token`] looks for, per reader.
fn tokens(reader: Reader) -> &'static [&'static str] {
    match reader {
        Reader::Model | Reader::Stack | Reader::Checkpoint => &[
            "\"F32\"",
            "\"shape\":[",
            "\"data_offsets\":[",
            "nrelu-rbm",
            "\"1\"",
            "bernoulli",
            "gaussian",
            "standardize",
            "\"layers\":\"",
            "layer1.",
            "variance=sigmoid(x)",
            "binomial:",
        ],
        _ => &[
            "<f4", "<f8", ">f4", "|u1", "False", "True", "(", "a.npy", "b.npy", ",", "\n", ".",
        ],
    }
}

/// Hostile replacements for a token.
const HOSTILE: [&str; 16] = [
    "\"F64\"",
    "\"shape\":[18446744073709551615,",
    "\"data_offsets\":[0,",
    "NaN",
    "inf",
    "-1",
    "\"2\"",
    "binomial:0",
    "\"layers\":\"1000",
    "a.npy",
    "",
    "\u{0}",
    "1e39",
    "é",
    "\"",
    ",,",
];

/// The bytes after the mutations.
pub fn mutate(reader: Reader, mut b: Vec<u8>, muts: &[Mutation]) -> Vec<u8> {
    for m in muts {
        let len = b.len();
        match m {
            Mutation::Flip(i, mask) if len > 0 => b[i % len] ^= mask,
            Mutation::Truncate(n) => b.truncate(n % (len + 1)),
            Mutation::Insert(i, x) => {
                let at = i % (len + 1);
                b.splice(at..at, x.iter().copied());
            }
            Mutation::Delete(i, n) if len > 0 => {
                let at = i % len;
                b.drain(at..(at + n).min(len));
            }
            Mutation::Extreme(i, k) if len >= 8 => {
                let at = i % (len - 7);
                let v: [u8; 8] = match k % 8 {
                    0 => f64::NAN.to_le_bytes(),
                    1 => f64::INFINITY.to_be_bytes(),
                    2 => u64::MAX.to_le_bytes(),
                    3 => (u32::MAX as u64).to_be_bytes(),
                    4 => {
                        let mut a = [0u8; 8];
                        a[..4].copy_from_slice(&f32::NAN.to_le_bytes());
                        a[4..].copy_from_slice(&f32::NEG_INFINITY.to_be_bytes());
                        a
                    }
                    5 => 1e300f64.to_le_bytes(),
                    6 => [0x80, 0, 0, 0, 0xff, 0xff, 0xff, 0xff],
                    _ => (i64::MIN).to_le_bytes(),
                };
                let n = if k & 8 != 0 { 4 } else { 8 };
                b[at..at + n].copy_from_slice(&v[..n]);
            }
            Mutation::Token(t, h) => {
                let toks = tokens(reader);
                let tok = toks[usize::from(*t) % toks.len()].as_bytes();
                let rep: String = match h % 3 {
                    0 => HOSTILE[usize::from(*h / 3) % HOSTILE.len()].to_owned(),
                    1 => DTYPES[usize::from(*h / 3) % DTYPES.len()].to_owned(),
                    _ => format!(
                        "({}, {})",
                        DIMS[usize::from(*h) % 10],
                        DIMS[usize::from(*t) % 10]
                    ),
                };
                if let Some(at) = b.windows(tok.len()).position(|w| w == tok) {
                    b.splice(at..at + tok.len(), rep.bytes());
                }
            }
            Mutation::Duplicate => {
                let mut at = 0;
                while let Some(k) = b[at..].windows(5).position(|w| w == b"b.npy") {
                    b[at + k] = b'a';
                    at += k + 5;
                }
            }
            _ => {}
        }
    }
    b
}

/// A valid two-member `.npz` archive whose members both get the name
/// `a.npy`.
pub fn duplicate_npz(seed: u64) -> Vec<u8> {
    let s = Seed {
        rows: 2,
        cols: 2,
        kind: 2,
        seed,
    };
    mutate(Reader::Npz, valid(Reader::Npz, &s), &[Mutation::Duplicate])
}

/// What went wrong in a case, with the case.
fn failure(reader: Reader, bytes: &[u8], what: &str) -> String {
    let shown: String = bytes.iter().take(512).map(|b| format!("{b:02x}")).collect();
    format!(
        "{reader:?}: {what}\ninput ({} bytes, first 512 in hex): {shown}",
        bytes.len()
    )
}

fn finite_rbm(r: &Rbm) -> bool {
    let std_ok = r.standardization().is_none_or(|s| {
        s.mean().iter().all(|x| x.is_finite()) && s.std().iter().all(|&x| x.is_finite() && x > 0.0)
    });
    r.weights().iter().all(|x| x.is_finite())
        && r.visible_bias().iter().all(|x| x.is_finite())
        && r.hidden_bias().iter().all(|x| x.is_finite())
        && r.weights().len() == r.n_visible() * r.n_hidden()
        && std_ok
}

fn finite_data(d: &Dataset) -> bool {
    d.values().len() == d.rows() * d.cols()
        && d.rows() > 0
        && d.cols() > 0
        && d.values().iter().all(|x| x.is_finite())
        && d.labels()
            .is_none_or(|l| l.len() == d.rows() && l.iter().all(|x| x.is_finite()))
}

/// A refusal's message: `Ok(false)` if it is one non-empty line.
pub fn refused(msg: String) -> Result<bool, String> {
    if msg.contains('\n') || msg.is_empty() {
        Err(format!("a refusal is not one line: {msg:?}"))
    } else {
        Ok(false)
    }
}

/// Runs `reader` on `bytes` and checks the properties. `Ok(true)` when the
/// file was accepted, `Ok(false)` when refused (in one line).
pub fn check(reader: Reader, bytes: &[u8]) -> Result<bool, String> {
    let run = || -> Result<bool, String> {
        // The first read decides acceptance; the others (with a label
        // column, under another name) may refuse what it accepts, but
        // must not panic or answer in several lines.
        let data = |name: &str, labels: bool| {
            let opts = ReadOptions::new().with_labels_last_column(labels);
            match Dataset::from_bytes(bytes, Path::new(name), &opts) {
                Ok(d) if finite_data(&d) => Ok(true),
                Ok(d) => Err(format!("accepted data is not finite or consistent: {d:?}")),
                Err(e) => refused(e.to_string()),
            }
        };
        match reader {
            Reader::Model => match model_io::from_bytes(bytes, Path::new("m.safetensors")) {
                Ok(r) if finite_rbm(&r) => Ok(true),
                Ok(_) => Err("accepted a model with non-finite parameters".into()),
                Err(e) => refused(e.to_string()),
            },
            Reader::Stack => match Stack::from_bytes(bytes, Path::new("s.safetensors")) {
                Ok(s) if s.layers().iter().all(finite_rbm) => Ok(true),
                Ok(_) => Err("accepted a stack with non-finite parameters".into()),
                Err(e) => refused(e.to_string()),
            },
            Reader::Npy => match npy::read(bytes) {
                // npy::read returns any floating-point array: its contract
                // is the shape, not finiteness.
                Ok(a) if a.shape.iter().product::<usize>() == a.len() => Ok(true),
                Ok(a) => Err(format!("shape {:?} holds {} elements", a.shape, a.len())),
                Err(e) => refused(e.to_string()),
            },
            Reader::NpyData => {
                let a = data("x.npy", false)?;
                data("x.npy", true)?;
                Ok(a)
            }
            Reader::Npz => {
                let a = data("x.npz:a", false)?;
                data("x.npz", true)?;
                data("x.npz:b", true)?;
                Ok(a)
            }
            Reader::Csv => {
                let a = data("x.csv", false)?;
                let opts = ReadOptions::new()
                    .with_format(Format::Csv)
                    .with_delimiter(b';');
                match Dataset::from_bytes(bytes, Path::new("x.txt"), &opts) {
                    Ok(d) if finite_data(&d) => {}
                    Ok(d) => return Err(format!("accepted data is not finite: {d:?}")),
                    Err(e) => _ = refused(e.to_string())?,
                }
                data("x.csv", true)?;
                Ok(a)
            }
            Reader::Idx => {
                let a = data("x.idx", false)?;
                data("x-idx3-ubyte", true)?;
                data("x.bin", false)?;
                Ok(a)
            }
            Reader::Gzip => data("x.gz", false),
            Reader::Checkpoint => match Checkpoint::from_bytes(bytes) {
                Err(e) => refused(e.to_string()),
                Ok(ck) => {
                    // Restore into a trainer of the settings the valid
                    // files were written with, for each unit type: a
                    // refusal is fine, a restored model must be finite.
                    for k in 0..4 {
                        let mut rbm = rbm_of(5, 3, VisibleUnit::Bernoulli, k, 1);
                        let mut t = Trainer::new(&rbm, &checkpoint_config()).unwrap();
                        match t.restore(&mut rbm, &ck) {
                            Ok(()) if finite_rbm(&rbm) => {}
                            Ok(()) => {
                                return Err("restored a model with non-finite parameters".into());
                            }
                            Err(e) => _ = refused(e.to_string())?,
                        }
                    }
                    Ok(true)
                }
            },
        }
    };
    guard(reader, bytes, run)
}

/// Runs `run` (a reader on `bytes`) under `catch_unwind`: a panic, or an
/// `Err` from `run`, becomes an error that shows the case.
pub fn guard(
    reader: Reader,
    bytes: &[u8],
    run: impl FnOnce() -> Result<bool, String>,
) -> Result<bool, String> {
    match catch_unwind(AssertUnwindSafe(run)) {
        Ok(Ok(accepted)) => Ok(accepted),
        Ok(Err(what)) => Err(failure(reader, bytes, &what)),
        Err(p) => {
            let msg = p
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            Err(failure(reader, bytes, &format!("panicked: {msg}")))
        }
    }
}

/// Counts of a run.
#[derive(Clone, Copy, Debug, Default)]
pub struct Tally {
    /// Cases run.
    pub cases: u64,
    /// Cases whose (mutated) file was accepted.
    pub accepted: u64,
}

/// Runs `cases` cases of `reader` from `seed`; the first failing case (after
/// proptest's shrinking) is the error.
pub fn run(reader: Reader, cases: u32, seed: u64) -> Result<Tally, String> {
    let config = Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 2000,
        ..Config::default()
    };
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    key[8] = reader as u8;
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &key);
    let mut runner = TestRunner::new_with_rng(config, rng);
    let tally = std::cell::Cell::new(Tally::default());
    let result = runner.run(&case_strategy(reader), |(s, muts)| {
        let base = valid(reader, &s);
        if muts.is_empty() {
            // The unmutated file must be read.
            match check(reader, &base) {
                Ok(true) => {}
                Ok(false) => {
                    return Err(TestCaseError::fail(failure(
                        reader,
                        &base,
                        "a valid file was refused",
                    )));
                }
                Err(e) => return Err(TestCaseError::fail(e)),
            }
        }
        let bytes = mutate(reader, base, &muts);
        let accepted = check(reader, &bytes).map_err(TestCaseError::fail)?;
        let mut t = tally.get();
        t.cases += 1;
        t.accepted += u64::from(accepted);
        tally.set(t);
        Ok(())
    });
    result.map_err(|e| e.to_string())?;
    Ok(tally.get())
}

/// Every prefix of the valid files of `reader` built from a few seeds: each
/// must be refused in one line or (a CSV file cut at a line end) accepted,
/// never panic.
pub fn truncations(reader: Reader) -> Result<u64, String> {
    let mut n = 0;
    for kind in 0..8u8 {
        let s = Seed {
            rows: 2,
            cols: 3,
            kind: kind * 37,
            seed: u64::from(kind),
        };
        let bytes = valid(reader, &s);
        for len in 0..bytes.len() {
            check(reader, &bytes[..len])?;
            n += 1;
        }
    }
    Ok(n)
}
