//! The update family (`sgd_update`, `column_sums`, `squared_distance`) on
//! every available path against plain references, at awkward sizes and on
//! special values. The family promises the same bits on every path, so
//! finite results are compared exactly; a NaN result must be NaN (payloads
//! are not compared).

use nrelu_rbm_kernels::{Accumulate, Kernels, MatRef, Sgd};

mod common;

use common::{SPECIALS, all_kernels as kernels};

/// 0, 1, lane − 1, lane, lane + 1 for 4, 8 and 16 lanes, and 1000 + 3.
const SIZES: [usize; 12] = [0, 1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 1003];

/// Deterministic values in about [-2, 2], with a special value every 37th
/// element when `special` is set.
fn values(n: usize, seed: u32, special: bool) -> Vec<f32> {
    (0..n as u32)
        .map(|i| {
            let h = i
                .wrapping_mul(2_654_435_761)
                .wrapping_add(seed.wrapping_mul(40_503))
                >> 8;
            if special && i % 37 == 5 {
                SPECIALS[(i as usize / 37) % SPECIALS.len()]
            } else {
                h as f32 / 4_194_304.0 - 2.0
            }
        })
        .collect()
}

fn same(got: f32, want: f32) -> bool {
    if want.is_nan() {
        got.is_nan()
    } else {
        got.to_bits() == want.to_bits()
    }
}

/// Runs `update(kernels, w, d, g)` on every path at every size, with and
/// without special values (inputs from the seeds `seeds` for w, d and g),
/// and compares w, d and the finiteness flag bit for bit with `formula`
/// applied element by element to (w, d, g).
fn assert_velocity_update_matches(
    seeds: [u32; 3],
    formula: impl Fn(&mut f32, &mut f32, f32),
    update: impl Fn(Kernels, &mut [f32], &mut [f32], &[f32]) -> bool,
) {
    for special in [false, true] {
        for n in SIZES {
            let w0 = values(n, seeds[0], special);
            let d0 = values(n, seeds[1], special);
            let g = values(n, seeds[2], special);
            let mut want_w = w0.clone();
            let mut want_d = d0.clone();
            for i in 0..n {
                formula(&mut want_w[i], &mut want_d[i], g[i]);
            }
            let want_ok = want_w.iter().all(|w| w.is_finite());
            for k in kernels() {
                let mut w = w0.clone();
                let mut d = d0.clone();
                let ok = update(k, &mut w, &mut d, &g);
                for i in 0..n {
                    assert!(
                        same(w[i], want_w[i]) && same(d[i], want_d[i]),
                        "{:?} n={n} i={i}: w {} vs {}, d {} vs {}",
                        k.path(),
                        w[i],
                        want_w[i],
                        d[i],
                        want_d[i]
                    );
                }
                assert_eq!(ok, want_ok, "{:?} n={n} special={special}", k.path());
            }
        }
    }
}

#[test]
fn sgd_update_matches_the_formula_bit_for_bit() {
    let sgd = Sgd {
        momentum: 0.5,
        scale: 0.01,
        decay: 1e-5,
    };
    assert_velocity_update_matches(
        [1, 2, 3],
        |w, d, g| {
            *d = sgd.momentum * *d + sgd.scale * g - sgd.decay * *w;
            *w += *d;
        },
        |k, w, d, g| k.sgd_update(sgd, w, d, g),
    );
}

#[test]
fn sgd_update_without_velocity_matches_the_formula() {
    let sgd = Sgd {
        momentum: 0.0,
        scale: 0.25,
        decay: 0.125,
    };
    for special in [false, true] {
        for n in SIZES {
            let w0 = values(n, 4, special);
            let g = values(n, 5, special);
            let want: Vec<f32> = w0
                .iter()
                .zip(&g)
                .map(|(&w, &g)| w + (sgd.scale * g - sgd.decay * w))
                .collect();
            let want_ok = want.iter().all(|w| w.is_finite());
            for k in kernels() {
                let mut w = w0.clone();
                let ok = k.sgd_update(sgd, &mut w, &mut [], &g);
                for i in 0..n {
                    assert!(same(w[i], want[i]), "{:?} n={n} i={i}", k.path());
                }
                assert_eq!(ok, want_ok, "{:?} n={n} special={special}", k.path());
            }
        }
    }
}

#[test]
fn apply_velocity_matches_the_formula_bit_for_bit() {
    let decay = 1e-3f32;
    assert_velocity_update_matches(
        [4, 5, 6],
        |w, d, _| {
            *d -= decay * *w;
            *w += *d;
        },
        |k, w, d, _| k.apply_velocity(decay, w, d),
    );
}

