//! `rbm train`: trains an RBM on a CSV or `.npy` file, or on the embedded
//! UCI digits, and saves it as a `.safetensors` model.
//!
//! The data goes through the model's input map before training, and the
//! map is stored in the model so that `rbm transform` applies it again:
//!
//! * embedded digits, Bernoulli visible units: `x / 16` (pixels 0..=16 to
//!   [0, 1]), stored as mean 0 and std 16;
//! * Gaussian visible units: standardised with the column means and
//!   standard deviations of the training data;
//! * own data, Bernoulli visible units: `x / S` with `--scale S`, stored
//!   as mean 0 and std S; uint8 data (`.npy`, `.npz`, IDX) gets `x / 255`
//!   without `--scale`, other integer data needs it; otherwise no map. The
//!   values, mapped, must lie in [0, 1].
//!
//! The model file is written atomically once training has succeeded: a
//! failed or interrupted run leaves no file, and an existing file at
//! `--out` is only replaced by a complete new model.
//!
//! # Stacks
//! `--layers 500,200` trains a stack greedily ([`train_stack`]): layer `i`
//! has the `i`-th width, `--hidden-units` hidden units and seed `--seed + i`;
//! the first layer's visible units are `--visible` (with the input map
//! above), each next layer's are [`visible_above`] the layer below
//! (Bernoulli above Bernoulli hidden units, Gaussian otherwise). Every
//! layer gets the same hyper-parameters, except that without `--lr` each
//! layer gets the default rate of its own visible type (0.005 for a
//! Gaussian upper layer). The stack is written as one file
//! ([`Stack::save`]).
//!
//! `--equivariant` trains the intensity-equivariant recipe instead
//! ([`train_equivariant_stack`]): NReLU layers with both bias vectors held
//! at zero, Gaussian visible units at the bottom, and no standardisation:
//! own data is used as it is (or divided by `--scale S`, or by 255 for
//! uint8 data), the embedded digits get the pure scale map `x / 16` (mean
//! 0, std 16); a pure scale map keeps f(αx) = α f(x).

use super::data_args::{DataFormatArgs, DataInput};
use super::output::{check_output_path, eprint_line, is_stdout, output_name, probe_dir_writable};
use super::{CliError, InputError};
use crate::data::{DIGITS_MAX, Dataset, ElementType};
use crate::error::RbmError;
use crate::model_io;
use crate::rbm::{Rbm, Standardization, VisibleUnit};
use crate::stack::{LayerSpec, Stack, train_equivariant_stack, train_stack, visible_above};
use crate::train::{Progress, Sampling, TrainConfig, train};
use crate::units::HiddenUnit;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

mod checkpoint;
mod watch;

/// The defaults that do not depend on the visible unit type.
fn defaults() -> TrainConfig {
    TrainConfig::default_for(VisibleUnit::Bernoulli)
}

