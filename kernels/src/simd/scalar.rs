//! The scalar reference path: one lane, plain Rust `f32` arithmetic.
//!
//! It runs the same kernel bodies as the SIMD paths, so it is both the
//! fallback for CPUs without SIMD and the executable specification the SIMD
//! paths are checked against bit for bit.

use super::{BLOCK, Simd, XO_LANES, XoState};

/// One f32 lane.
#[derive(Clone, Copy)]
pub(crate) struct Scalar(pub f32);

impl Simd for Scalar {
    const LANES: usize = 1;
    const UNROLL: usize = 4;
    type Mask = bool;
    type Xo = XoState;
    type Int = i32;
    const REFERENCE: bool = true;

    #[inline(always)]
    fn splat(v: f32) -> Self {
        Scalar(v)
    }
    #[inline(always)]
    fn load(src: &[f32]) -> Self {
        Scalar(src[0])
    }
    #[inline(always)]
    fn store(self, dst: &mut [f32]) {
        dst[0] = self.0;
    }
    #[inline(always)]
    fn add(self, o: Self) -> Self {
        Scalar(self.0 + o.0)
    }
    #[inline(always)]
    fn sub(self, o: Self) -> Self {
        Scalar(self.0 - o.0)
    }
    #[inline(always)]
    fn mul(self, o: Self) -> Self {
        Scalar(self.0 * o.0)
    }
    #[inline(always)]
    fn div(self, o: Self) -> Self {
        Scalar(self.0 / o.0)
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        Scalar(self.0.sqrt())
    }
    #[inline(always)]
    fn lt(self, o: Self) -> bool {
        self.0 < o.0
    }
    #[inline(always)]
    fn eq(self, o: Self) -> bool {
        self.0 == o.0
    }
    #[inline(always)]
    fn is_nan(self) -> bool {
        self.0.is_nan()
    }
    #[inline(always)]
    fn select(m: bool, a: Self, b: Self) -> Self {
        if m { a } else { b }
    }
    #[inline(always)]
    fn to_bits(self) -> i32 {
        self.0.to_bits() as i32
    }
    #[inline(always)]
    fn from_bits(i: i32) -> Self {
        Scalar(f32::from_bits(i as u32))
    }
    #[inline(always)]
    fn int_to_float(i: i32) -> Self {
        Scalar(i as f32)
    }
    #[inline(always)]
    fn float_to_int(self) -> i32 {
        self.0 as i32
    }
    #[inline(always)]
    fn i_splat(v: i32) -> i32 {
        v
    }
    #[inline(always)]
    fn i_add(a: i32, b: i32) -> i32 {
        a.wrapping_add(b)
    }
    #[inline(always)]
    fn i_sub(a: i32, b: i32) -> i32 {
        a.wrapping_sub(b)
    }
    #[inline(always)]
    fn i_and(a: i32, b: i32) -> i32 {
        a & b
    }
    #[inline(always)]
    fn i_or(a: i32, b: i32) -> i32 {
        a | b
    }
    #[inline(always)]
    fn i_xor(a: i32, b: i32) -> i32 {
        a ^ b
    }
    #[inline(always)]
    fn i_shl<const N: u32>(a: i32) -> i32 {
        ((a as u32) << N) as i32
    }
    #[inline(always)]
    fn i_shr<const N: u32>(a: i32) -> i32 {
        ((a as u32) >> N) as i32
    }
    #[inline(always)]
    fn i_sra<const N: u32>(a: i32) -> i32 {
        a >> N
    }
    #[inline(always)]
    fn load_words(src: &[u32]) -> i32 {
        src[0] as i32
    }
    #[inline(always)]
    fn mask_and(a: bool, b: bool) -> bool {
        a && b
    }
    #[inline(always)]
    fn mask_or(a: bool, b: bool) -> bool {
        a || b
    }
    #[inline(always)]
    fn mask_all(m: bool) -> bool {
        m
    }
    #[inline(always)]
    fn xo_load(state: &XoState) -> XoState {
        *state
    }
    #[inline(always)]
    fn xo_store(xo: &XoState, state: &mut XoState) {
        *state = *xo;
    }
    #[inline(always)]
    fn xo_fill(xo: &mut XoState, dst: &mut [u32]) {
        let mut state = *xo;
        for block in dst.chunks_exact_mut(BLOCK) {
            for lane in 0..XO_LANES {
                let out = xoshiro_step(&mut state, lane);
                block[2 * lane] = out as u32;
                block[2 * lane + 1] = (out >> 32) as u32;
            }
        }
        *xo = state;
    }
}

/// One xoshiro256++ step of lane `lane`, exactly as in
/// `rand_xoshiro::Xoshiro256PlusPlus::next_u64`.
#[inline(always)]
pub(crate) fn xoshiro_step(s: &mut XoState, lane: usize) -> u64 {
    let (s0, s1, s2, s3) = (s[0][lane], s[1][lane], s[2][lane], s[3][lane]);
    let result = s0.wrapping_add(s3).rotate_left(23).wrapping_add(s0);
    let t = s1 << 17;
    let s2 = s2 ^ s0;
    let s3 = s3 ^ s1;
    let s1 = s1 ^ s2;
    let s0 = s0 ^ s3;
    let s2 = s2 ^ t;
    let s3 = s3.rotate_left(45);
    s[0][lane] = s0;
    s[1][lane] = s1;
    s[2][lane] = s2;
    s[3][lane] = s3;
    result
}
