//! `Rbm::generate` and `Rbm::gibbs` against exact laws, on models small
//! enough to enumerate (5 Bernoulli visible units, 3 hidden units of each
//! type with an energy: Bernoulli, binomial(3), stepped sigmoid).
//!
//! The exact laws come from two independent computations in f64: the
//! model's p(v) by enumerating the free energy (`verify::exact`), and the
//! visible chain's 32 × 32 transition matrix T(v, v') = Σ_h p(h | v)
//! p(v' | h), built here from the hidden units' exact pmfs
//! (`verify::laws`). T's stationary law must be p(v) (checked first).
//!
//! * **Samples of the model**: N independent chains from p(v | h = 0),
//!   [`STEPS`] steps each. The law of one sample is μ₀Tᴷ, within
//!   d(K) = max_{v₀} TV(δ_{v₀}Tᴷ, p) of p in total variation, so the N
//!   samples are within N·d(K) of N independent draws from p: the steps are
//!   enough when N·d(K) <= 1e−7 (asserted from the exact T), which raises
//!   the test's level by at most 1e−7.
//! * **The transition itself**: N chains from the least probable state
//!   v₀, two steps of `Rbm::gibbs`, against the exact law δ_{v₀}T² (a test
//!   of the kernel of the chain, not only of where it ends up).
//!
//! Every chi-square test (cells ordered by decreasing probability, pooled
//! to >= 5 expected) runs at α = 0.001 each, with a fixed seed. The power
//! companions feed the same tests deliberately wrong samplers — too few
//! steps from a far start, and the wrong hidden unit — whose exact laws
//! are known too, so their power is computed (`verify::power`) and must be
//! at least 1 − 1e−6 before they are required to reject.
//!
//! The library's `Rbm` runs on the process-wide kernel path, so the tests
//! of the right samplers repeat themselves per path in child processes
//! (`on_every_path`; every path draws the same bits).

use nrelu_rbm::kernels::Stream;
use nrelu_rbm::kernels::reference::sigmoid;
use nrelu_rbm::units::HiddenUnit;
use nrelu_rbm::verify::exact;
use nrelu_rbm::verify::power::chi_square_power;
use nrelu_rbm::verify::stats::{Outcome, chi_square_test};
use nrelu_rbm::{GibbsConfig, Rbm, VisibleUnit};
use nrelu_rbm_proptests::models::{UNITS, hidden_pmf, random_model};
use nrelu_rbm_proptests::on_every_path;

const V: usize = 5;
const H: usize = 3;
/// Visible states.
const S: usize = 1 << V;
/// Chains per test.
const N: usize = 50_000;
/// Gibbs steps of `generate`: N·d(STEPS) <= 1e−7 for every model here
/// (asserted).
const STEPS: usize = 80;
/// Largest total-variation distance between the N samples and N
/// independent draws from p(v) accepted for the steps.
const MAX_DEPENDENCE_TV: f64 = 1e-7;
/// Significance level of each chi-square test.
const ALPHA: f64 = 1e-3;
/// Power required before a companion must reject.
const SURE: f64 = 1.0 - 1e-6;
/// Seed of the chains.
const SEED: u64 = 2026;

/// A random 5 × 3 model: weights N(0, 0.8²), biases N(0, 0.5²), from a
/// fixed stream.
fn model(unit: HiddenUnit) -> Rbm {
    random_model(VisibleUnit::Bernoulli, unit, (V, H), Stream::new(31, 7))
}

/// The same parameters with another hidden unit.
fn with_unit(rbm: &Rbm, unit: HiddenUnit) -> Rbm {
    Rbm::from_parts(
        VisibleUnit::Bernoulli,
        unit,
        rbm.weights().to_vec(),
        rbm.visible_bias().to_vec(),
        rbm.hidden_bias().to_vec(),
        None,
    )
    .unwrap()
}

