//! `rbm train` without `--layers`: trains one model, with the options of
//! [`super::watch`] and [`super::checkpoint`], and writes it.

use super::input::{Prepared, prepare};
use super::options::TrainArgs;
use super::progress::{batch_bar, sampling_name, show_progress};
use super::{checkpoint, probe_writable, watch, write_error};
use crate::cli::CliError;
use crate::cli::output::{check_output_path, is_stdout, output_name};
use crate::error::RbmError;
use crate::model_io;
use crate::rbm::Rbm;
use crate::train::{Progress, TrainConfig, train};
use std::ops::ControlFlow;

/// Runs `rbm train` without `--layers`: trains one model and writes it to
/// `--out`.
///
/// # Errors
/// [`CliError::Input`] or [`CliError::Rbm`] for bad options, data or
/// output path, [`CliError::Unreadable`] for an unreadable data file,
/// [`CliError::Diverged`] if the weights became non-finite (exit code 2,
/// nothing written), [`CliError::Io`] if the model cannot be written (exit
/// code 1, nothing written).
pub(super) fn run(args: &TrainArgs) -> Result<(), CliError> {
    let cfg = args.config();
    cfg.validate()?;
    crate::train::check_tempering_units(&cfg, args.visible, args.hidden_units)?;
    args.check_nrelu_mean()?;
    check_output_path(&args.out)?;
    probe_writable(&args.out)?;
    watch::check_log_path(args)?;
    watch::check_validation_path(args)?;
    checkpoint::check_paths(args)?;
    let prepared = prepare(&args.data_input(), args.scale, args.visible)?;
    let cfg = watch::configure(args, cfg, &prepared)?;
    let data = &prepared.data;

    let mut rbm = Rbm::new(
        data.cols,
        args.hidden,
        args.visible,
        args.hidden_units,
        cfg.seed,
    )?;
    rbm.set_nrelu_mean(args.nrelu_mean)?;
    rbm.set_standardization(prepared.map.clone())?;
    rbm.init_visible_bias_from(&data.values)?;

    let log = !args.quiet;
    if log {
        print_plan(args, &cfg, &prepared);
    }
    let mut epoch_log = watch::EpochLog::create(args.log.as_deref())?;
    let bar = batch_bar(log);
    let progress = |p: Progress<'_>| {
        let written = match &mut epoch_log {
            Some(l) => l.record(&p),
            None => ControlFlow::Continue(()),
        };
        show_progress(bar.as_ref(), log, cfg.epochs, p);
        written
    };
    let result = if checkpoint::wanted(args) {
        checkpoint::train(args, &mut rbm, &data.values, &cfg, progress)
    } else {
        train(&mut rbm, &data.values, &cfg, progress).map_err(|e| train_error(e, cfg.learning_rate))
    };
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    if let Some(l) = &mut epoch_log {
        l.check()?;
    }
    let report = result?;

    if is_stdout(&args.out) {
        crate::cli::output::write_stdout(&model_io::to_bytes(&rbm)?)?;
    } else {
        model_io::save(&rbm, &args.out).map_err(write_error)?;
    }
    if log {
        if let Some(line) = watch::patience_line(&report, &cfg) {
            eprintln!("{line}");
        }
        eprintln!("wrote model to {}", output_name(&args.out));
    }
    Ok(())
}

/// Prints what `rbm train` is about to do: the model, the data and the
/// training settings.
fn print_plan(args: &TrainArgs, cfg: &TrainConfig, prepared: &Prepared) {
    let data = &prepared.data;
    let sampling = sampling_name(cfg.sampling);
    eprintln!(
        "training {} {} visible -> {} {} hidden units{} on {} rows of {}: {} epoch{}, batch {}, {sampling}, lr {}",
        data.cols,
        args.visible,
        args.hidden,
        args.hidden_units,
        match args.nrelu_mean {
            crate::units::NreluMean::Relu => String::new(),
            mean => format!(" (mean {mean})"),
        },
        data.rows,
        prepared.source,
        cfg.epochs,
        crate::cli::output::plural(cfg.epochs),
        cfg.batch_size,
        cfg.learning_rate,
    );
    if let Some(line) = watch::plan_line(args, cfg) {
        eprintln!("{line}");
    }
}

/// The CLI's error for a failed training run: divergence names the
/// learning rate `lr` that caused it.
pub(super) fn train_error(e: RbmError, lr: f32) -> CliError {
    match e {
        RbmError::Diverged { epoch, batch, .. } => CliError::Diverged { epoch, batch, lr },
        e => e.into(),
    }
}
