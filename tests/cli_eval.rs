//! End-to-end tests of `rbm eval`: the built binary runs as a process and
//! its numbers are compared with the library's (`nrelu_rbm::likelihood`)
//! on the same model and data.

use nrelu_rbm::data::Dataset;
use nrelu_rbm::likelihood::{
    AisConfig, ais, average_log_likelihood, base_rate_bias, default_schedule, exact_log_z,
    pseudo_log_likelihood, reverse_ais,
};
use nrelu_rbm::units::HiddenUnit;
use nrelu_rbm::{Rbm, model_io};
use serde_json::Value;
use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

mod cli_common;
use cli_common::*;

/// Trains a quiet 2-epoch model into `dir/name`.
fn train(dir: &Path, name: &str, extra: &[&str]) -> PathBuf {
    let out = dir.join(name);
    let mut a = vec!["train", "--quiet", "--epochs", "2"];
    let o = out.to_str().unwrap();
    a.extend(["--out", o]);
    a.extend(extra);
    assert_success(&rbm(&a));
    out
}

/// Runs `rbm eval --model M --json EXTRA` and parses stdout.
fn eval_json(model: &Path, extra: &[&str]) -> (Value, Output) {
    let mut a = vec!["eval".to_owned(), "--model".to_owned(), s(model)];
    a.push("--json".to_owned());
    a.extend(extra.iter().map(|x| x.to_string()));
    let o = rbm(&a);
    assert_success(&o);
    let text = stdout(&o);
    assert_eq!(text.lines().count(), 1, "one line of JSON: {text}");
    let v: Value = serde_json::from_str(&text).expect("valid JSON");
    (v, o)
}

/// The embedded digits through the model's map.
fn mapped_digits(m: &Rbm) -> Vec<f32> {
    let mut d = Dataset::digits().into_values();
    m.standardization().unwrap().apply(&mut d).unwrap();
    d
}

fn binarized(v: &[f32], t: f32) -> Vec<f32> {
    v.iter().map(|&x| if x > t { 1.0 } else { 0.0 }).collect()
}

/// `a == b` up to the last bits: serde_json's default float parser is not
/// always correctly rounded (off by an ulp at most).
#[track_caller]
fn assert_close(a: f64, b: f64) {
    assert!(
        (a - b).abs() <= 4.0 * f64::EPSILON * a.abs().max(b.abs()),
        "{a} != {b}"
    );
}

/// The stepped sigmoid model with the parameters of `m` (what `--as-ssu`
/// evaluates).
fn as_ssu(m: &Rbm) -> Rbm {
    Rbm::from_parts(
        m.visible(),
        HiddenUnit::Ssu,
        m.weights().to_vec(),
        m.visible_bias().to_vec(),
        m.hidden_bias().to_vec(),
        None,
    )
    .unwrap()
}

/// Asserts that the `--json` object `v` holds the library's numbers for
/// `m` with an enumerated log Z: log Z, the pseudo- and average
/// log-likelihoods of the binary data `b`, and the reconstruction error of
/// the mapped data `x`. Returns log Z.
#[track_caller]
fn assert_exact_measures(v: &Value, m: &Rbm, b: &[f32], x: &[f32]) -> f64 {
    assert_eq!(v["method"], "exact");
    let (log_z, _) = exact_log_z(m, 0).unwrap();
    assert_close(f(v, "log_z"), log_z);
    assert_close(
        f(v, "pseudo_log_likelihood"),
        pseudo_log_likelihood(m, b).unwrap(),
    );
    assert_close(
        f(v, "avg_log_likelihood"),
        average_log_likelihood(m, b, log_z).unwrap(),
    );
    assert_close(
        f(v, "reconstruction_error"),
        m.reconstruction_error(x).unwrap(),
    );
    log_z
}

