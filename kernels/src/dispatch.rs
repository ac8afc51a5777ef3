//! Run-time choice of the kernel path: the one place per kernel family where
//! an instruction set is selected.
//!
//! [`Path::best`] picks AVX-512 (AVX-512F), then AVX2 (AVX2 + FMA), then the
//! portable `wide` path, detected with `is_x86_feature_detected!` on the
//! running CPU, so a binary built for baseline x86-64 still uses AVX2 or
//! AVX-512 where the machine has them. The environment variable
//! `NRELU_RBM_KERNEL=scalar|portable|avx2|avx512` forces a path (read once,
//! at the first kernel call). Each family records the path it last ran, and
//! [`last_path`] reports it, so a test can prove that a forced path really
//! ran.

use crate::body::{self, Input, MapOp, RandomOp};
use crate::simd::XoState;
use crate::simd::portable::Portable;
use crate::simd::scalar::Scalar;
use crate::update::UpdateJob;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU8, Ordering};

/// A kernel implementation: one instruction set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Path {
    /// Plain Rust, one element at a time: the executable reference.
    Scalar,
    /// `wide` 4-lane vectors (SSE2 on baseline x86-64, NEON on AArch64).
    Portable,
    /// AVX2 + FMA, 8 lanes (`std::arch`, chosen at run time).
    Avx2,
    /// AVX-512F, 16 lanes (`std::arch`, chosen at run time).
    Avx512,
}

/// The environment variable that forces a path.
pub const KERNEL_ENV: &str = "NRELU_RBM_KERNEL";

impl Path {
    /// Every path, slowest first.
    pub const ALL: [Path; 4] = [Path::Scalar, Path::Portable, Path::Avx2, Path::Avx512];

    /// The name used by [`KERNEL_ENV`] and in benchmark ids.
    pub fn name(self) -> &'static str {
        match self {
            Path::Scalar => "scalar",
            Path::Portable => "portable",
            Path::Avx2 => "avx2",
            Path::Avx512 => "avx512",
        }
    }

    /// Parses a name produced by [`Path::name`].
    ///
    /// ```
    /// use nrelu_rbm_kernels::Path;
    /// assert_eq!(Path::from_name("avx2"), Some(Path::Avx2));
    /// assert_eq!(Path::from_name("sse9"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<Path> {
        Path::ALL.into_iter().find(|p| p.name() == name)
    }

    /// Whether this CPU can run the path.
    pub fn is_available(self) -> bool {
        match self {
            Path::Scalar | Path::Portable => true,
            #[cfg(target_arch = "x86_64")]
            Path::Avx2 => {
                std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
            }
            #[cfg(target_arch = "x86_64")]
            Path::Avx512 => {
                std::arch::is_x86_feature_detected!("avx512f")
                    && std::arch::is_x86_feature_detected!("avx512dq")
            }
            #[cfg(not(target_arch = "x86_64"))]
            Path::Avx2 | Path::Avx512 => false,
        }
    }

    /// The paths this CPU can run, slowest first.
    pub fn available() -> Vec<Path> {
        Path::ALL.into_iter().filter(|p| p.is_available()).collect()
    }

    /// The fastest available path.
    pub fn best() -> Path {
        *Path::available()
            .last()
            .expect("scalar is always available")
    }
}

impl std::fmt::Display for Path {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The path the free functions of this crate use: the one forced by
/// [`KERNEL_ENV`] if it is set and available, else [`Path::best`].
///
/// An unknown or unavailable forced path is reported once on standard error
/// and ignored; [`forced_path`] lets a test detect that.
pub fn active_path() -> Path {
    static ACTIVE: OnceLock<Path> = OnceLock::new();
    *ACTIVE.get_or_init(|| match forced_path() {
        None => Path::best(),
        Some(Ok(p)) if p.is_available() => p,
        Some(Ok(p)) => {
            eprintln!(
                "{KERNEL_ENV}={p}: this CPU cannot run that path; using {}",
                Path::best()
            );
            Path::best()
        }
        Some(Err(v)) => {
            eprintln!(
                "{KERNEL_ENV}={v:?} is not one of scalar, portable, avx2, avx512; using {}",
                Path::best()
            );
            Path::best()
        }
    })
}

/// The path requested through [`KERNEL_ENV`]: `None` if unset or empty,
/// `Err(value)` if it names no path.
pub fn forced_path() -> Option<Result<Path, String>> {
    let v = std::env::var(KERNEL_ENV).ok()?;
    let v = v.trim();
    if v.is_empty() {
        return None;
    }
    Some(Path::from_name(v).ok_or_else(|| v.to_string()))
}

/// A family of kernels that share one dispatch point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// Deterministic element-wise maps: sigmoid, softplus, relu, unit means.
    Map,
    /// Everything that draws from a [`crate::Stream`].
    Random,
    /// The streaming passes of an optimiser step: [`crate::Kernels::sgd_update`],
    /// [`crate::Kernels::column_sums`], [`crate::Kernels::squared_distance`],
    /// [`crate::Kernels::all_finite`].
    Update,
    /// The matrix products behind [`crate::Kernels::gemm_into`],
    /// [`crate::Kernels::gemm_scaled_into`], the fused affine transforms and
    /// [`crate::Kernels::sgemm`]. The AVX-512 path runs the crate's own kernel
    /// (products of at most 256 rows; `docs/kernels.md`, "Products"), every
    /// other path matrixmultiply's sgemm, which picks its own instruction
    /// set; on a machine with AVX-512 that is matrixmultiply's AVX-512
    /// kernel, whose bits the crate's kernel reproduces (NaN payloads
    /// aside).
    Product,
}

