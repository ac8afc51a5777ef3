//! End-to-end tests of `rbm demo` (in its hidden `--smoke` mode, with 2
//! epochs, so that they take seconds): the files it writes, byte-identical
//! output for a seed, and one-line errors that leave nothing behind.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::{Command, Output};

const FILES: [&str; 8] = [
    "filters-bernoulli.png",
    "filters-binomial-4.png",
    "filters-nrelu.png",
    "filters-ssu.png",
    "nrelu-vs-ssu.png",
    "reconstructions.png",
    "report.md",
    "training.png",
];

fn rbm(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rbm"))
        .args(args)
        .env_remove("NRELU_RBM_KERNEL")
        .output()
        .expect("cannot run the rbm binary")
}

fn demo(out: &Path, seed: &str, threads: &str) -> Output {
    let out = out.to_str().unwrap();
    rbm(&[
        "demo",
        "--smoke",
        "--quiet",
        "--epochs",
        "2",
        "--seed",
        seed,
        "--threads",
        threads,
        "--out",
        out,
    ])
}

fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().into_string().unwrap(),
                fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

fn assert_one_line_error(o: &Output, code: i32, want: &str) {
    assert_eq!(o.status.code(), Some(code), "{o:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("error: ") && err.contains(want), "{err}");
    assert!(o.stdout.is_empty());
}

#[test]
fn the_demo_writes_its_report_and_pictures_deterministically() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        tmp.path().join("a"),
        tmp.path().join("nested/b"),
        tmp.path().join("c"),
    );
    let run_a = demo(&a, "7", "1");
    assert!(run_a.status.success(), "{run_a:?}");
    let run_b = demo(&b, "7", "2");
    assert!(run_b.status.success(), "{run_b:?}");

    let (fa, fb) = (files(&a), files(&b));
    assert_eq!(fa.keys().map(String::as_str).collect::<Vec<_>>(), FILES);
    // Same seed, any thread count: the same bytes.
    assert_eq!(fa, fb);

    let report = String::from_utf8(fa["report.md"].clone()).unwrap();
    for png in FILES.iter().filter(|f| f.ends_with(".png")) {
        assert!(
            report.contains(&format!("]({png})")),
            "report does not embed {png}"
        );
        let bytes = &fa[*png];
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{png}");
        let reader = png::Decoder::new(std::io::Cursor::new(bytes.as_slice()))
            .read_info()
            .unwrap();
        let info = reader.info();
        assert!(
            info.width >= 200 && info.height >= 100,
            "{png}: {}x{}",
            info.width,
            info.height
        );
    }
    for unit in ["bernoulli", "binomial:4", "ssu", "nrelu", "raw pixels"] {
        assert!(report.contains(unit), "report lacks {unit}");
    }
    assert!(
        report.contains("| nrelu, zero biases | yes | 0 | 0 |"),
        "{report}"
    );

    // The tables and the report's path are printed.
    let stdout = String::from_utf8(run_a.stdout).unwrap();
    assert!(stdout.contains("test accuracy"), "{stdout}");
    assert!(
        stdout.contains("| nrelu, zero biases | yes | 0 | 0 |"),
        "{stdout}"
    );
    assert!(
        stdout
            .trim_end()
            .ends_with(&format!("report: {}", a.join("report.md").display())),
        "{stdout}"
    );
    // --quiet: nothing on stderr.
    assert!(
        run_a.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&run_a.stderr)
    );

    // Another seed gives other models.
    let run_c = demo(&c, "8", "0");
    assert!(run_c.status.success(), "{run_c:?}");
    assert_ne!(files(&c)["filters-nrelu.png"], fa["filters-nrelu.png"]);
}

#[test]
fn a_file_in_the_way_is_a_one_line_input_error() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("file");
    fs::write(&file, b"keep").unwrap();
    for out in [file.clone(), file.join("sub")] {
        let o = demo(&out, "1", "1");
        assert_one_line_error(&o, 2, "is not a directory");
    }
    assert_eq!(fs::read(&file).unwrap(), b"keep");
    assert_eq!(files(tmp.path()).len(), 1);
}

#[cfg(target_os = "linux")]
#[test]
fn an_uncreatable_directory_is_a_one_line_io_error() {
    // /proc refuses new entries even to root.
    let o = demo(Path::new("/proc/rbm-demo-test/out"), "1", "1");
    assert_one_line_error(&o, 1, "cannot create output directory");
    let o = demo(Path::new("/proc/self"), "1", "1");
    assert_one_line_error(&o, 1, "cannot create files in");
}

#[test]
fn bad_options_are_usage_errors() {
    let o = rbm(&["demo", "--epochs", "0"]);
    assert_one_line_error(&o, 2, "--epochs");
    let o = rbm(&["demo", "--seed", "-1"]);
    assert_one_line_error(&o, 2, "--seed");
}
