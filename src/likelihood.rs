//! Likelihood of RBMs: free energy, exact log Z by enumeration, annealed
//! importance sampling (AIS) and the exact pseudo-likelihood.
//!
//! Conventions (Bernoulli visible units, states v ∈ {0, 1}^V; hidden total
//! input `x = vᵀW + c`):
//!
//! | hidden unit | −F(v) = log Σ_h e^{−E(v,h)} |
//! |---|---|
//! | Bernoulli | bᵀv + Σ_j softplus(x_j) |
//! | binomial(K) | bᵀv + Σ_j K softplus(x_j) (K copies sharing weights) |
//! | stepped sigmoid | bᵀv + Σ_j Σ_{i≥1} softplus(x_j − i + ½) |
//!
//! For Gaussian visible units `bᵀv` becomes `−½‖v − b‖²`. NReLU units have
//! no energy of their own (they approximate stepped sigmoid units), so the
//! functions here return [`RbmError::InvalidParameter`] for them.
//!
//! The SSU sum is truncated once `x − i + ½ < −40`; the neglected tail is
//! below `e^−40 / (1 − e^−1) < 6.7e−18` per unit.

use crate::error::{RbmError, Result, invalid};
use crate::kernels::{Accumulate, Activation, Kernels, MatMut, MatRef, Sampler, Stream};
use crate::parallel::Workers;
use crate::rbm::{Rbm, VisibleUnit};
use crate::units::HiddenUnit;

/// The largest layer [`exact_log_z`] enumerates (2^20 states).
pub const MAX_ENUMERATED_UNITS: usize = 20;

/// ln(1 + e^x) in f64, accurate for every x.
fn softplus(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

/// The hidden contribution log Σ_{h_j} e^{h_j x} of one unit.
fn hidden_term(unit: HiddenUnit, x: f64) -> f64 {
    match unit {
        HiddenUnit::Bernoulli => softplus(x),
        HiddenUnit::Binomial(k) => f64::from(k) * softplus(x),
        HiddenUnit::Ssu | HiddenUnit::Nrelu => {
            let mut s = 0.0;
            let mut i = 1.0;
            while x - i + 0.5 > -40.0 {
                s += softplus(x - i + 0.5);
                i += 1.0;
            }
            s
        }
    }
}

fn require_energy(rbm: &Rbm) -> Result<()> {
    if rbm.hidden == HiddenUnit::Nrelu {
        return Err(invalid(
            "hidden units",
            "nrelu",
            "NReLU units have no energy function; evaluate the stepped sigmoid model they approximate (same parameters, hidden = ssu)",
        ));
    }
    Ok(())
}

fn require_bernoulli_visible(rbm: &Rbm, what: &'static str) -> Result<()> {
    if rbm.visible != VisibleUnit::Bernoulli {
        return Err(invalid("visible units", "gaussian", what));
    }
    Ok(())
}

/// Checks that every value is exactly 0 or 1.
fn require_binary(v: &[f32], width: usize) -> Result<()> {
    match v.iter().position(|&x| x != 0.0 && x != 1.0) {
        None => Ok(()),
        Some(i) => Err(invalid(
            "data",
            format!(
                "{} at row {}, column {}",
                v[i],
                i / width + 1,
                i % width + 1
            ),
            "likelihoods of Bernoulli units need binary data (0 or 1); binarise it first",
        )),
    }
}

/// Free energy F(v) for each row of `v`, in f64 (the products `vᵀW` are
/// computed in f32 by sgemm, the rest in f64).
///
/// ```
/// use nrelu_rbm::{Rbm, VisibleUnit, units::HiddenUnit, likelihood::free_energy};
/// let rbm = Rbm::new(3, 2, VisibleUnit::Bernoulli, HiddenUnit::Bernoulli, 1)?;
/// let f = free_energy(&rbm, &[1.0, 0.0, 1.0, 0.0, 0.0, 0.0])?;
/// // With zero biases and v = 0: F = −2 ln 2.
/// assert!((f[1] + 2.0 * 2f64.ln()).abs() < 1e-12);
/// # Ok::<(), nrelu_rbm::RbmError>(())
/// ```
pub fn free_energy(rbm: &Rbm, v: &[f32]) -> Result<Vec<f64>> {
    require_energy(rbm)?;
    let rows = rbm.check_input("visible data", v, rbm.n_visible)?;
    let (nv, nh) = (rbm.n_visible, rbm.n_hidden);
    let mut x = vec![0.0f32; rows * nh];
    Kernels::active().gemm(
        MatRef::row_major(v, rows, nv),
        MatRef::row_major(&rbm.weights, nv, nh),
        Accumulate::Overwrite,
        &mut x,
    );
    let mut out = Vec::with_capacity(rows);
    for (vr, xr) in v.chunks_exact(nv).zip(x.chunks_exact(nh)) {
        let vis: f64 = match rbm.visible {
            VisibleUnit::Bernoulli => vr
                .iter()
                .zip(&rbm.visible_bias)
                .map(|(&a, &b)| f64::from(a) * f64::from(b))
                .sum(),
            VisibleUnit::Gaussian => {
                -0.5 * vr
                    .iter()
                    .zip(&rbm.visible_bias)
                    .map(|(&a, &b)| (f64::from(a) - f64::from(b)).powi(2))
                    .sum::<f64>()
            }
        };
        let hid: f64 = xr
            .iter()
            .zip(&rbm.hidden_bias)
            .map(|(&a, &c)| hidden_term(rbm.hidden, f64::from(a) + f64::from(c)))
            .sum();
        out.push(-vis - hid);
    }
    Ok(out)
}

/// log Σ exp(a) in f64, stable.
fn log_sum_exp(a: impl IntoIterator<Item = f64> + Clone) -> f64 {
    let m = a.clone().into_iter().fold(f64::NEG_INFINITY, f64::max);
    if !m.is_finite() {
        return m;
    }
    m + a.into_iter().map(|x| (x - m).exp()).sum::<f64>().ln()
}

/// Which layer [`exact_log_z`] enumerates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Enumerated {
    /// All 2^V visible states (any hidden unit with an energy).
    Visible,
    /// All 2^H hidden states (Bernoulli hidden units).
    Hidden,
}

