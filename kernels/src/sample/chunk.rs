//! The machinery every sampler shares: inputs read as `x + bias` in chunks
//! of a fixed size, and the random words a chunk draws.
//!
//! Elements are processed in chunks of a fixed size whatever the lane width
//! (64 elements for the uniform, Bernoulli, normal and NReLU kernels, 16
//! for the binomial and SSU ones); a short last chunk is computed in a
//! zero-padded scratch array and only its valid part is written back, so
//! outputs never depend on the path. Words come from the stream in whole
//! blocks of 16, in stream order, never more than the call uses.

use crate::simd::{BLOCK, Simd, XoState};

/// The input of a kernel: a separate slice, or the output buffer itself.
#[derive(Clone, Copy)]
pub(crate) enum Input<'a> {
    Slice(&'a [f32]),
    InPlace,
    /// No input (random fills).
    None,
}

/// The input of one chunk: read from `x` (or from the output chunk itself
/// when `x` is `None`), plus `bias` when present.
#[derive(Clone, Copy)]
pub(crate) struct Src<'a, const C: usize> {
    x: Option<&'a [f32; C]>,
    bias: Option<&'a [f32; C]>,
}

impl<const C: usize> Src<'_, C> {
    /// The input vector at offset `h`.
    #[inline(always)]
    pub(crate) fn load<S: Simd>(self, io: &[f32; C], h: usize) -> S {
        let v = match self.x {
            Some(x) => S::load(&x[h..]),
            None => S::load(&io[h..]),
        };
        match self.bias {
            Some(b) => v.add(S::load(&b[h..])),
            None => v,
        }
    }
}

/// A kernel over chunks of `C` elements: `apply` reads its inputs through
/// `src` and writes its outputs to `io`.
///
/// Every implementation marks `apply` `#[inline(always)]`, and so does every
/// function on the way down from the `#[target_feature]` wrapper, and none
/// of them use closures: the whole body must be inlined into the wrapper, or
/// the intrinsics would be called out of line from code compiled without the
/// target features (a function call per instruction).
pub(crate) trait ChunkOp<S: Simd, const C: usize> {
    /// `len` (1..=C) is the number of valid elements: kernels draw random
    /// blocks only for the 16-element groups that hold data.
    fn apply(&mut self, io: &mut [f32; C], src: Src<'_, C>, len: usize);
}

/// Runs `op` over `out` in chunks of `C`. Full chunks read the input in
/// place; the short last chunk is computed in a zero-padded scratch array
/// holding `x + bias`, and only its valid part is written back.
#[inline(always)]
pub(crate) fn chunked<S: Simd, const C: usize, K: ChunkOp<S, C>>(
    x: Input<'_>,
    bias: &[f32],
    out: &mut [f32],
    op: &mut K,
) {
    let n = out.len();
    let full = n / C * C;
    let (head, tail) = out.split_at_mut(full);
    // The loop over whole chunks, with the input of chunk range `$r` given
    // by `$x` and `$bias`: the common case (a separate input, no bias) gets
    // a copy of its own in which `Src` is known, so no chunk tests it.
    macro_rules! whole_chunks {
        (|$r:ident| $x:expr, $bias:expr) => {
            for (c, io) in head.chunks_exact_mut(C).enumerate() {
                let io: &mut [f32; C] = io.try_into().expect("whole chunk");
                let $r = c * C..c * C + C;
                let src = Src { x: $x, bias: $bias };
                op.apply(io, src, C);
            }
        };
    }
    match x {
        Input::Slice(x) if bias.is_empty() => {
            whole_chunks!(|r| Some(x[r].try_into().expect("whole chunk")), None)
        }
        _ => whole_chunks!(
            |r| match x {
                Input::Slice(x) => Some(x[r.clone()].try_into().expect("whole chunk")),
                _ => None,
            },
            (!bias.is_empty()).then(|| bias[r].try_into().expect("whole chunk"))
        ),
    }
    if !tail.is_empty() {
        let len = tail.len();
        let mut io = [0f32; C];
        match x {
            Input::Slice(x) => io[..len].copy_from_slice(&x[full..n]),
            Input::InPlace => io[..len].copy_from_slice(tail),
            Input::None => {}
        }
        if !bias.is_empty() {
            for (v, b) in io[..len].iter_mut().zip(&bias[full..n]) {
                *v += b;
            }
        }
        op.apply(
            &mut io,
            Src {
                x: None,
                bias: None,
            },
            len,
        );
        tail.copy_from_slice(&io[..len]);
    }
}

/// Where a random kernel takes its words from: blocks of the stream, in
/// stream order, never more than the call uses.
pub(crate) trait WordSource {
    /// The next `N` words: `N / BLOCK` blocks of the stream.
    fn take<const N: usize>(&mut self) -> [u32; N];
}

/// The words of the AVX-512 path: the stream state stays in registers (an
/// `S::Xo`) for the whole call, and every chunk draws exactly the blocks it
/// uses straight into a local array that the compiler keeps in registers
/// as well, which measured faster there than the buffer of [`Buffered`]
/// (`docs/benchmarks.md`). The caller writes the state back with
/// [`Direct::finish`].
pub(crate) struct Direct<S: Simd>(S::Xo);

impl<S: Simd> Direct<S> {
    #[inline(always)]
    pub(crate) fn new(state: &XoState) -> Self {
        Direct(S::xo_load(state))
    }

