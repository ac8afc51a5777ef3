//! Sampled NReLU and SSU units at fixed pre-activations.

use super::{Draws, SAMPLE_XS};
use crate::kernels::{Kernels, Stream};

/// `draws` samples of SSU and NReLU at each pre-activation of
/// `SAMPLE_XS` (point `i` from the streams `(seed, 100 + 2i)` and
/// `(seed, 101 + 2i)`).
pub(super) fn sample_units(seed: u64, draws: usize) -> Vec<Draws> {
    let k = Kernels::active();
    SAMPLE_XS
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            let xs = vec![x; draws];
            let mut ssu = vec![0.0; draws];
            let mut nrelu = vec![0.0; draws];
            k.ssu(&xs, &mut ssu, &mut Stream::new(seed, 100 + 2 * i as u64));
            k.nrelu(&xs, &mut nrelu, &mut Stream::new(seed, 101 + 2 * i as u64));
            Draws { x, ssu, nrelu }
        })
        .collect()
}

/// The mean and the (population) variance of `v`, in f64.
pub(super) fn mean_var(v: &[f32]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
    let var = v.iter().map(|&x| (f64::from(x) - m).powi(2)).sum::<f64>() / n;
    (m, var)
}
