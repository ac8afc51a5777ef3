//! The exact laws of every sampler, computed in f64.
//!
//! | sampler | law | here |
//! |---|---|---|
//! | Bernoulli at x | Bernoulli(σ(x)) | [`sigmoid`] |
//! | standard normal | N(0, 1) | [`normal_cdf`], [`normal_sf`] |
//! | NReLU at x | max(0, x + √σ(x)·Z): an atom Φ(−x/√σ(x)) at 0 and the normal N(x, σ(x)) restricted to (0, ∞) | [`Nrelu`] |
//! | binomial(K) at x | Binomial(K, σ(x)) | [`binomial_pmf`] |
//! | stepped sigmoid at x | Σ_{i≥1} Bernoulli(σ(x − i + ½)), a Poisson-binomial law | [`ssu_pmf`], [`poisson_binomial_pmf`] |
//!
//! The normal CDF is statrs' (`erfc`-based, so both tails keep their
//! relative accuracy).

pub use crate::kernels::reference::{sigmoid, softplus, ssu_mean, ssu_variance};
use statrs::distribution::{ContinuousCDF, Normal};
use std::f64::consts::PI;

/// Φ(z), the standard normal CDF (statrs).
pub fn normal_cdf(z: f64) -> f64 {
    0.5 * statrs::function::erf::erfc(-z / std::f64::consts::SQRT_2)
}

/// 1 − Φ(z), accurate in the upper tail (statrs' `erfc`).
pub fn normal_sf(z: f64) -> f64 {
    0.5 * statrs::function::erf::erfc(z / std::f64::consts::SQRT_2)
}

/// φ(z), the standard normal density.
pub fn normal_pdf(z: f64) -> f64 {
    (-0.5 * z * z).exp() / (2.0 * PI).sqrt()
}

/// Φ⁻¹(p) for p in (0, 1) (statrs).
pub fn normal_quantile(p: f64) -> f64 {
    Normal::standard().inverse_cdf(p)
}

/// The binomial pmf P(X = k), X ~ Binomial(n, p), for k = 0..=n, in f64
/// (computed in log space, so no term underflows before it must).
pub fn binomial_pmf(n: u32, p: f64) -> Vec<f64> {
    if p <= 0.0 || p >= 1.0 {
        let mut out = vec![0.0; n as usize + 1];
        out[if p <= 0.0 { 0 } else { n as usize }] = 1.0;
        return out;
    }
    let (lp, lq) = (p.ln(), (-p).ln_1p());
    (0..=n)
        .map(|k| {
            let lc = statrs::function::factorial::ln_binomial(u64::from(n), u64::from(k));
            (lc + f64::from(k) * lp + f64::from(n - k) * lq).exp()
        })
        .collect()
}

/// The pmf of a sum of independent Bernoulli(pᵢ) variables (a
/// Poisson-binomial law), by the f64 dynamic programme
/// `P_{j}(s) = P_{j−1}(s)(1 − p_j) + P_{j−1}(s − 1) p_j`.
/// Every step is a convex combination, so the rounding error stays below
/// a few ulp per copy.
pub fn poisson_binomial_pmf(p: &[f64]) -> Vec<f64> {
    let mut pmf = vec![0.0; p.len() + 1];
    pmf[0] = 1.0;
    for (j, &pj) in p.iter().enumerate() {
        for s in (1..=j + 1).rev() {
            pmf[s] = pmf[s] * (1.0 - pj) + pmf[s - 1] * pj;
        }
        pmf[0] *= 1.0 - pj;
    }
    pmf
}

/// The exact stepped-sigmoid law at `x`: `pmf[k] = P(Σ_{i≥1} Bernoulli(σ(x −
/// i + offset)) = k)`, with the usual `offset = ½` (the deliberately wrong
/// sampler of the test suite uses 0).
///
/// Copies with σ below 1e−30 are dropped and copies with σ above 1 − 1e−30
/// are counted as on (like [`ssu_mean`]), so the pmf is exact to 1e−28 in
/// total variation. `pmf[k]` is zero below the always-on copies.
pub fn ssu_pmf_offset(x: f64, offset: f64) -> Vec<f64> {
    let c = x + offset;
    // σ(a) > 1 − 1e−30 for a > 70; σ(a) < 1e−30 for a < −70.
    let first = (c - 70.0).floor().max(1.0);
    let mut probs = Vec::new();
    let mut i = first;
    while c - i > -70.0 {
        probs.push(sigmoid(c - i));
        i += 1.0;
    }
    let on = (first - 1.0) as usize;
    let mut pmf = vec![0.0; on];
    pmf.extend(poisson_binomial_pmf(&probs));
    pmf
}

/// The exact stepped-sigmoid law at `x` (offsets −i + ½); see
/// [`ssu_pmf_offset`].
pub fn ssu_pmf(x: f64) -> Vec<f64> {
    ssu_pmf_offset(x, 0.5)
}

/// Mean, variance and fourth central moment of a law on 0, 1, 2, ….
pub fn lattice_moments(pmf: &[f64]) -> Moments {
    let mean: f64 = pmf.iter().enumerate().map(|(k, p)| k as f64 * p).sum();
    let central = |r: i32| -> f64 {
        pmf.iter()
            .enumerate()
            .map(|(k, p)| (k as f64 - mean).powi(r) * p)
            .sum()
    };
    Moments {
        mean,
        variance: central(2),
        m4: central(4),
    }
}

/// Mean, variance and fourth central moment of a law.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Moments {
    /// `E[Y]`.
    pub mean: f64,
    /// `E[(Y − μ)²]`.
    pub variance: f64,
    /// `E[(Y − μ)⁴]`.
    pub m4: f64,
}

