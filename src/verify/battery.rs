//! The sampler test battery: what is tested, at which sample size, from
//! which stream, and how each test is run on a [`Samplers`].

use super::Samplers;
use super::gibbs::{TinyRbm, gibbs_test};
use super::laws::{
    Moments, Nrelu, binomial_pmf, lattice_moments, normal_cdf, normal_sf, sigmoid, ssu_pmf,
};
use super::stats::{Outcome, binomial_test, chi_square_test, ks_test, z_test};
use super::wasserstein::w1_test;

/// Elements drawn per sampler call (a multiple of 32, so only a test's
/// last call can end inside a random block).
pub const CHUNK: usize = 1 << 16;

/// How many draws each test makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Preset {
    /// 1/16 of [`Preset::Standard`]: a smoke test of a few seconds, with
    /// much less power.
    Quick,
    /// The sizes of the test suite (`cargo test -p nrelu-rbm-proptests`),
    /// at which every power companion rejects.
    Standard,
    /// 6 × [`Preset::Standard`] (Gibbs 3 ×): `rbm verify --full`, about
    /// 40 s on two idle cores.
    Full,
}

impl Preset {
    /// Scales a Standard sample size.
    fn scale(self, n: usize) -> usize {
        match self {
            Preset::Quick => (n / 16).max(4096),
            Preset::Standard => n,
            Preset::Full => n * 6,
        }
    }

    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Preset::Quick => "quick",
            Preset::Standard => "standard",
            Preset::Full => "full",
        }
    }
}

/// Groups of tests, for reports and for running a part of the battery.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    /// Bernoulli counts.
    Bernoulli,
    /// Standard normal: KS and tail frequencies.
    Normal,
    /// NReLU: atom at 0 and positive part.
    Nrelu,
    /// Binomial(K) against its pmf.
    Binomial,
    /// Exact SSU against the Poisson-binomial pmf.
    Ssu,
    /// Means and variances of NReLU and SSU against their exact values.
    Moments,
    /// Empirical W1(NReLU, SSU) against the exact value.
    Wasserstein,
    /// Gibbs chains on tiny RBMs against the exact joint.
    Gibbs,
}

impl Family {
    /// Every family, in report order.
    pub const ALL: [Family; 8] = [
        Family::Bernoulli,
        Family::Normal,
        Family::Nrelu,
        Family::Binomial,
        Family::Ssu,
        Family::Moments,
        Family::Wasserstein,
        Family::Gibbs,
    ];

    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Family::Bernoulli => "bernoulli",
            Family::Normal => "normal",
            Family::Nrelu => "nrelu",
            Family::Binomial => "binomial",
            Family::Ssu => "ssu",
            Family::Moments => "moments",
            Family::Wasserstein => "wasserstein",
            Family::Gibbs => "gibbs",
        }
    }
}

/// One statistical test of a sampler against its exact law.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Check {
    /// Exact binomial test of the count of ones of Bernoulli(σ(x)).
    BernoulliCount {
        /// Pre-activation.
        x: f32,
    },
    /// KS test of the standard normal against Φ.
    NormalKs,
    /// Binomial test of the frequency of |z| > t against 2Φ̄(t).
    NormalTail {
        /// Threshold.
        t: f32,
    },
    /// Binomial test of the number of NReLU draws > 0 against Φ(x/√σ(x)).
    NreluZeroMass {
        /// Pre-activation.
        x: f32,
    },
    /// KS test of the positive NReLU draws against N(x, σ(x)) truncated to
    /// (0, ∞).
    NreluPositiveKs {
        /// Pre-activation.
        x: f32,
    },
    /// z test of the NReLU sample mean against the exact mean.
    NreluMean {
        /// Pre-activation.
        x: f32,
    },
    /// z test of the NReLU variance (about the exact mean) against the
    /// exact variance.
    NreluVariance {
        /// Pre-activation.
        x: f32,
    },
    /// Chi-square test of binomial(K) against the binomial pmf.
    BinomialChiSquare {
        /// Copies.
        k: u32,
        /// Pre-activation.
        x: f32,
    },
    /// Chi-square test of the exact SSU against the Poisson-binomial pmf.
    SsuChiSquare {
        /// Pre-activation.
        x: f32,
    },
    /// z test of the SSU sample mean against Σ σ(x − i + ½).
    SsuMean {
        /// Pre-activation.
        x: f32,
    },
    /// z test of the SSU variance against Σ σ_i(1 − σ_i).
    SsuVariance {
        /// Pre-activation.
        x: f32,
    },
    /// Empirical W1(NReLU, SSU) against the exact W1.
    W1 {
        /// Pre-activation.
        x: f32,
    },
    /// Chi-square test of a Gibbs run on a 6 × 4 RBM against the exact
    /// joint; `k` = 1 for Bernoulli hidden units, else binomial(k).
    Gibbs {
        /// Copies per hidden unit.
        k: u32,
    },
}

