//! End-to-end tests of `rbm train` and `rbm transform`: the built binary
//! runs as a process; models are checked through `nrelu_rbm::model_io` and
//! `.npy` outputs are parsed here by the format's definition.

use nrelu_rbm::model_io;
use nrelu_rbm::units::{HiddenUnit, NreluMean};
use nrelu_rbm::{Rbm, VisibleUnit};
use std::fs;
use std::path::{Path, PathBuf};

mod cli_common;
use cli_common::*;

/// Fast training options: 2 epochs and 16 hidden units unless `extra`
/// sets them, quiet, then `extra`.
fn train_args(out: &Path, extra: &[&str]) -> Vec<String> {
    let mut a = args(&["train", "--quiet", "--out"]);
    a.push(s(out));
    for (option, value) in [("--epochs", "2"), ("--hidden", "16")] {
        if !extra.contains(&option) {
            a.extend(args(&[option, value]));
        }
    }
    a.extend(extra.iter().map(|x| x.to_string()));
    a
}

#[test]
fn default_training_on_the_embedded_digits() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m.safetensors");
    let o = rbm(train_args(&out, &[]));
    assert_success(&o);
    assert!(o.stderr.is_empty() && o.stdout.is_empty(), "--quiet");
    let m = model_io::load(&out).unwrap();
    assert_eq!((m.n_visible(), m.n_hidden()), (64, 16));
    assert_eq!(m.visible(), VisibleUnit::Bernoulli);
    assert_eq!(m.hidden(), HiddenUnit::Nrelu);
    // Pixels 0..=16 are mapped to [0, 1] by the stored input map.
    let map = m.standardization().unwrap();
    assert_eq!(
        (map.mean().to_vec(), map.std().to_vec()),
        (vec![0.0; 64], vec![16.0; 64])
    );
    assert_eq!(entries(dir.path()), [out], "no temporary file left");
}

#[test]
fn default_options_learn_the_digits() {
    // The full defaults (100 NReLU units, 20 epochs), with the log.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m.safetensors");
    let o = rbm(["train", "--out", &s(&out)]);
    assert_success(&o);
    let log = stderr(&o);
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 22, "{log}");
    assert!(
        lines[0]
            .starts_with("training 64 bernoulli visible -> 100 nrelu hidden units on 1797 rows"),
        "{log}"
    );
    assert!(lines[0].contains("UCI digits"), "{log}");
    let errors: Vec<f64> = lines[1..21]
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let head = format!("epoch {:>2}/20  reconstruction error ", i + 1);
            assert!(l.starts_with(&head), "{l}");
            assert!(l.ends_with(" s)"), "{l}");
            l[head.len()..]
                .split_whitespace()
                .next()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    assert_eq!(lines[21], format!("wrote model to {}", out.display()));
    // A clear drop: the last epoch's error is under half the first's.
    assert!(errors[19] < 0.5 * errors[0], "{errors:?}");

    // The model reconstructs digits well: mean squared error per pixel in
    // [0, 1] units.
    let m = model_io::load(&out).unwrap();
    let mut d = nrelu_rbm::data::Dataset::digits().into_values();
    m.standardization().unwrap().apply(&mut d).unwrap();
    let err = m.reconstruction_error(&d).unwrap();
    assert!(err < 0.04, "{err}");
}

#[test]
fn same_seed_gives_the_same_model_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let path = |n: &str| dir.path().join(n);
    for (name, extra) in [
        ("a", &["--seed", "5"][..]),
        ("b", &["--seed", "5", "--threads", "1"]),
        ("c", &["--seed", "6"]),
    ] {
        assert_success(&rbm(train_args(&path(name), extra)));
    }
    let a = fs::read(path("a")).unwrap();
    assert_eq!(
        a,
        fs::read(path("b")).unwrap(),
        "thread count must not matter"
    );
    assert_ne!(a, fs::read(path("c")).unwrap());
}

