//! Centring and parallel tempering in `train`: the centred step against
//! Algorithm 1 of Melchior, Fischer & Wiskott (2016) written out in f64,
//! thread-count independence of whole runs, and the checks of the options.

use nrelu_rbm::train::{Sampling, TrainConfig, Trainer, train};
use nrelu_rbm::units::HiddenUnit;
use nrelu_rbm::{Rbm, RbmError, VisibleUnit};

mod common;
use common::quiet;

const V: usize = 12;
const H: usize = 9;
const B: usize = 10;

/// `rows` binary rows from a fixed xorshift sequence.
fn data(rows: usize, seed: u64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..rows * V)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s.is_multiple_of(3) as u8 as f32
        })
        .collect()
}

fn model(unit: HiddenUnit) -> Rbm {
    let mut rbm = Rbm::new(V, H, VisibleUnit::Bernoulli, unit, 5).unwrap();
    // Biases away from zero, so that every term of the step matters.
    let b: Vec<f32> = (0..V).map(|i| 0.1 * i as f32 - 0.5).collect();
    let c: Vec<f32> = (0..H).map(|j| 0.3 - 0.07 * j as f32).collect();
    let w: Vec<f32> = rbm.weights().iter().map(|w| 30.0 * w).collect();
    rbm = Rbm::from_parts(VisibleUnit::Bernoulli, unit, w, b, c, None).unwrap();
    rbm
}

/// The first centred step from the data's means equals Algorithm 1: with
/// offsets μ = mean(X), λ = mean(h⁺), the centred weight step
/// η/B·(G − μg_cᵀ − g_bλᵀ), the bias steps η/B·g_b and η/B·g_c on the
/// centred biases, and the standard biases b − Wλ, c − Wᵀμ of the result.
/// G, g_b and g_c come from a plain step with the same seed (the phases do
/// not depend on centring); λ from `Rbm::hidden_means`.
#[test]
fn a_centred_step_is_algorithm_1() {
    for unit in [
        HiddenUnit::Bernoulli,
        HiddenUnit::Nrelu,
        HiddenUnit::Ssu,
        HiddenUnit::binomial_of::<4>(),
    ] {
        for sampling in [Sampling::Cd(1), Sampling::Pcd(2)] {
            let x = data(B, 3);
            let rbm0 = model(unit);
            let lr = 0.1f32;
            let cfg = TrainConfig::default()
                .with_batch_size(B)
                .with_learning_rate(lr)
                .with_momentum(0.0)
                .with_weight_decay(0.0)
                .with_sampling(sampling)
                .with_threads(1);
            let mut plain = rbm0.clone();
            Trainer::new(&plain, &cfg)
                .unwrap()
                .step(&mut plain, &x)
                .unwrap();
            let mut centred = rbm0.clone();
            Trainer::new(&centred, &cfg.clone().with_centering(Some(0.3)))
                .unwrap()
                .step(&mut centred, &x)
                .unwrap();

            let s = f64::from(lr) / B as f64;
            let f = |v: &[f32]| v.iter().map(|&a| f64::from(a)).collect::<Vec<f64>>();
            let (w0, b0, c0) = (
                f(rbm0.weights()),
                f(rbm0.visible_bias()),
                f(rbm0.hidden_bias()),
            );
            let (wp, bp, cp) = (
                f(plain.weights()),
                f(plain.visible_bias()),
                f(plain.hidden_bias()),
            );
            let g: Vec<f64> = wp.iter().zip(&w0).map(|(a, b)| (a - b) / s).collect();
            let gb: Vec<f64> = bp.iter().zip(&b0).map(|(a, b)| (a - b) / s).collect();
            let gc: Vec<f64> = cp.iter().zip(&c0).map(|(a, b)| (a - b) / s).collect();
            let mu: Vec<f64> = (0..V)
                .map(|i| (0..B).map(|r| f64::from(x[r * V + i])).sum::<f64>() / B as f64)
                .collect();
            let hm = rbm0.hidden_means(&x).unwrap();
            let lambda: Vec<f64> = (0..H)
                .map(|j| (0..B).map(|r| f64::from(hm[r * H + j])).sum::<f64>() / B as f64)
                .collect();
            // Algorithm 1 in centred coordinates, then back to standard.
            let mut w1 = vec![0.0; V * H];
            for i in 0..V {
                for j in 0..H {
                    w1[i * H + j] =
                        w0[i * H + j] + s * (g[i * H + j] - mu[i] * gc[j] - gb[i] * lambda[j]);
                }
            }
            let wl = |w: &[f64], i: usize| (0..H).map(|j| w[i * H + j] * lambda[j]).sum::<f64>();
            let wtm = |w: &[f64], j: usize| (0..V).map(|i| w[i * H + j] * mu[i]).sum::<f64>();
            let b1: Vec<f64> = (0..V)
                .map(|i| (b0[i] + wl(&w0, i)) + s * gb[i] - wl(&w1, i))
                .collect();
            let c1: Vec<f64> = (0..H)
                .map(|j| (c0[j] + wtm(&w0, j)) + s * gc[j] - wtm(&w1, j))
                .collect();

            let close = |what: &str, got: &[f32], want: &[f64]| {
                for (k, (&a, &b)) in got.iter().zip(want).enumerate() {
                    assert!(
                        (f64::from(a) - b).abs() <= 2e-5 * (1.0 + b.abs()),
                        "{unit} {sampling:?} {what}[{k}]: {a} vs {b}"
                    );
                }
            };
            close("W", centred.weights(), &w1);
            close("b", centred.visible_bias(), &b1);
            close("c", centred.hidden_bias(), &c1);
            // The centred step really differs from the plain one.
            assert!(centred.weights() != plain.weights(), "{unit} {sampling:?}");
        }
    }
}

