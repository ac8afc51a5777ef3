//! Random streams and samplers: bit-exactness against `rand_xoshiro`, the
//! documented consumption rule, identical output on every path, pinned
//! values, and smoke tests of the means (within 5 standard errors at fixed
//! seeds; the full statistical suite lives in `proptests/`).

mod common;

use common::*;
use nrelu_rbm_kernels::{Kernels, Path, Sampler, Stream, reference};
use rand_xoshiro::Xoshiro256PlusPlus;
use rand_xoshiro::rand_core::{Rng, SeedableRng};
use statrs::distribution::{Continuous, ContinuousCDF, Normal};

fn xoshiro_from(state: [u64; 4]) -> Xoshiro256PlusPlus {
    let mut seed = [0u8; 32];
    for (k, w) in state.iter().enumerate() {
        seed[8 * k..8 * k + 8].copy_from_slice(&w.to_le_bytes());
    }
    Xoshiro256PlusPlus::from_seed(seed)
}

#[test]
fn every_lane_is_rand_xoshiro_bit_for_bit_on_every_path() {
    const STEPS: usize = 1000;
    for k in all_kernels() {
        for (seed, id) in [(0u64, 0u64), (42, 7), (u64::MAX, u64::MAX)] {
            let mut s = Stream::new(seed, id);
            let mut refs: Vec<_> = s.lane_states().into_iter().map(xoshiro_from).collect();
            let mut words = vec![0u32; 16 * STEPS];
            k.fill_words(&mut s, &mut words);
            for step in 0..STEPS {
                for (lane, r) in refs.iter_mut().enumerate() {
                    let want = r.next_u64();
                    let lo = words[16 * step + 2 * lane];
                    let hi = words[16 * step + 2 * lane + 1];
                    let got = u64::from(lo) | (u64::from(hi) << 32);
                    assert_eq!(
                        got,
                        want,
                        "{}: seed {seed} lane {lane} step {step}",
                        k.path()
                    );
                }
            }
        }
    }
}

#[test]
fn lanes_are_successive_jumps_of_lane_zero() {
    let s = Stream::new(2026, 3);
    let lanes = s.lane_states();
    let mut r = xoshiro_from(lanes[0]);
    for (l, lane) in lanes.iter().enumerate().skip(1) {
        r.jump();
        let mut want = r.clone();
        let mut got = xoshiro_from(*lane);
        for _ in 0..8 {
            assert_eq!(got.next_u64(), want.next_u64(), "lane {l}");
        }
    }
}

#[test]
fn distinct_seeds_and_streams_differ_and_equal_pairs_agree() {
    let first = |seed, id| {
        let mut w = [0u32; 16];
        Stream::new(seed, id).fill_words(&mut w);
        w
    };
    assert_eq!(first(1, 2), first(1, 2));
    assert_ne!(first(1, 2), first(2, 1));
    assert_ne!(first(1, 2), first(1, 3));
    assert_ne!(first(0, 0), first(0, 1));
}

#[test]
fn partial_blocks_are_discarded() {
    for k in all_kernels() {
        let mut a = Stream::new(5, 0);
        let mut b = a.clone();
        let mut part = [0u32; 37];
        k.fill_words(&mut a, &mut part);
        let mut whole = [0u32; 48];
        k.fill_words(&mut b, &mut whole);
        assert_eq!(part[..], whole[..37], "{}", k.path());
        assert_eq!(a, b, "{}: a 37-word call consumes 3 blocks", k.path());
    }
}

#[test]
fn uniform_is_the_top_24_bits_of_each_word() {
    for k in all_kernels() {
        for n in sizes(k.path()) {
            let mut s = Stream::new(11, 1);
            let mut w = vec![0u32; n];
            k.fill_words(&mut s.clone(), &mut w);
            let mut u = nan_buf(n, 5);
            k.uniform(&mut s, &mut u[..n]);
            assert_guard(&u, n, "uniform");
            for (ui, wi) in u.iter().zip(&w) {
                assert_eq!(*ui, (wi >> 8) as f32 / 16_777_216.0);
                assert!((0.0..1.0).contains(ui));
            }
        }
    }
}