/// Asserts that `v` holds the library's reverse AIS log Z of `m` (from the
/// base rates `base`, data `b` and `cfg`) and the average log-likelihood
/// of `b` with it.
#[track_caller]
fn assert_reverse_ais(v: &Value, m: &Rbm, base: &[f32], b: &[f32], cfg: &AisConfig) {
    let rev = reverse_ais(m, base, b, cfg).unwrap();
    assert_close(f(v, "log_z_reverse"), rev.log_z);
    assert_close(
        f(v, "avg_log_likelihood_reverse"),
        average_log_likelihood(m, b, rev.log_z).unwrap(),
    );
}

/// Runs `rbm eval --model M EXTRA` and returns its table (stdout).
fn eval_table(model: &Path, extra: &[&str]) -> String {
    let mut a = vec!["eval", "--model", model.to_str().unwrap()];
    a.extend(extra);
    let o = rbm(&a);
    assert_success(&o);
    stdout(&o)
}

fn f(v: &Value, key: &str) -> f64 {
    v[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} is not a number: {v}"))
}

const KEYS: [&str; 17] = [
    "method",
    "log_z",
    "log_z_std",
    "log_z_lower",
    "log_z_upper",
    "log_z_reverse",
    "ais_runs",
    "ais_betas",
    "avg_log_likelihood",
    "avg_log_likelihood_reverse",
    "pseudo_log_likelihood",
    "reconstruction_error",
    "rows",
    "binarize",
    "visible",
    "hidden",
    "notes",
];

fn assert_keys(v: &Value) {
    let got: BTreeSet<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    let want: BTreeSet<&str> = KEYS.into_iter().collect();
    assert_eq!(got, want, "the documented --json keys, exactly");
}

#[test]
fn exact_log_z_on_a_small_hidden_layer_matches_the_library() {
    let dir = tempfile::tempdir().unwrap();
    let model = train(
        dir.path(),
        "b16.safetensors",
        &["--hidden-units", "bernoulli", "--hidden", "16"],
    );
    let (v, o) = eval_json(&model, &[]);
    assert_keys(&v);
    assert_eq!(v["rows"], 1797);
    assert_eq!(v["binarize"], 0.5, "the digits are not binary: default 0.5");
    assert_eq!(
        (v["visible"].as_str(), v["hidden"].as_str()),
        (Some("bernoulli"), Some("bernoulli"))
    );
    assert!(
        stderr(&o).starts_with("note: the data are not binary"),
        "{}",
        stderr(&o)
    );

    let m = model_io::load(&model).unwrap();
    let x = mapped_digits(&m);
    let b = binarized(&x, 0.5);
    // The reconstruction error on the mapped data, not binarised.
    let log_z = assert_exact_measures(&v, &m, &b, &x);
    assert_close(f(&v, "log_z_std"), 0.0);
    assert_close(f(&v, "log_z_lower"), log_z);
    assert_close(f(&v, "log_z_upper"), log_z);
    assert_eq!(
        (v["ais_runs"].clone(), v["ais_betas"].clone()),
        (Value::Null, Value::Null)
    );
    assert!(f(&v, "avg_log_likelihood") < 0.0);
    assert!(f(&v, "pseudo_log_likelihood") < 0.0);

    // An explicit threshold; --quiet drops the note.
    let (w, o) = eval_json(&model, &["--binarize", "0.25", "--quiet"]);
    assert!(o.stderr.is_empty());
    assert_eq!(w["binarize"], 0.25);
    let b = binarized(&x, 0.25);
    assert_close(
        f(&w, "avg_log_likelihood"),
        average_log_likelihood(&m, &b, log_z).unwrap(),
    );
    assert_eq!(w["notes"], serde_json::json!([]));

    // The human table: aligned, with the same numbers.
    let o = rbm(["eval", "--model", &s(&model)]);
    assert_success(&o);
    assert!(
        o.stderr.is_empty(),
        "the table row is the note: {}",
        stderr(&o)
    );
    let table = stdout(&o);
    assert!(table.starts_with(&format!(
        "model '{}': 64 bernoulli visible x 16 bernoulli hidden units; data: 1797 rows of the embedded UCI digits\n\n",
        model.display()
    )), "{table}");
    let rows: Vec<&str> = table.lines().skip(2).collect();
    let labels = [
        "reconstruction error",
        "binarised at",
        "pseudo-log-likelihood",
        "log Z",
        "avg log-likelihood",
    ];
    assert_eq!(rows.len(), labels.len(), "{table}");
    let value_end: Vec<usize> = rows
        .iter()
        .zip(labels)
        .map(|(r, l)| {
            assert!(r.starts_with(&format!("  {l} ")), "{r}");
            let after = r[2 + 21..].trim_start();
            r.len() - after.len() + after.find(' ').unwrap()
        })
        .collect();
    assert!(value_end.iter().all(|&e| e == value_end[0]), "{table}");
    assert!(rows[3].contains(&format!("{log_z:.6}")), "{table}");
    assert!(rows[3].contains("exact: enumerated the 2^16 states of the hidden layer"));
}

