//! End-to-end tests of `rbm generate`: the file is the library's
//! `Rbm::generate`, the same bytes for any `--threads`, the PNG grid, and
//! one-line errors that write nothing.

use nrelu_rbm::units::HiddenUnit;
use nrelu_rbm::{GibbsConfig, Rbm, VisibleUnit, npy};
use std::fs;
use std::path::Path;

mod cli_common;
use cli_common::*;

/// A 16 × 5 model (a square visible layer) saved in `dir`.
fn saved_model(dir: &Path, visible: VisibleUnit, n_visible: usize) -> (Rbm, String) {
    let mut rbm = Rbm::new(n_visible, 5, visible, HiddenUnit::Nrelu, 4).unwrap();
    let w: Vec<f32> = rbm.weights().iter().map(|w| w * 80.0).collect();
    rbm = Rbm::from_parts(
        visible,
        HiddenUnit::Nrelu,
        w,
        rbm.visible_bias().to_vec(),
        rbm.hidden_bias().to_vec(),
        None,
    )
    .unwrap();
    let path = dir.join(format!("{visible}-{n_visible}.safetensors"));
    rbm.save(&path).unwrap();
    (rbm, s(&path))
}

fn generate(model: &str, out: &Path, extra: &[&str]) -> std::process::Output {
    let mut a = args(&["generate", "--model", model, "--out", &s(out)]);
    a.extend(extra.iter().map(|x| x.to_string()));
    rbm(a)
}

#[test]
fn the_file_is_the_library_samples_for_any_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    for visible in [VisibleUnit::Bernoulli, VisibleUnit::Gaussian] {
        let (model, path) = saved_model(dir.path(), visible, 16);
        let want = model.generate(37, &GibbsConfig::new(20, 5)).unwrap();
        let mut files = Vec::new();
        for threads in ["1", "2", "3", "0"] {
            let out = dir.path().join(format!("{visible}-{threads}.npy"));
            let o = generate(
                &path,
                &out,
                &[
                    "--count",
                    "37",
                    "--steps",
                    "20",
                    "--seed",
                    "5",
                    "--threads",
                    threads,
                ],
            );
            assert_success(&o);
            assert_eq!(
                stderr(&o),
                format!(
                    "wrote 37 x 16 visible samples (20 Gibbs steps per chain, seed 5) to {}\n",
                    out.display()
                )
            );
            let bytes = fs::read(&out).unwrap();
            let a = npy::read(&bytes[..]).unwrap();
            assert_eq!(a.shape, [37, 16]);
            assert_eq!(
                a.as_f32().unwrap(),
                &want[..],
                "{visible}, {threads} threads"
            );
            files.push(bytes);
        }
        assert!(files.iter().all(|f| *f == files[0]));
    }
}

#[test]
fn png_draws_a_grid_of_square_images() {
    let dir = tempfile::tempdir().unwrap();
    let (_, path) = saved_model(dir.path(), VisibleUnit::Bernoulli, 16);
    let (out, png) = (dir.path().join("v.npy"), dir.path().join("v.png"));
    let o = generate(
        &path,
        &out,
        &["--count", "3", "--steps", "2", "--png", &s(&png), "-q"],
    );
    assert_success(&o);
    assert!(stderr(&o).is_empty(), "{}", stderr(&o));
    let bytes = fs::read(&png).unwrap();
    assert_eq!(&bytes[1..4], b"PNG");
    // Three 4 × 4 tiles at zoom 16 with gaps of 2: 2 + 3·66 by 2 + 66.
    let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    assert_eq!((width, height), (2 + 3 * 66, 2 + 66));
}

#[test]
fn errors_are_one_line_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (_, odd) = saved_model(dir.path(), VisibleUnit::Bernoulli, 7);
    let (_, square) = saved_model(dir.path(), VisibleUnit::Bernoulli, 16);
    let out = dir.path().join("v.npy");
    let png = dir.path().join("v.png");
    let before = entries(dir.path());
    let gen_args = |model: &str, extra: &[&str]| {
        let mut a = args(&["generate", "--model", model, "--out", &s(&out)]);
        a.extend(extra.iter().map(|x| x.to_string()));
        a
    };
    assert_fails(
        &gen_args(&odd, &["--count", "2", "--png", &s(&png)]),
        2,
        "--png needs a square visible layer",
    );
    assert_fails(
        &gen_args(&square, &["--count", "0"]),
        2,
        "must be at least 1",
    );
    assert_fails(&gen_args(&square, &[]), 2, "--count");
    assert_fails(
        &gen_args(&s(&dir.path().join("none.safetensors")), &["--count", "2"]),
        2,
        "cannot read",
    );
    let missing_dir = dir.path().join("no/v.npy");
    assert_fails(
        &args(&[
            "generate",
            "--model",
            &square,
            "--count",
            "2",
            "--out",
            &s(&missing_dir),
        ]),
        2,
        "does not exist",
    );

    // A stack file is refused with its layer count.
    let stack = dir.path().join("stack.safetensors");
    assert_success(&rbm([
        "train",
        "--layers",
        "4,3",
        "--epochs",
        "1",
        "-q",
        "--out",
        &s(&stack),
    ]));
    let before_stack = entries(dir.path());
    assert_fails(
        &gen_args(&s(&stack), &["--count", "2"]),
        2,
        "is a stack of 2 layers",
    );
    assert_eq!(entries(dir.path()), before_stack);
    assert_eq!(before.len() + 1, before_stack.len());
}
