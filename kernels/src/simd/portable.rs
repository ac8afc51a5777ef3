//! The portable path: `wide`'s 4-lane vectors.
//!
//! `wide` picks its implementation when it is compiled (SSE2 on baseline
//! x86-64, NEON on AArch64, plain arrays elsewhere), so this path is the
//! fast fallback on any target; the x86 fast paths are chosen at run time in
//! [`super::avx2`] and [`super::avx512`].

use super::{BLOCK, Simd, XO_LANES, XoState};
use wide::{f32x4, i32x4, u64x2};

/// Four f32 lanes.
#[derive(Clone, Copy)]
pub(crate) struct Portable(f32x4);

#[inline(always)]
fn cast_fi(v: f32x4) -> i32x4 {
    wide::bytemuck::cast(v)
}

#[inline(always)]
fn cast_if(v: i32x4) -> f32x4 {
    wide::bytemuck::cast(v)
}

impl Simd for Portable {
    const LANES: usize = 4;
    const UNROLL: usize = 4;
    type Mask = f32x4;
    type Int = i32x4;
    type Xo = [[u64x2; XO_LANES / 2]; 4];

    #[inline(always)]
    fn splat(v: f32) -> Self {
        Portable(f32x4::splat(v))
    }
    #[inline(always)]
    fn load(src: &[f32]) -> Self {
        let a: [f32; 4] = src[..4].try_into().expect("4 lanes");
        Portable(f32x4::new(a))
    }
    #[inline(always)]
    fn store(self, dst: &mut [f32]) {
        dst[..4].copy_from_slice(&self.0.to_array());
    }
    #[inline(always)]
    fn add(self, o: Self) -> Self {
        Portable(self.0 + o.0)
    }
    #[inline(always)]
    fn sub(self, o: Self) -> Self {
        Portable(self.0 - o.0)
    }
    #[inline(always)]
    fn mul(self, o: Self) -> Self {
        Portable(self.0 * o.0)
    }
    #[inline(always)]
    fn div(self, o: Self) -> Self {
        Portable(self.0 / o.0)
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        Portable(self.0.sqrt())
    }
    #[inline(always)]
    fn lt(self, o: Self) -> f32x4 {
        self.0.simd_lt(o.0)
    }
    #[inline(always)]
    fn eq(self, o: Self) -> f32x4 {
        self.0.simd_eq(o.0)
    }
    #[inline(always)]
    fn is_nan(self) -> f32x4 {
        self.0.is_nan()
    }
    #[inline(always)]
    fn select(m: f32x4, a: Self, b: Self) -> Self {
        Portable(m.select(a.0, b.0))
    }
    #[inline(always)]
    fn to_bits(self) -> i32x4 {
        cast_fi(self.0)
    }
    #[inline(always)]
    fn from_bits(i: i32x4) -> Self {
        Portable(cast_if(i))
    }
    #[inline(always)]
    fn int_to_float(i: i32x4) -> Self {
        Portable(f32x4::from_i32x4(i))
    }
    #[inline(always)]
    fn float_to_int(self) -> i32x4 {
        self.0.fast_round_int()
    }
    #[inline(always)]
    fn i_splat(v: i32) -> i32x4 {
        i32x4::splat(v)
    }
    #[inline(always)]
    fn i_add(a: i32x4, b: i32x4) -> i32x4 {
        a + b
    }
    #[inline(always)]
    fn i_sub(a: i32x4, b: i32x4) -> i32x4 {
        a - b
    }
    #[inline(always)]
    fn i_and(a: i32x4, b: i32x4) -> i32x4 {
        a & b
    }
    #[inline(always)]
    fn i_or(a: i32x4, b: i32x4) -> i32x4 {
        a | b
    }
    #[inline(always)]
    fn i_xor(a: i32x4, b: i32x4) -> i32x4 {
        a ^ b
    }
    #[inline(always)]
    fn i_shl<const N: u32>(a: i32x4) -> i32x4 {
        a << N
    }
    #[inline(always)]
    fn i_shr<const N: u32>(a: i32x4) -> i32x4 {
        let u: wide::u32x4 = wide::bytemuck::cast(a);
        wide::bytemuck::cast(u >> N)
    }
    #[inline(always)]
    fn i_sra<const N: u32>(a: i32x4) -> i32x4 {
        a >> N
    }
    #[inline(always)]
    fn load_words(src: &[u32]) -> i32x4 {
        let a: [u32; 4] = src[..4].try_into().expect("4 lanes");
        wide::bytemuck::cast(a)
    }
    #[inline(always)]
    fn mask_and(a: f32x4, b: f32x4) -> f32x4 {
        a & b
    }
    #[inline(always)]
    fn mask_or(a: f32x4, b: f32x4) -> f32x4 {
        a | b
    }
    #[inline(always)]
    fn mask_all(m: f32x4) -> bool {
        m.all()
    }
    /// `[k][v]` holds state word k of lanes 2v and 2v + 1.
    #[inline(always)]
    fn xo_load(state: &XoState) -> [[u64x2; XO_LANES / 2]; 4] {
        let mut xo = [[u64x2::ZERO; XO_LANES / 2]; 4];
        for (s, row) in xo.iter_mut().zip(state) {
            for (v, pair) in s.iter_mut().enumerate() {
                *pair = u64x2::new([row[2 * v], row[2 * v + 1]]);
            }
        }
        xo
    }
    #[inline(always)]
    fn xo_store(xo: &[[u64x2; XO_LANES / 2]; 4], state: &mut XoState) {
        for (row, s) in state.iter_mut().zip(xo) {
            for (v, pair) in s.iter().enumerate() {
                row[2 * v..2 * v + 2].copy_from_slice(&pair.to_array());
            }
        }
    }
    #[inline(always)]
    fn xo_fill(xo: &mut [[u64x2; XO_LANES / 2]; 4], dst: &mut [u32]) {
        let [mut s0, mut s1, mut s2, mut s3] = *xo;
        for block in dst.chunks_exact_mut(BLOCK) {
            for v in 0..XO_LANES / 2 {
                let sum = s0[v] + s3[v];
                let result = ((sum << 23) | (sum >> 41)) + s0[v];
                let t = s1[v] << 17;
                s2[v] ^= s0[v];
                s3[v] ^= s1[v];
                s1[v] ^= s2[v];
                s0[v] ^= s3[v];
                s2[v] ^= t;
                s3[v] = (s3[v] << 45) | (s3[v] >> 19);
                let words: [u32; 4] = wide::bytemuck::cast(result);
                block[4 * v..4 * v + 4].copy_from_slice(&words);
            }
        }
        *xo = [s0, s1, s2, s3];
    }
}
