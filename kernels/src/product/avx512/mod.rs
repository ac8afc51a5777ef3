//! The AVX-512 product: `C = α·A·B + β·C` for products whose `C` has few
//! rows (a mini-batch), without packing `B`.
//!
//! matrixmultiply packs both operands for every call. In a training step
//! `B` is the weight matrix (784 × 500 for MNIST is 1.5 MB, larger than L2), read from
//! memory once per product anyway, and packing it costs a second pass; for
//! `H·Wᵀ` the pack is a transposing one, the slowest. This kernel computes
//! `Cᵀ = Bᵀ·Aᵀ` instead: each 16 × 16 tile of `Cᵀ` broadcasts `B`'s elements
//! straight from the caller's memory (any strides; 16 of them per step of
//! `k`) and multiplies them with 16-wide rows of `Aᵀ`, packed once per block
//! of `k` (`A` is the small operand: at most [`MAX_M`] rows). The finished
//! tile is transposed in registers and stored as 16 rows of `C`. Only a
//! ragged last block of fewer than 16 columns of `B` is copied (next to
//! zeros, once per block of `k`).
//!
//! # Bits
//! Every element of `C` gets exactly the roundings of matrixmultiply's
//! AVX-512 kernel — which matrixmultiply (built with its `avx512` feature)
//! itself runs on every CPU where this kernel can run, whatever path is
//! forced here — so the product family gives the same bits on every path
//! of a machine, NaN payloads aside (`tests/product.rs` compares them bit for
//! bit). On a CPU without AVX-512, matrixmultiply's 8 × 8 AVX2+FMA kernel
//! can round ragged rows and general α, β differently; this kernel does not
//! run there.
//!
//! * `k` is cut into blocks of [`KC`] (matrixmultiply's `S_KC`); in each
//!   block the sum starts at +0 and runs `acc = fma(a_ik, b_kj, acc)` in
//!   order of `k`;
//! * after each block, with β' = β for the first block and 1 after it:
//!   `C = α·acc` when β' = 0 (`C` not read), else `C = fma(α, acc, β'·C)`
//!   on a whole 16 × 16 tile and `C = β'·C + α·acc` (two roundings) on a
//!   ragged tile at the bottom or right edge of the call — tiles start at
//!   row and column 0 in steps of 16, as matrixmultiply's do.
//!
//! # Safety contract
//! [`sgemm`] runs only on the AVX-512 path, whose check confirms AVX-512F
//! and AVX-512DQ (the kernel itself uses only AVX-512F instructions), and
//! only on views that `sgemm::check_gemm` proved to lie inside their
//! slices; every `// SAFETY:` line below refers to those two facts.

use super::Accumulate;
use super::raw::{ProductJob, Strided, Tail, tail_lines};
use super::small::finish_one;
use super::tuning::{KC, MAX_M};
use std::arch::x86_64::*;
use tail::{pairwise_sum, tail_block, tail_dots};

pub(super) mod sparse;
mod tail;
use std::cell::RefCell;

/// One row of 16 floats on a cache line.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Line([f32; 16]);

const ZERO_LINE: Line = Line([0.0; 16]);

thread_local! {
    /// Packed `Aᵀ` for one block of `k` (grown once per thread, then reused,
    /// so a steady-state training step does not allocate).
    static PACKED: RefCell<Vec<Line>> = const { RefCell::new(Vec::new()) };
}

thread_local! {
    /// Running sums of the fused small-row tail (see [`Tail`]).
    static TAIL_SUMS: RefCell<Vec<Line>> = const { RefCell::new(Vec::new()) };
}

