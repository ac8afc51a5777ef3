//! The power of each test against a given wrong law: how sure it is to
//! reject a deliberately wrong sampler at the sample size and α it runs
//! with.
//!
//! | test | power computed by |
//! |---|---|
//! | binomial test | exactly: the acceptance region under the null law, its probability under the wrong law (statrs) |
//! | KS | a rigorous lower bound: if `sup|F₁ − F₀| = δ` exceeds the critical value c, `P(D < c) ≤ P(sup|F_n − F₁| > δ − c) ≤ 2e^{−2n(δ − c)²}` (Dvoretzky–Kiefer–Wolfowitz with Massart's constant) |
//! | chi-square | approximately: non-central χ² with `λ = n Σ (p₁ − p₀)²/p₀` over the pooled cells, by Patnaik's two-moment approximation |
//! | z tests (means, variances, W1) | approximately: the statistic is normal with the wrong law's mean and spread |

use super::laws::{normal_cdf, normal_sf};
use super::stats::{binomial_tails, kolmogorov_sf, pool};
use statrs::distribution::{Binomial, ChiSquared, ContinuousCDF, DiscreteCDF};

/// Exact power of [`binomial_test`](super::stats::binomial_test) (n
/// trials, null p0) when the true probability is p1.
pub fn binomial_test_power(n: u64, p0: f64, p1: f64, alpha: f64) -> f64 {
    // Acceptance region [lo, hi]: P0(X ≤ k) > α/2 and P0(X ≥ k) > α/2.
    let accept_lower = |k: u64| binomial_tails(k, n, p0).0 > alpha / 2.0;
    let accept_upper = |k: u64| binomial_tails(k, n, p0).1 > alpha / 2.0;
    // lo: the smallest k with P0(X ≤ k) > α/2 (monotone in k).
    let lo = first_true(0, n, accept_lower);
    // hi: the largest k with P0(X ≥ k) > α/2.
    let hi = first_true(0, n + 1, |k| !accept_upper(k)).saturating_sub(1);
    if p1 <= 0.0 {
        return if lo > 0 { 1.0 } else { 0.0 };
    }
    if p1 >= 1.0 {
        return if hi < n { 1.0 } else { 0.0 };
    }
    let b = Binomial::new(p1, n).expect("p1 in (0, 1)");
    let below = if lo == 0 { 0.0 } else { b.cdf(lo - 1) };
    below + b.sf(hi)
}

/// The smallest k in [lo, hi] with `f(k)` true (f monotone false → true),
/// or hi if none.
fn first_true(mut lo: u64, mut hi: u64, f: impl Fn(u64) -> bool) -> u64 {
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if f(mid) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    lo
}

/// The critical value c of the KS test at level α: `P(D_n ≥ c) = α`.
pub fn ks_critical_value(n: usize, alpha: f64) -> f64 {
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if kolmogorov_sf(n, mid) > alpha {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    hi
}

/// A lower bound on the KS test's power with n draws from a law at
/// distance `delta = sup|F₁ − F₀|` from the null law (0 if δ does not
/// exceed the critical value).
pub fn ks_power_lower_bound(n: usize, delta: f64, alpha: f64) -> f64 {
    let c = ks_critical_value(n, alpha);
    if delta <= c {
        return 0.0;
    }
    (1.0 - 2.0 * (-2.0 * n as f64 * (delta - c).powi(2)).exp()).max(0.0)
}

/// A lower bound on the power of the KS test of the positive draws among
/// n, when a draw is positive with probability q1 under the wrong law: at
/// least `m0 = n q1 − 6 √(n q1)` are positive except with probability
/// `P(M < m0)`, and the bound grows with m.
pub fn ks_power_lower_bound_random_n(n: usize, q1: f64, delta: f64, alpha: f64) -> f64 {
    let mean = n as f64 * q1;
    let m0 = (mean - 6.0 * mean.sqrt()).floor().max(1.0) as u64;
    let short = if q1 >= 1.0 {
        0.0
    } else {
        Binomial::new(q1, n as u64)
            .expect("q1 in [0, 1)")
            .cdf(m0 - 1)
    };
    (1.0 - short) * ks_power_lower_bound(m0 as usize, delta, alpha)
}

/// Approximate power of [`chi_square_test`](super::stats::chi_square_test)
/// with n draws, null cell probabilities `p0` and true ones `p1` (same
/// order, pooled as the test pools them).
pub fn chi_square_power(n: usize, p0: &[f64], p1: &[f64], alpha: f64) -> f64 {
    // Pool by the null expectations; the "counts" carry p1 · 1e12 so that
    // the same adjacent groups sum p1.
    let scale = 1e12;
    let c1: Vec<u64> = p1.iter().map(|p| (p * scale).round() as u64).collect();
    let cells = pool(p0, &c1, n as f64);
    let df = cells.len().saturating_sub(1) as f64;
    if df == 0.0 {
        return 0.0;
    }
    let lambda: f64 = cells
        .iter()
        .map(|&(e, o)| {
            let q0 = e / n as f64;
            let q1 = o / scale;
            n as f64 * (q1 - q0).powi(2) / q0
        })
        .sum();
    let crit = ChiSquared::new(df)
        .expect("df > 0")
        .inverse_cdf(1.0 - alpha);
    // Patnaik: χ'²(df, λ) ≈ κ χ²(h), κ = (df + 2λ)/(df + λ),
    // h = (df + λ)²/(df + 2λ).
    let kappa = (df + 2.0 * lambda) / (df + lambda);
    let h = (df + lambda).powi(2) / (df + 2.0 * lambda);
    ChiSquared::new(h).expect("h > 0").sf(crit / kappa)
}

/// Approximate power of a two-sided z test whose statistic is, under the
/// wrong law, normal with mean `shift` and standard deviation `spread`
/// (both in units of the null standard error).
pub fn z_power(shift: f64, spread: f64, alpha: f64) -> f64 {
    let c = super::laws::normal_quantile(1.0 - alpha / 2.0);
    normal_sf((c - shift) / spread) + normal_cdf((-c - shift) / spread)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn power_under_the_null_law_is_at_most_alpha() {
        let a = 1e-3;
        for (n, p) in [(100u64, 0.5), (10_000, 0.01), (1 << 20, 0.3)] {
            let pw = binomial_test_power(n, p, p, a);
            assert!(pw <= a && pw > 0.0, "n={n} p={p}: {pw}");
        }
        assert!((z_power(0.0, 1.0, a) - a).abs() < 1e-12);
        let p0 = [0.2, 0.3, 0.5];
        let pw = chi_square_power(1000, &p0, &p0, a);
        assert!((pw - a).abs() < 1e-9, "{pw}");
        assert_eq!(ks_power_lower_bound(1000, 0.0, a), 0.0);
    }

    #[test]
    fn power_grows_with_the_effect() {
        let a = 4e-6;
        let n = 1 << 20;
        let small = binomial_test_power(n, 0.5, 0.501, a);
        let large = binomial_test_power(n, 0.5, 0.51, a);
        assert!(small < 0.5 && large > 1.0 - 1e-12, "{small} {large}");
        assert!(z_power(5.0, 1.0, a) < z_power(8.0, 1.0, a));
        // The KS critical value at α = 4e-6 and n = 2^21 is 1.77e-3.
        let c = ks_critical_value(1 << 21, a);
        assert!((c - 1.77e-3).abs() < 2e-5, "{c}");
    }
}
