//! The generic kernel bodies of the two families, instantiated once per path
//! by [`crate::dispatch`].
//!
//! * **Map** family: deterministic element-wise functions (`sigmoid`,
//!   `softplus`, `relu`, the binomial and SSU means, identity), each applied
//!   to `x + bias`.
//! * **Random** family: everything that draws from a [`crate::Stream`]
//!   (raw words, uniform, normal, Bernoulli, NReLU, binomial, SSU).
//!
//! Elements are processed in chunks of a fixed size whatever the lane width
//! (64 elements for the uniform, Bernoulli, normal and NReLU kernels, 16
//! for the binomial and SSU ones); a
//! short last chunk is computed in a zero-padded scratch array and only its
//! valid part is written back, so outputs never depend on the path.

use crate::math::{self, keep_nan, sigmoid, sincos_octant};
use crate::simd::multi::Multi;
use crate::simd::{BLOCK, Simd, XoState};

pub(crate) use crate::Activation as MapOp;

/// A kernel that draws random numbers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum RandomOp {
    Uniform,
    Normal,
    Bernoulli,
    Nrelu,
    Binomial(u32),
    Ssu,
}

impl From<crate::Sampler> for RandomOp {
    fn from(s: crate::Sampler) -> RandomOp {
        match s {
            crate::Sampler::Bernoulli => RandomOp::Bernoulli,
            crate::Sampler::Nrelu => RandomOp::Nrelu,
            crate::Sampler::Binomial(k) => RandomOp::Binomial(k),
            crate::Sampler::Ssu => RandomOp::Ssu,
        }
    }
}

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
struct Src<'a, const C: usize> {
    x: Option<&'a [f32; C]>,
    bias: Option<&'a [f32; C]>,
}

