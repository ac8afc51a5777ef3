//! The AVX-512 product for an `A` with many exact zeros — binary or
//! pixel-like data, sampled binary states, rectified features: each row of
//! `A` is first listed as its nonzero terms, then every element of `C` is
//! summed over those terms only. Rows of `A` go in groups of [`GROUP`]
//! that walk their terms in lockstep (`GROUP · VECS` = 8 independent sums
//! in registers), over a block of [`KC`] rows × [`BLOCK_COLS`] columns of `B`
//! copied to a contiguous, level-1-sized buffer. The work falls with the
//! fraction of zeros; a product whose `A` is mostly nonzero goes to the
//! dense kernels instead (the threshold is [`MAX_DENSITY_SIXTEENTHS`]).
//!
//! # Bits
//! Every element gets exactly the dense kernels' roundings (`super`,
//! "Bits"): in each block of [`KC`] terms the sum starts at +0 and runs
//! `acc = fma(a_il, b_lj, acc)` in order of `l`, and the block ends with
//! the same epilogue ([`super::store_row`]) on the same 16 × 16 tiles of
//! the call. Leaving out a term with `a_il = ±0` is exact when
//! * `b_lj` is finite, so that the term is `±0` (not NaN), and
//! * the running sum is never −0, so that `acc + (±0) = acc`. The sum
//!   starts at +0, and an FMA returns −0 only when the exact sum is −0 or
//!   a negative value that rounds to zero. Exact cancellation gives +0.
//!   If every nonzero `a_il` and `b_lj` is at least [`TINY`] = 2⁻⁵¹ in
//!   magnitude, every product is a multiple of 2⁻¹⁴⁸ and every running
//!   sum a multiple of 2⁻¹⁴⁹, so no nonzero exact sum is small enough to
//!   round to zero.
//!
//! [`sgemm`] checks both conditions (one pass over `A`, which also lists
//! the terms, and one over `B`) and declines the product otherwise, so the
//! caller's dense kernel gives the same bits whenever this one runs.

use super::super::raw::{ProductJob, Strided};
use super::super::tuning::KC;
use super::{Line, ZERO_LINE, store_row};
use std::arch::x86_64::*;
use std::cell::RefCell;

/// The largest fraction of nonzero elements of `A` (numerator over 16)
/// for which the sparse product is used; denser products go to the dense
/// kernels, which then run faster. Chosen for speed only (any value gives
/// the same bits): it is where the two took the same time in the
/// `density_timings` probe (`docs/benchmarks.md`).
pub(crate) const MAX_DENSITY_SIXTEENTHS: usize = 6;

/// The smallest magnitude (2⁻⁵¹) of a nonzero element of `A` or `B` that
/// the sparse product accepts (module docs, "Bits").
pub(crate) const TINY: f32 = f32::from_bits((127 - 51) << 23);

/// Rows of `A` summed together, in lockstep over their terms.
const GROUP: usize = 4;

/// Vectors of 16 columns of `B` per block.
const VECS: usize = 2;

/// Columns of `B` per block: a block of [`KC`] rows of them (32 KB) stays
/// in the level-1 cache while every row group reads it. (Four vectors, a
/// 64 KB block with sixteen sums per group, measured no faster.)
const BLOCK_COLS: usize = 16 * VECS;

/// The nonzero terms of `A`, as listed and as the kernel reads them, and
/// the packed block of `B`.
struct Terms {
    rows: Rows,
    groups: Groups,
    block: Vec<Line>,
}

/// The nonzero terms of each row of `A`: row `i` has `count[i]` of them,
/// at `at[i·k..]` (their indexes `l`, ascending) and `value[i·k..]`.
struct Rows {
    count: Vec<u32>,
    at: Vec<u32>,
    value: Vec<f32>,
}

