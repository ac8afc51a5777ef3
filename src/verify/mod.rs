//! Statistical verification: every sampler against its exact law.
//!
//! This module is shared by the statistical test suite (the
//! `nrelu-rbm-proptests` crate) and by `rbm verify`, so a user checking a
//! new CPU or build runs exactly the code the test suite runs.
//!
//! * [`laws`]: the exact laws in f64 — Bernoulli, normal (statrs), NReLU
//!   (atom Φ(−x/√σ(x)) at 0 and a truncated normal), binomial, and the
//!   stepped sigmoid's Poisson-binomial law by dynamic programming;
//! * [`stats`]: the exact two-sided binomial test, the one-sample KS test
//!   (exact Marsaglia–Tsang–Wang law for n ≤ 1000, Kolmogorov's limit law
//!   with Stephens' correction above), chi-square with cells pooled to
//!   ≥ 5 expected, and z tests;
//! * [`wasserstein`]: W1(NReLU, SSU) exactly, its lattice/shape
//!   decomposition, and the sample-based test;
//! * [`bounds`]: the deterministic f64 bounds `|Σσ(x − i + ½) −
//!   softplus(x)| ≤ 0.010578` and `|Σσ_i(1 − σ_i) − σ(x)| ≤ 0.004132`, with
//!   their explanation;
//! * [`gibbs`]: exact joint laws of tiny RBMs and the chi-square test of a
//!   Gibbs run with exactly bounded autocorrelation;
//! * [`exact`]: exact log-likelihoods and gradients by enumeration;
//! * [`power`]: power of each test against a given wrong law;
//! * [`battery`] and [`run`]: the battery of sampler tests on every kernel
//!   path, with a Bonferroni split of the family-wise α.
//!
//! ```
//! use nrelu_rbm::verify::{Config, Family, Preset, run};
//! let mut cfg = Config::new(Preset::Quick);
//! cfg.families = vec![Family::Bernoulli];
//! let report = run(&cfg);
//! assert!(report.passed(), "{report}");
//! ```

pub mod battery;
pub mod bounds;
pub mod exact;
pub mod gibbs;
pub mod laws;
pub mod power;
pub mod stats;
pub mod wasserstein;

pub use battery::{Check, Family, Item, Preset, plan, run_item};
pub use stats::Outcome;

use crate::kernels::{Binomial, Kernels, Path, Stream};
use rayon::prelude::*;
use std::fmt;
use std::time::Instant;

/// The samplers under test. [`KernelSamplers`] runs the kernels on one
/// path; the test suite wraps deliberately wrong samplers in it to prove
/// that each test can fail.
///
/// Each method fills `out` (for the input-driven samplers, one draw per
/// element of `x`).
pub trait Samplers {
    /// Standard normal draws.
    fn normal(&mut self, out: &mut [f32]);
    /// Bernoulli(σ(x)) draws.
    fn bernoulli(&mut self, x: &[f32], out: &mut [f32]);
    /// NReLU draws `max(0, x + √σ(x)·z)`.
    fn nrelu(&mut self, x: &[f32], out: &mut [f32]);
    /// Binomial(K, σ(x)) draws.
    fn binomial(&mut self, k: u32, x: &[f32], out: &mut [f32]);
    /// Exact stepped sigmoid draws.
    fn ssu(&mut self, x: &[f32], out: &mut [f32]);
}

/// The kernels of one path drawing from one stream.
#[derive(Clone, Debug, PartialEq)]
pub struct KernelSamplers {
    /// The kernels.
    pub kernels: Kernels,
    /// The stream they draw from.
    pub stream: Stream,
}

impl KernelSamplers {
    /// The kernels of `path` on `Stream::new(seed, stream_id)`, or `None`
    /// if this CPU cannot run `path`.
    pub fn new(path: Path, seed: u64, stream_id: u64) -> Option<KernelSamplers> {
        Some(KernelSamplers {
            kernels: Kernels::new(path)?,
            stream: Stream::new(seed, stream_id),
        })
    }

    /// The samplers for `item` on `path`: the item's own stream.
    pub fn for_item(path: Path, seed: u64, item: &Item) -> Option<KernelSamplers> {
        KernelSamplers::new(path, seed, item.check.stream_id())
    }

    /// Uniform [0, 1) draws (24-bit) from the same stream.
    pub fn uniform(&mut self, out: &mut [f32]) {
        self.kernels.uniform(&mut self.stream, out)
    }
}

impl Samplers for KernelSamplers {
    fn normal(&mut self, out: &mut [f32]) {
        self.kernels.standard_normal(&mut self.stream, out)
    }
    fn bernoulli(&mut self, x: &[f32], out: &mut [f32]) {
        self.kernels.bernoulli(x, out, &mut self.stream)
    }
    fn nrelu(&mut self, x: &[f32], out: &mut [f32]) {
        self.kernels.nrelu(x, out, &mut self.stream)
    }
    fn binomial(&mut self, k: u32, x: &[f32], out: &mut [f32]) {
        let b = Binomial::new(k).expect("the battery's binomial K is in range");
        self.kernels.binomial(b, x, out, &mut self.stream)
    }
    fn ssu(&mut self, x: &[f32], out: &mut [f32]) {
        self.kernels.ssu(x, out, &mut self.stream)
    }
}

/// The family-wise significance level of the suite and of `rbm verify`:
/// the probability that a correct build fails anywhere is at most 0.001.
pub const DEFAULT_ALPHA: f64 = 0.001;

/// The default seed (every check draws from `Stream::new(seed,
/// check.stream_id())`).
pub const DEFAULT_SEED: u64 = 20_100_621;

