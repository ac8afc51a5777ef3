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
//!    biases ([`train_equivariant_stack`]) maps images scaled by α to
//!    features scaled by α, so cosines do not change; NReLU and binary
//!    stacks with learned biases do not;
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

use super::output::{eprint_line, probe_dir_writable, write_atomic};
use super::{CliError, InputError};
use crate::data::{DIGITS_MAX, Dataset};
use crate::error::RbmError;
use crate::kernels::{Kernels, Stream, reference};
use crate::logistic::{LogisticConfig, LogisticRegression};
use crate::plot::{
    Canvas, Chart, Legend, PALETTE, Series, SeriesKind, TileScale, WHITE, tile_grid,
};
use crate::rbm::{Rbm, VisibleUnit};
use crate::stack::{LayerSpec, Stack, cosine_similarity, train_equivariant_stack, train_stack};
use crate::train::{Progress, TrainConfig, train};
use crate::units::HiddenUnit;
use indicatif::{ProgressBar, ProgressStyle};
use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::Instant;

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

/// Progress bar and per-epoch lines on stderr.
struct Log {
    on: bool,
    bar: Option<ProgressBar>,
}

impl Log {
    fn new(quiet: bool, batches: u64) -> Log {
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

    fn line(&self, text: &str) {
        if !self.on {
            return;
        }
        eprint_line(self.bar.as_ref(), text);
    }

    fn batch(&self, msg: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(msg.to_owned());
            bar.inc(1);
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// The digits split into train and test sets, pixels scaled to [0, 1].
struct Split {
    train: Vec<f32>,
    train_labels: Vec<usize>,
    test: Vec<f32>,
    test_labels: Vec<usize>,
}

/// A Fisher–Yates permutation of `0..n` driven by the stream
/// `(seed, 0)` (32-bit multiply-shift indices; bias below n / 2^32).
fn permutation(n: usize, seed: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    let mut words = vec![0u32; n];
    Stream::new(seed, 0).fill_words(&mut words);
    for i in (1..n).rev() {
        let j = ((u64::from(words[i]) * (i as u64 + 1)) >> 32) as usize;
        order.swap(i, j);
    }
    order
}

fn split_digits() -> Split {
    let d = Dataset::digits();
    let labels = d.labels.as_deref().expect("the digits have labels");
    let order = permutation(d.rows, SPLIT_SEED);
    let mut s = Split {
        train: Vec::with_capacity(TRAIN_ROWS * d.cols),
        train_labels: Vec::with_capacity(TRAIN_ROWS),
        test: Vec::with_capacity((d.rows - TRAIN_ROWS) * d.cols),
        test_labels: Vec::with_capacity(d.rows - TRAIN_ROWS),
    };
    for (k, &r) in order.iter().enumerate() {
        let row = d.values[r * d.cols..(r + 1) * d.cols]
            .iter()
            .map(|&p| p / DIGITS_MAX);
        let label = labels[r] as usize;
        if k < TRAIN_ROWS {
            s.train.extend(row);
            s.train_labels.push(label);
        } else {
            s.test.extend(row);
            s.test_labels.push(label);
        }
    }
    s
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

fn unit_file_name(unit: HiddenUnit) -> String {
    unit.to_string().replace(':', "-")
}

fn model_config(args: &DemoArgs, visible: VisibleUnit) -> TrainConfig {
    TrainConfig {
        epochs: args.epochs,
        seed: args.seed,
        threads: args.threads,
        ..TrainConfig::default_for(visible)
    }
}

fn train_models(args: &DemoArgs, split: &Split, log: &Log) -> Result<Vec<Model>, CliError> {
    let mut models = Vec::new();
    for unit in UNITS {
        let cfg = model_config(args, VisibleUnit::Bernoulli);
        let mut rbm = Rbm::new(
            split.train.len() / TRAIN_ROWS,
            HIDDEN,
            VisibleUnit::Bernoulli,
            unit,
            cfg.seed,
        )?;
        rbm.init_visible_bias_from(&split.train)?;
        let name = unit.to_string();
        let w = cfg.epochs.to_string().len();
        let report = train(&mut rbm, &split.train, &cfg, |p| {
            match p {
                Progress::Batch { epoch, .. } => {
                    log.batch(&format!("{name} epoch {epoch}/{}", cfg.epochs));
                }
                Progress::Epoch(s) => log.line(&format!(
                    "{name:<10} epoch {:>w$}/{}  reconstruction error {:.5}",
                    s.epoch, cfg.epochs, s.reconstruction_error
                )),
                Progress::Model { .. } => {}
            }
            ControlFlow::Continue(())
        })
        .map_err(|e| diverged(e, cfg.learning_rate))?;
        let train_error = rbm.reconstruction_error(&split.train)?;
        let test_error = rbm.reconstruction_error(&split.test)?;
        models.push(Model {
            unit,
            rbm,
            curve: report
                .epochs
                .iter()
                .map(|e| e.reconstruction_error)
                .collect(),
            train_error,
            test_error,
            accuracy: 0.0,
        });
    }
    Ok(models)
}

fn diverged(e: RbmError, lr: f32) -> CliError {
    match e {
        RbmError::Diverged { epoch, batch, .. } => CliError::Diverged { epoch, batch, lr },
        other => CliError::Rbm(other),
    }
}

/// Test accuracy of a logistic regression on each feature set: raw pixels
/// first, then each model's hidden means. The fits run in parallel; each
/// is single-threaded and deterministic.
fn classify(
    split: &Split,
    models: &mut [Model],
    budget: Budget,
    threads: usize,
) -> Result<f64, CliError> {
    let mut sets = vec![(split.train.clone(), split.test.clone())];
    for m in models.iter() {
        sets.push((
            m.rbm.hidden_means(&split.train)?,
            m.rbm.hidden_means(&split.test)?,
        ));
    }
    let cfg = LogisticConfig {
        iterations: budget.logistic_iterations,
        ..LogisticConfig::default()
    };
    let fit = |(train, test): &(Vec<f32>, Vec<f32>)| -> Result<f64, RbmError> {
        LogisticRegression::fit(train, &split.train_labels, 10, &cfg)?
            .accuracy(test, &split.test_labels)
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| CliError::io("cannot start worker threads", std::io::Error::other(e)))?;
    let accs: Vec<Result<f64, RbmError>> = pool.install(|| {
        use rayon::prelude::*;
        sets.par_iter().map(fit).collect()
    });
    let mut accs = accs.into_iter();
    let raw = accs.next().expect("raw pixels")?;
    for (m, a) in models.iter_mut().zip(accs) {
        m.accuracy = a?;
    }
    Ok(raw)
}

fn train_stacks(args: &DemoArgs, split: &Split, log: &Log) -> Result<Vec<Stack>, CliError> {
    let gaussian = model_config(args, VisibleUnit::Gaussian);
    let nv = split.train.len() / TRAIN_ROWS;
    let progress = |name: &'static str| {
        move |layer: usize, p: Progress<'_>| {
            match p {
                Progress::Batch { .. } => log.batch(&format!("{name} layer {}", layer + 1)),
                Progress::Epoch(s) if s.epoch == gaussian.epochs => log.line(&format!(
                    "stack {name}, layer {}: {} epochs, reconstruction error {:.5}",
                    layer + 1,
                    s.epoch,
                    s.reconstruction_error
                )),
                Progress::Epoch(_) | Progress::Model { .. } => {}
            }
            ControlFlow::Continue(())
        }
    };
    let lr = gaussian.learning_rate;
    let configs = [gaussian.clone(), gaussian.clone()];
    let (zero, _) = train_equivariant_stack(
        &split.train,
        nv,
        &STACK_WIDTHS,
        &configs,
        progress("nrelu, zero biases"),
    )
    .map_err(|e| diverged(e, lr))?;
    let specs = |hidden| STACK_WIDTHS.map(|n_hidden| LayerSpec { n_hidden, hidden });
    let (biased, _) = train_stack(
        &split.train,
        nv,
        VisibleUnit::Gaussian,
        &specs(HiddenUnit::Nrelu),
        &configs,
        progress("nrelu, learned biases"),
    )
    .map_err(|e| diverged(e, lr))?;
    // The usual binary stack (a deep belief net): Bernoulli units
    // throughout, on the same pixels.
    let bernoulli = model_config(args, VisibleUnit::Bernoulli);
    let binary_configs = [bernoulli.clone(), bernoulli];
    let (binary, _) = train_stack(
        &split.train,
        nv,
        VisibleUnit::Bernoulli,
        &specs(HiddenUnit::Bernoulli),
        &binary_configs,
        progress("bernoulli (binary)"),
    )
    .map_err(|e| diverged(e, lr))?;
    Ok(vec![zero, biased, binary])
}

/// ‖a − b‖ / ‖b‖ in f64 (0 when both are zero).
fn relative_error(a: &[f32], b: &[f64]) -> f64 {
    let d: f64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| (f64::from(x) - y).powi(2))
        .sum();
    let n: f64 = b.iter().map(|y| y * y).sum();
    if n == 0.0 {
        if d == 0.0 { 0.0 } else { f64::INFINITY }
    } else {
        (d / n).sqrt()
    }
}

fn measure_equivariance(
    name: &'static str,
    stack: &Stack,
    test: &[f32],
    budget: Budget,
) -> Result<Equivariance, CliError> {
    let nv = stack.n_visible();
    let rows = (test.len() / nv).min(budget.pair_images);
    let test = &test[..rows * nv];
    let k = stack.n_output();
    let f = stack.transform(test)?;
    let zero_rows = f
        .chunks_exact(k)
        .filter(|r| r.iter().all(|&v| v == 0.0))
        .count();
    let mut per_alpha = Vec::new();
    for alpha in ALPHAS.into_iter().chain([3.0]) {
        let scaled: Vec<f32> = test.iter().map(|&v| alpha * v).collect();
        let fs = stack.transform(&scaled)?;
        let mut rel: f64 = 0.0;
        for (a, b) in fs.chunks_exact(k).zip(f.chunks_exact(k)) {
            if b.iter().any(|&v| v != 0.0) {
                let want: Vec<f64> = b.iter().map(|&v| f64::from(alpha) * f64::from(v)).collect();
                rel = rel.max(relative_error(a, &want));
            }
        }
        // cos(f(αv_i), f(v_j)) against cos(f(v_i), f(v_j)), all i ≠ j.
        let mut dcos: f64 = 0.0;
        for i in 0..rows {
            let (fi, fsi) = (&f[i * k..(i + 1) * k], &fs[i * k..(i + 1) * k]);
            for j in (0..rows).filter(|&j| j != i) {
                let fj = &f[j * k..(j + 1) * k];
                dcos = dcos.max((cosine_similarity(fsi, fj) - cosine_similarity(fi, fj)).abs());
            }
        }
        per_alpha.push((alpha, rel, dcos));
    }
    Ok(Equivariance {
        name,
        equivariant: stack.is_intensity_equivariant(),
        per_alpha,
        zero_rows,
    })
}

fn sample_units(seed: u64, draws: usize) -> Vec<Draws> {
    let k = Kernels::active();
    SAMPLE_XS
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            let xs = vec![x; draws];
            let mut ssu = vec![0.0; draws];
            let mut nrelu = vec![0.0; draws];
            k.ssu(&xs, &mut ssu, &mut Stream::new(seed, 100 + 2 * i as u64));
            k.nrelu(&xs, &mut nrelu, &mut Stream::new(seed, 101 + 2 * i as u64));
            Draws { x, ssu, nrelu }
        })
        .collect()
}

