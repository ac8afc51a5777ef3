//! End-to-end tests of `rbm train --validation --patience --log`: the
//! per-epoch lines, the JSON-lines log, early stopping with the best model
//! kept, and one-line errors for bad options.

use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};
use tempfile::TempDir;

mod cli_common;
mod common;
use cli_common::*;

/// `rows` noisy copies of 4 prototype patterns over 24 binary units, each
/// unit flipped with probability 1/`flip`, as CSV.
fn patterns_csv(rows: usize, seed: u64, flip: u64) -> String {
    common::noisy_patterns(rows, 24, seed, flip)
        .chunks(24)
        .map(|row| {
            let cells: Vec<&str> = row
                .iter()
                .map(|&x| if x == 1.0 { "1" } else { "0" })
                .collect();
            cells.join(",") + "\n"
        })
        .collect()
}

/// Writes `train.csv` (`rows` rows) and `valid.csv` (60 rows) into `dir`.
fn data(dir: &Path, rows: usize) -> (String, String) {
    let (t, v) = (dir.join("train.csv"), dir.join("valid.csv"));
    fs::write(&t, patterns_csv(rows, 1, 4)).unwrap();
    fs::write(&v, patterns_csv(60, 9, 4)).unwrap();
    (s(&t), s(&v))
}

/// A run's files: the training and validation CSV files of [`data`], and
/// the paths of the model and of the log, in a new temporary directory.
struct Files {
    dir: TempDir,
    train: String,
    valid: String,
    out: PathBuf,
    log: PathBuf,
}

/// [`Files`] with `rows` training rows.
fn files(rows: usize) -> Files {
    let dir = tempfile::tempdir().unwrap();
    let (train, valid) = data(dir.path(), rows);
    let (out, log) = (
        dir.path().join("m.safetensors"),
        dir.path().join("log.jsonl"),
    );
    Files {
        dir,
        train,
        valid,
        out,
        log,
    }
}

/// `common` with 200 epochs, `--validation valid --patience 3`, the log
/// and the model, then `extra`.
fn patience_args(
    common: &[&str],
    valid: &str,
    log: &Path,
    out: &Path,
    extra: &[&str],
) -> Vec<String> {
    let mut a = args(common);
    a.extend(args(&[
        "--epochs",
        "200",
        "--validation",
        valid,
        "--patience",
        "3",
    ]));
    a.extend(args(extra));
    a.extend(args(&["--log", &s(log), "--out", &s(out)]));
    a
}

