//! The products behind [`crate::Kernels::product`]: the shape checks, the
//! choice between the crate's AVX-512 kernel and matrixmultiply's sgemm,
//! and the unpadded split (whole row tiles through sgemm, the rest through
//! the small-row product or the AVX-512 kernel's fused tail).

use super::Accumulate;
#[cfg(target_arch = "x86_64")]
use super::avx512;
use super::raw::{ProductJob, Strided};
use super::small::SmallProduct;
use super::tuning::SGEMM_ROW_TILE;
#[cfg(target_arch = "x86_64")]
use super::tuning::{MAX_M, MAX_TAIL_LINES};
use super::view::{MatMut, MatRef};
use crate::Path;
use crate::dispatch;

/// The shape checks of every product.
pub(super) fn check_gemm(a: MatRef<'_>, b: MatRef<'_>, c: &MatMut<'_>) {
    assert!(
        a.cols == b.rows,
        "product: A is {} × {} but B is {} × {}",
        a.rows,
        a.cols,
        b.rows,
        b.cols
    );
    a.check("product A");
    b.check("product B");
    let (m, n) = (a.rows, b.cols);
    assert!(
        (c.rows, c.cols) == (m, n),
        "product C: a {} × {} view does not match {m} × {n}",
        c.rows,
        c.cols
    );
}

impl Accumulate {
    /// (α, β) of `C = α·A·B + β·C`.
    fn alpha_beta(self) -> (f32, f32) {
        match self {
            Accumulate::Overwrite => (1.0, 0.0),
            Accumulate::Add => (1.0, 1.0),
            Accumulate::Subtract => (-1.0, 1.0),
        }
    }
}

/// The raw parts of `C = α·A·B + β·C` (the first `a.rows` rows of `c`).
fn product_job(a: MatRef<'_>, b: MatRef<'_>, alpha: f32, beta: f32, c: &MatMut<'_>) -> ProductJob {
    let strided = |v: MatRef<'_>| Strided {
        ptr: v.data.as_ptr(),
        rs: v.row_stride as isize,
        cs: v.col_stride as isize,
    };
    ProductJob {
        m: a.rows,
        k: a.cols,
        n: b.cols,
        alpha,
        a: strided(a),
        b: strided(b),
        beta,
        c: c.ptr,
        rsc: c.row_stride,
    }
}

/// One product on `path`: the crate's AVX-512 kernel on the AVX-512 path
/// for products of at most [`MAX_M`] rows, matrixmultiply's sgemm
/// otherwise. On a CPU with AVX-512 both compute every element with the
/// same roundings (`avx512/mod.rs`, "Bits").
///
/// # Safety
/// m, k, n > 0; every element (i, l) of A and (l, j) of B addressed through
/// the strides is readable, `c + i·rsc + j` is writable for i < m, j < n,
/// and C overlaps neither input.
unsafe fn run(path: Path, job: ProductJob) {
    dispatch::enter_product(path);
    // SAFETY: `enter_product` confirmed the path's features; the view
    // contract is this function's own.
    if unsafe { run_sparse(path, job) } {
        return;
    }
    // SAFETY: as above.
    unsafe { run_dense(path, job) }
}

/// [`run`] through the dense kernels only.
///
/// # Safety
/// As [`run`], after [`dispatch::enter_product`].
unsafe fn run_dense(path: Path, job: ProductJob) {
    #[cfg(target_arch = "x86_64")]
    if path == Path::Avx512 && job.m <= MAX_M {
        // SAFETY: the caller confirmed the AVX-512 path's features on this
        // CPU; the view contract is this function's own (0 < m ≤ MAX_M).
        unsafe { avx512::sgemm(job, None) };
        return;
    }
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
    // SAFETY: this function's contract is matrixmultiply's: the elements it
    // addresses through the strides exist, C is exclusive (csc = 1).
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            alpha,
            a.ptr,
            a.rs,
            a.cs,
            b.ptr,
            b.rs,
            b.cs,
            beta,
            c,
            rsc as isize,
            1,
        );
    }
}

