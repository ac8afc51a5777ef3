//! Shared helpers of the statistical suite: deliberately wrong samplers
//! (the "power companions" feed them to the same test functions and assert
//! that the tests reject them), the exact power of each test against each
//! wrong sampler, and a runner that repeats a test in a child process once
//! per kernel path.
//!
//! The wrong samplers are written here, on top of the kernels' uniform and
//! normal streams, so that a bug in a kernel cannot hide in them.

use nrelu_rbm::kernels::reference::sigmoid;
use nrelu_rbm::kernels::{KERNEL_ENV, Path};
use nrelu_rbm::verify::battery::gibbs_model;
use nrelu_rbm::verify::laws::{
    Nrelu, binomial_pmf, lattice_moments, normal_cdf, normal_sf, ssu_pmf, ssu_pmf_offset,
};
use nrelu_rbm::verify::power::{
    binomial_test_power, chi_square_power, ks_power_lower_bound, ks_power_lower_bound_random_n,
    z_power,
};
use nrelu_rbm::verify::wasserstein::{lattice_cdf, w1_nrelu_lattice, w1_test_sd};
use nrelu_rbm::verify::{Check, Item, KernelSamplers, Samplers};

pub mod models;

/// A deliberate fault in one sampler.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Fault {
    /// NReLU noise with standard deviation σ(x) instead of √σ(x).
    NreluSdSigma,
    /// NReLU noise N(0, 1) instead of N(0, σ(x)).
    NreluUnitNoise,
    /// Bernoulli with probability σ(x) + 0.01 (clamped to 1).
    BernoulliPlus001,
    /// SSU with offsets −i instead of −i + ½.
    SsuIntegerOffsets,
    /// Normal with standard deviation 1.02.
    NormalSd102,
    /// Binomial(K) drawn as binomial(K − 1).
    BinomialKMinusOne,
    /// Gibbs conditionals at the wrong temperature: every Bernoulli and
    /// binomial input scaled by 0.9.
    Temperature09,
}

impl Fault {
    /// Every fault.
    pub const ALL: [Fault; 7] = [
        Fault::NreluSdSigma,
        Fault::NreluUnitNoise,
        Fault::BernoulliPlus001,
        Fault::SsuIntegerOffsets,
        Fault::NormalSd102,
        Fault::BinomialKMinusOne,
        Fault::Temperature09,
    ];

    /// The wrong NReLU noise standard deviation at x, if this fault has
    /// one.
    fn nrelu_sd(self, x: f64) -> Option<f64> {
        match self {
            Fault::NreluSdSigma => Some(sigmoid(x)),
            Fault::NreluUnitNoise => Some(1.0),
            _ => None,
        }
    }
}

/// The kernels of one path with one fault injected. The faulty sampler is
/// computed here from the kernels' own uniform or normal draws on the same
/// stream; every other sampler is the kernel's.
pub struct Wrong {
    inner: KernelSamplers,
    fault: Fault,
    /// Cached SSU band probabilities for the last x (integer offsets).
    band: Option<(f32, usize, Vec<f64>)>,
}

/// Copies sampled by the wrong SSU (as many as the kernel's band).
const BAND: usize = 36;

impl Wrong {
    /// `fault` on `path`, drawing from `item`'s stream.
    pub fn new(path: Path, seed: u64, item: &Item, fault: Fault) -> Wrong {
        Wrong {
            inner: KernelSamplers::for_item(path, seed, item).expect("available path"),
            fault,
            band: None,
        }
    }

    fn wrong_nrelu(&mut self, x: &[f32], out: &mut [f32]) {
        self.inner.normal(out);
        for (o, &x) in out.iter_mut().zip(x) {
            let sd = self.fault.nrelu_sd(f64::from(x)).expect("NReLU fault") as f32;
            *o = (x + sd * *o).max(0.0);
        }
    }

