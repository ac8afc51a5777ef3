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

use super::CliError;
use super::data_args::{DataFormatArgs, DataInput};
use super::train::{any_u64, any_usize};
use super::transform::{load_mapped_data, load_model};
use crate::likelihood::{
    AisConfig, AisEstimate, Enumerated, MAX_ENUMERATED_UNITS, ais, average_log_likelihood,
    base_rate_bias, default_schedule, enumerable_layer, exact_log_z, pseudo_log_likelihood,
    reverse_ais,
};
use crate::parallel::{Workers, in_pool};
use crate::rbm::{Rbm, VisibleUnit};
use crate::units::HiddenUnit;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

/// Default `--ais-runs`.
pub const DEFAULT_AIS_RUNS: usize = 100;
/// Default `--ais-betas` (Salakhutdinov & Murray's schedule).
pub const DEFAULT_AIS_BETAS: usize = 14_500;
/// Largest `--ais-runs`.
pub const MAX_AIS_RUNS: usize = 1_000_000;
/// Smallest `--ais-betas` ([`default_schedule`] needs three segments).
pub const MIN_AIS_BETAS: usize = 3;
/// Largest `--ais-betas`.
pub const MAX_AIS_BETAS: usize = 10_000_000;
/// Default `--ais-burn-in` (that of [`AisConfig::new`]).
pub const DEFAULT_AIS_BURN_IN: usize = 1000;
/// Largest `--ais-burn-in`.
pub const MAX_AIS_BURN_IN: usize = 10_000_000;
/// The threshold used when the data are not binary and `--binarize` is not
/// given.
pub const DEFAULT_BINARIZE: f32 = 0.5;

/// The keys of the `--json` object (printed in sorted order).
pub const JSON_KEYS: [&str; 17] = [
    "method",
    "log_z",
    "log_z_std",
    "log_z_lower",
    "log_z_upper",
    "log_z_reverse",
    "ais_runs",
    "ais_betas",
    "avg_log_likelihood",
    "avg_log_likelihood_reverse",
    "pseudo_log_likelihood",
    "reconstruction_error",
    "rows",
    "binarize",
    "visible",
    "hidden",
    "notes",
];

/// Options of `rbm eval`.
#[derive(Clone, Debug, clap::Args)]
pub struct EvalArgs {
    /// The model, as written by `rbm train` (a single RBM, not a stack)
    #[arg(long, value_name = "MODEL.safetensors")]
    pub model: PathBuf,
    /// Data, with the model's number of columns: a CSV file, a 2-D .npy
    /// array, an .npz archive (FILE.npz:NAME) or an IDX file, plain or
    /// gzipped; - reads standard input. Default: the embedded UCI digits
    #[arg(long, value_name = "FILE")]
    pub data: Option<PathBuf>,
    /// How to read --data
    #[command(flatten)]
    pub input: DataFormatArgs,
    /// The last column of --data holds labels: leave it out
    #[arg(long, requires = "data")]
    pub labels_last_column: bool,
    /// How log Z is found: `exact` (enumeration; an error if no layer is
    /// small enough) or `ais` (forward and reverse AIS, even where
    /// enumeration is possible) [default: exact where possible, else ais]
    #[arg(long, value_enum, value_name = "METHOD")]
    pub method: Option<Method>,
    /// AIS runs (importance weights), when log Z cannot be enumerated
    #[arg(long, value_name = "R", default_value_t = DEFAULT_AIS_RUNS, allow_negative_numbers = true, value_parser = ais_runs)]
    pub ais_runs: usize,
    /// AIS inverse temperatures (the schedule of Salakhutdinov & Murray
    /// scaled to N, dense near 1)
    #[arg(long, value_name = "N", default_value_t = DEFAULT_AIS_BETAS, allow_negative_numbers = true, value_parser = ais_betas)]
    pub ais_betas: usize,
    /// Gibbs sweeps of the model from the data that start reverse AIS
    /// when no layer is small enough for exact model samples
    #[arg(long, value_name = "N", default_value_t = DEFAULT_AIS_BURN_IN, allow_negative_numbers = true, value_parser = ais_burn_in)]
    pub ais_burn_in: usize,
    /// Seed of the AIS random streams
    #[arg(long, value_name = "S", default_value_t = 0, allow_negative_numbers = true, value_parser = any_u64)]
    pub seed: u64,
    /// Worker threads for log Z, in one pool for the command; 0 = all
    /// cores (the numbers do not depend on it)
    #[arg(long, value_name = "T", default_value_t = 0, allow_negative_numbers = true, value_parser = any_usize)]
    pub threads: usize,
    /// Binarise the (mapped) data as v > T before the likelihoods, in
    /// [0, 1) [default: 0.5 if the data are not binary, with a note]
    #[arg(long, value_name = "T", allow_negative_numbers = true, value_parser = threshold)]
    pub binarize: Option<f32>,
    /// Evaluate a NReLU model as the stepped sigmoid (SSU) model with the
    /// same parameters (NReLU units have no energy function)
    #[arg(long)]
    pub as_ssu: bool,
    /// Print one JSON object on stdout instead of the table
    #[arg(long)]
    pub json: bool,
    /// No progress spinner and no notes on stderr
    #[arg(long, short)]
    pub quiet: bool,
}

