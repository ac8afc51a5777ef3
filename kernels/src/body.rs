//! The generic kernel bodies of the two families, instantiated once per path
//! by [`crate::dispatch`].
//!
//! * **Map** family: deterministic element-wise functions (`sigmoid`,
//!   `softplus`, `relu`, the binomial and SSU means, identity), each applied
//!   to `x + bias`.
//! * **Random** family: everything that draws from a [`crate::Stream`]
//!   (raw words, uniform, normal, Bernoulli, NReLU, binomial, SSU).
//!
//! Elements are processed in chunks of 16 (32 for the normal-based kernels),
//! the size of one random block (two blocks), whatever the lane width; a
//! short last chunk is computed in a zero-padded scratch array and only its
//! valid part is written back, so outputs never depend on the path.

use crate::math::{self, keep_nan, ln, sigmoid, sincos_octant};
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

/// Runs `f(input_chunk, output_chunk)` over `out` in chunks of `C`, where the
/// input chunk holds `x + bias` (zero padded past the end).
#[inline(always)]
fn chunked<S: Simd, const C: usize>(
    x: Input<'_>,
    bias: &[f32],
    out: &mut [f32],
    mut f: impl FnMut(&[f32; C], &mut [f32; C]),
) {
    let n = out.len();
    let mut inp = [0f32; C];
    let mut start = 0;
    while start < n {
        let len = C.min(n - start);
        if len < C {
            inp = [0f32; C];
        }
        match x {
            Input::Slice(x) => inp[..len].copy_from_slice(&x[start..start + len]),
            Input::InPlace => inp[..len].copy_from_slice(&out[start..start + len]),
            Input::None => {}
        }
        if !bias.is_empty() {
            let mut b = [0f32; C];
            b[..len].copy_from_slice(&bias[start..start + len]);
            for h in (0..C).step_by(S::LANES) {
                S::load(&inp[h..])
                    .add(S::load(&b[h..]))
                    .store(&mut inp[h..]);
            }
        }
        if len == C {
            let o: &mut [f32; C] = (&mut out[start..start + C]).try_into().expect("chunk");
            f(&inp, o);
        } else {
            let mut o = [0f32; C];
            f(&inp, &mut o);
            out[start..n].copy_from_slice(&o[..len]);
        }
        start += C;
    }
}

/// The map family body.
#[inline(always)]
pub(crate) fn map<S: Simd>(op: MapOp, x: Input<'_>, bias: &[f32], out: &mut [f32]) {
    #[inline(always)]
    fn each<S: Simd>(x: Input<'_>, bias: &[f32], out: &mut [f32], g: impl Fn(S) -> S) {
        chunked::<S, 16>(x, bias, out, |i, o| {
            for h in (0..16).step_by(S::LANES) {
                g(S::load(&i[h..])).store(&mut o[h..]);
            }
        });
    }
    match op {
        MapOp::Identity => each::<S>(x, bias, out, |v| v),
        MapOp::Sigmoid => each::<S>(x, bias, out, sigmoid),
        MapOp::Softplus => each::<S>(x, bias, out, math::softplus),
        MapOp::Relu => each::<S>(x, bias, out, math::relu),
        MapOp::BinomialMean(k) => {
            let k = S::splat(k as f32);
            each::<S>(x, bias, out, |v| sigmoid(v).mul(k))
        }
        MapOp::SsuMean => each::<S>(x, bias, out, math::ssu_mean),
    }
}

/// Capacity of the on-stack word buffer (64 blocks, 4 KiB).
const WORD_BUF: usize = 64 * BLOCK;

/// Hands out random blocks, refilling a small buffer from the stream and never
/// drawing more blocks than the call needs in total.
struct Words<'a, S: Simd> {
    state: &'a mut XoState,
    buf: [u32; WORD_BUF],
    pos: usize,
    len: usize,
    remaining: usize,
    _path: std::marker::PhantomData<S>,
}

