//! End-to-end tests of `rbm verify`: the built binary is run as a process.

use nrelu_rbm::kernels::Path;
use std::process::{Command, Output};

fn rbm(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rbm"))
        .args(args)
        .env_remove("NRELU_RBM_KERNEL")
        .output()
        .expect("cannot run the rbm binary")
}

/// `--quick` runs every test on every path of this CPU, prints one row per
/// test and path, the budget and the deterministic bounds, and exits 0.
#[test]
fn quick_run_prints_the_table_and_the_budget() {
    let o = rbm(&["verify", "--quick", "--seed", "7"]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "stdout:\n{stdout}\nstderr: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let paths = Path::available();
    let tests = nrelu_rbm::verify::plan(nrelu_rbm::verify::Preset::Quick).len();
    let total = tests * paths.len();
    assert!(
        stdout.starts_with(&format!(
            "rbm verify: {tests} tests x {} paths",
            paths.len()
        )),
        "{stdout}"
    );
    let header = stdout.lines().nth(1).unwrap();
    for col in [
        "test", "path", "n", "stat", "value", "p-value", "alpha", "verdict",
    ] {
        assert!(header.split_whitespace().any(|w| w == col), "{header}");
    }
    let rows: Vec<&str> = stdout
        .lines()
        .filter(|l| l.ends_with("pass") || l.contains(" pass "))
        .collect();
    assert!(
        rows.len() >= total,
        "{} rows for {total} tests:\n{stdout}",
        rows.len()
    );
    for p in &paths {
        let on_path = stdout
            .lines()
            .filter(|l| l.get(29..37).map(str::trim) == Some(p.name()))
            .count();
        assert!(on_path >= tests, "path {p}: {on_path} rows");
    }
    assert!(
        stdout.contains(&format!(
            "Bonferroni over {tests} tests x {} paths = {total}",
            paths.len()
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "preset quick, seed 7: {total} of {total} tests passed, 0 failed"
        )),
        "{stdout}"
    );
    assert_eq!(stdout.matches("deterministic:").count(), 2);
    assert!(!stdout.contains("FAIL"));
}

/// Usage errors: one line on stderr, exit status 2.
#[test]
fn usage_errors_exit_2_with_one_line() {
    for args in [
        &["verify", "--quick", "--full"][..],
        &["verify", "--seed", "minus-one"],
        &["verify", "--bogus"],
    ] {
        let o = rbm(args);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.starts_with("error: "), "{stderr}");
        assert!(o.stdout.is_empty());
    }
}

#[test]
fn help_names_the_options() {
    let o = rbm(&["verify", "--help"]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success());
    for opt in ["--quick", "--full", "--seed"] {
        assert!(stdout.contains(opt), "{stdout}");
    }
}