/// The terms of each group of [`GROUP`] rows in each block of [`KC`]
/// terms, in lockstep: entry `e` of group `g`, block `q` holds one term of
/// each row of the group, at `offset[GROUP·e + r]` (`(l − k0)·BLOCK_COLS`,
/// its row in the packed block of `B`) and
/// `value[GROUP·e + r]`, for `e` in `start[g·blocks + q] ..
/// start[g·blocks + q + 1]`. A row with fewer terms in the block than
/// another of its group is padded with terms of value +0 at row `k0`,
/// which are as exact to add as they were to leave out (module docs).
struct Groups {
    start: Vec<u32>,
    offset: Vec<u32>,
    value: Vec<f32>,
}

thread_local! {
    /// The terms of the current product (grown once per thread, then
    /// reused, so a steady-state training step does not allocate).
    static TERMS: RefCell<Terms> = const {
        RefCell::new(Terms {
            rows: Rows { count: Vec::new(), at: Vec::new(), value: Vec::new() },
            groups: Groups { start: Vec::new(), offset: Vec::new(), value: Vec::new() },
            block: Vec::new(),
        })
    };
}

/// `C = α·A·B + β·C` for `job` through the nonzero terms of `A`, if that
/// is exact and pays: the rows or columns of `A` and the rows of `B`
/// contiguous, at most [`MAX_DENSITY_SIXTEENTHS`] sixteenths of `A`
/// nonzero, and every element of `A` and `B` as the module docs require.
/// Returns `false`, having written nothing, otherwise.
///
/// # Safety
/// AVX-512F must be present; `m, k, n > 0`; every element (i, l) of `a`
/// for i < m, l < k and (l, j) of `b` for l < k, j < n readable; `c + i·rsc
/// + j` writable for i < m, j < n, overlapping neither input.
pub(crate) unsafe fn sgemm(job: ProductJob) -> bool {
    let contiguous = (job.a.cs == 1 || job.a.rs == 1) && job.b.cs == 1;
    let fits = job
        .m
        .checked_mul(job.k)
        .is_some_and(|mk| mk <= u32::MAX as usize);
    if !contiguous || !fits {
        return false;
    }
    TERMS.with(|cell| {
        let mut terms = cell.borrow_mut();
        // SAFETY: this function's contract, forwarded.
        unsafe { sgemm_in(job, &mut terms) }
    })
}

/// [`sgemm`] with the calling thread's buffer.
///
/// # Safety
/// As [`sgemm`], with `a.cs == 1` or `a.rs == 1`, `b.cs == 1` and `m·k ≤
/// u32::MAX`.
#[target_feature(enable = "avx512f")]
unsafe fn sgemm_in(job: ProductJob, terms: &mut Terms) -> bool {
    // SAFETY: AVX-512F present; the elements of A are readable, its rows
    // or columns contiguous (caller).
    if !unsafe { terms.rows.list(job.m, job.k, job.a) } {
        return false;
    }
    // SAFETY: the elements of B are readable, its rows contiguous (caller).
    if !unsafe { b_is_plain(job) } {
        return false;
    }
    terms.groups.lay_out(&terms.rows, job.m, job.k);
    terms.block.resize(KC * VECS, ZERO_LINE);
    // SAFETY: the caller's contract; `groups` lists A's terms (just built)
    // and `block` holds a block of KC rows.
    unsafe { sum_groups(job, &terms.groups, &mut terms.block) };
    true
}

