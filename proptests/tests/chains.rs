//! Models small enough to enumerate: the exact log-likelihood gradient
//! against the model's own positive-minus-negative statistics, and CD-k
//! training against the exact log-likelihood. The library's `Rbm` and
//! `train` run on the process-wide active kernel path, so each test
//! repeats itself in a child process per path
//! (`nrelu_rbm_proptests::on_every_path`). (The Gibbs chi-square tests on
//! tiny RBMs are in `samplers.rs`, family `gibbs`.)

use nrelu_rbm::kernels::{Kernels, Path, Stream};
use nrelu_rbm::train::{Sampling, TrainConfig, train};
use nrelu_rbm::units::HiddenUnit;
use nrelu_rbm::verify::exact;
use nrelu_rbm::{Rbm, VisibleUnit};
use nrelu_rbm_proptests::on_every_path;
use std::ops::ControlFlow;

const V: usize = 6;
const H: usize = 4;

fn normals(n: usize, id: u64) -> Vec<f32> {
    let mut z = vec![0.0f32; n];
    Kernels::new(Path::Scalar)
        .unwrap()
        .standard_normal(&mut Stream::new(77, id), &mut z);
    z
}

/// A random 6 × 4 model: weights N(0, 0.7²), biases N(0, 0.5²).
fn random_rbm(unit: HiddenUnit, id: u64) -> Rbm {
    let z = normals(V * H + V + H, id);
    let w = z[..V * H].iter().map(|x| 0.7 * x).collect();
    let b = z[V * H..V * H + V].iter().map(|x| 0.5 * x).collect();
    let c = z[V * H + V..].iter().map(|x| 0.5 * x).collect();
    Rbm::from_parts(VisibleUnit::Bernoulli, unit, w, b, c, None).unwrap()
}

/// `rows` random binary rows of width `V`.
fn random_data(rows: usize, id: u64) -> Vec<f32> {
    normals(rows * V, id)
        .iter()
        .map(|&z| if z > 0.3 { 1.0 } else { 0.0 })
        .collect()
}

const UNITS: [HiddenUnit; 3] = [
    HiddenUnit::Bernoulli,
    HiddenUnit::binomial_of::<3>(),
    HiddenUnit::Ssu,
];

/// Central differences of the exact mean log-likelihood (f64 enumeration)
/// agree with the exact positive-minus-negative gradient, and with the
/// model's own statistics: positive phase ⟨v hᵀ⟩ from `Rbm::hidden_means`
/// on the data, negative phase Σ_v p(v) v hidden_means(v)ᵀ with the exact
/// p(v).
#[test]
fn exact_gradient_is_positive_minus_negative_statistics() {
    on_every_path(
        "exact_gradient_is_positive_minus_negative_statistics",
        || {
            for (u, unit) in UNITS.into_iter().enumerate() {
                let rbm = random_rbm(unit, u as u64);
                let data = random_data(12, 100 + u as u64);
                let g = exact::gradient(&rbm, &data).unwrap();

                // The model's own statistics, in f32 through the kernels.
                let states: Vec<f32> = (0..1usize << V)
                    .flat_map(|s| (0..V).map(move |i| ((s >> i) & 1) as f32))
                    .collect();
                let p = exact::visible_law(&rbm).unwrap();
                let hm_data = rbm.hidden_means(&data).unwrap();
                let hm_all = rbm.hidden_means(&states).unwrap();
                let rows = (data.len() / V) as f64;
                let mut own = [0.0f64; V * H];
                for (r, v) in data.chunks_exact(V).enumerate() {
                    for i in 0..V {
                        for j in 0..H {
                            own[i * H + j] += f64::from(v[i] * hm_data[r * H + j]) / rows;
                        }
                    }
                }
                for (s, v) in states.chunks_exact(V).enumerate() {
                    for i in 0..V {
                        for j in 0..H {
                            own[i * H + j] -= p[s] * f64::from(v[i] * hm_all[s * H + j]);
                        }
                    }
                }

                // Central differences on the f32 weights (h = 2^-12, exact in f32).
                let h = 2f32.powi(-12);
                let mut worst = (0.0f64, 0.0f64);
                for idx in 0..V * H {
                    let mut w = rbm.weights().to_vec();
                    let at = |w: &[f32]| {
                        let m = Rbm::from_parts(
                            VisibleUnit::Bernoulli,
                            unit,
                            w.to_vec(),
                            rbm.visible_bias().to_vec(),
                            rbm.hidden_bias().to_vec(),
                            None,
                        )
                        .unwrap();
                        exact::log_likelihood(&m, &data).unwrap()
                    };
                    let w0 = w[idx];
                    w[idx] = w0 + h;
                    let up = at(&w);
                    w[idx] = w0 - h;
                    let down = at(&w);
                    let fd = (up - down) / (2.0 * f64::from(h));
                    worst.0 = worst.0.max((fd - g.w[idx]).abs());
                    worst.1 = worst.1.max((own[idx] - g.w[idx]).abs());
                }
                println!(
                    "{unit}: |fd - exact| <= {:.2e}, |own - exact| <= {:.2e}",
                    worst.0, worst.1
                );
                assert!(
                    worst.0 < 1e-6,
                    "{unit}: finite differences off by {}",
                    worst.0
                );
                assert!(
                    worst.1 < 1e-5,
                    "{unit}: model statistics off by {}",
                    worst.1
                );
            }
        },
    );
}

