//! `rbm train --validation FILE --patience N --log FILE.jsonl`: the
//! validation rows, the per-epoch lines that show their measures, the
//! JSON-lines log and the early-stopping message (see
//! [`crate::train::watch`] for the measures).

use super::input::Prepared;
use super::options::TrainArgs;
use crate::cli::CliError;
use crate::cli::data_args::DataInput;
use crate::cli::output::check_output_path;
use crate::data::STDIN;
use crate::rbm::VisibleUnit;
use crate::train::{EpochStats, Progress, TrainConfig, TrainReport, Validation};
use serde_json::{Map, Value, json};
use std::fs::File;
use std::io::{self, Write};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

/// Checks `--log` before any work: a new file in an existing directory,
/// not the model file.
///
/// # Errors
/// [`CliError::Input`] or [`CliError::Usage`] for a path that cannot be the
/// log.
pub(super) fn check_log_path(args: &TrainArgs) -> Result<(), CliError> {
    let Some(log) = &args.log else {
        return Ok(());
    };
    check_output_path(log)?;
    if log == &args.out {
        return Err(CliError::Usage(format!(
            "--log and --out both name '{}'; give the log its own file",
            log.display()
        )));
    }
    Ok(())
}

/// Checks `--validation` before any work: standard input can be read
/// once, so `--validation -` needs a file at `--data`.
///
/// # Errors
/// [`CliError::Usage`] when `--data` and `--validation` are both `-`.
pub(super) fn check_validation_path(args: &TrainArgs) -> Result<(), CliError> {
    let stdin = |p: Option<&PathBuf>| p.is_some_and(|p| p.as_os_str() == STDIN);
    if stdin(args.validation.as_ref()) && stdin(args.data.as_ref()) {
        return Err(CliError::Usage(
            "--data - and --validation - both name standard input, which can be read once; \
             give one of them a file"
                .to_owned(),
        ));
    }
    Ok(())
}

/// `cfg` with the validation rows of `--validation` (read with the options
/// of `--data`, and mapped like the training data `prepared`) and
/// `--patience`.
///
/// # Errors
/// [`CliError::Unreadable`] if the file cannot be read, [`CliError::Input`]
/// if its width differs from the training data's, [`CliError::Rbm`] if its
/// contents are invalid or, for Bernoulli units, outside [0, 1] after the
/// map.
pub(super) fn configure(
    args: &TrainArgs,
    cfg: TrainConfig,
    prepared: &Prepared,
) -> Result<TrainConfig, CliError> {
    let Some(path) = &args.validation else {
        return Ok(cfg);
    };
    let input = DataInput::new(Some(path), args.labels_last_column, &args.input);
    let mut data = input.load()?;
    if data.cols != prepared.data.cols {
        return Err(CliError::Usage(format!(
            "--validation '{}' has {} columns but the training data has {}",
            path.display(),
            data.cols,
            prepared.data.cols
        )));
    }
    if let Some(map) = &prepared.map {
        map.apply(&mut data.values)?;
    }
    if args.visible == VisibleUnit::Bernoulli {
        data.check_unit_interval(path)?;
    }
    let cfg = cfg.with_validation(Validation::new(data.values, data.cols)?);
    let cfg = match args.patience {
        Some(p) => cfg.with_patience(p),
        None => cfg,
    };
    cfg.validate()?;
    Ok(cfg)
}

/// The line announcing the validation, printed after the plan, e.g.
/// `validating on 360 rows of 'valid.csv' after every epoch; patience 5`.
pub(super) fn plan_line(args: &TrainArgs, cfg: &TrainConfig) -> Option<String> {
    let (path, v) = (args.validation.as_ref()?, cfg.validation()?);
    let patience = match cfg.patience() {
        Some(p) => format!(
            "; stopping after {p} epoch{} without improvement",
            super::super::output::plural(p)
        ),
        None => String::new(),
    };
    Some(format!(
        "validating on {} rows of '{}' after every epoch{patience}",
        v.rows(),
        path.display()
    ))
}

