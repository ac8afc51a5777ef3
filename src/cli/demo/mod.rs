//! `rbm demo`: the paper's claims on real digits, with pictures, in well
//! under a minute.
//!
//! On the embedded UCI digits (1,797 images of 8 × 8 pixels, 0..=16) it
//!
//! 1. **splits** the digits with a fixed random permutation (the stream
//!    `(SPLIT_SEED, 0)`, whatever `--seed`): the first 1,347 images (75 %)
//!    train, the other 450 test;
//! 2. **trains** four RBMs that differ only in their hidden units —
//!    Bernoulli, binomial(K = 4), stepped sigmoid (SSU) and NReLU — with 100
//!    hidden units each, Bernoulli visible units on pixels / 16, the same
//!    initial weights and the same mini-batch order (CD-1, batch 100,
//!    learning rate 0.05, momentum 0.5, weight decay 1e-4);
//! 3. **classifies** the test digits with a multinomial logistic
//!    regression ([`crate::logistic`]) trained on each model's noise-free
//!    hidden features, and on the raw pixels;
//! 4. **checks intensity equivariance**: a two-layer NReLU stack with zero
//!    biases
//!    ([`train_equivariant_stack`](crate::stack::train_equivariant_stack))
//!    maps images scaled by α to features scaled by α, so cosines do not
//!    change; NReLU and binary stacks with learned biases do not;
//! 5. **draws** the filters, reconstructions, training curves and the
//!    sampled NReLU and SSU laws, and writes `report.md` with the tables and
//!    the pictures.
//!
//! Why K = 4 for the binomial units: all four models share one learning
//! rate, and the binomial gradient grows with K (its mean is Kσ(x)); at
//! K = 8 a learning rate of 0.05 overshoots (reconstruction error 0.05
//! against 0.03), while K = 4 trains as well as the others and still shows
//! the binomial unit's defining limit, a ceiling of K on a unit's activity.
//!
//! Everything is computed before any file is written; then each file is
//! written atomically and `report.md` last. The output depends only on
//! `--seed` and `--epochs` (not on `--threads`): two runs give
//! byte-identical files.
//!
//! The steps live in their own files: `split` (the digits), `models`
//! (training and classification), `equivariance`, `draws` (the sampled
//! units), then `tables`, `figures` and `report` for what is shown, and
//! `log` for the progress on stderr.

mod draws;
mod equivariance;
mod figures;
mod log;
mod models;
mod report;
mod split;
mod tables;

use super::output::{probe_dir_writable, write_atomic};
use super::{CliError, InputError};
use crate::logistic::LogisticConfig;
use crate::rbm::Rbm;
use crate::units::HiddenUnit;
use draws::sample_units;
use equivariance::measure_equivariance;
use figures::{filters_png, reconstructions_png, training_png, units_png};
use log::Log;
use models::{classify, train_models, train_stacks, unit_file_name};
use report::report_md;
use split::{class_examples, split_digits};
use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;
use tables::{classification_table, equivariance_table, thousands, units_table};

/// Seed of the train/test permutation (fixed, so that `--seed` changes the
/// models but not the split).
pub const SPLIT_SEED: u64 = 2010;

/// Training images; the remaining 450 of the 1,797 are the test set.
pub const TRAIN_ROWS: usize = 1347;

/// Hidden units of every RBM.
pub const HIDDEN: usize = 100;

/// `K` of the binomial hidden units (see the [module docs](self)).
pub const BINOMIAL_K: u32 = 4;

/// Default epochs of every model and stack layer.
pub const EPOCHS: usize = 100;

/// Default `--seed`.
pub const DEFAULT_SEED: u64 = 1;

/// Widths of the two-layer stacks of the equivariance check.
pub const STACK_WIDTHS: [usize; 2] = [100, 50];

/// The intensity scales of the equivariance check.
pub const ALPHAS: [f32; 4] = [0.25, 0.5, 2.0, 4.0];

/// Pre-activations at which NReLU and SSU are sampled.
pub const SAMPLE_XS: [f32; 4] = [-1.0, 0.5, 3.0, 8.0];

/// Draws per unit and pre-activation.
pub const DRAWS: usize = 100_000;