fn mean_var(v: &[f32]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
    let var = v.iter().map(|&x| (f64::from(x) - m).powi(2)).sum::<f64>() / n;
    (m, var)
}

/// The first test image of each class 0..=9.
fn class_examples(labels: &[usize]) -> Vec<usize> {
    (0..10)
        .filter_map(|c| labels.iter().position(|&l| l == c))
        .collect()
}

// ---------------------------------------------------------------- tables

/// `n` with a comma between thousands (1347 → "1,347").
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

fn pct(a: f64) -> String {
    format!("{:.1} %", 100.0 * a)
}

fn classification_table(r: &Results) -> String {
    let mut t = String::from(
        "| features | units | reconstruction error, train | reconstruction error, test | test accuracy |\n\
         |---|---|---|---|---|\n",
    );
    let _ = writeln!(
        t,
        "| raw pixels / 16 | 64 | – | – | {} |",
        pct(r.raw_accuracy)
    );
    for m in &r.models {
        let _ = writeln!(
            t,
            "| {} RBM | {HIDDEN} | {:.5} | {:.5} | {} |",
            m.unit,
            m.train_error,
            m.test_error,
            pct(m.accuracy)
        );
    }
    t
}

/// An error for the tables: `0`, three decimals, or scientific notation
/// below 0.001.
fn sci(v: f64) -> String {
    if v == 0.0 {
        "0".to_owned()
    } else if v >= 1e-3 {
        format!("{v:.3}")
    } else {
        format!("{v:.2e}")
    }
}

