//! `rbm bench`: a quick table of this machine's kernel and training
//! throughput.
//!
//! * **Kernels**: sigmoid, Bernoulli, NReLU, SSU and standard-normal
//!   sampling on [`KERNEL_ELEMENTS`] mixed-range inputs (x uniform in
//!   [−12, 12]), on the scalar path and on the active path.
//! * **Training**: one CD-1 step of a 784 × 500 RBM on a batch of 100
//!   rows, on one thread, for each hidden unit type, against the bound set
//!   by the step's five bare matrix products (`X·W`, `H·Wᵀ`, `V·W`, `Xᵀ·H`,
//!   `Vᵀ·H`, through the same padded `Kernels::product` and views as the trainer) timed the
//!   same way.
//! * **Threads**: the NReLU step on all cores against one thread, in
//!   alternating blocks of back-to-back steps.
//!
//! Every figure is a median over samples taken with [`Instant`]; each
//! sample is one untimed call (to bring its buffers into cache) followed by
//! a few timed calls. The training workloads are interleaved round by round
//! so that all of them see the same machine load. `docs/benchmarks.md`
//! has the criterion and peer (numpy, scikit-learn) measurements.

use super::CliError;
use crate::kernels::{Kernels, Path, Stream, active_path};
use crate::train::{TrainConfig, Trainer};
use crate::units::HiddenUnit;
use crate::{Rbm, VisibleUnit};
use five_products::FiveProducts;
use std::fmt::Write as _;
use std::hint::black_box;
use std::io::Write;
use std::time::Instant;

mod five_products;

/// Inputs per kernel call.
pub const KERNEL_ELEMENTS: usize = 16_384;
/// Visible units of the training step.
pub const STEP_VISIBLE: usize = 784;
/// Hidden units of the training step.
pub const STEP_HIDDEN: usize = 500;
/// Rows per mini-batch of the training step.
pub const STEP_BATCH: usize = 100;

/// Options of `rbm bench`.
#[derive(Clone, Debug, clap::Args)]
pub struct BenchArgs {
    /// Fewer samples: 1-2 s instead of about 10, noisier medians
    #[arg(long)]
    pub quick: bool,
}

/// Samples per measurement and timed calls per sample.
#[derive(Clone, Copy, Debug)]
struct Plan {
    kernel_samples: usize,
    kernel_calls: u32,
    step_rounds: usize,
    step_calls: u32,
    /// Alternating one-thread / all-cores block pairs, and steps per block.
    scaling_blocks: usize,
    scaling_steps: u32,
}

impl Plan {
    fn new(quick: bool) -> Plan {
        if quick {
            Plan {
                kernel_samples: 9,
                kernel_calls: 4,
                step_rounds: 7,
                step_calls: 1,
                scaling_blocks: 3,
                scaling_steps: 30,
            }
        } else {
            Plan {
                kernel_samples: 51,
                kernel_calls: 8,
                step_rounds: 60,
                step_calls: 2,
                scaling_blocks: 5,
                scaling_steps: 100,
            }
        }
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Seconds per call of `f`: one untimed call, then `calls` timed ones.
fn sample(f: &mut impl FnMut(), calls: u32) -> f64 {
    f();
    let t = Instant::now();
    for _ in 0..calls {
        f();
    }
    t.elapsed().as_secs_f64() / f64::from(calls)
}

/// Deterministic values in [0, 1) (a 64-bit LCG, top 24 bits).
fn unit_values(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (s >> 40) as f32 / (1u64 << 24) as f32
        })
        .collect()
}

/// The kernels of the table, by name.
const KERNELS: [&str; 5] = ["sigmoid", "bernoulli", "nrelu", "ssu", "normal"];