/// The exit-status section of `rbm demo --help`.
pub const AFTER_HELP: &str = "\
Exit status:
  0  success
  1  I/O failure: the output directory or a file in it could not be created,
     written or renamed
  2  usage or input error: bad option or value, a file in the way of the
     output directory, or a model that diverged

On any error, a single line starting with 'error:' is printed to stderr.
Everything is computed before the first file is written; each file is then
written whole (through a temporary file and a rename), report.md last.";

/// The four hidden unit types compared, in table order.
const UNITS: [HiddenUnit; 4] = [
    HiddenUnit::Bernoulli,
    HiddenUnit::binomial_of::<BINOMIAL_K>(),
    HiddenUnit::Ssu,
    HiddenUnit::Nrelu,
];

/// Options of `rbm demo`.
#[derive(Clone, Debug, clap::Args)]
pub struct DemoArgs {
    /// Output directory for report.md and the pictures (created if missing)
    #[arg(long, value_name = "DIR", default_value = "rbm-demo")]
    pub out: PathBuf,
    /// Seed of the models' random streams (initial weights, mini-batch
    /// order, sampling); the train/test split is fixed
    #[arg(long, value_name = "S", default_value_t = DEFAULT_SEED, allow_negative_numbers = true, value_parser = super::train::any_u64)]
    pub seed: u64,
    /// Worker threads; 0 = all cores (the results do not depend on it)
    #[arg(long, value_name = "T", default_value_t = 0, allow_negative_numbers = true, value_parser = super::train::any_usize)]
    pub threads: usize,
    /// Epochs of every model and stack layer
    #[arg(long, value_name = "E", default_value_t = EPOCHS, allow_negative_numbers = true, value_parser = super::train::positive_usize)]
    pub epochs: usize,
    /// No progress bar or per-epoch lines (the tables are still printed)
    #[arg(long, short)]
    pub quiet: bool,
    /// Smoke-test mode for the test suite: fewer regression steps, draws
    /// and image pairs (the numbers are not meaningful)
    #[arg(long, hide = true)]
    pub smoke: bool,
}

/// Sizes that `--smoke` shrinks.
#[derive(Clone, Copy, Debug)]
struct Budget {
    logistic_iterations: usize,
    draws: usize,
    /// Test images used for the cosine pairs.
    pair_images: usize,
}

impl Budget {
    fn new(smoke: bool) -> Budget {
        if smoke {
            Budget {
                logistic_iterations: 20,
                draws: 4_096,
                pair_images: 40,
            }
        } else {
            Budget {
                logistic_iterations: LogisticConfig::default().iterations,
                draws: DRAWS,
                pair_images: usize::MAX,
            }
        }
    }
}

/// One trained RBM and what the demo measured on it.
struct Model {
    unit: HiddenUnit,
    rbm: Rbm,
    /// Training reconstruction error per epoch.
    curve: Vec<f64>,
    /// Noise-free reconstruction errors ([`Rbm::reconstruction_error`]).
    train_error: f64,
    test_error: f64,
    accuracy: f64,
}

/// The equivariance measurements of one stack.
struct Equivariance {
    name: &'static str,
    equivariant: bool,
    /// Per α (`ALPHAS` then 3): max relative error, max |Δcos|.
    per_alpha: Vec<(f32, f64, f64)>,
    /// Test images whose features are all zero (left out of the relative
    /// error).
    zero_rows: usize,
}

/// Sampled statistics of NReLU and SSU at one pre-activation.
struct Draws {
    x: f32,
    ssu: Vec<f32>,
    nrelu: Vec<f32>,
}

/// Everything the report shows.
struct Results {
    epochs: usize,
    seed: u64,
    raw_accuracy: f64,
    models: Vec<Model>,
    stacks: Vec<Equivariance>,
    draws: Vec<Draws>,
    /// The first test image of each class, in class order.
    examples: Vec<usize>,
    test: Vec<f32>,
}

