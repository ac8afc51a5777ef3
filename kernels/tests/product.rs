//! Every form of [`Kernels::product`] (padded, unpadded, scaled) against an
//! f64 reference, for its bits under row and column splits and against
//! matrixmultiply on every path.

mod common;

use common::forms::{Forms, data};
use common::*;
use nrelu_rbm_kernels::Kernels;

#[test]
#[should_panic(expected = "product B: a 2 × 4 view with strides (4, 1) does not fit in 6 elements")]
fn shape_mismatch_panics_with_a_clear_message() {
    use nrelu_rbm_kernels::{Accumulate, MatMut, MatRef, Product};
    let mut out = [0.0; 4];
    Kernels::active().product(
        MatRef::row_major(&[1.0, 2.0], 1, 2),
        MatRef::row_major(&[0.0; 6], 2, 4),
        MatMut::row_major(&mut out, 1, 4),
        Product::new(Accumulate::Overwrite).padded(),
    );
}

/// [`assert_product_matches_f64`] for an `Accumulate` mode (α = ±1,
/// β ∈ {0, 1}): each of the k products and k sums (and the final
/// accumulation) rounds once, hence k + 2 roundings.
#[allow(clippy::too_many_arguments)]
fn assert_gemm_matches_f64(
    c: &[f32],
    c0: &[f32],
    dims: (usize, usize, usize),
    a: impl Fn(usize, usize) -> f32,
    b: impl Fn(usize, usize) -> f32,
    acc: nrelu_rbm_kernels::Accumulate,
    what: &str,
) {
    use nrelu_rbm_kernels::Accumulate;
    let ab = match acc {
        Accumulate::Overwrite => (1.0, 0.0),
        Accumulate::Add => (1.0, 1.0),
        Accumulate::Subtract => (-1.0, 1.0),
    };
    assert_product_matches_f64(c, c0, dims, a, b, ab, 2.0, &format!("{what} {acc:?}"));
}

#[test]
fn gemm_matches_reference_on_strided_views() {
    use nrelu_rbm_kernels::{Accumulate, MatRef};
    let (m, k, n) = (13, 29, 11);
    // A stored transposed (k × m), B row-major (k × n).
    let at = data(k * m, 10);
    let b = data(k * n, 11);
    let a = MatRef::row_major(&at, k, m).transpose();
    let bm = MatRef::row_major(&b, k, n);
    let c0 = data(m * n, 12);
    for acc in [Accumulate::Overwrite, Accumulate::Add, Accumulate::Subtract] {
        let mut c = c0.clone();
        Kernels::active().gemm(a, bm, acc, &mut c);
        let (ae, be) = (|i, kk| at[kk * m + i], |kk, j| b[kk * n + j]);
        assert_gemm_matches_f64(&c, &c0, (m, k, n), ae, be, acc, "strided A");
    }
}

/// The property the trainer's thread split relies on: computing a product
/// in row blocks gives exactly the bits of the whole product, for any split.
#[test]
fn gemm_row_splits_are_bit_identical_to_the_whole() {
    use nrelu_rbm_kernels::{Accumulate, MatRef};
    let (m, k, n) = (203, 100, 131);
    let x = data(m * k, 13);
    let w = data(k * n, 14);
    let kern = Kernels::active();
    for acc in [Accumulate::Overwrite, Accumulate::Subtract] {
        let base = data(m * n, 15);
        let mut whole = base.clone();
        let a = MatRef::row_major(&x, m, k);
        let b = MatRef::row_major(&w, k, n);
        kern.gemm(a, b, acc, &mut whole);
        for splits in [vec![1, 7, 100], vec![13, 64, 150, 202], vec![101]] {
            let mut parts = base.clone();
            let mut bounds = vec![0];
            bounds.extend(splits);
            bounds.push(m);
            for win in bounds.windows(2) {
                let (r0, r1) = (win[0], win[1]);
                kern.gemm(a.rows_range(r0, r1), b, acc, &mut parts[r0 * n..r1 * n]);
            }
            assert!(same_bits(&parts, &whole), "{acc:?} split {bounds:?}");
        }
        // Transposed A (the gradient's Xᵀ·H), split by rows of the result.
        let xt = MatRef::row_major(&x, m, k).transpose(); // k × m
        let h = data(m * n, 16);
        let hb = MatRef::row_major(&h, m, n);
        let mut whole = vec![0.0; k * n];
        kern.gemm(xt, hb, Accumulate::Overwrite, &mut whole);
        let mut parts = vec![0.0; k * n];
        for (r0, r1) in [(0, 37), (37, 38), (38, 100)] {
            kern.gemm(
                xt.rows_range(r0, r1),
                hb,
                Accumulate::Overwrite,
                &mut parts[r0 * n..r1 * n],
            );
        }
        assert!(same_bits(&parts, &whole), "transposed split");
    }
}

