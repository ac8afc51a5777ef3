//! Deterministic benchmark inputs shared by `benches/kernels.rs` and
//! `benches/probes/peer_timings.rs`, and reproduced bit for bit by
//! `benches/peers/numpy_kernels.py`.
//!
//! # The formula
//! `hash(s, i)` is a 32-bit integer hash of the stream number `s` and the
//! index `i` (all arithmetic modulo 2^32):
//!
//! ```text
//! h = i·0x9E3779B1 xor s·0x85EBCA77
//! h ^= h >> 16; h = h·0x045D9F3B
//! h ^= h >> 16; h = h·0x045D9F3B
//! h ^= h >> 16
//! U(s, i) = (h >> 8) · 2^-24          (exact in f32, in [0, 1))
//! ```
//!
//! Mixed-range pre-activations (computed in f64, rounded once to f32), with
//! u = U(0, i) and sign = +1 if U(1, i) < 0.5 else -1:
//!
//! * `i % 16 == 5`: sign·(84 + 8u), around the f32 overflow point of exp
//!   (88.72);
//! * `i % 16 == 11`: sign·(92 + 908u), far into saturation (up to ±1000);
//! * otherwise `16u - 8`, the bulk in [-8, 8).
//!
//! Affine inputs: `x[r, c] = U(2, r·n_in + c)` (pixel-like, in [0, 1)),
//! `w[k, j] = 0.1·(U(3, k·n_out + j) - 0.5)` (row-major `n_in × n_out`),
//! `b[j] = U(4, j) - 0.5`.
//!
//! Binary-like operands for the sparse product ([`binary_like`]) come from
//! a xorshift generator instead; no peer rebuilds them.

/// Elements per element-wise benchmark.
pub const N: usize = 50_000;
/// Affine benchmark shape: batch × n_in times n_in × n_out.
pub const BATCH: usize = 100;
/// Input width of the affine benchmark (MNIST pixels).
pub const N_IN: usize = 784;
/// Output width of the affine benchmark.
pub const N_OUT: usize = 500;

/// `U(s, i)` of the module documentation, in f64 (exact).
pub fn unit(s: u32, i: u32) -> f64 {
    let mut h = i.wrapping_mul(0x9E37_79B1) ^ s.wrapping_mul(0x85EB_CA77);
    h ^= h >> 16;
    h = h.wrapping_mul(0x045D_9F3B);
    h ^= h >> 16;
    h = h.wrapping_mul(0x045D_9F3B);
    h ^= h >> 16;
    f64::from(h >> 8) * (1.0 / 16_777_216.0)
}

/// `n` mixed-range pre-activations (see the module documentation).
pub fn mixed_preacts(n: usize) -> Vec<f32> {
    (0..n as u32)
        .map(|i| {
            let u = unit(0, i);
            let sign = if unit(1, i) < 0.5 { 1.0 } else { -1.0 };
            let x = match i % 16 {
                5 => sign * (84.0 + 8.0 * u),
                11 => sign * (92.0 + 908.0 * u),
                _ => 16.0 * u - 8.0,
            };
            x as f32
        })
        .collect()
}

/// `(x, w, b)` for the affine benchmark (see the module documentation).
pub fn affine_inputs() -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let x = (0..(BATCH * N_IN) as u32)
        .map(|i| unit(2, i) as f32)
        .collect();
    let w = (0..(N_IN * N_OUT) as u32)
        .map(|i| (0.1 * (unit(3, i) - 0.5)) as f32)
        .collect();
    let b = (0..N_OUT as u32)
        .map(|i| (unit(4, i) - 0.5) as f32)
        .collect();
    (x, w, b)
}

/// Sum of the f32 bit patterns as integers: an exact fingerprint printed by
/// both sides to show they time the same data.
pub fn fingerprint(v: &[f32]) -> u64 {
    v.iter().map(|&x| u64::from(x.to_bits())).sum()
}

/// The median of timing samples (the upper middle one for an even count).
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// `n` binary-like values (ones and halves, as pixels), `d` sixteenths of
/// them nonzero, from a xorshift generator seeded with `seed`.
// Used by the `product_density` group and the root crate's
// `density_timings` probe, not by every file that includes this module.
#[allow(dead_code)]
pub fn binary_like(n: usize, d: u64, seed: u64) -> Vec<f32> {
    let mut s = seed | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            match s % 16 {
                r if r >= d => 0.0,
                r if r % 4 == 0 => 0.5,
                _ => 1.0,
            }
        })
        .collect()
}
