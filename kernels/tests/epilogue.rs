//! Fused affine transforms `act(X·W + b)` against an f64 reference
//! product, for both weight layouts, every schedule and every path.

mod common;

use common::forms::{AffineShape, Forms, WeightLayout, data};
use common::*;
use nrelu_rbm_kernels::{Activation, Epilogue, Kernels, Sampler, Schedule, Stream, reference};

const SHAPES: [(usize, usize, usize); 7] = [
    (0, 3, 4),
    (1, 1, 1),
    (3, 17, 5),
    (7, 33, 19),
    (2, 0, 3),
    (16, 64, 17),
    (33, 100, 50),
];

const STRATEGIES: [Schedule; 5] = [
    Schedule::Unfused,
    Schedule::Fused,
    Schedule::RowBlocked(1),
    Schedule::RowBlocked(7),
    Schedule::RowBlocked(32),
];

/// (X·W + b) in f64, and Σ|x||w| per element for the error bound.
fn reference_product(shape: AffineShape, x: &[f32], w: &[f32], b: &[f32]) -> Vec<(f64, f64)> {
    let AffineShape {
        batch,
        n_in,
        n_out,
        layout,
    } = shape;
    let mut y = Vec::with_capacity(batch * n_out);
    for r in 0..batch {
        for j in 0..n_out {
            let (mut s, mut a) = (0f64, 0f64);
            for k in 0..n_in {
                let wk = match layout {
                    WeightLayout::InOut => w[k * n_out + j],
                    WeightLayout::OutIn => w[j * n_in + k],
                };
                s += f64::from(x[r * n_in + k]) * f64::from(wk);
                a += (f64::from(x[r * n_in + k]) * f64::from(wk)).abs();
            }
            let bj = b.get(j).copied().map_or(0.0, f64::from);
            y.push((s + bj, a + bj.abs()));
        }
    }
    y
}

#[test]
fn activations_match_the_f64_reference_for_both_layouts() {
    // Bound: the f32 product of n_in terms is within (n_in + 1) eps Σ|x w|
    // of the exact sum (eps = 2^-24), and σ adds at most 4 ulp while being
    // 1/4-Lipschitz.
    let eps = 2f64.powi(-24);
    for k in all_kernels() {
        for (batch, n_in, n_out) in SHAPES {
            for layout in [WeightLayout::InOut, WeightLayout::OutIn] {
                let shape = AffineShape {
                    batch,
                    n_in,
                    n_out,
                    layout,
                };
                let x = data(batch * n_in, 1);
                let w = data(n_in * n_out, 2);
                let b = data(n_out, 3);
                let want = reference_product(shape, &x, &w, &b);
                for strategy in STRATEGIES {
                    for act in [Activation::Identity, Activation::Sigmoid, Activation::Relu] {
                        let mut out = nan_buf(batch * n_out, 4);
                        let e = Epilogue::Activation(act);
                        k.affine_with(strategy, shape, &x, &w, &b, e, &mut out[..batch * n_out]);
                        assert_guard(&out, batch * n_out, "affine");
                        for (i, &(y, mag)) in want.iter().enumerate() {
                            let bound = (n_in as f64 + 2.0) * eps * mag;
                            let (exact, slack) = match act {
                                Activation::Sigmoid => (
                                    reference::sigmoid(y),
                                    0.25 * bound + 4.0 * reference::f32_spacing(0.5),
                                ),
                                Activation::Relu => (y.max(0.0), bound),
                                _ => (y, bound),
                            };
                            let got = f64::from(out[i]);
                            assert!(
                                (got - exact).abs() <= slack + 1e-30,
                                "{} {strategy:?} {act:?} {shape:?} [{i}]: {got} vs {exact}",
                                k.path()
                            );
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn every_strategy_and_path_gives_identical_samples() {
    use nrelu_rbm_kernels::{Accumulate, MatMut, MatRef};
    let x = data(37 * 29, 4);
    let w = data(29 * 23, 5);
    let b = data(23, 6);
    let scalar = Kernels::new(nrelu_rbm_kernels::Path::Scalar).unwrap();
    for layout in [WeightLayout::InOut, WeightLayout::OutIn] {
        let shape = AffineShape {
            batch: 37,
            n_in: 29,
            n_out: 23,
            layout,
        };
        let wv = match layout {
            WeightLayout::InOut => MatRef::row_major(&w, 29, 23),
            WeightLayout::OutIn => MatRef::row_major(&w, 23, 29).transpose(),
        };
        for sampler in [
            Sampler::Bernoulli,
            Sampler::Nrelu,
            Sampler::Binomial(bin(3)),
            Sampler::Ssu,
        ] {
            // Reference: the unpadded product of the whole batch (rows 0..32
            // through sgemm, 32..37 through the small-row kernel), then one
            // sampler call per row.
            let mut want = vec![0.0; 37 * 23];
            scalar.gemm_into_unpadded(
                MatRef::row_major(&x, 37, 29),
                wv,
                Accumulate::Overwrite,
                MatMut::row_major(&mut want, 37, 23),
            );
            let mut ws = Stream::new(7, 7);
            for row in want.chunks_exact_mut(23) {
                scalar.sample(sampler, &b, row, &mut ws);
            }
            for k in all_kernels() {
                for strategy in STRATEGIES {
                    let mut got = vec![f32::NAN; 37 * 23];
                    let mut gs = Stream::new(7, 7);
                    let e = Epilogue::Sample(sampler, &mut gs);
                    k.affine_with(strategy, shape, &x, &w, &b, e, &mut got);
                    // sgemm may use FMA differently per CPU but not per
                    // strategy or path here: the sgemm rows are the same
                    // matrixmultiply arithmetic in any row blocks, and the
                    // small-row kernel's rows the same plain arithmetic on
                    // every path, whichever block they fall in.
                    assert!(
                        same_bits(&got, &want),
                        "{layout:?} {sampler:?} {strategy:?} on {}",
                        k.path()
                    );
                    assert_eq!(gs, ws);
                }
            }
        }
    }
}

#[test]
fn transposed_layout_equals_explicit_transpose() {
    let (batch, n_in, n_out) = (5, 13, 11);
    let x = data(batch * n_in, 8);
    let w_out_in = data(n_out * n_in, 9);
    let mut w_in_out = vec![0.0; n_in * n_out];
    for j in 0..n_out {
        for kk in 0..n_in {
            w_in_out[kk * n_out + j] = w_out_in[j * n_in + kk];
        }
    }
    let k = Kernels::active();
    let mut a = vec![0.0; batch * n_out];
    let mut b = vec![0.0; batch * n_out];
    let s = |layout| AffineShape {
        batch,
        n_in,
        n_out,
        layout,
    };
    let e = || Epilogue::Activation(Activation::Softplus);
    k.affine(s(WeightLayout::OutIn), &x, &w_out_in, &[], e(), &mut a);
    k.affine(s(WeightLayout::InOut), &x, &w_in_out, &[], e(), &mut b);
    for (p, q) in a.iter().zip(&b) {
        assert!((p - q).abs() <= 1e-5 * p.abs().max(1.0));
    }
}
