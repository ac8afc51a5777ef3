//! The lane abstraction that every kernel body is written against.
//!
//! Each kernel is one `#[inline(always)]` generic body over [`Simd`]. The
//! dispatcher instantiates that body once per instruction
//! set inside a `#[target_feature]` wrapper (see `crate::dispatch`), so there
//! is one copy of the source to read and four compiled copies to run.
//!
//! # Bit-identical paths
//! Every operation here is either exact or correctly rounded in IEEE-754
//! single precision (add, sub, mul, div, sqrt, int↔float conversion of
//! in-range values, compares, selects, bit operations). No path uses fused
//! multiply-add in element-wise code, and no path uses approximate
//! reciprocals. Because the kernel bodies perform the same operations in the
//! same order on every path, **every path produces bit-identical results**,
//! which the tests assert. The exceptions are the methods whose names end in
//! `_loose` ([`Simd::mul_add_loose`], [`Simd::exp2_cubic_loose`], whose
//! AVX-512 override also skips the generic upper clamp): they feed only the
//! certified brackets of fast paths (the Bernoulli sampler's), and a
//! bracket either proves the exact result with a margin larger than any
//! path's error, or sends the lanes to the exact computation, so the
//! outputs stay bit-identical. (matrixmultiply's sgemm keeps its own FMA
//! kernels; that is the only place results may depend on the CPU.)

#[cfg(target_arch = "x86_64")]
pub(crate) mod avx2;
#[cfg(target_arch = "x86_64")]
pub(crate) mod avx512;
pub(crate) mod multi;
pub(crate) mod portable;
pub(crate) mod scalar;

/// Number of xoshiro256++ lanes in a [`crate::rng::Stream`]; one step of all
/// lanes yields one block of [`BLOCK`] 32-bit words.
pub const XO_LANES: usize = 8;
/// 32-bit words per random block (two per 64-bit xoshiro output).
pub const BLOCK: usize = 2 * XO_LANES;

/// Structure-of-arrays xoshiro256++ state: `s[k][lane]` is word `k` of lane
/// `lane`.
pub(crate) type XoState = [[u64; XO_LANES]; 4];

/// c0 + f (c1 + f (c2 + f c3)) by [`Simd::mul_add_loose`]: the cubic of
/// [`Simd::exp2_cubic_loose`] on every path.
#[inline(always)]
pub(crate) fn cubic_loose<S: Simd>(f: S, c: &[f32; 4]) -> S {
    S::splat(c[3])
        .mul_add_loose(f, S::splat(c[2]))
        .mul_add_loose(f, S::splat(c[1]))
        .mul_add_loose(f, S::splat(c[0]))
}

/// A vector of `LANES` f32 values, with the matching i32 vector and mask.
///
/// Implementations must make every method bit-identical to the scalar
/// implementation for non-NaN inputs, except the `_loose` ones (see the
/// module docs).
pub(crate) trait Simd: Copy {
    /// Number of f32 lanes.
    const LANES: usize;
    /// Independent vectors the element-wise loops keep in flight (tuned on
    /// the `kernels` benchmark).
    const UNROLL: usize;
    /// Lane mask produced by comparisons.
    type Mask: Copy;
    /// A vector of `LANES` i32 values.
    type Int: Copy;

