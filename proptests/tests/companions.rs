//! Power companions: the battery's own test functions, fed deliberately
//! wrong samplers, must reject them — at the same α share and the same
//! sample sizes as `samplers.rs`.
//!
//! For every (fault, test) pair the power is computed in advance
//! (`nrelu_rbm_proptests::power`: exact for binomial tests, a DKW lower
//! bound for KS tests, non-central χ² and normal approximations
//! otherwise). Every test whose power is at least 1 − 1e−6 must reject;
//! the others are printed with their power (e.g. NReLU at x = 8, where
//! √σ(8) and σ(8) differ by 1.7e−4: no feasible sample tells them apart).
//! Each companion also requires a minimum number of rejecting tests, so a
//! change to the battery cannot quietly make a fault undetectable.

use nrelu_rbm::verify::{Config, Family, Preset, run_with};
use nrelu_rbm_proptests::{Fault, Wrong, power};

/// Power required for a test to be asserted to reject.
const SURE: f64 = 1.0 - 1e-6;

fn companion(fault: Fault, families: &[Family], min_sure: usize) {
    let mut cfg = Config::new(Preset::Standard);
    cfg.families = families.to_vec();
    let alpha = cfg.budget().alpha_each;
    let seed = cfg.seed;
    let report = run_with(&cfg, |item, path| {
        Box::new(Wrong::new(path, seed, item, fault))
    });
    let mut sure = 0;
    let mut missed = Vec::new();
    println!("{fault:?}: alpha each = {alpha:.3e}");
    println!(
        "{:<28} {:<8} {:>9} {:>10} {:>12}  verdict",
        "test", "path", "n", "p-value", "power"
    );
    for r in &report.rows {
        let item = cfg
            .items()
            .into_iter()
            .find(|i| i.check == r.check)
            .expect("row of a planned item");
        let Some(pw) = power(fault, &item, alpha) else {
            continue;
        };
        println!(
            "{:<28} {:<8} {:>9} {:>10.3e} {:>12.9}  {}",
            r.check.name(),
            r.path.name(),
            r.outcome.n,
            r.outcome.p_value,
            pw,
            if r.passed { "accepted" } else { "REJECTED" }
        );
        if pw >= SURE {
            if r.path == cfg.paths[0] {
                sure += 1;
            }
            if r.passed {
                missed.push(format!("{} on {} (power {pw})", r.check.name(), r.path));
            }
        }
    }
    assert!(missed.is_empty(), "{fault:?} not rejected by: {missed:?}");
    assert!(
        sure >= min_sure,
        "{fault:?}: only {sure} tests have power >= {SURE}, want {min_sure}"
    );
}

#[test]
fn bernoulli_plus_001_is_rejected() {
    companion(Fault::BernoulliPlus001, &[Family::Bernoulli], 7);
}

#[test]
fn normal_sd_102_is_rejected() {
    companion(Fault::NormalSd102, &[Family::Normal], 3);
}

#[test]
fn nrelu_with_sd_sigma_is_rejected() {
    companion(
        Fault::NreluSdSigma,
        &[Family::Nrelu, Family::Moments, Family::Wasserstein],
        12,
    );
}

#[test]
fn nrelu_with_unit_noise_is_rejected() {
    companion(
        Fault::NreluUnitNoise,
        &[Family::Nrelu, Family::Moments, Family::Wasserstein],
        12,
    );
}

#[test]
fn ssu_with_integer_offsets_is_rejected() {
    companion(
        Fault::SsuIntegerOffsets,
        &[Family::Ssu, Family::Moments, Family::Wasserstein],
        17,
    );
}

#[test]
fn binomial_k_minus_one_is_rejected() {
    companion(Fault::BinomialKMinusOne, &[Family::Binomial], 5);
}

#[test]
fn gibbs_at_the_wrong_temperature_is_rejected() {
    companion(Fault::Temperature09, &[Family::Gibbs], 2);
}
