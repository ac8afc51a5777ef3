//! Gibbs sampling on RBMs small enough to enumerate: the exact joint law,
//! the exact law and mixing of the sampler's chain, and the chi-square test
//! of a long run against the exact joint.
//!
//! # The chain and its autocorrelation
//! One sweep draws `h ~ p(h | v)` then `v ~ p(v | h)`; after a sweep the
//! pair `(v, h)` has law `Σ_{v'} μ(v') p(h | v') p(v | h)`, which is the
//! joint `p(v, h)` when the previous v has the marginal law. The run keeps
//! `lanes` chains side by side (one kernel call per layer per sweep for all
//! of them), discards `thin` sweeps of burn-in from v = 0, and records the
//! state every `thin` sweeps.
//!
//! Successive records of a chain are dependent, which would break the
//! multinomial law behind the chi-square test. The dependence is bounded
//! exactly: with `d(t) = max_{v₀} TV(law of v after t sweeps from v₀,
//! p(v))`, computed from the 2^V × 2^V transition matrix of the visible
//! chain, each record's conditional law given everything before it is
//! within `d(thin − 1)` of `p(v, h)` in total variation, so the law of all
//! N records is within `N·d(thin − 1)` of N independent draws from p. The
//! thinning is the smallest that makes that bound at most
//! [`MAX_DEPENDENCE_TV`]; the test's level is then inflated by at most that
//! much.

use super::Samplers;
use super::laws::sigmoid;
use super::stats::{Outcome, chi_square_test};
use crate::kernels::Stream;

/// Largest total-variation distance between the recorded states and
/// independent draws from the joint law that [`gibbs_test`] accepts
/// (it picks the thinning interval to stay below it): 1e−7, below 3 % of
/// the 4.1e−6 each test of the battery is run at, and well above the
/// ~1e−15 floor of computing d(t) in f64.
pub const MAX_DEPENDENCE_TV: f64 = 1e-7;

/// A tiny RBM with Bernoulli visible units and binomial(K) hidden units
/// (K = 1: Bernoulli), parameters in f64.
#[derive(Clone, Debug, PartialEq)]
pub struct TinyRbm {
    /// Visible units V (2^V visible states).
    pub n_visible: usize,
    /// Hidden units H ((K + 1)^H hidden states).
    pub n_hidden: usize,
    /// Copies per hidden unit: 1 for Bernoulli, K for binomial(K).
    pub k: u32,
    /// Weights, V × H row-major.
    pub w: Vec<f64>,
    /// Visible biases.
    pub b: Vec<f64>,
    /// Hidden biases.
    pub c: Vec<f64>,
}

impl TinyRbm {
    /// The test suite's model: weights N(0, w_sd²), biases N(0, 0.5²),
    /// from the fixed stream `(2010, 0x61B5)` (rounded to f32 so the f32
    /// tables of the sampler hold exactly the model's inputs).
    pub fn fixed(n_visible: usize, n_hidden: usize, k: u32, w_sd: f64) -> TinyRbm {
        let mut z = vec![0.0f32; n_visible * n_hidden + n_visible + n_hidden];
        crate::kernels::Kernels::new(crate::kernels::Path::Scalar)
            .expect("scalar always runs")
            .standard_normal(&mut Stream::new(2010, 0x61B5), &mut z);
        let r = |v: f32, sd: f64| f64::from((f64::from(v) * sd) as f32);
        let (w, rest) = z.split_at(n_visible * n_hidden);
        let (b, c) = rest.split_at(n_visible);
        TinyRbm {
            n_visible,
            n_hidden,
            k,
            w: w.iter().map(|&v| r(v, w_sd)).collect(),
            b: b.iter().map(|&v| r(v, 0.5)).collect(),
            c: c.iter().map(|&v| r(v, 0.5)).collect(),
        }
    }

    /// Number of visible states, 2^V.
    pub fn visible_states(&self) -> usize {
        1 << self.n_visible
    }

    /// Number of hidden states, (K + 1)^H.
    pub fn hidden_states(&self) -> usize {
        (self.k as usize + 1).pow(self.n_hidden as u32)
    }