/// Options of `rbm train`.
#[derive(Clone, Debug, clap::Args)]
pub struct TrainArgs {
    /// Training data (rows = examples): a CSV file, a 2-D .npy array, an
    /// .npz archive (FILE.npz:NAME for one of several arrays) or an IDX
    /// file, plain or gzipped; - reads standard input. Default: the
    /// embedded UCI handwritten digits (1797 × 64, Alpaydin & Kaynak 1998,
    /// CC BY 4.0)
    #[arg(long, value_name = "FILE")]
    pub data: Option<PathBuf>,
    /// How to read --data
    #[command(flatten)]
    pub input: DataFormatArgs,
    /// Divide the data by S before training, and store that map in the
    /// model (uint8 data: 255 by default; other integer data needs it with
    /// Bernoulli visible units or --equivariant; not with gaussian)
    #[arg(long, value_name = "S", requires = "data", allow_negative_numbers = true, value_parser = positive_f32)]
    pub scale: Option<f32>,
    /// The last column of --data holds labels: leave it out of training
    #[arg(long, requires = "data")]
    pub labels_last_column: bool,
    /// Visible units: bernoulli (data in [0, 1]) or gaussian (data is
    /// standardised); of the first layer of a stack
    #[arg(long, value_name = "UNIT", default_value = "bernoulli", value_parser = parse_visible)]
    pub visible: VisibleUnit,
    /// Hidden units: bernoulli, nrelu, ssu or binomial:K (K in 1..=65536);
    /// of every layer of a stack
    #[arg(long, value_name = "UNIT", default_value = "nrelu")]
    pub hidden_units: HiddenUnit,
    /// Number of hidden units
    #[arg(long, value_name = "N", default_value_t = 100, allow_negative_numbers = true, value_parser = positive_usize, conflicts_with = "layers")]
    pub hidden: usize,
    /// Train a stack (deep belief net) greedily, with these hidden-layer
    /// widths from the bottom up, e.g. 500,200; writes one stack file
    #[arg(long, value_name = "N,N,...", value_delimiter = ',', allow_negative_numbers = true, value_parser = positive_usize)]
    pub layers: Option<Vec<usize>>,
    /// With --layers: the intensity-equivariant recipe (NReLU layers, biases
    /// held at zero, Gaussian visible units, no standardisation); sets the
    /// unit types itself
    #[arg(long, requires = "layers", conflicts_with_all = ["visible", "hidden_units"])]
    pub equivariant: bool,
    /// Passes over the data
    #[arg(long, value_name = "E", default_value_t = defaults().epochs, allow_negative_numbers = true, value_parser = positive_usize)]
    pub epochs: usize,
    /// Rows per mini-batch
    #[arg(long, value_name = "B", default_value_t = defaults().batch_size, allow_negative_numbers = true, value_parser = positive_usize)]
    pub batch: usize,
    /// Learning rate [default: 0.05 for bernoulli, 0.005 for gaussian
    /// visible units]
    #[arg(long, value_name = "F", allow_negative_numbers = true, value_parser = positive_f32)]
    pub lr: Option<f32>,
    /// Momentum, in [0, 1)
    #[arg(long, value_name = "F", default_value_t = defaults().momentum, allow_negative_numbers = true, value_parser = momentum_f32)]
    pub momentum: f32,
    /// L2 weight decay (on the weights only)
    #[arg(long, value_name = "F", default_value_t = defaults().weight_decay, allow_negative_numbers = true, value_parser = non_negative_f32)]
    pub weight_decay: f32,
    /// Contrastive divergence with K Gibbs steps [default: CD-1]
    #[arg(long, value_name = "K", allow_negative_numbers = true, value_parser = positive_usize, conflicts_with = "pcd")]
    pub cd: Option<usize>,
    /// Persistent contrastive divergence with K Gibbs steps per update
    #[arg(long, value_name = "K", allow_negative_numbers = true, value_parser = positive_usize)]
    pub pcd: Option<usize>,
    /// Centring (Melchior et al. 2016): offsets for the data and hidden
    /// means, tracked by sliding averages of rate RATE in (0, 1]
    /// [default rate: 0.01]; the saved model holds standard parameters
    #[arg(long, value_name = "RATE", num_args = 0..=1, default_missing_value = "0.01", allow_negative_numbers = true, value_parser = centering_rate)]
    pub centering: Option<f32>,
    /// Parallel tempering (Desjardins et al. 2010) with K chains per
    /// persistent chain, inverse temperatures linear from 1 to 0.5; needs
    /// --pcd, Bernoulli visible and Bernoulli or binomial hidden units
    #[arg(long, value_name = "K", allow_negative_numbers = true, value_parser = positive_usize, requires = "pcd")]
    pub pt: Option<usize>,
    /// Seed of every random stream (weights, shuffling, sampling)
    #[arg(long, value_name = "S", default_value_t = defaults().seed, allow_negative_numbers = true, value_parser = any_u64)]
    pub seed: u64,
    /// Worker threads; 0 = all cores (the model does not depend on it)
    #[arg(long, value_name = "T", default_value_t = defaults().threads, allow_negative_numbers = true, value_parser = any_usize)]
    pub threads: usize,
    /// Print nothing (no progress bar, no per-epoch lines)
    #[arg(long, short)]
    pub quiet: bool,
    /// Output model file, written atomically after training succeeded; -
    /// writes the model's bytes to standard output
    #[arg(
        long,
        value_name = "MODEL.safetensors",
        default_value = "model.safetensors"
    )]
    pub out: PathBuf,
    /// Held-out data (CSV or .npy, mapped like --data): print its
    /// reconstruction error and the free-energy gap to the training data
    /// after every epoch
    #[arg(long, value_name = "FILE.csv|FILE.npy", conflicts_with = "layers")]
    pub validation: Option<PathBuf>,
    /// Stop once the validation reconstruction error has not improved for N
    /// epochs, and keep the model of the best epoch
    #[arg(long, value_name = "N", requires = "validation", allow_negative_numbers = true, value_parser = positive_usize)]
    pub patience: Option<usize>,
    /// Write one JSON object per epoch to this file (JSON lines), as
    /// training goes; unlike the model, it keeps the finished epochs when
    /// training fails
    #[arg(long, value_name = "FILE.jsonl", conflicts_with = "layers")]
    pub log: Option<PathBuf>,
    /// Write the whole state of the run to this file (atomically) every
    /// --checkpoint-every epochs, and on SIGINT after the current
    /// mini-batch (then exit with status 130)
    #[arg(long, value_name = "CK.safetensors", conflicts_with_all = ["layers", "patience"])]
    pub checkpoint: Option<PathBuf>,
    /// Epochs between checkpoints
    #[arg(long, value_name = "N", default_value_t = 1, requires = "checkpoint", allow_negative_numbers = true, value_parser = positive_usize)]
    pub checkpoint_every: usize,
    /// Continue the run saved in this checkpoint; the options that would
    /// change the run must be the same
    #[arg(long, value_name = "CK.safetensors", conflicts_with_all = ["layers", "patience"])]
    pub resume: Option<PathBuf>,
}