#[test]
fn ais_on_a_wide_model_gives_a_band_and_does_not_depend_on_threads() {
    let dir = tempfile::tempdir().unwrap();
    let model = train(
        dir.path(),
        "b25.safetensors",
        &["--hidden-units", "bernoulli", "--hidden", "25"],
    );
    let extra = [
        "--ais-runs",
        "16",
        "--ais-betas",
        "200",
        "--seed",
        "3",
        "-q",
    ];
    let (v, o) = eval_json(&model, &extra);
    assert_keys(&v);
    assert_eq!(v["method"], "ais");
    assert_eq!(
        (v["ais_runs"].as_u64(), v["ais_betas"].as_u64()),
        (Some(16), Some(200))
    );
    let (z, lo, hi) = (f(&v, "log_z"), f(&v, "log_z_lower"), f(&v, "log_z_upper"));
    assert!(lo < z && z < hi, "{lo} {z} {hi}");
    assert!(f(&v, "log_z_std") > 0.0);

    // Exactly the library's estimate with the same settings.
    let m = model_io::load(&model).unwrap();
    let b = binarized(&mapped_digits(&m), 0.5);
    let cfg = AisConfig::new(3)
        .with_runs(16)
        .with_betas(default_schedule(200))
        .with_threads(1);
    let est = ais(&m, &base_rate_bias(&b, 64).unwrap(), &cfg).unwrap();
    assert_close(z, est.log_z);
    assert_close(f(&v, "log_z_std"), est.log_z_std);
    assert_close(lo, est.log_z_lower);
    assert_close(hi, est.log_z_upper);
    assert_close(
        f(&v, "avg_log_likelihood"),
        average_log_likelihood(&m, &b, est.log_z).unwrap(),
    );
    // Reverse AIS: 64 visible and 25 hidden units cannot be enumerated,
    // so it starts from chains run 1000 sweeps from the data.
    assert_reverse_ais(&v, &m, &base_rate_bias(&b, 64).unwrap(), &b, &cfg);

    let mut one = extra.to_vec();
    one.extend(["--threads", "1"]);
    let (_, o1) = eval_json(&model, &one);
    assert_eq!(o.stdout, o1.stdout, "same bytes on 1 thread");

    // The table shows the estimate, its standard error and band.
    let table = eval_table(&model, &extra);
    assert!(
        table.contains("AIS estimate: 16 runs, 200 temperatures"),
        "{table}"
    );
    assert!(table.contains("log Z std"), "{table}");
    assert!(table.contains(&format!("[{lo:.6}, {hi:.6}]")), "{table}");
    assert!(table.contains("log Z (reverse)"), "{table}");
    assert!(table.contains("1000 sweeps from the data"), "{table}");

    // --method exact cannot enumerate this model: one line, exit 2.
    let a: Vec<String> = ["eval", "--model", &s(&model), "--method", "exact"]
        .map(String::from)
        .to_vec();
    assert_fails(
        &a,
        2,
        "--method exact: this model (64 visible x 25 bernoulli hidden units) has no layer that \
         can be enumerated",
    );
}

