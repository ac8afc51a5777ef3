//! A layer pass of the trainer: `mean = act(input · W + bias)` for a block
//! of rows, plus the samples the step needs, split between the worker
//! threads by columns (the product and the means) and by row blocks (the
//! draws) in ways that do not change a bit.

use super::ROW_BLOCK;
use crate::kernels::{Accumulate, Activation, Kernels, MatMut, MatRef, Product, Sampler, Stream};
use crate::parallel::{Balance, Workers};
use crate::rbm::{
    Rbm, VisibleUnit, add_unit_noise, hidden_mean_activation, hidden_sampler,
    visible_mean_activation,
};

/// What a layer pass samples besides the means.
#[derive(Clone, Copy)]
pub(super) enum Draw {
    None,
    Hidden(Sampler),
    BernoulliVisible,
    GaussianVisible,
}

/// A layer pass: `mean = activation(input · weights + bias)`, plus samples.
#[derive(Clone, Copy)]
pub(super) struct Layer<'a> {
    /// `W` (V × H) for a pass up, its transpose for a pass down.
    weights: MatRef<'a>,
    bias: &'a [f32],
    activation: Activation,
    draw: Draw,
    /// Write `-mean` instead of `mean` (the negative hidden statistics, for
    /// the gradient product `[X; v⁻]ᵀ [h⁺; −h⁻]`).
    negate_mean: bool,
}

impl<'a> Layer<'a> {
    /// The pass up, `act(vW + c)`, drawing hidden samples.
    pub(super) fn up(rbm: &'a Rbm) -> Layer<'a> {
        Layer {
            weights: MatRef::row_major(&rbm.weights, rbm.n_visible, rbm.n_hidden),
            bias: &rbm.hidden_bias,
            activation: hidden_mean_activation(rbm.hidden, rbm.nrelu_mean),
            draw: Draw::Hidden(hidden_sampler(rbm.hidden)),
            negate_mean: false,
        }
    }

    /// The pass down, `act(hWᵀ + b)`, drawing visible samples.
    pub(super) fn down(rbm: &'a Rbm) -> Layer<'a> {
        Layer {
            weights: MatRef::row_major(&rbm.weights, rbm.n_visible, rbm.n_hidden).transpose(),
            bias: &rbm.visible_bias,
            activation: visible_mean_activation(rbm.visible),
            draw: match rbm.visible {
                VisibleUnit::Bernoulli => Draw::BernoulliVisible,
                VisibleUnit::Gaussian => Draw::GaussianVisible,
            },
            negate_mean: false,
        }
    }

    /// The same pass with its samples drawn only if `draw` is true.
    pub(super) fn drawing_if(self, draw: bool) -> Layer<'a> {
        Layer {
            draw: if draw { self.draw } else { Draw::None },
            ..self
        }
    }

    /// The same pass with `activation` for its means (the draws keep the
    /// layer's sampler): `Activation::Identity` writes the pre-activations
    /// with the bias, as tempering needs for its energies.
    pub(super) fn with_activation(self, activation: Activation) -> Layer<'a> {
        Layer { activation, ..self }
    }

    /// The same pass writing `-mean` if `negate` is true.
    pub(super) fn negating_means_if(self, negate: bool) -> Layer<'a> {
        Layer {
            negate_mean: negate,
            ..self
        }
    }
}

/// What every layer pass of a trainer shares: the kernels, the worker
/// threads, the per-block random streams, and whether Gaussian visible
/// units are sampled.
pub(super) struct PassContext<'a> {
    pub(super) kernels: Kernels,
    pub(super) workers: &'a Workers,
    pub(super) streams: &'a mut [Stream],
    pub(super) sample_visible: bool,
}

/// One layer pass: `rows` rows of `input` through `layer`, writing the
/// means into `means` and, if the layer draws, the samples into `samples`
/// (both `rows` rows of the layer's output width; the buffers may be
/// longer).
pub(super) struct Pass<'a, 'l> {
    pub(super) layer: &'a Layer<'l>,
    pub(super) balance: &'a PassBalance,
    pub(super) input: &'a [f32],
    pub(super) rows: usize,
    pub(super) means: &'a mut [f32],
    pub(super) samples: &'a mut [f32],
}

/// The cuts of a layer pass: its product (with the means) by columns, and
/// its draws by row blocks.
pub(super) struct PassBalance {
    pub(super) product: Balance,
    pub(super) draws: Balance,
}

impl PassBalance {
    pub(super) fn new(workers: &Workers) -> PassBalance {
        PassBalance {
            product: workers.balance(),
            draws: workers.balance(),
        }
    }
}

