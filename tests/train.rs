//! Training: reproducibility across thread counts, learning, typed errors,
//! divergence handling.

use nrelu_rbm::train::{Progress, Sampling, TrainConfig, train};
use nrelu_rbm::units::HiddenUnit;
use nrelu_rbm::{Rbm, RbmError, VisibleUnit};
use std::ops::ControlFlow;

mod common;
use common::{bits, patterns, quiet};

fn config(sampling: Sampling, threads: usize) -> TrainConfig {
    TrainConfig::default()
        .with_epochs(3)
        .with_batch_size(37)
        .with_learning_rate(0.05)
        .with_momentum(0.5)
        .with_weight_decay(1e-3)
        .with_sampling(sampling)
        .with_seed(11)
        .with_threads(threads)
        .with_sample_visible(false)
        .with_update_biases(true)
}

const UNITS: [HiddenUnit; 4] = [
    HiddenUnit::Bernoulli,
    HiddenUnit::Nrelu,
    HiddenUnit::Ssu,
    HiddenUnit::binomial_of::<3>(),
];

#[test]
fn same_seed_gives_bit_identical_weights_for_any_thread_count() {
    // 40 visible and 37 hidden units: wide enough that the layer products
    // are split into column blocks of 16 (and a ragged last block) for 2, 3
    // and 5 threads, as well as into row blocks.
    // Momentum 0.5 and 0: the two ways the update is folded into the
    // gradient product.
    let data = patterns(203, 40, 1);
    for (unit, momentum) in UNITS.into_iter().flat_map(|u| [(u, 0.5), (u, 0.0)]) {
        for sampling in [Sampling::Cd(1), Sampling::Cd(2), Sampling::Pcd(1)] {
            let mut models = Vec::new();
            for threads in [1, 2, 3, 5] {
                let mut rbm = Rbm::new(40, 37, VisibleUnit::Bernoulli, unit, 5).unwrap();
                let cfg = config(sampling, threads).with_momentum(momentum);
                let r = train(&mut rbm, &data, &cfg, quiet).unwrap();
                models.push((threads, rbm, r));
            }
            let (_, first, r0) = &models[0];
            for (threads, m, r) in &models[1..] {
                let same = m
                    .weights()
                    .iter()
                    .zip(first.weights())
                    .all(|(a, b)| a.to_bits() == b.to_bits())
                    && m.hidden_bias()
                        .iter()
                        .zip(first.hidden_bias())
                        .all(|(a, b)| a.to_bits() == b.to_bits())
                    && m.visible_bias()
                        .iter()
                        .zip(first.visible_bias())
                        .all(|(a, b)| a.to_bits() == b.to_bits());
                assert!(
                    same,
                    "{unit} {sampling:?} momentum {momentum}: {threads} threads differ from 1 thread"
                );
                let e = |r: &nrelu_rbm::train::TrainReport| {
                    r.epochs
                        .iter()
                        .map(|e| e.reconstruction_error.to_bits())
                        .collect::<Vec<_>>()
                };
                assert_eq!(e(r), e(r0));
            }
        }
    }
}

/// Layers whose rows are not whole random-word buffers: 784 units are 49
/// blocks of 16 words a row, so a 4-row sampling call needs words from two
/// buffer refills inside one row. That once made the samplers read past
/// their buffer (`rbm train --hidden 784` panicked); every unit type must
/// train there, with sampled visible units too, to the same bits on any
/// thread count.
#[test]
fn wide_layers_train_with_every_unit_type_on_any_thread_count() {
    let data = patterns(24, 784, 3);
    for unit in UNITS {
        let mut models = Vec::new();
        for threads in [1, 2] {
            let mut rbm = Rbm::new(784, 784, VisibleUnit::Bernoulli, unit, 9).unwrap();
            let cfg = config(Sampling::Cd(1), threads)
                .with_epochs(1)
                .with_batch_size(12)
                .with_sample_visible(true);
            train(&mut rbm, &data, &cfg, quiet).unwrap();
            models.push(bits(&rbm));
        }
        assert!(models[0] == models[1], "{unit}: 2 threads differ from 1");
    }
}

