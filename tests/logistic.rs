//! The multinomial logistic regression of `nrelu_rbm::logistic`: its
//! gradient against central finite differences, convergence, separable
//! data, determinism, standardisation and input errors.

use nrelu_rbm::RbmError;
use nrelu_rbm::logistic::{LogisticConfig, LogisticRegression};

/// Deterministic values in [−1, 1) (xorshift64*).
fn noise(n: usize, seed: u64) -> Vec<f64> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s >> 12;
            s ^= s << 25;
            s ^= s >> 27;
            let u = (s.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64;
            2.0 * u - 1.0
        })
        .collect()
}

/// `n` rows of `d` features around `c` class centres (spread `spread`),
/// with labels cycling through the classes.
fn blobs(n: usize, d: usize, c: usize, spread: f64, seed: u64) -> (Vec<f32>, Vec<usize>) {
    let centres = noise(c * d, seed);
    let jitter = noise(n * d, seed + 1);
    let mut x = Vec::with_capacity(n * d);
    let labels: Vec<usize> = (0..n).map(|i| i % c).collect();
    for (i, &y) in labels.iter().enumerate() {
        for j in 0..d {
            x.push((3.0 * centres[y * d + j] + spread * jitter[i * d + j]) as f32);
        }
    }
    (x, labels)
}

#[test]
fn gradient_matches_central_differences() {
    let (n, d, c) = (30, 5, 4);
    let (x, y) = blobs(n, d, c, 2.0, 7);
    let w = noise(d * c, 3);
    let b = noise(c, 4);
    let l2 = 0.3;
    let model = LogisticRegression::from_parts(d, c, w.clone(), b.clone()).unwrap();
    let g = model.loss_and_gradient(&x, &y, l2).unwrap();
    let loss = |w: &[f64], b: &[f64]| {
        LogisticRegression::from_parts(d, c, w.to_vec(), b.to_vec())
            .unwrap()
            .loss_and_gradient(&x, &y, l2)
            .unwrap()
            .loss
    };
    assert!((g.loss - loss(&w, &b)).abs() == 0.0);
    let h = 1e-5;
    let mut worst: f64 = 0.0;
    for k in 0..w.len() {
        let (mut up, mut down) = (w.clone(), w.clone());
        up[k] += h;
        down[k] -= h;
        let fd = (loss(&up, &b) - loss(&down, &b)) / (2.0 * h);
        worst = worst.max((fd - g.weights[k]).abs() / (1.0 + fd.abs()));
    }
    for k in 0..b.len() {
        let (mut up, mut down) = (b.clone(), b.clone());
        up[k] += h;
        down[k] -= h;
        let fd = (loss(&w, &up) - loss(&w, &down)) / (2.0 * h);
        worst = worst.max((fd - g.bias[k]).abs() / (1.0 + fd.abs()));
    }
    // Central differences are accurate to O(h²) ≈ 1e-10 plus rounding
    // of about 1e-16 / h ≈ 1e-11.
    assert!(worst < 1e-8, "worst relative gradient error {worst:e}");
}

#[test]
fn separable_data_is_classified_perfectly() {
    // Well-separated blobs in 3 dimensions, 5 classes.
    let (x, y) = blobs(200, 3, 5, 0.2, 11);
    let model = LogisticRegression::fit(&x, &y, 5, &LogisticConfig::default()).unwrap();
    assert_eq!(model.accuracy(&x, &y).unwrap(), 1.0);
    let p = model.probabilities(&x[..6]).unwrap();
    for row in p.chunks_exact(5) {
        assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }
    // A point near a centre gets that centre's class.
    assert_eq!(model.predict(&x[3 * 3..4 * 3]).unwrap(), [y[3]]);
}

#[test]
fn fitting_converges_to_the_optimum() {
    // Overlapping classes: a unique optimum in the interior.
    let (x, y) = blobs(120, 4, 3, 3.0, 5);
    let cfg = LogisticConfig {
        l2: 1e-2,
        iterations: 2000,
        standardize: false,
    };
    let model = LogisticRegression::fit(&x, &y, 3, &cfg).unwrap();
    let g = model.loss_and_gradient(&x, &y, cfg.l2).unwrap();
    let norm = g
        .weights
        .iter()
        .chain(&g.bias)
        .map(|v| v * v)
        .sum::<f64>()
        .sqrt();
    assert!(norm < 1e-8, "gradient norm at the end {norm:e}");
    // Fewer iterations leave a larger loss.
    let short = LogisticRegression::fit(
        &x,
        &y,
        3,
        &LogisticConfig {
            iterations: 3,
            ..cfg.clone()
        },
    )
    .unwrap();
    assert!(short.loss_and_gradient(&x, &y, cfg.l2).unwrap().loss > g.loss);
}

