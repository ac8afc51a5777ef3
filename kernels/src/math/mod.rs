//! Deterministic element-wise functions: [`Activation`] and the
//! [`Kernels`] methods that apply one to a slice (`sigmoid`, `softplus`,
//! `relu`, the unit means), with their bodies:
//!
//! * [`exp`]: `exp`, `ln`, `log1p`, the Box–Muller radius, `sin`/`cos` on
//!   a quarter turn, and the loose `e^-v` of the certified Bernoulli
//!   bracket;
//! * [`logistic`]: σ, softplus, relu and the NReLU noise scale;
//! * [`ssu`]: the stepped sigmoid unit's band of copies and its mean.
//!
//! All bodies are generic over [`crate::simd::Simd`] and use only the
//! operations listed there, without fused multiply-add, so the four paths
//! agree bit for bit (the one exception, `exp_neg_loose`, is only read
//! through a certified bracket).

pub(crate) mod exp;
pub(crate) mod logistic;
pub(crate) mod ssu;
#[cfg(test)]
mod tests;

use crate::dispatch::{self, Job};
use crate::sample::Binomial;
use crate::simd::Simd;
use crate::{Kernels, check_bias, check_len};

/// A deterministic element-wise activation, applied to `x + bias`.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    /// `x` (just the bias add).
    Identity,
    /// σ(x) = 1/(1+e^-x): the Bernoulli mean.
    Sigmoid,
    /// ln(1 + e^x).
    Softplus,
    /// max(0, x): the noise-free NReLU.
    Relu,
    /// K σ(x): the mean of a [`Binomial`] unit (K from the checked type).
    BinomialMean(Binomial),
    /// Σ_{i>=1} σ(x - i + 0.5): the stepped sigmoid mean.
    SsuMean,
}

impl Kernels {
    /// `out[i] = σ(x[i])`. Accuracy: at most 4 ulp for every x >= -87
    /// (measured maximum 2.4 ulp, `docs/kernels.md`); exactly 0 for x < -87,
    /// where σ(x) < 1.65e-38 would be subnormal (flushed for speed);
    /// σ(+inf) = 1; NaN → NaN.
    ///
    /// # Panics
    /// If `x.len() != out.len()`.
    pub fn sigmoid(self, x: &[f32], out: &mut [f32]) {
        self.activate_from(Activation::Sigmoid, &[], x, out)
    }

    /// `out[i] = ln(1 + e^x[i])`. Accuracy: at most 4 ulp for every x >= -87
    /// (measured maximum 2.6 ulp); exactly 0 for x < -87 (flushed, as for
    /// [`Kernels::sigmoid`]); softplus(+inf) = +inf; NaN → NaN.
    ///
    /// # Panics
    /// If `x.len() != out.len()`.
    pub fn softplus(self, x: &[f32], out: &mut [f32]) {
        self.activate_from(Activation::Softplus, &[], x, out)
    }

    /// `out[i] = max(0, x[i])`, NaN → NaN: the noise-free NReLU mean.
    ///
    /// # Panics
    /// If `x.len() != out.len()`.
    pub fn relu(self, x: &[f32], out: &mut [f32]) {
        self.activate_from(Activation::Relu, &[], x, out)
    }

    /// `out[i] = K σ(x[i])`, the mean of the binomial unit `b`.
    ///
    /// # Panics
    /// If `x.len() != out.len()`.
    pub fn binomial_mean(self, b: Binomial, x: &[f32], out: &mut [f32]) {
        self.activate_from(Activation::BinomialMean(b), &[], x, out)
    }

    /// `out[i] = Σ_{j>=1} σ(x[i] - j + 0.5)`, the stepped sigmoid mean, in
    /// closed form: softplus(x) plus an Euler–Maclaurin correction, a
    /// polynomial in σ(x)(1 − σ(x)) (error below 1e-6 relative plus 5e-8
    /// absolute; see `docs/kernels.md`). It is 0 below x = -87 and x itself
    /// above 87.
    ///
    /// # Panics
    /// If `x.len() != out.len()`.
    pub fn ssu_mean(self, x: &[f32], out: &mut [f32]) {
        self.activate_from(Activation::SsuMean, &[], x, out)
    }

    /// `inout[i] = act(inout[i] + bias[i])` in place; `bias` may be empty.
    ///
    /// # Panics
    /// If `bias` is neither empty nor as long as `inout`.
    pub fn activate(self, act: Activation, bias: &[f32], inout: &mut [f32]) {
        check_bias(bias, inout.len());
        dispatch::run(
            self.path,
            MapJob {
                act,
                x: None,
                bias,
                out: inout,
            },
        );
    }

