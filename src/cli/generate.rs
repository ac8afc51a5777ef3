//! `rbm generate`: samples from a trained model by Gibbs sampling and
//! writes the visible states as a 2-D `<f4` `.npy` file (count × visible
//! units), with an optional PNG grid of them.
//!
//! `--count` independent chains each run `--steps` Gibbs steps v → h → v
//! from p(v | h = 0) ([`Rbm::generate`]): binary states for Bernoulli
//! visible units, sampled (with their N(0, 1) noise) for Gaussian ones, in
//! the model's own units (the stored input map is not undone). The same
//! model, count, steps and seed give the same bytes for any `--threads`.
//!
//! `--png` draws the first [`PNG_TILES`] samples as square images; the
//! visible layer must be a square number of units.

use super::CliError;
use super::output::{check_output_path, write_atomic};
use super::train::{any_u64, any_usize, positive_usize};
use super::transform::load_model;
use crate::generate::GibbsConfig;
use crate::npy::{NpyError, NpyWriter};
use crate::parallel::{Workers, in_pool};
use crate::plot::{Canvas, MAX_SIDE, TileScale, tile_grid};
use crate::rbm::{Rbm, VisibleUnit};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::{self, IsTerminal};
use std::path::{Path, PathBuf};

/// Samples drawn in the `--png` grid at most (the first ones).
pub(crate) const PNG_TILES: usize = 100;
/// Tiles per row of the `--png` grid at most.
const PNG_COLS: usize = 10;
/// Pixels between tiles.
const PNG_GAP: usize = 2;

/// Options of `rbm generate`.
#[derive(Clone, Debug, clap::Args)]
pub(crate) struct GenerateArgs {
    /// The model, as written by `rbm train` (a single RBM, not a stack)
    #[arg(long, value_name = "MODEL.safetensors")]
    pub model: PathBuf,
    /// Number of independent chains, one sample each
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = positive_usize)]
    pub count: usize,
    /// Gibbs steps v -> h -> v per chain (0: the start, p(v | h = 0))
    #[arg(long, value_name = "K", default_value_t = 1000, allow_negative_numbers = true, value_parser = any_usize)]
    pub steps: usize,
    /// Seed of the chains' random streams
    #[arg(long, value_name = "S", default_value_t = 0, allow_negative_numbers = true, value_parser = any_u64)]
    pub seed: u64,
    /// Output file (.npy, float32, count × visible units); written
    /// atomically
    #[arg(long, value_name = "FILE.npy")]
    pub out: PathBuf,
    /// Also draw the first 100 samples as a grid of square images (the
    /// visible layer must have a square number of units); written
    /// atomically
    #[arg(long, value_name = "FILE.png")]
    pub png: Option<PathBuf>,
    /// Worker threads, in one pool for the command; 0 = all cores (the
    /// samples do not depend on it)
    #[arg(long, value_name = "T", default_value_t = 0, allow_negative_numbers = true, value_parser = any_usize)]
    pub threads: usize,
    /// Print nothing (no progress bar, no confirmation line)
    #[arg(long, short)]
    pub quiet: bool,
}

/// Runs `rbm generate`.
///
/// # Errors
/// [`CliError::Usage`] for a stack file or `--png` with a visible layer
/// that is not square, [`CliError::Input`] for a bad output path,
/// [`CliError::Unreadable`] and [`CliError::Rbm`] for a model that cannot
/// be read or is invalid, or options the library rejects (exit code 2);
/// [`CliError::Io`] if an output cannot be written (exit code 1). Nothing
/// is written on error, except that the `.npy` file stays when only the
/// PNG fails to be written.
pub(crate) fn run(args: &GenerateArgs) -> Result<(), CliError> {
    check_output_path(&args.out)?;
    if let Some(png) = &args.png {
        check_output_path(png)?;
    }
    let rbm = single_model(&args.model)?;
    let side = match &args.png {
        Some(_) => Some(square_side(&rbm, &args.model)?),
        None => None,
    };
    let samples = sample(&rbm, args)?;
    let png = side.map(|s| grid(&rbm, &samples, s)).transpose()?;
    let shape = [args.count, rbm.n_visible()];
    write_npy(&args.out, &shape, &samples)?;
    if let (Some(path), Some(canvas)) = (&args.png, &png) {
        write_atomic(path, |w| {
            canvas
                .write_png(w)
                .map_err(|e| CliError::io(format!("cannot write '{}'", path.display()), e))
        })?;
    }
    if !args.quiet {
        eprintln!(
            "wrote {} x {} visible samples ({} Gibbs steps per chain, seed {}) to {}",
            shape[0],
            shape[1],
            args.steps,
            args.seed,
            args.out.display()
        );
        if let Some(path) = &args.png {
            eprintln!(
                "drew the first {} as images in {}",
                args.count.min(PNG_TILES),
                path.display()
            );
        }
    }
    Ok(())
}