fn ais_runs(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if (1..=MAX_AIS_RUNS).contains(&n) => Ok(n),
        _ => Err(format!("must be a whole number in 1..={MAX_AIS_RUNS}")),
    }
}

fn ais_betas(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if (MIN_AIS_BETAS..=MAX_AIS_BETAS).contains(&n) => Ok(n),
        _ => Err(format!(
            "must be a whole number in {MIN_AIS_BETAS}..={MAX_AIS_BETAS}"
        )),
    }
}

fn ais_burn_in(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if n <= MAX_AIS_BURN_IN => Ok(n),
        _ => Err(format!("must be a whole number in 0..={MAX_AIS_BURN_IN}")),
    }
}

fn threshold(s: &str) -> Result<f32, String> {
    match s.parse::<f32>() {
        Ok(t) if (0.0..1.0).contains(&t) => Ok(t),
        _ => Err("must be a number in [0, 1)".to_owned()),
    }
}

/// `--method`: how log Z is found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Method {
    /// Enumerate a layer.
    Exact,
    /// Forward and reverse annealed importance sampling.
    Ais,
}

/// How log Z was obtained.
#[derive(Clone, Debug, PartialEq)]
pub enum LogZ {
    /// By enumerating a layer.
    Exact {
        /// log Z.
        log_z: f64,
        /// The layer enumerated.
        layer: Enumerated,
        /// Its number of units.
        units: usize,
    },
    /// By annealed importance sampling from both sides.
    Ais {
        /// Forward AIS (a stochastic lower bound).
        forward: AisEstimate,
        /// Reverse AIS (a stochastic upper bound).
        reverse: AisEstimate,
        /// The layer reverse AIS drew exact samples of, or `None` when it
        /// started from chains run from the data.
        exact_start: Option<Enumerated>,
        /// Gibbs sweeps from the data before reverse AIS (when
        /// `exact_start` is `None`).
        burn_in: usize,
    },
}

impl LogZ {
    /// The value (the estimate for AIS).
    pub fn value(&self) -> f64 {
        match self {
            LogZ::Exact { log_z, .. } => *log_z,
            LogZ::Ais { forward, .. } => forward.log_z,
        }
    }

    /// `exact` or `ais`.
    pub fn method(&self) -> &'static str {
        match self {
            LogZ::Exact { .. } => "exact",
            LogZ::Ais { .. } => "ais",
        }
    }

    /// Standard error, 0 when exact.
    pub fn std(&self) -> f64 {
        match self {
            LogZ::Exact { .. } => 0.0,
            LogZ::Ais { forward, .. } => forward.log_z_std,
        }
    }

    /// The ±3 standard-error band (a point when exact; for AIS the lower
    /// end may be −∞, and both ends are infinite for a single run).
    pub fn band(&self) -> (f64, f64) {
        match self {
            LogZ::Exact { log_z, .. } => (*log_z, *log_z),
            LogZ::Ais { forward, .. } => (forward.log_z_lower, forward.log_z_upper),
        }
    }

    /// The reverse AIS estimate (`None` when exact).
    pub fn reverse(&self) -> Option<f64> {
        match self {
            LogZ::Exact { .. } => None,
            LogZ::Ais { reverse, .. } => Some(reverse.log_z),
        }
    }
}

