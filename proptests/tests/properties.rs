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

// ------------------------------------------------- intensity equivariance

use nrelu_rbm::kernels::{Accumulate, Activation, Epilogue, MatMut, MatRef, Product};

/// Layer widths of the stack: 16 → 12 → 10 → 8.
const WIDTHS: [usize; 4] = [16, 12, 10, 8];

/// Weights N(0, 1/n_in) for the three layers, from a seed.
fn stack_weights(seed: u64) -> Vec<Vec<f32>> {
    (0..3)
        .map(|l| {
            let (n_in, n_out) = (WIDTHS[l], WIDTHS[l + 1]);
            let mut w = vec![0.0f32; n_in * n_out];
            Kernels::new(Path::Scalar)
                .unwrap()
                .standard_normal(&mut Stream::new(seed, l as u64), &mut w);
            let s = (1.0 / n_in as f32).sqrt();
            w.iter_mut().for_each(|x| *x *= s);
            w
        })
        .collect()
}

/// The noise-free 3-layer stack `act(W3ᵀ act(W2ᵀ act(W1ᵀ v + b) + b) + b)`
/// on one path, through the fused product.
fn stack(k: Kernels, w: &[Vec<f32>], bias: f32, act: Activation, v: &[f32]) -> Vec<f32> {
    let mut x = v.to_vec();
    for l in 0..3 {
        let (n_in, n_out) = (WIDTHS[l], WIDTHS[l + 1]);
        let b = if bias == 0.0 {
            Vec::new()
        } else {
            vec![bias; n_out]
        };
        let mut y = vec![0.0f32; n_out];
        k.product(
            MatRef::row_major(&x, 1, n_in),
            MatRef::row_major(&w[l], n_in, n_out),
            MatMut::row_major(&mut y, 1, n_out),
            Product::new(Accumulate::Overwrite)
                .bias(&b)
                .then(Epilogue::Activation(act)),
        );
        x = y;
    }
    x
}

fn norm(a: &[f32]) -> f64 {
    a.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>().sqrt()
}

/// ‖f(αv) − α f(v)‖ / ‖α f(v)‖ (norm-wise: a component-wise relative
/// error is meaningless for components that cancel to nearly 0).
fn equivariance_error(fa: &[f32], f: &[f32], alpha: f32) -> f64 {
    let d: f64 = fa
        .iter()
        .zip(f)
        .map(|(&a, &b)| (f64::from(a) - f64::from(alpha) * f64::from(b)).powi(2))
        .sum::<f64>()
        .sqrt();
    d / (f64::from(alpha) * norm(f))
}

fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| f64::from(x) * f64::from(y))
        .sum();
    dot / (norm(a) * norm(b))
}

fn log_uniform(lo: f64, hi: f64) -> impl Strategy<Value = f32> {
    (lo.ln()..hi.ln()).prop_map(|l| l.exp() as f32)
}

fn input() -> impl Strategy<Value = Vec<f32>> {
    prop::collection::vec(-2.0f32..2.0, WIDTHS[0])
}

