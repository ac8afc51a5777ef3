//! Single-threaded timings of one CD-1 training step, for the side-by-side
//! comparison with numpy and scikit-learn in `benches/peers/run.sh`.
//!
//! ```text
//! cargo run --release --example train_timings
//! ```
//!
//! The workload (784 visible × 500 hidden, batch 100, CD-1, Bernoulli
//! visible units, learning rate 0.01, one thread) is described in
//! `benches/support/mod.rs`; `benches/peers/numpy_train.py` rebuilds the same
//! batch and initial parameters bit for bit.
//!
//! Each round takes one sample of each of: the five bare products of a CD-1
//! step (`train/five_sgemm` of the criterion bench), a step with NReLU
//! hidden units, a step with Bernoulli hidden units, and an NReLU step with
//! momentum 0.5 and weight decay 1e-4 (bench `cd1_momentum`), one after the
//! other, so that all of them see the same machine load. Then the NReLU
//! step on two threads against one thread, in alternating blocks of
//! back-to-back steps (bench `cd1_2threads`, with `one_thread_ns` and
//! `speedup`, the ratio of the two medians, and `paired_speedup_median`,
//! `_min` and `_max` over the ratios of each round's pair of blocks; also
//! each round's ratio and the core-to-core round trip around its
//! two-thread block, and the median ratio of the rounds whose round trip
//! stayed at most 250 ns; see `scaling`; `-- --scaling-only` runs only that
//! part and `-- --no-scaling` all but that part), together with
//! `cd1_2copies`, two independent one-thread trainers stepping at once (the
//! machine's own ceiling for this work); it needs both cores, so run it on
//! an otherwise idle machine. A sample is one untimed call (which brings
//! the workload's buffers back into cache, as in a training loop or a
//! criterion run) followed by [`REPS`] timed calls. The reported figure is
//! the median over rounds of the time per call. Prints one JSON object per
//! line: first `{"info": "rust", ..}` (fingerprints, kernel path, rounds),
//! then `{"bench": .., "hidden": .., "impl": "ours", "median_ns": ..}` lines;
//! the step lines also carry `"five_sgemm_ns"` and `"vs_five_sgemm"`, the
//! ratio of the step median to the five-product median of the same rounds.
//!
//! `-- --centering-tempering` runs only the costs of centring and of
//! parallel tempering, on one thread with Bernoulli hidden units: each
//! round takes one sample of a plain CD-1 step, a centred CD-1 step
//! (`TrainConfig::with_centering`, rate 0.01), a centred CD-1 step with
//! momentum and decay, and PCD-1 steps with K = 1, 2, 4 and 8 tempered
//! chains, timing each sample in on-CPU time of the thread
//! (`/proc/thread-self/schedstat`; wall time where it is missing), so that
//! time spent descheduled by other jobs is left out; it prints the
//! medians, and per round the ratio of each to its
//! reference sampled in the same round (centred / plain, PT-K / PCD-1),
//! with their median, minimum and maximum over rounds, and each one's
//! fastest sample and the ratio of the fastest samples (the figures least
//! disturbed on a loaded machine). `-- --centering-tempering
//! --centering-only` runs only the four centring workloads; `-- --wall`
//! times them in wall time instead (see [`sample_cpu`]).

use nrelu_rbm::kernels::active_path;
use nrelu_rbm::units::HiddenUnit;
use std::hint::black_box;
use std::time::Instant;

#[path = "../support/mod.rs"]
mod support;

use support::{FAR_CORES_NS, Step, core_to_core_ns, median};

/// Timed rounds (each round: one sample of each workload).
const ROUNDS: usize = 75;
/// Calls per sample; each sample follows one untimed call, so that it times
/// the workload with its own buffers in cache, as in a training loop.
const REPS: u32 = 4;
/// Untimed calls of each workload before the first round.
const WARM_UP: usize = 10;

/// A named workload.
type Job<'a> = (&'static str, Box<dyn FnMut() + 'a>);

/// Nanoseconds per call of `f`: one untimed call, then [`REPS`] timed ones.
fn sample(f: &mut impl FnMut()) -> f64 {
    f();
    let t = Instant::now();
    for _ in 0..REPS {
        f();
    }
    t.elapsed().as_nanos() as f64 / f64::from(REPS)
}

