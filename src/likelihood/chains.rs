//! The batch of annealed chains that forward AIS (`ais.rs`) and reverse AIS
//! (`reverse.rs`) share: their states, the Gibbs transitions at an inverse
//! temperature β and the log-weight increments between two temperatures.
//!
//! The path is p_β(v, h) ∝ exp((1−β) b_Aᵀv + β(bᵀv + cᵀh + vᵀWh)) times the
//! fixed base measure of the hidden units (the multiplicities C(K, h) of
//! binomial units; for stepped sigmoid units, the factors e^{−i + ½} of
//! their copies, which are not tempered).

use super::ais::{AisConfig, Flaw};
use super::{hidden_term, softplus};
use crate::error::Result;
use crate::kernels::{Accumulate, Activation, Kernels, MatMut, MatRef, Product, Sampler, Stream};
use crate::parallel::Workers;
use crate::rbm::Rbm;
use crate::units::HiddenUnit;

/// Runs per random-stream block.
pub(crate) const AIS_BLOCK: usize = 8;

/// `w` (`rows × cols`, row-major) transposed into its own row-major copy.
pub(crate) fn transposed(w: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut w_t = vec![0f32; rows * cols];
    for (i, row) in w.chunks_exact(cols).enumerate() {
        for (j, &x) in row.iter().enumerate() {
            w_t[j * rows + i] = x;
        }
    }
    w_t
}

/// Σ_i a_i (p_i + q_i) in f64 over eight interleaved partial sums, so the
/// adds pipeline and vectorise instead of forming one serial chain.
fn dot8<P: Copy + Into<f64>>(a: &[f32], p: &[P], q: &[P]) -> f64 {
    let mut acc = [0f64; 8];
    let (ca, cp, cq) = (a.chunks_exact(8), p.chunks_exact(8), q.chunks_exact(8));
    let mut tail = 0f64;
    for ((&x, &y), &z) in ca
        .remainder()
        .iter()
        .zip(cp.remainder())
        .zip(cq.remainder())
    {
        tail += f64::from(x) * (y.into() + z.into());
    }
    for ((xa, ya), za) in ca.zip(cp).zip(cq) {
        for (((s, &x), &y), &z) in acc.iter_mut().zip(xa).zip(ya).zip(za) {
            *s += f64::from(x) * (y.into() + z.into());
        }
    }
    acc.iter().sum::<f64>() + tail
}

/// What every part of the AIS runs shares: the model, the base-rate
/// biases and the quantities derived from them once.
pub(crate) struct AisChains<'a> {
    k: Kernels,
    nv: usize,
    nh: usize,
    /// W (V × H).
    w: MatRef<'a>,
    /// Wᵀ as its own row-major copy: the product H·Wᵀ then packs
    /// contiguous rows instead of gathering a strided view at every
    /// temperature (same values, same packed panels, so the same results).
    w_t: MatRef<'a>,
    visible_bias: &'a [f32],
    hidden_bias: &'a [f32],
    base_bias: &'a [f32],
    /// b − b_A in f64: (b − b_A)ᵀv is `dot8(v, db, zeros)`.
    db: Vec<f64>,
    zeros: Vec<f64>,
    /// K, the copies per hidden unit.
    kf: f64,
    /// g' of the increment: σ, or the SSU mean for stepped sigmoid units.
    mean: Activation,
    sampler: Sampler,
    hidden: HiddenUnit,
    flaw: Flaw,
}

/// The state of one part of the runs: `rows` chains' visible states `v`,
/// total hidden inputs `x = vW + c` and two buffers of hidden values.
pub(crate) struct AisPart {
    pub(crate) rows: usize,
    pub(crate) v: Vec<f32>,
    x: Vec<f32>,
    /// Hidden states after a hidden step (and scratch for the increments).
    pub(crate) t: Vec<f32>,
    t2: Vec<f32>,
    /// The visible biases of the current temperature.
    bias_k: Vec<f32>,
}

