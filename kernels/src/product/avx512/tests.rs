//! Guards of the AVX-512 product against matrixmultiply.

use super::super::tuning::KC;
use super::{ProductJob, Strided, sgemm, sparse};
use crate::Path;

/// `Σ_l b_l` over `k = at + 2` terms through `product` (a 1 × k row of
/// ones times a k × 1 column), with `b[at - 1] = 2^24` and
/// `b[at] = b[at + 1] = 1`: the sum is 2^24 + 2 exactly when a block of
/// `k` restarts the sum at `at` (the block of two ones is then exact),
/// and 2^24 otherwise (each one added to 2^24 rounds back to it, as does
/// 2^24 + 1 ahead of a restart at `at + 1`).
fn sum_across(at: usize, product: impl Fn(usize, &[f32], &[f32]) -> f32) -> f32 {
    let k = at + 2;
    let mut b = vec![0f32; k];
    b[at - 1] = 16_777_216.0;
    b[at] = 1.0;
    b[at + 1] = 1.0;
    product(k, &vec![1f32; k], &b)
}

fn restarts_at(at: usize, product: impl Fn(usize, &[f32], &[f32]) -> f32) -> bool {
    let s = sum_across(at, product);
    assert!(s == 16_777_216.0 || s == 16_777_218.0, "{at}: {s}");
    s == 16_777_218.0
}

fn matrixmultiply(k: usize, a: &[f32], b: &[f32]) -> f32 {
    let mut c = [f32::NAN];
    // SAFETY: a is 1 × k, b is k × 1 (unit strides), c is 1 × 1.
    unsafe {
        matrixmultiply::sgemm(
            1,
            k,
            1,
            1.0,
            a.as_ptr(),
            k as isize,
            1,
            b.as_ptr(),
            1,
            1,
            0.0,
            c.as_mut_ptr(),
            1,
            1,
        )
    };
    c[0]
}

/// The AVX-512 product matches matrixmultiply's bits only if both
/// restart every sum at the same multiples of `k`: this fails if
/// matrixmultiply's f32 block (`S_KC`, or `MATMUL_SGEMM_KC` at its
/// build) is no longer [`KC`], or if the crate's kernel diverges from
/// it.
#[test]
fn kc_matches_matrixmultiply() {
    for at in [KC, 2 * KC] {
        assert!(restarts_at(at, matrixmultiply), "no restart at {at}");
    }
    for at in [KC / 2, KC - 1, KC + 1, KC + KC / 2] {
        assert!(!restarts_at(at, matrixmultiply), "a restart at {at}");
    }
    if !Path::Avx512.is_available() {
        return;
    }
    let own = |k: usize, a: &[f32], b: &[f32]| {
        let mut c = [f32::NAN];
        let job = ProductJob {
            m: 1,
            k,
            n: 1,
            alpha: 1.0,
            a: Strided {
                ptr: a.as_ptr(),
                rs: k as isize,
                cs: 1,
            },
            b: Strided {
                ptr: b.as_ptr(),
                rs: 1,
                cs: 1,
            },
            beta: 0.0,
            c: c.as_mut_ptr(),
            rsc: 1,
        };
        // SAFETY: AVX-512F and DQ are present (checked above); a is
        // 1 × k, b is k × 1, c is 1 × 1, 0 < m <= MAX_M, k, n > 0.
        unsafe { sgemm(job, None) };
        c[0]
    };
    for at in [KC / 2, KC - 1, KC, KC + 1, KC + KC / 2, 2 * KC] {
        assert_eq!(
            sum_across(at, own).to_bits(),
            sum_across(at, matrixmultiply).to_bits(),
            "at {at}"
        );
    }
}

// ---- the sparse kernel: the dense kernels' bits, or nothing.

/// A small deterministic generator for the sparse tests.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 11
    }
    fn uniform(&mut self) -> f32 {
        (self.next() % (1 << 24)) as f32 / (1u32 << 24) as f32
    }
}

/// `len` values, `zeros` sixteenths of them ±0 (both signs), the rest in
/// (−4, 4), with NaN, ±∞, ±1e30 and ±88 sprinkled in when `specials`.
fn sparse_values(len: usize, zeros: u64, specials: bool, seed: u64) -> Vec<f32> {
    let mut g = Lcg(seed);
    let mut v: Vec<f32> = (0..len)
        .map(|_| {
            let r = g.next();
            if r % 16 < zeros {
                if r & 64 == 0 { 0.0 } else { -0.0 }
            } else {
                8.0 * g.uniform() - 4.0
            }
        })
        .collect();
    if specials {
        let s = [
            f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            1e30,
            -1e30,
            88.0,
            -88.0,
        ];
        for (i, x) in v.iter_mut().enumerate().skip(5).step_by(89) {
            *x = s[(i / 89) % s.len()];
        }
    }
    v
}

