//! Accuracy tests of the element-wise bodies against f64.

use super::exp::*;
use super::logistic::*;
use crate::reference;
use crate::simd::Simd;
use crate::simd::scalar::Scalar;

/// Every f32 in [lo, hi] with a step of `every` bit patterns, both signs.
fn sweep(hi: f32, every: u32) -> impl Iterator<Item = f32> {
    (0..=hi.to_bits())
        .step_by(every as usize)
        .map(f32::from_bits)
        .flat_map(|v| [v, -v])
}

#[test]
fn nrelu_noise_scale_is_within_2_pow_minus_20() {
    let bound = 2f64.powi(-20);
    let mut worst = (0f64, 0f32, 0f32);
    for r2 in [1.0f32, 6e-8, 0.37, 2.0, 13.5, 44.36] {
        for x in sweep(60.0, 97).chain([0.0, -0.0, 60.0, -60.0]) {
            let got = nrelu_noise_scale(Scalar(x), Scalar(r2)).0;
            let want = (reference::sigmoid(f64::from(x)) * f64::from(r2)).sqrt();
            let rel = (f64::from(got) - want).abs() / want;
            if rel > worst.0 {
                worst = (rel, x, r2);
            }
        }
    }
    println!("nrelu_noise_scale worst {worst:?}");
    assert!(worst.0 <= bound, "worst {worst:?}");
    // Beyond |x| = 60: clamped, still exact enough to leave samples
    // unchanged, and never a subnormal.
    for x in [60.5f32, 88.0, 1e30, f32::INFINITY] {
        assert_eq!(nrelu_noise_scale(Scalar(x), Scalar(4.0)).0, 2.0);
        let lo = nrelu_noise_scale(Scalar(-x), Scalar(6e-8)).0;
        assert!(lo.is_normal() && lo < 1e-16, "{x}: {lo}");
    }
    assert_eq!(nrelu_noise_scale(Scalar(3.0), Scalar(0.0)).0, 0.0);
}

/// [`exp_neg_loose`] on every element of `v` (whole vectors), on `S`.
#[inline(always)]
fn exp_neg_loose_on<S: Simd>(v: &[f32]) -> Vec<f32> {
    let mut out = vec![0.0; v.len()];
    for (o, x) in out.chunks_exact_mut(S::LANES).zip(v.chunks_exact(S::LANES)) {
        exp_neg_loose(S::load(x)).store(o);
    }
    out
}

/// The paths whose arithmetic differs for `exp_neg_loose` (fused
/// multiply-adds, `vreduceps`/`vscalefps`), as far as this CPU has them.
fn exp_neg_loose_everywhere(v: &[f32]) -> Vec<(&'static str, Vec<f32>)> {
    let mut all = vec![("scalar", exp_neg_loose_on::<Scalar>(v))];
    all.push((
        "portable",
        exp_neg_loose_on::<crate::simd::portable::Portable>(v),
    ));
    #[cfg(target_arch = "x86_64")]
    {
        use crate::Path;
        #[target_feature(enable = "avx2,fma")]
        fn avx2(v: &[f32]) -> Vec<f32> {
            exp_neg_loose_on::<crate::simd::avx2::Avx2>(v)
        }
        #[target_feature(enable = "avx512f,avx512dq")]
        fn avx512(v: &[f32]) -> Vec<f32> {
            exp_neg_loose_on::<crate::simd::avx512::Avx512>(v)
        }
        if Path::Avx2.is_available() {
            // SAFETY: the CPU has AVX2 and FMA (checked just above).
            all.push(("avx2", unsafe { avx2(v) }));
        }
        if Path::Avx512.is_available() {
            // SAFETY: the CPU has AVX-512F and AVX-512DQ (checked just
            // above).
            all.push(("avx512", unsafe { avx512(v) }));
        }
    }
    all
}

