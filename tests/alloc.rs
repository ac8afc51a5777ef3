//! The training steady state allocates nothing of its own: all buffers, the
//! thread pool and the report are allocated before the first step. Nor does
//! `features_into` (for a model or a stack) once its per-thread scratch has
//! grown. The one
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
use nrelu_rbm::{Rbm, Stack, Standardization, VisibleUnit};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    /// Only allocations made on the measuring thread count, and each test
    /// thread counts its own: the test harness's threads and the other
    /// tests allocate at unpredictable times. (Training runs with
    /// `threads: 1`, so all of its work happens on this thread.)
    static TRACK: Cell<bool> = const { Cell::new(false) };
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
}

fn tracked() -> bool {
    TRACK.try_with(|t| t.get()).unwrap_or(false)
}

/// Counts one allocation on this thread if it is being measured.
fn count() {
    if tracked() {
        let _ = ALLOCS.try_with(|a| a.set(a.get() + 1));
    }
}

fn allocs() -> usize {
    ALLOCS.with(|a| a.get())
}

// SAFETY: forwards every call unchanged to the system allocator, only
// counting allocations on the side.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        count();
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        // SAFETY: same contract as our caller's.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        count();
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
        other => panic!("no product count for {other:?}"),
    }
}

fn allocations(epochs: usize, sampling: Sampling, unit: HiddenUnit, momentum: f32) -> usize {
    let data: Vec<f32> = (0..ROWS * 20)
        .map(|i| ((i * 7919) % 13) as f32 / 12.0)
        .collect();
    let mut rbm = Rbm::new(20, 11, VisibleUnit::Bernoulli, unit, 1).unwrap();
    let cfg = TrainConfig::default_for(VisibleUnit::Bernoulli)
        .with_epochs(epochs)
        .with_batch_size(BATCH)
        .with_sampling(sampling)
        .with_threads(1)
        .with_momentum(momentum);
    let before = allocs();
    TRACK.with(|t| t.set(true));
    let report = train(&mut rbm, &data, &cfg, |_| {
        std::ops::ControlFlow::Continue(())
    });
    TRACK.with(|t| t.set(false));
    report.unwrap();
    allocs() - before
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

/// Allocations made by `f` on this thread.
fn counted(f: impl FnOnce()) -> usize {
    let before = allocs();
    TRACK.with(|t| t.set(true));
    f();
    TRACK.with(|t| t.set(false));
    allocs() - before
}

#[test]
fn features_into_allocates_nothing_of_its_own() {
    // A Gaussian-visible model with an input map (the mapped rows need the
    // scratch), a plain Bernoulli one, and a three-layer stack on top of
    // the mapped one (the layers between need the scratch).
    let mut mapped = Rbm::new(20, 11, VisibleUnit::Gaussian, HiddenUnit::Nrelu, 1).unwrap();
    let map = Standardization::new(vec![0.25; 20], vec![2.0; 20]).unwrap();
    mapped.set_standardization(Some(map)).unwrap();
    let plain = Rbm::new(20, 11, VisibleUnit::Bernoulli, HiddenUnit::Ssu, 2).unwrap();
    let stack = Stack::new(vec![
        mapped.clone(),
        Rbm::new(
            11,
            7,
            VisibleUnit::Gaussian,
            HiddenUnit::binomial(3).unwrap(),
            3,
        )
        .unwrap(),
        Rbm::new(7, 5, VisibleUnit::Gaussian, HiddenUnit::Bernoulli, 4).unwrap(),
    ])
    .unwrap();
    // 10 rows: only the small-row kernel, on every path. 600 rows: blocks
    // of 256, 256 and 88 rows, each with one product of whole 16-row tiles
    // per layer, which matrixmultiply (every path but AVX-512) packs into a
    // buffer it allocates itself.
    for rows in [10usize, 600] {
        let raw: Vec<f32> = (0..rows * 20)
            .map(|i| ((i * 7919) % 13) as f32 / 12.0)
            .collect();
        let blocks_with_tiles = if rows >= 16 { rows.div_ceil(256) } else { 0 };
        let packing = |layers: usize| {
            if active_path() == Path::Avx512 {
                0
            } else {
                layers * blocks_with_tiles
            }
        };
        let mut out = vec![0.0; rows * 11];
        for (name, rbm) in [("mapped", &mapped), ("plain", &plain)] {
            rbm.features_into(&raw, &mut out).unwrap(); // warm-up
            let n = counted(|| rbm.features_into(&raw, &mut out).unwrap());
            assert_eq!(n, packing(1), "{name} model, {rows} rows");
        }
        let mut top = vec![0.0; rows * 5];
        stack.features_into(&raw, &mut top).unwrap(); // warm-up
        let n = counted(|| stack.features_into(&raw, &mut top).unwrap());
        assert_eq!(n, packing(3), "stack, {rows} rows");
    }
}