/// The exact log partition function of a Bernoulli-visible RBM, by
/// enumerating the smaller layer that allows it (at most
/// [`MAX_ENUMERATED_UNITS`] units), in f64 with log-sum-exp, on `threads`
/// threads (0 = all cores; the result does not depend on the count).
///
/// Enumerating the hidden layer needs Bernoulli hidden units; the visible
/// layer can be enumerated for Bernoulli, binomial and SSU hidden units.
/// States are visited in Gray-code order, so each step updates the total
/// inputs with one row of W in f64.
pub fn exact_log_z(rbm: &Rbm, threads: usize) -> Result<(f64, Enumerated)> {
    require_energy(rbm)?;
    require_bernoulli_visible(
        rbm,
        "exact log Z is implemented for Bernoulli visible units",
    )?;
    let (nv, nh) = (rbm.n_visible, rbm.n_hidden);
    let hidden_ok = rbm.hidden == HiddenUnit::Bernoulli && nh <= MAX_ENUMERATED_UNITS;
    let visible_ok = nv <= MAX_ENUMERATED_UNITS;
    let layer = match (visible_ok, hidden_ok) {
        (true, true) if nh < nv => Enumerated::Hidden,
        (true, _) => Enumerated::Visible,
        (false, true) => Enumerated::Hidden,
        (false, false) => {
            return Err(invalid(
                "model size",
                format!("{nv} visible × {nh} {} hidden", rbm.hidden),
                "exact log Z needs a layer of at most 20 units (hidden ones must be Bernoulli); use AIS",
            ));
        }
    };
    let states = Enumeration::new(rbm, layer);
    // 2^m states in 64 chunks (fewer for small m), reduced in chunk order.
    let total = 1usize << states.m;
    let chunks = total.min(64);
    let per = total / chunks;
    let workers = Workers::new(threads)?;
    let mut results = vec![0f64; chunks];
    workers.for_each_index(&mut results, |ci, out| {
        *out = states.log_sum(ci * per, per);
    });
    Ok((log_sum_exp(results.iter().copied()), layer))
}

