//! Single-threaded timings of the kernels for the side-by-side comparison
//! with numpy in `benches/peers/run.sh`.
//!
//! ```text
//! cargo run --release -p nrelu-rbm-kernels --example peer_timings
//! ```
//!
//! The `uniform` lines time the bare random stream (xoshiro256++ words to
//! uniform f32), the floor under every sampler.
//!
//! Prints one JSON object per line:
//! `{"kernel": .., "path": .., "median_ns": .., "elements": ..}` where
//! `median_ns` is the median wall time of one call (std::time::Instant; each
//! sample times enough back-to-back calls to last about 1 ms). Element-wise
//! kernels run on every available path on the 50,000 mixed-range
//! pre-activations of `benches/support/mod.rs` (the same formula as
//! `benches/peers/numpy_kernels.py`). The affine timings (100×784 times
//! 784×500 plus bias, active path) interleave the bare sgemm with each fused variant,
//! sample by sample, so that both see the same machine load; their lines
//! also carry `"vs_sgemm"`, the ratio of the fused median to the sgemm
//! median of the same pairing. The `affine_epilogue` lines pair the default
//! strategy with its own unpadded product instead (`"vs_product"`: the cost
//! of bias, activation and sampling over the product they follow). A first
//! line `{"info": ..}` gives the data fingerprints, the paths and the
//! default affine strategy.

use nrelu_rbm_kernels::{
    Accumulate, Epilogue, Kernels, MatMut, MatRef, Path, Product, Sampler, Schedule, Stream,
    active_path,
};
use std::hint::black_box;
use std::time::Instant;

#[path = "../support/mod.rs"]
mod support;

use support::{BATCH, N, N_IN, N_OUT, median};

/// Samples per timing.
const SAMPLES: usize = 51;
/// Target duration of one sample.
const SAMPLE_NS: u128 = 1_000_000;

/// Calls per sample so that one sample lasts about [`SAMPLE_NS`].
fn calibrate(f: &mut impl FnMut()) -> u32 {
    for _ in 0..3 {
        f(); // warm up caches and the branch predictor
    }
    let t = Instant::now();
    f();
    let once = t.elapsed().as_nanos().max(1);
    (SAMPLE_NS / once).clamp(1, 10_000) as u32
}

/// Nanoseconds per call, averaged over one sample of `reps` calls.
fn sample(f: &mut impl FnMut(), reps: u32) -> f64 {
    let t = Instant::now();
    for _ in 0..reps {
        f();
    }
    t.elapsed().as_nanos() as f64 / f64::from(reps)
}

/// Median nanoseconds per call of `f`.
fn time(mut f: impl FnMut()) -> f64 {
    let reps = calibrate(&mut f);
    median((0..SAMPLES).map(|_| sample(&mut f, reps)).collect())
}

/// Medians of `a` and `b`, timed in alternating samples.
fn time_pair(mut a: impl FnMut(), mut b: impl FnMut()) -> (f64, f64) {
    let ra = calibrate(&mut a);
    let rb = calibrate(&mut b);
    let mut ta = Vec::with_capacity(SAMPLES);
    let mut tb = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        ta.push(sample(&mut a, ra));
        tb.push(sample(&mut b, rb));
    }
    (median(ta), median(tb))
}

fn line(kernel: &str, path: Path, median_ns: f64, elements: usize, extra: &str) {
    println!(
        "{{\"kernel\": \"{kernel}\", \"path\": \"{path}\", \"median_ns\": {median_ns:.0}, \"elements\": {elements}{extra}}}"
    );
}