    /// Visible unit values of state `s` (bit i is unit i).
    pub fn visible_values(&self, s: usize) -> Vec<f64> {
        (0..self.n_visible).map(|i| ((s >> i) & 1) as f64).collect()
    }

    /// Hidden unit values of state `s` (digit j in base K + 1 is unit j).
    pub fn hidden_values(&self, s: usize) -> Vec<f64> {
        let base = self.k as usize + 1;
        let mut s = s;
        (0..self.n_hidden)
            .map(|_| {
                let d = s % base;
                s /= base;
                d as f64
            })
            .collect()
    }

    /// Hidden inputs `x_j = c_j + Σ_i v_i W_ij` of visible state `s`.
    pub fn hidden_input(&self, s: usize) -> Vec<f64> {
        let v = self.visible_values(s);
        (0..self.n_hidden)
            .map(|j| {
                self.c[j]
                    + (0..self.n_visible)
                        .map(|i| v[i] * self.w[i * self.n_hidden + j])
                        .sum::<f64>()
            })
            .collect()
    }

    /// Visible inputs `y_i = b_i + Σ_j W_ij h_j` of hidden state `s`.
    pub fn visible_input(&self, s: usize) -> Vec<f64> {
        let h = self.hidden_values(s);
        (0..self.n_visible)
            .map(|i| {
                self.b[i]
                    + (0..self.n_hidden)
                        .map(|j| self.w[i * self.n_hidden + j] * h[j])
                        .sum::<f64>()
            })
            .collect()
    }

    /// The exact joint `p(v, h) ∝ Π_j C(K, h_j) · exp(bᵀv + cᵀh + vᵀWh)`
    /// (the K copies of a binomial unit share their weights, so a count h
    /// is reached in C(K, h) ways), indexed `v · hidden_states + h`.
    pub fn joint(&self) -> Vec<f64> {
        let nh = self.hidden_states();
        let mut logp = Vec::with_capacity(self.visible_states() * nh);
        for vs in 0..self.visible_states() {
            let v = self.visible_values(vs);
            let x = self.hidden_input(vs);
            let bv: f64 = v.iter().zip(&self.b).map(|(a, b)| a * b).sum();
            for hs in 0..nh {
                let h = self.hidden_values(hs);
                let mut e = bv;
                for (j, &hj) in h.iter().enumerate() {
                    e += x[j] * hj
                        + statrs::function::factorial::ln_binomial(u64::from(self.k), hj as u64);
                }
                logp.push(e);
            }
        }
        normalise_log(&logp)
    }

    /// `p(h | v)` for every hidden state, with the hidden inputs scaled by
    /// `scale` (1 for the model itself).
    fn hidden_conditional(&self, vs: usize, scale: f64) -> Vec<f64> {
        let x = self.hidden_input(vs);
        let pmfs: Vec<Vec<f64>> = x
            .iter()
            .map(|&x| super::laws::binomial_pmf(self.k, sigmoid(scale * x)))
            .collect();
        (0..self.hidden_states())
            .map(|hs| {
                self.hidden_values(hs)
                    .iter()
                    .enumerate()
                    .map(|(j, &h)| pmfs[j][h as usize])
                    .product()
            })
            .collect()
    }

    /// `p(v | h)` for every visible state, inputs scaled by `scale`.
    fn visible_conditional(&self, hs: usize, scale: f64) -> Vec<f64> {
        let y = self.visible_input(hs);
        (0..self.visible_states())
            .map(|vs| {
                (0..self.n_visible)
                    .map(|i| {
                        let p = sigmoid(scale * y[i]);
                        if (vs >> i) & 1 == 1 { p } else { 1.0 - p }
                    })
                    .product()
            })
            .collect()
    }