impl Check {
    /// The family of the check.
    pub fn family(&self) -> Family {
        match self {
            Check::BernoulliCount { .. } => Family::Bernoulli,
            Check::NormalKs | Check::NormalTail { .. } => Family::Normal,
            Check::NreluZeroMass { .. } | Check::NreluPositiveKs { .. } => Family::Nrelu,
            Check::BinomialChiSquare { .. } => Family::Binomial,
            Check::SsuChiSquare { .. } => Family::Ssu,
            Check::NreluMean { .. }
            | Check::NreluVariance { .. }
            | Check::SsuMean { .. }
            | Check::SsuVariance { .. } => Family::Moments,
            Check::W1 { .. } => Family::Wasserstein,
            Check::Gibbs { .. } => Family::Gibbs,
        }
    }

    /// A stable, readable name, e.g. `nrelu-zero-mass x=-0.5`. The stream
    /// id of the check is derived from it.
    pub fn name(&self) -> String {
        match *self {
            Check::BernoulliCount { x } => format!("bernoulli-count x={x}"),
            Check::NormalKs => "normal-ks".to_owned(),
            Check::NormalTail { t } => format!("normal-tail |z|>{t}"),
            Check::NreluZeroMass { x } => format!("nrelu-zero-mass x={x}"),
            Check::NreluPositiveKs { x } => format!("nrelu-positive-ks x={x}"),
            Check::NreluMean { x } => format!("nrelu-mean x={x}"),
            Check::NreluVariance { x } => format!("nrelu-variance x={x}"),
            Check::BinomialChiSquare { k, x } => format!("binomial-chi2 K={k} x={x}"),
            Check::SsuChiSquare { x } => format!("ssu-chi2 x={x}"),
            Check::SsuMean { x } => format!("ssu-mean x={x}"),
            Check::SsuVariance { x } => format!("ssu-variance x={x}"),
            Check::W1 { x } => format!("w1-nrelu-ssu x={x}"),
            Check::Gibbs { k: 1 } => "gibbs-chi2 6x4 bernoulli".to_owned(),
            Check::Gibbs { k } => format!("gibbs-chi2 6x4 binomial:{k}"),
        }
    }

    /// The stream id: FNV-1a (64-bit) of [`Check::name`], so every
    /// parameter set has its own fixed stream, the same on every path.
    pub fn stream_id(&self) -> u64 {
        self.name().bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        })
    }
}

/// A check with its sample size.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Item {
    /// What is tested.
    pub check: Check,
    /// Draws (for [`Check::W1`], draws of each law; for
    /// [`Check::Gibbs`], recorded states).
    pub n: usize,
}