impl Rows {
    /// Lists the nonzero elements of each row of the m × k matrix `a` (rows
    /// or columns contiguous), in order of their column, 16 at a time. Returns
    /// `false` when more than [`MAX_DENSITY_SIXTEENTHS`] sixteenths of them
    /// are nonzero or one is below [`TINY`] in magnitude (NaN and ±∞ are
    /// listed, as any nonzero).
    ///
    /// # Safety
    /// AVX-512F present; `a.cs == 1` or `a.rs == 1`; elements (i, l) of `a`
    /// readable for i < m, l < k; m·k ≤ u32::MAX.
    #[target_feature(enable = "avx512f")]
    unsafe fn list(&mut self, m: usize, k: usize, a: Strided) -> bool {
        self.count.clear();
        self.count.resize(m, 0);
        // Each store writes a whole vector: 16 floats of slack at the end.
        if self.at.len() < m * k + 16 {
            self.at.resize(m * k + 16, 0);
            self.value.resize(m * k + 16, 0.0);
        }
        let (zero, tiny) = (_mm512_setzero_ps(), _mm512_set1_ps(TINY));
        let first = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        if a.cs != 1 {
            // SAFETY: this function's contract, with a.rs == 1 (caller).
            return unsafe { self.list_by_columns(m, k, a) };
        }
        let mut total = 0usize;
        let mut small: __mmask16 = 0;
        for i in 0..m {
            let row = a.ptr.wrapping_offset(i as isize * a.rs);
            let base = i * k;
            let mut count = 0usize;
            let mut l = 0;
            while l < k {
                let lanes = first_lanes(k - l);
                // SAFETY: elements (i, l..l + 16) ∩ (i, ..k), adjacent
                // (cs = 1), readable (caller); the mask covers them only.
                let x = unsafe { _mm512_maskz_loadu_ps(lanes, row.add(l)) };
                // Unordered: NaN is a term like any nonzero.
                let nonzero = _mm512_mask_cmp_ps_mask::<_CMP_NEQ_UQ>(lanes, x, zero);
                small |= _mm512_mask_cmp_ps_mask::<_CMP_LT_OQ>(nonzero, _mm512_abs_ps(x), tiny);
                let at = _mm512_add_epi32(first, _mm512_set1_epi32(l as i32));
                // SAFETY: base + count + 16 ≤ m·k + 16 (count ≤ l < k), the
                // buffers' length; later terms overwrite the excess.
                unsafe {
                    let v = self.value.as_mut_ptr().add(base + count);
                    _mm512_storeu_ps(v, _mm512_maskz_compress_ps(nonzero, x));
                    let t = self.at.as_mut_ptr().add(base + count).cast::<i32>();
                    _mm512_storeu_epi32(t, _mm512_maskz_compress_epi32(nonzero, at));
                }
                count += nonzero.count_ones() as usize;
                l += 16;
            }
            self.count[i] = count as u32;
            total += count;
            if declines(total, (i + 1) * k, m * k, small) {
                return false;
            }
        }
        true
    }