    fn splat(v: f32) -> Self;
    /// Loads the first `LANES` values of `src` (panics if shorter).
    fn load(src: &[f32]) -> Self;
    /// Stores into the first `LANES` values of `dst` (panics if shorter).
    fn store(self, dst: &mut [f32]);
    fn add(self, o: Self) -> Self;
    fn sub(self, o: Self) -> Self;
    fn mul(self, o: Self) -> Self;
    fn div(self, o: Self) -> Self;
    fn sqrt(self) -> Self;
    /// Ordered `<` (false when either side is NaN).
    fn lt(self, o: Self) -> Self::Mask;
    /// Ordered `==`.
    fn eq(self, o: Self) -> Self::Mask;
    /// True in lanes that hold NaN.
    fn is_nan(self) -> Self::Mask;
    /// `m ? a : b` lane by lane.
    fn select(m: Self::Mask, a: Self, b: Self) -> Self;
    fn to_bits(self) -> Self::Int;
    fn from_bits(i: Self::Int) -> Self;
    /// Converts i32 to f32, rounding to nearest even (exact below 2^24).
    fn int_to_float(i: Self::Int) -> Self;
    /// Converts an f32 that already holds an integer in i32 range to i32.
    fn float_to_int(self) -> Self::Int;
    fn i_splat(v: i32) -> Self::Int;
    fn i_add(a: Self::Int, b: Self::Int) -> Self::Int;
    fn i_sub(a: Self::Int, b: Self::Int) -> Self::Int;
    fn i_and(a: Self::Int, b: Self::Int) -> Self::Int;
    fn i_or(a: Self::Int, b: Self::Int) -> Self::Int;
    fn i_xor(a: Self::Int, b: Self::Int) -> Self::Int;
    /// Shift left by `N` bits.
    fn i_shl<const N: u32>(a: Self::Int) -> Self::Int;
    /// Logical (zero-filling) shift right by `N` bits.
    fn i_shr<const N: u32>(a: Self::Int) -> Self::Int;
    /// Arithmetic (sign-filling) shift right by `N` bits.
    fn i_sra<const N: u32>(a: Self::Int) -> Self::Int;
    /// Loads the first `LANES` words of `src` as i32 bit patterns.
    fn load_words(src: &[u32]) -> Self::Int;
    /// The xoshiro256++ state of all [`XO_LANES`] lanes as the path's
    /// registers: for a whole kernel call on AVX-512 (the body's `Direct`
    /// word source), for one [`Simd::fill_words`] on the other paths.
    type Xo: Copy;
    /// The stream state in registers.
    fn xo_load(state: &XoState) -> Self::Xo;
    /// Writes the state in registers back to the stream.
    fn xo_store(xo: &Self::Xo, state: &mut XoState);
    /// Advances all [`XO_LANES`] xoshiro256++ lanes `dst.len() / BLOCK`
    /// times, writing each step's outputs as `[lo0, hi0, lo1, hi1, ...]`.
    /// The state is copied into locals for the loop (the compiler keeps
    /// `*xo` in memory otherwise).
    fn xo_fill(xo: &mut Self::Xo, dst: &mut [u32]);
    /// [`Simd::xo_fill`] from the stream state in memory.
    #[inline(always)]
    fn fill_words(state: &mut XoState, dst: &mut [u32]) {
        let mut xo = Self::xo_load(state);
        Self::xo_fill(&mut xo, dst);
        Self::xo_store(&xo, state);
    }

    // ---- for bracketed fast paths only (see the module docs) ----

