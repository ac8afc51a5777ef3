//! Run one fused sampling kernel directly: NReLU hidden samples
//! `max(0, x + N(0, σ(x)))` with `x = V·W + c`, computed as one product
//! followed by one fused bias + sampling pass per row.
//!
//! `cargo run --release --example fused_kernel`
//!
//! The same result from the separate steps (the bare product, then the
//! in-place sampler with the bias) shows what the fused kernel does, and
//! that the fused epilogue draws from the stream identically.

use nrelu_rbm::kernels::{
    Accumulate, Epilogue, Kernels, MatMut, MatRef, Product, Sampler, Stream, active_path,
};
use std::time::Instant;

fn main() {
    let (batch, n_in, n_out) = (256, 784, 500);
    // Deterministic inputs in [0, 1) and small weights.
    let unit =
        |i: usize| ((i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40) as f32 / 16_777_216.0;
    let v: Vec<f32> = (0..batch * n_in).map(unit).collect();
    let w: Vec<f32> = (0..n_in * n_out)
        .map(|i| 0.02 * (unit(i + 7) - 0.5))
        .collect();
    let c: Vec<f32> = (0..n_out).map(|j| -0.5 + unit(j + 3)).collect();
    let (x, wv) = (
        MatRef::row_major(&v, batch, n_in),
        MatRef::row_major(&w, n_in, n_out),
    );
    let k = Kernels::active();

    let mut fused = vec![0.0f32; batch * n_out];
    let t = Instant::now();
    let mut stream = Stream::new(42, 0);
    k.product(
        x,
        wv,
        MatMut::row_major(&mut fused, batch, n_out),
        Product::new(Accumulate::Overwrite)
            .bias(&c)
            .then(Epilogue::Sample(Sampler::Nrelu, &mut stream)),
    );
    let secs = t.elapsed().as_secs_f64();

    // The same thing in separate steps: product, then bias + sampling per row.
    let mut steps = vec![0.0f32; batch * n_out];
    let bare = Product::new(Accumulate::Overwrite).padded();
    k.product(x, wv, MatMut::row_major(&mut steps, batch, n_out), bare);
    let mut stream = Stream::new(42, 0);
    for row in steps.chunks_exact_mut(n_out) {
        k.sample(Sampler::Nrelu, &c, row, &mut stream);
    }
    assert_eq!(
        fused, steps,
        "fused and step-by-step results are bit-identical"
    );

    let zeros = fused.iter().filter(|&&h| h == 0.0).count();
    let mean = fused.iter().map(|&h| f64::from(h)).sum::<f64>() / fused.len() as f64;
    println!("kernel path: {}", active_path());
    println!(
        "{batch} x {n_in} times {n_in} x {n_out} with NReLU sampling: {:.2} ms ({:.1} GFLOP/s)",
        secs * 1e3,
        2.0 * (batch * n_in * n_out) as f64 / secs / 1e9
    );
    println!(
        "{:.1} % of the samples are 0, mean {mean:.3}",
        100.0 * zeros as f64 / fused.len() as f64
    );
}