fn main() {
    if std::env::args().any(|a| a == "--centering-tempering" || a == "--centering-only") {
        centering_and_tempering();
        return;
    }
    if std::env::args().any(|a| a == "--scaling-only") {
        scaling();
        return;
    }
    let (x, w, c) = support::inputs();
    println!(
        "{{\"info\": \"rust\", \"batch_fingerprint\": {}, \"weights_fingerprint\": {}, \"hidden_bias_fingerprint\": {}, \"active_path\": \"{}\", \"threads\": 1, \"rounds\": {ROUNDS}, \"calls_per_sample\": {REPS}, \"learning_rate\": {}}}",
        support::fingerprint(&x),
        support::fingerprint(&w),
        support::fingerprint(&c),
        active_path(),
        support::LEARNING_RATE,
    );

    let mut five = support::five_products();
    let mut nrelu = Step::new(HiddenUnit::Nrelu, 1);
    let mut bernoulli = Step::new(HiddenUnit::Bernoulli, 1);
    let mut momentum = Step::with_config(HiddenUnit::Nrelu, &support::config_momentum(1));
    let mut jobs: [Job<'_>; 4] = [
        (
            "five_sgemm",
            Box::new(|| {
                five.run();
                black_box(five.outputs());
            }),
        ),
        (
            "nrelu",
            Box::new(|| {
                black_box(nrelu.step());
            }),
        ),
        (
            "bernoulli",
            Box::new(|| {
                black_box(bernoulli.step());
            }),
        ),
        (
            "nrelu_momentum",
            Box::new(|| {
                black_box(momentum.step());
            }),
        ),
    ];
    for (_, f) in jobs.iter_mut() {
        for _ in 0..WARM_UP {
            f();
        }
    }
    let mut times = vec![Vec::with_capacity(ROUNDS); jobs.len()];
    for _ in 0..ROUNDS {
        for ((_, f), t) in jobs.iter_mut().zip(&mut times) {
            t.push(sample(f));
        }
    }
    let names: Vec<&str> = jobs.iter().map(|(n, _)| *n).collect();
    drop(jobs);

    let medians: Vec<f64> = times.into_iter().map(median).collect();
    let floor = medians[0];
    println!(
        "{{\"bench\": \"five_sgemm\", \"hidden\": null, \"impl\": \"ours\", \"median_ns\": {floor:.0}}}"
    );
    for (name, m) in names.iter().zip(&medians).skip(1) {
        let (bench, hidden) = match name.strip_suffix("_momentum") {
            Some(h) => ("cd1_momentum", h),
            None => ("cd1", *name),
        };
        println!(
            "{{\"bench\": \"{bench}\", \"hidden\": \"{hidden}\", \"impl\": \"ours\", \"median_ns\": {m:.0}, \"five_sgemm_ns\": {floor:.0}, \"vs_five_sgemm\": {:.4}}}",
            m / floor
        );
    }

    if !std::env::args().any(|a| a == "--no-scaling") {
        scaling();
    }
}

/// Blocks of [`SCALING_STEPS`] back-to-back steps per scaling sample (about
/// a second on one thread), each after [`SCALING_WARM`] untimed steps.
const SCALING_STEPS: u32 = 200;
const SCALING_WARM: u32 = 20;
/// Alternating one-thread / two-thread block pairs: enough that the host's
/// drift in speed over the run evens out in the median (each pair's own
/// ratio is reported too).
const SCALING_ROUNDS: usize = 9;

