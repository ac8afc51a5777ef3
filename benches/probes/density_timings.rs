//! The sparse AVX-512 product against the dense kernels, by the fraction
//! of nonzero elements in the left operand, alternating the two call by
//! call so that both see the same machine (`docs/benchmarks.md`,
//! "Products on mostly-zero data").
//!
//! ```text
//! cargo run --release --example density_timings
//! ```
//!
//! Two products of a training step with 784 visible and 500 hidden units
//! and batches of 100: `X·W` (unpadded, 100 × 784 · 784 × 500) and the
//! gradient `[X; v⁻]ᵀ·[h⁺; −h⁻]` (784 × 200 · 200 × 500, scaled into W),
//! with d/16 of `X` and `v⁻` nonzero (ones and halves, as binary pixels).
//! "sparse" is the active path (AVX-512: the sparse kernel up to its
//! threshold), "dense" the AVX2 path, which on a CPU with AVX-512 runs
//! matrixmultiply's AVX-512 kernel with the same bits. Each of 15 rounds
//! times 20 calls of each; prints the medians (µs per call) and their
//! ratio per density, one line each.

use nrelu_rbm::kernels::{Accumulate, Kernels, MatMut, MatRef, Path, Product};
use std::hint::black_box;
use std::time::Instant;

#[path = "../support/mod.rs"]
mod support;

use support::{binary_like, median};

const ROUNDS: usize = 15;
const CALLS: usize = 20;

/// Microseconds per call of `f`, over `CALLS` calls.
fn time(mut f: impl FnMut()) -> f64 {
    let t = Instant::now();
    for _ in 0..CALLS {
        f();
    }
    t.elapsed().as_secs_f64() * 1e6 / CALLS as f64
}

fn main() {
    let Some(dense) = Kernels::new(Path::Avx2) else {
        eprintln!("density_timings: this CPU has no AVX2 path to compare with");
        return;
    };
    let sparse = Kernels::active();
    println!(
        "sparse path: {}, dense path: {}",
        sparse.path(),
        dense.path()
    );
    let (m, k, n) = (100usize, 784usize, 500usize);
    let w: Vec<f32> = (0..k * n)
        .map(|i| ((i * 7919) % 1000) as f32 * 1e-5 + 1e-4)
        .collect();
    let h: Vec<f32> = (0..2 * m * n)
        .map(|i| ((i * 104_729) % 1000) as f32 / 1000.0 - 0.4995)
        .collect();
    let mut c = vec![0f32; m * n];
    let mut g = vec![0f32; k * n];
    for d in [2u64, 4, 5, 6, 8, 16] {
        let x = binary_like(m * k, d, 5);
        let xv = binary_like(2 * m * k, d, 7);
        let mut times = [vec![], vec![], vec![], vec![]];
        for _ in 0..ROUNDS {
            for (p, kern) in [sparse, dense].into_iter().enumerate() {
                times[p].push(time(|| {
                    kern.product(
                        MatRef::row_major(&x, m, k),
                        MatRef::row_major(&w, k, n),
                        MatMut::row_major(&mut c, m, n),
                        Product::new(Accumulate::Overwrite),
                    );
                    black_box(&c);
                }));
                times[2 + p].push(time(|| {
                    kern.product(
                        MatRef::row_major(&xv, 2 * m, k).transpose(),
                        MatRef::row_major(&h, 2 * m, n),
                        MatMut::row_major(&mut g, k, n),
                        Product::scaled(1e-6, 1.0),
                    );
                    black_box(&g);
                }));
            }
        }
        let [xs, xd, gs, gd] = times.map(median);
        println!(
            "{d:>2}/16 nonzero: X·W sparse {xs:.0} dense {xd:.0} ratio {:.2} | gradient sparse {gs:.0} dense {gd:.0} ratio {:.2}",
            xs / xd,
            gs / gd
        );
    }
}