/// The law of `max(0, x + sd·Z)`, Z ~ N(0, 1). The NReLU sampler at `x` has
/// `sd = √σ(x)` ([`Nrelu::at`]); other `sd` describe the deliberately
/// wrong samplers of the test suite.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Nrelu {
    /// The pre-activation x (mean of the unrectified normal).
    pub x: f64,
    /// The noise standard deviation.
    pub sd: f64,
}

impl Nrelu {
    /// The NReLU law at `x`: noise variance σ(x).
    pub fn at(x: f64) -> Nrelu {
        Nrelu {
            x,
            sd: sigmoid(x).sqrt(),
        }
    }

    /// P(h = 0) = Φ(−x/sd).
    pub fn zero_mass(&self) -> f64 {
        normal_cdf(-self.x / self.sd)
    }

    /// P(h > 0) = Φ(x/sd), accurate when it is tiny.
    pub fn positive_mass(&self) -> f64 {
        normal_sf(-self.x / self.sd)
    }

    /// The CDF of h: 0 for t < 0, Φ((t − x)/sd) for t ≥ 0 (the atom is
    /// included at t = 0).
    pub fn cdf(&self, t: f64) -> f64 {
        if t < 0.0 {
            0.0
        } else {
            normal_cdf((t - self.x) / self.sd)
        }
    }

    /// The CDF of h given h > 0 — the normal N(x, sd²) truncated to
    /// (0, ∞): `1 − Φ̄((t − x)/sd) / Φ̄(−x/sd)` with Φ̄ = 1 − Φ computed by
    /// `erfc`, so it stays accurate when P(h > 0) is small.
    pub fn positive_cdf(&self, t: f64) -> f64 {
        if t <= 0.0 {
            return 0.0;
        }
        1.0 - normal_sf((t - self.x) / self.sd) / self.positive_mass()
    }

    /// `E[h^r]` for r = 0..=4 (1 for r = 0): with Y = x + sd·Z and a = −x/sd,
    /// `E[Y^r 1{Y>0}] = Σ_j C(r, j) x^{r−j} sd^j I_j`, where
    /// `I_j = E[Z^j 1{Z>a}]` obeys `I_0 = Φ̄(a)`, `I_1 = φ(a)`,
    /// `I_j = a^{j−1} φ(a) + (j − 1) I_{j−2}`.
    pub fn raw_moment(&self, r: u32) -> f64 {
        assert!(r <= 4, "raw_moment: r = {r} > 4");
        if r == 0 {
            return 1.0;
        }
        let a = -self.x / self.sd;
        let mut i = [0.0f64; 5];
        i[0] = normal_sf(a);
        i[1] = normal_pdf(a);
        for j in 2..5 {
            i[j] = a.powi(j as i32 - 1) * normal_pdf(a) + (j as f64 - 1.0) * i[j - 2];
        }
        (0..=r)
            .map(|j| {
                let c = statrs::function::factorial::binomial(u64::from(r), u64::from(j));
                c * self.x.powi((r - j) as i32) * self.sd.powi(j as i32) * i[j as usize]
            })
            .sum()
    }

    /// Mean, variance and fourth central moment of h.
    pub fn moments(&self) -> Moments {
        let m: Vec<f64> = (0..=4).map(|r| self.raw_moment(r)).collect();
        let mean = m[1];
        let variance = m[2] - mean * mean;
        let m4 = m[4] - 4.0 * mean * m[3] + 6.0 * mean * mean * m[2] - 3.0 * mean.powi(4);
        Moments { mean, variance, m4 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poisson_binomial_with_equal_p_is_binomial() {
        let pb = poisson_binomial_pmf(&[0.3; 12]);
        let b = binomial_pmf(12, 0.3);
        for (a, b) in pb.iter().zip(&b) {
            assert!((a - b).abs() < 1e-15, "{a} vs {b}");
        }
    }

    #[test]
    fn ssu_pmf_has_the_reference_mean_and_variance() {
        for x in [-3.0, 0.0, 0.7, 2.0, 10.0, 50.0] {
            let m = lattice_moments(&ssu_pmf(x));
            assert!((m.mean - ssu_mean(x)).abs() < 1e-12, "{x}");
            assert!((m.variance - ssu_variance(x)).abs() < 1e-12, "{x}");
            assert!((ssu_pmf(x).iter().sum::<f64>() - 1.0).abs() < 1e-13);
        }
    }

    #[test]
    fn nrelu_moments_match_quadrature() {
        for x in [-2.0, -0.5, 0.0, 1.0, 4.0] {
            let law = Nrelu::at(x);
            // Simpson's rule over z in [a, 12], a = −x/sd (h > 0 there).
            let a = -x / law.sd;
            let n = 20_000;
            let h = (12.0 - a) / n as f64;
            let mut q = [0.0f64; 5];
            q[0] = 1.0;
            for i in 0..=n {
                let z = a + i as f64 * h;
                let w = if i == 0 || i == n {
                    1.0
                } else if i % 2 == 1 {
                    4.0
                } else {
                    2.0
                };
                let y = x + law.sd * z;
                for (r, q) in q.iter_mut().enumerate().skip(1) {
                    *q += w * y.powi(r as i32) * normal_pdf(z) * h / 3.0;
                }
            }
            for (r, q) in q.iter().enumerate() {
                let m = law.raw_moment(r as u32);
                assert!(
                    (m - q).abs() < 1e-9 * (1.0 + q.abs()),
                    "x={x} r={r}: {m} vs {q}"
                );
            }
            assert!((law.zero_mass() + law.positive_mass() - 1.0).abs() < 1e-15);
        }
    }
}