/// `C = α·A·B + β·C` for `job` (`A` m × k, `B` k × n, row-major `C` m × n
/// with row stride `rsc`), with `0 < m ≤ MAX_M`, `k > 0`, `n > 0`.
///
/// # Safety
/// AVX-512F must be present. Every element (i, l) of `a` for i < m, l < k,
/// every element (l, j) of `b` for l < k, j < n must be readable, and
/// `c + i·rsc + j` writable for i < m, j < n, with no overlap between `c`
/// and the inputs. With a `tail`: B's rows contiguous (`b.cs == 1`) for the
/// row form, B's columns contiguous (`b.rs == 1`) for the dot form; its
/// `rows` rows of A (k elements each, contiguous) readable, its rows of C
/// (n elements each) readable and writable, overlapping nothing else.
pub(crate) unsafe fn sgemm(job: ProductJob, tail: Option<Tail>) {
    PACKED.with(|cell| {
        TAIL_SUMS.with(|sums| {
            let (mut packed, mut sums) = (cell.borrow_mut(), sums.borrow_mut());
            // SAFETY: this function's own contract, forwarded.
            unsafe { sgemm_packed_in(job, tail, &mut packed, &mut sums) }
        })
    });
}

/// [`sgemm`] with the buffers of the calling thread (a plain function
/// rather than the closure, so that it is compiled for AVX-512).
///
/// # Safety
/// As [`sgemm`].
#[target_feature(enable = "avx512f")]
unsafe fn sgemm_packed_in(
    job: ProductJob,
    tail: Option<Tail>,
    packed: &mut Vec<Line>,
    sums: &mut Vec<Line>,
) {
    let ProductJob {
        m,
        k,
        n,
        alpha,
        a,
        b,
        beta,
        c,
        rsc,
    } = job;
    debug_assert!(m > 0 && m <= MAX_M && k > 0 && n > 0);
    debug_assert!(tail.is_none_or(|t| {
        (if t.dots { b.rs == 1 } else { b.cs == 1 }) && (1..16).contains(&t.rows)
    }));
    let panels = m.div_ceil(16);
    if let Some(t) = tail {
        // Row form: one line per row and 16-column tile; dot form: one line
        // of 16 partial sums per row and column.
        sums.clear();
        sums.resize(tail_lines(n, t), ZERO_LINE);
    }
    if packed.len() < panels * KC {
        packed.resize(panels * KC, ZERO_LINE);
    }
    let mut pad = [ZERO_LINE; KC];
    let mut k0 = 0;
    while k0 < k {
        let kc = KC.min(k - k0);
        let beta_k = if k0 == 0 { beta } else { 1.0 };
        // SAFETY: rows < m and columns k0..k0 + kc < k of `a` are
        // readable (caller); `packed` holds panels · KC lines.
        unsafe { pack_a_transposed(m, kc, a, k0, packed) };
        let mut j0 = 0;
        while j0 < n {
            let nr = 16.min(n - j0);
            // The 16 broadcast columns of B for this tile: straight from
            // B when all 16 exist, else copied next to zeros.
            let (bt, brs, bks) = if nr == 16 {
                // SAFETY: an offset to element (k0, j0) of `b`, which is
                // readable (k0 < k, j0 < n).
                let p = unsafe { b.ptr.offset(k0 as isize * b.rs + j0 as isize * b.cs) };
                (p, b.cs, b.rs)
            } else {
                for (l, line) in pad.iter_mut().enumerate().take(kc) {
                    *line = ZERO_LINE;
                    for (j, v) in line.0.iter_mut().enumerate().take(nr) {
                        // SAFETY: element (k0 + l, j0 + j) of `b` with
                        // l < kc, j < nr: inside k × n, readable.
                        *v = unsafe {
                            *b.ptr
                                .offset((k0 + l) as isize * b.rs + (j0 + j) as isize * b.cs)
                        };
                    }
                }
                (pad.as_ptr().cast::<f32>(), 1, 16)
            };
            let lanes: __mmask16 = ((1u32 << nr) - 1) as __mmask16;
            for p in 0..panels {
                let i0 = p * 16;
                let mr = 16.min(m - i0);
                // SAFETY: `bt` addresses kc × 16 readable floats through
                // (bks, brs) (B itself or `pad`); panel p of `packed`
                // holds kc lines (filled above).
                let acc =
                    unsafe { tile(kc, bt, brs, bks, packed.as_ptr().add(p * KC).cast::<f32>()) };
                let whole = mr == 16 && nr == 16;
                let c_tile = c.wrapping_add(i0 * rsc + j0);
                // SAFETY: AVX-512F is present (caller); rows i < mr of
                // the tile, lanes < nr (`lanes`), are inside C and
                // writable (caller).
                unsafe {
                    transpose16_into(&acc, |i, ab| {
                        if i < mr {
                            store_row(ab, lanes, whole, alpha, beta_k, c_tile.add(i * rsc));
                        }
                    })
                };
            }
            if let Some(t) = tail {
                if t.dots {
                    let col_sums = &mut sums[j0 * t.rows..][..nr * t.rows];
                    // SAFETY: the tail rows of A hold columns k0..k0 +
                    // kc (caller); B's columns j0..j0 + nr hold rows
                    // k0..k0 + kc, adjacent (rs = 1).
                    unsafe { tail_dots(t, k0, kc, k, b, j0, nr, col_sums) };
                } else {
                    let tile_sums = &mut sums[j0 / 16 * t.rows..][..t.rows];
                    // SAFETY: the tail rows of A hold columns k0..k0 + kc
                    // (caller); B's rows k0.. hold columns j0..j0 + nr,
                    // adjacent (cs = 1), and `lanes` masks the rest.
                    unsafe { tail_block(t, k0, kc, b, j0, lanes, tile_sums) };
                }
            }
            j0 += 16;
        }
        k0 += kc;
    }
    if let Some(t) = tail.filter(|t| t.dots) {
        for (j, col_sums) in sums.chunks(t.rows).enumerate() {
            for (r, line) in col_sums.iter().enumerate() {
                // SAFETY: `line` is 64 aligned bytes.
                let v = unsafe { _mm512_load_ps(line.0.as_ptr()) };
                // SAFETY: AVX-512F is present (caller).
                let sum = unsafe { pairwise_sum(v) };
                // SAFETY: element (r, j) of the tail of C, r < rows, j < n
                // (caller).
                let p = unsafe { &mut *t.c.add(r * t.rsc + j) };
                finish_one(t.acc, p, sum);
            }
        }
    }
    if let Some(t) = tail.filter(|t| !t.dots) {
        for (tile, tile_sums) in sums.chunks(t.rows).enumerate() {
            let j0 = tile * 16;
            let lanes: __mmask16 = ((1u32 << 16.min(n - j0)) - 1) as __mmask16;
            for (r, line) in tile_sums.iter().enumerate() {
                let p = t.c.wrapping_add(r * t.rsc + j0);
                // SAFETY: row r < rows of the tail of C holds columns
                // j0..j0 + 16 ∩ 0..n (caller; `lanes` masks the rest);
                // `line` is 64 aligned bytes.
                unsafe {
                    let s = _mm512_load_ps(line.0.as_ptr());
                    let v = match t.acc {
                        Accumulate::Overwrite => s,
                        Accumulate::Add => _mm512_add_ps(_mm512_maskz_loadu_ps(lanes, p), s),
                        Accumulate::Subtract => _mm512_sub_ps(_mm512_maskz_loadu_ps(lanes, p), s),
                    };
                    _mm512_mask_storeu_ps(p, lanes, v);
                }
            }
        }
    }
}

