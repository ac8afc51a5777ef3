//! Watching training through the library: the validation measures of
//! every epoch, `Progress::Model`, and patience with the best model kept
//! bit for bit.

use nrelu_rbm::likelihood::free_energy;
use nrelu_rbm::train::{Progress, Sampling, TrainConfig, Validation, ValidationStats, train};
use nrelu_rbm::units::HiddenUnit;
use nrelu_rbm::{Rbm, RbmError, VisibleUnit};
use std::ops::ControlFlow;

mod common;
use common::{noisy_patterns, quiet};

fn bits(x: &[f32]) -> Vec<u32> {
    x.iter().map(|v| v.to_bits()).collect()
}

fn same_params(a: &Rbm, b: &Rbm) -> bool {
    bits(a.weights()) == bits(b.weights())
        && bits(a.visible_bias()) == bits(b.visible_bias())
        && bits(a.hidden_bias()) == bits(b.hidden_bias())
}

fn config(sampling: Sampling, threads: usize) -> TrainConfig {
    TrainConfig::default()
        .with_epochs(4)
        .with_batch_size(13)
        .with_sampling(sampling)
        .with_seed(5)
        .with_threads(threads)
}

/// Trains a fresh 24 × 19 model of `unit` on `data`; returns the model,
/// the report and the model seen by `Progress::Model` after each epoch.
fn run(
    unit: HiddenUnit,
    visible: VisibleUnit,
    data: &[f32],
    cfg: &TrainConfig,
) -> (
    Rbm,
    Result<nrelu_rbm::train::TrainReport, RbmError>,
    Vec<Rbm>,
) {
    let mut rbm = Rbm::new(24, 19, visible, unit, 3).unwrap();
    let mut seen = Vec::new();
    let report = train(&mut rbm, data, cfg, |p| {
        if let Progress::Model { stats, rbm } = p {
            assert_eq!(stats.epoch, seen.len() + 1);
            seen.push(rbm.clone());
        }
        ControlFlow::Continue(())
    });
    (rbm, report, seen)
}

#[test]
fn validation_changes_no_bit_of_training() {
    let data = noisy_patterns(100, 24, 1, 10);
    let valid = Validation::new(noisy_patterns(30, 24, 2, 10), 24).unwrap();
    for sampling in [Sampling::Cd(1), Sampling::Cd(2), Sampling::Pcd(1)] {
        for unit in [HiddenUnit::Nrelu, HiddenUnit::Bernoulli] {
            let plain = config(sampling, 2);
            let watched = plain.clone().with_validation(valid.clone());
            let (a, ra, _) = run(unit, VisibleUnit::Bernoulli, &data, &plain);
            let (b, rb, seen) = run(unit, VisibleUnit::Bernoulli, &data, &watched);
            let (ra, rb) = (ra.unwrap(), rb.unwrap());
            assert!(same_params(&a, &b), "{sampling:?} {unit}");
            assert_eq!(seen.len(), 4);
            assert!(same_params(seen.last().unwrap(), &b));
            for (x, y) in ra.epochs.iter().zip(&rb.epochs) {
                assert_eq!(
                    x.reconstruction_error.to_bits(),
                    y.reconstruction_error.to_bits()
                );
                assert!(x.validation.is_none() && y.validation.is_some());
                assert!(x.swap_acceptance.is_empty() && y.swap_acceptance.is_empty());
            }
            assert_eq!((ra.best_epoch, rb.best_epoch), (None, None));
        }
    }
}

/// The measures of `rbm` computed here from their definition.
fn expected(rbm: &Rbm, train_rows: &[f32], valid: &[f32]) -> (f64, f64, f64) {
    let nv = rbm.n_visible();
    let energy = if rbm.hidden() == HiddenUnit::Nrelu {
        Rbm::from_parts(
            rbm.visible(),
            HiddenUnit::Ssu,
            rbm.weights().to_vec(),
            rbm.visible_bias().to_vec(),
            rbm.hidden_bias().to_vec(),
            None,
        )
        .unwrap()
    } else {
        rbm.clone()
    };
    let mean = |f: Vec<f64>| f.iter().sum::<f64>() / f.len() as f64;
    let (n, m) = (train_rows.len() / nv, valid.len() / nv);
    let m_train = m.min(n);
    let subset: Vec<f32> = (0..m_train)
        .flat_map(|i| {
            let r = i * n / m_train;
            train_rows[r * nv..(r + 1) * nv].iter().copied()
        })
        .collect();
    (
        rbm.reconstruction_error(valid).unwrap(),
        mean(free_energy(&energy, valid).unwrap()),
        mean(free_energy(&energy, &subset).unwrap()),
    )
}