/// The lines of a JSON-lines file, parsed.
fn read_log(path: &Path) -> Vec<Value> {
    let text = fs::read_to_string(path).unwrap();
    assert!(text.ends_with('\n'), "{text}");
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

fn keys(v: &Value) -> Vec<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

#[test]
fn log_has_one_json_object_per_epoch() {
    // `_dir` keeps the directory until the end of the test.
    let Files {
        dir: _dir,
        train,
        valid,
        out,
        log,
    } = files(100);
    let base = [
        "train",
        "--data",
        &train,
        "--hidden",
        "10",
        "--epochs",
        "5",
        "--out",
        &s(&out),
    ];

    // With --validation: the measures on stderr and in the log.
    let mut a = args(&base);
    a.extend(args(&["--validation", &valid, "--log", &s(&log)]));
    let o = rbm(&a);
    assert_success(&o);
    let err = stderr(&o);
    assert!(
        err.contains("validating on 60 rows of '")
            && err.contains("valid.csv' after every epoch\n"),
        "{err}"
    );
    let epochs: Vec<&str> = err.lines().filter(|l| l.starts_with("epoch ")).collect();
    assert_eq!(epochs.len(), 5, "{err}");
    let lines = read_log(&log);
    assert_eq!(lines.len(), 5);
    for (i, (line, text)) in lines.iter().zip(&epochs).enumerate() {
        assert_eq!(
            keys(line),
            [
                "epoch",
                "free_energy_gap",
                "reconstruction_error",
                "seconds",
                "swap_acceptance",
                "training_free_energy",
                "validation_free_energy",
                "validation_reconstruction_error"
            ]
        );
        assert_eq!(line["epoch"], i + 1);
        assert_eq!(line["swap_acceptance"], Value::Array(vec![]));
        let num = |k: &str| line[k].as_f64().unwrap_or_else(|| panic!("{k}: {line}"));
        assert!(num("seconds") >= 0.0);
        let gap = num("validation_free_energy") - num("training_free_energy");
        assert!((num("free_energy_gap") - gap).abs() <= 1e-9 * gap.abs().max(1.0));
        // The stderr line shows the same numbers, rounded.
        let shown = format!(
            "reconstruction error {:.5}  validation {:.5}  free-energy gap {:+.3}  (",
            num("reconstruction_error"),
            num("validation_reconstruction_error"),
            num("free_energy_gap")
        );
        assert!(text.contains(&shown), "{text} lacks {shown}");
    }

    // Without --validation: the plain keys, the plain lines; the log is
    // replaced, not appended to.
    let o = rbm(args(&base).into_iter().chain(args(&["--log", &s(&log)])));
    assert_success(&o);
    assert!(!stderr(&o).contains("validation"), "{}", stderr(&o));
    let lines = read_log(&log);
    assert_eq!(lines.len(), 5);
    for line in &lines {
        assert_eq!(
            keys(line),
            [
                "epoch",
                "reconstruction_error",
                "seconds",
                "swap_acceptance"
            ]
        );
    }
}

#[test]
fn patience_stops_and_keeps_the_best_model() {
    // Eight training rows, a high rate and momentum: the model soon fits
    // them at the expense of the validation rows.
    let Files {
        dir,
        train,
        valid,
        out,
        log,
    } = files(8);
    let common = [
        "train",
        "--data",
        &train,
        "--hidden",
        "19",
        "--batch",
        "4",
        "--lr",
        "1",
        "--momentum",
        "0.9",
        "--weight-decay",
        "0",
        "--seed",
        "2",
    ];
    let o = rbm(patience_args(&common, &valid, &log, &out, &[]));
    assert_success(&o);
    let err = stderr(&o);
    let lines = read_log(&log);
    let errors: Vec<f64> = lines
        .iter()
        .map(|l| l["validation_reconstruction_error"].as_f64().unwrap())
        .collect();
    let last = errors.len();
    let min = errors.iter().copied().fold(f64::INFINITY, f64::min);
    let best = errors.iter().position(|&e| e == min).unwrap() + 1;
    assert!(last < 200, "never stopped: {err}");
    assert_eq!(last - best, 3, "{errors:?}");
    let said = format!(
        "stopped after epoch {last} of 200: no better validation reconstruction error for 3 \
         epochs; the model is that of epoch {best}, the best (validation reconstruction error \
         {min:.5})\nwrote model to "
    );
    assert!(err.contains(&said), "{err}\nlacks\n{said}");

    // The model written is bit for bit that of a plain run of `best`
    // epochs, and not that of `last` epochs.
    let plain = |epochs: usize, path: &Path| {
        let mut a = args(&common);
        a.extend(args(&[
            "--epochs",
            &epochs.to_string(),
            "--quiet",
            "--out",
            &s(path),
        ]));
        assert_success(&rbm(&a));
        fs::read(path).unwrap()
    };
    let kept = fs::read(&out).unwrap();
    assert_eq!(kept, plain(best, &dir.path().join("best.safetensors")));
    assert_ne!(kept, plain(last, &dir.path().join("last.safetensors")));

    // The same on 1 and 2 threads: the same log (but the times) and model.
    for threads in ["1", "2"] {
        let (o2, l2) = (dir.path().join("t.safetensors"), dir.path().join("t.jsonl"));
        let b = patience_args(
            &common,
            &valid,
            &l2,
            &o2,
            &["--quiet", "--threads", threads],
        );
        assert_success(&rbm(&b));
        assert_eq!(fs::read(&o2).unwrap(), kept, "{threads} threads");
        let strip = |mut v: Vec<Value>| {
            v.iter_mut().for_each(|l| {
                l.as_object_mut().unwrap().remove("seconds");
            });
            v
        };
        assert_eq!(
            strip(read_log(&l2)),
            strip(lines.clone()),
            "{threads} threads"
        );
    }
}

#[test]
fn bad_watch_options_fail_in_one_line_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (train, valid) = data(dir.path(), 20);
    let inputs = dir.path().join("in");
    fs::create_dir(&inputs).unwrap();
    let narrow = inputs.join("narrow.csv");
    fs::write(&narrow, "0,1,0\n1,0,1\n").unwrap();
    let range = inputs.join("range.csv");
    fs::write(&range, patterns_csv(3, 1, 4).replacen('1', "2", 1)).unwrap();
    let missing = inputs.join("missing.csv");
    let (n, r, m) = (s(&narrow), s(&range), s(&missing));
    let outdir = dir.path().join("out");
    fs::create_dir(&outdir).unwrap();
    let out = outdir.join("m.safetensors");
    let log = outdir.join("log.jsonl");
    let (o, l) = (s(&out), s(&log));
    let nowhere = s(&outdir.join("no/log.jsonl"));
    let outdir_arg = s(&outdir);
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--patience", "3"], "--validation"),
        (
            vec!["--validation", &valid, "--patience", "0"],
            "must be at least 1",
        ),
        (
            vec!["--validation", &valid, "--patience", "x"],
            "--patience <N>'",
        ),
        (vec!["--validation", &m], "cannot read"),
        (vec!["--validation", &n], "--validation '"),
        (vec!["--validation", &r], "2 is outside [0, 1]"),
        (
            vec!["--validation", &valid, "--layers", "5,3"],
            "cannot be used with",
        ),
        (vec!["--log", &l, "--layers", "5,3"], "cannot be used with"),
        (vec!["--log", &nowhere], "does not exist"),
        (vec!["--log", &outdir_arg], "is a directory"),
        (vec!["--log", &o], "--log and --out both name"),
        (
            vec!["--log", &l, "--validation", &n],
            "has 3 columns but the training data has 24",
        ),
    ];
    for (extra, needle) in cases {
        let mut a = args(&["train", "--data", &train, "--epochs", "2", "--out", &o]);
        a.extend(extra.iter().map(|x| x.to_string()));
        assert_fails(&a, 2, needle);
        assert!(entries(&outdir).is_empty(), "{a:?} wrote something");
    }
}

