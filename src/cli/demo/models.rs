//! The demo's training: the four RBMs (one per hidden unit), their
//! classification accuracy, and the stacks of the equivariance check.

use super::log::Log;
use super::split::Split;
use super::{Budget, DemoArgs, HIDDEN, Model, STACK_WIDTHS, TRAIN_ROWS, UNITS};
use crate::cli::CliError;
use crate::error::RbmError;
use crate::logistic::{LogisticConfig, LogisticRegression};
use crate::rbm::{Rbm, VisibleUnit};
use crate::stack::{LayerSpec, Stack, train_equivariant_stack, train_stack};
use crate::train::{Progress, TrainConfig, train};
use crate::units::HiddenUnit;
use std::ops::ControlFlow;

/// A hidden unit's name as file names spell it (`:` becomes `-`).
pub(super) fn unit_file_name(unit: HiddenUnit) -> String {
    unit.to_string().replace(':', "-")
}

/// The default options for `visible` units with the run's epochs, seed
/// and threads.
fn model_config(args: &DemoArgs, visible: VisibleUnit) -> TrainConfig {
    TrainConfig {
        epochs: args.epochs,
        seed: args.seed,
        threads: args.threads,
        ..TrainConfig::default_for(visible)
    }
}

/// Trains one RBM per hidden unit of `UNITS` on the training digits (the
/// same seed, so the same initial weights and mini-batch order) and
/// measures their reconstruction errors; `classify` fills in the
/// accuracies.
pub(super) fn train_models(
    args: &DemoArgs,
    split: &Split,
    log: &Log,
) -> Result<Vec<Model>, CliError> {
    let mut models = Vec::new();
    for unit in UNITS {
        let cfg = model_config(args, VisibleUnit::Bernoulli);
        let mut rbm = Rbm::new(
            split.train.len() / TRAIN_ROWS,
            HIDDEN,
            VisibleUnit::Bernoulli,
            unit,
            cfg.seed,
        )?;
        rbm.init_visible_bias_from(&split.train)?;
        let name = unit.to_string();
        let w = cfg.epochs.to_string().len();
        let report = train(&mut rbm, &split.train, &cfg, |p| {
            match p {
                Progress::Batch { epoch, .. } => {
                    log.batch(&format!("{name} epoch {epoch}/{}", cfg.epochs));
                }
                Progress::Epoch(s) => log.line(&format!(
                    "{name:<10} epoch {:>w$}/{}  reconstruction error {:.5}",
                    s.epoch, cfg.epochs, s.reconstruction_error
                )),
                Progress::Model { .. } => {}
            }
            ControlFlow::Continue(())
        })
        .map_err(|e| diverged(e, cfg.learning_rate))?;
        let train_error = rbm.reconstruction_error(&split.train)?;
        let test_error = rbm.reconstruction_error(&split.test)?;
        models.push(Model {
            unit,
            rbm,
            curve: report
                .epochs
                .iter()
                .map(|e| e.reconstruction_error)
                .collect(),
            train_error,
            test_error,
            accuracy: 0.0,
        });
    }
    Ok(models)
}

/// A training error as the CLI's: a divergence with the learning rate
/// that caused it.
pub(super) fn diverged(e: RbmError, lr: f32) -> CliError {
    match e {
        RbmError::Diverged { epoch, batch, .. } => CliError::Diverged { epoch, batch, lr },
        other => CliError::Rbm(other),
    }
}

/// Test accuracy of a logistic regression on each feature set: raw pixels
/// first, then each model's hidden means. The fits run in parallel; each
/// is single-threaded and deterministic.
pub(super) fn classify(
    split: &Split,
    models: &mut [Model],
    budget: Budget,
    threads: usize,
) -> Result<f64, CliError> {
    let mut sets = vec![(split.train.clone(), split.test.clone())];
    for m in models.iter() {
        sets.push((
            m.rbm.hidden_means(&split.train)?,
            m.rbm.hidden_means(&split.test)?,
        ));
    }
    let cfg = LogisticConfig {
        iterations: budget.logistic_iterations,
        ..LogisticConfig::default()
    };
    let fit = |(train, test): &(Vec<f32>, Vec<f32>)| -> Result<f64, RbmError> {
        LogisticRegression::fit(train, &split.train_labels, 10, &cfg)?
            .accuracy(test, &split.test_labels)
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| CliError::io("cannot start worker threads", std::io::Error::other(e)))?;
    let accs: Vec<Result<f64, RbmError>> = pool.install(|| {
        use rayon::prelude::*;
        sets.par_iter().map(fit).collect()
    });
    let mut accs = accs.into_iter();
    let raw = accs.next().expect("raw pixels")?;
    for (m, a) in models.iter_mut().zip(accs) {
        m.accuracy = a?;
    }
    Ok(raw)
}

/// Trains the three stacks of the equivariance check: NReLU with zero
/// biases and NReLU with learned biases (both on Gaussian visible
/// units), and a binary stack of Bernoulli units.
pub(super) fn train_stacks(
    args: &DemoArgs,
    split: &Split,
    log: &Log,
) -> Result<Vec<Stack>, CliError> {
    let gaussian = model_config(args, VisibleUnit::Gaussian);
    let nv = split.train.len() / TRAIN_ROWS;
    let progress = |name: &'static str| {
        move |layer: usize, p: Progress<'_>| {
            match p {
                Progress::Batch { .. } => log.batch(&format!("{name} layer {}", layer + 1)),
                Progress::Epoch(s) if s.epoch == gaussian.epochs => log.line(&format!(
                    "stack {name}, layer {}: {} epochs, reconstruction error {:.5}",
                    layer + 1,
                    s.epoch,
                    s.reconstruction_error
                )),
                Progress::Epoch(_) | Progress::Model { .. } => {}
            }
            ControlFlow::Continue(())
        }
    };
    let lr = gaussian.learning_rate;
    let configs = [gaussian.clone(), gaussian.clone()];
    let (zero, _) = train_equivariant_stack(
        &split.train,
        nv,
        &STACK_WIDTHS,
        &configs,
        progress("nrelu, zero biases"),
    )
    .map_err(|e| diverged(e, lr))?;
    let specs = |hidden| STACK_WIDTHS.map(|n_hidden| LayerSpec::new(n_hidden, hidden));
    let (biased, _) = train_stack(
        &split.train,
        nv,
        VisibleUnit::Gaussian,
        &specs(HiddenUnit::Nrelu),
        &configs,
        progress("nrelu, learned biases"),
    )
    .map_err(|e| diverged(e, lr))?;
    // The usual binary stack (a deep belief net): Bernoulli units
    // throughout, on the same pixels.
    let bernoulli = model_config(args, VisibleUnit::Bernoulli);
    let binary_configs = [bernoulli.clone(), bernoulli];
    let (binary, _) = train_stack(
        &split.train,
        nv,
        VisibleUnit::Bernoulli,
        &specs(HiddenUnit::Bernoulli),
        &binary_configs,
        progress("bernoulli (binary)"),
    )
    .map_err(|e| diverged(e, lr))?;
    Ok(vec![zero, biased, binary])
}