#[test]
fn bernoulli_is_uniform_below_sigmoid() {
    for k in all_kernels() {
        for n in sizes(k.path()) {
            let x = inputs(n);
            let mut s = Stream::new(3, 9);
            let mut copy = s.clone();
            let mut u = vec![0.0; n];
            k.uniform(&mut copy, &mut u);
            let mut p = vec![0.0; n];
            k.sigmoid(&x, &mut p);
            let mut out = nan_buf(n, 5);
            k.bernoulli(&x, &mut out[..n], &mut s);
            assert_guard(&out, n, "bernoulli");
            assert_eq!(s, copy, "bernoulli consumes what uniform does");
            for i in 0..n {
                let want = if x[i].is_nan() {
                    f32::NAN
                } else {
                    f32::from(u[i] < p[i])
                };
                assert!(same_bits(&[out[i]], &[want]) || (want.is_nan() && out[i].is_nan()));
            }
        }
    }
}

/// The exact (f64) Box–Muller normal of element `i` from the raw words of
/// the stream, as documented: radius from word j, direction from word 16 + j
/// of the element's 32-word group (j = i mod 16); elements 16..32 of a group
/// take the second member of the pair.
fn box_muller_f64(words: &[u32], i: usize) -> f64 {
    let (c, j) = (i / 32, i % 32);
    let (w1, w2) = (words[32 * c + j % 16], words[32 * c + 16 + j % 16]);
    // u1 as the kernel forms it (rounded to f32): fl(fl(k) + 1/2) 2^-31.
    let u1 = f64::from((w1 >> 1) as f32 + 0.5) / 2f64.powi(31);
    let r = (-2.0 * u1.ln()).sqrt();
    // θ = (2 j + 1) π / 2^26 for the signed low 24 bits j of w2.
    let low = ((w2 << 8) as i32 >> 8) as f64;
    let theta = (2.0 * low + 1.0) * std::f64::consts::PI / 2f64.powi(26);
    let (mut a, mut b) = (theta.cos(), theta.sin());
    if w2 >> 31 == 1 {
        std::mem::swap(&mut a, &mut b);
    }
    if (w2 >> 30) & 1 == 1 {
        a = -a;
    }
    if (w2 >> 29) & 1 == 1 {
        b = -b;
    }
    r * if j < 16 { a } else { b }
}

/// The documented bound on the relative error of each standard normal
/// against the exact transform of the same words (`docs/kernels.md`).
const NORMAL_REL: f64 = 1e-6;

#[test]
fn normals_are_the_documented_box_muller_transform_within_1e_6() {
    for k in all_kernels() {
        for n in sizes(k.path()).into_iter().chain([100_000]) {
            let mut s = Stream::new(17, 4);
            let mut words = vec![0u32; n.div_ceil(32) * 32];
            k.fill_words(&mut s.clone(), &mut words);
            let mut z = nan_buf(n, 5);
            k.standard_normal(&mut s, &mut z[..n]);
            assert_guard(&z, n, "standard_normal");
            let mut worst = 0f64;
            for (i, &zi) in z[..n].iter().enumerate() {
                let want = box_muller_f64(&words, i);
                // Relative to the radius: the direction is accurate to
                // absolute 1e-7 or so, so tiny |cos| or |sin| values are
                // compared on the scale of r.
                let (c, j) = (i / 32, i % 32);
                let u1 = f64::from((words[32 * c + j % 16] >> 1) as f32 + 0.5) / 2f64.powi(31);
                let r = (-2.0 * u1.ln()).sqrt();
                let e = (f64::from(zi) - want).abs() / r.max(f64::MIN_POSITIVE);
                worst = worst.max(e);
                assert!(
                    e <= NORMAL_REL,
                    "{}: z[{i}] = {zi}, want {want} (error {e:e} of r = {r})",
                    k.path()
                );
            }
            assert!(worst.is_finite());
        }
    }
}