// ---- MatMut views and gemm_into: the column split the trainer uses to
// share one product between threads gives exactly the bits of the whole
// product, and split views never overlap.

use nrelu_rbm_kernels::{Accumulate, MatMut, MatRef, Path};

/// Splits `c` (rows × n) at the column bounds and runs one `gemm_into` per
/// block, each on its own thread.
fn by_columns(
    k: Kernels,
    a: MatRef<'_>,
    b: MatRef<'_>,
    acc: Accumulate,
    c: &mut [f32],
    bounds: &[usize],
) {
    let n = b.cols;
    let mut rest = MatMut::row_major(c, a.rows, n);
    let mut blocks = Vec::new();
    let mut at = 0;
    for &j in &bounds[1..] {
        let (block, r) = rest.split_at_col(j - at);
        blocks.push((at, block));
        rest = r;
        at = j;
    }
    assert_eq!(rest.cols(), 0);
    std::thread::scope(|s| {
        for (j0, block) in blocks {
            s.spawn(move || {
                let j1 = j0 + block.cols();
                k.gemm_into(a, b.cols_range(j0, j1), acc, block);
            });
        }
    });
}

#[test]
fn column_splits_are_bit_identical_to_the_whole() {
    let (m, kk, n) = (101, 157, 203);
    let x = data(m * kk, 1);
    let w = data(kk * n, 2);
    let wt = data(n * kk, 3); // n × k, read transposed (the H·Wᵀ product)
    for path in Path::available() {
        let k = Kernels::new(path).expect("available");
        for acc in [Accumulate::Overwrite, Accumulate::Add, Accumulate::Subtract] {
            for (bname, b) in [
                ("row-major B", MatRef::row_major(&w, kk, n)),
                ("transposed B", MatRef::row_major(&wt, n, kk).transpose()),
            ] {
                let a = MatRef::row_major(&x, m, kk);
                let base = data(m * n, 4);
                let mut whole = base.clone();
                k.gemm(a, b, acc, &mut whole);
                for bounds in [
                    vec![0, 102, 203],
                    vec![0, 16, 32, 200, 203],
                    vec![0, 1, 203],
                    vec![0, 0, 203],
                ] {
                    let mut parts = base.clone();
                    by_columns(k, a, b, acc, &mut parts, &bounds);
                    assert!(
                        same_bits(&parts, &whole),
                        "{path:?} {acc:?} {bname} split at {bounds:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn split_views_cover_every_element_once() {
    // Fill each block of a 2-level split with its own id: every element is
    // written by exactly one view.
    let (m, n) = (7, 11);
    let mut c = vec![0.0f32; m * n];
    let ones = vec![1.0f32; m];
    let k = Kernels::active();
    let (top, bottom) = MatMut::row_major(&mut c, m, n).split_at_row(3);
    let (tl, tr) = top.split_at_col(5);
    let (bl, br) = bottom.split_at_col(2);
    for (id, view) in [(1.0f32, tl), (2.0, tr), (3.0, bl), (4.0, br)] {
        // C = 1 (rows × 1) · id (1 × cols): a constant block.
        let (r, cols) = (view.rows(), view.cols());
        let row = vec![id; cols];
        k.gemm_into(
            MatRef::row_major(&ones[..r], r, 1),
            MatRef::row_major(&row, 1, cols),
            Accumulate::Add,
            view,
        );
    }
    for i in 0..m {
        for j in 0..n {
            let want = match (i < 3, j < if i < 3 { 5 } else { 2 }) {
                (true, true) => 1.0,
                (true, false) => 2.0,
                (false, true) => 3.0,
                (false, false) => 4.0,
            };
            assert_eq!(c[i * n + j], want, "({i}, {j})");
        }
    }
}

#[test]
fn zero_inner_dimension_clears_only_the_view() {
    let mut c = vec![5.0f32; 12];
    let (_, right) = MatMut::row_major(&mut c, 3, 4).split_at_col(1);
    Kernels::active().gemm_into(
        MatRef::row_major(&[], 3, 0),
        MatRef::row_major(&[], 0, 3),
        Accumulate::Overwrite,
        right,
    );
    assert_eq!(c, [5., 0., 0., 0., 5., 0., 0., 0., 5., 0., 0., 0.]);
}

#[test]
#[should_panic(expected = "does not match")]
fn a_view_of_the_wrong_shape_panics() {
    let mut c = vec![0.0f32; 6];
    let (left, _) = MatMut::row_major(&mut c, 2, 3).split_at_col(2);
    let a = [1.0f32; 2];
    let b = [1.0f32; 3];
    Kernels::active().gemm_into(
        MatRef::row_major(&a, 2, 1),
        MatRef::row_major(&b, 1, 3),
        Accumulate::Overwrite,
        left,
    );
}

#[test]
#[should_panic(expected = "split at column 4 of 3")]
fn splitting_past_the_end_panics() {
    let mut c = vec![0.0f32; 6];
    let _ = MatMut::row_major(&mut c, 2, 3).split_at_col(4);
}

// ---- gemm_into_unpadded: sgemm on whole 16-row tiles, the small-row kernel
// for the rest. Checked against the f64 reference on every path, for both
// layouts of B the kernel handles, every accumulation mode and awkward
// shapes; its bits must not depend on the path or on a column split.

/// `C (= | += | −=) A·B` with A row-major (m × k), B row-major (k × n) or the
/// transposed view of an n × k matrix, C starting from `c0`.
fn unpadded(
    kern: Kernels,
    (m, k, n): (usize, usize, usize),
    x: &[f32],
    bdata: &[f32],
    transposed: bool,
    acc: Accumulate,
    c0: &[f32],
) -> Vec<f32> {
    let a = MatRef::row_major(x, m, k);
    let b = if transposed {
        MatRef::row_major(bdata, n, k).transpose()
    } else {
        MatRef::row_major(bdata, k, n)
    };
    let mut c = c0.to_vec();
    kern.gemm_into_unpadded(a, b, acc, MatMut::row_major(&mut c, m, n));
    c
}

#[test]
fn unpadded_gemm_matches_the_f64_reference_on_every_path() {
    let ms = [0, 1, 3, 4, 5, 15, 16, 17, 20, 37, 100];
    let ks = [1, 7, 16, 17, 100];
    let ns = [1, 3, 15, 16, 17, 63, 64, 65, 131];
    for kern in all_kernels() {
        for &m in &ms {
            for &k in &ks {
                for &n in &ns {
                    let x = data(m * k, (m * 1000 + k) as u64);
                    let bd = data(k * n, (k * 1000 + n) as u64 + 7);
                    let c0 = data(m * n, 99);
                    for transposed in [false, true] {
                        for acc in [Accumulate::Overwrite, Accumulate::Add, Accumulate::Subtract] {
                            let c = unpadded(kern, (m, k, n), &x, &bd, transposed, acc, &c0);
                            let be = |kk, j| {
                                if transposed {
                                    bd[j * k + kk]
                                } else {
                                    bd[kk * n + j]
                                }
                            };
                            let what = format!("{:?} transposed={transposed}", kern.path());
                            let ae = |i, kk| x[i * k + kk];
                            assert_gemm_matches_f64(&c, &c0, (m, k, n), ae, be, acc, &what);
                        }
                    }
                }
            }
        }
    }
}

/// The same bits, except that any NaN matches any NaN (the paths promise
/// identical bits for everything but NaN payloads).
fn same_bits_or_nan(a: &[f32], b: &[f32]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()))
}

#[test]
fn unpadded_gemm_has_the_same_bits_on_every_path_and_column_split() {
    // Special values included: ±inf, overflow and NaN must come out the
    // same too (every path runs the same IEEE operations; NaN payloads are
    // not compared).
    let (m, k, n) = (37, 45, 83);
    let mut x = data(m * k, 21);
    for (i, s) in SPECIALS.iter().enumerate() {
        x[(33 + i % 4) * k + (i * 7) % k] = *s;
    }
    let mut bd = data(k * n, 22);
    bd[5] = 1e30;
    bd[k * n - 3] = -f32::INFINITY;
    let c0 = data(m * n, 23);
    let paths = all_kernels();
    for transposed in [false, true] {
        for acc in [Accumulate::Overwrite, Accumulate::Add, Accumulate::Subtract] {
            let first = unpadded(paths[0], (m, k, n), &x, &bd, transposed, acc, &c0);
            for &kern in &paths[1..] {
                let other = unpadded(kern, (m, k, n), &x, &bd, transposed, acc, &c0);
                assert!(
                    same_bits_or_nan(&first, &other),
                    "{:?} vs {:?}, transposed={transposed} {acc:?}",
                    paths[0].path(),
                    kern.path()
                );
            }
            // Column splits, each block on its own thread.
            let b = if transposed {
                MatRef::row_major(&bd, n, k).transpose()
            } else {
                MatRef::row_major(&bd, k, n)
            };
            let a = MatRef::row_major(&x, m, k);
            for bounds in [vec![0, 1, 83], vec![0, 16, 40, 83], vec![0, 64, 83]] {
                let mut parts = c0.clone();
                let mut rest = MatMut::row_major(&mut parts, m, n);
                let mut blocks = Vec::new();
                let mut at = 0;
                for &j in &bounds[1..] {
                    let (block, r) = rest.split_at_col(j - at);
                    blocks.push((at, block));
                    rest = r;
                    at = j;
                }
                let kern = paths[paths.len() - 1];
                std::thread::scope(|s| {
                    for (j0, block) in blocks {
                        s.spawn(move || {
                            let j1 = j0 + block.cols();
                            kern.gemm_into_unpadded(a, b.cols_range(j0, j1), acc, block);
                        });
                    }
                });
                assert!(
                    same_bits_or_nan(&parts, &first),
                    "split {bounds:?} transposed={transposed} {acc:?}"
                );
            }
        }
    }
}

#[test]
fn unpadded_gemm_propagates_nan_and_infinity_to_the_right_elements() {
    // A NaN in row 35 of A (a small-row row) makes that row of C NaN and no
    // other; +inf in column 2 of B makes column 2 of C infinite where A is
    // positive (A >= 0.5 here, so no 0·inf).
    let (m, k, n) = (36, 20, 40);
    let mut x: Vec<f32> = (0..m * k).map(|i| 0.5 + (i % 5) as f32 * 0.1).collect();
    x[35 * k + 3] = f32::NAN;
    let mut bd: Vec<f32> = (0..k * n).map(|i| (i % 7) as f32 * 0.1).collect();
    bd[4 * n + 2] = f32::INFINITY;
    for kern in all_kernels() {
        let c = unpadded(
            kern,
            (m, k, n),
            &x,
            &bd,
            false,
            Accumulate::Overwrite,
            &vec![0.0; m * n],
        );
        for i in 0..m {
            for j in 0..n {
                let v = c[i * n + j];
                if i == 35 {
                    assert!(v.is_nan(), "{:?} ({i}, {j}) = {v}", kern.path());
                } else if j == 2 {
                    assert_eq!(v, f32::INFINITY, "{:?} ({i}, {j})", kern.path());
                } else {
                    assert!(v.is_finite(), "{:?} ({i}, {j}) = {v}", kern.path());
                }
            }
        }
    }
}

#[test]
fn unpadded_gemm_equals_gemm_on_whole_tiles_and_unsupported_views() {
    // 32 rows: no small part, so exactly `gemm_into`; a strided A (column
    // stride 2) is outside the small kernel's contract, so the whole product
    // goes to sgemm as well.
    let kern = Kernels::active();
    let (k, n) = (30, 50);
    let bd = data(k * n, 31);
    let b = MatRef::row_major(&bd, k, n);
    let x = data(32 * k, 32);
    let mut want = vec![0.0; 32 * n];
    kern.gemm(
        MatRef::row_major(&x, 32, k),
        b,
        Accumulate::Overwrite,
        &mut want,
    );
    let got = unpadded(
        kern,
        (32, k, n),
        &x,
        &bd,
        false,
        Accumulate::Overwrite,
        &vec![0.0; 32 * n],
    );
    assert!(same_bits(&got, &want));
    let wide = data(20 * 2 * k, 33);
    let a = MatRef {
        data: &wide,
        rows: 20,
        cols: k,
        row_stride: 2 * k,
        col_stride: 2,
    };
    let mut want = vec![0.0; 20 * n];
    kern.gemm(a, b, Accumulate::Overwrite, &mut want);
    let mut got = vec![0.0; 20 * n];
    kern.gemm_into_unpadded(
        a,
        b,
        Accumulate::Overwrite,
        MatMut::row_major(&mut got, 20, n),
    );
    assert!(same_bits(&got, &want));
}

#[test]
fn unpadded_gemm_reads_a_column_block_of_a_wider_a() {
    // A is columns 3..3+k of a wider row-major matrix (its rows are further
    // apart than its width), B row-major or transposed: the same bits as the
    // product of a compact copy of that block.
    let (m, k, n, wide) = (21, 30, 37, 41);
    let big = data(m * wide, 51);
    let compact: Vec<f32> = (0..m)
        .flat_map(|i| big[i * wide + 3..i * wide + 3 + k].to_vec())
        .collect();
    let bd = data(k * n, 52);
    for kern in all_kernels() {
        for transposed in [false, true] {
            let b = if transposed {
                MatRef::row_major(&bd, n, k).transpose()
            } else {
                MatRef::row_major(&bd, k, n)
            };
            let mut got = vec![0.0; m * n];
            kern.gemm_into_unpadded(
                MatRef::row_major(&big, m, wide).cols_range(3, 3 + k),
                b,
                Accumulate::Overwrite,
                MatMut::row_major(&mut got, m, n),
            );
            let want = unpadded(
                kern,
                (m, k, n),
                &compact,
                &bd,
                transposed,
                Accumulate::Overwrite,
                &vec![0.0; m * n],
            );
            assert!(
                same_bits(&got, &want),
                "{:?} transposed={transposed}",
                kern.path()
            );
        }
    }
}

// ---- gemm_scaled_into: C = α·A·B + β·C, the trainer's folded update.

/// `C = α·A·B + β·C0` (the matrix `a(i, kk)` times the matrix `b(kk, j)`)
/// against an f64 reference: at most k + `roundings` roundings of 2^-24
/// relative to |α|·Σ|a b| + |β c0|.
#[allow(clippy::too_many_arguments)]
fn assert_product_matches_f64(
    c: &[f32],
    c0: &[f32],
    (m, k, n): (usize, usize, usize),
    a: impl Fn(usize, usize) -> f32,
    b: impl Fn(usize, usize) -> f32,
    (alpha, beta): (f32, f32),
    roundings: f64,
    what: &str,
) {
    let eps = 2f64.powi(-24);
    let (al, be) = (f64::from(alpha), f64::from(beta));
    for i in 0..m {
        for j in 0..n {
            let (mut s, mut mag) = (0f64, 0f64);
            for kk in 0..k {
                let p = f64::from(a(i, kk)) * f64::from(b(kk, j));
                s += p;
                mag += p.abs();
            }
            let base = if beta == 0.0 {
                0.0
            } else {
                be * f64::from(c0[i * n + j])
            };
            let want = al * s + base;
            let tol = (k as f64 + roundings) * eps * (al.abs() * mag + base.abs());
            let got = f64::from(c[i * n + j]);
            assert!(
                (got - want).abs() <= tol,
                "{what} {m}×{k}×{n} α={alpha} β={beta} ({i}, {j}): {got} vs {want}"
            );
        }
    }
}

#[test]
fn scaled_gemm_matches_the_f64_reference() {
    // Ragged tiles in both directions, and k above matrixmultiply's 256-deep
    // blocks (so later blocks accumulate with β = 1).
    for (m, k, n) in [(37, 29, 45), (16, 300, 16), (1, 1, 1), (50, 257, 33)] {
        // A stored transposed (k × m), as the trainer's [X; v⁻]ᵀ.
        let at = data(k * m, 40);
        let b = data(k * n, 41);
        let a = MatRef::row_major(&at, k, m).transpose();
        let bm = MatRef::row_major(&b, k, n);
        let c0 = data(m * n, 42);
        for (alpha, beta) in [(0.37f32, 1.0f32), (-0.01, 0.999), (0.5, 0.0), (1.0, 0.5)] {
            let mut c = c0.clone();
            Kernels::active().gemm_scaled_into(a, bm, alpha, beta, MatMut::row_major(&mut c, m, n));
            let (ae, be) = (|i, kk| at[kk * m + i], |kk, j| b[kk * n + j]);
            // The scaling adds one rounding: k + 3.
            assert_product_matches_f64(&c, &c0, (m, k, n), ae, be, (alpha, beta), 3.0, "scaled");
        }
    }
}

#[test]
fn scaled_gemm_splits_at_multiples_of_16_are_bit_identical_to_the_whole() {
    let (m, k, n) = (203, 200, 131);
    let at = data(k * m, 43);
    let b = data(k * n, 44);
    let a = MatRef::row_major(&at, k, m).transpose();
    let bm = MatRef::row_major(&b, k, n);
    let c0 = data(m * n, 45);
    let kern = Kernels::active();
    let (alpha, beta) = (0.013f32, 0.9f32);
    let mut whole = c0.clone();
    kern.gemm_scaled_into(a, bm, alpha, beta, MatMut::row_major(&mut whole, m, n));
    // Row splits, as the trainer's gradient region cuts them.
    for bounds in [
        vec![0, 16, 203],
        vec![0, 64, 112, 192, 203],
        vec![0, 96, 203],
    ] {
        let mut parts = c0.clone();
        for win in bounds.windows(2) {
            let (r0, r1) = (win[0], win[1]);
            kern.gemm_scaled_into(
                a.rows_range(r0, r1),
                bm,
                alpha,
                beta,
                MatMut::row_major(&mut parts[r0 * n..r1 * n], r1 - r0, n),
            );
        }
        assert!(same_bits(&parts, &whole), "row split {bounds:?}");
    }
    // Column splits.
    for split in [16, 64, 112] {
        let mut parts = c0.clone();
        let c = MatMut::row_major(&mut parts, m, n);
        let (left, right) = c.split_at_col(split);
        kern.gemm_scaled_into(a, bm.cols_range(0, split), alpha, beta, left);
        kern.gemm_scaled_into(a, bm.cols_range(split, n), alpha, beta, right);
        assert!(same_bits(&parts, &whole), "column split {split}");
    }
}

#[test]
fn scaled_gemm_with_beta_zero_does_not_read_c_and_k_zero_scales_c() {
    let (m, k, n) = (19, 7, 17);
    let a = data(m * k, 46);
    let b = data(k * n, 47);
    let (am, bm) = (MatRef::row_major(&a, m, k), MatRef::row_major(&b, k, n));
    for kern in all_kernels() {
        let mut c = vec![f32::NAN; m * n];
        kern.gemm_scaled_into(am, bm, 0.5, 0.0, MatMut::row_major(&mut c, m, n));
        assert!(c.iter().all(|v| v.is_finite()), "{:?}", kern.path());
        // An empty inner dimension: C = β·C, and 0 for β = 0 (NaN ignored).
        let empty_a = MatRef::row_major(&[], m, 0);
        let empty_b = MatRef::row_major(&[], 0, n);
        let c0 = data(m * n, 48);
        let mut c = c0.clone();
        kern.gemm_scaled_into(empty_a, empty_b, 3.0, 0.5, MatMut::row_major(&mut c, m, n));
        let want: Vec<f32> = c0.iter().map(|v| v * 0.5).collect();
        assert!(same_bits(&c, &want), "{:?}", kern.path());
        let mut c = vec![f32::NAN; m * n];
        kern.gemm_scaled_into(empty_a, empty_b, 3.0, 0.0, MatMut::row_major(&mut c, m, n));
        assert!(c.iter().all(|v| *v == 0.0), "{:?}", kern.path());
    }
}

// ---- the product family: every path has matrixmultiply's bits.

/// matrixmultiply's sgemm on the same views: the bits every path's product
/// must reproduce (the AVX-512 path runs the crate's own kernel).
fn matrixmultiply_product(a: MatRef<'_>, b: MatRef<'_>, alpha: f32, beta: f32, c: &mut [f32]) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    assert_eq!(c.len(), m * n);
    assert!(a.data.len() > (m - 1) * a.row_stride + (k - 1) * a.col_stride);
    assert!(b.data.len() > (k - 1) * b.row_stride + (n - 1) * b.col_stride);
    // SAFETY: the asserts above show every addressed element of A and B is
    // inside its slice; `c` is an exclusive m × n row-major buffer.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            alpha,
            a.data.as_ptr(),
            a.row_stride as isize,
            a.col_stride as isize,
            b.data.as_ptr(),
            b.row_stride as isize,
            b.col_stride as isize,
            beta,
            c.as_mut_ptr(),
            n as isize,
            1,
        );
    }
}