#[test]
fn measures_follow_their_definition() {
    // 30 and 130 validation rows against 100 training rows: an evenly
    // spread subset of 30 training rows, then all 100.
    let data = noisy_patterns(100, 24, 1, 10);
    for (rows, visible, unit) in [
        (30, VisibleUnit::Bernoulli, HiddenUnit::Nrelu),
        (130, VisibleUnit::Bernoulli, HiddenUnit::binomial_of::<3>()),
        (30, VisibleUnit::Gaussian, HiddenUnit::Nrelu),
        (30, VisibleUnit::Gaussian, HiddenUnit::Bernoulli),
    ] {
        let valid = noisy_patterns(rows, 24, 2, 7);
        let cfg = config(Sampling::Cd(1), 1)
            .with_learning_rate(0.01)
            .with_validation(Validation::new(valid.clone(), 24).unwrap());
        let (_, report, seen) = run(unit, visible, &data, &cfg);
        let report = report.unwrap();
        for (stats, rbm) in report.epochs.iter().zip(&seen) {
            let v: &ValidationStats = stats.validation.as_ref().unwrap();
            let (recon, fv, ft) = expected(rbm, &data, &valid);
            // The trainer reconstructs in batches on its own buffers, with
            // f32 products that may round a value's last bit differently
            // from `Rbm::reconstruction_error` (2^-24 relative each) and
            // another f64 summation order: agreement to 1e-6 relative, far
            // closer than any change of model would give.
            let close = (v.reconstruction_error - recon).abs() <= 1e-6 * recon;
            assert!(close, "{unit}: {} vs {recon}", v.reconstruction_error);
            assert_eq!(v.validation_free_energy.to_bits(), fv.to_bits(), "{unit}");
            assert_eq!(v.training_free_energy.to_bits(), ft.to_bits(), "{unit}");
            assert_eq!(v.free_energy_gap.to_bits(), (fv - ft).to_bits());
        }
    }
}

#[test]
fn measures_do_not_depend_on_threads() {
    let data = noisy_patterns(100, 24, 1, 10);
    let valid = Validation::new(noisy_patterns(41, 24, 2, 7), 24).unwrap();
    let stats = |threads| {
        let cfg = config(Sampling::Pcd(1), threads)
            .with_validation(valid.clone())
            .with_patience(2);
        let (rbm, report, _) = run(HiddenUnit::Nrelu, VisibleUnit::Bernoulli, &data, &cfg);
        let report = report.unwrap();
        let v: Vec<[u64; 4]> = report
            .epochs
            .iter()
            .map(|e| {
                let v = e.validation.as_ref().unwrap();
                [
                    v.reconstruction_error.to_bits(),
                    v.validation_free_energy.to_bits(),
                    v.training_free_energy.to_bits(),
                    v.free_energy_gap.to_bits(),
                ]
            })
            .collect();
        (rbm, v, report.best_epoch)
    };
    let (a, va, ba) = stats(1);
    for threads in [2, 3] {
        let (b, vb, bb) = stats(threads);
        assert!(same_params(&a, &b), "{threads} threads");
        assert_eq!((&va, ba), (&vb, bb), "{threads} threads");
    }
}

/// Few training rows, a high rate and momentum: the model soon fits the
/// training rows at the expense of the validation rows.
fn overfitting() -> (Vec<f32>, Validation, TrainConfig) {
    let data = noisy_patterns(8, 24, 1, 4);
    let valid = Validation::new(noisy_patterns(60, 24, 9, 4), 24).unwrap();
    let cfg = TrainConfig::default()
        .with_epochs(200)
        .with_batch_size(4)
        .with_learning_rate(1.0)
        .with_momentum(0.9)
        .with_weight_decay(0.0)
        .with_seed(2)
        .with_threads(2)
        .with_validation(valid.clone());
    (data, valid, cfg)
}