    /// Σ_{i≥1} Bernoulli(σ(x − i)) over the band of 36 copies around x,
    /// the copies below counted as on (the kernel's truncation, with the
    /// wrong offsets).
    fn wrong_ssu(&mut self, x: &[f32], out: &mut [f32]) {
        let mut u = vec![0.0f32; BAND];
        for (o, &x) in out.iter_mut().zip(x) {
            if self.band.as_ref().is_none_or(|b| b.0 != x) {
                let i0 = ((f64::from(x)).floor() - 17.0).max(1.0) as usize;
                let p = (0..BAND)
                    .map(|j| sigmoid(f64::from(x) - (i0 + j) as f64))
                    .collect();
                self.band = Some((x, i0, p));
            }
            let (_, i0, p) = self.band.as_ref().expect("just set");
            self.inner.uniform(&mut u);
            let on = u.iter().zip(p).filter(|&(&u, &p)| f64::from(u) < p).count();
            *o = (i0 - 1 + on) as f32;
        }
    }
}

impl Samplers for Wrong {
    fn normal(&mut self, out: &mut [f32]) {
        self.inner.normal(out);
        if self.fault == Fault::NormalSd102 {
            out.iter_mut().for_each(|z| *z *= 1.02);
        }
    }

    fn bernoulli(&mut self, x: &[f32], out: &mut [f32]) {
        match self.fault {
            Fault::BernoulliPlus001 => {
                self.inner.uniform(out);
                for (o, &x) in out.iter_mut().zip(x) {
                    let p = sigmoid(f64::from(x)) + 0.01;
                    *o = if f64::from(*o) < p { 1.0 } else { 0.0 };
                }
            }
            Fault::Temperature09 => {
                let xs: Vec<f32> = x.iter().map(|&x| 0.9 * x).collect();
                self.inner.bernoulli(&xs, out)
            }
            _ => self.inner.bernoulli(x, out),
        }
    }

    fn nrelu(&mut self, x: &[f32], out: &mut [f32]) {
        match self.fault {
            Fault::NreluSdSigma | Fault::NreluUnitNoise => self.wrong_nrelu(x, out),
            _ => self.inner.nrelu(x, out),
        }
    }

    fn binomial(&mut self, k: u32, x: &[f32], out: &mut [f32]) {
        match self.fault {
            Fault::BinomialKMinusOne => {
                let mut u = vec![0.0f32; k as usize];
                for (o, &x) in out.iter_mut().zip(x) {
                    self.inner.uniform(&mut u[..k as usize - 1]);
                    let p = sigmoid(f64::from(x));
                    *o = u[..k as usize - 1]
                        .iter()
                        .filter(|&&u| f64::from(u) < p)
                        .count() as f32;
                }
            }
            Fault::Temperature09 => {
                let xs: Vec<f32> = x.iter().map(|&x| 0.9 * x).collect();
                self.inner.binomial(k, &xs, out)
            }
            _ => self.inner.binomial(k, x, out),
        }
    }

    fn ssu(&mut self, x: &[f32], out: &mut [f32]) {
        match self.fault {
            Fault::SsuIntegerOffsets => self.wrong_ssu(x, out),
            _ => self.inner.ssu(x, out),
        }
    }
}

/// `sup_t |F(t) − G(t)|` on a grid of 200,001 points over `[lo, hi]`.
fn sup_distance(f: impl Fn(f64) -> f64, g: impl Fn(f64) -> f64, lo: f64, hi: f64) -> f64 {
    let n = 200_000;
    (0..=n)
        .map(|i| lo + (hi - lo) * i as f64 / n as f64)
        .map(|t| (f(t) - g(t)).abs())
        .fold(0.0, f64::max)
}

/// The z-test shift and spread of a mean test when the terms have mean
/// `m1` and sd `s1` under the wrong law and `m0`, `s0` under the null.
fn mean_test_power(n: usize, m0: f64, s0: f64, m1: f64, s1: f64, alpha: f64) -> f64 {
    z_power((m1 - m0) * (n as f64).sqrt() / s0, s1 / s0, alpha)
}