#[test]
fn normal_radius_and_direction_errors_are_relative_where_it_matters() {
    // A stronger, per-factor check on one long stream: |z| error relative
    // to |z| itself wherever |z| is not tiny, so that the bound in
    // docs/kernels.md ("each z within 1e-6 relative, for |z| >= 1e-3") holds.
    let k = Kernels::active();
    let n = 1 << 20;
    let mut s = Stream::new(2026, 11);
    let mut words = vec![0u32; n];
    k.fill_words(&mut s.clone(), &mut words);
    let mut z = vec![0.0; n];
    k.standard_normal(&mut s, &mut z);
    let mut worst = 0f64;
    for (i, &zi) in z.iter().enumerate() {
        let want = box_muller_f64(&words, i);
        if want.abs() >= 1e-3 {
            worst = worst.max((f64::from(zi) - want).abs() / want.abs());
        }
    }
    assert!(worst <= NORMAL_REL, "worst relative error {worst:e}");
}

/// The documented bound on the relative error of the NReLU noise standard
/// deviation √σ(x) (`docs/kernels.md`; tested directly in `math.rs`).
const SD_REL: f64 = 1.0 / 1_048_576.0; // 2^-20

/// The NReLU output for `x` and the stream normal `z`, with the noise
/// standard deviation exact (f64): the variance is σ(x).
fn nrelu_f64(x: f32, z: f32) -> f64 {
    let x = f64::from(x);
    if x.is_nan() {
        return x;
    }
    let y = x + reference::sigmoid(x).sqrt() * f64::from(z);
    if y > 0.0 { y } else { 0.0 }
}

#[test]
fn nrelu_uses_variance_sigmoid_with_the_stream_normals() {
    for k in all_kernels() {
        for n in sizes(k.path()).into_iter().chain([129, 20_000]) {
            let x = inputs(n);
            let mut s = Stream::new(8, 8);
            let mut copy = s.clone();
            let mut z = vec![0.0; n];
            k.standard_normal(&mut copy, &mut z);
            let mut out = nan_buf(n, 5);
            k.nrelu(&x, &mut out[..n], &mut s);
            assert_guard(&out, n, "nrelu");
            assert_eq!(s, copy, "nrelu consumes what standard_normal does");
            for i in 0..n {
                let want = nrelu_f64(x[i], z[i]);
                let got = f64::from(out[i]);
                if want.is_nan() || want.is_infinite() {
                    assert!(
                        got.to_bits() == want.to_bits() || (want.is_nan() && got.is_nan()),
                        "{}: nrelu({}) = {got}, want {want}",
                        k.path(),
                        x[i]
                    );
                    continue;
                }
                // The noise term has relative error below SD_REL (standard
                // deviation) plus two roundings (of z, and of the product:
                // √(σ R²) is rounded once instead of √σ and √R² twice), and
                // the sum one rounding of the result.
                let noise = reference::sigmoid(f64::from(x[i])).sqrt() * f64::from(z[i]).abs();
                let tol = noise * (SD_REL + 4.0 * 2f64.powi(-24)) + reference::f32_spacing(want);
                assert!(
                    (got - want).abs() <= tol,
                    "{}: nrelu({}) = {got}, want {want} (z = {}, tol {tol:e})",
                    k.path(),
                    x[i],
                    z[i]
                );
            }
        }
    }
}

#[test]
fn binomial_counts_k_uniforms_per_element_in_block_order() {
    const K: usize = 5;
    for k in all_kernels() {
        for n in sizes(k.path()) {
            let x = inputs(n);
            let mut s = Stream::new(21, 2);
            let mut w = vec![0u32; n.div_ceil(16) * 16 * K];
            let mut copy = s.clone();
            k.fill_words(&mut copy, &mut w);
            let mut p = vec![0.0; n];
            k.sigmoid(&x, &mut p);
            let mut out = nan_buf(n, 5);
            k.binomial(bin(K as u32), &x, &mut out[..n], &mut s);
            assert_guard(&out, n, "binomial");
            assert_eq!(s, copy);
            for i in 0..n {
                let (c, l) = (i / 16, i % 16);
                let count = (0..K)
                    .filter(|d| ((w[(c * K + d) * 16 + l] >> 8) as f32 / 16_777_216.0) < p[i])
                    .count();
                if x[i].is_nan() {
                    assert!(out[i].is_nan());
                } else {
                    assert_eq!(out[i], count as f32, "{}: element {i}", k.path());
                }
            }
        }
    }
}