fn far_from_one() -> impl Strategy<Value = f32> {
    prop_oneof![log_uniform(1e-3, 0.5), log_uniform(2.0, 1e3)]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..config() })]

    /// A noise-free NReLU stack with zero biases is positively homogeneous:
    /// f(αv) = α f(v) to 1e−5 (norm-wise) for α ∈ [1e−3, 1e3], and the
    /// cosine between two feature vectors does not change when either
    /// input is scaled (to 1e−6). On every path.
    #[test]
    fn nrelu_stack_is_intensity_equivariant(
        seed: u64, v in input(), u in input(),
        alpha in log_uniform(1e-3, 1e3), beta in log_uniform(1e-3, 1e3),
    ) {
        let w = stack_weights(seed);
        for p in Path::available() {
            let k = Kernels::new(p).unwrap();
            let f = |x: &[f32]| stack(k, &w, 0.0, Activation::Relu, x);
            let (fv, fu) = (f(&v), f(&u));
            prop_assume!(norm(&fv) > 1e-3 && norm(&fu) > 1e-3);
            let av: Vec<f32> = v.iter().map(|x| alpha * x).collect();
            let bu: Vec<f32> = u.iter().map(|x| beta * x).collect();
            let (fav, fbu) = (f(&av), f(&bu));
            let err = equivariance_error(&fav, &fv, alpha);
            prop_assert!(err <= 1e-5, "{p}: alpha = {alpha}: relative error {err}");
            let dc = (cosine(&fav, &fbu) - cosine(&fv, &fu)).abs();
            prop_assert!(dc <= 1e-6, "{p}: cosine changed by {dc}");
        }
    }

    /// Negative control: sigmoid units break equivariance (their outputs
    /// stay in (0, 1) whatever α), and so do non-zero biases (b does not
    /// scale with α): for α away from 1 the error is above 1e−2 and 1e−3,
    /// far above the 1e−5 the NReLU stack meets. The cosine moves too:
    /// at α = 1e−3 both features collapse towards f(0), a fixed vector.
    #[test]
    fn sigmoid_units_and_biases_break_equivariance(
        seed: u64, v in input(), u in input(), alpha in far_from_one(),
    ) {
        let w = stack_weights(seed);
        let k = Kernels::active();
        let sig = |x: &[f32]| stack(k, &w, 0.0, Activation::Sigmoid, x);
        let biased = |x: &[f32]| stack(k, &w, 0.5, Activation::Relu, x);
        let av: Vec<f32> = v.iter().map(|x| alpha * x).collect();
        let e_sig = equivariance_error(&sig(&av), &sig(&v), alpha);
        prop_assert!(e_sig > 1e-2, "sigmoid: alpha = {alpha}: error only {e_sig}");
        let e_bias = equivariance_error(&biased(&av), &biased(&v), alpha);
        prop_assert!(e_bias > 1e-3, "bias: alpha = {alpha}: error only {e_bias}");
        let small = |x: &[f32]| x.iter().map(|y| 1e-3 * y).collect::<Vec<f32>>();
        for f in [&sig as &dyn Fn(&[f32]) -> Vec<f32>, &biased] {
            let before = cosine(&f(&v), &f(&u));
            let after = cosine(&f(&small(&v)), &f(&small(&u)));
            prop_assume!(before < 0.999);
            prop_assert!((after - before).abs() > 1e-4, "cosine moved only {}", (after - before).abs());
        }
    }
}

/// The same homogeneity through the library's model: NReLU hidden means
/// (max(0, vW)) of three stacked `Rbm`s with zero biases.
#[test]
fn rbm_hidden_means_stack_is_equivariant() {
    use nrelu_rbm::units::HiddenUnit;
    use nrelu_rbm::{Rbm, VisibleUnit};
    let w = stack_weights(7);
    let rbms: Vec<Rbm> = (0..3)
        .map(|l| {
            Rbm::from_parts(
                VisibleUnit::Gaussian,
                HiddenUnit::Nrelu,
                w[l].clone(),
                vec![0.0; WIDTHS[l]],
                vec![0.0; WIDTHS[l + 1]],
                None,
            )
            .unwrap()
        })
        .collect();
    let f = |v: &[f32]| {
        rbms.iter()
            .fold(v.to_vec(), |x, r| r.hidden_means(&x).unwrap())
    };
    let v: Vec<f32> = (0..WIDTHS[0])
        .map(|i| ((i * 7919) % 13) as f32 / 6.0 - 1.0)
        .collect();
    let fv = f(&v);
    assert!(norm(&fv) > 1e-3);
    for alpha in [1e-3f32, 0.1, 3.7, 1e3] {
        let av: Vec<f32> = v.iter().map(|x| alpha * x).collect();
        let err = equivariance_error(&f(&av), &fv, alpha);
        assert!(err <= 1e-5, "alpha = {alpha}: {err}");
    }
}
