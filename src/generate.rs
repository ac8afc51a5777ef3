//! Sampling from the model: block Gibbs chains v → h → v, from given
//! visible rows ([`Rbm::gibbs`]) or from the model's own start
//! ([`Rbm::generate`]).
//!
//! # One step
//! From visible states `v` (rows × V): the hidden pre-activations
//! `x = vW + c`, hidden samples `h ~ p(h | v)` of the model's hidden unit
//! type (NReLU noise of variance σ(x)), then `y = hWᵀ + b` and visible
//! samples `v ~ p(v | h)`: Bernoulli(σ(y)), or `y + N(0, 1)` for Gaussian
//! units. Both conditionals are the model's own, so the chain's
//! stationary law is the model's p(v) (for every hidden unit type with an
//! energy; an NReLU model has no energy, and its chain is the sampler the
//! model was trained with).
//!
//! Gaussian visible units are **sampled** at every step, unlike the
//! noise-free reconstructions of training (`docs/training.md`): without the
//! noise the chain would not have the model's law.
//!
//! # Threads and reproducibility
//! Chains are cut into blocks of [`CHAIN_BLOCK`] rows; block `i` draws
//! every random number of its chains — the start, then each step's hidden
//! and visible samples — from its own stream `Stream::new(seed, i)`.
//! Threads take parts of whole 16-row product tiles (at most [`MAX_PART`]
//! rows), and each part runs all its steps on its own: the products are
//! the kernels' unpadded ones, whose bits do not depend on where rows are
//! cut at multiples of 16, so the result is **bit-identical for any thread
//! count** (tested).

use crate::error::{Result, check_finite, invalid};
use crate::kernels::{Accumulate, Activation, Kernels, MatMut, MatRef, Product, Sampler, Stream};
use crate::parallel::Workers;
use crate::rbm::{Rbm, VisibleUnit, add_unit_noise};

/// Chains per random-stream block.
pub(crate) const CHAIN_BLOCK: usize = 4;
/// Most chains in one part of the work: a multiple of the 16-row product
/// tile, small enough that a part's states stay in cache and that a long
/// run reports progress often.
pub(crate) const MAX_PART: usize = 256;

const _: () = assert!(MAX_PART.is_multiple_of(crate::kernels::SGEMM_ROW_TILE));
const _: () = assert!(crate::kernels::SGEMM_ROW_TILE.is_multiple_of(CHAIN_BLOCK));

/// Settings of the Gibbs chains of [`Rbm::gibbs`] and [`Rbm::generate`]:
/// the number of steps, the seed and the threads.
///
/// ```
/// use nrelu_rbm::GibbsConfig;
/// let cfg = GibbsConfig::new(1000, 7).with_threads(2);
/// assert_eq!((cfg.steps(), cfg.seed(), cfg.threads()), (1000, 7, 2));
/// assert_eq!(GibbsConfig::new(10, 0).threads(), 1); // the calling thread
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct GibbsConfig {
    steps: usize,
    seed: u64,
    threads: usize,
}

impl GibbsConfig {
    /// `steps` Gibbs steps v → h → v per chain, with every random number
    /// drawn from streams of `seed`, on the calling thread.
    pub fn new(steps: usize, seed: u64) -> GibbsConfig {
        GibbsConfig {
            steps,
            seed,
            threads: 1,
        }
    }

    /// Gibbs steps per chain (0 returns the start).
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// The seed of the chains' streams.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Threads of the current rayon pool the chains run on: 1 (the
    /// default) = only the calling thread, no rayon at all; 0 = every
    /// thread of the current pool; n = the chains cut into at least about
    /// n parts for the current pool. No pool is built; to run on exactly n
    /// threads, call inside `install` of a pool of n threads. The result
    /// does not depend on it.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// These settings on `threads` threads ([`GibbsConfig::threads`];
    /// checked by the sampling methods: at most 1024).
    #[must_use]
    pub fn with_threads(mut self, threads: usize) -> GibbsConfig {
        self.threads = threads;
        self
    }
}