/// `data` with special values sprinkled in (every 97th element).
fn with_specials(n: usize, seed: u64) -> Vec<f32> {
    let mut v = data(n, seed);
    for (i, x) in v.iter_mut().enumerate().step_by(97) {
        *x = SPECIALS[(i / 97) % SPECIALS.len()];
    }
    v
}

/// A view of an m × k matrix stored in one of three layouts: row-major,
/// column-major (a transposed view), or with both strides padded.
fn layout(store: &mut Vec<f32>, rows: usize, cols: usize, kind: usize, seed: u64) -> MatRef<'_> {
    match kind {
        0 => {
            *store = data(rows * cols, seed);
            MatRef::row_major(store, rows, cols)
        }
        1 => {
            *store = data(rows * cols, seed);
            MatRef::row_major(store, cols, rows).transpose()
        }
        _ => {
            *store = data(rows * cols * 6 + 3, seed);
            MatRef {
                data: store,
                rows,
                cols,
                row_stride: 3 * cols + 1,
                col_stride: 2,
            }
        }
    }
}

#[test]
fn products_have_matrixmultiplys_bits_on_every_path() {
    // m around the 16-row tiles and the 256-row limit of the AVX-512 kernel,
    // k around matrixmultiply's 256-deep blocks, n around 16-column tiles.
    let shapes = [
        (1, 1, 1),
        (15, 17, 16),
        (16, 16, 17),
        (17, 255, 15),
        (33, 256, 33),
        (96, 257, 50),
        (100, 500, 47),
        (255, 784, 16),
        (256, 40, 31),
        (257, 20, 18),
    ];
    let scalings = [
        (1.0f32, 0.0f32),
        (1.0, 1.0),
        (-1.0, 1.0),
        (-0.013, 0.9),
        (0.5, -0.0),
    ];
    let mut compared = 0usize;
    for (s, &(m, k, n)) in shapes.iter().enumerate() {
        for kind_a in 0..3 {
            for kind_b in 0..3 {
                let seed = (s * 9 + kind_a * 3 + kind_b) as u64;
                let (mut sa, mut sb) = (Vec::new(), Vec::new());
                let a = layout(&mut sa, m, k, kind_a, 100 + seed);
                let b = layout(&mut sb, k, n, kind_b, 200 + seed);
                let c0 = with_specials(m * n, 300 + seed);
                for &(alpha, beta) in &scalings {
                    let mut want = c0.clone();
                    matrixmultiply_product(a, b, alpha, beta, &mut want);
                    for kern in all_kernels() {
                        let mut got = c0.clone();
                        kern.gemm_scaled_into(a, b, alpha, beta, MatMut::row_major(&mut got, m, n));
                        assert!(
                            same_bits_or_nan(&got, &want),
                            "{:?} {m}×{k}×{n} layouts {kind_a}/{kind_b} α={alpha} β={beta}",
                            kern.path()
                        );
                        compared += 1;
                    }
                }
            }
        }
    }
    assert!(compared >= shapes.len() * 9 * scalings.len());
}

