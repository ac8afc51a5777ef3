//! AIS against the exact log Z on a model with one dominant mode far from
//! the base-rate model (the example of `docs/likelihood.md`).
//!
//! `cargo run --release --example ais_dominant_mode`

use nrelu_rbm::likelihood::{AisConfig, ais, default_schedule, exact_log_z};

mod model;

fn main() -> Result<(), nrelu_rbm::RbmError> {
    // Strong positive coupling, negative biases: the all-on state dominates;
    // the base rate is fitted to sparse data, so it starts all-off.
    let (rbm, base) = model::dominant_mode()?;
    let (exact, _) = exact_log_z(&rbm, 0)?;
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
