//! One step of `Rbm::gibbs` on Gaussian visible units against its exact
//! law: the visible samples must carry their N(0, 1) noise.
//!
//! From a fixed visible row v₀, one step draws h ~ p(h | v₀) and then
//! v ~ N(b + Wh, I), so v follows the Gaussian mixture
//! Σ_h p(h | v₀) N(b + Wh, I), and its projection uᵀv on a fixed direction
//! the 1-D mixture Σ_h p(h | v₀) N(uᵀ(b + Wh), ‖u‖²), whose CDF is exact
//! (the hidden pmfs from `verify::laws`). N chains from v₀ are tested with
//! the one-sample KS test at α = 0.001 each, fixed seed, for Bernoulli,
//! binomial(3) and stepped sigmoid hidden units (4 visible, 3 hidden).
//!
//! Power companions, built from the library's own pieces: the noise-free
//! reconstruction that training uses (`visible_means` of the hidden
//! samples: the mixture's atoms without their noise), and noise of
//! standard deviation 1.3 instead of 1. Their distance δ = sup |F₁ − F₀|
//! is computed (on a grid and at the atoms: a lower bound, so the power
//! bound is conservative), the DKW bound on the KS test's power
//! (`verify::power`) must be at least 1 − 1e−6, and they must be rejected.

use nrelu_rbm::kernels::Stream;
use nrelu_rbm::units::HiddenUnit;
use nrelu_rbm::verify::laws::normal_cdf;
use nrelu_rbm::verify::power::ks_power_lower_bound;
use nrelu_rbm::verify::stats::ks_test;
use nrelu_rbm::{GibbsConfig, Rbm, VisibleUnit};
use nrelu_rbm_proptests::models::{UNITS, hidden_pmf, random_model};
use nrelu_rbm_proptests::on_every_path;

const V: usize = 4;
const H: usize = 3;
/// Chains per test.
const N: usize = 50_000;
/// Significance level of each KS test.
const ALPHA: f64 = 1e-3;
/// Power required before a companion must reject.
const SURE: f64 = 1.0 - 1e-6;
const SEED: u64 = 77;
/// The start of every chain.
const V0: [f32; V] = [1.0, -0.5, 0.3, 2.0];
/// The direction of the projection.
const U: [f64; V] = [0.5, -0.3, 0.7, 0.4];

/// A random 4 × 3 Gaussian-visible model: weights N(0, 0.8²), biases
/// N(0, 0.5²), from a fixed stream.
fn model(unit: HiddenUnit) -> Rbm {
    random_model(VisibleUnit::Gaussian, unit, (V, H), Stream::new(41, 3))
}

/// The law of uᵀv after one step from v₀: the components (weight,
/// mean uᵀ(b + Wh)) of the mixture, one per hidden state.
fn projected_mixture(rbm: &Rbm) -> Vec<(f64, f64)> {
    let f = |x: &[f32]| x.iter().map(|&v| f64::from(v)).collect::<Vec<f64>>();
    let (w, b, c) = (
        f(rbm.weights()),
        f(rbm.visible_bias()),
        f(rbm.hidden_bias()),
    );
    let pmfs: Vec<Vec<(f64, f64)>> = (0..H)
        .map(|j| {
            let x = c[j] + (0..V).map(|i| f64::from(V0[i]) * w[i * H + j]).sum::<f64>();
            hidden_pmf(rbm.hidden(), x)
        })
        .collect();
    let ub: f64 = U.iter().zip(&b).map(|(u, b)| u * b).sum();
    // uᵀW: the projection's slope per hidden unit.
    let uw: Vec<f64> = (0..H)
        .map(|j| (0..V).map(|i| U[i] * w[i * H + j]).sum())
        .collect();
    let mut out = Vec::new();
    let mut idx = [0usize; H];
    loop {
        let q: f64 = (0..H).map(|j| pmfs[j][idx[j]].1).product();
        let m = ub + (0..H).map(|j| uw[j] * pmfs[j][idx[j]].0).sum::<f64>();
        out.push((q, m));
        let mut j = 0;
        while j < H {
            idx[j] += 1;
            if idx[j] < pmfs[j].len() {
                break;
            }
            idx[j] = 0;
            j += 1;
        }
        if j == H {
            break;
        }
    }
    let total: f64 = out.iter().map(|c| c.0).sum();
    assert!(
        (total - 1.0).abs() < 1e-12,
        "mixture weights sum to {total}"
    );
    out
}