    /// [`Rows::list`] for an `a` whose columns are contiguous (`a.rs ==
    /// 1`): a column at a time, 16 rows at a time, each nonzero appended to
    /// its row's list (which so grows in order of l).
    ///
    /// # Safety
    /// AVX-512F present; `a.rs == 1`; elements (i, l) of `a` readable for
    /// i < m, l < k; m·k ≤ u32::MAX; the buffers sized by [`Rows::list`].
    #[target_feature(enable = "avx512f")]
    unsafe fn list_by_columns(&mut self, m: usize, k: usize, a: Strided) -> bool {
        let zero = _mm512_setzero_ps();
        // Judge the density on the first sixteenth of the columns by
        // counting alone, before any term is appended one by one (this
        // only decides the speed, never the bits).
        let probe = k.div_ceil(16);
        let mut seen_nonzero = 0usize;
        for l in 0..probe {
            let column = a.ptr.wrapping_offset(l as isize * a.cs);
            let mut i0 = 0;
            while i0 < m {
                let lanes = first_lanes(m - i0);
                // SAFETY: elements (i0..i0 + 16 ∩ ..m, l), adjacent (rs =
                // 1), readable (caller); the mask covers them only.
                let x = unsafe { _mm512_maskz_loadu_ps(lanes, column.add(i0)) };
                let nonzero = _mm512_mask_cmp_ps_mask::<_CMP_NEQ_UQ>(lanes, x, zero);
                seen_nonzero += nonzero.count_ones() as usize;
                i0 += 16;
            }
        }
        if seen_nonzero * 16 > probe * m * MAX_DENSITY_SIXTEENTHS {
            return false;
        }
        let tiny = _mm512_set1_ps(TINY);
        let first = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        let (mut values, mut rows) = ([0f32; 16], [0i32; 16]);
        let mut total = 0usize;
        let mut small: __mmask16 = 0;
        for l in 0..k {
            let column = a.ptr.wrapping_offset(l as isize * a.cs);
            let mut i0 = 0;
            while i0 < m {
                let lanes = first_lanes(m - i0);
                // SAFETY: elements (i0..i0 + 16 ∩ ..m, l), adjacent (rs =
                // 1), readable (caller); the mask covers them only.
                let x = unsafe { _mm512_maskz_loadu_ps(lanes, column.add(i0)) };
                let nonzero = _mm512_mask_cmp_ps_mask::<_CMP_NEQ_UQ>(lanes, x, zero);
                small |= _mm512_mask_cmp_ps_mask::<_CMP_LT_OQ>(nonzero, _mm512_abs_ps(x), tiny);
                let at = _mm512_add_epi32(first, _mm512_set1_epi32(i0 as i32));
                // SAFETY: two local arrays of 16 elements.
                unsafe {
                    _mm512_storeu_ps(values.as_mut_ptr(), _mm512_maskz_compress_ps(nonzero, x));
                    _mm512_storeu_epi32(
                        rows.as_mut_ptr(),
                        _mm512_maskz_compress_epi32(nonzero, at),
                    );
                }
                let found = nonzero.count_ones() as usize;
                for (&i, &v) in rows.iter().zip(&values).take(found) {
                    let i = i as usize;
                    let slot = i * k + self.count[i] as usize;
                    self.at[slot] = l as u32;
                    self.value[slot] = v;
                    self.count[i] += 1;
                }
                total += found;
                i0 += 16;
            }
            if declines(total, (l + 1) * m, m * k, small) {
                return false;
            }
        }
        true
    }

    /// Row `i`'s terms: their columns and values.
    fn row(&self, i: usize, k: usize) -> (&[u32], &[f32]) {
        let count = self.count[i] as usize;
        (&self.at[i * k..][..count], &self.value[i * k..][..count])
    }
}

/// The lanes of the first `min(left, 16)` elements.
fn first_lanes(left: usize) -> __mmask16 {
    ((1u32 << left.min(16)) - 1) as __mmask16
}

/// Whether listing stops, with `total` terms found in the first `seen` of
/// the `len` elements of `A`: a tiny value was met (`small`), the terms
/// already pass [`MAX_DENSITY_SIXTEENTHS`] of the whole, or, once an
/// eighth of `A` is seen, of the part seen (the density so far stands for
/// the rest: this decides the speed, never the bits).
fn declines(total: usize, seen: usize, len: usize, small: __mmask16) -> bool {
    let over = |part: usize| total * 16 > part * MAX_DENSITY_SIXTEENTHS;
    small != 0 || over(len) || (seen * 8 >= len && over(seen))
}