/// Parses a visible unit name.
pub(crate) fn parse_visible(s: &str) -> Result<VisibleUnit, String> {
    s.parse()
        .map_err(|_| "expected bernoulli or gaussian".to_owned())
}

/// Parses a `usize` of at least 1.
pub(crate) fn positive_usize(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("must be at least 1".to_owned()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("must be a whole number in 1..={}", usize::MAX)),
    }
}

/// Parses any `usize`.
pub(crate) fn any_usize(s: &str) -> Result<usize, String> {
    s.parse::<usize>()
        .map_err(|_| format!("must be a whole number in 0..={}", usize::MAX))
}

/// Parses any `u64`.
pub(crate) fn any_u64(s: &str) -> Result<u64, String> {
    s.parse::<u64>()
        .map_err(|_| format!("must be a whole number in 0..={}", u64::MAX))
}

/// Parses a finite `f32` satisfying `ok`, described by `what`.
fn f32_where(s: &str, what: &str, ok: impl Fn(f32) -> bool) -> Result<f32, String> {
    let v: f32 = s.parse().map_err(|_| format!("not a number; {what}"))?;
    if v.is_finite() && ok(v) {
        Ok(v)
    } else {
        Err(what.to_owned())
    }
}

fn positive_f32(s: &str) -> Result<f32, String> {
    f32_where(s, "must be a finite number > 0", |v| v > 0.0)
}

fn centering_rate(s: &str) -> Result<f32, String> {
    f32_where(s, "must be a rate in (0, 1]", |v| v > 0.0 && v <= 1.0)
}

fn momentum_f32(s: &str) -> Result<f32, String> {
    f32_where(s, "must be a number in [0, 1)", |v| (0.0..1.0).contains(&v))
}

fn non_negative_f32(s: &str) -> Result<f32, String> {
    f32_where(s, "must be a finite number >= 0", |v| v >= 0.0)
}

impl TrainArgs {
    /// Where the data comes from and how to read it.
    pub(crate) fn data_input(&self) -> DataInput {
        DataInput::new(self.data.as_deref(), self.labels_last_column, &self.input)
    }

    /// The training configuration these options ask for.
    pub fn config(&self) -> TrainConfig {
        self.config_for(self.visible, self.seed)
    }

    /// The training configuration of a layer with `visible` units and seed
    /// `seed`: the options, with the default learning rate of `visible`
    /// unless `--lr` is given.
    pub fn config_for(&self, visible: VisibleUnit, seed: u64) -> TrainConfig {
        let base = TrainConfig::default_for(visible);
        TrainConfig {
            epochs: self.epochs,
            batch_size: self.batch,
            learning_rate: self.lr.unwrap_or(base.learning_rate),
            momentum: self.momentum,
            weight_decay: self.weight_decay,
            sampling: match (self.cd, self.pcd) {
                (_, Some(k)) => Sampling::Pcd(k),
                (Some(k), None) => Sampling::Cd(k),
                (None, None) => base.sampling,
            },
            seed,
            threads: self.threads,
            sample_visible: base.sample_visible,
            update_biases: base.update_biases,
            ..base
        }
        .with_centering(self.centering)
        .with_tempering(self.pt.unwrap_or(1))
    }
}