/// The most elements of `A` one attempt of the sparse kernel lists, which
/// bounds its per-thread lists of terms (about 8 bytes an element). A
/// product with more goes in blocks of whole 16-row tiles.
#[cfg(target_arch = "x86_64")]
const SPARSE_ELEMENTS: usize = 1 << 20;

/// The product through the AVX-512 path's sparse kernel, which sums only
/// the nonzero terms of `A`, with the same bits as the dense kernels
/// (`avx512/sparse.rs`): `true` if it ran, `false` (nothing written) on
/// another path or when it declines (`A` mostly nonzero, `B`'s rows not
/// contiguous, values it cannot skip exactly). A tall `A` goes in blocks
/// of rows (multiples of 16, so every tile stays whole or ragged as in the
/// whole product): once the first block has run, a block the sparse
/// kernel declines runs through the dense ones, with the same bits.
///
/// # Safety
/// As [`run`], after [`dispatch::enter_product`].
#[cfg_attr(not(target_arch = "x86_64"), allow(unused_variables))]
unsafe fn run_sparse(path: Path, job: ProductJob) -> bool {
    #[cfg(target_arch = "x86_64")]
    if path == Path::Avx512 {
        let block = (SPARSE_ELEMENTS / job.k / SGEMM_ROW_TILE * SGEMM_ROW_TILE).max(SGEMM_ROW_TILE);
        let mut i0 = 0;
        while i0 < job.m {
            let part = ProductJob {
                m: block.min(job.m - i0),
                a: Strided {
                    ptr: job.a.ptr.wrapping_offset(i0 as isize * job.a.rs),
                    ..job.a
                },
                c: job.c.wrapping_add(i0 * job.rsc),
                ..job
            };
            // SAFETY: the caller confirmed the AVX-512 path's features on
            // this CPU; `part` is rows i0.. of the caller's product, inside
            // its views (m, k, n > 0).
            let ran = unsafe { avx512::sparse::sgemm(part) };
            #[cfg(feature = "test-hooks")]
            if ran {
                dispatch::count_sparse();
            }
            if !ran {
                if i0 == 0 {
                    return false;
                }
                // SAFETY: as above.
                unsafe { run_dense(path, part) };
            }
            i0 += block;
        }
        return true;
    }
    false
}

/// [`run`] of the first `job.m` rows together with up to 15 more rows in
/// the small-row kernel's arithmetic ([`super::raw::Tail`]), in one pass
/// over B: the AVX-512 path's form of an unpadded product. Returns
/// `false`, having done nothing, unless `path` is AVX-512, `0 < m ≤ MAX_M`,
/// B's rows (row form) or columns (dot form) are contiguous and the tail's
/// running sums fit in `MAX_TAIL_LINES` (256 KB per thread); the caller
/// then runs the two parts apart.
///
/// # Safety
/// As [`run`], after [`dispatch::enter_product`]; the tail's rows of A (k
/// elements each, contiguous) are readable and its rows of C (n elements
/// each) writable, overlapping nothing else; 1 ≤ tail rows ≤ 15.
#[cfg(target_arch = "x86_64")]
unsafe fn run_with_tail(path: Path, job: ProductJob, tail: super::raw::Tail) -> bool {
    let b_ok = if tail.dots {
        job.b.rs == 1
    } else {
        job.b.cs == 1
    };
    let small = super::raw::tail_lines(job.n, tail) <= MAX_TAIL_LINES;
    if path != Path::Avx512 || job.m > MAX_M || !b_ok || !small {
        return false;
    }
    // SAFETY: the caller's `enter_product` confirmed the AVX-512 path's
    // features on this CPU; the contract is this function's own (0 < m ≤
    // MAX_M; B's rows contiguous for the row form, its columns for the dot
    // form, checked above; the tail's sums within MAX_TAIL_LINES).
    unsafe { avx512::sgemm(job, Some(tail)) };
    true
}