#[test]
fn nrelu_model_on_the_digits_gets_log_z_from_both_sides_as_ssu() {
    // 64 visible units and NReLU hidden ones: evaluated as the SSU model
    // with the same parameters, log Z comes from forward and reverse AIS.
    let dir = tempfile::tempdir().unwrap();
    let model = train(dir.path(), "n.safetensors", &["--hidden", "16"]);
    let extra = [
        "--as-ssu",
        "--ais-runs",
        "16",
        "--ais-betas",
        "300",
        "--ais-burn-in",
        "50",
        "--seed",
        "5",
        "-q",
    ];
    let (v, _) = eval_json(&model, &extra);
    assert_keys(&v);
    assert_eq!(
        (v["method"].as_str(), v["hidden"].as_str()),
        (Some("ais"), Some("ssu"))
    );
    let m = model_io::load(&model).unwrap();
    let ssu = as_ssu(&m);
    let b = binarized(&mapped_digits(&m), 0.5);
    let base = base_rate_bias(&b, 64).unwrap();
    let cfg = AisConfig::new(5)
        .with_runs(16)
        .with_betas(default_schedule(300))
        .with_burn_in(50)
        .with_threads(1);
    assert_close(f(&v, "log_z"), ais(&ssu, &base, &cfg).unwrap().log_z);
    assert_reverse_ais(&v, &ssu, &base, &b, &cfg);
}

#[test]
fn method_ais_is_forced_on_a_small_model_and_starts_from_exact_samples() {
    let dir = tempfile::tempdir().unwrap();
    let model = train(
        dir.path(),
        "b.safetensors",
        &["--hidden-units", "bernoulli", "--hidden", "6"],
    );
    let (v, _) = eval_json(&model, &["-q"]);
    assert_eq!(v["method"], "exact");
    assert_eq!(v["log_z_reverse"], Value::Null);
    assert_eq!(v["avg_log_likelihood_reverse"], Value::Null);
    let exact = f(&v, "log_z");
    let (v, _) = eval_json(
        &model,
        &[
            "--method",
            "ais",
            "--ais-runs",
            "32",
            "--ais-betas",
            "1000",
            "-q",
        ],
    );
    assert_eq!(v["method"], "ais");
    // Both within the bracket margin ln(1000) of the exact value (Markov's
    // inequality, alpha = 0.001 per side; see src/likelihood/tests.rs).
    let t = 1000f64.ln();
    assert!(f(&v, "log_z") - t <= exact && exact <= f(&v, "log_z_reverse") + t);
    let table = eval_table(
        &model,
        &["--method", "ais", "--ais-runs", "8", "--ais-betas", "30"],
    );
    assert!(
        table.contains("from exact model samples (hidden layer enumerated)"),
        "{table}"
    );
}

/// 30 binary rows of 8 columns, as CSV text.
fn binary_csv() -> String {
    (0..30)
        .map(|r| {
            let row: Vec<&str> = (0..8)
                .map(|c| if (r * 7 + c * 3) % 5 < 2 { "1" } else { "0" })
                .collect();
            row.join(",") + "\n"
        })
        .collect()
}

#[test]
fn nrelu_models_as_ssu_and_binary_data() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("bin.csv");
    fs::write(&csv, binary_csv()).unwrap();
    let c = s(&csv);
    let model = train(
        dir.path(),
        "n.safetensors",
        &["--data", &c, "--hidden", "30"],
    );
    let m = model_io::load(&model).unwrap();
    assert_eq!(m.hidden(), HiddenUnit::Nrelu);
    let data = Dataset::load(&csv, false).unwrap().into_values();

    // NReLU: only the reconstruction error, with the reason.
    let (v, _) = eval_json(&model, &["--data", &c]);
    assert_keys(&v);
    for key in [
        "method",
        "log_z",
        "log_z_std",
        "avg_log_likelihood",
        "pseudo_log_likelihood",
        "binarize",
    ] {
        assert_eq!(v[key], Value::Null, "{key}");
    }
    assert_close(
        f(&v, "reconstruction_error"),
        m.reconstruction_error(&data).unwrap(),
    );
    let notes = v["notes"].as_array().unwrap();
    assert_eq!(notes.len(), 1);
    assert!(notes[0].as_str().unwrap().contains("--as-ssu"), "{notes:?}");
    let table = eval_table(&model, &["--data", &c]);
    assert!(
        table.contains("NReLU units have no energy function"),
        "{table}"
    );
    assert!(table.contains("does not apply (as above)"), "{table}");

    // --as-ssu: the SSU model with the same parameters; 8 visible units are
    // enumerated exactly. The data are binary: no binarisation, no note.
    let (v, o) = eval_json(&model, &["--data", &c, "--as-ssu"]);
    assert!(o.stderr.is_empty(), "{}", stderr(&o));
    assert_eq!(v["hidden"], "ssu");
    assert_eq!(v["binarize"], Value::Null);
    assert_exact_measures(&v, &as_ssu(&m), &data, &data);
}

