//! Parallel execution that cannot change results.
//!
//! Work is split into contiguous *parts*: whole row blocks for the
//! element-wise work and the gradient product, blocks of columns for the
//! layer products (each thread then packs only its own columns of the
//! weights) and for column sums. Products use the kernels' `gemm`, whose
//! bits do not depend on how rows or columns are split, or its unpadded
//! form, whose bits do not depend on how columns are split, nor on a split
//! of rows at multiples of `SGEMM_ROW_TILE` (see `part_rows_unpadded` and
//! `kernels/tests/affine.rs`); random draws come from per-block streams,
//! and every reduction runs in a fixed order (column sums per column). So
//! the number of threads changes only the speed, never a bit of the output.

use crate::error::{Result, invalid};
use crate::kernels::MatMut;
use rayon::prelude::*;
use std::sync::Arc;

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

    /// Runs `f(first_row, a_rows, b_rows, c_rows)` over matching parts of
    /// two row-major f32 buffers of width `width` and an f64 buffer with
    /// one value per row, `part` rows at a time, in parallel when there are
    /// workers.
    pub(crate) fn for_parts2_f64<F>(
        &self,
        part: usize,
        width: usize,
        ab: [&mut [f32]; 2],
        c: &mut [f64],
        f: F,
    ) where
        F: Fn(usize, &mut [f32], &mut [f32], &mut [f64]) + Sync,
    {
        let [a, b] = ab;
        let (cw, cc) = ((part * width).max(1), part.max(1));
        match &self.pool {
            None => a
                .chunks_mut(cw)
                .zip(b.chunks_mut(cw))
                .zip(c.chunks_mut(cc))
                .enumerate()
                .for_each(|(i, ((a, b), c))| f(i * part, a, b, c)),
            Some(pool) => pool.install(|| {
                a.par_chunks_mut(cw)
                    .zip(b.par_chunks_mut(cw))
                    .zip(c.par_chunks_mut(cc))
                    .enumerate()
                    .for_each(|(i, ((a, b), c))| f(i * part, a, b, c))
            }),
        }
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
        match &self.pool {
            None => a
                .chunks_mut(ca)
                .zip(streams.chunks_mut(cs))
                .for_each(|(x, s)| f(x, s)),
            Some(pool) => pool.install(|| {
                a.par_chunks_mut(ca)
                    .zip(streams.par_chunks_mut(cs))
                    .for_each(|(x, s)| f(x, s))
            }),
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
    /// last may be narrower), in parallel when there are workers; without
    /// workers, once over all of `c`.
    pub(crate) fn for_col_parts<F>(&self, part: usize, c: MatMut<'_>, f: F)
    where
        F: Fn(usize, MatMut<'_>) + Sync,
    {
        fn split<F: Fn(usize, MatMut<'_>) + Sync>(j0: usize, part: usize, c: MatMut<'_>, f: &F) {
            if c.cols() <= part {
                f(j0, c);
            } else {
                let (left, right) = c.split_at_col(part);
                rayon::join(|| f(j0, left), || split(j0 + part, part, right, f));
            }
        }
        match &self.pool {
            None => f(0, c),
            Some(pool) => pool.install(|| split(0, part.max(1), c, &f)),
        }
    }

    /// [`Workers::for_col_parts`] over two matrices with the same columns:
    /// `f(first_col, c_block, d_block)` gets the same columns of both.
    pub(crate) fn for_col_parts2<F>(&self, part: usize, c: MatMut<'_>, d: MatMut<'_>, f: F)
    where
        F: Fn(usize, MatMut<'_>, MatMut<'_>) + Sync,
    {
        debug_assert_eq!(c.cols(), d.cols());
        fn split<F: Fn(usize, MatMut<'_>, MatMut<'_>) + Sync>(
            j0: usize,
            part: usize,
            c: MatMut<'_>,
            d: MatMut<'_>,
            f: &F,
        ) {
            if c.cols() <= part {
                f(j0, c, d);
            } else {
                let (cl, cr) = c.split_at_col(part);
                let (dl, dr) = d.split_at_col(part);
                rayon::join(|| f(j0, cl, dl), || split(j0 + part, part, cr, dr, f));
            }
        }
        match &self.pool {
            None => f(0, c, d),
            Some(pool) => pool.install(|| split(0, part.max(1), c, d, &f)),
        }
    }

    /// Runs `f(first, chunk)` over chunks of `part` elements of `out`, in
    /// parallel when there are workers.
    pub(crate) fn for_chunks_f64<F>(&self, part: usize, out: &mut [f64], f: F)
    where
        F: Fn(usize, &mut [f64]) + Sync,
    {
        let part = part.max(1);
        match &self.pool {
            None => f(0, out),
            Some(pool) => pool.install(|| {
                out.par_chunks_mut(part)
                    .enumerate()
                    .for_each(|(i, c)| f(i * part, c))
            }),
        }
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
