//! The CD-1 training workload shared by `benches/train.rs` (criterion) and
//! `benches/probes/train_timings.rs` (the timer behind `benches/peers/run.sh`),
//! and rebuilt bit for bit by `benches/peers/numpy_train.py`.
//!
//! * Shape: 784 visible × 500 hidden units, mini-batch of 100 rows, CD-1,
//!   Bernoulli visible units, learning rate 0.01, no momentum and no weight
//!   decay (so the update is the plain `W += η/B·(Xᵀh⁺ − v⁻ᵀh⁻)` of the
//!   numpy and scikit-learn peers). [`config_momentum`] adds the trainer's
//!   default momentum 0.5 and weight decay 1e-4, for the `cd1_momentum`
//!   workload.
//! * Data: the affine inputs of `kernels/benches/support/mod.rs`:
//!   `X[r, c] = U(2, r·784 + c)` in [0, 1), initial weights
//!   `W[k, j] = 0.1·(U(3, k·500 + j) − 0.5)`, hidden bias
//!   `c[j] = U(4, j) − 0.5`, visible bias 0.
//! * The five bare products of a CD-1 step, with the trainer's shapes and
//!   views, through the kernels' padded `Product` ([`five_products`], the floor of
//!   `rbm bench`, whose source file this module includes): `X·W`, `H·Wᵀ`,
//!   `V·W` (100 × 500 or 100 × 784 results) and the gradient `Xᵀ·H` then
//!   `−= Vᵀ·H` (784 × 500). (The trainer computes the last two as one
//!   product with inner dimension 200; the floor keeps the five separate
//!   calls of the goal's definition.)

// Shared by several bench and example targets, each of which uses a part.
#![allow(dead_code)]

use nrelu_rbm::likelihood::base_rate_bias;
use nrelu_rbm::train::{Sampling, TrainConfig, Trainer};
use nrelu_rbm::units::HiddenUnit;
use nrelu_rbm::{Rbm, VisibleUnit};

#[path = "../../kernels/benches/support/mod.rs"]
mod hash;

// The floor of `rbm bench`, the same calls (private to the CLI).
#[path = "../../src/cli/bench/five_products.rs"]
mod floor;

pub use floor::FiveProducts;

// Used by the timer examples, not by the criterion benches.
#[allow(unused_imports)]
pub use hash::{binary_like, fingerprint};

/// Rows per mini-batch.
pub const BATCH: usize = hash::BATCH;
/// Visible units (MNIST pixels).
pub const VISIBLE: usize = hash::N_IN;
/// Hidden units.
pub const HIDDEN: usize = hash::N_OUT;
/// Learning rate η: small, so repeating the step on one batch for many
/// thousands of iterations never diverges.
pub const LEARNING_RATE: f32 = 0.01;

/// The mini-batch, the initial weights and the initial hidden bias.
pub fn inputs() -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    hash::affine_inputs()
}

/// A fresh model with the hashed initial parameters.
pub fn model(hidden: HiddenUnit) -> Rbm {
    let (_, w, c) = inputs();
    Rbm::from_parts(
        VisibleUnit::Bernoulli,
        hidden,
        w,
        vec![0.0; VISIBLE],
        c,
        None,
    )
    .expect("valid benchmark model")
}

/// CD-1 on `threads` threads with the settings of the module documentation.
pub fn config(threads: usize) -> TrainConfig {
    TrainConfig::default_for(VisibleUnit::Bernoulli)
        .with_batch_size(BATCH)
        .with_learning_rate(LEARNING_RATE)
        .with_momentum(0.0)
        .with_weight_decay(0.0)
        .with_sampling(Sampling::Cd(1))
        .with_seed(0x5eed)
        .with_threads(threads)
}

/// [`config`] with the trainer's default momentum (0.5) and L2 weight decay
/// (1e-4): the full update `Δ ← mΔ + (η/B)G − ηλW`, `W ← W + Δ`, which
/// reads and writes the velocity as well.
pub fn config_momentum(threads: usize) -> TrainConfig {
    let d = TrainConfig::default_for(VisibleUnit::Bernoulli);
    config(threads)
        .with_momentum(d.momentum())
        .with_weight_decay(d.weight_decay())
}

/// A model, its trainer and the batch: `step()` runs one CD-1 update.
pub struct Step {
    rbm: Rbm,
    trainer: Trainer,
    batch: Vec<f32>,
}

impl Step {
    /// The workload for `hidden` units on `threads` threads.
    pub fn new(hidden: HiddenUnit, threads: usize) -> Step {
        Step::with_config(hidden, &config(threads))
    }

