//! Proves that the path forced by `NRELU_RBM_KERNEL` is the one that ran.
//!
//! CI runs this test binary once per available path with the variable set
//! (see `.ci/run`). It needs the `test-hooks` feature, which records the
//! path each kernel family ran (`cargo test --features test-hooks`). Without the variable it checks that the best path is
//! chosen, which on an AVX2 or AVX-512 machine means a binary built for
//! baseline x86-64 still runs the wide kernels.
//!
//! This file holds a single test so that no other test in the same process
//! can run a different path in between.

use nrelu_rbm_kernels::{
    Accumulate, Family, Kernels, MatMut, MatRef, Path, Product, Sgd, Stream, active_path,
    bernoulli, forced_path, last_path, sigmoid,
};

#[test]
fn the_forced_or_best_path_is_the_one_that_ran() {
    let want = match forced_path() {
        None => Path::best(),
        Some(Ok(p)) => {
            assert!(
                p.is_available(),
                "NRELU_RBM_KERNEL={p} but this CPU cannot run it"
            );
            p
        }
        Some(Err(v)) => panic!("NRELU_RBM_KERNEL={v:?} names no kernel path"),
    };
    assert_eq!(active_path(), want);
    assert_eq!(Kernels::active().path(), want);

    let x = [0.5f32; 37];
    let mut out = [0.0f32; 37];
    sigmoid(&x, &mut out);
    assert_eq!(
        last_path(Family::Map),
        Some(want),
        "map family ran another path"
    );
    bernoulli(&x, &mut out, &mut Stream::new(1, 0));
    assert_eq!(
        last_path(Family::Random),
        Some(want),
        "random family ran another path"
    );
    let sgd = Sgd {
        momentum: 0.0,
        scale: 1.0,
        decay: 0.0,
    };
    assert!(Kernels::active().sgd_update(sgd, &mut out, &mut [], &x));
    assert_eq!(
        last_path(Family::Update),
        Some(want),
        "update family ran another path"
    );

    // A product of at most 256 rows: on the AVX-512 path the crate's own
    // kernel, on the others matrixmultiply's (same bits; tests/product.rs).
    let a = [0.25f32; 6];
    let mut c = [0.0f32; 4];
    Kernels::active().product(
        MatRef::row_major(&a, 2, 3),
        MatRef::row_major(&a, 3, 2),
        MatMut::row_major(&mut c, 2, 2),
        Product::new(Accumulate::Overwrite),
    );
    assert_eq!(c, [0.1875; 4]);
    assert_eq!(
        last_path(Family::Product),
        Some(want),
        "product family ran another path"
    );

    #[cfg(target_arch = "x86_64")]
    if forced_path().is_none() {
        if std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512dq")
        {
            assert_eq!(want, Path::Avx512);
        } else if std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("fma")
        {
            assert_eq!(want, Path::Avx2);
        }
    }
    eprintln!("kernel path in use: {want}");
}
