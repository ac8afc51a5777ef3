//! Sampling from a [`Stream`]: one file per distribution, each a type.
//!
//! * [`Uniform`] on [0, 1) and [`StandardNormal`] (fills);
//! * the hidden units, at pre-activations `x + bias`: [`Bernoulli`],
//!   [`Nrelu`] (noise **variance** σ(x)), [`Binomial`] (K checked by
//!   [`Binomial::new`]) and [`Ssu`] (the exact stepped sigmoid unit).
//!
//! [`Sampler`] holds one of the hidden units as a value, for code that
//! chooses the unit at run time; [`Kernels::sample`] dispatches it straight
//! to that unit's body. The bodies share the chunking and the word sources
//! of `chunk.rs`: every kernel consumes whole blocks of 16 words, in stream
//! order, and never carries unused words over to the next call, so the
//! position of a stream after a call depends only on the call's length and
//! the distribution (see `docs/kernels.md`, "Random streams").

mod bernoulli;
mod binomial;
mod chunk;
mod normal;
mod nrelu;
mod ssu;
mod uniform;

pub use bernoulli::Bernoulli;
pub use binomial::{Binomial, BinomialError, MAX_BINOMIAL_K};
pub use normal::StandardNormal;
pub use nrelu::Nrelu;
pub use ssu::Ssu;
pub use uniform::Uniform;

use crate::dispatch::{self, Job};
use crate::math::ssu::SSU_BAND;
use crate::simd::{BLOCK, Simd, XoState};
use crate::{Kernels, Stream, check_bias, check_len};
use chunk::{Buffered, Direct, Input, WordSource};

/// A hidden-unit sampler chosen at run time, applied to the pre-activation
/// `x + bias`. Each variant is one distribution of this module; invalid
/// parameters cannot be built (a [`Binomial`] is checked when made).
///
/// ```
/// use nrelu_rbm_kernels::{Binomial, Kernels, Sampler, Stream};
/// let units = [Sampler::Nrelu, Sampler::Binomial(Binomial::new(3).unwrap())];
/// for s in units {
///     let mut h = [0.5f32, -0.5];
///     Kernels::active().sample(s, &[], &mut h, &mut Stream::new(1, 0));
///     assert!(h.iter().all(|&v| v >= 0.0));
/// }
/// ```
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sampler {
    /// [`Bernoulli`]: 1 with probability σ(x), else 0.
    Bernoulli,
    /// [`Nrelu`]: max(0, x + √σ(x)·z), z ~ N(0, 1): noise **variance** σ(x).
    Nrelu,
    /// [`Binomial`]: the sum of K independent Bernoulli(σ(x)) draws.
    Binomial(Binomial),
    /// [`Ssu`]: Σ_{i>=1} Bernoulli(σ(x - i + 0.5)), the exact stepped
    /// sigmoid unit.
    Ssu,
}

impl Sampler {
    /// Random blocks of 16 words consumed per 16 elements (normal-based
    /// samplers consume 2 blocks per 32 elements).
    pub fn blocks_per_16(self) -> usize {
        match self {
            Sampler::Bernoulli | Sampler::Nrelu => 1,
            Sampler::Binomial(b) => b.k() as usize,
            Sampler::Ssu => SSU_BAND,
        }
    }
}

impl From<Bernoulli> for Sampler {
    fn from(_: Bernoulli) -> Sampler {
        Sampler::Bernoulli
    }
}

impl From<Nrelu> for Sampler {
    fn from(_: Nrelu) -> Sampler {
        Sampler::Nrelu
    }
}

impl From<Binomial> for Sampler {
    fn from(b: Binomial) -> Sampler {
        Sampler::Binomial(b)
    }
}

impl From<Ssu> for Sampler {
    fn from(_: Ssu) -> Sampler {
        Sampler::Ssu
    }
}

/// A distribution's kernel body: what every type of this module implements.
pub(crate) trait Draw: Copy {
    /// Blocks of 16 words drawn for `rows` rows of `row_len` elements.
    fn blocks(self, rows: usize, row_len: usize) -> usize;
    /// Draws each row of `row_len` elements of `out` (input `x + bias`,
    /// `bias` one row long or empty) with the words of `words`.
    fn rows<S: Simd, W: WordSource>(
        self,
        x: Input<'_>,
        bias: &[f32],
        out: &mut [f32],
        row_len: usize,
        words: &mut W,
    );
}

/// Blocks for one block per 16 elements of each row.
#[inline(always)]
fn per16(rows: usize, row_len: usize) -> usize {
    rows * row_len.div_ceil(BLOCK)
}