impl<'a> AisChains<'a> {
    pub(crate) fn new(
        rbm: &'a Rbm,
        base_bias: &'a [f32],
        k_copies: u32,
        w_t: &'a [f32],
        flaw: Flaw,
    ) -> AisChains<'a> {
        let (nv, nh) = (rbm.n_visible, rbm.n_hidden);
        AisChains {
            k: Kernels::active(),
            nv,
            nh,
            w: MatRef::row_major(&rbm.weights, nv, nh),
            w_t: MatRef::row_major(w_t, nh, nv),
            visible_bias: &rbm.visible_bias,
            hidden_bias: &rbm.hidden_bias,
            base_bias,
            db: rbm
                .visible_bias
                .iter()
                .zip(base_bias)
                .map(|(&b, &a)| f64::from(b) - f64::from(a))
                .collect(),
            zeros: vec![0f64; nv],
            kf: f64::from(k_copies),
            mean: match rbm.hidden {
                HiddenUnit::Ssu => Activation::SsuMean,
                _ => Activation::Sigmoid,
            },
            sampler: match rbm.hidden {
                HiddenUnit::Binomial(kk) => Sampler::Binomial(kk),
                HiddenUnit::Ssu => Sampler::Ssu,
                _ => Sampler::Bernoulli,
            },
            hidden: rbm.hidden,
            flaw,
        }
    }

    /// log Z of the base-rate model: Σ_i softplus(b_A,i) plus, per hidden
    /// unit, K ln 2 (Bernoulli and binomial units) or Σ_{i≥1}
    /// softplus(−i + ½) (stepped sigmoid units, evaluated as the free
    /// energy is).
    pub(crate) fn log_z_base(&self) -> f64 {
        let visible: f64 = self.base_bias.iter().map(|&a| softplus(f64::from(a))).sum();
        let per_hidden = match self.hidden {
            HiddenUnit::Ssu => hidden_term(HiddenUnit::Ssu, 0.0),
            _ => self.kf * 2f64.ln(),
        };
        visible + self.nh as f64 * per_hidden
    }

    /// The defect these chains carry (tests only).
    #[cfg(test)]
    pub(crate) fn flaw(&self) -> Flaw {
        self.flaw
    }

    /// Runs `cfg.runs` chains in parts on the current pool: `start(first
    /// run, part, streams)` fills each part's visible states, then
    /// [`AisChains::walk`] follows `path`. Returns the runs' log weights.
    ///
    /// Runs are processed in blocks of 8 with their own streams
    /// `Stream::new(seed, block)`, threads take parts of whole 16-row
    /// tiles (multiples of 8, so the products give sgemm whole tiles and
    /// the small-row kernel the last `runs % 16` rows whatever the
    /// threads), and the result does not depend on the number of threads.
    pub(crate) fn run_parts<F>(&self, cfg: &AisConfig, path: &[f64], start: F) -> Result<Vec<f64>>
    where
        F: Fn(usize, &mut AisPart, &mut [Stream]) + Sync,
    {
        let workers = Workers::on_current_pool(cfg.threads)?;
        let blocks = cfg.runs.div_ceil(AIS_BLOCK);
        let mut streams: Vec<Stream> = (0..blocks as u64)
            .map(|i| Stream::new(cfg.seed, i))
            .collect();
        let mut log_weights = vec![0f64; cfg.runs];
        let part = workers.part_rows_unpadded(cfg.runs);
        debug_assert_eq!(part % AIS_BLOCK, 0);
        workers.for_row_parts_with_streams(
            part,
            AIS_BLOCK,
            &mut log_weights,
            &mut streams,
            |row0, lw, streams| {
                let mut p = self.part(lw.len());
                start(row0, &mut p, streams);
                self.walk(&mut p, path, lw, streams);
            },
        );
        Ok(log_weights)
    }

    /// Zeroed buffers for `rows` chains.
    fn part(&self, rows: usize) -> AisPart {
        let (nv, nh) = (self.nv, self.nh);
        AisPart {
            rows,
            v: vec![0f32; rows * nv],
            x: vec![0f32; rows * nh],
            t: vec![0f32; rows * nh],
            t2: vec![0f32; rows * nh],
            bias_k: vec![0f32; nv],
        }
    }

    /// v ~ the base-rate model, each block of runs from its stream.
    pub(crate) fn sample_base(&self, part: &mut AisPart, streams: &mut [Stream]) {
        let nv = self.nv;
        for (bi, blk) in part.v.chunks_mut(AIS_BLOCK * nv).enumerate() {
            for row in blk.chunks_exact_mut(nv) {
                row.fill(0.0);
                self.k
                    .sample(Sampler::Bernoulli, self.base_bias, row, &mut streams[bi]);
            }
        }
    }

    /// `sweeps` Gibbs sweeps of the RBM itself (β = 1) from the current
    /// visible states.
    pub(crate) fn gibbs(&self, part: &mut AisPart, sweeps: usize, streams: &mut [Stream]) {
        for _ in 0..sweeps {
            self.hidden_inputs(part);
            self.sample_hidden(part, 1.0, streams);
            self.sample_visible(part, 1.0, streams);
        }
    }

    /// Follows the inverse temperatures `path` from the current states:
    /// each step from β_{k−1} = `path[k − 1]` to β_k = `path[k]` adds
    /// log p*_{β_k}(v) − log p*_{β_{k−1}}(v) to the log weights `lw`, then
    /// makes one Gibbs sweep at β_k, except after the last step (where it
    /// would not change the estimate).
    fn walk(&self, part: &mut AisPart, path: &[f64], lw: &mut [f64], streams: &mut [Stream]) {
        for k in 1..path.len() {
            let beta = path[k];
            self.add_increment(part, path[k - 1], beta, lw);
            if k + 1 == path.len() {
                break;
            }
            self.sample_hidden(part, beta, streams);
            self.sample_visible(part, beta, streams);
        }
    }

    /// x = vW + c for the current visible states.
    fn hidden_inputs(&self, part: &mut AisPart) {
        let (k, nv, nh, rows) = (self.k, self.nv, self.nh, part.rows);
        k.product(
            MatRef::row_major(&part.v, rows, nv),
            self.w,
            MatMut::row_major(&mut part.x, rows, nh),
            Product::new(Accumulate::Overwrite),
        );
        for row in part.x.chunks_exact_mut(nh) {
            k.activate(Activation::Identity, self.hidden_bias, row);
        }
    }

    /// x = vW + c, then each run's log weight increment from β' to β:
    /// Δβ (b − b_A)ᵀv + Σ_j x_j ∫_{β'}^{β} g'(t x_j) dt (g' = K σ, or the
    /// SSU mean), the integral by two-point Gauss–Legendre quadrature (g'
    /// of the two nodes into `t` and `t2`). Δβ may be negative (reverse
    /// AIS): the nodes are symmetric about the midpoint, so the same rule
    /// applies.
    fn add_increment(&self, part: &mut AisPart, beta_prev: f64, beta: f64, lw: &mut [f64]) {
        let (k, nv, nh) = (self.k, self.nv, self.nh);
        let dbeta = beta - beta_prev;
        self.hidden_inputs(part);
        let mid = 0.5 * (beta + beta_prev);
        let half = dbeta / (2.0 * 3f64.sqrt());
        let (g1, g2) = ((mid - half) as f32, (mid + half) as f32);
        for ((o1, o2), &xi) in part.t.iter_mut().zip(part.t2.iter_mut()).zip(&part.x) {
            *o1 = g1 * xi;
            *o2 = g2 * xi;
        }
        k.activate(self.mean, &[], &mut part.t);
        k.activate(self.mean, &[], &mut part.t2);
        for (r, l) in lw.iter_mut().enumerate() {
            let hid = r * nh..(r + 1) * nh;
            let acc = dot8(&part.x[hid.clone()], &part.t[hid.clone()], &part.t2[hid]);
            let vis = dot8(&part.v[r * nv..(r + 1) * nv], &self.db, &self.zeros);
            *l += dbeta * vis + self.kf * dbeta * 0.5 * acc;
        }
    }

    /// h ~ p_β(h | v) into `t`: pre-activation β x (for stepped sigmoid
    /// units, copy i is on with probability σ(β x − i + ½): the exact SSU
    /// sampler at β x).
    fn sample_hidden(&self, part: &mut AisPart, beta: f64, streams: &mut [Stream]) {
        let (bf, sampler) = match self.flaw {
            #[cfg(test)]
            Flaw::UntemperedHidden => (1.0, self.sampler),
            #[cfg(test)]
            Flaw::NreluHidden => (beta as f32, Sampler::Nrelu),
            _ => (beta as f32, self.sampler),
        };
        for (o, &xi) in part.t.iter_mut().zip(&part.x) {
            *o = bf * xi;
        }
        for (bi, blk) in part.t.chunks_mut(AIS_BLOCK * self.nh).enumerate() {
            for row in blk.chunks_exact_mut(self.nh) {
                self.k.sample(sampler, &[], row, &mut streams[bi]);
            }
        }
    }

    /// v ~ p_β(v | h) into `v`, from the hidden states in `t`:
    /// pre-activation β(Wh + b) + (1 − β) b_A.
    pub(crate) fn sample_visible(&self, part: &mut AisPart, beta: f64, streams: &mut [Stream]) {
        let (k, nv, nh, rows) = (self.k, self.nv, self.nh, part.rows);
        k.product(
            MatRef::row_major(&part.t, rows, nh),
            self.w_t,
            MatMut::row_major(&mut part.v, rows, nv),
            Product::new(Accumulate::Overwrite),
        );
        for ((o, &b), &a) in part
            .bias_k
            .iter_mut()
            .zip(self.visible_bias)
            .zip(self.base_bias)
        {
            *o = (beta * f64::from(b) + (1.0 - beta) * f64::from(a)) as f32;
        }
        let bf = beta as f32;
        for vi in part.v.iter_mut() {
            *vi *= bf;
        }
        for (bi, blk) in part.v.chunks_mut(AIS_BLOCK * nv).enumerate() {
            for row in blk.chunks_exact_mut(nv) {
                k.sample(Sampler::Bernoulli, &part.bias_k, row, &mut streams[bi]);
            }
        }
    }
}
