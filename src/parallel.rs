//! Parallel execution that cannot change results.
//!
//! A training step's regions cut their work into contiguous *parts*, one
//! per thread, at the edges of *units*: whole row blocks (with their random
//! streams) for the element-wise work and the batch, tiles of 16 columns
//! for the layer products (each thread then packs only its own columns of
//! the weights), and tiles of 16 rows of `W` for the gradient product. The
//! layer products use the kernels' unpadded `Product`, whose bits do not
//! depend on how columns are split (nor on a split of rows at multiples of
//! `SGEMM_ROW_TILE`, see `part_rows_unpadded` and
//! `kernels/tests/product.rs`); the gradient product folds the update in
//! through `Product::scaled`, whose bits do not depend on splits at
//! multiples of 16 rows, the only ones it gets; random draws come from
//! per-block streams, and every reduction runs in a fixed order (column
//! sums per column). So the number of threads, and where each region cuts
//! its units, change only the speed, never a bit of the output
//! (the unit tests in `src/train/trainer/tests.rs` scramble every cut before every step and compares with
//! one thread).
//!
//! Where a region cuts is learned ([`Balance`]): each side of a cut is
//! timed, and the side that finished first gets a little more next time.
//!
//! The training step's regions halve their threads recursively with
//! `fork::join_spin`, a `rayon::join` whose two halves wait for each other by
//! spinning (at most 200 µs) rather than letting rayon park the thread that
//! finished first: a training step is a chain of short regions, and waking
//! a parked thread at each of them would be a sizeable part of a region
//! (`docs/benchmarks.md` has the measurements). (`for_each_index` and
//! `for_row_parts_with_streams`, used by longer jobs such as AIS, keep
//! rayon's parallel iterators, on the current pool when the `Workers` have
//! no pool of their own: see `Workers::on_current_pool`.)

use crate::error::{Result, invalid};
use crate::kernels::MatMut;
use rayon::prelude::*;
use std::sync::Arc;

mod fork;

pub(crate) use fork::Balance;
use fork::Fork;

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

/// Runs `f` on the thread pool of `pool` (if any), so that the parallel
/// regions inside it are joins between the pool's own threads.
///
/// A region started from outside the pool pays for handing the work to a
/// worker and waking the calling thread again, several times the cost of
/// a join between the pool's own threads (more still after a pause, when
/// the workers have gone to sleep; `docs/benchmarks.md`). A training step
/// has several regions, so it runs as a whole inside the pool.
pub(crate) fn in_pool<R: Send>(
    pool: Option<Arc<rayon::ThreadPool>>,
    f: impl FnOnce() -> R + Send,
) -> R {
    match pool {
        Some(p) => p.install(f),
        None => f(),
    }
}

/// The threads a job runs on: a pool of its own (a `Trainer`'s, built once
/// and kept), or the current rayon pool (the likelihoods', which never
/// build one), or only the calling thread (`threads == 1`).
pub(crate) struct Workers {
    /// The pool of its own, if any; `None` with `threads > 1` means the
    /// current rayon pool.
    pool: Option<Arc<rayon::ThreadPool>>,
    threads: usize,
}

/// `threads` checked against the largest count the library accepts.
fn at_most_1024(threads: usize, expected: &'static str) -> Result<usize> {
    if threads > 1024 {
        return Err(invalid("threads", threads, expected));
    }
    Ok(threads)
}

impl Workers {
    /// The current rayon pool (the caller's inside `ThreadPool::install`,
    /// rayon's global pool elsewhere), cut for `threads` threads; 0 means
    /// every thread of that pool, 1 only the calling thread. Builds no
    /// pool.
    pub(crate) fn on_current_pool(threads: usize) -> Result<Workers> {
        let threads = if threads == 0 {
            rayon::current_num_threads()
        } else {
            threads
        };
        Ok(Workers {
            pool: None,
            threads: at_most_1024(
                threads,
                "must be at most 1024 (0 = every thread of the current pool)",
            )?
            .max(1),
        })
    }

    /// `threads` workers in a pool of their own, built here (none for one
    /// thread); 0 means all available cores.
    pub(crate) fn new(threads: usize) -> Result<Workers> {
        let threads = if threads == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            threads
        };
        let threads = at_most_1024(threads, "must be at most 1024 (0 = all cores)")?;
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

