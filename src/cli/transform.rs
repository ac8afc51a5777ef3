//! `rbm transform`: maps data through a trained model to its hidden
//! representation, written as a 2-D `<f4` `.npy` file (rows × hidden
//! units).
//!
//! The data (a CSV, `.npy`, `.npz` or IDX file, standard input, or the
//! embedded digits; see `docs/cli.md`, "Data files") first goes
//! through the input map stored in the model (`z = (x − input_mean) /
//! input_std`); a Bernoulli-visible model without a map needs data in
//! [0, 1]. Then each row gives either the noise-free hidden means
//! (default, `--mean`: σ(x), K·σ(x), the SSU mean Σσ(x − i + ½), or for
//! NReLU max(0, x) or the SSU mean as the model's `nrelu_mean` says, with
//! x = vᵀW + c; computed by the library's
//! [`Stack::features`], so an embedding program gets the same bytes) or
//! one sample per unit
//! (`--sample`, from the random stream of `--seed`; NReLU noise has
//! variance σ(x)). The same model, data and seed give the same bytes.
//!
//! A stack file (written by `rbm train --layers ...`) is accepted too: the
//! first layer's input map is applied, and the noise-free means go through
//! every layer; the output has the top layer's width. `--sample` is only for
//! single-layer models.

use super::CliError;
use super::data_args::{DataFormatArgs, DataInput};
use super::output::{output_name, write_output};
use super::train::{any_u64, check_width};
use crate::data::Dataset;
use crate::npy::{NpyError, NpyWriter};
use crate::rbm::VisibleUnit;
use crate::stack::Stack;
use crate::units::NreluMean;
use std::io;
use std::path::{Path, PathBuf};

/// Options of `rbm transform`.
#[derive(Clone, Debug, clap::Args)]
pub(crate) struct TransformArgs {
    /// The model or stack, as written by `rbm train` (with or without
    /// --layers)
    #[arg(long, value_name = "MODEL.safetensors")]
    pub model: PathBuf,
    /// Input data, with the model's number of columns: a CSV file, a 2-D
    /// .npy array, an .npz archive (FILE.npz:NAME) or an IDX file, plain or
    /// gzipped; - reads standard input. Default: the embedded UCI digits
    #[arg(long, value_name = "FILE")]
    pub data: Option<PathBuf>,
    /// How to read --data
    #[command(flatten)]
    pub input: DataFormatArgs,
    /// The last column of --data holds labels: leave it out
    #[arg(long, requires = "data")]
    pub labels_last_column: bool,
    /// Write the noise-free hidden means (the default)
    #[arg(long, conflicts_with = "sample")]
    pub mean: bool,
    /// Write one sample per hidden unit instead of the means (single-layer
    /// models only)
    #[arg(long)]
    pub sample: bool,
    /// Seed of the random stream of --sample [default: 0]
    #[arg(long, value_name = "S", requires = "sample", value_parser = any_u64)]
    pub seed: Option<u64>,
    /// Output file (.npy, float32, rows × hidden units of the top layer);
    /// written atomically; - writes to standard output
    #[arg(long, value_name = "FILE.npy")]
    pub out: PathBuf,
    /// Do not print the confirmation line
    #[arg(long, short)]
    pub quiet: bool,
}

/// Loads a model file as a stack through [`Stack::from_bytes`]: a stack
/// file (metadata `layers`), or a single model, with its full validation,
/// as a one-layer stack.
///
/// # Errors
/// [`CliError::Unreadable`] if the file cannot be read, [`CliError::Rbm`]
/// if it is not a valid model or stack.
pub(crate) fn load_model(path: &Path) -> Result<Stack, CliError> {
    let bytes = std::fs::read(path).map_err(|source| CliError::Unreadable {
        path: path.to_owned(),
        source,
    })?;
    Ok(Stack::from_bytes(&bytes, path)?)
}

/// Loads the data (or the embedded digits) as raw rows for `first`, the
/// bottom layer: checks the width and, for a Bernoulli-visible layer
/// without an input map, that the data lies in [0, 1] (with the file's
/// name in the message).
///
/// # Errors
/// [`CliError::Input`] for a width mismatch, [`CliError::Unreadable`] and
/// [`CliError::Rbm`] for a data file that cannot be read or is invalid.
pub(crate) fn load_raw_data(
    input: &DataInput,
    first: &crate::rbm::Rbm,
) -> Result<Dataset, CliError> {
    let d = input.load()?;
    check_width(&d, first)?;
    if first.standardization().is_none() && first.visible() == VisibleUnit::Bernoulli {
        d.check_unit_interval(input.message_path())?;
    }
    Ok(d)
}