#[test]
fn apply_velocity_reports_one_non_finite_weight_anywhere() {
    for n in [1usize, 16, 17, 1003] {
        for at in [0, n / 2, n - 1] {
            for k in kernels() {
                // A non-finite velocity makes a non-finite weight.
                for bad in [f32::INFINITY, f32::NAN] {
                    let mut w = vec![0.5f32; n];
                    let mut d = vec![0.0f32; n];
                    d[at] = bad;
                    assert!(
                        !k.apply_velocity(0.0, &mut w, &mut d),
                        "{:?} n={n}",
                        k.path()
                    );
                }
                // So does overflow in the update.
                let mut w = vec![3e38f32; n];
                let mut d = vec![0.0f32; n];
                d[at] = 3e38;
                assert!(
                    !k.apply_velocity(0.0, &mut w, &mut d),
                    "{:?} n={n}",
                    k.path()
                );
                // And all finite is reported as such.
                let mut w = vec![0.5f32; n];
                let mut d = vec![0.25f32; n];
                assert!(
                    k.apply_velocity(0.5, &mut w, &mut d),
                    "{:?} n={n}",
                    k.path()
                );
            }
        }
    }
}

#[test]
#[should_panic(expected = "velocity: length 2 does not match the output length 1")]
fn apply_velocity_length_mismatch_panics() {
    Kernels::active().apply_velocity(0.0, &mut [1.0], &mut [1.0, 2.0]);
}

#[test]
fn one_non_finite_weight_anywhere_is_reported() {
    for n in [1usize, 16, 17, 1003] {
        for at in [0, n / 2, n - 1] {
            for bad in [f32::INFINITY, f32::NAN] {
                for k in kernels() {
                    let mut w = vec![0.5f32; n];
                    w[at] = bad;
                    let sgd = Sgd {
                        momentum: 0.0,
                        scale: 1.0,
                        decay: 0.0,
                    };
                    let g = vec![0.0f32; n];
                    assert!(
                        !k.sgd_update(sgd, &mut w, &mut [], &g),
                        "{:?} n={n}",
                        k.path()
                    );
                    // Overflow during the update is caught too.
                    let mut w = vec![3e38f32; n];
                    let mut g = vec![0.0f32; n];
                    g[at] = 3e38;
                    assert!(!k.sgd_update(sgd, &mut w, &mut [], &g));
                }
            }
        }
    }
}

#[test]
#[should_panic(expected = "needs a velocity")]
fn momentum_without_velocity_panics() {
    let sgd = Sgd {
        momentum: 0.9,
        scale: 1.0,
        decay: 0.0,
    };
    Kernels::active().sgd_update(sgd, &mut [1.0], &mut [], &[1.0]);
}

#[test]
#[should_panic(expected = "length 2")]
fn sgd_length_mismatch_panics() {
    let sgd = Sgd {
        momentum: 0.0,
        scale: 1.0,
        decay: 0.0,
    };
    Kernels::active().sgd_update(sgd, &mut [1.0], &mut [], &[1.0, 2.0]);
}

#[test]
fn column_sums_are_sequential_f64_sums() {
    for special in [false, true] {
        for width in SIZES {
            for rows in [0usize, 1, 3, 100] {
                let a = values(rows * width, 6, special);
                let start = values(width, 7, false);
                for acc in [Accumulate::Overwrite, Accumulate::Add, Accumulate::Subtract] {
                    let mut want: Vec<f64> = match acc {
                        Accumulate::Overwrite => vec![0.0; width],
                        _ => start.iter().map(|&s| f64::from(s)).collect(),
                    };
                    for r in 0..rows {
                        for j in 0..width {
                            let x = f64::from(a[r * width + j]);
                            if acc == Accumulate::Subtract {
                                want[j] -= x;
                            } else {
                                want[j] += x;
                            }
                        }
                    }
                    for k in kernels() {
                        let mut out: Vec<f64> = start.iter().map(|&s| f64::from(s)).collect();
                        let view = MatRef::row_major(&a, rows, width);
                        k.column_sums(view, acc, &mut out);
                        // Any split of the columns gives the same bits.
                        let mut split: Vec<f64> = start.iter().map(|&s| f64::from(s)).collect();
                        let c = width / 3;
                        k.column_sums(view.cols_range(0, c), acc, &mut split[..c]);
                        k.column_sums(view.cols_range(c, width), acc, &mut split[c..]);
                        assert!(
                            split
                                .iter()
                                .zip(&out)
                                .all(|(x, y)| x.to_bits() == y.to_bits()
                                    || (x.is_nan() && y.is_nan())),
                            "{:?} {acc:?} width={width} rows={rows}: split differs",
                            k.path()
                        );
                        for j in 0..width {
                            assert!(
                                if want[j].is_nan() {
                                    out[j].is_nan()
                                } else {
                                    out[j].to_bits() == want[j].to_bits()
                                },
                                "{:?} {acc:?} width={width} rows={rows} j={j}: {} vs {}",
                                k.path(),
                                out[j],
                                want[j]
                            );
                        }
                    }
                }
            }
        }
    }
}

/// The documented order: element i into partial i mod 16, then pairwise.
fn squared_distance_reference(a: &[f32], b: &[f32]) -> f64 {
    let mut acc = [0f64; 16];
    for (i, (&x, &y)) in a.iter().zip(b).enumerate() {
        let d = f64::from(x - y);
        acc[i % 16] += d * d;
    }
    let mut n = 16;
    while n > 1 {
        n /= 2;
        for i in 0..n {
            acc[i] += acc[i + n];
        }
    }
    acc[0]
}