/// Two-thread scaling, measured apart from the rounds above: worker threads
/// that sit idle while other jobs run are slow to get going again (a
/// two-thread step interleaved sample by sample with one-thread jobs
/// measures mostly their wake-ups, and slows the jobs around it; see
/// `docs/benchmarks.md`), whereas a training run keeps them busy. So each sample here
/// is a long block of back-to-back steps (after untimed ones), blocks
/// alternate between one and two threads, and the medians of the block
/// means are compared.
///
/// Two kinds of blocks: `cd1_2threads` runs the block inside one
/// `Trainer::in_pool` call, as `train` runs its epochs, and
/// `cd1_2threads_per_call` calls `Trainer::step` from outside the pool, so
/// that every step is handed to the pool on its own.
fn scaling() {
    let mut one = Step::new(HiddenUnit::Nrelu, 1);
    let mut two = Step::new(HiddenUnit::Nrelu, 2);
    let in_pool = |s: &mut Step| {
        black_box(s.steps_in_pool(SCALING_WARM.into()));
        let t = Instant::now();
        black_box(s.steps_in_pool(SCALING_STEPS.into()));
        t.elapsed().as_nanos() as f64 / f64::from(SCALING_STEPS)
    };
    let per_call = |s: &mut Step| {
        for _ in 0..SCALING_WARM {
            black_box(s.step());
        }
        let t = Instant::now();
        for _ in 0..SCALING_STEPS {
            black_box(s.step());
        }
        t.elapsed().as_nanos() as f64 / f64::from(SCALING_STEPS)
    };
    // The machine's own ceiling for this work: two independent one-thread
    // trainers (own model, own buffers) stepping at the same time on the
    // two cores. Its "median_ns" is half the time per step of one copy
    // while the other runs (the wall time per step of the pair's combined
    // throughput), so `speedup` = one_thread_ns / median_ns is the
    // throughput of both copies together relative to one thread (2.0 =
    // perfect), like the two-thread figures.
    let mut copies = [
        Step::new(HiddenUnit::Nrelu, 1),
        Step::new(HiddenUnit::Nrelu, 1),
    ];
    let both = |copies: &mut [Step; 2]| {
        let [a, b] = copies;
        std::thread::scope(|s| {
            let other = s.spawn(|| in_pool(b));
            let mine = in_pool(a);
            let theirs = other.join().expect("copy thread");
            // Both blocks ran at the same time: their mean is the time per
            // step of one copy while the other one runs.
            (mine + theirs) / 2.0
        })
    };
    let (mut t1, mut t2, mut c1, mut c2) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut k1, mut k2) = (Vec::new(), Vec::new());
    // The core-to-core round trip just before and just after each block
    // of the pool's two threads (the larger of the two).
    let (mut lat_t, mut lat_c) = (Vec::new(), Vec::new());
    for _ in 0..SCALING_ROUNDS {
        t1.push(in_pool(&mut one));
        let before = core_to_core_ns();
        t2.push(in_pool(&mut two));
        lat_t.push(before.max(core_to_core_ns()));
        c1.push(per_call(&mut one));
        let before = core_to_core_ns();
        c2.push(per_call(&mut two));
        lat_c.push(before.max(core_to_core_ns()));
        k1.push(in_pool(&mut one));
        k2.push(both(&mut copies) / 2.0);
    }
    for (bench, t1, t2, lat) in [
        ("cd1_2threads", t1, t2, Some(lat_t)),
        ("cd1_2threads_per_call", c1, c2, Some(lat_c)),
        // The copies share nothing, so their round trip is not recorded.
        ("cd1_2copies", k1, k2, None),
    ] {
        // Each round's own ratio: the two blocks of a pair ran back to
        // back, so the host's drift between rounds cancels out of it.
        let pairs: Vec<f64> = t1.iter().zip(&t2).map(|(a, b)| a / b).collect();
        let mut sorted = pairs.clone();
        sorted.sort_by(f64::total_cmp);
        let (lo, hi) = (sorted[0], sorted[sorted.len() - 1]);
        let paired = median(pairs.clone());
        let (m1, m2) = (median(t1), median(t2));
        let round = |v: &[f64], digits: usize| {
            let v: Vec<String> = v.iter().map(|x| format!("{x:.digits$}")).collect();
            v.join(", ")
        };
        let lat_fields = if let Some(lat) = lat {
            // The rounds whose two-thread block ran with the two cores
            // close together (see `support::core_to_core_ns`).
            let near: Vec<f64> = (pairs.iter().zip(&lat))
                .filter(|&(_, &l)| l <= FAR_CORES_NS)
                .map(|(&p, _)| p)
                .collect();
            let far = pairs.len() - near.len();
            let near_median = if near.is_empty() {
                "null".to_string()
            } else {
                format!("{:.4}", median(near))
            };
            format!(
                ", \"round_speedups\": [{}], \"round_core_to_core_ns\": [{}], \"rounds_far_cores\": {far}, \"paired_speedup_median_near_cores\": {near_median}",
                round(&pairs, 4),
                round(&lat, 0)
            )
        } else {
            String::new()
        };
        println!(
            "{{\"bench\": \"{bench}\", \"hidden\": \"nrelu\", \"impl\": \"ours\", \"median_ns\": {m2:.0}, \"one_thread_ns\": {m1:.0}, \"speedup\": {:.4}, \"paired_speedup_median\": {paired:.4}, \"paired_speedup_min\": {lo:.4}, \"paired_speedup_max\": {hi:.4}{lat_fields}, \"steps_per_block\": {SCALING_STEPS}, \"blocks\": {SCALING_ROUNDS}}}",
            m1 / m2
        );
    }
}

