//! Parallel tempering (`Trainer::sample_tempered`): the β = 1 chain's
//! states follow the exact joint law p(v, h) of a tiny RBM, and the test
//! rejects deliberately wrong swap rules.
//!
//! Each test runs `CHAINS` independent persistent chains (the rows of one
//! trainer), each a ladder of `K` tempered chains, for `SWEEPS` sweeps from
//! all-zero hidden states, and takes one joint state per chain: the
//! samples are independent. A chi-square test (cells pooled to an expected
//! count of at least 5, ordered by decreasing probability) compares their
//! counts with the exact law, enumerated in f64 from the model's own f32
//! parameters. Significance level: α = 0.001 per test, fixed seeds.

use nrelu_rbm::kernels::{Kernels, Path, Stream};
use nrelu_rbm::train::{Sampling, SwapRule, TrainConfig, Trainer};
use nrelu_rbm::units::HiddenUnit;
use nrelu_rbm::verify::stats::chi_square_test;
use nrelu_rbm::{Rbm, VisibleUnit};

/// Significance level of every test here.
const ALPHA: f64 = 0.001;
const V: usize = 4;
const H: usize = 3;
/// Tempered chains per persistent chain.
const K: usize = 4;
/// Independent persistent chains (samples per test).
const CHAINS: usize = 20_000;
/// Sweeps before the one sample of each chain.
const SWEEPS: usize = 40;

/// A 4 × 3 model with weights N(0, 1.5²) and biases N(0, 0.5²): peaked
/// enough that the tempered laws (β down to 0.5) differ clearly from the
/// β = 1 law.
fn tiny(unit: HiddenUnit) -> Rbm {
    let mut z = vec![0.0f32; V * H + V + H];
    Kernels::new(Path::Scalar)
        .unwrap()
        .standard_normal(&mut Stream::new(2010, 7), &mut z);
    let w = z[..V * H].iter().map(|x| 1.5 * x).collect();
    let b = z[V * H..V * H + V].iter().map(|x| 0.5 * x).collect();
    let c = z[V * H + V..].iter().map(|x| 0.5 * x).collect();
    Rbm::from_parts(VisibleUnit::Bernoulli, unit, w, b, c, None).unwrap()
}

/// The trials of a hidden unit: 1 for Bernoulli, K for binomial:K.
fn trials(unit: HiddenUnit) -> usize {
    match unit {
        HiddenUnit::Bernoulli => 1,
        HiddenUnit::Binomial(b) => b.k() as usize,
        _ => unreachable!("tempering supports Bernoulli and binomial units"),
    }
}

/// Cell of a joint state: v's bits, then h's digits in base n + 1.
fn cell(v: &[f32], h: &[f32], n: usize) -> usize {
    let mut idx = 0;
    for &x in h.iter().rev() {
        idx = idx * (n + 1) + x as usize;
    }
    for &x in v.iter().rev() {
        idx = idx * 2 + x as usize;
    }
    idx
}

/// The exact joint law over the cells of [`cell`]:
/// p(v, h) ∝ Π_j C(n, h_j) · exp(vᵀb + hᵀc + vᵀWh), in f64.
fn exact_joint(rbm: &Rbm, n: usize) -> Vec<f64> {
    let (w, b, c) = (rbm.weights(), rbm.visible_bias(), rbm.hidden_bias());
    let cells = (1usize << V) * (n + 1).pow(H as u32);
    let binom = |k: usize| (0..k).fold(1.0, |a, i| a * (n - i) as f64 / (i + 1) as f64);
    let mut p = vec![0.0f64; cells];
    for (idx, slot) in p.iter_mut().enumerate() {
        let v: Vec<f64> = (0..V).map(|i| ((idx >> i) & 1) as f64).collect();
        let mut rest = idx >> V;
        let mut log = 0.0;
        for (i, &vi) in v.iter().enumerate() {
            log += vi * f64::from(b[i]);
        }
        for j in 0..H {
            let hj = rest % (n + 1);
            rest /= n + 1;
            let x: f64 =
                f64::from(c[j]) + (0..V).map(|i| v[i] * f64::from(w[i * H + j])).sum::<f64>();
            log += hj as f64 * x + binom(hj).ln();
        }
        *slot = log.exp();
    }
    let z: f64 = p.iter().sum();
    p.iter_mut().for_each(|x| *x /= z);
    p
}

/// The chi-square p-value of the β = 1 chains of `unit` under `rule`, and
/// the swap acceptance rates.
fn p_value(unit: HiddenUnit, rule: SwapRule, seed: u64) -> (f64, Vec<f64>) {
    let rbm = tiny(unit);
    let n = trials(unit);
    let cfg = TrainConfig::default()
        .with_sampling(Sampling::Pcd(1))
        .with_tempering(K)
        .with_batch_size(CHAINS)
        .with_seed(seed)
        .with_swap_rule(rule);
    let mut t = Trainer::new(&rbm, &cfg).unwrap();
    let (v, h) = t.sample_tempered(&rbm, SWEEPS).unwrap();
    let p = exact_joint(&rbm, n);
    let mut counts = vec![0u64; p.len()];
    for (v, h) in v.chunks_exact(V).zip(h.chunks_exact(H)) {
        counts[cell(v, h, n)] += 1;
    }
    // Decreasing probability, so that pooling joins similar cells.
    let mut order: Vec<usize> = (0..p.len()).collect();
    order.sort_by(|&a, &b| p[b].total_cmp(&p[a]));
    let probs: Vec<f64> = order.iter().map(|&i| p[i]).collect();
    let counts: Vec<u64> = order.iter().map(|&i| counts[i]).collect();
    let outcome = chi_square_test(&probs, &counts);
    (outcome.p_value, t.take_swap_acceptance())
}

const UNITS: [HiddenUnit; 2] = [HiddenUnit::Bernoulli, HiddenUnit::binomial_of::<2>()];

#[test]
fn the_cold_chain_follows_the_exact_joint_law() {
    for unit in UNITS {
        let (p, acceptance) = p_value(unit, SwapRule::Metropolis, 1);
        println!("{unit}: p = {p:.4}, swaps accepted {acceptance:?}");
        // Swaps happen, so the test exercises them.
        assert!(acceptance.iter().all(|&a| a > 0.05), "{acceptance:?}");
        assert!(p > ALPHA, "{unit}: p = {p} <= {ALPHA}");
    }
}

/// Companion: accepting every swap, or the Metropolis ratio with the wrong
/// sign, puts states of hotter chains into the β = 1 chain, and the same
/// test must reject both.
#[test]
fn wrong_swap_rules_are_rejected() {
    for unit in UNITS {
        for rule in [SwapRule::Always, SwapRule::WrongSign] {
            let (p, _) = p_value(unit, rule, 1);
            println!("{unit} {rule:?}: p = {p:.3e}");
            assert!(p < ALPHA, "{unit} {rule:?}: p = {p} not below {ALPHA}");
        }
    }
}