/// The x values of the Bernoulli counts.
pub const BERNOULLI_X: [f32; 7] = [-8.0, -3.0, -0.5, 0.0, 0.5, 3.0, 8.0];
/// The x values of the NReLU atom tests, across [−4, 8].
pub const NRELU_X: [f32; 10] = [-4.0, -2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 4.0, 8.0];
/// The x values of the NReLU positive-part KS tests (from x = −1, where
/// 2.7 % of the draws are positive; below, too few are).
pub const NRELU_KS_X: [f32; 8] = [-1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 4.0, 8.0];
/// The (K, x) of the binomial tests.
pub const BINOMIAL_KX: [(u32, f32); 5] = [(2, -1.0), (3, 0.5), (8, 0.0), (20, 2.0), (64, -1.0)];
/// The x values of the SSU pmf tests.
pub const SSU_X: [f32; 5] = [-2.0, 0.0, 2.0, 10.0, 50.0];
/// The x values of the mean and variance tests.
pub const MOMENT_X: [f32; 4] = [-1.0, 0.0, 1.0, 3.0];
/// The x values of the W1 tests.
pub const W1_X: [f32; 5] = [-1.0, 0.0, 1.0, 3.0, 10.0];
/// The binomial K of the second Gibbs test.
pub const GIBBS_BINOMIAL_K: u32 = 3;

/// The battery at a preset, in report order.
pub fn plan(preset: Preset) -> Vec<Item> {
    let mut items = Vec::new();
    {
        let mut add = |check: Check, n: usize| {
            items.push(Item {
                check,
                n: preset.scale(n),
            })
        };
        for x in BERNOULLI_X {
            add(Check::BernoulliCount { x }, 1 << 20);
        }
        add(Check::NormalKs, 1 << 21);
        for t in [3.0, 4.0] {
            add(Check::NormalTail { t }, 1 << 24);
        }
        for x in NRELU_X {
            add(Check::NreluZeroMass { x }, 1 << 20);
        }
        for x in NRELU_KS_X {
            add(Check::NreluPositiveKs { x }, 1 << 20);
        }
        for (k, x) in BINOMIAL_KX {
            add(Check::BinomialChiSquare { k, x }, 1 << 18);
        }
        for x in SSU_X {
            add(Check::SsuChiSquare { x }, 1 << 19);
        }
        for x in MOMENT_X {
            add(Check::NreluMean { x }, 1 << 20);
            add(Check::NreluVariance { x }, 1 << 20);
            add(Check::SsuMean { x }, 1 << 20);
            add(Check::SsuVariance { x }, 1 << 20);
        }
        for x in W1_X {
            add(Check::W1 { x }, 1 << 20);
        }
    }
    // Gibbs: the chain costs a sweep per draw per thinning step; Full
    // triples it rather than multiplying by 6.
    for (k, n) in [(1, 1usize << 18), (GIBBS_BINOMIAL_K, 1 << 20)] {
        let n = match preset {
            Preset::Quick => n / 16,
            Preset::Standard => n,
            Preset::Full => n * 3,
        };
        items.push(Item {
            check: Check::Gibbs { k },
            n,
        });
    }
    items
}

/// The Gibbs test model for `k` (1: Bernoulli hidden units).
pub fn gibbs_model(k: u32) -> TinyRbm {
    TinyRbm::fixed(6, 4, k, if k == 1 { 1.0 } else { 0.5 })
}

/// Lanes (parallel chains) of the Gibbs tests.
pub const GIBBS_LANES: usize = 1024;

/// Draws `n` values in chunks of [`CHUNK`] with `fill(x, out)` at the
/// constant input `x`, handing each chunk to `visit`.
fn draw_chunks(
    n: usize,
    x: f32,
    mut fill: impl FnMut(&[f32], &mut [f32]),
    mut visit: impl FnMut(&[f32]),
) {
    let xs = vec![x; CHUNK.min(n)];
    let mut out = vec![0.0f32; CHUNK.min(n)];
    let mut left = n;
    while left > 0 {
        let m = left.min(CHUNK);
        fill(&xs[..m], &mut out[..m]);
        visit(&out[..m]);
        left -= m;
    }
}

/// `n` draws collected into a vector.
fn collect(n: usize, x: f32, fill: impl FnMut(&[f32], &mut [f32])) -> Vec<f32> {
    let mut all = Vec::with_capacity(n);
    draw_chunks(n, x, fill, |c| all.extend_from_slice(c));
    all
}

