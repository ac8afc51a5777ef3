//! Progress of `rbm demo` on stderr: a progress bar on a terminal, and
//! per-epoch lines unless `--quiet`.

use crate::cli::output::eprint_line;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;

/// Progress bar and per-epoch lines on stderr.
pub(super) struct Log {
    on: bool,
    bar: Option<ProgressBar>,
}

impl Log {
    pub(super) fn new(quiet: bool, batches: u64) -> Log {
        let on = !quiet;
        let bar = (on && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new(batches);
            if let Ok(style) =
                ProgressStyle::with_template("{msg:32}  {wide_bar} {pos}/{len} batches, eta {eta}")
            {
                bar.set_style(style.progress_chars("=> "));
            }
            bar
        });
        Log { on, bar }
    }

    pub(super) fn line(&self, text: &str) {
        if !self.on {
            return;
        }
        eprint_line(self.bar.as_ref(), text);
    }

    pub(super) fn batch(&self, msg: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(msg.to_owned());
            bar.inc(1);
        }
    }

    pub(super) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