#[test]
fn every_random_kernel_is_bit_identical_on_every_path() {
    let scalar = Kernels::new(Path::Scalar).unwrap();
    type F = fn(Kernels, &[f32], &mut [f32], &mut Stream);
    let fns: [(&str, F); 6] = [
        ("uniform", |k, _, o, s| k.uniform(s, o)),
        ("normal", |k, _, o, s| k.standard_normal(s, o)),
        ("bernoulli", |k, x, o, s| k.bernoulli(x, o, s)),
        ("nrelu", |k, x, o, s| k.nrelu(x, o, s)),
        ("binomial(3)", |k, x, o, s| k.binomial(bin(3), x, o, s)),
        ("ssu", |k, x, o, s| k.ssu(x, o, s)),
    ];
    for (name, f) in fns {
        for n in [0, 1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 1003, 20_000] {
            let x: Vec<f32> = inputs(n);
            let mut want = vec![0.0; n];
            let mut ws = Stream::new(99, 1);
            f(scalar, &x, &mut want, &mut ws);
            for k in all_kernels() {
                let mut got = vec![0.0; n];
                let mut gs = Stream::new(99, 1);
                f(k, &x, &mut got, &mut gs);
                assert!(
                    same_bits(&got, &want),
                    "{name} n = {n}: {} differs",
                    k.path()
                );
                assert_eq!(
                    gs,
                    ws,
                    "{name} n = {n}: {} left the stream elsewhere",
                    k.path()
                );
            }
        }
    }
}

#[test]
fn consumption_follows_the_documented_rule() {
    let k = Kernels::active();
    let blocks_after = |f: &dyn Fn(&mut Stream)| {
        let mut s = Stream::new(1, 1);
        f(&mut s);
        // Find how many 16-word blocks were consumed.
        let mut r = Stream::new(1, 1);
        let mut b = 0;
        let mut one = [0u32; 16];
        while r != s {
            k.fill_words(&mut r, &mut one);
            b += 1;
            assert!(b < 10_000, "stream not found");
        }
        b
    };
    let x = vec![0.3f32; 40];
    assert_eq!(blocks_after(&|s| k.uniform(s, &mut [0.0; 40])), 3);
    assert_eq!(blocks_after(&|s| k.bernoulli(&x, &mut [0.0; 40], s)), 3);
    assert_eq!(blocks_after(&|s| k.standard_normal(s, &mut [0.0; 40])), 4);
    assert_eq!(blocks_after(&|s| k.nrelu(&x, &mut [0.0; 40], s)), 4);
    assert_eq!(
        blocks_after(&|s| k.binomial(bin(4), &x, &mut [0.0; 40], s)),
        12
    );
    assert_eq!(blocks_after(&|s| k.ssu(&x, &mut [0.0; 40], s)), 36 * 3);
}

/// Pinned outputs for a fixed seed: a change to any stream or sampler must be
/// a visible decision (as in rand's `value_stability` tests).
#[test]
fn value_stability() {
    let mut s = Stream::new(42, 0);
    let mut w = [0u32; 4];
    s.fill_words(&mut w);
    assert_eq!(w, PINNED_WORDS);
    let mut s = Stream::new(42, 0);
    let mut z = [0.0f32; 4];
    s.standard_normal(&mut z);
    assert_eq!(z.map(f32::to_bits), PINNED_NORMAL_BITS);
    let mut s = Stream::new(42, 0);
    let mut h = [0.0f32; 4];
    nrelu_rbm_kernels::ssu(&[0.0, 2.0, 10.0, 200.0], &mut h, &mut s);
    assert_eq!(h, PINNED_SSU);
}