/// Counts of the values 0..len−1 (the last cell also takes every larger
/// or non-integer value).
fn lattice_counts(
    n: usize,
    x: f32,
    cells: usize,
    fill: impl FnMut(&[f32], &mut [f32]),
) -> Vec<u64> {
    let mut counts = vec![0u64; cells];
    draw_chunks(n, x, fill, |c| {
        for &v in c {
            let i = if v >= 0.0 && v.fract() == 0.0 {
                (v as usize).min(cells - 1)
            } else {
                cells - 1
            };
            counts[i] += 1;
        }
    });
    counts
}

/// Pmf cells for a chi-square test: `pmf` plus a last cell for the
/// remaining mass (values beyond the pmf, or anything unexpected).
fn with_rest(pmf: &[f64]) -> Vec<f64> {
    let mut p = pmf.to_vec();
    let rest = (1.0 - pmf.iter().sum::<f64>()).max(0.0);
    p.push(rest);
    p
}

/// The z test of a sample mean of `g(draw)` against the exact mean `mu`
/// with the exact standard deviation `sd` of one `g(draw)`.
fn mean_z(n: usize, sum: f64, mu: f64, sd: f64, what: &str) -> Outcome {
    let mean = sum / n as f64;
    z_test(
        (mean - mu) / (sd / (n as f64).sqrt()),
        n,
        format!("{what} {mean:.6} vs exact {mu:.6}"),
    )
}

/// The variance test: `(1/n) Σ (y − μ)²` about the exact mean μ is a mean
/// of i.i.d. terms with mean σ² and variance μ₄ − σ⁴.
fn variance_z(draws: &[f32], m: Moments) -> Outcome {
    let n = draws.len();
    let s: f64 = draws.iter().map(|&y| (f64::from(y) - m.mean).powi(2)).sum();
    mean_z(
        n,
        s,
        m.variance,
        (m.m4 - m.variance * m.variance).sqrt(),
        "variance",
    )
}

/// Runs one item on `s` (a fresh stream per item is the caller's job).
pub fn run_item(item: &Item, s: &mut dyn Samplers) -> Outcome {
    let n = item.n;
    match item.check {
        Check::BernoulliCount { x } => bernoulli_count(n, x, s),
        Check::NormalKs => {
            let mut z = collect(n, 0.0, |_, o| s.normal(o));
            ks_test(&mut z, normal_cdf)
        }
        Check::NormalTail { t } => normal_tail(n, t, s),
        Check::NreluZeroMass { x } => nrelu_zero_mass(n, x, s),
        Check::NreluPositiveKs { x } => nrelu_positive_ks(n, x, s),
        Check::NreluMean { x } => {
            let m = Nrelu::at(f64::from(x)).moments();
            let sum = chunk_sum(n, x, |x, o| s.nrelu(x, o));
            mean_z(n, sum, m.mean, m.variance.sqrt(), "mean")
        }
        Check::NreluVariance { x } => {
            let d = collect(n, x, |x, o| s.nrelu(x, o));
            variance_z(&d, Nrelu::at(f64::from(x)).moments())
        }
        Check::BinomialChiSquare { k, x } => {
            let pmf = binomial_pmf(k, sigmoid(f64::from(x)));
            let probs = with_rest(&pmf);
            let counts = lattice_counts(n, x, probs.len(), |x, o| s.binomial(k, x, o));
            chi_square_test(&probs, &counts)
        }
        Check::SsuChiSquare { x } => {
            let probs = with_rest(&ssu_pmf(f64::from(x)));
            let counts = lattice_counts(n, x, probs.len(), |x, o| s.ssu(x, o));
            chi_square_test(&probs, &counts)
        }
        Check::SsuMean { x } => {
            let m = lattice_moments(&ssu_pmf(f64::from(x)));
            let sum = chunk_sum(n, x, |x, o| s.ssu(x, o));
            mean_z(n, sum, m.mean, m.variance.sqrt(), "mean")
        }
        Check::SsuVariance { x } => {
            let d = collect(n, x, |x, o| s.ssu(x, o));
            variance_z(&d, lattice_moments(&ssu_pmf(f64::from(x))))
        }
        Check::W1 { x } => {
            let mut a = collect(n, x, |x, o| s.nrelu(x, o));
            let mut b = collect(n, x, |x, o| s.ssu(x, o));
            w1_test(f64::from(x), &mut a, &mut b)
        }
        Check::Gibbs { k } => {
            let records = n.div_ceil(GIBBS_LANES);
            gibbs_test(&gibbs_model(k), GIBBS_LANES, records, s)
        }
    }
}