/// Whether every element of `B` is finite and either zero or at least
/// [`TINY`] in magnitude.
///
/// # Safety
/// AVX-512F present; elements (l, j) of `b` readable for l < k, j < n, with
/// `b.cs == 1`.
#[target_feature(enable = "avx512f")]
unsafe fn b_is_plain(job: ProductJob) -> bool {
    let (k, n, b) = (job.k, job.n, job.b);
    let bad = _mm512_set1_ps(f32::MAX);
    let tiny = _mm512_set1_ps(TINY);
    let mut ok: __mmask16 = 0xffff;
    for l in 0..k {
        // SAFETY: row l of B (caller).
        let row = unsafe { b.ptr.offset(l as isize * b.rs) };
        let mut j = 0;
        while j < n {
            let lanes = first_lanes(n - j);
            // SAFETY: elements (l, j..j + 16) ∩ (l, ..n) are readable and
            // adjacent (cs = 1); the mask covers them only.
            let v = unsafe { _mm512_maskz_loadu_ps(lanes, row.add(j)) };
            let mag = _mm512_abs_ps(v);
            // Plain: |v| ≤ MAX (finite, false for NaN) and (v = 0 or |v| ≥ TINY).
            let finite = _mm512_cmp_ps_mask::<_CMP_LE_OQ>(mag, bad);
            let big = _mm512_cmp_ps_mask::<_CMP_GE_OQ>(mag, tiny);
            let zero = _mm512_cmp_ps_mask::<_CMP_EQ_OQ>(mag, _mm512_setzero_ps());
            ok &= finite & (big | zero);
            j += 16;
        }
        if ok != 0xffff {
            return false;
        }
    }
    true
}

impl Groups {
    /// Lays out `rows` (the terms of an m × k `A`) by groups and blocks,
    /// with the offsets of their rows of `B` in a packed block.
    fn lay_out(&mut self, rows: &Rows, m: usize, k: usize) {
        let blocks = k.div_ceil(KC);
        self.start.clear();
        self.offset.clear();
        self.value.clear();
        self.start.push(0);
        for g in 0..m.div_ceil(GROUP) {
            let members: [(&[u32], &[f32]); GROUP] = std::array::from_fn(|r| {
                let i = GROUP * g + r;
                if i < m {
                    rows.row(i, k)
                } else {
                    (&[][..], &[][..])
                }
            });
            let mut cursor = [0usize; GROUP];
            for q in 0..blocks {
                let (k0, k1) = (q * KC, ((q + 1) * KC).min(k));
                let ends: [usize; GROUP] = std::array::from_fn(|r| {
                    let (at, _) = members[r];
                    cursor[r] + at[cursor[r]..].partition_point(|&l| (l as usize) < k1)
                });
                let entries = (0..GROUP).map(|r| ends[r] - cursor[r]).max().unwrap_or(0);
                for e in 0..entries {
                    for r in 0..GROUP {
                        let (at, value) = members[r];
                        let t = cursor[r] + e;
                        let (l, v) = if t < ends[r] {
                            (at[t] as usize, value[t])
                        } else {
                            (k0, 0.0)
                        };
                        self.offset.push(((l - k0) * BLOCK_COLS) as u32);
                        self.value.push(v);
                    }
                }
                cursor = ends;
                self.start
                    .push(self.start.last().copied().unwrap_or(0) + entries as u32);
            }
        }
    }
}

/// Every element of `C`: for each block of [`KC`] terms and each block of
/// [`BLOCK_COLS`] columns, the sums of every group of rows, then the
/// block's epilogue.
///
/// # Safety
/// As [`sgemm_in`]; `groups` lays out `job`'s `A` with offsets of rows of
/// `job.b`.
#[target_feature(enable = "avx512f")]
unsafe fn sum_groups(job: ProductJob, groups: &Groups, block: &mut [Line]) {
    let ProductJob {
        m,
        k,
        n,
        alpha,
        b,
        beta,
        c,
        rsc,
        ..
    } = job;
    let blocks = k.div_ceil(KC);
    for q in 0..blocks {
        let (k0, kc) = (q * KC, KC.min(k - q * KC));
        let beta_k = if q == 0 { beta } else { 1.0 };
        let mut j0 = 0;
        while j0 < n {
            let lanes = |j: usize| first_lanes(n.saturating_sub(j));
            let masks: [__mmask16; VECS] = std::array::from_fn(|v| lanes(j0 + 16 * v));
            // SAFETY: rows k0..k0 + kc < k of B, the columns the masks
            // cover (caller); `block` holds KC rows of two lines.
            unsafe { pack(b, k0, kc, j0, masks, block) };
            for g in 0..m.div_ceil(GROUP) {
                let (e0, e1) = (
                    groups.start[g * blocks + q],
                    groups.start[g * blocks + q + 1],
                );
                let span = GROUP * e0 as usize..GROUP * e1 as usize;
                // SAFETY: every offset is (l − k0)·BLOCK_COLS for a row
                // l − k0 < kc of the packed block.
                let acc = unsafe {
                    group_sums(
                        &groups.offset[span.clone()],
                        &groups.value[span],
                        block.as_ptr().cast::<f32>(),
                    )
                };
                for (r, sums) in acc.iter().enumerate() {
                    let i = GROUP * g + r;
                    if i >= m {
                        break;
                    }
                    // The dense kernels' 16 × 16 tiles start at row and
                    // column 0 of the call.
                    let whole_rows = i / 16 * 16 + 16 <= m;
                    for (v, &sum) in sums.iter().enumerate() {
                        if masks[v] == 0 {
                            continue;
                        }
                        let whole = whole_rows && masks[v] == 0xffff;
                        let p = c.wrapping_add(i * rsc + j0 + 16 * v);
                        // SAFETY: AVX-512F present; row i < m of C, the
                        // columns `masks[v]` covers (caller).
                        unsafe { store_row(sum, masks[v], whole, alpha, beta_k, p) };
                    }
                }
            }
            j0 += BLOCK_COLS;
        }
    }
}

