//! End-to-end tests of `rbm train --checkpoint --resume`: runs killed with
//! SIGKILL (more than once) or stopped with SIGINT and resumed end with a
//! model byte-identical to an uninterrupted run's; corrupted, truncated and
//! mismatched checkpoints are refused in one line.

use std::fs;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

mod cli_common;
use cli_common::*;

/// A run long enough (hundreds of epochs on the embedded digits) to be
/// killed while it trains, whatever the machine's speed.
fn run_args(extra: &[&str], out: &Path) -> Vec<String> {
    let mut a = args(&["train", "-q", "--hidden", "150", "--epochs", "300"]);
    a.extend(extra.iter().map(|x| x.to_string()));
    a.extend(["--out".to_owned(), s(out)]);
    a
}

fn spawn(a: &[String]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_rbm"))
        .args(a)
        .env_remove("NRELU_RBM_KERNEL")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot run the rbm binary")
}

/// Waits until `ck` exists and differs from `before`, and returns its
/// bytes.
fn wait_for_checkpoint(ck: &Path, before: Option<&[u8]>, child: &mut Child) -> Vec<u8> {
    let start = Instant::now();
    loop {
        if let Ok(bytes) = fs::read(ck)
            && Some(bytes.as_slice()) != before
        {
            return bytes;
        }
        if child.try_wait().unwrap().is_some() {
            let mut err = String::new();
            std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
            panic!("the run ended before writing a new checkpoint: {err}");
        }
        assert!(start.elapsed() < Duration::from_secs(120), "no checkpoint");
        sleep(Duration::from_millis(5));
    }
}

/// Runs `extra` uninterrupted, then killed with SIGKILL `kills` times
/// (each after a new checkpoint appeared) and resumed, and checks that
/// both give the same model bytes.
fn killed_and_resumed(extra: &[&str], kills: usize) {
    let dir = tempfile::tempdir().unwrap();
    let (reference, out, ck) = (
        dir.path().join("ref.safetensors"),
        dir.path().join("out.safetensors"),
        dir.path().join("ck.safetensors"),
    );
    assert_success(&rbm(run_args(extra, &reference)));
    let mut with_ck = extra.to_vec();
    let ck_s = s(&ck);
    with_ck.extend(["--checkpoint", &ck_s]);
    let mut before: Option<Vec<u8>> = None;
    for kill in 0..kills {
        let mut a = run_args(&with_ck, &out);
        // Resumed on another thread count: no bit depends on it.
        a.extend(args(&["--threads", if kill == 0 { "1" } else { "2" }]));
        if kill > 0 {
            a.extend(args(&["--resume", &ck_s]));
        }
        let mut child = spawn(&a);
        before = Some(wait_for_checkpoint(&ck, before.as_deref(), &mut child));
        child.kill().unwrap(); // SIGKILL on Unix
        let status = child.wait().unwrap();
        assert!(
            !status.success(),
            "run {kill} finished before it was killed"
        );
        assert!(!out.exists(), "a killed run wrote the model");
    }
    let mut a = run_args(&with_ck, &out);
    a.extend(args(&["--resume", &ck_s, "--threads", "1"]));
    assert_success(&rbm(&a));
    assert!(
        fs::read(&out).unwrap() == fs::read(&reference).unwrap(),
        "{extra:?}: the resumed model differs from the uninterrupted one"
    );
}

#[test]
fn pcd_with_momentum_killed_twice_resumes_to_the_same_bytes() {
    killed_and_resumed(&["--pcd", "1", "--momentum", "0.9"], 2);
}

#[test]
fn centred_cd_killed_three_times_resumes_to_the_same_bytes() {
    killed_and_resumed(&["--cd", "1", "--centering"], 3);
}

#[test]
fn sigint_writes_the_checkpoint_exits_130_and_says_how_to_resume() {
    let dir = tempfile::tempdir().unwrap();
    let (reference, out, ck) = (
        dir.path().join("ref.safetensors"),
        dir.path().join("out.safetensors"),
        dir.path().join("ck.safetensors"),
    );
    let extra = ["--pcd", "2", "--threads", "1"];
    assert_success(&rbm(run_args(&extra, &reference)));
    let ck_s = s(&ck);
    let mut with_ck = extra.to_vec();
    with_ck.extend(["--checkpoint", &ck_s]);
    let mut child = spawn(&run_args(&with_ck, &out));
    // The SIGINT handler is installed before the first epoch, so once the
    // first checkpoint is there the signal reaches it.
    let first = wait_for_checkpoint(&ck, None, &mut child);
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let o = child.wait_with_output().unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(130), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("--resume") && err.contains(&ck_s), "{err}");
    assert!(
        fs::read(&ck).unwrap() != first,
        "SIGINT wrote no checkpoint"
    );
    assert!(!out.exists());
    let mut a = run_args(&with_ck, &out);
    a.extend(args(&["--resume", &ck_s]));
    assert_success(&rbm(&a));
    assert!(fs::read(&out).unwrap() == fs::read(&reference).unwrap());
}

#[test]
fn bad_checkpoints_and_changed_options_are_refused_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.safetensors");
    let ck = dir.path().join("ck.safetensors");
    // `train -q`, then each default option that `extra` does not set.
    let with = |extra: &[&str]| {
        let mut a = args(&["train", "-q"]);
        for (key, value) in [("--epochs", "2"), ("--hidden", "8"), ("--pcd", "1")] {
            if !extra.contains(&key) {
                a.extend(args(&[key, value]));
            }
        }
        a.extend(extra.iter().map(|x| x.to_string()));
        a.extend(["--out".to_owned(), s(&out)]);
        a
    };
    assert_success(&rbm(with(&["--checkpoint", &s(&ck)])));
    let good = fs::read(&ck).unwrap();
    fs::remove_file(&out).unwrap();

    let bad = dir.path().join("bad.safetensors");
    fs::write(&bad, &good[..good.len() - 3]).unwrap();
    assert_fails(&with(&["--resume", &s(&bad)]), 2, "truncated");
    let mut flipped = good.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 0x10;
    fs::write(&bad, &flipped).unwrap();
    assert_fails(&with(&["--resume", &s(&bad)]), 2, "corrupted");
    assert_fails(&with(&["--resume", &s(&ck), "--lr", "0.01"]), 2, "'lr'");
    assert_fails(&with(&["--resume", &s(&ck), "--seed", "3"]), 2, "'seed'");
    assert_fails(
        &with(&["--resume", &s(&ck), "--epochs", "3"]),
        2,
        "'epochs'",
    );
    assert!(!out.exists(), "a refused resume wrote a model");
    // The same options resume (the run is already complete).
    assert_success(&rbm(with(&["--resume", &s(&ck)])));
}
