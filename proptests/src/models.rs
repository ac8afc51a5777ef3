//! Small random models with an exact law, shared by the tests that check
//! `Rbm::generate` and `Rbm::gibbs` against it (`tests/generate_exact.rs`,
//! `tests/generate_gaussian.rs`).

use nrelu_rbm::kernels::reference::sigmoid;
use nrelu_rbm::kernels::{Kernels, Path, Stream};
use nrelu_rbm::units::HiddenUnit;
use nrelu_rbm::verify::laws::{binomial_pmf, ssu_pmf};
use nrelu_rbm::{Rbm, VisibleUnit};

/// The hidden unit types with an energy function and an exact law:
/// Bernoulli, binomial(3) and stepped sigmoid.
pub const UNITS: [HiddenUnit; 3] = [
    HiddenUnit::Bernoulli,
    HiddenUnit::binomial_of::<3>(),
    HiddenUnit::Ssu,
];

/// A random `v` × `h` model with `visible` and `hidden` units: weights
/// N(0, 0.8²), biases N(0, 0.5²), drawn in that order on the scalar path
/// from `stream`.
pub fn random_model(
    visible: VisibleUnit,
    hidden: HiddenUnit,
    (v, h): (usize, usize),
    mut stream: Stream,
) -> Rbm {
    let mut z = vec![0.0f32; v * h + v + h];
    Kernels::new(Path::Scalar)
        .unwrap()
        .standard_normal(&mut stream, &mut z);
    let w = z[..v * h].iter().map(|x| 0.8 * x).collect();
    let b = z[v * h..v * h + v].iter().map(|x| 0.5 * x).collect();
    let c = z[v * h + v..].iter().map(|x| 0.5 * x).collect();
    Rbm::from_parts(visible, hidden, w, b, c, None).unwrap()
}

/// The exact pmf of one hidden unit at input `x`, as (value, probability)
/// pairs with probability above 1e−20 (the rest, at most 1e−18 in all, is
/// dropped).
///
/// # Panics
/// For a unit without an exact law here (NReLU).
pub fn hidden_pmf(unit: HiddenUnit, x: f64) -> Vec<(f64, f64)> {
    let pmf = match unit {
        HiddenUnit::Bernoulli => binomial_pmf(1, sigmoid(x)),
        HiddenUnit::Binomial(b) => binomial_pmf(b.k(), sigmoid(x)),
        HiddenUnit::Ssu => ssu_pmf(x),
        other => panic!("{other} has no exact law"),
    };
    pmf.into_iter()
        .enumerate()
        .filter(|&(_, p)| p > 1e-20)
        .map(|(k, p)| (k as f64, p))
        .collect()
}
