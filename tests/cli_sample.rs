//! End-to-end tests of `rbm sample`: the built binary is run as a process,
//! and its `.npy` output is parsed here independently of `nrelu_rbm::npy`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

mod cli_common;
use cli_common::*;

/// `rbm sample` arguments writing `count` samples of `unit` at `x`.
fn sample_args(unit: &str, x: &str, count: u64, seed: u64, out: &Path) -> Vec<String> {
    [
        "sample",
        "--unit",
        unit,
        "--x",
        x,
        "--count",
        &count.to_string(),
        "--seed",
        &seed.to_string(),
        "--out",
    ]
    .into_iter()
    .map(String::from)
    .chain([out.to_str().unwrap().to_owned()])
    .collect()
}

/// Parses a 1-D `<f4` `.npy` file by the format spec, checking every byte
/// of the header, and returns its data.
fn parse_npy_f32_1d(bytes: &[u8]) -> Vec<f32> {
    assert_eq!(&bytes[..6], b"\x93NUMPY", "magic");
    assert_eq!(&bytes[6..8], &[1, 0], "format version 1.0");
    let hlen = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    let data_start = 10 + hlen;
    assert_eq!(data_start % 64, 0, "data must start at a multiple of 64");
    let header = std::str::from_utf8(&bytes[10..data_start]).unwrap();
    assert!(header.ends_with('\n'), "{header:?}");
    let dict = header.trim_end_matches('\n').trim_end_matches(' ');
    let n = (bytes.len() - data_start) / 4;
    assert_eq!(
        dict,
        format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({n},), }}")
    );
    assert_eq!((bytes.len() - data_start) % 4, 0, "whole f32 elements");
    bytes[data_start..]
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

fn read_samples(path: &Path) -> Vec<f32> {
    parse_npy_f32_1d(&fs::read(path).unwrap())
}

#[test]
fn each_unit_writes_plausible_values() {
    let dir = tempfile::tempdir().unwrap();
    type Check = fn(f32) -> bool;
    let cases: [(&str, &str, Check); 6] = [
        ("bernoulli", "0", |v| v == 0.0 || v == 1.0),
        ("nrelu", "0.5", |v| v >= 0.0 && v.is_finite()),
        ("nrelu", "-0.5", |v| v >= 0.0 && v.is_finite()),
        ("ssu", "2.5", |v| v >= 0.0 && v == v.round()),
        ("binomial:1", "0", |v| v == 0.0 || v == 1.0),
        ("binomial:7", "-0.25", |v| {
            (0.0..=7.0).contains(&v) && v == v.round()
        }),
    ];
    for (unit, x, ok) in cases {
        let out = dir.path().join(format!("{unit}-{x}.npy"));
        // 1001: not a multiple of the 16-element random block.
        let o = rbm(sample_args(unit, x, 1001, 42, &out));
        assert_success(&o);
        let name = out.display();
        assert_eq!(
            stderr(&o),
            format!("wrote 1001 {unit} samples at x = {x} to {name}\n")
        );
        let v = read_samples(&out);
        assert_eq!(v.len(), 1001);
        assert!(v.iter().all(|&s| ok(s)), "{unit} at {x}: {:?}", &v[..20]);
        // Not constant: every one of these units is random at these x.
        assert!(v.iter().any(|&s| s != v[0]), "{unit} at {x} is constant");
    }
}

#[test]
fn sample_means_are_roughly_right() {
    // Loose sanity bounds (> 10 standard errors), not a statistical test.
    let dir = tempfile::tempdir().unwrap();
    let mean = |unit: &str, x: &str| {
        let out = dir.path().join("m.npy");
        assert_success(&rbm(sample_args(unit, x, 20_000, 3, &out)));
        let v = read_samples(&out);
        v.iter().map(|&s| f64::from(s)).sum::<f64>() / v.len() as f64
    };
    let sigmoid = |x: f64| 1.0 / (1.0 + (-x).exp());
    assert!((mean("bernoulli", "1") - sigmoid(1.0)).abs() < 0.04);
    assert!((mean("binomial:10", "-1") - 10.0 * sigmoid(-1.0)).abs() < 0.2);
    // SSU mean ≈ softplus(x) = ln(1 + e^x).
    assert!((mean("ssu", "3") - (1.0 + 3f64.exp()).ln()).abs() < 0.15);
    // NReLU at x = 4: the noise (variance σ(4) ≈ 0.98) barely hits zero.
    assert!((mean("nrelu", "4") - 4.0).abs() < 0.1);
}