const PINNED_WORDS: [u32; 4] = [2743409893, 2333596374, 3537807044, 2016497352];
/// -0.052299522, -0.50245994, 0.59540623, 0.34506536 (the Box–Muller angle
/// mapping changed with the bit-operation symmetries; see docs/kernels.md)
const PINNED_NORMAL_BITS: [u32; 4] = [3176544262, 3204489527, 1058565259, 1051765864];
const PINNED_SSU: [f32; 4] = [0.0, 1.0, 11.0, 199.0];

// ------------------------------------------------------------ smoke tests

/// Asserts |mean - want| <= 5 standard errors, where `var` is the exact
/// variance of one draw.
fn assert_mean(name: &str, xs: &[f32], want: f64, var: f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    let se = (var / n).sqrt();
    assert!(
        (mean - want).abs() <= 5.0 * se,
        "{name}: mean {mean} vs {want} (5 SE = {})",
        5.0 * se
    );
}

const N: usize = 200_000;

#[test]
fn smoke_bernoulli_and_binomial_means() {
    for (i, &x) in [-3.0f32, -0.5, 0.0, 2.0].iter().enumerate() {
        let p = reference::sigmoid(f64::from(x));
        let mut out = vec![0.0; N];
        nrelu_rbm_kernels::bernoulli(&vec![x; N], &mut out, &mut Stream::new(100, i as u64));
        assert_mean(&format!("bernoulli({x})"), &out, p, p * (1.0 - p));
        nrelu_rbm_kernels::binomial(
            bin(6),
            &vec![x; N],
            &mut out,
            &mut Stream::new(101, i as u64),
        );
        assert_mean(
            &format!("binomial(6, {x})"),
            &out,
            6.0 * p,
            6.0 * p * (1.0 - p),
        );
    }
}

#[test]
fn smoke_normal_moments() {
    let mut z = vec![0.0; N];
    Stream::new(102, 0).standard_normal(&mut z);
    assert_mean("normal mean", &z, 0.0, 1.0);
    let sq: Vec<f32> = z.iter().map(|v| v * v).collect();
    assert_mean("normal second moment", &sq, 1.0, 2.0);
    assert!(z.iter().all(|v| v.abs() <= 6.67));
}

#[test]
fn smoke_nrelu_mean() {
    let std_normal = Normal::standard();
    for (i, &x) in [-2.0f32, 0.0, 1.0, 4.0].iter().enumerate() {
        let xf = f64::from(x);
        let s = reference::sigmoid(xf).sqrt(); // noise sd: variance σ(x)
        let a = xf / s;
        // E max(0, x + sZ) and its second moment, for Z ~ N(0, 1).
        let m1 = xf * std_normal.cdf(a) + s * std_normal.pdf(a);
        let m2 = (xf * xf + s * s) * std_normal.cdf(a) + xf * s * std_normal.pdf(a);
        let mut out = vec![0.0; N];
        nrelu_rbm_kernels::nrelu(&vec![x; N], &mut out, &mut Stream::new(103, i as u64));
        assert!(out.iter().all(|&v| v >= 0.0 && v.is_finite()));
        assert_mean(&format!("nrelu({x})"), &out, m1, m2 - m1 * m1);
    }
}

#[test]
fn smoke_ssu_mean_and_large_inputs() {
    for (i, &x) in [-3.0f32, 0.0, 2.0, 10.0, 50.0, 200.0].iter().enumerate() {
        let xf = f64::from(x);
        let mut out = vec![0.0; N];
        nrelu_rbm_kernels::ssu(&vec![x; N], &mut out, &mut Stream::new(104, i as u64));
        assert!(out.iter().all(|&v| v >= 0.0 && v.fract() == 0.0));
        let (m, v) = (reference::ssu_mean(xf), reference::ssu_variance(xf));
        assert_mean(&format!("ssu({x})"), &out, m, v);
    }
}