#[test]
fn gaussian_visible_units_and_options() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("g.safetensors");
    let extra = [
        "--visible",
        "gaussian",
        "--hidden-units",
        "binomial:3",
        "--pcd",
        "2",
        "--batch",
        "50",
        "--lr",
        "0.001",
        "--momentum",
        "0.9",
        "--weight-decay",
        "0",
    ];
    assert_success(&rbm(train_args(&out, &extra)));
    let m = model_io::load(&out).unwrap();
    assert_eq!(m.visible(), VisibleUnit::Gaussian);
    assert_eq!(m.hidden(), HiddenUnit::binomial_of::<3>());
    // The fitted standardisation of the digits: pixel 0 is always 0 (std 1),
    // pixel 20 varies.
    let map = m.standardization().unwrap();
    assert_eq!((map.mean()[0], map.std()[0]), (0.0, 1.0));
    assert!(map.mean()[20] > 1.0 && map.std()[20] > 1.0, "{map:?}");
}

/// 40 rows of 6 values in [0, 1] with a label, as CSV text.
fn small_csv(label: bool) -> String {
    let mut out = String::new();
    for r in 0..40 {
        let row: Vec<String> = (0..6)
            .map(|c| if (r + c) % 3 == 0 { "1" } else { "0.25" }.to_string())
            .chain(label.then(|| (r % 2).to_string()))
            .collect();
        out.push_str(&row.join(","));
        out.push('\n');
    }
    out
}

#[test]
fn csv_and_npy_input() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("d.csv");
    fs::write(&csv, small_csv(true)).unwrap();
    let out = dir.path().join("c.safetensors");
    assert_success(&rbm(train_args(
        &out,
        &["--data", &s(&csv), "--labels-last-column"],
    )));
    let m = model_io::load(&out).unwrap();
    assert_eq!(m.n_visible(), 6);
    assert!(
        m.standardization().is_none(),
        "Bernoulli data in [0, 1]: no map"
    );

    // Without --labels-last-column the label column is data: 7 columns.
    assert_success(&rbm(train_args(&out, &["--data", &s(&csv)])));
    assert_eq!(model_io::load(&out).unwrap().n_visible(), 7);

    // The same values as a float64 .npy file, Gaussian units.
    let values: Vec<f64> = small_csv(false)
        .split([',', '\n'])
        .filter(|x| !x.is_empty())
        .map(|x| x.parse().unwrap())
        .collect();
    let npy = dir.path().join("d.npy");
    let bytes = nrelu_rbm::npy::write_array(Vec::new(), &[40, 6], &values).unwrap();
    fs::write(&npy, bytes).unwrap();
    let out = dir.path().join("n.safetensors");
    assert_success(&rbm(train_args(
        &out,
        &["--data", &s(&npy), "--visible", "gaussian"],
    )));
    let m = model_io::load(&out).unwrap();
    assert_eq!(m.n_visible(), 6);
    assert!(m.standardization().is_some());
}