impl<'a, S: Simd> Words<'a, S> {
    #[inline(always)]
    fn new(state: &'a mut XoState, total_blocks: usize) -> Self {
        Words {
            state,
            buf: [0; WORD_BUF],
            pos: 0,
            len: 0,
            remaining: total_blocks,
            _path: std::marker::PhantomData,
        }
    }

    /// The next `N` words (a whole number of blocks).
    #[inline(always)]
    fn take<const N: usize>(&mut self) -> &[u32; N] {
        if self.pos == self.len {
            let blocks = self.remaining.min(WORD_BUF / BLOCK);
            assert!(blocks > 0, "random stream over-drawn (kernel bug)");
            self.len = blocks * BLOCK;
            S::fill_words(self.state, &mut self.buf[..self.len]);
            self.remaining -= blocks;
            self.pos = 0;
        }
        let w = (&self.buf[self.pos..self.pos + N])
            .try_into()
            .expect("whole blocks");
        self.pos += N;
        w
    }
}

/// Uniform f32 in [0, 1) from the top 24 bits of each word.
#[inline(always)]
fn uniform<S: Simd>(w: S::Int) -> S {
    S::int_to_float(S::i_shr::<8>(w)).mul(S::splat(1.0 / 16_777_216.0))
}

/// 0/1 indicator of `u < p`.
#[inline(always)]
fn below<S: Simd>(u: S, p: S) -> S {
    S::select(u.lt(p), S::splat(1.0), S::zero())
}

/// Box–Muller on 32 words: r_j = sqrt(-2 ln u1_j) with u1 from the top 31
/// bits of word j (shifted to (0, 1]), angle 2π u2_j with u2 from the top 24
/// bits of word 16 + j; writes r cos to `out[j]` and r sin to `out[16 + j]`.
#[inline(always)]
fn normal_group<S: Simd>(w: &[u32; 2 * BLOCK], out: &mut [f32; 2 * BLOCK]) {
    for h in (0..BLOCK).step_by(S::LANES) {
        let w1 = S::load_words(&w[h..]);
        let w2 = S::load_words(&w[BLOCK + h..]);
        // u1 = (k + 1/2) 2^-31 for the 31-bit integer k: in (0, 1], never 0.
        let u1 = S::int_to_float(S::i_shr::<1>(w1))
            .mul(S::splat(1.0 / 2_147_483_648.0))
            .add(S::splat(1.0 / 4_294_967_296.0));
        let r = ln(u1).mul(S::splat(-2.0)).sqrt();
        // Quarter-turn reduction: 4 u2 = j + g with j integer and |g| <= 1/2
        // (both steps exact), so the angle is j π/2 + g π/2.
        let q = uniform::<S>(w2).mul(S::splat(4.0));
        let j = q.round_small();
        let (s, c) = sincos_octant(q.sub(j).mul(S::splat(std::f32::consts::FRAC_PI_2)));
        let q1 = j.eq(S::splat(1.0));
        let q2 = j.eq(S::splat(2.0));
        let q3 = j.eq(S::splat(3.0));
        let cos = S::select(q1, s.neg(), S::select(q2, c.neg(), S::select(q3, s, c)));
        let sin = S::select(q1, c, S::select(q2, s.neg(), S::select(q3, c.neg(), s)));
        r.mul(cos).store(&mut out[h..]);
        r.mul(sin).store(&mut out[BLOCK + h..]);
    }
}