/// The per-epoch line with the validation measures, e.g.
/// `epoch  3/20  reconstruction error 0.01234  validation 0.01300  free-energy gap +1.234  (0.05 s)`;
/// the plain [`super::progress::epoch_line`] without them.
pub(super) fn epoch_line(stats: &EpochStats, epochs: usize) -> String {
    let Some(v) = &stats.validation else {
        return super::progress::epoch_line(
            stats.epoch,
            epochs,
            stats.reconstruction_error,
            stats.seconds,
        );
    };
    let w = epochs.to_string().len();
    format!(
        "epoch {:>w$}/{epochs}  reconstruction error {:.5}  validation {:.5}  free-energy gap {:+.3}  ({:.2} s)",
        stats.epoch,
        stats.reconstruction_error,
        v.reconstruction_error,
        v.free_energy_gap,
        stats.seconds
    )
}

/// What `--patience` did, once training has finished, e.g.
/// `stopped after epoch 9 of 20: no better validation reconstruction error for 5 epochs; the model is that of epoch 4 (validation reconstruction error 0.01234)`.
pub(super) fn patience_line(report: &TrainReport, cfg: &TrainConfig) -> Option<String> {
    let best = report.best_epoch?;
    let error = report
        .epochs
        .get(best - 1)?
        .validation
        .as_ref()?
        .reconstruction_error;
    let last = report.epochs.len();
    let kept = format!(
        "the model is that of epoch {best}, the best (validation reconstruction error {error:.5})"
    );
    Some(if last < cfg.epochs() {
        format!(
            "stopped after epoch {last} of {}: no better validation reconstruction error for {} \
             epochs; {kept}",
            cfg.epochs(),
            last - best
        )
    } else {
        format!("trained all {last} epochs; {kept}")
    })
}

/// The `--log` file: one JSON object per epoch and line, written and
/// flushed as each epoch ends.
pub(super) struct EpochLog {
    path: PathBuf,
    file: File,
    /// The first write error; training is cancelled when it occurs.
    error: Option<io::Error>,
}

impl EpochLog {
    /// Creates (or truncates) the log of `--log`, if given.
    ///
    /// # Errors
    /// [`CliError::Io`] if the file cannot be created.
    pub(super) fn create(path: Option<&Path>) -> Result<Option<EpochLog>, CliError> {
        let Some(path) = path else {
            return Ok(None);
        };
        let file = File::create(path)
            .map_err(|e| CliError::io(format!("cannot create log '{}'", path.display()), e))?;
        Ok(Some(EpochLog {
            path: path.to_owned(),
            file,
            error: None,
        }))
    }

    /// Writes the line of an epoch's statistics; asks to stop training if
    /// the write fails.
    pub(super) fn record(&mut self, p: &Progress<'_>) -> ControlFlow<()> {
        let Progress::Epoch(stats) = p else {
            return ControlFlow::Continue(());
        };
        let mut line = log_object(stats).to_string();
        line.push('\n');
        // One write per line, so that a run that dies leaves whole lines.
        match self
            .file
            .write_all(line.as_bytes())
            .and_then(|()| self.file.flush())
        {
            Ok(()) => ControlFlow::Continue(()),
            Err(e) => {
                self.error.get_or_insert(e);
                ControlFlow::Break(())
            }
        }
    }

    /// The first write error, if any.
    ///
    /// # Errors
    /// [`CliError::Io`] naming the log.
    pub(super) fn check(&mut self) -> Result<(), CliError> {
        match self.error.take() {
            None => Ok(()),
            Some(e) => Err(CliError::io(
                format!("cannot write log '{}'", self.path.display()),
                e,
            )),
        }
    }
}

/// The keys of every log line.
const LOG_KEYS: [&str; 4] = [
    "epoch",
    "reconstruction_error",
    "seconds",
    "swap_acceptance",
];
/// The keys a log line gains with `--validation`.
const LOG_VALIDATION_KEYS: [&str; 4] = [
    "validation_reconstruction_error",
    "validation_free_energy",
    "training_free_energy",
    "free_energy_gap",
];