fn main() {
    let x = support::mixed_preacts(N);
    let (ax, aw, ab) = support::affine_inputs();
    let available: Vec<String> = Path::available()
        .iter()
        .map(|p| format!("\"{p}\""))
        .collect();
    println!(
        "{{\"info\": \"rust\", \"preacts_fingerprint\": {}, \"affine_fingerprint\": [{}, {}, {}], \"active_path\": \"{}\", \"available_paths\": [{}], \"default_strategy\": \"{:?}\"}}",
        support::fingerprint(&x),
        support::fingerprint(&ax),
        support::fingerprint(&aw),
        support::fingerprint(&ab),
        active_path(),
        available.join(", "),
        Schedule::DEFAULT
    );

    let mut out = vec![0.0f32; N];
    type Run = fn(Kernels, &[f32], &mut [f32], &mut Stream);
    let cases: [(&str, Run); 6] = [
        ("uniform", |k, _, o, s| k.uniform(s, o)),
        ("sigmoid", |k, x, o, _| k.sigmoid(x, o)),
        ("softplus", |k, x, o, _| k.softplus(x, o)),
        ("bernoulli", |k, x, o, s| k.bernoulli(x, o, s)),
        ("nrelu", |k, x, o, s| k.nrelu(x, o, s)),
        ("normal", |k, _, o, s| k.standard_normal(s, o)),
    ];
    for (name, run) in cases {
        for path in Path::available() {
            let k = Kernels::new(path).expect("available path");
            let mut stream = Stream::new(0x5eed, 1);
            let ns = time(|| {
                run(k, black_box(&x), &mut out, &mut stream);
                black_box(&mut out);
            });
            line(name, path, ns, N, "");
        }
    }

    let k = Kernels::active();
    // The bare product `Y = X·W` as one padded call.
    let bare = |y: &mut [f32]| {
        k.product(
            MatRef::row_major(black_box(&ax), BATCH, N_IN),
            MatRef::row_major(black_box(&aw), N_IN, N_OUT),
            MatMut::row_major(y, BATCH, N_OUT),
            Product::new(Accumulate::Overwrite).padded(),
        );
        black_box(y);
    };
    let elements = BATCH * N_OUT;
    let mut y0 = vec![0.0f32; elements];
    let mut y1 = vec![0.0f32; elements];
    let mut stream = Stream::new(0x5eed, 2);
    let strategies = [
        ("default", Schedule::DEFAULT),
        ("unfused", Schedule::Unfused),
        ("epilogue", Schedule::Fused),
        ("rowblock16", Schedule::RowBlocked(16)),
        ("rowblock32", Schedule::RowBlocked(32)),
    ];
    let samplers = [("bernoulli", Sampler::Bernoulli), ("nrelu", Sampler::Nrelu)];
    // The fused transform, as each pairing below times it.
    let fused_call = |strategy, sampler, stream: &mut Stream, y: &mut [f32]| {
        k.product(
            MatRef::row_major(black_box(&ax), BATCH, N_IN),
            MatRef::row_major(black_box(&aw), N_IN, N_OUT),
            MatMut::row_major(y, BATCH, N_OUT),
            Product::new(Accumulate::Overwrite)
                .bias(black_box(&ab))
                .then(Epilogue::Sample(sampler, stream))
                .schedule(strategy),
        );
        black_box(y);
    };
    for (sname, sampler) in samplers {
        for (gname, strategy) in strategies {
            let (bare, fused) = time_pair(
                || bare(&mut y0),
                || fused_call(strategy, sampler, &mut stream, &mut y1),
            );
            let extra = format!(
                ", \"strategy\": \"{gname}\", \"sampler\": \"{sname}\", \"sgemm_ns\": {bare:.0}, \"vs_sgemm\": {:.4}",
                fused / bare
            );
            line(
                &format!("affine_{sname}"),
                k.path(),
                fused,
                elements,
                &extra,
            );
        }
    }
    // The epilogue alone: the default strategy paired with its own product
    // (`Product::new`, unpadded: the same rows through sgemm and the small-row
    // kernel, no bias and no sampling), so that the ratio is the cost of
    // the bias, activation and sampling over the product it runs on.
    for (sname, sampler) in samplers {
        let (product, fused) = time_pair(
            || {
                k.product(
                    MatRef::row_major(black_box(&ax), BATCH, N_IN),
                    MatRef::row_major(black_box(&aw), N_IN, N_OUT),
                    MatMut::row_major(&mut y0, BATCH, N_OUT),
                    Product::new(Accumulate::Overwrite),
                );
                black_box(&mut y0);
            },
            || fused_call(Schedule::DEFAULT, sampler, &mut stream, &mut y1),
        );
        let extra = format!(
            ", \"sampler\": \"{sname}\", \"product_ns\": {product:.0}, \"vs_product\": {:.4}",
            fused / product
        );
        line("affine_epilogue", k.path(), fused, elements, &extra);
    }
    // A plain sgemm line (its own timing, not paired) for the peer table.
    let ns = time(|| bare(&mut y0));
    line("sgemm", k.path(), ns, elements, "");
}
