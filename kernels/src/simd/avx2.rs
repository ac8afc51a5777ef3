//! The AVX2+FMA path: 8 f32 lanes in `__m256`.
//!
//! # Safety contract
//! Values of [`Avx2`] are created only inside the kernel bodies that the
//! dispatch point runs through a `#[target_feature(enable = "avx2,fma")]`
//! wrapper, and it calls that wrapper only after `is_x86_feature_detected!`
//! confirmed AVX2 and FMA (see `crate::dispatch`). Every intrinsic below
//! therefore executes on a CPU that supports it; that is the contract each
//! `// SAFETY:` line refers to as "AVX2 is present".

use super::{BLOCK, Simd, XoState};
use std::arch::x86_64::*;

/// Eight f32 lanes.
#[derive(Clone, Copy)]
pub(crate) struct Avx2(__m256);

impl Simd for Avx2 {
    const LANES: usize = 8;
    const UNROLL: usize = 2;
    type Mask = __m256;
    type Int = __m256i;
    type Xo = ([__m256i; 4], [__m256i; 4]);

    #[inline(always)]
    fn splat(v: f32) -> Self {
        // SAFETY: AVX2 is present (module contract).
        Avx2(unsafe { _mm256_set1_ps(v) })
    }
    #[inline(always)]
    fn load(src: &[f32]) -> Self {
        let src = &src[..8];
        // SAFETY: AVX2 is present; `src` holds 8 readable f32 (sliced above),
        // and `loadu` has no alignment requirement.
        Avx2(unsafe { _mm256_loadu_ps(src.as_ptr()) })
    }
    #[inline(always)]
    fn store(self, dst: &mut [f32]) {
        let dst = &mut dst[..8];
        // SAFETY: AVX2 is present; `dst` holds 8 writable f32 (sliced above),
        // and `storeu` has no alignment requirement.
        unsafe { _mm256_storeu_ps(dst.as_mut_ptr(), self.0) }
    }
    #[inline(always)]
    fn add(self, o: Self) -> Self {
        // SAFETY: AVX2 is present (module contract).
        Avx2(unsafe { _mm256_add_ps(self.0, o.0) })
    }
    #[inline(always)]
    fn sub(self, o: Self) -> Self {
        // SAFETY: AVX2 is present (module contract).
        Avx2(unsafe { _mm256_sub_ps(self.0, o.0) })
    }
    #[inline(always)]
    fn mul(self, o: Self) -> Self {
        // SAFETY: AVX2 is present (module contract).
        Avx2(unsafe { _mm256_mul_ps(self.0, o.0) })
    }
    #[inline(always)]
    fn div(self, o: Self) -> Self {
        // SAFETY: AVX2 is present (module contract).
        Avx2(unsafe { _mm256_div_ps(self.0, o.0) })
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        // SAFETY: AVX2 is present (module contract).
        Avx2(unsafe { _mm256_sqrt_ps(self.0) })
    }
    #[inline(always)]
    fn lt(self, o: Self) -> __m256 {
        // SAFETY: AVX2 is present (module contract).
        unsafe { _mm256_cmp_ps::<_CMP_LT_OQ>(self.0, o.0) }
    }
    #[inline(always)]
    fn eq(self, o: Self) -> __m256 {
        // SAFETY: AVX2 is present (module contract).
        unsafe { _mm256_cmp_ps::<_CMP_EQ_OQ>(self.0, o.0) }
    }
    #[inline(always)]
    fn is_nan(self) -> __m256 {
        // SAFETY: AVX2 is present (module contract).
        unsafe { _mm256_cmp_ps::<_CMP_UNORD_Q>(self.0, self.0) }
    }
    #[inline(always)]
    fn select(m: __m256, a: Self, b: Self) -> Self {
        // SAFETY: AVX2 is present (module contract).
        Avx2(unsafe { _mm256_blendv_ps(b.0, a.0, m) })
    }
    #[inline(always)]
    fn to_bits(self) -> __m256i {
        // SAFETY: AVX2 is present; a bit cast accepts every bit pattern.
        unsafe { _mm256_castps_si256(self.0) }
    }
    #[inline(always)]
    fn from_bits(i: __m256i) -> Self {
        // SAFETY: AVX2 is present; a bit cast accepts every bit pattern.
        Avx2(unsafe { _mm256_castsi256_ps(i) })
    }
    #[inline(always)]
    fn int_to_float(i: __m256i) -> Self {
        // SAFETY: AVX2 is present (module contract).
        Avx2(unsafe { _mm256_cvtepi32_ps(i) })
    }
    #[inline(always)]
    fn float_to_int(self) -> __m256i {
        // SAFETY: AVX2 is present (module contract).
        unsafe { _mm256_cvtps_epi32(self.0) }
    }
    #[inline(always)]
    fn i_splat(v: i32) -> __m256i {
        // SAFETY: AVX2 is present (module contract).
        unsafe { _mm256_set1_epi32(v) }
    }
    #[inline(always)]
    fn i_add(a: __m256i, b: __m256i) -> __m256i {
        // SAFETY: AVX2 is present (module contract).
        unsafe { _mm256_add_epi32(a, b) }
    }
    #[inline(always)]
    fn i_sub(a: __m256i, b: __m256i) -> __m256i {
        // SAFETY: AVX2 is present (module contract).
        unsafe { _mm256_sub_epi32(a, b) }
    }
    #[inline(always)]
    fn i_and(a: __m256i, b: __m256i) -> __m256i {
        // SAFETY: AVX2 is present (module contract).
        unsafe { _mm256_and_si256(a, b) }
    }
    #[inline(always)]
    fn i_or(a: __m256i, b: __m256i) -> __m256i {
        // SAFETY: AVX2 is present (module contract).
        unsafe { _mm256_or_si256(a, b) }
    }
    #[inline(always)]
    fn i_xor(a: __m256i, b: __m256i) -> __m256i {
        // SAFETY: AVX2 is present (module contract).
        unsafe { _mm256_xor_si256(a, b) }
    }
    #[inline(always)]
    fn i_shl<const N: u32>(a: __m256i) -> __m256i {
        // SAFETY: AVX2 is present (module contract).
        unsafe { _mm256_sll_epi32(a, _mm_cvtsi32_si128(N as i32)) }
    }
    #[inline(always)]
    fn i_shr<const N: u32>(a: __m256i) -> __m256i {
        // SAFETY: AVX2 is present (module contract).
        unsafe { _mm256_srl_epi32(a, _mm_cvtsi32_si128(N as i32)) }
    }
    #[inline(always)]
    fn i_sra<const N: u32>(a: __m256i) -> __m256i {
        // SAFETY: AVX2 is present (module contract).
        unsafe { _mm256_sra_epi32(a, _mm_cvtsi32_si128(N as i32)) }
    }
    #[inline(always)]
    fn load_words(src: &[u32]) -> __m256i {
        let src = &src[..8];
        // SAFETY: AVX2 is present; `src` holds 8 readable u32 (32 bytes,
        // sliced above), and `loadu` has no alignment requirement.
        unsafe { _mm256_loadu_si256(src.as_ptr().cast()) }
    }
    #[inline(always)]
    fn max(self, o: Self) -> Self {
        // SAFETY: AVX2 is present. `maxps(a, b)` returns `b` when either is
        // NaN or both are equal, exactly as the generic select-based `max`.
        Avx2(unsafe { _mm256_max_ps(self.0, o.0) })
    }
    #[inline(always)]
    fn min(self, o: Self) -> Self {
        // SAFETY: AVX2 is present. `minps(a, b)` returns `b` when either is
        // NaN or both are equal, exactly as the generic select-based `min`.
        Avx2(unsafe { _mm256_min_ps(self.0, o.0) })
    }
    #[inline(always)]
    fn round_small(self) -> Self {
        // SAFETY: AVX2 is present (module contract). Round to nearest even
        // without exceptions; equal to the generic version for |x| < 2^22.
        Avx2(unsafe {
            _mm256_round_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(self.0)
        })
    }
    #[inline(always)]
    fn floor_small(self) -> Self {
        // SAFETY: AVX2 is present (module contract). Round down without
        // exceptions: floor is exact, so this equals the generic version
        // (built on this path's `round_small`) for |x| < 2^22.
        Avx2(unsafe { _mm256_round_ps::<{ _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC }>(self.0) })
    }
    #[inline(always)]
    fn mul_add_loose(self, b: Self, c: Self) -> Self {
        // SAFETY: AVX2 and FMA are present (module contract).
        Avx2(unsafe { _mm256_fmadd_ps(self.0, b.0, c.0) })
    }
    #[inline(always)]
    fn mask_and(a: __m256, b: __m256) -> __m256 {
        // SAFETY: AVX2 is present (module contract).
        unsafe { _mm256_and_ps(a, b) }
    }
    #[inline(always)]
    fn mask_or(a: __m256, b: __m256) -> __m256 {
        // SAFETY: AVX2 is present (module contract).
        unsafe { _mm256_or_ps(a, b) }
    }
    #[inline(always)]
    fn mask_all(m: __m256) -> bool {
        // SAFETY: AVX2 is present (module contract).
        unsafe { _mm256_movemask_ps(m) == 0xff }
    }
    /// Lanes 0..4 in the first array, lanes 4..8 in the second.
    #[inline(always)]
    fn xo_load(state: &XoState) -> ([__m256i; 4], [__m256i; 4]) {
        // SAFETY: AVX2 is present (module contract).
        let mut xo = unsafe { ([_mm256_setzero_si256(); 4], [_mm256_setzero_si256(); 4]) };
        for (k, row) in state.iter().enumerate() {
            // SAFETY: AVX2 is present; each row of `state` is 8 u64, so
            // `[0..4]` and `[4..8]` are 32 readable bytes each.
            unsafe {
                xo.0[k] = _mm256_loadu_si256(row[0..4].as_ptr().cast());
                xo.1[k] = _mm256_loadu_si256(row[4..8].as_ptr().cast());
            }
        }
        xo
    }
    #[inline(always)]
    fn xo_store(xo: &([__m256i; 4], [__m256i; 4]), state: &mut XoState) {
        for (k, row) in state.iter_mut().enumerate() {
            // SAFETY: AVX2 is present; each row of `state` is 8 u64, so
            // `[0..4]` and `[4..8]` are 32 writable bytes each.
            unsafe {
                _mm256_storeu_si256(row[0..4].as_mut_ptr().cast(), xo.0[k]);
                _mm256_storeu_si256(row[4..8].as_mut_ptr().cast(), xo.1[k]);
            }
        }
    }
    #[inline(always)]
    fn xo_fill(xo: &mut ([__m256i; 4], [__m256i; 4]), dst: &mut [u32]) {
        #[inline(always)]
        fn rotl<const L: i32, const R: i32>(x: __m256i) -> __m256i {
            // SAFETY: AVX2 is present (module contract).
            unsafe { _mm256_or_si256(_mm256_slli_epi64::<L>(x), _mm256_srli_epi64::<R>(x)) }
        }
        #[inline(always)]
        fn step(s: &mut [__m256i; 4]) -> __m256i {
            // SAFETY: AVX2 is present (module contract).
            unsafe {
                let result = _mm256_add_epi64(rotl::<23, 41>(_mm256_add_epi64(s[0], s[3])), s[0]);
                let t = _mm256_slli_epi64::<17>(s[1]);
                s[2] = _mm256_xor_si256(s[2], s[0]);
                s[3] = _mm256_xor_si256(s[3], s[1]);
                s[1] = _mm256_xor_si256(s[1], s[2]);
                s[0] = _mm256_xor_si256(s[0], s[3]);
                s[2] = _mm256_xor_si256(s[2], t);
                s[3] = rotl::<45, 19>(s[3]);
                result
            }
        }
        let (mut a, mut b) = *xo;
        for block in dst.chunks_exact_mut(BLOCK) {
            let ra = step(&mut a);
            let rb = step(&mut b);
            // SAFETY: AVX2 is present; `block` is 16 writable u32 (64
            // bytes): `ra` fills the first 32 bytes and `rb` the last 32.
            unsafe {
                _mm256_storeu_si256(block.as_mut_ptr().cast(), ra);
                _mm256_storeu_si256(block[8..].as_mut_ptr().cast(), rb);
            }
        }
        *xo = (a, b);
    }
}
