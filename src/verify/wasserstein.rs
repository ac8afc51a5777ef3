//! Wasserstein-1 distances between the NReLU law and the stepped-sigmoid
//! (SSU) law, exact in f64, and the sample-based test that the samplers
//! reproduce them.
//!
//! In one dimension `W1(P, Q) = ∫ |F_P(t) − F_Q(t)| dt`. Both laws live on
//! [0, ∞). The SSU law is a lattice law (on 0, 1, 2, …) with CDF `C_k` on
//! `[k, k + 1)`; the NReLU CDF is `Φ((t − x)/s)` for t ≥ 0 (s = √σ(x)). On
//! each unit interval the integral is closed-form through
//! `∫ Φ((t − x)/s) dt = s·Ψ((t − x)/s)`, `Ψ(u) = uΦ(u) + φ(u)`, split at
//! the one point `x + s Φ⁻¹(C_k)` where the two CDFs cross.
//!
//! # Separating the lattice from the shape
//! Every coupling of the continuous NReLU law N with a lattice law moves
//! each h to an integer, at cost at least `|h − round(h)|`; rounding
//! (monotone, hence an optimal coupling) attains it. So with `R = round(N)`:
//!
//! `W1(N, R) ≤ W1(N, SSU) ≤ W1(N, R) + W1(R, SSU)`.
//!
//! `W1(N, R) = E|h − round h|` is the **lattice** part: it tends to ¼ as x
//! grows (the rounding error becomes uniform on [−½, ½]). `W1(R, SSU)`
//! compares two lattice laws and is the **shape** part: large near x = 0
//! (where the NReLU atom at 0 and the SSU law differ most), small for large
//! x.

use super::laws::{Nrelu, normal_cdf, normal_pdf, normal_quantile, ssu_pmf};
use super::stats::{Outcome, z_test};

/// Ψ(u) = uΦ(u) + φ(u) = ∫_{−∞}^u Φ.
fn psi(u: f64) -> f64 {
    u * normal_cdf(u) + normal_pdf(u)
}

/// The last integer k at which the NReLU CDF may still differ from 1 by
/// more than 1e−30 (12 standard deviations above x).
fn nrelu_end(law: &Nrelu) -> usize {
    (law.x + 12.0 * law.sd).ceil().max(0.0) as usize + 1
}

/// The lattice CDF `C_k = P(L ≤ k)` at k = 0, 1, … from a pmf.
pub fn lattice_cdf(pmf: &[f64]) -> Vec<f64> {
    let mut acc = 0.0;
    pmf.iter()
        .map(|p| {
            acc += p;
            acc.min(1.0)
        })
        .collect()
}

/// The point in `[k, k + 1]` where the NReLU CDF crosses the level `c`
/// (clamped to the interval).
fn crossing(law: &Nrelu, k: usize, c: f64) -> f64 {
    let (lo, hi) = (k as f64, k as f64 + 1.0);
    if c <= 0.0 {
        return lo;
    }
    if c >= 1.0 {
        return hi;
    }
    (law.x + law.sd * normal_quantile(c)).clamp(lo, hi)
}

/// `W1` between the NReLU law `law` and a law on the integers 0, 1, …
/// with CDF `cdf[k]` (1 beyond the slice).
pub fn w1_nrelu_lattice(law: &Nrelu, cdf: &[f64]) -> f64 {
    let end = nrelu_end(law).max(cdf.len());
    let s = law.sd;
    // ∫_a^b Φ((t − x)/s) dt
    let int_phi = |a: f64, b: f64| s * (psi((b - law.x) / s) - psi((a - law.x) / s));
    let mut w = 0.0;
    for k in 0..end {
        let c = cdf.get(k).copied().unwrap_or(1.0);
        let t = crossing(law, k, c);
        let (lo, hi) = (k as f64, k as f64 + 1.0);
        // Below the crossing F_N < c, above it F_N > c.
        // Each piece is non-negative; clamp the rounding of nearly equal
        // terms.
        w += (c * (t - lo) - int_phi(lo, t)).max(0.0);
        w += (int_phi(t, hi) - c * (hi - t)).max(0.0);
    }
    w
}