/// matrixmultiply's `C = α·A·B + β·C` on the same raw parts.
fn matrixmultiply_job(job: ProductJob) {
    // SAFETY: every job below addresses elements inside its test's
    // buffers, and C is an exclusive buffer with unit column stride.
    unsafe {
        matrixmultiply::sgemm(
            job.m,
            job.k,
            job.n,
            job.alpha,
            job.a.ptr,
            job.a.rs,
            job.a.cs,
            job.b.ptr,
            job.b.rs,
            job.b.cs,
            job.beta,
            job.c,
            job.rsc as isize,
            1,
        )
    }
}

fn same_bits_or_nan(x: &[f32], y: &[f32]) -> bool {
    x.iter()
        .zip(y)
        .all(|(a, b)| a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()))
}

/// The job `C = α·A·B + β·C` for an m × k `A` stored in `a` with layout
/// `kind` (0 row-major, 1 column-major, 2 row-major with padded rows;
/// the kernel takes A with contiguous rows or columns), a row-major
/// k × n `B` with row stride `n + pad` and a row-major `C`.
#[allow(clippy::too_many_arguments)]
fn job(
    (m, k, n): (usize, usize, usize),
    kind: usize,
    a: &[f32],
    b: &[f32],
    pad: usize,
    (alpha, beta): (f32, f32),
    c: &mut [f32],
) -> ProductJob {
    let (rs, cs) = match kind {
        0 => (k as isize, 1),
        1 => (1, m as isize),
        _ => (3 * k as isize + 1, 1),
    };
    ProductJob {
        m,
        k,
        n,
        alpha,
        a: Strided {
            ptr: a.as_ptr(),
            rs,
            cs,
        },
        b: Strided {
            ptr: b.as_ptr(),
            rs: (n + pad) as isize,
            cs: 1,
        },
        beta,
        c: c.as_mut_ptr(),
        rsc: n,
    }
}

fn a_len(m: usize, k: usize, kind: usize) -> usize {
    if kind == 2 { m * (3 * k + 1) } else { m * k }
}

#[test]
fn sparse_products_have_the_dense_bits() {
    if !Path::Avx512.is_available() {
        return;
    }
    // m around the 16-row panels (and past the dense kernel's 256), k
    // around the 256-deep blocks, n around 16-column vectors and the
    // 128-column blocks of B.
    let shapes = [
        (1, 1, 1),
        (15, 17, 16),
        (16, 16, 17),
        (17, 255, 15),
        (33, 256, 33),
        (5, 513, 1),
        (96, 784, 500),
        (100, 257, 129),
        (257, 200, 127),
        (784, 200, 500),
        (40, 1003, 31),
    ];
    let scalings = [
        (1.0f32, 0.0f32),
        (1.0, 1.0),
        (-1.0, 1.0),
        (-0.013, 0.9),
        (0.5, -0.0),
    ];
    let mut ran = 0;
    for (s, &(m, k, n)) in shapes.iter().enumerate() {
        for kind in 0..3 {
            for (zeros, specials) in [(12, false), (15, true), (16, false)] {
                let seed = (s * 10 + kind) as u64;
                let a = sparse_values(a_len(m, k, kind), zeros, specials, seed);
                let pad = s % 3;
                let b = sparse_values(k * (n + pad), 3, false, 1000 + seed);
                let c0 = sparse_values(m * n, 0, true, 2000 + seed);
                for &ab in &scalings {
                    let mut want = c0.clone();
                    matrixmultiply_job(job((m, k, n), kind, &a, &b, pad, ab, &mut want));
                    let mut got = c0.clone();
                    // SAFETY: AVX-512 is present (checked above); the job
                    // addresses elements of `a`, `b` and `got` only.
                    let took =
                        unsafe { sparse::sgemm(job((m, k, n), kind, &a, &b, pad, ab, &mut got)) };
                    // Nothing here but the density can make it decline: it
                    // never takes a dense A, and always takes a sparse one
                    // large enough that its first eighth (which it judges
                    // early) cannot pass for dense by chance.
                    let dense =
                        nonzeros(&a, (m, k), kind) * 16 > m * k * sparse::MAX_DENSITY_SIXTEENTHS;
                    let what = format!("{m}×{k}×{n} layout {kind} zeros {zeros}/16");
                    if dense {
                        assert!(!took, "took a dense A: {what}");
                    } else if m * k >= 4096 {
                        assert!(took, "declined a sparse A: {what}");
                    }
                    if !took {
                        assert!(same_bits_or_nan(&got, &c0), "wrote C while declining");
                        continue;
                    }
                    assert!(
                        same_bits_or_nan(&got, &want),
                        "{m}×{k}×{n} layout {kind} zeros {zeros}/16 α, β = {ab:?}"
                    );
                    ran += 1;
                }
            }
        }
    }
    // Only the smallest products, of a handful of terms, may be declined.
    assert!(ran >= (shapes.len() - 4) * 3 * 3 * scalings.len(), "{ran}");
}