/// Blocks for two blocks per 32 elements of each row.
#[inline(always)]
fn per32(rows: usize, row_len: usize) -> usize {
    rows * 2 * row_len.div_ceil(2 * BLOCK)
}

impl Draw for Sampler {
    #[inline(always)]
    fn blocks(self, rows: usize, row_len: usize) -> usize {
        match self {
            Sampler::Bernoulli => Bernoulli.blocks(rows, row_len),
            Sampler::Nrelu => Nrelu.blocks(rows, row_len),
            Sampler::Binomial(b) => b.blocks(rows, row_len),
            Sampler::Ssu => Ssu.blocks(rows, row_len),
        }
    }

    #[inline(always)]
    fn rows<S: Simd, W: WordSource>(
        self,
        x: Input<'_>,
        bias: &[f32],
        out: &mut [f32],
        row_len: usize,
        words: &mut W,
    ) {
        match self {
            Sampler::Bernoulli => Bernoulli.rows::<S, W>(x, bias, out, row_len, words),
            Sampler::Nrelu => Nrelu.rows::<S, W>(x, bias, out, row_len, words),
            Sampler::Binomial(b) => b.rows::<S, W>(x, bias, out, row_len, words),
            Sampler::Ssu => Ssu.rows::<S, W>(x, bias, out, row_len, words),
        }
    }
}

/// A sampling kernel over `out.len() / row_len` rows of `row_len` elements
/// (`row_len` = `out.len()` for a single row). Each row is chunked on its
/// own and draws exactly the blocks a separate call for that row would,
/// from one stream state, so a multi-row call gives the same bits as one
/// call per row, without the per-call set-up.
struct DrawJob<'a, D> {
    draw: D,
    x: Input<'a>,
    bias: &'a [f32],
    out: &'a mut [f32],
    row_len: usize,
    state: &'a mut XoState,
}

impl<D: Draw> Job for DrawJob<'_, D> {
    type Output = ();
    #[cfg(feature = "test-hooks")]
    const FAMILY: dispatch::Family = dispatch::Family::Random;

    #[inline(always)]
    fn run<S: Simd>(self) {
        let DrawJob {
            draw,
            x,
            bias,
            out,
            row_len,
            state,
        } = self;
        let n = out.len();
        if n == 0 {
            return;
        }
        let blocks = draw.blocks(n / row_len, row_len);
        // A constant per path: each instantiation keeps one branch.
        if S::LANES >= 16 {
            let mut words = Direct::<S>::new(state);
            draw.rows::<S, _>(x, bias, out, row_len, &mut words);
            words.finish(state);
        } else {
            let mut words = Buffered::<S>::new(state, blocks);
            draw.rows::<S, _>(x, bias, out, row_len, &mut words);
        }
    }
}

/// Whole blocks of raw words.
struct WordsJob<'a> {
    out: &'a mut [u32],
    state: &'a mut XoState,
}

impl Job for WordsJob<'_> {
    type Output = ();
    #[cfg(feature = "test-hooks")]
    const FAMILY: dispatch::Family = dispatch::Family::Random;

    #[inline(always)]
    fn run<S: Simd>(self) {
        S::fill_words(self.state, self.out)
    }
}

impl Kernels {
    /// Runs `draw` on rows of `row_len` elements of `out`.
    fn draw_rows<D: Draw>(
        self,
        draw: D,
        x: Input<'_>,
        bias: &[f32],
        out: &mut [f32],
        row_len: usize,
        stream: &mut Stream,
    ) {
        let job = DrawJob {
            draw,
            x,
            bias,
            out,
            row_len,
            state: &mut stream.state,
        };
        dispatch::run(self.path, job);
    }

    /// Runs `draw` on all of `out` as one row.
    fn draw<D: Draw>(self, draw: D, x: Input<'_>, bias: &[f32], out: &mut [f32], s: &mut Stream) {
        let row_len = out.len();
        self.draw_rows(draw, x, bias, out, row_len, s)
    }

    /// Fills `out` with raw random words: whole blocks of 16, the last one
    /// truncated (its unused words are discarded).
    pub fn fill_words(self, stream: &mut Stream, out: &mut [u32]) {
        let full = out.len() / Stream::BLOCK_WORDS * Stream::BLOCK_WORDS;
        let (head, tail) = out.split_at_mut(full);
        let state = &mut stream.state;
        dispatch::run(self.path, WordsJob { out: head, state });
        if !tail.is_empty() {
            let mut block = [0u32; Stream::BLOCK_WORDS];
            let job = WordsJob {
                out: &mut block,
                state,
            };
            dispatch::run(self.path, job);
            tail.copy_from_slice(&block[..tail.len()]);
        }
    }

