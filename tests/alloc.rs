//! The training steady state allocates nothing of its own: all buffers, the
//! thread pool and the report are allocated before the first step. The one
//! allocation left per product is matrixmultiply's packing buffer, which it
//! allocates inside every `sgemm` call (it has no API to pass a workspace).
//! The AVX-512 path computes products of at most 256 rows (all of them
//! here) with the crate's own kernel, whose packing buffer is per thread and
//! grown once. So after a warm-up run, a run of 4 epochs makes exactly
//! 3 × (sgemm calls per epoch) more allocations than a run of 1 epoch on
//! the other paths, none more on the AVX-512 path, and not one more.

use nrelu_rbm::kernels::{Path, active_path};
use nrelu_rbm::train::{Sampling, TrainConfig, train};
use nrelu_rbm::units::HiddenUnit;
use nrelu_rbm::{Rbm, VisibleUnit};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;
static ALLOCS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// Only allocations made on the measuring thread count: the test
    /// harness's own threads allocate at unpredictable times. (Training runs
    /// with `threads: 1`, so all of its work happens on this thread.)
    static TRACK: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn tracked() -> bool {
    TRACK.try_with(|t| t.get()).unwrap_or(false)
}

// SAFETY: forwards every call unchanged to the system allocator, only
// counting allocations on the side.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        if tracked() {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        // SAFETY: same contract as our caller's.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        if tracked() {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as our caller's.
        unsafe { System.realloc(p, l, n) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Rows, batch size and batches per epoch of the runs below: 8 batches of
/// 30 rows and a last one of 10.
const ROWS: usize = 250;
const BATCH: usize = 30;
const BATCHES: usize = ROWS.div_ceil(BATCH);
/// Batches of at least 16 rows (an unpadded `Kernels::product` gives sgemm
/// only whole 16-row tiles, so a layer pass of the 10-row batch runs
/// entirely in the small-row kernel, which allocates nothing).
const BIG_BATCHES: usize = ROWS / BATCH;
const _: () = assert!(BATCH >= 16 && ROWS % BATCH < 16);

/// sgemm calls per epoch on one thread: per step of a big batch the
/// positive pass and a visible and a hidden pass per Gibbs step; per step of
/// any batch the one gradient product (`[X; v⁻]ᵀ [h⁺; −h⁻]`, whose strided
/// A is always sgemm's); under PCD also the end-of-epoch reconstruction (two
/// passes per big batch).
fn products_per_epoch(sampling: Sampling) -> usize {
    match sampling {
        Sampling::Cd(k) => BIG_BATCHES * (1 + 2 * k) + BATCHES,
        Sampling::Pcd(k) => BIG_BATCHES * (1 + 2 * k) + BATCHES + BIG_BATCHES * 2,
    }
}

fn allocations(epochs: usize, sampling: Sampling, unit: HiddenUnit, momentum: f32) -> usize {
    let data: Vec<f32> = (0..ROWS * 20)
        .map(|i| ((i * 7919) % 13) as f32 / 12.0)
        .collect();
    let mut rbm = Rbm::new(20, 11, VisibleUnit::Bernoulli, unit, 1).unwrap();
    let cfg = TrainConfig {
        epochs,
        batch_size: BATCH,
        sampling,
        threads: 1,
        momentum,
        ..TrainConfig::default_for(VisibleUnit::Bernoulli)
    };
    let before = ALLOCS.load(Ordering::Relaxed);
    TRACK.with(|t| t.set(true));
    let report = train(&mut rbm, &data, &cfg, |_| {
        std::ops::ControlFlow::Continue(())
    });
    TRACK.with(|t| t.set(false));
    report.unwrap();
    ALLOCS.load(Ordering::Relaxed) - before
}

#[test]
fn steady_state_training_allocates_only_sgemm_packing_buffers() {
    for sampling in [Sampling::Cd(1), Sampling::Cd(3), Sampling::Pcd(2)] {
        // Momentum 0.5 (the default) and 0: the two forms of the update.
        for (unit, momentum) in [
            (HiddenUnit::Nrelu, 0.5),
            (HiddenUnit::Ssu, 0.5),
            (HiddenUnit::binomial_of::<4>(), 0.5),
            (HiddenUnit::Nrelu, 0.0),
        ] {
            // The warm-up grows the product kernel's per-thread buffer.
            allocations(1, sampling, unit, momentum);
            let one = allocations(1, sampling, unit, momentum);
            let four = allocations(4, sampling, unit, momentum);
            let sgemm_buffers = if active_path() == Path::Avx512 {
                0
            } else {
                3 * products_per_epoch(sampling)
            };
            assert_eq!(
                four - one,
                sgemm_buffers,
                "{sampling:?} {unit} momentum {momentum}: the steady state allocated"
            );
        }
    }
}
