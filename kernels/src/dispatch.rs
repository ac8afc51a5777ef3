//! Run-time choice of the kernel path: the one place where an instruction
//! set is selected.
//!
//! [`Path::best`] picks AVX-512 (AVX-512F + AVX-512DQ), then AVX2 (AVX2 +
//! FMA), then the portable `wide` path, detected with
//! `is_x86_feature_detected!` on the running CPU, so a binary built for
//! baseline x86-64 still uses AVX2 or AVX-512 where the machine has them.
//! The environment variable `NRELU_RBM_KERNEL=scalar|portable|avx2|avx512`
//! forces a path (read once, at the first kernel call).
//!
//! Every kernel is a [`Job`]: a value holding its operands whose
//! `#[inline(always)]` generic body [`Job::run`] is written once against
//! [`Simd`]. [`run`] instantiates that body once per path, each inside a
//! thin `#[target_feature]` wrapper, and matches on the path in one place.
//! The products choose between the crate's AVX-512 kernel and
//! matrixmultiply by the same [`Path`] value (`crate::product::sgemm`).
//!
//! With the `test-hooks` feature (for this crate's own tests only) every
//! dispatch records the path it ran per [`Family`], and [`last_path`]
//! reports it, so a test can prove that a forced path really ran; without
//! it there is no store on the way into a kernel.

use crate::simd::Simd;
use crate::simd::portable::Portable;
use crate::simd::scalar::Scalar;
use std::sync::OnceLock;

/// A kernel implementation: one instruction set.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Path {
    /// Plain Rust, one element at a time: the executable reference.
    Scalar,
    /// `wide` 4-lane vectors (SSE2 on baseline x86-64, NEON on AArch64).
    Portable,
    /// AVX2 + FMA, 8 lanes (`std::arch`, chosen at run time).
    Avx2,
    /// AVX-512F + AVX-512DQ, 16 lanes (`std::arch`, chosen at run time).
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

    /// f32 lanes per vector on this path (1, 4, 8 or 16).
    pub fn lanes(self) -> usize {
        match self {
            Path::Scalar => 1,
            Path::Portable => 4,
            Path::Avx2 => 8,
            Path::Avx512 => 16,
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

/// A kernel: its operands, and one generic body for every path.
pub(crate) trait Job {
    /// What the kernel returns.
    type Output;
    /// The family the test hooks record this job under.
    #[cfg(feature = "test-hooks")]
    const FAMILY: Family;
    /// The body, for the path whose lanes are `S`. Implementations mark it
    /// `#[inline(always)]`, and so does every function on the way down:
    /// the whole body must be inlined into the `#[target_feature]` wrapper,
    /// or the intrinsics would be called out of line from code compiled
    /// without the target features.
    fn run<S: Simd>(self) -> Self::Output;
}

/// Panics unless this CPU can run `path` (a [`crate::Kernels`] value can
/// only be made for such a path, so this never fires through the API).
#[inline(always)]
pub(crate) fn check(path: Path) {
    assert!(
        path.is_available(),
        "kernel path {path} is not available on this CPU"
    );
}

/// The way into a product, which chooses its implementation by `path`
/// itself (`crate::product::sgemm`): checks the path (and, with the test
/// hooks, records it).
#[inline(always)]
pub(crate) fn enter_product(path: Path) {
    check(path);
    #[cfg(feature = "test-hooks")]
    hooks::record(Family::Product, path);
}

/// The dispatch point of every [`Job`]: runs `job`'s body for `path`.
#[inline]
pub(crate) fn run<J: Job>(path: Path, job: J) -> J::Output {
    check(path);
    #[cfg(feature = "test-hooks")]
    hooks::record(J::FAMILY, path);
    match path {
        Path::Scalar => job.run::<Scalar>(),
        Path::Portable => job.run::<Portable>(),
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `check` confirmed AVX2 and FMA on this CPU, the features
        // `avx2` is compiled for.
        Path::Avx2 => unsafe { x86::avx2(job) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `check` confirmed AVX-512F and AVX-512DQ on this CPU, the
        // features `avx512` is compiled for.
        Path::Avx512 => unsafe { x86::avx512(job) },
        #[cfg(not(target_arch = "x86_64"))]
        Path::Avx2 | Path::Avx512 => unreachable!("checked above"),
    }
}

/// The `#[target_feature]` wrappers: each compiles a job's generic body for
/// one instruction set. Callers must have confirmed the features at run
/// time.
#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::Job;
    use crate::simd::avx2::Avx2;
    use crate::simd::avx512::Avx512;

    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn avx2<J: Job>(job: J) -> J::Output {
        job.run::<Avx2>()
    }

    #[target_feature(enable = "avx512f,avx512dq")]
    pub(super) unsafe fn avx512<J: Job>(job: J) -> J::Output {
        job.run::<Avx512>()
    }
}

#[cfg(all(feature = "test-hooks", target_arch = "x86_64"))]
pub(crate) use hooks::count_sparse;
#[cfg(feature = "test-hooks")]
pub use hooks::{Family, last_path, sparse_products};

/// The record of which path each family ran last (`test-hooks` only).
#[cfg(feature = "test-hooks")]
mod hooks {
    use super::Path;
    use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};

    /// A family of kernels, as the test hooks record them.
    #[non_exhaustive]
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Family {
        /// Deterministic element-wise maps: sigmoid, softplus, relu, unit
        /// means.
        Map,
        /// Everything that draws from a [`crate::Stream`].
        Random,
        /// The streaming passes of an optimiser step and the reductions
        /// ([`crate::update`]).
        Update,
        /// The matrix products ([`crate::Kernels::product`]): the crate's
        /// AVX-512 kernel on the AVX-512 path (products of at most 256
        /// rows), matrixmultiply's sgemm otherwise, and the small-row
        /// product of an unpadded call.
        Product,
    }

    static LAST: [AtomicU8; 4] = [
        AtomicU8::new(u8::MAX),
        AtomicU8::new(u8::MAX),
        AtomicU8::new(u8::MAX),
        AtomicU8::new(u8::MAX),
    ];

    pub(crate) fn record(family: Family, path: Path) {
        LAST[family as usize].store(path as u8, Ordering::Relaxed);
    }

    static SPARSE: AtomicUsize = AtomicUsize::new(0);

    /// Counts one product that ran through the sparse AVX-512 kernel.
    #[cfg(target_arch = "x86_64")]
    pub(crate) fn count_sparse() {
        SPARSE.fetch_add(1, Ordering::Relaxed);
    }

    /// How many products (in any thread) have run through the AVX-512
    /// path's sparse kernel, which sums only the nonzero terms of `A`.
    pub fn sparse_products() -> usize {
        SPARSE.load(Ordering::Relaxed)
    }

    /// The path that `family` ran most recently (in any thread), or `None`
    /// before its first call.
    pub fn last_path(family: Family) -> Option<Path> {
        Path::ALL
            .get(LAST[family as usize].load(Ordering::Relaxed) as usize)
            .copied()
    }
}
