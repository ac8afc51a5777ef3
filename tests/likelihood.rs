//! Free energy, exact log Z, AIS and pseudo-likelihood against brute-force
//! enumeration of small models.

use nrelu_rbm::likelihood::{
    AisConfig, Enumerated, ais, average_log_likelihood, base_rate_bias, default_schedule,
    exact_log_z, free_energy, pseudo_log_likelihood,
};
use nrelu_rbm::train::{Sampling, TrainConfig, train};
use nrelu_rbm::units::HiddenUnit;
use nrelu_rbm::{Rbm, VisibleUnit};

fn lcg(seed: u64) -> impl FnMut() -> f64 {
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    move || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (s >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A model with N(0, scale²)-ish weights and biases.
fn random_rbm(nv: usize, nh: usize, hidden: HiddenUnit, scale: f64, seed: u64) -> Rbm {
    let mut u = lcg(seed);
    let mut g = move || ((u() + u() + u() + u() - 2.0) * (3f64).sqrt() * scale) as f32;
    let w = (0..nv * nh).map(|_| g()).collect();
    let b = (0..nv).map(|_| g()).collect();
    let c = (0..nh).map(|_| g()).collect();
    Rbm::from_parts(VisibleUnit::Bernoulli, hidden, w, b, c, None).unwrap()
}

fn ln_choose(k: u32, h: u32) -> f64 {
    (1..=h).map(|i| ((k - h + i) as f64 / i as f64).ln()).sum()
}

/// log Z by summing e^{-E(v,h)} over every joint state (hidden states with
/// their binomial multiplicities).
fn brute_log_z(rbm: &Rbm) -> f64 {
    let (nv, nh) = (rbm.n_visible(), rbm.n_hidden());
    let k = match rbm.hidden() {
        HiddenUnit::Binomial(b) => b.k(),
        _ => 1,
    };
    let mut terms = Vec::new();
    for v in 0..1usize << nv {
        let mut h = vec![0u32; nh];
        loop {
            let mut e = 0f64;
            let mut mult = 0f64;
            for i in 0..nv {
                let vi = (v >> i & 1) as f64;
                e += vi * f64::from(rbm.visible_bias()[i]);
                for (j, &hj) in h.iter().enumerate() {
                    e += vi * f64::from(hj) * f64::from(rbm.weights()[i * nh + j]);
                }
            }
            for (&hj, &cj) in h.iter().zip(rbm.hidden_bias()) {
                e += f64::from(hj) * f64::from(cj);
                mult += ln_choose(k, hj);
            }
            terms.push(e + mult);
            // next hidden state in base K+1
            let mut j = 0;
            while j < nh && h[j] == k {
                h[j] = 0;
                j += 1;
            }
            if j == nh {
                break;
            }
            h[j] += 1;
        }
    }
    let m = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    m + terms.iter().map(|t| (t - m).exp()).sum::<f64>().ln()
}

fn all_states(nv: usize) -> Vec<f32> {
    (0..1usize << nv)
        .flat_map(|v| (0..nv).map(move |i| (v >> i & 1) as f32))
        .collect()
}

#[test]
fn exact_log_z_matches_brute_force_for_both_enumerations_and_unit_types() {
    for (seed, scale) in [(1, 0.5), (2, 1.5), (3, 3.0)] {
        // Bernoulli hidden: enumerating the hidden (smaller) layer.
        let rbm = random_rbm(7, 4, HiddenUnit::Bernoulli, scale, seed);
        let (lz, layer) = exact_log_z(&rbm, 2).unwrap();
        assert_eq!(layer, Enumerated::Hidden);
        assert!(
            (lz - brute_log_z(&rbm)).abs() < 1e-9,
            "hidden enumeration {lz}"
        );
        // Visible layer smaller: enumerating it.
        let rbm = random_rbm(4, 6, HiddenUnit::Bernoulli, scale, seed);
        let (lz, layer) = exact_log_z(&rbm, 1).unwrap();
        assert_eq!(layer, Enumerated::Visible);
        assert!((lz - brute_log_z(&rbm)).abs() < 1e-9);
        // Binomial hidden units: multiplicities C(K, h).
        let rbm = random_rbm(5, 3, HiddenUnit::binomial_of::<3>(), scale, seed);
        let (lz, _) = exact_log_z(&rbm, 2).unwrap();
        assert!(
            (lz - brute_log_z(&rbm)).abs() < 1e-9,
            "binomial {lz} vs {}",
            brute_log_z(&rbm)
        );
    }
}

#[test]
fn exact_log_z_is_thread_count_invariant_and_log_probabilities_sum_to_one() {
    let rbm = random_rbm(12, 9, HiddenUnit::Bernoulli, 1.0, 4);
    let (a, _) = exact_log_z(&rbm, 1).unwrap();
    let (b, _) = exact_log_z(&rbm, 2).unwrap();
    let (c, _) = exact_log_z(&rbm, 3).unwrap();
    // On the caller's pool of 3 threads, all of them (0) or two.
    let host = rayon::ThreadPoolBuilder::new()
        .num_threads(3)
        .build()
        .unwrap();
    assert_eq!(
        a.to_bits(),
        host.install(|| exact_log_z(&rbm, 0)).unwrap().0.to_bits()
    );
    assert_eq!(
        a.to_bits(),
        host.install(|| exact_log_z(&rbm, 2)).unwrap().0.to_bits()
    );
    assert_eq!(a.to_bits(), b.to_bits());
    assert_eq!(a.to_bits(), c.to_bits());
    // Σ_v p(v) = 1 over all 2^12 visible states (SSU too, via visible
    // enumeration).
    for hidden in [
        HiddenUnit::Bernoulli,
        HiddenUnit::Ssu,
        HiddenUnit::binomial_of::<2>(),
    ] {
        let rbm = random_rbm(8, 5, hidden, 1.0, 5);
        let (lz, _) = exact_log_z(&rbm, 0).unwrap();
        let f = free_energy(&rbm, &all_states(8)).unwrap();
        let total: f64 = f.iter().map(|&fe| (-fe - lz).exp()).sum();
        assert!((total - 1.0).abs() < 1e-6, "{hidden}: Σ p(v) = {total}");
    }
}

#[test]
fn free_energy_of_ssu_units_is_the_sum_over_shifted_copies() {
    let rbm = random_rbm(3, 2, HiddenUnit::Ssu, 2.0, 6);
    let v = [1.0, 0.0, 1.0];
    let f = free_energy(&rbm, &v).unwrap()[0];
    let nh = 2;
    let mut want = -(f64::from(rbm.visible_bias()[0]) + f64::from(rbm.visible_bias()[2]));
    for j in 0..nh {
        let x = f64::from(rbm.hidden_bias()[j])
            + f64::from(rbm.weights()[j])
            + f64::from(rbm.weights()[2 * nh + j]);
        // 400 copies: the tail beyond is below e^-390.
        want -= (1..=400)
            .map(|i| (1.0 + (x - i as f64 + 0.5).exp()).ln())
            .sum::<f64>();
    }
    assert!(
        (f - want).abs() < 1e-5 * want.abs().max(1.0),
        "{f} vs {want}"
    );
}

#[test]
fn pseudo_likelihood_matches_exact_conditionals() {
    for hidden in [
        HiddenUnit::Bernoulli,
        HiddenUnit::binomial_of::<3>(),
        HiddenUnit::Ssu,
    ] {
        let rbm = random_rbm(6, 4, hidden, 1.2, 7);
        let states = all_states(6);
        let (lz, _) = exact_log_z(&rbm, 1).unwrap();
        let f = free_energy(&rbm, &states).unwrap();
        let logp = |v: usize| -f[v] - lz;
        let data_states = [0usize, 5, 17, 42, 63];
        let mut want = 0.0;
        for &v in &data_states {
            for i in 0..6 {
                let flip = v ^ (1 << i);
                // log p(v_i | v_-i) = log p(v) - log(p(v) + p(v^i))
                let (a, b) = (logp(v), logp(flip));
                let m = a.max(b);
                want += a - (m + ((a - m).exp() + (b - m).exp()).ln());
            }
        }
        want /= data_states.len() as f64;
        let data: Vec<f32> = data_states
            .iter()
            .flat_map(|&v| (0..6).map(move |i| (v >> i & 1) as f32))
            .collect();
        let got = pseudo_log_likelihood(&rbm, &data).unwrap();
        assert!(
            (got - want).abs() < 1e-4,
            "{hidden}: PL {got} vs exact {want}"
        );
        // And the average log-likelihood from the exact log Z.
        let ll = average_log_likelihood(&rbm, &data, lz).unwrap();
        let want_ll = data_states.iter().map(|&v| logp(v)).sum::<f64>() / data_states.len() as f64;
        assert!((ll - want_ll).abs() < 1e-6);
    }
}

fn data_for(rbm: &Rbm, rows: usize, seed: u64) -> Vec<f32> {
    let mut u = lcg(seed);
    let nv = rbm.n_visible();
    (0..rows * nv)
        .map(|i| {
            if u() < 0.2 + 0.6 * ((i % nv) as f64 / nv as f64) {
                1.0
            } else {
                0.0
            }
        })
        .collect()
}

#[test]
fn ais_agrees_with_exact_log_z_and_its_band_covers_it() {
    // Random weights at several scales, and a CD-trained model.
    let mut models: Vec<(String, Rbm)> = [(0.3, 11), (1.0, 12), (2.0, 13)]
        .iter()
        .map(|&(s, seed)| {
            (
                format!("random scale {s}"),
                random_rbm(24, 12, HiddenUnit::Bernoulli, s, seed),
            )
        })
        .collect();
    let mut trained = Rbm::new(24, 12, VisibleUnit::Bernoulli, HiddenUnit::Bernoulli, 3).unwrap();
    let data = data_for(&trained, 300, 5);
    let cfg = TrainConfig::default_for(VisibleUnit::Bernoulli)
        .with_epochs(30)
        .with_batch_size(20)
        .with_learning_rate(0.1);
    train(
        &mut trained,
        &data,
        &cfg.with_sampling(Sampling::Cd(1)),
        |_| std::ops::ControlFlow::Continue(()),
    )
    .unwrap();
    models.push(("CD-trained".into(), trained));
    for (name, rbm) in &models {
        let (exact, _) = exact_log_z(rbm, 0).unwrap();
        let base = base_rate_bias(&data_for(rbm, 300, 5), 24).unwrap();
        let cfg = AisConfig::new(1)
            .with_runs(200)
            .with_betas(default_schedule(3000))
            .with_threads(0);
        let est = ais(rbm, &base, &cfg).unwrap();
        assert!(
            (est.log_z - exact).abs() < 0.1,
            "{name}: AIS {} vs exact {exact} (std {})",
            est.log_z,
            est.log_z_std
        );
        assert!(
            est.log_z_lower <= exact && exact <= est.log_z_upper,
            "{name}: band [{}, {}] misses {exact}",
            est.log_z_lower,
            est.log_z_upper
        );
    }
}

#[test]
fn ais_error_shrinks_as_temperatures_are_added() {
    let rbm = random_rbm(20, 10, HiddenUnit::Bernoulli, 1.5, 21);
    let (exact, _) = exact_log_z(&rbm, 0).unwrap();
    let base = base_rate_bias(&data_for(&rbm, 200, 3), 20).unwrap();
    let mean_abs_err = |n: usize| {
        (0..4u64)
            .map(|seed| {
                let cfg = AisConfig::new(seed)
                    .with_runs(100)
                    .with_betas(default_schedule(n))
                    .with_threads(0);
                (ais(&rbm, &base, &cfg).unwrap().log_z - exact).abs()
            })
            .sum::<f64>()
            / 4.0
    };
    let (few, many) = (mean_abs_err(30), mean_abs_err(3000));
    assert!(
        many < few / 3.0,
        "error with 30 temperatures {few}, with 3000 {many}"
    );
}

#[test]
fn ais_is_reproducible_for_any_thread_count() {
    let rbm = random_rbm(30, 8, HiddenUnit::binomial_of::<2>(), 0.7, 31);
    let base = base_rate_bias(&data_for(&rbm, 100, 1), 30).unwrap();
    let run = |threads| {
        let cfg = AisConfig::new(9)
            .with_runs(37)
            .with_betas(default_schedule(200))
            .with_threads(threads);
        ais(&rbm, &base, &cfg).unwrap()
    };
    let a = run(1);
    assert_eq!(a, run(2));
    assert_eq!(a, run(3));
    // On the caller's pool (0 = all its threads), which the call uses
    // rather than building one.
    let host = rayon::ThreadPoolBuilder::new()
        .num_threads(3)
        .build()
        .unwrap();
    assert_eq!(a, host.install(|| run(0)));
    assert_eq!(a, host.install(|| run(2)));
    // Binomial hidden units: against the exact value too (16 visible units
    // can be enumerated).
    let rbm = random_rbm(16, 8, HiddenUnit::binomial_of::<2>(), 0.7, 32);
    let base = base_rate_bias(&data_for(&rbm, 100, 1), 16).unwrap();
    let (exact, _) = exact_log_z(&rbm, 0).unwrap();
    let cfg = AisConfig::new(2)
        .with_runs(200)
        .with_betas(default_schedule(3000))
        .with_threads(0);
    let est = ais(&rbm, &base, &cfg).unwrap();
    assert!(
        (est.log_z - exact).abs() < 0.1,
        "binomial AIS {} vs {exact}",
        est.log_z
    );
}

/// One run gives an estimate but no spread: its standard error and band
/// are unbounded (the CLI prints `inf` and `[-inf, inf]`, JSON null), not
/// the 0 that would look exact.
#[test]
fn a_single_ais_run_has_an_unknown_standard_error() {
    let rbm = random_rbm(12, 6, HiddenUnit::Bernoulli, 0.5, 41);
    let base = base_rate_bias(&data_for(&rbm, 50, 1), 12).unwrap();
    let cfg = AisConfig::new(1)
        .with_runs(1)
        .with_betas(default_schedule(50))
        .with_threads(1);
    let est = ais(&rbm, &base, &cfg).unwrap();
    assert!(est.log_z.is_finite());
    assert_eq!(est.log_z_std, f64::INFINITY);
    assert_eq!(
        (est.log_z_lower, est.log_z_upper),
        (f64::NEG_INFINITY, f64::INFINITY)
    );
    let two = ais(&rbm, &base, &cfg.with_runs(2)).unwrap();
    assert!(two.log_z_std.is_finite() && two.log_z_std > 0.0);
}

/// A model whose probability mass sits in one sharp mode far from the
/// base-rate model: with a short schedule the chains rarely reach it, so AIS
/// under-estimates log Z (Jensen's inequality makes E[log Ẑ] <= log Z in any
/// case, and here the gap is large). Documented in docs/likelihood.md.
#[test]
fn ais_under_estimates_a_single_dominant_mode_with_few_temperatures() {
    let (nv, nh) = (20, 10);
    // Strong positive coupling with negative biases: the all-on state
    // dominates, while the base rate (fitted to sparse data) is all-off.
    let w = vec![1.2f32; nv * nh];
    let b = vec![-3.0f32; nv];
    let c = vec![-6.0f32; nh];
    let rbm =
        Rbm::from_parts(VisibleUnit::Bernoulli, HiddenUnit::Bernoulli, w, b, c, None).unwrap();
    let (exact, _) = exact_log_z(&rbm, 0).unwrap();
    let sparse: Vec<f32> = (0..100 * nv)
        .map(|i| if i % 17 == 0 { 1.0 } else { 0.0 })
        .collect();
    let base = base_rate_bias(&sparse, nv).unwrap();
    let short = ais(
        &rbm,
        &base,
        &AisConfig::new(3)
            .with_runs(100)
            .with_betas(default_schedule(50))
            .with_threads(0),
    )
    .unwrap();
    let long = ais(
        &rbm,
        &base,
        &AisConfig::new(3)
            .with_runs(100)
            .with_betas(default_schedule(20_000))
            .with_threads(0),
    )
    .unwrap();
    assert!(
        short.log_z < exact - 1.0,
        "short schedule: {} vs exact {exact}",
        short.log_z
    );
    assert!(
        short.log_z_upper < exact,
        "and its band does not warn: upper {} < {exact}",
        short.log_z_upper
    );
    assert!(
        (long.log_z - exact).abs() < (short.log_z - exact).abs(),
        "a long schedule recovers: {}",
        long.log_z
    );
}

#[test]
fn bad_requests_give_typed_errors() {
    let nrelu = random_rbm(4, 3, HiddenUnit::Nrelu, 1.0, 1);
    assert!(free_energy(&nrelu, &[0.0; 4]).is_err());
    assert!(exact_log_z(&nrelu, 1).is_err());
    let big = random_rbm(30, 25, HiddenUnit::Bernoulli, 1.0, 1);
    let e = exact_log_z(&big, 1).unwrap_err().to_string();
    assert!(e.contains("AIS"), "{e}");
    let rbm = random_rbm(4, 3, HiddenUnit::Bernoulli, 1.0, 1);
    let e = pseudo_log_likelihood(&rbm, &[0.5, 0.0, 1.0, 1.0])
        .unwrap_err()
        .to_string();
    assert!(e.contains("row 1, column 1"), "{e}");
    let base = vec![0.0; 4];
    for betas in [
        vec![],
        vec![0.5],
        vec![0.5, 0.4, 1.0],
        vec![0.0, 1.0],
        vec![0.5, f64::NAN, 1.0],
    ] {
        assert!(
            ais(
                &rbm,
                &base,
                &AisConfig::new(0)
                    .with_runs(4)
                    .with_betas(betas)
                    .with_threads(1)
            )
            .is_err()
        );
    }
    assert!(
        ais(
            &rbm,
            &base,
            &AisConfig::new(0)
                .with_runs(0)
                .with_betas(vec![1.0])
                .with_threads(1)
        )
        .is_err()
    );
    assert!(
        ais(
            &rbm,
            &[0.0; 3],
            &AisConfig::new(0)
                .with_runs(1)
                .with_betas(vec![1.0])
                .with_threads(1)
        )
        .is_err()
    );
}

/// Power companion of `ais_agrees_with_exact_log_z_and_its_band_covers_it`:
/// the same 0.1-nat check and band check, applied to the log Z of a slightly
/// wrong model (weights scaled by 1.05, as a sampler with a 5 % weight error
/// would target), must reject.
#[test]
fn the_ais_agreement_check_rejects_a_slightly_wrong_target() {
    let rbm = random_rbm(24, 12, HiddenUnit::Bernoulli, 1.0, 12);
    let mut w = rbm.weights().to_vec();
    w.iter_mut().for_each(|x| *x *= 1.05);
    let wrong = Rbm::from_parts(
        VisibleUnit::Bernoulli,
        HiddenUnit::Bernoulli,
        w,
        rbm.visible_bias().to_vec(),
        rbm.hidden_bias().to_vec(),
        None,
    )
    .unwrap();
    let (exact, _) = exact_log_z(&rbm, 0).unwrap();
    let base = base_rate_bias(&data_for(&rbm, 300, 5), 24).unwrap();
    let cfg = AisConfig::new(1)
        .with_runs(200)
        .with_betas(default_schedule(3000))
        .with_threads(0);
    let est = ais(&wrong, &base, &cfg).unwrap();
    let close = (est.log_z - exact).abs() < 0.1;
    let covered = est.log_z_lower <= exact && exact <= est.log_z_upper;
    assert!(
        !close && !covered,
        "AIS of the wrong model {} vs exact {exact}",
        est.log_z
    );
}
