//! Likelihood of RBMs: free energy, exact log Z by enumeration, annealed
//! importance sampling (AIS) from both sides (forward: a stochastic lower
//! bound of log Z; reverse: an upper bound) and the exact
//! pseudo-likelihood.
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
//! functions here return
//! [`RbmError::InvalidParameter`](crate::RbmError::InvalidParameter) for
//! them.
//!
//! The SSU sum is evaluated in closed form plus a short series, to within
//! a few ulps for every x and in a bounded number of operations
//! (`likelihood/ssu_sum.rs`).

use crate::error::{Result, invalid};
use crate::kernels::{Accumulate, Kernels, MatMut, MatRef, Product};
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
        HiddenUnit::Binomial(b) => f64::from(b.k()) * softplus(x),
        HiddenUnit::Ssu | HiddenUnit::Nrelu => ssu_sum::ssu_term(x),
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
    Kernels::active().product(
        MatRef::row_major(v, rows, nv),
        MatRef::row_major(&rbm.weights, nv, nh),
        MatMut::row_major(&mut x, rows, nh),
        Product::new(Accumulate::Overwrite).padded(),
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
/// [`MAX_ENUMERATED_UNITS`] units), in f64 with log-sum-exp.
///
/// Enumerating the hidden layer needs Bernoulli hidden units; the visible
/// layer can be enumerated for Bernoulli, binomial and SSU hidden units.
/// States are visited in Gray-code order, so each step updates the total
/// inputs with one row of W in f64.
///
/// # Threads
///
/// The states are cut into 64 chunks (fewer for small layers), each summed
/// on its own and the chunks reduced in order, so the result does not
/// depend on the threads. They run on the current rayon pool, which is
/// never built here: inside the host's `ThreadPool::install` that pool,
/// elsewhere rayon's global pool. `threads` says how many of its threads:
/// 0 = all of them, 1 = only the calling thread (no rayon at all), n = the
/// chunks cut into n parts. To run on exactly n threads, call it inside
/// `install` of a pool of n threads.
pub fn exact_log_z(rbm: &Rbm, threads: usize) -> Result<(f64, Enumerated)> {
    require_energy(rbm)?;
    require_bernoulli_visible(
        rbm,
        "exact log Z is implemented for Bernoulli visible units",
    )?;
    let (nv, nh) = (rbm.n_visible, rbm.n_hidden);
    let layer = match enumerable_layer(rbm) {
        Some(layer) => layer,
        None => {
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
    let workers = Workers::on_current_pool(threads)?;
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

    /// Calls `visit` with the unnormalised log weight of each of the `per`
    /// states from number `start` on, visited in Gray-code order (state
    /// number `i` is `i ^ (i >> 1)`) so that each step adds or removes one
    /// row of W.
    fn visit(&self, start: usize, per: usize, mut visit: impl FnMut(f64)) {
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
            visit(own_sum + input.iter().map(|&x| self.term(x)).sum::<f64>());
        }
    }

    /// log Σ of the unnormalised log weights of the `per` states from
    /// number `start` on (see [`Enumeration::visit`]).
    fn log_sum(&self, start: usize, per: usize) -> f64 {
        let mut lse_max = f64::NEG_INFINITY;
        let mut lse_sum = 0.0;
        self.visit(start, per, |log_weight| {
            if log_weight > lse_max {
                lse_sum = lse_sum * (lse_max - log_weight).exp() + 1.0;
                lse_max = log_weight;
            } else {
                lse_sum += (log_weight - lse_max).exp();
            }
        });
        lse_max + lse_sum.ln()
    }
}

/// The layer [`exact_log_z`] enumerates for `rbm`, if one is small enough
/// (the rule of [`exact_log_z`]: the smaller of the layers that can be
/// enumerated; hidden layers only with Bernoulli units).
pub(crate) fn enumerable_layer(rbm: &Rbm) -> Option<Enumerated> {
    let (nv, nh) = (rbm.n_visible, rbm.n_hidden);
    let hidden_ok = rbm.hidden == HiddenUnit::Bernoulli && nh <= MAX_ENUMERATED_UNITS;
    let visible_ok = nv <= MAX_ENUMERATED_UNITS;
    match (visible_ok, hidden_ok) {
        (true, true) if nh < nv => Some(Enumerated::Hidden),
        (true, _) => Some(Enumerated::Visible),
        (false, true) => Some(Enumerated::Hidden),
        (false, false) => None,
    }
}

mod ais;
mod chains;
mod exact_sample;
mod pseudo;
mod reverse;
mod ssu_sum;
#[cfg(test)]
mod tests;

pub use ais::{AisConfig, AisEstimate, ais, base_rate_bias, default_schedule};
pub use pseudo::{pseudo_log_likelihood, pseudo_log_likelihood_rows};
pub use reverse::reverse_ais;

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
