//! `rbm train --checkpoint CK [--checkpoint-every N] [--resume CK]`: runs
//! that survive being killed. The checkpoint (see
//! [`crate::train::Checkpoint`]) is written atomically every N epochs and
//! when SIGINT arrives, after the current mini-batch; the run then exits
//! with status 130 and says how to resume. `--resume` continues a run
//! whose final model is byte-identical to an uninterrupted one's.

use super::model::train_error;
use super::options::TrainArgs;
use crate::cli::CliError;
use crate::cli::output::check_output_path;
use crate::error::RbmError;
use crate::fsutil::atomic_write;
use crate::rbm::Rbm;
use crate::train::{Checkpoint, Progress, TrainConfig, TrainReport, train_resumable};
use std::ops::ControlFlow;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether `args` ask for checkpoints or a resume.
pub(super) fn wanted(args: &TrainArgs) -> bool {
    args.checkpoint.is_some() || args.resume.is_some()
}

/// Checks `--checkpoint` before any work: a file path that is not the
/// model's or the log's.
///
/// # Errors
/// [`CliError::Usage`] or [`CliError::Input`] naming the problem.
pub(super) fn check_paths(args: &TrainArgs) -> Result<(), CliError> {
    let Some(ck) = &args.checkpoint else {
        return Ok(());
    };
    check_output_path(ck)?;
    if ck == &args.out || Some(ck) == args.log.as_ref() {
        return Err(CliError::Usage(format!(
            "--checkpoint '{}' names the model or log file; give it its own file",
            ck.display()
        )));
    }
    Ok(())
}

/// Reads the checkpoint of `--resume`.
fn read(path: &Path) -> Result<Checkpoint, CliError> {
    let bytes = std::fs::read(path).map_err(|source| CliError::Unreadable {
        path: path.to_owned(),
        source,
    })?;
    Checkpoint::from_bytes(&bytes)
        .map_err(|e| CliError::Usage(format!("cannot resume from '{}': {e}", path.display())))
}

/// The command that resumes this run from `ck`: the arguments as given,
/// with `--resume ck` unless they already have it.
fn resume_command(ck: &Path) -> String {
    let args: Vec<String> = std::env::args().collect();
    let mut line = args.join(" ");
    if !args
        .iter()
        .any(|a| a == "--resume" || a.starts_with("--resume="))
    {
        line.push_str(&format!(" --resume {}", ck.display()));
    }
    line
}

/// Trains `rbm` like [`crate::train::train`], writing the checkpoint of
/// `--checkpoint` every `--checkpoint-every` epochs and on SIGINT, after
/// resuming from `--resume` if given.
///
/// # Errors
/// Those of training ([`train_error`]); [`CliError::Usage`] for a
/// checkpoint that is corrupted or was written with options that would
/// change the run; [`CliError::Io`] if a checkpoint cannot be written;
/// [`CliError::Interrupted`] after SIGINT, once the checkpoint is written.
pub(super) fn train(
    args: &TrainArgs,
    rbm: &mut Rbm,
    data: &[f32],
    cfg: &TrainConfig,
    mut progress: impl FnMut(Progress<'_>) -> ControlFlow<()> + Send,
) -> Result<TrainReport, CliError> {
    let resume = args.resume.as_deref().map(read).transpose()?;
    let interrupt = Arc::new(AtomicBool::new(false));
    if args.checkpoint.is_some() {
        signal_hook::flag::register(signal_hook::consts::SIGINT, Arc::clone(&interrupt))
            .map_err(|e| CliError::io("cannot handle SIGINT", e))?;
    }
    // Latched when a checkpoint is written because of SIGINT, so that the
    // progress callback stops right after it.
    let stopping = AtomicBool::new(false);
    let every = args.checkpoint_every;
    let save_when = |p: &Progress<'_>| {
        if args.checkpoint.is_none() {
            return false;
        }
        if interrupt.load(Ordering::SeqCst) {
            stopping.store(true, Ordering::SeqCst);
            return true;
        }
        matches!(p, Progress::Model { stats, .. } if stats.epoch.is_multiple_of(every))
    };
    let save = |ck: Checkpoint| {
        let Some(path) = &args.checkpoint else {
            return Ok(());
        };
        let bytes = ck.to_bytes()?;
        atomic_write(path, |w| w.write_all(&bytes))
    };
    let result = train_resumable(rbm, data, cfg, resume.as_ref(), save_when, save, |p| {
        if stopping.load(Ordering::SeqCst) {
            ControlFlow::Break(())
        } else {
            progress(p)
        }
    });
    match result {
        Err(RbmError::Cancelled { .. }) if stopping.load(Ordering::SeqCst) => {
            let ck = args.checkpoint.as_deref().unwrap_or(Path::new("?"));
            Err(CliError::Interrupted(format!(
                "interrupted; the checkpoint '{}' holds the run: resume with `{}`",
                ck.display(),
                resume_command(ck)
            )))
        }
        Err(e @ RbmError::CheckpointMismatch { .. }) => Err(CliError::Usage(format!(
            "cannot resume from '{}': {e}",
            args.resume.as_deref().unwrap_or(Path::new("?")).display()
        ))),
        Err(e @ RbmError::Io { .. }) => Err(CliError::Rbm(e)),
        r => r.map_err(|e| train_error(e, cfg.learning_rate)),
    }
}