    /// The sweep chain with conditionals `p(h | v)` and `p(v | h)` whose
    /// inputs are scaled by `scale_h` and `scale_v` (1 and 1 for the model;
    /// other values describe deliberately wrong samplers).
    pub fn chain(&self, scale_h: f64, scale_v: f64) -> Chain {
        let (nv, nh) = (self.visible_states(), self.hidden_states());
        let ph: Vec<Vec<f64>> = (0..nv)
            .map(|v| self.hidden_conditional(v, scale_h))
            .collect();
        let pv: Vec<Vec<f64>> = (0..nh)
            .map(|h| self.visible_conditional(h, scale_v))
            .collect();
        let mut t = vec![0.0; nv * nv];
        for v in 0..nv {
            for h in 0..nh {
                let a = ph[v][h];
                for v2 in 0..nv {
                    t[v * nv + v2] += a * pv[h][v2];
                }
            }
        }
        Chain { nv, nh, ph, pv, t }
    }
}

/// `exp(l_i − logsumexp(l))`.
fn normalise_log(l: &[f64]) -> Vec<f64> {
    let m = l.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let z: f64 = l.iter().map(|x| (x - m).exp()).sum();
    l.iter().map(|x| (x - m).exp() / z).collect()
}

/// The sweep chain of a [`TinyRbm`] sampler, exactly.
#[derive(Clone, Debug)]
pub struct Chain {
    nv: usize,
    nh: usize,
    ph: Vec<Vec<f64>>,
    pv: Vec<Vec<f64>>,
    /// Visible-chain transition matrix, nv × nv.
    t: Vec<f64>,
}

impl Chain {
    fn step(&self, mu: &[f64]) -> Vec<f64> {
        let mut out = vec![0.0; self.nv];
        for (v, &m) in mu.iter().enumerate() {
            if m != 0.0 {
                for (o, &t) in out.iter_mut().zip(&self.t[v * self.nv..(v + 1) * self.nv]) {
                    *o += m * t;
                }
            }
        }
        out
    }

    /// The stationary law of v (power iteration to 1e−15 in L1).
    pub fn stationary_visible(&self) -> Vec<f64> {
        let mut mu = vec![1.0 / self.nv as f64; self.nv];
        for _ in 0..100_000 {
            let next = self.step(&mu);
            let d: f64 = next.iter().zip(&mu).map(|(a, b)| (a - b).abs()).sum();
            mu = next;
            if d < 1e-15 {
                break;
            }
        }
        mu
    }

    /// The law of the recorded pair `(v, h)` after a sweep from a visible
    /// law `mu`: `Σ_{v'} mu(v') p(h | v') p(v | h)`, indexed
    /// `v · hidden_states + h`.
    pub fn pair_law(&self, mu: &[f64]) -> Vec<f64> {
        let mut hl = vec![0.0; self.nh];
        for (v, &m) in mu.iter().enumerate() {
            for (o, &p) in hl.iter_mut().zip(&self.ph[v]) {
                *o += m * p;
            }
        }
        let mut out = vec![0.0; self.nv * self.nh];
        for (h, &q) in hl.iter().enumerate() {
            for v in 0..self.nv {
                out[v * self.nh + h] += q * self.pv[h][v];
            }
        }
        out
    }

    /// The stationary law of the recorded pair.
    pub fn stationary_pair(&self) -> Vec<f64> {
        self.pair_law(&self.stationary_visible())
    }

    /// `d(t) = max_{v₀} TV(δ_{v₀} Tᵗ, π)` for t = 0, 1, …, `t_max`.
    pub fn mixing(&self, t_max: usize) -> Vec<f64> {
        let pi = self.stationary_visible();
        let mut d = vec![0.0f64; t_max + 1];
        for v0 in 0..self.nv {
            let mut mu = vec![0.0; self.nv];
            mu[v0] = 1.0;
            for dt in d.iter_mut() {
                let tv = 0.5 * mu.iter().zip(&pi).map(|(a, b)| (a - b).abs()).sum::<f64>();
                *dt = dt.max(tv);
                mu = self.step(&mu);
            }
        }
        d
    }

    /// The smallest thinning interval T with `records · d(T − 1) ≤
    /// MAX_DEPENDENCE_TV`, and that bound.
    pub fn thinning(&self, records: usize) -> (usize, f64) {
        let d = self.mixing(400);
        for t in 1..d.len() {
            let bound = records as f64 * d[t - 1];
            if bound <= MAX_DEPENDENCE_TV {
                return (t, bound);
            }
        }
        panic!(
            "the chain mixes too slowly for the Gibbs test (d(399) = {})",
            d[399]
        );
    }
}