/// A measure, or why it does not apply.
pub type Measure<T> = Result<T, String>;

/// What `rbm eval` computes.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    /// Rows of data.
    pub rows: usize,
    /// Visible units of the model evaluated.
    pub visible: VisibleUnit,
    /// Hidden units of the model evaluated (`ssu` with `--as-ssu`).
    pub hidden: HiddenUnit,
    /// Mean squared reconstruction error per visible unit (mapped data).
    pub reconstruction_error: f64,
    /// The threshold the likelihood data were binarised at, and whether it
    /// was chosen automatically (`None`: the data were used as they are).
    pub binarize: Option<(f32, bool)>,
    /// Pseudo-log-likelihood per row.
    pub pseudo_log_likelihood: Measure<f64>,
    /// log Z.
    pub log_z: Measure<LogZ>,
    /// Average log-likelihood per row.
    pub avg_log_likelihood: Measure<f64>,
    /// Average log-likelihood per row with the reverse AIS log Z (`None`
    /// when log Z is exact or does not apply).
    pub avg_log_likelihood_reverse: Option<f64>,
}

/// Options of [`evaluate`].
#[derive(Clone, Debug, PartialEq)]
pub struct EvalOptions {
    /// AIS runs.
    pub ais_runs: usize,
    /// AIS temperatures.
    pub ais_betas: usize,
    /// AIS seed.
    pub seed: u64,
    /// Threads (0 = all cores).
    pub threads: usize,
    /// `--binarize`.
    pub binarize: Option<f32>,
    /// `--method` (`None`: exact where possible, else AIS).
    pub method: Option<Method>,
    /// Sweeps from the data before reverse AIS.
    pub ais_burn_in: usize,
}

/// Why the energy-based measures do not apply to `rbm`, if they do not.
fn no_energy(rbm: &Rbm) -> Option<String> {
    if rbm.hidden() == HiddenUnit::Nrelu {
        Some(
            "NReLU units have no energy function; --as-ssu evaluates the stepped sigmoid \
             model with the same parameters"
                .to_owned(),
        )
    } else if rbm.visible() != VisibleUnit::Bernoulli {
        Some("likelihoods are implemented for Bernoulli visible units only".to_owned())
    } else {
        None
    }
}

/// log Z of `rbm` for [`evaluate`], on the binary data `v`: exact or by
/// AIS as `opts.method` says (exact when a layer can be enumerated, by
/// AIS otherwise, if not given).
///
/// # Errors
/// [`CliError::Usage`] for `--method exact` on a model too large to
/// enumerate.
fn log_z_of(
    rbm: &Rbm,
    v: &[f32],
    opts: &EvalOptions,
    phase: &mut impl FnMut(&str),
) -> Result<LogZ, CliError> {
    // One pool of `--threads` threads for the command (none for 0, which
    // runs on rayon's global pool with all cores, nor for 1); the
    // likelihood functions run on the pool they are called in.
    let pool = match opts.threads {
        0 | 1 => None,
        t => Workers::new(t)?.pool(),
    };
    let layer = enumerable_layer(rbm);
    let method = match (opts.method, layer) {
        (Some(m), _) => m,
        (None, Some(_)) => Method::Exact,
        (None, None) => Method::Ais,
    };
    match method {
        Method::Exact => {
            if layer.is_none() {
                return Err(CliError::Usage(format!(
                    "--method exact: this model ({} visible x {} {} hidden units) has no layer \
                     that can be enumerated (at most {MAX_ENUMERATED_UNITS} units; hidden ones \
                     must be bernoulli); use --method ais",
                    rbm.n_visible(),
                    rbm.n_hidden(),
                    rbm.hidden()
                )));
            }
            phase("log Z by enumeration");
            let (log_z, layer) = in_pool(pool, || exact_log_z(rbm, opts.threads))?;
            let units = match layer {
                Enumerated::Visible => rbm.n_visible(),
                Enumerated::Hidden => rbm.n_hidden(),
            };
            Ok(LogZ::Exact {
                log_z,
                layer,
                units,
            })
        }
        Method::Ais => {
            let base = base_rate_bias(v, rbm.n_visible())?;
            let cfg = AisConfig::new(opts.seed)
                .with_runs(opts.ais_runs)
                .with_betas(default_schedule(opts.ais_betas))
                .with_threads(opts.threads)
                .with_burn_in(opts.ais_burn_in);
            phase(&format!(
                "log Z by forward AIS: {} runs x {} temperatures",
                opts.ais_runs, opts.ais_betas
            ));
            let forward = in_pool(pool.clone(), || ais(rbm, &base, &cfg))?;
            phase(&format!(
                "log Z by reverse AIS: {} runs x {} temperatures",
                opts.ais_runs, opts.ais_betas
            ));
            let reverse = in_pool(pool, || reverse_ais(rbm, &base, v, &cfg))?;
            Ok(LogZ::Ais {
                forward,
                reverse,
                exact_start: layer,
                burn_in: opts.ais_burn_in,
            })
        }
    }
}

