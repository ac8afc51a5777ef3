//! Statistical tests of forward and reverse AIS against exact log Z, each
//! with a companion that feeds the same check a deliberately wrong
//! estimator (a defect of the chains, [`Flaw`], or a wrong combination of
//! the weights) and requires the check to reject it. All seeds are fixed,
//! so each test is deterministic; the significance levels say how often a
//! correct implementation would fail them over random seeds.
//!
//! Two checks:
//!
//! * **The bracket** (rigorous): the mean forward weight is unbiased for
//!   Z/Z_A and the mean reverse weight for Z_A/Z, whatever the schedule and
//!   the number of runs, so by Markov's inequality P(log Ẑ_fwd > log Z + t)
//!   ≤ e^−t and P(log Ẑ_rev < log Z − t) ≤ e^−t. With t = ln(1/α), α =
//!   0.001, `fwd − t ≤ exact ≤ rev + t` fails with probability at most
//!   2α per model, for any model, schedule and run count.
//! * **Agreement** (sharp, by the central limit theorem on the mean weight,
//!   whose spread the estimate reports): on mild models with 1000
//!   temperatures the weights vary little, r̂ is close to normal and
//!   |log Ẑ − log Z| ≤ 4 · log_z_std fails with probability about 6.3e−5
//!   per check (two-sided normal tail at 4σ; the bias −σ²/2 of the log is
//!   below 0.01σ here).

use super::ais::{Flaw, estimate_from_log_weights, forward_log_weights};
use super::reverse::{reverse_estimate, reverse_log_weights};
use super::*;
use crate::error::RbmError;
use crate::kernels::{Binomial, Stream};

/// α of the bracket check, per side and model.
const ALPHA: f64 = 0.001;
/// Standard errors allowed by the agreement check (α ≈ 6.3e−5 each).
const Z_SE: f64 = 4.0;

/// The bracket margin ln(1/α) (Markov's inequality).
fn margin() -> f64 {
    (1.0 / ALPHA).ln()
}

/// A Bernoulli-visible RBM with weights uniform in ±`scale` and biases
/// uniform in ±0.5, from a fixed stream.
fn model(nv: usize, nh: usize, hidden: HiddenUnit, scale: f32, seed: u64) -> Rbm {
    let mut s = Stream::new(seed, 99);
    let mut u = |n: usize, a: f32| {
        let mut x = vec![0f32; n];
        s.uniform(&mut x);
        x.iter().map(|&v| a * (2.0 * v - 1.0)).collect::<Vec<f32>>()
    };
    let w = u(nv * nh, scale);
    let b = u(nv, 0.5);
    let c = u(nh, 0.5);
    Rbm::from_parts(VisibleUnit::Bernoulli, hidden, w, b, c, None).unwrap()
}

fn binomial3() -> HiddenUnit {
    HiddenUnit::Binomial(Binomial::new(3).unwrap())
}

/// Models of every unit type with an energy, enumerable through either
/// layer: (visible, hidden, unit, weight scale, seed). Each has log Z −
/// log Z_A above 4 nats (so that the wrong-sign companion has something
/// to find: it is off by twice that).
fn models() -> Vec<Rbm> {
    [
        (12, 16, HiddenUnit::Bernoulli, 1.0, 5), // visible layer enumerated
        (16, 8, HiddenUnit::Bernoulli, 1.0, 6),  // hidden layer enumerated
        (10, 6, binomial3(), 1.0, 7),
        (10, 8, HiddenUnit::Ssu, 1.0, 11),
        (12, 6, HiddenUnit::Ssu, 1.0, 12),
    ]
    .into_iter()
    .map(|(nv, nh, hid, s, seed)| model(nv, nh, hid, s, seed))
    .collect()
}

fn cfg(seed: u64, runs: usize, betas: usize) -> AisConfig {
    AisConfig::new(seed)
        .with_runs(runs)
        .with_betas(default_schedule(betas))
        .with_threads(1)
}

/// The model of `examples/ais_dominant_mode`, whose mass sits in one mode
/// far from the base-rate model (see [`example_model::dominant_mode`]).
#[path = "../../examples/ais_dominant_mode/model.rs"]
mod example_model;

/// The model of [`example_model::dominant_mode`] and its base-rate biases.
fn dominant_mode() -> (Rbm, Vec<f32>) {
    example_model::dominant_mode().unwrap()
}

/// Checks `lo − t ≤ exact ≤ hi + t`, with a message.
fn bracketed(lo: f64, exact: f64, hi: f64) -> std::result::Result<(), String> {
    let t = margin();
    if lo - t <= exact && exact <= hi + t {
        Ok(())
    } else {
        Err(format!(
            "bracket [{lo:.4} − {t:.3}, {hi:.4} + {t:.3}] misses exact {exact:.4}"
        ))
    }
}

