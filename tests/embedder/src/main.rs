//! An outside crate embedding nrelu-rbm without its command line.
//!
//! It writes deterministic raw data (64 columns of integers 0..=16, like
//! the embedded digits) to a `.npy` file, has the `rbm` binary (path in the
//! environment variable `RBM_BIN`) train a model and a two-layer stack on
//! the embedded digits and `transform --data` that file, and checks that
//! the library's `Rbm::features`, `Rbm::features_into` and
//! `Stack::features` give the same bytes. Any failure, including a missing
//! `RBM_BIN`, is an error: the check never skips.
//!
//! `RBM_BIN=target/release/rbm cargo run --release --manifest-path tests/embedder/Cargo.toml`

use nrelu_rbm::{Rbm, Stack};
use std::error::Error;
use std::path::{Path, PathBuf};
use std::process::Command;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

const COLS: usize = 64;
const ROWS: usize = 333;

fn main() -> Result<()> {
    let bin = PathBuf::from(std::env::var_os("RBM_BIN").ok_or(
        "RBM_BIN is not set: it must name the rbm binary (cargo build --release --bin rbm)",
    )?);
    if !bin.is_file() {
        return Err(format!("RBM_BIN = {} is not a file", bin.display()).into());
    }
    let dir = std::env::temp_dir().join(format!("nrelu-rbm-embedder-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = check(&bin, &dir);
    std::fs::remove_dir_all(&dir)?;
    result
}

fn check(bin: &Path, dir: &Path) -> Result<()> {
    let raw: Vec<f32> = (0..ROWS * COLS)
        .map(|i| ((i * 7919 + i / COLS * 31) % 17) as f32)
        .collect();
    let data = dir.join("raw.npy");
    std::fs::write(&data, npy_bytes(&raw, ROWS, COLS))?;

    let model = dir.join("model.safetensors");
    let stack = dir.join("stack.safetensors");
    rbm(
        bin,
        &[
            "train", "-q", "--hidden", "30", "--epochs", "2", "--seed", "3",
        ],
        &model,
    )?;
    rbm(
        bin,
        &[
            "train", "-q", "--layers", "30,12", "--epochs", "2", "--seed", "4",
        ],
        &stack,
    )?;

    // One model: features, and features_into a reused buffer.
    let rbm_model = Rbm::load(&model)?;
    let want = transform(bin, &model, &data, dir)?;
    same(
        "Rbm::features",
        &rbm_model.features(&raw)?,
        &want,
        rbm_model.n_hidden(),
    )?;
    let mut out = vec![0.0; ROWS * rbm_model.n_hidden()];
    rbm_model.features_into(&raw, &mut out)?;
    same("Rbm::features_into", &out, &want, rbm_model.n_hidden())?;

    // A stack, and the single model read as a one-layer stack.
    let two = Stack::load(&stack)?;
    let want = transform(bin, &stack, &data, dir)?;
    same(
        "Stack::features",
        &two.features(&raw)?,
        &want,
        two.n_output(),
    )?;
    let mut out = vec![0.0; ROWS * two.n_output()];
    two.features_into(&raw, &mut out)?;
    same("Stack::features_into", &out, &want, two.n_output())?;
    let one = Stack::load(&model)?;
    let want = transform(bin, &model, &data, dir)?;
    same(
        "Stack::features (one layer)",
        &one.features(&raw)?,
        &want,
        one.n_output(),
    )?;

    println!(
        "embedder: Rbm::features, Rbm::features_into, Stack::features and \
         Stack::features_into equal rbm transform bit for bit ({ROWS} rows)"
    );
    Ok(())
}

/// Runs `rbm ARGS --out OUT` and fails on a non-zero status.
fn rbm(bin: &Path, args: &[&str], out: &Path) -> Result<()> {
    let o = Command::new(bin)
        .args(args)
        .arg("--out")
        .arg(out)
        .output()?;
    if !o.status.success() {
        return Err(format!(
            "rbm {args:?} failed ({}): {}",
            o.status,
            String::from_utf8_lossy(&o.stderr)
        )
        .into());
    }
    Ok(())
}

/// The bytes `rbm transform --model MODEL --data DATA` writes, as its
/// float32 values with the file's shape checked.
fn transform(bin: &Path, model: &Path, data: &Path, dir: &Path) -> Result<(Vec<usize>, Vec<u8>)> {
    let out = dir.join("features.npy");
    let (m, d) = (model.to_str().ok_or("path")?, data.to_str().ok_or("path")?);
    rbm(bin, &["transform", "-q", "--model", m, "--data", d], &out)?;
    read_npy(&std::fs::read(&out)?)
}

/// Compares `got` with the payload of the CLI's file, byte for byte.
fn same(what: &str, got: &[f32], want: &(Vec<usize>, Vec<u8>), width: usize) -> Result<()> {
    if want.0 != [ROWS, width] {
        return Err(format!(
            "{what}: rbm transform wrote shape {:?}, expected [{ROWS}, {width}]",
            want.0
        )
        .into());
    }
    let bytes: Vec<u8> = got.iter().flat_map(|v| v.to_le_bytes()).collect();
    match bytes.iter().zip(&want.1).position(|(a, b)| a != b) {
        None if bytes.len() == want.1.len() => Ok(()),
        None => Err(format!(
            "{what}: {} bytes, rbm transform wrote {}",
            bytes.len(),
            want.1.len()
        )
        .into()),
        Some(i) => Err(format!("{what}: value {} differs from rbm transform's", i / 4).into()),
    }
}

/// A 2-D little-endian float32 `.npy` file (format 1.0).
fn npy_bytes(values: &[f32], rows: usize, cols: usize) -> Vec<u8> {
    let mut header =
        format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, {cols}), }}");
    // Magic (6) + version (2) + length (2) + header + '\n', to a multiple of 64.
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend((header.len() as u16).to_le_bytes());
    out.extend(header.as_bytes());
    out.extend(values.iter().flat_map(|v| v.to_le_bytes()));
    out
}

/// The shape and the payload of a 2-D `<f4` `.npy` file (format 1.0).
fn read_npy(bytes: &[u8]) -> Result<(Vec<usize>, Vec<u8>)> {
    if bytes.len() < 10 || &bytes[..8] != b"\x93NUMPY\x01\x00" {
        return Err("not a version 1.0 .npy file".into());
    }
    let len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    let header = std::str::from_utf8(bytes.get(10..10 + len).ok_or("truncated header")?)?;
    if !header.contains("'descr': '<f4'") || !header.contains("'fortran_order': False") {
        return Err(format!("unexpected .npy header {header:?}").into());
    }
    let shape = header
        .split_once("'shape': (")
        .and_then(|(_, rest)| rest.split_once(')'))
        .ok_or("no shape in the .npy header")?
        .0
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::parse)
        .collect::<std::result::Result<Vec<usize>, _>>()?;
    Ok((shape, bytes[10 + len..].to_vec()))
}
