//! Every path of the map kernels against the f64 reference, at awkward sizes
//! and on special inputs, with tolerances stated in ulps.

mod common;

use common::*;
use nrelu_rbm_kernels::{Kernels, reference};

/// The documented accuracy bound for sigmoid and softplus on |x| <= 80.
const MAX_ULPS: f64 = 4.0;

/// Below this the kernels flush e^x (and so σ, softplus and K σ) to 0 instead
/// of producing subnormals (see `EXP_LO` in `kernels/src/math.rs`); the true
/// values there are below e^-87 = 1.65e-38.
const FLUSH_BELOW: f64 = -87.0;

fn flushed(f: fn(f64) -> f64, x: f64) -> f64 {
    if x < FLUSH_BELOW { 0.0 } else { f(x) }
}

type MapFn = fn(Kernels, &[f32], &mut [f32]);

fn check_map(name: &str, f: MapFn, want: fn(f64) -> f64, tol: fn(f32) -> f64) {
    for k in all_kernels() {
        for n in sizes(k.path()) {
            let x = inputs(n);
            let mut out = nan_buf(n, 7);
            f(k, &x, &mut out[..n]);
            assert_guard(&out, n, name);
            for (i, (&xi, &yi)) in x.iter().zip(&out).enumerate() {
                let w = want(f64::from(xi));
                let e = reference::ulps(yi, w);
                assert!(
                    e <= tol(xi),
                    "{name} on {}: x[{i}] = {xi:e}: got {yi:e}, want {w:e} ({e:.2} ulp > {})",
                    k.path(),
                    tol(xi)
                );
            }
        }
    }
}

fn within_range(_: f32) -> f64 {
    MAX_ULPS
}

#[test]
fn sigmoid_matches_reference_within_4_ulp_everywhere() {
    // The 4-ulp bound is required for |x| <= 80; the implementation keeps it
    // for every x >= -87 and returns exactly 0 below (true value < 1.65e-38).
    check_map(
        "sigmoid",
        |k, x, o| k.sigmoid(x, o),
        |x| flushed(reference::sigmoid, x),
        within_range,
    );
}

#[test]
fn softplus_matches_reference_within_4_ulp_everywhere() {
    check_map(
        "softplus",
        |k, x, o| k.softplus(x, o),
        |x| flushed(reference::softplus, x),
        within_range,
    );
}

#[test]
fn relu_is_exact() {
    check_map("relu", |k, x, o| k.relu(x, o), reference::relu, |_| 0.0);
}

#[test]
fn binomial_mean_is_k_times_sigmoid() {
    // K σ(x): one extra rounding of the product, so 4 + 0.5 ulp.
    check_map(
        "binomial_mean(7)",
        |k, x, o| k.binomial_mean(bin(7), x, o),
        |x| 7.0 * flushed(reference::sigmoid, x),
        |_| MAX_ULPS + 0.5,
    );
}

#[test]
fn ssu_mean_matches_reference() {
    // softplus plus a degree-7 polynomial in σ(x)(1 − σ(x)): the bound is
    // relative 1e-6 (about 16 ulp), plus 5e-8 absolute for the remainder of
    // the Euler–Maclaurin series. Inputs >= 2^22 are compared with x (the
    // sum equals x to f32 precision).
    for k in all_kernels() {
        for n in sizes(k.path()) {
            let x = inputs(n);
            let mut out = nan_buf(n, 3);
            k.ssu_mean(&x, &mut out[..n]);
            assert_guard(&out, n, "ssu_mean");
            for (&xi, &yi) in x.iter().zip(&out) {
                let w = if f64::from(xi) >= 4_194_304.0 {
                    f64::from(xi)
                } else {
                    reference::ssu_mean(f64::from(xi))
                };
                if w.is_nan() || w.is_infinite() {
                    assert_eq!(reference::ulps(yi, w), 0.0, "ssu_mean({xi}) = {yi}");
                    continue;
                }
                let err = (f64::from(yi) - w).abs();
                assert!(
                    err <= 1e-6 * w.abs() + 5e-8,
                    "ssu_mean({xi}) = {yi}, want {w}"
                );
            }
        }
    }
}