/// The CDF of round(h), h ~ NReLU at its integers: `P(round h ≤ k) =
/// F_N(k + ½)`.
pub fn rounded_cdf(law: &Nrelu) -> Vec<f64> {
    (0..nrelu_end(law))
        .map(|k| normal_cdf((k as f64 + 0.5 - law.x) / law.sd))
        .collect()
}

/// `W1` between two laws on the integers: `Σ_k |C1_k − C2_k|`.
pub fn w1_lattices(a: &[f64], b: &[f64]) -> f64 {
    let end = a.len().max(b.len());
    (0..end)
        .map(|k| {
            let ca = a.get(k).copied().unwrap_or(1.0);
            let cb = b.get(k).copied().unwrap_or(1.0);
            (ca - cb).abs()
        })
        .sum()
}

/// The exact distances at one x.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct W1Decomposition {
    /// The pre-activation.
    pub x: f64,
    /// `W1(NReLU, SSU)`.
    pub nrelu_ssu: f64,
    /// `W1(NReLU, round NReLU) = E|h − round h|`: the lattice part.
    pub lattice: f64,
    /// `W1(round NReLU, SSU)`: the shape part.
    pub shape: f64,
}

/// [`W1Decomposition`] at `x`, exact in f64.
pub fn w1_decomposition(x: f64) -> W1Decomposition {
    let law = Nrelu::at(x);
    let ssu = lattice_cdf(&ssu_pmf(x));
    let rounded = rounded_cdf(&law);
    W1Decomposition {
        x,
        nrelu_ssu: w1_nrelu_lattice(&law, &ssu),
        lattice: w1_nrelu_lattice(&law, &rounded),
        shape: w1_lattices(&rounded, &ssu),
    }
}

/// `W1` between the empirical laws of two samples of equal size, both
/// sorted ascending: `(1/n) Σ |a_(i) − b_(i)|`.
pub fn w1_empirical(a: &[f32], b: &[f32]) -> f64 {
    assert_eq!(a.len(), b.len(), "w1_empirical: sample sizes differ");
    let s: f64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| (f64::from(x) - f64::from(y)).abs())
        .sum();
    s / a.len() as f64
}

/// The test that the empirical `W1` between `n` NReLU draws and `n` SSU
/// draws at `x` matches the exact `W1(NReLU, SSU)` (both samples are
/// sorted in place).
///
/// Where the two CDFs differ except at isolated crossings,
/// `Ŵ − W ≈ ∫ sgn(F_N − F_S)·[(F̂_N − F_N) − (F̂_S − F_S)] dt`
/// (the delta method; the remainder near each crossing is O(1/n)), and
/// `∫ sgn(F_N − F_S)(t) 1{y ≤ t} dt = G(∞) − G(y)` with
/// `G(y) = ∫_0^y sgn(F_N − F_S)`. So `Ŵ − W` is asymptotically normal
/// with variance `(Var G(h) + Var G(m))/n`, estimated from the samples
/// themselves, and `z = (Ŵ − W)/sd` is referred to N(0, 1).
pub fn w1_test(x: f64, nrelu: &mut [f32], ssu: &mut [f32]) -> Outcome {
    let law = Nrelu::at(x);
    let cdf = lattice_cdf(&ssu_pmf(x));
    let exact = w1_nrelu_lattice(&law, &cdf);
    nrelu.sort_unstable_by(f32::total_cmp);
    ssu.sort_unstable_by(f32::total_cmp);
    let got = w1_empirical(nrelu, ssu);
    let g = SignIntegral::new(&law, &cdf);
    let var = |s: &[f32]| -> f64 {
        let n = s.len() as f64;
        let m = s.iter().map(|&y| g.at(f64::from(y))).sum::<f64>() / n;
        s.iter()
            .map(|&y| (g.at(f64::from(y)) - m).powi(2))
            .sum::<f64>()
            / (n - 1.0)
    };
    let n = nrelu.len();
    let sd = ((var(nrelu) + var(ssu)) / n as f64).sqrt();
    let mut o = z_test(
        (got - exact) / sd,
        n,
        format!("W1 {got:.5} vs exact {exact:.5} (sd {sd:.1e})"),
    );
    o.statistic_name = "z(W1)";
    o
}

