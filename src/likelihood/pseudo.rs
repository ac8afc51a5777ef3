//! The exact pseudo-log-likelihood, per row and averaged.

use super::{hidden_term, require_bernoulli_visible, require_binary, require_energy, softplus};
use crate::error::{Result, check_finite};
use crate::rbm::Rbm;

/// The pseudo-log-likelihood of each row of `data`, in f64:
/// PLL(v) = Σ_i log σ(F(v⁽ⁱ⁾) − F(v)), where v⁽ⁱ⁾ is v with v_i replaced
/// by 1 − v_i. Every coordinate is summed; a row's value depends on that
/// row alone, so it does not change with the order of the rows or with
/// subsets.
///
/// For binary rows this is the exact Σ_i log p(v_i | v_−i). Rows with
/// values between 0 and 1 get the same formula (as scikit-learn's
/// `BernoulliRBM.score_samples` applies it), which is then no longer a
/// likelihood. Bernoulli visible units only; NReLU models are refused, as
/// everywhere in this module (evaluate the stepped sigmoid model with the
/// same parameters).
///
/// Cost: V·H evaluations of the hidden term per row.
///
/// ```
/// use nrelu_rbm::{Rbm, VisibleUnit, units::HiddenUnit};
/// use nrelu_rbm::likelihood::pseudo_log_likelihood_rows;
/// let rbm = Rbm::new(3, 2, VisibleUnit::Bernoulli, HiddenUnit::Bernoulli, 1)?;
/// let pll = pseudo_log_likelihood_rows(&rbm, &[1.0, 0.0, 1.0, 0.0, 0.0, 0.0])?;
/// assert_eq!(pll.len(), 2);
/// assert!(pll.iter().all(|&p| p < 0.0));
/// # Ok::<(), nrelu_rbm::RbmError>(())
/// ```
pub fn pseudo_log_likelihood_rows(rbm: &Rbm, data: &[f32]) -> Result<Vec<f64>> {
    require_energy(rbm)?;
    require_bernoulli_visible(
        rbm,
        "pseudo-likelihood is implemented for Bernoulli visible units",
    )?;
    rbm.check_input("visible data", data, rbm.n_visible)?;
    check_finite(data, rbm.n_visible)?;
    let nh = rbm.n_hidden;
    let mut x = vec![0f64; nh];
    let rows = data.chunks_exact(rbm.n_visible);
    Ok(rows.map(|v| row_pll(rbm, v, &mut x)).collect())
}

/// One row's pseudo-log-likelihood; `x` is scratch of H values.
fn row_pll(rbm: &Rbm, v: &[f32], x: &mut [f64]) -> f64 {
    let nh = rbm.n_hidden;
    for (j, xj) in x.iter_mut().enumerate() {
        *xj = f64::from(rbm.hidden_bias[j])
            + v.iter()
                .enumerate()
                .map(|(i, &vi)| f64::from(vi) * f64::from(rbm.weights[i * nh + j]))
                .sum::<f64>();
    }
    let base: f64 = x.iter().map(|&xj| hidden_term(rbm.hidden, xj)).sum();
    let mut total = 0f64;
    for (i, &vi) in v.iter().enumerate() {
        // The change of v_i: −1 for a 1, +1 for a 0 (1 − 2 v_i).
        let s = 1.0 - 2.0 * f64::from(vi);
        let w = &rbm.weights[i * nh..(i + 1) * nh];
        let flipped: f64 = x
            .iter()
            .zip(w)
            .map(|(&xj, &wij)| hidden_term(rbm.hidden, xj + s * f64::from(wij)))
            .sum();
        // −F = bᵀv + hidden terms; F(flip) − F(v) = −(s b_i + flipped − base).
        let df = -(s * f64::from(rbm.visible_bias[i]) + flipped - base);
        // log σ(df), stably.
        total += -softplus(-df);
    }
    total
}

/// The exact pseudo-log-likelihood of binary data, averaged over rows:
/// (1/N) Σ_n Σ_i log p(v_ni | v_n,−i), where
/// p(v_i | v_−i) = σ(F(v with v_i flipped) − F(v)) (the mean of
/// [`pseudo_log_likelihood_rows`]). Every coordinate is summed
/// (scikit-learn's `score_samples` instead scales one random coordinate by
/// V). All in f64.
pub fn pseudo_log_likelihood(rbm: &Rbm, data: &[f32]) -> Result<f64> {
    require_energy(rbm)?;
    require_bernoulli_visible(
        rbm,
        "pseudo-likelihood is implemented for Bernoulli visible units",
    )?;
    let rows = rbm.check_input("visible data", data, rbm.n_visible)?;
    require_binary(data, rbm.n_visible)?;
    let per_row = pseudo_log_likelihood_rows(rbm, data)?;
    Ok(per_row.iter().sum::<f64>() / rows as f64)
}