#[test]
fn patience_stops_early_and_keeps_the_best_model_bit_for_bit() {
    let (data, _, cfg) = overfitting();
    for patience in [1, 3] {
        let cfg = cfg.clone().with_patience(patience);
        let (rbm, report, seen) = run(HiddenUnit::Nrelu, VisibleUnit::Bernoulli, &data, &cfg);
        let report = report.unwrap();
        let errors: Vec<f64> = report
            .epochs
            .iter()
            .map(|e| e.validation.as_ref().unwrap().reconstruction_error)
            .collect();
        let last = errors.len();
        assert!(last < 200, "patience {patience} never stopped: {errors:?}");
        let best = report.best_epoch.unwrap();
        // The best epoch is the first with the lowest error, and training
        // stopped exactly `patience` epochs after it.
        let min = errors.iter().copied().fold(f64::INFINITY, f64::min);
        assert_eq!(errors.iter().position(|&e| e == min), Some(best - 1));
        assert_eq!(last - best, patience, "{errors:?}");
        assert!(best < last && errors[last - 1] > min);
        // The model returned is the one seen after the best epoch, not the
        // last one.
        assert!(same_params(&rbm, &seen[best - 1]));
        assert!(!same_params(&rbm, &seen[last - 1]));
        // ... and exactly the model of a run of `best` epochs.
        let plain = without_watch(cfg.clone().with_epochs(best));
        let (short, _, _) = run(HiddenUnit::Nrelu, VisibleUnit::Bernoulli, &data, &plain);
        assert!(same_params(&rbm, &short));
    }
}

/// `cfg` without validation and patience (a fresh configuration with the
/// same training settings).
fn without_watch(cfg: TrainConfig) -> TrainConfig {
    TrainConfig::default()
        .with_epochs(cfg.epochs())
        .with_batch_size(cfg.batch_size())
        .with_learning_rate(cfg.learning_rate())
        .with_momentum(cfg.momentum())
        .with_weight_decay(cfg.weight_decay())
        .with_sampling(cfg.sampling())
        .with_seed(cfg.seed())
        .with_threads(cfg.threads())
}

#[test]
fn patience_that_never_runs_out_keeps_the_best_epoch_too() {
    let (data, _, cfg) = overfitting();
    let cfg = cfg.with_epochs(12).with_patience(1000);
    let (rbm, report, seen) = run(HiddenUnit::Nrelu, VisibleUnit::Bernoulli, &data, &cfg);
    let report = report.unwrap();
    assert_eq!(report.epochs.len(), 12);
    let best = report.best_epoch.unwrap();
    assert!(same_params(&rbm, &seen[best - 1]));
}

#[test]
fn bad_watch_settings_are_typed_errors() {
    let data = noisy_patterns(20, 24, 1, 10);
    let cfg = config(Sampling::Cd(1), 1);
    let name = |e: RbmError| match e {
        RbmError::InvalidParameter { name, .. } => name,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        name(cfg.clone().with_patience(3).validate().unwrap_err()),
        "patience"
    );
    let valid = Validation::new(noisy_patterns(5, 24, 2, 10), 24).unwrap();
    let zero = cfg.clone().with_validation(valid).with_patience(0);
    assert_eq!(name(zero.validate().unwrap_err()), "patience");
    // train checks the configuration, and the width of the rows.
    let mut rbm = Rbm::new(24, 5, VisibleUnit::Bernoulli, HiddenUnit::Nrelu, 1).unwrap();
    assert_eq!(
        name(train(&mut rbm, &data, &zero, quiet).unwrap_err()),
        "patience"
    );
    let narrow = cfg.with_validation(Validation::new(vec![0.0; 23 * 2], 23).unwrap());
    assert_eq!(
        name(train(&mut rbm, &data, &narrow, quiet).unwrap_err()),
        "validation data"
    );
    assert!(matches!(
        Validation::new(Vec::new(), 24),
        Err(RbmError::EmptyData { .. })
    ));
    assert!(matches!(
        Validation::new(vec![0.0; 25], 24),
        Err(RbmError::Ragged { .. })
    ));
    assert!(matches!(
        Validation::new(vec![0.0; 24], 0),
        Err(RbmError::Ragged { .. })
    ));
    let mut inf = vec![0.0; 48];
    inf[30] = f32::INFINITY;
    assert!(matches!(
        Validation::new(inf, 24),
        Err(RbmError::NonFinite { row: 2, col: 7, .. })
    ));
}

#[test]
fn cancelling_from_the_model_event_stops_training() {
    let data = noisy_patterns(20, 24, 1, 10);
    let mut rbm = Rbm::new(24, 5, VisibleUnit::Bernoulli, HiddenUnit::Nrelu, 1).unwrap();
    let err = train(&mut rbm, &data, &config(Sampling::Cd(1), 1), |p| match p {
        Progress::Model { stats, .. } if stats.epoch == 2 => ControlFlow::Break(()),
        _ => ControlFlow::Continue(()),
    })
    .unwrap_err();
    assert!(matches!(err, RbmError::Cancelled { epoch: 2 }), "{err:?}");
}