#[test]
fn quiet_prints_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("q.npy");
    let mut args = sample_args("nrelu", "0", 10, 1, &out);
    args.push("--quiet".into());
    let o = rbm(&args);
    assert_success(&o);
    assert!(o.stderr.is_empty() && o.stdout.is_empty());
    assert_eq!(read_samples(&out).len(), 10);
}

#[test]
fn negative_x_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("neg.npy");
    assert_success(&rbm(sample_args("bernoulli", "-3.5", 64, 1, &out)));
    assert!(read_samples(&out).iter().all(|&v| v == 0.0 || v == 1.0));
}

#[test]
fn same_seed_same_bytes_other_seed_or_stream_differs() {
    let dir = tempfile::tempdir().unwrap();
    // 70,000 samples span two 65,536-element chunks.
    for unit in ["bernoulli", "nrelu", "ssu", "binomial:4"] {
        let path = |name: &str| dir.path().join(format!("{unit}-{name}.npy"));
        for (name, seed) in [("a", 9), ("b", 9), ("c", 10)] {
            assert_success(&rbm(sample_args(unit, "0.7", 70_000, seed, &path(name))));
        }
        let mut args = sample_args(unit, "0.7", 70_000, 9, &path("s"));
        args.extend(["--stream".into(), "1".into()]);
        assert_success(&rbm(&args));
        // Forcing the scalar kernel path must not change a single byte.
        let scalar = Command::new(env!("CARGO_BIN_EXE_rbm"))
            .args(sample_args(unit, "0.7", 70_000, 9, &path("scalar")))
            .env("NRELU_RBM_KERNEL", "scalar")
            .output()
            .unwrap();
        assert_success(&scalar);

        let a = fs::read(path("a")).unwrap();
        assert_eq!(a.len(), 128 + 4 * 70_000);
        assert_eq!(a, fs::read(path("b")).unwrap(), "{unit}: same seed");
        assert_eq!(a, fs::read(path("scalar")).unwrap(), "{unit}: scalar path");
        assert_ne!(a, fs::read(path("c")).unwrap(), "{unit}: other seed");
        assert_ne!(a, fs::read(path("s")).unwrap(), "{unit}: other stream");
    }
}

#[test]
fn shorter_file_is_a_prefix_of_a_longer_one() {
    let dir = tempfile::tempdir().unwrap();
    let long = dir.path().join("long.npy");
    let short = dir.path().join("short.npy");
    assert_success(&rbm(sample_args("nrelu", "0", 65_600, 5, &long)));
    assert_success(&rbm(sample_args("nrelu", "0", 65_537, 5, &short)));
    let (long, short) = (read_samples(&long), read_samples(&short));
    assert_eq!(short[..], long[..short.len()]);
}

#[test]
fn ten_million_samples_stream_to_disk() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("big.npy");
    let o = rbm(sample_args("bernoulli", "0.25", 10_000_000, 1, &out));
    assert_success(&o);
    assert_eq!(fs::metadata(&out).unwrap().len(), 128 + 40_000_000);
    let v = read_samples(&out);
    assert_eq!(v.len(), 10_000_000);
    assert!(v.iter().all(|&s| s == 0.0 || s == 1.0));
    assert_eq!(entries(dir.path()), [out], "no temporary file left behind");
}