#[test]
fn ssu_mean_is_within_its_bound_on_a_fine_grid() {
    // The closed form (softplus plus a polynomial in σ(x)(1 − σ(x))) against
    // the direct sum, every 1/64 over [-90, 40] and densely around 0, where
    // the Euler–Maclaurin remainder is largest: the bound of
    // `ssu_mean_matches_reference`, and relative alone on [-45, -10], on
    // every path.
    let x: Vec<f32> = (-90 * 64..=40 * 64)
        .map(|i| i as f32 / 64.0)
        .chain((-4096..=4096).map(|i| i as f32 / 1024.0))
        .collect();
    for k in all_kernels() {
        let mut out = vec![0.0; x.len()];
        k.ssu_mean(&x, &mut out);
        for (&xi, &yi) in x.iter().zip(&out) {
            let w = reference::ssu_mean(f64::from(xi));
            let err = (f64::from(yi) - w).abs();
            // Below -10 the value is below 5e-5 and the absolute term would
            // hide a relative error: the bound there is relative alone, down
            // to -45 (the reference drops terms under 1e-30, e^-25 of the sum there).
            let bound = if (-45.0..-10.0).contains(&xi) {
                1e-6 * w
            } else {
                1e-6 * w + 5e-8
            };
            assert!(
                err <= bound,
                "{:?}: ssu_mean({xi}) = {yi}, want {w}",
                k.path()
            );
        }
    }
}

#[test]
fn saturation_is_exact() {
    for k in all_kernels() {
        let x = [f32::NEG_INFINITY, f32::INFINITY, -1e30, 1e30, -200.0, 200.0];
        let mut s = [f32::NAN; 6];
        let mut p = [f32::NAN; 6];
        k.sigmoid(&x, &mut s);
        k.softplus(&x, &mut p);
        assert_eq!(s, [0.0, 1.0, 0.0, 1.0, 0.0, 1.0], "sigmoid on {}", k.path());
        assert_eq!(
            p,
            [0.0, f32::INFINITY, 0.0, 1e30, 0.0, 200.0],
            "softplus on {}",
            k.path()
        );
    }
}

#[test]
fn results_below_the_normal_range_are_flushed_to_zero_not_subnormal() {
    for k in all_kernels() {
        let x = grid(-110.0, -87.000_01, 1001);
        let mut s = vec![f32::NAN; x.len()];
        let mut p = vec![f32::NAN; x.len()];
        let mut m = vec![f32::NAN; x.len()];
        k.sigmoid(&x, &mut s);
        k.softplus(&x, &mut p);
        k.ssu_mean(&x, &mut m);
        assert!(
            s.iter().chain(&p).chain(&m).all(|&v| v == 0.0),
            "{}",
            k.path()
        );
        // Just above the threshold the results are normal floats.
        let mut t = [0.0f32; 1];
        k.sigmoid(&[-87.0], &mut t);
        assert!(t[0].is_normal() && reference::ulps(t[0], reference::sigmoid(-87.0)) <= MAX_ULPS);
        k.ssu_mean(&[-87.0], &mut t);
        assert!(t[0].is_normal(), "{}", t[0]);
    }
}

#[test]
fn nan_in_gives_nan_out() {
    for k in all_kernels() {
        let x = [f32::NAN; 19];
        let mut o = [0.0f32; 19];
        type F = fn(Kernels, &[f32], &mut [f32]);
        let fns: [(&str, F); 5] = [
            ("sigmoid", |k, x, o| k.sigmoid(x, o)),
            ("softplus", |k, x, o| k.softplus(x, o)),
            ("relu", |k, x, o| k.relu(x, o)),
            ("binomial_mean", |k, x, o| k.binomial_mean(bin(3), x, o)),
            ("ssu_mean", |k, x, o| k.ssu_mean(x, o)),
        ];
        for (name, f) in fns {
            f(k, &x, &mut o);
            assert!(
                o.iter().all(|v| v.is_nan()),
                "{name} on {} lost a NaN",
                k.path()
            );
        }
    }
}

