//! Criterion benchmarks of one CD-1 training step against the bare matrix
//! products it is built on.
//!
//! Group `train` (784 visible × 500 hidden, batch 100, Bernoulli visible
//! units; see `benches/support/mod.rs` for the data and settings):
//!
//! * `train/cd1/nrelu`, `train/cd1/bernoulli`: one `Trainer::step` on one
//!   thread, NReLU or Bernoulli hidden units;
//! * `train/cd1_2threads/nrelu`: the same NReLU step on two threads, each
//!   step called from outside the worker pool (so handed to it on its own);
//! * `train/cd1_2threads_in_pool/nrelu`: the same, with criterion's
//!   iterations run inside one `Trainer::in_pool` call, as `train` runs
//!   them;
//! * `train/cd1_momentum/nrelu`: the one-thread NReLU step with momentum
//!   0.5 and weight decay 1e-4;
//! * `train/cd1_centered/bernoulli`: the one-thread Bernoulli step with
//!   centring (rate 0.01), against `train/cd1/bernoulli` (goal: at most
//!   1.05× it);
//! * `train/pcd1_pt{1,2,4}/bernoulli`: one-thread PCD-1 steps with 1
//!   (plain PCD), 2 and 4 tempered chains per persistent chain: how the
//!   cost of a step grows with the chains;
//! * `train/five_sgemm`: the five products of a CD-1 step (`X·W`, `H·Wᵀ`,
//!   `V·W`, `Xᵀ·H`, `−Vᵀ·H`) through `Kernels::product` (padded), with the same shapes
//!   and views: the floor a step is measured against (goal: a one-thread
//!   step within 1.08× of it).
//!
//! Throughput is in rows (100 per step). Run with
//! `cargo bench -p nrelu-rbm --bench train`; the medians and ratios are
//! recorded in `docs/benchmarks.md`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use nrelu_rbm::train::{DEFAULT_CENTERING_RATE, Sampling};
use nrelu_rbm::units::HiddenUnit;
use std::hint::black_box;
use std::time::Duration;

mod support;

use support::{BATCH, Step};

fn train(c: &mut Criterion) {
    let mut group = c.benchmark_group("train");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Elements(BATCH as u64));

    let cases = [
        ("cd1/nrelu", HiddenUnit::Nrelu, 1),
        ("cd1/bernoulli", HiddenUnit::Bernoulli, 1),
        ("cd1_2threads/nrelu", HiddenUnit::Nrelu, 2),
    ];
    for (id, hidden, threads) in cases {
        let mut step = Step::new(hidden, threads);
        group.bench_function(id, |b| b.iter(|| black_box(step.step())));
    }
    let mut step = Step::new(HiddenUnit::Nrelu, 2);
    group.bench_function("cd1_2threads_in_pool/nrelu", |b| {
        b.iter_custom(|iters| {
            let start = std::time::Instant::now();
            black_box(step.steps_in_pool(iters));
            start.elapsed()
        })
    });
    let mut step = Step::with_config(HiddenUnit::Nrelu, &support::config_momentum(1));
    group.bench_function("cd1_momentum/nrelu", |b| b.iter(|| black_box(step.step())));

    let centred = support::config(1).with_centering(Some(DEFAULT_CENTERING_RATE));
    let mut step = Step::with_config(HiddenUnit::Bernoulli, &centred);
    group.bench_function("cd1_centered/bernoulli", |b| {
        b.iter(|| black_box(step.step()))
    });
    for k in [1, 2, 4] {
        let cfg = support::config(1)
            .with_sampling(Sampling::Pcd(1))
            .with_tempering(k);
        let mut step = Step::with_config(HiddenUnit::Bernoulli, &cfg);
        group.bench_function(format!("pcd1_pt{k}/bernoulli"), |b| {
            b.iter(|| black_box(step.step()))
        });
    }

    let mut five = support::five_products();
    group.bench_function("five_sgemm", |b| {
        b.iter(|| {
            five.run();
            black_box(five.outputs());
        })
    });
    group.finish();
}

criterion_group!(benches, train);
criterion_main!(benches);