#[test]
fn squared_distance_follows_its_documented_order() {
    for special in [false, true] {
        for n in SIZES {
            let a = values(n, 8, special);
            let b = values(n, 9, false);
            let want = squared_distance_reference(&a, &b);
            let naive: f64 = a
                .iter()
                .zip(&b)
                .map(|(&x, &y)| f64::from(x - y).powi(2))
                .sum();
            if want.is_finite() {
                // Another summation order of positive terms: within a few
                // f64 roundings per term.
                assert!((want - naive).abs() <= 1e-13 * naive.max(1e-300), "n={n}");
            }
            for k in kernels() {
                let got = k.squared_distance(&a, &b);
                assert!(
                    if want.is_nan() {
                        got.is_nan()
                    } else {
                        got.to_bits() == want.to_bits()
                    },
                    "{:?} n={n}: {got} vs {want}",
                    k.path()
                );
            }
        }
    }
}

#[test]
fn column_sums_of_a_transposed_view() {
    // 2 × 3 data read as its 3 × 2 transpose: column sums are row sums.
    let a = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0];
    for k in kernels() {
        let mut out = [0.0f64; 2];
        let t = MatRef::row_major(&a, 2, 3).transpose();
        k.column_sums(t, Accumulate::Overwrite, &mut out);
        assert_eq!(out, [6.0, 15.0], "{:?}", k.path());
    }
}

#[test]
#[should_panic(expected = "does not fit")]
fn column_sums_of_a_view_too_big_for_its_slice_panics() {
    let view = MatRef {
        data: &[1.0; 5],
        rows: 3,
        cols: 2,
        row_stride: 2,
        col_stride: 1,
    };
    Kernels::active().column_sums(view, Accumulate::Add, &mut [0.0; 2]);
}

#[test]
fn all_finite_finds_one_bad_value_anywhere() {
    for k in kernels() {
        for n in SIZES {
            let a = values(n, 10, false);
            assert!(k.all_finite(&a), "{:?} n={n}", k.path());
            for at in [0, n / 2, n.saturating_sub(1)] {
                if n == 0 {
                    continue;
                }
                for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
                    let mut b = a.clone();
                    b[at] = bad;
                    assert!(!k.all_finite(&b), "{:?} n={n} at={at} {bad}", k.path());
                }
            }
        }
        // The largest finite values and -0 are finite.
        assert!(k.all_finite(&[f32::MAX, f32::MIN, -0.0, f32::MIN_POSITIVE]));
    }
}

#[test]
fn column_squared_distances_are_sequential_f64_sums_on_every_path() {
    // Widths around the 16-column groups, rows including 0 and 1, special
    // values (their squares are inf or NaN and must land in their column).
    for (rows, cols) in [
        (0usize, 5usize),
        (1, 1),
        (3, 15),
        (4, 16),
        (5, 17),
        (7, 40),
        (2, 1003),
    ] {
        for special in [false, true] {
            let a = values(rows * cols, 20, special);
            let b = values(rows * cols, 21, false);
            let mut want = vec![0f64; cols];
            for r in 0..rows {
                for j in 0..cols {
                    let d = f64::from(a[r * cols + j] - b[r * cols + j]);
                    want[j] += d * d;
                }
            }
            let (am, bm) = (
                MatRef::row_major(&a, rows, cols),
                MatRef::row_major(&b, rows, cols),
            );
            for k in kernels() {
                let mut got = vec![f64::NAN; cols];
                k.column_squared_distances(am, bm, &mut got);
                for j in 0..cols {
                    let ok = if want[j].is_nan() {
                        got[j].is_nan()
                    } else {
                        got[j].to_bits() == want[j].to_bits()
                    };
                    assert!(
                        ok,
                        "{:?} {rows}×{cols} col {j}: {} vs {}",
                        k.path(),
                        got[j],
                        want[j]
                    );
                }
                // A block of columns gives the bits of the same columns of
                // the whole (the trainer splits visible units this way).
                if cols > 16 {
                    let mut part = vec![f64::NAN; cols - 16];
                    k.column_squared_distances(
                        am.cols_range(16, cols),
                        bm.cols_range(16, cols),
                        &mut part,
                    );
                    for (j, (p, g)) in part.iter().zip(&got[16..]).enumerate() {
                        assert!(
                            p.to_bits() == g.to_bits() || (p.is_nan() && g.is_nan()),
                            "{:?} {rows}×{cols} block col {j}",
                            k.path()
                        );
                    }
                }
            }
        }
    }
}

#[test]
#[should_panic(expected = "a is 2 × 2 but b is 1 × 2")]
fn column_squared_distances_shape_mismatch_panics() {
    let a = [1.0f32; 4];
    let b = [1.0f32; 2];
    Kernels::active().column_squared_distances(
        MatRef::row_major(&a, 2, 2),
        MatRef::row_major(&b, 1, 2),
        &mut [0.0; 2],
    );
}