/// Packs columns `k0..k0 + kc` of `A`'s rows as `Aᵀ`, panel by panel: line
/// `p·KC + l` holds A[16p + r][k0 + l] in lane r, and 0 for rows ≥ m.
///
/// # Safety
/// AVX-512F present; elements (i, k0 + l) of `a` readable for i < m, l < kc;
/// `packed.len() ≥ ⌈m/16⌉ · KC`.
#[target_feature(enable = "avx512f")]
unsafe fn pack_a_transposed(m: usize, kc: usize, a: Strided, k0: usize, packed: &mut [Line]) {
    for p in 0..m.div_ceil(16) {
        let i0 = p * 16;
        let rows = 16.min(m - i0);
        let panel = &mut packed[p * KC..(p + 1) * KC];
        if a.cs == 1 {
            // Rows of A are contiguous: transpose 16 × 16 blocks in registers.
            let mut l0 = 0;
            while l0 < kc {
                let w = 16.min(kc - l0);
                let cols: __mmask16 = ((1u32 << w) - 1) as __mmask16;
                let mut blk = [_mm512_setzero_ps(); 16];
                for (r, v) in blk.iter_mut().enumerate().take(rows) {
                    // SAFETY: elements (i0 + r, k0 + l0 .. k0 + l0 + w) of A
                    // are readable (r < rows, l0 + w ≤ kc); the masked load
                    // touches no others.
                    *v = unsafe {
                        _mm512_maskz_loadu_ps(
                            cols,
                            a.ptr.offset((i0 + r) as isize * a.rs + (k0 + l0) as isize),
                        )
                    };
                }
                // The whole 16 lines (l0 + 16 ≤ KC; lines past kc get the
                // zeros of the masked-off columns and are never read).
                let lines = panel[l0..l0 + 16].as_mut_ptr();
                // SAFETY: AVX-512F is present (caller); `lines` points to
                // 16 writable, 64-byte aligned lines of `panel`.
                unsafe {
                    transpose16_into(&blk, |l, v| _mm512_store_ps(lines.add(l).cast::<f32>(), v))
                };
                l0 += 16;
            }
        } else if a.rs == 1 {
            // Columns of A are contiguous: each line is one (masked) load.
            let lanes: __mmask16 = ((1u32 << rows) - 1) as __mmask16;
            for (l, line) in panel.iter_mut().enumerate().take(kc) {
                // SAFETY: elements (i0 .. i0 + rows, k0 + l) of A are
                // readable and adjacent (rs = 1); the mask covers them only.
                let v = unsafe {
                    _mm512_maskz_loadu_ps(
                        lanes,
                        a.ptr.offset(i0 as isize + (k0 + l) as isize * a.cs),
                    )
                };
                // SAFETY: `line` is 64 writable, 64-byte aligned bytes.
                unsafe { _mm512_store_ps(line.0.as_mut_ptr(), v) };
            }
        } else {
            for (l, line) in panel.iter_mut().enumerate().take(kc) {
                *line = ZERO_LINE;
                for (r, v) in line.0.iter_mut().enumerate().take(rows) {
                    // SAFETY: element (i0 + r, k0 + l) of A, readable.
                    *v = unsafe {
                        *a.ptr
                            .offset((i0 + r) as isize * a.rs + (k0 + l) as isize * a.cs)
                    };
                }
            }
        }
    }
}