/// Nanoseconds this thread has spent on a CPU (Linux:
/// `/proc/thread-self/schedstat`), or `None` elsewhere.
fn cpu_ns() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

/// Like [`sample`], in on-CPU nanoseconds per call when the system gives
/// them (time spent descheduled by other jobs on a shared machine is left
/// out), else, or with `-- --wall`, in wall time. (Some virtual machines
/// count on-CPU time in whole scheduler ticks, too coarse for a sample of
/// a few milliseconds; `--wall` is for those, on a quiet host.)
fn sample_cpu(f: &mut impl FnMut()) -> f64 {
    f();
    let wall = std::env::args().any(|a| a == "--wall");
    let (c, t) = (if wall { None } else { cpu_ns() }, Instant::now());
    for _ in 0..REPS {
        f();
    }
    match (c, cpu_ns()) {
        (Some(a), Some(b)) => (b - a) / f64::from(REPS),
        _ => t.elapsed().as_nanos() as f64 / f64::from(REPS),
    }
}

/// The smallest of `v`: on a loaded machine, the sample least disturbed.
fn fastest(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::INFINITY, f64::min)
}

/// The costs of centring and of parallel tempering (see the module docs);
/// only centring's with `-- --centering-only`.
fn centering_and_tempering() {
    let only_centring = std::env::args().any(|a| a == "--centering-only");
    use nrelu_rbm::train::{DEFAULT_CENTERING_RATE, Sampling};
    let centred =
        |cfg: nrelu_rbm::train::TrainConfig| cfg.with_centering(Some(DEFAULT_CENTERING_RATE));
    let pcd = |k: usize| {
        support::config(1)
            .with_sampling(Sampling::Pcd(1))
            .with_tempering(k)
    };
    let b = HiddenUnit::Bernoulli;
    let mut steps = [
        ("cd1", Step::with_config(b, &support::config(1))),
        (
            "cd1_centered",
            Step::with_config(b, &centred(support::config(1))),
        ),
        (
            "cd1_momentum",
            Step::with_config(b, &support::config_momentum(1)),
        ),
        (
            "cd1_momentum_centered",
            Step::with_config(b, &centred(support::config_momentum(1))),
        ),
        ("pcd1", Step::with_config(b, &pcd(1))),
        ("pcd1_pt2", Step::with_config(b, &pcd(2))),
        ("pcd1_pt4", Step::with_config(b, &pcd(4))),
        ("pcd1_pt8", Step::with_config(b, &pcd(8))),
    ];
    // Each workload's reference: the plain step of the same kind.
    let reference = [0, 0, 2, 2, 4, 4, 4, 4];
    let steps = &mut steps[..if only_centring { 4 } else { 8 }];
    for (_, s) in steps.iter_mut() {
        for _ in 0..WARM_UP {
            black_box(s.step());
        }
    }
    let mut times = vec![Vec::with_capacity(ROUNDS); steps.len()];
    for _ in 0..ROUNDS {
        for ((_, s), t) in steps.iter_mut().zip(&mut times) {
            t.push(sample_cpu(&mut || {
                black_box(s.step());
            }));
        }
    }
    for (i, (name, _)) in steps.iter().enumerate() {
        let r = reference[i];
        let mut ratios: Vec<f64> = times[i].iter().zip(&times[r]).map(|(a, b)| a / b).collect();
        ratios.sort_by(f64::total_cmp);
        println!(
            "{{\"bench\": \"{name}\", \"hidden\": \"bernoulli\", \"median_ns\": {:.0}, \"fastest_ns\": {:.0}, \"reference\": \"{}\", \"fastest_ratio\": {:.4}, \"ratio_median\": {:.4}, \"ratio_min\": {:.4}, \"ratio_max\": {:.4}}}",
            median(times[i].clone()),
            fastest(&times[i]),
            steps[r].0,
            fastest(&times[i]) / fastest(&times[r]),
            median(ratios.clone()),
            ratios[0],
            ratios[ratios.len() - 1],
        );
    }
}
