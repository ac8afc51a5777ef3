//! # nrelu-rbm-kernels
//!
//! Slices in, slices out: the numerical core of `nrelu-rbm`, with no RBM
//! concepts. It provides
//!
//! * **math** (`math/`): [`sigmoid`], [`softplus`], [`relu`] and the
//!   noise-free unit means [`binomial_mean`] and [`ssu_mean`]
//!   ([`Activation`]);
//! * **random streams** (`rng.rs`): [`Stream`], eight xoshiro256++ lanes
//!   stepped in SIMD, each bit-identical to
//!   `rand_xoshiro::Xoshiro256PlusPlus`; a `Stream` is also a
//!   `rand_core` generator, so `rand_distr` distributions can draw from it;
//! * **sampling** (`sample/`, one file per distribution): [`Uniform`],
//!   [`StandardNormal`], and the units [`Bernoulli`], [`Nrelu`],
//!   [`Binomial`] and [`Ssu`] (the exact stepped sigmoid unit) at
//!   pre-activations; [`Sampler`] chooses one at run time;
//! * **products** (`product/`): [`Kernels::product`], `C = A·B` in its
//!   forms ([`Product`]) with a fused bias + activation or sampling
//!   epilogue, on the crate's own AVX-512 product for mini-batches (no
//!   packing of the weights) or matrixmultiply's sgemm, with the same bits;
//! * **update passes** (`update/`) of an optimiser step:
//!   [`Kernels::sgd_update`] (momentum, decay and a finiteness check in one
//!   pass), [`Kernels::column_sums`] and [`Kernels::squared_distance`] in
//!   f64.
//!
//! Every kernel exists in four paths — AVX-512 (F + DQ), AVX2+FMA,
//! portable (`wide`) and scalar — chosen **at run time** ([`active_path`];
//! force one with `NRELU_RBM_KERNEL=scalar|portable|avx2|avx512`) in one
//! place (`dispatch.rs`). All paths give
//! **bit-identical** results: the element-wise code avoids FMA and
//! approximate instructions, and random numbers are consumed in fixed
//! 16-word blocks whatever the vector width.
//!
//! ## The NReLU convention
//! [`Nrelu`] samples `max(0, x + N(0, σ(x)))` where σ(x) = 1/(1+e^-x) is the
//! noise **variance**: the noise standard deviation is √σ(x) (Nair & Hinton,
//! ICML 2010).
//!
//! ```
//! use nrelu_rbm_kernels::{nrelu, sigmoid, Stream};
//! let x = [-2.0f32, 0.0, 3.5];
//! let mut p = [0.0; 3];
//! sigmoid(&x, &mut p);
//! assert!((p[1] - 0.5).abs() < 1e-7);
//!
//! let mut h = [0.0; 3];
//! nrelu(&x, &mut h, &mut Stream::new(7, 0));
//! assert!(h.iter().all(|&v| v >= 0.0));
//! ```
//!
//! ## Panics
//! A length mismatch between slices is a programmer error: every kernel
//! panics with a message naming the lengths.
#![deny(clippy::undocumented_unsafe_blocks)]
#![warn(missing_docs)]

mod dispatch;
mod math;
mod product;
pub mod reference;
mod rng;
mod sample;
mod simd;
mod update;

#[cfg(feature = "test-hooks")]
pub use dispatch::{Family, last_path, sparse_products};
pub use dispatch::{KERNEL_ENV, Path, active_path, forced_path};
pub use math::Activation;
pub use product::{Accumulate, Epilogue, MatMut, MatRef, Product, SGEMM_ROW_TILE, Schedule};
pub use rng::Stream;
pub use sample::{
    Bernoulli, Binomial, BinomialError, MAX_BINOMIAL_K, Nrelu, Sampler, Ssu, StandardNormal,
    Uniform,
};
pub use update::Sgd;

fn check_len(what: &str, got: usize, want: usize) {
    assert!(
        got == want,
        "{what}: length {got} does not match the output length {want}"
    );
}

fn check_bias(bias: &[f32], n: usize) {
    assert!(
        bias.is_empty() || bias.len() == n,
        "bias: length {} must be 0 or the output length {n}",
        bias.len()
    );
}

/// Kernels bound to one [`Path`]. A `Kernels` value can only be made for a
/// path this CPU can run; [`Kernels::active`] is what the free functions use.
///
/// Its methods live with their concepts: the element-wise maps in `math/`,
/// the samplers in `sample/`, the products in `product/`, the optimiser
/// passes in `update/`.
///
/// ```
/// use nrelu_rbm_kernels::{Kernels, Path};
/// let x = [0.25f32; 5];
/// let mut a = [0.0; 5];
/// let mut b = [0.0; 5];
/// Kernels::new(Path::Scalar).unwrap().softplus(&x, &mut a);
/// Kernels::active().softplus(&x, &mut b);
/// assert_eq!(a, b); // every path is bit-identical
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Kernels {
    path: Path,
}

impl Kernels {
    /// Kernels on `path`, or `None` if this CPU cannot run it.
    pub fn new(path: Path) -> Option<Kernels> {
        path.is_available().then_some(Kernels { path })
    }

    /// Kernels on [`active_path`].
    pub fn active() -> Kernels {
        Kernels {
            path: active_path(),
        }
    }

    /// The path these kernels run on.
    pub fn path(self) -> Path {
        self.path
    }
}

macro_rules! free_fns {
    ($($(#[$doc:meta])* $name:ident($($arg:ident: $ty:ty),*);)*) => {$(
        $(#[$doc])*
        ///
        /// Runs on [`active_path`]; see the [`Kernels`] method of the same
        /// name for accuracy and panics.
        pub fn $name($($arg: $ty),*) {
            Kernels::active().$name($($arg),*)
        }
    )*};
}

free_fns! {
    /// `out[i] = σ(x[i])`.
    sigmoid(x: &[f32], out: &mut [f32]);
    /// `out[i] = ln(1 + e^x[i])`.
    softplus(x: &[f32], out: &mut [f32]);
    /// `out[i] = max(0, x[i])`.
    relu(x: &[f32], out: &mut [f32]);
    /// `out[i] = K σ(x[i])`.
    binomial_mean(b: Binomial, x: &[f32], out: &mut [f32]);
    /// `out[i] = Σ_{j>=1} σ(x[i] - j + 0.5)`.
    ssu_mean(x: &[f32], out: &mut [f32]);
    /// Bernoulli(σ(x)) samples.
    bernoulli(x: &[f32], out: &mut [f32], stream: &mut Stream);
    /// NReLU samples `max(0, x + N(0, σ(x)))`: noise **variance** σ(x).
    nrelu(x: &[f32], out: &mut [f32], stream: &mut Stream);
    /// Binomial(K, σ(x)) samples.
    binomial(b: Binomial, x: &[f32], out: &mut [f32], stream: &mut Stream);
    /// Exact stepped sigmoid unit samples.
    ssu(x: &[f32], out: &mut [f32], stream: &mut Stream);
}