/// The states of the enumerated layer of [`exact_log_z`]: `m` units with
/// biases `own`; the other layer (`n` units) has total input
/// `other + Σ_k s_k · row(k)` and contributes `term` per unit. All in f64.
struct Enumeration {
    layer: Enumerated,
    hidden: HiddenUnit,
    m: usize,
    n: usize,
    /// The weights, V × H.
    w: Vec<f64>,
    own: Vec<f64>,
    other: Vec<f64>,
}

impl Enumeration {
    fn new(rbm: &Rbm, layer: Enumerated) -> Enumeration {
        let f64s = |v: &[f32]| -> Vec<f64> { v.iter().map(|&x| f64::from(x)).collect() };
        let (b, c) = (f64s(&rbm.visible_bias), f64s(&rbm.hidden_bias));
        let (m, n, own, other) = match layer {
            Enumerated::Visible => (rbm.n_visible, rbm.n_hidden, b, c),
            Enumerated::Hidden => (rbm.n_hidden, rbm.n_visible, c, b),
        };
        Enumeration {
            layer,
            hidden: rbm.hidden,
            m,
            n,
            w: f64s(&rbm.weights),
            own,
            other,
        }
    }

    /// The weight between enumerated unit `k` and other unit `j`.
    fn row(&self, k: usize, j: usize) -> f64 {
        match self.layer {
            Enumerated::Visible => self.w[k * self.n + j],
            Enumerated::Hidden => self.w[j * self.m + k],
        }
    }

    /// The other layer's contribution of one unit with total input `x`.
    fn term(&self, x: f64) -> f64 {
        match self.layer {
            Enumerated::Visible => hidden_term(self.hidden, x),
            Enumerated::Hidden => softplus(x),
        }
    }

    /// log Σ of the unnormalised log weights of the `per` states from
    /// number `start` on, visited in Gray-code order so that each step
    /// adds or removes one row of W.
    fn log_sum(&self, start: usize, per: usize) -> f64 {
        let (m, n) = (self.m, self.n);
        let gray = |i: usize| i ^ (i >> 1);
        let mut state = gray(start);
        let mut input: Vec<f64> = (0..n)
            .map(|j| {
                self.other[j]
                    + (0..m)
                        .filter(|&k| state >> k & 1 == 1)
                        .map(|k| self.row(k, j))
                        .sum::<f64>()
            })
            .collect();
        let mut own_sum: f64 = (0..m)
            .filter(|&k| state >> k & 1 == 1)
            .map(|k| self.own[k])
            .sum();
        let mut lse_max = f64::NEG_INFINITY;
        let mut lse_sum = 0.0;
        for i in start..start + per {
            if i > start {
                let next = gray(i);
                let k = (next ^ state).trailing_zeros() as usize;
                let sign = if next >> k & 1 == 1 { 1.0 } else { -1.0 };
                for (j, x) in input.iter_mut().enumerate() {
                    *x += sign * self.row(k, j);
                }
                own_sum += sign * self.own[k];
                state = next;
            }
            let log_weight = own_sum + input.iter().map(|&x| self.term(x)).sum::<f64>();
            if log_weight > lse_max {
                lse_sum = lse_sum * (lse_max - log_weight).exp() + 1.0;
                lse_max = log_weight;
            } else {
                lse_sum += (log_weight - lse_max).exp();
            }
        }
        lse_max + lse_sum.ln()
    }
}

