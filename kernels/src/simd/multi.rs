//! `K` independent vectors of one path, used as one wider vector.
//!
//! The kernels are long chains of dependent operations (an `exp` is about
//! 20 deep), and the out-of-order window of a core cannot hold enough of
//! them to keep its pipes busy when they are issued one chain after the
//! other. [`Multi`] runs every operation on `K` vectors in turn, so the
//! instruction stream interleaves `K` independent chains. Every lane still
//! undergoes exactly the same operations, so the results are bit-identical
//! to those of the single vector (and of every other path).

use super::{Simd, XoState};

/// `K` vectors of `S`, lane `k * S::LANES + l` being lane `l` of vector `k`.
#[derive(Clone, Copy)]
pub(crate) struct Multi<S: Simd, const K: usize>(pub [S; K]);

macro_rules! each {
    ($k:ident, $out:expr, $e:expr) => {{
        let mut out = $out;
        for $k in 0..K {
            out[$k] = $e;
        }
        out
    }};
}

impl<S: Simd, const K: usize> Simd for Multi<S, K> {
    const LANES: usize = K * S::LANES;
    const UNROLL: usize = 1;
    type Mask = [S::Mask; K];
    type Int = [S::Int; K];
    type Xo = S::Xo;

    #[inline(always)]
    fn splat(v: f32) -> Self {
        Multi([S::splat(v); K])
    }
    #[inline(always)]
    fn load(src: &[f32]) -> Self {
        Multi(each!(k, [S::zero(); K], S::load(&src[k * S::LANES..])))
    }
    #[inline(always)]
    fn store(self, dst: &mut [f32]) {
        for k in 0..K {
            self.0[k].store(&mut dst[k * S::LANES..]);
        }
    }
    #[inline(always)]
    fn add(self, o: Self) -> Self {
        Multi(each!(k, self.0, self.0[k].add(o.0[k])))
    }
    #[inline(always)]
    fn sub(self, o: Self) -> Self {
        Multi(each!(k, self.0, self.0[k].sub(o.0[k])))
    }
    #[inline(always)]
    fn mul(self, o: Self) -> Self {
        Multi(each!(k, self.0, self.0[k].mul(o.0[k])))
    }
    #[inline(always)]
    fn div(self, o: Self) -> Self {
        Multi(each!(k, self.0, self.0[k].div(o.0[k])))
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        Multi(each!(k, self.0, self.0[k].sqrt()))
    }
    #[inline(always)]
    fn lt(self, o: Self) -> Self::Mask {
        let first = self.0[0].lt(o.0[0]);
        each!(k, [first; K], self.0[k].lt(o.0[k]))
    }
    #[inline(always)]
    fn eq(self, o: Self) -> Self::Mask {
        let first = self.0[0].eq(o.0[0]);
        each!(k, [first; K], self.0[k].eq(o.0[k]))
    }
    #[inline(always)]
    fn is_nan(self) -> Self::Mask {
        let first = self.0[0].is_nan();
        each!(k, [first; K], self.0[k].is_nan())
    }
    #[inline(always)]
    fn select(m: Self::Mask, a: Self, b: Self) -> Self {
        Multi(each!(k, a.0, S::select(m[k], a.0[k], b.0[k])))
    }
    #[inline(always)]
    fn to_bits(self) -> Self::Int {
        let first = self.0[0].to_bits();
        each!(k, [first; K], self.0[k].to_bits())
    }
    #[inline(always)]
    fn from_bits(i: Self::Int) -> Self {
        Multi(each!(k, [S::zero(); K], S::from_bits(i[k])))
    }
    #[inline(always)]
    fn int_to_float(i: Self::Int) -> Self {
        Multi(each!(k, [S::zero(); K], S::int_to_float(i[k])))
    }
    #[inline(always)]
    fn float_to_int(self) -> Self::Int {
        let first = self.0[0].float_to_int();
        each!(k, [first; K], self.0[k].float_to_int())
    }
    #[inline(always)]
    fn i_splat(v: i32) -> Self::Int {
        [S::i_splat(v); K]
    }
    #[inline(always)]
    fn i_add(a: Self::Int, b: Self::Int) -> Self::Int {
        each!(k, a, S::i_add(a[k], b[k]))
    }
    #[inline(always)]
    fn i_sub(a: Self::Int, b: Self::Int) -> Self::Int {
        each!(k, a, S::i_sub(a[k], b[k]))
    }
    #[inline(always)]
    fn i_and(a: Self::Int, b: Self::Int) -> Self::Int {
        each!(k, a, S::i_and(a[k], b[k]))
    }
    #[inline(always)]
    fn i_or(a: Self::Int, b: Self::Int) -> Self::Int {
        each!(k, a, S::i_or(a[k], b[k]))
    }
    #[inline(always)]
    fn i_xor(a: Self::Int, b: Self::Int) -> Self::Int {
        each!(k, a, S::i_xor(a[k], b[k]))
    }
    #[inline(always)]
    fn i_shl<const N: u32>(a: Self::Int) -> Self::Int {
        each!(k, a, S::i_shl::<N>(a[k]))
    }
    #[inline(always)]
    fn i_shr<const N: u32>(a: Self::Int) -> Self::Int {
        each!(k, a, S::i_shr::<N>(a[k]))
    }
    #[inline(always)]
    fn i_sra<const N: u32>(a: Self::Int) -> Self::Int {
        each!(k, a, S::i_sra::<N>(a[k]))
    }
    #[inline(always)]
    fn load_words(src: &[u32]) -> Self::Int {
        let first = S::load_words(src);
        each!(k, [first; K], S::load_words(&src[k * S::LANES..]))
    }
    #[inline(always)]
    fn xo_load(state: &XoState) -> S::Xo {
        S::xo_load(state)
    }
    #[inline(always)]
    fn xo_store(xo: &S::Xo, state: &mut XoState) {
        S::xo_store(xo, state)
    }
    #[inline(always)]
    fn xo_fill(xo: &mut S::Xo, dst: &mut [u32]) {
        S::xo_fill(xo, dst)
    }
    const REFERENCE: bool = S::REFERENCE;
    #[inline(always)]
    fn mul_add_loose(self, b: Self, c: Self) -> Self {
        Multi(each!(k, self.0, self.0[k].mul_add_loose(b.0[k], c.0[k])))
    }
    #[inline(always)]
    fn exp2_cubic_loose(self, c: &[f32; 4]) -> Self {
        Multi(each!(k, self.0, self.0[k].exp2_cubic_loose(c)))
    }
    #[inline(always)]
    fn between(self, lo: f32, hi: f32) -> Self::Mask {
        let first = self.0[0].between(lo, hi);
        each!(k, [first; K], self.0[k].between(lo, hi))
    }
    #[inline(always)]
    fn mask_and(a: Self::Mask, b: Self::Mask) -> Self::Mask {
        each!(k, a, S::mask_and(a[k], b[k]))
    }
    #[inline(always)]
    fn mask_or(a: Self::Mask, b: Self::Mask) -> Self::Mask {
        each!(k, a, S::mask_or(a[k], b[k]))
    }
    #[inline(always)]
    fn mask_all(m: Self::Mask) -> bool {
        m.iter().all(|&mk| S::mask_all(mk))
    }

    // The single-instruction overrides of the path, lane group by group.
    #[inline(always)]
    fn min(self, o: Self) -> Self {
        Multi(each!(k, self.0, self.0[k].min(o.0[k])))
    }
    #[inline(always)]
    fn max(self, o: Self) -> Self {
        Multi(each!(k, self.0, self.0[k].max(o.0[k])))
    }
    #[inline(always)]
    fn neg_abs(self) -> Self {
        Multi(each!(k, self.0, self.0[k].neg_abs()))
    }
    #[inline(always)]
    fn ldexp(self, n: Self) -> Self {
        Multi(each!(k, self.0, self.0[k].ldexp(n.0[k])))
    }
    #[inline(always)]
    fn round_small(self) -> Self {
        Multi(each!(k, self.0, self.0[k].round_small()))
    }
    #[inline(always)]
    fn floor_small(self) -> Self {
        Multi(each!(k, self.0, self.0[k].floor_small()))
    }
}