/// Copies rows `k0..k0 + kc` of `B`, columns `j0..j0 + BLOCK_COLS` (zeros past
/// the masks), into `block`: contiguous, so that the sums read a few
/// pages from the level-1 cache rather than a line from each of `kc` rows
/// of `B`.
///
/// # Safety
/// AVX-512F present; the elements (k0 + l, j0 + 16v + j) of `b` readable
/// for l < kc and every lane j set in `masks[v]`, with `b.cs == 1`;
/// `block.len() ≥ VECS·kc`.
#[inline(always)]
unsafe fn pack(
    b: Strided,
    k0: usize,
    kc: usize,
    j0: usize,
    masks: [__mmask16; VECS],
    block: &mut [Line],
) {
    for (l, lines) in block.chunks_exact_mut(VECS).take(kc).enumerate() {
        let row = b
            .ptr
            .wrapping_offset((k0 + l) as isize * b.rs)
            .wrapping_add(j0);
        for (v, line) in lines.iter_mut().enumerate() {
            // SAFETY: the masked lanes of this row are readable (caller);
            // each line is 64 aligned, writable bytes.
            unsafe {
                let x = _mm512_maskz_loadu_ps(masks[v], row.wrapping_add(16 * v));
                _mm512_store_ps(line.0.as_mut_ptr(), x);
            }
        }
    }
}

/// The sums of one group of rows over its entries: `acc[r][v]` lane `j` is
/// Σ_e value[GROUP·e + r] · block[offset[GROUP·e + r] + 16v + j], from +0
/// in order of `e`, one FMA per term.
///
/// # Safety
/// AVX-512F present; `block + offset` is `BLOCK_COLS` readable, 64-byte
/// aligned floats for every offset.
#[inline(always)]
unsafe fn group_sums(offset: &[u32], value: &[f32], block: *const f32) -> [[__m512; VECS]; GROUP] {
    // SAFETY: AVX-512F is present and every row of the block addressed is
    // readable and aligned (caller); the rest is register arithmetic.
    unsafe {
        let mut acc = [[_mm512_setzero_ps(); VECS]; GROUP];
        for (offsets, values) in offset.chunks_exact(GROUP).zip(value.chunks_exact(GROUP)) {
            for r in 0..GROUP {
                let a = _mm512_set1_ps(values[r]);
                let row = block.add(offsets[r] as usize);
                for (v, sum) in acc[r].iter_mut().enumerate() {
                    *sum = _mm512_fmadd_ps(a, _mm512_load_ps(row.add(16 * v)), *sum);
                }
            }
        }
        acc
    }
}