/// The random family body.
#[inline(always)]
pub(crate) fn random<S: Simd>(
    op: RandomOp,
    x: Input<'_>,
    bias: &[f32],
    out: &mut [f32],
    state: &mut XoState,
) {
    let n = out.len();
    match op {
        RandomOp::Uniform => {
            let mut words = Words::<S>::new(state, n.div_ceil(BLOCK));
            chunked::<S, BLOCK>(x, bias, out, |_, o| {
                let w = words.take::<BLOCK>();
                for h in (0..BLOCK).step_by(S::LANES) {
                    uniform::<S>(S::load_words(&w[h..])).store(&mut o[h..]);
                }
            });
        }
        RandomOp::Bernoulli => {
            let mut words = Words::<S>::new(state, n.div_ceil(BLOCK));
            chunked::<S, BLOCK>(x, bias, out, |i, o| {
                let w = words.take::<BLOCK>();
                for h in (0..BLOCK).step_by(S::LANES) {
                    let v = S::load(&i[h..]);
                    let u = uniform::<S>(S::load_words(&w[h..]));
                    keep_nan(v, below(u, sigmoid(v))).store(&mut o[h..]);
                }
            });
        }
        RandomOp::Normal => {
            let mut words = Words::<S>::new(state, 2 * n.div_ceil(2 * BLOCK));
            chunked::<S, { 2 * BLOCK }>(x, bias, out, |_, o| {
                normal_group::<S>(words.take::<{ 2 * BLOCK }>(), o);
            });
        }
        RandomOp::Nrelu => {
            let mut words = Words::<S>::new(state, 2 * n.div_ceil(2 * BLOCK));
            chunked::<S, { 2 * BLOCK }>(x, bias, out, |i, o| {
                let mut z = [0f32; 2 * BLOCK];
                normal_group::<S>(words.take::<{ 2 * BLOCK }>(), &mut z);
                for h in (0..2 * BLOCK).step_by(S::LANES) {
                    let v = S::load(&i[h..]);
                    // Noise variance σ(v): standard deviation sqrt(σ(v)).
                    let y = v.add(sigmoid(v).sqrt().mul(S::load(&z[h..])));
                    keep_nan(v, y.max(S::zero())).store(&mut o[h..]);
                }
            });
        }
        RandomOp::Binomial(k) => {
            let mut words = Words::<S>::new(state, n.div_ceil(BLOCK) * k as usize);
            chunked::<S, BLOCK>(x, bias, out, |i, o| {
                let mut p = [S::zero(); BLOCK];
                let mut acc = [S::zero(); BLOCK];
                for (v, h) in (0..BLOCK).step_by(S::LANES).enumerate() {
                    p[v] = sigmoid(S::load(&i[h..]));
                }
                for _ in 0..k {
                    let w = words.take::<BLOCK>();
                    for (v, h) in (0..BLOCK).step_by(S::LANES).enumerate() {
                        let u = uniform::<S>(S::load_words(&w[h..]));
                        acc[v] = acc[v].add(below(u, p[v]));
                    }
                }
                for (v, h) in (0..BLOCK).step_by(S::LANES).enumerate() {
                    keep_nan(S::load(&i[h..]), acc[v]).store(&mut o[h..]);
                }
            });
        }
        RandomOp::Ssu => {
            let mut words = Words::<S>::new(state, n.div_ceil(BLOCK) * math::SSU_BAND);
            chunked::<S, BLOCK>(x, bias, out, |i, o| {
                let mut a0 = [S::zero(); BLOCK];
                let mut acc = [S::zero(); BLOCK];
                for (v, h) in (0..BLOCK).step_by(S::LANES).enumerate() {
                    let (below_band, a) = math::ssu_band(S::load(&i[h..]));
                    acc[v] = below_band;
                    a0[v] = a;
                }
                for d in 0..math::SSU_BAND {
                    let w = words.take::<BLOCK>();
                    let shift = S::splat(d as f32);
                    for (v, h) in (0..BLOCK).step_by(S::LANES).enumerate() {
                        let u = uniform::<S>(S::load_words(&w[h..]));
                        acc[v] = acc[v].add(below(u, sigmoid(a0[v].sub(shift))));
                    }
                }
                for (v, h) in (0..BLOCK).step_by(S::LANES).enumerate() {
                    let xv = S::load(&i[h..]);
                    let r = S::select(xv.lt(S::splat(math::SSU_BIG)), acc[v], xv);
                    keep_nan(xv, r).store(&mut o[h..]);
                }
            });
        }
    }
}
