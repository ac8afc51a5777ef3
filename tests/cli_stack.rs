//! End-to-end tests of stacks on the command line: `rbm train --layers`
//! (greedy, and `--equivariant`) and `rbm transform` of a stack file.

use nrelu_rbm::data::Dataset;
use nrelu_rbm::model_io::ModelFile;
use nrelu_rbm::stack::{LayerSpec, Stack, train_stack};
use nrelu_rbm::train::TrainConfig;
use nrelu_rbm::units::HiddenUnit;
use nrelu_rbm::{Standardization, VisibleUnit, model_io};
use std::fs;
use std::ops::ControlFlow;
use std::path::PathBuf;

mod cli_common;
use cli_common::*;

#[test]
fn layers_train_a_greedy_stack_like_the_library() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("stack.safetensors");
    let o = rbm([
        "train",
        "--layers",
        "20,10",
        "--epochs",
        "2",
        "--seed",
        "7",
        "--out",
        &s(&out),
    ]);
    assert_success(&o);
    let log = stderr(&o);
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 1 + 2 + 4 + 1, "{log}");
    assert!(
        lines[0].starts_with("training a stack of 2 layers on 1797 rows"),
        "{log}"
    );
    assert_eq!(
        lines[1],
        "layer 1/2: 64 bernoulli visible -> 20 nrelu hidden units, lr 0.05, seed 7"
    );
    assert_eq!(
        lines[2],
        "layer 2/2: 20 gaussian visible -> 10 nrelu hidden units, lr 0.005, seed 8"
    );
    for (line, (layer, epoch)) in lines[3..7].iter().zip([(1, 1), (1, 2), (2, 1), (2, 2)]) {
        let head = format!("layer {layer}/2  epoch {epoch}/2  reconstruction error ");
        assert!(line.starts_with(&head), "{line}");
    }
    assert_eq!(
        lines[7],
        format!(
            "wrote a stack of 2 layers (64 -> 20 -> 10) to {}",
            out.display()
        )
    );

    // One file: layer{i}. prefixes, kind = stack, layers = 2.
    let file = ModelFile::read(&out).unwrap();
    assert_eq!(file.metadata()["kind"], "stack");
    assert_eq!(file.metadata()["layers"], "2");
    assert!(file.tensor_names().any(|n| n == "layer1.weights"));
    let stack = Stack::load(&out).unwrap();

    // Exactly the library's train_stack with the documented configurations:
    // layer i seeded with seed + i, the default rate of its visible type.
    let mut d = Dataset::digits().into_values();
    let map = Standardization::new(vec![0.0; 64], vec![16.0; 64]).unwrap();
    map.apply(&mut d).unwrap();
    let specs = [20, 10].map(|n_hidden| LayerSpec::new(n_hidden, HiddenUnit::Nrelu));
    let configs: Vec<TrainConfig> = [(VisibleUnit::Bernoulli, 7), (VisibleUnit::Gaussian, 8)]
        .into_iter()
        .map(|(v, seed)| TrainConfig::default_for(v).with_epochs(2).with_seed(seed))
        .collect();
    let (lib, _) = train_stack(&d, 64, VisibleUnit::Bernoulli, &specs, &configs, |_, _| {
        ControlFlow::Continue(())
    })
    .unwrap();
    let mut layers = lib.layers().to_vec();
    layers[0].set_standardization(Some(map)).unwrap();
    assert_eq!(stack, Stack::new(layers).unwrap());
    assert_eq!(stack.layers()[1].visible(), VisibleUnit::Gaussian);

    // transform: noise-free means through both layers, rows × 10.
    let h = dir.path().join("h.npy");
    let o = transform(&out, &h, &[]);
    assert_success(&o);
    assert_eq!(
        stderr(&o),
        format!(
            "wrote 1797 x 10 top-layer means (stack of 2 layers, nrelu units on top) to {}\n",
            h.display()
        )
    );
    let (shape, feats) = read_npy_2d(&h);
    assert_eq!(shape, (1797, 10));
    assert_eq!(feats, stack.transform(&d).unwrap());

    // A stack cannot be sampled, nor evaluated.
    let e = transform(&out, &dir.path().join("x.npy"), &["--sample"]);
    assert_eq!(e.status.code(), Some(2));
    assert!(stderr(&e).starts_with("error: --sample is only for single-layer models"));
    assert!(!dir.path().join("x.npy").exists());
}

#[test]
fn one_layer_stacks_and_plain_models_both_transform() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("one.safetensors");
    assert_success(&rbm([
        "train",
        "-q",
        "--layers",
        "12",
        "--epochs",
        "1",
        "--out",
        &s(&out),
    ]));
    let file = ModelFile::read(&out).unwrap();
    assert_eq!(file.metadata()["layers"], "1");
    // A one-layer stack transforms and samples like a single model.
    let h = dir.path().join("h.npy");
    assert_success(&transform(&out, &h, &["--sample", "-q"]));
    assert_eq!(read_npy_2d(&h).0, (1797, 12));
    // rbm eval takes it as the single RBM it is.
    let o = rbm(["eval", "--model", &s(&out), "--json", "-q"]);
    assert_success(&o);
    // A plain model is unchanged: still fully validated by model_io.
    let plain = dir.path().join("plain.safetensors");
    assert_success(&rbm([
        "train",
        "-q",
        "--hidden",
        "12",
        "--epochs",
        "1",
        "--out",
        &s(&plain),
    ]));
    assert!(model_io::load(&plain).is_ok());
    let stack = Stack::load(&out).unwrap();
    assert_eq!(&stack.layers()[0], &model_io::load(&plain).unwrap());
}

