//! How the host's placement of two threads on cores changes two-thread
//! training.
//!
//! ```text
//! cargo run --release --example placement_probe [-- CHUNKS]
//! ```
//!
//! Repeats, `CHUNKS` times (default 200, about 25 s): 20 two-thread CD-1
//! steps of the `train_timings` workload inside one `Trainer::in_pool`
//! call (the *pool*), then 10 steps each of two independent one-thread
//! trainers at the same time (the *copies*, which share no data), then the
//! core-to-core round trip (an atomic bounced 2000 times between two
//! threads, median). Each chunk takes about 0.1 s, so all three see the
//! same placement. Prints one JSON line per chunk, then one summary line
//! per class of round trip: `near` (at most 250 ns) and `far`.
//!
//! On a virtual machine the host may run the two vCPUs close together
//! (sharing a cache) for a while and far apart for spells of seconds. The
//! copies share no data and barely notice; the pool's two threads, which
//! in every parallel region read what the other thread wrote (the
//! weights, the batch, the hidden and visible states), slow down in the
//! far spells, and this probe measures by how much
//! (`docs/benchmarks.md` records the results). On a machine with more
//! than two cores the probe's threads may land on any pair of them.

use nrelu_rbm::units::HiddenUnit;
use std::hint::black_box;
use std::time::Instant;

#[path = "../support/mod.rs"]
mod support;

use support::{FAR_CORES_NS, Step, core_to_core_ns, median};

fn main() {
    let chunks: usize = match std::env::args().nth(1) {
        None => 200,
        Some(s) => match s.parse() {
            Ok(n) if n > 0 => n,
            _ => {
                eprintln!("placement_probe: CHUNKS must be a positive integer, not {s:?}");
                std::process::exit(2);
            }
        },
    };
    let mut pool = Step::new(HiddenUnit::Nrelu, 2);
    let mut copies = [
        Step::new(HiddenUnit::Nrelu, 1),
        Step::new(HiddenUnit::Nrelu, 1),
    ];
    black_box(pool.steps_in_pool(20));
    let t0 = Instant::now();
    let mut rows = Vec::with_capacity(chunks);
    for _ in 0..chunks {
        let t = Instant::now();
        black_box(pool.steps_in_pool(20));
        let pool_ns = t.elapsed().as_nanos() as f64 / 20.0;
        let [a, b] = &mut copies;
        let t = Instant::now();
        std::thread::scope(|s| {
            s.spawn(|| black_box(b.steps_in_pool(10)));
            black_box(a.steps_in_pool(10));
        });
        // Wall time per step of the pair's combined throughput (20 steps).
        let copies_ns = t.elapsed().as_nanos() as f64 / 20.0;
        let trip = core_to_core_ns();
        println!(
            "{{\"t_s\": {:.3}, \"pool_ns\": {pool_ns:.0}, \"copies_ns\": {copies_ns:.0}, \"pool_over_copies\": {:.4}, \"core_to_core_ns\": {trip:.0}}}",
            t0.elapsed().as_secs_f64(),
            pool_ns / copies_ns
        );
        rows.push((pool_ns, copies_ns, trip));
    }
    for (class, far) in [("near", false), ("far", true)] {
        let sel: Vec<_> = rows
            .iter()
            .filter(|r| (r.2 > FAR_CORES_NS) == far)
            .collect();
        if sel.is_empty() {
            println!("{{\"class\": \"{class}\", \"chunks\": 0}}");
            continue;
        }
        let m = |f: fn(&(f64, f64, f64)) -> f64| median(sel.iter().map(|r| f(r)).collect());
        println!(
            "{{\"class\": \"{class}\", \"chunks\": {}, \"median_core_to_core_ns\": {:.0}, \"median_pool_ns\": {:.0}, \"median_copies_ns\": {:.0}, \"median_pool_over_copies\": {:.4}}}",
            sel.len(),
            m(|r| r.2),
            m(|r| r.0),
            m(|r| r.1),
            m(|r| r.0 / r.1)
        );
    }
}
