//! Parallel execution that cannot change results.
//!
//! Work is split into contiguous *parts*: whole row blocks for the
//! element-wise work and the batch, blocks of columns for the layer
//! products (each thread then packs only its own columns of the weights)
//! and for column sums, and blocks of 16 rows of `W` for the gradient
//! product. The layer products use the kernels' unpadded `gemm`, whose bits
//! do not depend on how columns are split (nor on a split of rows at
//! multiples of `SGEMM_ROW_TILE`, see `part_rows_unpadded` and
//! `kernels/tests/affine.rs`); the gradient product folds the update in
//! through `gemm_scaled_into`, whose bits do not depend on splits at
//! multiples of 16 rows, the only ones it gets; random draws come from
//! per-block streams, and every reduction runs in a fixed order (column
//! sums per column). So the number of threads changes only the speed, never
//! a bit of the output.
//!
//! The training step's regions split their parts by recursive halving with
//! [`join_spin`], a `rayon::join` whose two halves wait for each other by
//! spinning (at most 200 µs) rather than letting rayon park the thread that
//! finished first: a training step is a chain of regions of about 0.5 ms,
//! and waking a parked thread cost 25–30 µs per region on the reference
//! machine. (`for_each_index` and `for_parts_streams_f64`, used by longer
//! jobs such as AIS, keep rayon's parallel iterators.)

use crate::error::{Result, invalid};
use crate::kernels::MatMut;
use rayon::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
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
/// idle thread. On the reference machine (a 2-vCPU virtual machine) a
/// parked thread took about 25–30 µs to wake: at the end of a layer product
/// when the calling thread had to be woken by the one that finished `b`,
/// and at the start of the next product when the other thread had been
/// parked while the caller finished `a`. With more pool threads than cores
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

/// `s` split at `at` (or at its end).
fn split_slice<T>(s: &mut [T], at: usize) -> (&mut [T], &mut [T]) {
    let at = at.min(s.len());
    s.split_at_mut(at)
}

/// `m` split at column `at` (or at its last column).
fn split_cols(m: MatMut<'_>, at: usize) -> (MatMut<'_>, MatMut<'_>) {
    let at = at.min(m.cols());
    m.split_at_col(at)
}

/// Runs `f(first_part, data)` on each of the `parts` parts of `data`, in
/// parallel on the current rayon pool: `split(data, k)` splits off the
/// first `k` parts, and the parts are halved recursively with
/// [`join_spin`].
fn fork<T, S, F>(first: usize, parts: usize, data: T, split: &S, f: &F)
where
    T: Send,
    S: Fn(T, usize) -> (T, T) + Sync,
    F: Fn(usize, T) + Sync,
{
    if parts == 1 {
        f(first, data);
    } else if parts > 1 {
        let half = parts / 2;
        let (left, right) = split(data, half);
        join_spin(
            || fork(first, half, left, split, f),
            || fork(first + half, parts - half, right, split, f),
        );
    }
}

/// Runs `f` on the thread pool of `pool` (if any), so that the parallel
/// regions inside it are joins between the pool's own threads.
///
/// A region started from outside the pool pays for handing the work to a
/// worker and waking the calling thread again; on the reference machine (a
/// 2-core virtual machine) that cost 22 µs per region back to back and
/// 80–165 µs after a pause, against 5 µs for a join inside the pool. A
/// training step has several regions, so it runs as a whole inside the
/// pool.
pub(crate) fn in_pool<R: Send>(
    pool: Option<Arc<rayon::ThreadPool>>,
    f: impl FnOnce() -> R + Send,
) -> R {
    match pool {
        Some(p) => p.install(f),
        None => f(),
    }
}

/// A fixed set of worker threads (none when `threads == 1`).
pub(crate) struct Workers {
    pool: Option<Arc<rayon::ThreadPool>>,
    threads: usize,
}