/// Median million elements per second of kernel `name` on `k`.
fn kernel_rate(k: Kernels, name: &str, x: &[f32], plan: Plan) -> f64 {
    let mut out = vec![0.0f32; x.len()];
    let mut s = Stream::new(1, 0);
    let mut call = || {
        match name {
            "sigmoid" => k.sigmoid(x, &mut out),
            "bernoulli" => k.bernoulli(x, &mut out, &mut s),
            "nrelu" => k.nrelu(x, &mut out, &mut s),
            "ssu" => k.ssu(x, &mut out, &mut s),
            _ => k.standard_normal(&mut s, &mut out),
        }
        black_box(&mut out);
    };
    let secs = median(
        (0..plan.kernel_samples)
            .map(|_| sample(&mut call, plan.kernel_calls))
            .collect(),
    );
    x.len() as f64 / secs / 1e6
}

/// A model, its trainer and a batch: one CD-1 step per call.
struct Step {
    rbm: Rbm,
    trainer: Trainer,
    batch: Vec<f32>,
}

impl Step {
    fn new(unit: HiddenUnit, x: &[f32], threads: usize) -> Result<Step, CliError> {
        let rbm = Rbm::new(STEP_VISIBLE, STEP_HIDDEN, VisibleUnit::Bernoulli, unit, 1)?;
        let cfg = TrainConfig {
            batch_size: STEP_BATCH,
            learning_rate: 0.01,
            threads,
            ..TrainConfig::default_for(VisibleUnit::Bernoulli)
        };
        let trainer = Trainer::new(&rbm, &cfg)?;
        Ok(Step {
            rbm,
            trainer,
            batch: x.to_vec(),
        })
    }

    fn run(&mut self) {
        // A step cannot fail on this finite batch unless it diverges,
        // which a rate of 0.01 on data in [0, 1) does not.
        let err = self.trainer.step(&mut self.rbm, &self.batch);
        black_box(err.ok());
    }
}

/// The processor's name from /proc/cpuinfo, if there is one.
fn cpu_name() -> Option<String> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    info.lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map(|s| s.trim().to_owned())
}

/// Runs `rbm bench` and prints its tables on stdout.
///
/// # Errors
/// [`CliError::Io`] if stdout cannot be written.
pub fn run(args: &BenchArgs) -> Result<(), CliError> {
    let plan = Plan::new(args.quick);
    print(&header(args.quick))?;
    print(&kernel_table(plan))?;
    let batch = unit_values(STEP_BATCH * STEP_VISIBLE, 3);
    print(&step_table(&batch, plan)?)?;
    let mut out = String::new();
    scaling(&batch, plan, &mut out)?;
    print(&out)
}

/// The first line: CPU, active kernel path and the paths this CPU has.
fn header(quick: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "rbm bench{}: CPU {}, kernel path {} (of {}), one thread\n",
        if quick { " --quick" } else { "" },
        cpu_name().unwrap_or_else(|| "unknown".into()),
        active_path(),
        Path::available()
            .iter()
            .map(|p| p.name())
            .collect::<Vec<_>>()
            .join(", ")
    );
    out
}

/// The kernel table: every kernel's rate on the scalar and on the active
/// path, over mixed-range inputs (x uniform in [−12, 12]).
fn kernel_table(plan: Plan) -> String {
    let active = Kernels::active();
    let scalar = Kernels::new(Path::Scalar).expect("the scalar path always runs");
    let x: Vec<f32> = unit_values(KERNEL_ELEMENTS, 1)
        .iter()
        .map(|u| 24.0 * u - 12.0)
        .collect();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Kernels: {KERNEL_ELEMENTS} inputs uniform in [-12, 12], million elements per second \
         (median of {} samples)\n",
        plan.kernel_samples
    );
    let _ = writeln!(out, "| kernel | scalar | {} | speed-up |", active.path());
    let _ = writeln!(out, "|---|---:|---:|---:|");
    for name in KERNELS {
        let s = kernel_rate(scalar, name, &x, plan);
        let a = kernel_rate(active, name, &x, plan);
        let _ = writeln!(out, "| {name} | {s:.0} | {a:.0} | {:.2}x |", a / s);
    }
    out
}