#[test]
fn gaussian_visible_with_sampling_is_reproducible_across_threads() {
    let mut data = patterns(150, 20, 2);
    let s = nrelu_rbm::Standardization::fit(&data, 20).unwrap();
    s.apply(&mut data).unwrap();
    let cfg = config(Sampling::Cd(2), 1)
        .with_learning_rate(0.005)
        .with_sample_visible(true);
    let run = |threads| {
        let mut rbm = Rbm::new(20, 9, VisibleUnit::Gaussian, HiddenUnit::Nrelu, 3).unwrap();
        train(&mut rbm, &data, &cfg.clone().with_threads(threads), quiet).unwrap();
        rbm
    };
    assert_eq!(run(1), run(2));
}

#[test]
fn different_seeds_give_different_models() {
    let data = patterns(100, 16, 3);
    let run = |seed| {
        let mut rbm = Rbm::new(16, 8, VisibleUnit::Bernoulli, HiddenUnit::Nrelu, 1).unwrap();
        train(
            &mut rbm,
            &data,
            &config(Sampling::Cd(1), 1).with_seed(seed),
            quiet,
        )
        .unwrap();
        rbm
    };
    assert_eq!(run(1), run(1));
    assert_ne!(run(1), run(2));
}

#[test]
fn training_reduces_reconstruction_error_for_every_unit_type() {
    let data = patterns(400, 32, 4);
    for unit in UNITS {
        for sampling in [Sampling::Cd(1), Sampling::Pcd(1)] {
            let mut rbm = Rbm::new(32, 16, VisibleUnit::Bernoulli, unit, 9).unwrap();
            let before = rbm.reconstruction_error(&data).unwrap();
            let cfg = config(sampling, 0)
                .with_epochs(15)
                .with_batch_size(20)
                .with_learning_rate(0.05);
            let report = train(&mut rbm, &data, &cfg, quiet).unwrap();
            let after = rbm.reconstruction_error(&data).unwrap();
            assert_eq!(report.epochs.len(), 15);
            // PCD follows the likelihood gradient with chains that wander from
            // the data, so its reconstructions improve less than CD's.
            let factor = if matches!(sampling, Sampling::Cd(_)) {
                0.6
            } else {
                0.75
            };
            assert!(
                after < factor * before,
                "{unit} {sampling:?}: {before} -> {after}"
            );
        }
    }
}

fn expect_err(data: &[f32], rbm: &mut Rbm, cfg: &TrainConfig) -> String {
    train(rbm, data, cfg, quiet).unwrap_err().to_string()
}

#[test]
fn bad_input_gives_typed_errors() {
    let mut rbm = Rbm::new(4, 3, VisibleUnit::Bernoulli, HiddenUnit::Nrelu, 1).unwrap();
    let ok = TrainConfig::default_for(VisibleUnit::Bernoulli);
    let mut data = vec![0.5f32; 40];
    data[4 * 6 + 2] = f32::NAN;
    let e = expect_err(&data, &mut rbm, &ok);
    assert!(e.contains("row 7, column 3"), "{e}");
    assert!(matches!(
        train(&mut rbm, &[], &ok, quiet),
        Err(RbmError::EmptyData { .. })
    ));
    let e = expect_err(&[0.0; 10], &mut rbm, &ok);
    assert!(e.contains("not a multiple of 4"), "{e}");
    for (cfg, needle) in [
        (ok.clone().with_batch_size(0), "batch"),
        (ok.clone().with_sampling(Sampling::Cd(0)), "cd"),
        (ok.clone().with_sampling(Sampling::Pcd(0)), "pcd"),
        (ok.clone().with_learning_rate(f32::NAN), "lr"),
        (ok.clone().with_learning_rate(f32::INFINITY), "lr"),
        (ok.clone().with_momentum(1.0), "momentum"),
        (ok.clone().with_weight_decay(-1.0), "weight-decay"),
        (ok.clone().with_epochs(0), "epochs"),
    ] {
        let e = expect_err(&[0.5; 8], &mut rbm, &cfg);
        assert!(e.starts_with(&format!("invalid {needle}")), "{e}");
    }
    assert!(Rbm::new(4, 0, VisibleUnit::Bernoulli, HiddenUnit::Nrelu, 1).is_err());
    assert!(Rbm::new(0, 3, VisibleUnit::Bernoulli, HiddenUnit::Nrelu, 1).is_err());
    assert!("poisson".parse::<HiddenUnit>().is_err());
    assert!("binary".parse::<VisibleUnit>().is_err());
    let e = rbm.hidden_means(&[0.0; 5]).unwrap_err().to_string();
    assert!(e.contains("shape mismatch"), "{e}");
}