impl<const C: usize> Src<'_, C> {
    /// The input vector at offset `h`.
    #[inline(always)]
    fn load<S: Simd>(self, io: &[f32; C], h: usize) -> S {
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
/// target features (which once cost a factor of 5-40).
trait ChunkOp<S: Simd, const C: usize> {
    /// `len` (1..=C) is the number of valid elements: kernels draw random
    /// blocks only for the 16-element groups that hold data.
    fn apply(&mut self, io: &mut [f32; C], src: Src<'_, C>, len: usize);
}

/// Runs `op` over `out` in chunks of `C`. Full chunks read the input in
/// place; the short last chunk is computed in a zero-padded scratch array
/// holding `x + bias`, and only its valid part is written back.
#[inline(always)]
fn chunked<S: Simd, const C: usize, K: ChunkOp<S, C>>(
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
elem!(SigmoidF, |s, v| sigmoid(v));
elem!(SoftplusF, |s, v| math::softplus(v));
elem!(ReluF, |s, v| math::relu(v));
elem!(ScaledSigmoidF(f32), |s, v| sigmoid(v).mul(S::splat(s.0)));
elem!(SsuMeanF, |s, v| math::ssu_mean(v));

/// Applies an [`Elem`] to `x + bias`, [`Simd::UNROLL`] independent vectors
/// per iteration (the element-wise functions are long dependency chains, so
/// the core needs several in flight), then single vectors, then a padded
/// tail.
#[inline(always)]
fn map_loop<S: Simd, E: Elem>(e: E, x: Input<'_>, bias: &[f32], out: &mut [f32]) {
    let (n, l) = (out.len(), S::LANES);
    let has_bias = !bias.is_empty();
    // A plain function, not a closure: closures are not guaranteed to be
    // inlined into the `#[target_feature]` wrapper.
    #[inline(always)]
    fn load<S: Simd>(x: Input<'_>, bias: &[f32], out: &[f32], j: usize) -> S {
        let v = match x {
            Input::Slice(x) => S::load(&x[j..]),
            _ => S::load(&out[j..]),
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
            Input::Slice(x) => io[..len].copy_from_slice(&x[i..n]),
            _ => io[..len].copy_from_slice(&out[i..n]),
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

/// The map family body.
#[inline(always)]
pub(crate) fn map<S: Simd>(op: MapOp, x: Input<'_>, bias: &[f32], out: &mut [f32]) {
    match op {
        MapOp::Identity => map_loop::<S, _>(IdentityF, x, bias, out),
        MapOp::Sigmoid => map_loop::<S, _>(SigmoidF, x, bias, out),
        MapOp::Softplus => map_loop::<S, _>(SoftplusF, x, bias, out),
        MapOp::Relu => map_loop::<S, _>(ReluF, x, bias, out),
        MapOp::BinomialMean(k) => map_loop::<S, _>(ScaledSigmoidF(k as f32), x, bias, out),
        MapOp::SsuMean => map_loop::<S, _>(SsuMeanF, x, bias, out),
    }
}

/// Where a random kernel takes its words from: blocks of the stream, in
/// stream order, never more than the call uses.
trait WordSource {
    /// The next `N` words: `N / BLOCK` blocks of the stream.
    fn take<const N: usize>(&mut self) -> [u32; N];
}

/// The words of the AVX-512 path: the stream state stays in registers (an
/// `S::Xo`) for the whole call, and every chunk draws exactly the blocks it
/// uses straight into a local array that the compiler keeps in registers
/// as well. Against the buffer of [`Buffered`] this made the uniform fill
/// about 12 % and NReLU about 3 % faster there. The caller writes the state
/// back with [`Direct::finish`].
struct Direct<S: Simd>(S::Xo);

impl<S: Simd> Direct<S> {
    #[inline(always)]
    fn new(state: &XoState) -> Self {
        Direct(S::xo_load(state))
    }

    /// Writes the advanced state back to the stream.
    #[inline(always)]
    fn finish(&self, state: &mut XoState) {
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
/// Every kernel call zeroes it once, which mattered when a fused affine
/// epilogue made one call per row: with 64 blocks, 100 NReLU rows of 500
/// took about 4 % longer.
const WORD_BUF: usize = 32 * BLOCK;

/// The words of the paths with fewer than 16 lanes (AVX2, portable, scalar):
/// a buffer refilled 32 blocks at a time from the state in memory. On x86
/// these paths have 16 vector registers, and their stream state (eight or
/// sixteen of them) cannot stay in registers beside a kernel's own work: [`Direct`] made the AVX2 normal,
/// NReLU and Bernoulli kernels 10–17 % slower in criterion. Never draws more
/// blocks than the call needs in total.
struct Buffered<'a, S: Simd> {
    state: &'a mut XoState,
    buf: [u32; WORD_BUF],
    pos: usize,
    len: usize,
    remaining: usize,
    _path: std::marker::PhantomData<S>,
}

impl<'a, S: Simd> Buffered<'a, S> {
    #[inline(always)]
    fn new(state: &'a mut XoState, total_blocks: usize) -> Self {
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
const U24: f32 = 1.0 / 16_777_216.0;

/// The top 24 bits k of each word, as exact floats in [0, 2^24).
#[inline(always)]
fn top24<S: Simd>(w: S::Int) -> S {
    S::int_to_float(S::i_shr::<8>(w))
}

/// Uniform f32 in [0, 1) from the top 24 bits of each word.
#[inline(always)]
fn uniform<S: Simd>(w: S::Int) -> S {
    top24::<S>(w).mul(S::splat(U24))
}

/// 0/1 indicator of `u < p`.
#[inline(always)]
fn below<S: Simd>(u: S, p: S) -> S {
    S::select(u.lt(p), S::splat(1.0), S::zero())
}

/// The Box–Muller radius squared R² = -2 ln u1, with u1 = (k + 1/2) 2^-31
/// from the top 31 bits k of `w1` (so u1 is in (0, 1], never 0).
#[inline(always)]
fn radius2<S: Simd>(w1: S::Int) -> S {
    math::box_muller_r2(S::i_shr::<1>(w1))
}

/// The Box–Muller direction (cos φ, sin φ) from `w2`.
///
/// φ is uniform on the whole turn as a uniform θ in (-π/4, π/4) followed by
/// a uniform element of the symmetry group of the square: θ = (2j + 1) π/2^26
/// from the low 24 bits of `w2` read as a signed j, and bits 31, 30 and 29
/// of `w2` swap the pair (cos θ, sin θ) and flip the sign of its first and
/// second member. The eight symmetries map the sector (-π/4, π/4) onto the
/// four quarter turns twice each, so φ is uniform. Swapping and flipping are
/// bit operations: no quadrant selects.
#[inline(always)]
fn direction<S: Simd>(w2: S::Int) -> (S, S) {
    // 2j + 1 for the signed low 24 bits j: odd, |2j + 1| < 2^24 (exact).
    let odd = S::i_sra::<7>(S::i_or(S::i_shl::<8>(w2), S::i_splat(0x80)));
    let theta = S::int_to_float(odd).mul(S::splat(std::f32::consts::FRAC_PI_4 / 16_777_216.0));
    let (s, c) = sincos_octant(theta);
    let sign = S::i_splat(i32::MIN);
    let (cb, sb) = (c.to_bits(), s.to_bits());
    let swap = S::i_and(S::i_xor(cb, sb), S::i_sra::<31>(w2));
    let a = S::i_xor(S::i_xor(cb, swap), S::i_and(S::i_shl::<1>(w2), sign));
    let b = S::i_xor(S::i_xor(sb, swap), S::i_and(S::i_shl::<2>(w2), sign));
    (S::from_bits(a), S::from_bits(b))
}

/// Box–Muller on one vector of words from each half of a 32-word group:
/// the two normals r cos φ and r sin φ of every lane, r = √R².
#[inline(always)]
fn box_muller<S: Simd>(w1: S::Int, w2: S::Int) -> (S, S) {
    let r = radius2::<S>(w1).sqrt();
    let (a, b) = direction::<S>(w2);
    (r.mul(a), r.mul(b))
}

/// Box–Muller on 32 words: the normals of word pair (j, 16 + j) go to
/// `out[j]` and `out[16 + j]`.
#[inline(always)]
fn normal_group<S: Simd>(w: &[u32; 2 * BLOCK], out: &mut [f32; 2 * BLOCK]) {
    for h in (0..BLOCK).step_by(S::LANES) {
        let (z1, z2) = box_muller::<S>(S::load_words(&w[h..]), S::load_words(&w[BLOCK + h..]));
        z1.store(&mut out[h..]);
        z2.store(&mut out[BLOCK + h..]);
    }
}

/// One NReLU output max(0, x + √σ(x) z) for the normal z = √R² `dir`,
/// computed as x + √(σ(x) R²) `dir` (one square root for both factors), NaN
/// propagated.
#[inline(always)]
fn nrelu_one<S: Simd>(x: S, r2: S, dir: S) -> S {
    // For a NaN x the scale is finite, so y is x's own NaN (quieted) on
    // every path, and `max(0, y)` returns y when it is NaN: no select is
    // needed. Adding 0 turns the -0 that `max(0, -0)` returns into +0.
    let y = x.add(math::nrelu_noise_scale(x, r2).mul(dir));
    S::zero().max(y).add(S::zero())
}

/// Elements per chunk of the uniform and Bernoulli kernels: four blocks, so
/// that four independent dependency chains are in flight.
const UCHUNK: usize = 4 * BLOCK;

struct UniformOp<'w, W>(&'w mut W);
impl<S: Simd, W: WordSource> ChunkOp<S, UCHUNK> for UniformOp<'_, W> {
    #[inline(always)]
    fn apply(&mut self, io: &mut [f32; UCHUNK], _src: Src<'_, UCHUNK>, len: usize) {
        for g in (0..len).step_by(BLOCK) {
            let w = self.0.take::<BLOCK>();
            for h in (0..BLOCK).step_by(S::LANES) {
                uniform::<S>(S::load_words(&w[h..])).store(&mut io[g + h..]);
            }
        }
    }
}

struct BernoulliOp<'w, W>(&'w mut W);

/// Half the width of the Bernoulli bracket, in units of 2^-24: q below
/// 2^24 (1 - 2^-13) is surely a 1, above 2^24 (1 + 2^-13) surely a 0.
const BERNOULLI_MARGIN: f32 = 2048.0;
// The margin covers the error of the cheap e^-v plus 2^-21 for the exact
// side's `exp` (2^-22) and the roundings of both sides.
const _: () =
    assert!(math::EXP_NEG_LOOSE_ERR + 1.0 / 2_097_152.0 < BERNOULLI_MARGIN as f64 / 16_777_216.0);

/// The Bernoulli decision the exact way, from the top 24 bits `k` of the
/// words (as floats): u = k·2^-24 < σ(v) = num/den, tested as u·den < num
/// (den >= 1): no division, and the event differs from comparing with the
/// rounded quotient only within one rounding of σ (2^-24 relative), far
/// below any statistical resolution. NaN in gives NaN out.
#[inline(always)]
fn bernoulli_exact<S: Simd>(v: S, k: S) -> S {
    let u = k.mul(S::splat(U24));
    let (num, den) = math::sigmoid_ratio(v);
    keep_nan(v, below(u.mul(den), num))
}

/// The certified fast Bernoulli decision, or `None` when a lane is too close
/// to call.
///
/// u < σ(v) is the same event as q = u (1 + e^-v) < 1. With e^-v from
/// [`math::exp_neg_loose`] (relative error below 9e-5) and k = 2^24 u, the
/// computed q = k + k·e^-v differs from 2^24 times the quantity
/// [`bernoulli_exact`] compares (on either side of v = 0) by a factor within
/// 1 ± 9.1e-5 (that error, the 2^-22 of the exact `exp`, and the roundings of
/// both sides). So q < 2^24 - 2048 (2^-13 = 1.22e-4 below) proves the exact
/// result 1, and q > 2^24 + 2048 proves 0. Everything else goes to the exact
/// computation: lanes within the margin (probability 2^-12·σ(v), at most
/// 2.4e-4 each), NaN
/// (q is NaN), and k = 0 (q = 0 or NaN, and for v < -87 the exact result
/// is 0 even there). The outputs are therefore the exact ones, bit for bit,
/// on every path.
#[inline(always)]
fn bernoulli_certain<S: Simd>(v: S, k: S) -> Option<S> {
    let q = k.mul_add_loose(math::exp_neg_loose(v), k);
    let one = q.between(0.5, 16_777_216.0 - BERNOULLI_MARGIN);
    let zero = S::splat(16_777_216.0 + BERNOULLI_MARGIN).lt(q);
    S::mask_all(S::mask_or(one, zero)).then(|| S::select(one, S::splat(1.0), S::zero()))
}

/// Bernoulli on the `T::LANES` elements at offset `h` with words `w`: the
/// certified fast decision where it is sure of every lane, the exact one
/// otherwise and on the scalar reference path (which so checks the others
/// bit for bit).
#[inline(always)]
fn bernoulli_vector<T: Simd, const C: usize>(
    io: &mut [f32; C],
    src: Src<'_, C>,
    h: usize,
    w: &[u32],
) {
    let v: T = src.load(io, h);
    let k = top24::<T>(T::load_words(w));
    let fast = if T::REFERENCE {
        None
    } else {
        bernoulli_certain(v, k)
    };
    match fast {
        Some(y) => y.store(&mut io[h..]),
        None => bernoulli_exact(v, k).store(&mut io[h..]),
    }
}

/// Vectors that the Bernoulli kernel decides together on the paths with
/// fewer than 16 lanes: their operations interleave (see [`Multi`]), and
/// one branch serves them all (a mask test costs a `movemask` there). The
/// AVX-512 path decides vector by vector: its mask test is one `kortestw`,
/// and holding four results until one branch made it 4–5 % slower.
type BernoulliWide<S> = Multi<S, 4>;

/// Bernoulli on a whole chunk with its words `w`, `T::LANES` elements per
/// decision.
#[inline(always)]
fn bernoulli_chunk<T: Simd>(io: &mut [f32; UCHUNK], src: Src<'_, UCHUNK>, w: &[u32; UCHUNK]) {
    for h in (0..UCHUNK).step_by(T::LANES) {
        bernoulli_vector::<T, UCHUNK>(io, src, h, &w[h..]);
    }
}

impl<S: Simd, W: WordSource> ChunkOp<S, UCHUNK> for BernoulliOp<'_, W> {
    #[inline(always)]
    fn apply(&mut self, io: &mut [f32; UCHUNK], src: Src<'_, UCHUNK>, len: usize) {
        if len == UCHUNK {
            let w = self.0.take::<UCHUNK>();
            if S::LANES >= 16 {
                bernoulli_chunk::<S>(io, src, &w);
            } else {
                bernoulli_chunk::<BernoulliWide<S>>(io, src, &w);
            }
        } else {
            for g in (0..len).step_by(BLOCK) {
                let w = self.0.take::<BLOCK>();
                for h in (0..BLOCK).step_by(S::LANES) {
                    bernoulli_vector::<S, UCHUNK>(io, src, g + h, &w[h..]);
                }
            }
        }
    }
}

/// Elements per chunk of the normal and NReLU kernels: two Box–Muller groups.
const NCHUNK: usize = 4 * BLOCK;

struct NormalOp<'w, W>(&'w mut W);
impl<S: Simd, W: WordSource> ChunkOp<S, NCHUNK> for NormalOp<'_, W> {
    #[inline(always)]
    fn apply(&mut self, io: &mut [f32; NCHUNK], _src: Src<'_, NCHUNK>, len: usize) {
        for g in (0..len).step_by(2 * BLOCK) {
            let out: &mut [f32; 2 * BLOCK] =
                (&mut io[g..g + 2 * BLOCK]).try_into().expect("one group");
            normal_group::<S>(&self.0.take::<{ 2 * BLOCK }>(), out);
        }
    }
}

/// Box–Muller groups per chunk of the NReLU kernel.
const NGROUPS: usize = 2;
/// Elements per chunk of the NReLU kernel.
const NRCHUNK: usize = NGROUPS * 2 * BLOCK;

struct NreluOp<'w, W>(&'w mut W);
impl<S: Simd, W: WordSource> ChunkOp<S, NRCHUNK> for NreluOp<'_, W> {
    #[inline(always)]
    fn apply(&mut self, io: &mut [f32; NRCHUNK], src: Src<'_, NRCHUNK>, len: usize) {
        // The normals stay in registers: each Box–Muller pair is used at
        // once by the two outputs it belongs to (j and 16 + j of a group).
        if len > NRCHUNK - 2 * BLOCK {
            // Every group of the chunk holds data (a short last chunk too,
            // when its last group is partly filled: its padding lanes are
            // computed from zeros and discarded), so the chunk takes all its
            // words at once and runs the groups interleaved.
            let w = self.0.take::<NRCHUNK>();
            for h in (0..BLOCK).step_by(S::LANES) {
                let mut w1 = [S::i_splat(0); NGROUPS];
                let mut w2 = [S::i_splat(0); NGROUPS];
                let mut x1 = [S::zero(); NGROUPS];
                let mut x2 = [S::zero(); NGROUPS];
                for g in 0..NGROUPS {
                    w1[g] = S::load_words(&w[2 * BLOCK * g + h..]);
                    w2[g] = S::load_words(&w[2 * BLOCK * g + BLOCK + h..]);
                    x1[g] = src.load(io, 2 * BLOCK * g + h);
                    x2[g] = src.load(io, 2 * BLOCK * g + BLOCK + h);
                }
                let r2 = radius2::<Multi<S, NGROUPS>>(w1);
                let (a, b) = direction::<Multi<S, NGROUPS>>(w2);
                let y1 = nrelu_one(Multi(x1), r2, a);
                let y2 = nrelu_one(Multi(x2), r2, b);
                for g in 0..NGROUPS {
                    y1.0[g].store(&mut io[2 * BLOCK * g + h..]);
                    y2.0[g].store(&mut io[2 * BLOCK * g + BLOCK + h..]);
                }
            }
            return;
        }
        for g in (0..len).step_by(2 * BLOCK) {
            let w = self.0.take::<{ 2 * BLOCK }>();
            for h in (g..g + BLOCK).step_by(S::LANES) {
                let r2 = radius2::<S>(S::load_words(&w[h - g..]));
                let (a, b) = direction::<S>(S::load_words(&w[BLOCK + h - g..]));
                let x1: S = src.load(io, h);
                let x2: S = src.load(io, BLOCK + h);
                nrelu_one(x1, r2, a).store(&mut io[h..]);
                nrelu_one(x2, r2, b).store(&mut io[BLOCK + h..]);
            }
        }
    }
}

struct BinomialOp<'w, W>(&'w mut W, u32);
impl<S: Simd, W: WordSource> ChunkOp<S, BLOCK> for BinomialOp<'_, W> {
    #[inline(always)]
    fn apply(&mut self, io: &mut [f32; BLOCK], src: Src<'_, BLOCK>, _len: usize) {
        let mut x = [S::zero(); BLOCK];
        let mut p = [S::zero(); BLOCK];
        let mut acc = [S::zero(); BLOCK];
        for (v, h) in (0..BLOCK).step_by(S::LANES).enumerate() {
            x[v] = src.load(io, h);
            p[v] = sigmoid(x[v]);
        }
        for _ in 0..self.1 {
            let w = self.0.take::<BLOCK>();
            for (v, h) in (0..BLOCK).step_by(S::LANES).enumerate() {
                let u = uniform::<S>(S::load_words(&w[h..]));
                acc[v] = acc[v].add(below(u, p[v]));
            }
        }
        for (v, h) in (0..BLOCK).step_by(S::LANES).enumerate() {
            keep_nan(x[v], acc[v]).store(&mut io[h..]);
        }
    }
}