/// Bit `i` of a state is visible unit `i`.
fn state_values(s: usize) -> Vec<f64> {
    (0..V).map(|i| ((s >> i) & 1) as f64).collect()
}

/// The visible chain of one Gibbs step v → h → v, exactly.
struct Transition {
    /// T(v, v'), S × S row-major.
    t: Vec<f64>,
}

impl Transition {
    fn of(rbm: &Rbm) -> Transition {
        let f = |x: &[f32]| x.iter().map(|&v| f64::from(v)).collect::<Vec<f64>>();
        let (w, b, c) = (
            f(rbm.weights()),
            f(rbm.visible_bias()),
            f(rbm.hidden_bias()),
        );
        let mut t = vec![0.0; S * S];
        for s in 0..S {
            let v = state_values(s);
            let pmfs: Vec<Vec<(f64, f64)>> = (0..H)
                .map(|j| {
                    let x = c[j] + (0..V).map(|i| v[i] * w[i * H + j]).sum::<f64>();
                    hidden_pmf(rbm.hidden(), x)
                })
                .collect();
            // Every hidden state of nonzero probability, by its digits.
            let mut idx = [0usize; H];
            loop {
                let q: f64 = (0..H).map(|j| pmfs[j][idx[j]].1).product();
                let h: Vec<f64> = (0..H).map(|j| pmfs[j][idx[j]].0).collect();
                let on: Vec<f64> = (0..V)
                    .map(|i| sigmoid(b[i] + (0..H).map(|j| w[i * H + j] * h[j]).sum::<f64>()))
                    .collect();
                for s2 in 0..S {
                    let pv: f64 = (0..V)
                        .map(|i| {
                            if (s2 >> i) & 1 == 1 {
                                on[i]
                            } else {
                                1.0 - on[i]
                            }
                        })
                        .product();
                    t[s * S + s2] += q * pv;
                }
                let mut j = 0;
                while j < H {
                    idx[j] += 1;
                    if idx[j] < pmfs[j].len() {
                        break;
                    }
                    idx[j] = 0;
                    j += 1;
                }
                if j == H {
                    break;
                }
            }
        }
        for s in 0..S {
            let row: f64 = t[s * S..(s + 1) * S].iter().sum();
            assert!((row - 1.0).abs() < 1e-12, "row {s} sums to {row}");
        }
        Transition { t }
    }

    /// μT.
    fn step(&self, mu: &[f64]) -> Vec<f64> {
        let mut out = vec![0.0; S];
        for (s, &m) in mu.iter().enumerate() {
            for (o, &t) in out.iter_mut().zip(&self.t[s * S..(s + 1) * S]) {
                *o += m * t;
            }
        }
        out
    }

    /// μTᵏ.
    fn steps(&self, mu: &[f64], k: usize) -> Vec<f64> {
        (0..k).fold(mu.to_vec(), |m, _| self.step(&m))
    }

    /// d(k) = max over starts v₀ of TV(δ_{v₀}Tᵏ, p).
    fn distance(&self, p: &[f64], k: usize) -> f64 {
        (0..S)
            .map(|s0| {
                let mut mu = vec![0.0; S];
                mu[s0] = 1.0;
                tv(&self.steps(&mu, k), p)
            })
            .fold(0.0, f64::max)
    }
}

fn tv(a: &[f64], b: &[f64]) -> f64 {
    0.5 * a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum::<f64>()
}

/// The start of `generate`, p(v | h = 0) = Π Bernoulli(σ(b_i)).
fn start_law(rbm: &Rbm) -> Vec<f64> {
    let on: Vec<f64> = rbm
        .visible_bias()
        .iter()
        .map(|&b| sigmoid(f64::from(b)))
        .collect();
    (0..S)
        .map(|s| {
            (0..V)
                .map(|i| {
                    if (s >> i) & 1 == 1 {
                        on[i]
                    } else {
                        1.0 - on[i]
                    }
                })
                .product()
        })
        .collect()
}

