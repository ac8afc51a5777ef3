//! Annealed importance sampling (Salakhutdinov & Murray 2008): an estimate
//! of log Z for models too large to enumerate, from importance weights
//! gathered along a path of models from the base-rate model to the RBM
//! (the chains themselves are in `chains.rs`, shared with reverse AIS).

use super::chains::{AisChains, transposed};
use super::require_bernoulli_visible;
use crate::error::{RbmError, Result, invalid};
use crate::rbm::Rbm;
use crate::units::HiddenUnit;

/// Annealed importance sampling settings: [`AisConfig::new`] and a
/// `with_*` setter per field, read back by the getter of the same name.
///
/// ```
/// use nrelu_rbm::likelihood::{AisConfig, default_schedule};
/// let cfg = AisConfig::new(7)
///     .with_runs(200)
///     .with_betas(default_schedule(1000))
///     .with_threads(1);
/// assert_eq!((cfg.runs(), cfg.betas().len(), cfg.seed(), cfg.threads()), (200, 1000, 7, 1));
/// ```
///
/// [`ais`] checks the settings (at least one run; inverse temperatures
/// increasing strictly from above 0 to exactly 1).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct AisConfig {
    /// Independent runs (the batch of chains).
    pub(crate) runs: usize,
    /// Inverse temperatures β_1 < ... < β_K = 1 (β_0 = 0 is implicit).
    pub(crate) betas: Vec<f64>,
    /// Seed of the run streams.
    pub(crate) seed: u64,
    /// Parts the runs are cut into on the current rayon pool; 0 = one per
    /// thread of that pool.
    pub(crate) threads: usize,
    /// Gibbs sweeps of the model from the data before reverse AIS, when
    /// exact model samples are not available.
    pub(crate) burn_in: usize,
}

/// The default [`AisConfig::burn_in`].
const DEFAULT_BURN_IN: usize = 1000;

impl AisConfig {
    /// 100 runs on [`default_schedule`]`(14_500)`, on every thread of the
    /// current rayon pool (`threads` 0).
    pub fn new(seed: u64) -> AisConfig {
        AisConfig {
            runs: 100,
            betas: default_schedule(14_500),
            seed,
            threads: 0,
            burn_in: DEFAULT_BURN_IN,
        }
    }

    /// Gibbs sweeps of the model (β = 1) run from the data to start
    /// [`reverse_ais`](super::reverse_ais) when no layer is small enough
    /// to draw exact model samples (default 1000; unused by [`ais`]).
    pub fn burn_in(&self) -> usize {
        self.burn_in
    }

    /// These settings with `burn_in` sweeps before reverse AIS started
    /// from the data ([`AisConfig::burn_in`]).
    #[must_use]
    pub fn with_burn_in(mut self, burn_in: usize) -> AisConfig {
        self.burn_in = burn_in;
        self
    }

    /// Independent runs (the batch of chains).
    pub fn runs(&self) -> usize {
        self.runs
    }

    /// Inverse temperatures β_1 < ... < β_K = 1 (β_0 = 0 is implicit).
    pub fn betas(&self) -> &[f64] {
        &self.betas
    }

    /// Seed of the run streams.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// How many threads of the current rayon pool [`ais`] uses: 0 = all of
    /// them, 1 = only the calling thread, n = the runs cut into about n
    /// parts. No pool is built (see [`ais`]); the result does not depend
    /// on it.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// These settings with `runs` independent runs.
    #[must_use]
    pub fn with_runs(mut self, runs: usize) -> AisConfig {
        self.runs = runs;
        self
    }

    /// These settings with the inverse temperatures `betas` (checked by
    /// [`ais`]).
    #[must_use]
    pub fn with_betas(mut self, betas: Vec<f64>) -> AisConfig {
        self.betas = betas;
        self
    }

    /// These settings with the seed `seed`.
    #[must_use]
    pub fn with_seed(mut self, seed: u64) -> AisConfig {
        self.seed = seed;
        self
    }

    /// These settings on `threads` threads of the current rayon pool
    /// ([`AisConfig::threads`]).
    #[must_use]
    pub fn with_threads(mut self, threads: usize) -> AisConfig {
        self.threads = threads;
        self
    }
}

/// Salakhutdinov & Murray's schedule scaled to `n` temperatures: a fraction
/// 500/14500 spaced uniformly in (0, 0.5], 4000/14500 in (0.5, 0.9] and the
/// rest in (0.9, 1], so it is dense near β = 1. `default_schedule(14_500)`
/// is their schedule exactly.
pub fn default_schedule(n: usize) -> Vec<f64> {
    let n = n.max(3);
    let a = ((n as f64) * 500.0 / 14_500.0).round().max(1.0) as usize;
    let b = ((n as f64) * 4000.0 / 14_500.0).round().max(1.0) as usize;
    let c = n - a - b;
    let seg =
        |lo: f64, hi: f64, k: usize| (1..=k).map(move |i| lo + (hi - lo) * i as f64 / k as f64);
    seg(0.0, 0.5, a)
        .chain(seg(0.5, 0.9, b))
        .chain(seg(0.9, 1.0, c))
        .collect()
}

