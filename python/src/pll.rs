//! The exact pseudo-log-likelihood per row, in f64.
//!
//! `nrelu_rbm::likelihood::pseudo_log_likelihood` gives the average over
//! rows of binary data; `score_samples` needs one value per row and, like
//! scikit-learn's, a value for every finite row. This is the same sum in the
//! same order, kept per row:
//!
//! PLL(v) = Σ_i log σ(F(v⁽ⁱ⁾) − F(v)), where v⁽ⁱ⁾ is v with v_i replaced
//! by 1 − v_i.
//!
//! For binary data that is the exact pseudo-log-likelihood Σ_i log p(v_i |
//! v_−i) (the library's value for each row); for data in between it is the
//! same formula, as scikit-learn's `BernoulliRBM` applies it. NReLU units
//! have no energy function of their own: they are evaluated as the stepped
//! sigmoid units they approximate (the same parameters, hidden = ssu), as
//! the library's likelihood functions advise.

use nrelu_rbm::units::HiddenUnit;
use nrelu_rbm::{Rbm, RbmError, VisibleUnit};

/// ln(1 + e^x) in f64, accurate for every x.
fn softplus(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

/// The hidden contribution log Σ_{h_j} e^{h_j x} of one unit (the SSU sum
/// truncated once x − i + ½ < −40, as in the library).
fn hidden_term(unit: HiddenUnit, x: f64) -> f64 {
    match unit {
        HiddenUnit::Bernoulli => softplus(x),
        HiddenUnit::Binomial(b) => f64::from(b.k()) * softplus(x),
        _ => {
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

/// The pseudo-log-likelihood of each row of `data` (rows of
/// `rbm.n_visible()` values, at least one, whole rows: checked by the
/// caller). Deterministic, and each row's value depends on that row only.
///
/// # Errors
/// [`RbmError::InvalidParameter`] for Gaussian visible units,
/// [`RbmError::NonFinite`] naming the first value that is not finite.
pub fn pseudo_log_likelihood_rows(rbm: &Rbm, data: &[f32]) -> Result<Vec<f64>, RbmError> {
    if rbm.visible() != VisibleUnit::Bernoulli {
        return Err(RbmError::InvalidParameter {
            name: "visible units",
            value: rbm.visible().to_string(),
            expected: "pseudo-likelihood is implemented for Bernoulli visible units",
        });
    }
    let (nv, nh) = (rbm.n_visible(), rbm.n_hidden());
    if let Some(i) = data.iter().position(|x| !x.is_finite()) {
        return Err(RbmError::NonFinite {
            row: i / nv + 1,
            col: i % nv + 1,
            value: data[i],
        });
    }
    let (w, b, c) = (rbm.weights(), rbm.visible_bias(), rbm.hidden_bias());
    let unit = rbm.hidden();
    let mut x = vec![0f64; nh];
    let mut out = Vec::with_capacity(data.len() / nv);
    for v in data.chunks_exact(nv) {
        for (j, xj) in x.iter_mut().enumerate() {
            *xj = f64::from(c[j])
                + v.iter()
                    .enumerate()
                    .map(|(i, &vi)| f64::from(vi) * f64::from(w[i * nh + j]))
                    .sum::<f64>();
        }
        let base: f64 = x.iter().map(|&xj| hidden_term(unit, xj)).sum();
        let mut total = 0f64;
        for (i, &vi) in v.iter().enumerate() {
            // The change of v_i: −1 for a 1, +1 for a 0 (1 − 2 v_i).
            let s = 1.0 - 2.0 * f64::from(vi);
            let flipped: f64 = x
                .iter()
                .enumerate()
                .map(|(j, &xj)| hidden_term(unit, xj + s * f64::from(w[i * nh + j])))
                .sum();
            // −F = bᵀv + hidden terms; F(flip) − F(v) = −(s b_i + flipped − base).
            let df = -(s * f64::from(b[i]) + flipped - base);
            // log σ(df), stably.
            total += -softplus(-df);
        }
        out.push(total);
    }
    Ok(out)
}
