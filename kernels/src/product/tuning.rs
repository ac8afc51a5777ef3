//! Tuning constants of the products, in one place. Each one is chosen for
//! speed except [`KC`], which decides bits (a test guards it against
//! matrixmultiply's), and [`SGEMM_ROW_TILE`], which callers that split a
//! product by rows rely on. Figures behind the choices are in
//! `docs/benchmarks.md`.

/// matrixmultiply's block of `k` for f32 (`S_KC` in its
/// `archparam_defaults.rs`, overridable by `MATMUL_SGEMM_KC` when it is
/// built): each element's sum restarts after this many terms, and the
/// restart points decide the bits. The AVX-512 product restarts at the
/// same points; `kc_matches_matrixmultiply` (in `product/avx512/tests.rs`)
/// fails if the two diverge.
pub(crate) const KC: usize = 256;

/// The largest number of rows of `A` (and `C`) the AVX-512 product takes:
/// the packed `Aᵀ` of one block of `k` is then at most `KC · MAX_M` floats
/// (256 KB). Larger products go to matrixmultiply.
pub(crate) const MAX_M: usize = 256;

/// The most lines (64 bytes each) of running sums a fused tail may use per
/// thread: 256 KB, e.g. 4 rows of `H·Wᵀ` with up to 1024 columns (dot
/// form: a line per element) or 15 rows of a row-form product with up to
/// 4369 columns. Larger tails run as a separate pass.
pub(crate) const MAX_TAIL_LINES: usize = 4096;

/// Rows per tile of matrixmultiply's AVX-512 sgemm kernel (its AVX2 kernel
/// uses 8, a divisor): an unpadded product gives sgemm whole tiles only,
/// so callers that split such a product by rows must split at multiples of
/// this to keep the same bits.
pub const SGEMM_ROW_TILE: usize = 16;

/// Rows of A that share each load of B in the small-row product.
pub(super) const SMALL_ROWS: usize = 4;
/// Vectors per row in a tile of the row-major-B loop (a tile is
/// `TILE_VECS · S::LANES` columns; the columns left over go in tiles of one
/// vector).
pub(super) const TILE_VECS: usize = 4;
/// Interleaved partial sums per dot product when B's columns are
/// contiguous (a transposed view such as Wᵀ).
pub(super) const DOT_LANES: usize = 16;
/// Columns of C per block of dot products.
pub(super) const DOT_COLS: usize = 4;