#[test]
fn products_have_matrixmultiplys_bits_with_special_inputs() {
    // NaN, ±inf, ±0, 1e30 and subnormals in A and B.
    for &(m, k, n) in &[(20, 33, 18), (96, 300, 40)] {
        let a = with_specials(m * k, 7);
        let b = with_specials(k * n, 8);
        let (am, bm) = (MatRef::row_major(&a, m, k), MatRef::row_major(&b, k, n));
        for &(alpha, beta) in &[(1.0f32, 0.0f32), (-0.5, 1.0)] {
            let c0 = data(m * n, 9);
            let mut want = c0.clone();
            matrixmultiply_product(am, bm, alpha, beta, &mut want);
            assert!(want.iter().any(|v| v.is_nan()) && want.iter().any(|v| v.is_finite()));
            for kern in all_kernels() {
                let mut got = c0.clone();
                kern.gemm_scaled_into(am, bm, alpha, beta, MatMut::row_major(&mut got, m, n));
                assert!(
                    same_bits_or_nan(&got, &want),
                    "{:?} {m}×{k}×{n}",
                    kern.path()
                );
            }
        }
    }
}

#[test]
fn unpadded_tails_in_the_product_pass_have_the_small_kernels_bits() {
    // On the AVX-512 path the last `rows % 16` rows of an unpadded product
    // are summed inside the product's pass over B (row form for row-major
    // B, dot form for B with contiguous columns), across its 256-deep
    // blocks of k; every path must still give the small-row kernel's bits.
    // k above 256 (several blocks) and not a multiple of 16, ragged n,
    // special values.
    // (20, 40, 1100): the dot form's running sums would exceed the fused
    // tail's 256 KB, so it runs as a separate pass (the row form still
    // fuses).
    for &(m, k, n) in &[
        (100, 784, 500),
        (20, 300, 33),
        (17, 513, 16),
        (31, 257, 47),
        (20, 40, 1100),
    ] {
        let mut x = data(m * k, 60);
        for (i, s) in SPECIALS.iter().enumerate() {
            x[(m - 1) * k + (i * 37) % k] = *s;
        }
        let mut bd = data(k * n, 61);
        bd[k * n / 2] = f32::INFINITY;
        let c0 = data(m * n, 62);
        let modes = [Accumulate::Overwrite, Accumulate::Add, Accumulate::Subtract];
        for (transposed, acc) in [false, true]
            .into_iter()
            .flat_map(|t| modes.map(|a| (t, a)))
        {
            let runs: Vec<(Path, Vec<f32>)> = all_kernels()
                .into_iter()
                .map(|kern| {
                    (
                        kern.path(),
                        unpadded(kern, (m, k, n), &x, &bd, transposed, acc, &c0),
                    )
                })
                .collect();
            let tail = m / 16 * 16 * n;
            assert!(
                runs[0].1[tail..].iter().any(|v| v.is_nan()),
                "NaN reaches the tail"
            );
            for (path, c) in &runs[1..] {
                assert!(
                    same_bits_or_nan(c, &runs[0].1),
                    "{path:?} vs {:?}, {m}×{k}×{n} transposed={transposed} {acc:?}",
                    runs[0].0
                );
            }
        }
    }
}