#[test]
fn validation_of_the_digits_uses_their_map() {
    // With the embedded digits the validation file is in their own scale
    // (pixels 0..=16), mapped by x / 16 like the digits.
    let dir = tempfile::tempdir().unwrap();
    let valid = dir.path().join("valid.csv");
    let rows: Vec<String> = (0..10)
        .map(|i| {
            (0..64)
                .map(|j| ((i * 7 + j * 3) % 17).to_string())
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect();
    fs::write(&valid, rows.join("\n") + "\n").unwrap();
    let out = dir.path().join("m.safetensors");
    let a = args(&[
        "train",
        "--hidden",
        "8",
        "--epochs",
        "2",
        "--validation",
        &s(&valid),
        "--out",
        &s(&out),
    ]);
    let o = rbm(&a);
    assert_success(&o);
    let err = stderr(&o);
    assert!(err.contains("validating on 10 rows"), "{err}");
    assert_eq!(err.matches("  validation 0.").count(), 2, "{err}");
    // A value beyond 16 is outside [0, 1] once mapped.
    fs::write(&valid, "17".to_owned() + &",0".repeat(63) + "\n").unwrap();
    assert_fails(&a, 2, "1.0625 is outside [0, 1]");
}

#[test]
fn validation_is_read_with_the_options_of_data() {
    // A semicolon-separated training file whose first row is a header of
    // numbers (a header only because --header says so), and a validation
    // file written the same way: --delimiter and --header apply to both.
    let dir = tempfile::tempdir().unwrap();
    let semicolons = |csv: String| {
        let header: Vec<String> = (1..=24).map(|j| j.to_string()).collect();
        header.join(";") + "\n" + &csv.replace(',', ";")
    };
    let (train, valid) = (dir.path().join("train.csv"), dir.path().join("valid.csv"));
    fs::write(&train, semicolons(patterns_csv(40, 1, 4))).unwrap();
    let valid_text = semicolons(patterns_csv(10, 9, 4));
    fs::write(&valid, &valid_text).unwrap();
    let out = dir.path().join("m.safetensors");
    let run = |validation: &str| {
        args(&[
            "train",
            "--data",
            &s(&train),
            "--delimiter",
            ";",
            "--header",
            "--hidden",
            "8",
            "--epochs",
            "2",
            "--validation",
            validation,
            "--out",
            &s(&out),
        ])
    };
    let o = rbm(run(&s(&valid)));
    assert_success(&o);
    let err = stderr(&o);
    // Ten rows: the header row is not one of them.
    assert!(err.contains("validating on 10 rows of '"), "{err}");
    assert_eq!(err.matches("  validation 0.").count(), 2, "{err}");
    let from_file = fs::read(&out).unwrap();

    // `--validation -` reads standard input with the same options, and
    // trains the same model.
    let o = rbm_stdin(&run("-"), valid_text.as_bytes());
    assert_success(&o);
    assert!(
        stderr(&o).contains("validating on 10 rows of '-'"),
        "{}",
        stderr(&o)
    );
    assert_eq!(fs::read(&out).unwrap(), from_file);

    // Without the options, the validation file is not read as the training
    // file is: one line, nothing written.
    let plain = dir.path().join("plain");
    fs::create_dir(&plain).unwrap();
    let a = args(&[
        "train",
        "--data",
        &s(&train),
        "--delimiter",
        ";",
        "--header",
        "--epochs",
        "2",
        "--validation",
        &s(&dir.path().join("comma.csv")),
        "--out",
        &s(&plain.join("m.safetensors")),
    ]);
    fs::write(dir.path().join("comma.csv"), patterns_csv(10, 9, 4)).unwrap();
    assert_fails(&a, 2, "comma.csv");
    assert!(entries(&plain).is_empty());

    // Standard input can be read once.
    let a = args(&[
        "train",
        "--data",
        "-",
        "--validation",
        "-",
        "--out",
        &s(&plain.join("m.safetensors")),
    ]);
    assert_fails(&a, 2, "both name standard input");
    assert!(entries(&plain).is_empty());
}
