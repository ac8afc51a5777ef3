//! AIS against the exact log Z on a model with one dominant mode far from
//! the base-rate model (the example of `docs/likelihood.md`).
//!
//! `cargo run --release --example ais_dominant_mode`

use nrelu_rbm::likelihood::{AisConfig, ais, base_rate_bias, default_schedule, exact_log_z};
use nrelu_rbm::units::HiddenUnit;
use nrelu_rbm::{Rbm, VisibleUnit};

fn main() -> Result<(), nrelu_rbm::RbmError> {
    let (nv, nh) = (20, 10);
    // Strong positive coupling, negative biases: the all-on state dominates;
    // the base rate is fitted to sparse data, so it starts all-off.
    let rbm = Rbm::from_parts(
        VisibleUnit::Bernoulli,
        HiddenUnit::Bernoulli,
        vec![1.2; nv * nh],
        vec![-3.0; nv],
        vec![-6.0; nh],
        None,
    )?;
    let (exact, _) = exact_log_z(&rbm, 0)?;
    let sparse: Vec<f32> = (0..100 * nv)
        .map(|i| if i % 17 == 0 { 1.0 } else { 0.0 })
        .collect();
    let base = base_rate_bias(&sparse, nv)?;
    println!("exact log Z = {exact:.4}");
    println!("| temperatures | AIS log Z | − exact | ±3 SE band |");
    println!("|---|---|---|---|");
    for n in [50, 500, 5_000, 20_000] {
        let est = ais(
            &rbm,
            &base,
            &AisConfig::new(3)
                .with_runs(100)
                .with_betas(default_schedule(n))
                .with_threads(0),
        )?;
        println!(
            "| {n} | {:.4} | {:+.4} | [{:.4}, {:.4}] |",
            est.log_z,
            est.log_z - exact,
            est.log_z_lower,
            est.log_z_upper
        );
    }
    Ok(())
}