    /// True for the scalar reference path, whose kernels compute every
    /// result the direct way: bodies with a bracketed fast path (see
    /// [`Simd::mul_add_loose`]) take their exact branch on it, so the
    /// cross-path bit-identity tests check each fast path against the
    /// exact computation.
    const REFERENCE: bool = false;
    /// `self · b + c`, fused on the paths that have FMA and unfused
    /// elsewhere, so its **bits differ between paths**. Only for values
    /// that decide nothing by themselves: a bracketed fast path compares
    /// them with a margin wider than every path's error and falls back to
    /// the exact, bit-identical computation inside the margin.
    #[inline(always)]
    fn mul_add_loose(self, b: Self, c: Self) -> Self {
        self.mul(b).add(c)
    }
    /// 2^self ≈ 2^floor(z) · P(z - floor(z)) for the cubic P with
    /// coefficients `c` (lowest degree first, for f in [0, 1)), evaluated
    /// with [`Simd::mul_add_loose`]. Every path clamps z below at -86.5
    /// (so the result is at least 2^-86.5 and never subnormal); the generic
    /// version also clamps z above at 129 for [`Simd::ldexp`] (so it is +inf
    /// or at least 2^129 · P(0) beyond), while AVX-512 splits z with
    /// `vreduceps` and scales with `vscalefps`, which overflows to +inf by
    /// itself. NaN in gives NaN out on every path.
    #[inline(always)]
    fn exp2_cubic_loose(self, c: &[f32; 4]) -> Self {
        // `k.min(z)` and `k.max(z)` keep a NaN `z`.
        let z = Self::splat(-86.5).max(Self::splat(129.0).min(self));
        let n = z.floor_small();
        cubic_loose(z.sub(n), c).ldexp(n)
    }
    /// `lo < self && self < hi` lane by lane, for bounds with
    /// `0 < lo < hi < inf` (false for NaN). AVX-512 compares the bit
    /// patterns as unsigned integers (one subtraction and one integer
    /// compare instead of two compares and a mask `and`), which orders
    /// non-negative floats like their values.
    #[inline(always)]
    fn between(self, lo: f32, hi: f32) -> Self::Mask {
        Self::mask_and(Self::splat(lo).lt(self), self.lt(Self::splat(hi)))
    }
    /// Lane-wise `a && b`.
    fn mask_and(a: Self::Mask, b: Self::Mask) -> Self::Mask;
    /// Lane-wise `a || b`.
    fn mask_or(a: Self::Mask, b: Self::Mask) -> Self::Mask;
    /// True when every lane of `m` is set.
    fn mask_all(m: Self::Mask) -> bool;

    // ---- derived operations (same on every path by construction) ----

    #[inline(always)]
    fn zero() -> Self {
        Self::splat(0.0)
    }
    /// `self < o ? self : o`; returns `o` when either is NaN.
    #[inline(always)]
    fn min(self, o: Self) -> Self {
        Self::select(self.lt(o), self, o)
    }
    /// `self > o ? self : o`; returns `o` when either is NaN.
    #[inline(always)]
    fn max(self, o: Self) -> Self {
        Self::select(o.lt(self), self, o)
    }
    /// `-|self|` in one bit operation (sets the sign bit).
    #[inline(always)]
    fn neg_abs(self) -> Self {
        Self::from_bits(Self::i_or(self.to_bits(), Self::i_splat(i32::MIN)))
    }
    /// `self · 2^n` for an integer-valued `n` in [-126, 129] and a `self`
    /// whose product stays a normal float (or overflows to inf): exact, so
    /// a single-instruction override (`vscalefps`) gives the same bits.
    #[inline(always)]
    fn ldexp(self, n: Self) -> Self {
        // Two factors so that each stays a normal float for every n in range
        // (2^128 itself is not a float).
        let ni = n.float_to_int();
        let n1 = Self::i_sra::<1>(ni);
        let n2 = Self::i_sub(ni, n1);
        let bias = Self::i_splat(127);
        let f1 = Self::from_bits(Self::i_shl::<23>(Self::i_add(n1, bias)));
        let f2 = Self::from_bits(Self::i_shl::<23>(Self::i_add(n2, bias)));
        self.mul(f1).mul(f2)
    }
    /// Round to nearest, ties to even, for |x| < 2^22 (exact there, so a
    /// hardware rounding override gives the same bits); larger magnitudes are
    /// returned with at most 0.5 error in the ulp of 2^23.
    #[inline(always)]
    fn round_small(self) -> Self {
        // 1.5 * 2^23: adding it pushes the fraction bits out of the
        // significand, so the add rounds to an integer; subtracting is exact.
        let magic = Self::splat(12_582_912.0);
        self.add(magic).sub(magic)
    }
    /// floor(x) for |x| < 2^22.
    #[inline(always)]
    fn floor_small(self) -> Self {
        let r = self.round_small();
        Self::select(self.lt(r), r.sub(Self::splat(1.0)), r)
    }
}
