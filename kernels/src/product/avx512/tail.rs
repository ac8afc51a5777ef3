//! The fused small-row tail of the AVX-512 product ([`Tail`]): up to 15
//! more rows summed in the same pass over `B`, with the small-row
//! product's arithmetic (`product/small.rs`), so with its bits.

use super::Line;
use crate::product::raw::{Strided, Tail};
use std::arch::x86_64::*;

/// Runs `$body` with `$R` a `usize` constant equal to `$rows` (1..=15,
/// the tail rows): the tail kernels keep their sums in `[__m512; R]`.
macro_rules! with_tail_rows {
    ($rows:expr, $R:ident => $body:expr) => {
        with_tail_rows!(@ $rows, $R, $body, 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15)
    };
    (@ $rows:expr, $R:ident, $body:expr, $($r:literal)*) => {
        match $rows {
            $($r => {
                const $R: usize = $r;
                $body
            })*
            _ => unreachable!("1..=15 tail rows"),
        }
    };
}

/// Adds columns `k0..k0 + kc` of the tail rows times B's rows `k0..` to the
/// running sums of columns `j0..j0 + 16` (one line per tail row), in order
/// of k, with a multiply and an add per term ([`Tail`]).
///
/// # Safety
/// AVX-512F present; the tail rows of A hold columns k0..k0 + kc; B's rows
/// k0..k0 + kc hold the columns j0.. set in `lanes`, adjacent (cs = 1).
#[inline(always)]
pub(super) unsafe fn tail_block(
    t: Tail,
    k0: usize,
    kc: usize,
    b: Strided,
    j0: usize,
    lanes: __mmask16,
    sums: &mut [Line],
) {
    with_tail_rows!(t.rows, R => {
        // SAFETY: forwarded contract.
        unsafe { tail_rows::<R>(t, k0, kc, b, j0, lanes, sums) }
    })
}

/// The dot form of the tail ([`Tail::dots`]) over columns `k0..k0 + kc` of
/// A for B's columns `j0..j0 + nr`: `sums[j·rows + r]` holds the 16
/// partial sums of element (r, j0 + j). Terms past the last whole 16 of the
/// whole `k` go, as in `small.rs` (`dots_in`), to the first partials.
///
/// # Safety
/// AVX-512F present; the tail rows of A hold columns k0..k0 + kc; B's
/// columns j0..j0 + nr hold rows k0..k0 + kc, adjacent (rs = 1);
/// `sums.len() == nr · rows`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn tail_dots(
    t: Tail,
    k0: usize,
    kc: usize,
    k: usize,
    b: Strided,
    j0: usize,
    nr: usize,
    sums: &mut [Line],
) {
    // Blocks of k start at multiples of KC = 256, so the 16-term chunks of
    // a block are the chunks of the whole sum; only the very last can be
    // partial (when k0 + kc == k).
    debug_assert!(k0.is_multiple_of(16) && (k0 + kc == k || kc.is_multiple_of(16)));
    with_tail_rows!(t.rows, R => {
        // Four columns at a time (4·R independent sums), then the rest one
        // by one.
        let mut j = 0;
        while j + 4 <= nr {
            // SAFETY: forwarded contract (columns j0 + j .. j0 + j + 4 <
            // j0 + nr).
            unsafe { dots_block::<R, 4>(t, k0, kc, b, j0 + j, &mut sums[j * R..][..4 * R]) };
            j += 4;
        }
        while j < nr {
            // SAFETY: as above, one column.
            unsafe { dots_block::<R, 1>(t, k0, kc, b, j0 + j, &mut sums[j * R..][..R]) };
            j += 1;
        }
    })
}