/// One 16 × 16 tile of `Cᵀ` over `kc` terms: `acc[r]` lane i is
/// Σ_l bt[r·brs + l·bks] · at[16 l + i], summed from +0 in order of `l` with
/// one FMA per term.
///
/// # Safety
/// AVX-512F present; `bt + r·brs + l·bks` readable for r < 16, l < kc;
/// `at` 16·kc readable floats.
#[inline(always)]
unsafe fn tile(kc: usize, bt: *const f32, brs: isize, bks: isize, at: *const f32) -> [__m512; 16] {
    // SAFETY: the caller guarantees the ranges above, and the reads stay
    // inside them (r < 16, l < kc).
    unsafe {
        let mut acc = [_mm512_setzero_ps(); 16];
        let mut bt = bt;
        let mut at = at;
        for _ in 0..kc {
            let row = _mm512_loadu_ps(at);
            for (r, acc) in acc.iter_mut().enumerate() {
                *acc = _mm512_fmadd_ps(_mm512_set1_ps(*bt.offset(r as isize * brs)), row, *acc);
            }
            // Wrapping: after the last step these may point past B (a
            // step of a whole row of B) and one past the panel.
            bt = bt.wrapping_offset(bks);
            at = at.wrapping_add(16);
        }
        acc
    }
}