impl Workers {
    /// `threads` workers; 0 means all available cores.
    pub(crate) fn new(threads: usize) -> Result<Workers> {
        let threads = if threads == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            threads
        };
        if threads > 1024 {
            return Err(invalid(
                "threads",
                threads,
                "must be at most 1024 (0 = all cores)",
            ));
        }
        let pool = if threads > 1 {
            Some(Arc::new(
                rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .thread_name(|i| format!("nrelu-rbm-{i}"))
                    .build()
                    .map_err(|e| invalid("threads", threads, leak_reason(e)))?,
            ))
        } else {
            None
        };
        Ok(Workers { pool, threads })
    }

    /// A handle on the pool (none for one thread), for [`in_pool`].
    pub(crate) fn pool(&self) -> Option<Arc<rayon::ThreadPool>> {
        self.pool.clone()
    }

    /// Rows per part for `rows` rows in blocks of `block` rows: whole blocks,
    /// as evenly spread over the threads as blocks allow.
    pub(crate) fn part_rows(&self, rows: usize, block: usize) -> usize {
        let blocks = rows.div_ceil(block).max(1);
        blocks.div_ceil(self.threads).max(1) * block
    }

    /// Rows per part for `rows` rows cut for products with
    /// `Kernels::gemm_into_unpadded`: a multiple of `SGEMM_ROW_TILE` = 16
    /// (at least 16), about
    /// `rows / threads` rounded down, so that every part but the last is
    /// whole sgemm tiles and the last part's small-row rows are exactly
    /// the last `rows % 16` of the whole: the same rows go to the same
    /// kernel for any thread count. (With 100 rows on 2 threads: parts of
    /// 48, 48 and 4 rows, shared out by the pool as 48 and 52.)
    pub(crate) fn part_rows_unpadded(&self, rows: usize) -> usize {
        let tile = crate::kernels::SGEMM_ROW_TILE;
        (rows / self.threads / tile * tile).max(tile)
    }

    /// Runs `f(first_row, a_rows, b_rows, [c_rows, d_rows], last)` over
    /// matching parts of two row-major f32 buffers of width `width` and two
    /// f64 buffers with one value per row, `part` rows at a time, in
    /// parallel when there are workers. `last` is `Some(e)` for the last
    /// part only (`None` for the others): work that is not split by rows
    /// can ride along with the part that has the fewest rows (`part_rows`
    /// rounds up, so the last part is never larger than the others) instead
    /// of taking a parallel region of its own.
    pub(crate) fn for_parts2_2f64<F>(
        &self,
        part: usize,
        width: usize,
        ab: [&mut [f32]; 2],
        cd: [&mut [f64]; 2],
        e: &mut [f64],
        f: F,
    ) where
        F: Fn(usize, &mut [f32], &mut [f32], [&mut [f64]; 2], Option<&mut [f64]>) + Sync,
    {
        let [a, b] = ab;
        let [c, d] = cd;
        let (cw, cc) = ((part * width).max(1), part.max(1));
        let split = |(a, b, c, d, e), k| {
            let (al, ar) = split_slice(a, k * cw);
            let (bl, br) = split_slice(b, k * cw);
            let (cl, cr) = split_slice(c, k * cc);
            let (dl, dr) = split_slice(d, k * cc);
            ((al, bl, cl, dl, None), (ar, br, cr, dr, e))
        };
        let parts = c.len().div_ceil(cc).max(1);
        self.for_split(parts, (a, b, c, d, Some(e)), split, |i, (a, b, c, d, e)| {
            f(i * part, a, b, [c, d], e)
        });
    }

    /// Runs `f(first_row, rows)` over parts of `part` rows of a row-major
    /// buffer of width `width`, in parallel when there are workers.
    pub(crate) fn for_row_parts<F>(&self, part: usize, width: usize, a: &mut [f32], f: F)
    where
        F: Fn(usize, &mut [f32]) + Sync,
    {
        let ca = (part * width).max(1);
        let split = |a, k| split_slice(a, k * ca);
        self.for_split(a.len().div_ceil(ca), a, split, |i, a| f(i * part, a));
    }

    /// Runs `f(rows, streams)` over parts of `part` rows of a buffer of
    /// rows `width` wide and the matching per-block streams (`block` rows
    /// per stream).
    pub(crate) fn for_parts_streams<F>(
        &self,
        part: usize,
        block: usize,
        (a, width): (&mut [f32], usize),
        streams: &mut [crate::kernels::Stream],
        f: F,
    ) where
        F: Fn(&mut [f32], &mut [crate::kernels::Stream]) + Sync,
    {
        debug_assert_eq!(part % block, 0);
        let (ca, cs) = ((part * width).max(1), part / block);
        let split = |(a, s), k| {
            let (al, ar) = split_slice(a, k * ca);
            let (sl, sr) = split_slice(s, k * cs);
            ((al, sl), (ar, sr))
        };
        let parts = a.len().div_ceil(ca);
        self.for_split(parts, (a, streams), split, |_, (x, s)| f(x, s));
    }

    /// Runs `f(i, part_i)` over the `parts` parts of `data`, where
    /// `split(data, k)` splits off the first `k` parts: in parallel (by
    /// recursive halving with [`join_spin`]) when there are workers, in
    /// order otherwise. Every `for_*` region of a training step is this
    /// with its own `split`.
    fn for_split<T, S, F>(&self, parts: usize, data: T, split: S, f: F)
    where
        T: Send,
        S: Fn(T, usize) -> (T, T) + Sync,
        F: Fn(usize, T) + Sync,
    {
        match &self.pool {
            None => {
                let mut rest = data;
                for i in 0..parts {
                    if i + 1 == parts {
                        f(i, rest);
                        return;
                    }
                    let (one, more) = split(rest, 1);
                    f(i, one);
                    rest = more;
                }
            }
            Some(pool) => pool.install(|| fork(0, parts, data, &split, &f)),
        }
    }
}

