//! How a parallel region forks its units over the threads: halving them
//! recursively with [`join_spin`] and cutting each node where its learned
//! [`Balance`] says, so that both sides of a cut finish together.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long either half of a [`join_spin`] spins for the other before it
/// goes back to rayon (which may park the thread).
const SPIN_LIMIT: Duration = Duration::from_micros(200);

/// Whether the current pool has no more threads than the machine has cores:
/// only then can a spinning thread not be taking the core the other half
/// needs.
fn may_spin() -> bool {
    static CORES: OnceLock<usize> = OnceLock::new();
    let cores = *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    rayon::current_num_threads() <= cores
}

/// `rayon::join(a, b)`, except that whichever half finishes first, when the
/// two run on different threads, spins until the other is done (for at
/// most [`SPIN_LIMIT`]) instead of going back to rayon, which soon parks an
/// idle thread. Waking a parked thread takes a system call and a trip
/// through the scheduler, and a step would pay it twice per region: at the
/// end of a layer product when the calling thread had to be woken by the
/// one that finished `b`, and at the start of the next product when the
/// other thread had been parked while the caller finished `a`
/// (`docs/benchmarks.md` measures the cost). With more pool threads than cores
/// this is plain `rayon::join` (a spinning thread could hold the core the
/// other half needs). Nothing is computed differently; only who waits how.
fn join_spin<A, B, RA, RB>(a: A, b: B) -> (RA, RB)
where
    A: FnOnce() -> RA + Send,
    B: FnOnce() -> RB + Send,
    RA: Send,
    RB: Send,
{
    if !may_spin() {
        return rayon::join(a, b);
    }
    let spin_until = |flag: &AtomicBool| {
        let t = Instant::now();
        while !flag.load(Ordering::Acquire) && t.elapsed() < SPIN_LIMIT {
            for _ in 0..32 {
                std::hint::spin_loop();
            }
        }
    };
    let caller = rayon::current_thread_index();
    let b_started = AtomicBool::new(false);
    let a_done = AtomicBool::new(false);
    let b_done = AtomicBool::new(false);
    rayon::join(
        || {
            let r = a();
            a_done.store(true, Ordering::Release);
            // Only when `b` has started: if not, rayon will run it here, so
            // waiting for it would only burn the time limit. (If it ran on
            // this thread inside `a`, it is done.)
            if b_started.load(Ordering::Acquire) {
                spin_until(&b_done);
            }
            r
        },
        || {
            b_started.store(true, Ordering::Release);
            let r = b();
            b_done.store(true, Ordering::Release);
            // Only on another thread than `a`'s: on the same one `b` ran
            // either after `a` (done) or inside it, while `a` waited on a
            // nested join, and `a` cannot finish before `b` returns.
            if rayon::current_thread_index() != caller {
                spin_until(&a_done);
            }
            r
        },
    )
}

/// Where a parallel region cuts its units between threads, learned from
/// how long each side took in earlier calls.
///
/// A region's work is a row of equal *units* (tiles of 16 columns of a
/// layer product, blocks of rows with their random streams, tiles of 16
/// rows of `W`), and [`Fork`] halves the threads recursively, giving
/// each side of a cut a number of units. Every kernel a region calls gives
/// the same bits however its units are cut (see the module docs), so the
/// cut can move from call to call: after each call the side that finished
/// first gets a little more of the next one. Even cuts need not be even in
/// time: a ragged edge tile, a thread that also carries work not split by
/// units, or a core the host shares with other work make one side slower,
/// and which side that is can change with the host's load
/// (`docs/benchmarks.md`).
pub(crate) struct Balance {
    /// For each inner node of the fork tree (heap order: the root is 1, the
    /// children of node `i` are `2i` and `2i + 1`), the share of the node's
    /// units that goes to its left side, as `f64` bits; 0 until the node
    /// has been measured once.
    shares: Vec<AtomicU64>,
}

/// How far each measurement moves a cut towards the balance it implies.
const BALANCE_GAIN: f64 = 0.1;

/// The most units one measurement may move a cut's target (so that one
/// call slowed down by the host cannot throw the next ones off balance).
const BALANCE_MAX_UNITS: f64 = 1.0;

