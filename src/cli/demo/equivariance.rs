//! The intensity-equivariance measurements of a stack: relative errors
//! of scaled features and changes of cosines under scaling.

use super::{ALPHAS, Budget, Equivariance};
use crate::cli::CliError;
use crate::stack::{Stack, cosine_similarity};

/// ‖a − b‖ / ‖b‖ in f64 (0 when both are zero).
fn relative_error(a: &[f32], b: &[f64]) -> f64 {
    let d: f64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| (f64::from(x) - y).powi(2))
        .sum();
    let n: f64 = b.iter().map(|y| y * y).sum();
    if n == 0.0 {
        if d == 0.0 { 0.0 } else { f64::INFINITY }
    } else {
        (d / n).sqrt()
    }
}

/// Measures `stack` on the first `budget.pair_images` test images at each
/// α of `ALPHAS` and at 3: the largest relative error of the scaled
/// features, and the largest change of a cosine between two images'
/// features when one of them is scaled.
pub(super) fn measure_equivariance(
    name: &'static str,
    stack: &Stack,
    test: &[f32],
    budget: Budget,
) -> Result<Equivariance, CliError> {
    let nv = stack.n_visible();
    let rows = (test.len() / nv).min(budget.pair_images);
    let test = &test[..rows * nv];
    let k = stack.n_output();
    let f = stack.transform(test)?;
    let zero_rows = f
        .chunks_exact(k)
        .filter(|r| r.iter().all(|&v| v == 0.0))
        .count();
    let mut per_alpha = Vec::new();
    for alpha in ALPHAS.into_iter().chain([3.0]) {
        let scaled: Vec<f32> = test.iter().map(|&v| alpha * v).collect();
        let fs = stack.transform(&scaled)?;
        let mut rel: f64 = 0.0;
        for (a, b) in fs.chunks_exact(k).zip(f.chunks_exact(k)) {
            if b.iter().any(|&v| v != 0.0) {
                let want: Vec<f64> = b.iter().map(|&v| f64::from(alpha) * f64::from(v)).collect();
                rel = rel.max(relative_error(a, &want));
            }
        }
        // cos(f(αv_i), f(v_j)) against cos(f(v_i), f(v_j)), all i ≠ j.
        let mut dcos: f64 = 0.0;
        for i in 0..rows {
            let (fi, fsi) = (&f[i * k..(i + 1) * k], &fs[i * k..(i + 1) * k]);
            for j in (0..rows).filter(|&j| j != i) {
                let fj = &f[j * k..(j + 1) * k];
                dcos = dcos.max((cosine_similarity(fsi, fj) - cosine_similarity(fi, fj)).abs());
            }
        }
        per_alpha.push((alpha, rel, dcos));
    }
    Ok(Equivariance {
        name,
        equivariant: stack.is_intensity_equivariant(),
        per_alpha,
        zero_rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_error_handles_zeros() {
        assert_eq!(relative_error(&[0.0, 0.0], &[0.0, 0.0]), 0.0);
        assert_eq!(relative_error(&[1.0], &[0.0]), f64::INFINITY);
        assert!((relative_error(&[2.0, 0.0], &[1.0, 0.0]) - 1.0).abs() < 1e-15);
    }
}