fn norm_u() -> f64 {
    U.iter().map(|u| u * u).sum::<f64>().sqrt()
}

/// The CDF of the mixture with noise standard deviation `sd` per visible
/// unit (0: the atoms alone, right-continuous).
fn mixture_cdf(mix: &[(f64, f64)], sd: f64, t: f64) -> f64 {
    let s = sd * norm_u();
    mix.iter()
        .map(|&(q, m)| {
            q * if s > 0.0 {
                normal_cdf((t - m) / s)
            } else {
                f64::from(u8::from(t >= m))
            }
        })
        .sum()
}

/// sup_t |F_sd(t) − F_1(t)|, from below: on a fine grid, and on both
/// sides of every atom.
fn distance(mix: &[(f64, f64)], sd: f64) -> f64 {
    let lo = mix.iter().map(|c| c.1).fold(f64::INFINITY, f64::min) - 10.0;
    let hi = mix.iter().map(|c| c.1).fold(f64::NEG_INFINITY, f64::max) + 10.0;
    let grid = (0..=20_000).map(|k| lo + (hi - lo) * k as f64 / 20_000.0);
    let atoms = mix
        .iter()
        .flat_map(|c| [c.1 - 1e-9, c.1 + 1e-9])
        .collect::<Vec<_>>();
    grid.chain(atoms)
        .map(|t| (mixture_cdf(mix, sd, t) - mixture_cdf(mix, 1.0, t)).abs())
        .fold(0.0, f64::max)
}

/// uᵀv of each row.
fn projections(rows: &[f32]) -> Vec<f32> {
    rows.chunks_exact(V)
        .map(|r| {
            r.iter()
                .zip(&U)
                .map(|(&v, u)| f64::from(v) * u)
                .sum::<f64>() as f32
        })
        .collect()
}

fn starts() -> Vec<f32> {
    V0.repeat(N)
}

/// One `gibbs` step from v₀ follows the exact Gaussian mixture (α = 0.001
/// each).
#[test]
fn one_gaussian_step_follows_the_exact_mixture() {
    on_every_path("one_gaussian_step_follows_the_exact_mixture", || {
        for unit in UNITS {
            let rbm = model(unit);
            let mix = projected_mixture(&rbm);
            let cfg = GibbsConfig::new(1, SEED).with_threads(0);
            let rows = rbm.gibbs(&starts(), &cfg).unwrap();
            let o = ks_test(&mut projections(&rows), |t| mixture_cdf(&mix, 1.0, t));
            println!(
                "{unit}: {} components, D = {:.2e} ({}), p = {:.3e}",
                mix.len(),
                o.statistic,
                o.detail,
                o.p_value
            );
            assert!(o.p_value > ALPHA, "{unit}: rejected: {o:?}");
        }
    });
}

/// Power companions: the noise-free reconstruction, and noise of standard
/// deviation 1.3, are rejected by the same test.
#[test]
fn noise_free_or_wrongly_scaled_visible_samples_are_rejected() {
    for unit in UNITS {
        let rbm = model(unit);
        let mix = projected_mixture(&rbm);
        let means = rbm
            .visible_means(&rbm.hidden_samples(&starts(), SEED).unwrap())
            .unwrap();
        let mut z = vec![0f32; means.len()];
        Stream::new(SEED, 1).standard_normal(&mut z);
        for (sd, name) in [(0.0, "noise-free"), (1.3, "noise sd 1.3")] {
            let rows: Vec<f32> = means
                .iter()
                .zip(&z)
                .map(|(&m, &n)| m + sd as f32 * n)
                .collect();
            let delta = distance(&mix, sd);
            let power = ks_power_lower_bound(N, delta, ALPHA);
            let o = ks_test(&mut projections(&rows), |t| mixture_cdf(&mix, 1.0, t));
            println!(
                "{unit}, {name}: delta {delta:.4}, power >= {power:.9}, p = {:.3e}",
                o.p_value
            );
            assert!(power >= SURE, "{unit}, {name}: power only {power}");
            assert!(o.p_value <= ALPHA, "{unit}, {name}: not rejected: {o:?}");
        }
    }
}