fn equivariance_table(r: &Results) -> String {
    let mut t = String::from(
        "| stack (2 layers, 100 + 50 units) | zero biases, NReLU | max ‖f(αv) − αf(v)‖ / ‖αf(v)‖ | max \\|Δcos\\| |\n\
         |---|---|---|---|\n",
    );
    for s in &r.stacks {
        let main = &s.per_alpha[..ALPHAS.len()];
        let rel = main.iter().map(|p| p.1).fold(0.0, f64::max);
        let dcos = main.iter().map(|p| p.2).fold(0.0, f64::max);
        let _ = writeln!(
            t,
            "| {} | {} | {} | {} |",
            s.name,
            if s.equivariant { "yes" } else { "no" },
            sci(rel),
            sci(dcos)
        );
    }
    t
}

fn equivariance_detail(r: &Results) -> String {
    let mut t =
        String::from("| stack | α | max relative error | max \\|Δcos\\| |\n|---|---|---|---|\n");
    for s in &r.stacks {
        for &(alpha, rel, dcos) in &s.per_alpha {
            let _ = writeln!(t, "| {} | {alpha} | {} | {} |", s.name, sci(rel), sci(dcos));
        }
    }
    t
}

fn units_table(r: &Results) -> String {
    let mut t = String::from(
        "| x | SSU mean | softplus(x) | NReLU mean | SSU variance | σ(x) | NReLU variance |\n\
         |---|---|---|---|---|---|---|\n",
    );
    for d in &r.draws {
        let (sm, sv) = mean_var(&d.ssu);
        let (nm, nv) = mean_var(&d.nrelu);
        let x = f64::from(d.x);
        let _ = writeln!(
            t,
            "| {} | {sm:.3} | {:.3} | {nm:.3} | {sv:.3} | {:.3} | {nv:.3} |",
            d.x,
            reference::softplus(x),
            reference::sigmoid(x)
        );
    }
    t
}

