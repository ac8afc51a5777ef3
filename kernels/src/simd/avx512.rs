//! The AVX-512 path: 16 f32 lanes in `__m512`, masks in `__mmask16`.
//!
//! # Safety contract
//! Values of [`Avx512`] are created only inside the kernel bodies that the
//! dispatch point runs through a `#[target_feature(enable = "avx512f")]`
//! wrapper, and it calls that wrapper only after `is_x86_feature_detected!`
//! confirmed AVX-512F (see `crate::dispatch`). Every intrinsic below
//! therefore executes on a CPU that supports it; that is the contract each
//! `// SAFETY:` line refers to as "AVX-512F is present".

use super::{BLOCK, Simd, XoState};
use std::arch::x86_64::*;

/// Sixteen f32 lanes.
#[derive(Clone, Copy)]
pub(crate) struct Avx512(__m512);

impl Simd for Avx512 {
    const LANES: usize = 16;
    const UNROLL: usize = 4;
    type Mask = __mmask16;
    type Int = __m512i;

    #[inline(always)]
    fn splat(v: f32) -> Self {
        // SAFETY: AVX-512F is present (module contract).
        Avx512(unsafe { _mm512_set1_ps(v) })
    }
    #[inline(always)]
    fn load(src: &[f32]) -> Self {
        let src = &src[..16];
        // SAFETY: AVX-512F is present; `src` holds 16 readable f32 (sliced
        // above), and `loadu` has no alignment requirement.
        Avx512(unsafe { _mm512_loadu_ps(src.as_ptr()) })
    }
    #[inline(always)]
    fn store(self, dst: &mut [f32]) {
        let dst = &mut dst[..16];
        // SAFETY: AVX-512F is present; `dst` holds 16 writable f32 (sliced
        // above), and `storeu` has no alignment requirement.
        unsafe { _mm512_storeu_ps(dst.as_mut_ptr(), self.0) }
    }
    #[inline(always)]
    fn add(self, o: Self) -> Self {
        // SAFETY: AVX-512F is present (module contract).
        Avx512(unsafe { _mm512_add_ps(self.0, o.0) })
    }
    #[inline(always)]
    fn sub(self, o: Self) -> Self {
        // SAFETY: AVX-512F is present (module contract).
        Avx512(unsafe { _mm512_sub_ps(self.0, o.0) })
    }
    #[inline(always)]
    fn mul(self, o: Self) -> Self {
        // SAFETY: AVX-512F is present (module contract).
        Avx512(unsafe { _mm512_mul_ps(self.0, o.0) })
    }
    #[inline(always)]
    fn div(self, o: Self) -> Self {
        // SAFETY: AVX-512F is present (module contract).
        Avx512(unsafe { _mm512_div_ps(self.0, o.0) })
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        // SAFETY: AVX-512F is present (module contract).
        Avx512(unsafe { _mm512_sqrt_ps(self.0) })
    }
    #[inline(always)]
    fn lt(self, o: Self) -> __mmask16 {
        // SAFETY: AVX-512F is present (module contract).
        unsafe { _mm512_cmp_ps_mask::<_CMP_LT_OQ>(self.0, o.0) }
    }
    #[inline(always)]
    fn eq(self, o: Self) -> __mmask16 {
        // SAFETY: AVX-512F is present (module contract).
        unsafe { _mm512_cmp_ps_mask::<_CMP_EQ_OQ>(self.0, o.0) }
    }
    #[inline(always)]
    fn is_nan(self) -> __mmask16 {
        // SAFETY: AVX-512F is present (module contract).
        unsafe { _mm512_cmp_ps_mask::<_CMP_UNORD_Q>(self.0, self.0) }
    }
    #[inline(always)]
    fn select(m: __mmask16, a: Self, b: Self) -> Self {
        // SAFETY: AVX-512F is present; `mask_blend(k, b, a)` takes `a` where
        // `k` is set and `b` elsewhere.
        Avx512(unsafe { _mm512_mask_blend_ps(m, b.0, a.0) })
    }
    #[inline(always)]
    fn to_bits(self) -> __m512i {
        // SAFETY: AVX-512F is present; a bit cast accepts every bit pattern.
        unsafe { _mm512_castps_si512(self.0) }
    }
    #[inline(always)]
    fn from_bits(i: __m512i) -> Self {
        // SAFETY: AVX-512F is present; a bit cast accepts every bit pattern.
        Avx512(unsafe { _mm512_castsi512_ps(i) })
    }
    #[inline(always)]
    fn int_to_float(i: __m512i) -> Self {
        // SAFETY: AVX-512F is present (module contract).
        Avx512(unsafe { _mm512_cvtepi32_ps(i) })
    }
    #[inline(always)]
    fn float_to_int(self) -> __m512i {
        // SAFETY: AVX-512F is present (module contract).
        unsafe { _mm512_cvtps_epi32(self.0) }
    }
    #[inline(always)]
    fn i_splat(v: i32) -> __m512i {
        // SAFETY: AVX-512F is present (module contract).
        unsafe { _mm512_set1_epi32(v) }
    }
    #[inline(always)]
    fn i_add(a: __m512i, b: __m512i) -> __m512i {
        // SAFETY: AVX-512F is present (module contract).
        unsafe { _mm512_add_epi32(a, b) }
    }
    #[inline(always)]
    fn i_sub(a: __m512i, b: __m512i) -> __m512i {
        // SAFETY: AVX-512F is present (module contract).
        unsafe { _mm512_sub_epi32(a, b) }
    }
    #[inline(always)]
    fn i_and(a: __m512i, b: __m512i) -> __m512i {
        // SAFETY: AVX-512F is present (module contract).
        unsafe { _mm512_and_si512(a, b) }
    }
    #[inline(always)]
    fn i_or(a: __m512i, b: __m512i) -> __m512i {
        // SAFETY: AVX-512F is present (module contract).
        unsafe { _mm512_or_si512(a, b) }
    }
    #[inline(always)]
    fn i_xor(a: __m512i, b: __m512i) -> __m512i {
        // SAFETY: AVX-512F is present (module contract).
        unsafe { _mm512_xor_si512(a, b) }
    }
    #[inline(always)]
    fn i_shl<const N: u32>(a: __m512i) -> __m512i {
        // SAFETY: AVX-512F is present (module contract).
        unsafe { _mm512_slli_epi32::<N>(a) }
    }
    #[inline(always)]
    fn i_shr<const N: u32>(a: __m512i) -> __m512i {
        // SAFETY: AVX-512F is present (module contract).
        unsafe { _mm512_srli_epi32::<N>(a) }
    }
    #[inline(always)]
    fn i_sra<const N: u32>(a: __m512i) -> __m512i {
        // SAFETY: AVX-512F is present (module contract).
        unsafe { _mm512_srai_epi32::<N>(a) }
    }
    #[inline(always)]
    fn load_words(src: &[u32]) -> __m512i {
        let src = &src[..16];
        // SAFETY: AVX-512F is present; `src` holds 16 readable u32 (64
        // bytes, sliced above), and `loadu` has no alignment requirement.
        unsafe { _mm512_loadu_si512(src.as_ptr().cast()) }
    }
    #[inline(always)]
    fn max(self, o: Self) -> Self {
        // SAFETY: AVX-512F is present. `vmaxps(a, b)` returns `b` when either
        // is NaN or both are equal, exactly as the generic `max`.
        Avx512(unsafe { _mm512_max_ps(self.0, o.0) })
    }
    #[inline(always)]
    fn min(self, o: Self) -> Self {
        // SAFETY: AVX-512F is present. `vminps(a, b)` returns `b` when either
        // is NaN or both are equal, exactly as the generic `min`.
        Avx512(unsafe { _mm512_min_ps(self.0, o.0) })
    }
    #[inline(always)]
    fn round_small(self) -> Self {
        // SAFETY: AVX-512F is present (module contract). Round to nearest
        // even without exceptions; equal to the generic version for
        // |x| < 2^22.
        Avx512(unsafe {
            _mm512_roundscale_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(self.0)
        })
    }
    #[inline(always)]
    fn ldexp(self, n: Self) -> Self {
        // SAFETY: AVX-512F is present (module contract). `vscalefps` computes
        // self · 2^floor(n) with one rounding; for the integer n and normal
        // results of the contract it is exact, like the generic version.
        Avx512(unsafe { _mm512_scalef_ps(self.0, n.0) })
    }
    #[inline(always)]
    fn fill_words(state: &mut XoState, dst: &mut [u32]) {
        let mut s = [zero_i512(); 4];
        for (k, row) in state.iter().enumerate() {
            // SAFETY: AVX-512F is present; `row` is 8 u64 = 64 readable bytes.
            s[k] = unsafe { _mm512_loadu_si512(row.as_ptr().cast()) };
        }
        for block in dst.chunks_exact_mut(BLOCK) {
            // SAFETY: AVX-512F is present; `block` is 16 writable u32 (64
            // bytes) for the one store.
            unsafe {
                let result =
                    _mm512_add_epi64(_mm512_rol_epi64::<23>(_mm512_add_epi64(s[0], s[3])), s[0]);
                let t = _mm512_slli_epi64::<17>(s[1]);
                s[2] = _mm512_xor_si512(s[2], s[0]);
                s[3] = _mm512_xor_si512(s[3], s[1]);
                s[1] = _mm512_xor_si512(s[1], s[2]);
                s[0] = _mm512_xor_si512(s[0], s[3]);
                s[2] = _mm512_xor_si512(s[2], t);
                s[3] = _mm512_rol_epi64::<45>(s[3]);
                _mm512_storeu_si512(block.as_mut_ptr().cast(), result);
            }
        }
        for (k, row) in state.iter_mut().enumerate() {
            // SAFETY: AVX-512F is present; `row` is 8 u64 = 64 writable bytes.
            unsafe { _mm512_storeu_si512(row.as_mut_ptr().cast(), s[k]) };
        }
    }
}

#[inline(always)]
fn zero_i512() -> __m512i {
    // SAFETY: AVX-512F is present (module contract).
    unsafe { _mm512_setzero_si512() }
}