/// The hidden units of the training table, in its row order.
fn step_units() -> [HiddenUnit; 4] {
    [
        HiddenUnit::Bernoulli,
        HiddenUnit::Nrelu,
        HiddenUnit::Ssu,
        HiddenUnit::binomial_of::<4>(),
    ]
}

/// The training table: one CD-1 step of each hidden unit on `batch`
/// against the five bare products it is bounded by.
fn step_table(batch: &[f32], plan: Plan) -> Result<String, CliError> {
    let (b, nv, nh) = (STEP_BATCH, STEP_VISIBLE, STEP_HIDDEN);
    let units = step_units();
    let (five_s, step_s) = time_steps(batch, &units, plan)?;
    let flops = 5.0 * 2.0 * (b * nv * nh) as f64;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\nTraining: one CD-1 step, {nv} visible x {nh} hidden units, batch {b}, one thread \
         (median of {} rounds)\n",
        plan.step_rounds
    );
    let _ = writeln!(
        out,
        "| workload | ms per step | rows per second | GFLOP/s of the 5 products | vs five sgemm |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|");
    let row = |out: &mut String, name: &str, secs: f64| {
        let _ = writeln!(
            out,
            "| {name} | {:.2} | {:.0} | {:.1} | {:.2}x |",
            secs * 1e3,
            b as f64 / secs,
            flops / secs / 1e9,
            secs / five_s
        );
    };
    row(&mut out, "five bare sgemm (the bound)", five_s);
    for (u, secs) in units.iter().zip(step_s) {
        row(&mut out, &format!("CD-1 step, {u} hidden"), secs);
    }
    let _ = writeln!(
        out,
        "\n'vs five sgemm' is the step's time over the five separate products' time. The \
         step runs the two gradient products as one call with twice the inner dimension \
         (one pass over the gradient instead of two), so it can come in under 1.00x even \
         though it also samples, updates and checks every weight."
    );
    Ok(out)
}

/// Median seconds of the five bare products and of one step of each of
/// `units` on `batch`. After a warm-up, each round takes one sample of
/// every workload, so slow drift of the machine hits all of them alike.
fn time_steps(
    batch: &[f32],
    units: &[HiddenUnit],
    plan: Plan,
) -> Result<(f64, Vec<f64>), CliError> {
    let (b, nv, nh) = (STEP_BATCH, STEP_VISIBLE, STEP_HIDDEN);
    let w: Vec<f32> = unit_values(nv * nh, 4)
        .iter()
        .map(|u| 0.02 * (u - 0.5))
        .collect();
    let mut five = FiveProducts::new(
        b,
        nv,
        nh,
        batch.to_vec(),
        w,
        unit_values(b * nh, 5),
        unit_values(b * nv, 6),
    );
    let mut run_five = || {
        five.run();
        black_box(five.outputs());
    };
    let mut steps = units
        .iter()
        .map(|&u| Step::new(u, batch, 1))
        .collect::<Result<Vec<_>, _>>()?;
    for _ in 0..2 {
        run_five();
        steps.iter_mut().for_each(Step::run);
    }
    let mut t_five = Vec::new();
    let mut t_steps = vec![Vec::new(); steps.len()];
    for _ in 0..plan.step_rounds {
        t_five.push(sample(&mut run_five, plan.step_calls));
        for (t, s) in t_steps.iter_mut().zip(steps.iter_mut()) {
            t.push(sample(&mut || s.run(), plan.step_calls));
        }
    }
    Ok((median(t_five), t_steps.into_iter().map(median).collect()))
}

