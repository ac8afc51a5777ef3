//! NReLU against summed stepped sigmoids: the deterministic f64 facts
//! behind Nair & Hinton's approximation, checked on dense grids, and the
//! exact W1 curve between the two laws. (The sample-based checks — means,
//! variances and empirical W1 on every path — are in `samplers.rs`.)

use nrelu_rbm::verify::bounds::{
    PERIODIC_AMPLITUDE, SIGMA_BOUND, SOFTPLUS_BOUND, TAIL_CONSTANT, periodic_part,
    periodic_part_derivative, sigma_error, softplus_error, sup_on_grid,
};
use nrelu_rbm::verify::wasserstein::w1_decomposition;

/// `|Σ_{i≥1} σ(x − i + ½) − softplus(x)| ≤ 0.010578` on a grid of step
/// 1e−3 over [−40, 60], attained at x = 0; and the bound is tight.
#[test]
fn ssu_mean_is_within_its_bound_of_softplus() {
    let (sup, at) = sup_on_grid(softplus_error, -40.0, 60.0, 1e-3);
    println!("sup |S - softplus| = {sup:.7} at x = {at}");
    assert!(sup <= SOFTPLUS_BOUND, "{sup} at {at}");
    assert!(sup > 0.9999 * SOFTPLUS_BOUND);
    assert!(at.abs() < 1e-9, "attained at {at}");
}

/// `|Σ σ_i(1 − σ_i) − σ(x)| ≤ 0.004132`, attained at x ≈ ±1.28.
#[test]
fn ssu_variance_is_within_its_bound_of_sigma() {
    let (sup, at) = sup_on_grid(sigma_error, -40.0, 60.0, 1e-3);
    println!("sup |V - sigma| = {sup:.7} at x = {at}");
    assert!(sup <= SIGMA_BOUND, "{sup} at {at}");
    assert!(sup > 0.9999 * SIGMA_BOUND);
    assert!((at.abs() - 1.28).abs() < 0.01, "attained at {at}");
}

/// The explanation, checked: E(x) − E(−x) is the Poisson-summation ripple
/// P(x) (to 1e−13), and D(x) + D(−x) = P'(x).
#[test]
fn odd_part_is_the_poisson_summation_ripple() {
    for i in 0..=4000 {
        let x = -20.0 + i as f64 * 0.01;
        let e = softplus_error(x) - softplus_error(-x);
        assert!(
            (e - periodic_part(x)).abs() < 1e-13,
            "x={x}: {e} vs {}",
            periodic_part(x)
        );
        let d = sigma_error(x) + sigma_error(-x);
        assert!(
            (d - periodic_part_derivative(x)).abs() < 1e-13,
            "x={x}: {d} vs {}",
            periodic_part_derivative(x)
        );
    }
    assert!(
        (PERIODIC_AMPLITUDE
            - 2.0 * std::f64::consts::PI / (2.0 * std::f64::consts::PI.powi(2)).sinh())
        .abs()
            < 1e-20
    );
}

/// Away from 0 the boundary term decays like −c e^{−|x|}, and for large x
/// only the ripple (amplitude 3.36e−8) remains.
#[test]
fn boundary_term_decays_like_c_exp_minus_abs_x() {
    for x in [8.0f64, 10.0, 12.0] {
        // E(−x) ≈ −c e^{−x} (next order e^{−2x}).
        let e = softplus_error(-x);
        assert!(
            (e / (-TAIL_CONSTANT * (-x).exp()) - 1.0).abs() < 1e-3,
            "x={x}: {e}"
        );
        let d = sigma_error(-x);
        assert!(
            (d / (-TAIL_CONSTANT * (-x).exp()) - 1.0).abs() < 2e-3,
            "x={x}: {d}"
        );
    }
    for i in 0..=2000 {
        let x = 30.0 + i as f64 * 0.01;
        assert!(
            (softplus_error(x) - periodic_part(x)).abs() < 1e-12,
            "x={x}"
        );
        assert!(
            (sigma_error(x) - periodic_part_derivative(x)).abs() < 1e-12,
            "x={x}"
        );
    }
}

/// W1(NReLU, SSU) lies between the lattice part W1(N, round N) and the
/// sum of both parts; the lattice part tends to ¼ and the shape part to
/// a small periodic remainder as x grows, while near x = 0 the shape part
/// dominates.
#[test]
fn w1_decomposes_into_lattice_and_shape() {
    let mut rows = Vec::new();
    for i in 0..=60 {
        let x = -3.0 + i as f64 * 0.25;
        let d = w1_decomposition(x);
        assert!(d.lattice <= d.nrelu_ssu + 1e-12, "{d:?}");
        assert!(d.nrelu_ssu <= d.lattice + d.shape + 1e-12, "{d:?}");
        rows.push(d);
    }
    let at = |x: f64| *rows.iter().find(|d| d.x == x).expect("grid point");
    // Near 0: the atoms differ (NReLU: P(h=0) = ½; SSU: P(0) = 0.38).
    assert!(at(0.0).shape > 0.1, "{:?}", at(0.0));
    // Large x: the lattice part is E|h − round h| → ¼ for sd → 1.
    let far = w1_decomposition(30.0);
    assert!((far.lattice - 0.25).abs() < 1e-3, "{far:?}");
    assert!(far.shape < 0.05, "{far:?}");
    assert!((far.nrelu_ssu - far.lattice).abs() < far.shape + 1e-12);
    for d in &rows {
        println!(
            "x = {:6.2}: W1 = {:.5}, lattice = {:.5}, shape = {:.5}",
            d.x, d.nrelu_ssu, d.lattice, d.shape
        );
    }
}

/// The same bounds through the f32 kernels of every path: the kernels'
/// `ssu_mean` and `softplus` differ by at most the f64 bound plus their
/// rounding (each within 4 ulp, plus the ssu_mean truncation of 5e−8),
/// on 200,001 points of [−20, 30].
#[test]
fn kernel_means_respect_the_bound_on_every_path() {
    use nrelu_rbm::kernels::{Kernels, Path, reference::f32_spacing};
    let x: Vec<f32> = (0..=200_000).map(|i| -20.0 + i as f32 * 2.5e-4).collect();
    for p in Path::available() {
        let k = Kernels::new(p).unwrap();
        let (mut s, mut sp) = (vec![0.0f32; x.len()], vec![0.0f32; x.len()]);
        k.ssu_mean(&x, &mut s);
        k.softplus(&x, &mut sp);
        for ((&x, &s), &sp) in x.iter().zip(&s).zip(&sp) {
            let tol = SOFTPLUS_BOUND
                + 4.0 * (f32_spacing(f64::from(s)) + f32_spacing(f64::from(sp)))
                + 5e-8;
            let d = (f64::from(s) - f64::from(sp)).abs();
            assert!(d <= tol, "{p}: x = {x}: |ssu_mean - softplus| = {d}");
        }
    }
}