/// The result of [`ais`].
#[derive(Clone, Debug, PartialEq)]
pub struct AisEstimate {
    /// log Ẑ = log Z_A + log r̂, with r̂ the mean importance weight.
    pub log_z: f64,
    /// Standard error of log Ẑ (delta method: σ̂_w / (r̂ √M)); +inf for a
    /// single run, whose spread is unknown.
    pub log_z_std: f64,
    /// log(r̂ − 3σ̂_r) + log Z_A: the lower end of the ±3 standard-error band
    /// of Salakhutdinov & Murray (−inf when r̂ − 3σ̂_r <= 0, and for a single
    /// run).
    pub log_z_lower: f64,
    /// log(r̂ + 3σ̂_r) + log Z_A (+inf for a single run).
    pub log_z_upper: f64,
    /// log Z of the base-rate model.
    pub log_z_base: f64,
    /// Runs used.
    pub runs: usize,
    /// Temperatures used.
    pub betas: usize,
}

/// Visible biases of the base-rate model fitted to the data's marginals:
/// log(p/(1 − p)) with p the column mean smoothed towards ½ by a pseudo-count
/// of 1 (so that no bias is infinite).
pub fn base_rate_bias(data: &[f32], n_visible: usize) -> Result<Vec<f32>> {
    let rows = crate::error::rows_of("data", data, n_visible)?;
    if rows == 0 {
        return Err(RbmError::EmptyData {
            rows,
            cols: n_visible,
        });
    }
    crate::error::check_finite(data, n_visible)?;
    let mut s = vec![0f64; n_visible];
    for r in data.chunks_exact(n_visible) {
        for (a, &x) in s.iter_mut().zip(r) {
            *a += f64::from(x);
        }
    }
    Ok(s.iter()
        .map(|&t| {
            let p = (t + 0.5) / (rows as f64 + 1.0);
            (p / (1.0 - p)).ln() as f32
        })
        .collect())
}

/// Annealed importance sampling estimate of log Z for a Bernoulli-visible
/// RBM with Bernoulli, binomial or stepped sigmoid hidden units
/// (Salakhutdinov & Murray 2008), starting from the base-rate model with
/// visible biases `base_bias` and no hidden interaction. It is a stochastic
/// lower bound: the mean weight is unbiased for Z / Z_A, so E[log Ẑ] ≤
/// log Z and P(log Ẑ > log Z + t) ≤ e^−t (Markov);
/// [`reverse_ais`](super::reverse_ais) gives the matching upper bound.
///
/// The intermediate models are p_β(v, h) ∝ exp((1−β) b_Aᵀv + β(bᵀv + cᵀh +
/// vᵀWh)), the geometric path between the base-rate model and the RBM.
/// Stepped sigmoid units are copies with bias offsets −i + ½ that both
/// ends share, so the offsets are not tempered: at β copy i is on with
/// probability σ(β x_j − i + ½), and the hidden step is the exact SSU
/// sampler at β x_j. Each step adds log p*_β(v) − log p*_β'(v) to the run's
/// log weight and then makes one Gibbs sweep at β. The hidden part of the
/// increment, Σ_j [g(β x_j) − g(β' x_j)] = Σ_j x_j ∫_{β'}^{β} g'(t x_j) dt
/// with g = K softplus (g' = K σ) or g(a) = Σ_i softplus(a − i + ½) (g' the
/// SSU mean), is computed by two-point Gauss–Legendre quadrature (error
/// below (Δβ x)^5 / 4320 times the largest |g⁽⁵⁾| / K, which is below 1
/// for both kinds of unit; i.e. < 1e-12 on the default schedule for
/// |x| ≤ 20), so no f32 rounding of two nearly equal values enters the
/// sum.
///
/// Runs are processed in blocks of 8 with their own streams
/// `Stream::new(seed, block)`, threads take whole blocks, and the result does
/// not depend on the number of threads.
///
/// # Threads
///
/// `ais` runs on the current rayon pool and never builds one: inside the
/// host's `ThreadPool::install` it uses that pool, elsewhere rayon's global
/// pool. [`AisConfig::threads`] says how many of its threads: 0 = all of
/// them, 1 = only the calling thread (no rayon at all), n = the runs cut
/// into about n parts. To run on exactly n threads, call it inside
/// `install` of a pool of n threads.
pub fn ais(rbm: &Rbm, base_bias: &[f32], cfg: &AisConfig) -> Result<AisEstimate> {
    let (log_weights, log_z_base) = forward_log_weights(rbm, base_bias, cfg, Flaw::None)?;
    Ok(estimate_from_log_weights(&log_weights, log_z_base, cfg))
}