/// The Gibbs chi-square test: `lanes × records` recorded states of the
/// sweep chain of `model`, sampled by `s`, against the exact joint law
/// (cells ordered by decreasing probability and pooled to ≥ 5 expected).
pub fn gibbs_test(model: &TinyRbm, lanes: usize, records: usize, s: &mut dyn Samplers) -> Outcome {
    let exact = model.joint();
    let chain = model.chain(1.0, 1.0);
    let n_total = lanes * records;
    let (thin, dependence) = chain.thinning(n_total);
    let (nvu, nhu) = (model.n_visible, model.n_hidden);
    let nh = model.hidden_states();
    let base = model.k as usize + 1;
    // f32 input tables: the sampler sees exactly these pre-activations.
    let xh: Vec<f32> = (0..model.visible_states())
        .flat_map(|v| model.hidden_input(v).into_iter().map(|x| x as f32))
        .collect();
    let xv: Vec<f32> = (0..nh)
        .flat_map(|h| model.visible_input(h).into_iter().map(|x| x as f32))
        .collect();
    let mut vstate = vec![0usize; lanes];
    let mut hstate = vec![0usize; lanes];
    let mut hin = vec![0.0f32; lanes * nhu];
    let mut hout = vec![0.0f32; lanes * nhu];
    let mut vin = vec![0.0f32; lanes * nvu];
    let mut vout = vec![0.0f32; lanes * nvu];
    let mut counts = vec![0u64; exact.len()];
    let sweeps = thin * (records + 1);
    for sweep in 1..=sweeps {
        for (l, &v) in vstate.iter().enumerate() {
            hin[l * nhu..(l + 1) * nhu].copy_from_slice(&xh[v * nhu..(v + 1) * nhu]);
        }
        if model.k == 1 {
            s.bernoulli(&hin, &mut hout);
        } else {
            s.binomial(model.k, &hin, &mut hout);
        }
        for (l, hs) in hstate.iter_mut().enumerate() {
            *hs = hout[l * nhu..(l + 1) * nhu]
                .iter()
                .rev()
                .fold(0, |acc, &h| acc * base + (h as usize).min(base - 1));
        }
        for (l, &h) in hstate.iter().enumerate() {
            vin[l * nvu..(l + 1) * nvu].copy_from_slice(&xv[h * nvu..(h + 1) * nvu]);
        }
        s.bernoulli(&vin, &mut vout);
        for (l, vs) in vstate.iter_mut().enumerate() {
            *vs = vout[l * nvu..(l + 1) * nvu]
                .iter()
                .enumerate()
                .fold(0, |acc, (i, &v)| acc | (usize::from(v != 0.0) << i));
        }
        if sweep > thin && sweep % thin == 0 {
            for (&v, &h) in vstate.iter().zip(&hstate) {
                counts[v * nh + h] += 1;
            }
        }
    }
    let mut order: Vec<usize> = (0..exact.len()).collect();
    order.sort_by(|&a, &b| exact[b].total_cmp(&exact[a]));
    let probs: Vec<f64> = order.iter().map(|&i| exact[i]).collect();
    let obs: Vec<u64> = order.iter().map(|&i| counts[i]).collect();
    let mut o = chi_square_test(&probs, &obs);
    o.detail = format!(
        "{}, {} cells, thin {thin}, dependence TV <= {dependence:.0e}",
        o.detail,
        exact.len()
    );
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_stationary_pair_is_the_joint() {
        for k in [1, 3] {
            let m = TinyRbm::fixed(4, 3, k, 0.8);
            let joint = m.joint();
            let pair = m.chain(1.0, 1.0).stationary_pair();
            let tv: f64 = joint.iter().zip(&pair).map(|(a, b)| (a - b).abs()).sum();
            assert!(tv < 1e-12, "k={k}: {tv}");
        }
    }
}