    /// [`Uniform`] f32 in [0, 1): the top 24 bits of each word times 2^-24.
    pub fn uniform(self, stream: &mut Stream, out: &mut [f32]) {
        self.draw(Uniform, Input::None, &[], out, stream)
    }

    /// [`StandardNormal`] f32 by Box–Muller (see the type for the
    /// construction and its precision).
    pub fn standard_normal(self, stream: &mut Stream, out: &mut [f32]) {
        self.draw(StandardNormal, Input::None, &[], out, stream)
    }

    /// [`Bernoulli`] units: `out[i] = 1` with probability `σ(x[i])`, else 0.
    ///
    /// # Panics
    /// If `x.len() != out.len()`.
    pub fn bernoulli(self, x: &[f32], out: &mut [f32], stream: &mut Stream) {
        check_len("x", x.len(), out.len());
        self.draw(Sampler::Bernoulli, Input::Slice(x), &[], out, stream)
    }

    /// [`Nrelu`] units: `out[i] = max(0, x + √σ(x)·z)` with z ~ N(0, 1)
    /// from [`StandardNormal`]'s construction. The noise **variance** is
    /// σ(x) (standard deviation √σ(x)), as in Nair & Hinton (2010).
    ///
    /// # Panics
    /// If `x.len() != out.len()`.
    pub fn nrelu(self, x: &[f32], out: &mut [f32], stream: &mut Stream) {
        check_len("x", x.len(), out.len());
        self.draw(Sampler::Nrelu, Input::Slice(x), &[], out, stream)
    }

    /// [`Binomial`] units: the exact sum of K independent Bernoulli(σ(x))
    /// draws, K from `b`. Costs K uniforms per element.
    ///
    /// # Panics
    /// If `x.len() != out.len()`.
    pub fn binomial(self, b: Binomial, x: &[f32], out: &mut [f32], stream: &mut Stream) {
        check_len("x", x.len(), out.len());
        self.draw(Sampler::Binomial(b), Input::Slice(x), &[], out, stream)
    }

    /// Exact stepped sigmoid units ([`Ssu`]):
    /// Σ_{j>=1} Bernoulli(σ(x - j + 0.5)), exact to within 5e-8 in total
    /// variation (see the type).
    ///
    /// # Panics
    /// If `x.len() != out.len()`.
    pub fn ssu(self, x: &[f32], out: &mut [f32], stream: &mut Stream) {
        check_len("x", x.len(), out.len());
        self.draw(Sampler::Ssu, Input::Slice(x), &[], out, stream)
    }

    /// Samples `sampler` in place at pre-activations `inout + bias`; `bias`
    /// may be empty.
    ///
    /// # Panics
    /// If `bias` is neither empty nor as long as `inout`.
    pub fn sample(self, sampler: Sampler, bias: &[f32], inout: &mut [f32], stream: &mut Stream) {
        check_bias(bias, inout.len());
        self.draw(sampler, Input::InPlace, bias, inout, stream)
    }

    /// [`Kernels::sample`] on each row of `row_len` elements of `inout`, in
    /// order, with `bias` (empty or one row long) added to every row: the
    /// same bits and the same stream consumption as one `sample` call per
    /// row, in one dispatched call.
    ///
    /// ```
    /// use nrelu_rbm_kernels::{Kernels, Sampler, Stream};
    /// let k = Kernels::active();
    /// let bias = [0.5f32, -0.5, 0.0];
    /// let mut a = [1.0f32, 2.0, 3.0, -1.0, -2.0, -3.0];
    /// let mut b = a;
    /// k.sample_rows(Sampler::Nrelu, &bias, &mut a, 3, &mut Stream::new(5, 0));
    /// let mut s = Stream::new(5, 0);
    /// for row in b.chunks_exact_mut(3) {
    ///     k.sample(Sampler::Nrelu, &bias, row, &mut s);
    /// }
    /// assert_eq!(a, b);
    /// ```
    ///
    /// # Panics
    /// If `row_len` is 0 while `inout` is not empty, `row_len` does not
    /// divide `inout.len()`, or `bias` is neither empty nor `row_len` long.
    pub fn sample_rows(
        self,
        sampler: Sampler,
        bias: &[f32],
        inout: &mut [f32],
        row_len: usize,
        stream: &mut Stream,
    ) {
        if inout.is_empty() {
            return;
        }
        assert!(
            row_len > 0 && inout.len().is_multiple_of(row_len),
            "sample_rows: {} elements are not whole rows of {row_len}",
            inout.len()
        );
        check_bias(bias, row_len);
        self.draw_rows(sampler, Input::InPlace, bias, inout, row_len, stream)
    }
}