/// Creates `dir` (and its parents) if needed and checks that files can be
/// created in it.
fn prepare_dir(dir: &Path) -> Result<(), CliError> {
    if dir.as_os_str().is_empty() {
        return Err(InputError::NotAFileName(dir.to_owned()).into());
    }
    if super::output::is_stdout(dir) {
        return Err(CliError::Usage(
            "--out - (standard output) does not apply to rbm demo, which writes a directory \
             of files; name a directory"
                .to_owned(),
        ));
    }
    // The nearest existing ancestor (or `dir` itself) must be a directory.
    if let Some(existing) = dir.ancestors().find(|a| a.exists())
        && !existing.is_dir()
    {
        return Err(InputError::NotADirectory(existing.to_owned()).into());
    }
    std::fs::create_dir_all(dir).map_err(|e| {
        CliError::io(
            format!("cannot create output directory '{}'", dir.display()),
            e,
        )
    })?;
    probe_dir_writable(dir)
}

/// Trains, classifies, measures and samples all that the report shows;
/// writes nothing.
fn compute(args: &DemoArgs, log: &Log, budget: Budget) -> Result<Results, CliError> {
    let split = split_digits();
    log.line(&format!(
        "training {} RBMs ({}) with {HIDDEN} hidden units on {TRAIN_ROWS} digits, {} epochs each",
        UNITS.len(),
        UNITS.map(|u| u.to_string()).join(", "),
        args.epochs
    ));
    let mut models = train_models(args, &split, log)?;
    log.line("classifying the test digits (logistic regression on each feature set)");
    let raw_accuracy = classify(&split, &mut models, budget, args.threads)?;
    log.line("training the stacks of the intensity-equivariance check");
    let stacks = train_stacks(args, &split, log)?;
    let names = [
        "nrelu, zero biases",
        "nrelu, learned biases",
        "bernoulli (binary)",
    ];
    let stacks = names
        .iter()
        .zip(&stacks)
        .map(|(name, st)| measure_equivariance(name, st, &split.test, budget))
        .collect::<Result<Vec<_>, _>>()?;
    let examples = class_examples(&split.test_labels);
    Ok(Results {
        epochs: args.epochs,
        seed: args.seed,
        raw_accuracy,
        models,
        stacks,
        draws: sample_units(args.seed, budget.draws),
        examples,
        test: split.test,
    })
}

/// Runs `rbm demo`.
///
/// # Errors
/// [`CliError::Input`] if `--out` exists and is not a directory,
/// [`CliError::Io`] if it cannot be created or written (exit code 1),
/// [`CliError::Diverged`] if a model diverged (nothing written).
pub fn run(args: &DemoArgs) -> Result<(), CliError> {
    let start = Instant::now();
    prepare_dir(&args.out)?;
    let batches_per_epoch = TRAIN_ROWS.div_ceil(100) as u64;
    let total = (UNITS.len() as u64 + 6) * args.epochs as u64 * batches_per_epoch;
    let log = Log::new(args.quiet, total);
    let budget = Budget::new(args.smoke);
    let results = compute(args, &log, budget);
    log.finish();
    let r = results?;

    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for m in &r.models {
        let name = format!("filters-{}.png", unit_file_name(m.unit));
        files.push((name, filters_png(m).png_bytes()));
    }
    files.push((
        "reconstructions.png".into(),
        reconstructions_png(&r)?.png_bytes(),
    ));
    files.push(("training.png".into(), training_png(&r).png_bytes()));
    files.push(("nrelu-vs-ssu.png".into(), units_png(&r).png_bytes()));
    files.push(("report.md".into(), report_md(&r).into_bytes()));
    for (name, bytes) in &files {
        let path = args.out.join(name);
        write_atomic(&path, |w| {
            w.write_all(bytes)
                .map_err(|e| CliError::io(format!("cannot write '{}'", path.display()), e))
        })?;
    }

    let mut out = String::new();
    let _ = writeln!(
        out,
        "\nClassification of the {} test digits:\n",
        r.test.len() / 64
    );
    out.push_str(&classification_table(&r));
    let _ = writeln!(out, "\nIntensity equivariance, α ∈ {{0.25, 0.5, 2, 4}}:\n");
    out.push_str(&equivariance_table(&r));
    let _ = writeln!(
        out,
        "\nSampled units ({} draws each):\n",
        thousands(budget.draws)
    );
    out.push_str(&units_table(&r));
    let _ = writeln!(out, "\nreport: {}", args.out.join("report.md").display());
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(out.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|e| CliError::io("cannot write to stdout", e))?;
    log.line(&format!(
        "wrote {} files to {} in {:.1} s",
        files.len(),
        args.out.display(),
        start.elapsed().as_secs_f64()
    ));
    Ok(())
}
