//! `rbm train`: trains an RBM on a CSV or `.npy` file, or on the embedded
//! UCI digits, and saves it as a `.safetensors` model, or a stack of them
//! with `--layers`.
//!
//! The model file is written atomically once training has succeeded: a
//! failed or interrupted run leaves no file, and an existing file at
//! `--out` is only replaced by a complete new model.
//!
//! The parts, by idea:
//! * [`options`]: the command line ([`TrainArgs`]) and the training
//!   configuration it asks for;
//! * [`input`]: the training data and the input map stored in the model;
//! * [`model`]: the run of one model;
//! * [`stack`]: the run of a stack (`--layers`);
//! * [`progress`]: the progress bar and the per-epoch lines;
//! * [`watch`]: `--validation`, `--patience` and `--log`;
//! * [`checkpoint`]: `--checkpoint` and `--resume`.

use super::CliError;
use super::output::{is_stdout, probe_dir_writable};
use crate::error::RbmError;
use std::path::Path;

mod checkpoint;
mod input;
mod model;
mod options;
mod progress;
mod stack;
mod watch;

pub(crate) use input::check_width;
pub use options::TrainArgs;
pub(crate) use options::{any_u64, any_usize, positive_usize};

/// Runs `rbm train`: a stack with `--layers`, one model otherwise.
///
/// # Errors
/// [`CliError::Input`] or [`CliError::Rbm`] for bad options, data or
/// output path, [`CliError::Unreadable`] for an unreadable data file,
/// [`CliError::Diverged`] if the weights became non-finite (exit code 2,
/// nothing written), [`CliError::Io`] if the model cannot be written (exit
/// code 1, nothing written).
pub fn run(args: &TrainArgs) -> Result<(), CliError> {
    match &args.layers {
        Some(widths) => stack::run(args, widths),
        None => model::run(args),
    }
}

/// Checks that a file can be created in the directory of `out`, by
/// creating and deleting a temporary one, so that an unwritable
/// destination fails before training rather than after.
fn probe_writable(out: &Path) -> Result<(), CliError> {
    if is_stdout(out) {
        return Ok(());
    }
    probe_dir_writable(crate::fsutil::parent_dir(out))
}

/// A failure to write the model: an I/O error (exit code 1) or, never in
/// practice, an invalid model.
fn write_error(e: RbmError) -> CliError {
    match e {
        RbmError::Io { path, source } => {
            CliError::io(format!("cannot write model '{}'", path.display()), source)
        }
        other => CliError::Rbm(other),
    }
}