static LAST: [AtomicU8; 4] = [
    AtomicU8::new(u8::MAX),
    AtomicU8::new(u8::MAX),
    AtomicU8::new(u8::MAX),
    AtomicU8::new(u8::MAX),
];

fn record(family: Family, path: Path) {
    LAST[family as usize].store(path as u8, Ordering::Relaxed);
}

/// The path that `family`'s dispatch point ran most recently (in any
/// thread), or `None` before its first call.
pub fn last_path(family: Family) -> Option<Path> {
    Path::ALL
        .get(LAST[family as usize].load(Ordering::Relaxed) as usize)
        .copied()
}

fn check(path: Path) {
    assert!(
        path.is_available(),
        "kernel path {path} is not available on this CPU"
    );
}

// ---------------------------------------------------------------- map family

/// The map family's dispatch point.
pub(crate) fn map(path: Path, op: MapOp, x: Input<'_>, bias: &[f32], out: &mut [f32]) {
    check(path);
    record(Family::Map, path);
    match path {
        Path::Scalar => body::map::<Scalar>(op, x, bias, out),
        Path::Portable => body::map::<Portable>(op, x, bias, out),
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `check` confirmed AVX2 and FMA on this CPU, the features
        // `map_avx2` is compiled for.
        Path::Avx2 => unsafe { x86::map_avx2(op, x, bias, out) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `check` confirmed AVX-512F on this CPU, the feature
        // `map_avx512` is compiled for.
        Path::Avx512 => unsafe { x86::map_avx512(op, x, bias, out) },
        #[cfg(not(target_arch = "x86_64"))]
        Path::Avx2 | Path::Avx512 => unreachable!("checked above"),
    }
}

// ------------------------------------------------------------- random family

/// Work for the random family.
pub(crate) enum RandomJob<'a> {
    /// A float kernel.
    Floats {
        op: RandomOp,
        x: Input<'a>,
        bias: &'a [f32],
        out: &'a mut [f32],
        /// Elements per row (`out.len()` for one row); divides `out.len()`.
        row_len: usize,
    },
    /// Whole blocks of raw words.
    Words(&'a mut [u32]),
}

#[inline(always)]
fn random_body<S: crate::simd::Simd>(job: RandomJob<'_>, state: &mut XoState) {
    match job {
        RandomJob::Floats {
            op,
            x,
            bias,
            out,
            row_len,
        } => body::random::<S>(op, x, bias, out, row_len, state),
        RandomJob::Words(out) => S::fill_words(state, out),
    }
}

/// The random family's dispatch point.
pub(crate) fn random(path: Path, job: RandomJob<'_>, state: &mut XoState) {
    check(path);
    record(Family::Random, path);
    match path {
        Path::Scalar => random_body::<Scalar>(job, state),
        Path::Portable => random_body::<Portable>(job, state),
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `check` confirmed AVX2 and FMA on this CPU, the features
        // `random_avx2` is compiled for.
        Path::Avx2 => unsafe { x86::random_avx2(job, state) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `check` confirmed AVX-512F on this CPU, the feature
        // `random_avx512` is compiled for.
        Path::Avx512 => unsafe { x86::random_avx512(job, state) },
        #[cfg(not(target_arch = "x86_64"))]
        Path::Avx2 | Path::Avx512 => unreachable!("checked above"),
    }
}

// ------------------------------------------------------------- update family

/// The update family's dispatch point. Every path compiles the same plain
/// source ([`crate::update`]) for its instruction set.
pub(crate) fn update(path: Path, job: UpdateJob<'_>) {
    check(path);
    record(Family::Update, path);
    match path {
        Path::Scalar => crate::update::run::<Scalar>(job),
        Path::Portable => crate::update::run::<Portable>(job),
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `check` confirmed AVX2 and FMA on this CPU, the features
        // `update_avx2` is compiled for.
        Path::Avx2 => unsafe { x86::update_avx2(job) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `check` confirmed AVX-512F on this CPU, the feature
        // `update_avx512` is compiled for.
        Path::Avx512 => unsafe { x86::update_avx512(job) },
        #[cfg(not(target_arch = "x86_64"))]
        Path::Avx2 | Path::Avx512 => unreachable!("checked above"),
    }
}

// ------------------------------------------------------------ product family

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

/// The product family's dispatch point: the crate's AVX-512 kernel
/// ([`crate::gemm512`]) on the AVX-512 path for products of at most
/// [`crate::gemm512::MAX_M`] rows, matrixmultiply's sgemm otherwise. On a
/// CPU with AVX-512 both compute every element with the same roundings
/// (`crate::gemm512`, "Bits").
///
/// # Safety
/// m, k, n > 0; every element (i, l) of A and (l, j) of B addressed through
/// the strides is readable, `c + i·rsc + j` is writable for i < m, j < n,
/// and C overlaps neither input.
pub(crate) unsafe fn product(path: Path, job: ProductJob) {
    check(path);
    record(Family::Product, path);
    #[cfg(target_arch = "x86_64")]
    if path == Path::Avx512 && job.m <= crate::gemm512::MAX_M {
        // SAFETY: `check` confirmed AVX-512F on this CPU; the view contract
        // is this function's own (0 < m ≤ MAX_M).
        unsafe { crate::gemm512::sgemm(job, None) };
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

/// [`product`] of the first `job.m` rows together with up to 15 more rows
/// in the small-row kernel's arithmetic (`crate::gemm512::Tail`), in one
/// pass over B: the AVX-512 path's form of an unpadded product. Returns
/// `false`, having done nothing, unless `path` is AVX-512, `0 < m ≤ MAX_M`,
/// B's rows (row form) or columns (dot form) are contiguous and the tail's
/// running sums fit in `MAX_TAIL_LINES` (256 KB per thread); the caller
/// then runs the two parts apart.
///
/// # Safety
/// As [`product`]; the tail's rows of A (k elements each, contiguous) are
/// readable and its rows of C (n elements each) writable, overlapping
/// nothing else; 1 ≤ tail rows ≤ 15.
#[cfg(target_arch = "x86_64")]
pub(crate) unsafe fn product_with_tail(
    path: Path,
    job: ProductJob,
    tail: crate::gemm512::Tail,
) -> bool {
    let b_ok = if tail.dots {
        job.b.rs == 1
    } else {
        job.b.cs == 1
    };
    let small = crate::gemm512::tail_lines(job.n, tail) <= crate::gemm512::MAX_TAIL_LINES;
    if path != Path::Avx512 || job.m > crate::gemm512::MAX_M || !b_ok || !small {
        return false;
    }
    check(path);
    record(Family::Product, path);
    // SAFETY: `check` confirmed AVX-512F on this CPU; the contract is this
    // function's own (0 < m ≤ MAX_M; B's rows contiguous for the row form,
    // its columns for the dot form, checked above; the tail's sums within
    // MAX_TAIL_LINES).
    unsafe { crate::gemm512::sgemm(job, Some(tail)) };
    true
}

/// The `#[target_feature]` wrappers: each compiles a generic body for one
/// instruction set. Callers must have confirmed the features at run time.
#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::*;
    use crate::simd::avx2::Avx2;
    use crate::simd::avx512::Avx512;

    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn map_avx2(op: MapOp, x: Input<'_>, bias: &[f32], out: &mut [f32]) {
        body::map::<Avx2>(op, x, bias, out)
    }

    #[target_feature(enable = "avx512f,avx512dq")]
    pub(super) unsafe fn map_avx512(op: MapOp, x: Input<'_>, bias: &[f32], out: &mut [f32]) {
        body::map::<Avx512>(op, x, bias, out)
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn random_avx2(job: RandomJob<'_>, state: &mut XoState) {
        random_body::<Avx2>(job, state)
    }

    #[target_feature(enable = "avx512f,avx512dq")]
    pub(super) unsafe fn random_avx512(job: RandomJob<'_>, state: &mut XoState) {
        random_body::<Avx512>(job, state)
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn update_avx2(job: UpdateJob<'_>) {
        crate::update::run::<Avx2>(job)
    }

    #[target_feature(enable = "avx512f,avx512dq")]
    pub(super) unsafe fn update_avx512(job: UpdateJob<'_>) {
        crate::update::run::<Avx512>(job)
    }
}