// ---- mostly-zero A: the AVX-512 path's sparse kernel keeps the bits.

/// `data` with `zeros` sixteenths of the elements set to ±0 (both signs),
/// and NaN, ±∞ and ±1e30 among the rest when `specials`.
fn mostly_zeros(n: usize, zeros: u64, specials: bool, seed: u64) -> Vec<f32> {
    let mut v = data(n, seed);
    let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    for (i, x) in v.iter_mut().enumerate() {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        if s % 16 < zeros {
            *x = if s & 64 == 0 { 0.0 } else { -0.0 };
        } else if specials && i % 89 == 5 {
            *x = [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, 1e30, -1e30][(i / 89) % 5];
        }
    }
    v
}

/// One form of the product, run on a path into the given C.
type Form<'a> = dyn Fn(Kernels, &mut [f32]) + 'a;

#[test]
fn mostly_zero_products_have_the_same_bits_on_every_path() {
    // The trainer's shapes on binary data: X·W and v⁻·W (unpadded, 100
    // rows: 96 through the product, 4 through the small-row kernel), the
    // gradient [X; v⁻]ᵀ·[h⁺; −h⁻] folded into W (scaled, A transposed),
    // and ragged ones; three quarters and all of A zero.
    #[cfg(feature = "test-hooks")]
    let sparse_before = nrelu_rbm_kernels::sparse_products();
    let mut compared = 0;
    for &(m, k, n) in &[
        (100, 784, 500),
        (784, 200, 500),
        (17, 257, 33),
        (40, 1003, 129),
    ] {
        for (zeros, specials) in [(12, false), (12, true), (16, false)] {
            let seed = (m + k + n) as u64 + zeros;
            let store = mostly_zeros(m * k, zeros, specials, seed);
            let transposed = m > k;
            let a = if transposed {
                MatRef::row_major(&store, k, m).transpose()
            } else {
                MatRef::row_major(&store, m, k)
            };
            let bv = data(k * n, seed + 1);
            let b = MatRef::row_major(&bv, k, n);
            let c0 = data(m * n, seed + 2);
            let scalar = Kernels::new(Path::Scalar).expect("always available");
            let forms: [(&str, &Form<'_>); 3] = [
                ("scaled", &|kern, c| {
                    kern.gemm_scaled_into(a, b, 0.013, 0.9, MatMut::row_major(c, m, n))
                }),
                ("unpadded +=", &|kern, c| {
                    kern.gemm_into_unpadded(a, b, Accumulate::Add, MatMut::row_major(c, m, n))
                }),
                ("padded =", &|kern, c| {
                    kern.gemm_into(a, b, Accumulate::Overwrite, MatMut::row_major(c, m, n))
                }),
            ];
            for (form, run) in forms {
                let mut want = c0.clone();
                run(scalar, &mut want);
                for kern in all_kernels() {
                    let mut got = c0.clone();
                    run(kern, &mut got);
                    assert!(
                        same_bits_or_nan(&got, &want),
                        "{:?} {form} {m}×{k}×{n} zeros {zeros}/16 specials {specials}",
                        kern.path()
                    );
                    compared += 1;
                }
            }
        }
    }
    assert!(compared >= 4 * 3 * 3);
    // On AVX-512 these went through the sparse kernel (the products whose
    // A has NaN or ∞ among three quarters of zeros too: only B must be
    // finite).
    #[cfg(feature = "test-hooks")]
    if Path::Avx512.is_available() {
        assert!(nrelu_rbm_kernels::sparse_products() >= sparse_before + 4 * 3 * 3);
    }
}

#[test]
fn tall_mostly_zero_products_go_in_blocks_with_the_same_bits() {
    // 2,000 × 784: more elements than one sparse attempt lists, so the
    // AVX-512 path takes it in blocks of 1,328 rows (whole 16-row tiles).
    // In the second product the rows past the first block are dense, so
    // that block falls back to the dense kernels after the first has run
    // sparse.
    let (m, k, n) = (2000, 784, 40);
    let bv = data(k * n, 11);
    let b = MatRef::row_major(&bv, k, n);
    let c0 = data(m * n, 12);
    let sparse_all = mostly_zeros(m * k, 12, false, 13);
    let mut half_dense = sparse_all.clone();
    half_dense[1400 * k..].copy_from_slice(&data((m - 1400) * k, 14));
    let scalar = Kernels::new(Path::Scalar).expect("always available");
    for a_store in [&sparse_all, &half_dense] {
        let a = MatRef::row_major(a_store, m, k);
        for (alpha, beta) in [(1.0f32, 0.0f32), (-0.013, 0.9)] {
            let mut want = c0.clone();
            scalar.gemm_scaled_into(a, b, alpha, beta, MatMut::row_major(&mut want, m, n));
            for kern in all_kernels() {
                let mut got = c0.clone();
                kern.gemm_scaled_into(a, b, alpha, beta, MatMut::row_major(&mut got, m, n));
                assert!(
                    same_bits_or_nan(&got, &want),
                    "{:?} α={alpha} β={beta}",
                    kern.path()
                );
            }
        }
    }
}
