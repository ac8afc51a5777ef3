//! The options of `rbm eval` ([`EvalArgs`]), their limits and defaults,
//! and the parsers of their values.

use crate::cli::data_args::DataFormatArgs;
use crate::cli::train::{any_u64, any_usize};
use std::path::PathBuf;

/// Default `--ais-runs`.
pub const DEFAULT_AIS_RUNS: usize = 100;
/// Default `--ais-betas` (Salakhutdinov & Murray's schedule).
pub const DEFAULT_AIS_BETAS: usize = 14_500;
/// Largest `--ais-runs`.
pub const MAX_AIS_RUNS: usize = 1_000_000;
/// Smallest `--ais-betas` ([`default_schedule`](crate::likelihood::default_schedule) needs three segments).
pub const MIN_AIS_BETAS: usize = 3;
/// Largest `--ais-betas`.
pub const MAX_AIS_BETAS: usize = 10_000_000;
/// Default `--ais-burn-in` (that of
/// [`AisConfig::new`](crate::likelihood::AisConfig::new)).
pub const DEFAULT_AIS_BURN_IN: usize = 1000;
/// Largest `--ais-burn-in`.
pub const MAX_AIS_BURN_IN: usize = 10_000_000;

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
}