impl Balance {
    /// A cut for every node of a fork over `threads` threads, starting
    /// even (each side's share of the units is its share of the threads).
    pub(crate) fn new(threads: usize) -> Balance {
        Balance {
            shares: (0..2 * threads.max(1)).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    /// The left side's share of `node`'s units: learned, or `even`.
    fn share(&self, node: usize, even: f64) -> f64 {
        match self.shares.get(node).map(|s| s.load(Ordering::Relaxed)) {
            Some(bits) if bits != 0 => f64::from_bits(bits),
            _ => even,
        }
    }

    /// Moves `node`'s share (`share` in this call, which gave `left` of
    /// `units` units to the left side) towards the share at which both
    /// sides would have finished together, had each gone at the speed it
    /// went: units per second `left / tl` and `(units − left) / tr`. The
    /// share moves unrounded while each call gets it rounded to whole
    /// units, so a share between two cuts dithers between them.
    fn learn(&self, node: usize, share: f64, units: usize, left: usize, tl: f64, tr: f64) {
        let Some(slot) = self.shares.get(node) else {
            return;
        };
        if !(tl > 0.0 && tr > 0.0) {
            return;
        }
        let (rl, rr) = (left as f64 / tl, (units - left) as f64 / tr);
        let reach = BALANCE_MAX_UNITS / units as f64;
        let target = (rl / (rl + rr)).clamp(share - reach, share + reach);
        let next = (share + BALANCE_GAIN * (target - share)).clamp(0.0, 1.0);
        // Never 0 bits (which means "not measured"): +0.0 becomes the
        // smallest positive share, which still rounds to no units.
        slot.store(next.to_bits().max(1), Ordering::Relaxed);
    }
}

/// A fork over the threads of the current rayon pool: the learned cuts
/// `bal`, how to split the data (`split(data, k)` splits off the first `k`
/// units) and the work `f(first_unit, data)`, shared by every node of the
/// fork tree.
pub(super) struct Fork<'a, S, F> {
    pub(super) bal: &'a Balance,
    pub(super) split: &'a S,
    pub(super) f: &'a F,
}

impl<S, F> Fork<'_, S, F> {
    /// Runs `f` at most once per thread of a fork over `threads` threads,
    /// on `units` units of `data` (the first of which is unit `first`):
    /// the threads are halved recursively with [`join_spin`], each half
    /// getting the number of units `bal` has learned for its `node` (at
    /// least one each), and each side is timed to its end (from the start
    /// of the fork, so a late start counts) to teach `bal` the next cut.
    /// With one thread or one unit, `f` runs once on all of `data`.
    pub(super) fn run<T>(&self, node: usize, threads: usize, first: usize, units: usize, data: T)
    where
        T: Send,
        S: Fn(T, usize) -> (T, T) + Sync,
        F: Fn(usize, T) + Sync,
    {
        if threads <= 1 || units <= 1 {
            (self.f)(first, data);
            return;
        }
        let lt = threads / 2;
        let share = self.bal.share(node, lt as f64 / threads as f64);
        let left = ((share * units as f64).round() as usize).clamp(1, units - 1);
        let (l, r) = (self.split)(data, left);
        let t0 = Instant::now();
        let caller = rayon::current_thread_index();
        let (tl, (tr, stolen)) = join_spin(
            || {
                self.run(2 * node, lt, first, left, l);
                t0.elapsed()
            },
            || {
                let rt = threads - lt;
                self.run(2 * node + 1, rt, first + left, units - left, r);
                (t0.elapsed(), rayon::current_thread_index() != caller)
            },
        );
        // Both sides on one thread, one after the other: no measure of speed.
        if stolen {
            let (tl, tr) = (tl.as_secs_f64(), tr.as_secs_f64());
            self.bal.learn(node, share, units, left, tl, tr);
        }
    }
}

#[cfg(test)]
impl Balance {
    /// Sets every cut to a share drawn from `seed` (a splitmix64 state), so
    /// that a test can run a region with its units cut anywhere.
    pub(crate) fn scramble(&self, seed: &mut u64) {
        for s in &self.shares {
            *seed = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = *seed;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            let u = ((z >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
            s.store(u.to_bits(), Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cut_moves_towards_the_slower_side_by_a_bounded_step() {
        let bal = Balance::new(2);
        assert_eq!(bal.share(1, 0.5), 0.5);
        // 16 of 32 units each; the left took twice as long.
        bal.learn(1, 0.5, 32, 16, 2.0, 1.0);
        let s = bal.share(1, 0.5);
        // The target (1/3) is clamped to BALANCE_MAX_UNITS units away, and
        // BALANCE_GAIN of the way there is taken.
        let want = 0.5 - BALANCE_GAIN * BALANCE_MAX_UNITS / 32.0;
        assert!((s - want).abs() < 1e-12, "{s}");
        // Both sides finished together: no move, however uneven the cut.
        bal.learn(1, 0.25, 32, 8, 1.0, 1.0);
        assert!((bal.share(1, 0.5) - 0.25).abs() < 1e-12);
        // No time measured: nothing learned.
        bal.learn(1, 0.25, 32, 8, 0.0, 1.0);
        assert!((bal.share(1, 0.5) - 0.25).abs() < 1e-12);
        // The left side finished first: it gets more.
        bal.learn(1, 0.25, 32, 8, 1.0, 3.0);
        assert!(bal.share(1, 0.5) > 0.25);
    }

    #[test]
    fn learning_balances_sides_of_different_speeds() {
        // A left side 30 % slower per unit than the right, with a fixed
        // start-up cost on the right: iterate the learning rule on the
        // times that model gives and check that both finish together to
        // within one unit.
        let bal = Balance::new(2);
        let units = 49;
        let time = |l: usize| (1.3 * l as f64, 2.0 + (units - l) as f64);
        for _ in 0..200 {
            let share = bal.share(1, 0.5);
            let l = ((share * units as f64).round() as usize).clamp(1, units - 1);
            let (tl, tr) = time(l);
            bal.learn(1, share, units, l, tl, tr);
        }
        let l = (bal.share(1, 0.5) * units as f64).round() as usize;
        let (tl, tr) = time(l);
        assert!((tl - tr).abs() <= 1.3, "left {l} units: {tl} against {tr}");
    }
}