/// Counts of each visible state in binary rows.
fn counts(rows: &[f32]) -> Vec<u64> {
    let mut c = vec![0u64; S];
    for r in rows.chunks_exact(V) {
        assert!(r.iter().all(|&x| x == 0.0 || x == 1.0), "not binary: {r:?}");
        let s = r
            .iter()
            .enumerate()
            .fold(0, |acc, (i, &x)| acc | (usize::from(x == 1.0) << i));
        c[s] += 1;
    }
    c
}

/// The chi-square test of `rows` against the law `p`, cells by decreasing
/// probability.
fn test_against(p: &[f64], rows: &[f32]) -> Outcome {
    let c = counts(rows);
    let mut order: Vec<usize> = (0..S).collect();
    order.sort_by(|&a, &b| p[b].total_cmp(&p[a]));
    let probs: Vec<f64> = order.iter().map(|&i| p[i]).collect();
    let obs: Vec<u64> = order.iter().map(|&i| c[i]).collect();
    chi_square_test(&probs, &obs)
}

/// The power of [`test_against`] `p` when the samples follow `q`.
fn power_against(p: &[f64], q: &[f64]) -> f64 {
    let mut order: Vec<usize> = (0..S).collect();
    order.sort_by(|&a, &b| p[b].total_cmp(&p[a]));
    let p0: Vec<f64> = order.iter().map(|&i| p[i]).collect();
    let p1: Vec<f64> = order.iter().map(|&i| q[i]).collect();
    chi_square_power(N, &p0, &p1, ALPHA)
}

/// The exact p(v) of `rbm`, checked against the stationary law of its
/// transition matrix, and that matrix.
fn exact_laws(rbm: &Rbm) -> (Vec<f64>, Transition) {
    let p = exact::visible_law(rbm).unwrap();
    let t = Transition::of(rbm);
    let moved = tv(&t.step(&p), &p);
    assert!(
        moved < 1e-12,
        "{}: p(v)T differs from p(v) by {moved}",
        rbm.hidden()
    );
    (p, t)
}

/// The least probable visible state: the far start of the Gibbs tests.
fn far_state(p: &[f64]) -> usize {
    (0..S).min_by(|&a, &b| p[a].total_cmp(&p[b])).unwrap()
}

/// `N` copies of state `s` as rows.
fn copies(s: usize) -> Vec<f32> {
    let row: Vec<f32> = state_values(s).iter().map(|&x| x as f32).collect();
    row.repeat(N)
}

/// The chains' settings: every thread of rayon's global pool (the samples
/// do not depend on it).
fn cfg(steps: usize) -> GibbsConfig {
    GibbsConfig::new(steps, SEED).with_threads(0)
}

/// N chains of `generate`, STEPS steps from p(v | h = 0), follow the
/// model's exact p(v), for each hidden unit with an energy (α = 0.001
/// each).
#[test]
fn generated_states_follow_the_exact_law() {
    on_every_path("generated_states_follow_the_exact_law", || {
        for unit in UNITS {
            let rbm = model(unit);
            let (p, t) = exact_laws(&rbm);
            let d = t.distance(&p, STEPS);
            assert!(
                N as f64 * d <= MAX_DEPENDENCE_TV,
                "{unit}: {STEPS} steps are not enough: N·d = {}",
                N as f64 * d
            );
            let rows = rbm.generate(N, &cfg(STEPS)).unwrap();
            let o = test_against(&p, &rows);
            println!(
                "{unit}: chi2 = {:.1} ({}), p = {:.3e}, N·d({STEPS}) = {:.1e}",
                o.statistic,
                o.detail,
                o.p_value,
                N as f64 * d
            );
            assert!(o.p_value > ALPHA, "{unit}: rejected: {o:?}");
        }
    });
}