#[test]
fn all_paths_are_bit_identical_on_a_dense_grid() {
    let x: Vec<f32> = grid(-110.0, 110.0, 200_003)
        .into_iter()
        .chain(inputs(1003))
        .collect();
    let reference_path = Kernels::new(nrelu_rbm_kernels::Path::Scalar).unwrap();
    type F = fn(Kernels, &[f32], &mut [f32]);
    let fns: [(&str, F); 4] = [
        ("sigmoid", |k, x, o| k.sigmoid(x, o)),
        ("softplus", |k, x, o| k.softplus(x, o)),
        ("binomial_mean", |k, x, o| k.binomial_mean(bin(5), x, o)),
        ("ssu_mean", |k, x, o| k.ssu_mean(x, o)),
    ];
    for (name, f) in fns {
        let mut want = vec![0.0; x.len()];
        f(reference_path, &x, &mut want);
        for k in all_kernels() {
            let mut got = vec![0.0; x.len()];
            f(k, &x, &mut got);
            assert!(
                same_bits(&got, &want),
                "{name}: {} differs from scalar",
                k.path()
            );
        }
    }
}

#[test]
fn dense_accuracy_sweep_within_bound() {
    // A dense sweep of [-80, 80] (about 4e5 points) on the best path; the
    // paths are bit-identical (tested above), so this covers all of them.
    let k = Kernels::active();
    let x = grid(-80.0, 80.0, 400_001);
    let mut s = vec![0.0; x.len()];
    let mut p = vec![0.0; x.len()];
    k.sigmoid(&x, &mut s);
    k.softplus(&x, &mut p);
    for i in 0..x.len() {
        let xi = f64::from(x[i]);
        let es = reference::ulps(s[i], reference::sigmoid(xi));
        let ep = reference::ulps(p[i], reference::softplus(xi));
        assert!(es <= MAX_ULPS, "sigmoid({}) off by {es} ulp", x[i]);
        assert!(ep <= MAX_ULPS, "softplus({}) off by {ep} ulp", x[i]);
    }
}

#[test]
fn activate_in_place_with_bias_equals_out_of_place_on_the_sum() {
    for k in all_kernels() {
        let x = inputs(101);
        let b: Vec<f32> = grid(-3.0, 3.0, 101);
        let sum: Vec<f32> = x.iter().zip(&b).map(|(a, c)| a + c).collect();
        let mut want = vec![0.0; 101];
        k.softplus(&sum, &mut want);
        let mut got = x.clone();
        k.activate(nrelu_rbm_kernels::Activation::Softplus, &b, &mut got);
        assert!(same_bits(&got, &want), "{}", k.path());
    }
}

#[test]
fn activate_from_equals_copy_then_activate_in_place() {
    use nrelu_rbm_kernels::Activation;
    let acts = [
        Activation::Identity,
        Activation::Sigmoid,
        Activation::Softplus,
        Activation::Relu,
        Activation::BinomialMean(bin(7)),
        Activation::SsuMean,
    ];
    for k in all_kernels() {
        for n in sizes(k.path()) {
            let x = inputs(n);
            let b: Vec<f32> = grid(-3.0, 3.0, n);
            for act in acts {
                for bias in [&b[..], &[][..]] {
                    let mut want = x.clone();
                    k.activate(act, bias, &mut want);
                    // NaN-filled output: a missing write cannot go unseen.
                    let mut got = vec![f32::NAN; n];
                    k.activate_from(act, bias, &x, &mut got);
                    assert!(
                        same_bits(&got, &want),
                        "{} {act:?} n={n} bias={}",
                        k.path(),
                        !bias.is_empty()
                    );
                }
            }
        }
    }
}

#[test]
#[should_panic(expected = "x: length 2 does not match the output length 3")]
fn activate_from_length_mismatch_panics_with_a_clear_message() {
    let mut out = [0.0f32; 3];
    Kernels::active().activate_from(
        nrelu_rbm_kernels::Activation::Sigmoid,
        &[],
        &[1.0, 2.0],
        &mut out,
    );
}

#[test]
#[should_panic(expected = "does not match the output length")]
fn length_mismatch_panics_with_a_clear_message() {
    let mut out = [0.0f32; 3];
    nrelu_rbm_kernels::sigmoid(&[1.0, 2.0], &mut out);
}