/// Annealed importance sampling settings.
#[derive(Clone, Debug, PartialEq)]
pub struct AisConfig {
    /// Independent runs (the batch of chains).
    pub runs: usize,
    /// Inverse temperatures β_1 < ... < β_K = 1 (β_0 = 0 is implicit).
    pub betas: Vec<f64>,
    /// Seed of the run streams.
    pub seed: u64,
    /// Worker threads; 0 = all cores (the result does not depend on it).
    pub threads: usize,
}

impl AisConfig {
    /// 100 runs on [`default_schedule`]`(14_500)`.
    pub fn new(seed: u64) -> AisConfig {
        AisConfig {
            runs: 100,
            betas: default_schedule(14_500),
            seed,
            threads: 0,
        }
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
pub fn ais(rbm: &Rbm, base_bias: &[f32], cfg: &AisConfig) -> Result<AisEstimate> {
    let k_copies = check_ais_inputs(rbm, base_bias, cfg)?;
    let workers = Workers::new(cfg.threads)?;
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
        HiddenUnit::Binomial(k) => k,
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
        k.gemm_into_unpadded(
            MatRef::row_major(&part.v, rows, nv),
            self.w,
            Accumulate::Overwrite,
            MatMut::row_major(&mut part.x, rows, nh),
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
        k.gemm_into_unpadded(
            MatRef::row_major(&part.t, rows, nh),
            self.w_t,
            Accumulate::Overwrite,
            MatMut::row_major(&mut part.v, rows, nv),
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

/// The average log-likelihood (1/N) Σ_n log p(v_n) = −mean F(v_n) − log Z of
/// binary data, given log Z.
pub fn average_log_likelihood(rbm: &Rbm, data: &[f32], log_z: f64) -> Result<f64> {
    require_bernoulli_visible(
        rbm,
        "log-likelihoods are implemented for Bernoulli visible units",
    )?;
    require_binary(data, rbm.n_visible)?;
    let f = free_energy(rbm, data)?;
    Ok(-f.iter().sum::<f64>() / f.len() as f64 - log_z)
}

/// The exact pseudo-log-likelihood of binary data, averaged over rows:
/// (1/N) Σ_n Σ_i log p(v_ni | v_n,−i), where
/// p(v_i | v_−i) = σ(F(v with v_i flipped) − F(v)). Every coordinate is
/// summed (scikit-learn's `score_samples` instead scales one random
/// coordinate by V). All in f64.
pub fn pseudo_log_likelihood(rbm: &Rbm, data: &[f32]) -> Result<f64> {
    require_energy(rbm)?;
    require_bernoulli_visible(
        rbm,
        "pseudo-likelihood is implemented for Bernoulli visible units",
    )?;
    let rows = rbm.check_input("visible data", data, rbm.n_visible)?;
    require_binary(data, rbm.n_visible)?;
    let (nv, nh) = (rbm.n_visible, rbm.n_hidden);
    let mut total = 0f64;
    let mut x = vec![0f64; nh];
    for v in data.chunks_exact(nv) {
        for (j, xj) in x.iter_mut().enumerate() {
            *xj = f64::from(rbm.hidden_bias[j])
                + v.iter()
                    .enumerate()
                    .map(|(i, &vi)| f64::from(vi) * f64::from(rbm.weights[i * nh + j]))
                    .sum::<f64>();
        }
        let base: f64 = x.iter().map(|&xj| hidden_term(rbm.hidden, xj)).sum();
        for (i, &vi) in v.iter().enumerate() {
            let s = if vi == 1.0 { -1.0 } else { 1.0 };
            let flipped: f64 = x
                .iter()
                .enumerate()
                .map(|(j, &xj)| {
                    hidden_term(rbm.hidden, xj + s * f64::from(rbm.weights[i * nh + j]))
                })
                .sum();
            // −F = bᵀv + hidden terms; F(flip) − F(v) = −(s b_i + flipped − base).
            let df = -(s * f64::from(rbm.visible_bias[i]) + flipped - base);
            // log σ(df), stably.
            total += -softplus(-df);
        }
    }
    Ok(total / rows as f64)
}
