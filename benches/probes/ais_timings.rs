//! Wall-clock timings of one forward and one reverse AIS job, for the
//! side-by-side comparison with numpy in `benches/peers/run_ais.sh`.
//!
//! ```text
//! cargo run --release --example ais_timings
//! ```
//!
//! The job is that of the criterion bench `benches/ais.rs`, and
//! `benches/peers/numpy_ais.py` rebuilds its inputs bit for bit from the
//! integer hash of `kernels/benches/support/mod.rs`:
//!
//! * a Bernoulli–Bernoulli RBM with 784 visible and 500 hidden units:
//!   `W[k, j] = 0.1·(U(3, k·500 + j) − 0.5)` (uniform in ±0.05), hidden bias
//!   `c[j] = U(4, j) − 0.5`, visible bias `b[i] = U(7, i) − 0.5`;
//! * the base-rate model of 100 binary rows `d[r, i] = [X[r, i] < p_i]` with
//!   `X[r, i] = U(2, r·784 + i)` and `p_i = 0.05 + 0.9·U(8, i)`, through
//!   [`base_rate_bias`];
//! * 100 runs on [`default_schedule`]`(1000)`, seed `0x5eed`;
//! * reverse AIS (`reverse_ais`) on the same model and schedule: 784 visible
//!   and 500 hidden units cannot be enumerated, so run r starts from data
//!   row r mod 100, with no burn-in sweeps (`with_burn_in(0)`), so that
//!   both directions time the same 1000 temperatures.
//!
//! Each of [`ROUNDS`] rounds times one call of each job on one thread and
//! one on all cores, one after the other, so all see the same machine load;
//! the reported figure is the median over rounds. Prints one JSON object per
//! line: first `{"info": "rust", ..}` (fingerprints, kernel path, cores),
//! then `{"bench": "ais" or "reverse_ais", "impl": "ours", "threads": ..,
//! "median_ns": .., "log_z": ..}` lines.

use nrelu_rbm::kernels::active_path;
use nrelu_rbm::likelihood::{AisConfig, ais, default_schedule, reverse_ais};
use std::time::Instant;

#[path = "../support/mod.rs"]
mod support;

/// AIS runs (the batch of chains).
const RUNS: usize = 100;
/// Temperatures of the schedule.
const BETAS: usize = 1000;
/// Seed of the AIS run streams.
const SEED: u64 = 0x5eed;
/// Timed rounds (each: one call on one thread, one on all cores).
const ROUNDS: usize = 5;

fn main() {
    let (rbm, base, data) = support::ais_workload();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "{{\"info\": \"rust\", \"weights_fingerprint\": {}, \"visible_bias_fingerprint\": {}, \"hidden_bias_fingerprint\": {}, \"base_bias_fingerprint\": {}, \"data_fingerprint\": {}, \"active_path\": \"{}\", \"cores\": {cores}, \"rounds\": {ROUNDS}, \"runs\": {RUNS}, \"betas\": {BETAS}}}",
        support::fingerprint(rbm.weights()),
        support::fingerprint(rbm.visible_bias()),
        support::fingerprint(rbm.hidden_bias()),
        support::fingerprint(&base),
        support::fingerprint(&data),
        active_path(),
    );
    let config = |threads| {
        AisConfig::new(SEED)
            .with_runs(RUNS)
            .with_betas(default_schedule(BETAS))
            .with_threads(threads)
            .with_burn_in(0)
    };
    // (bench, threads, settings): forward and reverse, one thread and all.
    let jobs = [
        ("ais", 1usize, config(1)),
        ("ais", cores, config(0)),
        ("reverse_ais", 1, config(1)),
        ("reverse_ais", cores, config(0)),
    ];
    let run = |bench: &str, cfg: &AisConfig| match bench {
        "ais" => ais(&rbm, &base, cfg).expect("AIS runs").log_z,
        _ => {
            reverse_ais(&rbm, &base, &data, cfg)
                .expect("reverse AIS runs")
                .log_z
        }
    };
    // Warm-up: one untimed call of each.
    let log_z: Vec<f64> = jobs.iter().map(|(b, _, cfg)| run(b, cfg)).collect();
    let mut times = vec![Vec::with_capacity(ROUNDS); jobs.len()];
    for _ in 0..ROUNDS {
        for ((bench, _, cfg), t) in jobs.iter().zip(&mut times) {
            let start = Instant::now();
            let lz = run(bench, cfg);
            t.push(start.elapsed().as_nanos() as f64);
            std::hint::black_box(lz);
        }
    }
    for (((bench, threads, _), t), lz) in jobs.iter().zip(times).zip(log_z) {
        println!(
            "{{\"bench\": \"{bench}\", \"impl\": \"ours\", \"threads\": {threads}, \"median_ns\": {:.0}, \"log_z\": {lz:.4}}}",
            support::median(t)
        );
    }
}
