//! Pinned outputs: the SHA-256 of the files that `rbm train`, `rbm
//! transform` and `rbm sample` write for fixed options and seeds.
//!
//! A change to any random stream, kernel, product order or file layout
//! shows up here as a changed hash, so it is a visible decision rather
//! than an accident (as in rand's `value_stability` tests). The models are
//! trained on the embedded digits for every hidden unit type on one and two
//! threads (which must give the same bytes), with CD-2, PCD-2 and Gaussian
//! visible units, and as a two-layer stack; the samples cover every unit.
//! Every kernel path gives the same bytes, so the test runs on the default
//! path and again with the scalar path forced.

mod cli_common;

use cli_common::{assert_success, s};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::process::Command;

/// (output file, arguments after the subcommand; `{dir}` is the output
/// directory, and `--out {dir}/{file}` is added), expected SHA-256.
const CASES: &[(&str, &str, &str)] = &[
    (
        "train-bernoulli-t1.safetensors",
        "train --hidden-units bernoulli --threads 1",
        "eb420a6b3156cba2865820f499353f22e2e48cd9d89d23f14fb4fb73b7429a9a",
    ),
    (
        "train-bernoulli-t2.safetensors",
        "train --hidden-units bernoulli --threads 2",
        "eb420a6b3156cba2865820f499353f22e2e48cd9d89d23f14fb4fb73b7429a9a",
    ),
    (
        "train-nrelu-t1.safetensors",
        "train --hidden-units nrelu --threads 1",
        "86347903b3c1b953a60538aca828365a9858a152c42eb21327abf2fc9c2d3f14",
    ),
    (
        "train-nrelu-t2.safetensors",
        "train --hidden-units nrelu --threads 2",
        "86347903b3c1b953a60538aca828365a9858a152c42eb21327abf2fc9c2d3f14",
    ),
    (
        "train-ssu-t1.safetensors",
        "train --hidden-units ssu --threads 1",
        "8f683154fb018983a600f042e74f45087f7abe16d710cce6c36ee1b22c63da4c",
    ),
    (
        "train-ssu-t2.safetensors",
        "train --hidden-units ssu --threads 2",
        "8f683154fb018983a600f042e74f45087f7abe16d710cce6c36ee1b22c63da4c",
    ),
    (
        "train-nrelu-ssu-mean-t2.safetensors",
        "train --nrelu-mean ssu --threads 2",
        "b68dc1743ebcd2643ee50aa8a1dcd9ca17dcb36f9fc213f0baa5a42ac99fef00",
    ),
    (
        "train-binomial3-t1.safetensors",
        "train --hidden-units binomial:3 --threads 1",
        "5e7fb26dc0fa8f2be0f269c8bae7204a0c86feecd4f79b07052934a2139ba4d8",
    ),
    (
        "train-binomial3-t2.safetensors",
        "train --hidden-units binomial:3 --threads 2",
        "5e7fb26dc0fa8f2be0f269c8bae7204a0c86feecd4f79b07052934a2139ba4d8",
    ),
    (
        "train-cd2.safetensors",
        "train --cd 2 --momentum 0 --threads 2",
        "5ccf86e4318b2ca220daffa5772d571dbf8ad03bc20103037cf36d2eb5ccabcf",
    ),
    (
        "train-pcd.safetensors",
        "train --pcd 2 --threads 2",
        "90bcb21ff4da5e50bf1baaff96e3acaaee4d936fefda6428eeb8da0e5204ccee",
    ),
    (
        "train-gaussian.safetensors",
        "train --visible gaussian --threads 2",
        "52d8a8e2e0c6be0080315a608a228d9cda102c9e0d72ef31a58ded2d6e63073f",
    ),
    (
        "stack.safetensors",
        "train --epochs 2 --layers 30,20 --seed 3 --threads 2",
        "99123ff8c5749ed78e8724e94e90afb151445ff9019b52b21b7b884e3556b4b7",
    ),
    (
        "transform-nrelu.npy",
        "transform --model {dir}/train-nrelu-t1.safetensors",
        "c95fad6eecddeb5698d62dbb45dfd61c7c1364d9895a50cf73abed43484c48b9",
    ),
    (
        "transform-gaussian.npy",
        "transform --model {dir}/train-gaussian.safetensors",
        "5ef571892cddb8c8722dd1a5d4d4f8794d572045d1299dafcf69d6eca7e7f8cb",
    ),
    (
        "transform-stack.npy",
        "transform --model {dir}/stack.safetensors",
        "553147bc46bb966fe5c3e2dd34bc21158a0435f4adf2ca898c78a5ca5ec85637",
    ),
    (
        "transform-ssu-sample.npy",
        "transform --model {dir}/train-ssu-t1.safetensors --sample --seed 4",
        "bf5dfe9437152c94c28bbf603ce7b701206ab629f610785f4c1e8d9f2c152c52",
    ),
    (
        "sample-bernoulli.npy",
        "sample --unit bernoulli --x 0.7 --count 5000 --seed 9",
        "01cabcf25426922619e5af2c0d7b6c5f1056b931a2df2503aa2614a56134aeec",
    ),
    (
        "sample-nrelu.npy",
        "sample --unit nrelu --x 0.7 --count 5000 --seed 9",
        "a49457938ebd9ef614f3e911ead2af7ee597281b2a22803f2fbaaa60a32b8551",
    ),
    (
        "sample-ssu.npy",
        "sample --unit ssu --x 0.7 --count 5000 --seed 9",
        "5dd37f5d549d36fe1d5b8ff399c87a33d3745ac94be39686dffd9f1c4a7a9f04",
    ),
    (
        "sample-binomial5.npy",
        "sample --unit binomial:5 --x 0.7 --count 5000 --seed 9",
        "3e9b37364049d54327ca484f95d5a78793310d9213464bfec462a7ddb8166388",
    ),
];