    /// Writes the advanced state back to the stream.
    #[inline(always)]
    pub(crate) fn finish(&self, state: &mut XoState) {
        S::xo_store(&self.0, state);
    }
}

impl<S: Simd> WordSource for Direct<S> {
    #[inline(always)]
    fn take<const N: usize>(&mut self) -> [u32; N] {
        const { assert!(N.is_multiple_of(BLOCK), "whole blocks") };
        let mut w = [0u32; N];
        S::xo_fill(&mut self.0, &mut w);
        w
    }
}

/// Capacity of the on-stack word buffer of [`Buffered`] (32 blocks, 2 KiB).
/// Every kernel call zeroes it once, so a larger buffer costs every short
/// call more (measurably so for a sampling epilogue with a call per row).
const WORD_BUF: usize = 32 * BLOCK;

/// The words of the paths with fewer than 16 lanes (AVX2, portable, scalar):
/// a buffer refilled 32 blocks at a time from the state in memory. On x86
/// these paths have 16 vector registers, and their stream state (eight or
/// sixteen of them) cannot stay in registers beside a kernel's own work, so
/// [`Direct`] measured slower there for the AVX2 normal, NReLU and
/// Bernoulli kernels (`docs/benchmarks.md`). Never draws more blocks than
/// the call needs in total.
pub(crate) struct Buffered<'a, S: Simd> {
    state: &'a mut XoState,
    buf: [u32; WORD_BUF],
    pos: usize,
    len: usize,
    remaining: usize,
    _path: std::marker::PhantomData<S>,
}

impl<'a, S: Simd> Buffered<'a, S> {
    #[inline(always)]
    pub(crate) fn new(state: &'a mut XoState, total_blocks: usize) -> Self {
        Buffered {
            state,
            buf: [0; WORD_BUF],
            pos: 0,
            len: 0,
            remaining: total_blocks,
            _path: std::marker::PhantomData,
        }
    }
}

impl<S: Simd> WordSource for Buffered<'_, S> {
    /// When fewer than `N` words are left in the buffer (a multi-row call
    /// whose rows are not whole buffers can leave one to three blocks
    /// before a 4-block chunk), they move to the front and the refill
    /// follows them, so the words still come in stream order.
    #[inline(always)]
    fn take<const N: usize>(&mut self) -> [u32; N] {
        const { assert!(N.is_multiple_of(BLOCK) && N <= WORD_BUF, "whole blocks") };
        if self.len - self.pos < N {
            let rest = self.len - self.pos;
            self.buf.copy_within(self.pos..self.len, 0);
            let blocks = self.remaining.min((WORD_BUF - rest) / BLOCK);
            let len = rest + blocks * BLOCK;
            assert!(len >= N, "random stream over-drawn (kernel bug)");
            S::fill_words(self.state, &mut self.buf[rest..len]);
            self.remaining -= blocks;
            self.len = len;
            self.pos = 0;
        }
        let w = self.buf[self.pos..self.pos + N]
            .try_into()
            .expect("whole blocks");
        self.pos += N;
        w
    }
}

/// 2^-24: the uniform of a word is its top 24 bits times this.
pub(crate) const U24: f32 = 1.0 / 16_777_216.0;

/// The top 24 bits k of each word, as exact floats in [0, 2^24).
#[inline(always)]
pub(crate) fn top24<S: Simd>(w: S::Int) -> S {
    S::int_to_float(S::i_shr::<8>(w))
}

/// Uniform f32 in [0, 1) from the top 24 bits of each word.
#[inline(always)]
pub(crate) fn uniform<S: Simd>(w: S::Int) -> S {
    top24::<S>(w).mul(S::splat(U24))
}

/// 0/1 indicator of `u < p`.
#[inline(always)]
pub(crate) fn below<S: Simd>(u: S, p: S) -> S {
    S::select(u.lt(p), S::splat(1.0), S::zero())
}

/// [`chunked`] once per row of `row_len` elements (`bias`, if any, is one
/// row long).
#[inline(always)]
pub(crate) fn by_rows<S: Simd, const C: usize, K: ChunkOp<S, C>>(
    x: Input<'_>,
    bias: &[f32],
    out: &mut [f32],
    row_len: usize,
    op: &mut K,
) {
    for (r, row) in out.chunks_exact_mut(row_len).enumerate() {
        let x = match x {
            Input::Slice(x) => Input::Slice(&x[r * row_len..(r + 1) * row_len]),
            other => other,
        };
        chunked(x, bias, row, op);
    }
}
