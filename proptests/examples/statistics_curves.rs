//! Prints, as CSV on stdout, the exact f64 curves of docs/statistics.md:
//! softplus, σ, the SSU and NReLU means and variances, the deterministic
//! errors of the stepped-sigmoid sums, and W1(NReLU, SSU) with its
//! lattice and shape parts, on x ∈ [−4, 8] (step 0.02).
//!
//! ```text
//! cargo run --release -p nrelu-rbm-proptests --example statistics_curves > docs/img/statistics_curves.csv
//! python3 docs/img/plot_statistics.py   # needs matplotlib
//! ```

use nrelu_rbm::verify::bounds::{sigma_error, softplus_error};
use nrelu_rbm::verify::laws::{Nrelu, sigmoid, softplus, ssu_mean, ssu_variance};
use nrelu_rbm::verify::wasserstein::w1_decomposition;

fn main() {
    println!(
        "x,softplus,sigma,relu,ssu_mean,ssu_var,nrelu_mean,nrelu_var,mean_error,var_error,w1,w1_lattice,w1_shape"
    );
    for i in 0..=600 {
        let x = -4.0 + 0.02 * f64::from(i);
        let m = Nrelu::at(x).moments();
        let d = w1_decomposition(x);
        println!(
            "{x:.2},{:.10e},{:.10e},{:.10e},{:.10e},{:.10e},{:.10e},{:.10e},{:.10e},{:.10e},{:.10e},{:.10e},{:.10e}",
            softplus(x),
            sigmoid(x),
            x.max(0.0),
            ssu_mean(x),
            ssu_variance(x),
            m.mean,
            m.variance,
            softplus_error(x),
            sigma_error(x),
            d.nrelu_ssu,
            d.lattice,
            d.shape
        );
    }
}