struct SsuOp<'w, W>(&'w mut W);
impl<S: Simd, W: WordSource> ChunkOp<S, BLOCK> for SsuOp<'_, W> {
    #[inline(always)]
    fn apply(&mut self, io: &mut [f32; BLOCK], src: Src<'_, BLOCK>, _len: usize) {
        let mut x = [S::zero(); BLOCK];
        let mut a0 = [S::zero(); BLOCK];
        let mut acc = [S::zero(); BLOCK];
        for (v, h) in (0..BLOCK).step_by(S::LANES).enumerate() {
            x[v] = src.load(io, h);
            let (below_band, a) = math::ssu_band(x[v]);
            acc[v] = below_band;
            a0[v] = a;
        }
        for d in 0..math::SSU_BAND {
            let w = self.0.take::<BLOCK>();
            let shift = S::splat(d as f32);
            for (v, h) in (0..BLOCK).step_by(S::LANES).enumerate() {
                let u = uniform::<S>(S::load_words(&w[h..]));
                acc[v] = acc[v].add(below(u, sigmoid(a0[v].sub(shift))));
            }
        }
        for (v, h) in (0..BLOCK).step_by(S::LANES).enumerate() {
            let xv = x[v];
            let r = S::select(xv.lt(S::splat(math::SSU_BIG)), acc[v], xv);
            keep_nan(xv, r).store(&mut io[h..]);
        }
    }
}