#[test]
fn forward_and_reverse_ais_bracket_exact_log_z() {
    // α = 0.001 per side and model (Markov); 5 models × 2 schedules and the
    // dominant-mode model at 2 seeds: at most 0.028 in all.
    for (i, rbm) in models().iter().enumerate() {
        let (exact, _) = exact_log_z(rbm, 1).unwrap();
        let base = vec![0f32; rbm.n_visible];
        for betas in [30, 1000] {
            let c = cfg(11 + i as u64, 64, betas);
            let fwd = ais(rbm, &base, &c).unwrap().log_z;
            let rev = reverse_ais(rbm, &base, &[], &c).unwrap().log_z;
            bracketed(fwd, exact, rev).unwrap_or_else(|e| panic!("model {i}, {betas}: {e}"));
        }
    }
    // Where it matters: the short schedule is tens of nats off on both
    // sides, and the bracket still holds.
    let (rbm, base) = dominant_mode();
    let (exact, _) = exact_log_z(&rbm, 1).unwrap();
    for seed in [1, 2] {
        let c = cfg(seed, 100, 50);
        let fwd = ais(&rbm, &base, &c).unwrap().log_z;
        let rev = reverse_ais(&rbm, &base, &[], &c).unwrap().log_z;
        bracketed(fwd, exact, rev).unwrap();
        assert!(
            fwd < exact - 5.0 && rev > exact + 5.0,
            "{fwd} {exact} {rev}"
        );
    }
}

#[test]
fn companion_bracket_rejects_reverse_ais_started_from_the_base_model() {
    // The same check as above (α = 0.001): reverse chains started from the
    // base-rate model instead of the RBM's samples never reach the mode
    // and fall far below log Z, like forward AIS.
    let (rbm, base) = dominant_mode();
    let (exact, _) = exact_log_z(&rbm, 1).unwrap();
    for seed in [1, 2] {
        let c = cfg(seed, 100, 50);
        let fwd = ais(&rbm, &base, &c).unwrap().log_z;
        let (lw, lzb) = reverse_log_weights(&rbm, &base, &[], &c, Flaw::ReverseFromBase).unwrap();
        let wrong = reverse_estimate(&lw, lzb, &c).log_z;
        assert!(bracketed(fwd, exact, wrong).is_err(), "{wrong} vs {exact}");
    }
}

#[test]
fn companion_bracket_rejects_reverse_weights_with_the_wrong_sign() {
    // The same check (α = 0.001): combining the reverse weights as forward
    // ones (log Z_A + log r̂ instead of log Z_A − log r̂) estimates
    // 2 log Z_A − log Z, below the truth by 2 (log Z − log Z_A), over 8
    // nats for every model here (the margin is 6.9).
    for (i, rbm) in models().iter().enumerate() {
        let (exact, _) = exact_log_z(rbm, 1).unwrap();
        let base = vec![0f32; rbm.n_visible];
        let c = cfg(11 + i as u64, 64, 1000);
        let fwd = ais(rbm, &base, &c).unwrap().log_z;
        let (lw, lzb) = reverse_log_weights(rbm, &base, &[], &c, Flaw::None).unwrap();
        let wrong = estimate_from_log_weights(&lw, lzb, &c).log_z;
        assert!(
            bracketed(fwd, exact, wrong).is_err(),
            "model {i}: {wrong} vs {exact}"
        );
    }
}

/// |log Ẑ − exact| within [`Z_SE`] standard errors, and the standard error
/// small enough for the check to mean something.
fn agrees(e: &AisEstimate, exact: f64) -> std::result::Result<(), String> {
    let d = e.log_z - exact;
    if d.abs() <= Z_SE * e.log_z_std && e.log_z_std < 0.1 {
        Ok(())
    } else {
        Err(format!(
            "log Z {:.4} vs exact {exact:.4}: off by {d:+.4}, {:.1} standard errors of {:.4}",
            e.log_z,
            d.abs() / e.log_z_std,
            e.log_z_std
        ))
    }
}

#[test]
fn forward_and_reverse_ais_agree_with_enumeration_for_every_unit_type() {
    // α ≈ 6.3e−5 per check (4 standard errors, CLT), 10 checks.
    for (i, rbm) in models().iter().enumerate() {
        let (exact, _) = exact_log_z(rbm, 1).unwrap();
        let base = vec![0f32; rbm.n_visible];
        let c = cfg(21 + i as u64, 64, 1000);
        agrees(&ais(rbm, &base, &c).unwrap(), exact)
            .unwrap_or_else(|e| panic!("forward, model {i}: {e}"));
        agrees(&reverse_ais(rbm, &base, &[], &c).unwrap(), exact)
            .unwrap_or_else(|e| panic!("reverse, model {i}: {e}"));
    }
}