/// `sample_rows` gives the bits of one `sample` call per row and leaves the
/// stream where those calls leave it, for every sampler, path and awkward
/// row length.
#[test]
fn sample_rows_equals_one_call_per_row() {
    let samplers = [
        Sampler::Bernoulli,
        Sampler::Nrelu,
        Sampler::Binomial(bin(3)),
        Sampler::Ssu,
    ];
    for k in all_kernels() {
        for sampler in samplers {
            for (rows, row_len) in [
                (1, 1),
                (3, 7),
                (2, 16),
                (5, 17),
                (4, 33),
                (3, 65),
                (2, 500),
                (10, 80),
                (3, 784),
                (40, 65),
            ] {
                let x = inputs(rows * row_len);
                for with_bias in [false, true] {
                    let bias: Vec<f32> = if with_bias {
                        (0..row_len).map(|j| j as f32 * 0.25 - 2.0).collect()
                    } else {
                        Vec::new()
                    };
                    let mut a = x.clone();
                    let mut sa = Stream::new(21, 4);
                    k.sample_rows(sampler, &bias, &mut a, row_len, &mut sa);
                    let mut b = x.clone();
                    let mut sb = Stream::new(21, 4);
                    for row in b.chunks_exact_mut(row_len) {
                        k.sample(sampler, &bias, row, &mut sb);
                    }
                    assert!(
                        same_bits(&a, &b),
                        "{:?} {sampler:?} {rows}x{row_len} bias={with_bias}",
                        k.path()
                    );
                    let (mut na, mut nb) = ([0u32; 16], [0u32; 16]);
                    k.fill_words(&mut sa, &mut na);
                    k.fill_words(&mut sb, &mut nb);
                    assert_eq!(na, nb, "{:?} {sampler:?}: streams diverged", k.path());
                }
            }
        }
    }
}

#[test]
#[should_panic(expected = "not whole rows")]
fn sample_rows_with_a_ragged_last_row_panics() {
    let mut y = [0.0f32; 7];
    Kernels::active().sample_rows(Sampler::Bernoulli, &[], &mut y, 3, &mut Stream::new(1, 1));
}

/// Half-width of the Bernoulli kernels' fast bracket, relative, in
/// u·(1 + e^-x) (see `bernoulli_certain` in `kernels/src/sample/bernoulli.rs`).
const BERNOULLI_BRACKET: f64 = 1.0 / 8192.0;

/// `x` moved by `steps` ulps (towards +inf for positive `steps`).
fn ulps_away(x: f32, steps: i32) -> f32 {
    let mut y = x;
    for _ in 0..steps.unsigned_abs() {
        y = if steps > 0 {
            y.next_up()
        } else {
            y.next_down()
        };
    }
    y
}

