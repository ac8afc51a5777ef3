//! The product family on the AVX-512 path (the crate's own kernel) against
//! matrixmultiply (the same call forced onto the AVX2 path, where the
//! family runs matrixmultiply's sgemm, which picks its own AVX-512 kernel
//! on this kind of machine): the four products of a training step,
//! 784 visible × 500 hidden, in alternating calls.
//!
//! ```text
//! cargo run --release -p nrelu-rbm-kernels --example product_timings
//! ```
//!
//! Prints a markdown table: the median µs per call of each side over
//! `ROUNDS` alternating calls, their ratio, and whether the two results
//! have the same bits (they must). Needs an AVX-512 CPU; on others it says
//! so and exits.

use nrelu_rbm_kernels::{Accumulate, Kernels, MatMut, MatRef, Path, Product};
use std::time::Instant;
use support::{median, unit};

// Only the hash and the median are used here.
#[allow(dead_code)]
#[path = "../support/mod.rs"]
mod support;

/// Alternating calls per product and side.
const ROUNDS: usize = 300;

/// Values in [-0.5, 0.5) from stream `s` of the benchmarks' input hash
/// (`benches/support/mod.rs`).
fn data(n: usize, s: u32) -> Vec<f32> {
    (0..n as u32).map(|i| (unit(s, i) - 0.5) as f32).collect()
}

/// One product `C = α·A·B + β·C` of the step: (A, B, C rows, C cols, α, β).
type Case<'a> = (MatRef<'a>, MatRef<'a>, usize, usize, f32, f32);

fn main() {
    let (Some(own), Some(mm)) = (Kernels::new(Path::Avx512), Kernels::new(Path::Avx2)) else {
        println!("product_timings: needs a CPU with AVX-512 (the own kernel) and AVX2");
        return;
    };
    let (v, h, batch) = (784, 500, 100);
    let x = data(batch * v, 1);
    let w = data(v * h, 2);
    let hid = data(batch * h, 3);
    let xv = data(2 * batch * v, 4);
    let hh = data(2 * batch * h, 5);
    let products: [(&str, bool, Case<'_>); 5] = [
        (
            "X·W, 96 rows",
            false,
            (
                MatRef::row_major(&x[..96 * v], 96, v),
                MatRef::row_major(&w, v, h),
                96,
                h,
                1.0,
                0.0,
            ),
        ),
        (
            "X·W, 100 rows, unpadded",
            true,
            (
                MatRef::row_major(&x, batch, v),
                MatRef::row_major(&w, v, h),
                batch,
                h,
                1.0,
                0.0,
            ),
        ),
        (
            "H·Wᵀ, 96 rows",
            false,
            (
                MatRef::row_major(&hid[..96 * h], 96, h),
                MatRef::row_major(&w, v, h).transpose(),
                96,
                v,
                1.0,
                0.0,
            ),
        ),
        (
            "H·Wᵀ, 100 rows, unpadded",
            true,
            (
                MatRef::row_major(&hid, batch, h),
                MatRef::row_major(&w, v, h).transpose(),
                batch,
                v,
                1.0,
                0.0,
            ),
        ),
        (
            "gradient [X; v]ᵀ·[h; −h] into W (α = −0.001, β = 0.9999; both sides matrixmultiply above 256 rows)",
            false,
            (
                MatRef::row_major(&xv, 2 * batch, v).transpose(),
                MatRef::row_major(&hh, 2 * batch, h),
                v,
                h,
                -0.001,
                0.9999,
            ),
        ),
    ];
    println!("| product | own kernel µs | matrixmultiply µs | own ÷ matrixmultiply | same bits |");
    println!("| --- | ---: | ---: | ---: | --- |");
    for (name, unpadded, (a, b, m, n, alpha, beta)) in products {
        let c0 = data(m * n, 6);
        let run = |kern: Kernels, c: &mut [f32]| {
            c.copy_from_slice(&c0);
            let cm = MatMut::row_major(c, m, n);
            let t = Instant::now();
            if unpadded {
                kern.product(a, b, cm, Product::new(Accumulate::Overwrite));
            } else {
                kern.product(a, b, cm, Product::scaled(alpha, beta));
            }
            t.elapsed().as_secs_f64() * 1e6
        };
        let (mut c_own, mut c_mm) = (vec![0f32; m * n], vec![0f32; m * n]);
        let (mut t_own, mut t_mm) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            t_own.push(run(own, &mut c_own));
            t_mm.push(run(mm, &mut c_mm));
        }
        let same = c_own
            .iter()
            .zip(&c_mm)
            .all(|(p, q)| p.to_bits() == q.to_bits());
        let (o, q) = (median(t_own), median(t_mm));
        println!("| {name} | {o:.0} | {q:.0} | {:.3} | {same} |", o / q);
    }
}