#[test]
fn bad_inputs_fail_cleanly_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    fs::create_dir(&data).unwrap();
    let header = data.join("header.csv");
    // A header row is read; the positions count its line.
    fs::write(&header, "a,b,c\n0,1,x\n").unwrap();
    let nan = data.join("nan.csv");
    fs::write(&nan, "0,1\n0.5,nan\n").unwrap();
    let range = data.join("range.csv");
    fs::write(&range, "0,1\n0.5,2\n").unwrap();
    let missing = data.join("missing.csv");
    let (h, n, r, m) = (s(&header), s(&nan), s(&range), s(&missing));

    let outdir = dir.path().join("out");
    fs::create_dir(&outdir).unwrap();
    let out = outdir.join("m.safetensors");
    let cases: Vec<(Vec<&str>, i32, &str)> = vec![
        (vec!["--hidden-units", "relu"], 2, "unknown unit 'relu'"),
        (vec!["--hidden-units", "binomial:0"], 2, "1..=65536"),
        (
            vec!["--visible", "poisson"],
            2,
            "expected bernoulli or gaussian",
        ),
        (
            vec!["--hidden", "0"],
            2,
            "--hidden <N>': must be at least 1",
        ),
        (vec!["--batch", "0"], 2, "--batch <B>': must be at least 1"),
        (
            vec!["--epochs", "0"],
            2,
            "--epochs <E>': must be at least 1",
        ),
        (vec!["--cd", "0"], 2, "--cd <K>': must be at least 1"),
        (vec!["--pcd", "0"], 2, "--pcd <K>': must be at least 1"),
        (
            vec!["--lr", "nan"],
            2,
            "--lr <F>': must be a finite number > 0",
        ),
        (vec!["--lr", "-1"], 2, "--lr <F>'"),
        (vec!["--momentum", "1"], 2, "must be a number in [0, 1)"),
        (vec!["--weight-decay", "inf"], 2, "--weight-decay <F>'"),
        (vec!["--cd", "1", "--pcd", "1"], 2, "cannot be used with"),
        (vec!["--labels-last-column"], 2, "--data"),
        (
            vec!["--data", &h],
            2,
            "line 2, column 3: \"x\" is not a number",
        ),
        (
            vec!["--data", &n],
            2,
            "row 2, column 2: \"nan\" is not finite",
        ),
        (
            vec!["--data", &r],
            2,
            "row 2, column 2: 2 is outside [0, 1]",
        ),
        (vec!["--data", &m], 2, "cannot read"),
        (
            vec!["--visible", "gaussian", "--lr", "10", "--epochs", "3"],
            2,
            "training diverged at epoch 1",
        ),
    ];
    for (extra, code, needle) in cases {
        let a = train_args(&out, &extra);
        let line = assert_fails(&a, code, needle);
        assert!(entries(&outdir).is_empty(), "{a:?} wrote something");
        if needle.starts_with("training diverged") {
            assert!(line.contains("lower --lr (it was 10)"), "{line}");
        }

        // A file already at --out survives untouched.
        fs::write(&out, b"precious").unwrap();
        assert_fails(&a, code, needle);
        assert_eq!(fs::read(&out).unwrap(), b"precious", "{a:?}");
        assert_eq!(entries(&outdir), std::slice::from_ref(&out));
        fs::remove_file(&out).unwrap();
    }
}

#[test]
fn unwritable_outputs_fail_before_training() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no/such/m.safetensors");
    assert_fails(&train_args(&missing, &[]), 2, "does not exist");
    assert_fails(&train_args(dir.path(), &[]), 2, "is a directory");
    if cfg!(target_os = "linux") && Path::new("/proc/self").exists() {
        let out = Path::new("/proc/rbm-train-test.safetensors");
        assert_fails(&train_args(out, &[]), 1, "cannot create files in '/proc'");
        assert!(!out.exists());
    }
    assert!(entries(dir.path()).is_empty());
}

/// Trains a small model into `dir` and returns its path.
fn small_model(dir: &Path, extra: &[&str]) -> PathBuf {
    let out = dir.join("model.safetensors");
    assert_success(&rbm(train_args(&out, extra)));
    out
}

