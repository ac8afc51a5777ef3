//! Features of raw rows: the model's stored input map, then the noise-free
//! hidden means, layer after layer ([`Rbm::features`], [`Stack::features`]
//! and their `_into` forms). `rbm transform` writes exactly these bytes.
//!
//! Rows are processed in chunks of [`CHUNK_ROWS`] rows, a multiple of the
//! product's 16-row tile: the product of a row does not depend on the other
//! rows of its call as long as every call but the last holds whole tiles and
//! the last rows of the whole batch are the last rows of the last call, so
//! chunked results equal one call on all rows bit for bit (tested in
//! `tests/features.rs`). The chunks bound the scratch memory, which lives in
//! a per-thread buffer that grows to the largest chunk it has served and is
//! then reused, and keep every product within the rows the AVX-512 path's
//! own product kernel takes (its packing buffer is per thread, too), so
//! repeated calls allocate nothing there; the other paths' products go
//! through matrixmultiply, which allocates its packing buffer inside every
//! call of 16 rows or more (tested in `tests/alloc.rs`).

use crate::error::{RbmError, Result, check_finite};
use crate::kernels::SGEMM_ROW_TILE;
use crate::rbm::{Rbm, VisibleUnit};
use crate::stack::Stack;
use std::cell::RefCell;

/// Rows per chunk: a whole number of 16-row product tiles.
pub(crate) const CHUNK_ROWS: usize = 16 * SGEMM_ROW_TILE;

const _: () = assert!(CHUNK_ROWS.is_multiple_of(SGEMM_ROW_TILE));