/// `C = α·A·B + β·C` as one product (C not read when β = 0). Shapes
/// already checked.
pub(super) fn scaled(
    path: Path,
    a: MatRef<'_>,
    b: MatRef<'_>,
    alpha: f32,
    beta: f32,
    c: MatMut<'_>,
) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        // A·B is zero: C = β·C, and 0 when β = 0 (C not read).
        let mut c = c;
        for i in 0..m {
            let row = c.row_mut(i);
            if beta == 0.0 {
                row.fill(0.0);
            } else if beta != 1.0 {
                row.iter_mut().for_each(|v| *v *= beta);
            }
        }
        return;
    }
    let job = product_job(a, b, alpha, beta, &c);
    // SAFETY: `check_gemm` (run by every caller: `MatRef::check`) proved
    // that every element (i, j) of A (m × k) and B (k × n) addressed
    // through its strides lies inside its slice; `c` is an m × n view (row
    // stride `row_stride`, columns adjacent) of an exclusively borrowed
    // allocation that holds every one of its elements (MatMut invariant),
    // so it overlaps neither input. Strides fit in isize because they index
    // within allocations. m, k, n > 0 (checked above).
    unsafe { run(path, job) };
}

/// Rows `0..split` of `C (= | += | −=) A·B` as one product and the rest
/// through the small-row kernel (or, on the AVX-512 path, the same pass's
/// fused tail). Everything is one product when there is no rest, the
/// product is empty, or the views are outside the small kernel's contract
/// (A with contiguous rows, B with contiguous rows or columns). Shapes
/// already checked.
pub(super) fn split(
    path: Path,
    a: MatRef<'_>,
    b: MatRef<'_>,
    acc: Accumulate,
    c: MatMut<'_>,
    split: usize,
) {
    let (alpha, beta) = acc.alpha_beta();
    let small_ok = a.col_stride == 1 && (b.col_stride == 1 || b.row_stride == 1);
    if split >= a.rows || a.cols == 0 || b.cols == 0 || !small_ok {
        return scaled(path, a, b, alpha, beta, c);
    }
    // Whether rows 0..split are done, by the sparse kernel, before the
    // small rows.
    #[cfg_attr(not(target_arch = "x86_64"), allow(unused_mut))]
    let mut top_done = false;
    #[cfg(target_arch = "x86_64")]
    if split > 0 && a.rows - split < SGEMM_ROW_TILE {
        let job = product_job(a.rows_range(0, split), b, alpha, beta, &c);
        dispatch::enter_product(path);
        // SAFETY: the shapes were checked by the caller (`check_gemm`), rows
        // 0..split of A and C form the product (m, k, n > 0 here), C is an
        // exclusive view (MatMut invariant); `enter_product` checked the
        // path. The small rows then go through the small-row kernel below,
        // whose bits the fused tail has too.
        top_done = unsafe { run_sparse(path, job) };
        if !top_done {
            let tail = super::raw::Tail {
                a: a.data.as_ptr().wrapping_add(split * a.row_stride),
                rsa: a.row_stride as isize,
                rows: a.rows - split,
                c: c.ptr.wrapping_add(split * c.row_stride),
                rsc: c.row_stride,
                acc,
                // As the small-row kernel chooses (`small.rs`, `small_rows`).
                dots: b.col_stride != 1,
            };
            // SAFETY: the shapes were checked by the caller (`check_gemm`:
            // every element of A and B addressed through the strides is
            // inside its slice); rows 0..split of A and C form the product
            // (m, k, n > 0 here), rows split.. of A (contiguous rows,
            // `small_ok`) and of C the tail, with 1 ≤ tail rows ≤ 15; C is
            // an exclusive view (MatMut invariant), so nothing overlaps;
            // `enter_product` checked the path.
            if unsafe { run_with_tail(path, job, tail) } {
                return;
            }
        }
    }
    let (top, bottom) = c.split_at_row(split);
    if split > 0 && !top_done {
        scaled(path, a.rows_range(0, split), b, alpha, beta, top);
    }
    let job = SmallProduct {
        a: a.rows_range(split, a.rows),
        b,
        acc,
        c: bottom,
    };
    dispatch::run(path, job);
}

/// The first row that an unpadded product of `m` rows does not give to
/// sgemm: whole tiles of [`SGEMM_ROW_TILE`] rows go there.
pub(super) fn unpadded_split(m: usize) -> usize {
    m / SGEMM_ROW_TILE * SGEMM_ROW_TILE
}