/// Training data after the input map, with the map and a description.
#[derive(Clone, Debug)]
pub struct Prepared {
    /// The mapped data.
    pub data: Dataset,
    /// The input map applied (and to be stored in the model).
    pub map: Option<Standardization>,
    /// Where the data came from, for messages.
    pub source: String,
}

/// Loads the data (`--data`, or the embedded digits) and applies the
/// input map that suits `visible` (see the [module docs](self)); `scale`
/// is `--scale`.
///
/// # Errors
/// [`CliError::Unreadable`] if the file cannot be read, [`CliError::Rbm`]
/// if its contents are invalid or, for Bernoulli units, outside [0, 1]
/// once mapped; [`CliError::Usage`] for integer data without `--scale`,
/// or `--scale` with Gaussian units.
pub fn prepare(
    input: &DataInput,
    scale: Option<f32>,
    visible: VisibleUnit,
) -> Result<Prepared, CliError> {
    let mut data = input.load()?;
    let map = match (visible, &input.path) {
        (VisibleUnit::Gaussian, _) => {
            if scale.is_some() {
                return Err(CliError::Usage(
                    "--scale has no effect with --visible gaussian: the data is standardised \
                     with its column means and standard deviations"
                        .to_owned(),
                ));
            }
            Some(Standardization::fit(&data.values, data.cols)?)
        }
        (VisibleUnit::Bernoulli, None) => Some(Standardization {
            mean: vec![0.0; data.cols],
            std: vec![DIGITS_MAX; data.cols],
        }),
        (VisibleUnit::Bernoulli, Some(_)) => scale_map(&data, scale, input)?,
    };
    if let Some(m) = &map {
        m.apply(&mut data.values)?;
    }
    if visible == VisibleUnit::Bernoulli && input.path.is_some() {
        data.check_unit_interval(input.message_path())?;
    }
    let source = describe(input, &data, map.as_ref(), visible);
    Ok(Prepared { data, map, source })
}

/// The pure scale map `x / S` of own data, stored as mean 0 and std S:
/// `--scale S`, or 255 for uint8 data; `None` for other non-integer data.
///
/// # Errors
/// [`CliError::Usage`] for integer data other than uint8 without
/// `--scale`.
fn scale_map(
    data: &Dataset,
    scale: Option<f32>,
    input: &DataInput,
) -> Result<Option<Standardization>, CliError> {
    let element = data.element_type();
    let s = match (scale, element) {
        (Some(s), _) => s,
        (None, ElementType::U8) => 255.0,
        (None, e) if e.is_integer() => {
            return Err(CliError::Usage(format!(
                "{} holds {} data: give --scale S to divide it by S (the largest value the \
                 type can take, say), or use --visible gaussian",
                input.describe(),
                e.name()
            )));
        }
        (None, _) => return Ok(None),
    };
    Ok(Some(Standardization::new(
        vec![0.0; data.cols],
        vec![s; data.cols],
    )?))
}