/// [`load_raw_data`], then the bottom layer's input map applied.
///
/// # Errors
/// Those of [`load_raw_data`].
pub(crate) fn load_mapped_data(
    input: &DataInput,
    first: &crate::rbm::Rbm,
) -> Result<Dataset, CliError> {
    let mut d = load_raw_data(input, first)?;
    if let Some(map) = first.standardization() {
        map.apply(&mut d.values)?;
    }
    Ok(d)
}

/// Runs `rbm transform`.
///
/// # Errors
/// [`CliError::Input`] for a bad output path or a data width that differs
/// from the model's, [`CliError::Usage`] for `--sample` with a stack,
/// [`CliError::Unreadable`] for a model or data file that cannot be read,
/// [`CliError::Rbm`] for an invalid model or data file (exit code 2);
/// [`CliError::Io`] if the output cannot be written (exit code 1). Nothing
/// is written on error.
/// Rows per chunk of a transform's means (a multiple of the library's
/// 256-row blocks): the output is written a chunk at a time.
const CHUNK_ROWS: usize = 4096;

pub(crate) fn run(args: &TransformArgs) -> Result<(), CliError> {
    super::output::check_output_path(&args.out)?;
    let stack = load_model(&args.model)?;
    let layers = stack.layers();
    if args.sample && layers.len() > 1 {
        return Err(CliError::Usage(format!(
            "--sample is only for single-layer models: '{}' is a stack of {} layers \
             (a stack is transformed with noise-free means; leave out --sample)",
            args.model.display(),
            layers.len()
        )));
    }
    let top = layers.last().expect("a stack has a layer");
    let input = DataInput::new(args.data.as_deref(), args.labels_last_column, &args.input);
    // Samples come from one call (its streams are laid out over all rows);
    // means are computed and written a chunk of rows at a time, so the
    // output is never held whole (the rows' features do not depend on the
    // chunking).
    let (data, samples, what) = if args.sample {
        let seed = args.seed.unwrap_or(0);
        let data = load_mapped_data(&input, &layers[0])?;
        let h = layers[0].hidden_samples(&data.values, seed)?;
        (data, Some(h), "samples")
    } else {
        // The library's embedding API: the input map, then the means.
        (load_raw_data(&input, &layers[0])?, None, "means")
    };
    let shape = [data.rows, stack.n_output()];
    let path = &args.out;
    let cannot_write = |e: NpyError| {
        let source = match e {
            NpyError::Io(e) => e,
            other => io::Error::other(other),
        };
        CliError::io(format!("cannot write '{}'", output_name(path)), source)
    };
    write_output(path, |w| {
        let mut npy = NpyWriter::<_, f32>::new(w, &shape).map_err(cannot_write)?;
        match &samples {
            Some(h) => npy.write(h).map_err(cannot_write)?,
            None => {
                let mut h = vec![0.0f32; CHUNK_ROWS * shape[1]];
                for rows in data.values.chunks(CHUNK_ROWS * data.cols) {
                    let h = &mut h[..rows.len() / data.cols * shape[1]];
                    stack.features_into(rows, h)?;
                    npy.write(h).map_err(cannot_write)?;
                }
            }
        }
        npy.finish().map(drop).map_err(cannot_write)
    })?;
    if !args.quiet {
        // The mean rule decides the means of NReLU units, not their samples.
        let units = match top.nrelu_mean() {
            NreluMean::Ssu if !args.sample => format!("{} units, mean ssu", top.hidden()),
            _ => format!("{} units", top.hidden()),
        };
        if layers.len() == 1 {
            eprintln!(
                "wrote {} x {} hidden {what} ({units}) to {}",
                shape[0],
                shape[1],
                output_name(path)
            );
        } else {
            eprintln!(
                "wrote {} x {} top-layer {what} (stack of {} layers, {units} on top) to {}",
                shape[0],
                shape[1],
                layers.len(),
                output_name(path)
            );
        }
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