/// Where the chains start.
#[derive(Clone, Copy)]
enum Start<'a> {
    /// The given visible rows.
    Rows(&'a [f32]),
    /// A draw from p(v | h = 0).
    HiddenOff,
}

impl Rbm {
    /// [`GibbsConfig::steps`] Gibbs steps v → h → v from each row of `v`
    /// (whole rows of [`Rbm::n_visible`] visible states, used as given: the
    /// model's input map is not applied); returns the last visible
    /// samples, one row per input row. Each step draws the hidden units
    /// from p(h | v) (NReLU noise of variance σ(x)) and the visible units
    /// from p(v | h): binary states for Bernoulli units, `hWᵀ + b + N(0, 1)`
    /// for Gaussian units (sampled, not the noise-free reconstruction of
    /// training). Row `r` is chain `r`; chains are independent given their
    /// start, and their random numbers come from the streams of
    /// [`GibbsConfig::seed`] as described in `docs/likelihood.md`
    /// ("Sampling from the model"), so the same rows and settings give the
    /// same bits on every kernel path and for any thread count.
    ///
    /// ```
    /// use nrelu_rbm::{GibbsConfig, Rbm, VisibleUnit, units::HiddenUnit};
    /// let rbm = Rbm::new(6, 4, VisibleUnit::Bernoulli, HiddenUnit::Nrelu, 1)?;
    /// let start = [1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0];
    /// let v = rbm.gibbs(&start, &GibbsConfig::new(5, 42))?;
    /// assert_eq!(v.len(), start.len());
    /// assert!(v.iter().all(|&x| x == 0.0 || x == 1.0));
    /// // The same seed gives the same chains, on any number of threads.
    /// assert_eq!(v, rbm.gibbs(&start, &GibbsConfig::new(5, 42).with_threads(2))?);
    /// # Ok::<(), nrelu_rbm::RbmError>(())
    /// ```
    ///
    /// # Errors
    /// [`RbmError::EmptyData`](crate::RbmError::EmptyData) for no rows,
    /// [`RbmError::Ragged`](crate::RbmError::Ragged) if the length is not
    /// a multiple of [`Rbm::n_visible`],
    /// [`RbmError::NonFinite`](crate::RbmError::NonFinite) for a NaN or
    /// infinite value,
    /// [`RbmError::InvalidParameter`](crate::RbmError::InvalidParameter)
    /// for more than 1024 threads, or if the chains reach non-finite states
    /// (a Gaussian-visible model with NReLU or SSU hidden units whose
    /// weights are too large has an energy unbounded below).
    pub fn gibbs(&self, v: &[f32], cfg: &GibbsConfig) -> Result<Vec<f32>> {
        let rows = self.check_input("visible data", v, self.n_visible)?;
        self.run_chains(Start::Rows(v), rows, cfg, &|_| {})
    }

    /// `count` independent Gibbs chains of [`GibbsConfig::steps`] steps
    /// each, started from p(v | h = 0); returns their last visible
    /// samples, `count` rows of [`Rbm::n_visible`] values (in the model's
    /// own units: the input map is not undone).
    ///
    /// The start p(v | h = 0) is the visible layer on its own biases:
    /// Bernoulli(σ(b)) for Bernoulli units (at initialisation by
    /// [`Rbm::init_visible_bias_from`], the data's marginals), N(b, 1) for
    /// Gaussian units. It needs no data and, being one draw of the
    /// chain's own visible conditional, is a state the chain can reach in
    /// one step. The samples are the visible states of the last step, as
    /// in [`Rbm::gibbs`]: binary for Bernoulli units, with their N(0, 1)
    /// noise for Gaussian units. After enough steps they are draws from
    /// the model's p(v); how many are enough depends on the model
    /// (`docs/likelihood.md`, "Sampling from the model").
    ///
    /// ```
    /// use nrelu_rbm::{GibbsConfig, Rbm, VisibleUnit, units::HiddenUnit};
    /// let rbm = Rbm::new(16, 8, VisibleUnit::Bernoulli, HiddenUnit::binomial(3)?, 1)?;
    /// let v = rbm.generate(10, &GibbsConfig::new(100, 7))?; // 10 chains, 100 steps
    /// assert_eq!(v.len(), 10 * 16);
    /// assert!(v.iter().all(|&x| x == 0.0 || x == 1.0));
    /// assert!(rbm.generate(0, &GibbsConfig::new(100, 7)).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`RbmError::InvalidParameter`](crate::RbmError::InvalidParameter)
    /// for `count` 0, for a `count` whose output would not fit in memory,
    /// for more than 1024 threads, or if the chains reach non-finite states
    /// (as in [`Rbm::gibbs`]).
    pub fn generate(&self, count: usize, cfg: &GibbsConfig) -> Result<Vec<f32>> {
        self.generate_with_progress(count, cfg, &|_| {})
    }

