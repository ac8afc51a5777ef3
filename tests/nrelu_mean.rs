//! The mean rule of NReLU hidden units ([`NreluMean`]): what it reads out,
//! that training uses it as the hidden statistic, and where it is refused.

use nrelu_rbm::kernels::reference;
use nrelu_rbm::stack::{LayerSpec, Stack, train_stack};
use nrelu_rbm::train::{Sampling, TrainConfig, Trainer, train};
use nrelu_rbm::units::{HiddenUnit, NreluMean};
use nrelu_rbm::{Rbm, RbmError, VisibleUnit};

mod common;
use common::{patterns, quiet};

/// A 3 × 5 NReLU model whose pre-activations on the all-ones row are the
/// hidden biases: `c` with zero weights.
fn model_with_biases(c: &[f32]) -> Rbm {
    let h = c.len();
    Rbm::from_parts(
        VisibleUnit::Bernoulli,
        HiddenUnit::Nrelu,
        vec![0.0; 3 * h],
        vec![0.0; 3],
        c.to_vec(),
        None,
    )
    .unwrap()
}

#[test]
fn the_ssu_mean_reads_out_the_stepped_sigmoid_sum_and_relu_reads_max_0_x() {
    let c = [-88.0, -20.0, -3.0, -0.5, 0.0, 0.5, 3.0, 20.0, 88.0];
    let mut rbm = model_with_biases(&c);
    let relu = rbm.hidden_means(&[1.0; 3]).unwrap();
    assert_eq!(relu, c.map(|x| x.max(0.0)));

    rbm.set_nrelu_mean(NreluMean::Ssu).unwrap();
    let ssu = rbm.hidden_means(&[1.0; 3]).unwrap();
    for (&x, &got) in c.iter().zip(&ssu) {
        let want = reference::ssu_mean(f64::from(x));
        let err = (f64::from(got) - want).abs();
        // The kernels' SSU mean is accurate to a few parts in 10⁶ relative
        // (absolute near zero, where it underflows towards 0).
        assert!(
            err <= 1e-5 * want.max(1e-3),
            "x = {x}: got {got}, want {want}"
        );
    }
    // Graded below zero, where max(0, x) is flat.
    assert!(ssu[2] > ssu[1] && ssu[1] > 0.0, "{ssu:?}");
}

#[test]
fn a_unit_below_zero_on_every_row_learns_under_the_ssu_mean_only() {
    // Hidden unit 0 has bias −8: its input is below zero on every row, so
    // max(0, x) and its NReLU samples (noise s.d. √σ(−8) ≈ 0.018) are 0 on
    // the data and on the chain and the unit gets no gradient; its SSU mean
    // (about 3e-4) is small but not zero.
    let data = patterns(40, 8, 3);
    let mut c = vec![0.0; 4];
    c[0] = -8.0;
    let start = Rbm::from_parts(
        VisibleUnit::Bernoulli,
        HiddenUnit::Nrelu,
        (0..32).map(|i| ((i % 7) as f32 - 3.0) * 0.01).collect(),
        vec![0.0; 8],
        c,
        None,
    )
    .unwrap();
    let cfg = TrainConfig::default()
        .with_epochs(2)
        .with_batch_size(10)
        .with_learning_rate(0.5)
        .with_weight_decay(0.0)
        .with_sampling(Sampling::Cd(1))
        .with_seed(5);
    let column0 = |m: &Rbm| -> Vec<u32> {
        let mut v: Vec<u32> = m
            .weights()
            .chunks_exact(4)
            .map(|r| r[0].to_bits())
            .collect();
        v.push(m.hidden_bias()[0].to_bits());
        v
    };
    let trained = |mean| {
        let mut rbm = start.clone();
        rbm.set_nrelu_mean(mean).unwrap();
        train(&mut rbm, &data, &cfg, quiet).unwrap();
        rbm
    };
    let relu = trained(NreluMean::Relu);
    let ssu = trained(NreluMean::Ssu);
    assert_eq!(column0(&relu), column0(&start), "no gradient under relu");
    // Under ssu the unit's weights move by far more than rounding.
    let moved = ssu
        .weights()
        .chunks_exact(4)
        .zip(start.weights().chunks_exact(4))
        .map(|(a, b)| (a[0] - b[0]).abs())
        .fold(0.0f32, f32::max);
    assert!(moved > 1e-5, "largest change of unit 0's weights: {moved}");
    assert_eq!(ssu.nrelu_mean(), NreluMean::Ssu);
}