/// The nonzero elements of the m × k matrix stored in `a` with `kind`'s
/// layout (as [`job`] reads it).
fn nonzeros(a: &[f32], (m, k): (usize, usize), kind: usize) -> usize {
    let (rs, cs) = match kind {
        0 => (k, 1),
        1 => (1, m),
        _ => (3 * k + 1, 1),
    };
    (0..m)
        .flat_map(|i| (0..k).map(move |l| i * rs + l * cs))
        .filter(|&p| a[p] != 0.0)
        .count()
}

#[test]
fn sparse_products_decline_what_they_cannot_skip_exactly() {
    if !Path::Avx512.is_available() {
        return;
    }
    let (m, k, n) = (20, 40, 33);
    let a = sparse_values(m * k, 12, false, 1);
    let b = sparse_values(k * n, 3, false, 2);
    let declines = |a: &[f32], b: &[f32], why: &str| {
        let c0 = sparse_values(m * n, 0, false, 3);
        let mut c = c0.clone();
        // SAFETY: AVX-512 is present; the job addresses `a`, `b`, `c` only.
        let took = unsafe { sparse::sgemm(job((m, k, n), 0, a, b, 0, (1.0, 1.0), &mut c)) };
        assert!(!took, "took a product with {why}");
        assert!(same_bits_or_nan(&c, &c0), "wrote C while declining ({why})");
    };
    // 0·∞ and 0·NaN are NaN in the dense sum: such terms cannot be left out.
    for bad in [f32::INFINITY, f32::NEG_INFINITY, f32::NAN] {
        let mut b = b.clone();
        b[7 * n + 5] = bad;
        declines(&a, &b, "a non-finite B");
    }
    // A product below 2⁻¹⁴⁹ could round a sum to −0, which a left-out
    // term would then keep (the dense sum turns it back to +0).
    let mut tiny_b = b.clone();
    tiny_b[3] = 1e-20;
    declines(&a, &tiny_b, "a tiny B");
    let mut tiny_a = a.clone();
    tiny_a[m * k - 1] = -1e-30;
    declines(&tiny_a, &b, "a tiny A");
    declines(&sparse_values(m * k, 7, false, 4), &b, "a mostly nonzero A");
    // B with contiguous columns only.
    let mut c = vec![0.0; m * n];
    let mut j = job((m, k, n), 0, &a, &b, 0, (1.0, 0.0), &mut c);
    (j.b.rs, j.b.cs) = (1, k as isize);
    // SAFETY: AVX-512 is present; B is read as its k × n transpose, inside `b`.
    assert!(!unsafe { sparse::sgemm(j) });
    // A with neither its rows nor its columns contiguous.
    let wide = sparse_values(2 * m * k, 12, false, 5);
    let mut j = job((m, k, n), 0, &wide, &b, 0, (1.0, 0.0), &mut c);
    (j.a.rs, j.a.cs) = (2 * k as isize, 2);
    // SAFETY: AVX-512 is present; A is every other element of `wide`.
    assert!(!unsafe { sparse::sgemm(j) });
}

/// The rounding that the tiny-value rule guards against: a product that
/// rounds to −0 leaves a running sum of −0, which the dense sum turns back
/// to +0 on its next, zero, term. If the sparse kernel took such a product
/// it would differ in the sign of a zero, so it must decline it.
#[test]
fn a_left_out_zero_term_would_change_a_negative_zero_sum() {
    let (a, b) = (-1e-30f32, 1e-30f32);
    let sum = a.mul_add(b, 0.0);
    assert!(sum == 0.0 && sum.is_sign_negative());
    let dense = 0.0f32.mul_add(1.0, sum);
    assert!(dense == 0.0 && dense.is_sign_positive());
}