/// The Bernoulli kernels decide most elements with a cheap bracket and
/// send those within 2^-13 of the boundary (in u(1 + e^-x)) to the exact
/// computation, a whole group of vectors (64 elements on AVX-512) at a
/// time. Here every element sits near the boundary of its own random word,
/// by the same distance throughout each 64-element chunk (and the 3-element
/// tail): x = logit(u) rounded to f32 and moved by up to ±4 ulps, or moved
/// by 0.25 to 4 bracket half-widths (2^-13 in u(1 + e^-x) is about
/// 2^-13 / (1 - u) in x), with alternating signs. Chunks far enough out
/// are decided by the bracket alone, right at its edge; chunks inside it
/// exercise the exact fallback. Every path must give the scalar reference
/// path's bits (the scalar path decides every element the exact way), and
/// those agree with f64 wherever f64 can resolve the event.
#[test]
fn bernoulli_decides_exactly_on_every_paths_boundary() {
    let scalar = Kernels::new(Path::Scalar).unwrap();
    let n = 64 * 1500 + 3;
    let stream = Stream::new(2024, 3);
    let mut words = vec![0u32; n];
    scalar.fill_words(&mut stream.clone(), &mut words);
    // Distances in bracket half-widths; 0 stands for the ulp shifts.
    let widths = [
        0.0, 0.25, 0.5, 0.75, 0.9, 1.01, 1.1, 1.25, 1.5, 1.75, 2.0, 2.5, 4.0,
    ];
    let (mut inside, mut far) = (0, 0);
    let x: Vec<f32> = words
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let u = f64::from(w >> 8) / 16_777_216.0;
            if u == 0.0 {
                return -30.0;
            }
            let logit = (u / (1.0 - u)).ln();
            let width = widths[(i / 64) % widths.len()];
            let x = if width == 0.0 {
                ulps_away(logit as f32, (i % 9) as i32 - 4)
            } else {
                let sign = if i % 2 == 0 { 1.0 } else { -1.0 };
                (logit + sign * width * BERNOULLI_BRACKET / (1.0 - u)) as f32
            };
            let q = u * (1.0 + (-f64::from(x)).exp());
            let d = (q - 1.0).abs() / BERNOULLI_BRACKET;
            inside += usize::from(d < 1.0);
            far += usize::from(d > 1.75);
            x
        })
        .collect();
    assert!(inside > n / 3, "only {inside} of {n} inside the bracket");
    assert!(far > n / 5, "only {far} of {n} decidable by the bracket");
    let mut want = vec![0.0; n];
    scalar.bernoulli(&x, &mut want, &mut stream.clone());
    let mut resolved = 0;
    for i in 0..n {
        let u = f64::from(words[i] >> 8) / 16_777_216.0;
        let p = reference::sigmoid(f64::from(x[i]));
        if (u - p).abs() > 1e-6 * p {
            resolved += 1;
            assert_eq!(want[i], f32::from(u < p), "element {i}: x = {}", x[i]);
        }
    }
    assert!(resolved > n / 2, "only {resolved} resolvable by f64");
    assert_bernoulli_is_reference_everywhere(&x, &stream, &words, &want);
}

/// Every path's Bernoulli samples of `x` from `stream` (whose words are
/// `words`) equal `want`, the scalar reference path's, bit for bit, with no
/// write past the end.
fn assert_bernoulli_is_reference_everywhere(
    x: &[f32],
    stream: &Stream,
    words: &[u32],
    want: &[f32],
) {
    let n = x.len();
    for k in all_kernels() {
        let mut got = nan_buf(n, 3);
        k.bernoulli(x, &mut got[..n], &mut stream.clone());
        assert_guard(&got, n, "bernoulli");
        if let Some(i) = (0..n).find(|&i| got[i].to_bits() != want[i].to_bits()) {
            panic!(
                "{}: element {i} (x = {}, word {:#x}) gives {} instead of {}",
                k.path(),
                x[i],
                words[i],
                got[i],
                want[i]
            );
        }
    }
}

/// The cheap e^-x of the Bernoulli bracket (`exp_neg_loose` in
/// `kernels/src/math.rs`), evaluated in f64 from the same f32 reduction:
/// the coefficients are those of `EXP2_LOOSE` (if they drift apart, the
/// test below only loses its aim, it cannot fail wrongly).
fn bracket_exp_neg(x: f32) -> f64 {
    let z = (x * -std::f32::consts::LOG2_E).max(-86.5);
    let n = z.floor();
    let f = f64::from(z - n);
    let c = [0.999_925_2f32, 0.695_833_56, 0.226_067_16, 0.078_024_52].map(f64::from);
    (c[0] + f * (c[1] + f * (c[2] + f * c[3]))) * 2f64.powi(n as i32)
}

