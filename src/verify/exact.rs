//! Exact log-likelihoods and log-likelihood gradients of RBMs small
//! enough to enumerate, in f64.
//!
//! For Bernoulli visible units the hidden units sum out in closed form:
//! `p(v) ∝ exp(bᵀv + Σ_j A(x_j))`, `x = Wᵀv + c`, where the hidden unit's
//! log-partition function `A(x) = log Σ_h m(h) e^{x h}` is
//!
//! | hidden unit | A(x) | A'(x) = E[h \| x] |
//! |---|---|---|
//! | Bernoulli | softplus(x) | σ(x) |
//! | binomial(K) (K copies sharing weights: m(h) = C(K, h)) | K softplus(x) | K σ(x) |
//! | stepped sigmoid (copies with offsets −i + ½) | Σ_{i≥1} softplus(x − i + ½) | Σ_{i≥1} σ(x − i + ½) |
//!
//! The NReLU unit is not an energy-based unit (it approximates the SSU),
//! so it has no exact likelihood of its own; the functions here reject it.
//! The gradient of the mean log-likelihood is the familiar positive minus
//! negative statistic with exact expectations:
//! `∂L/∂W_ij = ⟨v_i A'(x_j)⟩_data − ⟨v_i A'(x_j)⟩_model`, and likewise
//! `∂L/∂b_i = ⟨v_i⟩_data − ⟨v_i⟩_model`, `∂L/∂c_j = ⟨A'(x_j)⟩_data −
//! ⟨A'(x_j)⟩_model`, the model expectations summed over all 2^V visible
//! states.

use super::laws::{sigmoid, softplus, ssu_mean};
use crate::rbm::{Rbm, VisibleUnit};
use crate::units::HiddenUnit;

/// Largest number of visible units enumerated (2^20 states).
pub const MAX_ENUMERATED_VISIBLE: usize = 20;

/// Why a model cannot be enumerated.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EnumerationError {
    /// Only Bernoulli visible units are enumerated.
    #[error("exact enumeration needs Bernoulli visible units")]
    VisibleUnit,
    /// NReLU hidden units have no energy function.
    #[error(
        "NReLU hidden units have no exact likelihood (they approximate the stepped sigmoid unit)"
    )]
    Nrelu,
    /// Too many visible units.
    #[error("{0} visible units: at most {MAX_ENUMERATED_VISIBLE} can be enumerated")]
    TooLarge(usize),
}

/// `A(x) = log Σ_h m(h) e^{x h}` for `unit`; `None` for NReLU.
pub fn hidden_log_partition(unit: HiddenUnit, x: f64) -> Option<f64> {
    match unit {
        HiddenUnit::Bernoulli => Some(softplus(x)),
        HiddenUnit::Binomial(b) => Some(f64::from(b.k()) * softplus(x)),
        HiddenUnit::Ssu => {
            // Σ_{i≥1} softplus(x − i + ½): the terms with x − i + ½ > 40
            // are (x − i + ½) + e^{−(x−i+½)}; those below −40 are below
            // e^{−40} and sum to less than 1e−17.
            let c = x + 0.5;
            let mut sum = 0.0;
            let mut i = 1.0;
            while c - i > -40.0 {
                sum += softplus(c - i);
                i += 1.0;
            }
            Some(sum)
        }
        HiddenUnit::Nrelu => None,
    }
}

/// `A'(x) = E[h | x]` for `unit`; `None` for NReLU.
pub fn hidden_mean(unit: HiddenUnit, x: f64) -> Option<f64> {
    match unit {
        HiddenUnit::Bernoulli => Some(sigmoid(x)),
        HiddenUnit::Binomial(b) => Some(f64::from(b.k()) * sigmoid(x)),
        HiddenUnit::Ssu => Some(ssu_mean(x)),
        HiddenUnit::Nrelu => None,
    }
}

/// The model's parameters in f64 and its hidden unit, checked.
struct Model {
    v: usize,
    h: usize,
    unit: HiddenUnit,
    w: Vec<f64>,
    b: Vec<f64>,
    c: Vec<f64>,
}

impl Model {
    fn of(rbm: &Rbm) -> Result<Model, EnumerationError> {
        if rbm.visible() != VisibleUnit::Bernoulli {
            return Err(EnumerationError::VisibleUnit);
        }
        if rbm.hidden() == HiddenUnit::Nrelu {
            return Err(EnumerationError::Nrelu);
        }
        if rbm.n_visible() > MAX_ENUMERATED_VISIBLE {
            return Err(EnumerationError::TooLarge(rbm.n_visible()));
        }
        let f = |s: &[f32]| s.iter().map(|&x| f64::from(x)).collect::<Vec<f64>>();
        Ok(Model {
            v: rbm.n_visible(),
            h: rbm.n_hidden(),
            unit: rbm.hidden(),
            w: f(rbm.weights()),
            b: f(rbm.visible_bias()),
            c: f(rbm.hidden_bias()),
        })
    }

    fn inputs(&self, v: &[f64]) -> Vec<f64> {
        (0..self.h)
            .map(|j| {
                self.c[j]
                    + (0..self.v)
                        .map(|i| v[i] * self.w[i * self.h + j])
                        .sum::<f64>()
            })
            .collect()
    }