#[test]
fn divergence_stops_training_and_restores_the_last_good_model() {
    let data = patterns(100, 16, 5);
    let mut rbm = Rbm::new(16, 8, VisibleUnit::Bernoulli, HiddenUnit::Nrelu, 1).unwrap();
    let initial = rbm.clone();
    let cfg = config(Sampling::Cd(1), 2).with_learning_rate(1e38);
    match train(&mut rbm, &data, &cfg, quiet) {
        Err(RbmError::Diverged {
            epoch: 1,
            last_good_epoch: 0,
            ..
        }) => {}
        other => panic!("expected divergence in epoch 1, got {other:?}"),
    }
    assert_eq!(rbm, initial, "the model must be restored");
    assert!(rbm.weights().iter().all(|w| w.is_finite()));
}

#[test]
fn the_callback_sees_every_batch_and_epoch_and_can_cancel() {
    let data = patterns(100, 8, 6);
    let mut rbm = Rbm::new(8, 4, VisibleUnit::Bernoulli, HiddenUnit::Bernoulli, 1).unwrap();
    let (mut batches, mut epochs, mut models) = (0, 0, 0);
    // The statistics of the last `Epoch` event, until its `Model` event.
    let mut pending = None;
    let mut last_model = None;
    let cfg = config(Sampling::Cd(1), 1)
        .with_epochs(2)
        .with_batch_size(30);
    train(&mut rbm, &data, &cfg, |p| {
        match p {
            Progress::Batch { batches: 4, .. } => {
                assert!(pending.is_none(), "a batch between Epoch and Model");
                batches += 1;
            }
            Progress::Batch { .. } => panic!("100 rows in batches of 30 is 4 batches"),
            Progress::Epoch(stats) => {
                assert!(pending.is_none(), "two Epoch events in a row");
                pending = Some(stats.clone());
                epochs += 1;
            }
            Progress::Model { stats, rbm } => {
                // Right after `Epoch`, with the same statistics.
                assert_eq!(pending.take().as_ref(), Some(stats));
                last_model = Some(rbm.clone());
                models += 1;
            }
            other => panic!("unexpected progress {other:?}"),
        }
        ControlFlow::Continue(())
    })
    .unwrap();
    assert_eq!((batches, epochs, models), (8, 2, 2));
    assert_eq!(
        last_model.as_ref(),
        Some(&rbm),
        "the model after the last epoch"
    );
    for stop_at_model in [false, true] {
        let r = train(&mut rbm, &data, &cfg, |p| match p {
            Progress::Epoch(_) if !stop_at_model => ControlFlow::Break(()),
            Progress::Model { .. } if stop_at_model => ControlFlow::Break(()),
            _ => ControlFlow::Continue(()),
        });
        assert!(matches!(r, Err(RbmError::Cancelled { epoch: 1 })));
    }
}

#[test]
fn single_steps_match_the_documented_contract() {
    use nrelu_rbm::train::Trainer;
    let data = patterns(8, 6, 7);
    let mut rbm = Rbm::new(6, 4, VisibleUnit::Bernoulli, HiddenUnit::Nrelu, 1).unwrap();
    let cfg = config(Sampling::Cd(1), 1).with_batch_size(4);
    let mut t = Trainer::new(&rbm, &cfg).unwrap();
    let before = rbm.clone();
    assert!(t.step(&mut rbm, &data[..24]).unwrap() >= 0.0);
    assert_ne!(rbm, before);
    // Too many rows, ragged rows, NaN, another model: typed errors.
    assert!(matches!(
        t.step(&mut rbm, &data[..30]),
        Err(RbmError::ShapeMismatch { .. })
    ));
    assert!(matches!(
        t.step(&mut rbm, &data[..5]),
        Err(RbmError::Ragged { .. })
    ));
    let mut bad = data[..6].to_vec();
    bad[2] = f32::INFINITY;
    assert!(matches!(
        t.step(&mut rbm, &bad),
        Err(RbmError::NonFinite { row: 1, col: 3, .. })
    ));
    let mut other = Rbm::new(6, 5, VisibleUnit::Bernoulli, HiddenUnit::Nrelu, 1).unwrap();
    assert!(t.step(&mut other, &data[..6]).is_err());
    let mut huge = Trainer::new(&rbm, &cfg.with_learning_rate(1e38)).unwrap();
    let mut diverged = None;
    for _ in 0..5 {
        if let Err(e) = huge.step(&mut rbm, &data[..24]) {
            diverged = Some(e);
            break;
        }
    }
    assert!(
        matches!(diverged, Some(RbmError::StepDiverged)),
        "{diverged:?}"
    );
}

