//! `MatMut` views and `Kernels::gemm_into`: the column split the trainer
//! uses to share one product between threads gives exactly the bits of the
//! whole product, and split views never overlap.

use nrelu_rbm_kernels::{Accumulate, Kernels, MatMut, MatRef, Path};

fn data(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            ((s >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 2.0
        })
        .collect()
}

fn same_bits(a: &[f32], b: &[f32]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}

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
