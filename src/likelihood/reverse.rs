//! Reverse annealed importance sampling (Burda, Grosse & Salakhutdinov
//! 2015, "Accurate and conservative estimates of MRF log-likelihood using
//! reverse annealing"): the AIS path walked from the RBM back to the
//! base-rate model, which gives a stochastic upper bound of log Z.

use super::ais::{AisConfig, AisEstimate, Flaw, check_ais_inputs, estimate_from_log_weights};
use super::chains::{AIS_BLOCK, AisChains, AisPart, transposed};
use super::exact_sample::ExactSampler;
use super::{Enumerated, enumerable_layer, require_binary};
use crate::error::{RbmError, Result};
use crate::kernels::Stream;
use crate::rbm::Rbm;

/// Reverse AIS estimate of log Z (Burda, Grosse & Salakhutdinov 2015): a
/// stochastic **upper** bound, the counterpart of [`ais`](super::ais())'s
/// lower bound, on the same path, schedule and transitions.
///
/// Each run starts from a sample of the RBM, walks the schedule backwards
/// (β = 1, β_{K−1}, …, β_1, 0), adding log p*_{β_{k−1}}(v) − log p*_{β_k}(v)
/// at each step and then making one Gibbs sweep at β_{k−1}. The mean weight
/// r̂ is unbiased for Z_A / Z, so log Ẑ = log Z_A − log r̂ satisfies E[log Ẑ]
/// ≥ log Z and P(log Ẑ < log Z − t) ≤ e^−t. The returned estimate has the
/// fields of [`AisEstimate`]: `log_z_std` by the delta method, the band
/// `log Z_A − log(r̂ ± 3σ̂_r)`.
///
/// **Start.** Where a layer can be enumerated (the rule of
/// [`exact_log_z`](super::exact_log_z)), the runs start from exact samples:
/// that layer is drawn from its exact marginal, then the visible layer
/// given it, and the bound holds as stated. Otherwise run r starts from
/// row r mod N of the binary `data` followed by [`AisConfig::burn_in`]
/// Gibbs sweeps of the RBM. The bound then holds only to the extent these
/// chains have reached the model: with start law q, E[r̂] = (Z_A/Z) ·
/// E_q[p_ann(v) / p(v)], where p_ann is the law of the final state of
/// forward AIS; the factor is 1 when q = p and may be above or below 1
/// otherwise. Read this estimate as the RAISE-style conservative companion
/// of the forward one, not as a certificate. `data` is not read when the
/// start is exact (it may be empty).
///
/// # Threads
/// As [`ais`](super::ais()): blocks of 8 runs with their own streams, on the
/// current rayon pool; the result does not depend on the threads.
///
/// ```
/// use nrelu_rbm::likelihood::{AisConfig, ais, default_schedule, exact_log_z, reverse_ais};
/// use nrelu_rbm::{Rbm, VisibleUnit, units::HiddenUnit};
/// let rbm = Rbm::new(6, 4, VisibleUnit::Bernoulli, HiddenUnit::Ssu, 3)?;
/// let base = vec![0f32; 6];
/// let cfg = AisConfig::new(1).with_runs(16).with_betas(default_schedule(100));
/// let (lo, hi) = (ais(&rbm, &base, &cfg)?.log_z, reverse_ais(&rbm, &base, &[], &cfg)?.log_z);
/// let (exact, _) = exact_log_z(&rbm, 0)?;
/// assert!(lo - 1.0 < exact && exact < hi + 1.0);
/// # Ok::<(), nrelu_rbm::RbmError>(())
/// ```
pub fn reverse_ais(
    rbm: &Rbm,
    base_bias: &[f32],
    data: &[f32],
    cfg: &AisConfig,
) -> Result<AisEstimate> {
    let (lw, log_z_base) = reverse_log_weights(rbm, base_bias, data, cfg, Flaw::None)?;
    Ok(reverse_estimate(&lw, log_z_base, cfg))
}

/// The estimate of [`reverse_ais`] from the runs' reverse log weights:
/// log Ẑ = log Z_A − log r̂, the band mirrored.
pub(crate) fn reverse_estimate(lw: &[f64], log_z_base: f64, cfg: &AisConfig) -> AisEstimate {
    let e = estimate_from_log_weights(lw, 0.0, cfg);
    AisEstimate {
        log_z: log_z_base - e.log_z,
        log_z_std: e.log_z_std,
        log_z_lower: log_z_base - e.log_z_upper,
        log_z_upper: log_z_base - e.log_z_lower,
        log_z_base,
        runs: e.runs,
        betas: e.betas,
    }
}

/// The runs' reverse log weights (Σ_k log p*_{β_{k−1}} − log p*_{β_k}) and
/// log Z of the base-rate model.
pub(crate) fn reverse_log_weights(
    rbm: &Rbm,
    base_bias: &[f32],
    data: &[f32],
    cfg: &AisConfig,
    flaw: Flaw,
) -> Result<(Vec<f64>, f64)> {
    let k_copies = check_ais_inputs(rbm, base_bias, cfg)?;
    let layer = enumerable_layer(rbm);
    let rows = crate::error::rows_of("data", data, rbm.n_visible)?;
    if layer.is_none() {
        if rows == 0 {
            return Err(RbmError::EmptyData {
                rows,
                cols: rbm.n_visible,
            });
        }
        require_binary(data, rbm.n_visible)?;
    }
    // β_K = 1, β_{K−1}, …, β_1, then β_0 = 0.
    let path: Vec<f64> = cfg
        .betas
        .iter()
        .rev()
        .copied()
        .chain(std::iter::once(0.0))
        .collect();
    let exact = layer.map(|l| ExactSampler::new(rbm, l, cfg.threads));
    let w_t = transposed(&rbm.weights, rbm.n_visible, rbm.n_hidden);
    let chains = AisChains::new(rbm, base_bias, k_copies, &w_t, flaw);
    let nv = rbm.n_visible;
    let start = |row0: usize, part: &mut AisPart, streams: &mut [Stream]| {
        #[cfg(test)]
        if chains.flaw() == Flaw::ReverseFromBase {
            return chains.sample_base(part, streams);
        }
        match &exact {
            Some(s) => start_exact(&chains, s, part, streams),
            None => {
                for (i, row) in part.v.chunks_exact_mut(nv).enumerate() {
                    let r = (row0 + i) % rows;
                    row.copy_from_slice(&data[r * nv..(r + 1) * nv]);
                }
                chains.gibbs(part, cfg.burn_in, streams);
            }
        }
    };
    let lw = chains.run_parts(cfg, &path, start)?;
    Ok((lw, chains.log_z_base()))
}

/// Exact samples of the RBM into the visible states of `part`: the
/// enumerated layer from its marginal (each block of runs from its
/// stream), then, if that is the hidden layer, v given h.
fn start_exact(chains: &AisChains, s: &ExactSampler, part: &mut AisPart, streams: &mut [Stream]) {
    let buffer = match s.layer {
        Enumerated::Visible => &mut part.v,
        Enumerated::Hidden => &mut part.t,
    };
    let width = buffer.len() / part.rows;
    for (bi, blk) in buffer.chunks_mut(AIS_BLOCK * width).enumerate() {
        for row in blk.chunks_exact_mut(width) {
            let state = s.draw(&mut streams[bi]);
            for (k, o) in row.iter_mut().enumerate() {
                *o = f32::from(u8::from(state >> k & 1 == 1));
            }
        }
    }
    if s.layer == Enumerated::Hidden {
        chains.sample_visible(part, 1.0, streams);
    }
}
