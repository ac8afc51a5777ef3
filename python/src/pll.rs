//! The exact pseudo-log-likelihood per row, for `score_samples`.
//!
//! The library's `likelihood::pseudo_log_likelihood_rows` computes it;
//! this adds scikit-learn's convention that every finite row gets a value.
//! NReLU units have no energy function of their own: they are evaluated as
//! the stepped sigmoid units they approximate (the same parameters, hidden
//! = ssu), as the library's likelihood functions advise.

use nrelu_rbm::likelihood::pseudo_log_likelihood_rows;
use nrelu_rbm::units::HiddenUnit;
use nrelu_rbm::{Rbm, RbmError};
use std::borrow::Cow;

/// The pseudo-log-likelihood of each row of `data` (rows of
/// `rbm.n_visible()` values, at least one, whole rows: checked by the
/// caller). Deterministic, and each row's value depends on that row only.
///
/// # Errors
/// [`RbmError::InvalidParameter`] for Gaussian visible units,
/// [`RbmError::NonFinite`] naming the first value that is not finite.
pub fn pseudo_log_likelihood_rows_of(rbm: &Rbm, data: &[f32]) -> Result<Vec<f64>, RbmError> {
    let model = if rbm.hidden() == HiddenUnit::Nrelu {
        Cow::Owned(Rbm::from_parts(
            rbm.visible(),
            HiddenUnit::Ssu,
            rbm.weights().to_vec(),
            rbm.visible_bias().to_vec(),
            rbm.hidden_bias().to_vec(),
            None,
        )?)
    } else {
        Cow::Borrowed(rbm)
    };
    pseudo_log_likelihood_rows(&model, data)
}