// -------------------------------------------------------------- pictures

fn filters_png(m: &Model) -> Canvas {
    let (v, h) = (m.rbm.n_visible(), m.rbm.n_hidden());
    let w = m.rbm.weights();
    // Tile j: the weights into hidden unit j (column j of W).
    let tiles: Vec<f32> = (0..h)
        .flat_map(|j| (0..v).map(move |i| w[i * h + j]))
        .collect();
    let grid = tile_grid(&tiles, 8, 8, 10, 5, 2, TileScale::PerTile);
    let title = format!("{} filters", m.unit);
    let mut c = Canvas::new(grid.width(), grid.height() + 28, WHITE);
    c.text(4, 6, &title, [0, 0, 0], 2);
    c.blit(&grid, 0, 28);
    c
}

fn reconstructions_png(r: &Results) -> Result<Canvas, CliError> {
    let nv = 64;
    let picks: Vec<f32> = r
        .examples
        .iter()
        .flat_map(|&i| r.test[i * nv..(i + 1) * nv].iter().copied())
        .collect();
    let mut rows = vec![("test digits".to_owned(), picks.clone())];
    for m in &r.models {
        let h = m.rbm.hidden_means(&picks)?;
        rows.push((m.unit.to_string(), m.rbm.visible_means(&h)?));
    }
    let (zoom, gap, label_w, top) = (5usize, 4usize, 150usize, 30usize);
    let tile = 8 * zoom + gap;
    let n = r.examples.len().max(1);
    let mut c = Canvas::new(
        label_w + n * tile + gap,
        top + rows.len() * tile + gap,
        WHITE,
    );
    c.text(4, 6, "test digits and their reconstructions", [0, 0, 0], 2);
    for (k, (name, values)) in rows.iter().enumerate() {
        let y = (top + k * tile) as i64;
        c.text(4, y + (8 * zoom / 2) as i64 - 8, name, [0, 0, 0], 2);
        for (t, img) in values.chunks_exact(nv).enumerate() {
            let x = (label_w + t * tile) as i64;
            c.gray_image(x, y, img, 8, 8, zoom, (0.0, 1.0));
        }
    }
    Ok(c)
}

