//! The hypothesis tests: exact two-sided binomial test, one-sample
//! Kolmogorov–Smirnov test, chi-square goodness of fit with pooled cells,
//! and the normal (z) test for means.
//!
//! Each returns an [`Outcome`]: the statistic and its p-value under the
//! null law. The caller compares the p-value with its share of the
//! family-wise α.

use super::laws::normal_sf;
use statrs::distribution::{Binomial, ChiSquared, ContinuousCDF, DiscreteCDF};

/// A test's statistic and p-value.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// Name of the statistic: `count`, `D`, `chi2`, `z`.
    pub statistic_name: &'static str,
    /// Its value.
    pub statistic: f64,
    /// P(statistic at least this extreme | the null law).
    pub p_value: f64,
    /// The sample size the statistic was computed from (for the KS test of
    /// the NReLU positive part, the number of positive draws).
    pub n: usize,
    /// Extra facts for the report, e.g. `df=12` or `expected 500000`.
    pub detail: String,
}

/// The exact two-sided binomial test of `k` successes in `n` trials
/// against success probability `p`: `min(1, 2·min(P(X ≤ k), P(X ≥ k)))`
/// with statrs' regularised incomplete beta function (the "doubled
/// one-sided" exact test, conservative, valid for every n).
///
/// Pass the rarer event (p ≤ ½) when you can: both tails are then
/// computed without cancellation.
pub fn binomial_test(k: u64, n: u64, p: f64) -> Outcome {
    assert!(k <= n, "binomial_test: k = {k} > n = {n}");
    let (lower, upper) = binomial_tails(k, n, p);
    Outcome {
        statistic_name: "count",
        statistic: k as f64,
        p_value: (2.0 * lower.min(upper)).min(1.0),
        n: n as usize,
        detail: format!("expected {:.6}", n as f64 * p),
    }
}

/// `(P(X ≤ k), P(X ≥ k))` for X ~ Binomial(n, p).
pub fn binomial_tails(k: u64, n: u64, p: f64) -> (f64, f64) {
    if p <= 0.0 {
        return (1.0, if k == 0 { 1.0 } else { 0.0 });
    }
    if p >= 1.0 {
        return (if k == n { 1.0 } else { 0.0 }, 1.0);
    }
    let b = Binomial::new(p, n).expect("p in (0, 1)");
    let lower = b.cdf(k);
    let upper = if k == 0 { 1.0 } else { b.sf(k - 1) };
    (lower, upper)
}

/// The one-sample Kolmogorov–Smirnov statistic
/// `D = sup_t |F_n(t) − F(t)|` of `sorted` (ascending) against the
/// continuous CDF `cdf`. Ties are handled exactly (the maximum over each
/// sample of `i/n − F` and `F − (i−1)/n` is the supremum even with ties).
pub fn ks_statistic(sorted: &[f32], cdf: impl Fn(f64) -> f64) -> f64 {
    let n = sorted.len() as f64;
    let mut d = 0.0f64;
    for (i, &x) in sorted.iter().enumerate() {
        let f = cdf(f64::from(x));
        d = d.max((i as f64 + 1.0) / n - f).max(f - i as f64 / n);
    }
    d
}

/// The one-sample KS test of `samples` (sorted in place) against `cdf`.
/// The p-value is `P(D_n ≥ d)` from [`kolmogorov_sf`].
pub fn ks_test(samples: &mut [f32], cdf: impl Fn(f64) -> f64) -> Outcome {
    samples.sort_unstable_by(f32::total_cmp);
    let d = ks_statistic(samples, cdf);
    let n = samples.len();
    Outcome {
        statistic_name: "D",
        statistic: d,
        p_value: kolmogorov_sf(n, d),
        n,
        detail: format!("sqrt(n)·D = {:.3}", d * (n as f64).sqrt()),
    }
}

/// Sample sizes up to which [`kolmogorov_sf`] uses the exact
/// Marsaglia–Tsang–Wang algorithm.
pub const KS_EXACT_MAX_N: usize = 1000;