    /// `out[i] = act(x[i] + bias[i])`: [`Kernels::activate`] reading its
    /// input from `x` instead of `out` (the same bits as copying `x` into
    /// `out` and activating in place); `bias` may be empty.
    ///
    /// ```
    /// use nrelu_rbm_kernels::{Activation, Kernels};
    /// let k = Kernels::active();
    /// let mut out = [0.0f32; 3];
    /// k.activate_from(Activation::Relu, &[1.0, 1.0, 1.0], &[-2.0, 0.5, 3.0], &mut out);
    /// assert_eq!(out, [0.0, 1.5, 4.0]);
    /// ```
    ///
    /// # Panics
    /// If `x` is not as long as `out`, or `bias` is neither empty nor as
    /// long as `out`.
    pub fn activate_from(self, act: Activation, bias: &[f32], x: &[f32], out: &mut [f32]) {
        check_len("x", x.len(), out.len());
        check_bias(bias, out.len());
        dispatch::run(
            self.path,
            MapJob {
                act,
                x: Some(x),
                bias,
                out,
            },
        );
    }
}

/// An element-wise map: `out = act(x + bias)`, reading `out` itself when
/// `x` is `None`.
struct MapJob<'a> {
    act: Activation,
    x: Option<&'a [f32]>,
    bias: &'a [f32],
    out: &'a mut [f32],
}

impl Job for MapJob<'_> {
    type Output = ();
    #[cfg(feature = "test-hooks")]
    const FAMILY: dispatch::Family = dispatch::Family::Map;

    #[inline(always)]
    fn run<S: Simd>(self) {
        let MapJob { act, x, bias, out } = self;
        match act {
            Activation::Identity => map_loop::<S, _>(IdentityF, x, bias, out),
            Activation::Sigmoid => map_loop::<S, _>(SigmoidF, x, bias, out),
            Activation::Softplus => map_loop::<S, _>(SoftplusF, x, bias, out),
            Activation::Relu => map_loop::<S, _>(ReluF, x, bias, out),
            Activation::BinomialMean(b) => {
                map_loop::<S, _>(ScaledSigmoidF(b.k() as f32), x, bias, out)
            }
            Activation::SsuMean => map_loop::<S, _>(SsuMeanF, x, bias, out),
        }
    }
}

/// An element-wise function, written once for every path.
trait Elem: Copy {
    fn f<S: Simd>(self, v: S) -> S;
}

macro_rules! elem {
    ($name:ident $(($field:ty))?, |$s:ident, $v:ident| $body:expr) => {
        #[derive(Clone, Copy)]
        struct $name$(($field))?;
        impl Elem for $name {
            #[inline(always)]
            fn f<S: Simd>(self, $v: S) -> S {
                let $s = self;
                let _ = $s;
                $body
            }
        }
    };
}

elem!(IdentityF, |s, v| v);
elem!(SigmoidF, |s, v| logistic::sigmoid(v));
elem!(SoftplusF, |s, v| logistic::softplus(v));
elem!(ReluF, |s, v| logistic::relu(v));
elem!(ScaledSigmoidF(f32), |s, v| logistic::sigmoid(v)
    .mul(S::splat(s.0)));
elem!(SsuMeanF, |s, v| ssu::ssu_mean(v));

/// Applies an [`Elem`] to `x + bias` (`x` = `out` itself when `None`),
/// [`Simd::UNROLL`] independent vectors per iteration (the element-wise
/// functions are long dependency chains, so the core needs several in
/// flight), then single vectors, then a padded tail.
#[inline(always)]
fn map_loop<S: Simd, E: Elem>(e: E, x: Option<&[f32]>, bias: &[f32], out: &mut [f32]) {
    let (n, l) = (out.len(), S::LANES);
    let has_bias = !bias.is_empty();
    // A plain function, not a closure: closures are not guaranteed to be
    // inlined into the `#[target_feature]` wrapper.
    #[inline(always)]
    fn load<S: Simd>(x: Option<&[f32]>, bias: &[f32], out: &[f32], j: usize) -> S {
        let v = match x {
            Some(x) => S::load(&x[j..]),
            None => S::load(&out[j..]),
        };
        if bias.is_empty() {
            v
        } else {
            v.add(S::load(&bias[j..]))
        }
    }
    let mut i = 0;
    while i + l * S::UNROLL <= n {
        for u in 0..S::UNROLL {
            let j = i + u * l;
            e.f(load::<S>(x, bias, out, j)).store(&mut out[j..]);
        }
        i += l * S::UNROLL;
    }
    while i + l <= n {
        e.f(load::<S>(x, bias, out, i)).store(&mut out[i..]);
        i += l;
    }
    if i < n {
        let len = n - i;
        let mut io = [0f32; 16];
        match x {
            Some(x) => io[..len].copy_from_slice(&x[i..n]),
            None => io[..len].copy_from_slice(&out[i..n]),
        }
        if has_bias {
            for (v, b) in io[..len].iter_mut().zip(&bias[i..n]) {
                *v += b;
            }
        }
        e.f(S::load(&io)).store(&mut io);
        out[i..n].copy_from_slice(&io[..len]);
    }
}