fn training_png(r: &Results) -> Canvas {
    let mut chart = Chart::new("Reconstruction error while training (train set, CD-1)");
    chart.x_label = "epoch".into();
    chart.y_label = "mean squared error per pixel".into();
    for (k, m) in r.models.iter().enumerate() {
        let pts = m
            .curve
            .iter()
            .enumerate()
            .map(|(e, &v)| ((e + 1) as f64, v))
            .collect();
        chart
            .series
            .push(Series::line(&m.unit.to_string(), PALETTE[k], pts));
    }
    chart.x_range = Some((0.0, r.epochs.max(1) as f64));
    let (_, (_, y1)) = chart.ranges();
    chart.y_range = Some((0.0, y1));
    chart.render(760, 460)
}

fn units_png(r: &Results) -> Canvas {
    let (pw, ph, top) = (600usize, 400usize, 56usize);
    let mut c = Canvas::new(2 * pw, top + 2 * ph, WHITE);
    c.text(
        8,
        8,
        "SSU: sum_i Bernoulli(sigmoid(x - i + 0.5))   NReLU: max(0, x + N(0, sigmoid(x)))",
        [0, 0, 0],
        2,
    );
    c.text(
        8,
        30,
        "bars: SSU P(h = k)   outline: NReLU P(h = 0)   line: NReLU density for h > 0",
        [0, 0, 0],
        2,
    );
    for (p, d) in r.draws.iter().enumerate() {
        let n = d.ssu.len() as f64;
        let kmax = d.ssu.iter().fold(0f32, |a, &b| a.max(b)) as usize;
        let mut counts = vec![0usize; kmax + 1];
        for &h in &d.ssu {
            counts[h as usize] += 1;
        }
        let ssu_bars: Vec<(f64, f64)> = counts
            .iter()
            .enumerate()
            .filter(|&(_, &c)| c > 0)
            .map(|(k, &c)| (k as f64, c as f64 / n))
            .collect();
        let zero = d.nrelu.iter().filter(|&&h| h == 0.0).count() as f64 / n;
        let bin = 0.25;
        let top_h = kmax as f64 + 1.5;
        let nbins = (top_h / bin).ceil() as usize;
        let mut dens = vec![0usize; nbins];
        for &h in d.nrelu.iter().filter(|&&h| h > 0.0) {
            let b = (f64::from(h) / bin) as usize;
            if b < nbins {
                dens[b] += 1;
            }
        }
        let density: Vec<(f64, f64)> = dens
            .iter()
            .enumerate()
            .map(|(b, &c)| ((b as f64 + 0.5) * bin, c as f64 / n / bin))
            .collect();
        let (sm, _) = mean_var(&d.ssu);
        let (nm, _) = mean_var(&d.nrelu);
        let mut chart = Chart::new(&format!("x = {}  (means: SSU {sm:.2}, NReLU {nm:.2})", d.x));
        chart.x_label = "h".into();
        chart.y_label = "probability / density".into();
        chart
            .series
            .push(Series::bars("SSU P(h=k)", PALETTE[0], ssu_bars, 0.6));
        chart.series.push(Series {
            name: "NReLU P(h=0)".into(),
            color: PALETTE[3],
            kind: SeriesKind::Bars {
                bars: vec![(0.0, zero)],
                width: 0.8,
                offset: 0.0,
                outline: true,
            },
        });
        chart
            .series
            .push(Series::line("NReLU density", PALETTE[3], density));
        chart.x_range = Some((-0.5, top_h.ceil()));
        chart.legend = Legend::TopRight;
        let (px, py) = ((p % 2) * pw, top + (p / 2) * ph);
        chart.draw(&mut c, px, py, pw, ph);
    }
    c
}