/// What [`run`] runs.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Sample sizes.
    pub preset: Preset,
    /// Seed of every stream.
    pub seed: u64,
    /// Family-wise α, split by Bonferroni over the whole battery × paths.
    pub alpha: f64,
    /// Kernel paths to test (default: all this CPU runs).
    pub paths: Vec<Path>,
    /// Families to run (default: all). The budget is always that of the
    /// whole battery, so a partial run tests at the same per-test α.
    pub families: Vec<Family>,
}

impl Config {
    /// Every family on every available path, seed [`DEFAULT_SEED`], α
    /// [`DEFAULT_ALPHA`].
    pub fn new(preset: Preset) -> Config {
        Config {
            preset,
            seed: DEFAULT_SEED,
            alpha: DEFAULT_ALPHA,
            paths: Path::available(),
            families: Family::ALL.to_vec(),
        }
    }

    /// The items this configuration runs.
    pub fn items(&self) -> Vec<Item> {
        plan(self.preset)
            .into_iter()
            .filter(|i| self.families.contains(&i.check.family()))
            .collect()
    }

    /// The Bonferroni budget.
    pub fn budget(&self) -> Budget {
        Budget::new(self.alpha, plan(self.preset).len(), self.paths.len())
    }
}

/// The family-wise error budget: α split equally (Bonferroni) over every
/// test of the battery on every path.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Budget {
    /// Family-wise α.
    pub alpha: f64,
    /// Tests in the battery.
    pub checks: usize,
    /// Kernel paths.
    pub paths: usize,
    /// α of each test: `alpha / (checks × paths)`.
    pub alpha_each: f64,
}

impl Budget {
    /// The split of `alpha` over `checks × paths` tests.
    pub fn new(alpha: f64, checks: usize, paths: usize) -> Budget {
        Budget {
            alpha,
            checks,
            paths,
            alpha_each: alpha / (checks * paths).max(1) as f64,
        }
    }
}

impl fmt::Display for Budget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "family-wise alpha = {} (Bonferroni over {} tests x {} paths = {}): each test at alpha = {:.3e}",
            self.alpha,
            self.checks,
            self.paths,
            self.checks * self.paths,
            self.alpha_each
        )
    }
}

/// One test on one path.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// The check.
    pub check: Check,
    /// The path its samples came from.
    pub path: Path,
    /// Statistic and p-value.
    pub outcome: Outcome,
    /// The test's α.
    pub alpha: f64,
    /// `p-value > alpha`.
    pub passed: bool,
    /// Wall time.
    pub seconds: f64,
}

/// The result of [`run`].
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// The preset run.
    pub preset: Preset,
    /// The seed.
    pub seed: u64,
    /// The α budget.
    pub budget: Budget,
    /// One row per item and path, in plan order then path order.
    pub rows: Vec<Row>,
    /// Wall time of the whole run.
    pub seconds: f64,
}

impl Report {
    /// Rows that rejected.
    pub fn failures(&self) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(|r| !r.passed)
    }

    /// Whether no test rejected.
    pub fn passed(&self) -> bool {
        self.rows.iter().all(|r| r.passed)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<28} {:<8} {:>9} {:>6} {:>13} {:>10} {:>9}  {:<7} detail",
            "test", "path", "n", "stat", "value", "p-value", "alpha", "verdict"
        )?;
        for r in &self.rows {
            writeln!(
                f,
                "{:<28} {:<8} {:>9} {:>6} {:>13.6e} {:>10.3e} {:>9.2e}  {:<7} {}",
                r.check.name(),
                r.path.name(),
                r.outcome.n,
                r.outcome.statistic_name,
                r.outcome.statistic,
                r.outcome.p_value,
                r.alpha,
                if r.passed { "pass" } else { "FAIL" },
                r.outcome.detail
            )?;
        }
        let failed = self.failures().count();
        writeln!(f, "{}", self.budget)?;
        write!(
            f,
            "preset {}, seed {}: {} of {} tests passed, {} failed ({:.1} s)",
            self.preset.name(),
            self.seed,
            self.rows.len() - failed,
            self.rows.len(),
            failed,
            self.seconds
        )
    }
}

/// Runs the battery on the kernels: every item of `config` on every path
/// of `config`, in parallel (rayon), each from its own fixed stream.
pub fn run(config: &Config) -> Report {
    run_with(config, |item, path| {
        Box::new(
            KernelSamplers::for_item(path, config.seed, item)
                .unwrap_or_else(|| panic!("kernel path {path} is not available")),
        )
    })
}

/// [`run`] with samplers made by `make(item, path)`: the test suite passes
/// deliberately wrong samplers to show that each test rejects them.
pub fn run_with<F>(config: &Config, make: F) -> Report
where
    F: Fn(&Item, Path) -> Box<dyn Samplers> + Sync,
{
    let start = Instant::now();
    let budget = config.budget();
    let jobs: Vec<(Item, Path)> = config
        .items()
        .into_iter()
        .flat_map(|i| config.paths.iter().map(move |&p| (i, p)))
        .collect();
    let rows = jobs
        .par_iter()
        .map(|&(item, path)| {
            let t = Instant::now();
            let mut s = make(&item, path);
            let outcome = run_item(&item, s.as_mut());
            Row {
                check: item.check,
                path,
                passed: outcome.p_value > budget.alpha_each,
                alpha: budget.alpha_each,
                outcome,
                seconds: t.elapsed().as_secs_f64(),
            }
        })
        .collect();
    Report {
        preset: config.preset,
        seed: config.seed,
        budget,
        rows,
        seconds: start.elapsed().as_secs_f64(),
    }
}