/// Whole runs with centring and with tempering: the same bits on 1, 2 and
/// 3 threads (batch 37: ragged row blocks and column tiles).
#[test]
fn centred_and_tempered_runs_are_thread_independent() {
    let x: Vec<f32> = data(150, 9);
    let cases = [
        (HiddenUnit::Nrelu, Sampling::Cd(1), Some(0.01), 1, 0.5),
        (HiddenUnit::Ssu, Sampling::Pcd(1), Some(0.1), 1, 0.0),
        (HiddenUnit::Bernoulli, Sampling::Pcd(1), None, 4, 0.0),
        (
            HiddenUnit::binomial_of::<2>(),
            Sampling::Pcd(3),
            Some(0.05),
            3,
            0.5,
        ),
    ];
    for (unit, sampling, centering, tempering, momentum) in cases {
        let run = |threads: usize| {
            let mut rbm = model(unit);
            let cfg = TrainConfig::default()
                .with_epochs(3)
                .with_batch_size(37)
                .with_momentum(momentum)
                .with_sampling(sampling)
                .with_centering(centering)
                .with_tempering(tempering)
                .with_seed(4)
                .with_threads(threads);
            let report = train(&mut rbm, &x, &cfg, quiet).unwrap();
            let acc: Vec<Vec<f64>> = report
                .epochs
                .iter()
                .map(|e| e.swap_acceptance.clone())
                .collect();
            (rbm, acc)
        };
        let (one, acc1) = run(1);
        for threads in [2, 3] {
            let (many, acc) = run(threads);
            assert_eq!(one, many, "{unit} {sampling:?} on {threads} threads");
            assert_eq!(acc1, acc);
        }
        assert!(acc1.iter().all(|a| a.len() == tempering - 1));
        if tempering > 1 {
            assert!(
                acc1.iter().flatten().all(|&a| a > 0.0 && a <= 1.0),
                "{acc1:?}"
            );
        }
    }
}

#[test]
fn options_are_checked() {
    let bad = |cfg: TrainConfig, name: &str| match cfg.validate() {
        Err(RbmError::InvalidParameter { name: n, .. }) => assert_eq!(n, name),
        other => panic!("{name}: {other:?}"),
    };
    let base = TrainConfig::default();
    for rate in [0.0, -0.1, 1.5, f32::NAN] {
        bad(base.clone().with_centering(Some(rate)), "centering");
    }
    bad(
        base.clone()
            .with_centering(Some(0.01))
            .with_update_biases(false),
        "centering",
    );
    bad(base.clone().with_tempering(0), "pt");
    bad(base.clone().with_tempering(3), "pt"); // CD: no persistent chains
    bad(
        base.clone()
            .with_sampling(Sampling::Pcd(1))
            .with_tempering(65),
        "pt",
    );
    assert!(base.clone().with_centering(Some(1.0)).validate().is_ok());
    assert_eq!(base.centering(), None);
    assert_eq!(base.tempering(), 1);
    // Units without a tempered sampler are refused by the trainer.
    let pt = base.with_sampling(Sampling::Pcd(1)).with_tempering(2);
    for (visible, unit) in [
        (VisibleUnit::Bernoulli, HiddenUnit::Nrelu),
        (VisibleUnit::Bernoulli, HiddenUnit::Ssu),
        (VisibleUnit::Gaussian, HiddenUnit::Bernoulli),
    ] {
        let rbm = Rbm::new(4, 3, visible, unit, 1).unwrap();
        match Trainer::new(&rbm, &pt) {
            Err(RbmError::InvalidParameter { name, .. }) => assert_eq!(name, "pt"),
            other => panic!("{unit}: {:?}", other.err()),
        }
    }
    // Sampling without tempering is refused.
    let rbm = Rbm::new(4, 3, VisibleUnit::Bernoulli, HiddenUnit::Bernoulli, 1).unwrap();
    let mut t = Trainer::new(&rbm, &TrainConfig::default()).unwrap();
    assert!(t.sample_tempered(&rbm, 1).is_err());
    assert!(t.take_swap_acceptance().is_empty());
}