#[test]
fn fitting_is_deterministic() {
    let (x, y) = blobs(90, 6, 3, 1.5, 9);
    let cfg = LogisticConfig::default();
    let a = LogisticRegression::fit(&x, &y, 3, &cfg).unwrap();
    let b = LogisticRegression::fit(&x, &y, 3, &cfg).unwrap();
    assert_eq!(a, b);
    assert!(a.weights().iter().any(|&w| w != 0.0));
}

#[test]
fn standardisation_makes_the_fit_scale_free() {
    let (x, y) = blobs(150, 4, 3, 1.0, 13);
    // Column 2 in wildly different units.
    let scaled: Vec<f32> = x
        .iter()
        .enumerate()
        .map(|(i, &v)| if i % 4 == 2 { v * 1000.0 + 5000.0 } else { v })
        .collect();
    let cfg = LogisticConfig::default();
    let a = LogisticRegression::fit(&x, &y, 3, &cfg).unwrap();
    let b = LogisticRegression::fit(&scaled, &y, 3, &cfg).unwrap();
    assert_eq!(a.predict(&x).unwrap(), b.predict(&scaled).unwrap());
    for (wa, wb) in a.weights().iter().zip(b.weights()) {
        assert!((wa - wb).abs() < 1e-3, "{wa} vs {wb}");
    }
    let ((ma, sa), (mb, sb)) = (a.standardization(), b.standardization());
    assert!(
        (mb[2] - (1000.0 * ma[2] + 5000.0)).abs() < 1e-2,
        "{} {}",
        mb[2],
        ma[2]
    );
    assert!((sb[2] * 1000.0 / sa[2] - 1.0).abs() < 1e-5);
}

#[test]
fn bad_inputs_are_typed_errors() {
    let cfg = LogisticConfig::default();
    let x = [0.0f32, 1.0, 2.0, 3.0];
    let param = |r: Result<LogisticRegression, RbmError>, name: &str| match r {
        Err(RbmError::InvalidParameter { name: n, .. }) => assert_eq!(n, name),
        other => panic!("expected an invalid {name}, got {other:?}"),
    };
    param(LogisticRegression::fit(&x, &[0, 2], 2, &cfg), "label");
    param(LogisticRegression::fit(&x, &[0, 0], 1, &cfg), "classes");
    let bad_l2 = LogisticConfig {
        l2: 0.0,
        ..cfg.clone()
    };
    param(LogisticRegression::fit(&x, &[0, 1], 2, &bad_l2), "l2");
    let no_steps = LogisticConfig {
        iterations: 0,
        ..cfg.clone()
    };
    param(
        LogisticRegression::fit(&x, &[0, 1], 2, &no_steps),
        "iterations",
    );
    assert!(matches!(
        LogisticRegression::fit(&x, &[0, 1, 0], 2, &cfg),
        Err(RbmError::Ragged { .. })
    ));
    assert!(matches!(
        LogisticRegression::fit(&[], &[], 2, &cfg),
        Err(RbmError::EmptyData { .. })
    ));
    assert!(matches!(
        LogisticRegression::fit(&[0.0, f32::NAN], &[0, 1], 2, &cfg),
        Err(RbmError::NonFinite { row: 2, col: 1, .. })
    ));
    let m = LogisticRegression::fit(&x, &[0, 1], 2, &cfg).unwrap();
    assert_eq!(m.n_features(), 2);
    assert_eq!(m.n_classes(), 2);
    assert!(matches!(m.predict(&[1.0]), Err(RbmError::Ragged { .. })));
    assert!(matches!(
        m.accuracy(&x, &[0]),
        Err(RbmError::OutputSize { .. })
    ));
    assert!(LogisticRegression::from_parts(2, 2, vec![0.0; 3], vec![0.0; 2]).is_err());
    assert!(LogisticRegression::from_parts(1, 2, vec![f64::NAN, 0.0], vec![0.0; 2]).is_err());
}