#[test]
fn exp_neg_loose_is_within_its_bound_on_every_path() {
    // Every 331st f32 of [-88.7, 59.9] (both signs up to 59.9), whole
    // vectors of 16.
    let mut v: Vec<f32> = sweep(88.7, 331)
        .filter(|&x| x <= 59.9)
        .chain([0.0, -88.7, 59.9, 1e-30, -1e-30])
        .collect();
    v.resize(v.len().div_ceil(16) * 16, 0.0);
    for (path, got) in exp_neg_loose_everywhere(&v) {
        let mut worst = (0f64, 0f32);
        for (&x, &e) in v.iter().zip(&got) {
            let want = (-f64::from(x)).exp();
            let rel = (f64::from(e) - want).abs() / want;
            if rel > worst.0 {
                worst = (rel, x);
            }
        }
        println!("exp_neg_loose on {path}: worst {worst:?}");
        assert!(worst.0 <= EXP_NEG_LOOSE_ERR, "{path}: worst {worst:?}");
    }
    // The bracket it feeds has room for this error, the exact exp's
    // 2^-22 and the roundings of both sides (see `sample/bernoulli.rs`).
    assert!(EXP_NEG_LOOSE_ERR + 2f64.powi(-21) < 2f64.powi(-13));
}

#[test]
fn exp_neg_loose_outside_its_range_keeps_the_brackets_sound() {
    // v > 59.9: an overestimate that is still far below 2^-24 (so
    // u (1 + e) rounds to u); v < -88.7: at least 2^127 or +inf; NaN
    // stays NaN.
    let mut v = vec![59.95f32, 60.0, 88.0, 104.0, 1e30, f32::INFINITY];
    let lo = [-88.75f32, -89.0, -100.0, -1e30, f32::NEG_INFINITY];
    v.extend(lo);
    v.extend([f32::NAN; 5]);
    for (path, got) in exp_neg_loose_everywhere(&v) {
        for (&x, &e) in v.iter().zip(&got) {
            if x.is_nan() {
                assert!(e.is_nan(), "{path}: {x} -> {e}");
            } else if x > 0.0 {
                assert!((0.0..1e-25).contains(&e), "{path}: {x} -> {e}");
            } else {
                assert!(e >= 2f32.powi(127) || e.is_nan(), "{path}: {x} -> {e}");
            }
        }
    }
}

#[test]
fn box_muller_r2_is_within_1e_6_relative() {
    // Dense in k, plus every k near both ends (u1 -> 0 and u1 -> 1).
    let ks = (0..1u32 << 31)
        .step_by(211)
        .chain(0..100_000)
        .chain((1u32 << 31) - 100_000..1u32 << 31);
    let mut worst = (0f64, 0u32);
    for k in ks {
        let got = box_muller_r2::<Scalar>(k as i32).0;
        // u1 as the kernel forms it: fl(fl(k) + 1/2) 2^-31.
        let u1 = f64::from(k as f32 + 0.5) / 2f64.powi(31);
        let want = -2.0 * u1.ln();
        let rel = if want == 0.0 {
            f64::from(got).abs()
        } else {
            (f64::from(got) - want).abs() / want
        };
        if rel > worst.0 {
            worst = (rel, k);
        }
    }
    assert!(worst.0 <= 1e-6, "worst {worst:?}");
}

#[test]
fn sincos_octant_is_within_2e_7_relative() {
    let mut worst = 0f64;
    for i in -1_000_000..=1_000_000 {
        let t = i as f32 * (std::f32::consts::FRAC_PI_4 / 1_000_000.0);
        let (s, c) = sincos_octant(Scalar(t));
        let (ws, wc) = f64::from(t).sin_cos();
        if ws != 0.0 {
            worst = worst.max((f64::from(s.0) - ws).abs() / ws.abs());
        }
        worst = worst.max((f64::from(c.0) - wc).abs() / wc);
    }
    assert!(worst <= 2e-7 + 2.0 * 2f64.powi(-24), "worst {worst:e}");
}