// ---------------------------------------------------------------- report

/// The demo's `report.md`: what was run, then one section per result.
fn report_md(r: &Results) -> String {
    let mut s = intro_md(r);
    s.push_str(&classification_md(r));
    s.push_str(&figures_md(r));
    s.push_str(&equivariance_md(r));
    s.push_str(&units_md(r));
    s
}

/// The report's title, data, models and how the classifier is run.
fn intro_md(r: &Results) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "# rbm demo: rectified hidden units on the UCI digits\n\n\
         Nair & Hinton, *Rectified Linear Units Improve Restricted Boltzmann Machines* \
         (ICML 2010), reproduced in miniature by `rbm demo --seed {seed} --epochs {epochs}`.\n\n\
         **Data.** The 1,797 UCI handwritten digits (8 × 8 pixels, 0..16; Alpaydin & Kaynak \
         1998, CC BY 4.0), pixels divided by 16. A fixed random permutation (stream seed \
         {SPLIT_SEED}) puts {train} images in the training set and the other {test} in \
         the test set.\n\n\
         **Models.** Four RBMs with 64 Bernoulli visible units and {HIDDEN} hidden units that \
         differ only in the hidden unit type: Bernoulli, binomial with K = {BINOMIAL_K}, the \
         exact stepped sigmoid unit (SSU) and NReLU. Same initial weights, same mini-batch \
         order: CD-1, {epochs} epochs, batch 100, learning rate 0.05, momentum 0.5, weight \
         decay 1e-4, seed {seed}.\n\n\
         ## Classification\n\n\
         A multinomial logistic regression (`nrelu_rbm::logistic`: standardised features, \
         L2 1e-3, full-batch Nesterov gradient descent) is trained on the {train} \
         training images' features and tested on the {test} test images. RBM features are \
         the noise-free hidden means (σ(x), Kσ(x), Σσ(x − i + ½), max(0, x)).\n\n",
        seed = r.seed,
        epochs = r.epochs,
        train = thousands(TRAIN_ROWS),
        test = r.test.len() / 64,
    );
    s
}

/// The accuracy table and the standard error to read it with.
fn classification_md(r: &Results) -> String {
    let mut s = String::new();
    s.push_str(&classification_table(r));
    let n = (r.test.len() / 64) as f64;
    let mean = r.models.iter().map(|m| m.accuracy).sum::<f64>() / r.models.len() as f64;
    let _ = write!(
        s,
        "\nOne test image is {:.2} points of accuracy, and the binomial standard error of \
         an accuracy near {:.0} % on {n} images is {:.1} points: compare models across \
         a few seeds (`--seed`) before reading much into differences of a point or \
         two.\n",
        100.0 / n,
        100.0 * mean,
        100.0 * (mean * (1.0 - mean) / n).sqrt(),
    );
    s
}