/// [`tail_dots`] for `R` rows and the `J` columns `j..j + J` of B, with
/// their `R·J` vectors of partial sums as locals (`sums[jj·R + r]`; in
/// registers while R·J plus the loads fit in 32, as for 4 rows).
///
/// # Safety
/// As [`tail_dots`], for these columns; `t.rows == R`,
/// `sums.len() == R·J`.
#[inline(always)]
unsafe fn dots_block<const R: usize, const J: usize>(
    t: Tail,
    k0: usize,
    kc: usize,
    b: Strided,
    j: usize,
    sums: &mut [Line],
) {
    // SAFETY: columns k0..k0 + kc of the R tail rows of A and rows
    // k0..k0 + kc of B's columns j..j + J are readable (caller); the last
    // chunk's masked loads touch only those; `sums` holds R·J aligned
    // lines.
    unsafe {
        let rows: [*const f32; R] = std::array::from_fn(|r| t.a.offset(r as isize * t.rsa).add(k0));
        let cols: [*const f32; J] =
            std::array::from_fn(|c| b.ptr.offset((j + c) as isize * b.cs + k0 as isize));
        let mut p: [[__m512; R]; J] = std::array::from_fn(|c| {
            std::array::from_fn(|r| _mm512_load_ps(sums[c * R + r].0.as_ptr()))
        });
        let mut l = 0;
        while l + 16 <= kc {
            let av: [__m512; R] = std::array::from_fn(|r| _mm512_loadu_ps(rows[r].add(l)));
            for c in 0..J {
                let bv = _mm512_loadu_ps(cols[c].add(l));
                for r in 0..R {
                    p[c][r] = _mm512_add_ps(p[c][r], _mm512_mul_ps(av[r], bv));
                }
            }
            l += 16;
        }
        if l < kc {
            let m: __mmask16 = ((1u32 << (kc - l)) - 1) as __mmask16;
            let av: [__m512; R] = std::array::from_fn(|r| _mm512_maskz_loadu_ps(m, rows[r].add(l)));
            for c in 0..J {
                let bv = _mm512_maskz_loadu_ps(m, cols[c].add(l));
                for r in 0..R {
                    let prod = _mm512_mul_ps(av[r], bv);
                    p[c][r] = _mm512_mask_add_ps(p[c][r], m, p[c][r], prod);
                }
            }
        }
        for c in 0..J {
            for r in 0..R {
                _mm512_store_ps(sums[c * R + r].0.as_mut_ptr(), p[c][r]);
            }
        }
    }
}

/// The 16 lanes of `v` added pairwise, 16 → 8 → 4 → 2 → 1: lane i plus
/// lane i + 8, then i + 4, i + 2, i + 1 (`small.rs`, `dots_in`).
///
/// # Safety
/// AVX-512F present.
#[inline(always)]
pub(super) unsafe fn pairwise_sum(v: __m512) -> f32 {
    // SAFETY: AVX-512F is present (caller); register-only operations.
    unsafe {
        // (The upper half through the f64 extract: AVX-512F alone.)
        let hi = _mm256_castpd_ps(_mm512_extractf64x4_pd::<1>(_mm512_castps_pd(v)));
        let v8 = _mm256_add_ps(_mm512_castps512_ps256(v), hi);
        let v4 = _mm_add_ps(_mm256_castps256_ps128(v8), _mm256_extractf128_ps::<1>(v8));
        let v2 = _mm_add_ps(v4, _mm_movehl_ps(v4, v4));
        let v1 = _mm_add_ss(v2, _mm_movehdup_ps(v2));
        _mm_cvtss_f32(v1)
    }
}

/// [`tail_block`] for `R` rows, with the sums in registers.
///
/// # Safety
/// As [`tail_block`], with `t.rows == R` and `sums.len() == R`.
#[inline(always)]
unsafe fn tail_rows<const R: usize>(
    t: Tail,
    k0: usize,
    kc: usize,
    b: Strided,
    j0: usize,
    lanes: __mmask16,
    sums: &mut [Line],
) {
    // SAFETY: reads of A's tail rows (columns k0..k0 + kc) and of B's rows
    // k0..k0 + kc (the columns in `lanes`), both inside the ranges the
    // caller guarantees; `sums` holds R aligned lines.
    unsafe {
        let mut s: [__m512; R] = std::array::from_fn(|r| _mm512_load_ps(sums[r].0.as_ptr()));
        let mut bp = b.ptr.wrapping_offset(k0 as isize * b.rs + j0 as isize);
        let a0 = t.a.add(k0);
        for l in 0..kc {
            let bv = _mm512_maskz_loadu_ps(lanes, bp);
            for (r, s) in s.iter_mut().enumerate() {
                let a = _mm512_set1_ps(*a0.offset(r as isize * t.rsa + l as isize));
                *s = _mm512_add_ps(*s, _mm512_mul_ps(a, bv));
            }
            // Wrapping: after the last row this may point past B.
            bp = bp.wrapping_offset(b.rs);
        }
        for (line, s) in sums.iter_mut().zip(&s) {
            _mm512_store_ps(line.0.as_mut_ptr(), *s);
        }
    }
}