    /// A [`Balance`] for one region of this pool's forks.
    pub(crate) fn balance(&self) -> Balance {
        Balance::new(self.threads)
    }

    /// Rows per part for `rows` rows cut for products with
    /// an unpadded `Kernels::product`: a multiple of `SGEMM_ROW_TILE` = 16
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

    /// Runs `f(first_row, a_rows, b_rows, [c_rows, d_rows], last)` at most
    /// once per thread over matching rows of two row-major f32 buffers `ab`
    /// of width `width` and two f64 buffers `cd` with one value per row, cut at multiples
    /// of `tile` rows (units of `tile` rows, the last possibly shorter; see
    /// [`Balance`]). `last` is `Some(e)` for the part that ends at the last
    /// row only (`None` for the others): work that is not split by rows
    /// rides along with one part instead of taking a parallel region of
    /// its own, and the balance then gives that part fewer rows.
    pub(crate) fn for_row_tiles<F>(
        &self,
        bal: &Balance,
        tile: usize,
        (ab, width): ([&mut [f32]; 2], usize),
        cd: [&mut [f64]; 2],
        e: &mut [f64],
        f: F,
    ) where
        F: Fn(usize, &mut [f32], &mut [f32], [&mut [f64]; 2], Option<&mut [f64]>) + Sync,
    {
        let [a, b] = ab;
        let [c, d] = cd;
        let tile = tile.max(1);
        let split = |(a, b, c, d, e), k: usize| {
            let (al, ar) = split_slice(a, k * tile * width);
            let (bl, br) = split_slice(b, k * tile * width);
            let (cl, cr) = split_slice(c, k * tile);
            let (dl, dr) = split_slice(d, k * tile);
            ((al, bl, cl, dl, None), (ar, br, cr, dr, e))
        };
        let units = c.len().div_ceil(tile);
        self.for_units(
            bal,
            units,
            (a, b, c, d, Some(e)),
            split,
            |i, (a, b, c, d, e)| f(i * tile, a, b, [c, d], e),
        );
    }

    /// Runs `f(first_row, rows)` at most once per thread over whole blocks of
    /// `block` rows of a row-major buffer of width `width`.
    pub(crate) fn for_row_blocks<F>(
        &self,
        bal: &Balance,
        block: usize,
        width: usize,
        a: &mut [f32],
        f: F,
    ) where
        F: Fn(usize, &mut [f32]) + Sync,
    {
        let cb = (block * width).max(1);
        let split = |a, k: usize| split_slice(a, k * cb);
        self.for_units(bal, a.len().div_ceil(cb), a, split, |i, a| f(i * block, a));
    }

    /// Runs `f(rows, streams)` at most once per thread over whole blocks of
    /// `block` rows of a buffer of rows `width` wide, with each block's stream.
    pub(crate) fn for_block_streams<F>(
        &self,
        bal: &Balance,
        block: usize,
        (a, width): (&mut [f32], usize),
        streams: &mut [crate::kernels::Stream],
        f: F,
    ) where
        F: Fn(&mut [f32], &mut [crate::kernels::Stream]) + Sync,
    {
        let cb = (block * width).max(1);
        let split = |(a, s), k: usize| {
            let (al, ar) = split_slice(a, k * cb);
            let (sl, sr) = split_slice(s, k);
            ((al, sl), (ar, sr))
        };
        let units = a.len().div_ceil(cb);
        self.for_units(bal, units, (a, streams), split, |_, (x, s)| f(x, s));
    }

    /// Runs `f(first_unit, data)` at most once per thread over `units` units of
    /// `data`, where `split(data, k)` splits off the first `k` units: cut
    /// by [`Fork`] with `bal` when there are workers, in one call
    /// otherwise. Every region of a training step is this with its own
    /// `split`.
    fn for_units<T, S, F>(&self, bal: &Balance, units: usize, data: T, split: S, f: F)
    where
        T: Send,
        S: Fn(T, usize) -> (T, T) + Sync,
        F: Fn(usize, T) + Sync,
    {
        if self.threads <= 1 {
            return f(0, data);
        }
        self.install(|| {
            let fork = Fork {
                bal,
                split: &split,
                f: &f,
            };
            fork.run(1, self.threads, 0, units, data)
        })
    }

