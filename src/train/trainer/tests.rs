//! The trainer's bits do not depend on the threads: every parallel
//! region's cut, put anywhere, gives the bits of one thread.

use super::*;
use crate::units::HiddenUnit;

/// One way of training for the scrambled-cut test.
#[derive(Clone, Copy, Debug)]
struct Setup {
    unit: HiddenUnit,
    sampling: Sampling,
    visible: VisibleUnit,
    momentum: f32,
    centering: Option<f32>,
    tempering: usize,
}

/// Trains 8 steps of `setup` on `threads` threads; with a seed, every
/// region's cut is scrambled before each step (anywhere, not just where
/// the balance would put it).
fn scrambled(setup: Setup, threads: usize, seed: Option<u64>) -> Rbm {
    let (v, h, b) = (40, 37, 21);
    let mut rbm = Rbm::new(v, h, setup.visible, setup.unit, 3).unwrap();
    let gaussian = setup.visible == VisibleUnit::Gaussian;
    let cfg = TrainConfig {
        batch_size: b,
        learning_rate: if gaussian { 0.005 } else { 0.05 },
        momentum: setup.momentum,
        sampling: setup.sampling,
        threads,
        sample_visible: gaussian,
        centering: setup.centering,
        tempering: setup.tempering,
        ..TrainConfig::default_for(setup.visible)
    };
    let data: Vec<f32> = (0..4 * b * v)
        .map(|i| {
            let on = (i * 7919) % 13 < 5;
            match (gaussian, on) {
                (false, on) => on as u8 as f32,
                (true, on) => (i % 7) as f32 * 0.3 - if on { 0.2 } else { 0.9 },
            }
        })
        .collect();
    let mut t = Trainer::new(&rbm, &cfg).unwrap();
    let mut s = seed.unwrap_or(0);
    for batch in data.chunks(b * v).cycle().take(8) {
        if seed.is_some() {
            let Balances {
                load,
                positive,
                down,
                negative_hidden,
                gradient,
                ..
            } = &t.balance;
            for bal in [load, gradient] {
                bal.scramble(&mut s);
            }
            for p in [positive, down, negative_hidden] {
                p.product.scramble(&mut s);
                p.draws.scramble(&mut s);
            }
        }
        t.step(&mut rbm, batch).unwrap();
    }
    rbm
}

fn bits(m: &Rbm) -> Vec<u32> {
    m.weights()
        .iter()
        .chain(m.visible_bias())
        .chain(m.hidden_bias())
        .map(|x| x.to_bits())
        .collect()
}

#[test]
fn cuts_anywhere_give_the_same_bits_as_one_thread() {
    let units = [
        HiddenUnit::Bernoulli,
        HiddenUnit::Nrelu,
        HiddenUnit::Ssu,
        HiddenUnit::binomial_of::<3>(),
    ];
    let mut setups = Vec::new();
    for unit in units {
        for sampling in [Sampling::Cd(1), Sampling::Cd(2), Sampling::Pcd(1)] {
            // Momentum 0.5 and 0: the two ways the update is folded
            // into the gradient product.
            for momentum in [0.5, 0.0] {
                setups.push(Setup {
                    unit,
                    sampling,
                    visible: VisibleUnit::Bernoulli,
                    momentum,
                    centering: None,
                    tempering: 1,
                });
                // Centring, for every unit, sampling and update form.
                setups.push(Setup {
                    unit,
                    sampling,
                    visible: VisibleUnit::Bernoulli,
                    momentum,
                    centering: Some(0.1),
                    tempering: 1,
                });
            }
        }
    }
    // Sampled Gaussian visible units: the other draw of a down pass.
    setups.push(Setup {
        unit: HiddenUnit::Nrelu,
        sampling: Sampling::Cd(2),
        visible: VisibleUnit::Gaussian,
        momentum: 0.5,
        centering: None,
        tempering: 1,
    });
    setups.push(Setup {
        unit: HiddenUnit::Nrelu,
        sampling: Sampling::Pcd(2),
        visible: VisibleUnit::Gaussian,
        momentum: 0.5,
        centering: Some(0.05),
        tempering: 1,
    });
    // Parallel tempering, with and without centring.
    for unit in [HiddenUnit::Bernoulli, HiddenUnit::binomial_of::<3>()] {
        for (sampling, centering) in [(Sampling::Pcd(1), None), (Sampling::Pcd(2), Some(0.1))] {
            setups.push(Setup {
                unit,
                sampling,
                visible: VisibleUnit::Bernoulli,
                momentum: 0.0,
                centering,
                tempering: 3,
            });
        }
    }
    for setup in setups {
        let one = bits(&scrambled(setup, 1, None));
        for (threads, seed) in [(2, 1), (2, 2), (3, 3)] {
            let many = bits(&scrambled(setup, threads, Some(seed)));
            assert!(
                one == many,
                "{setup:?}: {threads} threads with scrambled cuts differ"
            );
        }
    }
}