    /// `log p*(v) = bᵀv + Σ_j A(x_j)` (unnormalised).
    fn log_unnormalised(&self, v: &[f64]) -> f64 {
        let bv: f64 = v.iter().zip(&self.b).map(|(a, b)| a * b).sum();
        bv + self
            .inputs(v)
            .into_iter()
            .map(|x| hidden_log_partition(self.unit, x).expect("checked"))
            .sum::<f64>()
    }

    fn state(&self, s: usize) -> Vec<f64> {
        (0..self.v).map(|i| ((s >> i) & 1) as f64).collect()
    }

    fn log_z(&self) -> f64 {
        let l: Vec<f64> = (0..1usize << self.v)
            .map(|s| self.log_unnormalised(&self.state(s)))
            .collect();
        let m = l.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        m + l.iter().map(|x| (x - m).exp()).sum::<f64>().ln()
    }
}

/// `log Z = log Σ_v exp(bᵀv + Σ_j A(x_j))`, by enumerating the 2^V
/// visible states.
pub fn log_partition(rbm: &Rbm) -> Result<f64, EnumerationError> {
    Ok(Model::of(rbm)?.log_z())
}

/// The mean log-likelihood `(1/N) Σ_n log p(v_n)` of rows of `data`
/// (values are read as 0/1 states; fractional values are used as given,
/// which is the free-energy form used for probabilities as inputs).
pub fn log_likelihood(rbm: &Rbm, data: &[f32]) -> Result<f64, EnumerationError> {
    let m = Model::of(rbm)?;
    let log_z = m.log_z();
    let rows: Vec<Vec<f64>> = data
        .chunks_exact(m.v)
        .map(|r| r.iter().map(|&x| f64::from(x)).collect())
        .collect();
    let sum: f64 = rows.iter().map(|v| m.log_unnormalised(v) - log_z).sum();
    Ok(sum / rows.len() as f64)
}

/// The gradient of the mean log-likelihood.
#[derive(Clone, Debug, PartialEq)]
pub struct Gradient {
    /// ∂L/∂W, V × H row-major.
    pub w: Vec<f64>,
    /// ∂L/∂b.
    pub b: Vec<f64>,
    /// ∂L/∂c.
    pub c: Vec<f64>,
}

/// `Σ_rows weight · (v, A'(x))` statistics: (Σ v_i m_j, Σ v_i, Σ m_j).
fn statistics(m: &Model, rows: impl Iterator<Item = (f64, Vec<f64>)>) -> Gradient {
    let mut g = Gradient {
        w: vec![0.0; m.v * m.h],
        b: vec![0.0; m.v],
        c: vec![0.0; m.h],
    };
    for (weight, v) in rows {
        let mean: Vec<f64> = m
            .inputs(&v)
            .into_iter()
            .map(|x| hidden_mean(m.unit, x).expect("checked"))
            .collect();
        for ((gb, gw), &vi) in g.b.iter_mut().zip(g.w.chunks_exact_mut(m.h)).zip(&v) {
            *gb += weight * vi;
            for (gw, &mj) in gw.iter_mut().zip(&mean) {
                *gw += weight * vi * mj;
            }
        }
        for (gc, &mj) in g.c.iter_mut().zip(&mean) {
            *gc += weight * mj;
        }
    }
    g
}

/// The exact positive statistics `⟨v_i E[h_j | v]⟩_data` (and the bias
/// terms) of rows of `data`.
pub fn positive_statistics(rbm: &Rbm, data: &[f32]) -> Result<Gradient, EnumerationError> {
    let m = Model::of(rbm)?;
    let n = (data.len() / m.v) as f64;
    let rows = data
        .chunks_exact(m.v)
        .map(|r| (1.0 / n, r.iter().map(|&x| f64::from(x)).collect()));
    Ok(statistics(&m, rows))
}

/// The model's visible law `p(v)` over the 2^V states (bit i of the index
/// is unit i).
pub fn visible_law(rbm: &Rbm) -> Result<Vec<f64>, EnumerationError> {
    let m = Model::of(rbm)?;
    let log_z = m.log_z();
    Ok((0..1usize << m.v)
        .map(|s| (m.log_unnormalised(&m.state(s)) - log_z).exp())
        .collect())
}

/// The exact negative statistics `⟨v_i E[h_j | v]⟩_model`.
pub fn negative_statistics(rbm: &Rbm) -> Result<Gradient, EnumerationError> {
    let m = Model::of(rbm)?;
    let p = visible_law(rbm)?;
    let rows = p.iter().enumerate().map(|(s, &p)| (p, m.state(s)));
    Ok(statistics(&m, rows))
}

/// The exact gradient of the mean log-likelihood of `data`: positive minus
/// negative statistics.
pub fn gradient(rbm: &Rbm, data: &[f32]) -> Result<Gradient, EnumerationError> {
    let pos = positive_statistics(rbm, data)?;
    let neg = negative_statistics(rbm)?;
    let sub = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x - y).collect();
    Ok(Gradient {
        w: sub(&pos.w, &neg.w),
        b: sub(&pos.b, &neg.b),
        c: sub(&pos.c, &neg.c),
    })
}