    /// [`Rbm::generate`], calling `progress(chains)` each time `chains`
    /// chains have made one more step (from any worker thread).
    pub(crate) fn generate_with_progress(
        &self,
        count: usize,
        cfg: &GibbsConfig,
        progress: &(dyn Fn(usize) + Sync),
    ) -> Result<Vec<f32>> {
        if count == 0 {
            return Err(invalid("count", 0, "must be at least 1 chain"));
        }
        self.run_chains(Start::HiddenOff, count, cfg, progress)
    }

    /// Runs `rows` chains from `start` for `cfg.steps` steps; returns the
    /// visible states.
    fn run_chains(
        &self,
        start: Start<'_>,
        rows: usize,
        cfg: &GibbsConfig,
        progress: &(dyn Fn(usize) + Sync),
    ) -> Result<Vec<f32>> {
        let workers = Workers::on_current_pool(cfg.threads)?;
        let mut out = allocate(rows, self.n_visible)?;
        match start {
            Start::Rows(v) => out.extend_from_slice(v),
            Start::HiddenOff => out.resize(rows * self.n_visible, 0.0),
        }
        let mut streams: Vec<Stream> = (0..rows.div_ceil(CHAIN_BLOCK) as u64)
            .map(|i| Stream::new(cfg.seed, i))
            .collect();
        // Whole 16-row tiles per part but the last, whose small-row rows
        // are then the last `rows % 16` of the whole for any thread count.
        let part = workers.part_rows_unpadded(rows).min(MAX_PART);
        let chains = Chains {
            rbm: self,
            k: Kernels::active(),
            sampler: self.hidden.sampler(),
            steps: cfg.steps,
            from_rows: matches!(start, Start::Rows(_)),
        };
        workers.for_wide_row_parts_with_streams(
            (part, CHAIN_BLOCK),
            (&mut out, self.n_visible),
            &mut streams,
            |_, v, streams| chains.run(v, streams, progress),
        );
        // Gaussian visible units with unbounded hidden units (NReLU, SSU)
        // and large weights have an energy unbounded below: no law to
        // sample, and chains that run off to infinity.
        if check_finite(&out, self.n_visible).is_err() {
            return Err(invalid(
                "steps",
                cfg.steps,
                "the chains reached non-finite states: the model's energy is unbounded \
                 below (Gaussian visible units with NReLU or SSU hidden units and large \
                 weights), so it has no distribution to sample",
            ));
        }
        Ok(out)
    }
}

/// An empty buffer with room for `rows × width` values, or a typed error
/// if that many cannot be held.
fn allocate(rows: usize, width: usize) -> Result<Vec<f32>> {
    let too_many = || invalid("count", rows, "the samples would not fit in memory");
    let len = rows.checked_mul(width).ok_or_else(too_many)?;
    len.checked_mul(std::mem::size_of::<f32>())
        .filter(|&b| b <= isize::MAX as usize)
        .ok_or_else(too_many)?;
    let mut out = Vec::new();
    out.try_reserve_exact(len).map_err(|_| too_many())?;
    Ok(out)
}

/// What every part of the chains shares.
struct Chains<'a> {
    rbm: &'a Rbm,
    k: Kernels,
    sampler: Sampler,
    steps: usize,
    /// The parts hold their start already (else it is drawn).
    from_rows: bool,
}