/// The NReLU step on all cores against one thread, in alternating blocks of
/// back-to-back steps, each block inside the trainer's pool as `train` runs
/// (idle worker threads are slow to wake, so a block keeps them busy as a
/// training run does). Skipped on one core.
fn scaling(batch: &[f32], plan: Plan, out: &mut String) -> Result<(), CliError> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if cores < 2 {
        let _ = writeln!(
            out,
            "
Threads: one core, no scaling to measure."
        );
        return Ok(());
    }
    let mut one = Step::new(HiddenUnit::Nrelu, batch, 1)?;
    let mut all = Step::new(HiddenUnit::Nrelu, batch, cores)?;
    // Each block runs inside the trainer's pool, as `train` runs its
    // epochs (`Trainer::in_pool`): no hand-off to the pool per step.
    let block = |s: &mut Step| {
        let (rbm, batch) = (&mut s.rbm, &s.batch);
        s.trainer.in_pool(|t| {
            let mut step = || {
                black_box(t.step(rbm, batch).ok());
            };
            for _ in 0..plan.scaling_steps / 2 {
                step();
            }
            sample(&mut step, plan.scaling_steps)
        })
    };
    let (mut t1, mut tn) = (Vec::new(), Vec::new());
    for _ in 0..plan.scaling_blocks {
        t1.push(block(&mut one));
        tn.push(block(&mut all));
    }
    let (m1, mn) = (median(t1), median(tn));
    let _ = writeln!(
        out,
        "\nThreads: the NReLU step on {cores} threads against one ({} alternating blocks of {} \
         steps)\n\n| threads | ms per step | rows per second | speed-up |\n|---:|---:|---:|---:|\n\
         | 1 | {:.2} | {:.0} | 1.00x |\n| {cores} | {:.2} | {:.0} | {:.2}x |",
        plan.scaling_blocks,
        plan.scaling_steps,
        m1 * 1e3,
        STEP_BATCH as f64 / m1,
        mn * 1e3,
        STEP_BATCH as f64 / mn,
        m1 / mn
    );
    let _ = writeln!(
        out,
        "\nThe same seed gives bit-identical weights on any number of threads."
    );
    Ok(())
}

fn print(s: &str) -> Result<(), CliError> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(s.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|e| CliError::io("cannot write to stdout", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Plan {
        /// One of everything: the smallest plan that runs each workload.
        fn once() -> Plan {
            Plan {
                kernel_samples: 1,
                kernel_calls: 1,
                step_rounds: 1,
                step_calls: 1,
                scaling_blocks: 1,
                scaling_steps: 1,
            }
        }
    }

    #[test]
    fn the_five_products_fill_their_outputs() {
        let (b, v, h) = (4, 6, 3);
        let mut p = FiveProducts::new(
            b,
            v,
            h,
            vec![0.5; b * v],
            vec![0.1; v * h],
            vec![1.0; b * h],
            vec![0.25; b * v],
        );
        p.run();
        let (up, down, grad) = p.outputs();
        assert_eq!((up.len(), down.len(), grad.len()), (b * h, b * v, v * h));
    }

    #[test]
    fn medians_and_inputs() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), 3.0);
        let u = unit_values(1000, 9);
        assert!(u.iter().all(|v| (0.0..1.0).contains(v)));
        assert_eq!(u, unit_values(1000, 9));
        assert_ne!(u, unit_values(1000, 10));
    }

    #[test]
    fn the_threads_table_is_printed() {
        let plan = Plan::once();
        let batch = unit_values(STEP_BATCH * STEP_VISIBLE, 3);
        let mut out = String::new();
        scaling(&batch, plan, &mut out).unwrap();
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        if cores >= 2 {
            assert!(out.contains("| threads | ms per step"), "{out}");
            assert!(out.contains(&format!("| {cores} | ")), "{out}");
        } else {
            assert!(out.contains("one core"), "{out}");
        }
    }

    #[test]
    fn every_kernel_of_the_table_runs() {
        let plan = Plan::once();
        let x: Vec<f32> = unit_values(64, 1).iter().map(|u| 24.0 * u - 12.0).collect();
        for name in KERNELS {
            assert!(
                kernel_rate(Kernels::active(), name, &x, plan) > 0.0,
                "{name}"
            );
        }
    }
}