#[test]
fn transform_writes_hidden_means_and_samples() {
    let dir = tempfile::tempdir().unwrap();
    let model = small_model(dir.path(), &["--hidden-units", "binomial:4"]);
    let m = model_io::load(&model).unwrap();

    let means = dir.path().join("means.npy");
    let o = transform(&model, &means, &[]);
    assert_success(&o);
    assert_eq!(
        stderr(&o),
        format!(
            "wrote 1797 x 16 hidden means (binomial:4 units) to {}\n",
            means.display()
        )
    );
    let (shape, h) = read_npy_2d(&means);
    assert_eq!(shape, (1797, 16));
    // Exactly the library's hidden means of the mapped digits.
    let mut d = nrelu_rbm::data::Dataset::digits().into_values();
    m.standardization().unwrap().apply(&mut d).unwrap();
    assert_eq!(h, m.hidden_means(&d).unwrap());
    assert!(h.iter().all(|&x| (0.0..=4.0).contains(&x)));
    let explicit = dir.path().join("means2.npy");
    assert_success(&transform(&model, &explicit, &["--mean", "--quiet"]));
    assert_eq!(fs::read(&means).unwrap(), fs::read(&explicit).unwrap());

    let sample = |name: &str, seed: &str| {
        let p = dir.path().join(name);
        assert_success(&transform(&model, &p, &["--sample", "--seed", seed, "-q"]));
        p
    };
    let (a, b, c) = (
        sample("a.npy", "3"),
        sample("b.npy", "3"),
        sample("c.npy", "4"),
    );
    let (shape, hs) = read_npy_2d(&a);
    assert_eq!(shape, (1797, 16));
    assert!(
        hs.iter()
            .all(|&x| x == x.round() && (0.0..=4.0).contains(&x))
    );
    assert_eq!(hs, m.hidden_samples(&d, 3).unwrap());
    assert_eq!(
        fs::read(&a).unwrap(),
        fs::read(&b).unwrap(),
        "same seed, same bytes"
    );
    assert_ne!(fs::read(&a).unwrap(), fs::read(&c).unwrap());
    // --sample without --seed uses seed 0.
    let zero = dir.path().join("zero.npy");
    assert_success(&transform(&model, &zero, &["--sample", "-q"]));
    assert_eq!(read_npy_2d(&zero).1, m.hidden_samples(&d, 0).unwrap());
}

#[test]
fn transform_of_own_data_applies_the_stored_map() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("d.csv");
    fs::write(&csv, small_csv(true)).unwrap();
    let model = small_model(
        dir.path(),
        &[
            "--data",
            &s(&csv),
            "--labels-last-column",
            "--visible",
            "gaussian",
        ],
    );
    let m: Rbm = model_io::load(&model).unwrap();
    let out = dir.path().join("h.npy");
    assert_success(&transform(
        &model,
        &out,
        &["--data", &s(&csv), "--labels-last-column", "-q"],
    ));
    let (shape, h) = read_npy_2d(&out);
    assert_eq!(shape, (40, 16));
    let mut d = nrelu_rbm::data::Dataset::load(&csv, true)
        .unwrap()
        .into_values();
    m.standardization().unwrap().apply(&mut d).unwrap();
    assert_eq!(h, m.hidden_means(&d).unwrap());
    assert!(h.iter().all(|&x| x >= 0.0), "NReLU means are max(0, x)");
}

#[test]
fn transform_errors() {
    let dir = tempfile::tempdir().unwrap();
    let model = small_model(dir.path(), &[]);
    let csv = dir.path().join("d.csv");
    fs::write(&csv, small_csv(false)).unwrap();
    let broken = dir.path().join("broken.safetensors");
    let bytes = fs::read(&model).unwrap();
    fs::write(&broken, &bytes[..bytes.len() / 2]).unwrap();
    let outdir = dir.path().join("out");
    fs::create_dir(&outdir).unwrap();
    let out = outdir.join("h.npy");
    let (c, b) = (s(&csv), s(&broken));
    let cases: Vec<(Option<&str>, Vec<&str>, i32, &str)> = vec![
        (
            None,
            vec!["--data", &c],
            2,
            "shape mismatch: the data has 6 columns but the model has 64 visible units",
        ),
        (Some(&b), vec![], 2, "invalid model"),
        (
            Some("missing.safetensors"),
            vec![],
            2,
            "cannot read 'missing.safetensors'",
        ),
        (None, vec!["--mean", "--sample"], 2, "cannot be used with"),
        (None, vec!["--seed", "1"], 2, "--sample"),
        (None, vec!["--labels-last-column"], 2, "--data"),
    ];
    for (model_arg, extra, code, needle) in cases {
        let model_path = model_arg.map_or(model.clone(), PathBuf::from);
        let mut a = args(&["transform", "--model", &s(&model_path), "--out", &s(&out)]);
        a.extend(extra.iter().map(|x| x.to_string()));
        assert_fails(&a, code, needle);
        assert!(entries(&outdir).is_empty(), "{a:?}");
        fs::write(&out, b"precious").unwrap();
        assert_fails(&a, code, needle);
        assert_eq!(fs::read(&out).unwrap(), b"precious");
        fs::remove_file(&out).unwrap();
    }
    // Missing output directory; an output in /proc is an I/O error.
    let a = args(&[
        "transform",
        "--model",
        &s(&model),
        "--out",
        &s(&dir.path().join("no/h.npy")),
    ]);
    assert_fails(&a, 2, "does not exist");
    if cfg!(target_os = "linux") && Path::new("/proc/self").exists() {
        let a = args(&[
            "transform",
            "--model",
            &s(&model),
            "--out",
            "/proc/rbm-transform.npy",
        ]);
        assert_fails(&a, 1, "/proc");
    }
}

