//! The embedding API: `Rbm::features`/`features_into` and the same on
//! `Stack` give the bytes of `rbm transform` (compared here with the CLI's
//! `.npy` output for a model and a stack), equal one product on all rows
//! bit for bit whatever the number of rows (the rows are processed in
//! blocks), and reject bad input with typed errors.

mod cli_common;

use cli_common::*;
use nrelu_rbm::units::HiddenUnit;
use nrelu_rbm::{Rbm, RbmError, Stack, Standardization, VisibleUnit, npy};

const UNITS: [HiddenUnit; 4] = [
    HiddenUnit::Bernoulli,
    HiddenUnit::binomial_of::<3>(),
    HiddenUnit::Ssu,
    HiddenUnit::Nrelu,
];

/// Row counts around the 16-row product tile and the 256-row blocks.
const ROWS: [usize; 10] = [1, 15, 16, 17, 255, 256, 257, 512, 600, 1797];

fn raw(rows: usize, cols: usize, scale: f32) -> Vec<f32> {
    (0..rows * cols)
        .map(|i| ((i * 7919 + 13) % 17) as f32 * scale / 16.0)
        .collect()
}

fn bits(x: &[f32]) -> Vec<u32> {
    x.iter().map(|v| v.to_bits()).collect()
}

/// A model with random weights and biases (so that every unit type's means
/// are far from trivial), with an input map if `map`.
fn model(v: usize, h: usize, visible: VisibleUnit, hidden: HiddenUnit, map: bool) -> Rbm {
    let base = Rbm::new(v, h, visible, hidden, 3).unwrap();
    let w: Vec<f32> = base.weights().iter().map(|w| w * 100.0).collect();
    let c: Vec<f32> = (0..h).map(|j| (j as f32 - h as f32 / 2.0) / 8.0).collect();
    let map = map.then(|| {
        Standardization::new(
            (0..v).map(|i| i as f32 / 7.0).collect(),
            (0..v).map(|i| 0.5 + i as f32 / 11.0).collect(),
        )
        .unwrap()
    });
    Rbm::from_parts(visible, hidden, w, vec![0.1; v], c, map).unwrap()
}

/// The reference: the input map applied to a copy, then one `hidden_means`
/// call per layer on all rows.
fn reference(layers: &[Rbm], raw: &[f32]) -> Vec<f32> {
    let mut x = raw.to_vec();
    if let Some(map) = layers[0].standardization() {
        map.apply(&mut x).unwrap();
    }
    for l in layers {
        x = l.hidden_means(&x).unwrap();
    }
    x
}

#[test]
fn features_equal_one_product_on_all_rows_for_any_row_count() {
    for unit in UNITS {
        for (visible, map, scale) in [
            (VisibleUnit::Bernoulli, false, 1.0),
            (VisibleUnit::Bernoulli, true, 16.0),
            (VisibleUnit::Gaussian, true, 16.0),
            (VisibleUnit::Gaussian, false, 3.0),
        ] {
            let rbm = model(40, 37, visible, unit, map);
            let top = model(37, 9, VisibleUnit::Gaussian, HiddenUnit::Nrelu, false);
            let stack = Stack::new(vec![rbm.clone(), top.clone()]).unwrap();
            for rows in ROWS {
                let x = raw(rows, 40, scale);
                let want = reference(std::slice::from_ref(&rbm), &x);
                let got = rbm.features(&x).unwrap();
                let what = format!("{unit} {visible} map {map}, {rows} rows");
                assert_eq!(bits(&got), bits(&want), "{what}");
                let mut into = vec![f32::NAN; rows * 37];
                rbm.features_into(&x, &mut into).unwrap();
                assert_eq!(bits(&into), bits(&want), "{what} (into)");

                let want = reference(&[rbm.clone(), top.clone()], &x);
                assert_eq!(bits(&stack.features(&x).unwrap()), bits(&want), "{what}");
                let mut into = vec![f32::NAN; rows * 9];
                stack.features_into(&x, &mut into).unwrap();
                assert_eq!(bits(&into), bits(&want), "{what} (stack, into)");
            }
        }
    }
}