impl PassContext<'_> {
    /// Runs `pass`. The product is split by columns: each thread reads
    /// only its block of the weights (matrixmultiply packs it; the AVX-512
    /// kernel reads it in place), and every row stays in one call (a row
    /// split made matrixmultiply repack all the weights per thread and
    /// left ragged row tiles on each; see docs/benchmarks.md). The call
    /// gives the product whole 16-row tiles only and computes the last
    /// `rows % 16` rows with the small-row kernel's arithmetic (a batch of
    /// 100 would otherwise cost 112 rows of work); either part has the same
    /// bits for any column split.
    ///
    /// The means are element-wise, so they are computed in the same
    /// parallel region, on the block the thread has just written: in place
    /// without samples; with samples the product goes to `samples` (the
    /// pre-activations the samplers need) and the means from there to
    /// `means`, which leaves the sampling region only the draws (no copy of
    /// the pre-activations, and no pass over columns another thread
    /// wrote). Negated means (`layer.negate_mean`) are negated there too.
    /// Element-wise work, so the same bits for any split.
    pub(super) fn run(&mut self, pass: Pass<'_, '_>) {
        let Pass {
            layer,
            balance,
            input,
            rows,
            means,
            samples,
        } = pass;
        let (in_w, out_w) = (layer.weights.rows, layer.weights.cols);
        let input = MatRef::row_major(&input[..rows * in_w], rows, in_w);
        let means = MatMut::row_major(&mut means[..rows * out_w], rows, out_w);
        if matches!(layer.draw, Draw::None) {
            self.product_and_means(layer, &balance.product, input, means);
            return;
        }
        let pre = MatMut::row_major(&mut samples[..rows * out_w], rows, out_w);
        self.product_means_and_preactivations(layer, &balance.product, input, pre, means);
        self.draw(layer, &balance.draws, &mut samples[..rows * out_w]);
    }

    /// `means = act(input · W + bias)` (negated if the layer says so), in
    /// place, split by column tiles.
    fn product_and_means(
        &self,
        layer: &Layer<'_>,
        bal: &Balance,
        input: MatRef<'_>,
        means: MatMut<'_>,
    ) {
        let k = self.kernels;
        self.workers.for_col_tiles(bal, means, |j0, mut c| {
            let j1 = layer_product(k, layer, input, j0, c.reborrow());
            for r in 0..c.rows() {
                layer_means(k, layer, j0, j1, None, c.row_mut(r));
            }
        });
    }

    /// The pre-activations `input · W` into `pre` and the means computed
    /// from them into `means`, split by the same column tiles of both.
    fn product_means_and_preactivations(
        &self,
        layer: &Layer<'_>,
        bal: &Balance,
        input: MatRef<'_>,
        pre: MatMut<'_>,
        means: MatMut<'_>,
    ) {
        let k = self.kernels;
        self.workers
            .for_col_tiles_pair(bal, pre, means, |j0, mut pre, mut c| {
                let j1 = layer_product(k, layer, input, j0, pre.reborrow());
                for r in 0..c.rows() {
                    layer_means(k, layer, j0, j1, Some(pre.row_mut(r)), c.row_mut(r));
                }
            });
    }

    /// The draws of the layer, in place on the pre-activations `pre`, split
    /// by row blocks with their streams.
    fn draw(&mut self, layer: &Layer<'_>, bal: &Balance, pre: &mut [f32]) {
        let (k, sample_visible) = (self.kernels, self.sample_visible);
        let out_w = layer.weights.cols;
        self.workers
            .for_block_streams(bal, ROW_BLOCK, (pre, out_w), self.streams, |s, streams| {
                for (bi, block) in s.chunks_mut(ROW_BLOCK * out_w).enumerate() {
                    draw_block(k, layer, sample_visible, block, &mut streams[bi]);
                }
            });
    }
}

/// Columns `j0..` of `input · layer.weights` into `c`, unpadded; returns
/// the end column.
fn layer_product(
    k: Kernels,
    layer: &Layer<'_>,
    input: MatRef<'_>,
    j0: usize,
    c: MatMut<'_>,
) -> usize {
    let j1 = j0 + c.cols();
    k.product(
        input,
        layer.weights.cols_range(j0, j1),
        c,
        Product::new(Accumulate::Overwrite),
    );
    j1
}

/// The means of columns `j0..j1` of one row into `out`: from `pre` when
/// given, else in place on `out`; negated if the layer says so.
fn layer_means(
    k: Kernels,
    layer: &Layer<'_>,
    j0: usize,
    j1: usize,
    pre: Option<&[f32]>,
    out: &mut [f32],
) {
    let bias = &layer.bias[j0..j1];
    match pre {
        Some(pre) => k.activate_from(layer.activation, bias, pre, out),
        None => k.activate(layer.activation, bias, out),
    }
    if layer.negate_mean {
        for a in out.iter_mut() {
            *a = -*a;
        }
    }
}

/// The samples of one block of rows, in place on its pre-activations, from
/// the block's stream: all rows in one kernel call (the same bits as one
/// call per row), or row by row for Gaussian visible units.
fn draw_block(
    k: Kernels,
    layer: &Layer<'_>,
    sample_visible: bool,
    block: &mut [f32],
    stream: &mut Stream,
) {
    let out_w = layer.weights.cols;
    match layer.draw {
        Draw::Hidden(sampler) => k.sample_rows(sampler, layer.bias, block, out_w, stream),
        Draw::BernoulliVisible => {
            k.sample_rows(Sampler::Bernoulli, layer.bias, block, out_w, stream)
        }
        Draw::GaussianVisible => {
            for row in block.chunks_mut(out_w) {
                k.activate(Activation::Identity, layer.bias, row);
                if sample_visible {
                    add_unit_noise(row, stream);
                }
            }
        }
        Draw::None => unreachable!("passes without samples draw nothing"),
    }
}