/// How many of `n` draws at the constant input `x` satisfy `hit`.
fn count_hits(
    n: usize,
    x: f32,
    fill: impl FnMut(&[f32], &mut [f32]),
    hit: impl Fn(f32) -> bool,
) -> u64 {
    let mut k = 0u64;
    draw_chunks(n, x, fill, |c| {
        k += c.iter().filter(|&&v| hit(v)).count() as u64;
    });
    k
}

/// The sum of `n` draws at the constant input `x`, summed per chunk in
/// `f64` and then across chunks.
fn chunk_sum(n: usize, x: f32, fill: impl FnMut(&[f32], &mut [f32])) -> f64 {
    let mut sum = 0.0;
    draw_chunks(n, x, fill, |c| {
        sum += c.iter().map(|&v| f64::from(v)).sum::<f64>();
    });
    sum
}

/// The binomial test of the Bernoulli(σ(x)) count. Counts the rarer
/// outcome so both tails are computed without cancellation: ones below
/// x = 0, zeros above.
fn bernoulli_count(n: usize, x: f32, s: &mut dyn Samplers) -> Outcome {
    let ones_rare = x <= 0.0;
    let k = count_hits(n, x, |x, o| s.bernoulli(x, o), |v| (v == 1.0) == ones_rare);
    let p = if ones_rare {
        sigmoid(f64::from(x))
    } else {
        sigmoid(-f64::from(x))
    };
    let mut o = binomial_test(k, n as u64, p);
    o.detail = format!("{} {}", if ones_rare { "ones" } else { "zeros" }, o.detail);
    o
}

/// The binomial test of how often a standard normal draw exceeds `t` in
/// absolute value.
fn normal_tail(n: usize, t: f32, s: &mut dyn Samplers) -> Outcome {
    let k = count_hits(n, 0.0, |_, o| s.normal(o), |v| v.abs() > t);
    binomial_test(k, n as u64, 2.0 * normal_sf(f64::from(t)))
}

/// The binomial test of the NReLU mass at zero. Counts the rarer event:
/// h > 0 below x = 0, h = 0 above.
fn nrelu_zero_mass(n: usize, x: f32, s: &mut dyn Samplers) -> Outcome {
    let law = Nrelu::at(f64::from(x));
    let zeros_rare = x > 0.0;
    let k = count_hits(n, x, |x, o| s.nrelu(x, o), |v| (v == 0.0) == zeros_rare);
    let p = if zeros_rare {
        law.zero_mass()
    } else {
        law.positive_mass()
    };
    let mut o = binomial_test(k, n as u64, p);
    o.detail = format!(
        "{} {}",
        if zeros_rare { "h = 0" } else { "h > 0" },
        o.detail
    );
    o
}

/// The KS test of the positive part of NReLU draws against the exact
/// conditional law.
fn nrelu_positive_ks(n: usize, x: f32, s: &mut dyn Samplers) -> Outcome {
    let law = Nrelu::at(f64::from(x));
    let mut pos = Vec::new();
    draw_chunks(
        n,
        x,
        |x, o| s.nrelu(x, o),
        |c| {
            pos.extend(c.iter().filter(|&&v| v > 0.0));
        },
    );
    let mut o = ks_test(&mut pos, |t| law.positive_cdf(t));
    o.detail = format!("{} positive of {n}; {}", pos.len(), o.detail);
    o
}