/// Options every single-model `train` case shares.
const TRAIN: &str = "--epochs 4 --hidden 100 --seed 5";

fn sha256_hex(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Runs every case in order with `NRELU_RBM_KERNEL` set to `path` (or
/// unset) and returns the cases whose hash differs, as readable lines.
fn mismatches(kernel_path: Option<&str>) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let d = s(dir.path());
    let mut bad = Vec::new();
    for &(file, args, want) in CASES {
        let mut argv: Vec<String> = args
            .replace("{dir}", &d)
            .split(' ')
            .map(String::from)
            .collect();
        if argv[0] == "train" && !args.contains("--layers") {
            argv.extend(TRAIN.split(' ').map(String::from));
        }
        argv.extend(["-q".into(), "--out".into(), format!("{d}/{file}")]);
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_rbm"));
        cmd.args(&argv);
        match kernel_path {
            Some(p) => cmd.env("NRELU_RBM_KERNEL", p),
            None => cmd.env_remove("NRELU_RBM_KERNEL"),
        };
        let out = cmd.output().expect("cannot run the rbm binary");
        assert_success(&out);
        let got = sha256_hex(&dir.path().join(file));
        if got != want {
            bad.push(format!("{file} (rbm {args}): got {got}, pinned {want}"));
        }
    }
    bad
}

#[test]
fn outputs_match_their_pinned_hashes_on_the_default_path() {
    let bad = mismatches(None);
    assert!(bad.is_empty(), "changed outputs:\n{}", bad.join("\n"));
}

#[test]
fn outputs_match_their_pinned_hashes_on_the_scalar_path() {
    let bad = mismatches(Some("scalar"));
    assert!(bad.is_empty(), "changed outputs:\n{}", bad.join("\n"));
}

/// The companion: the hash check does see a change of one option.
#[test]
fn a_different_seed_changes_the_hash() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m.safetensors");
    let mut argv: Vec<String> = "train --hidden-units nrelu --threads 1"
        .split(' ')
        .map(String::from)
        .collect();
    argv.extend(
        TRAIN
            .replace("--seed 5", "--seed 6")
            .split(' ')
            .map(String::from),
    );
    argv.extend(["-q".into(), "--out".into(), s(&out)]);
    assert_success(&cli_common::rbm(&argv));
    let pinned = CASES
        .iter()
        .find(|c| c.0 == "train-nrelu-t1.safetensors")
        .unwrap()
        .2;
    assert_ne!(sha256_hex(&out), pinned);
}
