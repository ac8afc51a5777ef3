//! Helpers shared by the kernel tests.
#![allow(dead_code)]

pub mod forms;

use nrelu_rbm_kernels::{Binomial, Kernels, Path};

/// Lane widths of the paths, for the awkward sizes.
pub fn lanes(path: Path) -> usize {
    path.lanes()
}

/// Binomial(K) units for a K the test knows is valid.
pub fn bin(k: u32) -> Binomial {
    Binomial::new(k).expect("a valid K")
}

/// Sizes 0, 1, lane-1, lane, lane+1, and 1000+3, plus the random-block
/// edges 15, 16, 17, 31, 32, 33.
pub fn sizes(path: Path) -> Vec<usize> {
    let l = lanes(path);
    let mut v = vec![
        0,
        1,
        l.saturating_sub(1),
        l,
        l + 1,
        15,
        16,
        17,
        31,
        32,
        33,
        1003,
    ];
    v.sort_unstable();
    v.dedup();
    v
}

/// Every path this machine can run, as `Kernels`.
pub fn all_kernels() -> Vec<Kernels> {
    Path::available()
        .into_iter()
        .map(|p| Kernels::new(p).expect("available"))
        .collect()
}

/// Special inputs every element-wise test must include.
pub const SPECIALS: [f32; 13] = [
    0.0,
    -0.0,
    88.0,
    -88.0,
    1e30,
    -1e30,
    f32::INFINITY,
    f32::NEG_INFINITY,
    f32::NAN,
    80.0,
    -80.0,
    f32::MIN_POSITIVE,
    -f32::MIN_POSITIVE,
];

/// `n` inputs: the specials first (cycled), then a deterministic sweep over
/// [-100, 100] with irregular spacing.
pub fn inputs(n: usize) -> Vec<f32> {
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    (0..n)
        .map(|i| {
            if i < SPECIALS.len() {
                SPECIALS[i]
            } else {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let u = (state >> 40) as f32 / (1u64 << 24) as f32;
                match i % 3 {
                    0 => (u - 0.5) * 200.0,
                    1 => (u - 0.5) * 20.0,
                    _ => (u - 0.5) * 2.0,
                }
            }
        })
        .collect()
}

/// A dense grid over [lo, hi] that includes both ends.
pub fn grid(lo: f32, hi: f32, n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| lo + (hi - lo) * i as f32 / (n - 1) as f32)
        .collect()
}

/// A NaN-filled output buffer of length `n` plus `pad` guard cells.
pub fn nan_buf(n: usize, pad: usize) -> Vec<f32> {
    vec![f32::NAN; n + pad]
}

/// Asserts the guard cells past `n` are still NaN (no stray writes).
pub fn assert_guard(buf: &[f32], n: usize, what: &str) {
    assert!(
        buf[n..].iter().all(|v| v.is_nan()),
        "{what}: wrote past the end (n = {n})"
    );
}

/// Bit-exact equality that treats NaN payloads as equal only when identical.
pub fn same_bits(a: &[f32], b: &[f32]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}
