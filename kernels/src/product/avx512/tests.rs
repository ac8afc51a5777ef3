//! Guards of the AVX-512 product against matrixmultiply.

use super::super::tuning::KC;
use super::{ProductJob, Strided, sgemm};
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