/// The SSU models of [`models`], by index.
const SSU_MODELS: [usize; 2] = [3, 4];

#[test]
fn companion_agreement_rejects_untempered_or_nrelu_ssu_transitions() {
    // The same check (4 standard errors): forward AIS on the SSU models
    // whose hidden step samples at x instead of β x, or samples NReLU
    // units (the approximation, not the law), converges to a wrong value.
    let models = models();
    for i in SSU_MODELS {
        let rbm = &models[i];
        let (exact, _) = exact_log_z(rbm, 1).unwrap();
        let base = vec![0f32; rbm.n_visible];
        let c = cfg(21 + i as u64, 64, 1000);
        for flaw in [Flaw::UntemperedHidden, Flaw::NreluHidden] {
            let (lw, lzb) = forward_log_weights(rbm, &base, &c, flaw).unwrap();
            let e = estimate_from_log_weights(&lw, lzb, &c);
            assert!(agrees(&e, exact).is_err(), "{flaw:?}, model {i}: {e:?}");
        }
    }
}

#[test]
fn reverse_ais_from_data_chains_agrees_with_enumeration() {
    // 21 × 21 Bernoulli units: no layer within the enumeration limit of
    // `exact_log_z`, so reverse AIS starts from data chains (1000 sweeps);
    // the exact value comes from enumerating the 2^21 hidden states here.
    // Both checks as above (α = 0.001 for the bracket, ≈ 6.3e−5 for the
    // agreement).
    let rbm = model(21, 21, HiddenUnit::Bernoulli, 0.5, 3);
    assert_eq!(enumerable_layer(&rbm), None);
    let states = Enumeration::new(&rbm, Enumerated::Hidden);
    let exact = states.log_sum(0, 1 << 21);
    let mut s = Stream::new(4, 0);
    let mut u = vec![0f32; 50 * 21];
    s.uniform(&mut u);
    let data: Vec<f32> = u.iter().map(|&x| f32::from(u8::from(x < 0.3))).collect();
    let base = base_rate_bias(&data, 21).unwrap();
    let c = cfg(8, 64, 1000);
    let fwd = ais(&rbm, &base, &c).unwrap();
    let rev = reverse_ais(&rbm, &base, &data, &c).unwrap();
    bracketed(fwd.log_z, exact, rev.log_z).unwrap();
    agrees(&rev, exact).unwrap();
}

/// `f` on a pool of `threads` threads.
fn on_threads<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> R {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}

#[test]
fn reverse_ais_does_not_depend_on_the_threads() {
    // Exact starts through either layer, data starts, and SSU units; 37
    // runs (blocks of 8 split unevenly between threads).
    let data: Vec<f32> = (0..7 * 21)
        .map(|i| f32::from(u8::from(i % 3 == 0)))
        .collect();
    for rbm in [
        model(12, 16, HiddenUnit::Bernoulli, 1.0, 1),
        model(16, 8, HiddenUnit::Bernoulli, 1.0, 2),
        model(21, 21, HiddenUnit::Ssu, 0.5, 3),
    ] {
        let nv = rbm.n_visible;
        let base = vec![0.1f32; nv];
        let d = &data[..7 * nv];
        let run = |threads: usize, parts: usize| {
            let c = AisConfig::new(9)
                .with_runs(37)
                .with_betas(default_schedule(40))
                .with_burn_in(5)
                .with_threads(parts);
            on_threads(threads, || {
                (
                    reverse_ais(&rbm, &base, d, &c).unwrap(),
                    ais(&rbm, &base, &c).unwrap(),
                )
            })
        };
        let one = run(1, 1);
        assert!(one.0.log_z.is_finite() && one.1.log_z.is_finite());
        assert_eq!(one, run(2, 0));
        assert_eq!(one, run(2, 3));
    }
}

#[test]
fn reverse_ais_checks_its_data() {
    let rbm = model(21, 4, HiddenUnit::Ssu, 0.5, 3);
    let base = vec![0f32; 21];
    let c = cfg(1, 8, 10);
    assert!(matches!(
        reverse_ais(&rbm, &base, &[], &c),
        Err(RbmError::EmptyData { .. })
    ));
    assert!(reverse_ais(&rbm, &base, &[0.5; 21], &c).is_err());
    assert!(reverse_ais(&rbm, &base, &[1.0; 20], &c).is_err());
    let nrelu = model(4, 3, HiddenUnit::Nrelu, 0.5, 3);
    assert!(reverse_ais(&nrelu, &[0.0; 4], &[], &c).is_err());
}
