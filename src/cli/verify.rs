//! `rbm verify`: runs the statistical battery of [`crate::verify`] on every
//! kernel path of this CPU and prints a table (test, path, sample size,
//! statistic, p-value, α, verdict) and the family-wise error budget.
//!
//! This is how a user checks a new CPU or a new build: every sampler
//! (Bernoulli, normal, NReLU, binomial, stepped sigmoid) is tested against
//! its exact law, plus Gibbs chains on tiny RBMs against their exact joint
//! laws, at a family-wise α of 0.001 split by Bonferroni over all tests and
//! paths. Two deterministic f64 bounds (stepped sigmoid sum against
//! softplus and σ) are checked too. The exit status is 0 if everything
//! passed and 1 if any test rejected (see `docs/statistics.md`).
//!
//! Sample sizes: `--quick` is 1/16 of the test suite's (a few seconds,
//! much less power), the default is the test suite's, `--full` is 6 times
//! it (Gibbs chains 3 times): about 40 s on two idle cores.

use super::CliError;
use crate::verify::bounds::{
    SIGMA_BOUND, SOFTPLUS_BOUND, sigma_error, softplus_error, sup_on_grid,
};
use crate::verify::{Config, DEFAULT_SEED, Preset, Report, run as run_battery};
use std::io::{self, Write};

/// Options of `rbm verify`.
#[derive(Clone, Debug, clap::Args)]
pub struct VerifyArgs {
    /// Small samples: a smoke test of a few seconds (much less power)
    #[arg(long, conflicts_with = "full")]
    pub quick: bool,
    /// Large samples: 6x the test suite's (about 40 s on 2 idle cores)
    #[arg(long)]
    pub full: bool,
    /// Seed of every random stream (each test draws from its own stream)
    #[arg(long, value_name = "S", default_value_t = DEFAULT_SEED)]
    pub seed: u64,
}

/// A deterministic check: a supremum over a grid against its bound.
struct Bound {
    what: &'static str,
    sup: f64,
    at: f64,
    bound: f64,
}

impl Bound {
    fn passed(&self) -> bool {
        self.sup <= self.bound
    }
}

/// The two documented bounds, on a grid of step 1e-3 over [−40, 60].
fn bounds() -> [Bound; 2] {
    let (sup, at) = sup_on_grid(softplus_error, -40.0, 60.0, 1e-3);
    let (sup2, at2) = sup_on_grid(sigma_error, -40.0, 60.0, 1e-3);
    [
        Bound {
            what: "sup_x |sum_i sigma(x-i+1/2) - softplus(x)|",
            sup,
            at,
            bound: SOFTPLUS_BOUND,
        },
        Bound {
            what: "sup_x |sum_i sigma_i(1-sigma_i) - sigma(x)|",
            sup: sup2,
            at: at2,
            bound: SIGMA_BOUND,
        },
    ]
}

/// Runs `rbm verify`.
///
/// # Errors
/// An error with exit status 3 if any test rejected or a
/// bound failed; [`CliError::Io`] (exit status 1) if stdout cannot be
/// written.
pub fn run(args: &VerifyArgs) -> Result<(), CliError> {
    let preset = if args.quick {
        Preset::Quick
    } else if args.full {
        Preset::Full
    } else {
        Preset::Standard
    };
    let mut cfg = Config::new(preset);
    cfg.seed = args.seed;
    let out = io::stdout();
    let mut out = out.lock();
    let paths: Vec<&str> = cfg.paths.iter().map(|p| p.name()).collect();
    let write_err = |e| CliError::io("cannot write to stdout", e);
    writeln!(
        out,
        "rbm verify: {} tests x {} paths ({}), preset {}, seed {}",
        cfg.items().len(),
        cfg.paths.len(),
        paths.join(", "),
        preset.name(),
        cfg.seed
    )
    .and_then(|()| out.flush())
    .map_err(write_err)?;
    let report = run_battery(&cfg);
    let bounds = bounds();
    writeln!(out, "{report}").map_err(write_err)?;
    for b in &bounds {
        writeln!(
            out,
            "deterministic: {} = {:.7} (at x = {:.3}) <= {}: {}",
            b.what,
            b.sup,
            b.at,
            b.bound,
            if b.passed() { "pass" } else { "FAIL" }
        )
        .map_err(write_err)?;
    }
    verdict(&report, bounds.iter().filter(|b| !b.passed()).count())
}

/// `Ok` if nothing failed, else the one-line error of exit status 3.
fn verdict(report: &Report, failed_bounds: usize) -> Result<(), CliError> {
    let failed = report.failures().count();
    if failed == 0 && failed_bounds == 0 {
        return Ok(());
    }
    Err(CliError::VerifyFailed(format!(
        "{failed} of {} statistical tests rejected at family-wise alpha {} and {failed_bounds} of 2 deterministic bounds failed; see the table above",
        report.rows.len(),
        report.budget.alpha
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::{Family, Preset};

    #[test]
    fn a_failed_test_is_an_error_with_exit_status_3() {
        let mut cfg = Config::new(Preset::Quick);
        cfg.families = vec![Family::Bernoulli];
        cfg.paths.truncate(1);
        let mut report = run_battery(&cfg);
        assert!(verdict(&report, 0).is_ok());
        report.rows[0].passed = false;
        let err = verdict(&report, 0).unwrap_err();
        assert_eq!(err.exit_code(), 3);
        let msg = err.to_string();
        assert!(
            msg.starts_with("verification failed: 1 of 7 statistical tests rejected"),
            "{msg}"
        );
        assert!(!msg.contains('\n'));
        assert_eq!(verdict(&run_battery(&cfg), 1).unwrap_err().exit_code(), 3);
    }

    #[test]
    fn the_documented_bounds_hold() {
        assert!(bounds().iter().all(Bound::passed));
    }
}
