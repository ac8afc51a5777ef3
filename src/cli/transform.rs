//! `rbm transform`: maps data through a trained model to its hidden
//! representation, written as a 2-D `<f4` `.npy` file (rows × hidden
//! units).
//!
//! The data (a CSV or `.npy` file, or the embedded digits) first goes
//! through the input map stored in the model (`z = (x − input_mean) /
//! input_std`); a Bernoulli-visible model without a map needs data in
//! [0, 1]. Then each row gives either the noise-free hidden means
//! (default, `--mean`: σ(x), K·σ(x), the SSU mean Σσ(x − i + ½), or
//! max(0, x) for NReLU, with x = vᵀW + c) or one sample per unit
//! (`--sample`, from the random stream of `--seed`; NReLU noise has
//! variance σ(x)). The same model, data and seed give the same bytes.

use super::CliError;
use super::output::write_atomic;
use super::train::{any_u64, check_width};
use crate::data::Dataset;
use crate::model_io;
use crate::npy::{NpyError, NpyWriter};
use crate::rbm::VisibleUnit;
use std::io;
use std::path::PathBuf;

/// Options of `rbm transform`.
#[derive(Clone, Debug, clap::Args)]
pub struct TransformArgs {
    /// The model, as written by `rbm train`
    #[arg(long, value_name = "MODEL.safetensors")]
    pub model: PathBuf,
    /// Input data: a numeric CSV file without header, or a 2-D float32 or
    /// float64 .npy array, with the model's number of columns. Default: the
    /// embedded UCI digits
    #[arg(long, value_name = "FILE.csv|FILE.npy")]
    pub data: Option<PathBuf>,
    /// The last column of --data holds labels: leave it out
    #[arg(long, requires = "data")]
    pub labels_last_column: bool,
    /// Write the noise-free hidden means (the default)
    #[arg(long, conflicts_with = "sample")]
    pub mean: bool,
    /// Write one sample per hidden unit instead of the means
    #[arg(long)]
    pub sample: bool,
    /// Seed of the random stream of --sample [default: 0]
    #[arg(long, value_name = "S", requires = "sample", value_parser = any_u64)]
    pub seed: Option<u64>,
    /// Output file (.npy, float32, rows × hidden units); written atomically
    #[arg(long, value_name = "FILE.npy")]
    pub out: PathBuf,
    /// Do not print the confirmation line
    #[arg(long, short)]
    pub quiet: bool,
}

/// Runs `rbm transform`.
///
/// # Errors
/// [`CliError::Input`] for a bad output path or a data width that differs
/// from the model's, [`CliError::Unreadable`] for a model or data file that
/// cannot be read, [`CliError::Rbm`] for an invalid model or data file
/// (exit code 2); [`CliError::Io`] if the output cannot be written (exit
/// code 1). Nothing is written on error.
pub fn run(args: &TransformArgs) -> Result<(), CliError> {
    super::output::check_output_path(&args.out)?;
    let rbm = model_io::load(&args.model).map_err(CliError::reading)?;
    let mut data = match &args.data {
        Some(p) => Dataset::load(p, args.labels_last_column).map_err(CliError::reading)?,
        None => Dataset::digits(),
    };
    check_width(&data, &rbm)?;
    match rbm.standardization() {
        Some(map) => map.apply(&mut data.values)?,
        None if rbm.visible() == VisibleUnit::Bernoulli => {
            let source = args
                .data
                .clone()
                .unwrap_or_else(|| PathBuf::from("(embedded digits)"));
            data.check_unit_interval(&source)?;
        }
        None => {}
    }
    let (h, what) = if args.sample {
        let seed = args.seed.unwrap_or(0);
        (rbm.hidden_samples(&data.values, seed)?, "samples")
    } else {
        (rbm.hidden_means(&data.values)?, "means")
    };
    let shape = [data.rows, rbm.n_hidden()];
    let path = &args.out;
    write_atomic(path, |w| {
        let written = NpyWriter::<_, f32>::new(w, &shape).and_then(|mut npy| {
            npy.write(&h)?;
            npy.finish().map(drop)
        });
        written.map_err(|e| {
            let source = match e {
                NpyError::Io(e) => e,
                other => io::Error::other(other),
            };
            CliError::io(format!("cannot write '{}'", path.display()), source)
        })
    })?;
    if !args.quiet {
        eprintln!(
            "wrote {} x {} hidden {what} ({} units) to {}",
            shape[0],
            shape[1],
            rbm.hidden(),
            path.display()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::InputError;

    #[test]
    fn width_mismatch_names_both_widths() {
        let err = CliError::from(InputError::Width {
            data: 10,
            model: 64,
        });
        assert_eq!(
            err.to_string(),
            "shape mismatch: the data has 10 columns but the model has 64 visible units"
        );
        assert_eq!(err.exit_code(), 2);
    }
}