    /// Runs `f` on the pool of its own, if any, or else where it is called
    /// (on the current pool).
    fn install<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        match &self.pool {
            Some(pool) => pool.install(f),
            None => f(),
        }
    }
}

/// Columns per unit of a layer product's region: 16, the width of the
/// widest sgemm micro-kernel, so that only the last unit has a ragged
/// edge.
const COL_TILE: usize = 16;

impl Workers {
    /// Runs `f(first_col, block)` at most once per thread over blocks of `c` cut at
    /// multiples of 16 columns (the last block may be narrower; one block,
    /// even of no columns, with one thread).
    pub(crate) fn for_col_tiles<F>(&self, bal: &Balance, c: MatMut<'_>, f: F)
    where
        F: Fn(usize, MatMut<'_>) + Sync,
    {
        let split = |c, k: usize| split_cols(c, k * COL_TILE);
        let units = c.cols().div_ceil(COL_TILE);
        self.for_units(bal, units, c, split, |i, c| f(i * COL_TILE, c));
    }

    /// [`Workers::for_col_tiles`] over two matrices with the same columns:
    /// `f(first_col, c_block, d_block)` gets the same columns of both.
    pub(crate) fn for_col_tiles_pair<F>(&self, bal: &Balance, c: MatMut<'_>, d: MatMut<'_>, f: F)
    where
        F: Fn(usize, MatMut<'_>, MatMut<'_>) + Sync,
    {
        debug_assert_eq!(c.cols(), d.cols());
        let split = |(c, d), k: usize| {
            let (cl, cr) = split_cols(c, k * COL_TILE);
            let (dl, dr) = split_cols(d, k * COL_TILE);
            ((cl, dl), (cr, dr))
        };
        let units = c.cols().div_ceil(COL_TILE);
        self.for_units(bal, units, (c, d), split, |i, (c, d)| f(i * COL_TILE, c, d));
    }

    /// Runs `f(i, &mut out[i])` for every index, in `threads` parts of
    /// consecutive indices run in parallel (in one part on the calling
    /// thread for one thread); each element is computed independently.
    pub(crate) fn for_each_index<F>(&self, out: &mut [f64], f: F)
    where
        F: Fn(usize, &mut f64) + Sync,
    {
        if self.threads <= 1 {
            return out.iter_mut().enumerate().for_each(|(i, o)| f(i, o));
        }
        let per = out.len().div_ceil(self.threads).max(1);
        self.install(|| {
            out.par_chunks_mut(per).enumerate().for_each(|(p, part)| {
                for (i, o) in part.iter_mut().enumerate() {
                    f(p * per + i, o);
                }
            })
        })
    }

    /// Runs `f(first_row, values, streams)` over parts of `part` rows of a
    /// one-value-per-row buffer and the matching per-block streams.
    pub(crate) fn for_row_parts_with_streams<F>(
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
        if self.threads <= 1 {
            return values
                .chunks_mut(part)
                .zip(streams.chunks_mut(cs))
                .enumerate()
                .for_each(|(i, (v, s))| f(i * part, v, s));
        }
        self.install(|| {
            values
                .par_chunks_mut(part)
                .zip(streams.par_chunks_mut(cs))
                .enumerate()
                .for_each(|(i, (v, s))| f(i * part, v, s))
        })
    }

    /// [`Workers::for_row_parts_with_streams`] over rows `width` values
    /// wide: runs `f(first_row, rows, streams)` over parts of `part` rows
    /// of the row-major buffer `rows` and the matching per-block streams.
    pub(crate) fn for_wide_row_parts_with_streams<F>(
        &self,
        (part, block): (usize, usize),
        (rows, width): (&mut [f32], usize),
        streams: &mut [crate::kernels::Stream],
        f: F,
    ) where
        F: Fn(usize, &mut [f32], &mut [crate::kernels::Stream]) + Sync,
    {
        debug_assert_eq!(part % block, 0);
        let (cv, cs) = (part * width, part / block);
        if self.threads <= 1 {
            return rows
                .chunks_mut(cv)
                .zip(streams.chunks_mut(cs))
                .enumerate()
                .for_each(|(i, (v, s))| f(i * part, v, s));
        }
        self.install(|| {
            rows.par_chunks_mut(cv)
                .zip(streams.par_chunks_mut(cs))
                .enumerate()
                .for_each(|(i, (v, s))| f(i * part, v, s))
        })
    }
}

fn leak_reason(e: rayon::ThreadPoolBuildError) -> &'static str {
    // The error text is dynamic; keep the typed error static by describing
    // the failure class (the OS refused to start threads).
    let _ = e;
    "the operating system could not start that many threads"
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// The parts `for_row_blocks` hands out: (first row, rows).
    fn parts(w: &Workers, bal: &Balance, rows: usize) -> Vec<(usize, usize)> {
        let mut buf = vec![0.0f32; rows * 3];
        let seen = Mutex::new(Vec::new());
        w.for_row_blocks(bal, 4, 3, &mut buf, |r0, a| {
            a.iter_mut().for_each(|x| *x += 1.0);
            seen.lock().unwrap().push((r0, a.len() / 3));
        });
        assert!(buf.iter().all(|&x| x == 1.0), "every row exactly once");
        let mut seen = seen.into_inner().unwrap();
        seen.sort();
        seen
    }

    #[test]
    fn the_likelihoods_workers_run_on_the_callers_pool_and_build_none() {
        let host = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .thread_name(|i| format!("host-{i}"))
            .build()
            .unwrap();
        let names = Mutex::new(std::collections::BTreeSet::new());
        let note = || {
            let name = std::thread::current().name().map(str::to_owned);
            names.lock().unwrap().insert(name.unwrap_or_default());
        };
        host.install(|| {
            // 0 = every thread of the caller's pool.
            let w = Workers::on_current_pool(0).unwrap();
            assert_eq!(w.threads, 3);
            assert!(w.pool.is_none());
            let mut out = vec![0.0; 64];
            w.for_each_index(&mut out, |i, o| {
                note();
                *o = i as f64;
            });
            assert!(out.iter().enumerate().all(|(i, &o)| o == i as f64));
            let mut values = vec![0.0; 100];
            let mut streams: Vec<_> = (0..13).map(|i| crate::kernels::Stream::new(1, i)).collect();
            w.for_row_parts_with_streams(48, 8, &mut values, &mut streams, |r0, v, s| {
                note();
                assert_eq!(s.len(), v.len().div_ceil(8));
                v.iter_mut()
                    .enumerate()
                    .for_each(|(i, x)| *x = (r0 + i) as f64);
            });
            assert!(values.iter().enumerate().all(|(i, &x)| x == i as f64));
        });
        let names = names.into_inner().unwrap();
        assert!(
            names.iter().all(|n| n.starts_with("host-")),
            "work ran outside the caller's pool: {names:?}"
        );
        // 1 = the calling thread only, with no rayon at all.
        let w = Workers::on_current_pool(1).unwrap();
        let here = std::thread::current().id();
        w.for_each_index(&mut [0.0; 8], |_, _| {
            assert_eq!(std::thread::current().id(), here);
        });
        assert!(Workers::on_current_pool(1025).is_err());
    }

    #[test]
    fn every_unit_goes_to_exactly_one_part_wherever_the_cuts_are() {
        let mut seed = 7;
        for threads in [1, 2, 3, 5] {
            let w = Workers::new(threads).unwrap();
            let bal = w.balance();
            let mut cuts = std::collections::BTreeSet::new();
            for rows in [0, 1, 4, 5, 37, 100] {
                for _ in 0..20 {
                    bal.scramble(&mut seed);
                    let p = parts(&w, &bal, rows);
                    // Contiguous whole blocks covering 0..rows, at most one
                    // part per thread.
                    let mut next = 0;
                    for &(r0, n) in &p {
                        assert_eq!(r0, next, "{threads} threads, {rows} rows: {p:?}");
                        assert!(r0 % 4 == 0 && (n % 4 == 0 || r0 + n == rows));
                        next = r0 + n;
                    }
                    assert_eq!(next, rows);
                    assert!(p.len() <= threads.max(1));
                    if threads == 2 && rows == 100 {
                        cuts.insert(p[0].1);
                    }
                }
            }
            if threads == 2 {
                // The scrambled shares really moved the cut.
                assert!(cuts.len() >= 10, "cuts seen: {cuts:?}");
            }
        }
    }
}