/// The random family body over `out.len() / row_len` rows of `row_len`
/// elements (`row_len` = `out.len()` for a single row). Each row is chunked
/// on its own and draws exactly the blocks a separate call for that row
/// would, from one stream state, so a multi-row call gives the same
/// bits as one call per row, without the per-call set-up.
#[inline(always)]
pub(crate) fn random<S: Simd>(
    op: RandomOp,
    x: Input<'_>,
    bias: &[f32],
    out: &mut [f32],
    row_len: usize,
    state: &mut XoState,
) {
    let n = out.len();
    if n == 0 {
        return;
    }
    let rows = n / row_len;
    let per16 = rows * row_len.div_ceil(BLOCK);
    let per32 = rows * 2 * row_len.div_ceil(2 * BLOCK);
    let blocks = match op {
        RandomOp::Uniform | RandomOp::Bernoulli => per16,
        RandomOp::Normal | RandomOp::Nrelu => per32,
        RandomOp::Binomial(k) => per16 * k as usize,
        RandomOp::Ssu => per16 * math::SSU_BAND,
    };
    // A constant per path: each instantiation keeps one branch.
    if S::LANES >= 16 {
        let mut words = Direct::<S>::new(state);
        random_from::<S, _>(op, x, bias, out, row_len, &mut words);
        words.finish(state);
    } else {
        random_from::<S, _>(
            op,
            x,
            bias,
            out,
            row_len,
            &mut Buffered::<S>::new(state, blocks),
        );
    }
}

