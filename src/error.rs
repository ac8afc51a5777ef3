//! The crate's typed error.

use std::path::PathBuf;

/// Everything that can go wrong in the RBM API. Every variant prints as one
/// readable line. New variants may be added in minor releases.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RbmError {
    /// The data set has no rows (or no columns).
    #[error("the data is empty ({rows} rows × {cols} columns)")]
    EmptyData {
        /// Rows found.
        rows: usize,
        /// Columns found.
        cols: usize,
    },
    /// NaN or ±inf in the data.
    #[error("the data has a non-finite value ({value}) at row {row}, column {col} (both from 1)")]
    NonFinite {
        /// Row, counted from 1.
        row: usize,
        /// Column, counted from 1.
        col: usize,
        /// The offending value.
        value: f32,
    },
    /// A value outside the range the model accepts, such as data outside
    /// [0, 1] for Bernoulli visible units without an input map.
    #[error(
        "the data has a value outside {expected} ({value}) at row {row}, column {col} (both from 1)"
    )]
    OutOfRange {
        /// Row, counted from 1.
        row: usize,
        /// Column, counted from 1.
        col: usize,
        /// The offending value.
        value: f32,
        /// The range allowed, and why.
        expected: &'static str,
    },
    /// A buffer's length is not `rows × cols` for the model's layer width.
    #[error("shape mismatch: {what} has {got} values, which is not a multiple of {width}")]
    Ragged {
        /// Which argument.
        what: &'static str,
        /// Its length.
        got: usize,
        /// The row width it must be a multiple of.
        width: usize,
    },
    /// Data and model disagree on the number of units.
    #[error("shape mismatch: {what} has {got} columns but the model has {want}")]
    ShapeMismatch {
        /// Which argument.
        what: &'static str,
        /// Columns given.
        got: usize,
        /// Columns the model expects.
        want: usize,
    },
    /// An output buffer of the wrong size.
    #[error("shape mismatch: {what} has {got} values but {want} are needed")]
    OutputSize {
        /// Which argument.
        what: &'static str,
        /// Its length.
        got: usize,
        /// The length needed.
        want: usize,
    },
    /// A parameter outside its valid range.
    #[error("invalid {name} = {value}: {expected}")]
    InvalidParameter {
        /// The parameter's name, as on the command line.
        name: &'static str,
        /// The value given.
        value: String,
        /// What is allowed.
        expected: &'static str,
    },
    /// An unknown unit name.
    #[error(transparent)]
    UnknownUnit(#[from] crate::units::ParseUnitError),
    /// Weights became NaN or infinite during training.
    #[error(
        "training diverged at epoch {epoch}, batch {batch}: the weights became non-finite \
         (try a smaller learning rate); the model is left as it was after epoch {last_good_epoch}"
    )]
    Diverged {
        /// Epoch, counted from 1.
        epoch: usize,
        /// Mini-batch within the epoch, counted from 1.
        batch: usize,
        /// The last completed epoch (0 = the initial model).
        last_good_epoch: usize,
    },
    /// A single [`crate::train::Trainer::step`] produced non-finite
    /// parameters (the model keeps them; [`crate::train::train`] instead
    /// restores the last good epoch and reports [`RbmError::Diverged`]).
    #[error(
        "the update made the weights non-finite (try a smaller learning rate); \
         the model now holds the diverged values"
    )]
    StepDiverged,
    /// Training was stopped by the progress callback.
    #[error("training was cancelled after epoch {epoch}")]
    Cancelled {
        /// The last completed epoch.
        epoch: usize,
    },
    /// A checkpoint is not a valid, intact nrelu-rbm checkpoint: not a
    /// safetensors file, truncated, another format, or its checksum does
    /// not match.
    #[error("invalid checkpoint: {reason}")]
    InvalidCheckpoint {
        /// What is wrong with it.
        reason: String,
    },
    /// Resuming from a checkpoint with an option that would change the
    /// run.
    #[error(
        "option '{option}' is {now} but the checkpoint was written with {checkpoint}: \
         resuming would change the run"
    )]
    CheckpointMismatch {
        /// The option (named as on the command line, without dashes).
        option: &'static str,
        /// Its value in the checkpoint.
        checkpoint: String,
        /// Its value now.
        now: String,
    },
    /// A model file is not a valid nrelu-rbm model.
    #[error("invalid model {path}: {reason}")]
    InvalidModel {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A data file could not be parsed.
    #[error("invalid data {path}: {reason}")]
    InvalidData {
        /// The file.
        path: PathBuf,
        /// What is wrong, with line/column where known.
        reason: String,
    },
    /// An I/O failure on a file.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The system error.
        source: std::io::Error,
    },
}

/// Shorthand for results of this crate.
pub type Result<T, E = RbmError> = std::result::Result<T, E>;

/// `reason` with its control characters (newlines, tabs, ...) escaped as
/// `\\n`, `\\t`, ...: file contents quoted in an error (a metadata value,
/// a tensor or member name) must not break the one-line message.
pub(crate) fn one_line(reason: String) -> String {
    if !reason.chars().any(char::is_control) {
        return reason;
    }
    reason
        .chars()
        .flat_map(|c| {
            let escaped: Vec<char> = if c.is_control() {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            escaped
        })
        .collect()
}

pub(crate) fn invalid(
    name: &'static str,
    value: impl ToString,
    expected: &'static str,
) -> RbmError {
    RbmError::InvalidParameter {
        name,
        value: value.to_string(),
        expected,
    }
}

/// Checks a `rows × width` row-major buffer: non-empty and ragged-free.
/// Returns the number of rows.
pub(crate) fn rows_of(what: &'static str, data: &[f32], width: usize) -> Result<usize> {
    if width == 0 || !data.len().is_multiple_of(width) {
        return Err(RbmError::Ragged {
            what,
            got: data.len(),
            width,
        });
    }
    Ok(data.len() / width)
}

/// Finds the first non-finite value of a `? × width` row-major buffer.
pub(crate) fn check_finite(data: &[f32], width: usize) -> Result<()> {
    // One vectorised pass; the search for the first bad value only on error.
    if crate::kernels::Kernels::active().all_finite(data) {
        return Ok(());
    }
    match data.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(i) => Err(RbmError::NonFinite {
            row: i / width + 1,
            col: i % width + 1,
            value: data[i],
        }),
    }
}
