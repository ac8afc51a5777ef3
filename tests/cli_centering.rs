//! `rbm train --centering` and `--pt`: end to end through the binary.

use nrelu_rbm::model_io;
use std::fs;

mod cli_common;
use cli_common::*;

#[test]
fn centring_and_tempering_train_and_report() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m.safetensors");
    let mut a = args(&[
        "train",
        "--epochs",
        "2",
        "--hidden",
        "16",
        "--hidden-units",
        "bernoulli",
        "--pcd",
        "1",
        "--pt",
        "3",
        "--centering",
        "--threads",
        "1",
        "--out",
    ]);
    a.push(s(&out));
    let o = rbm(&a);
    assert_success(&o);
    let err = stderr(&o);
    // Two acceptance rates (β₁↔β₂, β₂↔β₃) at the end of every epoch line.
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("epoch")).collect();
    assert_eq!(lines.len(), 2, "{err}");
    for l in lines {
        let rates: Vec<f64> = l
            .split("swaps accepted")
            .nth(1)
            .unwrap_or_else(|| panic!("{l}"))
            .split_whitespace()
            .map(|x| x.parse().unwrap())
            .collect();
        assert_eq!(rates.len(), 2, "{l}");
        assert!(rates.iter().all(|r| (0.0..=1.0).contains(r)), "{l}");
    }
    let one = fs::read(&out).unwrap();
    // The same model on two threads; a rate given explicitly.
    let out2 = dir.path().join("m2.safetensors");
    let mut b = a.clone();
    let n = b.len();
    b[n - 1] = s(&out2);
    let t = b.iter().position(|x| x == "--threads").unwrap();
    b[t + 1] = "2".into();
    assert_success(&rbm(&b));
    assert_eq!(one, fs::read(&out2).unwrap(), "thread-independent");
    let m = model_io::load(&out).unwrap();
    assert!(m.weights().iter().all(|w| w.is_finite()));

    let out3 = dir.path().join("m3.safetensors");
    let mut c = args(&[
        "train",
        "--epochs",
        "1",
        "--hidden",
        "8",
        "--centering",
        "0.1",
        "--quiet",
        "--out",
    ]);
    c.push(s(&out3));
    assert_success(&rbm(&c));
}

#[test]
fn bad_centring_and_tempering_options_fail_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = s(&dir.path().join("m.safetensors"));
    for (extra, needle) in [
        (vec!["--centering", "0"], "--centering"),
        (vec!["--centering", "1.5"], "--centering"),
        (vec!["--pt", "2"], "--pcd"),
        (vec!["--pcd", "1", "--pt", "0"], "--pt"),
        (
            vec!["--pcd", "1", "--pt", "2"],
            "Bernoulli or binomial hidden units",
        ),
    ] {
        let mut a = args(&["train", "--epochs", "1", "--out", &out]);
        a.extend(extra.iter().map(|x| x.to_string()));
        assert_fails(&a, 2, needle);
    }
    assert!(entries(dir.path()).is_empty(), "nothing written");
}
