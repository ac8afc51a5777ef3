//! How close the stepped sigmoid sum is to softplus and to σ: the
//! deterministic f64 bounds behind Nair & Hinton's approximation
//! `Σ_{i≥1} σ(x − i + ½) ≈ softplus(x)` and `Σ σ_i(1 − σ_i) ≈ σ(x)`.
//!
//! Write `S(x) = Σ_{i≥1} σ(x − i + ½)` (the SSU mean, [`ssu_mean`]),
//! `V(x) = Σ σ_i(1 − σ_i) = S'(x)` (the SSU variance) and the errors
//! `E(x) = S(x) − softplus(x)`, `D(x) = V(x) − σ(x) = E'(x)`.
//!
//! **Symmetry.** `σ(a) = 1 − σ(−a)` turns the copies i ≤ 0 into `S(−x)`:
//! `S(x) − S(−x) = Σ_{i∈ℤ} (σ(x − i + ½) − 1{i ≤ 0}) =: Q(x)`, while
//! `softplus(x) − softplus(−x) = x`. Hence `E(x) − E(−x) = Q(x) − x`.
//!
//! **Poisson summation.** `Q'(x) = Σ_{i∈ℤ} σ'(x − i + ½)` is the logistic
//! density summed over a shifted lattice. Its Fourier transform is
//! `πω / sinh(πω)`, so `Q'(x) = 1 + 2 Σ_{k≥1} (−1)^k (2π²k / sinh 2π²k)
//! cos 2πkx` and, Q being odd,
//! `P(x) := Q(x) − x = Σ_{k≥1} (−1)^k (2π / sinh 2π²k) sin 2πkx`.
//! Its amplitude is `A = 2π/sinh(2π²) = 3.36e−8` (the k = 2 term is
//! 9e−17). So **E is even up to a periodic ripple of 3.4e−8**
//! ([`PERIODIC_AMPLITUDE`]), and D is odd up to `P'`, amplitude
//! `2π·A = 2.1e−7`.
//!
//! **The boundary term.** For x → −∞ every σ is ≈ e^a, so
//! `S(x) ≈ e^x Σ_{i≥1} e^{−i+½} = e^x e^{−½}/(1 − e^{−1})` against
//! `softplus(x) ≈ e^x`: `E(x) ≈ −c e^x` and `D(x) ≈ −c e^x`, with
//! `c = 1 − e^{−½}/(1 − e^{−1}) = 0.0405` ([`TAIL_CONSTANT`]). By the
//! symmetry, for x → +∞ `E(x) ≈ −c e^{−x} + P(x)` and
//! `D(x) ≈ +c e^{−x} + P'(x)`. (Equivalently: Euler–Maclaurin for the
//! midpoint rule at the end point t = 0 of `∫_0^∞ σ(x − t) dt =
//! softplus(x)` gives the leading `E ≈ −σ'(x)/24`, −0.0104 at x = 0.)
//!
//! **The bounds**, from a dense grid (step 1e−3 on [−40, 60]):
//! `sup |E| = 0.010578` at x = 0 ([`SOFTPLUS_BOUND`]) and
//! `sup |D| = 0.0041316` at x = ±1.28 ([`SIGMA_BOUND`]). Outside
//! [−20, 20] both errors are below `c e^{−20} + 2.2e−7 < 3e−7`.

pub use super::laws::{sigmoid, softplus, ssu_mean, ssu_variance};
use std::f64::consts::PI;

/// The documented bound on `|Σ_{i≥1} σ(x − i + ½) − softplus(x)|` over all
/// x (attained at x = 0: `Σ σ(½ − i) − ln 2 = −0.0105777`).
pub const SOFTPLUS_BOUND: f64 = 0.010_578;

/// The documented bound on `|Σ_{i≥1} σ_i(1 − σ_i) − σ(x)|` over all x
/// (attained at x ≈ ±1.28: 0.0041316).
pub const SIGMA_BOUND: f64 = 0.004_132;

/// `c = 1 − e^{−½}/(1 − e^{−1})`: `E(x) ≈ −c e^{−|x|}` away from 0.
pub const TAIL_CONSTANT: f64 = 0.040_482_654_960_542_82;

/// `A = 2π / sinh(2π²)`: the amplitude of the periodic part of E.
pub const PERIODIC_AMPLITUDE: f64 = 3.361_866_039_598_334_6e-8;

/// `E(x) = Σ_{i≥1} σ(x − i + ½) − softplus(x)`.
pub fn softplus_error(x: f64) -> f64 {
    ssu_mean(x) - softplus(x)
}

/// `D(x) = Σ_{i≥1} σ_i(1 − σ_i) − σ(x)`.
pub fn sigma_error(x: f64) -> f64 {
    ssu_variance(x) - sigmoid(x)
}

/// `P(x) = Σ_{k≥1} (−1)^k (2π / sinh 2π²k) sin 2πkx` (two terms; the
/// third is below 1e−25): the Poisson-summation prediction of
/// `E(x) − E(−x)`.
pub fn periodic_part(x: f64) -> f64 {
    (1..=2)
        .map(|k| {
            let k = f64::from(k);
            let sign = if k == 1.0 { -1.0 } else { 1.0 };
            sign * 2.0 * PI / (2.0 * PI * PI * k).sinh() * (2.0 * PI * k * x).sin()
        })
        .sum()
}

/// `P'(x)`: the Poisson-summation prediction of `D(x) + D(−x)`.
pub fn periodic_part_derivative(x: f64) -> f64 {
    (1..=2)
        .map(|k| {
            let k = f64::from(k);
            let sign = if k == 1.0 { -1.0 } else { 1.0 };
            sign * 4.0 * PI * PI * k / (2.0 * PI * PI * k).sinh() * (2.0 * PI * k * x).cos()
        })
        .sum()
}

/// The largest |f(x)| on the grid `lo, lo + step, …, hi` and where.
pub fn sup_on_grid(f: impl Fn(f64) -> f64, lo: f64, hi: f64, step: f64) -> (f64, f64) {
    let n = ((hi - lo) / step).round() as usize;
    (0..=n)
        .map(|i| lo + i as f64 * step)
        .map(|x| (f(x).abs(), x))
        .fold((0.0, lo), |a, b| if b.0 > a.0 { b } else { a })
}