/// The power of `item`'s test at level `alpha` against `fault`, or `None`
/// if the fault does not touch the sampler the item tests. Exact for
/// binomial tests, a rigorous lower bound for KS tests, approximate
/// (non-central χ², normal) for chi-square and z tests; see
/// `nrelu_rbm::verify::power`.
pub fn power(fault: Fault, item: &Item, alpha: f64) -> Option<f64> {
    let n = item.n;
    match (fault, item.check) {
        (Fault::BernoulliPlus001, Check::BernoulliCount { x }) => {
            let x = f64::from(x);
            let p1 = (sigmoid(x) + 0.01).min(1.0);
            // The test counts ones below x = 0 and zeros above.
            Some(if x <= 0.0 {
                binomial_test_power(n as u64, sigmoid(x), p1, alpha)
            } else {
                binomial_test_power(n as u64, sigmoid(-x), 1.0 - p1, alpha)
            })
        }
        (Fault::NormalSd102, Check::NormalKs) => {
            let d = sup_distance(normal_cdf, |z| normal_cdf(z / 1.02), -8.0, 8.0);
            Some(ks_power_lower_bound(n, d, alpha))
        }
        (Fault::NormalSd102, Check::NormalTail { t }) => {
            let t = f64::from(t);
            Some(binomial_test_power(
                n as u64,
                2.0 * normal_sf(t),
                2.0 * normal_sf(t / 1.02),
                alpha,
            ))
        }
        (f @ (Fault::NreluSdSigma | Fault::NreluUnitNoise), check) => {
            nrelu_power(f, check, n, alpha)
        }
        (Fault::SsuIntegerOffsets, check) => ssu_power(check, n, alpha),
        (Fault::BinomialKMinusOne, Check::BinomialChiSquare { k, x }) => {
            let p = sigmoid(f64::from(x));
            let mut p0 = binomial_pmf(k, p);
            p0.push(0.0);
            let mut p1 = binomial_pmf(k - 1, p);
            p1.resize(p0.len(), 0.0);
            Some(chi_square_power(n, &p0, &p1, alpha))
        }
        (Fault::Temperature09, Check::Gibbs { k }) => {
            let model = gibbs_model(k);
            let p0 = model.joint();
            let p1 = model.chain(0.9, 0.9).stationary_pair();
            let mut order: Vec<usize> = (0..p0.len()).collect();
            order.sort_by(|&a, &b| p0[b].total_cmp(&p0[a]));
            let q0: Vec<f64> = order.iter().map(|&i| p0[i]).collect();
            let q1: Vec<f64> = order.iter().map(|&i| p1[i]).collect();
            Some(chi_square_power(n, &q0, &q1, alpha))
        }
        _ => None,
    }
}

fn nrelu_power(fault: Fault, check: Check, n: usize, alpha: f64) -> Option<f64> {
    let x = match check {
        Check::NreluZeroMass { x }
        | Check::NreluPositiveKs { x }
        | Check::NreluMean { x }
        | Check::NreluVariance { x }
        | Check::W1 { x } => f64::from(x),
        _ => return None,
    };
    let law0 = Nrelu::at(x);
    let law1 = Nrelu {
        x,
        sd: fault.nrelu_sd(x).expect("NReLU fault"),
    };
    Some(match check {
        Check::NreluZeroMass { .. } => {
            if x <= 0.0 {
                binomial_test_power(n as u64, law0.positive_mass(), law1.positive_mass(), alpha)
            } else {
                binomial_test_power(n as u64, law0.zero_mass(), law1.zero_mass(), alpha)
            }
        }
        Check::NreluPositiveKs { .. } => {
            let hi = x + 12.0 * law0.sd.max(law1.sd);
            let d = sup_distance(
                |t| law0.positive_cdf(t),
                |t| law1.positive_cdf(t),
                0.0,
                hi.max(1.0),
            );
            ks_power_lower_bound_random_n(n, law1.positive_mass(), d, alpha)
        }
        Check::NreluMean { .. } => {
            let (m0, m1) = (law0.moments(), law1.moments());
            mean_test_power(
                n,
                m0.mean,
                m0.variance.sqrt(),
                m1.mean,
                m1.variance.sqrt(),
                alpha,
            )
        }
        Check::NreluVariance { .. } => {
            // Terms (y − μ0)²: null mean σ0², sd √(μ4 − σ0⁴); under the
            // wrong law from its raw moments.
            let m0 = law0.moments();
            let c = m0.mean;
            let r: Vec<f64> = (0..=4).map(|k| law1.raw_moment(k)).collect();
            let e2 = r[2] - 2.0 * c * r[1] + c * c;
            let e4 =
                r[4] - 4.0 * c * r[3] + 6.0 * c * c * r[2] - 4.0 * c.powi(3) * r[1] + c.powi(4);
            mean_test_power(
                n,
                m0.variance,
                (m0.m4 - m0.variance.powi(2)).sqrt(),
                e2,
                (e4 - e2 * e2).sqrt(),
                alpha,
            )
        }
        Check::W1 { .. } => {
            let ssu = ssu_pmf(x);
            let cdf = lattice_cdf(&ssu);
            let w0 = w1_nrelu_lattice(&law0, &cdf);
            let w1 = w1_nrelu_lattice(&law1, &cdf);
            let sd = w1_test_sd(x, &law1, &ssu, n);
            z_power((w1 - w0) / sd, 1.0, alpha)
        }
        _ => unreachable!(),
    })
}

