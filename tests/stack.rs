//! Deep stacks: greedy training, transform, one-file persistence, and the
//! intensity-equivariant NReLU recipe with its negative controls.

use nrelu_rbm::stack::{LayerSpec, Stack, cosine_similarity, train_equivariant_stack, train_stack};
use nrelu_rbm::train::{Progress, TrainConfig};
use nrelu_rbm::units::HiddenUnit;
use nrelu_rbm::{Rbm, VisibleUnit};
use std::ops::ControlFlow;

fn data(rows: usize, v: usize, seed: u64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..rows * v)
        .map(|i| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let proto = (i / v) % 3;
            let base = if (i % v) * 3 / v == proto { 0.8 } else { 0.1 };
            base + 0.2 * ((s >> 40) as f32 / (1u64 << 24) as f32)
        })
        .collect()
}

fn quiet(_: usize, _: Progress<'_>) -> ControlFlow<()> {
    ControlFlow::Continue(())
}

fn cfg(seed: u64, visible: VisibleUnit) -> TrainConfig {
    TrainConfig::default_for(visible)
        .with_epochs(5)
        .with_batch_size(20)
        .with_seed(seed)
        .with_threads(1)
}

#[test]
fn stacks_reject_mismatched_layers() {
    let a = Rbm::new(6, 4, VisibleUnit::Bernoulli, HiddenUnit::Nrelu, 1).unwrap();
    let b = Rbm::new(5, 2, VisibleUnit::Gaussian, HiddenUnit::Nrelu, 1).unwrap();
    assert!(Stack::new(vec![a, b]).is_err());
    assert!(Stack::new(vec![]).is_err());
    let x = data(10, 6, 2);
    let r = train_stack(&x, 6, VisibleUnit::Bernoulli, &[], &[], quiet);
    assert!(r.is_err());
}

fn rel_err(a: &[f32], b: &[f32]) -> f64 {
    let d: f64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
        .sum();
    let n: f64 = b.iter().map(|&y| f64::from(y).powi(2)).sum();
    (d / n).sqrt()
}

#[test]
fn the_equivariant_recipe_scales_features_and_keeps_cosines() {
    let x = data(80, 16, 3);
    let configs: Vec<_> = (0..3)
        .map(|i| cfg(i, VisibleUnit::Gaussian).with_learning_rate(0.01))
        .collect();
    let (stack, _) = train_equivariant_stack(&x, 16, &[12, 9, 6], &configs, quiet).unwrap();
    assert!(stack.is_intensity_equivariant());
    assert!(stack.layers().iter().all(|l| {
        l.hidden_bias()
            .iter()
            .chain(l.visible_bias())
            .all(|&b| b == 0.0)
    }));
    let f = stack.transform(&x).unwrap();
    assert!(f.iter().any(|&v| v > 0.0), "features must not all be zero");
    for alpha in [1e-3f32, 0.25, 0.5, 2.0, 4.0, 1e3] {
        let xs: Vec<f32> = x.iter().map(|&v| alpha * v).collect();
        let fs = stack.transform(&xs).unwrap();
        let scaled: Vec<f32> = f.iter().map(|&v| alpha * v).collect();
        assert!(
            rel_err(&fs, &scaled) < 1e-5,
            "alpha {alpha}: {}",
            rel_err(&fs, &scaled)
        );
        for r in 0..10 {
            let (a, b) = (&f[r * 6..r * 6 + 6], &fs[r * 6..r * 6 + 6]);
            if a.iter().any(|&v| v > 0.0) {
                assert!((cosine_similarity(a, b) - 1.0).abs() < 1e-6);
            }
            let (c, d) = (
                &f[(r + 10) * 6..(r + 11) * 6],
                &fs[(r + 10) * 6..(r + 11) * 6],
            );
            assert!((cosine_similarity(a, c) - cosine_similarity(b, d)).abs() < 1e-6);
        }
    }
}

#[test]
fn sigmoid_units_or_nonzero_biases_break_equivariance() {
    let x = data(80, 16, 4);
    let configs: Vec<_> = (0..2)
        .map(|i| cfg(i, VisibleUnit::Gaussian).with_learning_rate(0.01))
        .collect();
    let sigmoid_specs = [
        LayerSpec::new(10, HiddenUnit::Bernoulli),
        LayerSpec::new(6, HiddenUnit::Bernoulli),
    ];
    let (sig, _) = train_stack(
        &x,
        16,
        VisibleUnit::Gaussian,
        &sigmoid_specs,
        &configs,
        quiet,
    )
    .unwrap();
    let relu_specs = [
        LayerSpec::new(10, HiddenUnit::Nrelu),
        LayerSpec::new(6, HiddenUnit::Nrelu),
    ];
    let (biased, _) =
        train_stack(&x, 16, VisibleUnit::Gaussian, &relu_specs, &configs, quiet).unwrap();
    assert!(
        biased
            .layers()
            .iter()
            .any(|l| l.hidden_bias().iter().any(|&c| c != 0.0))
    );
    for stack in [&sig, &biased] {
        assert!(!stack.is_intensity_equivariant());
        let f = stack.transform(&x).unwrap();
        let xs: Vec<f32> = x.iter().map(|&v| 4.0 * v).collect();
        let fs = stack.transform(&xs).unwrap();
        let scaled: Vec<f32> = f.iter().map(|&v| 4.0 * v).collect();
        assert!(
            rel_err(&fs, &scaled) > 1e-2,
            "the control must break f(4v) = 4f(v)"
        );
    }
}
