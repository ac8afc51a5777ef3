//! Algebraic properties of the kernels, checked by proptest on random inputs:
//! 512 cases per property from a fixed seed, so every run checks the same
//! cases and a failure reproduces.

use nrelu_rbm_kernels::{Kernels, Path, Stream, reference, sigmoid, softplus};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 512,
        rng_seed: RngSeed::Fixed(0x5EED_2010),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn finite() -> impl Strategy<Value = f32> {
    prop_oneof![
        -90.0f32..90.0,
        -1e6f32..1e6,
        Just(0.0),
        Just(-88.0),
        Just(88.0)
    ]
}

proptest! {
    #![proptest_config(config())]

    /// σ is bounded in [0, 1] and monotone non-decreasing.
    #[test]
    fn sigmoid_is_bounded_and_monotone(a in finite(), b in finite()) {
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        let mut s = [0.0f32; 2];
        sigmoid(&[lo, hi], &mut s);
        prop_assert!((0.0..=1.0).contains(&s[0]) && (0.0..=1.0).contains(&s[1]));
        prop_assert!(s[0] <= s[1], "σ({lo}) = {} > σ({hi}) = {}", s[0], s[1]);
    }

    /// σ(-x) = 1 - σ(x) within 4 ulp of the larger side (each side is within
    /// 4 ulp of its exact value; the identity holds exactly in f64).
    #[test]
    fn sigmoid_symmetry(x in -80.0f32..80.0) {
        let mut s = [0.0f32; 2];
        sigmoid(&[x, -x], &mut s);
        let sum = f64::from(s[0]) + f64::from(s[1]);
        let tol = 8.0 * reference::f32_spacing(f64::from(s[0].max(s[1])));
        prop_assert!((sum - 1.0).abs() <= tol, "σ({x}) + σ({}) = {sum}", -x);
    }

    /// softplus(x) - softplus(-x) = x, to the rounding of the larger term.
    #[test]
    fn softplus_difference_is_identity(x in -80.0f32..80.0) {
        let mut s = [0.0f32; 2];
        softplus(&[x, -x], &mut s);
        let d = f64::from(s[0]) - f64::from(s[1]);
        let tol = 8.0 * reference::f32_spacing(f64::from(s[0].max(s[1])));
        prop_assert!((d - f64::from(x)).abs() <= tol, "softplus difference {d} vs {x}");
    }

    /// NReLU samples are >= 0 and finite for finite inputs.
    #[test]
    fn nrelu_is_nonnegative_and_finite(x in prop::collection::vec(finite(), 0..70), seed: u64) {
        let mut h = vec![0.0f32; x.len()];
        nrelu_rbm_kernels::nrelu(&x, &mut h, &mut Stream::new(seed, 0));
        prop_assert!(h.iter().all(|&v| v >= 0.0 && v.is_finite()));
    }

    /// Every SIMD path consumes the same random draws as the scalar path:
    /// outputs and final stream states agree bit for bit.
    #[test]
    fn simd_paths_use_the_scalar_draws(x in prop::collection::vec(finite(), 0..70), seed: u64) {
        let scalar = Kernels::new(Path::Scalar).unwrap();
        let mut want = vec![0.0f32; x.len()];
        let mut ws = Stream::new(seed, 1);
        scalar.nrelu(&x, &mut want, &mut ws);
        scalar.ssu(&x, &mut want, &mut ws);
        for p in Path::available() {
            let k = Kernels::new(p).unwrap();
            let mut got = vec![0.0f32; x.len()];
            let mut gs = Stream::new(seed, 1);
            k.nrelu(&x, &mut got, &mut gs);
            k.ssu(&x, &mut got, &mut gs);
            prop_assert_eq!(got.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                            want.iter().map(|v| v.to_bits()).collect::<Vec<_>>());
            prop_assert_eq!(&gs, &ws);
        }
    }
}