/// A deliberate defect of the chains, for the tests that show the checks
/// of AIS catch a wrong transition or start ([`Flaw::None`] outside the
/// tests).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flaw {
    /// The algorithm as documented.
    None,
    /// Hidden units sampled at the untempered input x instead of β x.
    #[cfg(test)]
    UntemperedHidden,
    /// Hidden units sampled as NReLU units (at β x).
    #[cfg(test)]
    NreluHidden,
    /// Reverse AIS started from the base-rate model instead of the RBM.
    #[cfg(test)]
    ReverseFromBase,
}

/// The runs' log importance weights of [`ais`], and log Z of the base-rate
/// model.
pub(crate) fn forward_log_weights(
    rbm: &Rbm,
    base_bias: &[f32],
    cfg: &AisConfig,
    flaw: Flaw,
) -> Result<(Vec<f64>, f64)> {
    let k_copies = check_ais_inputs(rbm, base_bias, cfg)?;
    // β_0 = 0, then the schedule.
    let path: Vec<f64> = std::iter::once(0.0)
        .chain(cfg.betas.iter().copied())
        .collect();
    let w_t = transposed(&rbm.weights, rbm.n_visible, rbm.n_hidden);
    let chains = AisChains::new(rbm, base_bias, k_copies, &w_t, flaw);
    let log_weights = chains.run_parts(cfg, &path, |_, part, streams| {
        chains.sample_base(part, streams)
    })?;
    Ok((log_weights, chains.log_z_base()))
}

/// Checks the model, the settings and the base-rate biases of [`ais`];
/// returns the copies K per hidden unit (1 for Bernoulli and stepped
/// sigmoid units).
pub(crate) fn check_ais_inputs(rbm: &Rbm, base_bias: &[f32], cfg: &AisConfig) -> Result<u32> {
    require_bernoulli_visible(rbm, "AIS is implemented for Bernoulli visible units")?;
    let k_copies = match rbm.hidden {
        HiddenUnit::Bernoulli | HiddenUnit::Ssu => 1u32,
        HiddenUnit::Binomial(b) => b.k(),
        HiddenUnit::Nrelu => {
            return Err(invalid(
                "hidden units",
                "nrelu",
                "NReLU units have no energy function; run AIS on the stepped sigmoid model they approximate (same parameters, hidden = ssu)",
            ));
        }
    };
    if cfg.runs == 0 {
        return Err(invalid("ais-runs", 0, "must be at least 1"));
    }
    if cfg.betas.is_empty()
        || cfg.betas.iter().any(|b| !b.is_finite())
        || cfg.betas.windows(2).any(|w| w[1] <= w[0])
        || cfg.betas[0] <= 0.0
        || *cfg.betas.last().expect("non-empty") != 1.0
    {
        return Err(invalid(
            "ais-betas",
            cfg.betas.len(),
            "inverse temperatures must increase strictly from above 0 to exactly 1",
        ));
    }
    if base_bias.len() != rbm.n_visible {
        return Err(RbmError::ShapeMismatch {
            what: "base-rate biases",
            got: base_bias.len(),
            want: rbm.n_visible,
        });
    }
    crate::error::check_finite(base_bias, rbm.n_visible)?;
    Ok(k_copies)
}

/// The estimate of [`ais`] from the runs' log importance weights: log Ẑ
/// from their mean r̂, its delta-method standard error and the ±3σ̂_r band
/// (all relative to the largest log weight, so nothing overflows).
pub(crate) fn estimate_from_log_weights(
    log_w64: &[f64],
    log_z_base: f64,
    cfg: &AisConfig,
) -> AisEstimate {
    let m = cfg.runs as f64;
    let lmax = log_w64.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    // r̂ and σ̂_r relative to e^lmax.
    let scaled: Vec<f64> = log_w64.iter().map(|&l| (l - lmax).exp()).collect();
    let mean = scaled.iter().sum::<f64>() / m;
    // One run has no spread: its standard error is unknown, not 0.
    let var = if cfg.runs > 1 {
        scaled.iter().map(|&s| (s - mean).powi(2)).sum::<f64>() / (m - 1.0)
    } else {
        f64::INFINITY
    };
    let se = (var / m).sqrt();
    let log_z = log_z_base + lmax + mean.ln();
    AisEstimate {
        log_z,
        log_z_std: se / mean,
        log_z_lower: if mean > 3.0 * se {
            log_z_base + lmax + (mean - 3.0 * se).ln()
        } else {
            f64::NEG_INFINITY
        },
        log_z_upper: log_z_base + lmax + (mean + 3.0 * se).ln(),
        log_z_base,
        runs: cfg.runs,
        betas: cfg.betas.len(),
    }
}
