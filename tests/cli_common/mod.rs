//! Helpers shared by the command-line tests: run the built `rbm` binary
//! and check its output.
#![allow(dead_code)] // each test binary uses its own subset

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Runs the `rbm` binary (on the default kernel path) and collects its output.
pub fn rbm<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    Command::new(env!("CARGO_BIN_EXE_rbm"))
        .args(args)
        .env_remove("NRELU_RBM_KERNEL")
        .output()
        .expect("cannot run the rbm binary")
}

/// Runs `rbm args` (on the default kernel path) with `input` on standard
/// input.
pub fn rbm_stdin(args: &[String], input: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rbm"))
        .args(args)
        .env_remove("NRELU_RBM_KERNEL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot run the rbm binary");
    let mut stdin = child.stdin.take().unwrap();
    // The child may stop reading early (an error): ignore a broken pipe.
    let _ = stdin.write_all(input);
    drop(stdin);
    child.wait_with_output().unwrap()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn assert_success(o: &Output) {
    assert!(
        o.status.success(),
        "status {:?}, stderr: {}",
        o.status,
        stderr(o)
    );
}

/// A path as an argument string.
pub fn s(p: &Path) -> String {
    p.to_str().unwrap().to_owned()
}

pub fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|a| a.to_string()).collect()
}

/// The sorted entries of a directory.
pub fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

/// Runs `rbm args` and asserts it fails with exit `code`, nothing on
/// stdout, and exactly one stderr line `error: ...` containing `needle`.
/// Returns that line.
pub fn assert_fails(args: &[String], code: i32, needle: &str) -> String {
    let o = rbm(args);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(code), "{args:?}: {err}");
    assert!(o.stdout.is_empty(), "{args:?}");
    assert!(err.starts_with("error: "), "{args:?}: {err}");
    assert!(
        err.ends_with('\n') && err.lines().count() == 1,
        "{args:?}: {err:?}"
    );
    assert!(err.contains(needle), "{args:?}: {err} lacks {needle:?}");
    err
}

/// `rbm transform --model model --out out extra...`.
pub fn transform(model: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut a = args(&["transform", "--model", &s(model), "--out", &s(out)]);
    a.extend(extra.iter().map(|x| x.to_string()));
    rbm(a)
}

/// Parses a 2-D `<f4` `.npy` file: (shape, data).
/// Parses a 2-D `<f4` `.npy` file by the format spec: (shape, data).
pub fn read_npy_2d(path: &Path) -> ((usize, usize), Vec<f32>) {
    let bytes = fs::read(path).unwrap();
    assert_eq!(&bytes[..8], b"\x93NUMPY\x01\x00");
    let hlen = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    let start = 10 + hlen;
    assert_eq!(start % 64, 0);
    let header = std::str::from_utf8(&bytes[10..start]).unwrap();
    let dict = header.trim_end();
    let prefix = "{'descr': '<f4', 'fortran_order': False, 'shape': (";
    assert!(dict.starts_with(prefix), "{dict}");
    let dims = &dict[prefix.len()..dict.find(")").unwrap()];
    let dims: Vec<usize> = dims.split(", ").map(|d| d.parse().unwrap()).collect();
    assert_eq!(dims.len(), 2, "{dict}");
    let data: Vec<f32> = bytes[start..]
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect();
    assert_eq!(data.len(), dims[0] * dims[1]);
    ((dims[0], dims[1]), data)
}
