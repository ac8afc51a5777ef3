//! The AVX-512 path: 16 f32 lanes in `__m512`, masks in `__mmask16`.
//!
//! # Safety contract
//! Values of [`Avx512`] are created only inside the kernel bodies that the
//! dispatcher runs through a `#[target_feature(enable =
//! "avx512f,avx512dq")]` wrapper, and it calls that wrapper only after
//! `is_x86_feature_detected!` confirmed AVX-512F and AVX-512DQ (see
//! `crate::dispatch`). Every intrinsic below therefore executes on a CPU
//! that supports it; that is the contract each `// SAFETY:` line refers to
//! as "AVX-512F and AVX-512DQ are present" (DQ for the one instruction
//! that needs it, `vreduceps`; F for every other).

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
    type Xo = [__m512i; 4];

    #[inline(always)]
    fn splat(v: f32) -> Self {
        // SAFETY: AVX-512F and AVX-512DQ are present (module contract).
        Avx512(unsafe { _mm512_set1_ps(v) })
    }
    #[inline(always)]
    fn load(src: &[f32]) -> Self {
        let src = &src[..16];
        // SAFETY: AVX-512F and AVX-512DQ are present; `src` holds 16 readable f32 (sliced
        // above), and `loadu` has no alignment requirement.
        Avx512(unsafe { _mm512_loadu_ps(src.as_ptr()) })
    }
    #[inline(always)]
    fn store(self, dst: &mut [f32]) {
        let dst = &mut dst[..16];
        // SAFETY: AVX-512F and AVX-512DQ are present; `dst` holds 16 writable f32 (sliced
        // above), and `storeu` has no alignment requirement.
        unsafe { _mm512_storeu_ps(dst.as_mut_ptr(), self.0) }
    }
    #[inline(always)]
    fn add(self, o: Self) -> Self {
        // SAFETY: AVX-512F and AVX-512DQ are present (module contract).
        Avx512(unsafe { _mm512_add_ps(self.0, o.0) })
    }
    #[inline(always)]
    fn sub(self, o: Self) -> Self {
        // SAFETY: AVX-512F and AVX-512DQ are present (module contract).
        Avx512(unsafe { _mm512_sub_ps(self.0, o.0) })
    }
    #[inline(always)]
    fn mul(self, o: Self) -> Self {
        // SAFETY: AVX-512F and AVX-512DQ are present (module contract).
        Avx512(unsafe { _mm512_mul_ps(self.0, o.0) })
    }
    #[inline(always)]
    fn div(self, o: Self) -> Self {
        // SAFETY: AVX-512F and AVX-512DQ are present (module contract).
        Avx512(unsafe { _mm512_div_ps(self.0, o.0) })
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        // SAFETY: AVX-512F and AVX-512DQ are present (module contract).
        Avx512(unsafe { _mm512_sqrt_ps(self.0) })
    }
    #[inline(always)]
    fn lt(self, o: Self) -> __mmask16 {
        // SAFETY: AVX-512F and AVX-512DQ are present (module contract).
        unsafe { _mm512_cmp_ps_mask::<_CMP_LT_OQ>(self.0, o.0) }
    }
    #[inline(always)]
    fn eq(self, o: Self) -> __mmask16 {
        // SAFETY: AVX-512F and AVX-512DQ are present (module contract).
        unsafe { _mm512_cmp_ps_mask::<_CMP_EQ_OQ>(self.0, o.0) }
    }
    #[inline(always)]
    fn is_nan(self) -> __mmask16 {
        // SAFETY: AVX-512F and AVX-512DQ are present (module contract).
        unsafe { _mm512_cmp_ps_mask::<_CMP_UNORD_Q>(self.0, self.0) }
    }
    #[inline(always)]
    fn select(m: __mmask16, a: Self, b: Self) -> Self {
        // SAFETY: AVX-512F and AVX-512DQ are present; `mask_blend(k, b, a)` takes `a` where
        // `k` is set and `b` elsewhere.
        Avx512(unsafe { _mm512_mask_blend_ps(m, b.0, a.0) })
    }
    #[inline(always)]
    fn to_bits(self) -> __m512i {
        // SAFETY: AVX-512F and AVX-512DQ are present; a bit cast accepts every bit pattern.
        unsafe { _mm512_castps_si512(self.0) }
    }
    #[inline(always)]
    fn from_bits(i: __m512i) -> Self {
        // SAFETY: AVX-512F and AVX-512DQ are present; a bit cast accepts every bit pattern.
        Avx512(unsafe { _mm512_castsi512_ps(i) })
    }
    #[inline(always)]
    fn int_to_float(i: __m512i) -> Self {
        // SAFETY: AVX-512F and AVX-512DQ are present (module contract).
        Avx512(unsafe { _mm512_cvtepi32_ps(i) })
    }
    #[inline(always)]
    fn float_to_int(self) -> __m512i {
        // SAFETY: AVX-512F and AVX-512DQ are present (module contract).
        unsafe { _mm512_cvtps_epi32(self.0) }
    }
    #[inline(always)]
    fn i_splat(v: i32) -> __m512i {
        // SAFETY: AVX-512F and AVX-512DQ are present (module contract).
        unsafe { _mm512_set1_epi32(v) }
    }
    #[inline(always)]
    fn i_add(a: __m512i, b: __m512i) -> __m512i {
        // SAFETY: AVX-512F and AVX-512DQ are present (module contract).
        unsafe { _mm512_add_epi32(a, b) }
    }
    #[inline(always)]
    fn i_sub(a: __m512i, b: __m512i) -> __m512i {
        // SAFETY: AVX-512F and AVX-512DQ are present (module contract).
        unsafe { _mm512_sub_epi32(a, b) }
    }
    #[inline(always)]
    fn i_and(a: __m512i, b: __m512i) -> __m512i {
        // SAFETY: AVX-512F and AVX-512DQ are present (module contract).
        unsafe { _mm512_and_si512(a, b) }
    }
    #[inline(always)]
    fn i_or(a: __m512i, b: __m512i) -> __m512i {
        // SAFETY: AVX-512F and AVX-512DQ are present (module contract).
        unsafe { _mm512_or_si512(a, b) }
    }
    #[inline(always)]
    fn i_xor(a: __m512i, b: __m512i) -> __m512i {
        // SAFETY: AVX-512F and AVX-512DQ are present (module contract).
        unsafe { _mm512_xor_si512(a, b) }
    }
    #[inline(always)]
    fn i_shl<const N: u32>(a: __m512i) -> __m512i {
        // SAFETY: AVX-512F and AVX-512DQ are present (module contract).
        unsafe { _mm512_slli_epi32::<N>(a) }
    }
    #[inline(always)]
    fn i_shr<const N: u32>(a: __m512i) -> __m512i {
        // SAFETY: AVX-512F and AVX-512DQ are present (module contract).
        unsafe { _mm512_srli_epi32::<N>(a) }
    }
    #[inline(always)]
    fn i_sra<const N: u32>(a: __m512i) -> __m512i {
        // SAFETY: AVX-512F and AVX-512DQ are present (module contract).
        unsafe { _mm512_srai_epi32::<N>(a) }
    }
    #[inline(always)]
    fn load_words(src: &[u32]) -> __m512i {
        let src = &src[..16];
        // SAFETY: AVX-512F and AVX-512DQ are present; `src` holds 16 readable u32 (64
        // bytes, sliced above), and `loadu` has no alignment requirement.
        unsafe { _mm512_loadu_si512(src.as_ptr().cast()) }
    }
    #[inline(always)]
    fn max(self, o: Self) -> Self {
        // SAFETY: AVX-512F and AVX-512DQ are present. `vmaxps(a, b)` returns `b` when either
        // is NaN or both are equal, exactly as the generic `max`.
        Avx512(unsafe { _mm512_max_ps(self.0, o.0) })
    }
    #[inline(always)]
    fn min(self, o: Self) -> Self {
        // SAFETY: AVX-512F and AVX-512DQ are present. `vminps(a, b)` returns `b` when either
        // is NaN or both are equal, exactly as the generic `min`.
        Avx512(unsafe { _mm512_min_ps(self.0, o.0) })
    }
    #[inline(always)]
    fn round_small(self) -> Self {
        // SAFETY: AVX-512F and AVX-512DQ are present (module contract). Round to nearest
        // even without exceptions; equal to the generic version for
        // |x| < 2^22.
        Avx512(unsafe {
            _mm512_roundscale_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(self.0)
        })
    }
    #[inline(always)]
    fn ldexp(self, n: Self) -> Self {
        // SAFETY: AVX-512F and AVX-512DQ are present (module contract). `vscalefps` computes
        // self · 2^floor(n) with one rounding; for the integer n and normal
        // results of the contract it is exact, like the generic version.
        Avx512(unsafe { _mm512_scalef_ps(self.0, n.0) })
    }
    #[inline(always)]
    fn mul_add_loose(self, b: Self, c: Self) -> Self {
        // SAFETY: AVX-512F and AVX-512DQ are present (module contract).
        Avx512(unsafe { _mm512_fmadd_ps(self.0, b.0, c.0) })
    }
    #[inline(always)]
    fn exp2_cubic_loose(self, c: &[f32; 4]) -> Self {
        // The lower clamp keeps 2^z normal: subnormal results and operands
        // cost some cores a microcode assist per vector (see `EXP_LO`).
        // `max(c, z)` keeps a NaN `z`. No upper clamp: `vscalefps`
        // overflows to +inf.
        let z = Self::splat(-86.5).max(self);
        // SAFETY: AVX-512F and AVX-512DQ are present (module contract).
        // `vreduceps` with no fraction bits and rounding down returns
        // z - floor(z) (exactly, but for tiny negative z, where it rounds
        // to 1 or just below: harmless for the cubic); `vscalefps`
        // multiplies by 2^floor(z) with one rounding (exact for normal
        // results), +inf on overflow.
        let f = Avx512(unsafe {
            _mm512_reduce_ps::<{ _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC }>(z.0)
        });
        let p = super::cubic_loose(f, c);
        // SAFETY: AVX-512F and AVX-512DQ are present (module contract).
        Avx512(unsafe { _mm512_scalef_ps(p.0, z.0) })
    }
    #[inline(always)]
    fn between(self, lo: f32, hi: f32) -> __mmask16 {
        debug_assert!(0.0 < lo && lo < hi && hi < f32::INFINITY);
        // bits(x) - bits(lo) - 1 < bits(hi) - bits(lo) - 1 as unsigned:
        // for a positive x (NaN too) the bits are ordered like the values,
        // and a negative x (sign bit set) or x <= lo wraps far above the
        // range; NaN bits lie above those of every finite `hi`.
        let lo_bits = lo.to_bits() as i32;
        let span = hi.to_bits() as i32 - lo_bits - 1;
        // SAFETY: AVX-512F and AVX-512DQ are present (module contract).
        unsafe {
            let d = _mm512_sub_epi32(_mm512_castps_si512(self.0), _mm512_set1_epi32(lo_bits + 1));
            _mm512_cmplt_epu32_mask(d, _mm512_set1_epi32(span))
        }
    }
    #[inline(always)]
    fn mask_and(a: __mmask16, b: __mmask16) -> __mmask16 {
        a & b
    }
    #[inline(always)]
    fn mask_or(a: __mmask16, b: __mmask16) -> __mmask16 {
        a | b
    }
    #[inline(always)]
    fn mask_all(m: __mmask16) -> bool {
        m == 0xffff
    }
    #[inline(always)]
    fn xo_load(state: &XoState) -> [__m512i; 4] {
        // SAFETY: AVX-512F and AVX-512DQ are present (module contract).
        let mut s = unsafe { [_mm512_setzero_si512(); 4] };
        for (v, row) in s.iter_mut().zip(state) {
            // SAFETY: AVX-512F and AVX-512DQ are present; `row` is 8 u64 = 64 readable bytes.
            *v = unsafe { _mm512_loadu_si512(row.as_ptr().cast()) };
        }
        s
    }
    #[inline(always)]
    fn xo_store(s: &[__m512i; 4], state: &mut XoState) {
        for (row, v) in state.iter_mut().zip(s) {
            // SAFETY: AVX-512F and AVX-512DQ are present; `row` is 8 u64 = 64 writable bytes.
            unsafe { _mm512_storeu_si512(row.as_mut_ptr().cast(), *v) };
        }
    }
    #[inline(always)]
    fn xo_fill(xo: &mut [__m512i; 4], dst: &mut [u32]) {
        let mut s = *xo;
        for block in dst.chunks_exact_mut(BLOCK) {
            // SAFETY: AVX-512F and AVX-512DQ are present; `block` is 16 writable u32 (64
            // bytes) for the one store.
            unsafe {
                let result =
                    _mm512_add_epi64(_mm512_rol_epi64::<23>(_mm512_add_epi64(s[0], s[3])), s[0]);
                // The xoshiro update (s2 ^= s0; s3 ^= s1; s1 ^= s2;
                // s0 ^= s3; s2 ^= t; s3 = rotl(s3, 45)) with every
                // three-way xor in one `vpternlogq` (0x96 = a ^ b ^ c):
                // five operations instead of seven.
                let t = _mm512_slli_epi64::<17>(s[1]);
                let (s0, s1, s2, s3) = (s[0], s[1], s[2], s[3]);
                s[0] = _mm512_ternarylogic_epi64::<0x96>(s0, s3, s1);
                s[1] = _mm512_ternarylogic_epi64::<0x96>(s1, s2, s0);
                s[2] = _mm512_ternarylogic_epi64::<0x96>(s2, s0, t);
                s[3] = _mm512_rol_epi64::<45>(_mm512_xor_si512(s3, s1));
                _mm512_storeu_si512(block.as_mut_ptr().cast(), result);
            }
        }
        *xo = s;
    }
}