impl Workers {
    /// Columns per part for splitting `cols` columns of a product between
    /// the threads: a multiple of 16 (the width of the widest sgemm
    /// micro-kernel), so that only the last part has a ragged edge.
    pub(crate) fn part_cols(&self, cols: usize) -> usize {
        cols.div_ceil(self.threads).next_multiple_of(16).max(16)
    }

    /// Runs `f(first_col, block)` over blocks of `part` columns of `c` (the
    /// last may be narrower; at least one block, even of no columns), in
    /// parallel when there are workers, in order otherwise (with one
    /// thread, `part_cols` makes that a single block).
    pub(crate) fn for_col_parts<F>(&self, part: usize, c: MatMut<'_>, f: F)
    where
        F: Fn(usize, MatMut<'_>) + Sync,
    {
        let part = part.max(1);
        let split = |c, k| split_cols(c, k * part);
        let parts = c.cols().div_ceil(part).max(1);
        self.for_split(parts, c, split, |i, c| f(i * part, c));
    }

    /// [`Workers::for_col_parts`] over two matrices with the same columns:
    /// `f(first_col, c_block, d_block)` gets the same columns of both.
    pub(crate) fn for_col_parts2<F>(&self, part: usize, c: MatMut<'_>, d: MatMut<'_>, f: F)
    where
        F: Fn(usize, MatMut<'_>, MatMut<'_>) + Sync,
    {
        debug_assert_eq!(c.cols(), d.cols());
        let part = part.max(1);
        let split = |(c, d), k| {
            let (cl, cr) = split_cols(c, k * part);
            let (dl, dr) = split_cols(d, k * part);
            ((cl, dl), (cr, dr))
        };
        let parts = c.cols().div_ceil(part).max(1);
        self.for_split(parts, (c, d), split, |i, (c, d)| f(i * part, c, d));
    }

    /// Runs `f(i, &mut out[i])` for every index, in parallel when there are
    /// workers; each element is computed independently.
    pub(crate) fn for_each_index<F>(&self, out: &mut [f64], f: F)
    where
        F: Fn(usize, &mut f64) + Sync,
    {
        match &self.pool {
            None => out.iter_mut().enumerate().for_each(|(i, o)| f(i, o)),
            Some(pool) => {
                pool.install(|| out.par_iter_mut().enumerate().for_each(|(i, o)| f(i, o)))
            }
        }
    }

    /// Runs `f(first_row, values, streams)` over parts of `part` rows of a
    /// one-value-per-row buffer and the matching per-block streams.
    pub(crate) fn for_parts_streams_f64<F>(
        &self,
        part: usize,
        block: usize,
        values: &mut [f64],
        streams: &mut [crate::kernels::Stream],
        f: F,
    ) where
        F: Fn(usize, &mut [f64], &mut [crate::kernels::Stream]) + Sync,
    {
        debug_assert_eq!(part % block, 0);
        let cs = part / block;
        match &self.pool {
            None => values
                .chunks_mut(part)
                .zip(streams.chunks_mut(cs))
                .enumerate()
                .for_each(|(i, (v, s))| f(i * part, v, s)),
            Some(pool) => pool.install(|| {
                values
                    .par_chunks_mut(part)
                    .zip(streams.par_chunks_mut(cs))
                    .enumerate()
                    .for_each(|(i, (v, s))| f(i * part, v, s))
            }),
        }
    }
}

fn leak_reason(e: rayon::ThreadPoolBuildError) -> &'static str {
    // The error text is dynamic; keep the typed error static by describing
    // the failure class (the OS refused to start threads).
    let _ = e;
    "the operating system could not start that many threads"
}