/// Evaluates `rbm` on rows of (mapped) `data`; `phase` is called with a
/// description before each costly step.
///
/// # Errors
/// [`CliError::Rbm`] if the library rejects the data or the options.
pub fn evaluate(
    rbm: &Rbm,
    data: &[f32],
    opts: &EvalOptions,
    mut phase: impl FnMut(&str),
) -> Result<Evaluation, CliError> {
    let rows = data.len() / rbm.n_visible();
    phase("reconstruction error");
    let reconstruction_error = rbm.reconstruction_error(data)?;
    let mut eval = Evaluation {
        rows,
        visible: rbm.visible(),
        hidden: rbm.hidden(),
        reconstruction_error,
        binarize: None,
        pseudo_log_likelihood: Err(String::new()),
        log_z: Err(String::new()),
        avg_log_likelihood: Err(String::new()),
        avg_log_likelihood_reverse: None,
    };
    if let Some(why) = no_energy(rbm) {
        eval.pseudo_log_likelihood = Err(why.clone());
        eval.log_z = Err(why.clone());
        eval.avg_log_likelihood = Err(why);
        return Ok(eval);
    }
    let binary = data.iter().all(|&v| v == 0.0 || v == 1.0);
    eval.binarize = match opts.binarize {
        Some(t) => Some((t, false)),
        None if !binary => Some((DEFAULT_BINARIZE, true)),
        None => None,
    };
    let bin: Vec<f32>;
    let v: &[f32] = match eval.binarize {
        Some((t, _)) => {
            bin = data.iter().map(|&x| f32::from(u8::from(x > t))).collect();
            &bin
        }
        None => data,
    };
    phase("pseudo-likelihood");
    eval.pseudo_log_likelihood = Ok(pseudo_log_likelihood(rbm, v)?);
    let log_z = log_z_of(rbm, v, opts, &mut phase)?;
    eval.avg_log_likelihood = Ok(average_log_likelihood(rbm, v, log_z.value())?);
    if let Some(r) = log_z.reverse() {
        eval.avg_log_likelihood_reverse = Some(average_log_likelihood(rbm, v, r)?);
    }
    eval.log_z = Ok(log_z);
    Ok(eval)
}

/// Notes explaining binarisation and every measure that does not apply.
pub fn notes(e: &Evaluation) -> Vec<String> {
    let mut notes = Vec::new();
    if let Some((t, true)) = e.binarize {
        notes.push(format!(
            "the data are not binary: the likelihoods use v > {t} (set --binarize T to choose)"
        ));
    }
    let mut whys: Vec<&String> = Vec::new();
    for why in [
        e.pseudo_log_likelihood.as_ref().err(),
        e.log_z.as_ref().err(),
        e.avg_log_likelihood.as_ref().err(),
    ]
    .into_iter()
    .flatten()
    {
        if !whys.contains(&why) {
            whys.push(why);
        }
    }
    notes.extend(whys.into_iter().cloned());
    notes
}