#[test]
fn bad_arguments_fail_cleanly_and_create_nothing() {
    // (args after `sample`, expected exit code, text the message must hold)
    let cases: &[(&[&str], i32, &str)] = &[
        (&["--unit", "tanh"], 2, "bernoulli, nrelu, ssu, binomial:K"),
        (&["--unit", "binomial:0"], 2, "1..=65536"),
        (&["--unit", "binomial:65537"], 2, "1..=65536"),
        (&["--unit", "binomial:abc"], 2, "integer"),
        (&["--unit", "binomial"], 2, "binomial:K"),
        (&["--x", "nan"], 2, "finite"),
        (&["--x", "NaN"], 2, "finite"),
        (&["--x", "inf"], 2, "finite"),
        (&["--x", "-inf"], 2, "finite"),
        (&["--x", "1e39"], 2, "finite"),
        (&["--x", "abc"], 2, "--x"),
        (&["--count", "0"], 2, "at least 1"),
        (&["--count", "-5"], 2, "--count"),
        (&["--count", "1.5"], 2, "--count"),
        (&["--seed", "-1"], 2, "--seed"),
        (&["--stream", "x"], 2, "--stream"),
        (&["--bogus", "1"], 2, "--bogus"),
    ];
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.npy");
    for &(overrides, code, needle) in cases {
        // Start from a valid command line, then override one option.
        let mut args = sample_args("nrelu", "0.5", 100, 1, &out);
        for pair in overrides.chunks(2) {
            match args.iter().position(|a| a == pair[0]) {
                Some(i) => args[i + 1] = pair[1].to_owned(),
                None => args.extend(pair.iter().map(|s| s.to_string())),
            }
        }
        assert_fails(&args, code, needle);
        assert!(entries(dir.path()).is_empty(), "{args:?} created a file");

        // A file already at --out survives untouched.
        fs::write(&out, b"precious").unwrap();
        assert_fails(&args, code, needle);
        assert_eq!(fs::read(&out).unwrap(), b"precious", "{args:?}");
        assert_eq!(entries(dir.path()), std::slice::from_ref(&out));
        fs::remove_file(&out).unwrap();
    }
}

#[test]
fn missing_required_options_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.npy");
    let full = sample_args("ssu", "1", 10, 1, &out);
    for option in ["--unit", "--x", "--count", "--seed", "--out"] {
        let i = full.iter().position(|a| a == option).unwrap();
        let mut args = full.clone();
        args.drain(i..i + 2);
        let line = assert_fails(&args, 2, option);
        assert!(line.contains("required"), "{line}");
        assert!(entries(dir.path()).is_empty());
    }
    assert_fails(&[], 2, "subcommand");
    assert_fails(&["sample".into()], 2, "--unit <UNIT>");
}

#[test]
fn unwritable_outputs_fail_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plain-file");
    fs::write(&file, b"x").unwrap();
    let cases: Vec<(PathBuf, i32, &str)> = vec![
        (dir.path().join("no/such/dir/out.npy"), 2, "does not exist"),
        (file.join("out.npy"), 2, "not a directory"),
        (dir.path().to_owned(), 2, "is a directory"),
        (dir.path().join("sub/"), 2, "does not name a file"),
    ];
    for (out, code, needle) in cases {
        let line = assert_fails(&sample_args("nrelu", "0", 100, 1, &out), code, needle);
        assert!(!out.is_file(), "{line}");
    }
    assert_eq!(entries(dir.path()), std::slice::from_ref(&file));
    assert_eq!(fs::read(&file).unwrap(), b"x");

    // The kernel refuses new files in /proc: an I/O error, exit code 1.
    if cfg!(target_os = "linux") && Path::new("/proc/self").exists() {
        let out = Path::new("/proc/rbm-cli-test.npy");
        assert_fails(&sample_args("nrelu", "0", 100, 1, out), 1, "/proc");
        assert!(!out.exists());
    }
}

/// A FIFO (or a device: as root, `--out /dev/null` once replaced the
/// device with a regular file) is refused before anything is written, and
/// stays what it was.
#[cfg(unix)]
#[test]
fn special_files_are_not_replaced() {
    use std::os::unix::fs::FileTypeExt;
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo.npy");
    let made = Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("mkfifo is not available; skipping");
        return;
    }
    let line = assert_fails(
        &sample_args("nrelu", "0", 100, 1, &fifo),
        2,
        "is not a regular file",
    );
    assert!(
        fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo(),
        "{line}"
    );
    assert_eq!(entries(dir.path()), std::slice::from_ref(&fifo));
    // A symbolic link to a device is replaced, not followed.
    if Path::new("/dev/null").exists() {
        let link = dir.path().join("link.npy");
        std::os::unix::fs::symlink("/dev/null", &link).unwrap();
        assert_success(&rbm(sample_args("nrelu", "0", 10, 1, &link)));
        assert!(fs::symlink_metadata(&link).unwrap().is_file());
        assert!(
            fs::metadata("/dev/null")
                .unwrap()
                .file_type()
                .is_char_device()
        );
    }
}

#[test]
fn help_documents_exit_codes() {
    for args in [&["--help"][..], &["sample", "--help"]] {
        let o = rbm(args);
        assert_success(&o);
        let help = String::from_utf8(o.stdout).unwrap();
        assert!(help.contains("Exit status:"), "{help}");
        assert!(help.contains("1  I/O failure"), "{help}");
        assert!(help.contains("2  usage or input error"), "{help}");
    }
}