thread_local! {
    /// Scratch for mapped inputs and the layers between the first and the
    /// top, reused across calls on this thread.
    static SCRATCH: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

impl Rbm {
    /// Noise-free features of raw rows: the model's stored input map (if
    /// any, `z = (x − mean) / std` per column), then the hidden means σ(x),
    /// K σ(x), the SSU mean or max(0, x) of `x = zᵀW + c`. `raw` holds whole
    /// rows of [`Rbm::n_visible`] values; the result has
    /// [`Rbm::n_hidden`] values per row. These are the bytes
    /// `rbm transform` writes.
    ///
    /// Runs on the calling thread.
    ///
    /// ```
    /// use nrelu_rbm::{Rbm, Standardization, VisibleUnit, units::HiddenUnit};
    /// let mut rbm = Rbm::new(2, 3, VisibleUnit::Gaussian, HiddenUnit::Nrelu, 1)?;
    /// rbm.set_standardization(Some(Standardization::new(vec![10.0, 0.0], vec![2.0, 1.0])?))?;
    /// let f = rbm.features(&[12.0, 1.0, 8.0, -1.0])?; // two raw rows
    /// // the same as the hidden means of the mapped rows [1, 1] and [-1, -1]
    /// assert_eq!(f, rbm.hidden_means(&[1.0, 1.0, -1.0, -1.0])?);
    /// # Ok::<(), nrelu_rbm::RbmError>(())
    /// ```
    ///
    /// # Errors
    /// [`RbmError::EmptyData`] for no rows, [`RbmError::Ragged`] if the
    /// length is not a multiple of [`Rbm::n_visible`],
    /// [`RbmError::NonFinite`] for a NaN or infinite value (in the raw
    /// data, after the input map, or between layers), and
    /// [`RbmError::OutOfRange`] for a Bernoulli-visible model without an
    /// input map given a value outside [0, 1].
    pub fn features(&self, raw: &[f32]) -> Result<Vec<f32>> {
        features(std::slice::from_ref(self), raw)
    }

    /// [`Rbm::features`] into `out` (rows × [`Rbm::n_hidden`] values),
    /// with no allocation of its own once this thread's scratch buffer has
    /// grown to the model's size (a model without an input map needs
    /// none). The only allocation left is matrixmultiply's packing buffer,
    /// made inside each product of 16 rows or more on the kernel paths
    /// other than AVX-512 (products are cut into blocks of 256 rows).
    ///
    /// # Errors
    /// Those of [`Rbm::features`], and [`RbmError::OutputSize`] if `out`
    /// does not hold exactly rows × [`Rbm::n_hidden`] values. `out` is
    /// unspecified after an error.
    pub fn features_into(&self, raw: &[f32], out: &mut [f32]) -> Result<()> {
        features_into(std::slice::from_ref(self), raw, out)
    }
}

impl Stack {
    /// Noise-free features of raw rows through every layer: the first
    /// layer's stored input map, then each layer's hidden means feed the
    /// next. The result has [`Stack::n_output`] values per row; these are
    /// the bytes `rbm transform` writes for a stack.
    ///
    /// Runs on the calling thread.
    ///
    /// # Errors
    /// Those of [`Rbm::features`] for the first layer.
    pub fn features(&self, raw: &[f32]) -> Result<Vec<f32>> {
        features(self.layers(), raw)
    }

    /// [`Stack::features`] into `out` (rows × [`Stack::n_output`] values),
    /// with no allocation of its own once this thread's scratch buffer has
    /// grown to the stack's size (see [`Rbm::features_into`] for the
    /// products' packing buffers).
    ///
    /// # Errors
    /// Those of [`Stack::features`], and [`RbmError::OutputSize`] if `out`
    /// does not hold exactly rows × [`Stack::n_output`] values.
    pub fn features_into(&self, raw: &[f32], out: &mut [f32]) -> Result<()> {
        features_into(self.layers(), raw, out)
    }
}

fn features(layers: &[Rbm], raw: &[f32]) -> Result<Vec<f32>> {
    let rows = check_raw(&layers[0], raw)?;
    let top = layers.last().expect("at least one layer").n_hidden;
    let mut out = vec![0.0; rows * top];
    features_into(layers, raw, &mut out)?;
    Ok(out)
}

/// Checks the raw rows for the first layer: whole rows, at least one,
/// finite, and in [0, 1] for a Bernoulli visible layer without a map.
/// Returns the number of rows.
fn check_raw(first: &Rbm, raw: &[f32]) -> Result<usize> {
    let v = first.n_visible;
    let rows = first.check_input_shape("raw data", raw, v)?;
    if first.standardization.is_none() && first.visible == VisibleUnit::Bernoulli {
        if let Some(i) = raw.iter().position(|x| !(0.0..=1.0).contains(x)) {
            return Err(RbmError::OutOfRange {
                row: i / v + 1,
                col: i % v + 1,
                value: raw[i],
                expected: "[0, 1] (Bernoulli visible units without an input map)",
            });
        }
    } else {
        check_finite(raw, v)?;
    }
    Ok(rows)
}

fn features_into(layers: &[Rbm], raw: &[f32], out: &mut [f32]) -> Result<()> {
    let first = &layers[0];
    let rows = check_raw(first, raw)?;
    let top = layers.last().expect("at least one layer").n_hidden;
    if out.len() != rows * top {
        return Err(RbmError::OutputSize {
            what: "features output",
            got: out.len(),
            want: rows * top,
        });
    }
    let map = first.standardization.as_ref();
    let v = first.n_visible;
    let mid = layers[..layers.len() - 1]
        .iter()
        .map(|l| l.n_hidden)
        .max()
        .unwrap_or(0);
    let chunk = rows.min(CHUNK_ROWS);
    let need = chunk * (if map.is_some() { v } else { 0 } + 2 * mid);
    SCRATCH.with_borrow_mut(|scratch| {
        if scratch.len() < need {
            scratch.resize(need, 0.0);
        }
        let (mapped, rest) = scratch.split_at_mut(if map.is_some() { chunk * v } else { 0 });
        let (even, odd) = rest.split_at_mut(chunk * mid);
        let mut r0 = 0;
        while r0 < rows {
            let n = chunk.min(rows - r0);
            let raw_rows = &raw[r0 * v..(r0 + n) * v];
            let out_rows = &mut out[r0 * top..(r0 + n) * top];
            let input: &[f32] = match map {
                Some(map) => {
                    let z = &mut mapped[..n * v];
                    z.copy_from_slice(raw_rows);
                    map.apply_rows(z);
                    check_finite_from(z, v, r0)?;
                    z
                }
                None => raw_rows,
            };
            chunk_through(layers, input, out_rows, n, r0, even, odd)?;
            r0 += n;
        }
        Ok(())
    })
}

/// Runs `n` rows of (mapped) `input` through every layer into `out`,
/// the layers between using `even` and `odd` in turn. `r0` is the first
/// row's index in the whole batch, for error messages.
fn chunk_through(
    layers: &[Rbm],
    input: &[f32],
    out: &mut [f32],
    n: usize,
    r0: usize,
    even: &mut [f32],
    odd: &mut [f32],
) -> Result<()> {
    let last = layers.len() - 1;
    let mut bufs = [even, odd];
    for (i, layer) in layers.iter().enumerate() {
        let h = layer.n_hidden;
        if i == last {
            let x: &[f32] = if i == 0 {
                input
            } else {
                &bufs[(i - 1) % 2][..n * layer.n_visible]
            };
            layer.hidden_means_into(x, out, n);
        } else {
            let [a, b] = &mut bufs;
            let (src, dst) = if i % 2 == 0 { (&*b, a) } else { (&*a, b) };
            let x: &[f32] = if i == 0 {
                input
            } else {
                &src[..n * layer.n_visible]
            };
            let y = &mut dst[..n * h];
            layer.hidden_means_into(x, y, n);
            // The next layer's input, checked as `Rbm::hidden_means` checks
            // its input.
            check_finite_from(y, h, r0)?;
        }
    }
    Ok(())
}

/// [`check_finite`] on rows that start at row `r0` of the whole batch.
fn check_finite_from(data: &[f32], width: usize, r0: usize) -> Result<()> {
    check_finite(data, width).map_err(|e| match e {
        RbmError::NonFinite { row, col, value } => RbmError::NonFinite {
            row: row + r0,
            col,
            value,
        },
        other => other,
    })
}