/// The `--json` object (keys [`JSON_KEYS`]; non-finite numbers and
/// measures that do not apply are `null`).
pub fn to_json(e: &Evaluation) -> Value {
    let z = e.log_z.as_ref().ok();
    let ais = match z {
        Some(LogZ::Ais { forward, .. }) => Some(forward),
        _ => None,
    };
    let v = json!({
        "method": z.map(LogZ::method),
        "log_z": z.map(LogZ::value),
        "log_z_std": z.map(LogZ::std),
        "log_z_lower": z.map(|z| z.band().0),
        "log_z_upper": z.map(|z| z.band().1),
        "log_z_reverse": z.and_then(LogZ::reverse),
        "ais_runs": ais.map(|a| a.runs),
        "ais_betas": ais.map(|a| a.betas),
        "avg_log_likelihood": e.avg_log_likelihood.as_ref().ok(),
        "avg_log_likelihood_reverse": e.avg_log_likelihood_reverse,
        "pseudo_log_likelihood": e.pseudo_log_likelihood.as_ref().ok(),
        "reconstruction_error": e.reconstruction_error,
        "rows": e.rows,
        // The threshold as the f32 the user wrote (0.99, not 0.99000000953...).
        "binarize": e.binarize.map(|(t, _)| t.to_string().parse::<f64>().unwrap_or(f64::from(t))),
        "visible": e.visible.to_string(),
        "hidden": e.hidden.to_string(),
        "notes": notes(e),
    });
    debug_assert_eq!(v.as_object().map(|o| o.len()), Some(JSON_KEYS.len()));
    v
}

/// A number for the table: 6 decimals, `-inf`/`inf` as such.
fn num(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.6}")
    } else if x > 0.0 {
        "inf".to_owned()
    } else {
        "-inf".to_owned()
    }
}

/// The rows of the human-readable table: (measure, value, comment).
pub fn table_rows(e: &Evaluation) -> Vec<(String, String, String)> {
    // A reason is spelled out once; later measures refer to it.
    let mut said: Vec<String> = Vec::new();
    let mut na = |why: &str| {
        let comment = if said.iter().any(|w| w == why) {
            "does not apply (as above)".to_owned()
        } else {
            said.push(why.to_owned());
            format!("does not apply: {why}")
        };
        ("n/a".to_owned(), comment)
    };
    let mut rows = vec![(
        "reconstruction error".to_owned(),
        num(e.reconstruction_error),
        "mean squared error per visible unit (data as mapped, not binarised)".to_owned(),
    )];
    if let Some((t, auto)) = e.binarize {
        let how = if auto {
            "automatic: the data are not binary; set --binarize T to choose"
        } else {
            "--binarize"
        };
        rows.push((
            "binarised at".to_owned(),
            format!("{t}"),
            format!("the likelihoods use v > {t} ({how})"),
        ));
    }
    let (value, comment) = match &e.pseudo_log_likelihood {
        Ok(p) => (num(*p), "nats per row, every coordinate summed".to_owned()),
        Err(why) => na(why),
    };
    rows.push(("pseudo-log-likelihood".to_owned(), value, comment));
    match &e.log_z {
        Ok(z) => rows.extend(log_z_rows(z)),
        Err(why) => {
            let (value, comment) = na(why);
            rows.push(("log Z".to_owned(), value, comment));
        }
    }
    let (value, comment) = match (&e.avg_log_likelihood, &e.log_z) {
        (Ok(l), Ok(LogZ::Exact { .. })) => (num(*l), "nats per row".to_owned()),
        (Ok(l), Ok(LogZ::Ais { .. })) => (
            num(*l),
            "nats per row, with the forward AIS log Z (an over-estimate if log Z is \
             under-estimated)"
                .to_owned(),
        ),
        (Ok(l), Err(_)) => (num(*l), String::new()),
        (Err(why), _) => na(why),
    };
    rows.push(("avg log-likelihood".to_owned(), value, comment));
    if let Some(l) = e.avg_log_likelihood_reverse {
        rows.push((
            "avg log-likelihood (reverse)".to_owned(),
            num(l),
            "nats per row, with the reverse AIS log Z (a stochastic lower bound)".to_owned(),
        ));
    }
    rows
}