/// Where the data came from, for the plan line: the file and, when it
/// applies, its header row and its scale map.
fn describe(
    input: &DataInput,
    data: &Dataset,
    map: Option<&Standardization>,
    visible: VisibleUnit,
) -> String {
    let mut source = input.describe();
    if input.path.is_none() {
        return source;
    }
    if data.header().is_some() {
        source.push_str(" (after its header row)");
    }
    if let (VisibleUnit::Bernoulli, Some(m)) = (visible, map) {
        source.push_str(&format!(
            " ({}, divided by {})",
            data.element_type().name(),
            m.std[0]
        ));
    }
    source
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

/// Checks that a file can be created in the directory of `out`, by
/// creating and deleting a temporary one, so that an unwritable
/// destination fails before training rather than after.
fn probe_writable(out: &Path) -> Result<(), CliError> {
    if is_stdout(out) {
        return Ok(());
    }
    probe_dir_writable(crate::fsutil::parent_dir(out))
}

/// Runs `rbm train`.
///
/// # Errors
/// [`CliError::Input`] or [`CliError::Rbm`] for bad options, data or
/// output path, [`CliError::Unreadable`] for an unreadable data file,
/// [`CliError::Diverged`] if the weights became non-finite (exit code 2,
/// nothing written), [`CliError::Io`] if the model cannot be written (exit
/// code 1, nothing written).
pub fn run(args: &TrainArgs) -> Result<(), CliError> {
    if let Some(widths) = &args.layers {
        return run_stack(args, widths);
    }
    let cfg = args.config();
    cfg.validate()?;
    crate::train::check_tempering_units(&cfg, args.visible, args.hidden_units)?;
    check_output_path(&args.out)?;
    probe_writable(&args.out)?;
    watch::check_log_path(args)?;
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
        super::output::write_stdout(&model_io::to_bytes(&rbm)?)?;
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
    let sampling = match cfg.sampling {
        Sampling::Cd(k) => format!("CD-{k}"),
        Sampling::Pcd(k) => format!("PCD-{k}"),
    };
    eprintln!(
        "training {} {} visible -> {} {} hidden units on {} rows of {}: {} epoch{}, batch {}, {sampling}, lr {}",
        data.cols,
        args.visible,
        args.hidden,
        args.hidden_units,
        data.rows,
        prepared.source,
        cfg.epochs,
        super::output::plural(cfg.epochs),
        cfg.batch_size,
        cfg.learning_rate,
    );
    if let Some(line) = watch::plan_line(args, cfg) {
        eprintln!("{line}");
    }
}

/// Shows the training progress `p` of a run of `epochs` epochs: moves the
/// bar after a batch, prints the epoch line after an epoch.
fn show_progress(bar: Option<&ProgressBar>, log: bool, epochs: usize, p: Progress<'_>) {
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
                let mut line = watch::epoch_line(stats, epochs);
                line.push_str(&swap_note(&stats.swap_acceptance));
                eprint_line(bar, &line);
            }
        }
        Progress::Model { .. } => {}
    }
}