/// The training, reconstruction and filter figures.
fn figures_md(r: &Results) -> String {
    let mut s = String::new();
    s.push_str(
        "\n![reconstruction error per epoch](training.png)\n\n\
         ![test digits and their reconstructions](reconstructions.png)\n\n\
         Reconstructions are the noise-free visible means σ(W h + b) given the noise-free \
         hidden means h.\n\n### Filters\n\nEach tile shows the 64 weights into one hidden \
         unit, scaled from its own minimum (black) to its own maximum (white).\n\n",
    );
    for m in &r.models {
        let f = unit_file_name(m.unit);
        let _ = writeln!(s, "![{} filters](filters-{f}.png)\n", m.unit);
    }
    s
}

/// The intensity-equivariance section: setup, tables and left-out rows.
fn equivariance_md(r: &Results) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "## Intensity equivariance\n\n\
         Three two-layer stacks ({a} then {b} hidden units, Gaussian visible units on \
         pixels / 16, {epochs} epochs per layer) map each test image v, and v scaled by \
         α ∈ {{0.25, 0.5, 2, 4}}, to features f. The relative error is the largest \
         ‖f(αv) − αf(v)‖ / ‖αf(v)‖ over test images; |Δcos| the largest change of \
         cos(f(v_i), f(v_j)) when v_i is replaced by αv_i, over all pairs of test images \
         i ≠ j.\n\n",
        a = STACK_WIDTHS[0],
        b = STACK_WIDTHS[1],
        epochs = r.epochs,
    );
    s.push_str(&equivariance_table(r));
    s.push_str(
        "\nWith NReLU units run noise-free (max(0, x)) and all biases zero, every layer is \
         positively homogeneous, f(αv) = αf(v) for α > 0, and cosines between features do \
         not depend on the images' intensities. Learned biases, or sigmoid units, break \
         this. For α a power of two the zero-bias stack is exact to the last bit (scaling by \
         2^k commutes with floating-point rounding); α = 3 in the detail below shows the \
         rounding-level error otherwise.\n\n",
    );
    s.push_str(&equivariance_detail(r));
    for st in &r.stacks {
        if st.zero_rows > 0 {
            let _ = writeln!(
                s,
                "\n({}: {} test images have all-zero features and are left out of the relative error.)",
                st.name, st.zero_rows
            );
        }
    }
    s
}

/// The NReLU-versus-SSU sampling section.
fn units_md(r: &Results) -> String {
    let mut s = String::new();
    let draws = thousands(r.draws.first().map_or(0, |d| d.ssu.len()));
    let _ = write!(
        s,
        "\n## NReLU as an approximation of the stepped sigmoid unit\n\n\
         {draws} draws of each unit at each x from the kernels' samplers. The SSU sum has \
         mean ≈ softplus(x) and variance ≈ σ(x); NReLU, max(0, x + N(0, σ(x))), is the \
         cheap approximation (see docs/math.md).\n\n"
    );
    s.push_str(&units_table(r));
    s.push_str("\n![sampled NReLU and SSU distributions](nrelu-vs-ssu.png)\n");
    s
}

// -------------------------------------------------------------------- run

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_split_is_a_fixed_permutation() {
        let p = permutation(1797, SPLIT_SEED);
        let mut sorted = p.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..1797).collect::<Vec<_>>());
        assert_eq!(p, permutation(1797, SPLIT_SEED));
        assert_ne!(p, permutation(1797, SPLIT_SEED + 1));
        let s = split_digits();
        assert_eq!(s.train_labels.len(), TRAIN_ROWS);
        assert_eq!(s.test_labels.len(), 1797 - TRAIN_ROWS);
        assert_eq!(s.train.len(), TRAIN_ROWS * 64);
        // Every class is in the test set.
        assert_eq!(class_examples(&s.test_labels).len(), 10);
    }

    #[test]
    fn relative_error_handles_zeros() {
        assert_eq!(relative_error(&[0.0, 0.0], &[0.0, 0.0]), 0.0);
        assert_eq!(relative_error(&[1.0], &[0.0]), f64::INFINITY);
        assert!((relative_error(&[2.0, 0.0], &[1.0, 0.0]) - 1.0).abs() < 1e-15);
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(7), "7");
        assert_eq!(thousands(450), "450");
        assert_eq!(thousands(1347), "1,347");
        assert_eq!(thousands(100_000), "100,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