/// The rows of the table for log Z: its value and how it was found, with
/// the standard error and the band of an AIS estimate.
fn log_z_rows(z: &LogZ) -> Vec<(String, String, String)> {
    let mut rows = Vec::new();
    match z {
        LogZ::Exact { layer, units, .. } => {
            let layer = match layer {
                Enumerated::Visible => "visible",
                Enumerated::Hidden => "hidden",
            };
            rows.push((
                "log Z".to_owned(),
                num(z.value()),
                format!("exact: enumerated the 2^{units} states of the {layer} layer"),
            ));
        }
        LogZ::Ais {
            forward: a,
            reverse,
            exact_start,
            burn_in,
        } => {
            rows.push((
                "log Z".to_owned(),
                num(z.value()),
                format!(
                    "AIS estimate: {} run{}, {} temperatures (tends to under-estimate)",
                    a.runs,
                    super::output::plural(a.runs),
                    a.betas
                ),
            ));
            rows.push((
                "log Z std".to_owned(),
                num(a.log_z_std),
                if a.runs == 1 {
                    "unknown: one run has no spread (use --ais-runs 2 or more)".to_owned()
                } else {
                    "standard error of the estimate".to_owned()
                },
            ));
            rows.push((
                "log Z band".to_owned(),
                format!("[{}, {}]", num(a.log_z_lower), num(a.log_z_upper)),
                "+-3 standard errors".to_owned(),
            ));
            let start = match exact_start {
                Some(Enumerated::Visible) => {
                    "from exact model samples (visible layer enumerated)".to_owned()
                }
                Some(Enumerated::Hidden) => {
                    "from exact model samples (hidden layer enumerated)".to_owned()
                }
                None => format!(
                    "from chains run {burn_in} sweeps from the data (an upper bound only as far as they reach the model)"
                ),
            };
            rows.push((
                "log Z (reverse)".to_owned(),
                num(reverse.log_z),
                format!(
                    "reverse AIS estimate (tends to over-estimate), standard error {}, {start}",
                    num(reverse.log_z_std)
                ),
            ));
        }
    }
    rows
}