#[test]
fn gaussian_models_get_the_reconstruction_error_only() {
    let dir = tempfile::tempdir().unwrap();
    let model = train(
        dir.path(),
        "g.safetensors",
        &[
            "--visible",
            "gaussian",
            "--hidden-units",
            "bernoulli",
            "--hidden",
            "8",
        ],
    );
    let (v, _) = eval_json(&model, &[]);
    assert_eq!(v["log_z"], Value::Null);
    assert_eq!(v["pseudo_log_likelihood"], Value::Null);
    assert!(f(&v, "reconstruction_error") > 0.0);
    assert!(
        v["notes"][0]
            .as_str()
            .unwrap()
            .contains("Bernoulli visible units")
    );
}

#[test]
fn bad_inputs_fail_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let model = train(
        dir.path(),
        "b.safetensors",
        &["--hidden-units", "bernoulli", "--hidden", "4"],
    );
    let stack = train(dir.path(), "s.safetensors", &["--layers", "6,4"]);
    let csv = dir.path().join("bin.csv");
    fs::write(&csv, binary_csv()).unwrap();
    let (m, st, c) = (s(&model), s(&stack), s(&csv));
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["--model", "missing.safetensors"],
            "cannot read 'missing.safetensors'",
        ),
        (
            vec!["--model", &st],
            "is a stack of 2 layers; rbm eval evaluates single RBMs",
        ),
        (
            vec!["--model", &m, "--data", &c],
            "shape mismatch: the data has 8 columns but the model has 64 visible units",
        ),
        (vec!["--model", &m, "--ais-runs", "0"], "--ais-runs"),
        (vec!["--model", &m, "--ais-runs", "-3"], "--ais-runs"),
        (vec!["--model", &m, "--ais-betas", "2"], "--ais-betas"),
        (vec!["--model", &m, "--binarize", "1"], "--binarize"),
        (vec!["--model", &m, "--method", "guess"], "--method"),
        (vec!["--model", &m, "--ais-burn-in", "-1"], "--ais-burn-in"),
        (vec!["--model", &m, "--binarize", "nan"], "--binarize"),
        (
            vec!["--model", &m, "--as-ssu"],
            "--as-ssu applies to nrelu models only",
        ),
        (vec!["--model", &m, "--labels-last-column"], "--data"),
        (vec!["--model", &m, "--json", "--bogus"], "--bogus"),
        (vec![], "--model"),
    ];
    for (extra, needle) in cases {
        let mut a = vec!["eval".to_owned()];
        a.extend(extra.iter().map(|x| x.to_string()));
        assert_fails(&a, 2, needle);
    }
    let broken = dir.path().join("broken.safetensors");
    let bytes = fs::read(&model).unwrap();
    fs::write(&broken, &bytes[..bytes.len() / 2]).unwrap();
    assert_fails(
        &["eval".to_owned(), "--model".to_owned(), s(&broken)],
        2,
        "invalid model",
    );
}

#[test]
fn help_describes_eval() {
    let o = rbm(["--help"]);
    assert!(stdout(&o).contains("eval"));
    let o = rbm(["eval", "--help"]);
    assert_success(&o);
    let help = stdout(&o);
    for needle in [
        "--ais-runs",
        "[default: 100]",
        "[default: 14500]",
        "--binarize",
        "--as-ssu",
        "--method",
        "--ais-burn-in",
        "--json",
        "Exit status:",
    ] {
        assert!(help.contains(needle), "{needle}: {help}");
    }
}