/// The enumeration here and `nrelu_rbm::likelihood::exact_log_z` (Gray
/// code, another implementation) agree.
#[test]
fn two_enumerations_agree_on_log_z() {
    for (u, unit) in UNITS.into_iter().enumerate() {
        let rbm = random_rbm(unit, 10 + u as u64);
        let a = exact::log_partition(&rbm).unwrap();
        let (b, _) = nrelu_rbm::likelihood::exact_log_z(&rbm, 1).unwrap();
        assert!(
            (a - b).abs() < 1e-10 * a.abs().max(1.0),
            "{unit}: {a} vs {b}"
        );
    }
}

/// Three noisy prototypes over 8 binary units, 60 rows.
fn prototypes() -> Vec<f32> {
    let protos = [
        [1., 1., 1., 1., 0., 0., 0., 0.],
        [0., 0., 0., 0., 1., 1., 1., 1.],
        [1., 0., 1., 0., 1., 0., 1., 0.],
    ];
    let noise = normals(60 * 8, 999);
    (0..60)
        .flat_map(|r| {
            let p = protos[r % 3];
            let n = &noise[r * 8..r * 8 + 8];
            (0..8).map(move |i| {
                // Flip with probability ≈ 5 % (|z| > 1.96).
                if n[i].abs() > 1.96 { 1.0 - p[i] } else { p[i] }
            })
        })
        .collect()
}

/// CD-1 (η = 0.02, momentum 0.5, batches of 10) on the prototypes raises
/// the exact log-likelihood, for every unit type with an energy and for
/// NReLU units (scored as the stepped sigmoid model they approximate).
#[test]
fn cd_training_increases_the_exact_log_likelihood() {
    on_every_path("cd_training_increases_the_exact_log_likelihood", || {
        let data = prototypes();
        for unit in [
            HiddenUnit::Bernoulli,
            HiddenUnit::binomial_of::<3>(),
            HiddenUnit::Ssu,
            HiddenUnit::Nrelu,
        ] {
            let mut rbm = Rbm::new(8, 4, VisibleUnit::Bernoulli, unit, 5).unwrap();
            let score = |rbm: &Rbm| {
                let as_energy = Rbm::from_parts(
                    VisibleUnit::Bernoulli,
                    if unit == HiddenUnit::Nrelu {
                        HiddenUnit::Ssu
                    } else {
                        unit
                    },
                    rbm.weights().to_vec(),
                    rbm.visible_bias().to_vec(),
                    rbm.hidden_bias().to_vec(),
                    None,
                )
                .unwrap();
                exact::log_likelihood(&as_energy, &data).unwrap()
            };
            let base = TrainConfig::default_for(VisibleUnit::Bernoulli)
                .with_batch_size(10)
                .with_learning_rate(0.02)
                .with_momentum(0.5)
                .with_weight_decay(0.0)
                .with_sampling(Sampling::Cd(1))
                .with_threads(1);
            let mut ll = vec![score(&rbm)];
            for (stage, epochs) in [10, 40, 100].into_iter().enumerate() {
                let cfg = base.clone().with_epochs(epochs).with_seed(stage as u64);
                train(&mut rbm, &data, &cfg, |_| ControlFlow::Continue(())).unwrap();
                ll.push(score(&rbm));
            }
            println!("{unit}: exact mean log-likelihood after 0/10/50/150 epochs: {ll:?}");
            // From −5.55 nats per row (near-uniform on 2^8 states) to about
            // −2.2 … −3.2. CD-1 is not the likelihood gradient, so the last
            // stage may give some of it back (NReLU scored as SSU: −2.7 →
            // −3.7 on one data seed). The gain bound 2.0 holds with margin
            // over five data seeds (999..=1003: the smallest best gain is
            // 2.36, Bernoulli at seed 999); 2.5 had been tuned on the
            // normals of the old Box–Muller angle mapping and sat at the
            // median of the new ones.
            let best = ll.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            assert!(ll[1] > ll[0] + 0.2, "{unit}: {ll:?}");
            assert!(best > ll[0] + 2.0, "{unit}: {ll:?}");
            assert!(ll[3] > ll[0] + 1.5, "{unit}: {ll:?}");
        }
    });
}
