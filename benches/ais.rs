//! Criterion benchmark of annealed importance sampling, forward and reverse.
//!
//! Group `ais`: one `likelihood::ais` call on a Bernoulli–Bernoulli RBM with
//! 784 visible × 500 hidden units, 100 runs on `default_schedule(1000)`,
//! from the base-rate model of 100 binary rows; on one thread
//! (`ais/runs100/betas1000/threads1`) and two (`.../threads2`). The model
//! and data are those of `benches/probes/ais_timings.rs` (the timer behind
//! `benches/peers/run_ais.sh`), made from the integer hash of
//! `kernels/benches/support/mod.rs`: `W[k, j] = 0.1·(U(3, k·500 + j) − 0.5)`,
//! `c[j] = U(4, j) − 0.5`, `b[i] = U(7, i) − 0.5`, data
//! `d[r, i] = [U(2, r·784 + i) < 0.05 + 0.9·U(8, i)]`.
//!
//! Group `reverse_ais`: one `likelihood::reverse_ais` call on the same model
//! and schedule, run r started from data row r mod 100 with no burn-in
//! sweeps (`with_burn_in(0)`: the same 1000 temperatures as forward AIS).
//!
//! Throughput is in run-temperatures (runs × betas = 100,000 per call).
//! Run with `cargo bench -p nrelu-rbm --bench ais`; the medians are recorded
//! in `docs/benchmarks.md`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use nrelu_rbm::likelihood::{AisConfig, ais, default_schedule, reverse_ais};
use std::hint::black_box;
use std::time::Duration;

mod support;

const RUNS: usize = 100;
const BETAS: usize = 1000;

fn bench_ais(c: &mut Criterion) {
    let (rbm, base, data) = support::ais_workload();
    for name in ["ais", "reverse_ais"] {
        let mut group = c.benchmark_group(name);
        group
            .sample_size(10)
            .warm_up_time(Duration::from_secs(3))
            .measurement_time(Duration::from_secs(25))
            .throughput(Throughput::Elements((RUNS * BETAS) as u64));
        for threads in [1, 2] {
            let cfg = AisConfig::new(0x5eed)
                .with_runs(RUNS)
                .with_betas(default_schedule(BETAS))
                .with_threads(threads)
                .with_burn_in(0);
            group.bench_function(format!("runs{RUNS}/betas{BETAS}/threads{threads}"), |b| {
                b.iter(|| match name {
                    "ais" => black_box(ais(&rbm, &base, &cfg).expect("AIS runs")),
                    _ => {
                        black_box(reverse_ais(&rbm, &base, &data, &cfg).expect("reverse AIS runs"))
                    }
                })
            });
        }
        group.finish();
    }
}

criterion_group!(benches, bench_ais);
criterion_main!(benches);