#[test]
fn bad_input_is_a_typed_error() {
    let plain = model(4, 3, VisibleUnit::Bernoulli, HiddenUnit::Nrelu, false);
    let mapped = model(4, 3, VisibleUnit::Gaussian, HiddenUnit::Nrelu, true);
    for rbm in [&plain, &mapped] {
        assert!(matches!(
            rbm.features(&[0.5; 7]),
            Err(RbmError::Ragged {
                got: 7,
                width: 4,
                ..
            })
        ));
        assert!(matches!(rbm.features(&[]), Err(RbmError::EmptyData { .. })));
        let mut x = [0.5; 8];
        x[6] = f32::NAN;
        let e = rbm.features(&x).unwrap_err();
        match (rbm.standardization(), &e) {
            (Some(_), RbmError::NonFinite { row: 2, col: 3, .. }) => {}
            (None, RbmError::OutOfRange { row: 2, col: 3, .. }) => {}
            _ => panic!("{e:?}"),
        }
        let mut out = [0.0; 5];
        assert!(matches!(
            rbm.features_into(&[0.5; 8], &mut out),
            Err(RbmError::OutputSize {
                got: 5,
                want: 6,
                ..
            })
        ));
    }
    // Bernoulli visible units without a map need [0, 1], as on the command
    // line; with a map, or Gaussian units, any finite value is accepted.
    let e = plain.features(&[0.0, 1.0, 1.5, 0.0]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "the data has a value outside [0, 1] (Bernoulli visible units without an input map) \
         (1.5) at row 1, column 3 (both from 1)"
    );
    assert!(mapped.features(&[0.0, 1.0, 1.5, -7.0]).is_ok());
    // A value that the input map sends to infinity, in a later block.
    let mut x = vec![0.0; 4 * 600];
    x[4 * 500 + 1] = f32::MAX;
    let tiny = Rbm::from_parts(
        VisibleUnit::Gaussian,
        HiddenUnit::Nrelu,
        vec![0.0; 12],
        vec![0.0; 4],
        vec![0.0; 3],
        Some(Standardization::new(vec![-f32::MAX / 4.0; 4], vec![0.5; 4]).unwrap()),
    )
    .unwrap();
    assert!(matches!(
        tiny.features(&x),
        Err(RbmError::NonFinite {
            row: 501,
            col: 2,
            ..
        })
    ));
}

fn read_npy(path: &std::path::Path) -> (Vec<usize>, Vec<f32>) {
    let a = npy::read_file(path).unwrap();
    (a.shape.clone(), a.as_f32().unwrap().to_vec())
}

/// `rbm transform --data` on a raw `.npy` (pixels 0..=16, as the digits)
/// against the library's features of the same rows, for a one-layer model
/// and a two-layer stack trained by `rbm train`; and on the embedded
/// digits.
#[test]
fn features_equal_rbm_transform_bit_for_bit() {
    let dir = tempfile::tempdir().unwrap();
    // Past two of the command's 4096-row output chunks.
    let rows = 2 * 4096 + 3;
    let x = raw(rows, 64, 16.0);
    let data = dir.path().join("raw.npy");
    std::fs::write(
        &data,
        npy::write_array(Vec::new(), &[rows, 64], &x).unwrap(),
    )
    .unwrap();
    let digits = nrelu_rbm::data::Dataset::digits();
    for (name, extra) in [
        ("model", vec!["--hidden", "20"]),
        ("stack", vec!["--layers", "20,7"]),
        ("gaussian", vec!["--hidden", "12", "--visible", "gaussian"]),
    ] {
        let model = dir.path().join(format!("{name}.safetensors"));
        let mut a = args(&["train", "-q", "--epochs", "2", "--seed", "5", "--out"]);
        a.push(s(&model));
        a.extend(extra.iter().map(|e| e.to_string()));
        assert_success(&rbm(&a));
        let stack = Stack::load(&model).unwrap();
        for (source, raw_rows) in [(Some(&data), &x[..]), (None, digits.values())] {
            let out = dir.path().join(format!("{name}-out.npy"));
            let mut a = args(&["transform", "-q", "--model", &s(&model), "--out", &s(&out)]);
            if let Some(d) = source {
                a.extend(["--data".to_owned(), s(d)]);
            }
            assert_success(&rbm(&a));
            let (shape, cli) = read_npy(&out);
            let n = raw_rows.len() / 64;
            assert_eq!(shape, [n, stack.n_output()], "{name}");
            assert_eq!(
                bits(&stack.features(raw_rows).unwrap()),
                bits(&cli),
                "{name}"
            );
            let mut into = vec![0.0; cli.len()];
            stack.features_into(raw_rows, &mut into).unwrap();
            assert_eq!(bits(&into), bits(&cli), "{name} (into)");
            if stack.layers().len() == 1 {
                let model = Rbm::load(&model).unwrap();
                assert_eq!(
                    bits(&model.features(raw_rows).unwrap()),
                    bits(&cli),
                    "{name}"
                );
            }
        }
    }
}
