//! Criterion benchmarks of the kernels on every available path, and of the
//! fused product schedules against the bare (padded) product.
//!
//! * group `kernels`: `kernels/<kernel>/<path>` for sigmoid, softplus,
//!   bernoulli, normal, nrelu and ssu on 50,000 mixed-range pre-activations
//!   (most in [-8, 8), some around ±88 where exp overflows, some up to
//!   ±1000; see `benches/support/mod.rs` for the formula);
//! * group `affine`: 100×784 · 784×500 + bias on the active path,
//!   `affine/sgemm` (bare product, one matrixmultiply call),
//!   `affine/unpadded` (the same product as the fused strategies compute
//!   it: sgemm on 96 rows, the small-row kernel on 4) and
//!   `affine/<schedule>/<sampler>`;
//! * group `product_density`: `product_density/<shape>/<path>/<d>` for a
//!   training step's `X·W` (`xw`: 100 × 784 · 784 × 500, unpadded) and
//!   its gradient (`grad`: `[X; v⁻]ᵀ·[h⁺; −h⁻]`, 784 × 200 · 200 × 500,
//!   scaled) with d sixteenths of `A` nonzero (binary-like values), on
//!   the active path (the sparse kernel up to the threshold) and on the
//!   AVX2 path (dense, the same bits on a CPU with AVX-512).
//!
//! Run with `cargo bench -p nrelu-rbm-kernels --bench kernels`; smoke-run
//! with `cargo test -p nrelu-rbm-kernels --benches`. Results are recorded in
//! `docs/benchmarks.md`.

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main};
use nrelu_rbm_kernels::{
    Accumulate, Epilogue, Kernels, MatMut, MatRef, Path, Product, Sampler, Schedule, Stream,
};
use std::hint::black_box;
use std::time::Duration;

#[allow(dead_code)]
mod support;

use support::{BATCH, N, N_IN, N_OUT};

fn configure(group: &mut BenchmarkGroup<'_, WallTime>) {
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2));
}

fn kernels(c: &mut Criterion) {
    let x = support::mixed_preacts(N);
    let mut out = vec![0.0f32; N];
    let mut group = c.benchmark_group("kernels");
    configure(&mut group);
    group.throughput(Throughput::Elements(N as u64));

    type Run = fn(Kernels, &[f32], &mut [f32], &mut Stream);
    let cases: [(&str, Run); 6] = [
        ("sigmoid", |k, x, o, _| k.sigmoid(x, o)),
        ("softplus", |k, x, o, _| k.softplus(x, o)),
        ("bernoulli", |k, x, o, s| k.bernoulli(x, o, s)),
        ("normal", |k, _, o, s| k.standard_normal(s, o)),
        ("nrelu", |k, x, o, s| k.nrelu(x, o, s)),
        ("ssu", |k, x, o, s| k.ssu(x, o, s)),
    ];
    for (name, run) in cases {
        for path in Path::available() {
            let k = Kernels::new(path).expect("available path");
            let mut stream = Stream::new(0x5eed, 1);
            group.bench_function(format!("{name}/{path}"), |b| {
                b.iter(|| {
                    run(k, black_box(&x), &mut out, &mut stream);
                    black_box(&mut out);
                })
            });
        }
    }
    group.finish();
}

fn affine(c: &mut Criterion) {
    let (x, w, bias) = support::affine_inputs();
    let k = Kernels::active();
    let mut out = vec![0.0f32; BATCH * N_OUT];
    let mut group = c.benchmark_group("affine");
    configure(&mut group);
    group.throughput(Throughput::Elements((BATCH * N_OUT) as u64));

    group.bench_function("sgemm", |b| {
        b.iter(|| {
            k.product(
                MatRef::row_major(black_box(&x), BATCH, N_IN),
                MatRef::row_major(black_box(&w), N_IN, N_OUT),
                MatMut::row_major(&mut out, BATCH, N_OUT),
                Product::new(Accumulate::Overwrite).padded(),
            );
            black_box(&mut out);
        })
    });
    group.bench_function("unpadded", |b| {
        b.iter(|| {
            k.product(
                MatRef::row_major(black_box(&x), BATCH, N_IN),
                MatRef::row_major(black_box(&w), N_IN, N_OUT),
                MatMut::row_major(&mut out, BATCH, N_OUT),
                Product::new(Accumulate::Overwrite),
            );
            black_box(&mut out);
        })
    });
    let strategies = [
        ("unfused", Schedule::Unfused),
        ("epilogue", Schedule::Fused),
        ("rowblock16", Schedule::RowBlocked(16)),
        ("rowblock32", Schedule::RowBlocked(32)),
    ];
    let samplers = [("bernoulli", Sampler::Bernoulli), ("nrelu", Sampler::Nrelu)];
    for (sname, sampler) in samplers {
        for (gname, strategy) in strategies {
            let mut stream = Stream::new(0x5eed, 2);
            group.bench_function(format!("{gname}/{sname}"), |b| {
                b.iter(|| {
                    k.product(
                        MatRef::row_major(black_box(&x), BATCH, N_IN),
                        MatRef::row_major(black_box(&w), N_IN, N_OUT),
                        MatMut::row_major(&mut out, BATCH, N_OUT),
                        Product::new(Accumulate::Overwrite)
                            .bias(black_box(&bias))
                            .then(Epilogue::Sample(sampler, &mut stream))
                            .schedule(strategy),
                    );
                    black_box(&mut out);
                })
            });
        }
    }
    group.finish();
}

/// The seed of the binary-like operands of `product_density`.
const SEED: u64 = 0x9e37_79b9_7f4a_7c15;

fn product_density(c: &mut Criterion) {
    let (_, w, _) = support::affine_inputs();
    let h = support::mixed_preacts(2 * BATCH * N_OUT);
    let mut out = vec![0.0f32; BATCH * N_OUT];
    let mut grad = vec![0.0f32; N_IN * N_OUT];
    let mut group = c.benchmark_group("product_density");
    configure(&mut group);
    let paths = [Some(Kernels::active()), Kernels::new(Path::Avx2)];
    for k in paths.into_iter().flatten() {
        for d in [2, 4, 8, 12, 16] {
            let x = support::binary_like(BATCH * N_IN, d, SEED);
            let xv = support::binary_like(2 * BATCH * N_IN, d, SEED);
            group.bench_function(format!("xw/{}/{d}", k.path()), |b| {
                b.iter(|| {
                    k.product(
                        MatRef::row_major(black_box(&x), BATCH, N_IN),
                        MatRef::row_major(black_box(&w), N_IN, N_OUT),
                        MatMut::row_major(&mut out, BATCH, N_OUT),
                        Product::new(Accumulate::Overwrite),
                    );
                    black_box(&mut out);
                })
            });
            group.bench_function(format!("grad/{}/{d}", k.path()), |b| {
                b.iter(|| {
                    k.product(
                        MatRef::row_major(black_box(&xv), 2 * BATCH, N_IN).transpose(),
                        MatRef::row_major(black_box(&h), 2 * BATCH, N_OUT),
                        MatMut::row_major(&mut grad, N_IN, N_OUT),
                        Product::scaled(1e-6, 1.0),
                    );
                    black_box(&mut grad);
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, kernels, affine, product_density);
criterion_main!(benches);