/// A sharper aim at the bracket's margin than the test above: lanes where
/// the cheap e^-x is off by more than 6.8e-5 (its worst is 7.9e-5) are
/// placed within 1e-5 of the boundary on the side opposite to that error,
/// so the cheap q lands more than 6.1e-5 (2^-14) on the wrong side; every
/// other lane is far from its boundary. The kernels must defer those lanes
/// to the exact test. A margin of 2^-14 instead of 2^-13 (narrower than
/// the cheap exp's error) makes this test fail (checked by hand), which
/// the compile-time check of the margin against the stated error bound
/// also rules out.
#[test]
fn bernoulli_defers_lanes_where_the_cheap_exp_is_most_wrong() {
    let scalar = Kernels::new(Path::Scalar).unwrap();
    let n = 64 * 2000;
    let stream = Stream::new(77, 5);
    let mut words = vec![0u32; n];
    scalar.fill_words(&mut stream.clone(), &mut words);
    let mut traps = 0;
    let x: Vec<f32> = words
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let u = f64::from(w >> 8) / 16_777_216.0;
            let far = if i % 2 == 0 { 30.0 } else { -30.0 };
            if u == 0.0 {
                return 30.0;
            }
            let x0 = (u / (1.0 - u)).ln() as f32;
            let err = |x: f32| bracket_exp_neg(x) / (-f64::from(x)).exp() - 1.0;
            if x0.abs() > 15.0 || err(x0).abs() < 6.8e-5 {
                return far;
            }
            // The nearest f32 (within 40 ulps) with q - 1 of the opposite
            // sign to the cheap exp's error and |q - 1| < 1e-5.
            (-40..=40)
                .map(|s| ulps_away(x0, s))
                .find(|&x| {
                    let q = u * (1.0 + (-f64::from(x)).exp());
                    let e = err(x);
                    e.abs() > 6.8e-5 && (q - 1.0).abs() < 1e-5 && (q - 1.0) * e < 0.0
                })
                .inspect(|_| traps += 1)
                .unwrap_or(far)
        })
        .collect();
    assert!(traps > n / 50, "only {traps} traps of {n}");
    let mut want = vec![0.0; n];
    scalar.bernoulli(&x, &mut want, &mut stream.clone());
    assert_bernoulli_is_reference_everywhere(&x, &stream, &words, &want);
}

/// A word whose top 24 bits are 0 (u = 0, probability 2^-24) is the one
/// case where the fast bracket's product vanishes: u < σ(x) is then true
/// for every x >= -87 and false below, where the kernels flush σ to 0.
/// Finds such a word in a fixed stream and checks that element on every
/// path around that edge.
#[test]
fn bernoulli_with_a_zero_uniform_is_exact_on_every_path() {
    let k = Kernels::active();
    let mut stream = Stream::new(7, 7);
    let mut chunk = vec![0u32; 1 << 20];
    let (skip, lane) = loop {
        let before = stream.clone();
        k.fill_words(&mut stream, &mut chunk);
        if let Some(i) = chunk.iter().position(|&w| w >> 8 == 0) {
            // Replay up to the 64-word chunk that holds the word.
            stream = before;
            break (i / 64 * 64, i % 64);
        }
    };
    let mut scratch = vec![0u32; skip];
    k.fill_words(&mut stream, &mut scratch);
    let scalar = Kernels::new(Path::Scalar).unwrap();
    // A whole chunk (the kernels' main loop) and, for the word's own block,
    // a 16-element call (the short-tail code).
    let mut in_block = stream.clone();
    let mut skip_block = vec![0u32; lane / 16 * 16];
    k.fill_words(&mut in_block, &mut skip_block);
    let cases = [(stream, 64, lane), (in_block, 16, lane % 16)];
    for (xv, want) in [
        (-200.0, 0.0),
        (f32::NEG_INFINITY, 0.0),
        (-88.7, 0.0),
        (-87.5, 0.0),
        (ulps_away(-87.0, -1), 0.0),
        (-87.0, 1.0),
        (-86.5, 1.0),
        (-60.0, 1.0),
        (0.0, 1.0),
        (70.0, 1.0),
        (f32::INFINITY, 1.0),
    ] {
        for (s, len, lane) in &cases {
            let mut x = vec![0.5f32; *len];
            x[*lane] = xv;
            let mut ref_out = vec![0.0f32; *len];
            scalar.bernoulli(&x, &mut ref_out, &mut s.clone());
            assert_eq!(
                ref_out[*lane], want,
                "scalar path at x = {xv}, {len} elements"
            );
            for kk in all_kernels() {
                let mut out = vec![f32::NAN; *len];
                kk.bernoulli(&x, &mut out, &mut s.clone());
                assert!(
                    same_bits(&out, &ref_out),
                    "{} at x = {xv}, {len} elements",
                    kk.path()
                );
            }
        }
    }
}