/// `P(D_n ≥ d)` for the one-sample KS statistic of n draws from a
/// continuous law.
///
/// * n ≤ [`KS_EXACT_MAX_N`]: the exact distribution by Marsaglia, Tsang &
///   Wang (2003, *J. Stat. Softw.* 8(18)), including their tail formula
///   for `n d² > 7.24` (or > 3.76 with n > 99), accurate to 5 digits there;
/// * larger n: Kolmogorov's limit law `Q(t) = 2 Σ (−1)^{j−1} e^{−2j²t²}`
///   at Stephens' corrected `t = d (√n + 0.12 + 0.11/√n)` (Stephens 1970).
///   Against the exact law at n = 1000 it is within 0.004 in the centre
///   and 2 % (relative, on the small side) in the tail at p ≈ 5e−5; the
///   gap shrinks like 1/√n, and the battery's KS tests have n ≥ 27,000.
pub fn kolmogorov_sf(n: usize, d: f64) -> f64 {
    if n == 0 || d <= 0.0 {
        return 1.0;
    }
    if d >= 1.0 {
        return 0.0;
    }
    if n <= KS_EXACT_MAX_N {
        let nf = n as f64;
        let s = d * d * nf;
        if s > 7.24 || (s > 3.76 && n > 99) {
            return (2.0 * (-(2.000071 + 0.331 / nf.sqrt() + 1.409 / nf) * s).exp()).min(1.0);
        }
        return (1.0 - mtw_cdf(n, d)).clamp(0.0, 1.0);
    }
    let sn = (n as f64).sqrt();
    kolmogorov_limit_sf(d * (sn + 0.12 + 0.11 / sn))
}

/// `Q(t) = P(K > t)` for Kolmogorov's limit law.
pub fn kolmogorov_limit_sf(t: f64) -> f64 {
    if t <= 0.0 {
        return 1.0;
    }
    if t < 1.18 {
        // P(K ≤ t) = √(2π)/t Σ_{j≥1} e^{−(2j−1)²π²/(8t²)}: fast for small t.
        let c = std::f64::consts::PI.powi(2) / (8.0 * t * t);
        let sum: f64 = (1..=6)
            .map(|j| (-((2 * j - 1) as f64).powi(2) * c).exp())
            .sum();
        return (1.0 - (2.0 * std::f64::consts::PI).sqrt() / t * sum).clamp(0.0, 1.0);
    }
    let mut sum = 0.0;
    for j in 1..=100 {
        let term = (-2.0 * (j * j) as f64 * t * t).exp();
        sum += if j % 2 == 1 { term } else { -term };
        if term < 1e-300 {
            break;
        }
    }
    (2.0 * sum).clamp(0.0, 1.0)
}

/// `P(D_n < d)` by Marsaglia, Tsang & Wang's matrix power (with their
/// exponent bookkeeping against overflow).
fn mtw_cdf(n: usize, d: f64) -> f64 {
    let nf = n as f64;
    let k = (nf * d) as usize + 1;
    let m = 2 * k - 1;
    let h = k as f64 - nf * d;
    let mut hm = vec![0.0f64; m * m];
    for i in 0..m {
        for j in 0..m {
            if i + 1 >= j {
                hm[i * m + j] = 1.0;
            }
        }
    }
    for i in 0..m {
        hm[i * m] -= h.powi(i as i32 + 1);
        hm[(m - 1) * m + i] -= h.powi((m - i) as i32);
    }
    if 2.0 * h - 1.0 > 0.0 {
        hm[(m - 1) * m] += (2.0 * h - 1.0).powi(m as i32);
    }
    for i in 0..m {
        for j in 0..m {
            if i + 1 > j {
                for g in 1..=(i + 1 - j) {
                    hm[i * m + j] /= g as f64;
                }
            }
        }
    }
    let (q, mut eq) = mat_power(&hm, 0, m, n);
    let mut s = q[(k - 1) * m + k - 1];
    for i in 1..=n {
        s = s * i as f64 / nf;
        if s < 1e-140 {
            s *= 1e140;
            eq -= 140;
        }
    }
    s * 10f64.powi(eq)
}

fn mat_mul(a: &[f64], b: &[f64], m: usize) -> Vec<f64> {
    let mut c = vec![0.0; m * m];
    for i in 0..m {
        for k in 0..m {
            let aik = a[i * m + k];
            if aik != 0.0 {
                for j in 0..m {
                    c[i * m + j] += aik * b[k * m + j];
                }
            }
        }
    }
    c
}

fn mat_power(a: &[f64], ea: i32, m: usize, n: usize) -> (Vec<f64>, i32) {
    if n == 1 {
        return (a.to_vec(), ea);
    }
    let (v, ev) = mat_power(a, ea, m, n / 2);
    let b = mat_mul(&v, &v, m);
    let eb = 2 * ev;
    let (mut v, mut ev) = if n.is_multiple_of(2) {
        (b, eb)
    } else {
        (mat_mul(a, &b, m), ea + eb)
    };
    if v[(m / 2) * m + m / 2] > 1e140 {
        v.iter_mut().for_each(|x| *x *= 1e-140);
        ev += 140;
    }
    (v, ev)
}

/// Minimum expected count per pooled chi-square cell.
pub const MIN_EXPECTED: f64 = 5.0;