#[test]
fn help_lists_the_new_subcommands() {
    let o = rbm(["--help"]);
    assert_success(&o);
    let help = String::from_utf8(o.stdout).unwrap();
    assert!(
        help.contains("train") && help.contains("transform"),
        "{help}"
    );
    for sub in ["train", "transform"] {
        let o = rbm([sub, "--help"]);
        assert_success(&o);
        let help = String::from_utf8(o.stdout).unwrap();
        assert!(help.contains("Exit status:"), "{help}");
    }
    let o = rbm(["train", "--help"]);
    let help = String::from_utf8(o.stdout).unwrap();
    for default in [
        "[default: 20]",
        "[default: 100]",
        "[default: nrelu]",
        "[default: model.safetensors]",
    ] {
        assert!(help.contains(default), "{default}: {help}");
    }
}

#[test]
fn the_ssu_mean_of_nrelu_units_is_trained_stored_and_read_out() {
    let dir = tempfile::tempdir().unwrap();
    let relu = small_model(dir.path(), &[]);
    let ssu_path = dir.path().join("ssu.safetensors");
    assert_success(&rbm(train_args(&ssu_path, &["--nrelu-mean", "ssu"])));
    let ssu = model_io::load(&ssu_path).unwrap();
    assert_eq!(ssu.nrelu_mean(), NreluMean::Ssu);
    assert_eq!(model_io::load(&relu).unwrap().nrelu_mean(), NreluMean::Relu);
    // The rule changes training, not just the readout.
    assert_ne!(fs::read(&relu).unwrap(), fs::read(&ssu_path).unwrap());

    let means = dir.path().join("means.npy");
    let o = transform(&ssu_path, &means, &[]);
    assert_success(&o);
    assert!(
        stderr(&o).contains("hidden means (nrelu units, mean ssu)"),
        "{}",
        stderr(&o)
    );
    let mut d = nrelu_rbm::data::Dataset::digits().into_values();
    ssu.standardization().unwrap().apply(&mut d).unwrap();
    assert_eq!(read_npy_2d(&means).1, ssu.hidden_means(&d).unwrap());
    // SSU means are positive everywhere; max(0, x) is zero below zero.
    assert!(read_npy_2d(&means).1.iter().all(|&h| h > 0.0));

    let out = dir.path().join("refused.safetensors");
    let line = assert_fails(
        &train_args(
            &out,
            &["--hidden-units", "bernoulli", "--nrelu-mean", "ssu"],
        ),
        2,
        "--nrelu-mean ssu applies to nrelu hidden units only (--hidden-units is bernoulli)",
    );
    assert!(!out.exists(), "{line}");
    assert_fails(
        &train_args(&out, &["--nrelu-mean", "softplus"]),
        2,
        "unknown NReLU mean 'softplus' (valid means: relu, ssu)",
    );
}
