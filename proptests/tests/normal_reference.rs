//! The normal sampler against an independent implementation: a two-sample
//! Kolmogorov–Smirnov test of `Stream::standard_normal` (on every kernel
//! path this CPU runs) against `rand_distr`'s `StandardNormal` (a ziggurat
//! sampler, nothing shared with ours) drawn from `rand_xoshiro`'s
//! xoshiro256++, with a companion showing the same test rejects a sampler
//! whose standard deviation is 5 % off.
//!
//! Significance level α = 0.001 per test, fixed seeds (so the verdict is
//! reproducible), n = m = 200,000 draws. The p-value is Kolmogorov's limit
//! law at `t = D √(nm/(n + m))`; at these sizes its error is far below α.
//! The battery (`samplers.rs`) already tests the sampler against the exact
//! normal law; this test adds a reference that shares neither code nor
//! method with it.

use nrelu_rbm::kernels::{Kernels, Path, Stream};
use nrelu_rbm::verify::stats::kolmogorov_limit_sf;
use rand_distr::{Distribution, StandardNormal};
use rand_xoshiro::Xoshiro256PlusPlus;
use rand_xoshiro::rand_core::SeedableRng;

/// Significance level of each test.
const ALPHA: f64 = 1e-3;
/// Draws per sample.
const N: usize = 200_000;
/// Seed of our stream.
const SEED: u64 = 0x5eed_0001;
/// Seed of the reference generator.
const REF_SEED: u64 = 0x5eed_0002;

/// `N` draws of `rand_distr::StandardNormal` from xoshiro256++.
fn reference() -> Vec<f32> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(REF_SEED);
    (0..N).map(|_| StandardNormal.sample(&mut rng)).collect()
}

/// `N` draws of our sampler on `path`.
fn ours(path: Path) -> Vec<f32> {
    let mut out = vec![0.0f32; N];
    let mut s = Stream::new(SEED, 0);
    Kernels::new(path)
        .expect("a path this CPU runs")
        .standard_normal(&mut s, &mut out);
    out
}

/// The two-sample statistic `D = sup |F_a − F_b|` and its p-value.
fn two_sample_ks(mut a: Vec<f32>, mut b: Vec<f32>) -> (f64, f64) {
    a.sort_by(f32::total_cmp);
    b.sort_by(f32::total_cmp);
    let (n, m) = (a.len(), b.len());
    let (mut i, mut j, mut d) = (0, 0, 0f64);
    while i < n && j < m {
        // Step past every copy of the smaller value in both samples, so
        // ties are compared after the jump of both empirical CDFs.
        let x = a[i].min(b[j]);
        while i < n && a[i] == x {
            i += 1;
        }
        while j < m && b[j] == x {
            j += 1;
        }
        d = d.max((i as f64 / n as f64 - j as f64 / m as f64).abs());
    }
    let t = d * ((n * m) as f64 / (n + m) as f64).sqrt();
    (d, kolmogorov_limit_sf(t))
}

#[test]
fn standard_normal_matches_rand_distr_on_every_path() {
    let reference = reference();
    for path in Path::available() {
        let (d, p) = two_sample_ks(ours(path), reference.clone());
        println!("{path:?}: D = {d:.5}, p = {p:.4}");
        assert!(
            p > ALPHA,
            "{path:?}: two-sample KS against rand_distr rejects (D = {d}, p = {p})"
        );
    }
}

/// The companion: our stream scaled by 1.05 (a standard deviation 5 % too
/// large). The expected D is about 0.05 · φ(1) ≈ 0.012, so
/// t ≈ 0.012 √100,000 ≈ 3.8 and p ≈ 2 e^{−2t²} ≈ 3e−13: the test must
/// reject at α.
#[test]
fn the_test_rejects_a_sampler_with_the_wrong_spread() {
    let wrong: Vec<f32> = ours(Path::Scalar).iter().map(|z| z * 1.05).collect();
    let (d, p) = two_sample_ks(wrong, reference());
    println!("scaled by 1.05: D = {d:.5}, p = {p:.3e}");
    assert!(
        p < ALPHA,
        "a 5 % wrong spread was not rejected (D = {d}, p = {p})"
    );
}