/// The JSON object of one epoch (non-finite numbers become `null`).
pub(super) fn log_object(stats: &EpochStats) -> Value {
    let mut o = Map::new();
    let values = [
        json!(stats.epoch),
        json!(stats.reconstruction_error),
        json!(stats.seconds),
        json!(stats.swap_acceptance),
    ];
    for (key, x) in LOG_KEYS.iter().zip(values) {
        o.insert((*key).into(), x);
    }
    if let Some(v) = &stats.validation {
        let values = [
            v.reconstruction_error,
            v.validation_free_energy,
            v.training_free_energy,
            v.free_energy_gap,
        ];
        for (key, x) in LOG_VALIDATION_KEYS.iter().zip(values) {
            o.insert((*key).into(), json!(x));
        }
    }
    Value::Object(o)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::ValidationStats;

    fn stats(epoch: usize, validation: Option<f64>) -> EpochStats {
        EpochStats {
            epoch,
            reconstruction_error: 0.012_344,
            seconds: 0.054,
            validation: validation.map(|e| ValidationStats {
                reconstruction_error: e,
                validation_free_energy: -10.0,
                training_free_energy: -11.5,
                free_energy_gap: 1.5,
            }),
            swap_acceptance: Vec::new(),
        }
    }

    #[test]
    fn epoch_lines() {
        assert_eq!(
            epoch_line(&stats(3, None), 20),
            "epoch  3/20  reconstruction error 0.01234  (0.05 s)"
        );
        assert_eq!(
            epoch_line(&stats(3, Some(0.013)), 20),
            "epoch  3/20  reconstruction error 0.01234  validation 0.01300  free-energy gap +1.500  (0.05 s)"
        );
    }

    #[test]
    fn log_objects() {
        let plain = log_object(&stats(2, None));
        assert_eq!(
            plain.to_string(),
            r#"{"epoch":2,"reconstruction_error":0.012344,"seconds":0.054,"swap_acceptance":[]}"#
        );
        let mut s = stats(2, Some(f64::NAN));
        s.swap_acceptance = vec![0.25, 0.5];
        let watched = log_object(&s);
        let o = watched.as_object().unwrap();
        assert_eq!(o.len(), LOG_KEYS.len() + LOG_VALIDATION_KEYS.len());
        // Non-finite numbers are null, and the line stays one line.
        assert_eq!(o["validation_reconstruction_error"], Value::Null);
        assert_eq!(o["free_energy_gap"], json!(1.5));
        assert_eq!(o["swap_acceptance"], json!([0.25, 0.5]));
        assert!(!watched.to_string().contains('\n'));
    }

    #[test]
    fn a_log_that_cannot_be_written_stops_training_with_an_io_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.jsonl");
        let mut log = EpochLog::create(Some(&path)).unwrap().unwrap();
        let s = stats(1, None);
        assert!(log.record(&Progress::Epoch(&s)).is_continue());
        assert!(log.check().is_ok());
        // A handle opened for reading only: the next write fails.
        log.file = File::open(&path).unwrap();
        assert!(log.record(&Progress::Epoch(&s)).is_break());
        let err = log.check().unwrap_err();
        assert_eq!(err.exit_code(), crate::cli::EXIT_IO);
        assert!(err.to_string().starts_with("cannot write log '"), "{err}");
        // The line written before is whole.
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, format!("{}\n", log_object(&s)));
    }

    #[test]
    fn patience_lines() {
        let cfg = TrainConfig::default().with_epochs(20);
        let errors = [0.3, 0.2, 0.25, 0.21];
        let report = |n: usize, best| TrainReport {
            epochs: (1..=n)
                .map(|e| stats(e, Some(errors[(e - 1) % 4])))
                .collect(),
            best_epoch: best,
        };
        assert_eq!(patience_line(&report(4, None), &cfg), None);
        assert_eq!(
            patience_line(&report(4, Some(2)), &cfg).unwrap(),
            "stopped after epoch 4 of 20: no better validation reconstruction error for 2 \
             epochs; the model is that of epoch 2, the best (validation reconstruction error \
             0.20000)"
        );
        assert_eq!(
            patience_line(&report(20, Some(18)), &cfg).unwrap(),
            "trained all 20 epochs; the model is that of epoch 18, the best (validation \
             reconstruction error 0.20000)"
        );
    }
}