impl Chains<'_> {
    /// Runs the chains of one part: `v` holds their visible rows (the start
    /// if given), `streams` their blocks' streams.
    fn run(&self, v: &mut [f32], streams: &mut [Stream], progress: &(dyn Fn(usize) + Sync)) {
        let (nv, nh) = (self.rbm.n_visible, self.rbm.n_hidden);
        let rows = v.len() / nv;
        if !self.from_rows {
            v.fill(0.0);
            self.sample_visible(v, streams);
        }
        let mut h = vec![0f32; rows * nh];
        let w = MatRef::row_major(&self.rbm.weights, nv, nh);
        for _ in 0..self.steps {
            self.k.product(
                MatRef::row_major(v, rows, nv),
                w,
                MatMut::row_major(&mut h, rows, nh),
                Product::new(Accumulate::Overwrite),
            );
            for (block, s) in h.chunks_mut(CHAIN_BLOCK * nh).zip(streams.iter_mut()) {
                let bias = &self.rbm.hidden_bias;
                self.k.sample_rows(self.sampler, bias, block, nh, s);
            }
            self.k.product(
                MatRef::row_major(&h, rows, nh),
                w.transpose(),
                MatMut::row_major(v, rows, nv),
                Product::new(Accumulate::Overwrite),
            );
            self.sample_visible(v, streams);
            progress(rows);
        }
    }

    /// Visible samples in place at the top-down inputs `v` (without the
    /// bias), block by block from the blocks' streams.
    fn sample_visible(&self, v: &mut [f32], streams: &mut [Stream]) {
        let nv = self.rbm.n_visible;
        let bias = &self.rbm.visible_bias;
        for (block, s) in v.chunks_mut(CHAIN_BLOCK * nv).zip(streams.iter_mut()) {
            match self.rbm.visible {
                VisibleUnit::Bernoulli => {
                    self.k.sample_rows(Sampler::Bernoulli, bias, block, nv, s)
                }
                VisibleUnit::Gaussian => {
                    for row in block.chunks_mut(nv) {
                        self.k.activate(Activation::Identity, bias, row);
                        add_unit_noise(row, s);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::RbmError;
    use crate::units::HiddenUnit;

    fn model(visible: VisibleUnit, hidden: HiddenUnit, nv: usize, nh: usize) -> Rbm {
        let mut rbm = Rbm::new(nv, nh, visible, hidden, 3).unwrap();
        // Weights large enough that the chains move.
        rbm.weights.iter_mut().for_each(|w| *w *= 50.0);
        let mut b = vec![0f32; nv];
        Stream::new(5, 1).standard_normal(&mut b);
        rbm.visible_bias = b;
        rbm
    }

    fn units() -> [HiddenUnit; 4] {
        [
            HiddenUnit::Bernoulli,
            HiddenUnit::Nrelu,
            HiddenUnit::Ssu,
            HiddenUnit::binomial(3).unwrap(),
        ]
    }

    fn on_threads<R: Send>(t: usize, f: impl FnOnce() -> R + Send) -> R {
        rayon::ThreadPoolBuilder::new()
            .num_threads(t)
            .build()
            .unwrap()
            .install(f)
    }

    /// The same bits for one thread and for 2 or 3 threads of a pool (odd
    /// splits: 100 and 37 chains are not whole parts), for every unit.
    #[test]
    fn same_bits_for_any_thread_count() {
        for visible in [VisibleUnit::Bernoulli, VisibleUnit::Gaussian] {
            for hidden in units() {
                let rbm = model(visible, hidden, 20, 7);
                for count in [1, 37, 100, 600] {
                    let one = rbm.generate(count, &GibbsConfig::new(3, 9)).unwrap();
                    for t in [2, 3] {
                        let cfg = GibbsConfig::new(3, 9).with_threads(t);
                        let many = on_threads(t, || rbm.generate(count, &cfg)).unwrap();
                        let cfg0 = GibbsConfig::new(3, 9).with_threads(0);
                        let all = on_threads(t, || rbm.generate(count, &cfg0)).unwrap();
                        assert!(one == many && one == all, "{visible} {hidden} {count} {t}");
                    }
                    let start = one.clone();
                    let a = rbm.gibbs(&start, &GibbsConfig::new(2, 1)).unwrap();
                    let cfg = GibbsConfig::new(2, 1).with_threads(2);
                    let b = on_threads(2, || rbm.gibbs(&start, &cfg)).unwrap();
                    assert_eq!(a, b, "{visible} {hidden} gibbs {count}");
                }
            }
        }
    }

    /// Each chain's draws come from its block's stream: a chain's result
    /// does not depend on the chains of other blocks (here: the first 16
    /// chains of 16 and of 32, both whole product tiles).
    #[test]
    fn chains_do_not_depend_on_other_blocks() {
        let rbm = model(VisibleUnit::Bernoulli, HiddenUnit::Nrelu, 10, 5);
        let short = rbm.generate(16, &GibbsConfig::new(4, 2)).unwrap();
        let long = rbm.generate(32, &GibbsConfig::new(4, 2)).unwrap();
        assert_eq!(short[..], long[..16 * 10]);
        assert_ne!(long[..16 * 10], long[16 * 10..]);
    }

    /// States: binary for Bernoulli visible units, real and noisy for
    /// Gaussian ones; zero steps return the start (given rows unchanged);
    /// the seed matters.
    #[test]
    fn states_and_start() {
        for hidden in units() {
            let b = model(VisibleUnit::Bernoulli, hidden, 9, 4);
            let v = b.generate(50, &GibbsConfig::new(5, 1)).unwrap();
            assert!(v.iter().all(|&x| x == 0.0 || x == 1.0), "{hidden}");
            assert_ne!(v, b.generate(50, &GibbsConfig::new(5, 2)).unwrap());
            let g = model(VisibleUnit::Gaussian, hidden, 9, 4);
            let v = g.generate(50, &GibbsConfig::new(5, 1)).unwrap();
            assert!(v.iter().any(|&x| x != x.round()), "{hidden}");
            let rows = [0.25f32; 18];
            assert_eq!(g.gibbs(&rows, &GibbsConfig::new(0, 1)).unwrap(), rows);
        }
        // Zero steps: p(v | h = 0) = Bernoulli(σ(b)); with b = ±20 that is
        // 1 or 0 almost surely.
        let mut rbm = model(VisibleUnit::Bernoulli, HiddenUnit::Ssu, 4, 2);
        rbm.visible_bias = vec![20.0, -20.0, 20.0, -20.0];
        let v = rbm.generate(3, &GibbsConfig::new(0, 0)).unwrap();
        assert_eq!(v, [1., 0., 1., 0.].repeat(3));
    }

    #[test]
    fn bad_input_is_a_typed_error() {
        let rbm = model(VisibleUnit::Bernoulli, HiddenUnit::Nrelu, 3, 2);
        let cfg = GibbsConfig::new(1, 0);
        assert!(matches!(
            rbm.generate(0, &cfg),
            Err(RbmError::InvalidParameter { name: "count", .. })
        ));
        assert!(matches!(
            rbm.generate(usize::MAX / 2, &cfg),
            Err(RbmError::InvalidParameter { name: "count", .. })
        ));
        assert!(matches!(
            rbm.gibbs(&[], &cfg),
            Err(RbmError::EmptyData { .. })
        ));
        assert!(matches!(
            rbm.gibbs(&[0.0; 4], &cfg),
            Err(RbmError::Ragged { .. })
        ));
        assert!(matches!(
            rbm.gibbs(&[0.0, f32::NAN, 1.0], &cfg),
            Err(RbmError::NonFinite { row: 1, col: 2, .. })
        ));
        // Gaussian visible and NReLU hidden units with large weights: the
        // chains run off to infinity, a typed error.
        let mut big = model(VisibleUnit::Gaussian, HiddenUnit::Nrelu, 20, 20);
        big.weights.iter_mut().for_each(|w| *w = 1.0);
        assert!(matches!(
            big.generate(8, &GibbsConfig::new(200, 0)),
            Err(RbmError::InvalidParameter { name: "steps", .. })
        ));
        let many = GibbsConfig::new(1, 0).with_threads(2000);
        assert!(matches!(
            rbm.generate(4, &many),
            Err(RbmError::InvalidParameter {
                name: "threads",
                ..
            })
        ));
    }
}