/// [`random`] with the words of `words`.
#[inline(always)]
fn random_from<S: Simd, W: WordSource>(
    op: RandomOp,
    x: Input<'_>,
    bias: &[f32],
    out: &mut [f32],
    row_len: usize,
    words: &mut W,
) {
    match op {
        RandomOp::Uniform => by_rows::<S, _, _>(x, bias, out, row_len, &mut UniformOp(words)),
        RandomOp::Bernoulli => by_rows::<S, _, _>(x, bias, out, row_len, &mut BernoulliOp(words)),
        RandomOp::Normal => by_rows::<S, _, _>(x, bias, out, row_len, &mut NormalOp(words)),
        RandomOp::Nrelu => by_rows::<S, _, _>(x, bias, out, row_len, &mut NreluOp(words)),
        RandomOp::Binomial(k) => {
            by_rows::<S, _, _>(x, bias, out, row_len, &mut BinomialOp(words, k))
        }
        RandomOp::Ssu => by_rows::<S, _, _>(x, bias, out, row_len, &mut SsuOp(words)),
    }
}

/// [`chunked`] once per row of `row_len` elements (`bias`, if any, is one
/// row long).
#[inline(always)]
fn by_rows<S: Simd, const C: usize, K: ChunkOp<S, C>>(
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
