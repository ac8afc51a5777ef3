//! What `rbm train` shows while it runs, for one model and for a stack:
//! the progress bar of batches and the per-epoch lines.

use crate::cli::output::eprint_line;
use crate::train::{Progress, Sampling};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;

/// The name of a sampling scheme in the plan line, e.g. `CD-1` or `PCD-5`.
pub(super) fn sampling_name(sampling: Sampling) -> String {
    match sampling {
        Sampling::Cd(k) => format!("CD-{k}"),
        Sampling::Pcd(k) => format!("PCD-{k}"),
    }
}

/// A progress bar of batches when logging to a terminal.
pub(super) fn batch_bar(log: bool) -> Option<ProgressBar> {
    (log && std::io::stderr().is_terminal()).then(|| {
        let bar = ProgressBar::new(0);
        if let Ok(style) =
            ProgressStyle::with_template("{msg}  {wide_bar} {pos}/{len} batches, eta {eta}")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        bar
    })
}

/// One line of the per-epoch log, e.g.
/// `epoch  3/20  reconstruction error 0.01234  (0.05 s)`.
pub fn epoch_line(epoch: usize, epochs: usize, error: f64, seconds: f64) -> String {
    let w = epochs.to_string().len();
    format!("epoch {epoch:>w$}/{epochs}  reconstruction error {error:.5}  ({seconds:.2} s)")
}

/// The swap acceptance rates of parallel tempering for the epoch line,
/// e.g. `  swaps accepted 0.52 0.47 0.41` (β₁↔β₂ first); empty without
/// tempering.
pub fn swap_note(rates: &[f64]) -> String {
    if rates.is_empty() {
        return String::new();
    }
    let mut s = "  swaps accepted".to_owned();
    for r in rates {
        s.push_str(&format!(" {r:.2}"));
    }
    s
}

/// One line of the per-epoch log of a stack, e.g.
/// `layer 2/2  epoch  3/20  reconstruction error 0.01234  (0.05 s)`.
pub fn stack_epoch_line(
    layer: usize,
    layers: usize,
    epoch: usize,
    epochs: usize,
    error: f64,
    seconds: f64,
) -> String {
    let w = layers.to_string().len();
    format!(
        "layer {layer:>w$}/{layers}  {}",
        epoch_line(epoch, epochs, error, seconds)
    )
}

/// Shows the training progress `p` of a run of `epochs` epochs: moves the
/// bar after a batch, prints the epoch line after an epoch.
pub(super) fn show_progress(bar: Option<&ProgressBar>, log: bool, epochs: usize, p: Progress<'_>) {
    match p {
        Progress::Batch {
            epoch,
            batch,
            batches,
        } => {
            if let Some(bar) = bar {
                if epoch == 1 && batch == 1 {
                    bar.set_length((batches * epochs) as u64);
                }
                bar.set_message(format!("epoch {epoch}/{epochs}"));
                bar.inc(1);
            }
        }
        Progress::Epoch(stats) => {
            if log {
                let mut line = super::watch::epoch_line(stats, epochs);
                line.push_str(&swap_note(&stats.swap_acceptance));
                eprint_line(bar, &line);
            }
        }
        Progress::Model { .. } => {}
    }
}

/// Shows the progress `p` of layer `i` of `n` (from 0): moves the bar
/// after a batch, prints the epoch line after an epoch.
pub(super) fn show_stack_progress(
    bar: Option<&ProgressBar>,
    log: bool,
    (i, n): (usize, usize),
    epochs: usize,
    p: Progress<'_>,
) {
    match p {
        Progress::Batch {
            epoch,
            batch,
            batches,
        } => {
            if let Some(bar) = bar {
                if i == 0 && epoch == 1 && batch == 1 {
                    bar.set_length((batches * epochs * n) as u64);
                }
                bar.set_message(format!("layer {}/{n} epoch {epoch}/{epochs}", i + 1));
                bar.inc(1);
            }
        }
        Progress::Epoch(stats) => {
            if log {
                let line = stack_epoch_line(
                    i + 1,
                    n,
                    stats.epoch,
                    epochs,
                    stats.reconstruction_error,
                    stats.seconds,
                );
                eprint_line(bar, &line);
            }
        }
        Progress::Model { .. } => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_line_format() {
        assert_eq!(
            epoch_line(3, 20, 0.012_344, 0.054),
            "epoch  3/20  reconstruction error 0.01234  (0.05 s)"
        );
        assert_eq!(
            epoch_line(7, 9, 1.5, 12.0),
            "epoch 7/9  reconstruction error 1.50000  (12.00 s)"
        );
    }
}