/// 40 rows of 8 positive values, as CSV text; `scale` multiplies them.
fn csv(scale: f32) -> String {
    (0..40)
        .map(|r| {
            let row: Vec<String> = (0..8)
                .map(|c| {
                    let base = if (r + c) % 4 == 0 { 1.5 } else { 0.25 };
                    let x: f32 = base + 0.05 * ((r * 8 + c) % 7) as f32;
                    format!("{}", x * scale)
                })
                .collect();
            row.join(",") + "\n"
        })
        .collect()
}

#[test]
fn equivariant_stacks_scale_with_the_input() {
    let dir = tempfile::tempdir().unwrap();
    let (x1, x2) = (dir.path().join("x1.csv"), dir.path().join("x2.csv"));
    fs::write(&x1, csv(1.0)).unwrap();
    fs::write(&x2, csv(2.0)).unwrap();
    let out = dir.path().join("eq.safetensors");
    let o = rbm([
        "train",
        "--equivariant",
        "--layers",
        "12,9,6",
        "--epochs",
        "3",
        "--batch",
        "10",
        "--data",
        &s(&x1),
        "--out",
        &s(&out),
    ]);
    assert_success(&o);
    assert!(
        stderr(&o).contains("(intensity-equivariant: biases held at zero)"),
        "{}",
        stderr(&o)
    );
    let stack = Stack::load(&out).unwrap();
    assert!(stack.is_intensity_equivariant());
    assert_eq!(stack.layers().len(), 3);
    assert_eq!(stack.layers()[0].visible(), VisibleUnit::Gaussian);
    assert!(
        stack.layers()[0].standardization().is_none(),
        "own data: no map"
    );
    for l in stack.layers() {
        assert_eq!(l.hidden(), HiddenUnit::Nrelu);
        assert!(l.hidden_bias().iter().all(|&c| c == 0.0));
        assert!(l.visible_bias().iter().all(|&b| b == 0.0));
    }

    let (h1, h2) = (dir.path().join("h1.npy"), dir.path().join("h2.npy"));
    assert_success(&transform(&out, &h1, &["--data", &s(&x1), "-q"]));
    assert_success(&transform(&out, &h2, &["--data", &s(&x2), "-q"]));
    let ((r1, c1), f1) = read_npy_2d(&h1);
    let (shape2, f2) = read_npy_2d(&h2);
    assert_eq!(((r1, c1), shape2), ((40, 6), (40, 6)));
    assert!(f1.iter().any(|&v| v > 0.0), "some feature is active");
    for (a, b) in f1.iter().zip(&f2) {
        let want = 2.0 * a;
        assert!(
            (b - want).abs() <= 1e-5 * want.abs().max(1e-30),
            "f(2x) = {b}, 2 f(x) = {want}"
        );
    }

    // On the digits the map is the pure scale x / 16.
    let digits = dir.path().join("d.safetensors");
    assert_success(&rbm([
        "train",
        "-q",
        "--equivariant",
        "--layers",
        "8",
        "--epochs",
        "1",
        "--out",
        &s(&digits),
    ]));
    let d = Stack::load(&digits).unwrap();
    assert!(d.is_intensity_equivariant());
    let map = d.layers()[0].standardization().unwrap();
    assert_eq!(
        (map.mean().to_vec(), map.std().to_vec()),
        (vec![0.0; 64], vec![16.0; 64])
    );
}

#[test]
fn stack_option_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s.safetensors");
    let o = s(&out);
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["--layers", "20,10", "--hidden", "5"],
            "cannot be used with",
        ),
        (vec!["--layers", "20,0"], "must be at least 1"),
        (vec!["--layers", "20,x"], "--layers"),
        (vec!["--equivariant"], "--layers"),
        (
            vec!["--layers", "4", "--equivariant", "--visible", "gaussian"],
            "cannot be used with",
        ),
        (
            vec![
                "--layers",
                "4",
                "--equivariant",
                "--hidden-units",
                "bernoulli",
            ],
            "cannot be used with",
        ),
        (vec!["--layers", "4", "--lr", "0"], "--lr"),
    ];
    for (extra, needle) in cases {
        let mut a = vec!["train".to_owned(), "--out".to_owned(), o.clone()];
        a.extend(extra.iter().map(|x| x.to_string()));
        assert_fails(&a, 2, needle);
        assert!(!out.exists(), "{a:?}");
    }
    // Divergence names the layer.
    let mut a: Vec<String> = ["train", "-q", "--layers", "8,8", "--lr", "5", "--out", &o]
        .iter()
        .map(|x| x.to_string())
        .collect();
    a.extend(["--visible", "gaussian"].map(String::from));
    assert_fails(&a, 2, "training diverged in layer 1/2");
    assert!(!out.exists());

    // transform of a stack: the bottom layer's width is checked.
    let stack = PathBuf::from(&o);
    assert_success(&rbm([
        "train", "-q", "--layers", "6,4", "--epochs", "1", "--out", &o,
    ]));
    let six = dir.path().join("six.csv");
    fs::write(&six, "0,1,0,1,0,1\n").unwrap();
    let h = dir.path().join("h.npy");
    let mut a = vec!["transform".to_owned(), "--model".to_owned(), s(&stack)];
    a.extend(["--out".to_owned(), s(&h), "--data".to_owned(), s(&six)]);
    assert_fails(
        &a,
        2,
        "shape mismatch: the data has 6 columns but the model has 64 visible units",
    );
    assert!(!h.exists());
}