    /// The workload for `hidden` units with the settings `cfg`.
    pub fn with_config(hidden: HiddenUnit, cfg: &TrainConfig) -> Step {
        let rbm = model(hidden);
        let trainer = Trainer::new(&rbm, cfg).expect("valid benchmark config");
        Step {
            rbm,
            trainer,
            batch: inputs().0,
        }
    }

    /// One `Trainer::step`; returns its squared reconstruction error.
    pub fn step(&mut self) -> f64 {
        self.trainer
            .step(&mut self.rbm, &self.batch)
            .expect("the benchmark step stays finite")
    }

    /// `n` steps inside one `Trainer::in_pool` call, as `train` runs them;
    /// returns the summed squared reconstruction error.
    pub fn steps_in_pool(&mut self, n: u64) -> f64 {
        let (rbm, batch) = (&mut self.rbm, &self.batch);
        self.trainer.in_pool(|t| {
            (0..n)
                .map(|_| t.step(rbm, batch).expect("the benchmark step stays finite"))
                .sum()
        })
    }
}

/// The five bare products of a CD-1 step on the benchmark's batch and
/// weights, with stand-ins in [0, 1) for the hidden states and the
/// reconstruction.
pub fn five_products() -> FiveProducts {
    let (x, w, _) = inputs();
    let h = (0..(BATCH * HIDDEN) as u32)
        .map(|i| hash::unit(5, i) as f32)
        .collect();
    let v = (0..(BATCH * VISIBLE) as u32)
        .map(|i| hash::unit(6, i) as f32)
        .collect();
    FiveProducts::new(BATCH, VISIBLE, HIDDEN, x, w, h, v)
}

/// The AIS workload of `benches/ais.rs` and `benches/probes/ais_timings.rs`
/// (rebuilt by `benches/peers/numpy_ais.py`): a Bernoulli–Bernoulli model
/// with the benchmark weights and hidden bias, visible bias
/// `b[i] = U(7, i) − 0.5`, and the base-rate biases of 100 binary rows
/// `d[r, i] = [X[r, i] < 0.05 + 0.9·U(8, i)]`. Returns the model, the
/// base-rate biases and those rows.
pub fn ais_workload() -> (Rbm, Vec<f32>, Vec<f32>) {
    let (x, w, c) = hash::affine_inputs();
    let nv = hash::N_IN;
    let b: Vec<f32> = (0..nv as u32)
        .map(|i| (hash::unit(7, i) - 0.5) as f32)
        .collect();
    let data: Vec<f32> = x
        .iter()
        .enumerate()
        .map(|(n, &xv)| {
            let p = 0.05 + 0.9 * hash::unit(8, (n % nv) as u32);
            if f64::from(xv) < p { 1.0 } else { 0.0 }
        })
        .collect();
    let base = base_rate_bias(&data, nv).expect("valid base-rate data");
    let rbm = Rbm::from_parts(VisibleUnit::Bernoulli, HiddenUnit::Bernoulli, w, b, c, None)
        .expect("valid benchmark model");
    (rbm, base, data)
}

/// The median of `v` (the mean of the two middle values for an even count;
/// NaN for none). `hash::median`, the kernels' timers' own, takes the upper
/// middle value instead; the two agree on the odd counts those timers use.
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => v[n / 2],
        _ => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// A core-to-core round trip ([`core_to_core_ns`]) above this (ns) means
/// the host is running the two cores far apart: a cache line passed
/// between cores that share a cache makes the trip in about a hundred
/// nanoseconds, one passed across sockets, cache complexes or a
/// hypervisor's moves takes several times that. The trainer's pool
/// threads read what the other wrote at every region, so they slow down
/// in such spells far more than independent jobs do; the timers report
/// near and far spells apart (`docs/benchmarks.md` has the figures).
pub const FAR_CORES_NS: f64 = 250.0;

/// The median round trip, in ns, of a value bounced 2000 times between
/// this thread and a new one through one atomic: how far apart the host
/// is running two cores right now. On a 2-vCPU guest those are its two
/// cores; on a larger machine the two threads may land on any pair.
pub fn core_to_core_ns() -> f64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::Instant;
    const TRIPS: u64 = 2000;
    let flag = AtomicU64::new(0);
    let mut times = Vec::with_capacity(TRIPS as usize);
    std::thread::scope(|s| {
        s.spawn(|| {
            for i in 0..TRIPS {
                while flag.load(Ordering::Acquire) != 2 * i + 1 {
                    std::hint::spin_loop();
                }
                flag.store(2 * i + 2, Ordering::Release);
            }
        });
        for i in 0..TRIPS {
            let t = Instant::now();
            flag.store(2 * i + 1, Ordering::Release);
            while flag.load(Ordering::Acquire) != 2 * i + 2 {
                std::hint::spin_loop();
            }
            times.push(t.elapsed().as_nanos() as f64);
        }
    });
    median(times)
}
