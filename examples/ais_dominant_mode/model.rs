//! The example's model, whose mass sits in one mode far from the base-rate
//! model. The library's AIS tests use it too (`src/likelihood/tests.rs`).

use nrelu_rbm::likelihood::base_rate_bias;
use nrelu_rbm::units::HiddenUnit;
use nrelu_rbm::{Rbm, RbmError, VisibleUnit};

/// A 20 × 10 Bernoulli RBM whose all-on state dominates (strong positive
/// coupling, negative biases), and the base-rate visible biases of sparse
/// data, from which AIS starts all-off: with short schedules forward AIS
/// falls tens of nats below log Z and reverse AIS lies as far above.
pub fn dominant_mode() -> Result<(Rbm, Vec<f32>), RbmError> {
    let (nv, nh) = (20, 10);
    let rbm = Rbm::from_parts(
        VisibleUnit::Bernoulli,
        HiddenUnit::Bernoulli,
        vec![1.2; nv * nh],
        vec![-3.0; nv],
        vec![-6.0; nh],
        None,
    )?;
    let sparse: Vec<f32> = (0..100 * nv)
        .map(|i| if i % 17 == 0 { 1.0 } else { 0.0 })
        .collect();
    let base = base_rate_bias(&sparse, nv)?;
    Ok((rbm, base))
}