#[test]
fn the_rule_is_refused_for_other_units_and_breaks_intensity_equivariance() {
    for unit in [
        HiddenUnit::Bernoulli,
        HiddenUnit::Ssu,
        HiddenUnit::binomial_of::<2>(),
    ] {
        let mut rbm = Rbm::new(3, 2, VisibleUnit::Bernoulli, unit, 1).unwrap();
        let err = rbm.set_nrelu_mean(NreluMean::Ssu).unwrap_err();
        assert!(
            matches!(err, RbmError::InvalidParameter { .. }),
            "{unit}: {err}"
        );
        assert!(err.to_string().contains("nrelu hidden units only"), "{err}");
        // The default is accepted for every unit.
        rbm.set_nrelu_mean(NreluMean::Relu).unwrap();
    }

    let data = patterns(30, 6, 1);
    let cfg = [TrainConfig::default().with_epochs(1).with_batch_size(10)];
    let zero_bias_stack = |mean| -> Stack {
        let weights = (0..24).map(|i| ((i % 5) as f32 - 2.0) * 0.1).collect();
        let mut layer = Rbm::from_parts(
            VisibleUnit::Gaussian,
            HiddenUnit::Nrelu,
            weights,
            vec![0.0; 6],
            vec![0.0; 4],
            None,
        )
        .unwrap();
        layer.set_nrelu_mean(mean).unwrap();
        Stack::new(vec![layer]).unwrap()
    };
    assert!(zero_bias_stack(NreluMean::Relu).is_intensity_equivariant());
    assert!(!zero_bias_stack(NreluMean::Ssu).is_intensity_equivariant());

    // A bad rule on the top layer is refused before the bottom one trains.
    let bad = [
        LayerSpec::new(4, HiddenUnit::Nrelu),
        LayerSpec::new(3, HiddenUnit::Bernoulli).with_nrelu_mean(NreluMean::Ssu),
    ];
    let cfg2 = [cfg[0].clone(), cfg[0].clone()];
    let mut calls = 0;
    let err = train_stack(&data, 6, VisibleUnit::Bernoulli, &bad, &cfg2, |_, _| {
        calls += 1;
        std::ops::ControlFlow::Continue(())
    })
    .expect_err("an SSU mean on Bernoulli units is refused");
    assert_eq!(calls, 0, "no layer trained");
    assert!(err.to_string().contains("nrelu hidden units only"), "{err}");
}

#[test]
fn a_checkpoint_of_the_other_rule_is_refused_on_restore() {
    let data = patterns(20, 6, 2);
    let cfg = TrainConfig::default().with_batch_size(10);
    let mut ssu = Rbm::new(6, 4, VisibleUnit::Bernoulli, HiddenUnit::Nrelu, 1).unwrap();
    ssu.set_nrelu_mean(NreluMean::Ssu).unwrap();
    let mut t = Trainer::new(&ssu, &cfg).unwrap();
    t.step(&mut ssu, &data[..60]).unwrap();
    let ck = t.checkpoint(&ssu).unwrap();

    let mut relu = Rbm::new(6, 4, VisibleUnit::Bernoulli, HiddenUnit::Nrelu, 1).unwrap();
    let mut other = Trainer::new(&relu, &cfg).unwrap();
    let err = other.restore(&mut relu, &ck).unwrap_err();
    assert!(
        matches!(
            err,
            RbmError::CheckpointMismatch {
                option: "model",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("(mean ssu)"), "{err}");
    assert_eq!(
        relu.nrelu_mean(),
        NreluMean::Relu,
        "a refused restore changes nothing"
    );
}