/// Two steps of `gibbs` from the least probable state follow the exact
/// two-step law δ_{v₀}T² (α = 0.001 each).
#[test]
fn gibbs_steps_follow_the_exact_transition() {
    on_every_path("gibbs_steps_follow_the_exact_transition", || {
        for unit in UNITS {
            let rbm = model(unit);
            let (p, t) = exact_laws(&rbm);
            let s0 = far_state(&p);
            let mut mu = vec![0.0; S];
            mu[s0] = 1.0;
            let law = t.steps(&mu, 2);
            let rows = rbm.gibbs(&copies(s0), &cfg(2)).unwrap();
            let o = test_against(&law, &rows);
            println!(
                "{unit}: from state {s0}, chi2 = {:.1} ({}), p = {:.3e}",
                o.statistic, o.detail, o.p_value
            );
            assert!(o.p_value > ALPHA, "{unit}: rejected: {o:?}");
        }
    });
}

/// Power companion: one step from the least probable state is far from
/// p(v); the test of `generated_states_follow_the_exact_law` must reject
/// it.
#[test]
fn too_few_steps_from_a_far_start_are_rejected() {
    for unit in UNITS {
        let rbm = model(unit);
        let (p, t) = exact_laws(&rbm);
        let s0 = far_state(&p);
        let mut mu = vec![0.0; S];
        mu[s0] = 1.0;
        let law = t.steps(&mu, 1);
        let power = power_against(&p, &law);
        let rows = rbm.gibbs(&copies(s0), &cfg(1)).unwrap();
        let o = test_against(&p, &rows);
        println!(
            "{unit}: TV to p(v) {:.3}, power {power:.9}, p = {:.3e}",
            tv(&law, &p),
            o.p_value
        );
        assert!(power >= SURE, "{unit}: power only {power}");
        assert!(o.p_value <= ALPHA, "{unit}: not rejected: {o:?}");
    }
}

/// Power companion: chains run with the wrong hidden unit (same
/// parameters) are rejected by the tests of both `generate` (against
/// p(v)) and `gibbs` (against δ_{v₀}T²).
#[test]
fn the_wrong_hidden_unit_is_rejected() {
    let wrong = [
        (HiddenUnit::Bernoulli, HiddenUnit::binomial_of::<3>()),
        (HiddenUnit::binomial_of::<3>(), HiddenUnit::Bernoulli),
        (HiddenUnit::Ssu, HiddenUnit::Bernoulli),
    ];
    for (unit, instead) in wrong {
        let rbm = model(unit);
        let bad = with_unit(&rbm, instead);
        let (p, t) = exact_laws(&rbm);
        let bad_t = Transition::of(&bad);

        // generate: the wrong chain's exact law after STEPS steps.
        let bad_law = bad_t.steps(&start_law(&bad), STEPS);
        let power = power_against(&p, &bad_law);
        let rows = bad.generate(N, &cfg(STEPS)).unwrap();
        let o = test_against(&p, &rows);
        println!(
            "generate, {unit} sampled as {instead}: TV {:.3}, power {power:.9}, p = {:.3e}",
            tv(&bad_law, &p),
            o.p_value
        );
        assert!(power >= SURE, "{unit} as {instead}: power only {power}");
        assert!(o.p_value <= ALPHA, "{unit} as {instead}: not rejected");

        // gibbs: two wrong steps from the far state.
        let s0 = far_state(&p);
        let mut mu = vec![0.0; S];
        mu[s0] = 1.0;
        let law = t.steps(&mu, 2);
        let bad_law = bad_t.steps(&mu, 2);
        let power = power_against(&law, &bad_law);
        let rows = bad.gibbs(&copies(s0), &cfg(2)).unwrap();
        let o = test_against(&law, &rows);
        println!(
            "gibbs, {unit} sampled as {instead}: TV {:.3}, power {power:.9}, p = {:.3e}",
            tv(&bad_law, &law),
            o.p_value
        );
        assert!(power >= SURE, "{unit} as {instead}: power only {power}");
        assert!(o.p_value <= ALPHA, "{unit} as {instead}: not rejected");
    }
}