/// Pearson's chi-square goodness-of-fit test of `counts` against cell
/// probabilities `probs` (same length; they should sum to 1 — put any
/// remainder in an explicit last cell). Adjacent cells are pooled, in the
/// given order, until each pooled cell expects at least [`MIN_EXPECTED`]
/// draws; a short remainder joins the last pooled cell. Order the cells so
/// that neighbours belong together (by value for a law on the integers,
/// by decreasing probability for an unordered joint law). The p-value is
/// the upper tail of statrs' χ² law with (pooled cells − 1) degrees of
/// freedom; no parameter is estimated from the data.
pub fn chi_square_test(probs: &[f64], counts: &[u64]) -> Outcome {
    assert_eq!(probs.len(), counts.len(), "chi_square_test: lengths");
    let n: u64 = counts.iter().sum();
    let cells = pool(probs, counts, n as f64);
    let stat: f64 = cells.iter().map(|&(e, o)| (o - e) * (o - e) / e).sum();
    let df = cells.len().saturating_sub(1);
    let p_value = if df == 0 {
        1.0
    } else {
        ChiSquared::new(df as f64).expect("df > 0").sf(stat)
    };
    Outcome {
        statistic_name: "chi2",
        statistic: stat,
        p_value,
        n: n as usize,
        detail: format!("df={df}"),
    }
}

/// Pools adjacent cells to expected counts of at least [`MIN_EXPECTED`]:
/// returns `(expected, observed)` per pooled cell.
pub fn pool(probs: &[f64], counts: &[u64], n: f64) -> Vec<(f64, f64)> {
    let mut cells: Vec<(f64, f64)> = Vec::new();
    let (mut e, mut o) = (0.0, 0.0);
    for (&p, &c) in probs.iter().zip(counts) {
        e += p * n;
        o += c as f64;
        if e >= MIN_EXPECTED {
            cells.push((e, o));
            (e, o) = (0.0, 0.0);
        }
    }
    if e > 0.0 || o > 0.0 {
        match cells.last_mut() {
            Some(last) => {
                last.0 += e;
                last.1 += o;
            }
            None => cells.push((e, o)),
        }
    }
    cells
}

/// The two-sided normal test of `z`: p = 2 Φ̄(|z|).
pub fn z_test(z: f64, n: usize, detail: String) -> Outcome {
    Outcome {
        statistic_name: "z",
        statistic: z,
        p_value: (2.0 * normal_sf(z.abs())).min(1.0),
        n,
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marsaglia_tsang_wang_reference_values() {
        // From the paper: K(10, 0.274) = 0.6284796154565043.
        assert!((mtw_cdf(10, 0.274) - 0.628_479_615_456_504_3).abs() < 1e-12);
        // The exact and corrected limit laws agree closely at n = 1000.
        for t in [0.8, 1.0, 1.36, 1.63, 1.95, 2.3] {
            let d = t / 1000f64.sqrt();
            let exact = kolmogorov_sf(1000, d);
            let limit = kolmogorov_limit_sf(d * (1000f64.sqrt() + 0.12 + 0.11 / 1000f64.sqrt()));
            // Within 0.004 in the centre and 3 % relative in the tail
            // (the gap shrinks like 1/√n above n = 1000).
            let tol = if t < 1.3 { 4e-3 } else { 0.03 * exact };
            assert!((exact - limit).abs() < tol, "t={t}: {exact} vs {limit}");
        }
        // Limit law: the classical critical values.
        assert!((kolmogorov_limit_sf(1.3581) - 0.05).abs() < 1e-4);
        assert!((kolmogorov_limit_sf(1.9495) - 0.001).abs() < 1e-5);
        assert!((kolmogorov_limit_sf(1.1) - (1.0 - 0.822_282)).abs() < 1e-5);
    }

    #[test]
    fn binomial_test_tails() {
        // 0 successes of 10 at p = 0.5: P(X ≤ 0) = 2^-10, doubled.
        let o = binomial_test(0, 10, 0.5);
        assert!((o.p_value - 2.0 / 1024.0).abs() < 1e-15);
        assert_eq!(binomial_test(5, 10, 0.5).p_value, 1.0);
        assert_eq!(binomial_test(1, 10, 0.0).p_value, 0.0);
    }

    #[test]
    fn pooling_reaches_five_per_cell() {
        let probs = [0.001, 0.002, 0.3, 0.4, 0.296, 0.001];
        let counts = [0, 1, 30, 40, 29, 0];
        let cells = pool(&probs, &counts, 100.0);
        assert!(cells.iter().all(|c| c.0 >= 5.0));
        assert_eq!(cells.iter().map(|c| c.1).sum::<f64>(), 100.0);
        assert_eq!(cells.len(), 3);
    }
}