/// The standard deviation of [`w1_test`]'s `Ŵ` with `n` draws of each
/// law when the draws come from `nrelu` and from the lattice law `pmf`
/// (the sign function is the null one, at x, as in the test): the
/// delta-method variance `(Var G(h) + Var G(m))/n`, by quadrature over
/// the NReLU law and summation over the pmf. For power calculations.
pub fn w1_test_sd(x: f64, nrelu: &Nrelu, pmf: &[f64], n: usize) -> f64 {
    let law0 = Nrelu::at(x);
    let g = SignIntegral::new(&law0, &lattice_cdf(&ssu_pmf(x)));
    // NReLU: the atom at 0 (G(0) = 0) plus the density on (0, ∞).
    let hi = nrelu.x + 12.0 * nrelu.sd;
    let steps = 200_000;
    let h = hi.max(1.0) / steps as f64;
    let (mut m1, mut m2) = (0.0, 0.0);
    for i in 0..steps {
        let (a, b) = (i as f64 * h, (i + 1) as f64 * h);
        let p = nrelu.cdf(b) - nrelu.cdf(a);
        let v = g.at(0.5 * (a + b));
        m1 += p * v;
        m2 += p * v * v;
    }
    let var_n = m2 - m1 * m1;
    let (mut s1, mut s2) = (0.0, 0.0);
    for (k, &p) in pmf.iter().enumerate() {
        let v = g.at(k as f64);
        s1 += p * v;
        s2 += p * v * v;
    }
    ((var_n + s2 - s1 * s1) / n as f64).sqrt()
}

/// `G(y) = ∫_0^y sgn(F_N(t) − C(t)) dt` for an NReLU law and a lattice
/// CDF: −1 below each crossing point of a unit interval, +1 above it.
struct SignIntegral {
    cross: Vec<f64>,
    at_integers: Vec<f64>,
}

impl SignIntegral {
    fn new(law: &Nrelu, cdf: &[f64]) -> SignIntegral {
        let end = nrelu_end(law).max(cdf.len());
        let cross: Vec<f64> = (0..end)
            .map(|k| crossing(law, k, cdf.get(k).copied().unwrap_or(1.0)))
            .collect();
        let mut at_integers = vec![0.0f64; end + 1];
        for k in 0..end {
            let t = cross[k];
            at_integers[k + 1] = at_integers[k] - (t - k as f64) + (k as f64 + 1.0 - t);
        }
        SignIntegral { cross, at_integers }
    }

    fn at(&self, y: f64) -> f64 {
        if y <= 0.0 {
            return 0.0;
        }
        let end = self.cross.len();
        let k = (y.floor() as usize).min(end);
        if k == end {
            return self.at_integers[end];
        }
        let t = self.cross[k];
        self.at_integers[k] - (y.min(t) - k as f64) + (y - t).max(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Trapezoid rule on a fine grid for ∫|F_N − C| as an independent check.
    fn w1_by_quadrature(law: &Nrelu, cdf: &[f64]) -> f64 {
        let end = nrelu_end(law).max(cdf.len()) as f64;
        let steps = (end * 20_000.0) as usize;
        let h = end / steps as f64;
        let mut w = 0.0;
        for i in 0..steps {
            let t = (i as f64 + 0.5) * h;
            let c = cdf.get(t.floor() as usize).copied().unwrap_or(1.0);
            w += (law.cdf(t) - c).abs() * h;
        }
        w
    }

    #[test]
    fn closed_form_matches_quadrature() {
        for x in [-2.0, -0.3, 0.0, 1.0, 3.7, 10.0] {
            let law = Nrelu::at(x);
            let ssu = lattice_cdf(&ssu_pmf(x));
            let a = w1_nrelu_lattice(&law, &ssu);
            let b = w1_by_quadrature(&law, &ssu);
            assert!((a - b).abs() < 1e-7, "x={x}: {a} vs {b}");
        }
    }

    #[test]
    fn decomposition_inequalities_hold() {
        for x in [-3.0, -1.0, 0.0, 0.5, 2.0, 5.0, 20.0] {
            let d = w1_decomposition(x);
            assert!(d.lattice <= d.nrelu_ssu + 1e-12, "{d:?}");
            assert!(d.nrelu_ssu <= d.lattice + d.shape + 1e-12, "{d:?}");
        }
    }
}
