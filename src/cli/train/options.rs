//! The options of `rbm train` ([`TrainArgs`]), the parsers of their values
//! (the other subcommands use them too), and the training configuration
//! the options ask for.

use crate::cli::data_args::{DataFormatArgs, DataInput};
use crate::rbm::VisibleUnit;
use crate::train::{Sampling, TrainConfig};
use crate::units::{HiddenUnit, NreluMean};
use std::path::PathBuf;

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
    /// The mean of NReLU hidden units, used as the hidden statistic in
    /// training and as the features: relu (max(0, x); keeps intensity
    /// equivariance) or ssu (Σ σ(x − i + ½), the stepped sigmoid unit's
    /// mean; graded below zero); stored in the model
    #[arg(
        long,
        value_name = "MEAN",
        default_value = "relu",
        conflicts_with = "equivariant"
    )]
    pub nrelu_mean: NreluMean,
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
    /// Held-out data, read with the options of --data and mapped like it
    /// (- reads standard input if --data does not): print its
    /// reconstruction error and the free-energy gap to the training data
    /// after every epoch
    #[arg(long, value_name = "FILE", conflicts_with = "layers")]
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
    /// Refuses an NReLU mean other than `relu` for other hidden units (the
    /// library's rule), in the words of the options.
    pub(crate) fn check_nrelu_mean(&self) -> Result<(), crate::cli::CliError> {
        crate::rbm::check_nrelu_mean(self.hidden_units, self.nrelu_mean).map_err(|_| {
            crate::cli::CliError::Usage(format!(
                "--nrelu-mean {} applies to nrelu hidden units only (--hidden-units is {})",
                self.nrelu_mean, self.hidden_units
            ))
        })
    }

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
}
