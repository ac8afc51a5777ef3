//! Annealed importance sampling (Salakhutdinov & Murray 2008): an estimate
//! of log Z for models too large to enumerate, from importance weights
//! gathered along a path of models from the base-rate model to the RBM.

use super::{require_bernoulli_visible, softplus};
use crate::error::{RbmError, Result, invalid};
use crate::kernels::{Accumulate, Activation, Kernels, MatMut, MatRef, Product, Sampler, Stream};
use crate::parallel::Workers;
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
}

impl AisConfig {
    /// 100 runs on [`default_schedule`]`(14_500)`, on every thread of the
    /// current rayon pool (`threads` 0).
    pub fn new(seed: u64) -> AisConfig {
        AisConfig {
            runs: 100,
            betas: default_schedule(14_500),
            seed,
            threads: 0,
        }
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

/// Runs per random-stream block in [`ais`].
const AIS_BLOCK: usize = 8;

/// Annealed importance sampling estimate of log Z for a Bernoulli-visible
/// RBM with Bernoulli or binomial hidden units (Salakhutdinov & Murray
/// 2008), starting from the base-rate model with visible biases `base_bias`
/// and no hidden interaction.
///
/// The intermediate models are p_β(v, h) ∝ exp((1−β) b_Aᵀv + β(bᵀv + cᵀh +
/// vᵀWh)). Each step adds log p*_β(v) − log p*_β'(v) to the run's log weight
/// and then makes one Gibbs sweep at β. The hidden part of the increment,
/// K Σ_j [softplus(β x_j) − softplus(β' x_j)] = K Σ_j x_j ∫_{β'}^{β} σ(t x_j)
/// dt, is computed by two-point Gauss–Legendre quadrature (error below
/// (Δβ x)^5 / 4320, i.e. < 1e-12 on the default schedule), so no f32
/// rounding of two nearly equal softplus values enters the sum.
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
    let k_copies = check_ais_inputs(rbm, base_bias, cfg)?;
    let workers = Workers::on_current_pool(cfg.threads)?;
    let blocks = cfg.runs.div_ceil(AIS_BLOCK);
    let mut streams: Vec<Stream> = (0..blocks as u64)
        .map(|i| Stream::new(cfg.seed, i))
        .collect();
    let mut log_weights = vec![0f64; cfg.runs];
    // Parts of whole 16-row tiles (multiples of AIS_BLOCK): the products
    // give sgemm whole tiles and the small-row kernel the last
    // `runs % 16` rows, the same rows for any thread count.
    let part = workers.part_rows_unpadded(cfg.runs);
    debug_assert_eq!(part % AIS_BLOCK, 0);
    let w_t = transposed(&rbm.weights, rbm.n_visible, rbm.n_hidden);
    let chains = AisChains::new(rbm, base_bias, k_copies, &w_t);
    workers.for_row_parts_with_streams(
        part,
        AIS_BLOCK,
        &mut log_weights,
        &mut streams,
        |_row0, lw, streams| chains.anneal(&cfg.betas, lw, streams),
    );
    let log_z_base: f64 = base_bias
        .iter()
        .map(|&a| softplus(f64::from(a)))
        .sum::<f64>()
        + rbm.n_hidden as f64 * chains.kf * 2f64.ln();
    Ok(estimate_from_log_weights(&log_weights, log_z_base, cfg))
}

/// Checks the model, the settings and the base-rate biases of [`ais`];
/// returns the copies K per hidden unit (1 for Bernoulli units).
fn check_ais_inputs(rbm: &Rbm, base_bias: &[f32], cfg: &AisConfig) -> Result<u32> {
    require_bernoulli_visible(rbm, "AIS is implemented for Bernoulli visible units")?;
    let k_copies = match rbm.hidden {
        HiddenUnit::Bernoulli => 1u32,
        HiddenUnit::Binomial(b) => b.k(),
        other => {
            return Err(invalid(
                "hidden units",
                other,
                "AIS is implemented for Bernoulli and binomial hidden units",
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

/// `w` (`rows × cols`, row-major) transposed into its own row-major copy.
fn transposed(w: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut w_t = vec![0f32; rows * cols];
    for (i, row) in w.chunks_exact(cols).enumerate() {
        for (j, &x) in row.iter().enumerate() {
            w_t[j * rows + i] = x;
        }
    }
    w_t
}

/// Σ_i a_i (p_i + q_i) in f64 over eight interleaved partial sums, so the
/// adds pipeline and vectorise instead of forming one serial chain.
fn dot8<P: Copy + Into<f64>>(a: &[f32], p: &[P], q: &[P]) -> f64 {
    let mut acc = [0f64; 8];
    let (ca, cp, cq) = (a.chunks_exact(8), p.chunks_exact(8), q.chunks_exact(8));
    let mut tail = 0f64;
    for ((&x, &y), &z) in ca
        .remainder()
        .iter()
        .zip(cp.remainder())
        .zip(cq.remainder())
    {
        tail += f64::from(x) * (y.into() + z.into());
    }
    for ((xa, ya), za) in ca.zip(cp).zip(cq) {
        for (((s, &x), &y), &z) in acc.iter_mut().zip(xa).zip(ya).zip(za) {
            *s += f64::from(x) * (y.into() + z.into());
        }
    }
    acc.iter().sum::<f64>() + tail
}

/// What every part of the AIS runs shares: the model, the base-rate
/// biases and the quantities derived from them once.
struct AisChains<'a> {
    k: Kernels,
    nv: usize,
    nh: usize,
    /// W (V × H).
    w: MatRef<'a>,
    /// Wᵀ as its own row-major copy: the product H·Wᵀ then packs
    /// contiguous rows instead of gathering a strided view at every
    /// temperature (same values, same packed panels, so the same results).
    w_t: MatRef<'a>,
    visible_bias: &'a [f32],
    hidden_bias: &'a [f32],
    base_bias: &'a [f32],
    /// b − b_A in f64: (b − b_A)ᵀv is `dot8(v, db, zeros)`.
    db: Vec<f64>,
    zeros: Vec<f64>,
    /// K, the copies per hidden unit.
    kf: f64,
    sampler: Sampler,
}

/// The state of one part of the runs: `rows` chains' visible states `v`,
/// total hidden inputs `x = vW + c` and two buffers of hidden values.
struct AisPart {
    rows: usize,
    v: Vec<f32>,
    x: Vec<f32>,
    t: Vec<f32>,
    t2: Vec<f32>,
    /// The visible biases of the current temperature.
    bias_k: Vec<f32>,
}

impl<'a> AisChains<'a> {
    fn new(rbm: &'a Rbm, base_bias: &'a [f32], k_copies: u32, w_t: &'a [f32]) -> AisChains<'a> {
        let (nv, nh) = (rbm.n_visible, rbm.n_hidden);
        AisChains {
            k: Kernels::active(),
            nv,
            nh,
            w: MatRef::row_major(&rbm.weights, nv, nh),
            w_t: MatRef::row_major(w_t, nh, nv),
            visible_bias: &rbm.visible_bias,
            hidden_bias: &rbm.hidden_bias,
            base_bias,
            db: rbm
                .visible_bias
                .iter()
                .zip(base_bias)
                .map(|(&b, &a)| f64::from(b) - f64::from(a))
                .collect(),
            zeros: vec![0f64; nv],
            kf: f64::from(k_copies),
            sampler: match rbm.hidden {
                HiddenUnit::Binomial(kk) => Sampler::Binomial(kk),
                _ => Sampler::Bernoulli,
            },
        }
    }

    /// Runs the chains of one part (`lw.len()` runs, their blocks'
    /// `streams`) from the base-rate model through every temperature,
    /// adding each step's increment to the log weights `lw`.
    fn anneal(&self, betas: &[f64], lw: &mut [f64], streams: &mut [Stream]) {
        let (nv, nh) = (self.nv, self.nh);
        let rows = lw.len();
        let mut part = AisPart {
            rows,
            v: vec![0f32; rows * nv],
            x: vec![0f32; rows * nh],
            t: vec![0f32; rows * nh],
            t2: vec![0f32; rows * nh],
            bias_k: vec![0f32; nv],
        };
        // v ~ base-rate model.
        for (bi, blk) in part.v.chunks_mut(AIS_BLOCK * nv).enumerate() {
            for row in blk.chunks_exact_mut(nv) {
                row.fill(0.0);
                self.k
                    .sample(Sampler::Bernoulli, self.base_bias, row, &mut streams[bi]);
            }
        }
        let mut beta_prev = 0f64;
        for &beta in betas {
            self.add_increment(&mut part, beta_prev, beta, lw);
            if beta == 1.0 {
                break; // the last transition would not change the estimate
            }
            self.sample_hidden(&mut part, beta, streams);
            self.sample_visible(&mut part, beta, streams);
            beta_prev = beta;
        }
    }

    /// x = vW + c, then each run's log weight increment from β' to β:
    /// Δβ (b − b_A)ᵀv + K Σ_j x_j ∫_{β'}^{β} σ(t x_j) dt, the integral by
    /// two-point Gauss–Legendre quadrature (σ of the two nodes into `t`
    /// and `t2`).
    fn add_increment(&self, part: &mut AisPart, beta_prev: f64, beta: f64, lw: &mut [f64]) {
        let (k, nv, nh, rows) = (self.k, self.nv, self.nh, part.rows);
        let dbeta = beta - beta_prev;
        k.product(
            MatRef::row_major(&part.v, rows, nv),
            self.w,
            MatMut::row_major(&mut part.x, rows, nh),
            Product::new(Accumulate::Overwrite),
        );
        for row in part.x.chunks_exact_mut(nh) {
            k.activate(Activation::Identity, self.hidden_bias, row);
        }
        let mid = 0.5 * (beta + beta_prev);
        let half = dbeta / (2.0 * 3f64.sqrt());
        let (g1, g2) = ((mid - half) as f32, (mid + half) as f32);
        for ((o1, o2), &xi) in part.t.iter_mut().zip(part.t2.iter_mut()).zip(&part.x) {
            *o1 = g1 * xi;
            *o2 = g2 * xi;
        }
        k.activate(Activation::Sigmoid, &[], &mut part.t);
        k.activate(Activation::Sigmoid, &[], &mut part.t2);
        for (r, l) in lw.iter_mut().enumerate() {
            let hid = r * nh..(r + 1) * nh;
            let acc = dot8(&part.x[hid.clone()], &part.t[hid.clone()], &part.t2[hid]);
            let vis = dot8(&part.v[r * nv..(r + 1) * nv], &self.db, &self.zeros);
            *l += dbeta * vis + self.kf * dbeta * 0.5 * acc;
        }
    }

    /// h ~ p_β(h | v) into `t`: pre-activation β x.
    fn sample_hidden(&self, part: &mut AisPart, beta: f64, streams: &mut [Stream]) {
        let bf = beta as f32;
        for (o, &xi) in part.t.iter_mut().zip(&part.x) {
            *o = bf * xi;
        }
        for (bi, blk) in part.t.chunks_mut(AIS_BLOCK * self.nh).enumerate() {
            for row in blk.chunks_exact_mut(self.nh) {
                self.k.sample(self.sampler, &[], row, &mut streams[bi]);
            }
        }
    }

    /// v ~ p_β(v | h) into `v`: pre-activation β(Wh + b) + (1 − β) b_A.
    fn sample_visible(&self, part: &mut AisPart, beta: f64, streams: &mut [Stream]) {
        let (k, nv, nh, rows) = (self.k, self.nv, self.nh, part.rows);
        k.product(
            MatRef::row_major(&part.t, rows, nh),
            self.w_t,
            MatMut::row_major(&mut part.v, rows, nv),
            Product::new(Accumulate::Overwrite),
        );
        for ((o, &b), &a) in part
            .bias_k
            .iter_mut()
            .zip(self.visible_bias)
            .zip(self.base_bias)
        {
            *o = (beta * f64::from(b) + (1.0 - beta) * f64::from(a)) as f32;
        }
        let bf = beta as f32;
        for vi in part.v.iter_mut() {
            *vi *= bf;
        }
        for (bi, blk) in part.v.chunks_mut(AIS_BLOCK * nv).enumerate() {
            for row in blk.chunks_exact_mut(nv) {
                k.sample(Sampler::Bernoulli, &part.bias_k, row, &mut streams[bi]);
            }
        }
    }
}

/// The estimate of [`ais`] from the runs' log importance weights: log Ẑ
/// from their mean r̂, its delta-method standard error and the ±3σ̂_r band
/// (all relative to the largest log weight, so nothing overflows).
fn estimate_from_log_weights(log_w64: &[f64], log_z_base: f64, cfg: &AisConfig) -> AisEstimate {
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