fn ssu_power(check: Check, n: usize, alpha: f64) -> Option<f64> {
    let x = match check {
        Check::SsuChiSquare { x }
        | Check::SsuMean { x }
        | Check::SsuVariance { x }
        | Check::W1 { x } => f64::from(x),
        _ => return None,
    };
    let p0 = ssu_pmf(x);
    let p1 = ssu_pmf_offset(x, 0.0);
    Some(match check {
        Check::SsuChiSquare { .. } => {
            let mut a = p0.clone();
            a.push(0.0);
            let mut b = p1.clone();
            b.resize(a.len().max(b.len()), 0.0);
            a.resize(b.len(), 0.0);
            chi_square_power(n, &a, &b, alpha)
        }
        Check::SsuMean { .. } => {
            let (m0, m1) = (lattice_moments(&p0), lattice_moments(&p1));
            mean_test_power(
                n,
                m0.mean,
                m0.variance.sqrt(),
                m1.mean,
                m1.variance.sqrt(),
                alpha,
            )
        }
        Check::SsuVariance { .. } => {
            let m0 = lattice_moments(&p0);
            let about = |r: i32| -> f64 {
                p1.iter()
                    .enumerate()
                    .map(|(k, p)| (k as f64 - m0.mean).powi(r) * p)
                    .sum()
            };
            let (e2, e4) = (about(2), about(4));
            mean_test_power(
                n,
                m0.variance,
                (m0.m4 - m0.variance.powi(2)).sqrt(),
                e2,
                (e4 - e2 * e2).sqrt(),
                alpha,
            )
        }
        Check::W1 { .. } => {
            let law = Nrelu::at(x);
            let w0 = w1_nrelu_lattice(&law, &lattice_cdf(&p0));
            let w1 = w1_nrelu_lattice(&law, &lattice_cdf(&p1));
            let sd = w1_test_sd(x, &law, &p1, n);
            z_power((w1 - w0) / sd, 1.0, alpha)
        }
        _ => unreachable!(),
    })
}

/// The environment variable that marks a child process started by
/// [`on_every_path`].
pub const CHILD_ENV: &str = "NRELU_RBM_PROPTESTS_CHILD";

/// Runs `body` once per available kernel path, each time in a child
/// process of the current test binary with [`KERNEL_ENV`] forcing the path
/// (the library's `Rbm` and `train` use the process-wide active path, which
/// is chosen once per process). In the child, `body` runs directly, after
/// checking that the forced path is active. `test_name` is the test's full
/// name as the harness knows it (e.g. `training_increases_the_likelihood`).
pub fn on_every_path(test_name: &str, body: impl FnOnce()) {
    if std::env::var_os(CHILD_ENV).is_some() {
        let want = std::env::var(KERNEL_ENV).expect("child has a forced path");
        assert_eq!(
            nrelu_rbm::kernels::active_path().name(),
            want,
            "forced path not active"
        );
        body();
        return;
    }
    let exe = std::env::current_exe().expect("test binary path");
    for p in Path::available() {
        let out = std::process::Command::new(&exe)
            .args([test_name, "--exact", "--nocapture", "--test-threads=1"])
            .env(KERNEL_ENV, p.name())
            .env(CHILD_ENV, "1")
            .output()
            .expect("cannot start the test binary");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        print!("--- path {p} ---\n{stdout}");
        assert!(
            out.status.success() && stdout.contains("1 passed"),
            "{test_name} failed on path {p}:\n{stdout}\n{stderr}"
        );
    }
}