/// Transposes a 16 × 16 block held as 16 rows (64 shuffles) and hands
/// row `i` of the transpose (column `i` of `r`) to `out(i, row)`, in the
/// order 0, 8, 4, 12, 1, 9, … — straight from registers, so the caller's
/// stores need no staging array.
///
/// # Safety
/// AVX-512F present.
#[inline(always)]
unsafe fn transpose16_into(r: &[__m512; 16], mut out: impl FnMut(usize, __m512)) {
    // SAFETY: AVX-512F is present (caller); register-only shuffles.
    unsafe {
        // Pairs of rows interleaved: t[2g] = rows 2g, 2g+1, elements 0, 1 of
        // each 128-bit lane; t[2g+1] the elements 2, 3.
        let mut t = [_mm512_setzero_ps(); 16];
        for g in 0..8 {
            t[2 * g] = _mm512_unpacklo_ps(r[2 * g], r[2 * g + 1]);
            t[2 * g + 1] = _mm512_unpackhi_ps(r[2 * g], r[2 * g + 1]);
        }
        // u[4q + e]: rows 4q..4q+4, element e of every 128-bit lane L, i.e.
        // columns 4L + e.
        let mut u = [_mm512_setzero_ps(); 16];
        for q in 0..4 {
            let (a0, a1) = (_mm512_castps_pd(t[4 * q]), _mm512_castps_pd(t[4 * q + 1]));
            let (b0, b1) = (
                _mm512_castps_pd(t[4 * q + 2]),
                _mm512_castps_pd(t[4 * q + 3]),
            );
            u[4 * q] = _mm512_castpd_ps(_mm512_unpacklo_pd(a0, b0));
            u[4 * q + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a0, b0));
            u[4 * q + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(a1, b1));
            u[4 * q + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(a1, b1));
        }
        // Gather lane L of the four row groups: column 4L + e.
        for e in 0..4 {
            let x0 = _mm512_shuffle_f32x4::<0b10_00_10_00>(u[e], u[4 + e]);
            let x1 = _mm512_shuffle_f32x4::<0b11_01_11_01>(u[e], u[4 + e]);
            let y0 = _mm512_shuffle_f32x4::<0b10_00_10_00>(u[8 + e], u[12 + e]);
            let y1 = _mm512_shuffle_f32x4::<0b11_01_11_01>(u[8 + e], u[12 + e]);
            out(e, _mm512_shuffle_f32x4::<0b10_00_10_00>(x0, y0));
            out(8 + e, _mm512_shuffle_f32x4::<0b11_01_11_01>(x0, y0));
            out(4 + e, _mm512_shuffle_f32x4::<0b10_00_10_00>(x1, y1));
            out(12 + e, _mm512_shuffle_f32x4::<0b11_01_11_01>(x1, y1));
        }
    }
}

/// Writes one row of a finished tile (`ab` lane j = (A·B)(i, j) for this
/// block of k) into C at `p` with matrixmultiply's epilogue (module docs).
///
/// # Safety
/// AVX-512F present; `p + j` readable and writable for the lanes j set in
/// `lanes`.
#[inline(always)]
unsafe fn store_row(ab: __m512, lanes: __mmask16, whole: bool, alpha: f32, beta: f32, p: *mut f32) {
    // SAFETY: masked loads and stores touch only the lanes in `lanes`,
    // which the caller guarantees.
    unsafe {
        let av = _mm512_set1_ps(alpha);
        let v = if beta == 0.0 {
            _mm512_mul_ps(av, ab)
        } else {
            let cv = _mm512_mul_ps(_mm512_maskz_loadu_ps(lanes, p), _mm512_set1_ps(beta));
            if whole {
                _mm512_fmadd_ps(av, ab, cv)
            } else {
                _mm512_add_ps(cv, _mm512_mul_ps(av, ab))
            }
        };
        _mm512_mask_storeu_ps(p, lanes, v);
    }
}

#[cfg(test)]
mod tests;
