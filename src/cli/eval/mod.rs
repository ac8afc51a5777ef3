//! `rbm eval`: the numbers that tell a good RBM from a bad one, for one
//! trained model on a data set (a CSV or `.npy` file, or the embedded
//! digits, through the model's stored input map as in `rbm transform`).
//!
//! * **Reconstruction error** ([`Rbm::reconstruction_error`]): the mean
//!   squared error per visible unit between the mapped data and its
//!   noise-free reconstruction, for every model.
//! * **Pseudo-log-likelihood** ([`pseudo_log_likelihood`], nats per row),
//!   **log Z** and the **average log-likelihood**
//!   ([`average_log_likelihood`], nats per row), for models with an energy
//!   function and Bernoulli visible units. log Z is exact
//!   ([`exact_log_z`], method `exact`) when a layer that can be enumerated
//!   has at most [`MAX_ENUMERATED_UNITS`] units (the visible layer, or the
//!   hidden layer if its units are Bernoulli), and otherwise estimated by
//!   AIS (method `ais`) from the base-rate model of the data: forward AIS
//!   ([`ais`], a stochastic lower bound, with its ±3 standard-error band)
//!   and reverse AIS ([`reverse_ais`], a stochastic upper bound, started
//!   from exact model samples where a layer can be enumerated and from
//!   chains run from the data otherwise), each with its average
//!   log-likelihood. `--method exact|ais` chooses instead: `exact` fails
//!   on a model too large to enumerate, `ais` runs AIS even where
//!   enumeration would be possible.
//!
//! The likelihoods are those of binary data. Data that are not binary
//! (the digits mapped to [0, 1], say) are binarised as `v > T`: `T` is
//! `--binarize T`, or 0.5 with a note when the option is not given. The
//! reconstruction error always uses the data as mapped, not binarised.
//!
//! NReLU units have no energy function, so a NReLU model only gets its
//! reconstruction error, unless `--as-ssu` evaluates the stepped sigmoid
//! model with the same parameters (every number, the reconstruction error
//! included, is then that model's). Gaussian-visible models only get their
//! reconstruction error: the library's likelihoods are for Bernoulli
//! visible units.
//!
//! The parts, by idea: [`options`] (the command line), [`measures`] (what
//! is computed), [`log_z`] (exact or by AIS), [`model`] (the model
//! evaluated), and the two outputs, [`table`] and [`json`].
//!
//! [`Rbm::reconstruction_error`]: crate::rbm::Rbm::reconstruction_error
//! [`pseudo_log_likelihood`]: crate::likelihood::pseudo_log_likelihood
//! [`average_log_likelihood`]: crate::likelihood::average_log_likelihood
//! [`exact_log_z`]: crate::likelihood::exact_log_z
//! [`MAX_ENUMERATED_UNITS`]: crate::likelihood::MAX_ENUMERATED_UNITS
//! [`ais`]: crate::likelihood::ais
//! [`reverse_ais`]: crate::likelihood::reverse_ais

use super::CliError;
use super::data_args::DataInput;
use super::transform::load_mapped_data;
use crate::rbm::Rbm;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::time::Duration;

mod json;
mod log_z;
mod measures;
mod model;
mod options;
mod table;

use json::to_json;
use measures::{EvalOptions, Evaluation, evaluate, notes};
use model::model_to_evaluate;
pub use options::EvalArgs;
use table::{render_table, table_rows};

/// Runs `rbm eval`.
///
/// # Errors
/// [`CliError::Usage`] for a stack file or `--as-ssu` on a model that is
/// not NReLU, [`CliError::Input`] for a data width that differs from the
/// model's, [`CliError::Unreadable`] and [`CliError::Rbm`] for model or
/// data files that cannot be read or are invalid (exit code 2);
/// [`CliError::Io`] if stdout cannot be written (exit code 1).
pub fn run(args: &EvalArgs) -> Result<(), CliError> {
    let rbm = model_to_evaluate(args)?;
    let input = DataInput::new(args.data.as_deref(), args.labels_last_column, &args.input);
    let data = load_mapped_data(&input, &rbm)?;
    let opts = EvalOptions {
        ais_runs: args.ais_runs,
        ais_betas: args.ais_betas,
        seed: args.seed,
        threads: args.threads,
        binarize: args.binarize,
        method: args.method,
        ais_burn_in: args.ais_burn_in,
    };
    let spinner = (!args.quiet && !args.json && std::io::stderr().is_terminal()).then(|| {
        let bar = ProgressBar::new_spinner();
        if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
            bar.set_style(style);
        }
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    });
    let result = evaluate(&rbm, &data.values, &opts, |what| {
        if let Some(bar) = &spinner {
            bar.set_message(what.to_owned());
        }
    });
    if let Some(bar) = &spinner {
        bar.finish_and_clear();
    }
    let eval = result?;

    let text = render(args, &rbm, &eval);
    // The table states an automatic binarisation in its own row; with
    // --json it is also said on stderr.
    if let (Some((_, true)), true, false) = (eval.binarize, args.json, args.quiet) {
        eprintln!("note: {}", notes(&eval)[0]);
    }
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| CliError::io("cannot write to stdout", e))
}

/// The output of `rbm eval`: the JSON object, or a heading naming the
/// model and the data above the table.
fn render(args: &EvalArgs, rbm: &Rbm, eval: &Evaluation) -> String {
    if args.json {
        let mut s = to_json(eval).to_string();
        s.push('\n');
        s
    } else {
        let source = match &args.data {
            Some(p) => format!("'{}'", p.display()),
            None => "the embedded UCI digits".to_owned(),
        };
        let as_ssu = if args.as_ssu {
            " (the nrelu model evaluated as ssu)"
        } else {
            ""
        };
        format!(
            "model '{}': {} {} visible x {} {} hidden units{as_ssu}; data: {} rows of {source}\n\n{}",
            args.model.display(),
            rbm.n_visible(),
            rbm.visible(),
            rbm.n_hidden(),
            rbm.hidden(),
            eval.rows,
            render_table(&table_rows(eval))
        )
    }
}