/// The table: measure names left-aligned, values right-aligned on their
/// decimal column, comments after.
pub fn render_table(rows: &[(String, String, String)]) -> String {
    let lw = rows.iter().map(|r| r.0.chars().count()).max().unwrap_or(0);
    let vw = rows.iter().map(|r| r.1.chars().count()).max().unwrap_or(0);
    let mut out = String::new();
    for (label, value, comment) in rows {
        let line = format!("  {label:<lw$}  {value:>vw$}  {comment}");
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

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

/// The model `rbm eval` evaluates: the single RBM of `--model`, as the
/// stepped sigmoid model with the same parameters for `--as-ssu`.
fn model_to_evaluate(args: &EvalArgs) -> Result<Rbm, CliError> {
    let stack = load_model(&args.model)?;
    let layers = stack.layers();
    if layers.len() > 1 {
        return Err(CliError::Usage(format!(
            "'{}' is a stack of {} layers; rbm eval evaluates single RBMs (a model written by \
             rbm train without --layers)",
            args.model.display(),
            layers.len()
        )));
    }
    let stored = &layers[0];
    if args.as_ssu {
        if stored.hidden() != HiddenUnit::Nrelu {
            return Err(CliError::Usage(format!(
                "--as-ssu applies to nrelu models only; '{}' has {} hidden units",
                args.model.display(),
                stored.hidden()
            )));
        }
        Ok(Rbm::from_parts(
            stored.visible(),
            HiddenUnit::Ssu,
            stored.weights().to_vec(),
            stored.visible_bias().to_vec(),
            stored.hidden_bias().to_vec(),
            stored.standardization().cloned(),
        )?)
    } else {
        Ok(stored.clone())
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_parsers() {
        assert_eq!(ais_runs("1"), Ok(1));
        for bad in ["0", "-1", "x", "1000001"] {
            assert!(ais_runs(bad).is_err(), "{bad}");
        }
        assert_eq!(ais_betas("3"), Ok(3));
        assert!(ais_betas("2").is_err());
        assert_eq!(threshold("0"), Ok(0.0));
        for bad in ["1", "-0.1", "nan", "inf", "x"] {
            assert!(threshold(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn table_is_aligned() {
        let rows = vec![
            ("a".to_owned(), "1.5".to_owned(), "x".to_owned()),
            ("long name".to_owned(), "-123.25".to_owned(), String::new()),
        ];
        assert_eq!(
            render_table(&rows),
            "  a              1.5  x\n  long name  -123.25\n"
        );
        assert_eq!(num(f64::NEG_INFINITY), "-inf");
        assert_eq!(num(0.5), "0.500000");
    }

    #[test]
    fn nrelu_and_gaussian_models_get_the_reconstruction_error_only() {
        let opts = EvalOptions {
            ais_runs: 4,
            ais_betas: 10,
            seed: 0,
            threads: 1,
            binarize: None,
            method: None,
            ais_burn_in: 10,
        };
        for (vis, hid) in [
            (VisibleUnit::Bernoulli, HiddenUnit::Nrelu),
            (VisibleUnit::Gaussian, HiddenUnit::Bernoulli),
        ] {
            let rbm = Rbm::new(4, 3, vis, hid, 1).unwrap();
            let e = evaluate(&rbm, &[0.0, 1.0, 0.5, 1.0], &opts, |_| {}).unwrap();
            assert!(e.reconstruction_error.is_finite());
            assert!(e.log_z.is_err() && e.pseudo_log_likelihood.is_err());
            let j = to_json(&e);
            assert_eq!(j["method"], Value::Null);
            assert_eq!(j["log_z"], Value::Null);
            assert_eq!(j["notes"].as_array().unwrap().len(), 1);
        }
    }

    #[test]
    fn ssu_on_wide_layers_gets_log_z_from_both_sides_by_ais() {
        let rbm = Rbm::new(21, 21, VisibleUnit::Bernoulli, HiddenUnit::Ssu, 1).unwrap();
        let opts = EvalOptions {
            ais_runs: 4,
            ais_betas: 10,
            seed: 0,
            threads: 1,
            binarize: None,
            method: None,
            ais_burn_in: 10,
        };
        let e = evaluate(&rbm, &[1.0; 21], &opts, |_| {}).unwrap();
        assert!(e.pseudo_log_likelihood.is_ok());
        let z = e.log_z.as_ref().unwrap();
        assert_eq!(z.method(), "ais");
        assert!(z.value().is_finite() && z.reverse().is_some_and(f64::is_finite));
        assert!(e.avg_log_likelihood.is_ok() && e.avg_log_likelihood_reverse.is_some());
        assert_eq!(e.binarize, None);
        let j = to_json(&e);
        assert!(j["log_z_reverse"].is_f64() && j["avg_log_likelihood_reverse"].is_f64());

        // --method exact cannot enumerate it: one readable error.
        let exact = EvalOptions {
            method: Some(Method::Exact),
            ..opts.clone()
        };
        let err = evaluate(&rbm, &[1.0; 21], &exact, |_| {}).unwrap_err();
        assert!(err.to_string().contains("--method ais"), "{err}");
        assert!(!err.to_string().contains('\n'));
    }

    #[test]
    fn method_ais_forces_ais_on_an_enumerable_model() {
        let rbm = Rbm::new(6, 4, VisibleUnit::Bernoulli, HiddenUnit::Ssu, 1).unwrap();
        let opts = EvalOptions {
            ais_runs: 8,
            ais_betas: 20,
            seed: 0,
            threads: 1,
            binarize: None,
            method: None,
            ais_burn_in: 10,
        };
        let v = [1.0, 0.0, 1.0, 0.0, 1.0, 1.0];
        let e = evaluate(&rbm, &v, &opts, |_| {}).unwrap();
        assert_eq!(e.log_z.as_ref().unwrap().method(), "exact");
        assert_eq!(to_json(&e)["log_z_reverse"], Value::Null);
        let forced = EvalOptions {
            method: Some(Method::Ais),
            ..opts
        };
        let e = evaluate(&rbm, &v, &forced, |_| {}).unwrap();
        match e.log_z.as_ref().unwrap() {
            LogZ::Ais { exact_start, .. } => assert_eq!(*exact_start, Some(Enumerated::Visible)),
            other => panic!("{other:?}"),
        }
    }
}
