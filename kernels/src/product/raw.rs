//! The raw parts of one product, shared by the entry points
//! ([`super::sgemm`]) and the AVX-512 kernel ([`super::avx512`]).

/// A strided read-only matrix: element (i, j) at `ptr + i·rs + j·cs`.
#[derive(Clone, Copy)]
pub(crate) struct Strided {
    pub ptr: *const f32,
    pub rs: isize,
    pub cs: isize,
}

/// One product `C = α·A·B + β·C` in raw parts: A is m × k and B is k × n;
/// C is row-major with row stride `rsc`.
#[derive(Clone, Copy)]
pub(crate) struct ProductJob {
    pub m: usize,
    pub k: usize,
    pub n: usize,
    pub alpha: f32,
    pub a: Strided,
    pub b: Strided,
    pub beta: f32,
    pub c: *mut f32,
    pub rsc: usize,
}

/// Up to 15 more rows of `A` and `C` below the product's rows, computed in
/// the same pass over `B` (while each 16-column block of `B` is in cache)
/// with the small-row kernel's arithmetic instead of the product's: every
/// element is `s = 0; s = s + a_k·b_kj` (a multiply and an add, two
/// roundings) for k = 0, 1, … in order, then `C (= | += | −=) s`
/// (`small.rs`, `rows_times_rows`). So the tail has the same bits as the
/// small-row kernel on every path; only its memory traffic changes (a
/// separate pass reads all of `B` again, from L3 for the trainer's W).
#[derive(Clone, Copy)]
pub(crate) struct Tail {
    /// Row 0 of the tail rows of A; each row contiguous along k.
    pub a: *const f32,
    /// Distance between the tail rows of A.
    pub rsa: isize,
    /// Number of tail rows, 1..=15.
    pub rows: usize,
    /// Row 0 of the tail rows of C.
    pub c: *mut f32,
    /// Distance between the tail rows of C.
    pub rsc: usize,
    /// How `s` goes into C.
    pub acc: super::Accumulate,
    /// The dot form, for B with contiguous columns (`H·Wᵀ`): each element
    /// in 16 interleaved partial sums (term k into partial k mod 16, each
    /// `p = p + a_k·b_kj` in order of k), added pairwise 16 → 8 → 4 → 2 → 1
    /// (`small.rs`, `dots_in`). Otherwise the row form above, for B with
    /// contiguous rows.
    pub dots: bool,
}

/// Lines of running sums `tail` needs for `n` columns.
pub(crate) fn tail_lines(n: usize, tail: Tail) -> usize {
    if tail.dots {
        n * tail.rows
    } else {
        n.div_ceil(16) * tail.rows
    }
}