/// The CLI's error for a failed training run: divergence names the
/// learning rate `lr` that caused it.
fn train_error(e: RbmError, lr: f32) -> CliError {
    match e {
        RbmError::Diverged { epoch, batch, .. } => CliError::Diverged { epoch, batch, lr },
        e => e.into(),
    }
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

/// The most layers a stack file may hold (what [`Stack::load`] accepts).
pub const MAX_LAYERS: usize = 1000;

/// Loads the data for `--equivariant`: own data unchanged (or divided by
/// `--scale S`, or by 255 for uint8 data: a pure scale map), the embedded
/// digits divided by 16 (the pure scale map mean 0, std 16, which keeps the
/// stack intensity-equivariant).
///
/// # Errors
/// Those of [`prepare`].
pub fn prepare_equivariant(input: &DataInput, scale: Option<f32>) -> Result<Prepared, CliError> {
    if input.path.is_none() {
        // The digits' Bernoulli map is exactly the scale map x / 16.
        return prepare(input, None, VisibleUnit::Bernoulli);
    }
    let mut data = input.load()?;
    let map = scale_map(&data, scale, input)?;
    if let Some(m) = &map {
        m.apply(&mut data.values)?;
    }
    let source = describe(input, &data, map.as_ref(), VisibleUnit::Bernoulli);
    Ok(Prepared { data, map, source })
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

/// `rbm train --layers ...`: trains a stack greedily and saves it as one
/// file.
fn run_stack(args: &TrainArgs, widths: &[usize]) -> Result<(), CliError> {
    let plan = plan_stack(args, widths)?;
    check_output_path(&args.out)?;
    probe_writable(&args.out)?;
    let prepared = if args.equivariant {
        prepare_equivariant(&args.data_input(), args.scale)?
    } else {
        prepare(&args.data_input(), args.scale, args.visible)?
    };
    let data = &prepared.data;
    let log = !args.quiet;
    if log {
        print_stack_plan(args, &plan, &prepared);
    }
    let bar = batch_bar(log);
    let n = widths.len();
    let epochs = plan.configs[0].epochs;
    let mut current = 0;
    let progress = |i: usize, p: Progress<'_>| {
        current = i;
        show_stack_progress(bar.as_ref(), log, (i, n), epochs, p);
        ControlFlow::Continue(())
    };
    let result = if args.equivariant {
        train_equivariant_stack(&data.values, data.cols, widths, &plan.configs, progress)
    } else {
        train_stack(
            &data.values,
            data.cols,
            plan.visibles[0],
            &plan.specs,
            &plan.configs,
            progress,
        )
    };
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let stack = match result {
        Ok((stack, _)) => stack,
        Err(RbmError::Diverged { epoch, batch, .. }) => {
            return Err(CliError::Usage(format!(
                "training diverged in layer {}/{n} at epoch {epoch}, batch {batch}: the weights \
                 became non-finite; lower --lr (it was {}); no model was written",
                current + 1,
                plan.configs[current].learning_rate
            )));
        }
        Err(e) => return Err(e.into()),
    };
    save_stack(args, stack, &prepared, widths, log)
}

/// The layers of a stack: each one's hidden units, visible units and
/// training configuration, from the bottom up.
struct StackPlan {
    specs: Vec<LayerSpec>,
    visibles: Vec<VisibleUnit>,
    configs: Vec<TrainConfig>,
}

/// The layers `--layers` asks for (see the [module docs](self)), with
/// every configuration checked.
fn plan_stack(args: &TrainArgs, widths: &[usize]) -> Result<StackPlan, CliError> {
    if widths.is_empty() {
        return Err(CliError::Usage(
            "--layers needs at least one width, e.g. --layers 500,200".to_owned(),
        ));
    }
    if widths.len() > MAX_LAYERS {
        return Err(CliError::Usage(format!(
            "--layers gives {} widths; a stack holds at most {MAX_LAYERS} layers",
            widths.len()
        )));
    }
    let hidden = if args.equivariant {
        HiddenUnit::Nrelu
    } else {
        args.hidden_units
    };
    let specs: Vec<LayerSpec> = widths
        .iter()
        .map(|&n_hidden| LayerSpec { n_hidden, hidden })
        .collect();
    let mut visibles = vec![if args.equivariant {
        VisibleUnit::Gaussian
    } else {
        args.visible
    }];
    visibles.extend(
        specs[..widths.len() - 1]
            .iter()
            .map(|s| visible_above(s.hidden)),
    );
    let configs: Vec<TrainConfig> = visibles
        .iter()
        .enumerate()
        .map(|(i, &vis)| TrainConfig {
            update_biases: !args.equivariant,
            ..args.config_for(vis, args.seed.wrapping_add(i as u64))
        })
        .collect();
    for ((cfg, spec), &vis) in configs.iter().zip(&specs).zip(&visibles) {
        cfg.validate()?;
        crate::train::check_tempering_units(cfg, vis, spec.hidden)?;
    }
    Ok(StackPlan {
        specs,
        visibles,
        configs,
    })
}

/// Prints what the stack run will do: one line for the whole run, one per
/// layer.
fn print_stack_plan(args: &TrainArgs, plan: &StackPlan, prepared: &Prepared) {
    let (data, n, cfg0) = (&prepared.data, plan.specs.len(), &plan.configs[0]);
    let sampling = match cfg0.sampling {
        Sampling::Cd(k) => format!("CD-{k}"),
        Sampling::Pcd(k) => format!("PCD-{k}"),
    };
    let recipe = if args.equivariant {
        " (intensity-equivariant: biases held at zero)"
    } else {
        ""
    };
    eprintln!(
        "training a stack of {n} layers{recipe} on {} rows of {}: {} epoch{} per layer, batch {}, {sampling}",
        data.rows,
        prepared.source,
        cfg0.epochs,
        super::output::plural(cfg0.epochs),
        cfg0.batch_size,
    );
    let w = n.to_string().len();
    let mut below = data.cols;
    let layers = plan.specs.iter().zip(&plan.visibles).zip(&plan.configs);
    for (i, ((spec, vis), cfg)) in layers.enumerate() {
        eprintln!(
            "layer {:>w$}/{n}: {below} {vis} visible -> {} {} hidden units, lr {}, seed {}",
            i + 1,
            spec.n_hidden,
            spec.hidden,
            cfg.learning_rate,
            cfg.seed,
        );
        below = spec.n_hidden;
    }
}

/// A progress bar of batches when logging to a terminal.
fn batch_bar(log: bool) -> Option<ProgressBar> {
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

/// Shows the progress `p` of layer `i` of `n` (from 0): moves the bar
/// after a batch, prints the epoch line after an epoch.
fn show_stack_progress(
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

/// Writes the trained stack, with the input map on its bottom layer, to
/// `--out`.
fn save_stack(
    args: &TrainArgs,
    stack: Stack,
    prepared: &Prepared,
    widths: &[usize],
    log: bool,
) -> Result<(), CliError> {
    // The input map belongs to the bottom layer.
    let mut layers = stack.layers().to_vec();
    layers[0].set_standardization(prepared.map.clone())?;
    let stack = Stack::new(layers)?;
    if is_stdout(&args.out) {
        super::output::write_stdout(&stack.to_model_file()?.to_bytes()?)?;
    } else {
        stack.save(&args.out).map_err(write_error)?;
    }
    if log {
        let shape: Vec<String> = std::iter::once(prepared.data.cols)
            .chain(widths.iter().copied())
            .map(|w| w.to_string())
            .collect();
        eprintln!(
            "wrote a stack of {} layers ({}) to {}",
            widths.len(),
            shape.join(" -> "),
            output_name(&args.out)
        );
    }
    Ok(())
}

/// The columns of the data must match the model's visible units.
pub(crate) fn check_width(data: &Dataset, rbm: &Rbm) -> Result<(), CliError> {
    if data.cols == rbm.n_visible() {
        Ok(())
    } else {
        Err(InputError::Width {
            data: data.cols,
            model: rbm.n_visible(),
        }
        .into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visible_independent_defaults_agree() {
        // The clap defaults are taken from the Bernoulli configuration; they
        // must hold for Gaussian units too.
        let (b, g) = (
            TrainConfig::default_for(VisibleUnit::Bernoulli),
            TrainConfig::default_for(VisibleUnit::Gaussian),
        );
        assert_eq!(
            (
                b.epochs,
                b.batch_size,
                b.momentum,
                b.weight_decay,
                b.seed,
                b.threads
            ),
            (
                g.epochs,
                g.batch_size,
                g.momentum,
                g.weight_decay,
                g.seed,
                g.threads
            )
        );
        assert_eq!(b.sampling, Sampling::Cd(1));
        // Stated in the --lr help text and docs/cli.md.
        assert_eq!((b.learning_rate, g.learning_rate), (0.05, 0.005));
    }

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

    #[test]
    fn value_parsers() {
        assert_eq!(positive_usize("3"), Ok(3));
        assert!(positive_usize("0").unwrap_err().contains("at least 1"));
        assert!(positive_usize("-1").is_err());
        assert_eq!(positive_f32("0.5"), Ok(0.5));
        for bad in ["0", "-1", "nan", "inf", "1e39", "x"] {
            assert!(positive_f32(bad).is_err(), "{bad}");
        }
        assert_eq!(momentum_f32("0"), Ok(0.0));
        assert!(momentum_f32("1").is_err());
        assert_eq!(non_negative_f32("0"), Ok(0.0));
        assert!(non_negative_f32("-0.1").is_err());
        assert_eq!(parse_visible("gaussian"), Ok(VisibleUnit::Gaussian));
        assert!(parse_visible("relu").is_err());
    }

    #[test]
    fn digits_are_mapped_per_visible_type() {
        let digits = DataInput::new(None, false, &DataFormatArgs::default());
        let b = prepare(&digits, None, VisibleUnit::Bernoulli).unwrap();
        assert!(b.data.values.iter().all(|v| (0.0..=1.0).contains(v)));
        assert!(b.data.values.contains(&1.0));
        assert_eq!(b.map.unwrap().std, vec![16.0; 64]);
        let g = prepare(&digits, None, VisibleUnit::Gaussian).unwrap();
        let col0: f64 = g
            .data
            .values
            .iter()
            .skip(20)
            .step_by(64)
            .map(|&v| f64::from(v))
            .sum();
        assert!(col0.abs() < 1e-2, "{col0}");
    }
}