/// The single RBM of `path`; a stack is a usage error.
fn single_model(path: &Path) -> Result<Rbm, CliError> {
    let stack = load_model(path)?;
    let layers = stack.layers();
    if layers.len() > 1 {
        return Err(CliError::Usage(format!(
            "'{}' is a stack of {} layers; rbm generate samples from single RBMs (a model \
             written by rbm train without --layers)",
            path.display(),
            layers.len()
        )));
    }
    Ok(layers[0].clone())
}

/// The side of the square images of `rbm`'s visible layer, or a usage
/// error naming the model.
fn square_side(rbm: &Rbm, path: &Path) -> Result<usize, CliError> {
    let v = rbm.n_visible();
    let side = v.isqrt();
    if side * side != v {
        return Err(CliError::Usage(format!(
            "--png needs a square visible layer: '{}' has {v} visible units, not a square \
             number (leave out --png)",
            path.display()
        )));
    }
    if side + 2 * PNG_GAP > MAX_SIDE {
        return Err(CliError::Usage(format!(
            "--png: images of {side} x {side} pixels are too large to draw (leave out --png)"
        )));
    }
    Ok(side)
}

/// The samples of `rbm generate`, with a progress bar of chain steps on a
/// terminal.
fn sample(rbm: &Rbm, args: &GenerateArgs) -> Result<Vec<f32>, CliError> {
    // One pool of `--threads` threads for the command (none for 0, which
    // runs on rayon's global pool with all cores, nor for 1).
    let pool = match args.threads {
        0 | 1 => None,
        t => Workers::new(t)?.pool(),
    };
    let cfg = GibbsConfig::new(args.steps, args.seed).with_threads(args.threads);
    let total = args.count.saturating_mul(args.steps);
    let bar = (!args.quiet && total > 0 && io::stderr().is_terminal()).then(|| {
        let bar = ProgressBar::new(total as u64);
        let template = "generate  {wide_bar} {pos}/{len} chain steps, eta {eta}";
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar
    });
    let progress = |chains: usize| {
        if let Some(bar) = &bar {
            bar.inc(chains as u64);
        }
    };
    let samples = in_pool(pool, || {
        rbm.generate_with_progress(args.count, &cfg, &progress)
    });
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    Ok(samples?)
}

/// The first [`PNG_TILES`] samples as a grid of `side × side` images:
/// black 0 to white 1 for Bernoulli units, each image from its own minimum
/// to its own maximum for Gaussian units.
fn grid(rbm: &Rbm, samples: &[f32], side: usize) -> Result<Canvas, CliError> {
    let v = rbm.n_visible();
    let n = (samples.len() / v).min(PNG_TILES);
    let zoom = (64 / side).max(1);
    let cell = side * zoom + PNG_GAP;
    let cols = n.min(PNG_COLS).min((MAX_SIDE - PNG_GAP) / cell).max(1);
    if PNG_GAP + n.div_ceil(cols) * cell > MAX_SIDE {
        return Err(CliError::Usage(format!(
            "--png: {n} images of {side} x {side} pixels are too large to draw (leave out --png)"
        )));
    }
    let scale = match rbm.visible() {
        VisibleUnit::Gaussian => TileScale::PerTile,
        _ => TileScale::Fixed(0.0, 1.0),
    };
    Ok(tile_grid(
        &samples[..n * v],
        side,
        side,
        cols,
        zoom,
        PNG_GAP,
        scale,
    ))
}

/// Writes `values` as a float32 `.npy` array of `shape`, atomically.
fn write_npy(path: &Path, shape: &[usize], values: &[f32]) -> Result<(), CliError> {
    write_atomic(path, |w| {
        let written = NpyWriter::<_, f32>::new(w, shape).and_then(|mut npy| {
            npy.write(values)?;
            npy.finish().map(drop)
        });
        written.map_err(|e| {
            let source = match e {
                NpyError::Io(e) => e,
                other => io::Error::other(other),
            };
            CliError::io(format!("cannot write '{}'", path.display()), source)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::HiddenUnit;

    #[test]
    fn png_grid_sizes() {
        let rbm = Rbm::new(64, 3, VisibleUnit::Bernoulli, HiddenUnit::Nrelu, 1).unwrap();
        let samples = vec![1.0f32; 150 * 64];
        let c = grid(&rbm, &samples, 8).unwrap();
        // 100 tiles of 8 × 8 at zoom 8, 10 columns, gaps of 2.
        assert_eq!((c.width(), c.height()), (2 + 10 * 66, 2 + 10 * 66));
        assert_eq!(c.get(2, 2), Some([255; 3]));
        let c = grid(&rbm, &samples[..3 * 64], 8).unwrap();
        assert_eq!((c.width(), c.height()), (2 + 3 * 66, 2 + 66));
    }
}