#[test]
fn held_biases_stay_exactly_where_they_were() {
    let data = patterns(60, 10, 8);
    let mut rbm = Rbm::new(10, 5, VisibleUnit::Bernoulli, HiddenUnit::Nrelu, 1).unwrap();
    let initial = rbm.weights().to_vec();
    let cfg = config(Sampling::Cd(1), 2)
        .with_update_biases(false)
        .with_epochs(20);
    train(&mut rbm, &data, &cfg, quiet).unwrap();
    assert!(
        rbm.visible_bias()
            .iter()
            .chain(rbm.hidden_bias())
            .all(|&b| b == 0.0)
    );
    let moved = rbm
        .weights()
        .iter()
        .zip(&initial)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max);
    assert!(moved > 0.02, "the weights still learn (moved {moved})");
}

#[test]
fn weight_decay_is_applied_as_documented_with_and_without_momentum() {
    // Two trainers with the same seed take the same first step (same
    // samples) on copies of one model, one with L2 decay λ and one without.
    // The documented rule gives W' = W + Δ with Δ = (η/B)G − ηλW on a first
    // step (the velocity starts at 0), so the two results differ by −ηλW,
    // up to the roundings of the two updates.
    use nrelu_rbm::train::Trainer;
    let batch = patterns(37, 40, 4);
    for momentum in [0.0, 0.5] {
        for threads in [1, 2] {
            let base = config(Sampling::Cd(1), threads)
                .with_momentum(momentum)
                .with_weight_decay(0.0);
            let decay = 0.2;
            let with = base.clone().with_weight_decay(decay);
            let w0 = Rbm::new(40, 37, VisibleUnit::Bernoulli, HiddenUnit::Nrelu, 9).unwrap();
            let (mut a, mut b) = (w0.clone(), w0.clone());
            Trainer::new(&a, &base)
                .unwrap()
                .step(&mut a, &batch)
                .unwrap();
            Trainer::new(&b, &with)
                .unwrap()
                .step(&mut b, &batch)
                .unwrap();
            let lr_decay = f64::from(base.learning_rate()) * f64::from(decay);
            for ((&wa, &wb), &w) in a.weights().iter().zip(b.weights()).zip(w0.weights()) {
                let want = -lr_decay * f64::from(w);
                let got = f64::from(wb) - f64::from(wa);
                let tol =
                    4.0 * f64::from(f32::EPSILON) * (f64::from(wa.abs()) + f64::from(w.abs()));
                assert!(
                    (got - want).abs() <= tol,
                    "momentum {momentum}, {threads} threads: {got} vs {want}"
                );
            }
        }
    }
}

#[test]
fn a_bad_batch_is_rejected_whole_on_any_thread_count() {
    // The batch is checked for finiteness in parallel, part by part: a bad
    // value in the last part must still be reported with its row and
    // column, and leave the model and the trainer as they were.
    use nrelu_rbm::train::Trainer;
    let batch = patterns(37, 40, 5);
    for threads in [1, 2, 3] {
        for sampling in [Sampling::Cd(1), Sampling::Pcd(1)] {
            let cfg = config(sampling, threads);
            let rbm = Rbm::new(40, 37, VisibleUnit::Bernoulli, HiddenUnit::Nrelu, 2).unwrap();
            let (mut a, mut b) = (rbm.clone(), rbm.clone());
            let (mut t, mut u) = (
                Trainer::new(&a, &cfg).unwrap(),
                Trainer::new(&b, &cfg).unwrap(),
            );
            t.step(&mut a, &batch).unwrap();
            u.step(&mut b, &batch).unwrap();
            let mut bad = batch.clone();
            bad[30 * 40 + 7] = f32::NAN;
            let before = a.clone();
            assert!(
                matches!(
                    t.step(&mut a, &bad),
                    Err(RbmError::NonFinite {
                        row: 31,
                        col: 8,
                        ..
                    })
                ),
                "{threads} threads {sampling:?}"
            );
            assert_eq!(
                bits(&a),
                bits(&before),
                "{threads} threads {sampling:?}: model changed"
            );
            // The trainer is as it was: its next step matches one that never
            // saw the bad batch.
            t.step(&mut a, &batch).unwrap();
            u.step(&mut b, &batch).unwrap();
            assert_eq!(
                bits(&a),
                bits(&b),
                "{threads} threads {sampling:?}: trainer changed"
            );
        }
    }
}
